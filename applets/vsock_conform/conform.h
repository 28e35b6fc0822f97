/* SPDX-License-Identifier: MIT */
/* vsock-conform's own declarations, shared by its files (the applet's
 * folder, scripts/gen-applets.sh):
 *   vsock_conform.c   the options, the run of the cases, main
 *   cases.c           the table of cases, at its bottom, and the cases
 *                     that move data in bulk: a new case goes there
 *   connect.c, shutdown.c, queues.c, seqpacket.c   families of cases
 *   side.c            one side of one case: its verdict, and the other
 *                     side's steps over the control connection
 *   sockets.c         the case's data sockets, by its deadline
 *   transfer.c        transfers in slices by the deadline; the seed's data
 *   util.c            small helpers the cases share
 *   control.c         the control connection's framed messages
 *                     (control.h: tests/faultpeer.c speaks them too) */
#ifndef VSOCK_CONFORM_H
#define VSOCK_CONFORM_H

#include "vsockbox.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsock_abi.h"
#include "control.h"

/* A case's socket type (its row's .type). */
#define STREAM SOCK_STREAM
#define SEQPACKET SOCK_SEQPACKET

struct side;

/* A case: one row of the table (conform_cases, at the bottom of
 * cases.c). Each half returns the side's verdict (CONFORM_OK, _FAILED, _SKIPPED or
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
	 * the listening side (HY_* in cases.c); NULL: it can. */
	const char *not_hybrid_connect, *not_hybrid_listen;
};
extern const struct conform_case conform_cases[];
extern const size_t conform_case_count;

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

/* The symbol of a set of poll events, for diagnostics. */
#define EV(e) events_text((e), (char[64]){0}, 64)

/* ---- side.c: a side's verdict and the other side's steps ---- */
const char *count_text(ssize_t n, int err, char *buf, size_t len);
/* A failure (the first cause is kept) or a skip, and why: the verdict. */
int fail(struct side *s, const char *fmt, ...) PRINTF_LIKE(2, 3);
int skip(struct side *s, const char *fmt, ...) PRINTF_LIKE(2, 3);
bool lacks_feature(int err);
bool is_vsock(const struct side *s);
bool is_hybrid(const struct side *s);
bool other_side_stopped(struct side *s);
int ctl_send_text(struct side *s, uint32_t tag, uint32_t value,
		  const char *text);
int ctl_send(struct side *s, uint32_t tag, uint32_t value);
int ctl_wait_text(struct side *s, uint32_t tag, const char *step,
		  uint32_t *value, char *text, size_t text_len);
int ctl_wait(struct side *s, uint32_t tag, const char *step,
	     uint32_t *value);

/* ---- sockets.c: the case's data sockets ---- */
int close_now(struct side *s, int fd);
void close_all(struct side *s);
int set_timeo(int fd, int option, int ms);
int sliced(const struct side *s, int fd, int type);
int new_socket(struct side *s, int type, int *fd_out, const char *step);
uint32_t any_port(const struct side *s);
int bind_to(struct side *s, int fd, uint32_t port);
int name_of(int fd, bool peer, struct address *a);
int listen_on(struct side *s, int type, int backlog, int *lfd,
	      uint32_t *port);
int accept_one(struct side *s, int lfd, int *fd, const char *step);
int connect_hybrid(struct side *s, uint32_t port, int *fd,
		   const char *step);
int connect_fd(struct side *s, int fd, uint32_t port);
/* The case's one connection: the connecting side's half connects, the
 * listening side's listens, names its port and accepts. */
int connect_one(struct side *s, int *fd);
int serve_one(struct side *s, int *fd);

/* ---- transfer.c: transfers by the deadline, the seed's data ---- */
ssize_t xmsg(struct side *s, int fd, bool sending, struct msghdr *m,
	     int flags);
ssize_t xio(struct side *s, int fd, bool sending, void *buf,
	    size_t len, int flags);
int io_failed(struct side *s, const char *step, const char *call,
	      size_t want, size_t done, ssize_t r);
int recv_exact(struct side *s, int fd, void *buf, size_t len,
	       const char *step);
int send_exact(struct side *s, int fd, const void *buf, size_t len,
	       const char *step);
int send_byte(struct side *s, int fd, unsigned char byte,
	      const char *step);
int recv_byte(struct side *s, int fd, unsigned char want,
	      const char *step);
int expect_eof(struct side *s, int fd, const char *step);
int expect_recv_end(struct side *s, int fd, int want, const char *step);
int recv_pattern(struct side *s, int fd, uint64_t len, size_t max_read,
		 uint32_t *state, const char *step);
int send_pattern(struct side *s, int fd, uint64_t len, size_t max_write,
		 uint32_t *state, const char *step);

/* ---- util.c: small helpers the cases share ---- */
int get_int(int fd, int level, int option, int *v);
int set_int(int fd, int level, int option, int v);
int get_u64(int fd, int option, uint64_t *v);
int set_u64(int fd, int option, uint64_t v);
const char *events_text(short ev, char *buf, size_t len);
int poll_for(int fd, short events, int ms);
int poll_until(struct side *s, int fd, short events, short want,
	       short *revents, const char *step);
int expect_epipe(struct side *s, int fd, const char *step);
int wait_queued(struct side *s, int fd, size_t len, const char *step);
uint64_t timed_close(struct side *s, int fd);
int wait_sent(struct side *s, int fd, bool *known);

/* ---- the halves of the cases in files of their own (cases.c has
 * the table, and its own cases static) ---- */
/* connect.c */
int unbound_port_connect(struct side *s);
int unbound_port_listen(struct side *s);
int addr_in_use_connect(struct side *s);
int addr_in_use_listen(struct side *s);
int names_connect(struct side *s);
int names_listen(struct side *s);
int local_cid_connect(struct side *s);
int local_cid_listen(struct side *s);
int connect_timeout_connect(struct side *s);
int connect_timeout_listen(struct side *s);
int many_connections_connect(struct side *s);
int many_connections_listen(struct side *s);
int backlog_full_connect(struct side *s);
int backlog_full_listen(struct side *s);
int closed_before_accept_connect(struct side *s);
int closed_before_accept_listen(struct side *s);
/* shutdown.c */
int shut_wr_connecting_connect(struct side *s);
int shut_wr_connecting_listen(struct side *s);
int shut_wr_listening_connect(struct side *s);
int shut_wr_listening_listen(struct side *s);
int shut_rd_connecting_connect(struct side *s);
int shut_rd_connecting_listen(struct side *s);
int shut_rd_listening_connect(struct side *s);
int shut_rd_listening_listen(struct side *s);
int pollrdhup_connect(struct side *s);
int pollrdhup_listen(struct side *s);
int pollhup_connect(struct side *s);
int pollhup_listen(struct side *s);
int close_unread_connect(struct side *s);
int close_unread_listen(struct side *s);
int linger_unread_connect(struct side *s);
int linger_unread_listen(struct side *s);
int linger_zero_connect(struct side *s);
int linger_zero_listen(struct side *s);
/* queues.c, and the peeks that seqpacket-msg-peek shares */
int msg_peek_connect(struct side *s);
int msg_peek_listen(struct side *s);
int dontwait_empty_connect(struct side *s);
int dontwait_empty_listen(struct side *s);
int siocinq_connect(struct side *s);
int siocinq_listen(struct side *s);
int siocoutq_connect(struct side *s);
int siocoutq_listen(struct side *s);
int rcvlowat_connect(struct side *s);
int rcvlowat_listen(struct side *s);
int credit_rcvlowat_connect(struct side *s);
int credit_rcvlowat_listen(struct side *s);
int credit_low_rx_connect(struct side *s);
int credit_low_rx_listen(struct side *s);
int buffer_size_connect(struct side *s);
int buffer_size_listen(struct side *s);
int zerocopy_connect(struct side *s);
int zerocopy_listen(struct side *s);
int zerocopy_close_pending_connect(struct side *s);
int zerocopy_close_pending_listen(struct side *s);
int peek_reader(struct side *s, int fd, bool seqpacket);
int peek_writer(struct side *s, int fd, bool seqpacket);
/* seqpacket.c */
int seqpacket_boundaries_connect(struct side *s);
int seqpacket_boundaries_listen(struct side *s);
int seqpacket_msg_trunc_connect(struct side *s);
int seqpacket_msg_trunc_listen(struct side *s);
int seqpacket_msg_eor_connect(struct side *s);
int seqpacket_msg_eor_listen(struct side *s);
int seqpacket_big_message_connect(struct side *s);
int seqpacket_big_message_listen(struct side *s);
int seqpacket_msg_peek_connect(struct side *s);
int seqpacket_msg_peek_listen(struct side *s);

#endif
