// SPDX-License-Identifier: MIT
/* SIGINT/SIGTERM end a run at once, with one line and status 128 + N, as a
 * shell reports a killed command; SIGPIPE never kills (EPIPE instead). */
#include "vsockbox.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* Only async-signal-safe calls here. */
static void interrupted(int sig)
{
	const char *name = applet_name();
	const char *what = sig == SIGINT ? ": interrupted (SIGINT)\n"
					 : ": terminated (SIGTERM)\n";
	char line[128];
	size_t n = strlen(name), w = strlen(what);

	/* One write: the stages of a pipeline share stderr, and a ^C
	 * reaches them all at once. */
	if (n > sizeof(line) - w)
		n = sizeof(line) - w;
	memcpy(line, name, n);
	memcpy(line + n, what, w);
	ssize_t ignored = write(STDERR_FILENO, line, n + w);
	(void)ignored;
	_exit(128 + sig);
}

void set_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = interrupted;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
