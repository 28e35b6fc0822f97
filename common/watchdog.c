// SPDX-License-Identifier: MIT
/* A watchdog for one connection's steps, without a kernel time-out on
 * each call and without a thread.
 *
 * A kernel time-out (SO_RCVTIMEO) arms and cancels a timer every time a
 * call sleeps, twice per echo round trip on each side; a watchdog thread
 * avoids that, but a second thread, even one that only sleeps, makes
 * every context switch of the process dearer (bench/EARLIER.md measured
 * both).
 *
 * So an interval timer (ITIMER_REAL) interrupts whatever call is blocked,
 * every eighth of the step's bound (between WATCH_MIN_MS and
 * WATCH_MAX_MS); the handler does nothing and is installed without
 * SA_RESTART, so the call returns EINTR or a short count, and the
 * transfer loop (io.c) then compares the clock with the step's deadline.
 * A step ends at most one interval after its deadline: 12 ms for the
 * protocol's 100 ms echo, whose round trips the interruptions touch 80
 * times a second. The data path itself reads no clock and makes
 * no extra call. SIGALRM reaches the main thread only (xthread_start's
 * threads block it), so a watched connection must be used there. */
#include "vsockbox.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>

enum { WATCH_MIN_MS = 2, WATCH_MAX_MS = 100 };

/* Only its interruption counts. */
static void interrupt_call(int sig)
{
	(void)sig;
}

static struct timeval interval(uint64_t bound_ms)
{
	uint64_t ms = bound_ms / 8;

	if (ms < WATCH_MIN_MS)
		ms = WATCH_MIN_MS;
	if (ms > WATCH_MAX_MS)
		ms = WATCH_MAX_MS;
	return (struct timeval){(time_t)(ms / 1000),
				(suseconds_t)(ms % 1000) * 1000};
}

void watchdog_start(struct watchdog *w, struct conn *c, uint64_t bound_ms)
{
	struct sigaction sa;
	struct itimerval timer = {interval(bound_ms), interval(bound_ms)};

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = interrupt_call;	/* no SA_RESTART: calls return */
	if (sigaction(SIGALRM, &sa, &w->old_action) ||
	    setitimer(ITIMER_REAL, &timer, NULL))
		die(EXIT_ENV, "watchdog: %s", strerror(errno));
	w->conn = c;
	c->watchdog = w;
}

/* The timer first: a signal it raised on the way out still finds the
 * handler. */
void watchdog_stop(struct watchdog *w)
{
	struct itimerval off;

	memset(&off, 0, sizeof(off));
	if (setitimer(ITIMER_REAL, &off, NULL) ||
	    sigaction(SIGALRM, &w->old_action, NULL))
		die(EXIT_ENV, "watchdog: %s", strerror(errno));
	w->conn->watchdog = NULL;
}
