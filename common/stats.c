/* Order statistics as the original host computes them: sort, then take
 * the sample at index floor(p/100 * (n - 1)). */
#include "vsockbox.h"

#include <stdlib.h>

size_t percentile_index(size_t n, unsigned p)
{
	if (n == 0)
		return 0;
	/* Integer arithmetic: floor(p * (n - 1) / 100) exactly. */
	return (size_t)(((uint64_t)p * (uint64_t)(n - 1)) / 100u);
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void summarize(double *samples, size_t n, struct summary *out)
{
	out->n = n;
	if (n == 0) {
		out->min = out->p25 = out->p50 = out->p75 = out->p99 = out->max = 0;
		return;
	}
	qsort(samples, n, sizeof(samples[0]), compare_doubles);
	out->min = samples[0];
	out->p25 = samples[percentile_index(n, 25)];
	out->p50 = samples[percentile_index(n, 50)];
	out->p75 = samples[percentile_index(n, 75)];
	out->p99 = samples[percentile_index(n, 99)];
	out->max = samples[n - 1];
}

/* Fixed-point text without the C library's floating-point printf, which
 * would double the size of a static musl binary. Rounds half up. */
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
