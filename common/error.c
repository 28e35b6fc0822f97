/* One-line errors: "APPLET: what failed: why". */
#include "vsockbox.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The process's only global: written once by the dispatcher before any
 * thread starts, read by every message afterwards. */
static const char *current_applet = "vsockbox";

void set_applet_name(const char *name)
{
	current_applet = name;
}

const char *applet_name(void)
{
	return current_applet;
}

/* Formats the whole line first so that threads never interleave halves. */
static void vmessage(const char *fmt, va_list ap, const char *suffix)
{
	char line[512];
	size_t n = format(line, sizeof(line), "%s: ", current_applet);
	if (n < sizeof(line))
		format_v(line + n, sizeof(line) - n, fmt, ap);
	err_out("%s%s%s\n", line, suffix ? ": " : "", suffix ? suffix : "");
}

void warn_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap, NULL);
	va_end(ap);
}

_Noreturn void die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap, NULL);
	va_end(ap);
	exit(code);
}

_Noreturn void die_errno(int code, const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap, strerror(err));
	va_end(ap);
	exit(code);
}

_Noreturn void usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap, NULL);
	va_end(ap);
	exit(EXIT_USAGE);
}
