// SPDX-License-Identifier: MIT
/* util.c - helpers shared by the bench reference programs. */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

const char *prog = "bench";

static void vwarn(int err, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
}

void ref_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(0, fmt, ap);
	va_end(ap);
	exit(1);
}

void ref_die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vwarn(err, fmt, ap);
	va_end(ap);
	exit(1);
}

uint64_t ref_parse_size(const char *s)
{
	char *end;
	uint64_t v, mul = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		ref_die("bad number: %s", s);
	switch (*end) {
	case 'G': case 'g': mul <<= 10; /* fall through */
	case 'M': case 'm': mul <<= 10; /* fall through */
	case 'K': case 'k': mul <<= 10; end++; break;
	}
	if (*end || v > UINT64_MAX / mul)
		ref_die("bad number: %s", s);
	return v * mul;
}

static uint32_t parse_u32(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > UINT32_MAX)
		ref_die("bad %s: %s", what, s);
	return (uint32_t)v;
}

void ref_parse_addr(const char *s, struct addr *a)
{
	char host[64];
	const char *rest, *colon;
	uint32_t port = 0;
	size_t n;

	memset(a, 0, sizeof(*a));
	if (strncmp(s, "tcp:", 4) == 0)
		rest = s + 4;
	else if (strncmp(s, "vsock:", 6) == 0)
		rest = s + 6;
	else
		ref_die("bad address (want tcp:IPV4[:PORT] or vsock:CID[:PORT]): %s", s);
	colon = strchr(rest, ':');
	n = colon ? (size_t)(colon - rest) : strlen(rest);
	if (n == 0 || n >= sizeof(host))
		ref_die("bad address: %s", s);
	memcpy(host, rest, n);
	host[n] = '\0';
	if (colon)
		port = parse_u32(colon + 1, "port");

	if (s[0] == 't') {
		struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;

		if (port > 65535 || inet_pton(AF_INET, host, &in->sin_addr) != 1)
			ref_die("bad address: %s", s);
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		a->len = sizeof(*in);
	} else {
		struct sockaddr_vm *vm = (struct sockaddr_vm *)&a->ss;

		vm->svm_family = AF_VSOCK;
		vm->svm_port = port;
		if (strcmp(host, "any") == 0)
			vm->svm_cid = VMADDR_CID_ANY;
		else if (strcmp(host, "local") == 0)
			vm->svm_cid = 1;
		else if (strcmp(host, "host") == 0)
			vm->svm_cid = VMADDR_CID_HOST;
		else
			vm->svm_cid = parse_u32(host, "CID");
		a->len = sizeof(*vm);
	}
}

const char *ref_addr_str(const struct addr *a)
{
	static char buf[80];

	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
		char ip[INET_ADDRSTRLEN];

		if (!inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip)))
			strcpy(ip, "?");
		snprintf(buf, sizeof(buf), "tcp:%s:%u", ip, ntohs(in->sin_port));
	} else {
		const struct sockaddr_vm *vm = (const struct sockaddr_vm *)&a->ss;

		snprintf(buf, sizeof(buf), "vsock:%" PRIu32 ":%" PRIu32,
			 (uint32_t)vm->svm_cid, (uint32_t)vm->svm_port);
	}
	return buf;
}

static void set_bufsize(int fd, int family, uint64_t bytes)
{
	if (bytes == 0)
		return;
	if (family == AF_VSOCK) {
		/* The maximum first: the size may not exceed it. */
		if (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, &bytes, sizeof(bytes)) < 0 ||
		    setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &bytes, sizeof(bytes)) < 0)
			ref_die_errno("setsockopt SO_VM_SOCKETS_BUFFER_SIZE");
	} else {
		int v = bytes > INT32_MAX ? INT32_MAX : (int)bytes;

		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) < 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) < 0)
			ref_die_errno("setsockopt SO_SNDBUF/SO_RCVBUF");
	}
}

int ref_listen_on(struct addr *a, uint64_t bufsize)
{
	int fd, one = 1;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		ref_die_errno("socket %s", ref_addr_str(a));
	set_bufsize(fd, a->ss.ss_family, bufsize);
	if (a->ss.ss_family == AF_INET &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		ref_die_errno("setsockopt SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&a->ss, a->len) < 0)
		ref_die_errno("bind %s", ref_addr_str(a));
	if (listen(fd, 1) < 0)
		ref_die_errno("listen %s", ref_addr_str(a));
	if (getsockname(fd, (struct sockaddr *)&a->ss, &a->len) < 0)
		ref_die_errno("getsockname");
	return fd;
}

int ref_accept_one(int lfd)
{
	int fd;

	do
		fd = accept(lfd, NULL, NULL);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		ref_die_errno("accept");
	return fd;
}

int ref_connect_to(const struct addr *a, uint64_t bufsize)
{
	int fd;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		ref_die_errno("socket %s", ref_addr_str(a));
	set_bufsize(fd, a->ss.ss_family, bufsize);
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
		/* An interrupted connect goes on in the background: wait for it. */
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int err = errno, r;
		socklen_t len = sizeof(err);

		if (err != EINTR)
			ref_die_errno("connect %s", ref_addr_str(a));
		do
			r = poll(&p, 1, -1);
		while (r < 0 && errno == EINTR);
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			ref_die_errno("connect %s", ref_addr_str(a));
		if (err) {
			errno = err;
			ref_die_errno("connect %s", ref_addr_str(a));
		}
	}
	return fd;
}

void ref_set_nodelay(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int one = 1;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		ref_die_errno("getsockname");
	if (ss.ss_family == AF_INET &&
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		ref_die_errno("setsockopt TCP_NODELAY");
}

int ref_write_full(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t ref_read_full(int fd, void *buf, size_t n)
{
	char *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

uint64_t ref_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		ref_die_errno("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ref_reap_child(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			ref_die_errno("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		ref_die("%s failed", what);
}
