/* SPDX-License-Identifier: MIT */
/* The vsock test protocol (doc/PROTOCOL.md says what they mean): every port, magic number,
 * size and count lives here and nowhere else, and so do the tables that
 * follow from them (the benchmark's connections and tests, the integration
 * test's checks), for the applets and the test peers alike. */
#ifndef VSOCKBOX_PROTOCOL_H
#define VSOCKBOX_PROTOCOL_H

#include <stdbool.h>
#include <stdint.h>

enum {
	CID_LOCAL = 1,		/* VMADDR_CID_LOCAL: loopback inside one kernel */
	CID_HOST = 2,		/* VMADDR_CID_HOST */
};

/* Integration test. */
enum {
	ITEST_HOST_PORT = 8000,
	ITEST_GUEST_PORT = 8001,	/* servers on 8001, 8002, 8003 */
	ITEST_SERVERS = 3,
	ITEST_GUEST_LOCAL_PORT = 49152,	/* guest-initiated connection's source */
	ITEST_SERVER_BACKLOG = 1,
	ITEST_BYTE = 42,
	ITEST_EXCHANGE_BYTES = 240000,	/* the original writes 4 x 60000 */
	ITEST_WRITE_BLOCK = 60000,	/* guest block while the host terminates */
	ITEST_HOST_READ_BYTES = 10,	/* host-terminated: host reads this, closes */
	ITEST_HOST_WRITE_BLOCK = 1000,	/* guest-terminated: host block size */
};

/* The integration test's checks, one row each, in the order both sides
 * run them: X(function, name, server). Each side runs a row by its own
 * function of that name; server is the guest's server (at
 * ITEST_GUEST_PORT + server) the check uses, -1: the guest-initiated
 * connection to the host. */
#define ITEST_CHECKS(X)							\
	X(guest_initiated, "guest-initiated", -1)			\
	X(host_initiated, "host-initiated", 0)				\
	X(host_terminated, "host-terminated", 1)			\
	X(guest_terminated, "guest-terminated", 2)

struct itest_check {
	const char *name;
	int server;
};
#define ITEST_CHECK_ONE(fn, name, server) + 1
enum { ITEST_CHECKS_N = 0 ITEST_CHECKS(ITEST_CHECK_ONE) };
#undef ITEST_CHECK_ONE
/* A side's table: each row bound to that side's function of its name. */
#define ITEST_CHECK_ROW(fn, name, server) {{name, server}, fn},

/* Micro benchmark. */
enum {
	PERF_HOST_PORT = 8500,
	PERF_CTL_PORT = 8501,
	PERF_ECHO_PORT = 8502,
	PERF_UNIDIR_PORT = 8503,
	PERF_MULTI_PORT = 8504,		/* 8504..8508 */
	PERF_BIDIR_PORT = 8509,
	PERF_MULTI_STREAMS = 5,

	MAGIC_UNIDIR = 123,
	MAGIC_MULTI = 124,		/* 124..128, stream i sends 124 + i */
	MAGIC_BIDIR = 129,

	PERF_ECHO_PACKET = 4096,
	PERF_WARMUP_PACKETS = 100,
	PERF_LATENCY_PACKETS = 10000,
	PERF_LATENCY_BYTE = 42,
	PERF_ECHO_DEADLINE_MS = 100,	/* each whole echo, warm-ups included */
	PERF_MAGIC_DEADLINE_MS = 5000,
	PERF_CONNECT_DEADLINE_MS = 15000,

	PERF_UNIDIR_COUNT = 100,
	PERF_BIDIR_COUNT = 100,
	PERF_MULTI_COUNT = 50,
};

#define PERF_DEFAULT_SIZE ((uint64_t)128 << 20)	/* bytes per iteration */

/* Warm-up packet i: "DAVID" and i in three decimal digits, repeated. */
#define WARMUP_TAG "DAVID"
enum { WARMUP_UNIT = 8 };

/* The stream preamble, beyond the original and opt-in: a hybrid vsock
 * host (Firecracker, cloud-hypervisor, vhost-device-vsock) cannot see a
 * guest's source port, so each guest connection first names its stream:
 * the tag, the guest port it would come from (u32) and the run's token
 * (u64, not 0), both big-endian, 16 bytes in all. The host reads every
 * connection's preamble at once, within its wait for the connections. */
#define PREAMBLE_TAG "VSBP"
enum { PREAMBLE_TAG_LEN = 4, PREAMBLE_BYTES = 16 };

/* Connections as bits: n slots from the first. */
#define PERF_SLOT_BITS(first, n) (((1u << (n)) - 1) << (first))

/* vsock-conform: our own protocol, beyond the Fuchsia one (doc/PROTOCOL.md
 * says it in words). Each case
 * runs over a control connection of its own to CONFORM_CTL_PORT on the
 * transport under test; its data connections go to ports the listening
 * side picks and names (CONFORM_READY). A message is three 32-bit words in
 * network order, tag, value and the length of a text that follows (at most
 * SIDE_TEXT_MAX bytes: common/sidechannel.c). The connecting side opens with CONFORM_CASE
 * (value: the case's number in the run, plus the run's count << 12; text:
 * the case's name; flag CONFORM_CASE_NOT_RUN: it does not apply here,
 * CONFORM_FINAL follows at once), then CONFORM_SYNC with the case's seed
 * (of its random sizes and data); the listening side ends its part with
 * CONFORM_RESULT
 * (value: its verdict; text: why), the connecting side the case with
 * CONFORM_FINAL (the case's verdict and why). CONFORM_ABORT: the
 * connecting side gave up on the case; CONFORM_END, alone on its
 * connection: the run is over. A hybrid host (a Unix socket behind the
 * VMM) has no port to pick: it listens for case number i (in the table's
 * order, from 0) at PATH_(CONFORM_UNIX_DATA_PORT + i) and names that. */
enum {
	CONFORM_CTL_PORT = 8600,
	CONFORM_UNIX_DATA_PORT = 8601,
	SIDE_TEXT_MAX = 1024,
	CONFORM_CASE = 0x56434301,	/* "VCC" 1 */
	CONFORM_READY,			/* value: the data port */
	CONFORM_SYNC,			/* a step of the case; value its own */
	CONFORM_RESULT,
	CONFORM_FINAL,
	CONFORM_ABORT,
	CONFORM_END,
	CONFORM_CASE_NOT_RUN = 1 << 24,
	/* Verdicts, in CONFORM_RESULT and CONFORM_FINAL. */
	CONFORM_OK = 0, CONFORM_FAILED = 1, CONFORM_SKIPPED = 2,
	CONFORM_ABORTED = 3,		/* cut short by the other side */
};

/* vsock-lifecycle: our own, beyond the Fuchsia one. The guest side opens
 * a control connection to LIFECYCLE_CTL_PORT before each event and a new
 * one after it, each starting with LIFECYCLE_HELLO (value: the guest's
 * CID as its ioctl says, VSOCK_CID_ANY where it has none). Before the
 * event each case's connection goes to its port, in the table's order:
 * LIFECYCLE_HOST_PORT or LIFECYCLE_GUEST_PORT (by who listens) plus
 * round * LIFECYCLE_ROUND_PORTS plus the case's index, a new range for
 * each event, so that no port of an event that was reset is rebound;
 * then each side sends LIFECYCLE_ARMED. After the event, on the new
 * control connection, the host sends LIFECYCLE_CLOCK (value: microseconds
 * since it heard of the event's end), then each side sends
 * LIFECYCLE_RESULT per case, in order (value: its verdict, as
 * CONFORM_OK, CONFORM_FAILED, CONFORM_SKIPPED; text: why, and the
 * delays measured). */
enum {
	LIFECYCLE_CTL_PORT = 8700,
	LIFECYCLE_HOST_PORT = 8710,
	LIFECYCLE_GUEST_PORT = 8850,
	LIFECYCLE_ROUND_PORTS = 32,
	LIFECYCLE_HELLO = 0x56434c01,	/* "VCL" 1 */
	LIFECYCLE_ARMED,
	LIFECYCLE_RESULT,
	LIFECYCLE_CLOCK,
};

/* Our defaults beyond the protocol, shared by both ends of a test: bytes
 * per read or write call, the best of a side-by-side sweep over TCP
 * loopback (bench/RESULTS.md) within 2 MiB of RSS per applet. */
enum { UNIDIR_IO_SIZE = 1 << 20, BIDIR_IO_SIZE = 512 << 10,
       MULTI_IO_SIZE = 128 << 10 };
/* The vsock socket buffer (SO_VM_SOCKETS_BUFFER_SIZE) unless told: the
 * best of make bench-vm on every kernel measured (bench/RESULTS-VM.md);
 * the kernel's own is 256 KiB. It changes nothing on the wire. */
enum { VSOCK_BUFFER_SIZE = 4 << 20 };

/* The benchmark's tests, one row each, in the host's run order:
 * X(ID, name, port, streams, fields of struct perf_test). ID names its
 * constants (TEST_ID is its bit, SLOT_ID its first connection); name is
 * its word on --tests and the suffix of the function that runs it
 * (vsock-perf's run_name); port is the guest port of its first data
 * connection, and its streams take port..port+streams-1. .guest is the
 * applet that plays it (vsock-bench runs them in this order).
 * Everything else about the tests (bits, slots, --tests names, help,
 * plans, reports, JSON keys, vsock-bench's stages, the test peers' lists:
 * `vsockbox --list-perf-tests`) is derived from these rows. */
#define PERF_TESTS(X)							\
	X(LATENCY, latency, PERF_ECHO_PORT, 1,				\
	  .label = "latency", .guest = "vsock-echo", .echo = true,	\
	  .count = PERF_LATENCY_PACKETS, .io_size = PERF_ECHO_PACKET,	\
	  .results = {{"round_trip_page", "round trip, 4096 B"}})	\
	X(BIDIR, bidir, PERF_BIDIR_PORT, 1,				\
	  .label = "bidirectional", .guest = "vsock-bidir",		\
	  .magic = MAGIC_BIDIR, .magics = 1,				\
	  .count = PERF_BIDIR_COUNT, .io_size = BIDIR_IO_SIZE,		\
	  .results = {{"tx_throughput", "bidirectional tx"},		\
		      {"rx_throughput", "bidirectional rx"}})		\
	X(UNIDIR, unidir, PERF_UNIDIR_PORT, 1,				\
	  .label = "unidirectional", .guest = "vsock-unidir",		\
	  .magic = MAGIC_UNIDIR, .magics = 1,				\
	  .count = PERF_UNIDIR_COUNT, .io_size = UNIDIR_IO_SIZE,	\
	  .results = {{"single_stream_unidirectional", "unidirectional"}}) \
	X(MULTI, multi, PERF_MULTI_PORT, PERF_MULTI_STREAMS,		\
	  .label = "multi stream", .guest = "vsock-multi",		\
	  .magic = MAGIC_MULTI, .magics = PERF_MULTI_STREAMS,		\
	  .count = PERF_MULTI_COUNT, .io_size = MULTI_IO_SIZE,		\
	  .results = {{"multi_stream_unidirectional",			\
		       "multi stream (5 streams)"}})

/* The connections (slots), one per guest port from PERF_CTL_PORT on (the
 * original guest opens them in that order): the control connection,
 * then each test's streams at its ports. */
#define PERF_TEST_SLOT(id, name, port, streams, ...)			\
	SLOT_##id = (port) - PERF_CTL_PORT,
#define PERF_TEST_STREAMS(id, name, port, streams, ...) + (streams)
enum {
	SLOT_CTL,
	PERF_TESTS(PERF_TEST_SLOT)
	PERF_SLOTS = 1 PERF_TESTS(PERF_TEST_STREAMS),
	SLOT_ECHO = SLOT_LATENCY,	/* the timed echoes' connection */
};
#undef PERF_TEST_SLOT
#undef PERF_TEST_STREAMS
/* The rows' ports are PERF_CTL_PORT + 1.. with no gap and no overlap: a
 * new test takes the port after the last. */
#define PERF_TEST_SLOT_BITS(id, name, port, streams, ...)		\
	| PERF_SLOT_BITS(SLOT_##id, streams)
_Static_assert((1u PERF_TESTS(PERF_TEST_SLOT_BITS)) == (1u << PERF_SLOTS) - 1,
	       "PERF_TESTS: the ports of the tests' streams must follow "
	       "PERF_CTL_PORT one by one, each once");
#undef PERF_TEST_SLOT_BITS

static inline uint32_t perf_slot_port(int slot)
{
	return (uint32_t)(PERF_CTL_PORT + slot);
}

/* The slot of a guest source port, or -1. */
static inline int perf_port_slot(uint32_t port)
{
	return port >= PERF_CTL_PORT && port < PERF_CTL_PORT + PERF_SLOTS
		       ? (int)(port - PERF_CTL_PORT) : -1;
}

enum { PERF_RESULTS_MAX = 2 };

/* One result of a test: its JSON key (the original host's) and its row
 * in the table. */
struct perf_result {
	const char *key, *label;
};

struct perf_test {
	const char *name;	/* on --tests */
	unsigned bit;		/* TEST_ID: bits follow the run order */
	const char *label;	/* in messages, progress and help */
	const char *guest;	/* the guest applet that plays it */
	uint32_t port;		/* its first stream's guest port */
	unsigned streams;	/* its data connections, from port on */
	unsigned magic, magics;	/* magic..magic+magics-1 on the control
				 * connection, before the test; 0: none */
	unsigned slots;		/* the data connections it uses, as bits */
	uint32_t count;		/* default iterations (round trips) */
	uint32_t io_size;	/* default bytes per read or write call */
	bool echo;		/* timed echoes: nanoseconds, --latency-count */
	struct perf_result results[PERF_RESULTS_MAX];	/* key NULL: none */
};

#define PERF_TEST_INDEX(id, ...) PERF_TEST_##id,
enum { PERF_TESTS(PERF_TEST_INDEX) PERF_TESTS_N };
#undef PERF_TEST_INDEX

#define PERF_TEST_BIT(id, ...) TEST_##id = 1u << PERF_TEST_##id,
enum { PERF_TESTS(PERF_TEST_BIT) TEST_ALL = (1u << PERF_TESTS_N) - 1 };
#undef PERF_TEST_BIT

#define PERF_TEST_ROW(id, nm, first, n, ...)				\
	[PERF_TEST_##id] = {.name = #nm, .bit = TEST_##id, .port = (first), \
			    .streams = (n), .slots = PERF_SLOT_BITS(SLOT_##id, n), \
			    __VA_ARGS__},
/* Defined once, in protocol.c: a static table here was one copy in each
 * file that walks it. */
extern const struct perf_test perf_tests[PERF_TESTS_N];

/* Their names on a command line (--tests), as struct opt_name entries,
 * and as text: "latency,bidir,unidir,multi,all". */
#define PERF_TEST_NAME(id, name, ...) {#name, TEST_##id},
#define TEST_NAMES PERF_TESTS(PERF_TEST_NAME) {"all", TEST_ALL}
#define PERF_TEST_WORD(id, name, ...) #name ","
#define TEST_NAMES_TEXT PERF_TESTS(PERF_TEST_WORD) "all"

/* The tests a slot's connection serves: the control connection carries
 * the magic numbers of every test that has them. */
static inline unsigned perf_slot_tests(int slot)
{
	unsigned tests = 0;

	for (int i = 0; i < PERF_TESTS_N; i++)
		if (perf_tests[i].slots & 1u << slot ||
		    (slot == SLOT_CTL && perf_tests[i].magics))
			tests |= perf_tests[i].bit;
	return tests;
}

#endif
