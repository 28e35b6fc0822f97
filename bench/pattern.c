// SPDX-License-Identifier: MIT
/*
 * pattern - the CPU cost of --verify: generating and checking its pattern,
 * per GiB, against memcpy of the same bytes (what a socket's copy costs):
 *
 *   pattern [GIB] [IO_SIZE]
 *
 * Prints one line per operation: "OP: S s CPU per GiB (G GiB/s)", the best
 * of five passes of GIB GiB (default 1) in sends or checks of IO_SIZE bytes
 * (default 1 MiB, the unidirectional applets' own), from an odd position
 * of the stream so that the unaligned edges are paid as on a real stream.
 * "generate" is a sender's work (pattern_next: a stamp per block), which
 * the memcpy line, the socket's copy of the same bytes, dwarfs.
 */
#include "vsockbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum { PASSES = 5 };

int main(int argc, char **argv)
{
	uint64_t gib = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
	size_t io = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 1u << 20;
	if (!gib || !io) {
		fprintf(stderr, "usage: pattern [GIB] [IO_SIZE]\n");
		return 2;
	}
	uint64_t total = gib << 30, calls = total / io;
	unsigned char *buf = malloc(io), *copy = malloc(io);
	if (!buf || !copy)
		return 3;
	static struct pattern stream;
	const struct pattern *seed = &stream;
	pattern_start(&stream, "bench", PERF_UNIDIR_PORT, PATTERN_TO_GUEST, 0);
	stream.pos = 3;
	double best[3] = {1e30, 1e30, 1e30};
	unsigned long long sink = 0;

	for (int pass = 0; pass < PASSES; pass++) {
		double t0 = cpu_s();
		for (uint64_t i = 0; i < calls; i++)
			sink += *(const unsigned char *)pattern_next(&stream, io);
		double t1 = cpu_s();
		/* The same stretch each time (the work does not depend on
		 * where): buf holds the stream's bytes from 3 now. */
		pattern_fill(seed, 3, buf, io);
		t1 = cpu_s();
		for (uint64_t i = 0; i < calls; i++)
			sink += pattern_find(seed, 3, buf, io);
		double t2 = cpu_s();
		for (uint64_t i = 0; i < calls; i++) {
			memcpy(copy, buf, io);
			sink += copy[i % io];
		}
		double t3 = cpu_s();
		double t[3] = {t1 - t0, t2 - t1, t3 - t2};
		for (int k = 0; k < 3; k++)
			if (t[k] < best[k])
				best[k] = t[k];
	}
	static const char *const ops[3] = {"generate", "check", "memcpy"};
	double done = (double)(calls * io) / (double)(1u << 30);
	for (int k = 0; k < 3; k++)
		printf("%s: %.3f s CPU per GiB (%.2f GiB/s)\n", ops[k],
		       best[k] / done, done / best[k]);
	pattern_end(&stream);
	return sink == 1 ? 1 : 0;	/* keeps the work; never 1 in fact */
}
