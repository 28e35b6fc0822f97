/* SPDX-License-Identifier: MIT */
/* util.h - helpers shared by the bench reference programs (ceiling, pingpong).
 * They link no common/ code: every name here has the prefix ref_, so that no
 * reader takes a call for one of common/'s functions of the same name. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

extern const char *prog;	/* set by main, prefixes every error */

_Noreturn void ref_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void ref_die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

uint64_t ref_parse_size(const char *s);	/* decimal, optional K/M/G (binary) suffix */
void ref_parse_addr(const char *s, struct addr *a);	/* tcp:IPV4[:PORT] or vsock:CID[:PORT] */
const char *ref_addr_str(const struct addr *a);	/* static buffer */

/* Socket buffers of bufsize bytes unless 0: SO_SNDBUF and SO_RCVBUF on TCP
 * (which ends the kernel's autotuning), SO_VM_SOCKETS_BUFFER_SIZE on vsock. */
int ref_listen_on(struct addr *a, uint64_t bufsize);	/* a gets the real port */
int ref_accept_one(int lfd);	/* inherits the listener's buffer sizes */
int ref_connect_to(const struct addr *a, uint64_t bufsize);
void ref_set_nodelay(int fd);	/* TCP_NODELAY on TCP sockets, no-op otherwise */

int ref_write_full(int fd, const void *buf, size_t n);	/* 0, or -1 with errno */
ssize_t ref_read_full(int fd, void *buf, size_t n);	/* n, fewer at EOF, or -1 */

uint64_t ref_now_ns(void);	/* CLOCK_MONOTONIC */
/* Waits for the child; fatal unless it exited 0. */
void ref_reap_child(pid_t pid, const char *what);

#endif
