/* A watchdog for one connection: it ends a step that overruns its
 * deadline by shutting the socket down, so that the connection's calls
 * need no kernel time-out. A kernel time-out (SO_RCVTIMEO) costs a timer
 * armed and cancelled every time a call sleeps, twice per echo round trip
 * on each side: 3% of a loopback echo. Here the data path only stores
 * the deadline (io.c does, before each call), and a thread compares it
 * with the clock, a quarter of the step's time apart (between WATCH_MIN_MS
 * and WATCH_MAX_MS): a step ends at most that much after its deadline,
 * 25 ms for the protocol's 100 ms echo, and the thread seldom wakes. */
#include "vsockbox.h"

#include <time.h>

enum { WATCH_MIN_MS = 2, WATCH_MAX_MS = 100, WATCH_IDLE_MS = 10 };

/* How long to sleep before the next look: a quarter of what the step
 * under way has left; between steps, briefly (the next may be short). */
static struct timespec next_look(uint64_t at, uint64_t now)
{
	uint64_t ms = WATCH_IDLE_MS;
	if (at > now) {
		ms = (at - now) / 4000000u;
		if (ms < WATCH_MIN_MS)
			ms = WATCH_MIN_MS;
		if (ms > WATCH_MAX_MS)
			ms = WATCH_MAX_MS;
	}
	return (struct timespec){(time_t)(ms / 1000),
				 (long)(ms % 1000) * 1000000L};
}

static void *watch(void *arg)
{
	struct watchdog *w = arg;
	struct timespec tick = {0, WATCH_MIN_MS * 1000000L};

	/* A plain sleep: a condition variable would let watchdog_stop end it
	 * at once, but links 4 KiB of the C library into a static binary
	 * for at most one look at the end of a test. */
	while (!atomic_load(&w->stopping)) {
		nanosleep(&tick, NULL);
		/* The clock first: a deadline still set after it was read
		 * belongs to a step that was under way at that time. */
		uint64_t now = now_ns();
		atomic_thread_fence(memory_order_seq_cst);
		uint64_t at = atomic_load(&w->deadline_ns);
		if (!atomic_load(&w->stopping) && at && now > at &&
		    !atomic_exchange(&w->fired, true))
			(void)shutdown(w->conn->fd, SHUT_RDWR);
		tick = next_look(at, now);
	}
	return NULL;
}

void watchdog_start(struct watchdog *w, struct conn *c)
{
	w->conn = c;
	atomic_init(&w->deadline_ns, 0);
	atomic_init(&w->fired, false);
	atomic_init(&w->stopping, false);
	c->watchdog = w;
	xthread_start(&w->thread, watch, w);
}

void watchdog_stop(struct watchdog *w)
{
	atomic_store(&w->stopping, true);
	xthread_join(w->thread);
	w->conn->watchdog = NULL;
}
