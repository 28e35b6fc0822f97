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
	bool chain, preamble;
};

static const struct opt options[] = {
	OPTION_PEER(struct echo, peer, PERF_HOST_PORT),
	{.name = "packet-size", .arg = "BYTES", .kind = OPT_BYTES,
	 .offset = offsetof(struct echo, packet_size), .min = 1,
	 .max = MAX_IO_SIZE, .def = PERF_ECHO_PACKET, .help = "packet size",
	 .flags = OPT_OWN},
	OPTION_BUFFER_SIZE(struct echo, setup.buffer_size),
	OPTION_TIMEOUT(struct echo, timeout_s),
	{.name = "chain", .kind = OPT_FLAG, .offset = offsetof(struct echo, chain),
	 .help = "print 'done' on stdout when the host has closed",
	 .flags = OPT_OWN},
	OPTION_PREAMBLE(struct echo, preamble),
	OPTION_END
};

static void describe(void)
{
	out("Latency socket of the micro benchmark: connect from port %u to the\n"
	    "host and echo every packet until the host closes.\n",
	    PERF_ECHO_PORT);
}

const struct applet_spec vsock_echo_spec = {NULL, describe, options,
					    sizeof(struct echo)};

int vsock_echo_main(int argc, char **argv)
{
	struct echo e;
	struct conn c;

	parse_command_line(&vsock_echo_spec, &e, argc, argv);
	unsigned char *packet = xmalloc(e.packet_size);
	xconn_open_stream(&c, &e.peer, PERF_ECHO_PORT, &e.setup,
			  e.preamble ? preamble_token() : 0,
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
		err = write_full(&c, packet, e.packet_size, d);
		if (err == EPIPE || err == ECONNRESET)
			break;		/* the host closed while we echoed */
		if (err)
			die_io(&c, err, "write");
	}
	watchdog_stop(&watchdog);
	conn_close(&c);
	xfree(packet);
	if (e.chain)
		chain_done();
	return EXIT_PASS;
}
