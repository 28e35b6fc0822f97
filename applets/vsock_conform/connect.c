// SPDX-License-Identifier: MIT
/* vsock-conform's cases of connections: ports, names, CIDs, the
 * connect time-out, many connections, a full backlog. */
#include "conform.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/time.h>

/* ---- unbound-port ---- */

int unbound_port_listen(struct side *s)
{
	int fd, err;
	struct address a;

	/* A port the kernel just gave out, free again. */
	TRY(new_socket(s, STREAM, &fd, "pick a port"));
	if ((err = bind_to(s, fd, any_port(s))) != 0)
		return fail(s, "pick a port: bind: %s", EN(err));
	if ((err = name_of(fd, false, &a)) != 0)
		return fail(s, "pick a port: getsockname: %s", EN(err));
	close_now(s, fd);
	return ctl_send(s, CONFORM_READY, a.port);
}

int unbound_port_connect(struct side *s)
{
	uint32_t port;
	int fd, want = is_vsock(s) ? ECONNRESET : ECONNREFUSED;

	TRY(ctl_wait(s, CONFORM_READY, "connect", &port));
	TRY(new_socket(s, STREAM, &fd, "connect"));
	int err = connect_fd(s, fd, port);
	if (err == ECANCELED)
		return CONFORM_ABORTED;
	if (err != want)
		return fail(s, "connect to unbound port %u: expected %s, got %s",
			    (unsigned)port, EN(want), err ? EN(err) : "success");
	return CONFORM_OK;
}

/* ---- addr-in-use ---- */

int addr_in_use_listen(struct side *s)
{
	int lfd, other, fd, err;
	uint32_t port;

	TRY(listen_on(s, STREAM, 1, &lfd, &port));
	TRY(new_socket(s, STREAM, &other, "second bind"));
	err = bind_to(s, other, port);
	if (err != EADDRINUSE)
		return fail(s, "bind to the listening port %u: expected "
			    "EADDRINUSE, got %s", (unsigned)port,
			    err ? EN(err) : "success");
	TRY(ctl_send(s, CONFORM_READY, port));
	TRY(accept_one(s, lfd, &fd, "accept after the refused bind"));
	return recv_byte(s, fd, 1, "read");
}

int addr_in_use_connect(struct side *s)
{
	int a, b, fd, err;
	struct address name;

	TRY(new_socket(s, STREAM, &a, "bind a local port"));
	if ((err = bind_to(s, a, any_port(s))) != 0 ||
	    (err = name_of(a, false, &name)) != 0)
		return fail(s, "bind a local port: %s", EN(err));
	TRY(new_socket(s, STREAM, &b, "bind it again"));
	err = bind_to(s, b, name.port);
	if (err != EADDRINUSE)
		return fail(s, "bind to the bound local port %u: expected "
			    "EADDRINUSE, got %s", (unsigned)name.port,
			    err ? EN(err) : "success");
	TRY(connect_one(s, &fd));
	return send_byte(s, fd, 1, "write");
}

/* ---- names ---- */

int names_listen(struct side *s)
{
	struct address mine, theirs;
	char a[ADDRESS_TEXT_MAX], b[ADDRESS_TEXT_MAX];
	int fd, err;

	TRY(serve_one(s, &fd));
	if ((err = name_of(fd, false, &mine)) != 0)
		return fail(s, "getsockname: %s", EN(err));
	if ((err = name_of(fd, true, &theirs)) != 0)
		return fail(s, "getpeername: %s", EN(err));
	format_address(&mine, a, sizeof(a));
	format_address(&theirs, b, sizeof(b));
	TRY(ctl_send_text(s, CONFORM_SYNC, mine.port, a));
	return ctl_send_text(s, CONFORM_SYNC, theirs.port, b);
}

int names_connect(struct side *s)
{
	int fd, err;
	struct address mine, theirs, want;
	char text_l[CONFORM_TEXT_MAX + 1], text_p[CONFORM_TEXT_MAX + 1];
	char a[ADDRESS_TEXT_MAX], b[ADDRESS_TEXT_MAX];
	uint32_t l_port, l_peer_port;

	TRY(connect_one(s, &fd));
	if ((err = name_of(fd, false, &mine)) != 0)
		return fail(s, "getsockname: %s", EN(err));
	if ((err = name_of(fd, true, &theirs)) != 0)
		return fail(s, "getpeername: %s", EN(err));
	TRY(ctl_wait_text(s, CONFORM_SYNC, "the other side's getsockname",
			  &l_port, text_l, sizeof(text_l)));
	TRY(ctl_wait_text(s, CONFORM_SYNC, "the other side's getpeername",
			  &l_peer_port, text_p, sizeof(text_p)));
	want = with_port(&s->base, l_port);
	format_address(&theirs, a, sizeof(a));
	format_address(&want, b, sizeof(b));
	if (strcmp(a, b) != 0)
		return fail(s, "getpeername: expected %s (the address connected "
			    "to, at the port the other side's getsockname "
			    "names: %s), got %s", b, text_l, a);
	format_address(&mine, a, sizeof(a));
	if (l_peer_port != mine.port)
		return fail(s, "the other side's getpeername: expected port %u "
			    "(our getsockname: %s), got %s", (unsigned)mine.port,
			    a, text_p);
	/* Our whole address as the other side sees it: our IP over TCP;
	 * over vsock our CID, where getsockname names one (a connecting
	 * socket keeps the wildcard CID it was bound with: over 6.1's
	 * loopback it says vsock:any, the other side sees CID 1). */
	if (!(is_vsock(s) && mine.cid == VSOCK_CID_ANY) && strcmp(a, text_p) != 0)
		return fail(s, "the other side's getpeername: expected %s (our "
			    "getsockname), got %s", a, text_p);
	return CONFORM_OK;
}

/* ---- local-cid ---- */

/* The machine's own CID, as /dev/vsock answers it. */
static int local_cid(struct side *s, uint32_t *cid)
{
	unsigned int v = 0;
	int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return skip(s, "no /dev/vsock: open: %s", EN(errno));
	int r = ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &v);
	int err = errno;
	close(fd);
	if (r < 0)
		return lacks_feature(err)
			? skip(s, "kernel: ioctl(IOCTL_VM_SOCKETS_GET_LOCAL_CID): "
			       "%s", EN(err))
			: fail(s, "ioctl(IOCTL_VM_SOCKETS_GET_LOCAL_CID): %s",
			       EN(err));
	*cid = v;
	return CONFORM_OK;
}

/* Our CID as the ioctl says, and the peer's CID as getpeername says. */
static int cids(struct side *s, int fd, uint32_t *mine, uint32_t *peer)
{
	struct address a;
	int err;

	TRY(local_cid(s, mine));
	if ((err = name_of(fd, true, &a)) != 0)
		return fail(s, "getpeername: %s", EN(err));
	*peer = a.cid;
	return CONFORM_OK;
}

int local_cid_listen(struct side *s)
{
	int fd;
	uint32_t mine, peer;

	TRY(serve_one(s, &fd));
	TRY(cids(s, fd, &mine, &peer));
	TRY(ctl_send(s, CONFORM_SYNC, mine));
	return ctl_send(s, CONFORM_SYNC, peer);
}

int local_cid_connect(struct side *s)
{
	int fd;
	uint32_t mine, peer, l_mine, l_peer;

	TRY(connect_one(s, &fd));
	TRY(cids(s, fd, &mine, &peer));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's local CID", &l_mine));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's peer CID", &l_peer));
	/* Over loopback both ends are CID 1, whatever else the machine is. */
	if (s->base.cid == CID_LOCAL)
		return peer == CID_LOCAL && l_peer == CID_LOCAL ? CONFORM_OK
			: fail(s, "getpeername over loopback: expected CID 1 on "
			       "both sides, got %u here, %u there",
			       (unsigned)peer, (unsigned)l_peer);
	if (l_mine != peer)
		return fail(s, "the other side's IOCTL_VM_SOCKETS_GET_LOCAL_CID: "
			    "expected %u (our getpeername), got %u",
			    (unsigned)peer, (unsigned)l_mine);
	if (mine != l_peer)
		return fail(s, "IOCTL_VM_SOCKETS_GET_LOCAL_CID: expected %u (the "
			    "other side's getpeername), got %u",
			    (unsigned)l_peer, (unsigned)mine);
	return CONFORM_OK;
}

/* ---- connect-timeout ---- */

static int get_timeval(int fd, struct timeval *tv)
{
	socklen_t len = sizeof(*tv);
	return getsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, tv, &len)
		? errno : 0;
}

static int set_timeval(int fd, long sec, long usec)
{
	struct timeval tv = {.tv_sec = sec, .tv_usec = usec};
	return setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv,
			  sizeof(tv)) ? errno : 0;
}

static int expect_timeout_value(struct side *s, int fd, long sec, long usec,
				const char *after)
{
	struct timeval tv;
	int err = get_timeval(fd, &tv);

	if (err)
		return lacks_feature(err)
			? skip(s, "kernel: getsockopt(SO_VM_SOCKETS_CONNECT_TIMEOUT): "
			       "%s", EN(err))
			: fail(s, "getsockopt(SO_VM_SOCKETS_CONNECT_TIMEOUT): %s",
			       EN(err));
	if (tv.tv_sec != sec || tv.tv_usec != usec)
		return fail(s, "getsockopt(SO_VM_SOCKETS_CONNECT_TIMEOUT) %s: "
			    "expected %ld.%06ld s, got %ld.%06ld s", after, sec,
			    usec, (long)tv.tv_sec, (long)tv.tv_usec);
	return CONFORM_OK;
}

int connect_timeout_connect(struct side *s)
{
	int fd, err;

	TRY(new_socket(s, STREAM, &fd, "socket"));
	TRY(expect_timeout_value(s, fd, 2, 0, "by default"));
	if ((err = set_timeval(fd, 1, 500000)) != 0)
		return fail(s, "setsockopt(SO_VM_SOCKETS_CONNECT_TIMEOUT, 1.5 s): %s",
			    EN(err));
	TRY(expect_timeout_value(s, fd, 1, 500000, "after 1.5 s"));
	if ((err = set_timeval(fd, 0, 0)) != 0)
		return fail(s, "setsockopt(SO_VM_SOCKETS_CONNECT_TIMEOUT, 0): %s",
			    EN(err));
	TRY(expect_timeout_value(s, fd, 2, 0, "after 0 (the default)"));
	if ((err = set_timeval(fd, -1, 0)) != ERANGE)
		return fail(s, "setsockopt(SO_VM_SOCKETS_CONNECT_TIMEOUT, -1 s): "
			    "expected ERANGE, got %s", err ? EN(err) : "success");
	if ((err = set_timeval(fd, 0, 1000000)) != ERANGE)
		return fail(s, "setsockopt(SO_VM_SOCKETS_CONNECT_TIMEOUT, 0 s "
			    "1000000 us): expected ERANGE, got %s",
			    err ? EN(err) : "success");
	/* It still connects, under the time-out it has. */
	uint32_t port;
	TRY(ctl_wait(s, CONFORM_READY, "connect", &port));
	if ((err = connect_fd(s, fd, port)) != 0)
		return err == ECANCELED ? CONFORM_ABORTED
			: fail(s, "connect: %s", EN(err));
	return send_byte(s, fd, 1, "write");
}

int connect_timeout_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return recv_byte(s, fd, 1, "read");
}

/* ---- many-connections ---- */

enum { MANY = 64 };

int many_connections_connect(struct side *s)
{
	int fds[MANY];
	uint32_t port;

	TRY(ctl_wait(s, CONFORM_READY, "connect", &port));
	for (int i = 0; i < MANY; i++) {
		if (is_hybrid(s)) {
			char step[32];
			format(step, sizeof(step), "connect #%d of %d", i + 1, MANY);
			TRY(connect_hybrid(s, port, &fds[i], step));
			continue;
		}
		TRY(new_socket(s, STREAM, &fds[i], "connect"));
		int err = connect_fd(s, fds[i], port);
		if (err == ECANCELED)
			return CONFORM_ABORTED;
		if (err)
			return fail(s, "connect #%d of %d: %s", i + 1, MANY, EN(err));
	}
	for (int i = 0; i < MANY; i++)
		TRY(i % 2 ? recv_byte(s, fds[i], (unsigned char)i, "read")
			  : send_byte(s, fds[i], (unsigned char)i, "write"));
	return CONFORM_OK;
}

int many_connections_listen(struct side *s)
{
	int lfd, fds[MANY];
	uint32_t port;

	TRY(listen_on(s, STREAM, MANY, &lfd, &port));
	TRY(ctl_send(s, CONFORM_READY, port));
	for (int i = 0; i < MANY; i++)
		TRY(accept_one(s, lfd, &fds[i], "accept"));
	/* Accepted in the order they connected. */
	for (int i = 0; i < MANY; i++)
		TRY(i % 2 ? send_byte(s, fds[i], (unsigned char)i, "write")
			  : recv_byte(s, fds[i], (unsigned char)i, "read"));
	return CONFORM_OK;
}

/* ---- backlog-full ---- */

enum { BACKLOG = 1, QUEUED = BACKLOG + 1 };

int backlog_full_connect(struct side *s)
{
	int fds[QUEUED], extra, late;
	uint32_t port;

	TRY(ctl_wait(s, CONFORM_READY, "connect", &port));
	for (int i = 0; i < QUEUED; i++) {
		TRY(new_socket(s, STREAM, &fds[i], "connect"));
		int err = connect_fd(s, fds[i], port);
		if (err)
			return err == ECANCELED ? CONFORM_ABORTED
				: fail(s, "connect #%d with a backlog of %d: %s",
				       i + 1, BACKLOG, EN(err));
		TRY(send_byte(s, fds[i], (unsigned char)(i + 1), "write"));
	}
	/* One more: vsock resets it, TCP leaves its SYN unanswered. */
	TRY(new_socket(s, STREAM, &extra, "connect past the backlog"));
	struct deadline whole = s->d;
	s->d = deadline_after_ms(is_vsock(s) ? 2000 : 3 * QUIET_MS / 2);
	if (deadline_left_ns(whole) < deadline_left_ns(s->d))
		s->d = whole;
	int err = connect_fd(s, extra, port);
	s->d = whole;
	if (err == ECANCELED)
		return CONFORM_ABORTED;
	if (is_vsock(s) ? err != ECONNRESET : err != ETIMEDOUT)
		return fail(s, "connect past a full backlog: expected %s, got %s",
			    is_vsock(s) ? "ECONNRESET at once"
					: "no answer (a time-out)",
			    err ? EN(err) : "success");
	close_now(s, extra);
	TRY(ctl_send(s, CONFORM_SYNC, 0));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side accepted", NULL));
	TRY(new_socket(s, STREAM, &late, "connect after the accepts"));
	if ((err = connect_fd(s, late, port)) != 0)
		return err == ECANCELED ? CONFORM_ABORTED
			: fail(s, "connect after the accepts: %s", EN(err));
	return send_byte(s, late, QUEUED + 1, "write after the accepts");
}

int backlog_full_listen(struct side *s)
{
	int lfd, fd;
	uint32_t port;

	TRY(listen_on(s, STREAM, BACKLOG, &lfd, &port));
	TRY(ctl_send(s, CONFORM_READY, port));
	TRY(ctl_wait(s, CONFORM_SYNC, "the queue is full", NULL));
	for (int i = 0; i < QUEUED; i++) {
		TRY(accept_one(s, lfd, &fd, "accept a queued connection"));
		TRY(recv_byte(s, fd, (unsigned char)(i + 1), "read"));
	}
	TRY(ctl_send(s, CONFORM_SYNC, 0));
	TRY(accept_one(s, lfd, &fd, "accept after the queue drained"));
	return recv_byte(s, fd, QUEUED + 1, "read");
}

/* ---- closed-before-accept ---- */

int closed_before_accept_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	TRY(send_pattern(s, fd, 3, 0, NULL, "write"));
	close_now(s, fd);
	return ctl_send(s, CONFORM_SYNC, 0);
}

int closed_before_accept_listen(struct side *s)
{
	int lfd, fd;
	uint32_t port;

	TRY(listen_on(s, STREAM, 1, &lfd, &port));
	TRY(ctl_send(s, CONFORM_READY, port));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side closed", NULL));
	TRY(accept_one(s, lfd, &fd, "accept a closed connection"));
	TRY(recv_pattern(s, fd, 3, 0, NULL, "read"));
	return expect_eof(s, fd, "read after the data");
}
