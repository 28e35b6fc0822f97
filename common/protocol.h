/* The vsock test protocol (../shared/PROTOCOL.md): every port, magic number,
 * size and count lives here and nowhere else. */
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
	PERF_ECHO_DEADLINE_MS = 100,	/* each timed echo */
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

#endif
