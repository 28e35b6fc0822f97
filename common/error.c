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

/* Formats the whole line first, and writes it at once, so that threads
 * and the stages of a pipeline never interleave halves. */
static void vmessage(const char *fmt, va_list ap)
{
	char line[512];
	size_t n = format(line, sizeof(line), "%s: ", current_applet);
	if (n < sizeof(line))
		n += format_v(line + n, sizeof(line) - n, fmt, ap);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)fd_write_all(STDERR_FILENO, line, n);
}

void warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

_Noreturn void die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	exit(code);
}

const char *io_error_text(int err)
{
	if (err == ERR_EOF)
		return "peer closed the connection";
	if (err == ERR_DATA)
		return "peer sent data where the protocol allows none";
	if (err == ETIMEDOUT)
		return "timed out";
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
	case ERR_EOF: case ERR_DATA: case ECONNRESET: case EPIPE:
	case ECONNABORTED: case ERR_HANDSHAKE:
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

_Noreturn void die_io(const struct conn *c, int err, const char *fmt, ...)
{
	char op[128], why[384];
	va_list ap;
	va_start(ap, fmt);
	format_v(op, sizeof(op), fmt, ap);
	va_end(ap);
	format_io_failure(why, sizeof(why), op, c, err);
	die(io_exit_code(err), "%s", why);
}

void announce_listening(const struct address *a)
{
	char text[ADDRESS_TEXT_MAX];
	format_address(a, text, sizeof(text));
	warn("listening on %s", text);
}
