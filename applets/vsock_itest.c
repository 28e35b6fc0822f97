/* vsock-itest: the integration test, guest side (PROTOCOL.md).
 *
 * 1. servers on 8001..8003 first, so the host can never race them;
 * 2. guest-initiated: from port 49152 to host 8000, write 240000 x 42,
 *    read one byte, expect 42, close;
 * 3. host-initiated (8001): the same exchange;
 * 4. host-terminated (8002): write 60000-byte blocks until the host's
 *    close makes a write fail with EPIPE or ECONNRESET;
 * 5. guest-terminated (8003): read one byte, close;
 * 6. print PASS. */
#include "vsockbox.h"

#include <errno.h>
#include <stdlib.h>

static const char usage[] =
	"usage: vsock-itest [--peer ADDR] [--listen ADDR] [--timeout S]\n"
	"\n"
	"Integration test, guest side: listen on ports 8001-8003, connect from port\n"
	"49152 to the host's port 8000, exchange 240000 bytes of 42 both ways, check\n"
	"host- and guest-terminated connections, then print PASS.\n"
	"\n"
	"  --peer ADDR    host (default $VSOCKBOX_PEER or vsock:2; port 8000)\n"
	"  --listen ADDR  where the three servers listen (default: any address of\n"
	"                 the peer's transport; a port P moves them to P..P+2)\n"
	"  --timeout S    bound on every wait, in seconds (default 30)\n";

enum { SERVERS = 3 };

struct itest {
	struct settings s;
	struct address server_addr[SERVERS];
	int server_fd[SERVERS];
	unsigned char block[ITEST_WRITE_BLOCK];
};

_Noreturn static void fail_io(const char *step, const struct conn *c,
			      const char *op, int err)
{
	out("FAIL %s\n", step);
	die(io_exit_code(err), "%s: %s %s: %s", step, op, c->name,
	    io_error_text(err));
}

/* Write 240000 x 42, then expect one byte of 42 back. */
static void exchange(struct itest *t, const char *step, struct conn *c)
{
	unsigned char reply;
	int err = send_bytes(c->fd, ITEST_EXCHANGE_BYTES, t->block,
			     sizeof(t->block));
	if (err)
		fail_io(step, c, "write", err);
	err = read_full(c->fd, &reply, 1);
	if (err)
		fail_io(step, c, "read", err);
	if (reply != ITEST_BYTE) {
		out("FAIL %s\n", step);
		die(EXIT_FAIL, "%s: read %s: got byte %u, expected %u", step,
		    c->name, reply, ITEST_BYTE);
	}
}

static void accept_on(struct itest *t, int server, const char *step,
		      struct conn *c)
{
	int err = conn_accept(c, t->server_fd[server], &t->server_addr[server],
			      (int)t->s.timeout_s * 1000, NULL);
	if (err) {
		out("FAIL %s\n", step);
		die(EXIT_ENV, "%s: accept %s: %s", step, c->name,
		    io_error_text(err));
	}
	set_io_timeout(c->fd, t->s.timeout_s);
}

static void guest_initiated(struct itest *t)
{
	struct conn c;
	int err = conn_open(&c, &t->s.peer, ITEST_GUEST_LOCAL_PORT,
			    t->s.timeout_s);
	if (err) {
		out("FAIL guest-initiated\n");
		die(EXIT_ENV, "guest-initiated: %s %s: %s",
		    err == EADDRINUSE ? "bind" : "connect", c.name,
		    io_error_text(err));
	}
	exchange(t, "guest-initiated", &c);
	conn_close(&c);
}

static void host_initiated(struct itest *t)
{
	struct conn c;
	accept_on(t, 0, "host-initiated", &c);
	exchange(t, "host-initiated", &c);
	conn_close(&c);
}

/* The expected outcome is a failed write once the host has closed. */
static void host_terminated(struct itest *t)
{
	struct conn c;
	accept_on(t, 1, "host-terminated", &c);
	for (;;) {
		int err = write_full(c.fd, t->block, sizeof(t->block));
		if (err == EPIPE || err == ECONNRESET)
			break;
		if (err)
			fail_io("host-terminated", &c, "write", err);
	}
	conn_close(&c);
}

static void guest_terminated(struct itest *t)
{
	struct conn c;
	unsigned char byte;
	accept_on(t, 2, "guest-terminated", &c);
	int err = read_full(c.fd, &byte, 1);
	if (err)
		fail_io("guest-terminated", &c, "read", err);
	conn_close(&c);
}

static void check_listen(const struct settings *s)
{
	uint32_t max = s->listen.transport == TRANSPORT_TCP ? 65535 : UINT32_MAX - 1;

	if (s->listen.transport != s->peer.transport)
		usage_error("--listen and --peer must use the same transport");
	if (s->listen.port == 0 || s->listen.port > max - (SERVERS - 1))
		usage_error("--listen: the three servers need ports P..P+2, "
			    "1 <= P <= %u", (unsigned)(max - (SERVERS - 1)));
}

int vsock_itest_main(int argc, char **argv)
{
	struct itest *t = xmalloc(sizeof(*t));

	settings_defaults(&t->s, ITEST_HOST_PORT);
	t->s.listen.port = ITEST_GUEST_PORT;
	no_operands(argc, argv, parse_options(argc, argv,
		OPT_PEER | OPT_LISTEN | OPT_TIMEOUT, usage, &t->s));
	if (!t->s.listen_given)
		t->s.listen = any_address_like(&t->s.peer, ITEST_GUEST_PORT);
	check_listen(&t->s);

	for (int i = 0; i < SERVERS; i++) {
		t->server_addr[i] = with_port(&t->s.listen, t->s.listen.port + (uint32_t)i);
		t->server_fd[i] = xlisten(&t->server_addr[i], ITEST_SERVER_BACKLOG);
	}
	for (size_t i = 0; i < sizeof(t->block); i++)
		t->block[i] = ITEST_BYTE;

	guest_initiated(t);
	host_initiated(t);
	host_terminated(t);
	guest_terminated(t);
	out("PASS\n");
	xfree(t);
	return EXIT_PASS;
}
