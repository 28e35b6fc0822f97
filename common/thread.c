// SPDX-License-Identifier: MIT
/* Threads with a small stack; a failure to start one is fatal. */
#include "vsockbox.h"

#include <signal.h>
#include <string.h>

enum { THREAD_STACK = 256 << 10 };

void xthread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int err = pthread_attr_init(&attr);

	if (err)
		die(EXIT_ENV, "pthread_attr_init: %s", strerror(err));
	err = pthread_attr_setstacksize(&attr, THREAD_STACK);
	/* SIGALRM is the main thread's, for its watchdog (watchdog.c): the
	 * new thread inherits it blocked. */
	sigset_t alarm, mask;
	sigemptyset(&alarm);
	sigaddset(&alarm, SIGALRM);
	if (!err)
		err = pthread_sigmask(SIG_BLOCK, &alarm, &mask);
	if (!err) {
		err = pthread_create(t, &attr, fn, arg);
		(void)pthread_sigmask(SIG_SETMASK, &mask, NULL);
	}
	pthread_attr_destroy(&attr);
	if (err)
		die(EXIT_ENV, "pthread_create: %s", strerror(err));
}

void xthread_join(pthread_t t)
{
	int err = pthread_join(t, NULL);
	if (err)
		die(EXIT_ENV, "pthread_join: %s", strerror(err));
}
