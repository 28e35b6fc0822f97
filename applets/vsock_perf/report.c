// SPDX-License-Identifier: MIT
/* vsock-perf's report: the table, the JSON object and the lines of a
 * failed run, from the run's state (perf.h). */
#include "perf.h"

struct row {
	const char *key, *label;
	struct series *series;
	bool latency, done;
};

static void print_json_summary(const struct row *r)
{
	static const char *const keys[6] = {"min", "p_25th", "p_50th", "p_75th",
					    "p_99th", "max"};
	struct summary m;
	char num[32];

	if (!r->done) {
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

/* A JSON string: quotes, backslashes and control characters escaped. */
static void print_json_string(const char *s)
{
	char buf[8];

	out("\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			out("\\%c", c);
		else if (c < 0x20)
			out("\\u%04x", c);
		else {
			buf[0] = (char)c;
			buf[1] = '\0';
			out("%s", buf);
		}
	}
	out("\"");
}

/* The socket buffer asked for on this transport; 0: the kernel's. */
static uint64_t buffer_asked(const struct perf *p)
{
	return buffer_size_for(&p->listen, p->o.setup.buffer_size);
}

/* Beyond the original host's fields, only what differs from the
 * protocol's defaults. */
static void print_json_settings(const struct perf *p)
{
	if (p->o.echo_timeout_ms != PERF_ECHO_DEADLINE_MS)
		out(", \"echo_timeout_ms\": %llu",
		    (unsigned long long)p->o.echo_timeout_ms);
	if (buffer_asked(p))
		out(", \"buffer_size\": %llu, \"buffer_granted\": %llu",
		    (unsigned long long)buffer_asked(p),
		    (unsigned long long)p->buffer_granted);
	if (ENABLE_FEATURE_ZEROCOPY && p->o.setup.zerocopy)
		out(", \"zerocopy\": %s", p->zerocopy_ran ? "true" : "false");
}

/* With --verify, "verified" per test: true, false (a difference), null
 * (not asked for, or not run); and the bytes checked. */
static void print_json_verified(const struct perf *p)
{
	if (!verifying(p))
		return;
	for (int pass = 0; pass < 2; pass++) {
		out(pass ? ", \"verified_bytes\": {" : ", \"verified\": {");
		for (int i = 0; i < PERF_TESTS_N; i++) {
			const struct test_run *r = &p->run[i];
			out("%s\"%s\": ", i ? ", " : "", r->test->name);
			if (r->verified < 0)
				out("null");
			else if (pass)
				out("%llu", (unsigned long long)r->checked);
			else
				out("%s", r->verified ? "true" : "false");
		}
		out("}");
	}
}

static void print_json_intervals(struct perf *p)
{
	struct interval_log *log = &p->intervals;
	char a[32], b[32], rate[32];

	if (!sampling(p))
		return;
	pthread_mutex_lock(&log->lock);
	out(", \"intervals\": [");
	for (size_t i = 0; i < log->n; i++) {
		const struct interval *v = &log->v[i];
		out("%s{\"test\": \"%s\", \"start\": %s, \"end\": %s, "
		    "\"bytes\": %llu, \"MebibytesPerSecond\": %s}", i ? ", " : "",
		    v->test->name, format_fixed(a, sizeof(a), v->start_s, 3),
		    format_fixed(b, sizeof(b), v->end_s, 3),
		    (unsigned long long)v->bytes,
		    format_fixed(rate, sizeof(rate), (double)v->bytes / 1048576.0 /
				 (v->end_s - v->start_s), 3));
	}
	out("]");
	pthread_mutex_unlock(&log->lock);
}

/* A failed run says why: the test under way (null before the first), the
 * step, the message and the exit status. */
static void print_json_error(const struct perf *p)
{
	const struct failure *f = &p->failure;

	if (!f->code)
		return;
	out(", \"error\": {\"test\": ");
	if (f->test)
		out("\"%s\"", f->test->name);
	else
		out("null");
	out(", \"step\": ");
	print_json_string(f->step ? f->step : "");
	out(", \"message\": ");
	print_json_string(f->text);
	out(", \"exit_code\": %d}", f->code);
}

/* The echo check's verdict: -1 not run (or cut short before any echo
 * differed), 0 passed, 1 an echo differed. */
static int corruption_verdict(const struct perf *p)
{
	if (p->corruption == 0 && !p->run[PERF_TEST_LATENCY].done)
		return -1;
	return p->corruption;
}

/* data_corruption as the original host's Measurements say it: true when
 * the check passed, false when an echo differed, null when not run. */
static void print_json(struct perf *p, const struct row *rows, size_t n)
{
	int corruption = corruption_verdict(p);

	out("{\"data_corruption\": %s",
	       corruption < 0 ? "null" : corruption ? "false" : "true");
	for (size_t i = 0; i < n; i++) {
		out(", \"%s\": ", rows[i].key);
		print_json_summary(&rows[i]);
	}
	print_json_settings(p);
	print_json_verified(p);
	print_json_intervals(p);
	print_json_error(p);
	out("}\n");
}

/* A row of statistics; the first row of a test counts its samples. */
static void print_table_row(const char *label, const char *unit,
			    const struct summary *m, double scale)
{
	const double v[6] = {m->min, m->p25, m->p50, m->p75, m->p99, m->max};
	char num[32];

	out("%-28s %-7s", label, unit);
	for (int i = 0; i < 6; i++)
		out(" %10s", format_fixed(num, sizeof(num), v[i] * scale, 2));
	if (*label)
		out(" %8zu", m->n);
	out("\n");
}

static void print_table_settings(const struct perf *p)
{
	if (p->o.echo_timeout_ms != PERF_ECHO_DEADLINE_MS)
		out("echo bound: %llu ms (the protocol's is %u ms)\n",
		    (unsigned long long)p->o.echo_timeout_ms,
		    PERF_ECHO_DEADLINE_MS);
	if (buffer_asked(p))
		out("socket buffer: %llu bytes asked, %llu granted\n",
		    (unsigned long long)buffer_asked(p),
		    (unsigned long long)p->buffer_granted);
	if (ENABLE_FEATURE_ZEROCOPY && p->o.setup.zerocopy)
		out("sends: %s\n", p->zerocopy_ran ? "MSG_ZEROCOPY"
						   : "plain (no MSG_ZEROCOPY here)");
}

/* --verify: one line per test that ran. */
static void print_table_verified(const struct perf *p)
{
	if (!verifying(p))
		return;
	for (int i = 0; i < PERF_TESTS_N; i++) {
		const struct test_run *r = &p->run[i];
		if (r->verified >= 0)
			out("verified %s: %s, %llu bytes checked\n",
			    r->test->label, r->verified ? "PASSED" : "FAILED",
			    (unsigned long long)r->checked);
	}
}

static void print_table(const struct perf *p, const struct row *rows, size_t n)
{
	/* MiB/s to Gbit/s: 2^20 bytes x 8 bits / 10^9. */
	const double gbit = 1048576.0 * 8 / 1e9;
	char where[ADDRESS_TEXT_MAX], secs[32];

	format_address(&p->listen, where, sizeof(where));
	out("vsock-perf on %s: %llu bytes per iteration\n", where,
	       (unsigned long long)p->o.size);
	print_table_settings(p);
	out("%-28s %-7s %10s %10s %10s %10s %10s %10s %8s\n", "test", "unit",
	       "min", "p25", "p50", "p75", "p99", "max", "samples");
	for (size_t i = 0; i < n; i++) {
		struct summary m;
		if (!rows[i].done)
			continue;
		summarize(rows[i].series->v, rows[i].series->n, &m);
		if (rows[i].latency) {
			print_table_row(rows[i].label, "us", &m, 1e-3);
			continue;
		}
		print_table_row(rows[i].label, "MiB/s", &m, 1);
		print_table_row("", "Gbit/s", &m, gbit);
	}
	int corruption = corruption_verdict(p);
	out("data corruption check: %s\n",
	       corruption < 0 ? "not run" : corruption ? "FAILED" : "PASSED");
	print_table_verified(p);
	if (p->failure.code)
		out("run FAILED (exit %d): %s\n", p->failure.code,
		    p->failure.text);
	out("run took %s s\n", seconds_since(secs, sizeof(secs), p->started_ns));
}

/* Every result of every test, in the tests' order: those that completed
 * with their figures, the others as not run. */
void perf_report(struct perf *p)
{
	struct row rows[PERF_TESTS_N * PERF_RESULTS_MAX];
	size_t n = 0;

	for (int i = 0; i < PERF_TESTS_N; i++) {
		struct test_run *r = &p->run[i];
		for (int k = 0; k < PERF_RESULTS_MAX && r->test->results[k].key; k++)
			rows[n++] = (struct row){r->test->results[k].key,
						 r->test->results[k].label,
						 &r->result[k], r->test->echo,
						 r->done};
	}
	if (p->o.json)
		print_json(p, rows, n);
	else
		print_table(p, rows, n);
}

/* A fatal error ends the run: the report still comes out, with what
 * completed and why the run failed (the exit status stays the error's). */
void perf_report_failure(void *arg, int code, const char *text)
{
	struct perf *p = arg;

	p->failure.code = code;
	p->failure.test = p->running;
	p->failure.step = p->step;
	format(p->failure.text, sizeof(p->failure.text), "%s", text);
	perf_report(p);
}
