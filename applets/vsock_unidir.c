// SPDX-License-Identifier: MIT
/* vsock-unidir: the unidirectional test's guest side (doc/PROTOCOL.md);
 * describe() says what it does. */
//config:config VSOCK_UNIDIR
//config:	bool "vsock-unidir: single stream unidirectional throughput, guest side"
//config:	default y
//config:	help
//config:	  Per iteration reads SIZE bytes and writes them back, after the test's magic.
#include "vsockbox.h"

static const struct opt options[] = {
	THROUGHPUT_OPTIONS(PERF_UNIDIR_COUNT, UNIDIR_IO_SIZE),
};

static void describe(void)
{
	out("Single stream unidirectional test: connect from port %u, send magic %u on\n"
	    "the control connection ($VSOCK_CTL_FD, or a new one from port %u), then\n"
	    "COUNT times read SIZE bytes and write SIZE bytes.\n",
	    PERF_UNIDIR_PORT, MAGIC_UNIDIR, PERF_CTL_PORT);
}

const struct applet_spec vsock_unidir_spec = {NULL, describe, options,
					      sizeof(struct throughput)};

int vsock_unidir_main(int argc, char **argv)
{
	static const unsigned char magic[] = {MAGIC_UNIDIR};
	const char *label = perf_tests[PERF_TEST_UNIDIR].label;
	struct throughput t;
	struct conn data, ctl;
	struct progress progress;
	struct stream_patterns patterns;
	const char *op = "";

	throughput_options(&vsock_unidir_spec, &t, argc, argv);
	void *buf = xmalloc(t.io_size);
	throughput_connect(&t, &data, PERF_UNIDIR_PORT);
	guest_announce(&ctl, &t, magic, sizeof(magic));
	struct stream_patterns *v = guest_patterns(&t, &patterns, label,
						   PERF_UNIDIR_PORT);
	progress_start(&progress, label, t.count);
	int err = guest_unidir(&data, &t, v, buf, t.io_size, &progress, &op);
	progress_end(&progress);
	if (err)
		die_stream(&data, err, patterns_checked(v), "%s", op);
	conn_close(&data);
	stream_patterns_end(v);
	xfree(buf);
	guest_finish(&ctl, &t);
	return EXIT_PASS;
}
