// SPDX-License-Identifier: MIT
/* vsock-conform's cases of shutdown and close: SHUT_WR, SHUT_RD,
 * POLLRDHUP and POLLHUP, a close with data unread, SO_LINGER. */
#include "conform.h"

/* ---- shut-wr: one side shuts its writes down ---- */

enum { SHUT_DATA = 7, SHUT_REPLY = 9 };

/* The side that shuts down: a byte, SHUT_WR, EPIPE on its sends, and it
 * still reads the other side's byte. */
static int shut_wr_shutter(struct side *s, int fd)
{
	TRY(send_byte(s, fd, SHUT_DATA, "write before SHUT_WR"));
	if (shutdown(fd, SHUT_WR))
		return fail(s, "shutdown(SHUT_WR): %s", EN(errno));
	TRY(expect_epipe(s, fd, "after SHUT_WR"));
	TRY(ctl_send(s, CONFORM_SYNC, 0));
	return recv_byte(s, fd, SHUT_REPLY, "read after SHUT_WR");
}

/* The other side: the byte, then EOF; its own byte still goes. */
static int shut_wr_reader(struct side *s, int fd)
{
	TRY(recv_byte(s, fd, SHUT_DATA, "read before the peer's SHUT_WR"));
	TRY(expect_eof(s, fd, "read after the peer's SHUT_WR"));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's sends failed", NULL));
	return send_byte(s, fd, SHUT_REPLY, "write to the peer after its SHUT_WR");
}

int shut_wr_connecting_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return shut_wr_shutter(s, fd);
}

int shut_wr_connecting_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return shut_wr_reader(s, fd);
}

int shut_wr_listening_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return shut_wr_reader(s, fd);
}

int shut_wr_listening_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return shut_wr_shutter(s, fd);
}

/* ---- shut-rd: one side shuts its reads down ---- */

static int shut_rd_shutter(struct side *s, int fd)
{
	if (shutdown(fd, SHUT_RD))
		return fail(s, "shutdown(SHUT_RD): %s", EN(errno));
	unsigned char byte;
	ssize_t n = recv(fd, &byte, 1, MSG_DONTWAIT);
	if (n != 0)
		return fail(s, "recv after SHUT_RD: expected EOF at once, got %s",
			    n > 0 ? "data" : EN(errno));
	TRY(ctl_send(s, CONFORM_SYNC, 0));
	return ctl_wait(s, CONFORM_SYNC, "the other side's sends failed", NULL);
}

static int shut_rd_writer(struct side *s, int fd)
{
	TRY(ctl_wait(s, CONFORM_SYNC, "the peer's SHUT_RD", NULL));
	TRY(expect_epipe(s, fd, "send after the peer's SHUT_RD"));
	return ctl_send(s, CONFORM_SYNC, 0);
}

int shut_rd_connecting_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return shut_rd_shutter(s, fd);
}

int shut_rd_connecting_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return shut_rd_writer(s, fd);
}

int shut_rd_listening_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return shut_rd_writer(s, fd);
}

int shut_rd_listening_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return shut_rd_shutter(s, fd);
}

/* ---- pollrdhup, pollhup ---- */

int pollrdhup_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	if (shutdown(fd, SHUT_WR))
		return fail(s, "shutdown(SHUT_WR): %s", EN(errno));
	return ctl_wait(s, CONFORM_SYNC, "the other side's poll", NULL);
}

int pollrdhup_listen(struct side *s)
{
	int fd;
	short ev;

	TRY(serve_one(s, &fd));
	TRY(poll_until(s, fd, POLLIN | POLLRDHUP, POLLRDHUP, &ev,
		       "poll after the peer's SHUT_WR"));
	if (!(ev & POLLIN) || (ev & POLLHUP))
		return fail(s, "poll after the peer's SHUT_WR: expected "
			    "POLLIN|POLLRDHUP without POLLHUP, got %s", EV(ev));
	TRY(expect_eof(s, fd, "recv after POLLRDHUP"));
	return ctl_send(s, CONFORM_SYNC, 0);
}

enum { HUP_BYTES = 100 };

int pollhup_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	TRY(recv_pattern(s, fd, HUP_BYTES, 0, NULL, "read before EOF"));
	TRY(expect_eof(s, fd, "read after the peer's SHUT_WR"));
	close_now(s, fd);
	return ctl_wait(s, CONFORM_SYNC, "the other side's poll", NULL);
}

int pollhup_listen(struct side *s)
{
	int fd;
	short ev;

	TRY(serve_one(s, &fd));
	TRY(send_pattern(s, fd, HUP_BYTES, 0, NULL, "write"));
	if (shutdown(fd, SHUT_WR))
		return fail(s, "shutdown(SHUT_WR): %s", EN(errno));
	TRY(poll_until(s, fd, POLLIN | POLLRDHUP, POLLHUP, &ev,
		       "poll after SHUT_WR and the peer's close"));
	if (!(ev & POLLRDHUP))
		return fail(s, "poll after SHUT_WR and the peer's close: "
			    "expected POLLHUP|POLLRDHUP, got %s", EV(ev));
	return ctl_send(s, CONFORM_SYNC, 0);
}

/* ---- close-unread, linger-unread, linger-zero ---- */

enum { UNREAD_BYTES = 64 };

int close_unread_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	TRY(send_pattern(s, fd, UNREAD_BYTES, 0, NULL, "write"));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's close", NULL));
	return expect_recv_end(s, fd, is_vsock(s) ? 0 : ECONNRESET,
			       "recv after the peer closed with our data unread");
}

int close_unread_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	TRY(wait_queued(s, fd, UNREAD_BYTES, "data arrives"));
	close_now(s, fd);
	return ctl_send(s, CONFORM_SYNC, 0);
}

enum { LINGER_S = 2 };

static int set_linger(int fd, int on, int seconds)
{
	struct linger l = {.l_onoff = on, .l_linger = seconds};
	return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) ? errno : 0;
}

int linger_unread_connect(struct side *s)
{
	int fd, err;
	bool known;

	TRY(connect_one(s, &fd));
	if ((err = set_linger(fd, 1, LINGER_S)) != 0)
		return fail(s, "setsockopt(SO_LINGER): %s", EN(err));
	TRY(send_pattern(s, fd, UNREAD_BYTES, 0, NULL, "write"));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side has the bytes", NULL));
	TRY(wait_sent(s, fd, &known));
	uint64_t ms = timed_close(s, fd);
	if (ms >= LINGER_S * 1000 / 2)
		return fail(s, "close with SO_LINGER %d s, the bytes received "
			    "(unread): expected at once, took %llu ms%s", LINGER_S,
			    (unsigned long long)ms,
			    known ? "" : " (no SIOCOUTQ to wait for)");
	return ctl_send(s, CONFORM_SYNC, 0);
}

int linger_unread_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	TRY(wait_queued(s, fd, UNREAD_BYTES, "data arrives"));
	TRY(ctl_send(s, CONFORM_SYNC, 0));
	return ctl_wait(s, CONFORM_SYNC, "the other side's close", NULL);
}

int linger_zero_connect(struct side *s)
{
	int fd, err;

	TRY(connect_one(s, &fd));
	TRY(send_byte(s, fd, 1, "write"));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side read the byte", NULL));
	if ((err = set_linger(fd, 1, 0)) != 0)
		return fail(s, "setsockopt(SO_LINGER 0): %s", EN(err));
	uint64_t ms = timed_close(s, fd);
	if (ms >= QUIET_MS)
		return fail(s, "close with SO_LINGER 0: expected at once, took "
			    "%llu ms", (unsigned long long)ms);
	return ctl_send(s, CONFORM_SYNC, 0);
}

int linger_zero_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	TRY(recv_byte(s, fd, 1, "read"));
	TRY(ctl_send(s, CONFORM_SYNC, 0));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's close", NULL));
	return expect_recv_end(s, fd, is_vsock(s) ? 0 : ECONNRESET,
			       "recv after the peer's close with SO_LINGER 0");
}
