// SPDX-License-Identifier: MIT
/* Order statistics as the original host computes them: sort, then take
 * the sample at index floor(p/100 * (n - 1)). */
#include "vsockbox.h"


size_t percentile_index(size_t n, unsigned p)
{
	if (n == 0)
		return 0;
	/* Integer arithmetic: floor(p * (n - 1) / 100) exactly. */
	return (size_t)(((uint64_t)p * (uint64_t)(n - 1)) / 100u);
}

/* Heapsort: in place, n log n at worst, and a few hundred bytes where
 * the C library's qsort is a kilobyte of a static binary. */
static void sift_down(double *v, size_t root, size_t n)
{
	for (size_t child; (child = 2 * root + 1) < n; root = child) {
		if (child + 1 < n && v[child + 1] > v[child])
			child++;
		if (!(v[child] > v[root]))
			return;
		double t = v[root];
		v[root] = v[child];
		v[child] = t;
	}
}

static void sort_doubles(double *v, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(v, i, n);
	for (size_t end = n; end-- > 1;) {
		double t = v[0];
		v[0] = v[end];
		v[end] = t;
		sift_down(v, 0, end);
	}
}

void summarize(double *samples, size_t n, struct summary *out)
{
	out->n = n;
	if (n == 0) {
		out->min = out->p25 = out->p50 = out->p75 = out->p99 = out->max = 0;
		return;
	}
	sort_doubles(samples, n);
	out->min = samples[0];
	out->p25 = samples[percentile_index(n, 25)];
	out->p50 = samples[percentile_index(n, 50)];
	out->p75 = samples[percentile_index(n, 75)];
	out->p99 = samples[percentile_index(n, 99)];
	out->max = samples[n - 1];
}

/* Fixed-point text without the C library's floating-point printf, which
 * would double the size of a static musl binary. Rounds half away from
 * zero. */
const char *format_fixed(char *buf, size_t len, double v, unsigned decimals)
{
	static const uint64_t scale[] = {1, 10, 100, 1000, 10000};
	const char *sign = v < 0 ? "-" : "";

	if (decimals > 4)
		decimals = 4;
	if (v < 0)
		v = -v;
	if (!(v < 1e15)) {	/* also NaN */
		format(buf, len, "%s", v != v ? "nan" : "inf");
		return buf;
	}
	uint64_t units = (uint64_t)(v * (double)scale[decimals] + 0.5);
	uint64_t whole = units / scale[decimals], frac = units % scale[decimals];
	if (decimals)
		format(buf, len, "%s%llu.%0*llu", sign, (unsigned long long)whole,
			 (int)decimals, (unsigned long long)frac);
	else
		format(buf, len, "%s%llu", sign, (unsigned long long)whole);
	return buf;
}
