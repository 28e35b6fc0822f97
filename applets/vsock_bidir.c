// SPDX-License-Identifier: MIT
/* vsock-bidir: the bidirectional test's guest side (doc/PROTOCOL.md);
 * describe() says what it does. */
//config:config VSOCK_BIDIR
//config:	bool "vsock-bidir: single stream bidirectional throughput, guest side"
//config:	default y
//config:	help
//config:	  One thread reads while another writes, after the test's magic.
#include "vsockbox.h"

static const struct opt options[] = {
	THROUGHPUT_OPTIONS(PERF_BIDIR_COUNT, BIDIR_IO_SIZE),
};

static void describe(void)
{
	out("Single stream bidirectional test: connect from port %u, send magic %u on\n"
	    "the control connection ($VSOCK_CTL_FD, or a new one from port %u), then\n"
	    "read and write COUNT x SIZE bytes at once.\n",
	    PERF_BIDIR_PORT, MAGIC_BIDIR, PERF_CTL_PORT);
}

const struct applet_spec vsock_bidir_spec = {NULL, describe, options,
					     sizeof(struct throughput)};

struct half {
	struct conn *conn;
	const struct throughput *t;
	struct pattern *verify;	/* NULL without --verify */
	int err;
	_Atomic bool *ended;	/* --soak: the host's stream is over */
};

static void *read_all(void *arg)
{
	struct half *r = arg;
	void *buf = xmalloc(r->t->io_size);
	bool ended = false;
	for (uint64_t i = 0; (guest_soaking(r->t) || i < r->t->count) && !r->err &&
			     !ended; i++)
		r->err = recv_iteration(r->conn, r->t->size, buf,
					r->t->io_size, r->verify,
					step_deadline(r->t->timeout_s), &ended);
	/* Only a soak ends at a close between iterations. */
	if (ended && !guest_soaking(r->t))
		r->err = ERR_EOF;
	if (ended)
		atomic_store(r->ended, true);
	/* The cause: the writer ends now, not at its deadline. */
	if (r->err)
		conn_shutdown(r->conn);
	xfree(buf);
	return NULL;
}

/* In a soak the host ends first; the writer finishes the iteration it
 * is in, then ends its side, so that the host reads whole iterations to
 * the end of the stream. */
static void write_all(struct half *w, void *buf)
{
	for (uint64_t i = 0; (guest_soaking(w->t) ? !atomic_load(w->ended) :
			      i < w->t->count) && !w->err; i++)
		w->err = send_stream(w->conn, w->t->size, buf, w->t->io_size,
				     w->verify,
				     step_deadline(w->t->timeout_s));
	if (!w->err)
		w->err = zerocopy_wait(w->conn, step_deadline(w->t->timeout_s));
	if (!w->err && guest_soaking(w->t))
		conn_end_writes(w->conn);
}

int vsock_bidir_main(int argc, char **argv)
{
	static const unsigned char magic[] = {MAGIC_BIDIR};
	struct throughput t;
	struct conn data, ctl;
	pthread_t thread;
	struct stream_patterns patterns;

	throughput_options(&vsock_bidir_spec, &t, argc, argv);
	/* Not more than 2^64 bytes each way: what no counter could tell. */
	if (t.count > UINT64_MAX / t.size)
		die(EXIT_USAGE, "--size %llu --count %llu: more than 2^64 bytes in all",
			    (unsigned long long)t.size,
			    (unsigned long long)t.count);

	void *buf = xmalloc(t.io_size);
	throughput_connect(&t, &data, PERF_BIDIR_PORT);
	guest_announce(&ctl, &t, magic, sizeof(magic));

	struct stream_patterns *v = guest_patterns(&t, &patterns,
						   perf_tests[PERF_TEST_BIDIR].label,
						   PERF_BIDIR_PORT);
	_Atomic bool ended = false;
	struct half reader = {&data, &t, patterns_checked(v), 0, &ended},
		    writer = {&data, &t, patterns_sent(v), 0, &ended};
	xthread_start(&thread, read_all, &reader);
	write_all(&writer, buf);
	xthread_join(thread);
	/* The reader's failure is usually the cause of the writer's. */
	if (reader.err)
		die_stream(&data, reader.err, reader.verify, "read");
	if (writer.err)
		die_io(&data, writer.err, "write");
	int err = check_surplus(&data, SURPLUS_GRACE_MS);
	if (err == ERR_DATA)
		die_io(&data, err, "read");
	conn_close(&data);
	stream_patterns_end(v);
	xfree(buf);
	guest_finish(&ctl, &t);
	return EXIT_PASS;
}
