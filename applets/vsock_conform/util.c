// SPDX-License-Identifier: MIT
/* vsock-conform: small helpers the cases share (socket options, poll,
 * SIGPIPE, the queues' waits). */
#include "conform.h"

#include <signal.h>
#include <sys/ioctl.h>

int get_int(int fd, int level, int option, int *v)
{
	socklen_t len = sizeof(*v);
	return getsockopt(fd, level, option, v, &len) ? errno : 0;
}

int set_int(int fd, int level, int option, int v)
{
	return setsockopt(fd, level, option, &v, sizeof(v)) ? errno : 0;
}

const char *events_text(short ev, char *buf, size_t len)
{
	size_t k = 0;
	buf[0] = '\0';
	static const struct { short bit; const char *name; } bits[] = {
		{POLLIN, "POLLIN"}, {POLLOUT, "POLLOUT"}, {POLLERR, "POLLERR"},
		{POLLHUP, "POLLHUP"}, {POLLRDHUP, "POLLRDHUP"},
	};
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (ev & bits[i].bit)
			k += format(buf + k, len - k, "%s%s", k ? "|" : "",
				    bits[i].name);
	if (!k)
		format(buf, len, "nothing");
	return buf;
}

/* poll for events within ms: the revents, or -errno. */
int poll_for(int fd, short events, int ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	uint64_t end = now_ns() + (uint64_t)ms * 1000000u;

	for (;;) {
		int left = (int)((end > now_ns() ? end - now_ns() : 0) / 1000000u);
		int n = poll(&p, 1, left);
		if (n >= 0)
			return n ? p.revents : 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Polls in slices until one of want shows (its revents to *revents), by
 * the deadline, or until the other side stops. */
int poll_until(struct side *s, int fd, short events, short want,
	       short *revents, const char *step)
{
	for (;;) {
		int r = poll_for(fd, events, SLICE_MS);
		if (r < 0)
			return fail(s, "%s: poll: %s", step, EN(-r));
		if (r & want) {
			*revents = (short)r;
			return CONFORM_OK;
		}
		if (deadline_left_ns(s->d) == 0)
			return fail(s, "%s: poll: expected %s, got %s by the "
				    "deadline", step, EV(want), EV((short)r));
		if (other_side_stopped(s))
			return CONFORM_ABORTED;
	}
}

/* SIGPIPE, counted while a case looks for it (the applet ignores it
 * otherwise). */
static volatile sig_atomic_t sigpipes;

static void count_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

/* send() of one byte without MSG_NOSIGNAL (signal: true) or with it,
 * until it fails (the peer's shutdown may be in flight): the error and
 * whether SIGPIPE came. */
static int send_until_error(struct side *s, int fd, bool signal, int *err,
			    bool *got_sigpipe)
{
	struct sigaction counting = {.sa_handler = count_sigpipe}, old;

	sigemptyset(&counting.sa_mask);
	sigaction(SIGPIPE, &counting, &old);
	sigpipes = 0;
	*err = 0;
	while (!*err) {
		ssize_t n = send(fd, "x", 1, signal ? MSG_DONTWAIT
					 : MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			*err = errno;
		else if (deadline_left_ns(s->d) == 0)
			*err = ETIMEDOUT;
		else if (n >= 0 || errno == EAGAIN)
			(void)poll(NULL, 0, 5);	/* the shutdown in flight */
	}
	*got_sigpipe = sigpipes != 0;
	sigaction(SIGPIPE, &old, NULL);
	return CONFORM_OK;
}

/* The send after a shutdown: EPIPE with SIGPIPE, then EPIPE without it
 * under MSG_NOSIGNAL. */
int expect_epipe(struct side *s, int fd, const char *step)
{
	int err;
	bool sig;

	send_until_error(s, fd, true, &err, &sig);
	if (err != EPIPE)
		return fail(s, "%s: send: expected EPIPE, got %s", step, EN(err));
	if (!sig)
		return fail(s, "%s: send: expected SIGPIPE with EPIPE, got none",
			    step);
	send_until_error(s, fd, false, &err, &sig);
	if (err != EPIPE)
		return fail(s, "%s: send(MSG_NOSIGNAL): expected EPIPE, got %s",
			    step, EN(err));
	if (sig)
		return fail(s, "%s: send(MSG_NOSIGNAL): expected no SIGPIPE, "
			    "got one", step);
	return CONFORM_OK;
}

/* ---- the queues' waits ---- */

/* Waits until len bytes are queued (peeked, not read); SOCK_SEQPACKET:
 * a message (a peek shorter than it need not work). */
int wait_queued(struct side *s, int fd, size_t len, const char *step)
{
	if (s->c->type == SEQPACKET) {
		short ev;
		return poll_until(s, fd, POLLIN, POLLIN | POLLERR | POLLHUP, &ev,
				  step);
	}
	for (;;) {
		ssize_t n = xio(s, fd, false, s->buf2, len, MSG_PEEK);
		if (n <= 0)
			return io_failed(s, step, "recv(MSG_PEEK)", len, 0, n);
		if ((size_t)n >= len)
			return CONFORM_OK;
		(void)poll(NULL, 0, 2);
	}
}

/* Closes fd and says how long close took, in ms. */
uint64_t timed_close(struct side *s, int fd)
{
	uint64_t t = now_ns();
	close_now(s, fd);
	return (now_ns() - t) / 1000000u;
}

/* SIOCOUTQ back at 0 (where the kernel has it) by the deadline. */
int wait_sent(struct side *s, int fd, bool *known)
{
	int queued;

	*known = false;
	for (;;) {
		if (ioctl(fd, SIOCOUTQ, &queued) < 0)
			return lacks_feature(errno) ? CONFORM_OK
				: fail(s, "ioctl(SIOCOUTQ): %s", EN(errno));
		*known = true;
		if (queued == 0)
			return CONFORM_OK;
		if (deadline_left_ns(s->d) == 0)
			return fail(s, "ioctl(SIOCOUTQ): expected 0 once the peer "
				    "has the bytes, got %d by the deadline", queued);
		(void)poll(NULL, 0, 5);
	}
}

int set_u64(int fd, int option, uint64_t v)
{
	unsigned long long x = v;
	return setsockopt(fd, AF_VSOCK, option, &x, sizeof(x)) ? errno : 0;
}

int get_u64(int fd, int option, uint64_t *v)
{
	unsigned long long x = 0;
	socklen_t len = sizeof(x);
	int r = getsockopt(fd, AF_VSOCK, option, &x, &len);
	*v = x;
	return r ? errno : 0;
}
