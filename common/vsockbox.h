/* vsockbox: what the applets share. Nothing here knows an applet. */
#ifndef VSOCKBOX_H
#define VSOCKBOX_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "protocol.h"

#define VSOCKBOX_VERSION "0.1.0"

/* Exit codes, for every applet. */
enum {
	EXIT_PASS = 0,
	EXIT_FAIL = 1,		/* protocol or data failure, peer misbehaved */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_ENV = 3,		/* no AF_VSOCK, address in use, refused, timeout */
};

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* ---- format.c: the subset of printf the applets use, without stdio:
 * %s %c %d %u (l, ll, z sizes), flags '-' '0', width and precision ---- */
size_t format(char *buf, size_t len, const char *fmt, ...) PRINTF_LIKE(3, 4);
size_t format_v(char *buf, size_t len, const char *fmt, va_list ap);
void out(const char *fmt, ...) PRINTF_LIKE(1, 2);	/* stdout; fatal on error */
void out_text(const char *text);
void err_out(const char *fmt, ...) PRINTF_LIKE(1, 2);	/* stderr */
void print_to(int fd, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* ---- error.c: one-line messages prefixed with the applet's name ---- */
void set_applet_name(const char *name);	/* once, before any thread */
const char *applet_name(void);
void warn_msg(const char *fmt, ...) PRINTF_LIKE(1, 2);
_Noreturn void die(int code, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Appends ": strerror(errno)". */
_Noreturn void die_errno(int code, const char *fmt, ...) PRINTF_LIKE(2, 3);
_Noreturn void usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* ---- parse.c: pure parsers; they return NULL or the reason for refusal ---- */
enum { NUM_SUFFIX = 1 };	/* accept K, M, G, T (powers of 1024) */
const char *parse_u64(const char *s, uint64_t min, uint64_t max,
		      unsigned flags, uint64_t *out);

enum transport { TRANSPORT_VSOCK, TRANSPORT_TCP };
#define VSOCK_CID_ANY UINT32_MAX
#define PORT_UNSET UINT32_MAX

struct address {
	enum transport transport;
	int family;		/* AF_VSOCK, AF_INET or AF_INET6 */
	uint32_t cid;		/* vsock */
	unsigned char ip[16];	/* tcp: 4 or 16 bytes, network order */
	uint32_t port;		/* PORT_UNSET when the text gave none */
};
const char *parse_address(const char *s, struct address *out);
/* "vsock:2:8500", "tcp:127.0.0.1:8500", "tcp:[::1]:8500" (no port if unset). */
void format_address(const struct address *a, char *buf, size_t len);
enum { ADDRESS_TEXT_MAX = 64 };
/* The wildcard address of a's transport and family, with the given port. */
struct address any_address_like(const struct address *a, uint32_t port);
struct address with_port(const struct address *a, uint32_t port);
/* vsock:any:PORT, where hosts listen by default. */
struct address vsock_any(uint32_t port);

/* ---- options.c: one option parser for every applet ---- */
enum {
	OPT_PEER = 1u << 0, OPT_TIMEOUT = 1u << 1, OPT_SIZE = 1u << 2,
	OPT_COUNT = 1u << 3, OPT_IO_SIZE = 1u << 4, OPT_CHAIN = 1u << 5,
	OPT_LISTEN = 1u << 6, OPT_GUEST = 1u << 7, OPT_PACKET_SIZE = 1u << 8,
	OPT_LATENCY_COUNT = 1u << 9, OPT_TESTS = 1u << 10, OPT_JSON = 1u << 11,
	OPT_MAGIC = 1u << 12,
};
enum { TEST_LATENCY = 1, TEST_BIDIR = 2, TEST_UNIDIR = 4, TEST_MULTI = 8,
       TEST_ALL = 15 };
enum { MAX_MAGICS = 16, DEFAULT_TIMEOUT_S = 30 };
/* Bytes per read or write call of each throughput test, unless --io-size
 * says otherwise: the best of a side-by-side sweep over TCP loopback
 * (bench/RESULTS.md), within 2 MiB of RSS per applet: bidirectional's
 * two threads take one buffer each, multi stream's five streams five. */
enum { UNIDIR_IO_SIZE = 1 << 20, BIDIR_IO_SIZE = 512 << 10,
       MULTI_IO_SIZE = 128 << 10 };

struct settings {
	struct address peer, listen, guest;
	bool listen_given, guest_given, count_given, json, chain;
	unsigned timeout_s;
	uint64_t size, count, latency_count;
	size_t io_size;		/* 0: each test's own default */
	size_t packet_size;
	unsigned tests;
	unsigned char magic[MAX_MAGICS];
	size_t magics;
};
/* --io-size if given, else the test's own default. */
size_t io_size_for(const struct settings *s, size_t test_default);
/* Defaults of the protocol; peer from $VSOCKBOX_PEER or vsock:2. */
void settings_defaults(struct settings *s, uint32_t peer_port);
/* Parses argv into s, accepting only the options in `accepted`; prints
 * `usage` for --help (exit 0) and exits 2 on anything else. Returns the
 * index of the first operand. */
int parse_options(int argc, char **argv, unsigned accepted, const char *usage,
		  struct settings *s);
/* Refuses operands for applets that take none. */
void no_operands(int argc, char **argv, int first);

/* ---- sock.c: connections that carry their own description ---- */
struct conn {
	int fd;
	char name[2 * ADDRESS_TEXT_MAX + 16];	/* "vsock:2:8500 from port 8503" */
};
/* Connects from local_port (0: any) within timeout_s; 0 or an errno. */
int conn_open(struct conn *c, const struct address *peer, uint32_t local_port,
	      unsigned timeout_s);
/* Same, but a failure is fatal (exit 3) with a one-line error. */
void xconn_open(struct conn *c, const struct address *peer,
		uint32_t local_port, unsigned timeout_s);
void conn_close(struct conn *c);
/* Listens on a (port 0: ephemeral); fatal on failure. The real address
 * goes into a->port. */
int xlisten(struct address *a, int backlog);
/* Waits up to timeout_ms for a connection; 0 or an errno (ETIMEDOUT). The
 * peer's address goes to *peer (if not NULL), a description to c->name. */
int conn_accept(struct conn *c, int lfd, const struct address *local,
		int timeout_ms, struct address *peer);
/* Kernel-side timeouts on every blocking read and write of fd. */
void set_io_timeout(int fd, unsigned timeout_s);
void set_recv_timeout_ms(int fd, unsigned ms);

/* ---- io.c: whole transfers, EINTR and short I/O handled ---- */
enum {
	ERR_EOF = -1,	/* the peer closed; other results are errnos */
	ERR_DATA = -2,	/* the peer wrote where the protocol allows nothing */
};
const char *io_error_text(int err);
/* EOF and resets are the peer's fault (1); timeouts and the rest are 3. */
int io_exit_code(int err);
/* 0, ERR_EOF or an errno (timeouts read as ETIMEDOUT). */
int read_full(int fd, void *buf, size_t len);
/* The same, counting what arrived before an error or EOF. */
int read_counted(int fd, void *buf, size_t len, size_t *got);
int write_full(int fd, const void *buf, size_t len);
/* Reads len bytes, waiting at most timeout_ms in all (poll based). */
int read_within(int fd, void *buf, size_t len, int timeout_ms);
/* Moves total bytes through a buffer of buf_len bytes. */
int recv_bytes(int fd, uint64_t total, void *buf, size_t buf_len);
int send_bytes(int fd, uint64_t total, const void *buf, size_t buf_len);
/* Waits for the peer to close: 0 at EOF, ERR_DATA if data comes first. */
int wait_for_close(int fd);
_Noreturn void die_io(const struct conn *c, const char *op, int err);
void *xmalloc(size_t len);	/* zeroed; fatal when out of memory */
void xfree(void *p);
#ifdef VSOCKBOX_MALLOC
size_t xmalloc_live(void);	/* blocks not freed yet (checked builds) */
#endif

/* ---- pattern.c: data the protocol defines ---- */
/* Warm-up packet i: "DAVID" + i as three digits, repeated to len bytes. */
void warmup_packet(unsigned i, unsigned char *buf, size_t len);
/* Index of the first byte that is not `value`, or len. */
size_t find_not_byte(const unsigned char *buf, size_t len, unsigned char value);

/* ---- chain.c: the control connection and the stage-to-stage chain ---- */
#define CTL_FD_ENV "VSOCK_CTL_FD"
/* The control connection: inherited through $VSOCK_CTL_FD, else a new one
 * from port 8501. */
void ctl_open(struct conn *ctl, const struct settings *s);
/* Refuses a bad $VSOCK_CTL_FD before any connection is opened. */
void ctl_check(void);
void send_magics(struct conn *ctl, const unsigned char *magic, size_t n);
/* --chain: wait for "done" from the previous stage on stdin. */
void chain_wait(void);
/* --chain: tell the next stage on stdout. */
void chain_done(void);

/* ---- guest.c: the steps every guest data applet takes ---- */
struct progress;
/* The throughput applets' options, with their own default count. */
void guest_data_options(struct settings *s, int argc, char **argv,
			const char *usage, uint64_t default_count);
/* Control connection, --chain wait, then the magic numbers. */
void guest_announce(struct conn *ctl, const struct settings *s,
		    const unsigned char *magic, size_t n);
/* Closes the control connection; with --chain, tells the next stage. */
void guest_finish(struct conn *ctl, const struct settings *s);
/* Per iteration: read size bytes, then write them back. 0 or an error;
 * *failed_op says which half failed. */
int guest_unidir(int fd, uint64_t size, uint64_t count, void *buf,
		 size_t buf_len, struct progress *p, const char **failed_op);

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

/* ---- clock and progress ---- */
uint64_t now_ns(void);
struct progress {
	bool on;
	const char *what;
	uint64_t total;
};
void progress_start(struct progress *p, const char *what, uint64_t total);
void progress_step(struct progress *p, uint64_t done);
void progress_end(struct progress *p);

/* ---- threads ---- */
/* Starts a thread with a small stack; fatal on failure. */
void xthread_start(pthread_t *t, void *(*fn)(void *), void *arg);
void xthread_join(pthread_t t);

#endif
