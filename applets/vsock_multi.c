/* vsock-multi: five unidirectional streams at once, guest side.
 *
 * Connects from ports 8504..8508, announces magics 124..128, then each
 * stream runs the unidirectional loop in its own thread. */
#include "vsockbox.h"

#include <stdlib.h>

static const char usage[] =
	"usage: vsock-multi [--peer ADDR] [--size BYTES] [--count N] [--io-size BYTES]\n"
	"                   [--timeout S] [--chain]\n"
	"\n"
	"Multi stream test: five streams from ports 8504..8508 send magics 124..128 on\n"
	"the control connection ($VSOCK_CTL_FD, or a new one from port 8501); each\n"
	"then COUNT times reads SIZE bytes and writes SIZE bytes, all at once.\n"
	"\n"
	"  --peer ADDR      host (default $VSOCKBOX_PEER or vsock:2; port 8500)\n"
	"  --size BYTES     bytes per iteration, K/M/G suffixes (default 128M)\n"
	"  --count N        iterations of each stream (default 50)\n"
	"  --io-size BYTES  bytes per read or write call (default 128K)\n"
	"  --timeout S      give up after S seconds without progress (default 30)\n"
	"  --chain          wait for 'done' on stdin before the magics; print 'done'\n";

struct stream {
	struct conn conn;
	const struct settings *s;
	pthread_t thread;
	const char *failed_op;
	int err;
};

static void *run_stream(void *arg)
{
	struct stream *st = arg;
	size_t io_size = io_size_for(st->s, MULTI_IO_SIZE);
	void *buf = xmalloc(io_size);
	st->err = guest_unidir(st->conn.fd, st->s->size, st->s->count, buf,
			       io_size, NULL, &st->failed_op);
	xfree(buf);
	return NULL;
}

int vsock_multi_main(int argc, char **argv)
{
	struct stream streams[PERF_MULTI_STREAMS];
	unsigned char magic[PERF_MULTI_STREAMS];
	struct settings s;
	struct conn ctl;

	guest_data_options(&s, argc, argv, usage, PERF_MULTI_COUNT);

	for (int i = 0; i < PERF_MULTI_STREAMS; i++) {
		streams[i].s = &s;
		streams[i].err = 0;
		xconn_open(&streams[i].conn, &s.peer,
			   (uint32_t)(PERF_MULTI_PORT + i), s.timeout_s);
		magic[i] = (unsigned char)(MAGIC_MULTI + i);
	}
	guest_announce(&ctl, &s, magic, sizeof(magic));
	for (int i = 0; i < PERF_MULTI_STREAMS; i++)
		xthread_start(&streams[i].thread, run_stream, &streams[i]);
	for (int i = 0; i < PERF_MULTI_STREAMS; i++)
		xthread_join(streams[i].thread);
	for (int i = 0; i < PERF_MULTI_STREAMS; i++)
		if (streams[i].err)
			die_io(&streams[i].conn, streams[i].failed_op,
			       streams[i].err);
	for (int i = 0; i < PERF_MULTI_STREAMS; i++)
		conn_close(&streams[i].conn);
	guest_finish(&ctl, &s);
	return EXIT_PASS;
}
