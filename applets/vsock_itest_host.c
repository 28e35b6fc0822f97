/* vsock-itest-host: the integration test, host side (PROTOCOL.md).
 *
 * Listens on 8000 for the guest-initiated exchange, then connects to the
 * guest's servers 8001 (host-initiated exchange), 8002 (host-terminated)
 * and 8003 (guest-terminated), and reports each check. */
#include "vsockbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: vsock-itest-host [--guest ADDR] [--listen ADDR] [--timeout S]\n"
	"\n"
	"Integration test, host side: accept the guest's connection from port 49152\n"
	"on port 8000, then connect to the guest's servers on 8001, 8002 and 8003.\n"
	"Prints one line per check (guest-initiated, host-initiated, host-terminated,\n"
	"guest-terminated) and exits 0 only if all four pass.\n"
	"\n"
	"  --guest ADDR   the guest's servers (default: the address the guest\n"
	"                 connected from; port 8001, then 8002 and 8003)\n"
	"  --listen ADDR  where to listen (default vsock:any:8000; port 0: any)\n"
	"  --timeout S    bound on every wait, in seconds (default 30)\n";

enum { CHECKS = 4 };

struct itest_host {
	struct settings s;
	unsigned char buf[ITEST_WRITE_BLOCK];
	char why[256];		/* the reason of the current check's failure */
};

/* A check returns an exit code and leaves its reason in t->why. */
static int io_failed(struct itest_host *t, const char *op,
		     const struct conn *c, int err)
{
	format(t->why, sizeof(t->why), "%s %s: %s", op, c->name,
		 io_error_text(err));
	return io_exit_code(err);
}

/* Read 240000 bytes, all 42; answer 42. */
static int exchange(struct itest_host *t, const struct conn *c)
{
	uint64_t left = ITEST_EXCHANGE_BYTES;
	while (left) {
		size_t chunk = left < sizeof(t->buf) ? (size_t)left : sizeof(t->buf);
		int err = read_full(c->fd, t->buf, chunk);
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
	int err = write_full(c->fd, &reply, 1);
	return err ? io_failed(t, "write", c, err) : EXIT_PASS;
}

static int guest_initiated(struct itest_host *t, int lfd,
			   const struct address *listen)
{
	struct conn c;
	struct address peer;
	int err = conn_accept(&c, lfd, listen, (int)t->s.timeout_s * 1000, &peer);
	if (err)
		return io_failed(t, "accept", &c, err);
	set_io_timeout(c.fd, t->s.timeout_s);
	int code = EXIT_PASS;
	if (peer.port != ITEST_GUEST_LOCAL_PORT) {
		format(t->why, sizeof(t->why), "accept %s: source port %u, "
			 "expected %u", c.name, (unsigned)peer.port,
			 ITEST_GUEST_LOCAL_PORT);
		code = EXIT_FAIL;
	}
	if (!code)
		code = exchange(t, &c);
	if (!code && (err = wait_for_close(c.fd)) != 0)
		code = io_failed(t, "wait for the guest to close", &c, err);
	if (!t->s.guest_given)
		t->s.guest = with_port(&peer, ITEST_GUEST_PORT);
	conn_close(&c);
	return code;
}

static int open_server(struct itest_host *t, struct conn *c, int server)
{
	struct address a = with_port(&t->s.guest, t->s.guest.port + (uint32_t)server);
	int err = conn_open(c, &a, 0, t->s.timeout_s);
	return err ? io_failed(t, "connect", c, err) : EXIT_PASS;
}

static int host_initiated(struct itest_host *t)
{
	struct conn c;
	int code = open_server(t, &c, 0);
	if (code)
		return code;
	code = exchange(t, &c);
	conn_close(&c);
	return code;
}

static int host_terminated(struct itest_host *t)
{
	struct conn c;
	int code = open_server(t, &c, 1);
	if (code)
		return code;
	int err = read_full(c.fd, t->buf, ITEST_HOST_READ_BYTES);
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

/* Write until the guest's close shows, within the timeout. */
static int guest_terminated(struct itest_host *t)
{
	struct conn c;
	int code = open_server(t, &c, 2);
	if (code)
		return code;
	uint64_t deadline = now_ns() + (uint64_t)t->s.timeout_s * 1000000000u;
	memset(t->buf, ITEST_BYTE, ITEST_HOST_WRITE_BLOCK);
	for (;;) {
		int err = write_full(c.fd, t->buf, ITEST_HOST_WRITE_BLOCK);
		if (err == EPIPE || err == ECONNRESET)
			break;
		if (err) {
			code = io_failed(t, "write", &c, err);
			break;
		}
		if (now_ns() > deadline) {
			code = io_failed(t, "write", &c, ETIMEDOUT);
			break;
		}
	}
	conn_close(&c);
	return code;
}

int vsock_itest_host_main(int argc, char **argv)
{
	static const char *const names[CHECKS] = {
		"guest-initiated", "host-initiated", "host-terminated",
		"guest-terminated",
	};
	struct itest_host *t = xmalloc(sizeof(*t));
	char where[ADDRESS_TEXT_MAX], first_why[sizeof(t->why)];
	int first_failure = EXIT_PASS, failed = 0;

	settings_defaults(&t->s, ITEST_HOST_PORT);
	t->s.listen = vsock_any(ITEST_HOST_PORT);
	no_operands(argc, argv, parse_options(argc, argv,
		OPT_GUEST | OPT_LISTEN | OPT_TIMEOUT, usage, &t->s));

	struct address listen = t->s.listen;
	int lfd = xlisten(&listen, 1);
	format_address(&listen, where, sizeof(where));
	err_out("vsock-itest-host: listening on %s\n", where);

	for (int i = 0; i < CHECKS; i++) {
		int code;
		t->why[0] = '\0';
		switch (i) {
		case 0: code = guest_initiated(t, lfd, &listen); break;
		case 1: code = host_initiated(t); break;
		case 2: code = host_terminated(t); break;
		default: code = guest_terminated(t); break;
		}
		if (code) {
			out("%s: FAIL: %s\n", names[i], t->why);
			failed++;
			if (!first_failure) {
				first_failure = code;
				format(first_why, sizeof(first_why), "%s: %s",
				       names[i], t->why);
			}
		} else
			out("%s: PASS\n", names[i]);
		/* Without the guest's address the rest cannot run. */
		if (code && i == 0 && !t->s.guest_given &&
		    t->s.guest.family == 0)
			break;
	}
	/* One line on stderr: the first failure is the cause. */
	if (failed)
		warn_msg("%s (%d of %d checks failed)", first_why, failed, CHECKS);
	xfree(t);
	return first_failure;
}
