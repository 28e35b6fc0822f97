/* faultpeer: a peer that plays either side of the vsock test protocol
 * (PROTOCOL.md) over TCP and misbehaves at one chosen step, for
 * tests/faults.sh and tests/signals.sh.
 *
 *   faultpeer ROLE FAULT [--listen ADDR] [--peer ADDR] [--guest ADDR]
 *             [--tests LIST] [--size B] [--count N] [--latency-count N]
 *             [--packet-size B] [--timeout S]
 *
 * Roles: perf-host (what vsock-perf does, for the guest data applets and
 * vsock-bench), itest-host (vsock-itest-host, for vsock-itest), perf-guest
 * (vsock-bench, for vsock-perf), itest-guest (vsock-itest, for
 * vsock-itest-host; its servers listen on --listen P..P+2), and sentinel
 * (fault "none": prints "faultpeer: connection from port N" for every
 * connection, so a test can tell that an applet connected). TCP only.
 *
 * Host roles listen on --listen (default tcp:127.0.0.1:0) and print
 * "faultpeer: listening on ADDR" once ready. Every fault prints
 * "faultpeer: injected FAULT: what" just before it happens. faultpeer ends
 * on its own once its part is over (after the fault it waits for the
 * applet under test to close its side), or on SIGTERM; either way the
 * status is 0 if the fault was injected (or FAULT is "none" and the
 * protocol ran to its end), 1 if the applet failed the protocol before the
 * fault, 3 on its own environment errors or after --timeout seconds (a
 * bound on its whole life, default 20). */
#include "vsockbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum fault {
	F_NONE, F_REFUSE, F_CLOSE, F_RESET, F_EARLY, F_STALL, F_WRONG_BYTE,
	F_WRONG_MAGIC, F_MAGIC_ORDER, F_BAD_PORT, F_TRUNCATE, F_FLOOD, F_SLOW,
	FAULTS
};

static const char *const fault_names[FAULTS] = {
	"none", "refuse", "close", "reset", "early", "stall", "wrong-byte",
	"wrong-magic", "magic-order", "bad-port", "truncate", "flood", "slow",
};

static const char usage[] =
	"usage: faultpeer ROLE FAULT [--listen ADDR] [--peer ADDR] [--guest ADDR]\n"
	"                 [--tests LIST] [--size B] [--count N] [--latency-count N]\n"
	"                 [--packet-size B] [--timeout S]\n"
	"ROLE: perf-host itest-host perf-guest itest-guest sentinel\n"
	"FAULT: none refuse close reset early stall wrong-byte wrong-magic\n"
	"       magic-order bad-port truncate flood slow\n";

/* The run: one role, one fault, fixed before anything happens. */
static struct settings s;
static enum fault fault;
static const char *fault_name;
static volatile sig_atomic_t injected;

/* Every connection faultpeer holds, so that a fault can close them all. */
enum { MAX_CONNS = 16 };
static struct conn *held[MAX_CONNS];
static size_t n_held;

enum { FLOOD_BYTES = 1 << 20, TRUNCATED_PACKET = 1000 };

static void note(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void note(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	format_v(line, sizeof(line), fmt, ap);
	va_end(ap);
	err_out("faultpeer: %s\n", line);
}

/* Announces the fault; the flag goes up before the misbehaviour, so that
 * a SIGTERM that follows the applet's reaction always finds it set. */
static void inject(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void inject(const char *fmt, ...)
{
	char line[400];
	va_list ap;
	if (injected)
		return;
	va_start(ap, fmt);
	format_v(line, sizeof(line), fmt, ap);
	va_end(ap);
	injected = 1;
	note("injected %s: %s", fault_name, line);
}

_Noreturn static void finish(void)
{
	if (fault == F_NONE || injected) {
		note("done");
		exit(EXIT_PASS);
	}
	note("ended without injecting %s", fault_name);
	exit(EXIT_FAIL);
}

static void on_signal(int sig)
{
	static const char stopped[] = "faultpeer: stopped\n";
	static const char early[] = "faultpeer: stopped before the fault\n";
	static const char late[] = "faultpeer: gave up (--timeout)\n";
	ssize_t ignored;

	if (sig == SIGALRM) {
		ignored = write(STDERR_FILENO, late, sizeof(late) - 1);
		_exit(EXIT_ENV);
	}
	if (injected || fault == F_NONE)
		ignored = write(STDERR_FILENO, stopped, sizeof(stopped) - 1);
	else
		ignored = write(STDERR_FILENO, early, sizeof(early) - 1);
	(void)ignored;
	_exit(injected || fault == F_NONE ? EXIT_PASS : EXIT_FAIL);
}

/* ---- connections ---- */

static void hold(struct conn *c)
{
	if (n_held == MAX_CONNS)
		die(EXIT_ENV, "too many connections");
	set_io_timeout(c->fd, s.timeout_s);
	held[n_held++] = c;
}

static void reset_close(struct conn *c)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	if (c->fd < 0)
		return;
	/* SO_LINGER 0: close sends RST instead of FIN. */
	(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	conn_close(c);
}

static void close_all(void)
{
	for (size_t i = 0; i < n_held; i++)
		conn_close(held[i]);
}

static void reset_all(void)
{
	for (size_t i = 0; i < n_held; i++)
		reset_close(held[i]);
}

/* Waits for the applet to close every connection we hold, discarding what
 * it sends (a reset counts as closed). */
static void drain_all(void)
{
	char sink[65536];

	for (;;) {
		struct pollfd p[MAX_CONNS];
		size_t n = 0;
		for (size_t i = 0; i < n_held; i++)
			if (held[i]->fd >= 0)
				p[n++] = (struct pollfd){.fd = held[i]->fd,
							 .events = POLLIN};
		if (n == 0)
			return;
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die_errno(EXIT_ENV, "poll");
		}
		for (size_t k = 0; k < n; k++) {
			if (!p[k].revents)
				continue;
			ssize_t got = recv(p[k].fd, sink, sizeof(sink), MSG_DONTWAIT);
			if (got > 0 || (got < 0 && (errno == EAGAIN || errno == EINTR)))
				continue;
			for (size_t i = 0; i < n_held; i++)
				if (held[i]->fd == p[k].fd)
					conn_close(held[i]);
		}
	}
}

/* The itest faults at its first connection: close or reset it at once, or
 * stall (hold it, never answering); any other fault goes on. */
static void first_connection_fault(struct conn *c, const char *stall_what)
{
	if (fault == F_CLOSE || fault == F_RESET) {
		inject("%s the guest-initiated connection at once",
		       fault == F_CLOSE ? "closed" : "reset");
		if (fault == F_CLOSE)
			conn_close(c);
		else
			reset_close(c);
		finish();
	}
	if (fault == F_STALL) {
		inject("%s", stall_what);
		drain_all();
		finish();
	}
}

/* A failure of the applet's side: expected after the fault, a protocol
 * failure of the applet before it. */
static void check_io(int err, const struct conn *c, const char *op)
{
	if (!err)
		return;
	if (injected) {
		note("after the fault: %s %s: %s", op, c->name,
		     io_error_text(err));
		close_all();
		finish();
	}
	die(io_exit_code(err), "%s %s: %s (before the fault)", op, c->name,
	    io_error_text(err));
}

static void xread(struct conn *c, void *buf, size_t len, const char *what)
{
	check_io(read_full(c->fd, buf, len), c, what);
}

static void xwrite(struct conn *c, const void *buf, size_t len, const char *what)
{
	check_io(write_full(c->fd, buf, len), c, what);
}

static void xsend(struct conn *c, uint64_t total, const void *buf, size_t len)
{
	check_io(send_bytes(c->fd, total, buf, len), c, "write");
}

static void xrecv(struct conn *c, uint64_t total, void *buf, size_t len)
{
	check_io(recv_bytes(c->fd, total, buf, len), c, "read");
}

/* Writes what the applet's buffers take, up to 1 MiB, without blocking:
 * data after the end of the protocol that nobody will read. */
static void flood(struct conn *c, const char *when)
{
	static unsigned char junk[65536];
	size_t sent = 0;

	memset(junk, 0xa5, sizeof(junk));
	inject("%s, wrote more data on %s", when, c->name);
	while (sent < FLOOD_BYTES) {
		ssize_t n = send(c->fd, junk, sizeof(junk),
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	note("flooded %zu bytes", sent);
}

/* Writes blocks until the applet's close makes a write fail: EPIPE or
 * ECONNRESET is the way the protocol ends, anything else a failure. */
static void write_until_closed(struct conn *c, unsigned char byte)
{
	unsigned char block[ITEST_HOST_WRITE_BLOCK];
	memset(block, byte, sizeof(block));
	for (;;) {
		int err = write_full(c->fd, block, sizeof(block));
		if (err == EPIPE || err == ECONNRESET)
			return;
		check_io(err, c, "write");
	}
}

static struct address loopback_any_port(void)
{
	struct address a;
	const char *why = parse_address("tcp:127.0.0.1:0", &a);
	if (why)
		die(EXIT_ENV, "loopback address: %s", why);
	return a;
}

/* Bound but not listening: a connect is refused at once. */
static int bind_only(struct address *a)
{
	char text[ADDRESS_TEXT_MAX];
	int fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_storage ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	format_address(a, text, sizeof(text));
	if (fd < 0)
		die_errno(EXIT_ENV, "socket %s", text);
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)a->port);
		memcpy(&in6->sin6_addr, a->ip, 16);
		len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)a->port);
		memcpy(&in->sin_addr, a->ip, 4);
		len = sizeof(*in);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		die_errno(EXIT_ENV, "bind %s", text);
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		die_errno(EXIT_ENV, "getsockname %s", text);
	a->port = ntohs(ss.ss_family == AF_INET6
				? ((struct sockaddr_in6 *)&ss)->sin6_port
				: ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static void announce(const struct address *a)
{
	char text[ADDRESS_TEXT_MAX];
	format_address(a, text, sizeof(text));
	note("listening on %s", text);
}

_Noreturn static void refuse_forever(struct address *a, bool announce_it)
{
	int fd = bind_only(a);
	if (announce_it)
		announce(a);
	inject("bound port %u, not listening: connections are refused",
	       (unsigned)a->port);
	for (;;)
		pause();
	(void)fd;
}

static void accept_one(struct conn *c, int lfd, const struct address *local,
		       struct address *peer, const char *what)
{
	int err = conn_accept(c, lfd, local, (int)s.timeout_s * 1000, peer);
	if (err)
		die(EXIT_ENV, "accept %s (%s): %s", c->name, what,
		    io_error_text(err));
	hold(c);
}

static void connect_from(struct conn *c, const struct address *peer,
			 uint32_t local_port)
{
	int err = conn_open(c, peer, local_port, s.timeout_s);
	if (err && injected) {
		note("after the fault: connect %s: %s", c->name, strerror(err));
		close_all();
		finish();
	}
	if (err)
		die(EXIT_ENV, "connect %s: %s", c->name, strerror(err));
	hold(c);
}

/* ---- the micro benchmark ---- */

enum { SLOT_CTL, SLOT_ECHO, SLOT_UNIDIR, SLOT_BIDIR, SLOT_MULTI,
       SLOTS = SLOT_MULTI + PERF_MULTI_STREAMS };

static struct conn perf_conn[SLOTS];
static bool perf_expected[SLOTS];
static unsigned first_test;	/* the fault's test: the first that runs */

static uint32_t slot_port(int slot)
{
	static const uint32_t ports[SLOT_MULTI] = {
		PERF_CTL_PORT, PERF_ECHO_PORT, PERF_UNIDIR_PORT, PERF_BIDIR_PORT,
	};
	return slot < SLOT_MULTI ? ports[slot]
				 : (uint32_t)(PERF_MULTI_PORT + slot - SLOT_MULTI);
}

static void perf_expect(void)
{
	unsigned t = s.tests;
	perf_expected[SLOT_CTL] = t & (TEST_BIDIR | TEST_UNIDIR | TEST_MULTI);
	perf_expected[SLOT_ECHO] = t & TEST_LATENCY;
	perf_expected[SLOT_UNIDIR] = t & TEST_UNIDIR;
	perf_expected[SLOT_BIDIR] = t & TEST_BIDIR;
	for (int i = 0; i < PERF_MULTI_STREAMS; i++)
		perf_expected[SLOT_MULTI + i] = t & TEST_MULTI;
	first_test = t & -t;
	for (int i = 0; i < SLOTS; i++)
		perf_conn[i].fd = -1;
}

static bool fault_here(enum fault f, unsigned test)
{
	return fault == f && first_test == test;
}

static void *xbuffer(void)
{
	return xmalloc(s.io_size);
}

static unsigned char host_read_magic(void)
{
	struct conn *ctl = &perf_conn[SLOT_CTL];
	unsigned char magic;
	check_io(read_within(ctl->fd, &magic, 1, (int)s.timeout_s * 1000), ctl,
		 "read magic from");
	return magic;
}

static void host_expect_magic(const char *test, unsigned want)
{
	unsigned got = host_read_magic();
	if (got != want)
		die(EXIT_FAIL, "%s: magic %u, expected %u (before the fault)",
		    test, got, want);
}

static void host_latency(void)
{
	struct conn *c = &perf_conn[SLOT_ECHO];
	size_t len = s.packet_size;
	unsigned char *out = xmalloc(len), *in = xmalloc(len);

	for (unsigned i = 0; i < PERF_WARMUP_PACKETS; i++) {
		warmup_packet(i, out, len);
		if (i == 0 && fault_here(F_TRUNCATE, TEST_LATENCY)) {
			inject("wrote %d of %zu bytes of warm-up packet 0, then "
			       "closed", TRUNCATED_PACKET, len);
			xwrite(c, out, TRUNCATED_PACKET < len ? TRUNCATED_PACKET
							      : len / 2, "write");
			close_all();
			finish();
		}
		if (i == 10 && fault_here(F_EARLY, TEST_LATENCY)) {
			inject("closed every connection after 10 warm-up packets");
			close_all();
			finish();
		}
		xwrite(c, out, len, "write");
		xread(c, in, len, "read");
		if (memcmp(in, out, len) != 0)
			die(EXIT_FAIL, "read %s: warm-up echo %u differs "
			    "(before the fault)", c->name, i);
	}
	memset(out, PERF_LATENCY_BYTE, len);
	for (uint64_t i = 0; i < s.latency_count; i++) {
		xwrite(c, out, len, "write");
		xread(c, in, len, "read");
	}
	conn_close(c);		/* ends the guest's echo loop */
	xfree(out);
	xfree(in);
}

static void host_stop_before_data(unsigned test, const char *name)
{
	if (fault_here(F_EARLY, test)) {
		inject("read the %s magic, then closed every connection", name);
		close_all();
		finish();
	}
}

static void host_truncate(struct conn *c, unsigned test, void *buf)
{
	if (fault_here(F_TRUNCATE, test)) {
		inject("wrote %llu of %llu bytes of an iteration on %s, then "
		       "closed everything", (unsigned long long)(s.size / 2),
		       (unsigned long long)s.size, c->name);
		xsend(c, s.size / 2, buf, s.io_size);
		close_all();
		finish();
	}
}

static void host_bidir(void)
{
	struct conn *c = &perf_conn[SLOT_BIDIR];
	void *buf = xbuffer();

	host_expect_magic("bidirectional", MAGIC_BIDIR);
	host_stop_before_data(TEST_BIDIR, "bidirectional");
	host_truncate(c, TEST_BIDIR, buf);
	/* The guest reads and writes at once (two threads): our writes
	 * drain while its writes wait for our reads. */
	xsend(c, s.size * s.count, buf, s.io_size);
	if (fault == F_FLOOD)
		flood(c, "after the bidirectional test's last byte");
	xrecv(c, s.size * s.count, buf, s.io_size);
	xfree(buf);
}

/* One unidirectional iteration, slowly: 4 KiB every 20 ms. */
static void slow_send(struct conn *c, const unsigned char *buf)
{
	struct timespec pause_ts = {0, 20 * 1000 * 1000};
	for (uint64_t left = s.size; left;) {
		size_t chunk = left < 4096 ? (size_t)left : 4096;
		xwrite(c, buf, chunk, "write");
		inject("writing %s slowly (4 KiB every 20 ms)", c->name);
		left -= chunk;
		nanosleep(&pause_ts, NULL);
	}
}

static void host_unidir(void)
{
	struct conn *c = &perf_conn[SLOT_UNIDIR];
	void *buf = xbuffer();

	host_expect_magic("unidirectional", MAGIC_UNIDIR);
	host_stop_before_data(TEST_UNIDIR, "unidirectional");
	for (uint64_t i = 0; i < s.count; i++) {
		if (i == 0)
			host_truncate(c, TEST_UNIDIR, buf);
		if (fault == F_SLOW)
			slow_send(c, buf);
		else
			xsend(c, s.size, buf, s.io_size);
		xrecv(c, s.size, buf, s.io_size);
	}
	if (fault == F_FLOOD)
		flood(c, "after the unidirectional test's last iteration");
	xfree(buf);
}

static void host_multi(void)
{
	bool seen[PERF_MULTI_STREAMS] = {false};
	void *buf = xbuffer();

	for (int i = 0; i < PERF_MULTI_STREAMS; i++) {
		unsigned magic = host_read_magic();
		unsigned k = magic - MAGIC_MULTI;
		if (magic < MAGIC_MULTI || k >= PERF_MULTI_STREAMS || seen[k])
			die(EXIT_FAIL, "multi stream: magic %u (before the "
			    "fault)", magic);
		seen[k] = true;
	}
	host_stop_before_data(TEST_MULTI, "multi stream");
	/* Per iteration, SIZE to every stream, then SIZE from every stream:
	 * the guest's streams are threads, so none waits on another. */
	for (uint64_t i = 0; i < s.count; i++) {
		for (int k = 0; k < PERF_MULTI_STREAMS; k++) {
			struct conn *c = &perf_conn[SLOT_MULTI + k];
			if (i == 0 && k == 0)
				host_truncate(c, TEST_MULTI, buf);
			xsend(c, s.size, buf, s.io_size);
		}
		for (int k = 0; k < PERF_MULTI_STREAMS; k++)
			xrecv(&perf_conn[SLOT_MULTI + k], s.size, buf, s.io_size);
	}
	if (fault == F_FLOOD)
		for (int k = 0; k < PERF_MULTI_STREAMS; k++)
			flood(&perf_conn[SLOT_MULTI + k],
			      "after the multi stream test's last iteration");
	xfree(buf);
}

static void perf_host(void)
{
	struct address a = s.listen_given ? s.listen : loopback_any_port();
	int missing = 0;

	perf_expect();
	if (fault == F_REFUSE)
		refuse_forever(&a, true);
	int lfd = xlisten(&a, SLOTS);
	announce(&a);
	for (int slot = 0; slot < SLOTS; slot++)
		missing += perf_expected[slot];
	while (missing > 0) {
		struct conn c;
		struct address peer;
		int err = conn_accept(&c, lfd, &a, (int)s.timeout_s * 1000, &peer);
		if (err)
			die(EXIT_ENV, "accept %s: %s (%d connections missing)",
			    c.name, io_error_text(err), missing);
		int slot = -1;
		for (int k = 0; k < SLOTS; k++)
			if (slot_port(k) == peer.port && perf_expected[k])
				slot = k;
		if (slot < 0 || perf_conn[slot].fd >= 0)
			die(EXIT_FAIL, "accept %s: unexpected connection from "
			    "port %u (before the fault)", c.name,
			    (unsigned)peer.port);
		missing--;
		if (fault == F_CLOSE || fault == F_RESET) {
			inject("%s every connection as soon as it is accepted",
			       fault == F_CLOSE ? "closed" : "reset");
			if (fault == F_CLOSE)
				conn_close(&c);
			else
				reset_close(&c);
			perf_conn[slot].fd = -2;	/* seen */
			continue;
		}
		perf_conn[slot] = c;
		hold(&perf_conn[slot]);
	}
	close(lfd);
	if (fault == F_CLOSE || fault == F_RESET)
		finish();
	if (fault == F_STALL) {
		inject("accepted %zu connections, never answering", n_held);
		drain_all();
		finish();
	}
	if (s.tests & TEST_LATENCY)
		host_latency();
	if (s.tests & TEST_BIDIR)
		host_bidir();
	if (s.tests & TEST_UNIDIR)
		host_unidir();
	if (s.tests & TEST_MULTI)
		host_multi();
	drain_all();
	finish();
}

/* The guest side of the benchmark, against vsock-perf. */
static void guest_latency(void)
{
	struct conn *c = &perf_conn[SLOT_ECHO];
	unsigned char packet[PERF_ECHO_PACKET];

	for (unsigned i = 0;; i++) {
		size_t got;
		int err = read_counted(c->fd, packet, sizeof(packet), &got);
		if (err == ERR_EOF && got == 0)
			break;
		check_io(err, c, "read");
		if (i == 0 && fault == F_TRUNCATE) {
			inject("echoed %d of %zu bytes of the first packet, then "
			       "closed everything", TRUNCATED_PACKET,
			       sizeof(packet));
			xwrite(c, packet, TRUNCATED_PACKET, "write");
			close_all();
			finish();
		}
		if (i == 5 && fault == F_WRONG_BYTE) {
			inject("flipped byte 100 of the echo of warm-up packet 5");
			packet[100] ^= 0x20;
		}
		err = write_full(c->fd, packet, sizeof(packet));
		if (err == EPIPE || err == ECONNRESET)
			break;
		check_io(err, c, "write");
	}
	conn_close(c);
}

static void guest_magic(unsigned char magic)
{
	xwrite(&perf_conn[SLOT_CTL], &magic, 1, "write magic to");
}

static void guest_perf(void)
{
	if (!s.peer.port || s.peer.transport != TRANSPORT_TCP)
		usage_error("perf-guest needs --peer tcp:HOST:PORT");
	perf_expect();
	if (fault == F_REFUSE) {
		inject("never connected");
		for (;;)
			pause();
	}
	bool bad_port_done = false;
	for (int slot = 0; slot < SLOTS; slot++) {
		if (!perf_expected[slot])
			continue;
		uint32_t port = slot_port(slot);
		if (fault == F_BAD_PORT && !bad_port_done) {
			inject("connected from an ephemeral port instead of %u",
			       (unsigned)port);
			port = 0;
			bad_port_done = true;
		}
		connect_from(&perf_conn[slot], &s.peer, port);
	}
	if (fault == F_CLOSE || fault == F_RESET) {
		inject("%s every connection once all were open",
		       fault == F_CLOSE ? "closed" : "reset");
		if (fault == F_CLOSE)
			close_all();
		else
			reset_all();
		finish();
	}
	if (fault == F_STALL || fault == F_BAD_PORT) {
		inject("opened every connection, never answering");
		drain_all();
		finish();
	}
	void *buf = xbuffer();
	if (s.tests & TEST_LATENCY)
		guest_latency();
	if (s.tests & TEST_BIDIR) {
		if (fault == F_EARLY) {
			inject("closed everything instead of sending magic 129");
			close_all();
			finish();
		}
		if (fault == F_WRONG_MAGIC || fault == F_MAGIC_ORDER) {
			unsigned char m = fault == F_WRONG_MAGIC ? 200 : MAGIC_UNIDIR;
			inject("sent magic %u where the host expects 129", m);
			guest_magic(m);
			drain_all();
			finish();
		}
		guest_magic(MAGIC_BIDIR);
		struct conn *c = &perf_conn[SLOT_BIDIR];
		xsend(c, s.size * s.count, buf, s.io_size);
		xrecv(c, s.size * s.count, buf, s.io_size);
	}
	if (s.tests & TEST_UNIDIR) {
		struct conn *c = &perf_conn[SLOT_UNIDIR];
		guest_magic(MAGIC_UNIDIR);
		for (uint64_t i = 0; i < s.count; i++) {
			xrecv(c, s.size, buf, s.io_size);
			xsend(c, s.size, buf, s.io_size);
		}
	}
	if (s.tests & TEST_MULTI) {
		for (int k = 0; k < PERF_MULTI_STREAMS; k++)
			guest_magic((unsigned char)(MAGIC_MULTI + k));
		for (uint64_t i = 0; i < s.count; i++) {
			for (int k = 0; k < PERF_MULTI_STREAMS; k++)
				xrecv(&perf_conn[SLOT_MULTI + k], s.size, buf,
				      s.io_size);
			for (int k = 0; k < PERF_MULTI_STREAMS; k++)
				xsend(&perf_conn[SLOT_MULTI + k], s.size, buf,
				      s.io_size);
		}
	}
	if (fault == F_FLOOD) {
		inject("kept writing on the control connection after the last "
		       "test");
		write_until_closed(&perf_conn[SLOT_CTL], 0xa5);
	}
	xfree(buf);
	drain_all();
	finish();
}

/* ---- the integration test ---- */

static void fill(unsigned char *buf, size_t len, unsigned char value)
{
	memset(buf, value, len);
}

static void expect_all_42(struct conn *c, unsigned char *buf, size_t len)
{
	xread(c, buf, len, "read");
	size_t at = find_not_byte(buf, len, ITEST_BYTE);
	if (at != len)
		die(EXIT_FAIL, "read %s: byte %zu is %u (before the fault)",
		    c->name, at, buf[at]);
}

/* Reads the guest's 240000 bytes of 42 (host side of an exchange). */
static void host_read_exchange(struct conn *c, unsigned char *buf)
{
	for (size_t left = ITEST_EXCHANGE_BYTES; left;) {
		size_t chunk = left < ITEST_WRITE_BLOCK ? left : ITEST_WRITE_BLOCK;
		expect_all_42(c, buf, chunk);
		left -= chunk;
	}
}

static void wait_closed(struct conn *c)
{
	int err = wait_for_close(c->fd);
	if (err && err != ECONNRESET)
		check_io(err, c, "wait for close of");
	conn_close(c);
}

static void itest_host(void)
{
	static struct conn c0, c1, c2, c3;
	unsigned char *buf = xmalloc(ITEST_WRITE_BLOCK);
	struct address a = s.listen_given ? s.listen : loopback_any_port();
	struct address peer;

	if (!s.guest_given)
		usage_error("itest-host needs --guest tcp:HOST:P (servers on "
			    "P..P+2)");
	if (fault == F_REFUSE)
		refuse_forever(&a, true);
	int lfd = xlisten(&a, 1);
	announce(&a);

	/* 2. guest-initiated */
	accept_one(&c0, lfd, &a, &peer, "guest-initiated");
	close(lfd);
	if (peer.port != ITEST_GUEST_LOCAL_PORT)
		die(EXIT_FAIL, "accept %s: source port %u, expected %u",
		    c0.name, (unsigned)peer.port, ITEST_GUEST_LOCAL_PORT);
	first_connection_fault(&c0, "accepted the guest-initiated connection, "
			       "never reading");
	host_read_exchange(&c0, buf);
	unsigned char reply = ITEST_BYTE;
	if (fault == F_WRONG_BYTE) {
		reply = ITEST_BYTE + 1;
		inject("answered the guest-initiated exchange with %u", reply);
	}
	xwrite(&c0, &reply, 1, "write");
	if (fault == F_WRONG_BYTE) {
		drain_all();
		finish();
	}
	if (fault == F_FLOOD)
		flood(&c0, "after the reply byte of the guest-initiated exchange");
	wait_closed(&c0);
	if (fault == F_EARLY) {
		inject("quit before connecting to the guest's servers");
		finish();
	}

	/* 3. host-initiated */
	connect_from(&c1, &s.guest, 0);
	host_read_exchange(&c1, buf);
	xwrite(&c1, &reply, 1, "write");
	conn_close(&c1);

	/* 4. host-terminated */
	struct address a2 = with_port(&s.guest, s.guest.port + 1);
	connect_from(&c2, &a2, 0);
	expect_all_42(&c2, buf, ITEST_HOST_READ_BYTES);
	conn_close(&c2);

	/* 5. guest-terminated */
	struct address a3 = with_port(&s.guest, s.guest.port + 2);
	connect_from(&c3, &a3, 0);
	if (fault == F_TRUNCATE) {
		inject("closed the guest-terminated connection without "
		       "writing");
		conn_close(&c3);
		finish();
	}
	write_until_closed(&c3, ITEST_BYTE);
	conn_close(&c3);
	xfree(buf);
	finish();
}

static void itest_guest(void)
{
	static struct conn c0, c1, c2, c3;
	unsigned char *buf = xmalloc(ITEST_WRITE_BLOCK);
	int servers[3];
	struct address addr[3];

	if (!s.listen_given || !s.listen.port || s.peer.transport != TRANSPORT_TCP)
		usage_error("itest-guest needs --peer tcp:HOST:PORT and "
			    "--listen tcp:HOST:P (servers on P..P+2)");
	/* With a fault, the guest is about to fail its first step: its
	 * servers refuse (bound, not listening) from the start, so that
	 * whatever the host tries next fails the same way every time. */
	for (int i = 0; i < 3; i++) {
		addr[i] = with_port(&s.listen, s.listen.port + (uint32_t)i);
		if (fault == F_NONE)
			servers[i] = xlisten(&addr[i], ITEST_SERVER_BACKLOG);
		else
			servers[i] = bind_only(&addr[i]);
	}
	if (fault == F_REFUSE) {
		inject("never connected; servers bound, not listening");
		for (;;)
			pause();
	}

	/* 2. guest-initiated */
	uint32_t from = ITEST_GUEST_LOCAL_PORT;
	if (fault == F_BAD_PORT) {
		inject("connected from an ephemeral port instead of %u", from);
		from = 0;
	}
	connect_from(&c0, &s.peer, from);
	first_connection_fault(&c0, "connected, never writing");
	fill(buf, ITEST_WRITE_BLOCK, ITEST_BYTE);
	if (fault == F_TRUNCATE) {
		inject("wrote 100000 of 240000 bytes, then closed");
		xsend(&c0, 100000, buf, ITEST_WRITE_BLOCK);
		conn_close(&c0);
		finish();
	}
	if (fault == F_WRONG_BYTE) {
		inject("byte 1000 of the guest-initiated exchange is 43");
		buf[1000] = ITEST_BYTE + 1;
		xwrite(&c0, buf, ITEST_WRITE_BLOCK, "write");
		drain_all();
		finish();
	}
	xsend(&c0, ITEST_EXCHANGE_BYTES, buf, ITEST_WRITE_BLOCK);
	unsigned char reply;
	xread(&c0, &reply, 1, "read");
	if (reply != ITEST_BYTE)
		die(EXIT_FAIL, "read %s: reply %u (before the fault)", c0.name,
		    reply);
	if (fault == F_FLOOD) {
		inject("kept writing after the guest-initiated exchange");
		write_until_closed(&c0, ITEST_BYTE);
		finish();
	}
	conn_close(&c0);
	if (fault == F_EARLY) {
		inject("quit after the guest-initiated exchange (servers "
		       "refuse)");
		finish();
	}

	/* 3. host-initiated */
	accept_one(&c1, servers[0], &addr[0], NULL, "host-initiated");
	xsend(&c1, ITEST_EXCHANGE_BYTES, buf, ITEST_WRITE_BLOCK);
	xread(&c1, &reply, 1, "read");
	if (reply != ITEST_BYTE)
		die(EXIT_FAIL, "read %s: reply %u", c1.name, reply);
	conn_close(&c1);

	/* 4. host-terminated */
	accept_one(&c2, servers[1], &addr[1], NULL, "host-terminated");
	for (;;) {
		int err = write_full(c2.fd, buf, ITEST_WRITE_BLOCK);
		if (err == EPIPE || err == ECONNRESET)
			break;
		check_io(err, &c2, "write");
	}
	conn_close(&c2);

	/* 5. guest-terminated */
	accept_one(&c3, servers[2], &addr[2], NULL, "guest-terminated");
	xread(&c3, &reply, 1, "read");
	conn_close(&c3);
	xfree(buf);
	finish();
}

/* ---- the sentinel: reports every connection it gets ---- */

static void sentinel(void)
{
	struct address a = s.listen_given ? s.listen : loopback_any_port();
	int lfd = xlisten(&a, 16);

	announce(&a);
	for (;;) {
		struct conn c;
		struct address peer;
		int err = conn_accept(&c, lfd, &a, -1, &peer);
		if (err)
			die(EXIT_ENV, "accept %s: %s", c.name, io_error_text(err));
		note("connection from port %u", (unsigned)peer.port);
		conn_close(&c);
	}
}

/* ---- main ---- */

static void set_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
}

/* The faults each role can play, as bits of enum fault. */
#define BIT(f) (1u << (f))
#define COMMON_FAULTS (BIT(F_NONE) | BIT(F_REFUSE) | BIT(F_CLOSE) | \
		       BIT(F_RESET) | BIT(F_EARLY) | BIT(F_STALL) | \
		       BIT(F_TRUNCATE) | BIT(F_FLOOD))

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*run)(void);
		unsigned faults;
	} roles[] = {
		{"perf-host", perf_host, COMMON_FAULTS | BIT(F_SLOW)},
		{"itest-host", itest_host, COMMON_FAULTS | BIT(F_WRONG_BYTE)},
		{"perf-guest", guest_perf, COMMON_FAULTS | BIT(F_WRONG_BYTE) |
		 BIT(F_WRONG_MAGIC) | BIT(F_MAGIC_ORDER) | BIT(F_BAD_PORT)},
		{"itest-guest", itest_guest, COMMON_FAULTS | BIT(F_WRONG_BYTE) |
		 BIT(F_BAD_PORT)},
		{"sentinel", sentinel, BIT(F_NONE)},
	};
	size_t role;
	unsigned f;

	set_applet_name("faultpeer");
	if (argc < 3) {
		print_to(STDERR_FILENO, "%s", usage);
		return EXIT_USAGE;
	}
	for (role = 0; role < sizeof(roles) / sizeof(roles[0]); role++)
		if (strcmp(argv[1], roles[role].name) == 0)
			break;
	if (role == sizeof(roles) / sizeof(roles[0]))
		usage_error("unknown role '%s'", argv[1]);
	for (f = 0; f < FAULTS; f++)
		if (strcmp(argv[2], fault_names[f]) == 0)
			break;
	if (f == FAULTS)
		usage_error("unknown fault '%s'", argv[2]);
	if (!(roles[role].faults & BIT(f)))
		usage_error("%s cannot play fault '%s'", argv[1], argv[2]);
	fault = (enum fault)f;
	fault_name = fault_names[f];

	settings_defaults(&s, PERF_HOST_PORT);
	s.timeout_s = 20;
	s.size = 64 << 10;
	s.io_size = 64 << 10;
	s.peer.port = 0;
	/* The options follow ROLE and FAULT: argv[2] becomes the parser's
	 * argv[0]. */
	argv[2] = argv[0];
	no_operands(argc - 2, argv + 2, parse_options(argc - 2, argv + 2,
		OPT_LISTEN | OPT_PEER | OPT_GUEST | OPT_TESTS | OPT_SIZE |
		OPT_COUNT | OPT_LATENCY_COUNT | OPT_PACKET_SIZE | OPT_IO_SIZE |
		OPT_TIMEOUT, usage, &s));
	if (!s.count_given)
		s.count = 1;
	if (s.count > UINT64_MAX / s.size)
		usage_error("--size x --count: more than 2^64 bytes");
	/* Never AF_VSOCK: the machine's vsock device is not ours to use. */
	if ((s.listen_given && s.listen.transport != TRANSPORT_TCP) ||
	    (s.guest_given && s.guest.transport != TRANSPORT_TCP) ||
	    (s.peer.port && s.peer.transport != TRANSPORT_TCP))
		usage_error("TCP addresses only");
	set_signals();
	alarm(s.timeout_s);
	roles[role].run();
	return EXIT_PASS;
}
