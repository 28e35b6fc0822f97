/* vsock-echo: the latency and data-corruption socket, guest side.
 *
 * Connects from local port 8502 and echoes every whole packet until the
 * host closes. A stream may split a packet, so each one is read in full
 * before it goes back. */
#include "vsockbox.h"

#include <errno.h>
#include <stdlib.h>

static const char usage[] =
	"usage: vsock-echo [--peer ADDR] [--packet-size BYTES] [--timeout S] [--chain]\n"
	"\n"
	"Latency socket of the micro benchmark: connect from port 8502 to the\n"
	"host and echo every packet until the host closes.\n"
	"\n"
	"  --peer ADDR          host to connect to (default $VSOCKBOX_PEER or vsock:2;\n"
	"                       port 8500)\n"
	"  --packet-size BYTES  packet size (default 4096)\n"
	"  --timeout S          give up after S seconds without data (default 30)\n"
	"  --chain              print 'done' on stdout when the host has closed\n";

int vsock_echo_main(int argc, char **argv)
{
	struct settings s;
	struct conn c;

	settings_defaults(&s, PERF_HOST_PORT);
	no_operands(argc, argv, parse_options(argc, argv,
		OPT_PEER | OPT_TIMEOUT | OPT_PACKET_SIZE | OPT_CHAIN, usage, &s));

	unsigned char *packet = xmalloc(s.packet_size);
	xconn_open(&c, &s.peer, PERF_ECHO_PORT, s.timeout_s);
	for (;;) {
		size_t got;
		int err = read_counted(c.fd, packet, s.packet_size, &got);
		if (err == ERR_EOF && got == 0)
			break;		/* the host closed between packets */
		if (err == ERR_EOF)
			die(EXIT_FAIL, "read %s: peer closed after %zu of %zu "
			    "bytes of a packet", c.name, got, s.packet_size);
		if (err)
			die_io(&c, "read", err);
		err = write_full(c.fd, packet, s.packet_size);
		if (err == EPIPE || err == ECONNRESET)
			break;		/* the host closed while we echoed */
		if (err)
			die_io(&c, "write", err);
	}
	conn_close(&c);
	xfree(packet);
	if (s.chain)
		chain_done();
	return EXIT_PASS;
}
