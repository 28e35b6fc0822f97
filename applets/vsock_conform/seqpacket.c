// SPDX-License-Identifier: MIT
/* vsock-conform's cases of SOCK_SEQPACKET: message boundaries,
 * MSG_TRUNC, MSG_EOR, a message too big, MSG_PEEK. */
#include "conform.h"

/* One message: its length and flags, or a verdict through *v. */
static int recv_message(struct side *s, int fd, void *buf, size_t len,
			int flags, ssize_t *got, int *msg_flags,
			const char *step)
{
	struct iovec v = {.iov_base = buf, .iov_len = len};
	struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
	ssize_t n = xmsg(s, fd, false, &m, flags);

	if (n == -ECANCELED)
		return CONFORM_ABORTED;
	if (n < 0)
		return fail(s, "%s: recvmsg: %s", step,
			    n == -ETIMEDOUT ? "timed out" : EN((int)-n));
	*got = n;
	*msg_flags = m.msg_flags;
	return CONFORM_OK;
}

/* This socket's SO_VM_SOCKETS_BUFFER_SIZE (the default where unknown). */
static uint64_t own_buffer(int fd)
{
	uint64_t v = 0;
	return get_u64(fd, SO_VM_SOCKETS_BUFFER_SIZE, &v) || !v ? 256 << 10 : v;
}

/* The sizes, up to the buffer (at most BUF_BYTES - 4096). */
static const uint32_t message_sizes[] = {
	1, 2, 3, 7, 100, 4095, 4096, 4097, 65535, 65536, 65537, 131072, 200000,
	0,	/* the whole buffer */
};
enum { MESSAGES = sizeof(message_sizes) / sizeof(message_sizes[0]) };

static size_t message_size(int i, uint64_t buffer)
{
	return message_sizes[i] ? message_sizes[i] : (size_t)buffer;
}

/* Receives one message of exactly len bytes of the pattern at `from`,
 * with MSG_EOR (eor) or without. */
static int expect_message(struct side *s, int fd, size_t len, uint64_t from,
			  bool eor, const char *step)
{
	ssize_t n;
	int flags;

	TRY(recv_message(s, fd, s->buf2, BUF_BYTES, 0, &n, &flags, step));
	if ((size_t)n != len)
		return fail(s, "%s: recvmsg: expected a message of %zu bytes, "
			    "got %zd", step, len, n);
	if (flags & MSG_TRUNC)
		return fail(s, "%s: recvmsg: MSG_TRUNC on a whole message", step);
	if (eor != !!(flags & MSG_EOR))
		return fail(s, "%s: recvmsg: expected %s, got %s", step,
			    eor ? "MSG_EOR" : "no MSG_EOR",
			    flags & MSG_EOR ? "MSG_EOR" : "none");
	size_t bad = seeded_check(s->seed, from, s->buf2, len);
	return bad == len ? CONFORM_OK
		: fail(s, "%s: byte %zu of the message is %u, expected %u", step,
		       bad, s->buf2[bad], seeded_byte(s->seed, from + bad));
}

/* The messages of one direction: sent one send each, received one
 * recvmsg each, the whole of it and nothing more. */
enum { TO_LISTENING = 0, TO_CONNECTING = 1 };

static uint64_t message_offset(int direction, int i)
{
	return (uint64_t)direction << 32 | (uint64_t)i << 20;
}

static int send_messages(struct side *s, int fd, int direction, uint64_t last)
{
	char step[64];

	for (int i = 0; i < MESSAGES; i++) {
		size_t len = message_size(i, last);
		format(step, sizeof(step), "send message #%d of %zu bytes", i + 1,
		       len);
		seeded_fill(s->seed, message_offset(direction, i), s->buf, len);
		TRY(send_exact(s, fd, s->buf, len, step));
	}
	return CONFORM_OK;
}

static int receive_messages(struct side *s, int fd, int direction,
			    uint64_t last)
{
	char step[64];

	for (int i = 0; i < MESSAGES; i++) {
		size_t len = message_size(i, last);
		format(step, sizeof(step), "message #%d of %zu bytes", i + 1, len);
		TRY(expect_message(s, fd, len, message_offset(direction, i), false,
				   step));
	}
	return CONFORM_OK;
}

/* The largest message: the smaller of the two buffers. */
int seqpacket_boundaries_connect(struct side *s)
{
	int fd;
	uint32_t theirs;

	TRY(connect_one(s, &fd));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's buffer size", &theirs));
	uint64_t last = own_buffer(fd);
	if (theirs < last)
		last = theirs;
	if (last > BUF_BYTES - 4096)
		last = BUF_BYTES - 4096;
	TRY(ctl_send(s, CONFORM_SYNC, (uint32_t)last));
	TRY(receive_messages(s, fd, TO_CONNECTING, last));
	return send_messages(s, fd, TO_LISTENING, last);
}

int seqpacket_boundaries_listen(struct side *s)
{
	int fd;
	uint32_t last;

	TRY(serve_one(s, &fd));
	TRY(ctl_send(s, CONFORM_SYNC, (uint32_t)own_buffer(fd)));
	TRY(ctl_wait(s, CONFORM_SYNC, "the largest message's size", &last));
	TRY(send_messages(s, fd, TO_CONNECTING, last));
	return receive_messages(s, fd, TO_LISTENING, last);
}

enum { TRUNC_BYTES = 32 };

int seqpacket_msg_trunc_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	for (int i = 0; i < 3; i++) {
		seeded_fill(s->seed, (uint64_t)i * TRUNC_BYTES, s->buf, TRUNC_BYTES);
		TRY(send_exact(s, fd, s->buf, TRUNC_BYTES, "write"));
	}
	return CONFORM_OK;
}

int seqpacket_msg_trunc_listen(struct side *s)
{
	int fd, flags;
	ssize_t n;

	TRY(serve_one(s, &fd));
	TRY(recv_message(s, fd, s->buf2, TRUNC_BYTES / 2, MSG_TRUNC, &n, &flags,
			 "recvmsg(MSG_TRUNC)"));
	if (n != TRUNC_BYTES || !(flags & MSG_TRUNC))
		return fail(s, "recvmsg(MSG_TRUNC) of a %d-byte message into %d: "
			    "expected %d and MSG_TRUNC, got %zd%s", TRUNC_BYTES,
			    TRUNC_BYTES / 2, TRUNC_BYTES, n,
			    flags & MSG_TRUNC ? " and MSG_TRUNC" : " without MSG_TRUNC");
	TRY(recv_message(s, fd, s->buf2, TRUNC_BYTES / 2, 0, &n, &flags,
			 "recvmsg"));
	if (n != TRUNC_BYTES / 2 || !(flags & MSG_TRUNC))
		return fail(s, "recvmsg of a %d-byte message into %d: expected %d "
			    "and MSG_TRUNC, got %zd%s", TRUNC_BYTES, TRUNC_BYTES / 2,
			    TRUNC_BYTES / 2, n,
			    flags & MSG_TRUNC ? " and MSG_TRUNC" : " without MSG_TRUNC");
	size_t bad = seeded_check(s->seed, TRUNC_BYTES, s->buf2, (size_t)n);
	if (bad != (size_t)n)
		return fail(s, "recvmsg: the truncated message's byte %zu is %u, "
			    "expected %u", bad, s->buf2[bad],
			    seeded_byte(s->seed, TRUNC_BYTES + bad));
	/* The rest of the second message is gone: the third comes whole. */
	return expect_message(s, fd, TRUNC_BYTES, 2 * TRUNC_BYTES, false,
			      "the message after a truncated one");
}

enum { EOR_MESSAGES = 8 };

static bool eor_at(int i)
{
	return i % 3 != 1;
}

int seqpacket_msg_eor_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	for (int i = 0; i < EOR_MESSAGES; i++) {
		size_t len = 10 + (size_t)i * 100;
		seeded_fill(s->seed, (uint64_t)i << 12, s->buf, len);
		ssize_t n = xio(s, fd, true, s->buf, len, eor_at(i) ? MSG_EOR : 0);
		if (n == -ECANCELED)
			return CONFORM_ABORTED;
		if (n != (ssize_t)len)
			return fail(s, "send%s of %zu bytes: got %s",
				    eor_at(i) ? "(MSG_EOR)" : "", len,
				    n < 0 ? EN((int)-n) : "less");
	}
	return CONFORM_OK;
}

int seqpacket_msg_eor_listen(struct side *s)
{
	int fd;
	char step[48];

	TRY(serve_one(s, &fd));
	for (int i = 0; i < EOR_MESSAGES; i++) {
		format(step, sizeof(step), "message #%d", i + 1);
		TRY(expect_message(s, fd, 10 + (size_t)i * 100, (uint64_t)i << 12,
				   eor_at(i), step));
	}
	return CONFORM_OK;
}

int seqpacket_big_message_connect(struct side *s)
{
	int fd;
	uint32_t buffer;

	TRY(connect_one(s, &fd));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's buffer size", &buffer));
	if (buffer + 1 > BUF_BYTES)
		return fail(s, "the other side's buffer of %u bytes: larger than "
			    "this test's %d", (unsigned)buffer, BUF_BYTES);
	seeded_fill(s->seed, 0, s->buf, buffer + 1);
	ssize_t n = xio(s, fd, true, s->buf, buffer + 1, 0);
	if (n == -ECANCELED)
		return CONFORM_ABORTED;
	if (n != -EMSGSIZE)
		return fail(s, "send of a %u-byte message, the peer's buffer %u: "
			    "expected EMSGSIZE, got %s", (unsigned)buffer + 1,
			    (unsigned)buffer, n >= 0 ? "success" : EN((int)-n));
	return send_exact(s, fd, s->buf, 1, "the message after");
}

int seqpacket_big_message_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	TRY(ctl_send(s, CONFORM_SYNC, (uint32_t)own_buffer(fd)));
	return expect_message(s, fd, 1, 0, false, "the message after the big one");
}

int seqpacket_msg_peek_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return peek_writer(s, fd, true);
}

int seqpacket_msg_peek_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return peek_reader(s, fd, true);
}

/* The cases, in the order they run (and --list prints them). */
