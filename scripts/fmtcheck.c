// SPDX-License-Identifier: MIT
/* fmtcheck: the build's guard for common/format.c's printf subset.
 *
 * Reads a preprocessed C file (cc -E) on stdin and checks every string
 * literal of the project's own files (system headers aside), adjacent
 * literals joined as the compiler joins them, so macros such as PRIu64 are
 * seen expanded. A '%' must start a conversion of the subset that the
 * header comment of common/format.c defines (conversion() below is that
 * definition as a check). Anything else fails the build, naming the file
 * and line. The compiler's format attribute checks the arguments,
 * and -Wformat-nonliteral makes every format a literal, which this sees.
 * Built for the build machine (HOSTCC); it is not part of vsockbox. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LITERAL_MAX = 16384 };

struct scan {
	char file[512];		/* where the current line comes from */
	bool system;		/* a system header: not ours to check */
	long line;
	char text[LITERAL_MAX];	/* the joined literal so far */
	size_t len;
	long text_line;		/* where it began */
	char text_file[512];
	int failures;
};

/* A width or a precision: '*' or digits. */
static const char *skip_number(const char *p)
{
	if (*p == '*')
		return p + 1;
	while (*p >= '0' && *p <= '9')
		p++;
	return p;
}

/* The conversion at s (just after '%'): its length, or 0 if unsupported. */
static size_t conversion(const char *s)
{
	const char *p = s;
	while (*p == '-' || *p == '0')
		p++;
	p = skip_number(p);
	if (*p == '.')
		p = skip_number(p + 1);
	if (*p == 'z')
		p++;
	else if (p[0] == 'l' && p[1] == 'l')
		p += 2;
	else if (*p == 'l')
		p++;
	if (*p && strchr("scdiuxm%", *p))
		return (size_t)(p - s) + 1;
	return 0;
}

static void check_literal(struct scan *sc)
{
	for (size_t i = 0; i < sc->len; i++) {
		if (sc->text[i] != '%')
			continue;
		size_t n = conversion(sc->text + i + 1);
		if (n) {
			i += n;
			continue;
		}
		size_t show = strcspn(sc->text + i + 1, " \"\\:,;()\n");
		fprintf(stderr, "%s:%ld: format: '%%%.*s' is not in format()'s "
			"printf subset (common/format.c says which "
			"conversions it has): \"%s\"\n", sc->text_file,
			sc->text_line, (int)(show < 8 ? show : 8), sc->text + i + 1,
			sc->text);
		sc->failures++;
		return;
	}
}

static void end_literal(struct scan *sc)
{
	if (sc->len && !sc->system)
		check_literal(sc);
	sc->len = 0;
}

/* A line marker: # LINE "FILE" FLAGS; flag 3 is a system header. */
static void line_marker(struct scan *sc, const char *s)
{
	long line;
	char file[512];
	if (sscanf(s, "# %ld \"%511[^\"]\"", &line, file) != 2)
		return;
	sc->line = line - 1;	/* the newline after the marker counts */
	strcpy(sc->file, file);
	const char *flags = strrchr(s, '"');
	sc->system = flags && strstr(flags, " 3") != NULL;
}

/* Appends the body of the literal that starts at s[0] == '"'; returns the
 * character after its closing quote. */
static const char *literal(struct scan *sc, const char *s)
{
	if (!sc->len) {
		sc->text_line = sc->line;
		strcpy(sc->text_file, sc->file);
	}
	for (s++; *s && *s != '"'; s++) {
		char c = *s;
		if (c == '\\' && s[1]) {
			s++;
			c = *s == 'n' ? ' ' : '?';	/* an escape is not a '%' */
		}
		if (sc->len + 2 < sizeof(sc->text))
			sc->text[sc->len++] = c;
	}
	sc->text[sc->len] = '\0';
	return *s ? s + 1 : s;
}

int main(int argc, char **argv)
{
	static struct scan sc;
	static char buf[1 << 16];

	strcpy(sc.file, argc > 1 ? argv[1] : "<stdin>");
	while (fgets(buf, sizeof(buf), stdin)) {
		sc.line++;
		const char *s = buf;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '#') {
			line_marker(&sc, s);	/* a joined literal may span it */
			continue;
		}
		while (*s) {
			if (*s == '"') {
				s = literal(&sc, s);
			} else if (*s == '\'') {
				end_literal(&sc);
				for (s++; *s && *s != '\''; s++)
					if (*s == '\\' && s[1])
						s++;
				if (*s)
					s++;
			} else {
				if (!strchr(" \t\n", *s))
					end_literal(&sc);
				s++;
			}
		}
	}
	end_literal(&sc);
	return sc.failures ? 1 : 0;
}
