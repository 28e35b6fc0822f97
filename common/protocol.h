/* The vsock test protocol (../shared/PROTOCOL.md): every port, magic number,
 * size and count lives here and nowhere else, and so do the tables that
 * follow from them (the benchmark's connections and the tests they serve),
 * for the applets and the test peers alike. */
#ifndef VSOCKBOX_PROTOCOL_H
#define VSOCKBOX_PROTOCOL_H

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

/* Micro benchmark. */
enum {
	PERF_HOST_PORT = 8500,
	PERF_CTL_PORT = 8501,
	PERF_ECHO_PORT = 8502,
	PERF_UNIDIR_PORT = 8503,
	PERF_MULTI_PORT = 8504,		/* 8504..8508 */
	PERF_BIDIR_PORT = 8509,
	PERF_MULTI_STREAMS = 5,
	PERF_CONNECTIONS = 9,

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

/* The benchmark's tests, as bits in the host's run order. */
enum { TEST_LATENCY = 1, TEST_BIDIR = 2, TEST_UNIDIR = 4, TEST_MULTI = 8,
       TEST_ALL = 15 };
/* Their names on a command line (--tests), as struct opt_name entries. */
#define TEST_NAMES							\
	{"latency", TEST_LATENCY}, {"bidir", TEST_BIDIR},		\
	{"unidir", TEST_UNIDIR}, {"multi", TEST_MULTI}, {"all", TEST_ALL}

/* The nine connections (slots), in the order of their guest ports, which
 * is the order the original guest opens them: 8501..8509. */
enum {
	SLOT_CTL, SLOT_ECHO, SLOT_UNIDIR, SLOT_MULTI,
	SLOT_BIDIR = SLOT_MULTI + PERF_MULTI_STREAMS,
	PERF_SLOTS,
};

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

/* The tests a slot's connection serves: the control connection carries
 * the magic numbers of every throughput test. */
static inline unsigned perf_slot_tests(int slot)
{
	if (slot == SLOT_CTL)
		return TEST_BIDIR | TEST_UNIDIR | TEST_MULTI;
	if (slot == SLOT_ECHO)
		return TEST_LATENCY;
	if (slot == SLOT_UNIDIR)
		return TEST_UNIDIR;
	if (slot == SLOT_BIDIR)
		return TEST_BIDIR;
	return TEST_MULTI;
}

/* Our defaults beyond the protocol, shared by both ends of a test: bytes
 * per read or write call, the best of a side-by-side sweep over TCP
 * loopback (bench/RESULTS.md) within 2 MiB of RSS per applet. */
enum { UNIDIR_IO_SIZE = 1 << 20, BIDIR_IO_SIZE = 512 << 10,
       MULTI_IO_SIZE = 128 << 10 };

#endif
