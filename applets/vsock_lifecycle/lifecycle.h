/* SPDX-License-Identifier: MIT */
/* vsock-lifecycle: what its main file (the run: events, control
 * connection, KTAP) and cases.c (the table of cases and the behaviour of
 * each end) share. */
#ifndef VSOCK_LIFECYCLE_H
#define VSOCK_LIFECYCLE_H

#include "vsockbox.h"

enum role { ROLE_GUEST, ROLE_HOST };
/* Each end's buffer: the unit of every transfer of the cases. */
enum { CHUNK = 16 << 10 };
/* Who opens a case's connection before the event; BY_NONE: no connection
 * (the case listens, or only looks). */
enum by { BY_NONE, BY_GUEST, BY_HOST };

/* One event of the run, and what it does to the guest's connections. */
struct event {
	const char *name;
	bool resets;		/* a restore or migration: the device resets */
	bool new_cid;		/* the VM comes back with another CID */
	bool host_deadlines;	/* longer than --timeout: the host's step
				 * deadlines fire during it */
};

/* One side's state in one event (a round): what the cases need of it. */
struct round {
	enum role role;
	const struct event *event;
	unsigned index;		/* of the round in the run: its ports */
	uint64_t timeout_s, wake_s, after_s, wait_s;
	struct address self;	/* where this side listens (any, no port) */
	struct address peer;	/* the other side, no port: the host learns
				 * the guest's address from each control */
	uint32_t cid_before, cid_after;	/* the guest's, as it says (HELLO) */
	uint32_t seen_before, seen_after;	/* as the host's accept says */
	uint64_t done_ns;	/* when the harness said the event was over */
	struct socket_setup setup;
};

/* This side's end of one case. */
struct end {
	unsigned index;		/* the case's, in the table */
	struct conn c;
	int lfd;		/* the listening case's socket, else -1 */
	struct address laddr;
	uint32_t tx_seed, rx_seed;	/* of the bytes it sends, receives */
	void *buf;
	size_t buf_len;
	/* A thread that blocks across the event, and what it found. */
	pthread_t thread;
	bool threaded;
	_Atomic bool done, stop;
	int err;		/* its call's result: 0, ERR_EOF, an errno */
	uint64_t woke_ns;	/* when that call returned */
	uint64_t call_ns;	/* when its last call began */
	uint64_t step_s;	/* each call's own deadline, else 0: d */
	_Atomic uint64_t moved;	/* bytes sent or received and checked */
	uint64_t moved_at_event;
	uint64_t bad_at;	/* ERR_PATTERN: the first bad byte's place */
	unsigned char got;	/* the byte a blocked recv got */
	struct deadline d;
	/* Its setup failed before the event: the step and its error. */
	const char *setup_what;
	int setup_err;
};

/* What one end does: arm before the event, judge after it (a verdict:
 * CONFORM_OK, CONFORM_FAILED, CONFORM_SKIPPED; why says why, and what was
 * measured, for the KTAP diagnostics). */
struct behaviour {
	const char *name;
	const char *what;	/* for the diagnostics */
	bool blocks;		/* a call in progress across the event */
	void (*arm)(struct round *r, struct end *e);
	uint32_t (*judge)(struct round *r, struct end *e, char *why,
			  size_t len);
};

struct lifecycle_case {
	const char *name;
	const char *what;
	enum by by;
	const struct behaviour *guest, *host;
};
extern const struct lifecycle_case lifecycle_cases[];
extern const size_t lifecycle_case_count;

/* Ports of case i in round r: where the host and the guest listen. */
uint32_t host_port(const struct round *r, unsigned i);
uint32_t guest_port(const struct round *r, unsigned i);
/* This side's behaviour in case i. */
const struct behaviour *mine(const struct round *r, unsigned i);
/* The verdict of this side's end of a case after the event. */
uint32_t judge_end(struct round *r, struct end *e, char *why, size_t len);
/* A case whose setup failed is that case's not ok, not the run's end: a
 * path that loses one case's state (a hybrid daemon's) must not hide the
 * verdicts of the others. One line on stderr; the end is not armed. */
void setup_failed(struct end *e, const char *what, int err);

#endif
