// SPDX-License-Identifier: MIT
/* vsock-conform: the socket semantics of a vsock path, case by case; its
 * control connection is in doc/PROTOCOL.md.
 *
 * Two roles: the listening side (--listen ADDR) and the connecting side
 * (--peer ADDR), on either end of the path, over AF_VSOCK or TCP. Every
 * case runs over a control connection of its own, to the control port on
 * the transport under test (no IP network needed in a guest), so a broken
 * case cannot poison the next: the two sides agree on the case by name,
 * each runs its half, the listening side reports its verdict, and the
 * connecting side the case's. Both print the same KTAP.
 *
 * The cases are one table (conform_cases, after the cases), a row each:
 * its name, what it checks, its two halves NAME_connect (the connecting
 * side's) and NAME_listen (the listening side's), NAME the case's name
 * with '_' for '-', its socket type, and why it does not run over TCP
 * (.vsock_only) or on a hybrid host. --list, --only and --skip are
 * derived from it. Every step runs by the case's deadline; a wait also
 * ends when the other side gives up (CONFORM_ABORT, or a failed result).
 * Expectations are facts of the transport (vsock answers an unbound port
 * with a reset, TCP with a refusal); a kernel that lacks a feature says
 * so through the call (EOPNOTSUPP, ENOTTY, EINVAL, ENOPROTOOPT), which is
 * a SKIP with the kernel's answer as the reason. */
//config:config VSOCK_CONFORM
//config:	bool "vsock-conform: socket semantics of a vsock path, as KTAP"
//config:	default y
//config:	help
//config:	  Checks a path's socket semantics case by case, as KTAP.
#include "vsockbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "vsock_abi.h"

/* A case's socket type (its row's .type). */
#define STREAM SOCK_STREAM
#define SEQPACKET SOCK_SEQPACKET
/* Why a case does not run over TCP (its row's .vsock_only). */
#define NOT_TCP_SEQPACKET "TCP has no SOCK_SEQPACKET"
#define NOT_TCP_SHUT_RD "TCP's SHUT_RD is local: the peer is not told"
#define NOT_TCP_CREDIT "virtio credit and SO_VM_SOCKETS_BUFFER_SIZE are vsock's"

/* Why a hybrid host (unix:PATH: Firecracker, cloud-hypervisor,
 * vhost-device-vsock; unix-ports:PATH: libkrun) cannot check a case in a
 * role: its side is a Unix socket behind the VMM, so it sees the stream
 * the VMM carries, never a vsock socket of its own. A case runs in a role
 * where the half the case checks is the guest's (its AF_VSOCK socket) and
 * the host's half only carries the stream and asserts nothing a Unix
 * socket would not do. A row's .not_hybrid_connect and .not_hybrid_listen
 * give the reason for each role; left out, a hybrid host runs it. */
#define HY_HOST "a hybrid host's side is a Unix socket behind the VMM: "
#define HY_NO_RESET HY_HOST "the VMM closes a CONNECT to an unbound " \
	"port and sends a guest's connect no reset (it waits out its time-out)"
#define HY_NO_PORTS HY_HOST "no vsock port, CID or name of its own, and " \
	"the guest's source port is visible nowhere"
#define HY_HALF_CLOSE HY_HOST "a half-close does not cross it as one " \
	"(vhost-device-vsock ends the whole connection at the host's SHUT_WR, " \
	"and passes a guest's on only at times)"
#define HY_SHUT_RD HY_HOST "its SHUT_RD is local, the guest is not told"
#define HY_PEER_SHUT_RD HY_HOST "the guest's SHUT_RD reaches it only as " \
	"the VMM passes it on, and EPIPE at a SHUT_RD's peer is vsock's"
#define HY_CLOSE_UNREAD HY_HOST "a close with unread data is its own " \
	"(vhost-device-vsock drops the data and does not tell the guest)"
#define HY_CLOSE_SEEN HY_HOST "it sees the guest's close as the VMM " \
	"ends its Unix connection, not as a vsock peer sees it"
#define HY_LINGER HY_HOST "SO_LINGER is its socket's, not a vsock socket's"
#define HY_IOCTL HY_HOST "SIOCINQ and SIOCOUTQ answer for it, not for " \
	"a vsock socket"
#define HY_RCVLOWAT HY_HOST "SO_RCVLOWAT and poll are its socket's"
#define HY_CREDIT HY_HOST "virtio credit runs between the guest and the " \
	"VMM, and the host has no vsock buffer options"
#define HY_CREDIT_SENDER HY_HOST "its sends complete into the VMM, not " \
	"under the guest's credit, so it closes before the guest has every " \
	"byte (with vhost-device-vsock the last one never came)"
#define HY_VSOCK_OPTION HY_HOST "it has no SO_VM_SOCKETS_* options"
#define HY_BACKLOG HY_HOST "the VMM takes the guest's connections, so " \
	"no vsock backlog is seen to fill"
#define HY_BACKLOG_RESET HY_HOST "its connections go through the VMM's " \
	"CONNECT, which passes no reset on (a refused one is closed, as one " \
	"the guest is not ready for)"
#define HY_ZEROCOPY HY_HOST "MSG_ZEROCOPY is the sending socket's, and " \
	"a Unix socket has none"
#define HY_STREAM_ONLY HY_HOST "the VMM carries SOCK_STREAM only"

struct side;

/* A case: one row of the table (conform_cases, after the cases). Each
 * half returns the side's verdict (CONFORM_OK, _FAILED, _SKIPPED or
 * _ABORTED); it starts with connect_one or serve_one, for the case's one
 * connection, or makes connections of its own. */
struct conform_case {
	const char *name;
	const char *what;	/* what it checks, for --list */
	int (*connect)(struct side *s);	/* NAME_connect: the --peer side */
	int (*listen)(struct side *s);	/* NAME_listen: the --listen side */
	int type;		/* STREAM or SEQPACKET */
	const char *vsock_only;	/* why it does not run over TCP; NULL:
				 * it runs over both */
	/* Why a hybrid host cannot check it as the connecting side, and as
	 * the listening side (HY_* above); NULL: it can. */
	const char *not_hybrid_connect, *not_hybrid_listen;
};
extern const struct conform_case conform_cases[];
extern const size_t conform_case_count;

/* ---- options ---- */

struct conform_options {
	struct address listen, peer;
	struct name_set only, skip;
	uint64_t timeout_s, wait_s, seed;
	bool list;
};

enum { DEFAULT_CASE_TIMEOUT_S = 10, DEFAULT_WAIT_S = 60 };

/* The names for --only and --skip: the table's. */
static const char *case_name(size_t i)
{
	return i < conform_case_count ? conform_cases[i].name : NULL;
}

#define O(field) offsetof(struct conform_options, field)
static const struct opt options[] = {
	{.name = "listen", .arg = "ADDR", .kind = OPT_ADDR, .offset = O(listen),
	 .def = CONFORM_CTL_PORT, .help = "be the listening side, its control "
	 "port at ADDR (tcp port 0: any)", .def_text = "none"},
	{.name = "peer", .arg = "ADDR", .kind = OPT_ADDR, .offset = O(peer),
	 .def = CONFORM_CTL_PORT, .help = "be the connecting side, to the "
	 "listening side's control port at ADDR", .def_text = "none"},
	{.name = "only", .arg = "CASES", .kind = OPT_NAME_SET, .offset = O(only),
	 .help = "run only these cases (a comma list; --list names them)",
	 .name_of = case_name, .flags = OPT_NAME_OF},
	{.name = "skip", .arg = "CASES", .kind = OPT_NAME_SET, .offset = O(skip),
	 .help = "leave these cases out", .name_of = case_name,
	 .flags = OPT_NAME_OF},
	{.name = "list", .kind = OPT_FLAG, .offset = O(list),
	 .help = "print the cases (name, transports, socket type, the roles "
	 "a hybrid host checks it in: hybrid both, hy-peer as --peer, "
	 "hy-listen as --listen, - neither; what it checks), then exit"},
	{.name = "seed", .arg = "N", .kind = OPT_NUM, .offset = O(seed),
	 .min = 1, .max = UINT32_MAX, .help = "the connecting side's seed of "
	 "random sizes and data", .def_text = "from the clock"},
	{.name = "timeout", .arg = "S", .kind = OPT_NUM, .offset = O(timeout_s),
	 .min = 1, .max = MAX_TIMEOUT_S, .def = DEFAULT_CASE_TIMEOUT_S,
	 .help = "each case's deadline: every step of it ends by then"},
	{.name = "wait", .arg = "S", .kind = OPT_NUM, .offset = O(wait_s),
	 .min = 1, .max = MAX_TIMEOUT_S, .def = DEFAULT_WAIT_S,
	 .help = "the listening side waits this long for the first case"},
	OPTION_END
};
#undef O

static void describe(void)
{
	out("Socket semantics of a vsock (or TCP) path, as KTAP on stdout, from both\n"
	    "sides: run one side with --listen ADDR (e.g. vsock:any, in the guest)\n"
	    "and the other with --peer ADDR (e.g. vsock:3, on the host), in either\n"
	    "order within --wait. Each case runs over a control connection of its\n"
	    "own to port %u (ADDR's port, if given) of the transport under test;\n"
	    "its data connections go to ports the listening side picks. A case\n"
	    "that does not apply (transport, socket type, a kernel without the\n"
	    "feature, or a hybrid vsock host at unix:PATH, which cannot see a\n"
	    "vsock socket of its own) is a SKIP with the reason. Exit 0 when no\n"
	    "case failed, 1 when one did, 3 when the other side cannot be\n"
	    "reached.\n",
	    CONFORM_CTL_PORT);
}

const struct applet_spec vsock_conform_spec = {
	.operands = NULL, .describe = describe, .opts = options,
	.values_size = sizeof(struct conform_options),
};

/* ---- one side of one case ---- */

enum {
	SLICE_MS = 50,		/* a blocking call sleeps at most this long
				 * before the deadline and the other side
				 * are looked at again */
	MAX_FDS = 96,
	WHY_MAX = 600,
	BUF_BYTES = (256 << 10) + 4096,
	QUIET_MS = 200,		/* how long "nothing happens" is watched */
	ABORT_GRACE_S = 3,	/* the other side's answer to an abort: its
				 * waits look at the control connection
				 * every SLICE_MS */
};

struct side {
	const struct conform_options *o;
	const struct conform_case *c;
	enum transport transport;
	struct address base;	/* the peer (connecting side), or where to
				 * listen (listening side) */
	bool connecting;
	struct conn ctl;
	struct deadline d;
	uint32_t seed;
	int fds[MAX_FDS];
	size_t n_fds;
	int unix_lfd;		/* a hybrid host's listener, and its file */
	struct address unix_listen;
	char why[WHY_MAX];
	bool have_result;	/* the other side's result came early */
	struct message result;
	unsigned char *buf, *buf2;
};

#define TRY(x) do { int v_ = (x); if (v_ != CONFORM_OK) return v_; } while (0)
/* The symbol of an errno value, for diagnostics. */
#define EN(e) errno_name((e), (char[24]){0}, 24)
/* A call's count, or the symbol of err when it failed (n < 0). */
#define COUNT(n, err) count_text((n), (err), (char[32]){0}, 32)

static const char *count_text(ssize_t n, int err, char *buf, size_t len)
{
	if (n < 0)
		return errno_name(err, buf, len);
	format(buf, len, "%zd", n);
	return buf;
}

static int fail(struct side *s, const char *fmt, ...) PRINTF_LIKE(2, 3);
static int fail(struct side *s, const char *fmt, ...)
{
	va_list ap;

	if (s->why[0])
		return CONFORM_FAILED;	/* the first cause is the one */
	va_start(ap, fmt);
	format_v(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return CONFORM_FAILED;
}

static int skip(struct side *s, const char *fmt, ...) PRINTF_LIKE(2, 3);
static int skip(struct side *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_v(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return CONFORM_SKIPPED;
}

/* A kernel without a feature answers one of these. */
static bool lacks_feature(int err)
{
	return err == EOPNOTSUPP || err == ENOTTY || err == EINVAL ||
	       err == ENOPROTOOPT;
}

static bool is_vsock(const struct side *s)
{
	return s->transport == TRANSPORT_VSOCK;
}

/* A hybrid host's side (unix:PATH, unix-ports:PATH): a Unix socket
 * behind the VMM, whose connections go through common/'s conn_open (the
 * CONNECT handshake) and conn_accept, as the other host applets' do. */
static bool is_hybrid(const struct side *s)
{
	return is_unix(&s->base);
}

/* ---- the other side, over the control connection ---- */

/* Has the other side stopped (a failure, a skip or an abort waits on
 * the control connection, or it closed)? Peeks only: the message stays
 * for whoever reads it. */
static bool other_side_stopped(struct side *s)
{
	struct pollfd p = {.fd = s->ctl.fd, .events = POLLIN};
	uint32_t w[2];

	if (s->have_result)
		return s->result.value != CONFORM_OK;
	if (poll(&p, 1, 0) <= 0)
		return false;
	ssize_t n = recv(s->ctl.fd, w, sizeof(w), MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return true;
	if (n < (ssize_t)sizeof(w))
		return false;
	uint32_t tag = ntohl(w[0]), value = ntohl(w[1]);
	return tag == CONFORM_ABORT ||
	       (tag == CONFORM_RESULT && value != CONFORM_OK);
}

static int ctl_send_text(struct side *s, uint32_t tag, uint32_t value,
			 const char *text)
{
	int err = message_send(&s->ctl, tag, value, text, s->d);
	return err ? fail(s, "control: send to the other side: %s",
			  io_error_text(err)) : CONFORM_OK;
}

static int ctl_send(struct side *s, uint32_t tag, uint32_t value)
{
	return ctl_send_text(s, tag, value, NULL);
}

static const char *tag_name(uint32_t tag)
{
	switch (tag) {
	case CONFORM_CASE: return "CASE";
	case CONFORM_READY: return "READY";
	case CONFORM_SYNC: return "SYNC";
	case CONFORM_RESULT: return "RESULT";
	case CONFORM_FINAL: return "FINAL";
	case CONFORM_ABORT: return "ABORT";
	case CONFORM_END: return "END";
	default: return "an unknown message";
	}
}

/* Waits for the other side's next step (tag); its value to *value and
 * its text to text (either may be NULL). The other side's result or
 * abort instead ends the case here: CONFORM_ABORTED (kept for the
 * runner) unless it is a success. */
static int ctl_wait_text(struct side *s, uint32_t tag, const char *step,
			 uint32_t *value, char *text, size_t text_len)
{
	struct message m;

	for (;;) {
		int err = message_recv(&s->ctl, &m, s->d);
		if (err)
			return fail(s, "%s: control: wait for %s from the other "
				    "side: %s", step, tag_name(tag),
				    io_error_text(err));
		if (m.tag == tag)
			break;
		if (m.tag == CONFORM_RESULT && !s->have_result) {
			s->have_result = true;
			s->result = m;
			if (m.value == CONFORM_OK)
				return fail(s, "%s: control: the other side "
					    "ended the case before %s", step,
					    tag_name(tag));
			return CONFORM_ABORTED;
		}
		if (m.tag == CONFORM_ABORT)
			return CONFORM_ABORTED;
		return fail(s, "%s: control: expected %s from the other side, "
			    "got %s", step, tag_name(tag), tag_name(m.tag));
	}
	if (value)
		*value = m.value;
	if (text)
		format(text, text_len, "%s", m.text);
	return CONFORM_OK;
}

static int ctl_wait(struct side *s, uint32_t tag, const char *step,
		    uint32_t *value)
{
	return ctl_wait_text(s, tag, step, value, NULL, 0);
}

/* ---- data sockets: every one is closed at the case's end ---- */

static void keep(struct side *s, int fd)
{
	if (s->n_fds < MAX_FDS)
		s->fds[s->n_fds++] = fd;
	else
		close(fd);	/* never: MAX_FDS covers every case */
}

/* Closes fd now (a case that wants the close to happen at a point). */
static int close_now(struct side *s, int fd)
{
	for (size_t i = 0; i < s->n_fds; i++)
		if (s->fds[i] == fd)
			s->fds[i] = -1;
	return close(fd) ? errno : 0;
}

static void close_all(struct side *s)
{
	for (size_t i = 0; i < s->n_fds; i++)
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	s->n_fds = 0;
	if (s->unix_lfd >= 0)
		unlisten(s->unix_lfd, &s->unix_listen);
	s->unix_lfd = -1;
}

static int set_timeo(int fd, int option, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000};
	return setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv)) ? errno : 0;
}

/* Blocking calls on a data socket sleep SLICE_MS at most at a time. But
 * a SOCK_SEQPACKET send that runs out of its time-out half way returns
 * what it sent, and the rest would go as a message of its own: its sends
 * wait by the case's deadline instead. */
static int sliced(const struct side *s, int fd, int type)
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

static int new_socket(struct side *s, int type, int *fd_out, const char *step)
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
static uint32_t any_port(const struct side *s)
{
	return is_vsock(s) ? VMADDR_PORT_ANY : 0;
}

/* Binds to port: the listening side at its own address (vsock: any CID),
 * the connecting side at the wildcard. */
static int bind_to(struct side *s, int fd, uint32_t port)
{
	struct sockaddr_storage ss;
	struct address a = is_vsock(s) || s->connecting
		? any_address_like(&s->base, port) : with_port(&s->base, port);
	socklen_t len = to_sockaddr(&a, &ss);

	return bind(fd, (struct sockaddr *)&ss, len) ? errno : 0;
}

static int name_of(int fd, bool peer, struct address *a)
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
static int listen_on(struct side *s, int type, int backlog, int *lfd,
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
static int accept_one(struct side *s, int lfd, int *fd, const char *step)
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
static int connect_hybrid(struct side *s, uint32_t port, int *fd,
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
static int connect_fd(struct side *s, int fd, uint32_t port)
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

static int connect_one(struct side *s, int *fd)
{
	return connect_ready(s, s->c->type, fd);
}

/* Listens, names the port to the other side, accepts one connection. */
static int serve_one(struct side *s, int *fd)
{
	int lfd;
	uint32_t port;

	TRY(listen_on(s, s->c->type, 1, &lfd, &port));
	TRY(ctl_send(s, CONFORM_READY, port));
	return accept_one(s, lfd, fd, "accept");
}

/* ---- transfers, each call in slices by the deadline ---- */

/* One sendmsg or recvmsg: its count, or -errno (-ETIMEDOUT at the
 * deadline, -ECANCELED once the other side stopped). With MSG_DONTWAIT
 * it is one call. */
static ssize_t xmsg(struct side *s, int fd, bool sending, struct msghdr *m,
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

static ssize_t xio(struct side *s, int fd, bool sending, void *buf,
		   size_t len, int flags)
{
	struct iovec v = {.iov_base = buf, .iov_len = len};
	struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
	return xmsg(s, fd, sending, &m, flags);
}

/* A failed transfer as a verdict: the other side's stop is an abort. */
static int io_failed(struct side *s, const char *step, const char *call,
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

static int recv_exact(struct side *s, int fd, void *buf, size_t len,
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

static int send_exact(struct side *s, int fd, const void *buf, size_t len,
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

static int send_byte(struct side *s, int fd, unsigned char byte,
		     const char *step)
{
	return send_exact(s, fd, &byte, 1, step);
}

static int recv_byte(struct side *s, int fd, unsigned char want,
		     const char *step)
{
	unsigned char got;

	TRY(recv_exact(s, fd, &got, 1, step));
	return got == want ? CONFORM_OK
			   : fail(s, "%s: recv: expected byte %u, got %u", step,
				  want, got);
}

/* The next recv must be EOF; what came instead is named. */
static int expect_eof(struct side *s, int fd, const char *step)
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
static int expect_recv_end(struct side *s, int fd, int want, const char *step)
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

/* Receives len bytes of the pattern, in reads of random sizes up to
 * max_read (state NULL: as large as it takes). */
static int recv_pattern(struct side *s, int fd, uint64_t len, size_t max_read,
			uint32_t *state, const char *step)
{
	uint64_t done = 0;

	while (done < len) {
		size_t want = len - done < BUF_BYTES ? (size_t)(len - done)
						      : BUF_BYTES;
		if (state && want > max_read)
			want = 1 + next_random(state) % max_read;
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
static int send_pattern(struct side *s, int fd, uint64_t len, size_t max_write,
			uint32_t *state, const char *step)
{
	uint64_t done = 0;

	while (done < len) {
		size_t want = len - done < BUF_BYTES ? (size_t)(len - done)
						      : BUF_BYTES;
		if (state && want > max_write)
			want = 1 + next_random(state) % max_write;
		seeded_fill(s->seed, done, s->buf, want);
		TRY(send_exact(s, fd, s->buf, want, step));
		done += want;
	}
	return CONFORM_OK;
}

/* ---- small helpers of the cases ---- */

static int get_int(int fd, int level, int option, int *v)
{
	socklen_t len = sizeof(*v);
	return getsockopt(fd, level, option, v, &len) ? errno : 0;
}

static int set_int(int fd, int level, int option, int v)
{
	return setsockopt(fd, level, option, &v, sizeof(v)) ? errno : 0;
}

static const char *events_text(short ev, char *buf, size_t len)
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
#define EV(e) events_text((e), (char[64]){0}, 64)

/* poll for events within ms: the revents, or -errno. */
static int poll_for(int fd, short events, int ms)
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
static int poll_until(struct side *s, int fd, short events, short want,
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
static int expect_epipe(struct side *s, int fd, const char *step)
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

/* ================= the cases: connecting half, listening half ======== */

/* ---- unbound-port ---- */

static int unbound_port_listen(struct side *s)
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

static int unbound_port_connect(struct side *s)
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

static int addr_in_use_listen(struct side *s)
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

static int addr_in_use_connect(struct side *s)
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

static int names_listen(struct side *s)
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

static int names_connect(struct side *s)
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

static int local_cid_listen(struct side *s)
{
	int fd;
	uint32_t mine, peer;

	TRY(serve_one(s, &fd));
	TRY(cids(s, fd, &mine, &peer));
	TRY(ctl_send(s, CONFORM_SYNC, mine));
	return ctl_send(s, CONFORM_SYNC, peer);
}

static int local_cid_connect(struct side *s)
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

static int shut_wr_connecting_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return shut_wr_shutter(s, fd);
}

static int shut_wr_connecting_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return shut_wr_reader(s, fd);
}

static int shut_wr_listening_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return shut_wr_reader(s, fd);
}

static int shut_wr_listening_listen(struct side *s)
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

static int shut_rd_connecting_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return shut_rd_shutter(s, fd);
}

static int shut_rd_connecting_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return shut_rd_writer(s, fd);
}

static int shut_rd_listening_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return shut_rd_writer(s, fd);
}

static int shut_rd_listening_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return shut_rd_shutter(s, fd);
}

/* ---- pollrdhup, pollhup ---- */

static int pollrdhup_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	if (shutdown(fd, SHUT_WR))
		return fail(s, "shutdown(SHUT_WR): %s", EN(errno));
	return ctl_wait(s, CONFORM_SYNC, "the other side's poll", NULL);
}

static int pollrdhup_listen(struct side *s)
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

static int pollhup_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	TRY(recv_pattern(s, fd, HUP_BYTES, 0, NULL, "read before EOF"));
	TRY(expect_eof(s, fd, "read after the peer's SHUT_WR"));
	close_now(s, fd);
	return ctl_wait(s, CONFORM_SYNC, "the other side's poll", NULL);
}

static int pollhup_listen(struct side *s)
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

static int close_unread_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	TRY(send_pattern(s, fd, UNREAD_BYTES, 0, NULL, "write"));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's close", NULL));
	return expect_recv_end(s, fd, is_vsock(s) ? 0 : ECONNRESET,
			       "recv after the peer closed with our data unread");
}

/* Waits until len bytes are queued (peeked, not read); SOCK_SEQPACKET:
 * a message (a peek shorter than it need not work). */
static int wait_queued(struct side *s, int fd, size_t len, const char *step)
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

static int close_unread_listen(struct side *s)
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

/* Closes fd and says how long close took, in ms. */
static uint64_t timed_close(struct side *s, int fd)
{
	uint64_t t = now_ns();
	close_now(s, fd);
	return (now_ns() - t) / 1000000u;
}

/* SIOCOUTQ back at 0 (where the kernel has it) by the deadline. */
static int wait_sent(struct side *s, int fd, bool *known)
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

static int linger_unread_connect(struct side *s)
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

static int linger_unread_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	TRY(wait_queued(s, fd, UNREAD_BYTES, "data arrives"));
	TRY(ctl_send(s, CONFORM_SYNC, 0));
	return ctl_wait(s, CONFORM_SYNC, "the other side's close", NULL);
}

static int linger_zero_connect(struct side *s)
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

static int linger_zero_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	TRY(recv_byte(s, fd, 1, "read"));
	TRY(ctl_send(s, CONFORM_SYNC, 0));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's close", NULL));
	return expect_recv_end(s, fd, is_vsock(s) ? 0 : ECONNRESET,
			       "recv after the peer's close with SO_LINGER 0");
}

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
static int peek_reader(struct side *s, int fd, bool seqpacket)
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
static int peek_writer(struct side *s, int fd, bool seqpacket)
{
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's empty peek", NULL));
	seeded_fill(s->seed, 0, s->buf, PEEK_BYTES);
	if (seqpacket)
		return send_exact(s, fd, s->buf, PEEK_BYTES, "write");
	TRY(send_exact(s, fd, s->buf, PEEK_BYTES / 4, "write"));
	return send_exact(s, fd, s->buf + PEEK_BYTES / 4, PEEK_BYTES * 3 / 4,
			  "write");
}

static int msg_peek_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return peek_writer(s, fd, false);
}

static int msg_peek_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return peek_reader(s, fd, false);
}

static int dontwait_empty_connect(struct side *s)
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

static int dontwait_empty_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's empty reads", NULL));
	return send_byte(s, fd, 42, "write");
}

/* ---- siocinq, siocoutq ---- */

enum { INQ_BYTES = 1000 };

static int siocinq_connect(struct side *s)
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

static int siocinq_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	TRY(ctl_wait(s, CONFORM_SYNC, "the other side's first SIOCINQ", NULL));
	return send_pattern(s, fd, INQ_BYTES, 0, NULL, "write");
}

static int siocoutq_connect(struct side *s)
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

static int siocoutq_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	TRY(wait_queued(s, fd, INQ_BYTES, "data arrives"));
	return ctl_send(s, CONFORM_SYNC, 0);
}

/* ---- rcvlowat ---- */

enum { LOWAT = 128 };

static int rcvlowat_connect(struct side *s)
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

static int rcvlowat_listen(struct side *s)
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

static int set_u64(int fd, int option, uint64_t v)
{
	unsigned long long x = v;
	return setsockopt(fd, AF_VSOCK, option, &x, sizeof(x)) ? errno : 0;
}

static int get_u64(int fd, int option, uint64_t *v)
{
	unsigned long long x = 0;
	socklen_t len = sizeof(x);
	int r = getsockopt(fd, AF_VSOCK, option, &x, &len);
	*v = x;
	return r ? errno : 0;
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
static int credit_rcvlowat_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return credit_receiver(s, fd, false);
}

static int credit_low_rx_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return credit_receiver(s, fd, true);
}

static int credit_rcvlowat_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return credit_sender(s, fd);
}

static int credit_low_rx_connect(struct side *s)
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

static int buffer_size_connect(struct side *s)
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

static int buffer_size_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return recv_pattern(s, fd, 200 << 10, 0, NULL, "read");
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

static int connect_timeout_connect(struct side *s)
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

static int connect_timeout_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return recv_byte(s, fd, 1, "read");
}

/* ---- small-writes-stalled ---- */

enum {
	SMALL_WRITE = 64,
	SMALL_MORE = 2000,		/* writes after the stall */
	STALL_MAX = 64 << 20,		/* no back-pressure by then: failure */
};

static int small_writes_stalled_connect(struct side *s)
{
	int fd;
	uint64_t sent = 0;

	TRY(connect_one(s, &fd));
	/* Small writes until one would block. */
	for (;;) {
		seeded_fill(s->seed, sent, s->buf, SMALL_WRITE);
		ssize_t n = send(fd, s->buf, SMALL_WRITE, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(s, "write %zu bytes to a stopped reader, after "
				    "%llu: expected to block, got %s",
				    (size_t)SMALL_WRITE, (unsigned long long)sent,
				    EN(errno));
		sent += (uint64_t)n;
		if (sent > STALL_MAX)
			return fail(s, "write to a stopped reader: no back-pressure "
				    "after %llu bytes", (unsigned long long)sent);
		if (deadline_left_ns(s->d) == 0)
			return fail(s, "write to a stopped reader: timed out "
				    "after %llu bytes without blocking",
				    (unsigned long long)sent);
	}
	/* A blocking write waits (a time-out), and does not fail. */
	int err = set_timeo(fd, SO_SNDTIMEO, QUIET_MS);
	if (err)
		return fail(s, "setsockopt(SO_SNDTIMEO): %s", EN(err));
	seeded_fill(s->seed, sent, s->buf, SMALL_WRITE);
	ssize_t n = send(fd, s->buf, SMALL_WRITE, MSG_NOSIGNAL);
	if (n >= 0)
		sent += (uint64_t)n;
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return fail(s, "blocking write to a stopped reader after %llu "
			    "bytes: expected it to wait, got %s",
			    (unsigned long long)sent, EN(errno));
	if ((err = sliced(s, fd, STREAM)) != 0)
		return fail(s, "setsockopt(SO_SNDTIMEO): %s", EN(err));
	TRY(ctl_send(s, CONFORM_SYNC, (uint32_t)sent));
	/* The reader resumes: more small writes, each one whole. */
	for (int i = 0; i < SMALL_MORE; i++) {
		seeded_fill(s->seed, sent, s->buf, SMALL_WRITE);
		TRY(send_exact(s, fd, s->buf, SMALL_WRITE,
			       "write while the reader resumes"));
		sent += SMALL_WRITE;
	}
	if (shutdown(fd, SHUT_WR))
		return fail(s, "shutdown(SHUT_WR): %s", EN(errno));
	return ctl_send(s, CONFORM_SYNC, (uint32_t)sent);
}

static int small_writes_stalled_listen(struct side *s)
{
	int fd;
	uint32_t stalled, total;

	TRY(serve_one(s, &fd));
	TRY(ctl_wait(s, CONFORM_SYNC, "the writer blocks", &stalled));
	/* A guest's SHUT_WR reaches a hybrid host only at times (the VMM's
	 * choice): it reads what the writer will have sent, its count
	 * known, instead of up to the EOF. */
	uint64_t got = 0, known = (uint64_t)stalled + SMALL_MORE * SMALL_WRITE;
	while (!is_hybrid(s) || got < known) {
		ssize_t n = xio(s, fd, false, s->buf2, BUF_BYTES, 0);
		if (n == 0)
			break;
		if (n < 0)
			return io_failed(s, "read after the stall", "recv",
					 (size_t)stalled, (size_t)got, n);
		size_t bad = seeded_check(s->seed, got, s->buf2, (size_t)n);
		if (bad != (size_t)n)
			return fail(s, "read after the stall: byte %llu is %u, "
				    "expected %u", (unsigned long long)(got + bad),
				    s->buf2[bad], seeded_byte(s->seed, got + bad));
		got += (uint64_t)n;
	}
	TRY(ctl_wait(s, CONFORM_SYNC, "the writer's count", &total));
	if (got != total)
		return fail(s, "read after the stall: expected %u bytes, then "
			    "EOF, got %llu", (unsigned)total,
			    (unsigned long long)got);
	return CONFORM_OK;
}

/* ---- many-connections ---- */

enum { MANY = 64 };

static int many_connections_connect(struct side *s)
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

static int many_connections_listen(struct side *s)
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

static int backlog_full_connect(struct side *s)
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

static int backlog_full_listen(struct side *s)
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

static int closed_before_accept_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	TRY(send_pattern(s, fd, 3, 0, NULL, "write"));
	close_now(s, fd);
	return ctl_send(s, CONFORM_SYNC, 0);
}

static int closed_before_accept_listen(struct side *s)
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

/* ---- random-sizes ---- */

enum { RANDOM_BYTES = 256 << 10, RANDOM_MAX_IO = 16 << 10 };

static int random_sizes_connect(struct side *s)
{
	int fd;
	uint32_t writes = s->seed, reads = s->seed ^ 0x5a5a5a5a;

	TRY(connect_one(s, &fd));
	TRY(send_pattern(s, fd, RANDOM_BYTES, RANDOM_MAX_IO, &writes, "write"));
	return recv_pattern(s, fd, RANDOM_BYTES, RANDOM_MAX_IO, &reads,
			    "read the other side's bytes");
}

static int random_sizes_listen(struct side *s)
{
	int fd;
	uint32_t writes = s->seed ^ 0xa5a5a5a5, reads = s->seed ^ 0x3c3c3c3c;

	TRY(serve_one(s, &fd));
	TRY(recv_pattern(s, fd, RANDOM_BYTES, RANDOM_MAX_IO, &reads, "read"));
	return send_pattern(s, fd, RANDOM_BYTES, RANDOM_MAX_IO, &writes, "write");
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

static int zerocopy_connect(struct side *s)
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

static int zerocopy_close_pending_connect(struct side *s)
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

static int zerocopy_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return zerocopy_reader(s, fd);
}

static int zerocopy_close_pending_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return zerocopy_reader(s, fd);
}

/* ---- SOCK_SEQPACKET ---- */

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
static int seqpacket_boundaries_connect(struct side *s)
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

static int seqpacket_boundaries_listen(struct side *s)
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

static int seqpacket_msg_trunc_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	for (int i = 0; i < 3; i++) {
		seeded_fill(s->seed, (uint64_t)i * TRUNC_BYTES, s->buf, TRUNC_BYTES);
		TRY(send_exact(s, fd, s->buf, TRUNC_BYTES, "write"));
	}
	return CONFORM_OK;
}

static int seqpacket_msg_trunc_listen(struct side *s)
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

static int seqpacket_msg_eor_connect(struct side *s)
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

static int seqpacket_msg_eor_listen(struct side *s)
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

static int seqpacket_big_message_connect(struct side *s)
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

static int seqpacket_big_message_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	TRY(ctl_send(s, CONFORM_SYNC, (uint32_t)own_buffer(fd)));
	return expect_message(s, fd, 1, 0, false, "the message after the big one");
}

static int seqpacket_msg_peek_connect(struct side *s)
{
	int fd;

	TRY(connect_one(s, &fd));
	return peek_writer(s, fd, true);
}

static int seqpacket_msg_peek_listen(struct side *s)
{
	int fd;

	TRY(serve_one(s, &fd));
	return peek_reader(s, fd, true);
}

/* The cases, in the order they run (and --list prints them). */
const struct conform_case conform_cases[] = {
	{
		.name = "unbound-port",
		.what = "connect to a port nobody has bound fails at once: "
			"ECONNRESET over vsock (a reset answers), ECONNREFUSED "
			"over TCP",
		.connect = unbound_port_connect,
		.listen = unbound_port_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_NO_RESET,
		.not_hybrid_listen = HY_NO_RESET,
	},
	{
		.name = "addr-in-use",
		.what = "bind to a port a socket has bound (a listener's, a "
			"connecting socket's) fails with EADDRINUSE; the "
			"listener still accepts",
		.connect = addr_in_use_connect,
		.listen = addr_in_use_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_NO_PORTS,
	},
	{
		.name = "names",
		.what = "getsockname and getpeername on both sides name the "
			"same ports, the connecting side's peer is the address "
			"it connected to, and the listening side's peer is the "
			"connecting side's own address (its IP, its CID where "
			"getsockname names one)",
		.connect = names_connect,
		.listen = names_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_NO_PORTS,
		.not_hybrid_listen = HY_NO_PORTS,
	},
	{
		.name = "local-cid",
		.what = "IOCTL_VM_SOCKETS_GET_LOCAL_CID on /dev/vsock answers, "
			"on each side, the CID the other side's getpeername "
			"gives (any CID over loopback)",
		.connect = local_cid_connect,
		.listen = local_cid_listen,
		.type = STREAM,
		.vsock_only = "TCP has no CIDs",
		.not_hybrid_connect = HY_NO_PORTS,
		.not_hybrid_listen = HY_NO_PORTS,
	},
	{
		.name = "shut-wr-connecting",
		.what = "after the connecting side's SHUT_WR the other side "
			"reads its data, then EOF; its send fails with EPIPE "
			"and SIGPIPE (none with MSG_NOSIGNAL); data still "
			"flows the other way",
		.connect = shut_wr_connecting_connect,
		.listen = shut_wr_connecting_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_HALF_CLOSE,
		.not_hybrid_listen = HY_HALF_CLOSE,
	},
	{
		.name = "shut-wr-listening",
		.what = "the same, with the listening side shutting down its "
			"writes",
		.connect = shut_wr_listening_connect,
		.listen = shut_wr_listening_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_HALF_CLOSE,
		.not_hybrid_listen = HY_HALF_CLOSE,
	},
	{
		.name = "shut-rd-connecting",
		.what = "after the connecting side's SHUT_RD its recv gives "
			"EOF at once, and the other side's send fails with "
			"EPIPE and SIGPIPE",
		.connect = shut_rd_connecting_connect,
		.listen = shut_rd_connecting_listen,
		.type = STREAM,
		.vsock_only = NOT_TCP_SHUT_RD,
		.not_hybrid_connect = HY_SHUT_RD,
		.not_hybrid_listen = HY_PEER_SHUT_RD,
	},
	{
		.name = "shut-rd-listening",
		.what = "the same, with the listening side shutting down its "
			"reads",
		.connect = shut_rd_listening_connect,
		.listen = shut_rd_listening_listen,
		.type = STREAM,
		.vsock_only = NOT_TCP_SHUT_RD,
		.not_hybrid_connect = HY_PEER_SHUT_RD,
		.not_hybrid_listen = HY_SHUT_RD,
	},
	{
		.name = "pollrdhup",
		.what = "the peer's SHUT_WR wakes poll with POLLIN and "
			"POLLRDHUP, not POLLHUP; recv then gives EOF",
		.connect = pollrdhup_connect,
		.listen = pollrdhup_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_HALF_CLOSE,
		.not_hybrid_listen = HY_HALF_CLOSE,
	},
	{
		.name = "pollhup",
		.what = "after its own SHUT_WR and the peer's close, poll "
			"gives POLLHUP; the peer read the data, then EOF",
		.connect = pollhup_connect,
		.listen = pollhup_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_HALF_CLOSE,
		.not_hybrid_listen = HY_HALF_CLOSE,
	},
	{
		.name = "close-unread",
		.what = "a close with received data unread ends the "
			"connection: EOF over vsock (it has no abortive "
			"close), ECONNRESET over TCP (RFC 2525)",
		.connect = close_unread_connect,
		.listen = close_unread_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_CLOSE_SEEN,
		.not_hybrid_listen = HY_CLOSE_UNREAD,
	},
	{
		.name = "linger-unread",
		.what = "with SO_LINGER 2 s, close returns at once when the "
			"peer has received everything, even unread",
		.connect = linger_unread_connect,
		.listen = linger_unread_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_LINGER,
	},
	{
		.name = "linger-zero",
		.what = "close with SO_LINGER 0 returns at once; the peer sees "
			"EOF over vsock, ECONNRESET over TCP",
		.connect = linger_zero_connect,
		.listen = linger_zero_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_LINGER,
		.not_hybrid_listen = HY_CLOSE_SEEN,
	},
	{
		.name = "msg-peek",
		.what = "MSG_PEEK on an empty socket is EAGAIN with "
			"MSG_DONTWAIT; a peek of part, then of all, then the "
			"read give the same bytes, two sends merged",
		.connect = msg_peek_connect,
		.listen = msg_peek_listen,
		.type = STREAM,
	},
	{
		.name = "dontwait-empty",
		.what = "recv with MSG_DONTWAIT, and on an O_NONBLOCK socket, "
			"is EAGAIN at once on an empty socket; the byte the "
			"peer sends then comes the same way",
		.connect = dontwait_empty_connect,
		.listen = dontwait_empty_listen,
		.type = STREAM,
	},
	{
		.name = "siocinq",
		.what = "SIOCINQ answers 0 on an empty socket, the bytes "
			"queued once they arrived, 0 after the read",
		.connect = siocinq_connect,
		.listen = siocinq_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_IOCTL,
	},
	{
		.name = "siocoutq",
		.what = "SIOCOUTQ answers 0 before a send and comes back to 0 "
			"once the peer has received the bytes",
		.connect = siocoutq_connect,
		.listen = siocoutq_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_IOCTL,
	},
	{
		.name = "rcvlowat",
		.what = "SO_RCVLOWAT 128 reads back; poll stays quiet with 1 "
			"byte queued and gives POLLIN at 128; a MSG_DONTWAIT "
			"recv then takes 128",
		.connect = rcvlowat_connect,
		.listen = rcvlowat_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_RCVLOWAT,
	},
	{
		.name = "credit-rcvlowat",
		.what = "a receiver with a 128 KiB buffer, full, reads 64 KiB "
			"and raises SO_RCVLOWAT: the credit update lets the "
			"sender's last byte through (6.1 hangs here)",
		.connect = credit_rcvlowat_connect,
		.listen = credit_rcvlowat_listen,
		.type = STREAM,
		.vsock_only = NOT_TCP_CREDIT,
		.not_hybrid_connect = HY_CREDIT_SENDER,
		.not_hybrid_listen = HY_CREDIT,
	},
	{
		.name = "credit-low-rx",
		.what = "the same with SO_RCVLOWAT set first: the credit "
			"update comes when fewer bytes than SO_RCVLOWAT are "
			"left",
		.connect = credit_low_rx_connect,
		.listen = credit_low_rx_listen,
		.type = STREAM,
		.vsock_only = NOT_TCP_CREDIT,
		.not_hybrid_connect = HY_CREDIT_SENDER,
		.not_hybrid_listen = HY_CREDIT,
	},
	{
		.name = "buffer-size",
		.what = "SO_VM_SOCKETS_BUFFER_SIZE, _MIN_SIZE and _MAX_SIZE "
			"read back what was set; a size beyond the bounds is "
			"clamped to them, and so is the size when a bound "
			"moves past it",
		.connect = buffer_size_connect,
		.listen = buffer_size_listen,
		.type = STREAM,
		.vsock_only = "TCP has SO_SNDBUF and SO_RCVBUF, not vsock's "
			"buffer options",
		.not_hybrid_connect = HY_VSOCK_OPTION,
	},
	{
		.name = "connect-timeout",
		.what = "SO_VM_SOCKETS_CONNECT_TIMEOUT reads 2 s by default "
			"and back what was set; 0 restores the default; a "
			"negative or malformed one is ERANGE",
		.connect = connect_timeout_connect,
		.listen = connect_timeout_listen,
		.type = STREAM,
		.vsock_only = "TCP has no connect time-out option (SO_SNDTIMEO "
			"bounds its connect)",
		.not_hybrid_connect = HY_VSOCK_OPTION,
	},
	{
		.name = "small-writes-stalled",
		.what = "many 64-byte writes to a reader that has stopped: the "
			"writer blocks, never fails, and every byte arrives in "
			"order once the reader resumes",
		.connect = small_writes_stalled_connect,
		.listen = small_writes_stalled_listen,
		.type = STREAM,
	},
	{
		.name = "many-connections",
		.what = "64 connections open at once, a byte each way on each, "
			"all accepted",
		.connect = many_connections_connect,
		.listen = many_connections_listen,
		.type = STREAM,
	},
	{
		.name = "backlog-full",
		.what = "listen(1) queues two connections; the third is reset "
			"at once over vsock, left unanswered over TCP; after "
			"the accepts a new one gets in",
		.connect = backlog_full_connect,
		.listen = backlog_full_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_BACKLOG_RESET,
		.not_hybrid_listen = HY_BACKLOG,
	},
	{
		.name = "closed-before-accept",
		.what = "a connection that wrote 3 bytes and closed before it "
			"was accepted is accepted all the same: its 3 bytes, "
			"then EOF",
		.connect = closed_before_accept_connect,
		.listen = closed_before_accept_listen,
		.type = STREAM,
	},
	{
		.name = "random-sizes",
		.what = "256 KiB each way in writes and reads of random sizes, "
			"every byte checked against a pattern of the seed",
		.connect = random_sizes_connect,
		.listen = random_sizes_listen,
		.type = STREAM,
	},
	{
		.name = "zerocopy",
		.what = "MSG_ZEROCOPY sends: completions cover every send from "
			"ID 0, without error; the peer reads every byte",
		.connect = zerocopy_connect,
		.listen = zerocopy_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_ZEROCOPY,
	},
	{
		.name = "zerocopy-close-pending",
		.what = "close with MSG_ZEROCOPY completions unread: the close "
			"is prompt, the peer reads every byte, then EOF",
		.connect = zerocopy_close_pending_connect,
		.listen = zerocopy_close_pending_listen,
		.type = STREAM,
		.not_hybrid_connect = HY_ZEROCOPY,
	},
	{
		.name = "seqpacket-boundaries",
		.what = "messages of 1 byte to the smaller side's whole buffer "
			"arrive whole, one recvmsg each, each way",
		.connect = seqpacket_boundaries_connect,
		.listen = seqpacket_boundaries_listen,
		.type = SEQPACKET,
		.vsock_only = NOT_TCP_SEQPACKET,
		.not_hybrid_connect = HY_STREAM_ONLY,
		.not_hybrid_listen = HY_STREAM_ONLY,
	},
	{
		.name = "seqpacket-msg-trunc",
		.what = "a 32-byte message into 16 bytes: MSG_TRUNC returns "
			"32, without it 16; both flag MSG_TRUNC, and the rest "
			"of a message is dropped",
		.connect = seqpacket_msg_trunc_connect,
		.listen = seqpacket_msg_trunc_listen,
		.type = SEQPACKET,
		.vsock_only = NOT_TCP_SEQPACKET,
		.not_hybrid_connect = HY_STREAM_ONLY,
		.not_hybrid_listen = HY_STREAM_ONLY,
	},
	{
		.name = "seqpacket-msg-eor",
		.what = "MSG_EOR arrives on exactly the messages sent with it",
		.connect = seqpacket_msg_eor_connect,
		.listen = seqpacket_msg_eor_listen,
		.type = SEQPACKET,
		.vsock_only = NOT_TCP_SEQPACKET,
		.not_hybrid_connect = HY_STREAM_ONLY,
		.not_hybrid_listen = HY_STREAM_ONLY,
	},
	{
		.name = "seqpacket-big-message",
		.what = "a message one byte larger than the peer's buffer "
			"fails with EMSGSIZE; the connection carries the next "
			"one",
		.connect = seqpacket_big_message_connect,
		.listen = seqpacket_big_message_listen,
		.type = SEQPACKET,
		.vsock_only = NOT_TCP_SEQPACKET,
		.not_hybrid_connect = HY_STREAM_ONLY,
		.not_hybrid_listen = HY_STREAM_ONLY,
	},
	{
		.name = "seqpacket-msg-peek",
		.what = "MSG_PEEK of part and of all of a message, "
			"MSG_PEEK|MSG_TRUNC its length, then the read, all the "
			"same bytes",
		.connect = seqpacket_msg_peek_connect,
		.listen = seqpacket_msg_peek_listen,
		.type = SEQPACKET,
		.vsock_only = NOT_TCP_SEQPACKET,
		.not_hybrid_connect = HY_STREAM_ONLY,
		.not_hybrid_listen = HY_STREAM_ONLY,
	},
};
const size_t conform_case_count = sizeof(conform_cases) / sizeof(conform_cases[0]);

/* ================= the run ================= */

/* Why a case does not run here, on the connecting side or the
 * listening one, or NULL. */
static const char *not_here(const struct conform_case *c, enum transport t,
			    bool connecting)
{
	if (t == TRANSPORT_HYBRID || t == TRANSPORT_UNIX_PORTS)
		return connecting ? c->not_hybrid_connect : c->not_hybrid_listen;
	return t == TRANSPORT_TCP ? c->vsock_only : NULL;
}

static bool selected(const struct conform_options *o, size_t i)
{
	return (name_set_empty(&o->only) || name_set_has(&o->only, i)) &&
	       !name_set_has(&o->skip, i);
}

static int list_cases(const struct conform_options *o)
{
	for (size_t i = 0; i < conform_case_count; i++) {
		const struct conform_case *c = &conform_cases[i];
		if (!selected(o, i))
			continue;
		bool as_peer = !c->not_hybrid_connect,
		     as_listener = !c->not_hybrid_listen;
		out("%-24s %-5s %-9s %-9s %s\n", c->name,
		    c->vsock_only ? "vsock" : "both",
		    c->type == SEQPACKET ? "seqpacket" : "stream",
		    as_peer && as_listener ? "hybrid" : as_peer ? "hy-peer"
		    : as_listener ? "hy-listen" : "-", c->what);
	}
	return EXIT_PASS;
}

static int find_case(const char *name)
{
	for (size_t i = 0; i < conform_case_count; i++)
		if (strcmp(conform_cases[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* KTAP: the result line of case number n, its diagnostics first (one
 * "# " line per line of why). */
static void print_result(unsigned n, const char *name, uint32_t verdict,
			 const char *why)
{
	if (verdict == CONFORM_FAILED) {
		const char *p = why;
		while (*p) {
			size_t len = strcspn(p, "\n");
			out("# %s: %.*s\n", name, (int)len, p);
			p += len + (p[len] == '\n');
		}
		out("not ok %u %s\n", n, name);
	} else if (verdict == CONFORM_SKIPPED) {
		out("ok %u %s # SKIP %s\n", n, name, why);
	} else {
		out("ok %u %s\n", n, name);
	}
}

static void side_start(struct side *s, const struct conform_options *o,
		       const struct conform_case *c, struct address base,
		       bool connecting, uint32_t seed)
{
	s->o = o;
	s->c = c;
	s->base = base;
	s->transport = base.transport;
	s->connecting = connecting;
	s->seed = seed;
	s->d = step_deadline(o->timeout_s);
	s->n_fds = 0;
	s->unix_lfd = -1;
	s->why[0] = '\0';
	s->have_result = false;
}

/* Which verdict the case gets from both halves, and why. */
static uint32_t combine(struct side *s, uint32_t mine, const struct message *r,
			char *why, size_t len)
{
	uint32_t theirs = r->value;

	/* Our skip stops the case: what the other side saw after it (our
	 * connections closing) is no failure. */
	if (mine == CONFORM_SKIPPED) {
		format(why, len, "%s", s->why);
		return CONFORM_SKIPPED;
	}
	if (mine == CONFORM_FAILED) {
		if (theirs == CONFORM_FAILED)
			format(why, len, "%s\nlistening side: %s", s->why, r->text);
		else
			format(why, len, "%s", s->why);
		return CONFORM_FAILED;
	}
	if (theirs == CONFORM_FAILED) {
		format(why, len, "listening side: %s", r->text);
		return CONFORM_FAILED;
	}
	if (theirs == CONFORM_SKIPPED) {
		format(why, len, "listening side: %s", r->text);
		return CONFORM_SKIPPED;
	}
	if (mine == CONFORM_ABORTED || theirs == CONFORM_ABORTED) {
		format(why, len, "control: each side says the other stopped first");
		return CONFORM_FAILED;
	}
	why[0] = '\0';
	return CONFORM_OK;
}

/* The connecting side's part of case i, number n of total; its verdict. */
static uint32_t run_connecting(struct side *s, const struct conform_options *o,
			       size_t i, unsigned n, unsigned total,
			       bool *unreachable)
{
	const struct conform_case *c = &conform_cases[i];
	const char *off = not_here(c, o->peer.transport, true);
	char why[2 * WHY_MAX + 64];
	uint32_t verdict;
	struct message r;
	int err;

	side_start(s, o, c, o->peer, true, (uint32_t)o->seed + (uint32_t)i);
	*unreachable = false;
	err = conn_open(&s->ctl, &o->peer, 0, NULL, s->d);
	if (err) {
		*unreachable = true;
		format(why, sizeof(why), "control: connect %s: %s", s->ctl.name,
		       io_error_text(err));
		print_result(n, c->name, CONFORM_FAILED, why);
		return CONFORM_FAILED;
	}
	uint32_t value = n | (uint32_t)total << 12 |
			 (off ? CONFORM_CASE_NOT_RUN : 0);
	err = message_send(&s->ctl, CONFORM_CASE, value, c->name, s->d);
	if (!err && !off)
		err = message_send(&s->ctl, CONFORM_SYNC, s->seed, NULL, s->d);
	if (!err && off) {
		format(why, sizeof(why), "%s", off);
		verdict = CONFORM_SKIPPED;
		goto final;
	}
	if (err) {
		format(why, sizeof(why), "control: send the case: %s",
		       io_error_text(err));
		verdict = CONFORM_FAILED;
		goto final;
	}
	uint32_t mine = (uint32_t)c->connect(s);
	/* The case's deadline may have passed: the control messages that
	 * end it have their own. The other side's steps end by its deadline,
	 * which started a moment after ours; after an abort, at once. */
	s->d = step_deadline(mine == CONFORM_OK ? o->timeout_s + 2
			: o->timeout_s < ABORT_GRACE_S ? o->timeout_s : ABORT_GRACE_S);
	/* The abort goes before the data connections close, so that the
	 * other side hears of it before it sees their end. */
	if (mine != CONFORM_OK && !s->have_result)
		(void)message_send(&s->ctl, CONFORM_ABORT, mine, NULL, s->d);
	close_all(s);
	if (s->have_result) {
		r = s->result;
	} else {
		struct deadline d = s->d;
		for (;;) {
			err = message_recv(&s->ctl, &r, d);
			if (err || r.tag == CONFORM_RESULT)
				break;
		}
		if (err) {
			if (mine == CONFORM_FAILED)
				format(why, sizeof(why), "%s\ncontrol: the listening "
				       "side's result: %s", s->why,
				       io_error_text(err));
			else
				format(why, sizeof(why), "control: read the "
				       "listening side's result: %s",
				       io_error_text(err));
			verdict = CONFORM_FAILED;
			goto final;
		}
	}
	verdict = combine(s, mine, &r, why, sizeof(why));
final:
	(void)message_send(&s->ctl, CONFORM_FINAL, verdict, why, s->d);
	conn_close(&s->ctl);
	print_result(n, c->name, verdict, why);
	return verdict;
}

static void say_end(const struct conform_options *o)
{
	struct conn ctl;

	if (conn_open(&ctl, &o->peer, 0, NULL, step_deadline(o->timeout_s)))
		return;
	(void)message_send(&ctl, CONFORM_END, 0, NULL,
			   step_deadline(o->timeout_s));
	conn_close(&ctl);
}

/* The kselftest summary line, from the count of each verdict. */
static void print_totals(const unsigned count[])
{
	out("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:%u error:0\n",
	    count[CONFORM_OK], count[CONFORM_FAILED], count[CONFORM_SKIPPED]);
}

static int connecting_side(const struct conform_options *o, struct side *s)
{
	unsigned total = 0, n = 0, count[CONFORM_ABORTED + 1] = {0};
	char where[ADDRESS_TEXT_MAX];

	for (size_t i = 0; i < conform_case_count; i++)
		total += selected(o, i);
	format_address(&o->peer, where, sizeof(where));
	out("KTAP version 1\n# vsock-conform: connecting to %s, seed %u\n1..%u\n",
	    where, (unsigned)o->seed, total);
	for (size_t i = 0; i < conform_case_count; i++) {
		bool unreachable;
		if (!selected(o, i))
			continue;
		n++;
		count[run_connecting(s, o, i, n, total, &unreachable)]++;
		if (unreachable && n == 1)
			die(EXIT_ENV, "control: the listening side at %s cannot "
			    "be reached", where);
	}
	say_end(o);
	print_totals(count);
	return count[CONFORM_FAILED] ? EXIT_FAIL : EXIT_PASS;
}

/* The listening side's part of one case, on its control connection. */
static uint32_t run_listening(struct side *s, const struct conform_options *o,
			      const struct message *m, bool *printed_plan)
{
	unsigned n = m->value & 0xfff, total = m->value >> 12 & 0xfff;
	int i = find_case(m->text);
	uint32_t verdict = CONFORM_OK;
	const char *off;
	struct message final;

	if (!*printed_plan) {
		out("KTAP version 1\n# vsock-conform: listening side\n1..%u\n", total);
		*printed_plan = true;
	}
	side_start(s, o, i >= 0 ? &conform_cases[i] : NULL, o->listen, false, 0);
	if (i < 0) {
		format(s->why, sizeof(s->why), "no case '%s' here (another "
		       "version of vsock-conform?)", m->text);
		verdict = CONFORM_FAILED;
	} else if (!(m->value & CONFORM_CASE_NOT_RUN)) {
		struct message seed;
		int err = message_recv(&s->ctl, &seed, s->d);
		if (err || seed.tag != CONFORM_SYNC) {
			format(s->why, sizeof(s->why), "control: the case's seed: %s",
			       err ? io_error_text(err) : "another message");
			verdict = CONFORM_FAILED;
		} else if ((off = not_here(&conform_cases[i], o->listen.transport,
					   false))) {
			/* Only a hybrid host knows it is one: the connecting
			 * side in the guest hears it as the result. */
			format(s->why, sizeof(s->why), "%s", off);
			verdict = CONFORM_SKIPPED;
		} else {
			s->seed = seed.value;
			verdict = (uint32_t)conform_cases[i].listen(s);
		}
	}
	/* The case's deadline may have passed: the messages that end it have
	 * their own. */
	s->d = step_deadline(o->timeout_s + 2);
	if (!(m->value & CONFORM_CASE_NOT_RUN) &&
	    message_send(&s->ctl, CONFORM_RESULT, verdict, s->why, s->d) != 0) {
		close_all(s);
		print_result(n, m->text, CONFORM_FAILED,
			     "control: send the result: the connecting side is gone");
		return CONFORM_FAILED;
	}
	/* The data connections stay until the case is over. */
	int err;
	do
		err = message_recv(&s->ctl, &final, s->d);
	while (!err && final.tag != CONFORM_FINAL);
	close_all(s);
	if (err) {
		char why[128];
		format(why, sizeof(why), "control: the case's verdict: %s",
		       io_error_text(err));
		print_result(n, m->text, CONFORM_FAILED, why);
		return CONFORM_FAILED;
	}
	if (final.value != CONFORM_OK && final.value != CONFORM_SKIPPED &&
	    final.value != CONFORM_FAILED) {
		print_result(n, m->text, CONFORM_FAILED,
			     "control: the case's verdict: not a verdict");
		return CONFORM_FAILED;
	}
	print_result(n, m->text, final.value, final.text);
	return final.value;
}

static int listening_side(const struct conform_options *o, struct side *s)
{
	struct address where = o->listen;
	char text[ADDRESS_TEXT_MAX];
	bool printed_plan = false;
	unsigned cases_run = 0, count[CONFORM_ABORTED + 1] = {0};
	int lfd = xlisten(&where, 8, NULL);

	format_address(&where, text, sizeof(text));
	announce_listening(&where);
	for (;;) {
		struct message m;
		/* The connecting side may take a case's deadline and its
		 * wait for the result between two cases. */
		struct deadline d = cases_run
			? step_deadline(2 * o->timeout_s + 5)
			: step_deadline(o->wait_s);
		int err = conn_accept(&s->ctl, lfd, &where, d, NULL);
		if (err) {
			if (!cases_run)
				die(EXIT_ENV, "control: accept on %s: %s (no "
				    "connecting side)", text, io_error_text(err));
			die(EXIT_FAIL, "control: accept on %s: %s after %u cases "
			    "(the connecting side is gone)", text,
			    io_error_text(err), cases_run);
		}
		s->d = step_deadline(o->timeout_s);
		err = message_recv(&s->ctl, &m, s->d);
		if (!err && m.tag == CONFORM_END) {
			conn_close(&s->ctl);
			break;
		}
		if (err || m.tag != CONFORM_CASE) {
			warn("control: %s: %s", s->ctl.name, err ?
				 io_error_text(err) : "not a case");
			conn_close(&s->ctl);
			continue;
		}
		cases_run++;
		count[run_listening(s, o, &m, &printed_plan)]++;
		conn_close(&s->ctl);
	}
	close(lfd);
	if (!printed_plan)
		out("KTAP version 1\n# vsock-conform: listening side\n1..0\n");
	print_totals(count);
	return count[CONFORM_FAILED] ? EXIT_FAIL : EXIT_PASS;
}

int vsock_conform_main(int argc, char **argv)
{
	struct conform_options *o = xmalloc(sizeof(*o));
	struct side *s = xmalloc(sizeof(*s));
	int code;

	parse_command_line(&vsock_conform_spec, o, argc, argv);
	if (o->list) {
		code = list_cases(o);
	} else {
		if (!o->listen.family == !o->peer.family)
			die(EXIT_USAGE, "--listen ADDR (the listening side) or --peer "
				    "ADDR (the connecting side): one of them");
		/* The connecting side picks the cases and their seeds. */
		if (o->listen.family && (!name_set_empty(&o->only) ||
					 !name_set_empty(&o->skip) || o->seed))
			die(EXIT_USAGE, "--only, --skip and --seed: the connecting "
				    "side's (--peer), not the listening side's");
		if (!o->seed)
			o->seed = (uint32_t)(now_ns() % 4000000000u) + 1;
		s->buf = xmalloc(BUF_BYTES);
		s->buf2 = xmalloc(BUF_BYTES);
		code = o->peer.family ? connecting_side(o, s)
				      : listening_side(o, s);
		xfree(s->buf);
		xfree(s->buf2);
	}
	xfree(s);
	xfree(o);
	return code;
}
