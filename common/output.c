// SPDX-License-Identifier: MIT
/* Text on stdout and stderr, each piece in one write(2): stdout is the
 * result, so failing to write it is fatal; stderr is best effort. */
#include "vsockbox.h"

#include <string.h>
#include <unistd.h>

enum { OUTPUT_LINE_MAX = 1024 };

static int print_v(int fd, const char *fmt, va_list ap)
{
	char line[OUTPUT_LINE_MAX];
	size_t n = format_v(line, sizeof(line), fmt, ap);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	return fd_write_all(fd, line, n);
}

void out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int err = print_v(STDOUT_FILENO, fmt, ap);
	va_end(ap);
	if (err)
		die(EXIT_ENV, "write stdout: %s", io_error_text(err));
}

void print_to(int fd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)print_v(fd, fmt, ap);	/* nowhere to report a failure */
	va_end(ap);
}
