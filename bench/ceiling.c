// SPDX-License-Identifier: MIT
/*
 * ceiling - the throughput ceiling of one stream socket: the least a program
 * can do to move N bytes (unidirectional) or N bytes each way at once
 * (bidirectional: a writer thread beside the reader), with large buffers.
 *
 *   ceiling [OPTIONS]            fork: server and client on tcp:127.0.0.1:0
 *   ceiling [OPTIONS] -l ADDR    server only (measures)
 *   ceiling [OPTIONS] -c ADDR    client only
 *   OPTIONS: [-B | -R] [-n BYTES] [-b IOSIZE] [-i ITER] [-S BUFSIZE]
 *
 * ADDR is tcp:IPV4:PORT or vsock:CID:PORT (inside a VM, for instance
 * -l vsock:any:5000 on the host and -c vsock:3:5000 in the guest, or
 * vsock:1:PORT for loopback). -S sets the socket buffers; vsock's default
 * (256 KiB) is small for throughput.
 * The server sends one "go" byte and starts its clock; the client starts
 * writing when it gets it. Unidirectional: the client writes, the server
 * reads. Round trip (-R, the unidirectional pattern of the vsock protocol):
 * per iteration the server writes ITER/2 bytes and then reads ITER/2 back,
 * the client reads them and then writes them, so the stream turns round
 * twice per iteration. The server times every ITER bytes (an iteration, as
 * vsock-perf does) and prints one line of key=value pairs, rates in MiB/s:
 *   mode=unidir bytes=N io=B iter=I seconds=S mibps=X p50_mibps=Y
 *   mode=roundtrip (the same keys)
 *   mode=bidir bytes=N io=B iter=I seconds=S mibps=X tx_mibps=.. rx_mibps=..
 *              tx_p50_mibps=.. rx_p50_mibps=..
 * mibps is the whole run (bidir: 2N over the later end), p50_mibps the median
 * iteration (index floor(0.5 * (n-1)) of the sorted rates), tx/rx each way,
 * a direction's time running from the start to its last byte written or read.
 */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)

struct xfer {
	int fd;
	int sending;		/* 1 writes, 0 reads; round trip: 1 writes first */
	int roundtrip;
	uint64_t bytes, iter;	/* in all, and per timed iteration */
	size_t io, n;		/* bytes per call; iterations */
	uint64_t *ends;		/* when each iteration's last byte moved */
};

/* Moves left bytes one way through buf. */
static void move_part(int fd, int sending, char *buf, size_t io, uint64_t left)
{
	while (left > 0) {
		size_t len = left < io ? (size_t)left : io;
		ssize_t r = (ssize_t)len;

		if (sending) {
			if (ref_write_full(fd, buf, len) < 0)
				ref_die_errno("write");
		} else {
			do
				r = read(fd, buf, len);
			while (r < 0 && errno == EINTR);
			if (r < 0)
				ref_die_errno("read");
			if (r == 0)
				ref_die("peer closed with %" PRIu64 " bytes to go", left);
		}
		left -= (uint64_t)r;
	}
}

static void move(struct xfer *x)
{
	char *buf = malloc(x->io);

	if (!buf)
		ref_die("out of memory");
	memset(buf, 42, x->io);
	for (size_t i = 0; i < x->n; i++) {
		uint64_t left = x->bytes - i * x->iter;

		if (left > x->iter)
			left = x->iter;
		if (x->roundtrip) {
			move_part(x->fd, x->sending, buf, x->io, left / 2);
			move_part(x->fd, !x->sending, buf, x->io, left - left / 2);
		} else {
			move_part(x->fd, x->sending, buf, x->io, left);
		}
		x->ends[i] = ref_now_ns();
	}
	free(buf);
}

static void *mover_thread(void *arg)
{
	move(arg);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of the iterations' rates, in MiB/s. */
static double p50_mibps(const struct xfer *x, uint64_t t0)
{
	double *rate = malloc(x->n * sizeof(*rate)), p50;
	uint64_t prev = t0;

	if (!rate)
		ref_die("out of memory");
	for (size_t i = 0; i < x->n; i++) {
		uint64_t b = x->bytes - i * x->iter;

		rate[i] = (double)(b < x->iter ? b : x->iter) / MIB /
			  ((double)(x->ends[i] - prev) / 1e9);
		prev = x->ends[i];
	}
	qsort(rate, x->n, sizeof(*rate), cmp_double);
	p50 = rate[(x->n - 1) / 2];
	free(rate);
	return p50;
}

static void run(int fd, int server, int bidir, int rt, uint64_t bytes, size_t io, uint64_t iter)
{
	size_t n = bytes ? (size_t)((bytes + iter - 1) / iter) : 0;
	struct xfer tx = { fd, 1, rt, bytes, iter, io, n, calloc(n + 1, sizeof(uint64_t)) };
	struct xfer rx = { fd, 0, rt, bytes, iter, io, n, calloc(n + 1, sizeof(uint64_t)) };
	uint64_t t0 = 0;
	pthread_t t;
	char go = 'g';
	int err;

	if (!tx.ends || !rx.ends)
		ref_die("out of memory");
	if (server) {
		t0 = ref_now_ns();
		if (ref_write_full(fd, &go, 1) < 0)
			ref_die_errno("write go");
	} else if (ref_read_full(fd, &go, 1) != 1 || go != 'g') {
		ref_die("no go byte from the server");
	}
	if (rt) {
		/* The server writes first, the client reads first. */
		move(server ? &tx : &rx);
		if (server)
			memcpy(rx.ends, tx.ends, n * sizeof(*rx.ends));
	} else if (!bidir) {
		move(server ? &rx : &tx);
	} else {
		if ((err = pthread_create(&t, NULL, mover_thread, &tx)) != 0) {
			errno = err;
			ref_die_errno("pthread_create");
		}
		move(&rx);
		if ((err = pthread_join(t, NULL)) != 0) {
			errno = err;
			ref_die_errno("pthread_join");
		}
	}
	if (server && n > 0) {
		double rx_s = (double)(rx.ends[n - 1] - t0) / 1e9;
		double tx_s = (double)(tx.ends[n - 1] - t0) / 1e9;
		double mib = (double)bytes / MIB;

		if (!bidir)
			printf("mode=%s bytes=%" PRIu64 " io=%zu iter=%" PRIu64
			       " seconds=%.6f mibps=%.1f p50_mibps=%.1f\n",
			       rt ? "roundtrip" : "unidir", bytes, io, iter,
			       rx_s, mib / rx_s, p50_mibps(&rx, t0));
		else
			printf("mode=bidir bytes=%" PRIu64 " io=%zu iter=%" PRIu64
			       " seconds=%.6f mibps=%.1f tx_mibps=%.1f rx_mibps=%.1f"
			       " tx_p50_mibps=%.1f rx_p50_mibps=%.1f\n", bytes, io, iter,
			       tx_s > rx_s ? tx_s : rx_s, 2 * mib / (tx_s > rx_s ? tx_s : rx_s),
			       mib / tx_s, mib / rx_s, p50_mibps(&tx, t0), p50_mibps(&rx, t0));
		if (fflush(stdout) == EOF)
			ref_die_errno("stdout");
	}
	free(tx.ends);
	free(rx.ends);
}

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: ceiling [-B | -R] [-n BYTES] [-b IOSIZE] [-i ITER] [-S BUFSIZE]\n"
		"               [-l ADDR | -c ADDR]\n"
		"  -B  bidirectional (N bytes each way at once)\n"
		"  -R  round trip: per iteration ITER/2 bytes out, then ITER/2 back\n"
		"  -n  bytes to move (K/M/G suffixes; default 1G)\n"
		"  -b  read/write size (default 1M)\n"
		"  -i  bytes per timed iteration (default: all of them)\n"
		"  -S  socket buffer size (TCP: SO_SNDBUF/SO_RCVBUF, vsock:\n"
		"      SO_VM_SOCKETS_BUFFER_SIZE; default: the kernel's)\n"
		"  -l  server only: listen on ADDR (tcp:IPV4:PORT or vsock:CID:PORT)\n"
		"  -c  client only: connect to ADDR\n"
		"  neither: fork a client against a server on tcp:127.0.0.1:0\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *listen_addr = NULL, *connect_addr = NULL;
	uint64_t bytes = 1ull << 30, io = 1 << 20, iter = 0, bufsize = 0;
	int bidir = 0, rt = 0, opt;
	struct addr a;

	prog = "ceiling";
	while ((opt = getopt(argc, argv, "BRn:b:i:S:l:c:")) != -1) {
		switch (opt) {
		case 'B': bidir = 1; break;
		case 'R': rt = 1; break;
		case 'n': bytes = ref_parse_size(optarg); break;
		case 'b': io = ref_parse_size(optarg); break;
		case 'i': iter = ref_parse_size(optarg); break;
		case 'S': bufsize = ref_parse_size(optarg); break;
		case 'l': listen_addr = optarg; break;
		case 'c': connect_addr = optarg; break;
		default: usage();
		}
	}
	if (iter == 0)
		iter = bytes ? bytes : 1;
	if (optind != argc || (listen_addr && connect_addr) || io == 0 || (bidir && rt) ||
	    io > (1u << 30) || bytes / iter > (1u << 24))
		usage();

	if (connect_addr) {
		ref_parse_addr(connect_addr, &a);
		int fd = ref_connect_to(&a, bufsize);
		run(fd, 0, bidir, rt, bytes, (size_t)io, iter);
		if (close(fd) < 0)
			ref_die_errno("close");
		return 0;
	}

	ref_parse_addr(listen_addr ? listen_addr : "tcp:127.0.0.1:0", &a);
	int lfd = ref_listen_on(&a, bufsize);
	pid_t pid = 0;

	if (listen_addr) {
		fprintf(stderr, "ceiling: listening on %s\n", ref_addr_str(&a));
	} else if ((pid = fork()) < 0) {
		ref_die_errno("fork");
	} else if (pid == 0) {
		if (close(lfd) < 0)
			ref_die_errno("close");
		int fd = ref_connect_to(&a, bufsize);
		run(fd, 0, bidir, rt, bytes, (size_t)io, iter);
		_exit(0);
	}
	int fd = ref_accept_one(lfd);
	run(fd, 1, bidir, rt, bytes, (size_t)io, iter);
	if (close(fd) < 0 || close(lfd) < 0)
		ref_die_errno("close");
	if (pid > 0)
		ref_reap_child(pid, "client");
	return 0;
}
