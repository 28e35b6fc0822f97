// SPDX-License-Identifier: MIT
/* vsock-multi: the multi stream test's guest side (doc/PROTOCOL.md);
 * describe() says what it does. */
//config:config VSOCK_MULTI
//config:	bool "vsock-multi: five unidirectional streams at once, guest side"
//config:	default y
//config:	help
//config:	  Runs the unidirectional loop on every stream at once, each in its own thread.
#include "vsockbox.h"

static const struct opt options[] = {
	THROUGHPUT_OPTIONS(PERF_MULTI_COUNT, MULTI_IO_SIZE),
};

static void describe(void)
{
	out("Multi stream test: %d streams from ports %u..%u send magics %u..%u on\n"
	    "the control connection ($VSOCK_CTL_FD, or a new one from port %u); each\n"
	    "then COUNT times reads SIZE bytes and writes SIZE bytes, all at once.\n",
	    PERF_MULTI_STREAMS, PERF_MULTI_PORT,
	    PERF_MULTI_PORT + PERF_MULTI_STREAMS - 1, MAGIC_MULTI,
	    MAGIC_MULTI + PERF_MULTI_STREAMS - 1, PERF_CTL_PORT);
}

const struct applet_spec vsock_multi_spec = {NULL, describe, options,
					     sizeof(struct throughput)};

struct stream {
	struct conn conn;
	const struct throughput *t;
	pthread_t thread;
	const char *failed_op;
	struct stream_patterns patterns, *verify;
	int err;
	struct stream *all;	/* every stream of the run */
	_Atomic int *first_failed;	/* index of the cause; -1: none */
};

/* The first stream to fail is the cause: the others are shut down so
 * that they end now, not at their deadlines. */
static void stream_failed(struct stream *st)
{
	int none = -1, me = (int)(st - st->all);
	if (!atomic_compare_exchange_strong(st->first_failed, &none, me))
		return;
	for (int i = 0; i < PERF_MULTI_STREAMS; i++)
		if (i != me)
			conn_shutdown(&st->all[i].conn);
}

static void *run_stream(void *arg)
{
	struct stream *st = arg;
	void *buf = xmalloc(st->t->io_size);
	st->err = guest_unidir(&st->conn, st->t, st->verify, buf,
			       st->t->io_size, NULL, &st->failed_op);
	if (st->err)
		stream_failed(st);
	xfree(buf);
	return NULL;
}

int vsock_multi_main(int argc, char **argv)
{
	struct stream streams[PERF_MULTI_STREAMS];
	unsigned char magic[PERF_MULTI_STREAMS];
	struct throughput t;
	struct conn ctl;
	_Atomic int first_failed = -1;

	throughput_options(&vsock_multi_spec, &t, argc, argv);
	for (int i = 0; i < PERF_MULTI_STREAMS; i++) {
		streams[i].t = &t;
		streams[i].err = 0;
		streams[i].all = streams;
		streams[i].first_failed = &first_failed;
		streams[i].verify = guest_patterns(&t, &streams[i].patterns,
						   perf_tests[PERF_TEST_MULTI].label,
						   (uint32_t)(PERF_MULTI_PORT + i));
		throughput_connect(&t, &streams[i].conn,
				   (uint32_t)(PERF_MULTI_PORT + i));
		magic[i] = (unsigned char)(MAGIC_MULTI + i);
	}
	guest_announce(&ctl, &t, magic, sizeof(magic));
	for (int i = 0; i < PERF_MULTI_STREAMS; i++)
		xthread_start(&streams[i].thread, run_stream, &streams[i]);
	for (int i = 0; i < PERF_MULTI_STREAMS; i++)
		xthread_join(streams[i].thread);
	if (first_failed >= 0) {
		struct stream *st = &streams[first_failed];
		die_stream(&st->conn, st->err,
			   patterns_checked(st->verify), "%s",
			   st->failed_op);
	}
	for (int i = 0; i < PERF_MULTI_STREAMS; i++) {
		conn_close(&streams[i].conn);
		stream_patterns_end(streams[i].verify);
	}
	guest_finish(&ctl, &t);
	return EXIT_PASS;
}
