// SPDX-License-Identifier: MIT
/* vsock-perf: the micro benchmark's host side (doc/PROTOCOL.md); describe()
 * says what it does, its tests are the rows of PERF_TESTS (protocol.h). */
//config:config VSOCK_PERF
//config:	bool "vsock-perf: micro benchmark, host side, with statistics"
//config:	default y
//config:	help
//config:	  Runs the benchmark's tests against one guest and prints percentiles as a table or JSON.
//config:
//config:config FEATURE_PERF_INTERVAL
//config:	bool "vsock-perf --interval: bytes and rate every S seconds of a test"
//config:	default y
//config:	help
//config:	  A sampling thread logs what a throughput test's streams moved, a line
//config:	  (or a JSON "intervals" entry) every S seconds. Beyond the original host.
#include "perf.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

/* Every sample is kept for exact percentiles: a bound on their memory. */
enum { MAX_SAMPLES = 1 << 24 };

static const struct opt_name test_names[] = {TEST_NAMES, {NULL, 0}};

#define O(field) offsetof(struct perf_options, field)
static const struct opt options[] = {
	{.name = "listen", .arg = "ADDR", .kind = OPT_ADDR, .offset = O(listen),
	 .def_addr = "vsock:any", .def = PERF_HOST_PORT,
	 .help = "where to listen (port 0: any)"},
	{.name = "guest", .arg = "ADDR", .kind = OPT_ADDR, .offset = O(guest),
	 .def = PORT_UNSET,
	 .help = "the guest: only its connections count (its port is ignored)",
	 .def_text = "the first peer to open every connection it needs"},
	OPTION_SIZE(struct perf_options, size),
	{.name = "count", .arg = "N", .kind = OPT_NUM, .offset = O(count),
	 .min = 1, .max = MAX_COUNT, .help = "iterations of every throughput test",
	 .def_text = "each test's own, above"},
	{.name = "latency-count", .arg = "N", .kind = OPT_NUM,
	 .offset = O(latency_count), .min = 1, .max = MAX_SAMPLES,
	 .def = PERF_LATENCY_PACKETS, .help = "timed round trips"},
	{.name = "tests", .arg = "LIST", .kind = OPT_NAMES, .offset = O(tests),
	 .def = TEST_ALL, .names = test_names, .def_text = "all",
	 .help = "comma list of " TEST_NAMES_TEXT "; only the connections those"
		 " tests use are expected"},
	{.name = "json", .kind = OPT_FLAG, .offset = O(json),
	 .help = "one JSON object on stdout instead of the table"},
	{.name = "io-size", .arg = "BYTES", .kind = OPT_BYTES, .offset = O(io_size),
	 .min = 1, .max = MAX_IO_SIZE, .help = "bytes per read or write call",
	 .def_text = "each test's own, above"},
	OPTION_BUFFER_SIZE(struct perf_options, setup.buffer_size),
	IF_FEATURE_ZEROCOPY(OPTION_ZEROCOPY(struct perf_options, setup.zerocopy),)
	OPTION_TIMEOUT(struct perf_options, timeout_s),
	{.name = "echo-timeout", .arg = "MS", .kind = OPT_NUM,
	 .offset = O(echo_timeout_ms), .min = 1, .max = 60000,
	 .def = PERF_ECHO_DEADLINE_MS,
	 .help = "bound on each whole echo, warm-ups included (raise it only"
		 " for emulated devices)"},
	{.name = "connect-timeout", .arg = "S", .kind = OPT_NUM,
	 .offset = O(connect_timeout_s), .min = 1, .max = MAX_TIMEOUT_S,
	 .help = "how long to wait for the guest's connections (for a guest"
		 " still booting)", .def_text = "above"},
	IF_FEATURE_PROGRESS(
	{.name = "progress", .kind = OPT_FLAG, .offset = O(progress),
	 .help = "one line on stderr per finished test, terminal or not"},)
	IF_FEATURE_VERIFY(OPTION_VERIFY(struct perf_options, verify),)
	IF_FEATURE_SOAK(
	{.name = "duration", .arg = "S", .kind = OPT_NUM, .offset = O(duration_s),
	 .min = 1, .max = MAX_TIMEOUT_S, .def = 0, .def_text = "none",
	 .help = "run each throughput test for S seconds, not a count: whole\n"
		 "iterations until S have passed, then the stream ends (the\n"
		 "guest needs --soak)"},)
	IF_FEATURE_PERF_INTERVAL(
	{.name = "interval", .arg = "S", .kind = OPT_NUM, .offset = O(interval_s),
	 .min = 1, .max = MAX_TIMEOUT_S, .def = 0, .def_text = "none",
	 .help = "while a throughput test runs, one line every S seconds: the\n"
		 "bytes moved and the rate (with --json, the \"intervals\" array)"},)
	OPTION_END
};
#undef O

/* "-", "129" or "124..128": n numbers from first. */
static const char *range_text(char *buf, size_t len, unsigned first, unsigned n)
{
	if (!n)
		format(buf, len, "-");
	else if (n == 1)
		format(buf, len, "%u", first);
	else
		format(buf, len, "%u..%u", first, first + n - 1);
	return buf;
}

/* The guest ports of a test's data connections (contiguous slots). */
static const char *ports_text(char *buf, size_t len, unsigned slots)
{
	unsigned first = 0, n = 0;

	while (slots && !(slots >> first & 1))
		first++;
	while (slots >> (first + n) & 1)
		n++;
	return range_text(buf, len, perf_slot_port((int)first), n);
}

static void describe(void)
{
	char magics[16], ports[16];

	out("Micro benchmark, host side: wait up to %u s for the guest's connections from\n"
	    "ports %u..%u, then run these tests in this order and print min, p25, p50,\n"
	    "p75, p99 and max of each:\n\n"
	    "  %-8s %-16s %-9s %-11s %-10s %s\n", PERF_CONNECT_DEADLINE_MS / 1000,
	    PERF_CTL_PORT, PERF_CTL_PORT + PERF_SLOTS - 1, "test", "what",
	    "magic", "ports", "iterations", "bytes per call");
	for (int i = 0; i < PERF_TESTS_N; i++) {
		const struct perf_test *t = &perf_tests[i];
		out("  %-8s %-16s %-9s %-11s %-10u %uK\n", t->name, t->label,
		    range_text(magics, sizeof(magics), t->magic, t->magics),
		    ports_text(ports, sizeof(ports), t->slots), t->count,
		    t->io_size >> 10);
	}
	out("\nThe run belongs to one guest: connections from any other peer are closed\n"
	    "with a warning. The connections are awaited %u s (or --timeout S if\n"
	    "shorter), a magic number %u s, each whole echo %u ms.\n"
	    IF_FEATURE_HYBRID(
	    "On a hybrid vsock host (--listen unix:PATH) no source port is visible:\n"
	    "each guest connection must name its stream first (vsock-bench --preamble).\n"),
	    PERF_CONNECT_DEADLINE_MS / 1000, PERF_MAGIC_DEADLINE_MS / 1000,
	    PERF_ECHO_DEADLINE_MS);
}

const struct applet_spec vsock_perf_spec = {NULL, describe, options,
					    sizeof(struct perf_options)};

/* --progress asked for (and there is a --progress). */
static bool progress_lines(const struct perf *p)
{
	return ENABLE_FEATURE_PROGRESS && p->o.progress;
}

/* A protocol bound, but never more than --timeout. */
static uint64_t capped_ms(const struct perf *p, uint64_t ms)
{
	uint64_t cap = p->o.timeout_s * 1000u;
	return ms < cap ? ms : cap;
}

static struct deadline bound_ms(const struct perf *p, uint64_t ms)
{
	return deadline_after_ms(capped_ms(p, ms));
}

static bool expected(const struct perf *p, int slot)
{
	return perf_slot_tests(slot) & p->o.tests;
}

/* The tests that run after a test, and with it; bits are the run order. */
static unsigned later_tests(const struct perf_test *t)
{
	return TEST_ALL & ~(2 * t->bit - 1);
}

static unsigned from_test_on(const struct perf_test *t)
{
	return TEST_ALL & ~(t->bit - 1);
}

/* How many streams a test runs at once: its data connections. */
static unsigned streams(const struct perf_test *t)
{
	unsigned n = 0;
	for (unsigned slots = t->slots; slots; slots &= slots - 1)
		n++;
	return n;
}

/* Nothing may arrive on a data connection before its test: the guest
 * writes only after its magic, and on unidirectional streams only after
 * it has read. Checks the connections of the given tests. */
static void expect_quiet(struct perf *p, unsigned tests, const char *now)
{
	for (int slot = SLOT_ECHO; slot < PERF_SLOTS; slot++) {
		struct conn *c = &p->conn[slot];
		char byte;
		if (c->fd < 0 || !(perf_slot_tests(slot) & tests))
			continue;
		ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n > 0)
			die(EXIT_FAIL, "%s: %s: the guest wrote before its turn",
			    now, c->name);
		if (n == 0)
			die(EXIT_FAIL, "%s: %s: the guest closed before its turn",
			    now, c->name);
	}
}

/* What a stream may carry is over: anything more is a protocol failure. */
static void expect_no_surplus(struct conn *c, const char *test)
{
	int err = check_surplus(c, SURPLUS_GRACE_MS);
	if (err == ERR_DATA)
		die(EXIT_FAIL, "%s: %s: the guest sent more than the test's bytes",
		    test, c->name);
}

/* ---- connections: one guest's set ---- */

/* The connections of one peer (one guest, or a stranger) so far. */
struct peer_set {
	struct address host;
	struct conn conn[PERF_SLOTS];
	int open;		/* how many are held */
	int made;		/* how many it opened in all */
	char why[256];		/* a connection the protocol does not know */
};

enum { PEERS_MAX = 8 };

struct accept_state {
	struct peer_set peer[PEERS_MAX];
	int peers;
	int needed;
	bool stranger_warned;	/* --guest given: one line for all others */
	/* Hybrid: connections whose preamble is on its way, read all at
	 * once; and those that never sent one, by what they did. */
	struct pending *pending;
	int waiting;
	int silent, other_bytes, closed_early;
};

static void close_set(struct peer_set *s)
{
	for (int slot = 0; slot < PERF_SLOTS; slot++)
		conn_close(&s->conn[slot]);
	s->open = 0;
}

static struct peer_set *set_of(struct accept_state *a, const struct address *peer)
{
	for (int i = 0; i < a->peers; i++)
		if (same_host(&a->peer[i].host, peer))
			return &a->peer[i];
	if (a->peers == PEERS_MAX)
		return NULL;
	struct peer_set *s = &a->peer[a->peers++];
	s->host = with_port(peer, PORT_UNSET);
	for (int slot = 0; slot < PERF_SLOTS; slot++)
		s->conn[slot].fd = -1;
	return s;
}

/* Files a new connection with its peer's set; true when that set is now
 * complete. A connection the protocol does not know spoils its peer's
 * set (a stranger's never fails the guest's run). */
static bool file_connection(struct perf *p, struct accept_state *a,
			    struct conn *c, const struct address *peer)
{
	char text[ADDRESS_TEXT_MAX];
	struct address host = with_port(peer, PORT_UNSET);

	format_address(&host, text, sizeof(text));
	if (p->o.guest.family && !same_host(peer, &p->o.guest)) {
		if (!a->stranger_warned)
			warn("accept %s: not the guest: closed (so is every "
				 "other stranger's)", c->name);
		a->stranger_warned = true;
		conn_close(c);
		return false;
	}
	struct peer_set *s = set_of(a, peer);
	if (!s) {
		warn("accept %s: too many peers at once: closed", c->name);
		conn_close(c);
		return false;
	}
	int slot = perf_port_slot(peer->port);
	s->made++;
	if (s->why[0]) {
		conn_close(c);
	} else if (slot < 0 || !expected(p, slot)) {
		format(s->why, sizeof(s->why), "accept %s: unexpected "
		       "connection from port %u", c->name, (unsigned)peer->port);
		conn_close(c);
	} else if (s->conn[slot].fd >= 0) {
		format(s->why, sizeof(s->why), "accept %s: second connection "
		       "from port %u", c->name, (unsigned)peer->port);
		conn_close(c);
	} else {
		s->conn[slot] = *c;
		s->open++;
	}
	if (s->why[0] && s->open)
		close_set(s);
	return !s->why[0] && s->open == a->needed;
}

/* The guest's set is complete: the others' connections go. */
static void take_set(struct perf *p, struct accept_state *a,
		     struct peer_set *guest)
{
	char text[ADDRESS_TEXT_MAX];

	memcpy(p->conn, guest->conn, sizeof(p->conn));
	guest->open = 0;
	for (int i = 0; i < a->peers; i++) {
		struct peer_set *s = &a->peer[i];
		if (s == guest)
			continue;
		format_address(&s->host, text, sizeof(text));
		warn("%s is not the guest: %d connection%s closed", text,
			 s->made, s->made == 1 ? "" : "s");
		close_set(s);
	}
}

/* Hybrid: the connections that sent no preamble, by what they did. */
static int unnamed(const struct accept_state *a)
{
	return a->silent + a->other_bytes + a->closed_early;
}

static _Noreturn void no_complete_set(struct accept_state *a,
				      const char *where, uint64_t waited_ms)
{
	char why[160] = "";
	int best = 0;

	/* The only peer's spoiled set is the cause; else the fullest set
	 * tells how many connections are missing. */
	if (a->peers == 1 && a->peer[0].why[0])
		die(EXIT_FAIL, "%s", a->peer[0].why);
	for (int i = 0; i < a->peers; i++)
		if (a->peer[i].open > best)
			best = a->peer[i].open;
	/* Connections still waiting at the deadline were silent. */
	a->silent += a->waiting;
	a->waiting = 0;
	/* Only a guest without --preamble names no stream at all; one with
	 * it is told how many of its connections never came. */
	if (ENABLE_FEATURE_HYBRID && unnamed(a))
		format(why, sizeof(why), a->peers ?
		       " (%d other connection%s sent no stream preamble: "
		       "%d silent, %d other bytes, %d closed before one)" :
		       ": no connection sent a stream preamble (%d connection%s: "
		       "%d silent, %d other bytes, %d closed before one): run "
		       "the guest's vsock-bench with --preamble", unnamed(a),
		       unnamed(a) == 1 ? "" : "s", a->silent, a->other_bytes,
		       a->closed_early);
	die(EXIT_ENV, "accept %s: timed out after %llu ms with %d of "
	    "the guest's connections missing%s", where,
	    (unsigned long long)waited_ms, a->needed - best, why);
}

/* ---- a hybrid host's connections: the preamble names each ----
 *
 * A hybrid vsock host shows no source port: each guest connection names
 * its stream and run first (the preamble), or it cannot be placed. The
 * preambles of every connection not yet named are read as they come,
 * all at once, by the wait's one deadline: a silent connection (a
 * stranger, a VMM's probe, a guest without --preamble) never holds up
 * the next. At most PENDING_MAX wait at once; the oldest makes room. */
enum { PENDING_MAX = 32 };

struct pending {
	struct conn conn;
	struct address peer;
	unsigned char bytes[PREAMBLE_BYTES];
	size_t got;
};

/* Pending connection i is settled: it leaves the list (the last one
 * takes its place). */
static void drop_pending(struct accept_state *a, int i)
{
	a->pending[i] = a->pending[--a->waiting];
}

static void give_up_pending(struct accept_state *a, int i, int *count)
{
	conn_close(&a->pending[i].conn);
	(*count)++;
	drop_pending(a, i);
}

/* Reads what pending connection i has sent; true when its preamble is
 * whole and in *c, *peer (and it has left the list). */
static bool read_preamble(struct perf *p, struct accept_state *a, int i,
			  struct conn *c, struct address *peer)
{
	struct pending *w = &a->pending[i];
	ssize_t n = recv(w->conn.fd, w->bytes + w->got,
			 sizeof(w->bytes) - w->got, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		      errno == EINTR))
		return false;
	if (n <= 0) {
		give_up_pending(a, i, &a->closed_early);
		return false;
	}
	w->got += (size_t)n;
	if (w->got < sizeof(w->bytes))
		return false;
	if (preamble_parse(&w->conn, w->bytes, &p->listen, &w->peer)) {
		give_up_pending(a, i, &a->other_bytes);
		return false;
	}
	*c = w->conn;
	*peer = w->peer;
	drop_pending(a, i);
	return true;
}

/* A new connection joins the pending ones. */
static void add_pending(struct accept_state *a, const struct conn *c,
			const struct address *peer)
{
	if (a->waiting == PENDING_MAX)
		give_up_pending(a, 0, &a->silent);
	a->pending[a->waiting++] = (struct pending){*c, *peer, {0}, 0};
}

/* The guest's set is complete: those still waiting go, with one line.
 * Only a hybrid host has pending connections (next_connection()). */
static void close_pending(struct accept_state *a)
{
	if (!ENABLE_FEATURE_HYBRID)
		return;
	while (a->waiting)
		give_up_pending(a, 0, &a->silent);
	if (unnamed(a))
		warn("closed %d connection%s that sent no stream preamble "
		     "(%d silent, %d other bytes, %d closed before one)",
		     unnamed(a), unnamed(a) == 1 ? "" : "s", a->silent,
		     a->other_bytes, a->closed_early);
}

/* The next connection whose stream is known: accepted over vsock or TCP,
 * or, on a hybrid host, the next whose preamble is whole. 0 or an errno
 * (ETIMEDOUT at the deadline). */
static int next_connection(struct perf *p, struct accept_state *a, int lfd,
			   struct deadline d, struct conn *c,
			   struct address *peer)
{
	if (!is_unix(&p->listen))
		return conn_accept(c, lfd, &p->listen, d, peer);
	for (;;) {
		struct pollfd fds[1 + PENDING_MAX];
		int n = 1 + a->waiting;

		fds[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		for (int i = 0; i < a->waiting; i++)
			fds[1 + i] = (struct pollfd){.fd = a->pending[i].conn.fd,
						     .events = POLLIN};
		int ready = poll(fds, (nfds_t)n, deadline_left_ms(d));
		if (ready < 0 && errno != EINTR)
			return errno;
		if (ready == 0)
			return ETIMEDOUT;
		/* From the last: a settled one takes the last's place. */
		for (int i = a->waiting - 1; ready > 0 && i >= 0; i--)
			if (fds[1 + i].revents &&
			    read_preamble(p, a, i, c, peer))
				return 0;
		if (ready > 0 && fds[0].revents) {
			struct conn fresh;
			struct address from;
			int err = conn_accept(&fresh, lfd, &p->listen, d, &from);
			if (err)
				return err;
			add_pending(a, &fresh, &from);
		}
	}
}

static void accept_all(struct perf *p, int lfd)
{
	/* --connect-timeout, when given, is the only bound of this step. */
	uint64_t wait_ms = p->o.connect_timeout_s * 1000u;
	if (!wait_ms)
		wait_ms = capped_ms(p, PERF_CONNECT_DEADLINE_MS);
	struct deadline d = deadline_after_ms(wait_ms);
	struct accept_state *a = xmalloc(sizeof(*a));
	char where[ADDRESS_TEXT_MAX];

	if (is_unix(&p->listen))
		a->pending = xmalloc(PENDING_MAX * sizeof(*a->pending));
	format_address(&p->listen, where, sizeof(where));
	for (int slot = 0; slot < PERF_SLOTS; slot++)
		a->needed += expected(p, slot);
	while (a->needed) {	/* a test may need no connection */
		struct conn c;
		struct address peer;
		int err = next_connection(p, a, lfd, d, &c, &peer);
		if (err == ETIMEDOUT)
			no_complete_set(a, where, wait_ms);
		if (err)
			die(EXIT_ENV, "accept %s: %s", where, strerror(err));
		if (file_connection(p, a, &c, &peer)) {
			take_set(p, a, set_of(a, &peer));
			break;
		}
	}
	close_pending(a);
	xfree(a->pending);
	xfree(a);
}

/* A connection of the test under way broke: on a hybrid host, whose
 * connection through the VMM may break at an event of the VM (a restore,
 * a new VMM), one line says which, when and how (end of stream, reset,
 * or silence until the step's deadline) before the error; in a soak, an
 * early end may be a guest without --soak. */
static void say_how_it_broke(const struct perf *p, const struct conn *c,
			     int err)
{
	char test_s[32], run_s[32];
	const char *how = err == ERR_EOF ? "end of stream" :
			  err == ECONNRESET || err == EPIPE ? "reset" :
			  err == ETIMEDOUT ? "silence" : NULL;

	if (!how || !p->running)
		return;
	if (is_unix(&p->listen))
		warn("%s: %s%s, %s s into the %s test (%s s into the run)",
		     c->name, how, err == ETIMEDOUT ? " until the deadline" : "",
		     seconds_since(test_s, sizeof(test_s), p->running_since_ns),
		     p->running->label,
		     seconds_since(run_s, sizeof(run_s), p->started_ns));
	if (soaking(p) && err != ETIMEDOUT && !p->running->echo)
		warn("the guest ended its %s stream before the host did: with "
		     "--duration it must run with --soak", p->running->label);
}

/* ---- magic numbers ---- */

/* The test a magic number announces, for messages: "bidirectional". */
static const char *magic_test(unsigned magic)
{
	for (int i = 0; i < PERF_TESTS_N; i++)
		if (magic - perf_tests[i].magic < perf_tests[i].magics)
			return perf_tests[i].label;
	return NULL;
}

/* " (bidirectional)", or "" for a magic number of no test. */
static const char *magic_name(char *buf, size_t len, unsigned magic)
{
	const char *test = magic_test(magic);

	buf[0] = '\0';
	if (test)
		format(buf, len, " (%s)", test);
	return buf;
}

static unsigned read_magic(struct perf *p, const char *test)
{
	struct conn *ctl = &p->conn[SLOT_CTL];
	unsigned char magic;
	int err = read_full(ctl, &magic, 1, bound_ms(p, PERF_MAGIC_DEADLINE_MS));
	if (err) {
		say_how_it_broke(p, ctl, err);
		die_io(ctl, err, "%s: read magic from", test);
	}
	return magic;
}

/* A test's magic numbers, each once, in any order. */
static void expect_magics(struct perf *p, const struct perf_test *t)
{
	bool seen[256] = {false};
	char name[32], want[16];

	for (unsigned i = 0; i < t->magics; i++) {
		unsigned magic = read_magic(p, t->label);
		if (magic - t->magic >= t->magics)
			die(EXIT_FAIL, "%s: magic %u%s out of order, expected %s",
			    t->label, magic, magic_name(name, sizeof(name), magic),
			    range_text(want, sizeof(want), t->magic, t->magics));
		if (seen[magic])
			die(EXIT_FAIL, "%s: magic %u twice", t->label, magic);
		seen[magic] = true;
	}
}

/* A soak's series starts with room for this many, and grows. */
enum { SOAK_SAMPLES_FIRST = 1024 };

static void record(struct series *s, size_t capacity)
{
	s->v = xmalloc(capacity * sizeof(double));
	s->n = 0;
	s->cap = capacity;
	s->ran = true;
}

/* A series for a test's count of samples (a soak's grows as it runs). */
static void record_test(const struct perf *p, struct series *s,
			uint64_t count)
{
	record(s, soaking(p) && count > SOAK_SAMPLES_FIRST ? SOAK_SAMPLES_FIRST
							    : (size_t)count);
}

static double mib_per_s(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes / (1024.0 * 1024.0) / ((double)ns / 1e9) : 0;
}

/* The rate of bytes moved in ns joins s (one copy of the sum for every
 * test). Only a soak outgrows its series: any other run takes count
 * samples at most, its capacity (record_test()). */
static void add_rate(struct series *s, uint64_t bytes, uint64_t ns)
{
	if (ENABLE_FEATURE_SOAK && s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : SOAK_SAMPLES_FIRST;
		double *grown = xmalloc(cap * sizeof(double));
		if (s->n)
			memcpy(grown, s->v, s->n * sizeof(double));
		xfree(s->v);
		s->v = grown;
		s->cap = cap;
	}
	s->v[s->n++] = mib_per_s(bytes, ns);
}

/* Whether a throughput stream that started at `started` has done its
 * iterations: its count, or with --duration its time (or as many as its
 * samples may be: then the count is that bound). */
static bool iterations_done(const struct perf *p, uint64_t started,
			    uint64_t done, uint64_t count)
{
	if (done >= count)
		return true;
	return soaking(p) &&
	       now_ns() - started >= p->o.duration_s * 1000000000u;
}

/* The end of a stream's iterations: a soak's host says so by ending its
 * side, after a whole iteration (doc/PROTOCOL.md, "Soak"). */
static void end_iterations(const struct perf *p, struct conn *c)
{
	if (soaking(p))
		conn_end_writes(c);
}

/* With --progress, what the run will do, once the guest is in. */
static void announce(const struct perf *p)
{
	char line[256];
	size_t n = 0;

	if (!progress_lines(p))
		return;
	for (int i = 0; i < PERF_TESTS_N && n < sizeof(line); i++) {
		const struct test_run *r = &p->run[i];
		const struct perf_test *t = r->test;
		if (!(p->o.tests & t->bit))
			continue;
		if (t->echo)
			n += format(line + n, sizeof(line) - n, ", %s %llu round trips",
				    t->label, (unsigned long long)r->count);
		else if (soaking(p))
			n += format(line + n, sizeof(line) - n, ", %s for %llu s "
				    "of %llu-byte iterations", t->label,
				    (unsigned long long)p->o.duration_s,
				    (unsigned long long)p->o.size);
		else
			n += format(line + n, sizeof(line) - n, ", %s %llu x %llu bytes%s",
				    t->label, (unsigned long long)r->count,
				    (unsigned long long)p->o.size,
				    streams(t) > 1 ? " per stream" : "");
	}
	warn("the guest is in; running%s", line + 1);
}

/* One line per finished test with --progress, when no terminal shows the
 * running count. */
static void finished(const struct perf *p, const char *test, uint64_t n,
		     uint64_t started)
{
	char secs[32];
	if (progress_lines(p))
		warn("%s done: %llu iterations in %s s", test,
			 (unsigned long long)n,
			 seconds_since(secs, sizeof(secs), started));
}

/* ---- latency ---- */

/* The first echo that differs. With --verify the line says it as every
 * stream's difference is said: stream, direction, place, both bytes. */
static void note_corruption(struct perf *p, const char *what, unsigned i,
			    size_t at, unsigned char sent, unsigned char got)
{
	if (p->corruption == 1)
		return;
	p->corruption = 1;
	if (!verifying(p)) {
		format(p->corruption_why, sizeof(p->corruption_why),
		       "%s packet %u differs at byte %zu", what, i, at);
		return;
	}
	format(p->corruption_why, sizeof(p->corruption_why), "port %u, %s: "
	       "%s echo %u differs at offset %zu: expected 0x%02x, received "
	       "0x%02x", PERF_ECHO_PORT, pattern_dir_text(PATTERN_TO_HOST),
	       what, i, at, sent, got);
}

/* One echo started at `start`, written and read back whole by one
 * deadline; then compared with what went out (memcmp: the fast path). */
static void round_trip(struct perf *p, const unsigned char *out,
		       unsigned char *in, const char *what, uint64_t start)
{
	struct conn *c = &p->conn[SLOT_ECHO];
	struct deadline d = {start + capped_ms(p, p->o.echo_timeout_ms) * 1000000u};
	char step[64];
	int err = write_full(c, out, PERF_ECHO_PACKET, d);
	if (err) {
		format(step, sizeof(step), "latency: write %s packet to", what);
		die_io(c, err, "%s", step);
	}
	err = read_full(c, in, PERF_ECHO_PACKET, d);
	if (err) {
		format(step, sizeof(step), "latency: read %s echo from", what);
		die_io(c, err, "%s", step);
	}
}

/* The data corruption check of one echo. */
static void check_echo(struct perf *p, const unsigned char *out,
		       const unsigned char *in, const char *what, unsigned i)
{
	size_t at = 0;

	if (memcmp(out, in, PERF_ECHO_PACKET) == 0)
		return;
	while (out[at] == in[at])
		at++;
	note_corruption(p, what, i, at, out[at], in[at]);
}

static void run_latency(struct perf *p, struct test_run *r)
{
	const struct perf_test *t = r->test;
	struct series *rtt = &r->result[0];
	/* Aligned like xmalloc's buffers, for the same reason. */
	_Alignas(BUFFER_ALIGN) unsigned char out[PERF_ECHO_PACKET];
	_Alignas(BUFFER_ALIGN) unsigned char in[PERF_ECHO_PACKET];
	char what[48];
	struct progress prog;
	uint64_t started = now_ns();

	format(what, sizeof(what), "timed (%llu ms at most)",
	       (unsigned long long)p->o.echo_timeout_ms);
	p->corruption = 0;
	/* Every echo is timed: its deadline costs no kernel timer. */
	struct watchdog watchdog;
	watchdog_start(&watchdog, &p->conn[SLOT_ECHO],
		       capped_ms(p, p->o.echo_timeout_ms));
	p->step = "warm-up";
	for (unsigned i = 0; i < PERF_WARMUP_PACKETS; i++) {
		warmup_packet(i, out, sizeof(out));
		round_trip(p, out, in, "warm-up", now_ns());
		check_echo(p, out, in, "warm-up", i);
	}
	/* --verify: every timed packet differs (the pattern of the echo
	 * stream at its place), so a stale or misplaced echo shows too. */
	struct pattern *timed = NULL;
	if (verifying(p)) {
		timed = xmalloc(sizeof(*timed));
		pattern_start(timed, t->label, PERF_ECHO_PORT, PATTERN_TO_GUEST,
			      PERF_ECHO_PACKET);
	} else {
		memset(out, PERF_LATENCY_BYTE, sizeof(out));
	}
	record(rtt, r->count);
	progress_start(&prog, t->label, r->count);
	p->step = "timed echo";
	for (uint64_t i = 0; i < r->count; i++) {
		if (timed)
			memcpy(out, pattern_next(timed, sizeof(out)),
			       sizeof(out));
		uint64_t start = now_ns();
		round_trip(p, out, in, what, start);
		rtt->v[rtt->n++] = (double)(now_ns() - start);
		check_echo(p, out, in, "timed", (unsigned)i);
		if ((i + 1) % 1000 == 0)
			progress_step(&prog, i + 1);
	}
	progress_end(&prog);
	watchdog_stop(&watchdog);
	if (timed)
		pattern_end(timed);
	xfree(timed);
	if (verifying(p)) {
		r->verified = p->corruption != 1;
		r->checked = (PERF_WARMUP_PACKETS + r->count) * PERF_ECHO_PACKET;
	}
	p->step = "surplus";
	expect_no_surplus(&p->conn[SLOT_ECHO], t->label);
	/* Our close ends the guest's echo loop. */
	conn_close(&p->conn[SLOT_ECHO]);
	finished(p, t->label, r->count, started);
}

/* ---- what every throughput test shares: --verify's patterns and
 * --interval's sampler ---- */

/* --verify on the stream of a slot, as the host sees it; NULL without
 * (patterns_done frees it). */
static struct stream_patterns *stream_patterns(const struct perf *p,
					       const struct perf_test *t,
					       int slot)
{
	if (!verifying(p))
		return NULL;
	struct stream_patterns *v = xmalloc(sizeof(*v));
	stream_patterns_start(v, t->label, perf_slot_port(slot),
			      PATTERN_TO_GUEST, p->o.size);
	return v;
}

static void patterns_done(struct stream_patterns *v)
{
	stream_patterns_end(v);
	xfree(v);
}

/* A stream's verdict, once it is over: bytes checked, and clean. */
static void note_verified(struct test_run *r, const struct stream_patterns *v)
{
	if (!v)
		return;
	r->checked += v->checked.checked;
	if (r->verified < 0)
		r->verified = 1;
}

/* A stream failed: a difference is --verify's verdict on the test. */
static _Noreturn void fail_stream(struct perf *p, struct test_run *r,
				  const char *op, const struct conn *c,
				  int err, struct stream_patterns *v)
{
	p->step = op;
	say_how_it_broke(p, c, err);
	if (err == ERR_PATTERN)
		r->verified = 0;
	die_stream(c, err, patterns_checked(v), "%s: %s", r->test->label, op);
}

static void log_interval(struct perf *p, const struct perf_test *t,
			 double start_s, double end_s, uint64_t bytes)
{
	struct interval_log *log = &p->intervals;
	char from[32], to[32], rate[32];

	if (!p->o.json) {
		out("interval %s %s-%s s: %llu bytes, %s MiB/s\n", t->name,
		    format_fixed(from, sizeof(from), start_s, 1),
		    format_fixed(to, sizeof(to), end_s, 1),
		    (unsigned long long)bytes,
		    format_fixed(rate, sizeof(rate), (double)bytes / 1048576.0 /
				 (end_s - start_s), 2));
		return;
	}
	pthread_mutex_lock(&log->lock);
	if (log->n == log->cap) {
		size_t cap = log->cap ? 2 * log->cap : 64;
		struct interval *v = xmalloc(cap * sizeof(*v));
		if (log->n)
			memcpy(v, log->v, log->n * sizeof(*v));
		xfree(log->v);
		log->v = v;
		log->cap = cap;
	}
	log->v[log->n++] = (struct interval){t, start_s, end_s, bytes};
	pthread_mutex_unlock(&log->lock);
}

/* --interval: a thread that wakes every S seconds while a test runs and
 * logs the bytes its streams moved (counted by io.c as they go); at the
 * test's end, what moved since the last full interval. */
struct sampler {
	struct perf *p;
	struct test_run *r;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	uint64_t started_ns;
};

static void *sample(void *arg)
{
	struct sampler *s = arg;
	uint64_t period = s->p->o.interval_s * 1000000000u, before = 0;

	uint64_t tick = 1;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		uint64_t at = s->started_ns + tick * period;
		struct timespec ts = {(time_t)(at / 1000000000u),
				      (long)(at % 1000000000u)};
		int err = pthread_cond_timedwait(&s->wake, &s->lock, &ts);
		if (s->stop || (err && err != ETIMEDOUT))
			break;
		if (now_ns() < at)
			continue;	/* woken early */
		uint64_t moved = atomic_load(&s->r->moved);
		log_interval(s->p, s->r->test, (double)(tick - 1) * (double)period / 1e9,
			     (double)tick * (double)period / 1e9, moved - before);
		before = moved;
		tick++;
	}
	/* The last, partial interval: every byte of the test is in one line,
	 * and a test shorter than S still has its line. */
	uint64_t moved = atomic_load(&s->r->moved);
	if (s->stop && moved > before)
		log_interval(s->p, s->r->test,
			     (double)(tick - 1) * (double)period / 1e9,
			     (double)(now_ns() - s->started_ns) / 1e9,
			     moved - before);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void sampler_start(struct sampler *s, struct perf *p,
			  struct test_run *r)
{
	pthread_condattr_t attr;

	s->p = p;
	s->r = r;
	s->stop = false;
	if (!sampling(p))
		return;
	for (int slot = 0; slot < PERF_SLOTS; slot++)
		if (r->test->slots >> slot & 1)
			p->conn[slot].moved = &r->moved;
	if (pthread_condattr_init(&attr) ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) ||
	    pthread_cond_init(&s->wake, &attr) ||
	    pthread_mutex_init(&s->lock, NULL))
		die(EXIT_ENV, "--interval: cannot set up its timer");
	pthread_condattr_destroy(&attr);
	s->started_ns = now_ns();
	xthread_start(&s->thread, sample, s);
}

static void sampler_stop(struct sampler *s)
{
	if (!sampling(s->p))
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	xthread_join(s->thread);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
}

/* ---- bidirectional ---- */

struct bidir_half {
	struct perf *p;
	uint64_t count;
	uint64_t start;
	struct series *rates;	/* each iteration's, from its last byte's time */
	void *buf;
	size_t io_size;
	int err;
	struct pattern *verify;	/* sent or checked; NULL: no --verify */
};

static void *bidir_reader(void *arg)
{
	struct bidir_half *h = arg;
	struct conn *c = &h->p->conn[SLOT_BIDIR];
	uint64_t prev = h->start;
	bool ended = false;

	/* In a soak the guest writes until the host has ended its side,
	 * and then ends its own after a whole iteration. */
	for (uint64_t i = 0; (soaking(h->p) || i < h->count) && !h->err; i++) {
		h->err = recv_iteration(c, h->p->o.size, h->buf, h->io_size,
					h->verify,
					step_deadline(h->p->o.timeout_s),
					&ended);
		if (ended) {
			if (!soaking(h->p))
				h->err = ERR_EOF;
			break;
		}
		uint64_t now = now_ns();
		if (!h->err)
			add_rate(h->rates, h->p->o.size, now - prev);
		prev = now;
	}
	/* The writer would wait for a guest that has stopped reading. */
	if (h->err)
		conn_shutdown(c);
	return NULL;
}

static void bidir_writer(struct bidir_half *h, struct progress *prog)
{
	struct conn *c = &h->p->conn[SLOT_BIDIR];
	uint64_t prev = h->start;

	for (uint64_t i = 0; !iterations_done(h->p, h->start, i, h->count) &&
			     !h->err; i++) {
		h->err = send_stream(c, h->p->o.size, h->buf, h->io_size,
				     h->verify,
				     step_deadline(h->p->o.timeout_s));
		uint64_t now = now_ns();
		if (!h->err)
			add_rate(h->rates, h->p->o.size, now - prev);
		prev = now;
		progress_step(prog, i + 1);
	}
	if (!h->err)
		h->err = zerocopy_wait(c, step_deadline(h->p->o.timeout_s));
	if (!h->err)
		end_iterations(h->p, c);
}

static void run_bidir(struct perf *p, struct test_run *r)
{
	const struct perf_test *t = r->test;
	uint64_t count = r->count;
	size_t len = r->io_size;
	struct stream_patterns *v = stream_patterns(p, t, SLOT_BIDIR);
	struct bidir_half rx = {p, count, 0, &r->result[1], NULL, len, 0,
				patterns_checked(v)},
			  tx = {p, count, 0, &r->result[0], NULL, len, 0,
				patterns_sent(v)};
	struct progress prog;
	struct sampler sampler;
	pthread_t thread;

	/* The guest writes as soon as its magic is out. */
	expect_quiet(p, later_tests(t), t->label);
	p->step = "magic";
	expect_magics(p, t);
	p->step = "transfer";
	record_test(p, tx.rates, count);
	record_test(p, rx.rates, count);
	rx.buf = xmalloc(len);
	tx.buf = xmalloc(len);
	progress_start(&prog, t->label, count);
	sampler_start(&sampler, p, r);
	rx.start = tx.start = now_ns();
	xthread_start(&thread, bidir_reader, &rx);
	bidir_writer(&tx, &prog);
	xthread_join(thread);
	sampler_stop(&sampler);
	progress_end(&prog);
	struct conn *c = &p->conn[SLOT_BIDIR];
	note_verified(r, v);
	if (rx.err)
		fail_stream(p, r, "read", c, rx.err, v);
	if (tx.err)
		fail_stream(p, r, "write", c, tx.err, v);
	patterns_done(v);
	p->step = "surplus";
	expect_no_surplus(c, t->label);
	xfree(rx.buf);
	xfree(tx.buf);
	conn_close(c);
	finished(p, t->label, tx.rates->n, rx.start);
}

/* ---- unidirectional, one stream or five ---- */

struct stream {
	struct perf *p;
	struct conn *conn;
	uint64_t count;		/* a soak's: as many as its samples may be */
	uint64_t started;	/* the test's start (--duration) */
	struct series *samples;
	void *buf;
	size_t io_size;
	struct progress *prog;
	const char *failed_op;
	int err;
	struct stream_patterns *verify;	/* NULL: no --verify */
	struct stream *all;	/* the streams that run at once (or NULL) */
	_Atomic int *first_failed;	/* the index of the cause; -1: none */
};

/* Of streams that run at once, the first to fail is the cause: the
 * others are shut down, so that they end now and not at their deadlines. */
static void *stream_failing(struct stream *st, const char *op)
{
	int none = -1, me;

	st->failed_op = op;
	if (!st->all)
		return NULL;
	me = (int)(st - st->all);
	if (atomic_compare_exchange_strong(st->first_failed, &none, me))
		for (int i = 0; i < PERF_MULTI_STREAMS; i++)
			if (i != me)
				conn_shutdown(st->all[i].conn);
	return NULL;
}

/* Per iteration: write SIZE, read SIZE back, each half by its own
 * deadline; 2 x SIZE over the round trip. */
static void *unidir_stream(void *arg)
{
	struct stream *st = arg;
	uint64_t size = st->p->o.size;

	for (uint64_t i = 0; !iterations_done(st->p, st->started, i,
					      st->count); i++) {
		uint64_t start = now_ns();
		struct deadline d = step_deadline(st->p->o.timeout_s);
		st->err = send_stream(st->conn, size, st->buf, st->io_size,
				      patterns_sent(st->verify), d);
		/* The buffer takes the reply: the kernel must be done with it. */
		if (!st->err)
			st->err = zerocopy_wait(st->conn, d);
		if (st->err)
			return stream_failing(st, "write");
		st->err = recv_stream(st->conn, size, st->buf, st->io_size,
				      patterns_checked(st->verify),
				      step_deadline(st->p->o.timeout_s));
		if (st->err)
			return stream_failing(st, "read");
		add_rate(st->samples, 2 * size, now_ns() - start);
		if (st->prog)
			progress_step(st->prog, i + 1);
	}
	end_iterations(st->p, st->conn);
	return NULL;
}

static void stream_failed(struct perf *p, struct test_run *r,
			  const struct stream *st)
{
	if (st->err)
		fail_stream(p, r, st->failed_op, st->conn, st->err, st->verify);
}

/* A stream is over: its patterns go. */
static void stream_done(struct stream *st)
{
	patterns_done(st->verify);
	st->verify = NULL;
}

static void run_unidir(struct perf *p, struct test_run *r)
{
	const struct perf_test *t = r->test;
	uint64_t count = r->count, started = now_ns();
	size_t len = r->io_size;
	struct series *rate = &r->result[0];
	struct progress prog;

	struct sampler sampler;

	p->step = "magic";
	expect_magics(p, t);
	/* The guest reads before it writes. */
	expect_quiet(p, from_test_on(t), t->label);
	p->step = "transfer";
	record_test(p, rate, count);
	struct stream st = {p, &p->conn[SLOT_UNIDIR], count, now_ns(), rate,
			    xmalloc(len), len, &prog, "", 0,
			    stream_patterns(p, t, SLOT_UNIDIR), NULL, NULL};
	progress_start(&prog, t->label, count);
	sampler_start(&sampler, p, r);
	unidir_stream(&st);
	sampler_stop(&sampler);
	progress_end(&prog);
	note_verified(r, st.verify);
	stream_failed(p, r, &st);
	stream_done(&st);
	p->step = "surplus";
	expect_no_surplus(st.conn, t->label);
	xfree(st.buf);
	conn_close(st.conn);
	finished(p, t->label, rate->n, started);
}

static void run_multi(struct perf *p, struct test_run *r)
{
	const struct perf_test *t = r->test;
	uint64_t count = r->count, started = now_ns();
	struct stream st[PERF_MULTI_STREAMS];
	pthread_t threads[PERF_MULTI_STREAMS];
	size_t len = r->io_size;
	struct series *rate = &r->result[0], own[PERF_MULTI_STREAMS];
	struct sampler sampler;
	_Atomic int first_failed = -1;

	p->step = "magic";
	expect_magics(p, t);
	expect_quiet(p, from_test_on(t), t->label);
	p->step = "transfer";
	sampler_start(&sampler, p, r);
	started = now_ns();
	for (int i = 0; i < PERF_MULTI_STREAMS; i++) {
		record_test(p, &own[i], count);
		st[i] = (struct stream){p, &p->conn[SLOT_MULTI + i], count,
					started, &own[i],
					xmalloc(len), len, NULL, "", 0,
					stream_patterns(p, t, SLOT_MULTI + i),
					st, &first_failed};
		xthread_start(&threads[i], unidir_stream, &st[i]);
	}
	for (int i = 0; i < PERF_MULTI_STREAMS; i++)
		xthread_join(threads[i]);
	sampler_stop(&sampler);
	for (int i = 0; i < PERF_MULTI_STREAMS; i++)
		note_verified(r, st[i].verify);
	if (first_failed >= 0)
		stream_failed(p, r, &st[first_failed]);
	for (int i = 0; i < PERF_MULTI_STREAMS; i++)
		stream_done(&st[i]);
	p->step = "surplus";
	for (int i = 0; i < PERF_MULTI_STREAMS; i++) {
		expect_no_surplus(st[i].conn, t->label);
		xfree(st[i].buf);
		conn_close(st[i].conn);
	}
	/* Every stream's samples, in the streams' order. */
	size_t n = 0;
	for (int i = 0; i < PERF_MULTI_STREAMS; i++)
		n += own[i].n;
	record(rate, n);
	for (int i = 0; i < PERF_MULTI_STREAMS; i++) {
		if (own[i].n)
			memcpy(rate->v + rate->n, own[i].v,
			       own[i].n * sizeof(double));
		rate->n += own[i].n;
		xfree(own[i].v);
	}
	finished(p, t->label, n / PERF_MULTI_STREAMS, started);
}

/* After the last test the control connection has nothing more to say:
 * data or a reset there is a protocol failure (a close is the guest's
 * goodbye). */
static void expect_quiet_control(struct perf *p)
{
	struct conn *ctl = &p->conn[SLOT_CTL];
	if (ctl->fd < 0)
		return;
	int err = check_surplus(ctl, SURPLUS_GRACE_MS);
	if (err == ERR_DATA)
		die(EXIT_FAIL, "control: %s: the guest sent more than its "
		    "magic numbers", ctl->name);
	if (err)
		die_io(ctl, err, "%s: read", "control");
	conn_close(ctl);
}

/* ---- the run ---- */

/* Iterations of each test, and a refusal of what its samples could not
 * hold, before anything listens. */
static void plan(struct perf *p)
{
	uint64_t c = p->o.count;
	bool too_many = false;

	for (int i = 0; i < PERF_TESTS_N; i++) {
		struct test_run *r = &p->run[i];
		const struct perf_test *t = r->test = &perf_tests[i];
		r->count = t->echo ? p->o.latency_count : c ? c : t->count;
		/* A soak's iterations are bounded by the samples kept. */
		if (soaking(p) && !t->echo)
			r->count = MAX_SAMPLES / (streams(t) ? streams(t) : 1);
		r->io_size = p->o.io_size ? (size_t)p->o.io_size : t->io_size;
		if (p->o.tests & t->bit && !t->echo &&
		    c * (streams(t) ? streams(t) : 1) > MAX_SAMPLES)
			too_many = true;
	}
	if (soaking(p) && c)
		die(EXIT_USAGE, "--duration and --count: one or the other (a "
			    "soak's iterations are as many as its time allows)");
	if (too_many)
		die(EXIT_USAGE, "--count %llu: every sample is kept; at most %u "
			    "per test (%u per multi stream)",
			    (unsigned long long)c, MAX_SAMPLES,
			    MAX_SAMPLES / PERF_MULTI_STREAMS);
	p->setup = p->o.setup;	/* --zerocopy may go off for the run */
	p->corruption = -1;
	for (int slot = 0; slot < PERF_SLOTS; slot++)
		p->conn[slot].fd = -1;
	for (int i = 0; i < PERF_TESTS_N; i++)
		p->run[i].verified = -1;
	if (ENABLE_FEATURE_PERF_INTERVAL &&
	    pthread_mutex_init(&p->intervals.lock, NULL))
		die(EXIT_ENV, "cannot make a lock");
}

/* What the kernel granted as socket buffer, read on a data connection. */
static void note_buffer(struct perf *p)
{
	for (int slot = 0; slot < PERF_SLOTS; slot++)
		if (p->conn[slot].fd >= 0) {
			p->buffer_granted = conn_buffer_size(&p->conn[slot],
							     &p->listen);
			return;
		}
}

/* MSG_ZEROCOPY on every stream the host writes to: the table and JSON
 * say whether it ran. */
static void zerocopy_streams(struct perf *p)
{
	p->zerocopy_ran = p->o.setup.zerocopy;
	for (int slot = SLOT_UNIDIR; slot < PERF_SLOTS; slot++)
		if (p->conn[slot].fd >= 0 && !conn_zerocopy(&p->conn[slot],
							    &p->setup))
			p->zerocopy_ran = false;
}

/* Each row of PERF_TESTS runs by its run_NAME function. */
typedef void run_fn(struct perf *p, struct test_run *r);
#define RUN_FUNCTION(id, name, ...) [PERF_TEST_##id] = run_##name,
static run_fn *const run_test[PERF_TESTS_N] = {PERF_TESTS(RUN_FUNCTION)};
#undef RUN_FUNCTION

int vsock_perf_main(int argc, char **argv)
{
	struct perf *p = xmalloc(sizeof(*p));
	char secs[32];

	parse_command_line(&vsock_perf_spec, &p->o, argc, argv);
	plan(p);

	/* From here on a failed run still reports (a usage error does not). */
	p->started_ns = now_ns();
	set_fatal_hook(perf_report_failure, p);
	p->listen = p->o.listen;
	p->step = "listen";
	/* Room for strangers' connections too: a full backlog would drop the
	 * guest's SYN and make it wait a second for the retry. */
	int lfd = xlisten(&p->listen, 4 * PERF_SLOTS, &p->setup);
	announce_listening(&p->listen);
	p->step = "accept";
	accept_all(p, lfd);
	unlisten(lfd, &p->listen);
	p->started_ns = now_ns();
	note_buffer(p);
	zerocopy_streams(p);
	announce(p);
	/* The test bits are in the run order; the first may start at once. */
	unsigned first = p->o.tests & -p->o.tests;
	p->step = "start";
	expect_quiet(p, p->o.tests & ~(2 * first - 1), "start");

	for (int i = 0; i < PERF_TESTS_N; i++) {
		if (!(p->o.tests & perf_tests[i].bit))
			continue;
		p->running = &perf_tests[i];
		p->running_since_ns = now_ns();
		run_test[i](p, &p->run[i]);
		p->run[i].done = true;
	}
	p->running = NULL;
	p->step = "control";
	expect_quiet_control(p);
	set_fatal_hook(NULL, NULL);
	if (progress_lines(p))
		warn("every test done in %s s",
			 seconds_since(secs, sizeof(secs), p->started_ns));
	int code = p->corruption == 1 ? EXIT_FAIL : EXIT_PASS;
	if (code) {
		/* The original host carries on after a corrupt echo; so does
		 * this run, and it fails at the end. */
		p->failure = (struct failure){.code = code,
					      .test = &perf_tests[PERF_TEST_LATENCY],
					      .step = "data corruption check"};
		format(p->failure.text, sizeof(p->failure.text),
		       "latency: data corruption check FAILED: %s",
		       p->corruption_why);
	}
	perf_report(p);
	if (code)
		warn("%s", p->failure.text);
	for (int i = 0; i < PERF_TESTS_N; i++)
		for (int k = 0; k < PERF_RESULTS_MAX; k++)
			xfree(p->run[i].result[k].v);
	if (ENABLE_FEATURE_PERF_INTERVAL)
		pthread_mutex_destroy(&p->intervals.lock);
	xfree(p->intervals.v);
	xfree(p);
	return code;
}
