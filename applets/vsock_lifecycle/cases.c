// SPDX-License-Identifier: MIT
/* vsock-lifecycle's cases: one table (lifecycle_cases, at the end), each
 * case a connection (or none) and what each end of it does before the
 * event (arm) and after it (judge). An end that blocks across the event
 * does so in a thread of its own, which records when its call returned.
 *
 * After an event that keeps connections (a pause) every connection must
 * go on: blocked calls complete with the right bytes once the peer acts
 * after the event, never before, and no deadline fires. After an event
 * that resets the device (a restore, a migration) every end of the guest
 * must end with ECONNRESET, by itself, within --wake seconds of the
 * event's end (Firecracker #4736: a blocked read that never woke), and
 * every end of the host must end (ECONNRESET, EPIPE or EOF: no hang);
 * bytes that arrived before the event must be right. Listening sockets
 * accept after any event, and new connections work both ways. */
#include "lifecycle.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Bytes a blocked sender tries to send: beyond what a 64 KiB socket
 * buffer and the queues on the way hold, over vsock and TCP alike. */
enum { SEND_TOTAL = 1 << 20, AFTER_BYTES = 16 };
/* A verified stream sends a chunk, then rests: it moves data across the
 * event without taking a doubly emulated machine's whole CPU. */
enum { STREAM_REST_MS = 50, WAIT_STEP_MS = 10 };
/* A step's deadline fires by poll, in the machine's time: it may end up
 * to this much late on a busy machine, never early but by poll's
 * rounding. */
enum { LATE_MS = 1000, EARLY_MS = 50 };

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* "1.25 s after" or "0.40 s before" the event's end. */
static const char *since_event(const struct round *r, uint64_t at, char *buf,
			       size_t len)
{
	char num[32];
	bool before = at < r->done_ns;
	uint64_t d = before ? r->done_ns - at : at - r->done_ns;
	format(buf, len, "%s s %s the event's end",
	       format_fixed(num, sizeof(num), (double)d / 1e9, 2),
	       before ? "before" : "after");
	return buf;
}

static const char *side(const struct round *r)
{
	return r->role == ROLE_GUEST ? "guest" : "host";
}

static const char *err_text(int err)
{
	static const char *const names[] = {"EOF", "data after the end",
		"handshake", "not accepted", "no answer", "data differs"};
	char buf[32];
	if (err < 0 && -err <= (int)(sizeof(names) / sizeof(names[0])))
		return names[-err - 1];
	/* errno_name's buffer must outlive the call: the symbols are fixed
	 * strings for every errno a socket gives here. */
	const char *s = errno_name(err, buf, sizeof(buf));
	return s == buf ? "an unnamed errno" : s;
}

/* Reads at most len bytes, by the deadline: 0 (*n set), ERR_EOF or an
 * errno (ETIMEDOUT once the deadline passed). */
static int read_some(struct conn *c, void *buf, size_t len, size_t *n,
		     struct deadline d)
{
	int err = conn_bound_recv(c, d);
	if (err)
		return err;
	for (;;) {
		ssize_t k = recv(c->fd, buf, len, 0);
		if (k > 0) {
			*n = (size_t)k;
			return 0;
		}
		if (k == 0)
			return ERR_EOF;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT
							       : errno;
	}
}

/* ---- threads that block across the event ---- */

static void *finished(struct end *e, int err)
{
	e->err = err;
	e->woke_ns = now_ns();
	/* A host whose step timed out gives the connection up at once:
	 * the guest must learn it by the path's own means. */
	if (err == ETIMEDOUT && e->step_s)
		conn_close(&e->c);
	atomic_store(&e->done, true);
	return NULL;
}

/* The deadline of the call a thread begins now: a host end in an event
 * longer than --timeout has one step's, else the thread's own, which
 * waits for the event too. */
static struct deadline call_deadline(struct end *e)
{
	e->call_ns = now_ns();
	return e->step_s ? step_deadline(e->step_s) : e->d;
}

static void *recv_thread(void *arg)
{
	struct end *e = arg;
	return finished(e, read_full(&e->c, &e->got, 1, call_deadline(e)));
}

static void *send_thread(void *arg)
{
	struct end *e = arg;
	int err = 0;
	while (!err && e->moved < SEND_TOTAL) {
		seeded_fill(e->tx_seed, e->moved, e->buf, CHUNK);
		err = write_full(&e->c, e->buf, CHUNK, call_deadline(e));
		if (!err)
			e->moved += CHUNK;
	}
	return finished(e, err);
}

static void *stream_tx_thread(void *arg)
{
	struct end *e = arg;
	int err = 0;
	while (!err && !atomic_load(&e->stop)) {
		seeded_fill(e->tx_seed, e->moved, e->buf, CHUNK);
		err = write_full(&e->c, e->buf, CHUNK, call_deadline(e));
		if (!err) {
			e->moved += CHUNK;
			sleep_ms(STREAM_REST_MS);
		}
	}
	if (!err && shutdown(e->c.fd, SHUT_WR) < 0)
		err = errno;
	return finished(e, err);
}

static void *stream_rx_thread(void *arg)
{
	struct end *e = arg;
	int err;
	for (;;) {
		size_t n = 0;
		err = read_some(&e->c, e->buf, e->buf_len, &n,
				call_deadline(e));
		if (err)
			break;
		size_t bad = seeded_check(e->rx_seed, e->moved, e->buf, n);
		if (bad < n) {
			e->bad_at = e->moved + bad;
			err = ERR_PATTERN;
			break;
		}
		e->moved += n;
	}
	return finished(e, err);
}

/* The thread's deadline: it waits for the event too. */
static void start_thread(struct round *r, struct end *e, void *(*fn)(void *))
{
	e->d = step_deadline(r->wait_s + r->timeout_s + r->after_s);
	if (r->role == ROLE_HOST && r->event->host_deadlines)
		e->step_s = r->timeout_s;
	e->threaded = true;
	xthread_start(&e->thread, fn, e);
}

/* Waits (a bounded wait on the thread's flag) until it is done or the
 * deadline passes; true if done. The thread is joined either way: one
 * still blocked is woken by a shutdown first. */
static bool thread_end(struct end *e, struct deadline d)
{
	while (!atomic_load(&e->done) && deadline_left_ns(d))
		sleep_ms(WAIT_STEP_MS);
	bool done = atomic_load(&e->done);
	if (!done)
		conn_shutdown(&e->c);
	xthread_join(e->thread);
	e->threaded = false;
	return done;
}

/* Bounded wait until moved passes at least `bytes`: a stream runs, a
 * sender has stopped moving (blocked) when nothing moved for 500 ms. */
static void wait_moving(struct round *r, struct end *e)
{
	struct deadline d = step_deadline(r->timeout_s);
	while (e->moved == 0 && !atomic_load(&e->done) && deadline_left_ns(d))
		sleep_ms(WAIT_STEP_MS);
	if (e->moved == 0)
		setup_failed(e, "no data moved before the event", ETIMEDOUT);
}

static void wait_blocked(struct round *r, struct end *e)
{
	struct deadline d = step_deadline(r->timeout_s);
	uint64_t last = UINT64_MAX, still = 0;
	while (!atomic_load(&e->done) && deadline_left_ns(d) && still < 50) {
		uint64_t m = e->moved;
		still = m == last ? still + 1 : 0;
		last = m;
		sleep_ms(WAIT_STEP_MS);
	}
}

/* ---- after a reset: how an end ended ---- */

/* A reset end of the guest must say ECONNRESET; one of the host, or the
 * guest's end of a connection the host gave up, may say any end. */
static bool ended_well(const struct round *r, int err)
{
	if (r->role == ROLE_GUEST && r->event->resets)
		return err == ECONNRESET;
	return err == ECONNRESET || err == EPIPE || err == ERR_EOF;
}

static int socket_error(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);
	return getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len) < 0 ? errno : v;
}

/* An end without a thread: waits (poll) until its socket says how it
 * ended, by the deadline; the pending error first, else what recv says
 * once the bytes queued (checked against rx_seed when check) are read. */
static int end_without_thread(struct end *e, bool check, struct deadline d,
			      uint64_t *at)
{
	for (;;) {
		struct pollfd p = {.fd = e->c.fd, .events = POLLIN | POLLRDHUP};
		int n = poll(&p, 1, deadline_left_ms(d));
		*at = now_ns();
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return ETIMEDOUT;
		int err = socket_error(e->c.fd);
		if (err)
			return err;
		ssize_t k = recv(e->c.fd, e->buf, e->buf_len, MSG_DONTWAIT);
		if (k == 0)
			return ERR_EOF;
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return errno;
		if (k > 0 && check) {
			size_t bad = seeded_check(e->rx_seed, e->moved, e->buf,
						  (size_t)k);
			if (bad < (size_t)k) {
				e->bad_at = e->moved + bad;
				return ERR_PATTERN;
			}
		}
		if (k > 0)
			e->moved += (uint64_t)k;
	}
}

/* This side's behaviour in case i. */
const struct behaviour *mine(const struct round *r, unsigned i)
{
	return r->role == ROLE_GUEST ? lifecycle_cases[i].guest
				     : lifecycle_cases[i].host;
}

/* An end after a reset, or after the host gave its connection up: named
 * in the diagnostics by its behaviour's what. */
static uint32_t judge_reset(struct round *r, struct end *e, bool check,
			    char *why, size_t len)
{
	const char *what = mine(r, e->index)->what;
	struct deadline d = {r->done_ns + r->wake_s * 1000000000u};
	char when[64];
	bool threaded = e->threaded;
	int err;
	uint64_t at;

	if (threaded) {
		if (!thread_end(e, d)) {
			format(why, len, "%s %s: still blocked %s (--wake %llu)",
			       side(r), what, since_event(r, now_ns(), when,
							  sizeof(when)),
			       (unsigned long long)r->wake_s);
			return CONFORM_FAILED;
		}
		err = e->err, at = e->woke_ns;
		/* A call made after the reset says ENOTCONN; the reset is in
		 * the socket's pending error. */
		if (err != ECONNRESET && r->role == ROLE_GUEST &&
		    socket_error(e->c.fd) == ECONNRESET)
			err = ECONNRESET;
	} else {
		err = end_without_thread(e, check, d, &at);
	}
	since_event(r, at, when, sizeof(when));
	/* An end without a thread is looked at in its turn: its time is
	 * when it was found ended, not when it ended. */
	const char *how = threaded ? "" : "found ";
	if (err == ERR_PATTERN) {
		format(why, len, "%s %s: the bytes before the event differ at "
		       "byte %llu", side(r), what,
		       (unsigned long long)e->bad_at);
		return CONFORM_FAILED;
	}
	format(why, len, "%s %s: %s %s%s%s", side(r), what, err_text(err), how,
	       when,
	       ended_well(r, err) ? "" : r->role == ROLE_GUEST &&
	       r->event->resets ? " (want ECONNRESET: the device's transport reset)"
	       : " (want the connection to end: ECONNRESET, EPIPE or EOF)");
	return ended_well(r, err) ? CONFORM_OK : CONFORM_FAILED;
}

/* ---- the behaviours of an end ---- */

static void arm_nothing(struct round *r, struct end *e)
{
	(void)r, (void)e;
}

/* After a pause: one byte each way, each side writing first. */
static uint32_t judge_idle(struct round *r, struct end *e, char *why,
			   size_t len)
{
	if (r->event->resets)
		return judge_reset(r, e, false, why, len);
	unsigned char mine = seeded_byte(e->tx_seed, 0), theirs;
	struct deadline d = step_deadline(r->timeout_s);
	int err = write_full(&e->c, &mine, 1, d);
	if (!err)
		err = read_full(&e->c, &theirs, 1, d);
	if (!err && theirs != seeded_byte(e->rx_seed, 0))
		err = ERR_PATTERN;
	format(why, len, "%s idle: a byte each way after the event: %s",
	       side(r), err ? err_text(err) : "ok");
	return err ? CONFORM_FAILED : CONFORM_OK;
}

static void arm_recv(struct round *r, struct end *e)
{
	start_thread(r, e, recv_thread);
}

static uint32_t judge_recv(struct round *r, struct end *e, char *why,
			   size_t len)
{
	char when[64];
	if (r->event->resets)
		return judge_reset(r, e, false, why, len);
	if (!thread_end(e, step_deadline(r->timeout_s))) {
		format(why, len, "%s recv: still blocked %s, the byte sent "
		       "after it never came", side(r),
		       since_event(r, now_ns(), when, sizeof(when)));
		return CONFORM_FAILED;
	}
	/* Each side hears of the event's end on its own: a wake a moment
	 * before this side did is the peer's byte, not a fault. */
	since_event(r, e->woke_ns, when, sizeof(when));
	bool ok = !e->err && e->got == seeded_byte(e->rx_seed, 0);
	format(why, len, "%s recv blocked across the event woke %s: %s%s",
	       side(r), when, e->err ? err_text(e->err) : "1 byte",
	       e->err || ok ? "" : ", not the byte sent");
	return ok ? CONFORM_OK : CONFORM_FAILED;
}

/* The peer of a blocked recv: one byte after the event. */
static uint32_t judge_wake(struct round *r, struct end *e, char *why,
			   size_t len)
{
	if (r->event->resets)
		return judge_reset(r, e, false, why, len);
	unsigned char b = seeded_byte(e->tx_seed, 0);
	int err = write_full(&e->c, &b, 1, step_deadline(r->timeout_s));
	format(why, len, "%s sent the blocked reader's byte: %s", side(r),
	       err ? err_text(err) : "ok");
	return err ? CONFORM_FAILED : CONFORM_OK;
}

static void arm_send(struct round *r, struct end *e)
{
	start_thread(r, e, send_thread);
	wait_blocked(r, e);
	if (atomic_load(&e->done))
		setup_failed(e, "the sender meant to block ended", e->err);
}

static uint32_t judge_send(struct round *r, struct end *e, char *why,
			   size_t len)
{
	char when[64];
	if (r->event->resets)
		return judge_reset(r, e, false, why, len);
	if (!thread_end(e, step_deadline(r->timeout_s))) {
		format(why, len, "%s send: still blocked %s after %llu of %u "
		       "bytes", side(r), since_event(r, now_ns(), when,
						     sizeof(when)),
		       (unsigned long long)e->moved, SEND_TOTAL);
		return CONFORM_FAILED;
	}
	format(why, len, "%s send blocked at %llu bytes across the event "
	       "ended %s: %s", side(r), (unsigned long long)e->moved_at_event,
	       since_event(r, e->woke_ns, when, sizeof(when)),
	       e->err ? err_text(e->err) : "all sent");
	return e->err ? CONFORM_FAILED : CONFORM_OK;
}

/* The peer of a blocked sender: reads nothing until the event is over,
 * then everything, checked. */
static uint32_t judge_drain(struct round *r, struct end *e, char *why,
			    size_t len)
{
	if (r->event->resets)
		return judge_reset(r, e, true, why, len);
	struct deadline d = step_deadline(r->timeout_s);
	int err = 0;
	while (!err && e->moved < SEND_TOTAL) {
		err = read_full(&e->c, e->buf, CHUNK, d);
		if (!err && seeded_check(e->rx_seed, e->moved, e->buf, CHUNK) <
				    CHUNK)
			err = ERR_PATTERN;
		if (!err)
			e->moved += CHUNK;
	}
	format(why, len, "%s read the stalled %u bytes after the event: %s",
	       side(r), SEND_TOTAL, err ? err_text(err) : "all, correct");
	return err ? CONFORM_FAILED : CONFORM_OK;
}

static void arm_shut_wr(struct round *r, struct end *e)
{
	(void)r;
	if (shutdown(e->c.fd, SHUT_WR) < 0)
		setup_failed(e, "shutdown(SHUT_WR)", errno);
}

/* After a pause the other direction still works: bytes, then EOF. */
static uint32_t judge_shut_wr(struct round *r, struct end *e, char *why,
			      size_t len)
{
	if (r->event->resets)
		return judge_reset(r, e, false, why, len);
	struct deadline d = step_deadline(r->timeout_s);
	int err = read_full(&e->c, e->buf, AFTER_BYTES, d);
	if (!err && seeded_check(e->rx_seed, 0, e->buf, AFTER_BYTES) <
			    AFTER_BYTES)
		err = ERR_PATTERN;
	if (!err)
		err = wait_for_close(&e->c, d);
	format(why, len, "%s, its writes shut, read %u bytes then EOF after "
	       "the event: %s", side(r), AFTER_BYTES,
	       err ? err_text(err) : "ok");
	return err ? CONFORM_FAILED : CONFORM_OK;
}

static void arm_eof_seen(struct round *r, struct end *e)
{
	int err = wait_for_close(&e->c, step_deadline(r->timeout_s));
	if (err)
		setup_failed(e, "the peer's SHUT_WR as EOF", err);
}

static uint32_t judge_eof_seen(struct round *r, struct end *e, char *why,
			       size_t len)
{
	if (r->event->resets)
		return judge_reset(r, e, false, why, len);
	seeded_fill(e->tx_seed, 0, e->buf, AFTER_BYTES);
	int err = write_full(&e->c, e->buf, AFTER_BYTES,
			     step_deadline(r->timeout_s));
	conn_close(&e->c);
	format(why, len, "%s, EOF received before the event, wrote %u bytes "
	       "and closed after it: %s", side(r), AFTER_BYTES,
	       err ? err_text(err) : "ok");
	return err ? CONFORM_FAILED : CONFORM_OK;
}

static void arm_stream_tx(struct round *r, struct end *e)
{
	start_thread(r, e, stream_tx_thread);
	wait_moving(r, e);
}

static void arm_stream_rx(struct round *r, struct end *e)
{
	start_thread(r, e, stream_rx_thread);
	wait_moving(r, e);
}

/* After a pause the stream runs --after seconds more, then ends. */
static uint32_t judge_stream_tx(struct round *r, struct end *e, char *why,
				size_t len)
{
	if (r->event->resets)
		return judge_reset(r, e, false, why, len);
	uint64_t until = r->done_ns + r->after_s * 1000000000u;
	while (now_ns() < until && !atomic_load(&e->done))
		sleep_ms(WAIT_STEP_MS);
	atomic_store(&e->stop, true);
	bool done = thread_end(e, step_deadline(r->timeout_s));
	format(why, len, "%s sent %llu bytes, %llu of them after the event: %s",
	       side(r), (unsigned long long)e->moved,
	       (unsigned long long)(e->moved - e->moved_at_event),
	       !done ? "blocked at the end" : e->err ? err_text(e->err) : "ok");
	return done && !e->err ? CONFORM_OK : CONFORM_FAILED;
}

static uint32_t judge_stream_rx(struct round *r, struct end *e, char *why,
				size_t len)
{
	if (r->event->resets) {
		uint32_t v = judge_reset(r, e, true, why, len);
		size_t n = strlen(why);
		format(why + n, len - n, "; %llu bytes correct before it",
		       (unsigned long long)e->moved);
		return e->moved ? v : CONFORM_FAILED;
	}
	bool done = thread_end(e, step_deadline(r->after_s + r->timeout_s));
	uint64_t after = e->moved - e->moved_at_event;
	if (e->err == ERR_PATTERN)
		format(why, len, "%s: the stream's byte %llu differs (%llu "
		       "bytes before it correct, the event at %llu)", side(r),
		       (unsigned long long)e->bad_at,
		       (unsigned long long)e->moved,
		       (unsigned long long)e->moved_at_event);
	else
		format(why, len, "%s received %llu bytes in order and correct, "
		       "%llu of them after the event, then %s", side(r),
		       (unsigned long long)e->moved, (unsigned long long)after,
		       done ? err_text(e->err) : "nothing (still blocked)");
	return done && e->err == ERR_EOF && after ? CONFORM_OK : CONFORM_FAILED;
}

/* The listening case: a socket of each side that listened across the
 * event with nothing pending accepts a new connection after it, which
 * carries a byte each way. The guest accepts first, then connects. */
static void arm_listen(struct round *r, struct end *e)
{
	uint32_t port = r->role == ROLE_GUEST ? guest_port(r, e->index)
					      : host_port(r, e->index);
	e->laddr = with_port(&r->self, port);
	e->lfd = xlisten(&e->laddr, 4, &r->setup);
}

static int new_connection(struct round *r, struct end *e, bool accepting,
			  const char **step)
{
	struct deadline d = step_deadline(r->timeout_s);
	struct conn c;
	int err;
	if (accepting) {
		*step = "accept";
		err = conn_accept(&c, e->lfd, &e->laddr, d, NULL);
	} else {
		*step = "connect";
		uint32_t port = r->role == ROLE_GUEST ? host_port(r, e->index)
						      : guest_port(r, e->index);
		struct address to = with_port(&r->peer, port);
		err = conn_open(&c, &to, 0, &r->setup, d);
	}
	if (err)
		return err;
	unsigned char mine = seeded_byte(e->tx_seed, 0), theirs = 0;
	*step = "a byte each way";
	err = write_full(&c, &mine, 1, d);
	if (!err)
		err = read_full(&c, &theirs, 1, d);
	if (!err && theirs != seeded_byte(e->rx_seed, 0))
		err = ERR_PATTERN;
	conn_close(&c);
	return err;
}

static uint32_t judge_listen(struct round *r, struct end *e, char *why,
			     size_t len)
{
	bool guest = r->role == ROLE_GUEST;
	const char *step1, *step2 = "";
	int err = new_connection(r, e, guest, &step1), err2 = 0;
	if (!err)
		err2 = new_connection(r, e, !guest, &step2);
	format(why, len, "%s: its listener accepted a new connection after "
	       "the event, and it connected to the other's: %s%s%s%s",
	       side(r), err ? step1 : err2 ? step2 : "",
	       err || err2 ? ": " : "", err || err2 ? err_text(err ? err : err2)
	       : "", err || err2 ? "" : "ok");
	return err || err2 ? CONFORM_FAILED : CONFORM_OK;
}

/* The guest's CID: its own ioctl after the event must be the CID the host
 * sees it connect from, and another one when the event gives it one. The
 * host judges: it has both. */
static uint32_t judge_cid(struct round *r, struct end *e, char *why,
			  size_t len)
{
	(void)e;
	if (r->role == ROLE_GUEST) {
		format(why, len, "guest: its ioctl says CID %u before, %u after",
		       (unsigned)r->cid_before, (unsigned)r->cid_after);
		return CONFORM_OK;
	}
	if (r->cid_after == VSOCK_CID_ANY) {
		format(why, len, "the guest has no CID (not vsock)");
		return CONFORM_SKIPPED;
	}
	if (r->seen_after == VSOCK_CID_ANY) {
		format(why, len, "a hybrid host sees no CID (the guest's ioctl "
		       "says %u)", (unsigned)r->cid_after);
		return CONFORM_SKIPPED;
	}
	bool ok = r->cid_after == r->seen_after &&
		  (r->event->new_cid ? r->cid_after != r->cid_before
				     : r->cid_after == r->cid_before);
	format(why, len, "host: the guest connects from CID %u before, %u "
	       "after; its ioctl says %u after%s", (unsigned)r->seen_before,
	       (unsigned)r->seen_after, (unsigned)r->cid_after,
	       ok ? "" : r->event->new_cid ? " (want the new CID both ways)"
	       : " (want the same CID throughout)");
	return ok ? CONFORM_OK : CONFORM_FAILED;
}

/* ---- an event longer than --timeout ---- */

/* The host's end of a call in progress across the event: the call ended
 * with ETIMEDOUT when its step's deadline passed, counted from when it
 * began (a pause must not stretch it), and the thread closed it. */
static uint32_t judge_deadline(struct round *r, struct end *e, char *why,
			       size_t len)
{
	const char *what = mine(r, e->index)->what;
	unsigned long long t = (unsigned long long)r->timeout_s;
	char num[32], when[64];
	if (!thread_end(e, step_deadline(r->timeout_s))) {
		format(why, len, "host %s: still blocked %s (--timeout %llu "
		       "never fired)", what, since_event(r, now_ns(), when,
							 sizeof(when)), t);
		return CONFORM_FAILED;
	}
	uint64_t took = e->woke_ns - e->call_ns, want = t * 1000000000u;
	bool ok = e->err == ETIMEDOUT && took + EARLY_MS * 1000000u >= want &&
		  took <= want + LATE_MS * 1000000u;
	format(why, len, "host %s: %s %s s after the call began (--timeout "
	       "%llu), %s%s", what, e->err ? err_text(e->err) : "completed",
	       format_fixed(num, sizeof(num), (double)took / 1e9, 2), t,
	       since_event(r, e->woke_ns, when, sizeof(when)),
	       ok ? "; closed" : " (want ETIMEDOUT on the step's deadline)");
	return ok ? CONFORM_OK : CONFORM_FAILED;
}

/* A case whose host end has a call in progress across an event longer
 * than --timeout loses it: the host is judged on its deadline, the guest
 * on learning the close within --wake (EOF or a reset, as after a
 * restore). Every other end as its behaviour says. */
uint32_t judge_end(struct round *r, struct end *e, char *why, size_t len)
{
	if (e->setup_what) {
		format(why, len, "%s: its setup before the event failed: %s: %s",
		       side(r), e->setup_what, io_error_text(e->setup_err));
		return CONFORM_FAILED;
	}
	if (!r->event->host_deadlines || !lifecycle_cases[e->index].host->blocks)
		return mine(r, e->index)->judge(r, e, why, len);
	if (r->role == ROLE_HOST)
		return judge_deadline(r, e, why, len);
	return judge_reset(r, e, true, why, len);
}

/* ---- the table ---- */
/* BLOCKS: a call of this end is in progress across the event. */
#define BEHAVIOUR(n, a, j, w, b) \
	static const struct behaviour n = {.name = #n, .arm = a, .judge = j, \
					   .what = w, .blocks = b}
BEHAVIOUR(idle, arm_nothing, judge_idle, "idle", false);
BEHAVIOUR(blocked_recv, arm_recv, judge_recv, "recv blocked across the "
	  "event", true);
BEHAVIOUR(waker, arm_nothing, judge_wake, "peer of a blocked recv", false);
BEHAVIOUR(blocked_send, arm_send, judge_send, "send blocked across the "
	  "event", true);
BEHAVIOUR(stalled_reader, arm_nothing, judge_drain, "reader that stopped",
	  false);
BEHAVIOUR(shut_wr, arm_shut_wr, judge_shut_wr, "half-closed (SHUT_WR)",
	  false);
BEHAVIOUR(eof_seen, arm_eof_seen, judge_eof_seen, "half-closed (EOF "
	  "received)", false);
BEHAVIOUR(stream_tx, arm_stream_tx, judge_stream_tx, "verified stream's "
	  "sender", true);
BEHAVIOUR(stream_rx, arm_stream_rx, judge_stream_rx, "verified stream's "
	  "receiver", true);
BEHAVIOUR(listening, arm_listen, judge_listen, "listener", false);
BEHAVIOUR(cid, arm_nothing, judge_cid, "CID", false);

/* Each state of a connection, opened by the guest (-gi) and by the host
 * (-hi). */
#define BOTH_WAYS(n, w, g, h) \
	{.name = n "-gi", .what = w ", opened by the guest", .by = BY_GUEST, \
	 .guest = &g, .host = &h}, \
	{.name = n "-hi", .what = w ", opened by the host", .by = BY_HOST, \
	 .guest = &g, .host = &h}

const struct lifecycle_case lifecycle_cases[] = {
	BOTH_WAYS("idle", "established and idle", idle, idle),
	BOTH_WAYS("guest-recv", "the guest blocked in recv", blocked_recv,
		  waker),
	BOTH_WAYS("host-recv", "the host blocked in recv", waker,
		  blocked_recv),
	BOTH_WAYS("guest-send", "the guest blocked in send, the host not "
		  "reading (credit exhausted)", blocked_send, stalled_reader),
	BOTH_WAYS("host-send", "the host blocked in send, the guest not "
		  "reading", stalled_reader, blocked_send),
	BOTH_WAYS("guest-shut-wr", "half-closed: the guest's SHUT_WR sent, "
		  "its EOF received", shut_wr, eof_seen),
	BOTH_WAYS("host-shut-wr", "half-closed: the host's SHUT_WR sent, its "
		  "EOF received", eof_seen, shut_wr),
	BOTH_WAYS("stream-to-host", "a verified stream from the guest",
		  stream_tx, stream_rx),
	BOTH_WAYS("stream-to-guest", "a verified stream from the host",
		  stream_rx, stream_tx),
	{.name = "listen", .what = "a listening socket on each side with "
	 "nothing pending; after the event each accepts a new connection "
	 "from the other", .by = BY_NONE, .guest = &listening,
	 .host = &listening},
	{.name = "cid", .what = "the guest's CID by its ioctl is the one the "
	 "host sees it connect from; another after a restore with a new CID",
	 .by = BY_NONE, .guest = &cid, .host = &cid},
};
const size_t lifecycle_case_count =
	sizeof(lifecycle_cases) / sizeof(lifecycle_cases[0]);
