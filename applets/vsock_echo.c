// SPDX-License-Identifier: MIT
/* vsock-echo: the latency test's guest side (doc/PROTOCOL.md); describe()
 * says what it does. A stream may split a packet, so each one is read in
 * full before it goes back. */
//config:config VSOCK_ECHO
//config:	bool "vsock-echo: echo whole packets until the host closes"
//config:	default y
//config:	help
//config:	  The latency and data-corruption socket of the micro benchmark.
#include "vsockbox.h"

#include <errno.h>

struct echo {
	struct address peer;
	uint64_t packet_size, timeout_s;
	struct socket_setup setup;
	bool chain, preamble, verify;
};

static const struct opt options[] = {
	OPTION_PEER(struct echo, peer, PERF_HOST_PORT),
	{.name = "packet-size", .arg = "BYTES", .kind = OPT_BYTES,
	 .offset = offsetof(struct echo, packet_size), .min = 1,
	 .max = MAX_IO_SIZE, .def = PERF_ECHO_PACKET, .help = "packet size",
	 .flags = OPT_OWN},
	OPTION_BUFFER_SIZE(struct echo, setup.buffer_size),
	IF_FEATURE_VERIFY(OPTION_VERIFY(struct echo, verify),)
	OPTION_TIMEOUT(struct echo, timeout_s),
	{.name = "chain", .kind = OPT_FLAG, .offset = offsetof(struct echo, chain),
	 .help = "print 'done' on stdout when the host has closed",
	 .flags = OPT_OWN},
	IF_FEATURE_HYBRID(OPTION_PREAMBLE(struct echo, preamble),)
	OPTION_END
};

static void describe(void)
{
	out("Latency socket of the micro benchmark: connect from port %u to the\n"
	    "host and echo every packet until the host closes.\n",
	    PERF_ECHO_PORT);
}

/* --verify: what the host sends, packet by packet. */
struct echo_check {
	uint64_t packets;	/* so far */
	unsigned char *warmup;	/* the expected warm-up packet */
	struct pattern timed;
};

static void check_packet(struct echo_check *v, const unsigned char *packet,
			 size_t len)
{
	uint64_t i = v->packets++;
	if (i >= PERF_WARMUP_PACKETS) {
		if (pattern_check(&v->timed, packet, len)) {
			char why[256];
			pattern_describe(&v->timed, why, sizeof(why));
			die(EXIT_FAIL, "%s", why);
		}
		return;
	}
	warmup_packet((unsigned)i, v->warmup, len);
	size_t at = 0;
	while (at < len && packet[at] == v->warmup[at])
		at++;
	if (at < len)
		die(EXIT_FAIL, "%s: port %u, %s: warm-up packet %llu differs "
		    "at offset %zu: expected 0x%02x, received 0x%02x",
		    v->timed.test, PERF_ECHO_PORT,
		    pattern_dir_text(PATTERN_TO_GUEST),
		    (unsigned long long)i, at, v->warmup[at], packet[at]);
}

const struct applet_spec vsock_echo_spec = {NULL, describe, options,
					    sizeof(struct echo)};

int vsock_echo_main(int argc, char **argv)
{
	struct echo e;
	struct conn c;

	parse_command_line(&vsock_echo_spec, &e, argc, argv);
	unsigned char *packet = xmalloc(e.packet_size);
	struct echo_check check = {0, NULL, {0}};
	bool verify = ENABLE_FEATURE_VERIFY && e.verify;
	if (verify) {
		check.warmup = xmalloc(e.packet_size);
		pattern_start(&check.timed, perf_tests[PERF_TEST_LATENCY].label,
			      PERF_ECHO_PORT, PATTERN_TO_GUEST, e.packet_size);
	}
	xconn_open_stream(&c, &e.peer, PERF_ECHO_PORT, &e.setup,
			  run_token(e.preamble),
			  step_deadline(e.timeout_s));
	/* Each echo's deadline costs no kernel timer on the latency path. */
	struct watchdog watchdog;
	watchdog_start(&watchdog, &c, e.timeout_s * 1000);
	for (;;) {
		size_t got;
		/* One step per packet: its wait, its read and its echo. */
		struct deadline d = step_deadline(e.timeout_s);
		int err = read_counted(&c, packet, e.packet_size, &got, d);
		if (err == ERR_EOF && got == 0)
			break;		/* the host closed between packets */
		if (err == ERR_EOF)
			die(EXIT_FAIL, "read %s: peer closed after %zu of %zu "
			    "bytes of a packet", c.name, got,
			    (size_t)e.packet_size);
		if (err)
			die_io(&c, err, "read");
		if (verify)
			check_packet(&check, packet, e.packet_size);
		err = write_full(&c, packet, e.packet_size, d);
		if (err == EPIPE || err == ECONNRESET)
			break;		/* the host closed while we echoed */
		if (err)
			die_io(&c, err, "write");
	}
	watchdog_stop(&watchdog);
	conn_close(&c);
	xfree(packet);
	xfree(check.warmup);
	if (e.chain)
		chain_done();
	return EXIT_PASS;
}
