// SPDX-License-Identifier: MIT
/* vsock-itest-host: the integration test's host side (doc/PROTOCOL.md);
 * describe() says what it does, its checks are the rows of ITEST_CHECKS
 * (protocol.h). The run belongs to one guest: the one named by --guest,
 * else the first to connect. */
//config:config VSOCK_ITEST_HOST
//config:	bool "vsock-itest-host: integration test, host side"
//config:	default y
//config:	help
//config:	  Drives the integration checks against vsock-itest and reports each one.
#include "vsockbox.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

struct itest_host_options {
	struct address guest, listen;
	uint64_t timeout_s;
	struct socket_setup setup;
};

static const struct opt options[] = {
	{.name = "guest", .arg = "ADDR", .kind = OPT_ADDR,
	 .offset = offsetof(struct itest_host_options, guest),
	 .def = ITEST_GUEST_PORT, .help = "the guest: only its connection counts,"
	 " and its servers are at PORT..PORT+2",
	 .def_text = "the address the guest connected from"},
	{.name = "listen", .arg = "ADDR", .kind = OPT_ADDR,
	 .offset = offsetof(struct itest_host_options, listen),
	 .def_addr = "vsock:any", .def = ITEST_HOST_PORT,
	 .help = "where to listen (port 0: any)"},
	OPTION_BUFFER_SIZE(struct itest_host_options, setup.buffer_size),
	OPTION_TIMEOUT(struct itest_host_options, timeout_s),
	OPTION_END
};

struct itest_host;
/* A check returns an exit code and leaves its reason in t->why. */
typedef int check_fn(struct itest_host *t, const struct itest_check *check);
static check_fn guest_initiated, host_initiated, host_terminated,
	guest_terminated;
static const struct {
	struct itest_check check;
	check_fn *run;
} checks[ITEST_CHECKS_N] = {ITEST_CHECKS(ITEST_CHECK_ROW)};

static void describe(void)
{
	out("Integration test, host side: accept the guest's connection from port %u\n"
	    "on port %u, then connect to the guest's servers on %u, %u and %u.\n"
	    "Prints one line per check, in this order:\n",
	    ITEST_GUEST_LOCAL_PORT, ITEST_HOST_PORT, ITEST_GUEST_PORT,
	    ITEST_GUEST_PORT + 1, ITEST_GUEST_PORT + 2);
	for (int i = 0; i < ITEST_CHECKS_N; i++)
		out("  %s\n", checks[i].check.name);
	out("and exits 0 only if all pass. A connection from another port or another\n"
	    "machine than --guest ends the run (exit 1)."
	    IF_FEATURE_HYBRID(" On a hybrid vsock host\n"
	    "(--listen unix:PATH) the guest's source port is not visible: the first\n"
	    "check says so instead of checking it.") "\n");
}

const struct applet_spec vsock_itest_host_spec = {NULL, describe,
	options, sizeof(struct itest_host_options)};

struct itest_host {
	struct itest_host_options o;
	int lfd;		/* where the guest-initiated connection comes */
	struct address listen;
	bool stop;		/* the guest is not who it should be: no more */
	unsigned char buf[ITEST_WRITE_BLOCK];
	char why[384];		/* the reason of the current check's failure */
	const char *note;	/* what a passed check could not check */
};

static int io_failed(struct itest_host *t, const char *op,
		     const struct conn *c, int err)
{
	format_io_failure(t->why, sizeof(t->why), op, c, err);
	return io_exit_code(err);
}

/* Read 240000 bytes, all 42; answer 42. */
static int exchange(struct itest_host *t, struct conn *c)
{
	uint64_t left = ITEST_EXCHANGE_BYTES;
	struct deadline d = step_deadline(t->o.timeout_s);
	while (left) {
		size_t chunk = left < sizeof(t->buf) ? (size_t)left : sizeof(t->buf);
		int err = read_full(c, t->buf, chunk, d);
		if (err)
			return io_failed(t, "read", c, err);
		size_t at = find_not_byte(t->buf, chunk, ITEST_BYTE);
		if (at != chunk) {
			format(t->why, sizeof(t->why), "read %s: byte %llu is "
				 "%u, expected %u", c->name,
				 (unsigned long long)(ITEST_EXCHANGE_BYTES - left + at),
				 t->buf[at], ITEST_BYTE);
			return EXIT_FAIL;
		}
		left -= chunk;
	}
	unsigned char reply = ITEST_BYTE;
	int err = write_full(c, &reply, 1, step_deadline(t->o.timeout_s));
	return err ? io_failed(t, "write", c, err) : EXIT_PASS;
}

/* The guest's connection must come from its known port and, with
 * --guest, from that machine; else the run stops here. */
static int check_guest(struct itest_host *t, const struct conn *c,
		       const struct address *peer)
{
	char want[ADDRESS_TEXT_MAX];

	if (t->o.guest.family && !same_host(peer, &t->o.guest)) {
		struct address host = with_port(&t->o.guest, PORT_UNSET);
		format_address(&host, want, sizeof(want));
		format(t->why, sizeof(t->why), "accept %s: not the guest %s",
		       c->name, want);
	} else if (is_unix(&t->o.listen)) {
		/* No VMM of this kind passes the guest's port on. */
		t->note = "source port: not visible to a hybrid vsock host, "
			  "not checked";
		return EXIT_PASS;
	} else if (peer->port != ITEST_GUEST_LOCAL_PORT) {
		format(t->why, sizeof(t->why), "accept %s: source port %u, "
			 "expected %u", c->name, (unsigned)peer->port,
			 ITEST_GUEST_LOCAL_PORT);
	} else {
		return EXIT_PASS;
	}
	t->stop = true;
	return EXIT_FAIL;
}

static int guest_initiated(struct itest_host *t, const struct itest_check *check)
{
	struct conn c;
	struct address peer;
	(void)check;
	int err = conn_accept(&c, t->lfd, &t->listen, step_deadline(t->o.timeout_s), &peer);
	if (err) {
		t->stop = !t->o.guest.family;	/* no guest to connect to */
		return io_failed(t, "accept", &c, err);
	}
	int code = check_guest(t, &c, &peer);
	if (!code)
		code = exchange(t, &c);
	if (!code && (err = wait_for_close(&c, step_deadline(t->o.timeout_s))) != 0)
		code = io_failed(t, "wait for the guest to close", &c, err);
	if (!t->o.guest.family)
		t->o.guest = with_port(&peer, ITEST_GUEST_PORT);
	conn_close(&c);
	return code;
}

static int open_server(struct itest_host *t, struct conn *c, int server)
{
	struct address a = with_port(&t->o.guest,
				     t->o.guest.port + (uint32_t)server);
	int err = conn_open(c, &a, 0, &t->o.setup, step_deadline(t->o.timeout_s));
	return err ? io_failed(t, "connect", c, err) : EXIT_PASS;
}

static int host_initiated(struct itest_host *t, const struct itest_check *check)
{
	struct conn c;
	int code = open_server(t, &c, check->server);
	if (code)
		return code;
	code = exchange(t, &c);
	conn_close(&c);
	return code;
}

/* A hybrid host's close with the guest's bytes unread is never told to
 * the guest (vhost-device-vsock 0.3.0 drops them), whose writes then
 * block for ever; our shutdown(SHUT_WR) reaches it, and once its write
 * has failed and it has closed, the drain ends (in about 1 ms). A host
 * that does not pass the shutdown on gets the close at the drain's bound.
 * Over vsock and TCP the guest would see the half-close and write on
 * until the bound: there the close alone ends it, as in the original. */
enum { HYBRID_DRAIN_MS = 1000 };

static int end_hybrid(struct itest_host *t, struct conn *c)
{
	uint64_t cap = t->o.timeout_s * 1000u;
	struct deadline d = deadline_after_ms(cap < HYBRID_DRAIN_MS ? cap :
					      HYBRID_DRAIN_MS);

	if (shutdown(c->fd, SHUT_WR) < 0)
		return io_failed(t, "shutdown", c, errno);
	for (;;) {
		int err = read_full(c, t->buf, sizeof(t->buf), d);
		if (err == ERR_EOF || err == ECONNRESET || err == EPIPE ||
		    err == ETIMEDOUT)
			return EXIT_PASS;
		if (err)
			return io_failed(t, "drain (after shutdown) from", c, err);
	}
}

static int host_terminated(struct itest_host *t, const struct itest_check *check)
{
	struct conn c;
	int code = open_server(t, &c, check->server);
	if (code)
		return code;
	int err = read_full(&c, t->buf, ITEST_HOST_READ_BYTES, step_deadline(t->o.timeout_s));
	if (err)
		code = io_failed(t, "read", &c, err);
	else if (find_not_byte(t->buf, ITEST_HOST_READ_BYTES, ITEST_BYTE) !=
		 ITEST_HOST_READ_BYTES) {
		format(t->why, sizeof(t->why), "read %s: bytes other than %u",
			 c.name, ITEST_BYTE);
		code = EXIT_FAIL;
	}
	if (!code && is_unix(&t->o.listen))
		code = end_hybrid(t, &c);
	conn_close(&c);	/* with data unread: the guest's writes must fail */
	return code;
}

/* Write until the guest's close shows: one step, by one deadline. */
static int guest_terminated(struct itest_host *t,
			    const struct itest_check *check)
{
	struct conn c;
	int code = open_server(t, &c, check->server);
	if (code)
		return code;
	struct deadline d = step_deadline(t->o.timeout_s);
	memset(t->buf, ITEST_BYTE, ITEST_HOST_WRITE_BLOCK);
	for (;;) {
		int err = write_full(&c, t->buf, ITEST_HOST_WRITE_BLOCK, d);
		if (err == EPIPE || err == ECONNRESET)
			break;
		if (err) {
			code = io_failed(t, "write", &c, err);
			break;
		}
	}
	conn_close(&c);
	return code;
}

int vsock_itest_host_main(int argc, char **argv)
{
	struct itest_host *t = xmalloc(sizeof(*t));
	char first_why[sizeof(t->why) + 32];
	int first_failure = EXIT_PASS, failed = 0;

	parse_command_line(&vsock_itest_host_spec, &t->o, argc, argv);

	t->listen = t->o.listen;
	t->lfd = xlisten(&t->listen, 1, &t->o.setup);
	announce_listening(&t->listen);

	for (int i = 0; i < ITEST_CHECKS_N && !t->stop; i++) {
		const char *name = checks[i].check.name;
		t->why[0] = '\0';
		t->note = NULL;
		int code = checks[i].run(t, &checks[i].check);
		if (code) {
			out("%s: FAIL: %s\n", name, t->why);
			failed++;
			if (!first_failure) {
				first_failure = code;
				format(first_why, sizeof(first_why), "%s: %s",
				       name, t->why);
			}
		} else if (t->note)
			out("%s: PASS (%s)\n", name, t->note);
		else
			out("%s: PASS\n", name);
	}
	/* One line on stderr: the first failure is the cause. */
	if (failed)
		warn("%s (%d of %d checks failed%s)", first_why, failed,
			 ITEST_CHECKS_N, t->stop ? ", the rest not run" : "");
	unlisten(t->lfd, &t->listen);
	xfree(t);
	return first_failure;
}
