/* Progress lines, only when a person watches: stderr is a terminal. */
#include "vsockbox.h"

#include <unistd.h>

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
		print_to(STDERR_FILENO, "\r%s: %s %llu/%llu ", applet_name(), p->what,
			(unsigned long long)done, (unsigned long long)p->total);
}

void progress_end(struct progress *p)
{
	if (p->on)
		print_to(STDERR_FILENO, "\r%*s\r", 60, "");
}
