// SPDX-License-Identifier: MIT
/* vsock-conform: transfers on a data socket, each call in slices by
 * the case's deadline, and the data of the case's seed. */
#include "conform.h"

/* One sendmsg or recvmsg: its count, or -errno (-ETIMEDOUT at the
 * deadline, -ECANCELED once the other side stopped). With MSG_DONTWAIT
 * it is one call. */
ssize_t xmsg(struct side *s, int fd, bool sending, struct msghdr *m,
	     int flags)
{
	for (;;) {
		ssize_t n = sending ? sendmsg(fd, m, flags | MSG_NOSIGNAL)
				    : recvmsg(fd, m, flags);
		if (n >= 0)
			return n;
		int err = errno;
		if (err == EINTR)
			continue;
		if (err != EAGAIN || (flags & MSG_DONTWAIT))
			return -err;
		if (deadline_left_ns(s->d) == 0)
			return -ETIMEDOUT;
		if (other_side_stopped(s))
			return -ECANCELED;
	}
}

ssize_t xio(struct side *s, int fd, bool sending, void *buf,
	    size_t len, int flags)
{
	struct iovec v = {.iov_base = buf, .iov_len = len};
	struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
	return xmsg(s, fd, sending, &m, flags);
}

/* A failed transfer as a verdict: the other side's stop is an abort. */
int io_failed(struct side *s, const char *step, const char *call,
	      size_t want, size_t done, ssize_t r)
{
	if (r == -ECANCELED)
		return CONFORM_ABORTED;
	if (r == 0)
		return fail(s, "%s: %s: expected %zu bytes, got EOF after %zu",
			    step, call, want, done);
	if (r == -ETIMEDOUT)
		return fail(s, "%s: %s: expected %zu bytes, timed out after %zu",
			    step, call, want, done);
	return fail(s, "%s: %s: expected %zu bytes, got %s after %zu", step,
		    call, want, EN((int)-r), done);
}

int recv_exact(struct side *s, int fd, void *buf, size_t len,
	       const char *step)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = xio(s, fd, false, (char *)buf + done, len - done, 0);
		if (n <= 0)
			return io_failed(s, step, "recv", len, done, n);
		done += (size_t)n;
	}
	return CONFORM_OK;
}

int send_exact(struct side *s, int fd, const void *buf, size_t len,
	       const char *step)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = xio(s, fd, true, (char *)buf + done, len - done, 0);
		if (n < 0)
			return io_failed(s, step, "send", len, done, n);
		done += (size_t)n;
	}
	return CONFORM_OK;
}

int send_byte(struct side *s, int fd, unsigned char byte,
	      const char *step)
{
	return send_exact(s, fd, &byte, 1, step);
}

int recv_byte(struct side *s, int fd, unsigned char want,
	      const char *step)
{
	unsigned char got;

	TRY(recv_exact(s, fd, &got, 1, step));
	return got == want ? CONFORM_OK
			   : fail(s, "%s: recv: expected byte %u, got %u", step,
				  want, got);
}

/* The next recv must be EOF; what came instead is named. */
int expect_eof(struct side *s, int fd, const char *step)
{
	unsigned char byte;
	ssize_t n = xio(s, fd, false, &byte, 1, 0);

	if (n == 0)
		return CONFORM_OK;
	if (n == -ECANCELED)
		return CONFORM_ABORTED;
	if (n > 0)
		return fail(s, "%s: recv: expected EOF, got data", step);
	if (n == -ETIMEDOUT)
		return fail(s, "%s: recv: expected EOF, timed out", step);
	return fail(s, "%s: recv: expected EOF, got %s", step, EN((int)-n));
}

/* The next recv must fail with want (or, want 0, be EOF). */
int expect_recv_end(struct side *s, int fd, int want, const char *step)
{
	if (!want)
		return expect_eof(s, fd, step);
	unsigned char byte;
	ssize_t n = xio(s, fd, false, &byte, 1, 0);
	if (n == -want)
		return CONFORM_OK;
	if (n == -ECANCELED)
		return CONFORM_ABORTED;
	return fail(s, "%s: recv: expected %s, got %s", step, EN(want),
		    n == 0 ? "EOF" : n > 0 ? "data" :
		    n == -ETIMEDOUT ? "a time-out" : EN((int)-n));
}

/* ---- data of the seed ---- */

static uint32_t next_random(uint32_t *state)
{
	uint32_t x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x ? x : 1;
}

/* The size of the next read or write of a transfer: what is left, up to
 * the buffer, or (state not NULL) a random size up to max where more than
 * max is left. */
static size_t next_piece(uint64_t len, uint64_t done, size_t max,
			 uint32_t *state)
{
	size_t want = len - done < BUF_BYTES ? (size_t)(len - done) : BUF_BYTES;
	if (state && want > max)
		want = 1 + next_random(state) % max;
	return want;
}

/* Receives len bytes of the pattern, in reads of random sizes up to
 * max_read (state NULL: as large as it takes). */
int recv_pattern(struct side *s, int fd, uint64_t len, size_t max_read,
		 uint32_t *state, const char *step)
{
	uint64_t done = 0;

	while (done < len) {
		size_t want = next_piece(len, done, max_read, state);
		ssize_t n = xio(s, fd, false, s->buf2, want, 0);
		if (n <= 0)
			return io_failed(s, step, "recv", (size_t)len,
					 (size_t)done, n);
		size_t bad = seeded_check(s->seed, done, s->buf2, (size_t)n);
		if (bad != (size_t)n)
			return fail(s, "%s: recv: byte %llu is %u, expected %u "
				    "(seed %u)", step,
				    (unsigned long long)(done + bad), s->buf2[bad],
				    seeded_byte(s->seed, done + bad), s->seed);
		done += (uint64_t)n;
	}
	return CONFORM_OK;
}

/* Sends len bytes of the pattern in writes of random sizes up to
 * max_write (state NULL: as large as the buffer). */
int send_pattern(struct side *s, int fd, uint64_t len, size_t max_write,
		 uint32_t *state, const char *step)
{
	uint64_t done = 0;

	while (done < len) {
		size_t want = next_piece(len, done, max_write, state);
		seeded_fill(s->seed, done, s->buf, want);
		TRY(send_exact(s, fd, s->buf, want, step));
		done += want;
	}
	return CONFORM_OK;
}
