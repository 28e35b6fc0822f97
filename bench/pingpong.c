// SPDX-License-Identifier: MIT
/*
 * pingpong - the round-trip latency floor of one stream socket: the client
 * writes a packet, the server reads all of it and writes it back, N times.
 *
 *   pingpong [-m SIZE] [-n COUNT] [-w WARMUP]             fork: server and client in one run
 *   pingpong [-m SIZE] -l ADDR                            echo server only
 *   pingpong [-m SIZE] [-n COUNT] [-w WARMUP] -c ADDR     timing client only
 *
 * ADDR is tcp:IPV4:PORT or vsock:CID:PORT; the fork mode uses tcp:127.0.0.1:0.
 * TCP sockets get TCP_NODELAY. The client prints, in microseconds, percentiles
 * of the sorted round trips at index floor(p/100 * (n-1)):
 *   size=S count=N min_us=A p50_us=B p99_us=C max_us=D
 */
#define _POSIX_C_SOURCE 200809L
#include "protocol.h"	/* the defaults: vsock-perf's latency test */
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void echo(int fd, size_t size)
{
	char *buf = malloc(size);
	ssize_t r;

	if (!buf)
		ref_die("out of memory");
	while ((r = ref_read_full(fd, buf, size)) == (ssize_t)size)
		if (ref_write_full(fd, buf, size) < 0)
			ref_die_errno("write");
	if (r < 0)
		ref_die_errno("read");
	if (r > 0)
		ref_die("peer closed in the middle of a packet");
	free(buf);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static double pct_us(const uint64_t *sorted, size_t n, unsigned p)
{
	return (double)sorted[(size_t)p * (n - 1) / 100] / 1e3;
}

static void ping(int fd, size_t size, size_t count, size_t warmup)
{
	char *buf = malloc(size);
	uint64_t *rtt = calloc(count, sizeof(*rtt));

	if (!buf || !rtt)
		ref_die("out of memory");
	memset(buf, 42, size);
	for (size_t i = 0; i < warmup + count; i++) {
		uint64_t t0 = ref_now_ns();

		if (ref_write_full(fd, buf, size) < 0)
			ref_die_errno("write");
		ssize_t r = ref_read_full(fd, buf, size);
		if (r < 0)
			ref_die_errno("read");
		if ((size_t)r != size)
			ref_die("peer closed");
		if (i >= warmup)
			rtt[i - warmup] = ref_now_ns() - t0;
	}
	qsort(rtt, count, sizeof(*rtt), cmp_u64);
	printf("size=%zu count=%zu min_us=%.3f p50_us=%.3f p99_us=%.3f max_us=%.3f\n",
	       size, count, pct_us(rtt, count, 0), pct_us(rtt, count, 50),
	       pct_us(rtt, count, 99), pct_us(rtt, count, 100));
	if (fflush(stdout) == EOF)
		ref_die_errno("stdout");
	free(rtt);
	free(buf);
}

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: pingpong [-m SIZE] [-n COUNT] [-w WARMUP] [-l ADDR | -c ADDR]\n"
		"  -m  packet size (default %d)\n"
		"  -n  timed round trips (default %d)\n"
		"  -w  untimed warm-up round trips first (default %d)\n"
		"  -l  echo server only: listen on ADDR (tcp:IPV4:PORT or vsock:CID:PORT)\n"
		"  -c  timing client only: connect to ADDR\n"
		"  neither: fork an echo server on tcp:127.0.0.1:0 and time it\n",
		PERF_ECHO_PACKET, PERF_LATENCY_PACKETS, PERF_WARMUP_PACKETS);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *listen_addr = NULL, *connect_addr = NULL;
	uint64_t size = PERF_ECHO_PACKET, count = PERF_LATENCY_PACKETS;
	uint64_t warmup = PERF_WARMUP_PACKETS;
	int opt, fd;
	struct addr a;

	prog = "pingpong";
	while ((opt = getopt(argc, argv, "m:n:w:l:c:")) != -1) {
		switch (opt) {
		case 'm': size = ref_parse_size(optarg); break;
		case 'n': count = ref_parse_size(optarg); break;
		case 'w': warmup = ref_parse_size(optarg); break;
		case 'l': listen_addr = optarg; break;
		case 'c': connect_addr = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || (listen_addr && connect_addr) || size == 0 ||
	    size > (1u << 30) || count == 0 || count > (1u << 30) || warmup > (1u << 30))
		usage();

	if (connect_addr) {
		ref_parse_addr(connect_addr, &a);
		fd = ref_connect_to(&a, 0);
		ref_set_nodelay(fd);
		ping(fd, (size_t)size, (size_t)count, (size_t)warmup);
		if (close(fd) < 0)
			ref_die_errno("close");
		return 0;
	}

	ref_parse_addr(listen_addr ? listen_addr : "tcp:127.0.0.1:0", &a);
	int lfd = ref_listen_on(&a, 0);
	pid_t pid = 0;

	if (listen_addr)
		fprintf(stderr, "pingpong: listening on %s\n", ref_addr_str(&a));
	else if ((pid = fork()) < 0)
		ref_die_errno("fork");
	if (pid == 0) {		/* the echo server: -l, or the child */
		fd = ref_accept_one(lfd);
		ref_set_nodelay(fd);
		echo(fd, (size_t)size);
		if (!listen_addr)
			_exit(0);
	} else {		/* the parent times */
		fd = ref_connect_to(&a, 0);
		ref_set_nodelay(fd);
		ping(fd, (size_t)size, (size_t)count, (size_t)warmup);
	}
	if (close(fd) < 0 || close(lfd) < 0)
		ref_die_errno("close");
	if (pid > 0)
		ref_reap_child(pid, "echo server");
	return 0;
}
