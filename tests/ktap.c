// SPDX-License-Identifier: MIT
/* ktap: checks a KTAP stream (the kernel selftests' format, as
 * vsock-conform prints it) and extracts its verdicts.
 *
 *   tests/ktap [--expect FILE] [--lenient] [KTAP_FILE]   (stdin without)
 *
 * Lines before "KTAP version 1" are ignored (a console log's boot lines).
 * After it, every line must be one of: the plan "1..N" (once, before the
 * first result), a result "ok N NAME", "not ok N NAME" or "ok N NAME #
 * SKIP REASON", a diagnostic "# ...", or an empty line; --lenient ignores
 * any other line (a console that mixes in kernel messages) instead of
 * refusing it. Results must be numbered 1, 2, ... with no name twice, and
 * their count must be the plan's; a SKIP needs a reason and an "ok"
 * ("not ok ... # SKIP" is refused); "# TODO" and other directives are
 * refused too.
 *
 * Prints one line per result, in order:
 *   NAME ok
 *   NAME not-ok
 *   NAME skip REASON
 * With --expect FILE, whose lines are "NAME ok", "NAME not-ok" or "NAME
 * skip" (blank lines and "#" comments allowed, a comment may follow on
 * the line), every case must have its expected verdict, and the stream
 * may hold no case the file does not name; each difference is one line
 * "ktap: NAME: expected V, got W" on stderr.
 *
 * Exit: 0 well formed (and as expected), 1 malformed or not as expected
 * (one line per problem on stderr, "ktap: line N: ..."), 2 usage or an
 * unreadable file. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LINE_MAX_LEN = 4096, MAX_RESULTS = 4096 };

struct result {
	char *name;
	const char *verdict;	/* "ok", "not-ok", "skip" */
	char *reason;
	bool matched;
};

static int problems;

static void problem(unsigned line, const char *what, const char *detail)
{
	fprintf(stderr, "ktap: line %u: %s%s%s\n", line, what,
		detail ? ": " : "", detail ? detail : "");
	problems++;
}

static char *dup_text(const char *s, size_t len)
{
	char *p = malloc(len + 1);
	if (!p) {
		fprintf(stderr, "ktap: out of memory\n");
		exit(2);
	}
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* A decimal number at *p (no sign, no leading zero unless 0): its value,
 * *p past it; -1 if none. */
static long number_at(const char **p)
{
	const char *s = *p;
	long v = 0;

	if (*s < '0' || *s > '9' || (*s == '0' && s[1] >= '0' && s[1] <= '9'))
		return -1;
	while (*s >= '0' && *s <= '9' && v < 100000000)
		v = v * 10 + (*s++ - '0');
	*p = s;
	return v;
}

/* "ok N NAME[ # SKIP REASON]" or "not ok N NAME": 1 if it is a result
 * line (problems counted), 0 if not. */
static int parse_result(const char *line, unsigned lineno, long expected,
			struct result *r)
{
	const char *p = line;
	bool ok;

	if (strncmp(p, "ok ", 3) == 0) {
		ok = true;
		p += 3;
	} else if (strncmp(p, "not ok ", 7) == 0) {
		ok = false;
		p += 7;
	} else {
		return 0;
	}
	long n = number_at(&p);
	if (n < 0 || *p != ' ' || p[1] == '\0' || p[1] == ' ' || p[1] == '#') {
		problem(lineno, "a result without a number and a name", line);
		r->name = NULL;
		return 1;
	}
	if (n != expected) {
		char what[64];
		snprintf(what, sizeof(what), "result number %ld, expected %ld", n,
			 expected);
		problem(lineno, what, NULL);
	}
	p++;
	const char *hash = strstr(p, " #");
	size_t name_len = hash ? (size_t)(hash - p) : strlen(p);
	while (name_len && p[name_len - 1] == ' ')
		name_len--;
	r->name = dup_text(p, name_len);
	r->verdict = ok ? "ok" : "not-ok";
	r->reason = NULL;
	r->matched = false;
	if (hash) {
		const char *d = hash + 2;
		while (*d == ' ')
			d++;
		if (strncmp(d, "SKIP", 4) != 0 || (d[4] != ' ' && d[4] != '\0'))
			problem(lineno, "a directive other than SKIP", d);
		else if (!ok)
			problem(lineno, "\"not ok\" with SKIP", line);
		else if (d[4] == '\0' || d[5] == '\0')
			problem(lineno, "SKIP without a reason", line);
		else {
			r->verdict = "skip";
			r->reason = dup_text(d + 5, strlen(d + 5));
		}
	}
	return 1;
}

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* The expected verdicts: compared with the results, differences counted. */
static void compare(const char *path, struct result *res, long n)
{
	FILE *f = fopen(path, "r");
	char line[LINE_MAX_LEN];
	unsigned lineno = 0;

	if (!f) {
		fprintf(stderr, "ktap: %s: cannot open\n", path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		char name[LINE_MAX_LEN], verdict[32];
		lineno++;
		chomp(line);
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		if (sscanf(line, "%4095s %31s", name, verdict) != 2) {
			if (sscanf(line, "%4095s", name) == 1) {
				fprintf(stderr, "ktap: %s:%u: NAME VERDICT expected\n",
					path, lineno);
				problems++;
			}
			continue;
		}
		if (strcmp(verdict, "ok") && strcmp(verdict, "not-ok") &&
		    strcmp(verdict, "skip")) {
			fprintf(stderr, "ktap: %s:%u: verdict '%s' (ok, not-ok or "
				"skip)\n", path, lineno, verdict);
			problems++;
			continue;
		}
		long i;
		for (i = 0; i < n; i++)
			if (res[i].name && strcmp(res[i].name, name) == 0)
				break;
		if (i == n) {
			fprintf(stderr, "ktap: %s: expected %s, got no result\n",
				name, verdict);
			problems++;
			continue;
		}
		res[i].matched = true;
		if (strcmp(res[i].verdict, verdict) != 0) {
			fprintf(stderr, "ktap: %s: expected %s, got %s%s%s\n", name,
				verdict, res[i].verdict, res[i].reason ? " " : "",
				res[i].reason ? res[i].reason : "");
			problems++;
		}
	}
	fclose(f);
	for (long i = 0; i < n; i++)
		if (res[i].name && !res[i].matched) {
			fprintf(stderr, "ktap: %s: got %s, not expected at all\n",
				res[i].name, res[i].verdict);
			problems++;
		}
}

static int usage(void)
{
	fprintf(stderr, "usage: ktap [--expect FILE] [--lenient] [KTAP_FILE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *expect = NULL, *path = NULL;
	bool lenient = false, started = false;
	static struct result res[MAX_RESULTS];
	char line[LINE_MAX_LEN];
	long plan = -1, n = 0;
	unsigned lineno = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc)
			expect = argv[++i];
		else if (strcmp(argv[i], "--lenient") == 0)
			lenient = true;
		else if (argv[i][0] == '-' || path)
			return usage();
		else
			path = argv[i];
	}
	FILE *f = path ? fopen(path, "r") : stdin;
	if (!f) {
		fprintf(stderr, "ktap: %s: cannot open\n", path);
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		chomp(line);
		if (!started) {
			started = strcmp(line, "KTAP version 1") == 0;
			continue;
		}
		const char *p = line;
		if (*p == '\0' || *p == '#')
			continue;
		if (strncmp(p, "1..", 3) == 0) {
			p += 3;
			long v = number_at(&p);
			if (v < 0 || *p)
				problem(lineno, "a malformed plan", line);
			else if (plan >= 0)
				problem(lineno, "a second plan", line);
			else if (n)
				problem(lineno, "the plan after results", line);
			else
				plan = v;
			continue;
		}
		if (strcmp(p, "KTAP version 1") == 0) {
			problem(lineno, "a second KTAP header", NULL);
			continue;
		}
		if (n == MAX_RESULTS) {
			problem(lineno, "too many results", NULL);
			break;
		}
		if (parse_result(p, lineno, n + 1, &res[n])) {
			if (plan < 0)
				problem(lineno, "a result before the plan", NULL);
			for (long i = 0; res[n].name && i < n; i++)
				if (res[i].name && strcmp(res[i].name, res[n].name) == 0)
					problem(lineno, "a name seen before",
						res[n].name);
			n++;
			continue;
		}
		if (!lenient)
			problem(lineno, "not a KTAP line", line);
	}
	if (path)
		fclose(f);
	if (!started)
		problem(lineno, "no \"KTAP version 1\" line", NULL);
	else if (plan < 0)
		problem(lineno, "no plan", NULL);
	else if (plan != n) {
		char what[80];
		snprintf(what, sizeof(what), "%ld results, the plan says %ld", n,
			 plan);
		problem(lineno, what, NULL);
	}
	for (long i = 0; i < n; i++)
		if (res[i].name)
			printf("%s %s%s%s\n", res[i].name, res[i].verdict,
			       res[i].reason ? " " : "",
			       res[i].reason ? res[i].reason : "");
	if (expect)
		compare(expect, res, n);
	return problems ? 1 : 0;
}
