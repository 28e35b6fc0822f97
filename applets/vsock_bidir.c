/* vsock-bidir: single stream bidirectional throughput, guest side.
 *
 * Connects from port 8509, announces magic 129, then one thread reads
 * COUNT x SIZE bytes while the main thread writes as many. */
#include "vsockbox.h"

#include <stdlib.h>

static const char usage[] =
	"usage: vsock-bidir [--peer ADDR] [--size BYTES] [--count N] [--io-size BYTES]\n"
	"                   [--timeout S] [--chain]\n"
	"\n"
	"Single stream bidirectional test: connect from port 8509, send magic 129 on\n"
	"the control connection ($VSOCK_CTL_FD, or a new one from port 8501), then\n"
	"read and write COUNT x SIZE bytes at once.\n"
	"\n"
	"  --peer ADDR      host (default $VSOCKBOX_PEER or vsock:2; port 8500)\n"
	"  --size BYTES     bytes per iteration, K/M/G suffixes (default 128M)\n"
	"  --count N        iterations (default 100)\n"
	"  --io-size BYTES  bytes per read or write call (default 512K)\n"
	"  --timeout S      give up after S seconds without progress (default 30)\n"
	"  --chain          wait for 'done' on stdin before the magic; print 'done'\n";

struct reader {
	int fd;
	uint64_t total;
	size_t buf_len;
	int err;
};

static void *read_all(void *arg)
{
	struct reader *r = arg;
	void *buf = xmalloc(r->buf_len);
	r->err = recv_bytes(r->fd, r->total, buf, r->buf_len);
	xfree(buf);
	return NULL;
}

int vsock_bidir_main(int argc, char **argv)
{
	static const unsigned char magic[] = {MAGIC_BIDIR};
	struct settings s;
	struct conn data, ctl;
	pthread_t thread;

	guest_data_options(&s, argc, argv, usage, PERF_BIDIR_COUNT);
	/* Each thread moves SIZE x COUNT bytes in one go: no wrapping. */
	if (s.count > UINT64_MAX / s.size)
		usage_error("--size %llu --count %llu: more than 2^64 bytes in all",
			    (unsigned long long)s.size,
			    (unsigned long long)s.count);

	size_t io_size = io_size_for(&s, BIDIR_IO_SIZE);
	void *buf = xmalloc(io_size);
	xconn_open(&data, &s.peer, PERF_BIDIR_PORT, s.timeout_s);
	guest_announce(&ctl, &s, magic, sizeof(magic));

	struct reader reader = {data.fd, s.size * s.count, io_size, 0};
	xthread_start(&thread, read_all, &reader);
	int err = send_bytes(data.fd, s.size * s.count, buf, io_size);
	xthread_join(thread);
	/* The reader's failure is usually the cause of the writer's. */
	if (reader.err)
		die_io(&data, "read", reader.err);
	if (err)
		die_io(&data, "write", err);
	conn_close(&data);
	xfree(buf);
	guest_finish(&ctl, &s);
	return EXIT_PASS;
}
