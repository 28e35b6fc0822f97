// SPDX-License-Identifier: MIT
/* vsock-itest: the integration test's guest side (doc/PROTOCOL.md);
 * describe() says what it does, its checks are the rows of ITEST_CHECKS
 * (protocol.h). Its servers open first, so the host can never race them. */
//config:config VSOCK_ITEST
//config:	bool "vsock-itest: integration test, guest side"
//config:	default y
//config:	help
//config:	  Runs the integration checks against the host and prints PASS.
#include "vsockbox.h"

#include <errno.h>

struct itest_options {
	struct address peer, listen;
	uint64_t timeout_s;
	struct socket_setup setup;
};

static const struct opt options[] = {
	OPTION_PEER(struct itest_options, peer, ITEST_HOST_PORT),
	{.name = "listen", .arg = "ADDR", .kind = OPT_ADDR,
	 .offset = offsetof(struct itest_options, listen), .def = ITEST_GUEST_PORT,
	 .help = "where the three servers listen; a port P moves them to P..P+2",
	 .def_text = "any address of the peer's transport"},
	OPTION_BUFFER_SIZE(struct itest_options, setup.buffer_size),
	OPTION_TIMEOUT(struct itest_options, timeout_s),
	OPTION_END
};

static void describe(void)
{
	out("Integration test, guest side: listen on ports %u-%u, connect from port\n"
	    "%u to the host's port %u, exchange %u bytes of %u both ways, check\n"
	    "host- and guest-terminated connections, then print PASS.\n",
	    ITEST_GUEST_PORT, ITEST_GUEST_PORT + ITEST_SERVERS - 1,
	    ITEST_GUEST_LOCAL_PORT, ITEST_HOST_PORT, ITEST_EXCHANGE_BYTES,
	    ITEST_BYTE);
}

const struct applet_spec vsock_itest_spec = {NULL, describe, options,
					     sizeof(struct itest_options)};

struct itest {
	struct itest_options o;
	struct address server_addr[ITEST_SERVERS];
	int server_fd[ITEST_SERVERS];
	unsigned char block[ITEST_WRITE_BLOCK];
};

/* "FAIL STEP" on stdout, the reason on stderr. Setting a connection up
 * fails for the environment (3), whatever the errno. */
_Noreturn static void fail_step(const char *step, int code,
				const struct conn *c, const char *op, int err)
{
	char why[384];
	out("FAIL %s\n", step);
	format_io_failure(why, sizeof(why), op, c, err);
	die(code, "%s: %s", step, why);
}

_Noreturn static void fail_io(const char *step, const struct conn *c,
			      const char *op, int err)
{
	fail_step(step, io_exit_code(err), c, op, err);
}

/* Write 240000 x 42, then expect one byte of 42 back, and no more. */
static void exchange(struct itest *t, const char *step, struct conn *c)
{
	unsigned char reply;
	int err = send_bytes(c, ITEST_EXCHANGE_BYTES, t->block,
			     sizeof(t->block), step_deadline(t->o.timeout_s));
	if (err)
		fail_io(step, c, "write", err);
	err = read_full(c, &reply, 1, step_deadline(t->o.timeout_s));
	if (err)
		fail_io(step, c, "read", err);
	if (reply != ITEST_BYTE) {
		out("FAIL %s\n", step);
		die(EXIT_FAIL, "%s: read %s: got byte %u, expected %u", step,
		    c->name, reply, ITEST_BYTE);
	}
	/* The reply is the host's only byte: more is a failure. How the
	 * host then ends the connection is its own. */
	if (check_surplus(c, SURPLUS_GRACE_MS) == ERR_DATA)
		fail_io(step, c, "read", ERR_DATA);
}

static void accept_on(struct itest *t, int server, const char *step,
		      struct conn *c)
{
	int err = conn_accept(c, t->server_fd[server], &t->server_addr[server],
			      step_deadline(t->o.timeout_s), NULL);
	if (err)
		fail_step(step, EXIT_ENV, c, "accept", err);
}

static void guest_initiated(struct itest *t, const struct itest_check *check)
{
	struct conn c;
	int err = conn_open(&c, &t->o.peer, ITEST_GUEST_LOCAL_PORT, &t->o.setup,
			    step_deadline(t->o.timeout_s));
	if (err)
		fail_step(check->name, EXIT_ENV, &c,
			  err == EADDRINUSE ? "bind" : "connect", err);
	exchange(t, check->name, &c);
	conn_close(&c);
}

static void host_initiated(struct itest *t, const struct itest_check *check)
{
	struct conn c;
	accept_on(t, check->server, check->name, &c);
	exchange(t, check->name, &c);
	conn_close(&c);
}

/* The expected outcome is a failed write once the host has closed; the
 * whole loop is one step, so a host that reads for ever fails it. */
static void host_terminated(struct itest *t, const struct itest_check *check)
{
	struct conn c;
	accept_on(t, check->server, check->name, &c);
	struct deadline d = step_deadline(t->o.timeout_s);
	for (;;) {
		int err = write_full(&c, t->block, sizeof(t->block), d);
		if (err == EPIPE || err == ECONNRESET)
			break;
		if (err)
			fail_io(check->name, &c, "write", err);
	}
	conn_close(&c);
}

static void guest_terminated(struct itest *t, const struct itest_check *check)
{
	struct conn c;
	unsigned char byte;
	accept_on(t, check->server, check->name, &c);
	int err = read_full(&c, &byte, 1, step_deadline(t->o.timeout_s));
	if (err)
		fail_io(check->name, &c, "read", err);
	conn_close(&c);
}

/* Each row of ITEST_CHECKS runs by this side's function of its name. */
static const struct {
	struct itest_check check;
	void (*run)(struct itest *t, const struct itest_check *check);
} checks[ITEST_CHECKS_N] = {ITEST_CHECKS(ITEST_CHECK_ROW)};

static void check_listen(const struct itest_options *o)
{
	uint32_t max = o->listen.transport == TRANSPORT_TCP ? 65535 : UINT32_MAX - 1;

	if (o->listen.transport != o->peer.transport)
		die(EXIT_USAGE, "--listen and --peer must use the same transport");
	if (o->listen.port == 0 || o->listen.port > max - (ITEST_SERVERS - 1))
		die(EXIT_USAGE, "--listen: the three servers need ports P..P+2, "
			    "1 <= P <= %u", (unsigned)(max - (ITEST_SERVERS - 1)));
}

int vsock_itest_main(int argc, char **argv)
{
	struct itest *t = xmalloc(sizeof(*t));

	parse_command_line(&vsock_itest_spec, &t->o, argc, argv);
	if (!t->o.listen.family)
		t->o.listen = any_address_like(&t->o.peer, ITEST_GUEST_PORT);
	check_listen(&t->o);

	for (int i = 0; i < ITEST_SERVERS; i++) {
		t->server_addr[i] = with_port(&t->o.listen,
					      t->o.listen.port + (uint32_t)i);
		t->server_fd[i] = xlisten(&t->server_addr[i],
					  ITEST_SERVER_BACKLOG, &t->o.setup);
	}
	for (size_t i = 0; i < sizeof(t->block); i++)
		t->block[i] = ITEST_BYTE;

	for (int i = 0; i < ITEST_CHECKS_N; i++)
		checks[i].run(t, &checks[i].check);
	out("PASS\n");
	xfree(t);
	return EXIT_PASS;
}
