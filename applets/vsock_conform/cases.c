// SPDX-License-Identifier: MIT
/* vsock-conform's table of cases (at the bottom: the order they run
 * in and --list prints), and the cases that move data in bulk. A new
 * case is its row and its two halves, NAME_connect and NAME_listen,
 * static, above the table (a family of cases with a file of its own
 * declares its halves in conform.h). */
#include "conform.h"

/* ---- small-writes-stalled ---- */

/* Each small write is a packet of its own, which a guest nested under
 * TCG takes milliseconds to send: the reader's vsock buffer (the writer's
 * credit) is small, so that the writer blocks after a few hundred writes
 * and the case fits its deadline on a loaded machine. */
enum {
	SMALL_WRITE = 64,
	SMALL_MORE = 256,		/* writes after the stall */
	STALL_BUFFER = 16 << 10,	/* the reader's SO_VM_SOCKETS_BUFFER_SIZE */
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
	int lfd, fd, err;
	uint32_t port, stalled, total;

	/* A connection takes its listener's buffer size. */
	TRY(listen_on(s, s->c->type, 1, &lfd, &port));
	if (is_vsock(s) && (err = set_u64(lfd, SO_VM_SOCKETS_BUFFER_SIZE,
					  STALL_BUFFER)) != 0)
		return fail(s, "setsockopt(SO_VM_SOCKETS_BUFFER_SIZE, %d): %s",
			    STALL_BUFFER, EN(err));
	TRY(ctl_send(s, CONFORM_READY, port));
	TRY(accept_one(s, lfd, &fd, "accept"));
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

/* ================= the table ================= */

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
