/* Progress lines and threads. */
#include "vsockbox.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

/* Progress only when a person watches: stderr is a terminal. */
void progress_start(struct progress *p, const char *what, uint64_t total)
{
	p->on = isatty(STDERR_FILENO);
	p->what = what;
	p->total = total;
	progress_step(p, 0);
}

void progress_step(struct progress *p, uint64_t done)
{
	if (p->on)
		err_out("\r%s: %s %llu/%llu ", applet_name(), p->what,
			(unsigned long long)done, (unsigned long long)p->total);
}

void progress_end(struct progress *p)
{
	if (p->on)
		err_out("\r%*s\r", 60, "");
}

enum { THREAD_STACK = 256 << 10 };

void xthread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int err = pthread_attr_init(&attr);

	if (err)
		die(EXIT_ENV, "pthread_attr_init: %s", strerror(err));
	err = pthread_attr_setstacksize(&attr, THREAD_STACK);
	if (!err)
		err = pthread_create(t, &attr, fn, arg);
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
