// SPDX-License-Identifier: MIT
/* Whole transfers. Every blocking call on a connection runs by its step's
 * deadline through the kernel's SO_RCVTIMEO/SO_SNDTIMEO: the time-out is
 * shortened (one setsockopt) only when less time is left than is set,
 * that is after partial progress, so a trickling peer can never stretch a
 * step. The kernel's timer still costs each call that sleeps; where every
 * call counts (the echo path) a watchdog (watchdog.c) takes its place: its
 * timer interrupts a blocked call, and the loop reads the clock only
 * then, or after partial progress. */
//config:config FEATURE_ZEROCOPY
//config:	bool "--zerocopy: MSG_ZEROCOPY sends"
//config:	default y
//config:	help
//config:	  The throughput applets and vsock-perf (and so vsock-bench) take --zerocopy:
//config:	  sends with MSG_ZEROCOPY where the kernel has it, each buffer written again
//config:	  only once the kernel is done with it. Beyond the original protocol.
#include "vsockbox.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "vsock_abi.h"

/* A time-out set within this of the time left is left alone: 2 ms (the
 * kernel counts in jiffies, 4 ms at HZ=250, anyway) or 1/128 of the time
 * left (0.23 s of 30 s), so a long step's many calls set it rarely. */
enum { TIMEOUT_SLACK_NS = 2000000, TIMEOUT_SLACK_SHIFT = 7 };
/* What a connection's time-out is after a call ran out of it early. */
#define TIMEOUT_UNKNOWN UINT64_MAX

int fd_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int set_kernel_timeout(int fd, int option, uint64_t ns)
{
	struct timeval tv = {.tv_sec = (time_t)(ns / 1000000000u),
			     .tv_usec = (suseconds_t)(ns % 1000000000u / 1000)};
	if (ns && !tv.tv_sec && !tv.tv_usec)
		tv.tv_usec = 1;		/* 0 would mean no time-out at all */
	return setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv)) ? errno : 0;
}

/* Makes the next blocking call on fd end by the deadline; *set is the
 * time-out now on fd. 0, or ETIMEDOUT once the deadline has passed. */
static int bound(int fd, int option, uint64_t *set, struct deadline d)
{
	uint64_t left = d.at_ns == UINT64_MAX ? 0 : deadline_left_ns(d);
	uint64_t slack = left >> TIMEOUT_SLACK_SHIFT;

	if (d.at_ns != UINT64_MAX && left == 0)
		return ETIMEDOUT;
	if (slack < TIMEOUT_SLACK_NS)
		slack = TIMEOUT_SLACK_NS;
	if (*set == left || (left && *set && *set != TIMEOUT_UNKNOWN &&
			     *set <= left + slack))
		return 0;
	int err = set_kernel_timeout(fd, option, left);
	if (err)
		return err;
	*set = left;
	return 0;
}

/* A watched connection has no kernel time-out: its watchdog's timer
 * interrupts a call that blocks, and the loop looks at the deadline then
 * (again_by_deadline). */
static struct deadline watched(const struct conn *c, struct deadline d)
{
	return c->watchdog ? NO_DEADLINE : d;
}

/* A watched call came back early (interrupted, or short): 0 to call
 * again, ETIMEDOUT once the step's deadline has passed. */
static int again_by_deadline(const struct conn *c, struct deadline d)
{
	return c->watchdog && deadline_left_ns(d) == 0 ? ETIMEDOUT : 0;
}

int conn_bound_recv(struct conn *c, struct deadline d)
{
	return bound(c->fd, SO_RCVTIMEO, &c->recv_timeout_ns, watched(c, d));
}

int conn_bound_send(struct conn *c, struct deadline d)
{
	return bound(c->fd, SO_SNDTIMEO, &c->send_timeout_ns, watched(c, d));
}

/* After a call failed: 0 to call again (interrupted, or it ran out of a
 * shorter time-out an earlier step left set), else the step's error. */
static int after_failure(const struct conn *c, uint64_t *set,
			 struct deadline d)
{
	if (errno == EINTR)
		return again_by_deadline(c, d);
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return errno;
	if (deadline_left_ns(d) == 0)
		return ETIMEDOUT;
	*set = TIMEOUT_UNKNOWN;
	return 0;
}

/* The data path's own recv() and send(). The C library makes both
 * cancellation points: in a process with a second thread (bidir's
 * reader, the multi streams) glibc switches asynchronous cancellation
 * on and off around each call, two atomic read-modify-writes (10-30 ns
 * a call here) for threads these applets never cancel, and a path that
 * gains a thread keeps its cost per call. The system call alone does
 * the same work without them. */
static ssize_t data_recv(int fd, void *p, size_t len, int flags)
{
#ifdef SYS_recvfrom
	return syscall(SYS_recvfrom, fd, p, len, flags, NULL, NULL);
#else
	return recv(fd, p, len, flags);
#endif
}

static ssize_t data_send(int fd, const void *p, size_t len, int flags)
{
#ifdef SYS_sendto
	return syscall(SYS_sendto, fd, p, len, flags, NULL, 0);
#else
	return send(fd, p, len, flags);
#endif
}

/* Reads len bytes, counting them in *got, whole (MSG_WAITALL) while *flags
 * keeps it. AF_VSOCK refuses a MSG_WAITALL read as large as its receive
 * buffer (256 KiB by default) with ENOMEM: then *flags drops MSG_WAITALL
 * for the rest of the transfer, and each call takes what is there. */
static int read_whole(struct conn *c, unsigned char *p, size_t len,
		      size_t *got, int *flags, struct pattern *v,
		      struct deadline d)
{
	*got = 0;
	while (len) {
		int err = conn_bound_recv(c, d);
		if (err)
			return err;
		ssize_t n = data_recv(c->fd, p, len, *flags);
		if (n == 0)
			return ERR_EOF;
		if (n < 0 && errno == ENOMEM && *flags) {
			*flags = 0;
			continue;
		}
		if (n < 0) {
			if ((err = after_failure(c, &c->recv_timeout_ns, d)) != 0)
				return err;
			continue;
		}
		if (c->moved)
			atomic_fetch_add_explicit(c->moved, (uint64_t)n,
						  memory_order_relaxed);
		if (ENABLE_FEATURE_VERIFY && v &&
		    (err = pattern_check(v, p, (size_t)n)) != 0)
			return err;
		p += n;
		len -= (size_t)n;
		*got += (size_t)n;
		if (len && (err = again_by_deadline(c, d)) != 0)
			return err;
	}
	return 0;
}

int read_counted(struct conn *c, void *buf, size_t len, size_t *got,
		 struct deadline d)
{
	int flags = MSG_WAITALL;
	return read_whole(c, buf, len, got, &flags, NULL, d);
}

int read_full(struct conn *c, void *buf, size_t len, struct deadline d)
{
	size_t got;
	return read_counted(c, buf, len, &got, d);
}

/* ---- MSG_ZEROCOPY completions ---- */

int zerocopy_notice(int fd, uint32_t *first, uint32_t *last)
{
	char control[128];
	struct msghdr msg = {.msg_control = control,
			     .msg_controllen = sizeof(control)};

	if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return errno == EWOULDBLOCK ? EAGAIN : errno;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm;
	     cm = CMSG_NXTHDR(&msg, cm)) {
		struct zerocopy_notice z;
		if (cm->cmsg_len < CMSG_LEN(sizeof(z)))
			continue;
		memcpy(&z, CMSG_DATA(cm), sizeof(z));
		if (z.ee_origin != ZEROCOPY_ORIGIN)
			continue;
		if (z.ee_errno)
			return (int)z.ee_errno;
		*first = z.ee_info;
		*last = z.ee_data;
		return 0;
	}
	return ENOMSG;
}

/* Counts the sends the kernel is done with, from one error-queue message;
 * 0, EAGAIN when the queue is empty, or an errno. */
static int read_completions(struct conn *c)
{
	uint32_t first, last;
	int err = zerocopy_notice(c->fd, &first, &last);

	if (err == ENOMSG)
		return 0;	/* another kind of notice */
	if (!err)
		c->zc_done += last - first + 1;
	return err;
}

/* A notice covers a range of the kernel's IDs. Over TCP a send() takes one
 * ID; over vsock (6.12's virtio_transport_send_pkt_info) every chunk that a
 * send() enqueues as credit allows takes its own, so one send() may take
 * several (16 sends of 1 MiB took 73 IDs through vsock_loopback) and the
 * count of sends is only a lower bound of the IDs. Wait for that bound,
 * take the notices already queued, and start the next count from there.
 * The applets reuse a buffer only for a read whose data the peer sends
 * after it has read all of ours, so no send of theirs is still pinned. */
int zerocopy_wait(struct conn *c, struct deadline d)
{
	int err;

	/* Not only for speed: an AF_UNIX socket has no error queue, and
	 * its recvmsg(MSG_ERRQUEUE) says 0 for ever. */
	if (!ENABLE_FEATURE_ZEROCOPY || !c->zerocopy)
		return 0;
	while ((int32_t)(c->zc_done - c->zc_sent) < 0) {
		err = read_completions(c);
		if (!err)
			continue;
		if (err != EAGAIN)
			return err;
		/* The error queue shows as POLLERR, which poll always asks. */
		struct pollfd p = {.fd = c->fd, .events = 0};
		int left = deadline_left_ms(d);
		if (left == 0)
			return ETIMEDOUT;
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return errno;
	}
	while ((err = read_completions(c)) == 0)
		;
	c->zc_sent = c->zc_done;
	return err == EAGAIN ? 0 : err;
}

/* Only a Unix socket sends by poll, and there is none without
 * FEATURE_HYBRID (sock.c): then the poll's code is not linked. */
static bool by_poll(const struct conn *c)
{
	return ENABLE_FEATURE_HYBRID && c->send_by_poll;
}

static ssize_t send_some(struct conn *c, const void *p, size_t len)
{
	/* MSG_NOSIGNAL: a closed peer is EPIPE, never SIGPIPE. */
	if (!ENABLE_FEATURE_ZEROCOPY || !c->zerocopy)
		return data_send(c->fd, p, len, by_poll(c) ?
				 MSG_NOSIGNAL | MSG_DONTWAIT : MSG_NOSIGNAL);
	if (c->zc_chunk && len > c->zc_chunk)
		len = c->zc_chunk;	/* what the peer's credit takes whole */
	ssize_t n = data_send(c->fd, p, len,
				MSG_NOSIGNAL | MSG_ZEROCOPY);
	if (n >= 0)
		c->zc_sent++;
	/* Too many pages pinned: let the kernel finish some first. */
	else if (errno == ENOBUFS && c->zc_done != c->zc_sent) {
		int err = read_completions(c);
		errno = err == EAGAIN || !err ? EINTR : err;
	}
	return n;
}

/* A blocking AF_UNIX send() waits SO_SNDTIMEO afresh for every buffer it
 * allocates (unix_stream_sendmsg takes one per 32 KiB or so): a peer that
 * takes a little now and then gives one call a whole new time-out each
 * time (a 1 s step took 2.0 s in tests/unit.c; a daemon that reads on
 * after its guest stopped can do the same). TCP and vsock count one
 * time-out per call. So a Unix connection sends without blocking
 * and waits for room by poll, by the step's one deadline: 0 to send
 * again, or ETIMEDOUT. */
static int wait_writable(const struct conn *c, struct deadline d)
{
	struct pollfd p = {.fd = c->fd, .events = POLLOUT};
	int left = deadline_left_ms(watched(c, d));

	if (left == 0)
		return ETIMEDOUT;
	if (poll(&p, 1, left) < 0)
		return errno == EINTR ? again_by_deadline(c, d) : errno;
	/* Room, a closed peer (the send says which) or a rounded-up wait. */
	return 0;
}

static int write_whole(struct conn *c, const void *buf, size_t len,
		       struct deadline d)
{
	const unsigned char *p = buf;

	while (len) {
		int err = conn_bound_send(c, d);
		if (err)
			return err;
		ssize_t n = send_some(c, p, len);
		if (n < 0 && by_poll(c) &&
		    (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((err = wait_writable(c, d)) != 0)
				return err;
			continue;
		}
		if (n < 0) {
			if ((err = after_failure(c, &c->send_timeout_ns, d)) != 0)
				return err;
			continue;
		}
		if (c->moved)
			atomic_fetch_add_explicit(c->moved, (uint64_t)n,
						  memory_order_relaxed);
		p += n;
		len -= (size_t)n;
		if (len && (err = again_by_deadline(c, d)) != 0)
			return err;
	}
	return 0;
}

int write_full(struct conn *c, const void *buf, size_t len, struct deadline d)
{
	return write_whole(c, buf, len, d);
}

/* A bulk read takes what is there: MSG_WAITALL made large reads slower
 * over TCP loopback (bench/RUNS.md), and over vsock a read as large as the
 * receive buffer cannot have it anyway. */
static int as_close(const struct conn *c, int err);

/* With ended (not NULL), a close before the first byte is the end. */
static int recv_some_stream(struct conn *c, uint64_t total, void *buf,
			    size_t buf_len, struct pattern *v,
			    struct deadline d, bool *ended)
{
	int flags = 0, err = 0;
	size_t got;
	bool first = true;

	while (total && !err) {
		size_t chunk = total < buf_len ? (size_t)total : buf_len;
		err = read_whole(c, buf, chunk, &got, &flags, v, d);
		if (ended && first && !got && err &&
		    (err == ERR_EOF || !as_close(c, err))) {
			*ended = true;
			return 0;
		}
		first = false;
		total -= chunk;
	}
	return err;
}

int recv_stream(struct conn *c, uint64_t total, void *buf, size_t buf_len,
		struct pattern *v, struct deadline d)
{
	return recv_some_stream(c, total, buf, buf_len, v, d, NULL);
}

/* Without both features nothing calls it (recv_iteration(), vsockbox.h),
 * and recv_some_stream() is recv_stream() alone. */
#if ENABLE_FEATURE_SOAK || ENABLE_FEATURE_HYBRID
int recv_stream_or_end(struct conn *c, uint64_t total, void *buf,
		       size_t buf_len, struct pattern *v, struct deadline d,
		       bool *ended)
{
	*ended = false;
	return recv_some_stream(c, total, buf, buf_len, v, d, ended);
}
#endif

int recv_bytes(struct conn *c, uint64_t total, void *buf, size_t buf_len,
	       struct deadline d)
{
	return recv_stream(c, total, buf, buf_len, NULL, d);
}

int send_stream(struct conn *c, uint64_t total, const void *buf,
		size_t buf_len, struct pattern *v, struct deadline d)
{
	int err = 0;

	while (total && !err) {
		size_t chunk = total < buf_len ? (size_t)total : buf_len;
		const void *p = buf;
		/* Never rewrite a stamp a MSG_ZEROCOPY send may still read:
		 * the bodies repeat every PATTERN_BODIES blocks, so any send
		 * in flight may hold the place of the next one's stamps. */
		if (ENABLE_FEATURE_VERIFY && v && c->zc_sent != c->zc_done)
			err = zerocopy_wait(c, d);
		if (err)
			break;
		if (ENABLE_FEATURE_VERIFY && v)
			p = pattern_next(v, chunk);
		err = write_whole(c, p, chunk, d);
		total -= chunk;
	}
	return err;
}

int send_bytes(struct conn *c, uint64_t total, const void *buf,
	       size_t buf_len, struct deadline d)
{
	return send_stream(c, total, buf, buf_len, NULL, d);
}

static int await_close(struct conn *c, struct deadline d)
{
	char byte;

	/* A peer that keeps writing would keep a discarding loop busy for
	 * ever: the first byte is already a failure. */
	for (;;) {
		int err = conn_bound_recv(c, d);
		if (err)
			return err;
		ssize_t n = recv(c->fd, &byte, 1, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			return ERR_DATA;
		if ((err = after_failure(c, &c->recv_timeout_ns, d)) != 0)
			return err;
	}
}

/* A hybrid host's socket may pass the guest's close on as a reset. */
static int as_close(const struct conn *c, int err)
{
	return c->reset_is_close && (err == ECONNRESET || err == EPIPE) ? 0
									: err;
}

int wait_for_close(struct conn *c, struct deadline d)
{
	return as_close(c, await_close(c, d));
}

int check_surplus(struct conn *c, int grace_ms)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	char byte;
	int n;

	do
		n = poll(&p, 1, grace_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	if (n == 0)
		return 0;
	ssize_t got = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	if (got > 0)
		return ERR_DATA;
	if (got == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	return as_close(c, errno);
}
