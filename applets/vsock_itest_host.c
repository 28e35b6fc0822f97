/* vsock-itest-host: the integration test, host side (PROTOCOL.md).
 *
 * Listens on 8000 for the guest-initiated exchange, then connects to the
 * guest's servers 8001 (host-initiated exchange), 8002 (host-terminated)
 * and 8003 (guest-terminated), and reports each check. The run belongs to
 * one guest: the one named by --guest, else the first to connect. */
//config:config VSOCK_ITEST_HOST
//config:	bool "vsock-itest-host: integration test, host side"
//config:	default y
//config:	help
//config:	  Drives the four integration checks against vsock-itest and
//config:	  reports each one.
#include "vsockbox.h"

#include <errno.h>
#include <string.h>

struct itest_host_options {
	struct address guest, listen;
	uint64_t timeout_s, buffer_size;
};

static const struct opt options[] = {
	{"guest", "ADDR", OPT_ADDR, offsetof(struct itest_host_options, guest),
	 0, 0, ITEST_GUEST_PORT, "the guest: only its connection counts, and its"
	 " servers are at PORT..PORT+2", "the address the guest connected from",
	 NULL},
	{"listen", "ADDR", OPT_ADDR, offsetof(struct itest_host_options, listen),
	 0, 0, ITEST_HOST_PORT, "where to listen (port 0: any)", NULL, NULL},
	OPTION_BUFFER_SIZE(struct itest_host_options, buffer_size),
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
	    "machine than --guest ends the run (exit 1).\n");
}

const struct applet_spec vsock_itest_host_spec = {NULL, describe,
	options, sizeof(struct itest_host_options)};

struct itest_host {
	struct itest_host_options o;
	struct socket_setup setup;
	int lfd;		/* where the guest-initiated connection comes */
	struct address listen;
	bool stop;		/* the guest is not who it should be: no more */
	unsigned char buf[ITEST_WRITE_BLOCK];
	char why[384];		/* the reason of the current check's failure */
};

static struct deadline step_deadline(const struct itest_host *t)
{
	return deadline_after_s(t->o.timeout_s);
}

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
	struct deadline d = step_deadline(t);
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
	int err = write_full(c, &reply, 1, step_deadline(t));
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
	int err = conn_accept(&c, t->lfd, &t->listen, step_deadline(t), &peer);
	if (err) {
		t->stop = !t->o.guest.family;	/* no guest to connect to */
		return io_failed(t, "accept", &c, err);
	}
	int code = check_guest(t, &c, &peer);
	if (!code)
		code = exchange(t, &c);
	if (!code && (err = wait_for_close(&c, step_deadline(t))) != 0)
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
	int err = conn_open(c, &a, 0, &t->setup, step_deadline(t));
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

static int host_terminated(struct itest_host *t, const struct itest_check *check)
{
	struct conn c;
	int code = open_server(t, &c, check->server);
	if (code)
		return code;
	int err = read_full(&c, t->buf, ITEST_HOST_READ_BYTES, step_deadline(t));
	if (err)
		code = io_failed(t, "read", &c, err);
	else if (find_not_byte(t->buf, ITEST_HOST_READ_BYTES, ITEST_BYTE) !=
		 ITEST_HOST_READ_BYTES) {
		format(t->why, sizeof(t->why), "read %s: bytes other than %u",
			 c.name, ITEST_BYTE);
		code = EXIT_FAIL;
	}
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
	struct deadline d = step_deadline(t);
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
	char where[ADDRESS_TEXT_MAX], first_why[sizeof(t->why) + 32];
	int first_failure = EXIT_PASS, failed = 0;

	t->o.listen = vsock_any(ITEST_HOST_PORT);
	parse_command_line(&vsock_itest_host_spec, &t->o, argc, argv);
	t->setup = (struct socket_setup){t->o.buffer_size, false};

	t->listen = t->o.listen;
	t->lfd = xlisten(&t->listen, 1, &t->setup);
	format_address(&t->listen, where, sizeof(where));
	err_out("vsock-itest-host: listening on %s\n", where);

	for (int i = 0; i < ITEST_CHECKS_N && !t->stop; i++) {
		const char *name = checks[i].check.name;
		t->why[0] = '\0';
		int code = checks[i].run(t, &checks[i].check);
		if (code) {
			out("%s: FAIL: %s\n", name, t->why);
			failed++;
			if (!first_failure) {
				first_failure = code;
				format(first_why, sizeof(first_why), "%s: %s",
				       name, t->why);
			}
		} else
			out("%s: PASS\n", name);
	}
	/* One line on stderr: the first failure is the cause. */
	if (failed)
		warn_msg("%s (%d of %d checks failed%s)", first_why, failed,
			 ITEST_CHECKS_N, t->stop ? ", the rest not run" : "");
	xfree(t);
	return first_failure;
}
