// SPDX-License-Identifier: MIT
/* faultpeer: a peer that plays either side of the vsock test protocol
 * (doc/PROTOCOL.md) over TCP and misbehaves at one chosen step, for
 * tests/faults.sh and tests/signals.sh.
 *
 *   faultpeer ROLE FAULT [OPTIONS]     (faultpeer --help lists both)
 *
 * Roles: perf-host (what vsock-perf does, for the guest data applets and
 * vsock-bench), itest-host (vsock-itest-host, for vsock-itest), perf-guest
 * (vsock-bench, for vsock-perf), itest-guest (vsock-itest, for
 * vsock-itest-host; its servers listen on --listen P..P+2), sentinel
 * (fault "none": prints "faultpeer: connection from port N" for every
 * connection, so a test can tell that an applet connected), and
 * conform-listen (vsock-conform's listening side, one case broken by the
 * fault). TCP only, but conform-listen, which may run in a guest.
 *
 * Host roles listen on --listen (default tcp:127.0.0.1:0) and print
 * "faultpeer: listening on ADDR" once ready. Every fault prints
 * "faultpeer: injected FAULT at MS ms: what" as it happens, MS on the
 * monotonic clock: tests/supervise gives the applet's end on the same
 * clock, so a suite can time the applet's step from the fault on.
 * faultpeer ends on its own once its part is over (after the fault it
 * waits for the applet under test to close its side), or on SIGTERM;
 * either way the status is 0 if the fault was injected (or FAULT is "none"
 * and the protocol ran to its end), 1 if the applet failed the protocol
 * before the fault (or did what the fault must stop it doing), 3 on its
 * own environment errors or once --timeout seconds, a bound on its whole
 * life, have passed. */
#include "vsockbox.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum role { PERF_HOST, ITEST_HOST, PERF_GUEST, ITEST_GUEST, SENTINEL,
	    CONFORM_LISTEN, ROLES };

static const char *const role_names[ROLES] = {
	"perf-host", "itest-host", "perf-guest", "itest-guest", "sentinel",
	"conform-listen",
};

enum fault {
	F_NONE, F_REFUSE, F_CLOSE, F_RESET, F_EARLY, F_STALL, F_WRONG_BYTE,
	F_WRONG_MAGIC, F_MAGIC_ORDER, F_BAD_PORT, F_TRUNCATE, F_FLOOD, F_SLOW,
	F_NEVER_READS, F_DRAIN, F_TRICKLE, F_STALL_4095, F_SILENT, F_STRANGER,
	F_SPLIT, F_SURPLUS, F_LONG_ECHO, F_CTL_DATA, F_CTL_RESET, F_NO_EOF,
	F_MERGED, F_CORRUPT_FLIP, F_CORRUPT_DUP, F_CORRUPT_SWAP, F_CORRUPT_SHIFT,
	F_CORRUPT_BLOCK, FAULTS
};

#define ROLE(r) (1u << (r))
#define HOSTS (ROLE(PERF_HOST) | ROLE(ITEST_HOST))
#define GUESTS (ROLE(PERF_GUEST) | ROLE(ITEST_GUEST))
#define CONFORM ROLE(CONFORM_LISTEN)

/* Every fault, the roles that can play it, and what it does. */
static const struct {
	const char *name;
	unsigned roles;
	const char *what;
} faults[FAULTS] = {
	[F_NONE] = {"none", HOSTS | GUESTS | ROLE(SENTINEL) | CONFORM,
		    "plays its part to the end"},
	[F_REFUSE] = {"refuse", HOSTS | GUESTS, "never connects; hosts and "
		      "itest servers are bound, not listening"},
	[F_CLOSE] = {"close", HOSTS | GUESTS, "closes its first connections"},
	[F_RESET] = {"reset", HOSTS | GUESTS | CONFORM, "resets its first "
		     "connections (conform-listen: pollhup's, after its data)"},
	[F_EARLY] = {"early", HOSTS | GUESTS, "quits between two steps"},
	[F_STALL] = {"stall", HOSTS | GUESTS,
		     "connects, then never answers (reads and discards)"},
	[F_WRONG_BYTE] = {"wrong-byte", ROLE(ITEST_HOST) | GUESTS | CONFORM,
			  "one byte of data differs (conform-listen: in "
			  "random-sizes)"},
	[F_WRONG_MAGIC] = {"wrong-magic", ROLE(PERF_GUEST),
			   "magic 200 where 129 is due"},
	[F_MAGIC_ORDER] = {"magic-order", ROLE(PERF_GUEST),
			   "magic 123 where 129 is due"},
	[F_BAD_PORT] = {"bad-port", GUESTS, "connects from an ephemeral port "
			"(itest-guest: then watches its servers)"},
	[F_TRUNCATE] = {"truncate", HOSTS | GUESTS | CONFORM,
			"closes in the middle of a transfer (conform-listen: "
			"random-sizes)"},
	[F_FLOOD] = {"flood", HOSTS | GUESTS, "writes more than the protocol "
		     "allows with or after its last transfer"},
	[F_SLOW] = {"slow", ROLE(PERF_HOST), "writes 4 KiB every 20 ms"},
	[F_NEVER_READS] = {"never-reads", HOSTS, "sends its data of the first "
			   "test (--at), never reads"},
	[F_DRAIN] = {"drain", ROLE(ITEST_HOST), "reads the host-terminated "
		     "connection for ever instead of its bytes"},
	[F_TRICKLE] = {"trickle", ROLE(PERF_GUEST), "an echo (--at) in "
		       "--pieces pieces, --gap ms apart"},
	[F_STALL_4095] = {"stall-4095", ROLE(PERF_GUEST), "4095 bytes of an "
			  "echo (--at), then nothing"},
	[F_SILENT] = {"silent", ROLE(PERF_GUEST) | CONFORM, "the first "
		      "throughput test's magic, then never a byte of data\n"
		      "      (conform-listen: names's case, then nothing)"},
	[F_STRANGER] = {"stranger", GUESTS, "perf-guest: a stranger at --from "
			"connects from the guest's ports before,\n      among "
			"and after the guest's; itest-guest: it is the "
			"stranger,\n      and watches its servers"},
	[F_SPLIT] = {"split", ROLE(PERF_GUEST), "the control connection from "
		     "here, the data connections from --from"},
	[F_SURPLUS] = {"surplus", ROLE(PERF_HOST) | ROLE(PERF_GUEST) | CONFORM,
		       "one byte more than the first test's (conform-listen: "
		       "pollhup's)"},
	[F_LONG_ECHO] = {"long-echo", ROLE(PERF_GUEST),
			 "an echo (--at) one byte longer than its packet"},
	[F_CTL_DATA] = {"ctl-data", ROLE(PERF_GUEST), "a byte on the control "
			"connection after the last magic"},
	[F_CTL_RESET] = {"ctl-reset", ROLE(PERF_GUEST), "resets the control "
			 "connection after the last magic"},
	[F_NO_EOF] = {"no-eof", CONFORM, "shut-wr-listening: its byte, then "
		      "no SHUT_WR"},
	[F_MERGED] = {"merged", CONFORM, "seqpacket-boundaries: two messages "
		      "echoed as one (over vsock only: TCP has no\n"
		      "      SOCK_SEQPACKET)"},
	/* The data corruptions: the --verify pattern on every stream it
	 * writes, and on one stream of the first test (at random), at a
	 * random offset of a random iteration, one of these. */
	[F_CORRUPT_FLIP] = {"corrupt-flip", ROLE(PERF_HOST) | ROLE(PERF_GUEST),
			    "sends --verify's pattern with one bit flipped"},
	[F_CORRUPT_DUP] = {"corrupt-dup", ROLE(PERF_HOST) | ROLE(PERF_GUEST),
			   "sends --verify's pattern with a 4 KiB run twice "
			   "(in the next run's place)"},
	[F_CORRUPT_SWAP] = {"corrupt-swap", ROLE(PERF_HOST) | ROLE(PERF_GUEST),
			    "sends --verify's pattern with two 4 KiB runs "
			    "swapped"},
	[F_CORRUPT_SHIFT] = {"corrupt-shift", ROLE(PERF_HOST) | ROLE(PERF_GUEST),
			     "sends --verify's pattern with one byte dropped "
			     "and, 4 KiB on, one inserted"},
	[F_CORRUPT_BLOCK] = {"corrupt-block", ROLE(PERF_HOST) | ROLE(PERF_GUEST),
			     "sends --verify's pattern with one 4 KiB block in "
			     "the place of\n      another whose body is the "
			     "same: only its stamp differs"},
};

/* ---- options ---- */

/* Where a fault strikes (--at), for the faults that can strike at more
 * than one step; 0: the first. */
enum { AT_WARMUP = 1, AT_TIMED = 2, AT_GUEST_INITIATED = 4,
       AT_HOST_INITIATED = 8 };

struct options {
	struct address listen, peer, guest, from;
	uint64_t size, count, latency_count, io_size, timeout_s, pieces, gap_ms;
	uint64_t seed;
	unsigned tests, at;
	bool verify;
};

static const struct opt_name test_names[] = {TEST_NAMES, {NULL, 0}};

static const struct opt_name step_names[] = {
	{"warm-up", AT_WARMUP}, {"timed", AT_TIMED},
	{"guest-initiated", AT_GUEST_INITIATED},
	{"host-initiated", AT_HOST_INITIATED}, {NULL, 0},
};

#define O(field) offsetof(struct options, field)
static const struct opt option_table[] = {
	{.name = "listen", .arg = "ADDR", .kind = OPT_ADDR, .offset = O(listen),
	 .def_addr = "tcp:127.0.0.1", .help = "host roles: where to listen;"
	 " itest-guest: its servers, at P..P+2"},
	{.name = "peer", .arg = "ADDR", .kind = OPT_ADDR, .offset = O(peer),
	 .help = "guest roles: the host under test", .def_text = "none"},
	{.name = "guest", .arg = "ADDR", .kind = OPT_ADDR, .offset = O(guest),
	 .def = ITEST_GUEST_PORT,
	 .help = "itest-host: the guest's servers, at P..P+2",
	 .def_text = "none"},
	{.name = "from", .arg = "ADDR", .kind = OPT_ADDR, .offset = O(from),
	 .def = PORT_UNSET,
	 .help = "stranger, split: the address the fault's connections come"
		 " from (its port is ignored)",
	 .def_text = "none"},
	{.name = "tests", .arg = "LIST", .kind = OPT_NAMES, .offset = O(tests),
	 .def = TEST_ALL,
	 .help = "perf roles: comma list of " TEST_NAMES_TEXT,
	 .def_text = "all", .names = test_names},
	{.name = "size", .arg = "BYTES", .kind = OPT_BYTES, .offset = O(size),
	 .min = 1, .max = MAX_SIZE, .def = 64 << 10,
	 .help = "bytes per iteration"},
	{.name = "count", .arg = "N", .kind = OPT_NUM, .offset = O(count),
	 .min = 1, .max = MAX_COUNT, .def = 1,
	 .help = "iterations of every throughput test"},
	{.name = "latency-count", .arg = "N", .kind = OPT_NUM,
	 .offset = O(latency_count), .min = 1, .max = MAX_COUNT,
	 .def = PERF_LATENCY_PACKETS, .help = "timed round trips"},
	{.name = "io-size", .arg = "BYTES", .kind = OPT_BYTES,
	 .offset = O(io_size), .min = 1, .max = MAX_IO_SIZE, .def = 64 << 10,
	 .help = "bytes per read or write call"},
	{.name = "at", .arg = "STEP", .kind = OPT_NAMES, .offset = O(at),
	 .help = "where the fault strikes: warm-up or timed (an echo fault: the"
		 " first such echo), guest-initiated or host-initiated"
		 " (never-reads to vsock-itest)",
	 .def_text = "the first step it can", .names = step_names},
	{.name = "pieces", .arg = "N", .kind = OPT_NUM, .offset = O(pieces),
	 .min = 1, .max = PERF_ECHO_PACKET, .def = 2,
	 .help = "trickle: pieces of the echo"},
	{.name = "gap", .arg = "MS", .kind = OPT_NUM, .offset = O(gap_ms),
	 .max = 60000, .def = 160, .help = "trickle: time between two pieces"},
	{.name = "timeout", .arg = "S", .kind = OPT_NUM,
	 .offset = O(timeout_s), .min = 1, .max = MAX_TIMEOUT_S, .def = 20,
	 .help = "faultpeer's whole life"},
	{.name = "verify", .kind = OPT_FLAG, .offset = O(verify),
	 .help = "perf roles: send --verify's pattern on the data streams and "
		 "check the applet's"},
	{.name = "seed", .arg = "N", .kind = OPT_NUM, .offset = O(seed),
	 .min = 1, .max = UINT64_MAX, .def = 0, .def_text = "from the clock",
	 .help = "corrupt-*: where the corruption strikes"},
	OPTION_END
};
#undef O

static void describe(void)
{
	out("ROLE and FAULT come first: faultpeer ROLE FAULT [OPTIONS].\nROLE:");
	for (int r = 0; r < ROLES; r++)
		out(" %s", role_names[r]);
	out("\nFAULT (roles):\n");
	for (int f = 0; f < FAULTS; f++) {
		out("  %-12s", faults[f].name);
		for (int r = 0; r < ROLES; r++)
			if (faults[f].roles & ROLE(r))
				out(" %s", role_names[r]);
		out(":\n      %s\n", faults[f].what);
	}
}

static const struct applet_spec spec = {NULL, describe, option_table,
					sizeof(struct options)};

/* ---- the run: one role, one fault, fixed before anything happens ---- */

static struct options o;
static enum fault fault;
static struct deadline life;	/* --timeout */
static volatile sig_atomic_t injected;

/* Every connection faultpeer holds, so that a fault can close them all. */
enum { MAX_CONNS = 16 };
static struct conn *held[MAX_CONNS];
static size_t n_held;

enum { FLOOD_BYTES = 1 << 20, TRUNCATED_PACKET = 1000, SURPLUS_BYTE = 0xa5,
       STUCK_MS = 50, CORRUPT_RUN = 4096 };

static void note(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void note(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	format_v(line, sizeof(line), fmt, ap);
	va_end(ap);
	print_to(STDERR_FILENO, "faultpeer: %s\n", line);
}

/* Announces the fault with the time it strikes; the flag goes up before
 * the misbehaviour, so that a SIGTERM that follows the applet's reaction
 * always finds it set. */
static void inject(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void inject(const char *fmt, ...)
{
	char what[400];
	unsigned long long at_ms = now_ns() / 1000000u;
	va_list ap;

	if (injected)
		return;
	va_start(ap, fmt);
	format_v(what, sizeof(what), fmt, ap);
	va_end(ap);
	injected = 1;
	note("injected %s at %llu ms: %s", faults[fault].name, at_ms, what);
}

_Noreturn static void finish(void)
{
	if (fault == F_NONE || injected) {
		note("done");
		exit(EXIT_PASS);
	}
	note("ended without injecting %s", faults[fault].name);
	exit(EXIT_FAIL);
}

_Noreturn static void gave_up(void)
{
	note("gave up (--timeout %llu)", (unsigned long long)o.timeout_s);
	exit(EXIT_ENV);
}

/* What faultpeer adds to common's signal handling: a stop (the suite's
 * SIGTERM once the applet has ended) is a pass once the fault is in, and
 * a failure before it. */
static void on_stop(int sig)
{
	static const char stopped[] = "faultpeer: stopped\n";
	static const char early[] = "faultpeer: stopped before the fault\n";
	bool ok = injected || fault == F_NONE;
	ssize_t ignored = ok ? write(STDERR_FILENO, stopped, sizeof(stopped) - 1)
			     : write(STDERR_FILENO, early, sizeof(early) - 1);

	(void)ignored;
	(void)sig;
	_exit(ok ? EXIT_PASS : EXIT_FAIL);
}

/* ---- connections ---- */

static void hold(struct conn *c)
{
	if (n_held == MAX_CONNS)
		die(EXIT_ENV, "too many connections");
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

/* Waits for the applet to close every connection we hold (a reset counts
 * as closed): discarding what it sends, or, as a peer that never reads,
 * only watching for the end. */
static void wait_for_applet(bool discard)
{
	static char sink[65536];

	for (;;) {
		struct pollfd p[MAX_CONNS];
		struct conn *of[MAX_CONNS];
		nfds_t n = 0;
		for (size_t i = 0; i < n_held; i++)
			if (held[i]->fd >= 0) {
				p[n] = (struct pollfd){held[i]->fd,
						       discard ? POLLIN : POLLRDHUP, 0};
				of[n++] = held[i];
			}
		if (n == 0)
			return;
		int left = deadline_left_ms(life);
		if (left == 0)
			gave_up();
		if (poll(p, n, left) < 0 && errno != EINTR)
			die(EXIT_ENV, "poll: %m");
		for (nfds_t k = 0; k < n; k++) {
			if (!p[k].revents)
				continue;
			ssize_t got = discard ? recv(p[k].fd, sink, sizeof(sink),
						     MSG_DONTWAIT) : 0;
			if (got > 0 || (got < 0 && (errno == EAGAIN ||
						     errno == EINTR)))
				continue;
			conn_close(of[k]);
		}
	}
}

/* Nothing more to do until the suite stops us. */
_Noreturn static void idle(void)
{
	for (;;) {
		int left = deadline_left_ms(life);
		if (left == 0)
			gave_up();
		(void)poll(NULL, 0, left);
	}
}

/* A failure of the applet's side: expected after the fault, a protocol
 * failure of the applet before it. */
static void check_io(int err, const struct conn *c, const char *op)
{
	if (!err)
		return;
	if (err == ETIMEDOUT && deadline_left_ns(life) == 0)
		gave_up();
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
	check_io(read_full(c, buf, len, life), c, what);
}

static void xwrite(struct conn *c, const void *buf, size_t len,
		   const char *what)
{
	check_io(write_full(c, buf, len, life), c, what);
}

/* ---- --verify's pattern on the benchmark's data streams, and the
 * corruptions of it ---- */

static struct conn perf_conn[PERF_SLOTS];
static enum role my_role;
/* What this peer sends and what it checks, by slot (NULL: plain). */
static struct pattern *stream_out[PERF_SLOTS], *stream_in[PERF_SLOTS];
/* The corruption: its stream, iteration and offset there. */
static struct {
	int slot;
	uint64_t iteration;
	size_t at;
} target = {-1, 0, 0};
static uint64_t rng_state;

static bool corrupting(void)
{
	return fault >= F_CORRUPT_FLIP && fault <= F_CORRUPT_BLOCK;
}

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int data_slot(const struct conn *c)
{
	for (int slot = SLOT_ECHO + 1; slot < PERF_SLOTS; slot++)
		if (c == &perf_conn[slot])
			return slot;
	return -1;
}

/* The patterns of every data stream of tests, and the corruption's place
 * on one stream of test first (a test bit). */
static void start_patterns(unsigned tests, unsigned first)
{
	enum pattern_dir out_dir = my_role == PERF_HOST ? PATTERN_TO_GUEST
							: PATTERN_TO_HOST;
	int candidates[PERF_SLOTS], n = 0;

	if (!o.verify && !corrupting())
		return;
	for (int i = 0; i < PERF_TESTS_N; i++) {
		const struct perf_test *t = &perf_tests[i];
		if (!(tests & t->bit) || t->echo)
			continue;
		for (int slot = 0; slot < PERF_SLOTS; slot++) {
			if (!(t->slots >> slot & 1))
				continue;
			uint32_t port = perf_slot_port(slot);
			stream_out[slot] = xmalloc(sizeof(struct pattern));
			pattern_start(stream_out[slot], t->label, port, out_dir,
				      o.size);
			if (o.verify) {
				stream_in[slot] = xmalloc(sizeof(struct pattern));
				pattern_start(stream_in[slot], t->label, port,
					      (enum pattern_dir)!out_dir, o.size);
			}
			if (t->bit == first)
				candidates[n++] = slot;
		}
	}
	if (!corrupting() || !n)
		return;
	rng_state = o.seed ? o.seed : now_ns() ^ ((uint64_t)getpid() << 32);
	note("corruption seed %llu", (unsigned long long)rng_state);
	target.slot = candidates[rng() % (uint64_t)n];
	target.iteration = rng() % o.count;
	/* Room for two 4 KiB runs after the offset. */
	target.at = (size_t)(rng() % (o.size - CORRUPT_RUN * 2));
}

/* One iteration of target's stream, from byte `from` of v on, corrupted:
 * clean is the pattern, bad the bytes that go out; both o.size long. */
static const char *corrupt(const struct pattern *v, uint64_t from,
			   const unsigned char *clean, unsigned char *bad)
{
	size_t k = target.at;

	memcpy(bad, clean, o.size);
	switch (fault) {
	case F_CORRUPT_BLOCK:
		/* Up to a block of the stream: the block PATTERN_BODIES on
		 * has the same body, so only the stamp tells them apart. */
		k += (size_t)((CORRUPT_RUN - (from + k) % CORRUPT_RUN) %
			      CORRUPT_RUN);
		pattern_fill(v, from + k + (uint64_t)PATTERN_BODIES * CORRUPT_RUN,
			     bad + k, CORRUPT_RUN);
		return "a 4 KiB block in the place of one with the same body";
	case F_CORRUPT_FLIP:
		bad[k] ^= (unsigned char)(1u << (rng() % 8));
		return "one bit flipped";
	case F_CORRUPT_DUP:
		memcpy(bad + k + CORRUPT_RUN, clean + k, CORRUPT_RUN);
		return "a 4 KiB run sent twice";
	case F_CORRUPT_SWAP:
		memcpy(bad + k, clean + k + CORRUPT_RUN, CORRUPT_RUN);
		memcpy(bad + k + CORRUPT_RUN, clean + k, CORRUPT_RUN);
		return "two 4 KiB runs swapped";
	default:
		memmove(bad + k, clean + k + 1, CORRUPT_RUN);
		bad[k + CORRUPT_RUN] = (unsigned char)~clean[k + CORRUPT_RUN];
		return "one byte dropped and, 4 KiB on, one inserted";
	}
}

/* Sends the target iteration, corrupted, and says where the receiver
 * must see it first: as the applets' --verify line says it. */
static void send_corrupted(struct conn *c, struct pattern *v)
{
	unsigned char *clean = xmalloc(o.size), *bad = xmalloc(o.size);
	size_t first = 0;
	uint64_t from = v->pos;

	memcpy(clean, pattern_next(v, o.size), o.size);
	const char *what = corrupt(v, from, clean, bad);
	while (first < o.size && clean[first] == bad[first])
		first++;
	/* A pattern whose blocks repeat: the corruption is no corruption,
	 * and the applet's pass fails the cell. */
	if (first == o.size)
		inject("%s; no byte differs from the pattern", what);
	else
		inject("%s; first difference: port %u, %s: data differs at "
		       "iteration %llu, offset %zu: expected 0x%02x, received "
		       "0x%02x", what, (unsigned)v->port,
		       pattern_dir_text(v->dir),
		       (unsigned long long)target.iteration, first,
		       clean[first], bad[first]);
	check_io(write_full(c, bad, o.size, life), c, "write");
	xfree(clean);
	xfree(bad);
}

static void xsend(struct conn *c, uint64_t total, const void *buf, size_t len)
{
	int slot = data_slot(c);
	struct pattern *v = slot < 0 ? NULL : stream_out[slot];

	/* Iteration by iteration, so that the target goes out whole. */
	while (v && total) {
		uint64_t in_iteration = o.size - v->pos % o.size;
		uint64_t n = total < in_iteration ? total : in_iteration;
		if (slot == target.slot && v->pos % o.size == 0 &&
		    v->pos / o.size == target.iteration && n == o.size)
			send_corrupted(c, v);
		else
			check_io(send_stream(c, n, (void *)buf, len, v, life), c,
				 "write");
		total -= n;
	}
	if (!v)
		check_io(send_bytes(c, total, buf, len, life), c, "write");
}

static void xrecv(struct conn *c, uint64_t total, void *buf, size_t len)
{
	int slot = data_slot(c);
	struct pattern *v = slot < 0 ? NULL : stream_in[slot];
	int err = recv_stream(c, total, buf, len, v, life);

	if (err == ERR_PATTERN) {
		char why[256];
		pattern_describe(v, why, sizeof(why));
		die(EXIT_FAIL, "the applet's data: %s", why);
	}
	check_io(err, c, "read");
}

/* One byte beyond what the protocol lets this stream carry. */
static void surplus_byte(struct conn *c, const char *when)
{
	static const unsigned char byte = SURPLUS_BYTE;
	inject("one byte more on %s, %s", c->name, when);
	xwrite(c, &byte, 1, "write");
}

/* Writes what the applet's buffers take, up to 1 MiB, without blocking:
 * data beyond the end of the protocol. */
static void flood(struct conn *c, const char *when)
{
	static unsigned char junk[65536];
	size_t sent = 0;

	memset(junk, SURPLUS_BYTE, sizeof(junk));
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
		int err = write_full(c, block, sizeof(block), life);
		if (err == EPIPE || err == ECONNRESET)
			return;
		check_io(err, c, "write");
	}
}

/* A fault that stops reading: from here on only the applet's close. */
_Noreturn static void never_read(const char *what)
{
	inject("%s", what);
	wait_for_applet(false);
	finish();
}


/* A port taken but not listened on: every connect to it is refused, and
 * no connection can take it as its own port meanwhile. Port 0: one is
 * picked by listening on it for a moment. */
static int refusing_socket(struct address *a)
{
	char text[ADDRESS_TEXT_MAX];
	struct sockaddr_storage ss;

	if (a->port == 0)
		close(xlisten(a, 1, NULL));
	socklen_t len = to_sockaddr(a, &ss);
	int fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	format_address(a, text, sizeof(text));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0)
		die(EXIT_ENV, "bind %s: %m", text);
	return fd;
}

_Noreturn static void refuse_forever(struct address *a)
{
	(void)refusing_socket(a);
	announce_listening(a);
	inject("bound port %u, not listening: connections are refused",
	       (unsigned)a->port);
	idle();
}

static void accept_one(struct conn *c, int lfd, const struct address *local,
		       struct address *peer, const char *what)
{
	int err = conn_accept(c, lfd, local, life, peer);
	if (err)
		die(EXIT_ENV, "accept %s (%s): %s", c->name, what,
		    io_error_text(err));
	hold(c);
}

/* A connection from a given source address, which conn_open does not
 * bind (it binds the wildcard address): a stranger's, or a split guest's
 * data connection. 0 or an errno. Without `wait`, only the SYN goes out:
 * the connection completes, or fails, on its own (held, it ends with the
 * applet's close). */
static int open_from(struct conn *c, const struct address *peer,
		     const struct address *from, uint32_t local_port, bool wait)
{
	char peer_text[ADDRESS_TEXT_MAX], from_text[ADDRESS_TEXT_MAX];
	struct address local = with_port(from, local_port);
	struct sockaddr_storage src, dst;
	socklen_t src_len = to_sockaddr(&local, &src);
	socklen_t dst_len = to_sockaddr(peer, &dst);
	int one = 1, fd = socket(peer->family, SOCK_STREAM | SOCK_CLOEXEC |
				 (wait ? 0 : SOCK_NONBLOCK), 0);
	int err = fd < 0 ? errno : 0;

	format_address(peer, peer_text, sizeof(peer_text));
	format_address(&local, from_text, sizeof(from_text));
	conn_adopt(c, fd, "");
	format(c->name, sizeof(c->name), "%s from %s", peer_text, from_text);
	/* A connect that waits runs by SO_SNDTIMEO. */
	if (!err && wait)
		err = conn_bound_send(c, life);
	if (!err && (setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one,
				sizeof(one)) < 0 ||
		     bind(c->fd, (struct sockaddr *)&src, src_len) < 0 ||
		     connect(c->fd, (struct sockaddr *)&dst, dst_len) < 0))
		err = errno;
	if (err == EINPROGRESS)
		err = wait ? ETIMEDOUT : 0;
	if (err)
		conn_close(c);
	return err;
}

/* Connects to peer from local_port (0: any), and from the address `from`
 * if not NULL; the connection is held from then on. */
static void connect_to(struct conn *c, const struct address *peer,
		       const struct address *from, uint32_t local_port)
{
	int err = from ? open_from(c, peer, from, local_port, true)
		       : conn_open(c, peer, local_port, NULL, life);
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

static unsigned first_test;	/* the fault's test: the first that runs */

static bool expected(int slot)
{
	return perf_slot_tests(slot) & o.tests;
}

static void perf_expect(void)
{
	first_test = o.tests & -o.tests;
	for (int slot = 0; slot < PERF_SLOTS; slot++)
		perf_conn[slot].fd = -1;
	/* A corruption strikes in the first throughput test. */
	unsigned first_data = o.tests & ~(unsigned)TEST_LATENCY;
	start_patterns(o.tests, first_data & -first_data);
}

static bool fault_here(enum fault f, unsigned test)
{
	return fault == f && first_test == test;
}

static void *xbuffer(void)
{
	return xmalloc(o.io_size);
}

static unsigned char host_read_magic(void)
{
	unsigned char magic;
	xread(&perf_conn[SLOT_CTL], &magic, 1, "read magic from");
	return magic;
}

static void host_expect_magic(const char *test, unsigned want)
{
	unsigned got = host_read_magic();
	if (got != want)
		die(EXIT_FAIL, "%s: magic %u, expected %u (before the fault)",
		    test, got, want);
}

/* Writes packets, never reading an echo, until the guest is stuck: its
 * echoes fill our receive buffer and its send buffer, it stops reading,
 * and our writes stop going anywhere. */
_Noreturn static void never_read_echoes(struct conn *c)
{
	unsigned char packet[PERF_ECHO_PACKET];

	memset(packet, PERF_LATENCY_BYTE, sizeof(packet));
	for (;;) {
		int err = write_full(c, packet, sizeof(packet),
				     deadline_after_ms(STUCK_MS));
		if (err == ETIMEDOUT)
			break;
		check_io(err, c, "write");
	}
	never_read("wrote packets, never reading an echo, until the guest "
		   "stopped reading");
}

static void host_round_trip(struct conn *c, const unsigned char *out,
			    unsigned char *in, const char *what, unsigned i)
{
	xwrite(c, out, PERF_ECHO_PACKET, "write");
	xread(c, in, PERF_ECHO_PACKET, "read");
	if (memcmp(in, out, PERF_ECHO_PACKET) != 0)
		die(EXIT_FAIL, "read %s: %s echo %u differs (before the fault)",
		    c->name, what, i);
}

static void host_latency(void)
{
	struct conn *c = &perf_conn[SLOT_ECHO];
	unsigned char out[PERF_ECHO_PACKET], in[PERF_ECHO_PACKET];

	if (fault_here(F_NEVER_READS, TEST_LATENCY))
		never_read_echoes(c);
	for (unsigned i = 0; i < PERF_WARMUP_PACKETS; i++) {
		warmup_packet(i, out, sizeof(out));
		if (i == 0 && fault_here(F_TRUNCATE, TEST_LATENCY)) {
			inject("wrote %d of %d bytes of warm-up packet 0, then "
			       "closed", TRUNCATED_PACKET, PERF_ECHO_PACKET);
			xwrite(c, out, TRUNCATED_PACKET, "write");
			close_all();
			finish();
		}
		if (i == 10 && fault_here(F_EARLY, TEST_LATENCY)) {
			inject("closed every connection after 10 warm-up packets");
			close_all();
			finish();
		}
		host_round_trip(c, out, in, "warm-up", i);
	}
	memset(out, PERF_LATENCY_BYTE, sizeof(out));
	for (uint64_t i = 0; i < o.latency_count; i++)
		host_round_trip(c, out, in, "timed", (unsigned)i);
	/* A packet's first byte, then the end: the guest's read comes up
	 * short. */
	if (fault_here(F_SURPLUS, TEST_LATENCY))
		surplus_byte(c, "after the last packet");
	conn_close(c);		/* ends the guest's echo loop */
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
		       "closed everything", (unsigned long long)(o.size / 2),
		       (unsigned long long)o.size, c->name);
		xsend(c, o.size / 2, buf, o.io_size);
		close_all();
		finish();
	}
}

/* #11: a guest applet watches each stream for SURPLUS_GRACE_MS after its
 * last transfer, and fails on data there. A flood goes out before we read
 * the guest's last bytes, so that it is there when the guest looks: the
 * guest fails (exit 1), where before #11 it passed. */
static void host_bidir(void)
{
	struct conn *c = &perf_conn[SLOT_BIDIR];
	void *buf = xbuffer();

	host_expect_magic("bidirectional", MAGIC_BIDIR);
	if (fault_here(F_NEVER_READS, TEST_BIDIR)) {
		inject("read magic %u; writing the test's bytes, never reading",
		       MAGIC_BIDIR);
		xsend(c, o.size * o.count, buf, o.io_size);
		never_read("wrote every byte of the test");
	}
	host_stop_before_data(TEST_BIDIR, "bidirectional");
	host_truncate(c, TEST_BIDIR, buf);
	/* The guest reads and writes at once (two threads): our writes
	 * drain while its writes wait for our reads. */
	xsend(c, o.size * o.count, buf, o.io_size);
	if (fault_here(F_SURPLUS, TEST_BIDIR))
		surplus_byte(c, "after the test's bytes");
	if (fault == F_FLOOD)
		flood(c, "after the bidirectional test's last byte");
	xrecv(c, o.size * o.count, buf, o.io_size);
	xfree(buf);
}

/* One unidirectional iteration, slowly: 4 KiB every 20 ms. */
static void slow_send(struct conn *c, const unsigned char *buf)
{
	struct timespec pause_ts = {0, 20 * 1000 * 1000};
	for (uint64_t left = o.size; left;) {
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
	for (uint64_t i = 0; i < o.count; i++) {
		bool last = i + 1 == o.count;
		if (i == 0)
			host_truncate(c, TEST_UNIDIR, buf);
		if (fault == F_SLOW)
			slow_send(c, buf);
		else
			xsend(c, o.size, buf, o.io_size);
		if (fault_here(F_NEVER_READS, TEST_UNIDIR))
			never_read("wrote an iteration's bytes");
		if (last && fault_here(F_SURPLUS, TEST_UNIDIR))
			surplus_byte(c, "with the last iteration");
		if (last && fault == F_FLOOD)
			flood(c, "with the unidirectional test's last iteration");
		xrecv(c, o.size, buf, o.io_size);
	}
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
	for (uint64_t i = 0; i < o.count; i++) {
		bool last = i + 1 == o.count;
		for (int k = 0; k < PERF_MULTI_STREAMS; k++) {
			struct conn *c = &perf_conn[SLOT_MULTI + k];
			if (i == 0 && k == 0)
				host_truncate(c, TEST_MULTI, buf);
			xsend(c, o.size, buf, o.io_size);
			if (last && k == 0 && fault_here(F_SURPLUS, TEST_MULTI))
				surplus_byte(c, "with the last iteration");
			if (last && fault == F_FLOOD)
				flood(c, "with the multi stream test's last "
				      "iteration");
		}
		if (fault_here(F_NEVER_READS, TEST_MULTI))
			never_read("wrote an iteration's bytes to every stream");
		for (int k = 0; k < PERF_MULTI_STREAMS; k++)
			xrecv(&perf_conn[SLOT_MULTI + k], o.size, buf, o.io_size);
	}
	xfree(buf);
}

/* Both sides of each test of vsock-perf's table, as this peer plays
 * them; a test with no part here (none on the wire) is skipped. */
static void play_echo(void *unused), play_bidir(void *buf),
	play_unidir(void *buf), play_multi(void *buf);
static const struct {
	void (*host)(void);
	void (*guest)(void *buf);
} perf_plays[PERF_TESTS_N] = {
	[PERF_TEST_LATENCY] = {host_latency, play_echo},
	[PERF_TEST_BIDIR] = {host_bidir, play_bidir},
	[PERF_TEST_UNIDIR] = {host_unidir, play_unidir},
	[PERF_TEST_MULTI] = {host_multi, play_multi},
};

static void perf_host(void)
{
	struct address a = o.listen;
	int missing = 0;

	perf_expect();
	if (fault == F_REFUSE)
		refuse_forever(&a);
	int lfd = xlisten(&a, PERF_SLOTS, NULL);
	announce_listening(&a);
	for (int slot = 0; slot < PERF_SLOTS; slot++)
		missing += expected(slot);
	while (missing > 0) {
		struct conn c;
		struct address peer;
		int err = conn_accept(&c, lfd, &a, life, &peer);
		if (err)
			die(EXIT_ENV, "accept %s: %s (%d connections missing)",
			    c.name, io_error_text(err), missing);
		int slot = perf_port_slot(peer.port);
		if (slot < 0 || !expected(slot) || perf_conn[slot].fd != -1)
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
		wait_for_applet(true);
		finish();
	}
	for (int i = 0; i < PERF_TESTS_N; i++)
		if (o.tests & perf_tests[i].bit && perf_plays[i].host)
			perf_plays[i].host();
	wait_for_applet(true);
	finish();
}

/* The guest side of the benchmark, against vsock-perf. */

static struct conn stranger_conn[3];
static int strangers;

/* A stranger's connection from one of the guest's ports. The last one,
 * after the guest's set is complete, is neither waited for nor noted: the
 * host may be done listening, or its backlog full of the guest's
 * connections (a connect would wait a second for the SYN's retry), and
 * nothing may hold up the guest's first echo (with a blocking connect, or
 * a line on stderr here, the echo missed its 100 ms now and then on a
 * loaded machine). */
static void stranger_connects(uint32_t port, bool last)
{
	struct conn *c = &stranger_conn[strangers++];
	char from[ADDRESS_TEXT_MAX];

	format_address(&o.from, from, sizeof(from));
	inject("a stranger at %s connects from the guest's ports before, "
	       "among and after the guest's connections", from);
	int err = open_from(c, &o.peer, &o.from, port, !last);
	if (err && !last)
		die(EXIT_ENV, "connect %s: %s", c->name, strerror(err));
	if (!err)
		hold(c);
}

static void guest_connect_all(void)
{
	int needed = 0, made = 0;
	uint32_t last_port = 0;
	bool bad_port_done = false;

	for (int slot = 0; slot < PERF_SLOTS; slot++)
		needed += expected(slot);
	for (int slot = 0; slot < PERF_SLOTS; slot++) {
		if (!expected(slot))
			continue;
		uint32_t port = last_port = perf_slot_port(slot);
		const struct address *from = NULL;
		if (fault == F_STRANGER && (made == 0 || made == needed / 2))
			stranger_connects(port, false);
		if (fault == F_BAD_PORT && !bad_port_done) {
			inject("connected from an ephemeral port instead of %u",
			       (unsigned)port);
			port = 0;
			bad_port_done = true;
		}
		if (fault == F_SPLIT && slot != SLOT_CTL) {
			inject("the control connection from here, the data "
			       "connections from --from");
			from = &o.from;
		}
		connect_to(&perf_conn[slot], &o.peer, from, port);
		made++;
	}
	if (fault == F_STRANGER)
		stranger_connects(last_port, true);
}

/* ctl-data and ctl-reset strike after the last magic of the run. */
static unsigned last_magic_test(void)
{
	unsigned t = o.tests & perf_slot_tests(SLOT_CTL);
	while (t & (t - 1))
		t &= t - 1;
	return t;
}

static void play_magics(const unsigned char *magic, size_t n, unsigned test)
{
	struct conn *ctl = &perf_conn[SLOT_CTL];

	xwrite(ctl, magic, n, "write magic to");
	if (test != last_magic_test())
		return;
	if (fault == F_CTL_DATA)
		surplus_byte(ctl, "after the last magic");
	if (fault == F_CTL_RESET) {
		inject("reset %s after the last magic", ctl->name);
		reset_close(ctl);
	}
}

/* The guest announced its test, and never writes a byte of it. */
static void silent(unsigned test, unsigned magic)
{
	if (fault_here(F_SILENT, test)) {
		inject("sent magic %u, then never a byte of data", magic);
		wait_for_applet(true);
		finish();
	}
}

/* An echo in o.pieces pieces, o.gap_ms apart. */
static void trickle_echo(struct conn *c, const unsigned char *packet,
			 uint64_t i)
{
	struct timespec gap = {(time_t)(o.gap_ms / 1000),
			       (long)(o.gap_ms % 1000) * 1000000};

	inject("echo %llu in %llu pieces, %llu ms apart",
	       (unsigned long long)i, (unsigned long long)o.pieces,
	       (unsigned long long)o.gap_ms);
	for (uint64_t k = 0; k < o.pieces; k++) {
		size_t from = (size_t)(k * PERF_ECHO_PACKET / o.pieces);
		size_t to = (size_t)((k + 1) * PERF_ECHO_PACKET / o.pieces);
		if (k)
			nanosleep(&gap, NULL);
		xwrite(c, packet + from, to - from, "write");
	}
}

static void play_echo(void *unused)
{
	(void)unused;
	struct conn *c = &perf_conn[SLOT_ECHO];
	unsigned char packet[PERF_ECHO_PACKET + 1];
	/* The echo an echo fault strikes at (--at), and the last one. */
	uint64_t at = o.at == AT_TIMED ? PERF_WARMUP_PACKETS : 0;
	uint64_t last = PERF_WARMUP_PACKETS + o.latency_count - 1;

	for (uint64_t i = 0;; i++) {
		size_t got, len = PERF_ECHO_PACKET;
		int err = read_counted(c, packet, len, &got, life);
		if (err == ERR_EOF && got == 0)
			break;
		check_io(err, c, "read");
		if (i == 0 && fault == F_TRUNCATE) {
			inject("echoed %d of %d bytes of the first packet, then "
			       "closed everything", TRUNCATED_PACKET,
			       PERF_ECHO_PACKET);
			xwrite(c, packet, TRUNCATED_PACKET, "write");
			close_all();
			finish();
		}
		if (i == 5 && fault == F_WRONG_BYTE) {
			inject("flipped byte 100 of the echo of warm-up packet 5");
			packet[100] ^= 0x20;
		}
		if (i == at && fault == F_TRICKLE) {
			trickle_echo(c, packet, i);
			continue;
		}
		if (i == at && fault == F_STALL_4095) {
			inject("echo %llu: %d of %d bytes, then nothing",
			       (unsigned long long)i, PERF_ECHO_PACKET - 1,
			       PERF_ECHO_PACKET);
			xwrite(c, packet, PERF_ECHO_PACKET - 1, "write");
			wait_for_applet(true);
			finish();
		}
		if ((i == at && fault == F_LONG_ECHO) ||
		    (i == last && fault_here(F_SURPLUS, TEST_LATENCY))) {
			inject("echo %llu is one byte longer than its packet",
			       (unsigned long long)i);
			packet[len++] = SURPLUS_BYTE;
		}
		err = write_full(c, packet, len, life);
		if (err == EPIPE || err == ECONNRESET)
			break;
		check_io(err, c, "write");
	}
	conn_close(c);
}

static void play_bidir(void *buf)
{
	static const unsigned char magic = MAGIC_BIDIR;
	struct conn *c = &perf_conn[SLOT_BIDIR];

	if (fault == F_EARLY) {
		inject("closed everything instead of sending magic %u", magic);
		close_all();
		finish();
	}
	if (fault == F_WRONG_MAGIC || fault == F_MAGIC_ORDER) {
		unsigned char m = fault == F_WRONG_MAGIC ? 200 : MAGIC_UNIDIR;
		inject("sent magic %u where the host expects %u", m, magic);
		xwrite(&perf_conn[SLOT_CTL], &m, 1, "write magic to");
		wait_for_applet(true);
		finish();
	}
	play_magics(&magic, 1, TEST_BIDIR);
	silent(TEST_BIDIR, magic);
	xsend(c, o.size * o.count, buf, o.io_size);
	if (fault_here(F_SURPLUS, TEST_BIDIR))
		surplus_byte(c, "after the test's bytes");
	xrecv(c, o.size * o.count, buf, o.io_size);
}

static void play_unidir(void *buf)
{
	static const unsigned char magic = MAGIC_UNIDIR;
	struct conn *c = &perf_conn[SLOT_UNIDIR];

	play_magics(&magic, 1, TEST_UNIDIR);
	silent(TEST_UNIDIR, magic);
	for (uint64_t i = 0; i < o.count; i++) {
		xrecv(c, o.size, buf, o.io_size);
		xsend(c, o.size, buf, o.io_size);
		if (i + 1 == o.count && fault_here(F_SURPLUS, TEST_UNIDIR))
			surplus_byte(c, "with the last iteration");
	}
}

static void play_multi(void *buf)
{
	unsigned char magic[PERF_MULTI_STREAMS];

	for (int k = 0; k < PERF_MULTI_STREAMS; k++)
		magic[k] = (unsigned char)(MAGIC_MULTI + k);
	play_magics(magic, sizeof(magic), TEST_MULTI);
	for (uint64_t i = 0; i < o.count; i++) {
		for (int k = 0; k < PERF_MULTI_STREAMS; k++)
			xrecv(&perf_conn[SLOT_MULTI + k], o.size, buf, o.io_size);
		for (int k = 0; k < PERF_MULTI_STREAMS; k++)
			xsend(&perf_conn[SLOT_MULTI + k], o.size, buf, o.io_size);
		if (i + 1 == o.count && fault_here(F_SURPLUS, TEST_MULTI))
			surplus_byte(&perf_conn[SLOT_MULTI],
				     "with the last iteration");
	}
}

static void guest_perf(void)
{
	if (!o.peer.port)
		die(EXIT_USAGE, "perf-guest needs --peer tcp:HOST:PORT");
	perf_expect();
	if (fault == F_REFUSE) {
		inject("never connected");
		idle();
	}
	guest_connect_all();
	if (fault == F_CLOSE || fault == F_RESET) {
		inject("%s every connection once all were open",
		       fault == F_CLOSE ? "closed" : "reset");
		if (fault == F_CLOSE)
			close_all();
		else
			reset_all();
		finish();
	}
	if (fault == F_STALL || fault == F_BAD_PORT || fault == F_SPLIT) {
		inject("opened every connection, never answering");
		wait_for_applet(true);
		finish();
	}
	void *buf = xbuffer();
	for (int i = 0; i < PERF_TESTS_N; i++)
		if (o.tests & perf_tests[i].bit && perf_plays[i].guest)
			perf_plays[i].guest(buf);
	if (fault == F_FLOOD) {
		inject("kept writing on the control connection after the last "
		       "test");
		write_until_closed(&perf_conn[SLOT_CTL], SURPLUS_BYTE);
	}
	xfree(buf);
	wait_for_applet(true);
	finish();
}

/* ---- the integration test ---- */

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
	int err = wait_for_close(c, life);
	if (err && err != ECONNRESET)
		check_io(err, c, "wait for close of");
	conn_close(c);
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
		wait_for_applet(true);
		finish();
	}
}

static void itest_host(void)
{
	static struct conn c0, c1, c2, c3;
	unsigned char *buf = xmalloc(ITEST_WRITE_BLOCK);
	struct address a = o.listen;
	struct address peer;

	if (!o.guest.family)
		die(EXIT_USAGE, "itest-host needs --guest tcp:HOST:P (servers on "
			    "P..P+2)");
	if (fault == F_REFUSE)
		refuse_forever(&a);
	int lfd = xlisten(&a, 1, NULL);
	announce_listening(&a);

	/* 2. guest-initiated */
	accept_one(&c0, lfd, &a, &peer, "guest-initiated");
	close(lfd);
	if (peer.port != ITEST_GUEST_LOCAL_PORT)
		die(EXIT_FAIL, "accept %s: source port %u, expected %u",
		    c0.name, (unsigned)peer.port, ITEST_GUEST_LOCAL_PORT);
	first_connection_fault(&c0, "accepted the guest-initiated connection, "
			       "never answering");
	if (fault == F_NEVER_READS && o.at != AT_HOST_INITIATED)
		never_read("accepted the guest-initiated connection, never "
			   "reading");
	host_read_exchange(&c0, buf);
	unsigned char reply = ITEST_BYTE;
	if (fault == F_WRONG_BYTE) {
		reply = ITEST_BYTE + 1;
		inject("answered the guest-initiated exchange with %u", reply);
	}
	xwrite(&c0, &reply, 1, "write");
	if (fault == F_WRONG_BYTE) {
		wait_for_applet(true);
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
	connect_to(&c1, &o.guest, NULL, 0);
	if (fault == F_NEVER_READS)
		never_read("connected to the guest's host-initiated server, "
			   "never reading");
	host_read_exchange(&c1, buf);
	xwrite(&c1, &reply, 1, "write");
	conn_close(&c1);

	/* 4. host-terminated */
	struct address a2 = with_port(&o.guest, o.guest.port + 1);
	connect_to(&c2, &a2, NULL, 0);
	if (fault == F_DRAIN) {
		inject("reading the host-terminated connection for ever "
		       "instead of %d bytes", ITEST_HOST_READ_BYTES);
		wait_for_applet(true);
		finish();
	}
	expect_all_42(&c2, buf, ITEST_HOST_READ_BYTES);
	conn_close(&c2);

	/* 5. guest-terminated */
	struct address a3 = with_port(&o.guest, o.guest.port + 2);
	connect_to(&c3, &a3, NULL, 0);
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

/* The host must refuse this guest and stop: a connection to one of its
 * servers is a failure. Watches them until the suite stops faultpeer. */
_Noreturn static void watch_servers(const int *servers,
				    const struct address *addr)
{
	for (;;) {
		struct pollfd p[ITEST_SERVERS];
		for (int i = 0; i < ITEST_SERVERS; i++)
			p[i] = (struct pollfd){servers[i], POLLIN, 0};
		int left = deadline_left_ms(life);
		if (left == 0)
			gave_up();
		if (poll(p, ITEST_SERVERS, left) < 0 && errno != EINTR)
			die(EXIT_ENV, "poll: %m");
		for (int i = 0; i < ITEST_SERVERS; i++)
			if (p[i].revents) {
				char text[ADDRESS_TEXT_MAX];
				format_address(&addr[i], text, sizeof(text));
				die(EXIT_FAIL, "the host connected back to %s "
				    "after the guest's connection it must "
				    "refuse", text);
			}
	}
}

static void itest_guest(void)
{
	static struct conn c0, c1, c2, c3;
	unsigned char *buf = xmalloc(ITEST_WRITE_BLOCK);
	int servers[ITEST_SERVERS];
	struct address addr[ITEST_SERVERS];
	bool watch = fault == F_STRANGER || fault == F_BAD_PORT;

	if (!o.listen.family || !o.listen.port || !o.peer.port)
		die(EXIT_USAGE, "itest-guest needs --peer tcp:HOST:PORT and "
			    "--listen tcp:HOST:P (servers on P..P+2)");
	/* With a fault, the guest is about to fail its first step: its
	 * servers refuse (bound, not listening) from the start, so that
	 * whatever the host tries next fails the same way every time; but
	 * where the host must stop, they listen, to catch it going on. */
	for (int i = 0; i < ITEST_SERVERS; i++) {
		addr[i] = with_port(&o.listen, o.listen.port + (uint32_t)i);
		if (fault == F_NONE || watch)
			servers[i] = xlisten(&addr[i], ITEST_SERVER_BACKLOG, NULL);
		else
			servers[i] = refusing_socket(&addr[i]);
	}
	if (fault == F_REFUSE) {
		inject("never connected; servers bound, not listening");
		idle();
	}

	/* 2. guest-initiated */
	if (fault == F_STRANGER) {
		char from[ADDRESS_TEXT_MAX];
		format_address(&o.from, from, sizeof(from));
		inject("connected from %s, port %u: not the guest", from,
		       ITEST_GUEST_LOCAL_PORT);
		connect_to(&c0, &o.peer, &o.from, ITEST_GUEST_LOCAL_PORT);
		watch_servers(servers, addr);
	}
	if (fault == F_BAD_PORT) {
		inject("connected from an ephemeral port instead of %u",
		       ITEST_GUEST_LOCAL_PORT);
		connect_to(&c0, &o.peer, NULL, 0);
		watch_servers(servers, addr);
	}
	connect_to(&c0, &o.peer, NULL, ITEST_GUEST_LOCAL_PORT);
	first_connection_fault(&c0, "connected, never writing");
	memset(buf, ITEST_BYTE, ITEST_WRITE_BLOCK);
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
		wait_for_applet(true);
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
	write_until_closed(&c2, ITEST_BYTE);
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
	struct address a = o.listen;
	int lfd = xlisten(&a, 16, NULL);

	announce_listening(&a);
	for (;;) {
		struct conn c;
		struct address peer;
		int err = conn_accept(&c, lfd, &a, life, &peer);
		if (err == ETIMEDOUT)
			gave_up();
		if (err)
			die(EXIT_ENV, "accept %s: %s", c.name, io_error_text(err));
		note("connection from port %u", (unsigned)peer.port);
		conn_close(&c);
	}
}


/* ---- vsock-conform's listening side ----
 * Each fault breaks the listening half of one case; the role plays
 * unbound-port right, and answers every other case that runs with a
 * SKIP, so that a whole run shows the faulted case "not ok" and goes on.
 * Over TCP, or over vsock in a guest (merged needs SOCK_SEQPACKET). */

static const struct {
	enum fault fault;
	const char *name;
} conform_faulted[] = {
	{F_NONE, NULL}, {F_WRONG_BYTE, "random-sizes"},
	{F_TRUNCATE, "random-sizes"}, {F_NO_EOF, "shut-wr-listening"},
	{F_RESET, "pollhup"}, {F_SURPLUS, "pollhup"}, {F_SILENT, "names"},
	{F_MERGED, "seqpacket-boundaries"},
};

/* The case this run's fault breaks. */
static const char *conform_case(void)
{
	for (size_t i = 0; i < sizeof(conform_faulted) / sizeof(conform_faulted[0]); i++)
		if (conform_faulted[i].fault == fault)
			return conform_faulted[i].name;
	return NULL;
}

enum { CONFORM_BYTES = 256 << 10, CONFORM_HUP_BYTES = 100,
       CONFORM_MESSAGE_MAX = 256 << 10 };

struct conform_play {
	struct conn ctl, data;
	int lfd;
	uint32_t seed;
	struct address listen;
	unsigned char *buf;
};

static void conform_send(struct conform_play *p, uint32_t tag, uint32_t value,
			 const char *text)
{
	check_io(message_send(&p->ctl, tag, value, text, life), &p->ctl,
		 "write control");
}

/* A data listener on a port the kernel picks, named to the applet
 * (READY), and the connection it accepts. */
static void conform_serve(struct conform_play *p, int type)
{
	struct address a = p->listen;
	struct sockaddr_storage ss;
	socklen_t len;

	a.port = a.transport == TRANSPORT_VSOCK ? UINT32_MAX : 0;
	len = to_sockaddr(&a, &ss);
	p->lfd = socket(a.family, type | SOCK_CLOEXEC, 0);
	if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(p->lfd, 1) < 0)
		die(EXIT_ENV, "data listener: %m");
	len = sizeof(ss);
	if (getsockname(p->lfd, (struct sockaddr *)&ss, &len) < 0)
		die(EXIT_ENV, "getsockname: %m");
	from_sockaddr(&ss, &a);
	conform_send(p, CONFORM_READY, a.port, NULL);
	accept_one(&p->data, p->lfd, &a, NULL, "data");
}

static void conform_unbound_port(struct conform_play *p)
{
	struct address a = p->listen;
	a.port = 0;
	close(xlisten(&a, 1, NULL));	/* a port, free again */
	conform_send(p, CONFORM_READY, a.port, NULL);
}

/* Never a word on the case's control connection: what the applet sends
 * is read and dropped until it gives up and closes it. */
static void conform_names(struct conform_play *p)
{
	char sink[256];

	inject("names: the case's control connection, then nothing");
	for (;;) {
		int err = conn_bound_recv(&p->ctl, life);
		if (err == ETIMEDOUT)
			gave_up();
		ssize_t n = err ? -1 : recv(p->ctl.fd, sink, sizeof(sink), 0);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
	}
	conn_close(&p->ctl);
}

static void conform_shut_wr_listening(struct conform_play *p)
{
	static const unsigned char byte = 7;	/* the applet's SHUT_DATA */
	conform_serve(p, SOCK_STREAM);
	xwrite(&p->data, &byte, 1, "write");
	inject("shut-wr-listening: the byte, no SHUT_WR");
}

static void conform_pollhup(struct conform_play *p)
{
	size_t len = CONFORM_HUP_BYTES + (fault == F_SURPLUS);
	conform_serve(p, SOCK_STREAM);
	seeded_fill(p->seed, 0, p->buf, len);
	xwrite(&p->data, p->buf, len, "write");
	if (fault == F_RESET) {
		/* Once the applet has read the bytes and waits for the EOF. */
		(void)poll(NULL, 0, STUCK_MS);
		inject("pollhup: a reset instead of SHUT_WR");
		reset_close(&p->data);
		return;
	}
	inject("pollhup: %zu bytes where %d are due, then SHUT_WR", len,
	       CONFORM_HUP_BYTES);
	if (shutdown(p->data.fd, SHUT_WR) < 0)
		die(EXIT_ENV, "shutdown: %m");
}

static void conform_random_sizes(struct conform_play *p)
{
	conform_serve(p, SOCK_STREAM);
	xread(&p->data, p->buf, CONFORM_BYTES, "read");
	seeded_fill(p->seed, 0, p->buf, CONFORM_BYTES);
	if (fault == F_TRUNCATE) {
		inject("random-sizes: half of the bytes, then a close");
		xwrite(&p->data, p->buf, CONFORM_BYTES / 2, "write");
		conn_close(&p->data);
		return;
	}
	p->buf[1000] ^= 0x40;
	inject("random-sizes: byte 1000 differs");
	xwrite(&p->data, p->buf, CONFORM_BYTES, "write");
}

/* The listening side's first two messages (1 and 2 bytes of the data
 * vsock-conform expects, sent to the connecting side) as one. */
static void conform_seqpacket_boundaries(struct conform_play *p)
{
	struct message last;
	uint64_t to_connecting = (uint64_t)1 << 32;	/* the applet's offsets */

	conform_serve(p, SOCK_SEQPACKET);
	conform_send(p, CONFORM_SYNC, CONFORM_MESSAGE_MAX, NULL);
	check_io(message_recv(&p->ctl, &last, life), &p->ctl, "read control");
	seeded_fill(p->seed, to_connecting, p->buf, 1);
	seeded_fill(p->seed, to_connecting | 1 << 20, p->buf + 1, 2);
	inject("seqpacket-boundaries: messages 1 and 2 sent as one");
	xwrite(&p->data, p->buf, 3, "write");
}

static const struct {
	const char *name;
	void (*play)(struct conform_play *p);
} conform_plays[] = {
	{"unbound-port", conform_unbound_port},
	{"names", conform_names},
	{"shut-wr-listening", conform_shut_wr_listening},
	{"pollhup", conform_pollhup},
	{"random-sizes", conform_random_sizes},
	{"seqpacket-boundaries", conform_seqpacket_boundaries},
};

/* One case: CASE (and its seed) read; played if it is unbound-port or
 * the fault's, else a SKIP; then the applet's verdict. */
static void conform_one(struct conform_play *p, const struct message *m)
{
	const char *broken = conform_case();
	struct message next;
	bool played = false;

	if (!(m->value & CONFORM_CASE_NOT_RUN)) {
		check_io(message_recv(&p->ctl, &next, life), &p->ctl, "read seed");
		p->seed = next.value;
		for (size_t i = 0; i < sizeof(conform_plays) / sizeof(conform_plays[0]); i++)
			if (strcmp(conform_plays[i].name, m->text) == 0 &&
			    (i == 0 || (broken && strcmp(broken, m->text) == 0))) {
				conform_plays[i].play(p);
				played = true;
			}
		if (p->ctl.fd < 0)
			return;		/* silent: the applet gave up */
		if (played) {
			conform_send(p, CONFORM_RESULT, CONFORM_OK, NULL);
		} else {
			char why[160];
			format(why, sizeof(why), "faultpeer plays only unbound-port%s%s",
			       broken ? " and " : "", broken ? broken : "");
			conform_send(p, CONFORM_RESULT, CONFORM_SKIPPED, why);
		}
	}
	/* The data connections stay until the verdict. */
	do
		check_io(message_recv(&p->ctl, &next, life), &p->ctl, "read");
	while (next.tag != CONFORM_FINAL);
	note("%s: verdict %u%s%s", m->text, (unsigned)next.value,
	     next.text[0] ? ": " : "", next.text);
}

static void conform_listen(void)
{
	struct conform_play p = {.listen = o.listen, .lfd = -1};
	struct address a = p.listen;
	int lfd = xlisten(&a, 8, NULL);

	p.buf = xmalloc(2 * CONFORM_MESSAGE_MAX);
	announce_listening(&a);
	for (;;) {
		struct message m;
		int err = conn_accept(&p.ctl, lfd, &a, life, NULL);
		if (err == ETIMEDOUT)
			gave_up();
		if (err)
			die(EXIT_ENV, "accept %s: %s", p.ctl.name, io_error_text(err));
		check_io(message_recv(&p.ctl, &m, life), &p.ctl, "read case");
		if (m.tag == CONFORM_END)
			break;
		p.data.fd = -1;
		conform_one(&p, &m);
		conn_close(&p.data);
		if (p.lfd >= 0)
			close(p.lfd);
		p.lfd = -1;
		conn_close(&p.ctl);
	}
	conn_close(&p.ctl);
	xfree(p.buf);
	finish();
}

/* ---- main ---- */

static enum role find_role(const char *name)
{
	for (int r = 0; r < ROLES; r++)
		if (strcmp(role_names[r], name) == 0)
			return (enum role)r;
	die(EXIT_USAGE, "unknown role '%s' (try --help)", name);
}

static enum fault find_fault(const char *name)
{
	for (int f = 0; f < FAULTS; f++)
		if (strcmp(faults[f].name, name) == 0)
			return (enum fault)f;
	die(EXIT_USAGE, "unknown fault '%s' (try --help)", name);
}

/* What the options must say for this role and fault. */
static void check_options(enum role role)
{
	const struct address *addrs[] = {&o.listen, &o.peer, &o.guest, &o.from};
	bool echo_fault = fault == F_TRICKLE || fault == F_STALL_4095 ||
			  fault == F_LONG_ECHO;

	/* Never AF_VSOCK: the machine's vsock device is not ours to use.
	 * conform-listen may run in a guest, over vsock (merged needs
	 * SOCK_SEQPACKET); the suites' supervisor refuses AF_VSOCK here. */
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		if (addrs[i]->family && addrs[i]->transport != TRANSPORT_TCP &&
		    role != CONFORM_LISTEN)
			die(EXIT_USAGE, "TCP addresses only");
	if ((fault == F_STRANGER || fault == F_SPLIT) && !o.from.family)
		die(EXIT_USAGE, "%s needs --from tcp:HOST", faults[fault].name);
	if (o.from.family && o.peer.family && o.from.family != o.peer.family)
		die(EXIT_USAGE, "--from and --peer: one address family");
	if ((o.at & (AT_WARMUP | AT_TIMED) && !echo_fault) ||
	    (o.at & (AT_GUEST_INITIATED | AT_HOST_INITIATED) &&
	     !(fault == F_NEVER_READS && role == ITEST_HOST)) ||
	    (o.at & (o.at - 1)))
		die(EXIT_USAGE, "--at: not a step where %s %s strikes",
			    role_names[role], faults[fault].name);
	if (o.count > UINT64_MAX / o.size)
		die(EXIT_USAGE, "--size x --count: more than 2^64 bytes");
	if (corrupting() && o.size < 4 * CORRUPT_RUN)
		die(EXIT_USAGE, "%s needs --size of 16K or more", faults[fault].name);
	if (corrupting() && !(o.tests & ~(unsigned)TEST_LATENCY))
		die(EXIT_USAGE, "%s needs a throughput test", faults[fault].name);
}

int main(int argc, char **argv)
{
	static void (*const run[ROLES])(void) = {
		[PERF_HOST] = perf_host, [ITEST_HOST] = itest_host,
		[PERF_GUEST] = guest_perf, [ITEST_GUEST] = itest_guest,
		[SENTINEL] = sentinel, [CONFORM_LISTEN] = conform_listen,
	};

	set_applet_name("faultpeer");
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
			  strcmp(argv[1], "-h") == 0)) {
		print_usage(&spec);
		return EXIT_PASS;
	}
	if (argc < 3)
		die(EXIT_USAGE, "ROLE and FAULT first (try --help)");
	enum role role = my_role = find_role(argv[1]);
	fault = find_fault(argv[2]);
	if (!(faults[fault].roles & ROLE(role)))
		die(EXIT_USAGE, "%s cannot play fault '%s'", argv[1], argv[2]);
	/* The options follow ROLE and FAULT: argv[2] becomes the parser's
	 * argv[0]. */
	argv[2] = argv[0];
	parse_command_line(&spec, &o, argc - 2, argv + 2);
	check_options(role);

	set_signals();
	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	life = step_deadline(o.timeout_s);
	run[role]();
	return EXIT_PASS;
}
