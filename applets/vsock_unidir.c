/* vsock-unidir: single stream unidirectional throughput, guest side.
 *
 * Connects from port 8503, announces magic 123 on the control connection,
 * then per iteration reads SIZE bytes and writes SIZE bytes back. */
#include "vsockbox.h"

#include <stdlib.h>

static const char usage[] =
	"usage: vsock-unidir [--peer ADDR] [--size BYTES] [--count N] [--io-size BYTES]\n"
	"                    [--timeout S] [--chain]\n"
	"\n"
	"Single stream unidirectional test: connect from port 8503, send magic 123 on\n"
	"the control connection ($VSOCK_CTL_FD, or a new one from port 8501), then\n"
	"COUNT times read SIZE bytes and write SIZE bytes.\n"
	"\n"
	"  --peer ADDR      host (default $VSOCKBOX_PEER or vsock:2; port 8500)\n"
	"  --size BYTES     bytes per iteration, K/M/G suffixes (default 128M)\n"
	"  --count N        iterations (default 100)\n"
	"  --io-size BYTES  bytes per read or write call (default 1M)\n"
	"  --timeout S      give up after S seconds without progress (default 30)\n"
	"  --chain          wait for 'done' on stdin before the magic; print 'done'\n";

int vsock_unidir_main(int argc, char **argv)
{
	static const unsigned char magic[] = {MAGIC_UNIDIR};
	struct settings s;
	struct conn data, ctl;
	struct progress progress;
	const char *op = "";

	guest_data_options(&s, argc, argv, usage, PERF_UNIDIR_COUNT);

	size_t io_size = io_size_for(&s, UNIDIR_IO_SIZE);
	void *buf = xmalloc(io_size);
	xconn_open(&data, &s.peer, PERF_UNIDIR_PORT, s.timeout_s);
	guest_announce(&ctl, &s, magic, sizeof(magic));
	progress_start(&progress, "unidirectional", s.count);
	int err = guest_unidir(data.fd, s.size, s.count, buf, io_size,
			       &progress, &op);
	progress_end(&progress);
	if (err)
		die_io(&data, op, err);
	conn_close(&data);
	xfree(buf);
	guest_finish(&ctl, &s);
	return EXIT_PASS;
}
