// SPDX-License-Identifier: MIT
/*
 * report - the arithmetic of bench/run.sh: reads the raw samples of a run
 * and writes its report: medians, per-pair ratios with min and max, CPU per
 * GiB, peak RSS, targets; the table on stdout and, with --out, the whole of
 * bench/RESULTS.md. The runner measures and records; all figures are made
 * here.
 *
 *   report [--out FILE] [--notes FILE] SAMPLES   the report
 *   report --lat-count MODE SAMPLES      round trips per latency run of MODE
 *   report --ceiling-io uni|bi SAMPLES   the ceiling's best read/write size
 *   report --fact NAME                   a protocol number (protocol.h)
 *
 * SAMPLES holds one record a line, words separated by blanks:
 *   param NAME VALUE...    a setting of the run (size, count, runs, quick...)
 *   meta NAME TEXT...      text for the header (source, machine, kernel...)
 *   calib MODE NS|failed   the latency calibration run's median round trip
 *   pair KIND A-B ROUND WHO FIG UNIT VALUE...
 *                          one figure of one run of a pair of comparison A-B
 *                          (WHO is A or B); UNIT mibps or us: the values'
 *                          sum; ns: their sum in us; wall: VALUE is the
 *                          wall time, the rest the bytes moved (MiB/s);
 *                          rusage: quadruples (as in cost), CPU s per GiB
 *   cost BUILD TAG PROC USER SYS RSS WALL...   one run's processes of PROC
 *                          (bench/rusage's lines): CPU per GiB of what TAG
 *                          moves (summed), peak RSS (the largest)
 *   value SERIES VALUE...  samples as they are
 *   sweep uni|bi IO VALUE...     the ceiling at read/write size IO (summed)
 *   start NAME s SECONDS | start NAME loop NS CALLS    start-up time
 *   size NAME BYTES|n/a    a stripped binary's size
 *   batch begin NAME... | batch end, each followed by the counters read
 *   then: stat cpu ... (/proc/stat), snmp Tcp: ... (/proc/net/snmp, both
 *   lines), times USER SYS (the shell's times for its children)
 *
 * A figure made from other numbers is kept to 6 significant digits and a
 * per-pair ratio to 4 decimals: the precision the sample list at the end of
 * the report shows, so that every figure can be made again from that list.
 */
#define _POSIX_C_SOURCE 200809L
#include "protocol.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIB 1073741824.0
#define MIB 1048576.0

enum { MAX_WORDS = 64 };

/* A sample: its text as recorded or made, and the number it reads as. */
struct value {
	double x;
	char text[40];
};

struct series {
	char *name;
	struct value *v;
	size_t n, cap;
};

struct field {
	char *key, *text;
};

/* One figure of one run of a pair. */
struct figure {
	char *kind, *cmp, *who, *fig;
	long round;
	struct value v;
};

/* The counters at the start or the end of a batch. */
struct snap {
	double busy, total, steal;	/* ticks */
	double ours;			/* s, rounded as the shell's times */
	long long retrans;
	int retrans_at;			/* RetransSegs' column; 0: not yet */
};

struct batch {
	char *name;
	struct snap at[2];
};

#define LIST(type) struct { type *v; size_t n, cap; }

struct run {
	LIST(struct field) params, meta, sizes, calib;
	LIST(struct series) series;
	LIST(struct figure) figures;
	LIST(struct batch) batches;
	LIST(char *) sweep_io;		/* in the order swept */
	struct snap *snap;		/* where counters go now */
	const char *file;
	long line;
};

static _Noreturn void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("report: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? 2 * *cap : 16;
	v = realloc(v, *cap * size);
	if (!v)
		die("out of memory");
	return v;
}

#define PUSH(list) \
	(*((list).v = grow((list).v, &(list).cap, (list).n, sizeof(*(list).v)), \
	   &(list).v[(list).n++]))

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		die("out of memory");
	return d;
}

/* ---- numbers ---- */

static bool is_number(const char *s, double *x)
{
	char *end;

	if (!*s || strspn(s, "0123456789.eE+-") != strlen(s))
		return false;
	errno = 0;
	*x = strtod(s, &end);
	return !*end && !errno && isfinite(*x);
}

static struct value text_value(const char *text)
{
	struct value v;

	snprintf(v.text, sizeof(v.text), "%s", text);
	v.x = strtod(v.text, NULL);
	return v;
}

static struct value fmt_value(const char *fmt, double x)
{
	char text[40];

	snprintf(text, sizeof(text), fmt, x);
	return text_value(text);
}

static struct value made(double x)
{
	return fmt_value("%.6g", x);
}

/* X in FMT, or "n/a", into buf for the report's columns. */
static const char *show(char *buf, size_t len, const char *fmt,
			const struct value *v)
{
	if (v)
		snprintf(buf, len, fmt, v->x);
	else
		snprintf(buf, len, "n/a");
	return buf;
}

/* ---- what was read ---- */

static struct field *field(struct field *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].key, key))
			return &v[i];
	return NULL;
}

static const char *param(const struct run *r, const char *key)
{
	struct field *f = field(r->params.v, r->params.n, key);

	return f ? f->text : NULL;
}

static const char *meta(const struct run *r, const char *key)
{
	struct field *f = field(r->meta.v, r->meta.n, key);

	return f ? f->text : "?";
}

static double param_num(const struct run *r, const char *key)
{
	const char *t = param(r, key);
	double x;

	if (!t || !is_number(t, &x))
		die("%s: no number for 'param %s'", r->file, key);
	return x;
}

static bool param_on(const struct run *r, const char *key)
{
	const char *t = param(r, key);

	return t && strcmp(t, "0") != 0;
}

static struct series *series(struct run *r, const char *name)
{
	for (size_t i = 0; i < r->series.n; i++)
		if (!strcmp(r->series.v[i].name, name))
			return &r->series.v[i];
	return NULL;
}

static void add(struct run *r, const char *name, struct value v)
{
	struct series *s = series(r, name);

	if (!s) {
		s = &PUSH(r->series);
		*s = (struct series){.name = xstrdup(name)};
	}
	PUSH(*s) = v;
}

static void addf(struct run *r, struct value v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void addf(struct run *r, struct value v, const char *fmt, ...)
{
	char name[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	add(r, name, v);
}

/* ---- statistics, as the report has always made them ---- */

static int by_value(const void *a, const void *b)
{
	const struct value *x = a, *y = b;

	if (x->x != y->x)
		return x->x < y->x ? -1 : 1;
	return strcmp(x->text, y->text);
}

/* The series sorted, or NULL when it has no sample. */
static struct series *sorted(struct run *r, const char *name)
{
	struct series *s = series(r, name);

	if (!s || !s->n)
		return NULL;
	qsort(s->v, s->n, sizeof(*s->v), by_value);
	return s;
}

/* The median: the middle sample, or the mean of the two middle ones (an
 * integer as it is, otherwise to 6 significant digits). */
static bool median(struct run *r, const char *name, struct value *out)
{
	struct series *s = sorted(r, name);

	if (!s)
		return false;
	size_t m = (s->n + 1) / 2 - 1;
	if (s->n % 2) {
		*out = s->v[m];
		return true;
	}
	double x = (s->v[m].x + s->v[m + 1].x) / 2;
	*out = x == floor(x) && fabs(x) < 1e15 ? fmt_value("%.0f", x) : made(x);
	return true;
}

static bool extreme(struct run *r, const char *name, bool largest,
		    struct value *out)
{
	struct series *s = sorted(r, name);

	if (!s)
		return false;
	*out = s->v[largest ? s->n - 1 : 0];
	return true;
}

/* name built from fmt: its median, minimum or maximum, or NULL */
enum stat { MEDIAN, MINIMUM, MAXIMUM };

static const struct value *stat_of(struct run *r, struct value *buf,
				   enum stat st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static const struct value *stat_of(struct run *r, struct value *buf,
				   enum stat st, const char *fmt, ...)
{
	char name[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	bool ok = st == MEDIAN ? median(r, name, buf)
		: extreme(r, name, st == MAXIMUM, buf);
	return ok ? buf : NULL;
}

/* ---- reading the samples ---- */

static const char *after_words(const char *line, int n)
{
	for (int i = 0; i < n; i++) {
		line += strspn(line, " \t");
		line += strcspn(line, " \t");
	}
	return line + strspn(line, " \t");
}

static _Noreturn void bad(const struct run *r, const char *why)
{
	die("%s:%ld: %s", r->file, r->line, why);
}

static double number(const struct run *r, const char *s)
{
	double x;

	if (!is_number(s, &x))
		bad(r, "not a number");
	if (strlen(s) >= sizeof(((struct value *)0)->text))
		bad(r, "a number too long to keep as it is");
	return x;
}

/* Bytes moved by what a cost TAG names, in protocol terms. */
static double tag_bytes(const struct run *r, const char *tag);

/* CPU seconds per GiB of TAG's bytes, from USER SYS RSS WALL quadruples,
 * and the largest RSS. */
static void rusage_figures(const struct run *r, const char *tag, char **w,
			   int n, struct value *cpu, struct value *rss)
{
	double s = 0, m = 0;

	if (n <= 0 || n % 4)
		bad(r, "want USER SYS RSS WALL for each process");
	for (int i = 0; i < n; i += 4) {
		s += number(r, w[i]) + number(r, w[i + 1]);
		if (number(r, w[i + 2]) > m)
			m = number(r, w[i + 2]);
	}
	*cpu = made(s / (tag_bytes(r, tag) / GIB));
	*rss = m == floor(m) ? fmt_value("%.0f", m) : made(m);
}

static const char *cost_tag(const char *kind)
{
	static const struct { const char *kind, *tag; } tags[] = {
		{"uni", "unidir"}, {"bi", "bidir"},
		{"lat.same", "latency-same"}, {"lat.split", "latency-split"},
		{"lat.any", "latency-any"},
	};

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (!strcmp(tags[i].kind, kind))
			return tags[i].tag;
	return kind;
}

/* pair KIND A-B ROUND WHO FIG UNIT VALUE... */
static void read_pair(struct run *r, char **w, int n)
{
	struct figure f;
	double sum = 0;

	if (n < 8)
		bad(r, "pair KIND A-B ROUND WHO FIG UNIT VALUE...");
	f = (struct figure){.kind = xstrdup(w[1]), .cmp = xstrdup(w[2]),
		.round = (long)number(r, w[3]), .who = xstrdup(w[4]),
		.fig = xstrdup(w[5])};
	const char *unit = w[6];
	if (!strcmp(unit, "rusage")) {
		struct value rss;
		rusage_figures(r, cost_tag(f.kind), w + 7, n - 7, &f.v, &rss);
	} else if (!strcmp(unit, "wall")) {
		double wall = number(r, w[7]);
		for (int i = 8; i < n; i++)
			sum += number(r, w[i]);
		if (n < 9)
			bad(r, "wall SECONDS BYTES...");
		if (wall <= 0)
			return;		/* no figure */
		f.v = made(sum / MIB / wall);
	} else if (!strcmp(unit, "mibps") || !strcmp(unit, "us") ||
		   !strcmp(unit, "ns")) {
		for (int i = 7; i < n; i++)
			sum += number(r, w[i]);
		if (!strcmp(unit, "ns"))
			f.v = made(sum / 1000);
		else
			f.v = n == 8 ? text_value(w[7]) : made(sum);
	} else {
		bad(r, "unknown unit");
	}
	PUSH(r->figures) = f;
}

static void read_cost(struct run *r, char **w, int n)
{
	struct value cpu, rss;

	if (n < 8)
		bad(r, "cost BUILD TAG PROC USER SYS RSS WALL...");
	const char *pfx = strcmp(w[1], "glibc") ? w[1] : NULL;
	rusage_figures(r, w[2], w + 4, n - 4, &cpu, &rss);
	addf(r, cpu, "%s%scpu.%s.%s", pfx ? pfx : "", pfx ? "." : "", w[2], w[3]);
	addf(r, rss, "%s%srss.%s.%s", pfx ? pfx : "", pfx ? "." : "", w[2], w[3]);
}

static void read_sweep(struct run *r, char **w, int n)
{
	double sum = 0;

	if (n < 4)
		bad(r, "sweep uni|bi IO VALUE...");
	for (int i = 3; i < n; i++)
		sum += number(r, w[i]);
	bool known = false;
	for (size_t i = 0; i < r->sweep_io.n; i++)
		known |= !strcmp(r->sweep_io.v[i], w[2]);
	if (!known)
		PUSH(r->sweep_io) = xstrdup(w[2]);
	addf(r, n == 4 ? text_value(w[3]) : made(sum), "sweep.%s.%s", w[1], w[2]);
}

static void read_start(struct run *r, char **w, int n)
{
	if (n == 4 && !strcmp(w[2], "s"))
		addf(r, made(number(r, w[3]) * 1000000), "start.%s", w[1]);
	else if (n == 5 && !strcmp(w[2], "loop"))
		addf(r, made(number(r, w[3]) / 1000 / number(r, w[4])),
		     "start.%s", w[1]);
	else
		bad(r, "start NAME s SECONDS | start NAME loop NS CALLS");
}

/* "XmY.YYYs": the shell's times, in seconds */
static double shell_time(const struct run *r, const char *s)
{
	char *end;
	double min = strtod(s, &end);

	if (*end != 'm')
		bad(r, "times: want XmY.Ys");
	double sec = strtod(end + 1, &end);
	if (*end != 's')
		bad(r, "times: want XmY.Ys");
	return min * 60 + sec;
}

static void read_counters(struct run *r, char **w, int n)
{
	struct snap *s = r->snap;

	if (!s)
		bad(r, "counters outside a batch");
	if (!strcmp(w[0], "stat")) {
		double f[8];
		if (n < 10 || strcmp(w[1], "cpu"))
			bad(r, "stat cpu USER NICE SYSTEM IDLE IOWAIT IRQ SOFTIRQ STEAL...");
		for (int i = 0; i < 8; i++)
			f[i] = number(r, w[2 + i]);
		s->busy = f[0] + f[1] + f[2];
		s->total = s->busy + f[3] + f[4] + f[5] + f[6] + f[7];
		s->steal = f[7];
	} else if (!strcmp(w[0], "times")) {
		if (n != 3)
			bad(r, "times USER SYS");
		s->ours = fmt_value("%.3f", shell_time(r, w[1]) +
				    shell_time(r, w[2])).x;
	} else if (!s->retrans_at) {	/* snmp Tcp: NAMES... */
		for (int i = 2; i < n && !s->retrans_at; i++)
			if (!strcmp(w[i], "RetransSegs"))
				s->retrans_at = i;
		if (!s->retrans_at)
			s->retrans_at = -1;
	} else if (s->retrans_at > 0 && s->retrans_at < n) {	/* values */
		s->retrans = (long long)number(r, w[s->retrans_at]);
	}
}

static void read_batch(struct run *r, char **w, int n, const char *line)
{
	if (n >= 3 && !strcmp(w[1], "begin")) {
		struct batch *b = &PUSH(r->batches);
		*b = (struct batch){.name = xstrdup(after_words(line, 2))};
		r->snap = &b->at[0];
	} else if (n == 2 && !strcmp(w[1], "end") && r->batches.n) {
		r->snap = &r->batches.v[r->batches.n - 1].at[1];
	} else {
		bad(r, "batch begin NAME... | batch end");
	}
}

static void read_field(struct run *r, char **w, int n, const char *line)
{
	if (n < 2)
		bad(r, "want NAME [TEXT]");
	struct field *f = !strcmp(w[0], "param") ? &PUSH(r->params)
		: !strcmp(w[0], "meta") ? &PUSH(r->meta)
		: !strcmp(w[0], "size") ? &PUSH(r->sizes) : &PUSH(r->calib);
	f->key = xstrdup(w[1]);
	f->text = xstrdup(after_words(line, 2));
}

static void read_line(struct run *r, char *line)
{
	char copy[4096], *w[MAX_WORDS];
	int n = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	for (char *t = strtok(copy, " \t"); t; t = strtok(NULL, " \t")) {
		if (n == MAX_WORDS)
			bad(r, "too many words");
		w[n++] = t;
	}
	if (!n || *w[0] == '#')
		return;
	if (!strcmp(w[0], "pair"))
		read_pair(r, w, n);
	else if (!strcmp(w[0], "cost"))
		read_cost(r, w, n);
	else if (!strcmp(w[0], "value") && n >= 3)
		for (int i = 2; i < n; i++)
			add(r, w[1], (number(r, w[i]), text_value(w[i])));
	else if (!strcmp(w[0], "sweep"))
		read_sweep(r, w, n);
	else if (!strcmp(w[0], "start"))
		read_start(r, w, n);
	else if (!strcmp(w[0], "batch"))
		read_batch(r, w, n, line);
	else if (!strcmp(w[0], "stat") || !strcmp(w[0], "snmp") ||
		 !strcmp(w[0], "times"))
		read_counters(r, w, n);
	else if (!strcmp(w[0], "param") || !strcmp(w[0], "meta") ||
		 !strcmp(w[0], "size") || !strcmp(w[0], "calib"))
		read_field(r, w, n, line);
	else
		bad(r, "unknown record");
}

/* Params and calibrations first: the bytes of a cost depend on them. */
static void read_samples(struct run *r, const char *file)
{
	static const char *const first[] = {"param ", "calib "};
	char line[4096];
	FILE *f = fopen(file, "r");

	if (!f)
		die("%s: %s", file, strerror(errno));
	r->file = file;
	for (int pass = 0; pass < 2; pass++) {
		rewind(f);
		for (r->line = 1; fgets(line, sizeof(line), f); r->line++) {
			line[strcspn(line, "\r\n")] = '\0';
			bool early = !strncmp(line, first[0], 6) ||
				!strncmp(line, first[1], 6);
			if (early == !pass)
				read_line(r, line);
		}
	}
	if (ferror(f) || fclose(f))
		die("%s: read error", file);
}

/* ---- what follows from the samples ---- */

/* Round trips per latency run of MODE: as many as fill sockperf's window
 * (sp_secs) at the calibration's median, between the probe's count and
 * lat_max; the probe's count when the calibration failed. */
static bool lat_count(const struct run *r, const char *mode, long *n)
{
	struct field *c = field(r->calib.v, r->calib.n, mode);
	double ns, probe = param_num(r, "lat_probe");

	if (!c)
		return false;
	*n = (long)probe;
	if (!is_number(c->text, &ns) || ns <= 0)
		return true;
	double k = trunc(param_num(r, "sp_secs") * 1e9 / ns);
	if (k > param_num(r, "lat_max"))
		k = param_num(r, "lat_max");
	if (k < probe)
		k = probe;
	*n = (long)k;
	return true;
}

static double tag_bytes(const struct run *r, const char *tag)
{
	double size = param_num(r, "size"), count = param_num(r, "count");
	long lat;

	if (!strcmp(tag, "unidir") || !strcmp(tag, "bidir"))
		return 2 * size * count;	/* 2 x SIZE per iteration */
	if (!strcmp(tag, "multi"))
		return PERF_MULTI_STREAMS * 2 * size * param_num(r, "multi_count");
	if (!strncmp(tag, "latency-", 8)) {
		if (!lat_count(r, tag + 8, &lat))
			die("%s: no calibration for %s", r->file, tag);
		return 2 * param_num(r, "packet") *
			(double)(lat + PERF_WARMUP_PACKETS);	/* warm-ups too */
	}
	return GIB;	/* no bytes to speak of: CPU s per GiB is CPU s */
}

/* The ceiling's read/write size with the fastest median in the sweep. */
static const char *ceiling_io(struct run *r, const char *dir)
{
	const char *best = "1M";
	double top = 0;
	struct value m;

	for (size_t i = 0; i < r->sweep_io.n; i++)
		if (stat_of(r, &m, MEDIAN, "sweep.%s.%s", dir, r->sweep_io.v[i]) &&
		    m.x > top) {
			top = m.x;
			best = r->sweep_io.v[i];
		}
	return best;
}

/* Pairs: for each figure both runs of a pair gave, KIND.A-B.FIG.a and .b,
 * .r (A/B), and for CPU .d (A - B). */
static void pair_up(struct run *r)
{
	char base[256];

	for (size_t i = 0; i < r->figures.n; i++) {
		const struct figure *a = &r->figures.v[i];
		size_t alen = strcspn(a->cmp, "-");
		if (strncmp(a->who, a->cmp, alen) || a->who[alen])
			continue;
		for (size_t j = 0; j < r->figures.n; j++) {
			const struct figure *b = &r->figures.v[j];
			if (strcmp(a->kind, b->kind) || strcmp(a->cmp, b->cmp) ||
			    a->round != b->round || strcmp(a->fig, b->fig) ||
			    strcmp(b->who, a->cmp + alen + (a->cmp[alen] == '-')))
				continue;
			snprintf(base, sizeof(base), "%s.%s.%s", a->kind, a->cmp,
				 a->fig);
			addf(r, a->v, "%s.a", base);
			addf(r, b->v, "%s.b", base);
			if (b->v.x != 0)
				addf(r, fmt_value("%.4f", a->v.x / b->v.x), "%s.r", base);
			if (!strcmp(a->fig, "cpu"))
				addf(r, made(a->v.x - b->v.x), "%s.d", base);
		}
	}
}

/* ---- the report ---- */

static const char *mode_name(const char *mode)
{
	return !strcmp(mode, "same") ? "one CPU"
		: !strcmp(mode, "split") ? "two CPUs" : "unpinned";
}

/* The latency modes, one a call: *pos walks the list. */
static bool next_mode(const struct run *r, size_t *pos, char *mode, size_t len)
{
	const char *modes = param(r, "lat_modes");

	if (!modes)
		modes = "";
	modes += *pos;
	modes += strspn(modes, " ");
	size_t n = strcspn(modes, " ");
	if (!n)
		return false;
	snprintf(mode, len, "%.*s", (int)n, modes);
	*pos = (size_t)(modes + n - param(r, "lat_modes"));
	return true;
}

static void first_mode(const struct run *r, char *mode, size_t len)
{
	size_t pos = 0;

	if (!next_mode(r, &pos, mode, len))
		snprintf(mode, len, "any");
}

static void head_row(FILE *o, const char *label)
{
	fprintf(o, "%-34s %9s %9s %7s %7s %7s %3s\n", label, "A", "B", "A/B",
		"min", "max", "n");
}

/* One comparison: the medians of A and B, the median of the per-pair
 * ratios A/B with their min and max, and the number of pairs. */
static void pr(FILE *o, struct run *r, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void pr(FILE *o, struct run *r, const char *label, const char *fmt, ...)
{
	char s[256], b[6][32], n[32];
	struct value v[6];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	char rname[300];
	snprintf(rname, sizeof(rname), "%s.r", s);
	const struct series *ratios = series(r, rname);
	snprintf(n, sizeof(n), "%zu", ratios ? ratios->n : 0);
	fprintf(o, "%-34s %9s %9s %7s %7s %7s %3s\n", label,
		show(b[0], 32, "%.1f", stat_of(r, &v[0], MEDIAN, "%s.a", s)),
		show(b[1], 32, "%.1f", stat_of(r, &v[1], MEDIAN, "%s.b", s)),
		show(b[2], 32, "%.3f", stat_of(r, &v[2], MEDIAN, "%s.r", s)),
		show(b[3], 32, "%.3f", stat_of(r, &v[3], MINIMUM, "%s.r", s)),
		show(b[4], 32, "%.3f", stat_of(r, &v[4], MAXIMUM, "%s.r", s)), n);
}

static void line(FILE *o, const char *a, const char *b, const char *c,
		 const char *d)
{
	fprintf(o, "%-38s %12s %14s %14s\n", a, b, c, d);
}

/* "met", "MISSED", or "n/a" when the figure is missing; the figure as
 * shown decides. */
static const char *verdict(const char *shown, bool at_most, double limit)
{
	double x;

	if (!is_number(shown, &x))
		return "n/a";
	return (at_most ? x <= limit : x >= limit) ? "met" : "MISSED";
}

/* A ratio target: met when the median of the per-pair ratios holds. */
static void target(FILE *o, struct run *r, const char *text, const char *s,
		   bool at_most, double limit)
{
	char m[32], label[200];
	struct value v;

	show(m, sizeof(m), "%.3f", stat_of(r, &v, MEDIAN, "%s.r", s));
	snprintf(label, sizeof(label), "%s (median %s)", text, m);
	fprintf(o, "  %-58s %s\n", label, verdict(m, at_most, limit));
}

static void report_header(FILE *o, struct run *r)
{
	double size = param_num(r, "size"), count = param_num(r, "count");
	char mode[32], sizes[512] = "";
	size_t pos = 0;
	long n;

	fprintf(o, "vsockbox bench over TCP 127.0.0.1: pairs of runs, A and B in turn first\n");
	fprintf(o, "unidir %.0f B (vsock-perf --size %.0f --count %.0f); bidir %.0f B each way;\n",
		2 * size * count, size, count, size * count);
	fprintf(o, "latency %s B round trips: ", param(r, "packet"));
	for (bool first = true; next_mode(r, &pos, mode, sizeof(mode)); first = false) {
		if (lat_count(r, mode, &n))
			fprintf(o, "%s%ld on %s", first ? "" : ", ", n, mode_name(mode));
		else
			fprintf(o, "%sn/a on %s", first ? "" : ", ", mode_name(mode));
	}
	fprintf(o, "\n  (a run of about %s s, like sockperf -t %s", param(r, "sp_secs"),
		param(r, "sp_secs"));
	if (param_on(r, "quick"))
		fprintf(o, "; quick: at most %s", param(r, "lat_max"));
	fprintf(o, ")\nceiling read/write size: unidir %s, bidir %s",
		ceiling_io(r, "uni"), ceiling_io(r, "bi"));
	for (size_t i = 0; i < r->sweep_io.n; i++) {
		char u[32], b[32];
		struct value vu, vb;
		const char *io = r->sweep_io.v[i];
		size_t len = strlen(sizes);
		snprintf(sizes + len, sizeof(sizes) - len, " %s:%s/%s", io,
			 show(u, 32, "%.1f", stat_of(r, &vu, MEDIAN, "sweep.uni.%s", io)),
			 show(b, 32, "%.1f", stat_of(r, &vb, MEDIAN, "sweep.bi.%s", io)));
	}
	if (*sizes)
		fprintf(o, "\n  (sweep, medians of 3, MiB/s unidir/bidir:%s)\n", sizes);
	else
		fprintf(o, " (no sweep in quick mode)\n");
}

static void report_batches(FILE *o, struct run *r)
{
	double hz = param_num(r, "hz"), ncpu = param_num(r, "ncpu");

	fprintf(o, "TCP congestion control %s; batches, %s:\n", meta(r, "congestion"),
		param_on(r, "lock") ? "each under the CPU lock" : "no CPU lock");
	fprintf(o, "  %-52s %7s %6s %6s %8s\n", "", "others", "steal", "wall",
		"retrans");
	for (size_t i = 0; i < r->batches.n; i++) {
		const struct snap *a = &r->batches.v[i].at[0], *b = &r->batches.v[i].at[1];
		double busy = (b->busy - a->busy) / hz, total = (b->total - a->total) / hz;
		double steal = (b->steal - a->steal) / hz;
		double others = total > 0 ? (busy - (b->ours - a->ours)) / total * 100 : 0;
		if (others < 0)
			others = 0;
		/* shown as the batch line always kept them: whole percents,
		 * the wall time to a tenth, then whole seconds */
		fprintf(o, "  %-52s %6.0f%% %5.0f%% %5.0fs %8lld\n", r->batches.v[i].name,
			fmt_value("%.0f", others).x,
			fmt_value("%.0f", total > 0 ? steal / total * 100 : 0).x,
			fmt_value("%.1f", total / ncpu).x, b->retrans - a->retrans);
	}
	fprintf(o, "  (others: the share of CPU time, user and system, that our processes did\n"
		"   not use; retrans: TCP segments retransmitted over loopback)\n\n");
}

static void report_throughput(FILE *o, struct run *r)
{
	char b[32];
	struct value v;

	head_row(o, "throughput, MiB/s (A: vsockbox)");
	pr(o, r, "unidir vs ceiling (same pattern)", "uni.vsb-ceil.whole");
	pr(o, r, "  p50 iteration", "uni.vsb-ceil.p50");
	pr(o, r, "unidir vs iperf3 -n", "uni.vsb-iperf.whole");
	pr(o, r, "bidir vs ceiling", "bi.vsb-ceil.whole");
	pr(o, r, "  p50 tx + p50 rx", "bi.vsb-ceil.p50");
	pr(o, r, "bidir vs iperf3 --bidir -n", "bi.vsb-iperf.whole");
	pr(o, r, "musl build vs glibc: unidir", "uni.musl-vsb.whole");
	pr(o, r, "  bidir", "bi.musl-vsb.whole");
	if (param_on(r, "verify")) {
		pr(o, r, "unidir --verify vs plain", "uni.verify-vsb.whole");
		pr(o, r, "  p50 iteration", "uni.verify-vsb.p50");
		pr(o, r, "bidir --verify vs plain", "bi.verify-vsb.whole");
		pr(o, r, "  p50 tx + p50 rx", "bi.verify-vsb.p50");
	} else if (param(r, "verify")) {
		fprintf(o, "--verify vs plain: skipped: this vsockbox has no --verify\n");
	}
	fprintf(o, "%-34s %9s\n", "multi, 5 streams, p50",
		show(b, 32, "%.1f", stat_of(r, &v, MEDIAN, "tp.multi.vsb")));
	fprintf(o, "(whole: all bytes over the wall time of the guest applet / iperf3 client\n"
		" process / the ceiling's timed run; p50: the median iteration as vsock-perf\n"
		" reports it; A/B: the median of the per-pair ratios, min, max, n pairs;\n"
		" bidir's p50 tx + p50 rx adds two directions that take turns, so it is\n"
		" above the whole rate and swings with their balance: no target on it)\n\n");
}

static void report_latency(FILE *o, struct run *r)
{
	static const int percentiles[2] = {50, 99};
	char mode[32], label[100];
	size_t pos = 0;

	head_row(o, "round trip 4 KiB, us (A: vsockbox)");
	while (next_mode(r, &pos, mode, sizeof(mode)))
		for (int i = 0; i < 2; i++) {
			int p = percentiles[i];
			snprintf(label, sizeof(label), "p%d, %s, vs pingpong", p, mode_name(mode));
			pr(o, r, label, "lat.%s.vsb-pp.p%d", mode, p);
			snprintf(label, sizeof(label), "p%d, %s, vs sockperf", p, mode_name(mode));
			pr(o, r, label, "lat.%s.vsb-sp.p%d", mode, p);
		}
	first_mode(r, mode, sizeof(mode));
	for (int i = 0; i < 2; i++) {
		int p = percentiles[i];
		snprintf(label, sizeof(label), "p%d, %s, musl vs glibc", p, mode_name(mode));
		pr(o, r, label, "lat.%s.musl-vsb.p%d", mode, p);
	}
	fprintf(o, "\n");
}

/* The CPU and RSS rows of one test: the host end, the guest end (then both
 * ends' CPU together), the reference program. */
static void cost_rows(FILE *o, struct run *r, const char *t, const char *guest,
		      const char *host, const char *ref)
{
	const char *procs[3] = {host, guest, ref};
	bool no_cpu = !strcmp(t, "itest") || !strcmp(t, "ctl");
	char label[100], cpu[32], sum[32];
	struct value v, h, g, rss, musl;

	for (int i = 0; i < 3; i++) {
		const char *p = procs[i];
		if (!p)
			continue;
		show(cpu, 32, "%.2f", stat_of(r, &v, MEDIAN, "cpu.%s.%s", t, p));
		snprintf(label, sizeof(label), "%s (%s)", p, t);
		const struct value *m = stat_of(r, &musl, MAXIMUM, "musl.rss.%s.%s", t, p);
		const struct value *x = stat_of(r, &rss, MAXIMUM, "rss.%s.%s", t, p);
		line(o, label, no_cpu ? "-" : cpu, x ? x->text : "n/a",
		     strncmp(p, "vsock-", 6) ? "" : m ? m->text : "n/a");
		if (p != guest || no_cpu)
			continue;
		const struct value *hm = stat_of(r, &h, MEDIAN, "cpu.%s.%s", t, host);
		const struct value *gm = stat_of(r, &g, MEDIAN, "cpu.%s.%s", t, guest);
		struct value both = hm && gm ? made(hm->x + gm->x) : v;
		snprintf(label, sizeof(label), "  vsockbox, both ends (%s)", t);
		line(o, label, show(sum, 32, "%.2f", hm && gm ? &both : NULL), "", "");
	}
}

static void report_costs(FILE *o, struct run *r)
{
	char mode[32], lat[48];
	struct value g, m;

	first_mode(r, mode, sizeof(mode));
	snprintf(lat, sizeof(lat), "latency-%s", mode);
	line(o, "process (test)", "CPU s/GiB", "peak RSS KiB", "musl: RSS KiB");
	cost_rows(o, r, "unidir", "vsock-unidir", "vsock-perf", "ceiling");
	cost_rows(o, r, "bidir", "vsock-bidir", "vsock-perf", "ceiling");
	cost_rows(o, r, lat, "vsock-echo", "vsock-perf", "pingpong");
	cost_rows(o, r, "multi", "vsock-multi", "vsock-perf", NULL);
	cost_rows(o, r, "itest", "vsock-itest", "vsock-itest-host", NULL);
	cost_rows(o, r, "ctl", "vsock-ctl", NULL, NULL);
	line(o, "empty main(), static (the floor)", "-",
	     stat_of(r, &g, MAXIMUM, "rss.floor.glibc") ? g.text : "n/a",
	     stat_of(r, &m, MAXIMUM, "rss.floor.musl") ? m.text : "n/a");
	fprintf(o, "(ceiling, pingpong: CPU of both ends, RSS of the measuring end;\n"
		" latency: CPU per GiB of 4 KiB packets moved; vsock-perf keeps each timed\n"
		" round trip, 8 bytes, so its latency RSS is above what its default 10000 take)\n");
	if (param_on(r, "verify")) {
		static const char *const kinds[2][2] = {{"uni", "unidir"}, {"bi", "bidir"}};
		char b[5][32], label[64];
		struct value v[5];
		fprintf(o, "\n%-38s %12s %14s %14s\n", "--verify, CPU s/GiB of both ends",
			"plain", "--verify", "cost");
		for (int i = 0; i < 2; i++) {
			const char *k = kinds[i][0];
			snprintf(label, sizeof(label), "  %s", kinds[i][1]);
			fprintf(o, "%-38s %12s %14s %14s [%s, %s]\n", label,
				show(b[0], 32, "%.2f", stat_of(r, &v[0], MEDIAN, "%s.verify-vsb.cpu.b", k)),
				show(b[1], 32, "%.2f", stat_of(r, &v[1], MEDIAN, "%s.verify-vsb.cpu.a", k)),
				show(b[2], 32, "%.2f", stat_of(r, &v[2], MEDIAN, "%s.verify-vsb.cpu.d", k)),
				show(b[3], 32, "%.2f", stat_of(r, &v[3], MINIMUM, "%s.verify-vsb.cpu.d", k)),
				show(b[4], 32, "%.2f", stat_of(r, &v[4], MAXIMUM, "%s.verify-vsb.cpu.d", k)));
		}
		fprintf(o, "(vsock-perf and the guest applet, user + sys per GiB moved; cost: the\n"
			" median of the per-pair differences, what generating and checking take)\n");
	}
	fprintf(o, "\n");
}

static const char *size_of(const struct run *r, const char *name)
{
	struct field *f = field(r->sizes.v, r->sizes.n, name);

	return f ? f->text : "n/a";
}

static void report_sizes(FILE *o, struct run *r)
{
	static const char *const sizes[][2] = {
		{"  vsockbox, glibc", "glibc"}, {"  vsockbox, musl, -O2", "musl-O2"},
		{"  vsockbox, musl, -Os", "musl-Os"},
		{"  vsockbox, musl, make SMALL=1 (*)", "musl-small"},
		{"    the protocol's slice (**)", "musl-small-protocol"},
	};
	static const char *const starts[][2] = {
		{"  vsock-echo --help, glibc", "start.glibc"},
		{"  vsock-echo --help, musl", "start.musl"},
		{"  empty main(), glibc static", "start.true.glibc"},
		{"  empty main(), musl static", "start.true.musl"},
	};
	char b[32];
	struct value v;

	line(o, "static binary, stripped", "bytes", "", "");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		line(o, sizes[i][0], size_of(r, sizes[i][1]), "", "");
	line(o, "start-up, us per call (median)", "", "", "");
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
		line(o, starts[i][0],
		     show(b, 32, "%.1f", stat_of(r, &v, MEDIAN, "%s", starts[i][1])), "", "");
	fprintf(o, "\n");
}

/* The largest peak RSS of any applet, glibc or musl. */
static const struct value *largest_rss(struct run *r, struct value *out)
{
	const struct value *top = NULL;
	struct value m;

	for (size_t i = 0; i < r->series.n; i++) {
		const char *name = r->series.v[i].name;
		const char *rest = !strncmp(name, "rss.", 4) ? name + 4
			: !strncmp(name, "musl.rss.", 9) ? name + 9 : NULL;
		if (!rest || !strstr(rest, ".vsock-") ||
		    !extreme(r, name, true, &m) || (top && m.x <= top->x))
			continue;
		*out = m;
		top = out;
	}
	return top;
}

static void report_targets(FILE *o, struct run *r)
{
	char mode[32], text[200], shown[32], kib[32];
	size_t pos = 0;
	struct value v;
	double x;

	fprintf(o, "targets (a ratio target is met when the median of the per-pair ratios holds)\n");
	target(o, r, "unidir >= 0.95 x ceiling, same pattern", "uni.vsb-ceil.whole", false, 0.95);
	target(o, r, "unidir >= iperf3", "uni.vsb-iperf.whole", false, 1);
	target(o, r, "bidir >= 0.95 x ceiling", "bi.vsb-ceil.whole", false, 0.95);
	target(o, r, "bidir >= iperf3 --bidir, per byte moved", "bi.vsb-iperf.whole", false, 1);
	while (next_mode(r, &pos, mode, sizeof(mode))) {
		char s[64];
		snprintf(text, sizeof(text), "echo p50 <= 1.05 x pingpong, %s", mode_name(mode));
		snprintf(s, sizeof(s), "lat.%s.vsb-pp.p50", mode);
		target(o, r, text, s, true, 1.05);
		snprintf(text, sizeof(text), "echo p50 <= sockperf, %s", mode_name(mode));
		snprintf(s, sizeof(s), "lat.%s.vsb-sp.p50", mode);
		target(o, r, text, s, true, 1);
		snprintf(text, sizeof(text), "echo p99 <= sockperf, %s", mode_name(mode));
		snprintf(s, sizeof(s), "lat.%s.vsb-sp.p99", mode);
		target(o, r, text, s, true, 1);
	}
	if (param_on(r, "verify")) {
		target(o, r, "unidir --verify >= 0.92 x plain", "uni.verify-vsb.whole", false, 0.92);
		target(o, r, "  p50 iteration", "uni.verify-vsb.p50", false, 0.92);
		target(o, r, "bidir --verify >= 0.92 x plain", "bi.verify-vsb.whole", false, 0.92);
	}
	const struct value *rss = largest_rss(r, &v);
	snprintf(text, sizeof(text), "peak RSS <= 2 MiB per applet (largest: %s MiB)",
		 show(shown, 32, "%.2f", rss ? &(struct value){.x = rss->x / 1024} : NULL));
	fprintf(o, "  %-58s %s\n", text, verdict(rss ? rss->text : "n/a", true, 2048));
	static const char *const musl[][2] = {
		{"stripped static musl binary <= 64 KiB, -O2", "musl-O2"},
		{"  make SMALL=1 (*), the protocol's slice (**)", "musl-small-protocol"},
	};
	for (int i = 0; i < 2; i++) {
		const char *size = size_of(r, musl[i][1]);
		snprintf(text, sizeof(text), "%s (%s KiB)", musl[i][0],
			 show(kib, 32, "%.1f", is_number(size, &x) ?
			      &(struct value){.x = x / 1024} : NULL));
		fprintf(o, "  %-58s %s\n", text, verdict(size, true, 65536));
	}
	fprintf(o, "\n(*) SMALL=1 (Makefile): -Os, no unwind tables, unused sections dropped,\n"
		"    no RELRO, no page-aligned code or data segment, no build id\n"
		"(**) make protocolconfig: the original protocol's slice, its applets\n"
		"    (PROTOCOL_APPLETS in the Makefile) with every FEATURE_ entry off (no\n"
		"    --verify, hybrid vsock, --zerocopy, --interval or progress lines); the\n"
		"    other builds are of the default configuration\n");
}

static void report(FILE *o, struct run *r)
{
	report_header(o, r);
	report_batches(o, r);
	report_throughput(o, r);
	report_latency(o, r);
	report_costs(o, r);
	report_sizes(o, r);
	report_targets(o, r);
}

static const char how[] =
	"How: every comparison is a series of pairs of runs, A then B, then B\n"
	"then A, and so on (each pair under the CPU lock, in its own network\n"
	"namespace when run as root); a ratio is the median of the per-pair\n"
	"ratios, with the smallest and largest, never a best run, and a target is\n"
	"met only when that median holds. \"others busy\" is the share of the CPUs'\n"
	"user and system time that our processes did not use during the batch\n"
	"(irq and softirq time left out, as it is mostly our own network work);\n"
	"steal is the hypervisor's. vsockbox: `vsock-perf --listen\n"
	"tcp:127.0.0.1:0 --json` with the guest applet; \"whole\" is all bytes over\n"
	"the guest applet's wall time (process start and connections included),\n"
	"\"p50\" vsock-perf's median iteration. ceiling: bench/ceiling.c at the best\n"
	"read/write size of a sweep; unidir with the protocol's pattern (-R: per\n"
	"iteration SIZE out, then SIZE back, so the stream turns round twice per\n"
	"iteration), bidir a writer thread beside the reader, SIZE each way per\n"
	"iteration; its own timed run (from the first byte). iperf3: `-n` the\n"
	"same bytes; `--bidir -n` ends when the first direction is done, so its\n"
	"figure is the bytes received both ways over the client process's wall\n"
	"time, like vsockbox's. Throughput runs unpinned. Latency: vsock-perf\n"
	"with vsock-echo (100 warm-up, then N timed 4096-byte round trips, N\n"
	"set per CPU mode from a short calibration run so that a run lasts\n"
	"about as long as sockperf's) vs\n"
	"bench/pingpong.c (the same, TCP_NODELAY) vs `sockperf ping-pong --tcp -m\n"
	"4096 --full-rtt` (its own percentiles), with both ends on one CPU, then\n"
	"on two (host end CPU 0, guest end CPU 1). CPU: wait4's user+sys of each\n"
	"process (bench/rusage.c). Peak RSS: the largest VmRSS of the process,\n"
	"read every 10 ms and at its exit (a ptrace exit stop), which is exact;\n"
	"ru_maxrss and VmHWM would not be: they would count the wrapper's pages\n"
	"before exec, and since Linux 6.2 they read per-CPU counters that can\n"
	"miss ~32 pages per CPU. ceiling and pingpong: the parent process (the\n"
	"measuring end) only.\n";

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct series *)a)->name,
		      ((const struct series *)b)->name);
}

static void copy_file(FILE *o, const char *path)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return;		/* no notes */
	while ((n = fread(buf, 1, sizeof(buf), f)))
		fwrite(buf, 1, n, o);
	fclose(f);
	fputc('\n', o);
}

static void results_md(FILE *o, struct run *r, const char *table, const char *notes)
{
	/* The tree's licence line, as every file has (make check-spdx). */
	fprintf(o, "<!-- SPDX-License-Identifier: MIT -->\n# vsockbox benchmark results\n\n");
	fprintf(o, "Taken %s by `bench/run.sh%s` (%s failures).\n\n", meta(r, "taken"),
		param_on(r, "quick") ? " --quick" : "", meta(r, "failures"));
	fprintf(o, "- source: %s, binary %s bytes (%s)\n", meta(r, "source"),
		meta(r, "binary_bytes"), meta(r, "binary"));
	fprintf(o, "- machine: %s\n- kernel: %s\n- compilers: %s\n- tools: %s\n\n",
		meta(r, "machine"), meta(r, "kernel"), meta(r, "compilers"),
		meta(r, "tools"));
	fprintf(o, "```\n%s```\n\n", table);
	if (notes)
		copy_file(o, notes);
	fprintf(o, "%s\nEvery sample, sorted (X.a, X.b: the two sides of comparison X; X.r: the\n"
		"per-pair ratios%s):\n\n```\n", how,
		param_on(r, "verify") ? "; X.d: the per-pair differences" : "");
	if (r->series.n)
		qsort(r->series.v, r->series.n, sizeof(*r->series.v), by_name);
	for (size_t i = 0; i < r->series.n; i++) {
		const char *name = r->series.v[i].name;
		if (!strncmp(name, "start.", 6) || !strncmp(name, "sweep.", 6))
			continue;
		struct series *s = sorted(r, name);
		fprintf(o, "%-34s ", name);
		for (size_t j = 0; s && j < s->n; j++)
			fprintf(o, "%s ", s->v[j].text);
		fprintf(o, "\n");
	}
	fprintf(o, "```\n");
}

/* The protocol numbers bench/run.sh needs on its command lines. */
static int fact(const char *name)
{
	static const struct { const char *name; long value; } facts[] = {
		{"itest-servers", ITEST_SERVERS},
		{"warmup", PERF_WARMUP_PACKETS},
	};

	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++)
		if (!strcmp(facts[i].name, name)) {
			printf("%ld\n", facts[i].value);
			return 0;
		}
	die("no fact named %s", name);
}

static void free_fields(struct field *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].text);
	}
	free(v);
}

static void free_run(struct run *r)
{
	free_fields(r->params.v, r->params.n);
	free_fields(r->meta.v, r->meta.n);
	free_fields(r->sizes.v, r->sizes.n);
	free_fields(r->calib.v, r->calib.n);
	for (size_t i = 0; i < r->series.n; i++) {
		free(r->series.v[i].name);
		free(r->series.v[i].v);
	}
	free(r->series.v);
	for (size_t i = 0; i < r->figures.n; i++) {
		free(r->figures.v[i].kind);
		free(r->figures.v[i].cmp);
		free(r->figures.v[i].who);
		free(r->figures.v[i].fig);
	}
	free(r->figures.v);
	for (size_t i = 0; i < r->batches.n; i++)
		free(r->batches.v[i].name);
	free(r->batches.v);
	for (size_t i = 0; i < r->sweep_io.n; i++)
		free(r->sweep_io.v[i]);
	free(r->sweep_io.v);
}

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: report [--out FILE] [--notes FILE] SAMPLES\n"
		"       report --lat-count MODE SAMPLES | --ceiling-io uni|bi SAMPLES\n"
		"       report --fact itest-servers|warmup\n");
	exit(2);
}

static void write_report(struct run *r, const char *out, const char *notes)
{
	char *table = NULL;
	size_t len = 0;
	FILE *t = open_memstream(&table, &len);

	if (!t)
		die("out of memory");
	report(t, r);
	if (fclose(t))
		die("out of memory");
	fputs(table, stdout);
	if (fflush(stdout) || ferror(stdout))
		die("stdout: write error");
	if (out) {
		FILE *o = fopen(out, "w");
		if (!o)
			die("%s: %s", out, strerror(errno));
		results_md(o, r, table, notes);
		if (ferror(o) | fclose(o))
			die("%s: write error", out);
	}
	free(table);
}

int main(int argc, char **argv)
{
	const char *out = NULL, *notes = NULL, *lat = NULL, *io = NULL;
	struct run r = {0};
	int i = 1;

	for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--fact") && i + 2 == argc)
			return fact(argv[i + 1]);
		else if (!strcmp(argv[i], "--out"))
			out = argv[i + 1];
		else if (!strcmp(argv[i], "--notes"))
			notes = argv[i + 1];
		else if (!strcmp(argv[i], "--lat-count"))
			lat = argv[i + 1];
		else if (!strcmp(argv[i], "--ceiling-io"))
			io = argv[i + 1];
		else
			usage();
	}
	if (i + 1 != argc)
		usage();
	read_samples(&r, argv[i]);
	pair_up(&r);
	if (lat) {
		long n = (long)param_num(&r, "lat_probe");
		lat_count(&r, lat, &n);
		printf("%ld\n", n);
	} else if (io) {
		printf("%s\n", ceiling_io(&r, io));
	} else {
		write_report(&r, out, notes);
	}
	free_run(&r);
	return 0;
}
