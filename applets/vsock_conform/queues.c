// SPDX-License-Identifier: MIT
/* vsock-conform's cases of a socket's queues: MSG_PEEK, MSG_DONTWAIT,
 * SIOCINQ and SIOCOUTQ, SO_RCVLOWAT, virtio credit, the buffer
 * sizes, MSG_ZEROCOPY's completions. */
#include "conform.h"

#include <fcntl.h>
#include <sys/ioctl.h>

/* ---- msg-peek, dontwait-empty ---- */

enum { PEEK_BYTES = 64 };

static int peek_failed(struct side *s, const char *call, size_t want,
		       ssize_t n)
{
	if (n == -ECANCELED)
		return CONFORM_ABORTED;
	return fail(s, "%s: expected %zu, got %s", call, want,
		    COUNT(n, (int)-n));
}

/* Peeks on an empty socket, then part, all, and reads: the same bytes.
 * seqpacket: MSG_PEEK|MSG_TRUNC gives the message's length too. */
int peek_reader(struct side *s, int fd, bool seqpacket)
{
	unsigned char half[PEEK_BYTES / 2], all[PEEK_BYTES];
	ssize_t n = recv(fd, all, sizeof(all), MSG_PEEK | MSG_DONTWAIT);

	if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		return fail(s, "recv(MSG_PEEK|MSG_DONTWAIT) on an empty socket: "
			    "expected EAGAIN, got %s", n >= 0 ? "data" : EN(errno));
	TRY(ctl_send(s, CONFORM_SYNC, 0));
	TRY(wait_queued(s, fd, seqpacket ? 1 : PEEK_BYTES, "data arrives"));
	n = xio(s, fd, false, half, sizeof(half), MSG_PEEK);
	if (n != (ssize_t)sizeof(half))
		return peek_failed(s, "recv(MSG_PEEK) of part", sizeof(half), n);
	n = xio(s, fd, false, all, sizeof(all), MSG_PEEK);
	if (n != (ssize_t)sizeof(all))
		return peek_failed(s, "recv(MSG_PEEK) of all", sizeof(all), n);
	if (memcmp(half, all, sizeof(half)) != 0)
		return fail(s, "recv(MSG_PEEK): the partial and the whole peek differ");
	if (seqpacket) {
		n = xio(s, fd, false, half, sizeof(half), MSG_PEEK | MSG_TRUNC);
		if (n != (ssize_t)sizeof(all))
			return peek_failed(s, "recv(MSG_PEEK|MSG_TRUNC) into half "
					   "(the message's length)", sizeof(all), n);
	}
	TRY(recv_exact(s, fd, s->buf2, sizeof(all), "read after the peeks"));
	if (memcmp(s->buf2, all, sizeof(all)) != 0)
		return fail(s, "recv: the bytes differ from the peeked ones");
	size_t bad = seeded_check(s->seed, 0, all, sizeof(all));
	return bad == sizeof(all) ? CONFORM_OK
		: fail(s, "recv: byte %zu is %u, expected %u", bad, all[bad],
		       seeded_byte(s->seed, bad));
}

/* Two sends that the receiver's queue merges (a partial peek between
 * them would split them), or one message. */
int peek_writer(struct side *s, int fd, bool seqpacket)
{
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's empty peek", NULL));
	seeded_fill(s->seed, 0, s->buf, PEEK_BYTES);
	if (seqpacket)
		return send_exact(s, fd, s->buf, PEEK_BYTES, "write");
	TRY(send_exact(s, fd, s->buf, PEEK_BYTES / 4, "write"));
	return send_exact(s, fd, s->buf + PEEK_BYTES / 4, PEEK_BYTES * 3 / 4,
			  "write");
}

int msg_peek_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return peek_writer(s, fd, false);
}

int msg_peek_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return peek_reader(s, fd, false);
}

int dontwait_empty_connect(struct side *s)
{
	int fd;
	unsigned char byte;

	TRY(connect_one(s, &fd));
	uint64_t t = now_ns();
	ssize_t n = recv(fd, &byte, 1, MSG_DONTWAIT);
	if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		return fail(s, "recv(MSG_DONTWAIT) on an empty socket: expected "
			    "EAGAIN, got %s", n > 0 ? "data" : n == 0 ? "EOF"
			    : EN(errno));
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return fail(s, "fcntl(O_NONBLOCK): %s", EN(errno));
	n = recv(fd, &byte, 1, 0);
	if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		return fail(s, "recv on an empty O_NONBLOCK socket: expected "
			    "EAGAIN, got %s", n > 0 ? "data" : n == 0 ? "EOF"
			    : EN(errno));
	uint64_t ms = (now_ns() - t) / 1000000u;
	if (ms >= QUIET_MS)
		return fail(s, "recv(MSG_DONTWAIT) on an empty socket: expected "
			    "EAGAIN at once, took %llu ms", (unsigned long long)ms);
	if (fcntl(fd, F_SETFL, flags) < 0)
		return fail(s, "fcntl: %s", EN(errno));
	TRY(ctl_send(s, CONFORM_SYNC, 0));
	short ev;
	TRY(poll_until(s, fd, POLLIN, POLLIN, &ev, "the peer's byte"));
	n = recv(fd, &byte, 1, MSG_DONTWAIT);
	if (n != 1 || byte != 42)
		return fail(s, "recv(MSG_DONTWAIT) after POLLIN: expected byte "
			    "42, got %s", n == 1 ? "another" : n == 0 ? "EOF"
			    : EN(errno));
	return CONFORM_OK;
}

int dontwait_empty_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's empty reads", NULL));
	return send_byte(s, fd, 42, "write");
}

/* ---- siocinq, siocoutq ---- */

enum { INQ_BYTES = 1000 };

int siocinq_connect(struct side *s)
{
	int fd, v = -1;

	TRY(connect_one(s, &fd));
	if (ioctl(fd, SIOCINQ, &v) < 0)
		return lacks_feature(errno)
			? skip(s, "kernel: ioctl(SIOCINQ): %s", EN(errno))
			: fail(s, "ioctl(SIOCINQ): %s", EN(errno));
	if (v != 0)
		return fail(s, "ioctl(SIOCINQ) on an empty socket: expected 0, "
			    "got %d", v);
	TRY(ctl_send(s, CONFORM_SYNC, 0));
	TRY(wait_queued(s, fd, INQ_BYTES, "data arrives"));
	if (ioctl(fd, SIOCINQ, &v) < 0 || v != INQ_BYTES)
		return fail(s, "ioctl(SIOCINQ) with %d bytes queued: got %d",
			    INQ_BYTES, v);
	TRY(recv_pattern(s, fd, INQ_BYTES, 0, NULL, "read"));
	if (ioctl(fd, SIOCINQ, &v) < 0 || v != 0)
		return fail(s, "ioctl(SIOCINQ) after the read: expected 0, got %d",
			    v);
	return CONFORM_OK;
}

int siocinq_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's first SIOCINQ", NULL));
	return send_pattern(s, fd, INQ_BYTES, 0, NULL, "write");
}

int siocoutq_connect(struct side *s)
{
	int fd, v = -1;
	bool known;

	TRY(connect_one(s, &fd));
	if (ioctl(fd, SIOCOUTQ, &v) < 0)
		return lacks_feature(errno)
			? skip(s, "kernel: ioctl(SIOCOUTQ): %s", EN(errno))
			: fail(s, "ioctl(SIOCOUTQ): %s", EN(errno));
	if (v != 0)
		return fail(s, "ioctl(SIOCOUTQ) before any send: expected 0, got %d",
			    v);
	TRY(send_pattern(s, fd, INQ_BYTES, 0, NULL, "write"));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side has the bytes", NULL));
	return wait_sent(s, fd, &known);
}

int siocoutq_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	TRY(wait_queued(s, fd, INQ_BYTES, "data arrives"));
	return ctl_send(s, CONFORM_SYNC, 0);
}

/* ---- rcvlowat ---- */

enum { LOWAT = 128 };

int rcvlowat_connect(struct side *s)
{
	int fd, err, v = 0;
	short ev;

	TRY(connect_one(s, &fd));
	if ((err = set_int(fd, SOL_SOCKET, SO_RCVLOWAT, LOWAT)) != 0)
		return fail(s, "setsockopt(SO_RCVLOWAT, %d): %s", LOWAT, EN(err));
	if ((err = get_int(fd, SOL_SOCKET, SO_RCVLOWAT, &v)) != 0 || v != LOWAT)
		return fail(s, "getsockopt(SO_RCVLOWAT): expected %d, got %s",
			    LOWAT, COUNT(err ? -1 : v, err));
	TRY(ctl_send(s, CONFORM_SYNC, 0));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's first byte", NULL));
	TRY(wait_queued(s, fd, 1, "the first byte arrives"));
	int r = poll_for(fd, POLLIN, QUIET_MS);
	if (r != 0)
		return fail(s, "poll with 1 byte queued, SO_RCVLOWAT %d: expected "
			    "nothing in %d ms, got %s", LOWAT, QUIET_MS,
			    r < 0 ? EN(-r) : EV((short)r));
	TRY(ctl_send(s, CONFORM_SYNC, 0));
	TRY(poll_until(s, fd, POLLIN, POLLIN, &ev, "poll for SO_RCVLOWAT bytes"));
	ssize_t n = recv(fd, s->buf2, LOWAT, MSG_DONTWAIT);
	if (n != LOWAT)
		return fail(s, "recv(MSG_DONTWAIT) after POLLIN: expected %d "
			    "bytes, got %s", LOWAT, COUNT(n, errno));
	return CONFORM_OK;
}

int rcvlowat_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	TRY(ctl_wait(s, CONFORM_SYNC, "SO_RCVLOWAT set", NULL));
	TRY(send_pattern(s, fd, 1, 0, NULL, "write the first byte"));
	TRY(ctl_send(s, CONFORM_SYNC, 0));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's quiet poll", NULL));
	seeded_fill(s->seed, 1, s->buf, LOWAT - 1);
	return send_exact(s, fd, s->buf, LOWAT - 1, "write the rest");
}

/* ---- credit-rcvlowat, credit-low-rx (vsock_test's credit update) ---- */

enum { CREDIT_BUF = 128 << 10, CREDIT_HALF = 64 << 10 };

static int credit_sender(struct side *s, int fd)
{
	TRY(recv_byte(s, fd, 1, "the receiver's buffer is set"));
	return send_pattern(s, fd, CREDIT_BUF + 1, 0, NULL,
			    "write a byte more than the receiver's buffer");
}

static int credit_receiver(struct side *s, int fd, bool lowat_first)
{
	int err;
	short ev;

	if ((err = set_u64(fd, SO_VM_SOCKETS_BUFFER_SIZE, CREDIT_BUF)) != 0)
		return fail(s, "setsockopt(SO_VM_SOCKETS_BUFFER_SIZE, %d): %s",
			    CREDIT_BUF, EN(err));
	if (lowat_first &&
	    (err = set_int(fd, SOL_SOCKET, SO_RCVLOWAT, CREDIT_HALF + 1)) != 0)
		return fail(s, "setsockopt(SO_RCVLOWAT): %s", EN(err));
	TRY(send_byte(s, fd, 1, "tell the sender"));
	TRY(wait_queued(s, fd, CREDIT_BUF, "the buffer fills"));
	TRY(recv_pattern(s, fd, CREDIT_HALF, 0, NULL, "read half"));
	if (!lowat_first &&
	    (err = set_int(fd, SOL_SOCKET, SO_RCVLOWAT, CREDIT_HALF + 1)) != 0)
		return fail(s, "setsockopt(SO_RCVLOWAT): %s", EN(err));
	TRY(poll_until(s, fd, POLLIN | POLLRDHUP, POLLIN | POLLERR | POLLHUP,
		       &ev, "poll for the last byte (the credit update)"));
	if (ev & POLLERR)
		return fail(s, "poll for the last byte: expected POLLIN, got %s",
			    EV(ev));
	size_t want = CREDIT_HALF + 1;
	ssize_t n = recv(fd, s->buf2, want, MSG_DONTWAIT);
	if (n != (ssize_t)want)
		return fail(s, "recv(MSG_DONTWAIT) after POLLIN: expected %zu "
			    "bytes, got %s", want, COUNT(n, errno));
	size_t bad = seeded_check(s->seed, CREDIT_HALF, s->buf2, want);
	return bad == want ? CONFORM_OK
		: fail(s, "recv: byte %zu is %u, expected %u", CREDIT_HALF + bad,
		       s->buf2[bad], seeded_byte(s->seed, CREDIT_HALF + bad));
}

/* SO_RCVLOWAT raised after the read (its setsockopt sends the update),
 * or set before (the update when fewer bytes than it are left). */
int credit_rcvlowat_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return credit_receiver(s, fd, false);
}

int credit_low_rx_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return credit_receiver(s, fd, true);
}

int credit_rcvlowat_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return credit_sender(s, fd);
}

int credit_low_rx_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return credit_sender(s, fd);
}

/* ---- buffer-size ---- */

/* Sets option to v and reads option `check` back: want. */
static int buffer_step(struct side *s, int fd, int option, const char *name,
		       uint64_t v, int check, const char *check_name,
		       uint64_t want)
{
	uint64_t got;
	int err = set_u64(fd, option, v);

	if (err)
		return fail(s, "setsockopt(%s, %llu): %s", name,
			    (unsigned long long)v, EN(err));
	if ((err = get_u64(fd, check, &got)) != 0)
		return fail(s, "getsockopt(%s): %s", check_name, EN(err));
	if (got != want)
		return fail(s, "after setsockopt(%s, %llu), getsockopt(%s): "
			    "expected %llu, got %llu", name,
			    (unsigned long long)v, check_name,
			    (unsigned long long)want, (unsigned long long)got);
	return CONFORM_OK;
}

#define BUF_OPT(x) SO_VM_SOCKETS_BUFFER_##x, "SO_VM_SOCKETS_BUFFER_" #x

int buffer_size_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	/* Round trips, then each bound clamping the size. */
	TRY(buffer_step(s, fd, BUF_OPT(MAX_SIZE), 1 << 20, BUF_OPT(MAX_SIZE),
			1 << 20));
	TRY(buffer_step(s, fd, BUF_OPT(MIN_SIZE), 4096, BUF_OPT(MIN_SIZE), 4096));
	TRY(buffer_step(s, fd, BUF_OPT(SIZE), 512 << 10, BUF_OPT(SIZE),
			512 << 10));
	TRY(buffer_step(s, fd, BUF_OPT(SIZE), 2 << 20, BUF_OPT(SIZE), 1 << 20));
	TRY(buffer_step(s, fd, BUF_OPT(SIZE), 1024, BUF_OPT(SIZE), 4096));
	TRY(buffer_step(s, fd, BUF_OPT(SIZE), 256 << 10, BUF_OPT(SIZE),
			256 << 10));
	TRY(buffer_step(s, fd, BUF_OPT(MAX_SIZE), 64 << 10, BUF_OPT(SIZE),
			64 << 10));
	TRY(buffer_step(s, fd, BUF_OPT(MIN_SIZE), 32 << 10, BUF_OPT(SIZE),
			64 << 10));
	TRY(buffer_step(s, fd, BUF_OPT(MAX_SIZE), 1 << 20, BUF_OPT(SIZE),
			64 << 10));
	TRY(buffer_step(s, fd, BUF_OPT(MIN_SIZE), 128 << 10, BUF_OPT(SIZE),
			128 << 10));
	/* The connection still carries data at the new size. */
	TRY(send_pattern(s, fd, 200 << 10, 0, NULL, "write"));
	return CONFORM_OK;
}

int buffer_size_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return recv_pattern(s, fd, 200 << 10, 0, NULL, "read");
}

/* ---- zerocopy, zerocopy-close-pending ---- */

enum { ZC_SENDS = 8, ZC_SEND = 16 << 10 };

static int zerocopy_on(struct side *s, int fd)
{
	int err = set_int(fd, SOL_SOCKET, SO_ZEROCOPY, 1);
	if (!err)
		return CONFORM_OK;
	return lacks_feature(err)
		? skip(s, "kernel: setsockopt(SO_ZEROCOPY): %s", EN(err))
		: fail(s, "setsockopt(SO_ZEROCOPY): %s", EN(err));
}

static int zerocopy_sends(struct side *s, int fd)
{
	for (int i = 0; i < ZC_SENDS; i++) {
		seeded_fill(s->seed, (uint64_t)i * ZC_SEND,
			     s->buf + (size_t)i * ZC_SEND, ZC_SEND);
		ssize_t n = xio(s, fd, true, s->buf + (size_t)i * ZC_SEND,
				ZC_SEND, MSG_ZEROCOPY);
		if (n == -ECANCELED)
			return CONFORM_ABORTED;
		if (n != ZC_SEND)
			return fail(s, "send(MSG_ZEROCOPY) #%d of %d bytes: got %s",
				    i + 1, ZC_SEND, n < 0 ? EN((int)-n) : "less");
	}
	return CONFORM_OK;
}

/* Reads completion notices until they cover IDs 0..want-1 in order. */
static int zerocopy_completions(struct side *s, int fd, uint32_t want)
{
	uint32_t next = 0, first, last;

	while (next < want) {
		int err = zerocopy_notice(fd, &first, &last);
		if (err == EAGAIN || err == EINTR) {
			short ev;
			TRY(poll_until(s, fd, 0, POLLERR, &ev,
				       "wait for MSG_ZEROCOPY completions"));
			continue;
		}
		if (err == ENOMSG)
			return fail(s, "recvmsg(MSG_ERRQUEUE): expected a "
				    "MSG_ZEROCOPY completion, got another notice");
		if (err)
			return fail(s, "MSG_ZEROCOPY completion: %s", EN(err));
		if (first != next || last < first)
			return fail(s, "MSG_ZEROCOPY completion: expected the "
				    "range from ID %u, got %u..%u", (unsigned)next,
				    (unsigned)first, (unsigned)last);
		next = last + 1;
	}
	return CONFORM_OK;
}

int zerocopy_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	TRY(zerocopy_on(s, fd));
	TRY(zerocopy_sends(s, fd));
	/* Over vsock a send may take more than one ID (one per chunk). */
	return zerocopy_completions(s, fd, ZC_SENDS);
}

static int zerocopy_reader(struct side *s, int fd)
{
	TRY(recv_pattern(s, fd, (uint64_t)ZC_SENDS * ZC_SEND, 0, NULL, "read"));
	return expect_eof(s, fd, "read after the data");
}

int zerocopy_close_pending_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	TRY(zerocopy_on(s, fd));
	TRY(zerocopy_sends(s, fd));
	uint64_t ms = timed_close(s, fd);
	if (ms >= QUIET_MS)
		return fail(s, "close with MSG_ZEROCOPY completions pending: "
			    "expected at once, took %llu ms",
			    (unsigned long long)ms);
	return CONFORM_OK;
}

int zerocopy_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return zerocopy_reader(s, fd);
}

int zerocopy_close_pending_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return zerocopy_reader(s, fd);
}
