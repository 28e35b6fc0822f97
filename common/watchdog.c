/* A watchdog for one connection: it ends a step that overruns its
 * deadline by shutting the socket down, so that the connection's calls
 * need no kernel time-out. A kernel time-out (SO_RCVTIMEO) costs a timer
 * armed and cancelled every time a call sleeps, twice per echo round trip
 * on each side: 3% of a loopback echo. Here the data path only stores
 * the deadline (io.c does, before each call), and a thread that wakes
 * every WATCH_MS compares it with the clock: a step ends at most that
 * much after its deadline. */
#include "vsockbox.h"

#include <errno.h>
#include <string.h>
#include <time.h>

enum { WATCH_MS = 5 };

static void *watch(void *arg)
{
	struct watchdog *w = arg;
	struct timespec next;

	pthread_mutex_lock(&w->lock);
	while (!w->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &next);
		next.tv_nsec += WATCH_MS * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		/* Woken early only to stop. */
		int err;
		do
			err = pthread_cond_timedwait(&w->wake, &w->lock, &next);
		while (err == 0 && !w->stopping);
		/* The clock first: a deadline still set after it was read
		 * belongs to a step that was under way at that time. */
		uint64_t now = now_ns();
		atomic_thread_fence(memory_order_seq_cst);
		uint64_t at = atomic_load(&w->deadline_ns);
		if (!w->stopping && at && now > at &&
		    !atomic_exchange(&w->fired, true))
			(void)shutdown(w->conn->fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

void watchdog_start(struct watchdog *w, struct conn *c)
{
	pthread_condattr_t attr;

	memset(w, 0, sizeof(*w));
	w->conn = c;
	atomic_init(&w->deadline_ns, 0);
	atomic_init(&w->fired, false);
	if (pthread_mutex_init(&w->lock, NULL) ||
	    pthread_condattr_init(&attr) ||
	    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) ||
	    pthread_cond_init(&w->wake, &attr))
		die(EXIT_ENV, "watchdog: %s", strerror(errno ? errno : EINVAL));
	pthread_condattr_destroy(&attr);
	c->watchdog = w;
	xthread_start(&w->thread, watch, w);
}

void watchdog_stop(struct watchdog *w)
{
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	xthread_join(w->thread);
	w->conn->watchdog = NULL;
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
}
