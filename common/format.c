// SPDX-License-Identifier: MIT
/* A printf subset for the applets' text: %s %c %d %i %u %x with the l, ll and
 * z sizes, the flags '-' and '0', a width and a precision (a number or
 * '*'), %m (strerror(errno)) and %%. The C library's printf drags its
 * floating-point formatter and stdio into a static binary (about 11 KiB
 * with musl); the applets print only text and integers, and write each
 * piece with one write(2). The format attribute on every caller keeps the
 * compiler's argument checks, and the build (scripts/fmtcheck.c) refuses
 * a conversion outside the subset; should one get through, the text says
 * so and nothing after it is formatted (its argument would be misread).
 * This comment is where the subset is defined: scripts/fmtcheck.c,
 * vsockbox.h and doc/BUILD.md refer to it rather than list it again. */
#include "vsockbox.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

struct sink {
	char *buf;
	size_t len, used;	/* used may pass len: that is truncation */
	int saved_errno;	/* for %m, as it was when formatting began */
	bool stopped;		/* an unsupported conversion: no more */
};

static void put(struct sink *s, char c)
{
	if (s->used + 1 < s->len)
		s->buf[s->used] = c;
	s->used++;
}

static void put_padded(struct sink *s, const char *text, size_t n,
		       unsigned width, bool left, char pad)
{
	size_t fill = width > n ? width - n : 0;
	if (!left && pad == '0' && n && (*text == '-')) {
		put(s, *text++);	/* the sign goes before zeros */
		n--;
	}
	if (!left)
		while (fill--)
			put(s, pad);
	for (size_t i = 0; i < n; i++)
		put(s, text[i]);
	if (left)
		while (fill--)
			put(s, ' ');
}

/* Digits of v in base 10 or 16, with a minus sign if negative. */
static size_t digits_of(char *out, unsigned long long v, bool negative,
			unsigned base)
{
	char rev[24];
	size_t n = 0, k = 0;
	do
		rev[n++] = "0123456789abcdef"[v % base];
	while ((v /= base) != 0);
	if (negative)
		out[k++] = '-';
	while (n)
		out[k++] = rev[--n];
	return k;
}

static unsigned field(const char **f, va_list *ap)
{
	unsigned v = 0;
	if (**f == '*') {
		int arg = va_arg(*ap, int);
		(*f)++;
		return arg < 0 ? 0 : (unsigned)arg;
	}
	while (**f >= '0' && **f <= '9')
		v = v * 10 + (unsigned)(*(*f)++ - '0');
	return v;
}

static void convert(struct sink *s, const char **f, va_list *ap)
{
	bool left = false, has_precision = false;
	char pad = ' ', digits[24];
	unsigned width, precision = 0, size = 0;	/* 1 l, 2 ll, 3 z */

	for (;; (*f)++) {
		if (**f == '-')
			left = true;
		else if (**f == '0')
			pad = '0';
		else
			break;
	}
	width = field(f, ap);
	if (**f == '.') {
		(*f)++;
		has_precision = true;
		precision = field(f, ap);
	}
	for (; **f == 'l' || **f == 'z'; (*f)++)
		size = **f == 'z' ? 3 : size + 1;

	char c = *(*f)++;
	if (c == 's') {
		const char *str = va_arg(*ap, const char *);
		if (!str)
			str = "(null)";
		size_t n = strlen(str);
		if (has_precision && precision < n)
			n = precision;
		put_padded(s, str, n, width, left, ' ');
	} else if (c == 'c') {
		digits[0] = (char)va_arg(*ap, int);
		put_padded(s, digits, 1, width, left, ' ');
	} else if (c == 'd' || c == 'i') {
		long long v = size == 0 ? va_arg(*ap, int)
			      : size == 1 ? va_arg(*ap, long)
			      : size == 2 ? va_arg(*ap, long long)
					  : (long long)va_arg(*ap, ssize_t);
		unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v
					       : (unsigned long long)v;
		put_padded(s, digits, digits_of(digits, mag, v < 0, 10), width, left,
			   pad);
	} else if (c == 'u' || c == 'x') {
		unsigned long long v = size == 0 ? va_arg(*ap, unsigned)
				       : size == 1 ? va_arg(*ap, unsigned long)
				       : size == 2 ? va_arg(*ap, unsigned long long)
						   : va_arg(*ap, size_t);
		put_padded(s, digits, digits_of(digits, v, false, c == 'u' ? 10 : 16),
			   width, left, pad);
	} else if (c == 'm') {
		const char *why = strerror(s->saved_errno);
		put_padded(s, why, strlen(why), width, left, ' ');
	} else if (c == '%') {
		put(s, '%');
	} else {
		static const char why[] = "(unsupported conversion)";
		put(s, '%');
		put(s, c ? c : '?');
		put_padded(s, why, sizeof(why) - 1, 0, false, ' ');
		s->stopped = true;
	}
}

size_t format_v(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct sink s = {buf, len, 0, errno, false};
	va_list args;

	va_copy(args, ap);
	while (*fmt && !s.stopped) {
		if (*fmt != '%') {
			put(&s, *fmt++);
			continue;
		}
		fmt++;
		convert(&s, &fmt, &args);
	}
	va_end(args);
	if (len)
		buf[s.used < len ? s.used : len - 1] = '\0';
	return s.used;
}

size_t format(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = format_v(buf, len, fmt, ap);
	va_end(ap);
	return n;
}
