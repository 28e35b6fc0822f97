/* vsock-perf: the micro benchmark, host side (PROTOCOL.md).
 *
 * Accepts the guest's nine connections (told apart by source port), then
 * runs latency, bidirectional, unidirectional and multi stream tests in
 * that order, each after its magic number arrives on the control
 * connection, and prints percentiles as a table or JSON. */
#include "vsockbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: vsock-perf [--listen ADDR] [--size BYTES] [--count N] [--latency-count N]\n"
	"                  [--tests LIST] [--json] [--io-size BYTES] [--timeout S]\n"
	"\n"
	"Micro benchmark, host side: wait up to 15 s for the guest's connections from\n"
	"ports 8501..8509, then run the latency (8502), bidirectional (8509, magic 129),\n"
	"unidirectional (8503, magic 123) and multi stream (8504..8508, magics 124..128)\n"
	"tests and print min, p25, p50, p75, p99 and max of each.\n"
	"\n"
	"  --listen ADDR        where to listen (default vsock:any:8500; port 0: any)\n"
	"  --size BYTES         bytes per iteration, K/M/G suffixes (default 128M)\n"
	"  --count N            iterations of every throughput test (default 100\n"
	"                       bidirectional, 100 unidirectional, 50 multi stream)\n"
	"  --latency-count N    timed 4096-byte round trips (default 10000)\n"
	"  --tests LIST         comma list of latency,bidir,unidir,multi (default all);\n"
	"                       only the connections those tests use are expected\n"
	"  --json               one JSON object on stdout instead of the table\n"
	"  --io-size BYTES      bytes per read or write call (default:\n"
	"                       unidirectional 1M, bidirectional 512K, multi 128K)\n"
	"  --timeout S          bound on every other wait, in seconds (default 30)\n"
	"\n"
	"Exit: 0 all tests ran and the data check passed, 1 protocol or data failure,\n"
	"2 usage, 3 environment or time-out.\n";

enum { SLOT_CTL, SLOT_ECHO, SLOT_UNIDIR, SLOT_BIDIR, SLOT_MULTI, SLOTS =
	       SLOT_MULTI + PERF_MULTI_STREAMS };

struct series {
	double *v;
	size_t n;
	bool ran;
};

struct perf {
	struct settings s;
	struct address listen;
	struct conn conn[SLOTS];
	bool expected[SLOTS];
	int corruption;		/* -1 not checked, 0 clean, 1 corrupted */
	char corruption_why[128];	/* the first difference */
	struct series latency, tx, rx, unidir, multi;
};

static uint32_t slot_port(int slot)
{
	static const uint32_t ports[SLOT_MULTI] = {
		PERF_CTL_PORT, PERF_ECHO_PORT, PERF_UNIDIR_PORT, PERF_BIDIR_PORT,
	};
	return slot < SLOT_MULTI ? ports[slot]
				 : (uint32_t)(PERF_MULTI_PORT + slot - SLOT_MULTI);
}

static void expect_connections(struct perf *p)
{
	unsigned t = p->s.tests;
	p->expected[SLOT_CTL] = t & (TEST_BIDIR | TEST_UNIDIR | TEST_MULTI);
	p->expected[SLOT_ECHO] = t & TEST_LATENCY;
	p->expected[SLOT_UNIDIR] = t & TEST_UNIDIR;
	p->expected[SLOT_BIDIR] = t & TEST_BIDIR;
	for (int i = 0; i < PERF_MULTI_STREAMS; i++)
		p->expected[SLOT_MULTI + i] = t & TEST_MULTI;
}

static int slot_of_port(uint32_t port)
{
	for (int slot = 0; slot < SLOTS; slot++)
		if (slot_port(slot) == port)
			return slot;
	return -1;
}

static unsigned slot_test(int slot)
{
	switch (slot) {
	case SLOT_CTL: return 0;
	case SLOT_ECHO: return TEST_LATENCY;
	case SLOT_UNIDIR: return TEST_UNIDIR;
	case SLOT_BIDIR: return TEST_BIDIR;
	default: return TEST_MULTI;
	}
}

/* Nothing may arrive on a data connection before its test: the guest
 * writes only after its magic, and on unidirectional streams only after
 * it has read. Checks the connections of the given tests. */
static void expect_quiet(struct perf *p, unsigned tests, const char *now)
{
	for (int slot = 0; slot < SLOTS; slot++) {
		struct conn *c = &p->conn[slot];
		char byte;
		if (c->fd < 0 || !(slot_test(slot) & tests))
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

static unsigned min_ms(unsigned protocol_ms, unsigned timeout_s)
{
	return protocol_ms < timeout_s * 1000u ? protocol_ms : timeout_s * 1000u;
}

/* ---- connections ---- */

static void accept_all(struct perf *p, int lfd)
{
	unsigned deadline_ms = min_ms(PERF_CONNECT_DEADLINE_MS, p->s.timeout_s);
	uint64_t deadline = now_ns() + (uint64_t)deadline_ms * 1000000u;
	char where[ADDRESS_TEXT_MAX];
	int missing = 0;

	format_address(&p->listen, where, sizeof(where));
	for (int slot = 0; slot < SLOTS; slot++)
		missing += p->expected[slot];
	while (missing > 0) {
		struct conn c;
		struct address peer;
		uint64_t now = now_ns();
		int left = now >= deadline ? 0 : (int)((deadline - now) / 1000000u);
		int err = conn_accept(&c, lfd, &p->listen, left, &peer);
		if (err == ETIMEDOUT)
			die(EXIT_ENV, "accept %s: timed out after %u ms with %d of "
			    "the guest's connections missing", where, deadline_ms,
			    missing);
		if (err)
			die(EXIT_ENV, "accept %s: %s", where, strerror(err));
		uint32_t port = peer.port;
		int slot = slot_of_port(port);
		if (slot < 0 || !p->expected[slot])
			die(EXIT_FAIL, "accept %s: unexpected connection from "
			    "port %u", c.name, (unsigned)port);
		if (p->conn[slot].fd >= 0)
			die(EXIT_FAIL, "accept %s: second connection from port %u",
			    c.name, (unsigned)port);
		set_io_timeout(c.fd, p->s.timeout_s);
		p->conn[slot] = c;
		missing--;
	}
}

static const char *magic_name(unsigned magic)
{
	if (magic == MAGIC_BIDIR)
		return " (bidirectional)";
	if (magic == MAGIC_UNIDIR)
		return " (unidirectional)";
	if (magic >= MAGIC_MULTI && magic < MAGIC_MULTI + PERF_MULTI_STREAMS)
		return " (multi stream)";
	return "";
}

static unsigned read_magic(struct perf *p, const char *test)
{
	struct conn *ctl = &p->conn[SLOT_CTL];
	unsigned char magic;
	int err = read_within(ctl->fd, &magic, 1,
			      (int)min_ms(PERF_MAGIC_DEADLINE_MS, p->s.timeout_s));
	if (err)
		die(io_exit_code(err), "%s: read magic from %s: %s", test,
		    ctl->name, io_error_text(err));
	return magic;
}

static void expect_magic(struct perf *p, const char *test, unsigned expected)
{
	unsigned magic = read_magic(p, test);
	if (magic != expected)
		die(EXIT_FAIL, "%s: magic %u%s out of order, expected %u", test,
		    magic, magic_name(magic), expected);
}

static void record(struct series *s, size_t capacity)
{
	s->v = xmalloc(capacity * sizeof(double));
	s->n = 0;
	s->ran = true;
}

static double mib_per_s(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes / (1024.0 * 1024.0) / ((double)ns / 1e9) : 0;
}

/* ---- latency ---- */

static void note_corruption(struct perf *p, const char *what, unsigned i,
			    size_t at)
{
	if (p->corruption != 1)
		format(p->corruption_why, sizeof(p->corruption_why),
		       "%s packet %u differs at byte %zu", what, i, at);
	p->corruption = 1;
}

static void round_trip(struct perf *p, const unsigned char *out,
		       unsigned char *in, const char *what)
{
	struct conn *c = &p->conn[SLOT_ECHO];
	int err = write_full(c->fd, out, PERF_ECHO_PACKET);
	if (err)
		die(io_exit_code(err), "latency: write %s packet to %s: %s", what,
		    c->name, io_error_text(err));
	/* One recv(MSG_WAITALL) per echo; SO_RCVTIMEO bounds the wait. */
	err = read_full(c->fd, in, PERF_ECHO_PACKET);
	if (err)
		die(io_exit_code(err), "latency: read %s echo from %s: %s", what,
		    c->name, io_error_text(err));
}

static void run_latency(struct perf *p)
{
	unsigned char out[PERF_ECHO_PACKET], in[PERF_ECHO_PACKET];
	struct progress prog;

	p->corruption = 0;
	for (unsigned i = 0; i < PERF_WARMUP_PACKETS; i++) {
		warmup_packet(i, out, sizeof(out));
		round_trip(p, out, in, "warm-up");
		if (memcmp(out, in, sizeof(in)) != 0) {
			size_t at = 0;
			while (out[at] == in[at])
				at++;
			note_corruption(p, "warm-up", i, at);
		}
	}
	memset(out, PERF_LATENCY_BYTE, sizeof(out));
	record(&p->latency, p->s.latency_count);
	set_recv_timeout_ms(p->conn[SLOT_ECHO].fd,
			    min_ms(PERF_ECHO_DEADLINE_MS, p->s.timeout_s));
	progress_start(&prog, "latency", p->s.latency_count);
	for (uint64_t i = 0; i < p->s.latency_count; i++) {
		uint64_t start = now_ns();
		round_trip(p, out, in, "timed (100 ms at most)");
		p->latency.v[p->latency.n++] = (double)(now_ns() - start);
		size_t at = find_not_byte(in, sizeof(in), PERF_LATENCY_BYTE);
		if (at != sizeof(in))
			note_corruption(p, "timed", (unsigned)i, at);
		if ((i + 1) % 1000 == 0)
			progress_step(&prog, i + 1);
	}
	progress_end(&prog);
	/* Our close ends the guest's echo loop. */
	conn_close(&p->conn[SLOT_ECHO]);
}

/* ---- bidirectional ---- */

struct bidir_half {
	struct perf *p;
	uint64_t count;
	uint64_t start;
	uint64_t *ends;		/* when each iteration's last byte moved */
	void *buf;
	size_t io_size;
	int err;
};

static void *bidir_reader(void *arg)
{
	struct bidir_half *h = arg;

	for (uint64_t i = 0; i < h->count && !h->err; i++) {
		h->err = recv_bytes(h->p->conn[SLOT_BIDIR].fd, h->p->s.size,
				    h->buf, h->io_size);
		h->ends[i] = now_ns();
	}
	return NULL;
}

static void bidir_writer(struct bidir_half *h, struct progress *prog)
{
	for (uint64_t i = 0; i < h->count && !h->err; i++) {
		h->err = send_bytes(h->p->conn[SLOT_BIDIR].fd, h->p->s.size,
				    h->buf, h->io_size);
		h->ends[i] = now_ns();
		progress_step(prog, i + 1);
	}
}

static void rates(struct series *out, const struct bidir_half *h,
		  uint64_t count, uint64_t size)
{
	uint64_t prev = h->start;
	record(out, count);
	for (uint64_t i = 0; i < count; i++) {
		out->v[out->n++] = mib_per_s(size, h->ends[i] - prev);
		prev = h->ends[i];
	}
}

static void run_bidir(struct perf *p)
{
	uint64_t count = p->s.count_given ? p->s.count : PERF_BIDIR_COUNT;
	const struct settings *s = &p->s;
	size_t io_size = io_size_for(s, BIDIR_IO_SIZE);
	struct bidir_half rx = {p, count, 0, NULL, NULL, io_size, 0},
			  tx = {p, count, 0, NULL, NULL, io_size, 0};
	struct progress prog;
	pthread_t thread;

	expect_quiet(p, TEST_UNIDIR | TEST_MULTI, "bidirectional");
	expect_magic(p, "bidirectional", MAGIC_BIDIR);
	rx.ends = xmalloc(count * sizeof(uint64_t));
	tx.ends = xmalloc(count * sizeof(uint64_t));
	rx.buf = xmalloc(io_size);
	tx.buf = xmalloc(io_size);
	progress_start(&prog, "bidirectional", count);
	rx.start = tx.start = now_ns();
	xthread_start(&thread, bidir_reader, &rx);
	bidir_writer(&tx, &prog);
	xthread_join(thread);
	progress_end(&prog);
	struct conn *c = &p->conn[SLOT_BIDIR];
	if (rx.err)
		die(io_exit_code(rx.err), "bidirectional: read %s: %s", c->name,
		    io_error_text(rx.err));
	if (tx.err)
		die(io_exit_code(tx.err), "bidirectional: write %s: %s", c->name,
		    io_error_text(tx.err));
	rates(&p->tx, &tx, count, s->size);
	rates(&p->rx, &rx, count, s->size);
	xfree(rx.ends);
	xfree(tx.ends);
	xfree(rx.buf);
	xfree(tx.buf);
	conn_close(c);
}

/* ---- unidirectional, one stream or five ---- */

struct stream {
	struct perf *p;
	struct conn *conn;
	uint64_t count;
	double *samples;
	void *buf;
	size_t io_size;
	struct progress *prog;
	const char *failed_op;
	int err;
};

/* Per iteration: write SIZE, read SIZE back; 2 x SIZE over the round trip. */
static void *unidir_stream(void *arg)
{
	struct stream *st = arg;
	const struct settings *s = &st->p->s;

	for (uint64_t i = 0; i < st->count; i++) {
		uint64_t start = now_ns();
		st->err = send_bytes(st->conn->fd, s->size, st->buf, st->io_size);
		if (st->err) {
			st->failed_op = "write";
			return NULL;
		}
		st->err = recv_bytes(st->conn->fd, s->size, st->buf, st->io_size);
		if (st->err) {
			st->failed_op = "read";
			return NULL;
		}
		st->samples[i] = mib_per_s(2 * s->size, now_ns() - start);
		if (st->prog)
			progress_step(st->prog, i + 1);
	}
	return NULL;
}

static void stream_failed(const char *test, const struct stream *st)
{
	if (st->err)
		die(io_exit_code(st->err), "%s: %s %s: %s", test, st->failed_op,
		    st->conn->name, io_error_text(st->err));
}

static void run_unidir(struct perf *p)
{
	uint64_t count = p->s.count_given ? p->s.count : PERF_UNIDIR_COUNT;
	struct progress prog;

	expect_magic(p, "unidirectional", MAGIC_UNIDIR);
	expect_quiet(p, TEST_UNIDIR | TEST_MULTI, "unidirectional");
	size_t io_size = io_size_for(&p->s, UNIDIR_IO_SIZE);

	record(&p->unidir, count);
	struct stream st = {p, &p->conn[SLOT_UNIDIR], count, p->unidir.v,
			    xmalloc(io_size), io_size, &prog, "", 0};
	progress_start(&prog, "unidirectional", count);
	unidir_stream(&st);
	progress_end(&prog);
	stream_failed("unidirectional", &st);
	xfree(st.buf);
	p->unidir.n = count;
	conn_close(st.conn);
}

static void expect_multi_magics(struct perf *p)
{
	bool seen[PERF_MULTI_STREAMS] = {false};

	for (int i = 0; i < PERF_MULTI_STREAMS; i++) {
		unsigned magic = read_magic(p, "multi stream");
		unsigned k = magic - MAGIC_MULTI;
		if (magic < MAGIC_MULTI || k >= PERF_MULTI_STREAMS)
			die(EXIT_FAIL, "multi stream: magic %u%s out of order, "
			    "expected %u..%u", magic, magic_name(magic),
			    MAGIC_MULTI, MAGIC_MULTI + PERF_MULTI_STREAMS - 1);
		if (seen[k])
			die(EXIT_FAIL, "multi stream: magic %u twice", magic);
		seen[k] = true;
	}
}

static void run_multi(struct perf *p)
{
	uint64_t count = p->s.count_given ? p->s.count : PERF_MULTI_COUNT;
	struct stream st[PERF_MULTI_STREAMS];
	pthread_t threads[PERF_MULTI_STREAMS];

	expect_multi_magics(p);
	expect_quiet(p, TEST_MULTI, "multi stream");
	record(&p->multi, count * PERF_MULTI_STREAMS);
	size_t io_size = io_size_for(&p->s, MULTI_IO_SIZE);

	for (int i = 0; i < PERF_MULTI_STREAMS; i++) {
		st[i] = (struct stream){p, &p->conn[SLOT_MULTI + i], count,
					p->multi.v + (size_t)i * count,
					xmalloc(io_size), io_size, NULL, "", 0};
		xthread_start(&threads[i], unidir_stream, &st[i]);
	}
	for (int i = 0; i < PERF_MULTI_STREAMS; i++)
		xthread_join(threads[i]);
	for (int i = 0; i < PERF_MULTI_STREAMS; i++) {
		stream_failed("multi stream", &st[i]);
		xfree(st[i].buf);
		conn_close(st[i].conn);
	}
	p->multi.n = count * PERF_MULTI_STREAMS;
}

/* ---- results ---- */

struct row {
	const char *key, *label;
	struct series *series;
	bool latency;
};

static void print_json_summary(const struct row *r)
{
	static const char *const keys[6] = {"min", "p_25th", "p_50th", "p_75th",
					    "p_99th", "max"};
	struct summary m;
	char num[32];

	if (!r->series->ran) {
		out("null");
		return;
	}
	summarize(r->series->v, r->series->n, &m);
	const double v[6] = {m.min, m.p25, m.p50, m.p75, m.p99, m.max};
	out("{");
	for (int i = 0; i < 6; i++)
		out("\"%s\": %s, ", keys[i],
		       format_fixed(num, sizeof(num), v[i], r->latency ? 0 : 3));
	out("\"unit\": \"%s\"}",
	       r->latency ? "Nanoseconds" : "MebibytesPerSecond");
}

static void print_json(const struct perf *p, const struct row *rows, size_t n)
{
	out("{\"data_corruption\": %s",
	       p->corruption < 0 ? "null" : p->corruption ? "true" : "false");
	for (size_t i = 0; i < n; i++) {
		out(", \"%s\": ", rows[i].key);
		print_json_summary(&rows[i]);
	}
	out("}\n");
}

static void print_table_row(const char *label, const char *unit,
			    const struct summary *m, double scale)
{
	const double v[6] = {m->min, m->p25, m->p50, m->p75, m->p99, m->max};
	char num[32];

	out("%-28s %-7s", label, unit);
	for (int i = 0; i < 6; i++)
		out(" %10s", format_fixed(num, sizeof(num), v[i] * scale, 2));
	out("\n");
}

static void print_table(const struct perf *p, const struct row *rows, size_t n)
{
	/* MiB/s to Gbit/s: 2^20 bytes x 8 bits / 10^9. */
	const double gbit = 1048576.0 * 8 / 1e9;
	char where[ADDRESS_TEXT_MAX];

	format_address(&p->listen, where, sizeof(where));
	out("vsock-perf on %s: %llu bytes per iteration\n", where,
	       (unsigned long long)p->s.size);
	out("%-28s %-7s %10s %10s %10s %10s %10s %10s\n", "test", "unit",
	       "min", "p25", "p50", "p75", "p99", "max");
	for (size_t i = 0; i < n; i++) {
		struct summary m;
		if (!rows[i].series->ran)
			continue;
		summarize(rows[i].series->v, rows[i].series->n, &m);
		if (rows[i].latency) {
			print_table_row(rows[i].label, "us", &m, 1e-3);
			continue;
		}
		print_table_row(rows[i].label, "MiB/s", &m, 1);
		print_table_row("", "Gbit/s", &m, gbit);
	}
	out("data corruption check: %s\n",
	       p->corruption < 0 ? "not run" : p->corruption ? "FAILED" : "PASSED");
}

static void report(struct perf *p)
{
	const struct row rows[] = {
		{"round_trip_page", "round trip, 4096 B", &p->latency, true},
		{"tx_throughput", "bidirectional tx", &p->tx, false},
		{"rx_throughput", "bidirectional rx", &p->rx, false},
		{"single_stream_unidirectional", "unidirectional", &p->unidir,
		 false},
		{"multi_stream_unidirectional", "multi stream (5 streams)",
		 &p->multi, false},
	};
	size_t n = sizeof(rows) / sizeof(rows[0]);
	if (p->s.json)
		print_json(p, rows, n);
	else
		print_table(p, rows, n);
}

int vsock_perf_main(int argc, char **argv)
{
	struct perf *p = xmalloc(sizeof(*p));
	char where[ADDRESS_TEXT_MAX];

	settings_defaults(&p->s, PERF_HOST_PORT);
	p->s.listen = vsock_any(PERF_HOST_PORT);
	no_operands(argc, argv, parse_options(argc, argv,
		OPT_LISTEN | OPT_SIZE | OPT_COUNT | OPT_LATENCY_COUNT |
		OPT_TESTS | OPT_JSON | OPT_IO_SIZE | OPT_TIMEOUT, usage, &p->s));
	p->corruption = -1;
	for (int slot = 0; slot < SLOTS; slot++)
		p->conn[slot].fd = -1;
	expect_connections(p);

	p->listen = p->s.listen;
	int lfd = xlisten(&p->listen, SLOTS);
	format_address(&p->listen, where, sizeof(where));
	err_out("vsock-perf: listening on %s\n", where);
	accept_all(p, lfd);
	close(lfd);
	/* The test bits are in the run order; the first may start at once. */
	unsigned first = p->s.tests & -p->s.tests;
	expect_quiet(p, p->s.tests & ~(2 * first - 1), "start");

	if (p->s.tests & TEST_LATENCY)
		run_latency(p);
	if (p->s.tests & TEST_BIDIR)
		run_bidir(p);
	if (p->s.tests & TEST_UNIDIR)
		run_unidir(p);
	if (p->s.tests & TEST_MULTI)
		run_multi(p);
	report(p);
	int code = p->corruption == 1 ? EXIT_FAIL : EXIT_PASS;
	if (code)
		warn_msg("latency: data corruption check FAILED: %s",
			 p->corruption_why);
	xfree(p->latency.v);
	xfree(p->tx.v);
	xfree(p->rx.v);
	xfree(p->unidir.v);
	xfree(p->multi.v);
	xfree(p);
	return code;
}
