/* SPDX-License-Identifier: MIT */
/* vsockbox: the mechanisms the applets share, one section per file of
 * common/. Nothing here knows an applet: the protocol's facts are in
 * protocol.h, an applet's options and texts in its own file. */
#ifndef VSOCKBOX_H
#define VSOCKBOX_H

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "protocol.h"
/* ENABLE_FEATURE_X, IF_FEATURE_X(...): the FEATURE_ entries of .config
 * (scripts/kconfig.sh features-h). */
#include "vsockbox_features.h"

#define VSOCKBOX_VERSION "0.1.0"

/* Exit codes, for every applet. */
enum {
	EXIT_PASS = 0,
	EXIT_FAIL = 1,		/* protocol or data failure, peer misbehaved */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_ENV = 3,		/* no AF_VSOCK, address in use, refused, timeout */
};

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* ---- format.c: the subset of printf the applets use, into a buffer
 * (format.c's header comment says which conversions it has) ---- */
size_t format(char *buf, size_t len, const char *fmt, ...) PRINTF_LIKE(3, 4);
size_t format_v(char *buf, size_t len, const char *fmt, va_list ap);

/* ---- clock.c: the monotonic clock and deadlines ---- */
uint64_t now_ns(void);
/* An absolute point on the monotonic clock by which a whole step must be
 * done: partial progress never moves it. */
struct deadline {
	uint64_t at_ns;
};
#define NO_DEADLINE ((struct deadline){UINT64_MAX})
struct deadline deadline_after_ms(uint64_t ms);
/* A step's deadline from --timeout S: the one way to start a step. */
struct deadline step_deadline(uint64_t timeout_s);
uint64_t deadline_left_ns(struct deadline d);	/* 0 once it has passed */
int deadline_left_ms(struct deadline d);	/* rounded up; -1: none */

/* ---- io.c (part): results of every transfer are 0, ERR_EOF, ERR_DATA
 * or an errno; see the connection transfers below ---- */
enum {
	ERR_EOF = -1,	/* the peer closed */
	ERR_DATA = -2,	/* the peer wrote where the protocol allows nothing */
	/* Hybrid vsock's CONNECT (sock.c): */
	ERR_HANDSHAKE = -3,	/* the VMM answered other than "OK <n>" */
	ERR_NOT_ACCEPTED = -4,	/* it closed every CONNECT until the deadline */
	ERR_NO_ANSWER = -5,	/* no answer by the deadline */
	ERR_PATTERN = -6,	/* --verify: data differs; the stream's struct
				 * pattern says where (pattern_describe) */
};
/* Writes all of buf to a descriptor that is not a connection (stdout,
 * stderr, a pipe): no deadline. */
int fd_write_all(int fd, const void *buf, size_t len);

/* ---- error.c and output.c: every message. A line on stderr is
 * "APPLET: what failed: why", written whole; %m is strerror(errno); an
 * exit code says the failure's class ---- */
void set_applet_name(const char *name);	/* once, before any thread */
const char *applet_name(void);
/* The result on stdout: failing to write it is fatal. */
void out(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Text as it is on any descriptor (help, progress): best effort. */
void print_to(int fd, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* One line "APPLET: ..." on stderr. */
void warn(const char *fmt, ...) PRINTF_LIKE(1, 2);
_Noreturn void die(int code, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Called once, before the exit, when die (or die_io, die_stream) ends
 * the process: code is the exit status, text the message without the
 * applet's name. An applet that must still report (vsock-perf's JSON)
 * sets it; NULL takes it away. */
typedef void fatal_hook_fn(void *arg, int code, const char *text);
void set_fatal_hook(fatal_hook_fn *fn, void *arg);
struct conn;
struct address;
/* "APPLET: listening on ADDR", the line scripts wait for. */
void announce_listening(const struct address *a);
/* die_io's text, into buf, for a failure reported later. */
void format_io_failure(char *buf, size_t len, const char *op,
		       const struct conn *c, int err);
struct pattern;
/* A failed transfer on c: "WHAT NAME: reason", WHAT from fmt ("read",
 * "%s: read magic from"), with the failure's exit class. On a stream
 * --verify checks (v; NULL: none) a difference (ERR_PATTERN) is the
 * pattern's own line, naming test, stream and place. */
_Noreturn void die_stream(const struct conn *c, int err,
			  const struct pattern *v, const char *fmt, ...)
	PRINTF_LIKE(4, 5);
/* die_stream on a stream no pattern checks. */
#define die_io(c, err, ...) die_stream(c, err, NULL, __VA_ARGS__)
const char *io_error_text(int err);
/* "ECONNRESET": the symbol of an errno value, "errno N" if unknown. */
const char *errno_name(int err, char *buf, size_t len);
/* EOF, surplus data and resets are the peer's fault (1); time-outs and
 * the rest are the environment's (3). */
int io_exit_code(int err);

/* ---- alloc.c ---- */
/* xmalloc's buffers start on this boundary (not in checked builds, whose
 * allocator is the C library's); a packet of that size lies in one page. */
enum { BUFFER_ALIGN = 4096 };
void *xmalloc(size_t len);	/* zeroed; fatal when out of memory */
void xfree(void *p);
#ifdef VSOCKBOX_MALLOC
size_t xmalloc_live(void);	/* blocks not freed yet (checked builds) */
#endif

/* ---- parse.c: pure parsers; they return NULL or the reason for refusal ---- */
enum { NUM_SUFFIX = 1 };	/* accept K, M, G, T (powers of 1024) */
const char *parse_u64(const char *s, uint64_t min, uint64_t max,
		      unsigned flags, uint64_t *out);

/* Hybrid vsock hosts (Firecracker, cloud-hypervisor, vhost-device-vsock)
 * give the guest's vsock to the host as Unix sockets: a connection to the
 * VMM's socket PATH says "CONNECT <port>\n" and waits for "OK <n>\n"; the
 * guest's connections to host port P arrive at PATH_P. libkrun has a
 * socket per port, PATH_P both ways, no handshake (TRANSPORT_UNIX_PORTS). */
enum transport { TRANSPORT_VSOCK, TRANSPORT_TCP, TRANSPORT_HYBRID,
		 TRANSPORT_UNIX_PORTS };
#define VSOCK_CID_ANY UINT32_MAX
#define PORT_UNSET UINT32_MAX
/* PATH, so that PATH_4294967294 fits a sockaddr_un (108 bytes). */
enum { UNIX_PATH_MAX_LEN = 96 };

struct address {
	enum transport transport;
	int family;		/* AF_VSOCK, AF_INET, AF_INET6 or AF_UNIX; 0: none */
	uint32_t cid;		/* vsock */
	unsigned char ip[16];	/* tcp: 4 or 16 bytes, network order */
	uint32_t port;		/* PORT_UNSET when the text gave none */
	char path[UNIX_PATH_MAX_LEN + 1];	/* AF_UNIX: the VMM's PATH */
	/* A hybrid guest connection's run token, from its stream preamble
	 * (0: none, any): with the path it tells one run from another. */
	uint64_t token;
};
const char *parse_address(const char *s, struct address *out);
/* "vsock:2:8500", "tcp:127.0.0.1:8500", "tcp:[::1]:8500",
 * "unix:/run/v.sock:8500" (no port if unset). */
void format_address(const struct address *a, char *buf, size_t len);
enum { ADDRESS_TEXT_MAX = 128 };
/* A Unix socket of the hybrid forms: unix: or unix-ports:; never without
 * FEATURE_HYBRID (sock.c), so that what serves them is not linked. */
static inline bool is_unix(const struct address *a)
{
	return ENABLE_FEATURE_HYBRID && (a->transport == TRANSPORT_HYBRID ||
					 a->transport == TRANSPORT_UNIX_PORTS);
}
/* The wildcard address of a's transport and family, with the given port. */
struct address any_address_like(const struct address *a, uint32_t port);
struct address with_port(const struct address *a, uint32_t port);
/* vsock:any:PORT, where hosts listen by default. */
struct address vsock_any(uint32_t port);
/* The same machine or VM: equal CIDs, or equal IP addresses. */
bool same_host(const struct address *a, const struct address *b);

/* ---- options.c: every applet's command line, read from the applet's own
 * table by one parser; --help, --version and the machine-readable listing
 * are printed from the same table ---- */
enum opt_kind {
	OPT_FLAG,	/* bool */
	OPT_NUM,	/* uint64_t, a whole number */
	OPT_BYTES,	/* uint64_t, with a K, M, G or T suffix */
	OPT_ADDR,	/* struct address, its port .def when the text has none */
	OPT_PEER,	/* the same; default $VSOCKBOX_PEER, else vsock:2 */
	OPT_BYTE_LIST,	/* struct byte_list: repeatable, each 0..255 */
	OPT_NAMES,	/* unsigned: the bits of a comma list of .names */
	OPT_NAME_SET,	/* struct name_set: which of .names a comma list
			 * gives, by index (more names than an unsigned has bits) */
};
struct opt_name {
	const char *name;
	unsigned bits;
};
enum { BYTE_LIST_MAX = 16 };
struct byte_list {
	unsigned char v[BYTE_LIST_MAX];
	size_t n;
};
/* OPT_NAME_SET: name i of .names is a member when bit i is set; empty
 * when the option was not given. */
enum { NAME_SET_MAX = 128 };
struct name_set {
	uint64_t bits[NAME_SET_MAX / 64];
};
static inline bool name_set_has(const struct name_set *s, size_t i)
{
	return i < NAME_SET_MAX && (s->bits[i / 64] >> (i % 64)) & 1;
}
static inline bool name_set_empty(const struct name_set *s)
{
	for (size_t i = 0; i < NAME_SET_MAX / 64; i++)
		if (s->bits[i])
			return false;
	return true;
}
/* .flags: OPT_OWN, an option of the applet alone, which a composition of
 * applets (vsock-bench: `vsockbox --compose`) neither offers nor passes
 * on; OPT_NAME_OF, an OPT_NAME_SET whose names .name_of gives. */
enum { OPT_OWN = 1, OPT_NAME_OF = 2 };
/* One row per option, written with designated initializers (what a row
 * leaves out is zero; any field order). The small fields come last, .min
 * and .offset are narrow (a value that does not fit fails the build, as
 * does a row giving both .names and .def_addr, which share their place:
 * no kind takes both), so that a row is 64 bytes, not 96: the tables
 * weigh in the SMALL=1 binary. */
struct opt {
	const char *name;	/* long option, without "--"; NULL ends a table */
	const char *arg;	/* its value in the usage text: "BYTES" */
	const char *help;	/* '\n' continues on the next line */
	const char *def_text;	/* the default as shown, instead of .def */
	union {
		/* OPT_NAMES and OPT_NAME_SET, ends with {NULL}; OPT_NAME_SET
		 * ignores .bits: a name's index is its member number */
		const struct opt_name *names;
		/* OPT_NAME_SET with .flags OPT_NAME_OF, instead of .names:
		 * name i, NULL past the last (the names of a table of the
		 * applet's own, whose rows are no opt_names) */
		const char *(*name_of)(size_t i);
		/* OPT_ADDR: the default address, as a command line gives it
		 * ("vsock:any"), its port .def; NULL: none (family 0, port
		 * .def), and .def_text says what the applet does instead. */
		const char *def_addr;
	};
	uint64_t max, def;	/* numbers; addresses: .def is the port */
	uint32_t min;
	uint16_t offset;	/* of the value in the applet's options */
	uint8_t kind;		/* enum opt_kind */
	uint8_t flags;		/* OPT_OWN */
};
struct applet_spec {
	const char *operands;	/* usage after the options; NULL: none taken */
	void (*describe)(void);	/* the paragraph after the usage line */
	const struct opt *opts;
	size_t values_size;	/* of the struct the table's offsets point into */
};
/* Sets every default, then parses argv into `values` (the struct the
 * table's offsets point into). --help and --version print and exit 0; a
 * bad command line is one line and exit 2. Returns the index of the first
 * operand (none allowed unless spec->operands). */
int parse_command_line(const struct applet_spec *spec, void *values,
		       int argc, char **argv);
void print_usage(const struct applet_spec *spec);
/* One line per option: APPLET OPTION KIND MIN MAX DEFAULT NAMES ("-" for
 * what does not apply), for the test suites. */
void list_options(const char *applet, const struct applet_spec *spec);
/* `vsockbox --compose NAME APPLET,APPLET... TEXT ARGS...`: one front end,
 * NAME (the script vsock-bench), for several applets run together. Its
 * options are the applets' (but OPT_OWN rows), parsed by the same parser
 * with NAME in the messages and TEXT as the help's paragraph; on success
 * one line per applet: APPLET and its share of ARGS as --NAME=VALUE words,
 * already judged by that applet's own parser. */
struct composed {
	const char *name;
	const struct applet_spec *spec;
};
int compose(const char *name, const struct composed *applets, size_t n,
	    const char *text, int argc, char **argv);

/* The options that mean the same in every applet that takes them. */
#define OPTION_PEER(type, field, port) \
	{.name = "peer", .arg = "ADDR", .kind = OPT_PEER, \
	 .offset = offsetof(type, field), .def = port, \
	 .help = "the host to connect to"}
#define OPTION_TIMEOUT(type, field) \
	{.name = "timeout", .arg = "S", .kind = OPT_NUM, \
	 .offset = offsetof(type, field), .min = 1, .max = MAX_TIMEOUT_S, \
	 .def = DEFAULT_TIMEOUT_S, \
	 .help = "no step waits longer than S seconds in all"}
#define OPTION_SIZE(type, field) \
	{.name = "size", .arg = "BYTES", .kind = OPT_BYTES, \
	 .offset = offsetof(type, field), .min = 1, .max = MAX_SIZE, \
	 .def = PERF_DEFAULT_SIZE, .help = "bytes per iteration"}
#define OPTION_COUNT(type, field, default_count) \
	{.name = "count", .arg = "N", .kind = OPT_NUM, \
	 .offset = offsetof(type, field), .min = 1, .max = MAX_COUNT, \
	 .def = default_count, .help = "iterations"}
#define OPTION_IO_SIZE(type, field, default_size) \
	{.name = "io-size", .arg = "BYTES", .kind = OPT_BYTES, \
	 .offset = offsetof(type, field), .min = 1, .max = MAX_IO_SIZE, \
	 .def = default_size, .help = "bytes per read or write call"}
/* The two below fill the options' struct socket_setup: pass its member,
 * e.g. OPTION_BUFFER_SIZE(struct echo, setup.buffer_size). */
#define OPTION_BUFFER_SIZE(type, field) \
	{.name = "buffer-size", .arg = "BYTES", .kind = OPT_BYTES, \
	 .offset = offsetof(type, field), .max = MAX_BUFFER_SIZE, \
	 .def = BUFFER_SIZE_AUTO, \
	 .help = "socket buffer: SO_VM_SOCKETS_BUFFER_SIZE over vsock, " \
		 "SO_SNDBUF and SO_RCVBUF over TCP;\n0: the kernel's", \
	 .def_text = "4M over vsock, the kernel's over TCP"}
/* A row only with FEATURE_ZEROCOPY (io.c), as
 * IF_FEATURE_ZEROCOPY(OPTION_ZEROCOPY(type, field),). */
#define OPTION_ZEROCOPY(type, field) \
	{.name = "zerocopy", .kind = OPT_FLAG, .offset = offsetof(type, field), \
	 .help = "send with MSG_ZEROCOPY where the kernel has it (over vsock, " \
		 "at most a quarter of the socket buffer a call)"}
/* A row only with FEATURE_VERIFY (pattern.c): a table gives it as
 * IF_FEATURE_VERIFY(OPTION_VERIFY(type, field),). */
#define OPTION_VERIFY(type, field) \
	{.name = "verify", .kind = OPT_FLAG, .offset = offsetof(type, field), \
	 .help = "every byte sent a pattern of stream, direction and position,"\
		 "\nevery byte received checked (the peer needs --verify too)"}
/* The guest's half of a soak (FEATURE_SOAK, guest.c); as
 * IF_FEATURE_SOAK(OPTION_SOAK(type, field),). */
#define OPTION_SOAK(type, field) \
	{.name = "soak", .kind = OPT_FLAG, .offset = offsetof(type, field), \
	 .help = "iterate until the host ends the stream after a whole\n" \
		 "iteration (vsock-perf --duration), not --count times"}
#define OPTION_CHAIN(type, field) \
	{.name = "chain", .kind = OPT_FLAG, .offset = offsetof(type, field), \
	 .help = "wait for 'done' on stdin before the magic; print 'done'", \
	 .flags = OPT_OWN}
#define OPTION_END {.name = NULL}

/* Limits: a day of time-out; 1 TiB per iteration; buffers up to 64 MiB. */
#define MAX_TIMEOUT_S 86400u
#define MAX_SIZE ((uint64_t)1 << 40)
#define MAX_COUNT 1000000000u
#define MAX_IO_SIZE ((uint64_t)64 << 20)
#define MAX_BUFFER_SIZE ((uint64_t)64 << 20)
/* --buffer-size not given: VSOCK_BUFFER_SIZE over vsock, the kernel's
 * (autotuned) over TCP. */
#define BUFFER_SIZE_AUTO UINT64_MAX
enum { DEFAULT_TIMEOUT_S = 30 };

/* ---- sock.c: connections that carry their own description ---- */
struct conn {
	int fd;
	char name[2 * ADDRESS_TEXT_MAX + 16];	/* "vsock:2:8500 from port 8503" */
	/* The kernel-side time-outs now set on fd (0: none), so that a step's
	 * deadline costs a setsockopt only when it must shorten them. The
	 * reader and the writer of one connection each touch their own. */
	uint64_t recv_timeout_ns, send_timeout_ns;
	/* MSG_ZEROCOPY sends: how many went out and how many the kernel has
	 * said it is done with (completions from the error queue). */
	bool zerocopy;
	uint32_t zc_sent, zc_done;
	size_t zc_chunk;	/* the most one MSG_ZEROCOPY send takes; 0: all */
	struct watchdog *watchdog;	/* NULL: the kernel's time-outs */
	/* A hybrid host's Unix socket: the guest's close may arrive as a
	 * reset (ECONNRESET, EPIPE), wherever the protocol awaits a close. */
	bool reset_is_close;
	/* An AF_UNIX socket: sends never block, room is awaited by poll
	 * (io.c: a blocking Unix send() restarts SO_SNDTIMEO per buffer). */
	bool send_by_poll;
	/* Bytes moved either way are added here as they go (interval
	 * reports; NULL: not counted). */
	_Atomic uint64_t *moved;
};
/* How every connection of an applet is set up. */
struct socket_setup {
	uint64_t buffer_size;	/* 0: the kernel's; BUFFER_SIZE_AUTO */
	bool zerocopy;		/* ask for MSG_ZEROCOPY sends (probed) */
};
/* An address as the kernel takes it, for a socket beyond the calls below
 * (the test peer's bound-only and source-bound sockets). */
socklen_t to_sockaddr(const struct address *a, struct sockaddr_storage *ss);
/* The reverse: what getsockname, getpeername or accept gave. */
void from_sockaddr(const struct sockaddr_storage *ss, struct address *a);
/* Connects from local_port (0: any) by the deadline; 0 or an errno (or
 * ERR_HANDSHAKE, ERR_NOT_ACCEPTED, ERR_NO_ANSWER). A hybrid peer gets
 * CONNECT and must answer OK first; while it closes at once (a guest still
 * booting) the connect is tried again until the deadline. Over AF_UNIX
 * local_port is bound nowhere (the stream preamble can name it). */
int conn_open(struct conn *c, const struct address *peer, uint32_t local_port,
	      const struct socket_setup *setup, struct deadline d);
/* Same, but a failure is fatal (exit 3) with a one-line error. */
void xconn_open(struct conn *c, const struct address *peer,
		uint32_t local_port, const struct socket_setup *setup,
		struct deadline d);
/* The buffer size a setup asks for over a's transport (0: the kernel's),
 * and what the kernel granted c (over TCP, the receive buffer, which the
 * kernel doubles and autotunes); 0 when it cannot tell. */
uint64_t buffer_size_for(const struct address *a, uint64_t asked);
uint64_t conn_buffer_size(const struct conn *c, const struct address *a);
/* With setup->zerocopy, turns MSG_ZEROCOPY on for c's sends; where the
 * kernel refuses, one warning and setup->zerocopy goes off for the run. */
bool conn_zerocopy(struct conn *c, struct socket_setup *setup);
/* A connection on an inherited descriptor. */
void conn_adopt(struct conn *c, int fd, const char *name);
void conn_close(struct conn *c);
/* Ends both directions now (the descriptor stays open): a stream that
 * runs beside one that failed fails at once instead of at its deadline. */
void conn_shutdown(struct conn *c);
/* Ends this side's writes (SHUT_WR): the peer reads to end of stream. */
void conn_end_writes(struct conn *c);
/* Listens on a (port 0: ephemeral); fatal on failure. The real address
 * goes into a->port. */
int xlisten(struct address *a, int backlog, const struct socket_setup *setup);
/* Waits for a connection until the deadline; 0 or an errno (ETIMEDOUT).
 * The peer's address goes to *peer (if not NULL), a description to
 * c->name. */
int conn_accept(struct conn *c, int lfd, const struct address *local,
		struct deadline d, struct address *peer);
/* Closes a listening socket; a Unix one's file goes too. */
void unlisten(int lfd, const struct address *a);

/* ---- io.c: whole transfers on a connection, each by its step's
 * deadline: EINTR and short transfers handled, partial progress never
 * extends the deadline ---- */
/* Bounds the next blocking receive or send on c by the deadline: 0, or
 * ETIMEDOUT once it has passed. */
int conn_bound_recv(struct conn *c, struct deadline d);
int conn_bound_send(struct conn *c, struct deadline d);
int read_full(struct conn *c, void *buf, size_t len, struct deadline d);
/* The same, counting what arrived before an error or EOF. */
int read_counted(struct conn *c, void *buf, size_t len, size_t *got,
		 struct deadline d);
int write_full(struct conn *c, const void *buf, size_t len,
	       struct deadline d);
/* Moves total bytes through a buffer of buf_len bytes. */
int recv_bytes(struct conn *c, uint64_t total, void *buf, size_t buf_len,
	       struct deadline d);
int send_bytes(struct conn *c, uint64_t total, const void *buf,
	       size_t buf_len, struct deadline d);
struct pattern;
/* The same for a stream that --verify may check (v NULL: plain, zeros or
 * whatever buf holds). Received bytes are checked call by call, while
 * they are in the cache; the first difference ends the transfer with
 * ERR_PATTERN. Sent bytes are the pattern, sent from its own blocks
 * (pattern_next; buf unused), with MSG_ZEROCOPY each chunk stamped only
 * once the kernel is done with the chunks before. */
int recv_stream(struct conn *c, uint64_t total, void *buf, size_t buf_len,
		struct pattern *v, struct deadline d);
int send_stream(struct conn *c, uint64_t total, const void *buf,
		size_t buf_len, struct pattern *v, struct deadline d);
/* recv_stream of one iteration of a soak (--duration, --soak): the peer's
 * close before its first byte is the stream's end (*ended, and 0), a
 * close after it an error as ever. */
int recv_stream_or_end(struct conn *c, uint64_t total, void *buf,
		       size_t buf_len, struct pattern *v, struct deadline d,
		       bool *ended);
/* Only a soak, or a hybrid's reset taken as a close, tells that end from
 * the error it is otherwise: without both, *ended is false where the
 * caller can see it, and its code for an end is not compiled in. */
static inline int recv_iteration(struct conn *c, uint64_t total, void *buf,
				 size_t buf_len, struct pattern *v,
				 struct deadline d, bool *ended)
{
	if (!ENABLE_FEATURE_SOAK && !ENABLE_FEATURE_HYBRID) {
		*ended = false;
		return recv_stream(c, total, buf, buf_len, v, d);
	}
	return recv_stream_or_end(c, total, buf, buf_len, v, d, ended);
}
/* MSG_ZEROCOPY: waits until the kernel is done with every buffer sent so
 * far, so that the caller may write into them again. */
int zerocopy_wait(struct conn *c, struct deadline d);
/* Takes one message from fd's error queue: a MSG_ZEROCOPY completion of
 * the kernel's send IDs first..last (0), EAGAIN when the queue is empty,
 * ENOMSG for another kind of notice, the completion's error, or an
 * errno. */
int zerocopy_notice(int fd, uint32_t *first, uint32_t *last);
/* Waits for the peer to close: 0 at EOF, ERR_DATA if data comes first. */
int wait_for_close(struct conn *c, struct deadline d);
/* Bytes the peer sent beyond what its test allows: ERR_DATA if any
 * arrive within grace_ms, 0 if none (or the peer closed), else an errno. */
int check_surplus(struct conn *c, int grace_ms);
/* How long a finished stream is watched for surplus: a peer that writes
 * too much writes it with its last bytes. */
enum { SURPLUS_GRACE_MS = 10 };

/* ---- watchdog.c: deadlines without kernel time-outs, for a connection
 * whose every call counts (the echo path) ---- */
struct watchdog {
	struct conn *conn;
	struct sigaction old_action;	/* SIGALRM's, put back at the stop */
};
/* Watches c's steps, each bounded by at most bound_ms, until
 * watchdog_stop; c is used by the main thread only meanwhile. */
void watchdog_start(struct watchdog *w, struct conn *c, uint64_t bound_ms);
void watchdog_stop(struct watchdog *w);

/* ---- pattern.c: data the protocol defines ---- */
/* Warm-up packet i: "DAVID" + i as three digits, repeated to len bytes. */
void warmup_packet(unsigned i, unsigned char *buf, size_t len);
/* Index of the first byte that is not `value`, or len. */
size_t find_not_byte(const unsigned char *buf, size_t len, unsigned char value);
/* vsock-conform's data: byte i of the stream of a seed; len bytes of it
 * from offset `from`; the index of the first byte in buf that differs
 * from it, or len. */
uint8_t seeded_byte(uint32_t seed, uint64_t i);
void seeded_fill(uint32_t seed, uint64_t from, unsigned char *buf, size_t len);
size_t seeded_check(uint32_t seed, uint64_t from, const unsigned char *buf,
		    size_t len);

/* ---- preamble.c: the opt-in stream preamble of hybrid hosts, which
 * cannot see a guest's source port (PROTOCOL section "Hybrid hosts") ---- */
#define PREAMBLE_TOKEN_ENV "VSOCK_PREAMBLE_TOKEN"
/* The run's token: $VSOCK_PREAMBLE_TOKEN (vsock-ctl sets it for its
 * program), else a new random one. A bad value is a usage error. */
uint64_t preamble_token(void);
int preamble_send(struct conn *c, uint32_t port, uint64_t token,
		  struct deadline d);
/* xconn_open from local_port, then with a token (not 0) the preamble
 * naming that port; a failure is fatal with one line. */
void xconn_open_stream(struct conn *c, const struct address *peer,
		       uint32_t local_port, const struct socket_setup *setup,
		       uint64_t token, struct deadline d);
/* The PREAMBLE_BYTES that began a guest connection accepted on local:
 * its stream's port into peer->port, its token into peer->token, and
 * c->name says the port. 0, or ERR_DATA (not a preamble). The host reads
 * them as they come, from many connections at once (vsock-perf). */
int preamble_parse(struct conn *c, const unsigned char *bytes,
		   const struct address *local, struct address *peer);
/* --preamble's token for a run, or 0 without --preamble. */
uint64_t run_token(bool preamble);
/* A row only with FEATURE_HYBRID (sock.c), as
 * IF_FEATURE_HYBRID(OPTION_PREAMBLE(type, field),). */
#define OPTION_PREAMBLE(type, field) \
	{.name = "preamble", .kind = OPT_FLAG, .offset = offsetof(type, field), \
	 .help = "name each connection's stream first, for a hybrid vsock " \
	 "host (Firecracker, cloud-hypervisor, vhost-device-vsock)"}
/* --verify: every byte of a stream is a function of the stream (its
 * guest port), the direction and the byte's position in the whole test,
 * so a flipped, lost, repeated or moved byte differs from what the
 * receiver expects (doc/PROTOCOL.md gives it byte for byte). */
enum pattern_dir { PATTERN_TO_GUEST, PATTERN_TO_HOST };
/* A 4 KiB block's words; the distinct block bodies of a stream (a prime,
 * so that sends of a power of two start on every body in turn). */
enum { PATTERN_TABLE_WORDS = 512, PATTERN_BODIES = 61 };
struct pattern_mismatch {
	uint64_t pos;		/* in the whole stream */
	unsigned char expected, got;
	bool unverified_peer;	/* from the first word: no --verify there? */
};
/* One direction of one verified stream. */
struct pattern {
	const char *test;	/* for the message: "unidirectional" */
	uint32_t port;		/* the guest's port of the stream */
	enum pattern_dir dir;
	uint64_t size;		/* bytes per iteration (0: one endless) */
	uint64_t pos;		/* bytes generated, or received, so far */
	uint64_t checked;	/* bytes received that matched */
	struct pattern_mismatch bad;	/* after ERR_PATTERN */
	uint64_t seed;		/* of the stream and direction */
	uint64_t table[PATTERN_TABLE_WORDS];	/* one block's words */
	uint64_t body[PATTERN_BODIES];	/* xor'd into a block's words */
	unsigned char *ring;	/* a sender's built blocks (pattern_next) */
	size_t ring_len;
};
void pattern_start(struct pattern *s, const char *test, uint32_t port,
		   enum pattern_dir dir, uint64_t size);
/* Frees what pattern_next built. */
void pattern_end(struct pattern *s);
/* Byte pos of the stream, its len bytes from pos, and the index of the
 * first byte of buf that differs from them (len: none). */
unsigned char pattern_byte(const struct pattern *s, uint64_t pos);
void pattern_fill(const struct pattern *s, uint64_t pos, void *buf, size_t len);
size_t pattern_find(const struct pattern *s, uint64_t pos, const void *buf,
		    size_t len);
/* The next len bytes of the stream, to send: one slice of bodies built
 * once, in which only each block's stamp word was written now. Valid
 * until the next call; the caller must not write into it, and with
 * MSG_ZEROCOPY must call only once the kernel is done with the last. */
const void *pattern_next(struct pattern *s, size_t len);
/* Checks the next len bytes of the stream: 0, or ERR_PATTERN with the
 * first difference in s->bad. */
int pattern_check(struct pattern *s, const void *buf, size_t len);
const char *pattern_dir_text(enum pattern_dir dir);
/* "TEST: port P, DIR: data differs at iteration I, offset O: expected
 * 0xEE, received 0xRR[ (the peer may not be running with --verify, ...)]" */
void pattern_describe(const struct pattern *s, char *buf, size_t len);
/* Both directions of one verified stream, as one end sees them: what it
 * sends (in sent_dir) and what it checks (the other direction). */
struct stream_patterns {
	struct pattern sent, checked;
};
void stream_patterns_start(struct stream_patterns *v, const char *test,
			   uint32_t port, enum pattern_dir sent_dir,
			   uint64_t size);
void stream_patterns_end(struct stream_patterns *v);	/* v may be NULL */
/* v's halves, NULL without --verify (v NULL). */
static inline struct pattern *patterns_sent(struct stream_patterns *v)
{
	return v ? &v->sent : NULL;
}
static inline struct pattern *patterns_checked(struct stream_patterns *v)
{
	return v ? &v->checked : NULL;
}

/* ---- chain.c: the control connection and the stage-to-stage chain ---- */
#define CTL_FD_ENV "VSOCK_CTL_FD"
/* Refuses a bad $VSOCK_CTL_FD before any connection is opened. */
void ctl_check(void);
/* The control connection: inherited through $VSOCK_CTL_FD, else a new one
 * from port 8501 (with a token: named by the stream preamble). */
void ctl_open(struct conn *ctl, const struct address *peer,
	      const struct socket_setup *setup, uint64_t token,
	      struct deadline d);
void send_magics(struct conn *ctl, const unsigned char *magic, size_t n,
		 struct deadline d);
/* --chain: wait for "done" from the previous stage on stdin. */
void chain_wait(void);
/* --chain: tell the next stage on stdout. */
void chain_done(void);

/* ---- sidechannel.c: framed messages on a test's side channel (tag,
 * value, text: protocol.h), vsock-conform's and vsock-lifecycle's ---- */
struct message {
	uint32_t tag, value;
	char text[SIDE_TEXT_MAX + 1];	/* '\0'-terminated */
};
/* Each 0 or a transfer's error; ERR_DATA: a text longer than allowed. A
 * longer text is cut to SIDE_TEXT_MAX bytes. */
int message_send(struct conn *c, uint32_t tag, uint32_t value,
		 const char *text, struct deadline d);
int message_recv(struct conn *c, struct message *m, struct deadline d);

/* ---- guest.c: the options and steps of the guest throughput applets ---- */
struct throughput {
	struct address peer;
	uint64_t timeout_s, size, count, io_size;
	bool chain, preamble, verify;
	bool soak;		/* --soak: iterate until the host ends */
	struct socket_setup setup;	/* --buffer-size, --zerocopy */
	uint64_t token;		/* --preamble: the run's token; else 0 */
};
#define THROUGHPUT_OPTIONS(count_default, io_size_default) \
	OPTION_PEER(struct throughput, peer, PERF_HOST_PORT), \
	OPTION_SIZE(struct throughput, size), \
	OPTION_COUNT(struct throughput, count, count_default), \
	OPTION_IO_SIZE(struct throughput, io_size, io_size_default), \
	OPTION_BUFFER_SIZE(struct throughput, setup.buffer_size), \
	IF_FEATURE_ZEROCOPY(OPTION_ZEROCOPY(struct throughput, setup.zerocopy),) \
	IF_FEATURE_VERIFY(OPTION_VERIFY(struct throughput, verify),) \
	IF_FEATURE_SOAK(OPTION_SOAK(struct throughput, soak),) \
	OPTION_TIMEOUT(struct throughput, timeout_s), \
	OPTION_CHAIN(struct throughput, chain), \
	IF_FEATURE_HYBRID(OPTION_PREAMBLE(struct throughput, preamble),) \
	OPTION_END
struct progress;
/* --soak asked for (and there is a --soak). */
static inline bool guest_soaking(const struct throughput *t)
{
	return ENABLE_FEATURE_SOAK && t->soak;
}
/* Parses the command line and refuses a bad $VSOCK_CTL_FD. */
void throughput_options(const struct applet_spec *spec, struct throughput *t,
			int argc, char **argv);
/* Opens a data connection from the given guest port, with MSG_ZEROCOPY
 * sends if asked and available. */
void throughput_connect(struct throughput *t, struct conn *c,
			uint32_t local_port);
/* Control connection, --chain wait, then the magic numbers. */
void guest_announce(struct conn *ctl, const struct throughput *t,
		    const unsigned char *magic, size_t n);
/* Closes the control connection; with --chain, tells the next stage. */
void guest_finish(struct conn *ctl, const struct throughput *t);
/* With --verify, starts v for the stream of the given port and returns
 * it (stream_patterns_end frees it); NULL without. */
struct stream_patterns *guest_patterns(const struct throughput *t,
				       struct stream_patterns *v,
				       const char *test, uint32_t port);
/* Per iteration: read size bytes, then write as many back, each half by
 * its own deadline; then no surplus. With v, the bytes received are
 * checked and those sent are the pattern. 0 or an error; *failed_op says
 * which half failed. */
int guest_unidir(struct conn *c, const struct throughput *t,
		 struct stream_patterns *v, void *buf, size_t buf_len,
		 struct progress *p, const char **failed_op);

/* ---- stats.c ---- */
struct summary {
	double min, p25, p50, p75, p99, max;
	size_t n;
};
size_t percentile_index(size_t n, unsigned p);
/* Sorts samples in place. */
void summarize(double *samples, size_t n, struct summary *out);
/* v with the given decimals (0..4), rounded half away from zero. */
const char *format_fixed(char *buf, size_t len, double v, unsigned decimals);

/* ---- progress.c: progress on stderr when it is a terminal ---- */
struct progress {
	bool on;
	const char *what;
	uint64_t total;
};
void progress_start(struct progress *p, const char *what, uint64_t total);
void progress_step(struct progress *p, uint64_t done);
void progress_end(struct progress *p);

/* ---- thread.c ---- */
/* Starts a thread with a small stack; fatal on failure. */
void xthread_start(pthread_t *t, void *(*fn)(void *), void *arg);
void xthread_join(pthread_t t);

/* ---- signals.c ---- */
/* SIGPIPE ignored (a closed peer is EPIPE); SIGINT and SIGTERM end the
 * process at once with one line and status 128 + N. */
void set_signals(void);

#endif
