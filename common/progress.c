// SPDX-License-Identifier: MIT
/* Progress lines, only when a person watches: stderr is a terminal. */
//config:config FEATURE_PROGRESS
//config:	bool "progress on stderr: a running count, vsock-perf --progress"
//config:	default y
//config:	help
//config:	  The throughput and latency loops show their count on stderr when it is a
//config:	  terminal, and vsock-perf --progress writes a line per finished test.
#include "vsockbox.h"

#include <unistd.h>

void progress_start(struct progress *p, const char *what, uint64_t total)
{
	p->on = ENABLE_FEATURE_PROGRESS && isatty(STDERR_FILENO);
	p->what = what;
	p->total = total;
	progress_step(p, 0);
}

void progress_step(struct progress *p, uint64_t done)
{
	if (ENABLE_FEATURE_PROGRESS && p->on)
		print_to(STDERR_FILENO, "\r%s: %s %llu/%llu ", applet_name(), p->what,
			(unsigned long long)done, (unsigned long long)p->total);
}

void progress_end(struct progress *p)
{
	if (ENABLE_FEATURE_PROGRESS && p->on)
		print_to(STDERR_FILENO, "\r%*s\r", 60, "");
}
