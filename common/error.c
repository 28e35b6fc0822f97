// SPDX-License-Identifier: MIT
/* Messages: one line each, "APPLET: what failed: why", written whole; and
 * the exit class of every failure. */
#include "vsockbox.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The applet's last word before a fatal error ends the process: set by
 * the applet that owns it (vsock-perf's report), run once. */
static fatal_hook_fn *fatal_hook;
static void *fatal_arg;
static atomic_flag fatal_ran = ATOMIC_FLAG_INIT;

void set_fatal_hook(fatal_hook_fn *fn, void *arg)
{
	fatal_arg = arg;
	fatal_hook = fn;
}

enum { LINE_MAX_BYTES = 512 };

/* Formats the whole line first, and writes it at once, so that threads
 * and the stages of a pipeline never interleave halves. Returns the text
 * after the applet's name, in line. */
static const char *vmessage(const char *fmt, va_list ap,
			    char line[LINE_MAX_BYTES])
{
	size_t n = format(line, LINE_MAX_BYTES, "%s: ", current_applet);
	size_t start = n < LINE_MAX_BYTES ? n : LINE_MAX_BYTES - 1;
	if (n < LINE_MAX_BYTES)
		n += format_v(line + n, LINE_MAX_BYTES - n, fmt, ap);
	if (n > LINE_MAX_BYTES - 2)
		n = LINE_MAX_BYTES - 2;
	line[n++] = '\n';
	(void)fd_write_all(STDERR_FILENO, line, n);
	line[n - 1] = '\0';
	return line + start;
}

void warn(const char *fmt, ...)
{
	char line[LINE_MAX_BYTES];
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap, line);
	va_end(ap);
}

_Noreturn void die(int code, const char *fmt, ...)
{
	char line[LINE_MAX_BYTES];
	va_list ap;
	va_start(ap, fmt);
	const char *text = vmessage(fmt, ap, line);
	va_end(ap);
	if (fatal_hook && !atomic_flag_test_and_set(&fatal_ran))
		fatal_hook(fatal_arg, code, text);
	exit(code);
}

const char *io_error_text(int err)
{
	if (err == ERR_EOF)
		return "peer closed the connection";
	if (err == ERR_DATA)
		return "peer sent data where the protocol allows none";
	if (ENABLE_FEATURE_VERIFY && err == ERR_PATTERN)
		return "data differs from the --verify pattern";
	if (err == ETIMEDOUT)
		return "timed out";
	if (!ENABLE_FEATURE_HYBRID)	/* no VMM to answer CONNECT */
		return strerror(err);
	if (err == ERR_HANDSHAKE)
		return "the VMM's answer to CONNECT is not 'OK <port>'";
	if (err == ERR_NOT_ACCEPTED)
		return "timed out: the VMM closed every CONNECT before its OK "
		       "(the guest not up, or nothing listens on that port: a "
		       "hybrid vsock host may not reset such connections)";
	if (err == ERR_NO_ANSWER)
		return "timed out waiting for the VMM's OK to CONNECT";
	return strerror(err);
}

const char *errno_name(int err, char *buf, size_t len)
{
	static const struct {
		int value;
		const char *name;
	} names[] = {
#define E(x) {x, #x}
		E(EPERM), E(ENOENT), E(EINTR), E(EIO), E(EBADF), E(EAGAIN),
		E(ENOMEM), E(EACCES), E(EFAULT), E(EBUSY), E(EINVAL),
		E(EMFILE), E(ENOTTY), E(EPIPE), E(ERANGE), E(ENODEV),
		E(ENOSYS), E(ENOTSOCK), E(EDESTADDRREQ), E(EMSGSIZE),
		E(EPROTOTYPE), E(ENOPROTOOPT), E(EPROTONOSUPPORT),
		E(ESOCKTNOSUPPORT), E(EOPNOTSUPP), E(EAFNOSUPPORT),
		E(EADDRINUSE), E(EADDRNOTAVAIL), E(ENETDOWN), E(ENETUNREACH),
		E(ECONNABORTED), E(ECONNRESET), E(ENOBUFS), E(EISCONN),
		E(ENOTCONN), E(ETIMEDOUT), E(ECONNREFUSED), E(EHOSTUNREACH),
		E(EALREADY), E(EINPROGRESS), E(ECANCELED),
#undef E
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].value == err)
			return names[i].name;
	format(buf, len, "errno %d", err);
	return buf;
}

int io_exit_code(int err)
{
	switch (err) {
	case ERR_EOF: case ERR_DATA: case ERR_PATTERN: case ECONNRESET:
	case EPIPE: case ECONNABORTED: case ERR_HANDSHAKE:
		return EXIT_FAIL;
	default:
		return EXIT_ENV;
	}
}

void format_io_failure(char *buf, size_t len, const char *op,
		       const struct conn *c, int err)
{
	format(buf, len, "%s %s: %s", op, c->name, io_error_text(err));
}


void announce_listening(const struct address *a)
{
	char text[ADDRESS_TEXT_MAX];
	format_address(a, text, sizeof(text));
	warn("listening on %s", text);
}

/* A failed transfer; with --verify a difference is the pattern's own
 * line, which names the test. */
_Noreturn void die_stream(const struct conn *c, int err,
			  const struct pattern *v, const char *fmt, ...)
{
	char op[128], why[384];
	va_list ap;
	va_start(ap, fmt);
	format_v(op, sizeof(op), fmt, ap);
	va_end(ap);
	if (ENABLE_FEATURE_VERIFY && err == ERR_PATTERN && v)
		pattern_describe(v, why, sizeof(why));
	else
		format_io_failure(why, sizeof(why), op, c, err);
	die(io_exit_code(err), "%s", why);
}
