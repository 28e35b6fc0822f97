/* SPDX-License-Identifier: MIT */
/* vsock-perf's own: a run's state, shared by its tests (vsock_perf.c) and
 * its report (report.c: the table, the JSON, the failure lines). */
#ifndef VSOCK_PERF_PERF_H
#define VSOCK_PERF_PERF_H

#include "vsockbox.h"

struct perf_options {
	struct address listen, guest;
	uint64_t size, count, latency_count, io_size, timeout_s;
	uint64_t echo_timeout_ms, connect_timeout_s, interval_s;
	unsigned tests;
	bool json, progress, verify;
	struct socket_setup setup;	/* as asked; struct perf has the run's */
};

struct series {
	double *v;
	size_t n;
	bool ran;
};

/* One test of this run: its row, what the command line makes of it, and
 * its results, one series per result of the row. */
struct test_run {
	const struct perf_test *test;
	uint64_t count;
	size_t io_size;
	struct series result[PERF_RESULTS_MAX];
	bool done;		/* completed: its figures are reported */
	int verified;		/* --verify: -1 not run, 0 a difference, 1 clean */
	uint64_t checked;	/* bytes --verify found as sent */
	_Atomic uint64_t moved;	/* bytes so far, both ways (--interval) */
};

/* --interval: one sample per interval of a running throughput test. */
struct interval {
	const struct perf_test *test;
	double start_s, end_s;	/* since the test started */
	uint64_t bytes;
};

struct interval_log {
	pthread_mutex_t lock;	/* the sampler appends, a fatal error reads */
	struct interval *v;
	size_t n, cap;
};

/* Why a run failed, for the report (the fatal error's hook). */
struct failure {
	int code;		/* the exit status; 0: none */
	const struct perf_test *test;	/* NULL: none running */
	const char *step;
	char text[512];
};

struct perf {
	struct perf_options o;
	struct socket_setup setup;
	struct address listen;
	struct conn conn[PERF_SLOTS];
	struct test_run run[PERF_TESTS_N];
	int corruption;		/* -1 not checked, 0 clean, 1 corrupted */
	char corruption_why[160];	/* the first difference */
	bool zerocopy_ran;	/* MSG_ZEROCOPY sends on every data stream */
	uint64_t buffer_granted;	/* what the kernel gave (0: unknown) */
	uint64_t started_ns;
	const struct perf_test *running;	/* the test under way */
	const char *step;	/* what the run is doing, for a failure */
	struct interval_log intervals;
	struct failure failure;
};

/* --verify asked for (and there is a --verify). */
static inline bool verifying(const struct perf *p)
{
	return ENABLE_FEATURE_VERIFY && p->o.verify;
}

/* --interval asked for (and there is an --interval). */
static inline bool sampling(const struct perf *p)
{
	return ENABLE_FEATURE_PERF_INTERVAL && p->o.interval_s;
}

static inline const char *seconds_since(char *buf, size_t len, uint64_t started)
{
	return format_fixed(buf, len, (double)(now_ns() - started) / 1e9, 1);
}

/* Every result of every test: the table, or with --json one object. */
void perf_report(struct perf *p);
/* The fatal error's hook: the report still comes out, with why. */
void perf_report_failure(void *arg, int code, const char *text);

#endif
