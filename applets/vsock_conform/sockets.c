// SPDX-License-Identifier: MIT
/* vsock-conform: a case's data sockets (every one closed at the
 * case's end), listened on, accepted and connected by its deadline. */
#include "conform.h"

#include <fcntl.h>

static void keep(struct side *s, int fd)
{
	if (s->n_fds < MAX_FDS)
		s->fds[s->n_fds++] = fd;
	else
		close(fd);	/* never: MAX_FDS covers every case */
}

/* Closes fd now (a case that wants the close to happen at a point). */
int close_now(struct side *s, int fd)
{
	for (size_t i = 0; i < s->n_fds; i++)
		if (s->fds[i] == fd)
			s->fds[i] = -1;
	return close(fd) ? errno : 0;
}

void close_all(struct side *s)
{
	for (size_t i = 0; i < s->n_fds; i++)
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	s->n_fds = 0;
	if (s->unix_lfd >= 0)
		unlisten(s->unix_lfd, &s->unix_listen);
	s->unix_lfd = -1;
}

int set_timeo(int fd, int option, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000};
	return setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv)) ? errno : 0;
}

/* Blocking calls on a data socket sleep SLICE_MS at most at a time. But
 * a SOCK_SEQPACKET send that runs out of its time-out half way returns
 * what it sent, and the rest would go as a message of its own: its sends
 * wait by the case's deadline instead. */
int sliced(const struct side *s, int fd, int type)
{
	int err = set_timeo(fd, SO_RCVTIMEO, SLICE_MS);
	int send_ms = SLICE_MS;

	if (type == SEQPACKET) {
		send_ms = deadline_left_ms(s->d);
		if (send_ms < 1)
			send_ms = 1;
	}
	return err ? err : set_timeo(fd, SO_SNDTIMEO, send_ms);
}

int new_socket(struct side *s, int type, int *fd_out, const char *step)
{
	int fd = socket(s->base.family, type | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		int err = errno;
		if (err == ESOCKTNOSUPPORT || err == EPROTONOSUPPORT ||
		    err == EOPNOTSUPP)
			return skip(s, "kernel: socket(%s): %s", type == SEQPACKET ?
				    "SOCK_SEQPACKET" : "SOCK_STREAM", EN(err));
		return fail(s, "%s: socket: %s", step, EN(err));
	}
	keep(s, fd);
	int err = sliced(s, fd, type);
	if (err)
		return fail(s, "%s: setsockopt(SO_RCVTIMEO): %s", step, EN(err));
	*fd_out = fd;
	return CONFORM_OK;
}

/* The port bind picks: vsock's VMADDR_PORT_ANY, TCP's 0. */
uint32_t any_port(const struct side *s)
{
	return is_vsock(s) ? VMADDR_PORT_ANY : 0;
}

/* Binds to port: the listening side at its own address (vsock: any CID),
 * the connecting side at the wildcard. */
int bind_to(struct side *s, int fd, uint32_t port)
{
	struct sockaddr_storage ss;
	struct address a = is_vsock(s) || s->connecting
		? any_address_like(&s->base, port) : with_port(&s->base, port);
	socklen_t len = to_sockaddr(&a, &ss);

	return bind(fd, (struct sockaddr *)&ss, len) ? errno : 0;
}

int name_of(int fd, bool peer, struct address *a)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
		     : getsockname(fd, (struct sockaddr *)&ss, &len);
	if (r)
		return errno;
	from_sockaddr(&ss, a);
	return 0;
}

/* A listener of the case's type on a port the kernel picks. */
int listen_on(struct side *s, int type, int backlog, int *lfd,
	      uint32_t *port)
{
	struct address a;
	int err;

	if (is_hybrid(s)) {
		/* The case's own PATH_PORT; a failed bind is the machine's. */
		s->unix_listen = with_port(&s->base, CONFORM_UNIX_DATA_PORT +
					   (uint32_t)(s->c - conform_cases));
		*lfd = s->unix_lfd = xlisten(&s->unix_listen, backlog, NULL);
		*port = s->unix_listen.port;
		return CONFORM_OK;
	}
	TRY(new_socket(s, type, lfd, "listen"));
	if ((err = bind_to(s, *lfd, any_port(s))) != 0)
		return fail(s, "listen: bind: %s", EN(err));
	if (listen(*lfd, backlog))
		return fail(s, "listen: listen: %s", EN(errno));
	if ((err = name_of(*lfd, false, &a)) != 0)
		return fail(s, "listen: getsockname: %s", EN(err));
	*port = a.port;
	return CONFORM_OK;
}

/* Accepts one connection by the deadline, a slice at a time. */
int accept_one(struct side *s, int lfd, int *fd, const char *step)
{
	for (;;) {
		struct conn c;
		int left = deadline_left_ms(s->d);
		if (left == 0)
			return fail(s, "%s: accept: timed out", step);
		int err = conn_accept(&c, lfd, &s->base, deadline_after_ms(
			left < SLICE_MS ? (uint64_t)left : SLICE_MS), NULL);
		if (!err) {
			keep(s, c.fd);
			if ((err = sliced(s, c.fd, s->c->type)) != 0)
				return fail(s, "%s: setsockopt: %s", step, EN(err));
			*fd = c.fd;
			return CONFORM_OK;
		}
		if (err != ETIMEDOUT && err != EAGAIN && err != EINTR)
			return fail(s, "%s: accept: %s", step, EN(err));
		if (other_side_stopped(s))
			return CONFORM_ABORTED;
	}
}

/* A hybrid host's data connection to the guest's port, through the VMM
 * by the case's deadline. */
int connect_hybrid(struct side *s, uint32_t port, int *fd,
		   const char *step)
{
	struct address a = with_port(&s->base, port);
	struct conn c;
	int err = conn_open(&c, &a, 0, NULL, s->d);

	if (err)
		return fail(s, "%s: %s: %s", step, c.name, io_error_text(err));
	keep(s, c.fd);
	if ((err = sliced(s, c.fd, STREAM)) != 0)
		return fail(s, "%s: setsockopt: %s", step, EN(err));
	*fd = c.fd;
	return CONFORM_OK;
}

/* Connects fd to port on the other side by the deadline: 0 or the
 * connect's error (ETIMEDOUT at the deadline, ECANCELED when the other
 * side stopped). Non-blocking underneath, blocking after. */
int connect_fd(struct side *s, int fd, uint32_t port)
{
	struct address a = with_port(&s->base, port);
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(&a, &ss);
	int flags = fcntl(fd, F_GETFL), err = 0;

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		err = errno;
		while (err == EINPROGRESS || err == EINTR) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			int left = deadline_left_ms(s->d);
			if (left == 0) {
				err = ETIMEDOUT;
				break;
			}
			int n = poll(&p, 1, left < SLICE_MS ? left : SLICE_MS);
			if (n > 0) {
				socklen_t l = sizeof(err);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l))
					err = errno;
				break;
			}
			if (n < 0 && errno != EINTR) {
				err = errno;
				break;
			}
			if (other_side_stopped(s))
				err = ECANCELED;
		}
	}
	if (fcntl(fd, F_SETFL, flags) < 0 && !err)
		err = errno;
	return err;
}

/* Waits for the listening side's port, then connects to it. */
static int connect_ready(struct side *s, int type, int *fd)
{
	uint32_t port;

	TRY(ctl_wait(s, CONFORM_READY, "connect", &port));
	if (is_hybrid(s))
		return connect_hybrid(s, port, fd, "connect");
	TRY(new_socket(s, type, fd, "connect"));
	int err = connect_fd(s, *fd, port);
	if (err == ECANCELED)
		return CONFORM_ABORTED;
	if (err)
		return fail(s, "connect: connect to port %u: %s", (unsigned)port,
			    EN(err));
	return CONFORM_OK;
}

int connect_one(struct side *s, int *fd)
{
	return connect_ready(s, s->c->type, fd);
}

/* Listens, names the port to the other side, accepts one connection. */
int serve_one(struct side *s, int *fd)
{
	int lfd;
	uint32_t port;

	TRY(listen_on(s, s->c->type, 1, &lfd, &port));
	TRY(ctl_send(s, CONFORM_READY, port));
	return accept_one(s, lfd, fd, "accept");
}
