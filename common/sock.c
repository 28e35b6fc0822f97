// SPDX-License-Identifier: MIT
/* Sockets over AF_VSOCK and TCP behind one interface. Every connection
 * carries a description, so every error can name the address. */
//config:config FEATURE_HYBRID
//config:	bool "hybrid vsock: unix: and unix-ports: addresses, --preamble"
//config:	default y
//config:	help
//config:	  Hosts that give a guest's vsock to the host as Unix sockets (Firecracker,
//config:	  cloud-hypervisor, vhost-device-vsock, libkrun): the addresses
//config:	  unix:PATH[:PORT] (the CONNECT/OK handshake) and unix-ports:PATH[:PORT],
//config:	  and --preamble, with which a guest names each connection's stream to
//config:	  such a host. Beyond the original protocol.
#include "vsockbox.h"

#include <errno.h>
#include "vsock_abi.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* unix:, whose connections begin with CONNECT. */
static bool via_vmm(const struct address *a)
{
	return ENABLE_FEATURE_HYBRID && a->transport == TRANSPORT_HYBRID;
}

/* An AF_UNIX address: there is none without FEATURE_HYBRID. */
static bool unix_family(const struct address *a)
{
	return ENABLE_FEATURE_HYBRID && a->family == AF_UNIX;
}

/* A Unix address is PATH_PORT, or PATH itself without a port (the
 * hybrid VMM's socket, where CONNECT goes). */
static socklen_t unix_sockaddr(const struct address *a,
			       struct sockaddr_storage *ss)
{
	struct sockaddr_un *un = (struct sockaddr_un *)ss;
	un->sun_family = AF_UNIX;
	if (a->port == PORT_UNSET)
		format(un->sun_path, sizeof(un->sun_path), "%s", a->path);
	else
		format(un->sun_path, sizeof(un->sun_path), "%s_%u", a->path,
		       (unsigned)a->port);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			   strlen(un->sun_path) + 1);
}

socklen_t to_sockaddr(const struct address *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (unix_family(a))
		return unix_sockaddr(a, ss);
	if (a->family == AF_VSOCK) {
		struct sockaddr_vm *vm = (struct sockaddr_vm *)ss;
		vm->svm_family = AF_VSOCK;
		vm->svm_cid = a->cid;
		vm->svm_port = a->port;
		return sizeof(*vm);
	}
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)a->port);
		memcpy(&in6->sin6_addr, a->ip, 16);
		return sizeof(*in6);
	}
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)a->port);
	memcpy(&in->sin_addr, a->ip, 4);
	return sizeof(*in);
}

void from_sockaddr(const struct sockaddr_storage *ss, struct address *a)
{
	memset(a, 0, sizeof(*a));
	a->family = ss->ss_family;
	if (ss->ss_family == AF_VSOCK) {
		const struct sockaddr_vm *vm = (const struct sockaddr_vm *)ss;
		a->transport = TRANSPORT_VSOCK;
		a->cid = vm->svm_cid;
		a->port = vm->svm_port;
		return;
	}
	a->transport = TRANSPORT_TCP;
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		memcpy(a->ip, &in6->sin6_addr, 16);
		a->port = ntohs(in6->sin6_port);
		return;
	}
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	memcpy(a->ip, &in->sin_addr, 4);
	a->port = ntohs(in->sin_port);
}

/* What a setup's buffer size means on a's transport: 0, the kernel's. */
uint64_t buffer_size_for(const struct address *a, uint64_t asked)
{
	if (asked != BUFFER_SIZE_AUTO)
		return asked;
	return a->transport == TRANSPORT_VSOCK ? VSOCK_BUFFER_SIZE : 0;
}

/* The socket buffer: vsock has its own option (bounded by its MAX, which
 * goes first), TCP the usual pair. Fails only when the kernel refuses. */
static int set_buffer_size(int fd, const struct address *a, uint64_t bytes)
{
	if (!bytes)
		return 0;
	if (a->transport == TRANSPORT_VSOCK) {
		unsigned long long v = bytes;
		if (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, &v,
			       sizeof(v)) ||
		    setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &v,
			       sizeof(v)))
			return -1;
		return 0;
	}
	int v = (int)bytes;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)))
		return -1;
	return 0;
}

/* A new socket of a's transport, set up as asked. */
static int new_socket(const struct address *a, const struct socket_setup *setup)
{
	int fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	/* Known ports again and again: do not wait out TIME_WAIT. */
	if ((a->transport == TRANSPORT_TCP &&
	     (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))) ||
	    (setup && set_buffer_size(fd, a, buffer_size_for(a,
							    setup->buffer_size)))) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static void conn_init(struct conn *c, int fd)
{
	c->fd = fd;
	c->recv_timeout_ns = c->send_timeout_ns = 0;
	c->zerocopy = false;
	c->zc_sent = c->zc_done = 0;
	c->zc_chunk = 0;
	c->watchdog = NULL;
	c->reset_is_close = false;
	c->send_by_poll = false;
	c->moved = NULL;
}

/* A MSG_ZEROCOPY send over vsock is zero-copy only when the peer's credit
 * takes all of it at once (6.12's virtio_transport_can_zcopy); else the
 * kernel copies it and says so (SO_EE_CODE_ZEROCOPY_COPIED). The credit is
 * at most the peer's socket buffer, taken to be as large as ours, and
 * comes back in steps, so a send takes a quarter of it (make bench-vm:
 * larger sends were copied; bench/RUNS.md). TCP sends are not cut. */
enum { ZEROCOPY_SHARE = 4, ZEROCOPY_CHUNK_MIN = 16384 };

static size_t zerocopy_chunk(int fd)
{
	uint64_t buffer = 0;
	socklen_t len = sizeof(buffer);

	if (getsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &buffer,
		       &len) || buffer < ZEROCOPY_CHUNK_MIN)
		return 0;
	return (size_t)(buffer / ZEROCOPY_SHARE);
}

uint64_t conn_buffer_size(const struct conn *c, const struct address *a)
{
	if (a->transport == TRANSPORT_VSOCK) {
		unsigned long long v = 0;
		socklen_t len = sizeof(v);
		if (getsockopt(c->fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &v,
			       &len))
			return 0;
		return v;
	}
	int v = 0;
	socklen_t len = sizeof(v);
	if (getsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &v, &len) || v < 0)
		return 0;
	return (uint64_t)v;
}

bool conn_zerocopy(struct conn *c, struct socket_setup *setup)
{
	int one = 1;

	if (!ENABLE_FEATURE_ZEROCOPY || !setup->zerocopy)
		return false;
	if (setsockopt(c->fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) == 0) {
		c->zc_chunk = zerocopy_chunk(c->fd);
		return c->zerocopy = true;
	}
	/* Once per run: the next connections do not try again. */
	warn("--zerocopy: %s: %s; plain sends instead", c->name,
		 strerror(errno));
	setup->zerocopy = false;
	return false;
}

static void describe(struct conn *c, const struct address *peer,
		     uint32_t local_port)
{
	char text[ADDRESS_TEXT_MAX];
	format_address(peer, text, sizeof(text));
	if (local_port)
		format(c->name, sizeof(c->name), "%s from port %u", text,
			 (unsigned)local_port);
	else
		format(c->name, sizeof(c->name), "%s", text);
}

static int bind_port(int fd, const struct address *peer, uint32_t port)
{
	struct address local = any_address_like(peer, port);
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(&local, &ss);
	return bind(fd, (struct sockaddr *)&ss, len);
}

/* The plain connect of a socket made for peer, by the deadline. */
static int connect_by(struct conn *c, const struct address *peer,
		      struct deadline d)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(peer, &ss);
	int err;

	if (peer->transport == TRANSPORT_VSOCK) {
		/* vsock's connect has its own time-out (2 s by default). */
		struct timeval tv = {.tv_sec = 0};
		uint64_t left = deadline_left_ns(d);
		tv.tv_sec = (time_t)(left / 1000000000u);
		tv.tv_usec = (suseconds_t)(left % 1000000000u / 1000);
		(void)setsockopt(c->fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT,
				 &tv, sizeof(tv));
	}
	/* A TCP connect runs by SO_SNDTIMEO. */
	while ((err = conn_bound_send(c, d)) == 0 &&
	       connect(c->fd, (struct sockaddr *)&ss, len) < 0) {
		/* A TCP connect that runs out of SO_SNDTIMEO says EINPROGRESS. */
		if (errno == EINPROGRESS || errno == EAGAIN)
			errno = ETIMEDOUT;
		if (errno != EINTR)
			return errno;
	}
	return err;
}

/* The hybrid VMM's answer, a line read a byte at a time: what follows
 * its newline is already the guest's data. */
enum { HYBRID_ANSWER_MAX = 32 };

static int hybrid_answer(struct conn *c, struct deadline d)
{
	char line[HYBRID_ANSWER_MAX];
	size_t len = 0;
	uint64_t n;

	for (;;) {
		int err = read_full(c, &line[len], 1, d);
		if (err)
			return err;
		if (line[len] == '\n')
			break;
		if (++len == sizeof(line))
			return ERR_HANDSHAKE;
	}
	line[len] = '\0';
	/* The number is a host port (Firecracker, cloud-hypervisor) or the
	 * guest's port (vhost-device-vsock): any will do. */
	if (strncmp(line, "OK ", 3) != 0 ||
	    parse_u64(line + 3, 0, UINT32_MAX, 0, &n))
		return ERR_HANDSHAKE;
	return 0;
}

/* "CONNECT <port>\n" alone, then the answer: vhost-device-vsock loses
 * bytes written after the newline before its OK. */
static int hybrid_handshake(struct conn *c, uint32_t port, struct deadline d)
{
	char line[32];
	size_t n = format(line, sizeof(line), "CONNECT %u\n", (unsigned)port);
	int err = write_full(c, line, n, d);
	return err ? err : hybrid_answer(c, d);
}

/* How often a closed CONNECT is tried again while the guest boots. */
enum { HYBRID_RETRY_MS = 50 };

static bool closed_by_peer(int err)
{
	return err == ERR_EOF || err == ECONNRESET || err == EPIPE;
}

static void pause_ms(uint64_t ms, struct deadline d)
{
	uint64_t left = deadline_left_ns(d) / 1000000u;
	struct timespec ts;

	if (left < ms)
		ms = left;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000 * 1000000);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One connection of a's transport, set up and connected (and, to a
 * hybrid VMM, accepted by its OK); 0 or an error. */
static int connect_once(struct conn *c, const struct address *peer,
			uint32_t local_port, const struct socket_setup *setup,
			struct deadline d)
{
	int err;

	conn_init(c, new_socket(peer, setup));
	if (c->fd < 0)
		return errno;
	c->reset_is_close = c->send_by_poll = is_unix(peer);
	/* A Unix socket has no port to bind: the preamble names it. */
	if (local_port && !is_unix(peer) &&
	    bind_port(c->fd, peer, local_port) < 0)
		err = errno;
	else if (via_vmm(peer)) {
		struct address vmm = with_port(peer, PORT_UNSET);
		err = connect_by(c, &vmm, d);
		if (!err)
			err = hybrid_handshake(c, peer->port, d);
	} else
		err = connect_by(c, peer, d);
	if (err) {
		close(c->fd);
		c->fd = -1;
	}
	return err;
}

/* A fixed source port still held is tried again, after 10 ms, then
 * twice as long each time, 500 ms at most, until the step's deadline. */
enum { BIND_RETRY_FIRST_MS = 10, BIND_RETRY_MAX_MS = 500 };

int conn_open(struct conn *c, const struct address *peer, uint32_t local_port,
	      const struct socket_setup *setup, struct deadline d)
{
	bool closed = false;
	uint64_t bind_pause_ms = BIND_RETRY_FIRST_MS;
	int err;

	describe(c, peer, local_port);
	for (;;) {
		err = connect_once(c, peer, local_port, setup, d);
		/* A hybrid VMM accepts and closes at once while the guest's
		 * driver is not up, and after, when nothing listens on the
		 * port. */
		bool refused = closed_by_peer(err) && via_vmm(peer);
		/* The kernel may hold an aborted run's port a while (vsock:
		 * until the peer answers the close, or its close time-out,
		 * 8 s): wait for it. */
		bool held = err == EADDRINUSE && local_port;
		closed |= refused;
		if ((!refused && !held) || deadline_left_ns(d) == 0)
			break;
		if (refused) {
			pause_ms(HYBRID_RETRY_MS, d);
			continue;
		}
		pause_ms(bind_pause_ms, d);
		bind_pause_ms = bind_pause_ms * 2 < BIND_RETRY_MAX_MS ?
				bind_pause_ms * 2 : BIND_RETRY_MAX_MS;
	}
	if (closed && closed_by_peer(err))
		return ERR_NOT_ACCEPTED;
	if (err == ETIMEDOUT && via_vmm(peer))
		return closed ? ERR_NOT_ACCEPTED : ERR_NO_ANSWER;
	return err;
}

void xconn_open(struct conn *c, const struct address *peer,
		uint32_t local_port, const struct socket_setup *setup,
		struct deadline d)
{
	uint64_t started = now_ns();
	int err = conn_open(c, peer, local_port, setup, d);
	if (err) {
		const char *op = err == EADDRINUSE ? "bind" : "connect";
		char waited[32];
		if (err == EADDRINUSE && local_port)
			die(EXIT_ENV, "bind %s: port %u still in use after %s s "
			    "of tries (another socket holds it: an earlier "
			    "run's or another program's)", c->name,
			    (unsigned)local_port,
			    format_fixed(waited, sizeof(waited),
					 (double)(now_ns() - started) / 1e9, 1));
		if (err == EAFNOSUPPORT)
			die(EXIT_ENV, "%s %s: %s (is the vsock module loaded?)",
			    op, c->name, strerror(err));
		/* Over vsock a port nobody listens on is reset at once, but
		 * not by every host. */
		if (err == ETIMEDOUT && peer->transport == TRANSPORT_VSOCK)
			die(EXIT_ENV, "%s %s: timed out (a hybrid vsock host "
			    "such as vhost-device-vsock sends no reset for a "
			    "port nobody listens on)", op, c->name);
		die(err == ERR_HANDSHAKE ? EXIT_FAIL : EXIT_ENV, "%s %s: %s", op,
		    c->name, io_error_text(err));
	}
}

void conn_adopt(struct conn *c, int fd, const char *name)
{
	int domain = 0;
	socklen_t len = sizeof(domain);

	conn_init(c, fd);
	/* Without FEATURE_HYBRID no applet makes a Unix connection to pass
	 * on (is_unix()). */
	c->send_by_poll = ENABLE_FEATURE_HYBRID &&
			  getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain,
				     &len) == 0 && domain == AF_UNIX;
	/* Whatever time-outs the process that made it left on it: unknown,
	 * so the first step sets its own. */
	c->recv_timeout_ns = c->send_timeout_ns = UINT64_MAX;
	format(c->name, sizeof(c->name), "%s", name);
}

void conn_shutdown(struct conn *c)
{
	if (c->fd >= 0)
		(void)shutdown(c->fd, SHUT_RDWR);
}

void conn_end_writes(struct conn *c)
{
	if (c->fd >= 0)
		(void)shutdown(c->fd, SHUT_WR);
}

void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* A socket file left by a listener that is gone (nothing answers a
 * connect) goes; one that answers is in use. */
static bool remove_stale(const struct sockaddr_storage *ss, socklen_t len)
{
	const char *path = ((const struct sockaddr_un *)ss)->sun_path;
	struct stat st;
	bool stale = false;

	if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return false;
	if (connect(probe, (const struct sockaddr *)ss, len) < 0 &&
	    errno == ECONNREFUSED)
		stale = unlink(path) == 0;
	close(probe);
	return stale;
}

int xlisten(struct address *a, int backlog, const struct socket_setup *setup)
{
	char text[ADDRESS_TEXT_MAX];
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(a, &ss);
	/* Accepted connections inherit the listener's buffer sizes. */
	int fd = new_socket(a, setup);

	format_address(a, text, sizeof(text));
	if (fd < 0)
		die(EXIT_ENV, "socket %s: %m", text);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 &&
	    !(errno == EADDRINUSE && unix_family(a) &&
	      remove_stale(&ss, len) &&
	      bind(fd, (struct sockaddr *)&ss, len) == 0))
		die(EXIT_ENV, "bind %s: %m", text);
	if (listen(fd, backlog) < 0)
		die(EXIT_ENV, "listen %s: %m", text);
	if (unix_family(a))
		return fd;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		die(EXIT_ENV, "getsockname %s: %m", text);
	struct address bound;
	from_sockaddr(&ss, &bound);
	a->port = bound.port;
	return fd;
}

int conn_accept(struct conn *c, int lfd, const struct address *local,
		struct deadline d, struct address *peer_out)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int n;

	conn_init(c, -1);
	describe(c, local, 0);
	do
		n = poll(&p, 1, deadline_left_ms(d));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	if (n == 0)
		return ETIMEDOUT;
	do
		c->fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
	while (c->fd < 0 && errno == EINTR);
	if (c->fd < 0)
		return errno;

	struct address peer;
	char local_text[ADDRESS_TEXT_MAX], peer_text[ADDRESS_TEXT_MAX];
	if (is_unix(local)) {
		/* The VMM's connection says nothing of the guest's port. */
		c->reset_is_close = c->send_by_poll = true;
		peer = with_port(local, PORT_UNSET);
		format_address(local, local_text, sizeof(local_text));
		format(c->name, sizeof(c->name), "a guest on %s", local_text);
		if (peer_out)
			*peer_out = peer;
		return 0;
	}
	from_sockaddr(&ss, &peer);
	format_address(local, local_text, sizeof(local_text));
	format_address(&peer, peer_text, sizeof(peer_text));
	format(c->name, sizeof(c->name), "%s on %s", peer_text, local_text);
	if (peer_out)
		*peer_out = peer;
	return 0;
}

void unlisten(int lfd, const struct address *a)
{
	struct sockaddr_storage ss;

	close(lfd);
	if (unix_family(a)) {
		to_sockaddr(a, &ss);
		(void)unlink(((struct sockaddr_un *)&ss)->sun_path);
	}
}
