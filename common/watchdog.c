/* A watchdog for one connection: it ends a step that overruns its
 * deadline by shutting the socket down, so that the connection's calls
 * need no kernel time-out. A kernel time-out (SO_RCVTIMEO) costs a timer
 * armed and cancelled every time a call sleeps, twice per echo round trip
 * on each side: 3% of a loopback echo. Here the data path only stores
 * the deadline (io.c does, before each call), and a thread that wakes
 * every WATCH_MS compares it with the clock: a step ends at most that
 * much after its deadline. */
#include "vsockbox.h"

#include <time.h>

enum { WATCH_MS = 5 };

static void *watch(void *arg)
{
	struct watchdog *w = arg;
	const struct timespec tick = {0, WATCH_MS * 1000000L};

	/* A plain sleep: a condition variable would let watchdog_stop end it
	 * at once, but links 4 KiB of the C library into a static binary
	 * for at most WATCH_MS at the end of a test. */
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
