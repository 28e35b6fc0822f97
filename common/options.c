// SPDX-License-Identifier: MIT
/* One command-line parser for every applet, driven by the applet's own
 * table (struct opt): every option is range-checked the same way, may be
 * given at most once (but a byte list), and --help prints the usage laid
 * out from the same table, so the text cannot drift from what is parsed. */
#include "vsockbox.h"

#include <stdlib.h>
#include <string.h>

enum { OPTIONS_MAX = 32 };

static void *field(void *values, const struct opt *o)
{
	return (char *)values + o->offset;
}

static size_t option_count(const struct applet_spec *spec)
{
	size_t n = 0;
	while (spec->opts[n].name)
		n++;
	return n;
}

/* ---- values ---- */

/* Name i of an OPT_NAMES or OPT_NAME_SET option, NULL past the last. */
static const char *name_at(const struct opt *o, size_t i)
{
	return o->flags & OPT_NAME_OF ? o->name_of(i) : o->names[i].name;
}

_Noreturn static void unknown_name(const struct opt *o, const char *arg,
				   const char *p, size_t len)
{
	char known[160];
	size_t k = 0;
	const char *n;

	for (size_t i = 0; (n = name_at(o, i)) != NULL; i++) {
		if (k + strlen(n) + 6 >= sizeof(known)) {
			format(known + k, sizeof(known) - k, ", ...");
			break;
		}
		k += format(known + k, sizeof(known) - k, "%s%s", k ? ", " : "", n);
	}
	die(EXIT_USAGE, "--%s %s: unknown %s '%.*s' (%s)", o->name, arg,
		    o->arg ? o->arg : "name", (int)len, p, known);
}

/* Calls take(o, index, v) for each name of a comma list (a trailing comma
 * allowed); any other word is refused, and so is a list of none. */
static void parse_name_list(const struct opt *o, const char *arg, void *v,
			    void (*take)(const struct opt *, size_t, void *))
{
	const char *p = arg;
	bool any = false;

	while (*p) {
		size_t len = strcspn(p, ","), i;
		const char *n;
		for (i = 0; (n = name_at(o, i)) != NULL; i++)
			if (strlen(n) == len && strncmp(p, n, len) == 0)
				break;
		if (!n)
			unknown_name(o, arg, p, len);
		take(o, i, v);
		any = true;
		p += len;
		if (*p == ',' && *++p == '\0')
			break;
	}
	if (!any)
		die(EXIT_USAGE, "--%s %s: none named", o->name, arg);
}

static void take_bits(const struct opt *o, size_t i, void *v)
{
	*(unsigned *)v |= o->names[i].bits;
}

static void take_member(const struct opt *o, size_t i, void *v)
{
	struct name_set *set = v;
	if (i >= NAME_SET_MAX)
		die(EXIT_USAGE, "--%s: more than %d names", o->name, NAME_SET_MAX);
	set->bits[i / 64] |= (uint64_t)1 << (i % 64);
}

static unsigned parse_names(const struct opt *o, const char *arg)
{
	unsigned bits = 0;

	parse_name_list(o, arg, &bits, take_bits);
	if (!bits)
		die(EXIT_USAGE, "--%s %s: none named", o->name, arg);
	return bits;
}

static void parse_peer_env(const struct opt *o, struct address *a)
{
	const char *env = getenv("VSOCKBOX_PEER");

	if (env && *env) {
		const char *why = parse_address(env, a);
		if (why)
			die(EXIT_USAGE, "VSOCKBOX_PEER=%s: %s", env, why);
	} else {
		*a = vsock_any(PORT_UNSET);
		a->cid = CID_HOST;
	}
	if (a->port == PORT_UNSET)
		a->port = (uint32_t)o->def;
}

/* The row's own default address, else none: family 0, port .def. */
static void default_address(const struct opt *o, struct address *a)
{
	memset(a, 0, sizeof(*a));
	a->port = (uint32_t)o->def;
	const char *text = o->def_addr;
	if (!text)
		return;
	const char *why = parse_address(text, a);
	if (why)	/* the table is wrong: check-cmdline sees every one */
		die(EXIT_USAGE, "--%s: default %s: %s", o->name, text, why);
	if (a->port == PORT_UNSET)
		a->port = (uint32_t)o->def;
}

static void set_default(const struct opt *o, void *v)
{
	switch ((enum opt_kind)o->kind) {
	case OPT_FLAG: *(bool *)v = false; break;
	case OPT_NUM: case OPT_BYTES: *(uint64_t *)v = o->def; break;
	case OPT_PEER: parse_peer_env(o, v); break;
	case OPT_BYTE_LIST: ((struct byte_list *)v)->n = 0; break;
	case OPT_NAMES: *(unsigned *)v = (unsigned)o->def; break;
	case OPT_NAME_SET: memset(v, 0, sizeof(struct name_set)); break;
	case OPT_ADDR: default_address(o, v); break;
	}
}

static void apply(const struct opt *o, void *v, const char *arg)
{
	const char *why = NULL;
	uint64_t n;

	switch ((enum opt_kind)o->kind) {
	case OPT_FLAG: *(bool *)v = true; return;
	case OPT_NUM: case OPT_BYTES:
		why = parse_u64(arg, o->min, o->max,
				o->kind == OPT_BYTES ? NUM_SUFFIX : 0, v);
		break;
	case OPT_ADDR: case OPT_PEER: {
		struct address *a = v;
		why = parse_address(arg, a);
		if (!why && a->port == PORT_UNSET)
			a->port = (uint32_t)o->def;
		break;
	}
	case OPT_BYTE_LIST: {
		struct byte_list *l = v;
		if (l->n == BYTE_LIST_MAX)
			die(EXIT_USAGE, "--%s: at most %d", o->name, BYTE_LIST_MAX);
		why = parse_u64(arg, 0, 255, 0, &n);
		if (!why)
			l->v[l->n++] = (unsigned char)n;
		break;
	}
	case OPT_NAMES: *(unsigned *)v = parse_names(o, arg); return;
	case OPT_NAME_SET: parse_name_list(o, arg, v, take_member); return;
	}
	if (why)
		die(EXIT_USAGE, "--%s %s: %s", o->name, arg, why);
}

/* ---- the command line ---- */

enum { FOUND_NONE = -1, FOUND_HELP = -2, FOUND_VERSION = -3 };

/* The option a word names: an exact name, else the one name it begins
 * (getopt_long's abbreviations); FOUND_NONE when none or several. */
static int find_option(const struct applet_spec *spec, const char *word,
		       size_t len)
{
	static const char *const own[] = {"help", "version"};
	int found = FOUND_NONE, matches = 0;
	size_t n = option_count(spec);

	for (size_t i = 0; i < n + 2; i++) {
		const char *name = i < n ? spec->opts[i].name : own[i - n];
		int id = i < n ? (int)i : (i == n ? FOUND_HELP : FOUND_VERSION);
		if (strncmp(name, word, len) != 0)
			continue;
		if (name[len] == '\0')
			return id;	/* exact */
		found = id;
		matches++;
	}
	return matches == 1 ? found : FOUND_NONE;
}

/* Long options (--name VALUE, --name=VALUE, unambiguous abbreviations),
 * -h, and "--"; the first operand ends the options, so vsock-ctl can run
 * a program with options of its own. */
static void usage(const struct applet_spec *spec, const char *about);

/* The parser; with given, the text of each option given goes to
 * given[row], and with about, --help prints it instead of describe(). */
static int parse_args(const struct applet_spec *spec, void *values, int argc,
		      char **argv, const char **given, const char *about)
{
	bool seen[OPTIONS_MAX] = {false};
	int i = 1;

	if (option_count(spec) > OPTIONS_MAX)
		die(EXIT_USAGE, "%zu options: at most %d", option_count(spec),
		    OPTIONS_MAX);
	for (const struct opt *o = spec->opts; o->name; o++)
		set_default(o, field(values, o));
	while (i < argc) {
		const char *word = argv[i];
		if (strcmp(word, "--") == 0) {
			i++;
			break;
		}
		if (word[0] != '-' || word[1] == '\0')
			break;		/* an operand, "-" too */
		if (word[1] != '-') {
			if (word[1] != 'h')
				die(EXIT_USAGE, "unknown option -%c (try --help)", word[1]);
			print_usage(spec);
			exit(EXIT_PASS);
		}
		const char *name = word + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		int k = len ? find_option(spec, name, len) : FOUND_NONE;
		const struct opt *o = k >= 0 ? &spec->opts[k] : NULL;
		if (k == FOUND_NONE || (eq && (!o || o->kind == OPT_FLAG)))
			die(EXIT_USAGE, "unknown option %s (try --help)", word);
		if (k == FOUND_HELP) {
			usage(spec, about);
			exit(EXIT_PASS);
		}
		if (k == FOUND_VERSION) {
			out("%s (vsockbox) " VSOCKBOX_VERSION "\n", applet_name());
			exit(EXIT_PASS);
		}
		const char *value = eq ? eq + 1 : NULL;
		if (o->kind != OPT_FLAG && !eq) {
			if (i + 1 >= argc)
				die(EXIT_USAGE, "%s: missing value (try --help)", word);
			value = argv[++i];
		}
		i++;
		if (seen[k] && o->kind != OPT_BYTE_LIST)
			die(EXIT_USAGE, "--%s given twice", o->name);
		seen[k] = true;
		apply(o, field(values, o), value);
		if (given)
			given[k] = value ? value : "";
	}
	if (!spec->operands && i < argc)
		die(EXIT_USAGE, "unexpected argument '%s' (try --help)", argv[i]);
	return i;
}

int parse_command_line(const struct applet_spec *spec, void *values,
		       int argc, char **argv)
{
	return parse_args(spec, values, argc, argv, NULL, NULL);
}

/* ---- the usage text ---- */

static bool has_kind(const struct applet_spec *spec, enum opt_kind a,
		     enum opt_kind b)
{
	for (const struct opt *o = spec->opts; o->name; o++)
		if (o->kind == a || o->kind == b)
			return true;
	return false;
}

/* "128M" for whole multiples of a suffix, else the plain number. */
static void size_text(char *buf, size_t len, uint64_t v)
{
	static const char suffix[] = "TGMK";
	for (int i = 0; i < 4; i++) {
		unsigned shift = (unsigned)(40 - 10 * i);
		if (v && v % ((uint64_t)1 << shift) == 0) {
			format(buf, len, "%llu%c", (unsigned long long)(v >> shift),
			       suffix[i]);
			return;
		}
	}
	format(buf, len, "%llu", (unsigned long long)v);
}

/* The default as the usage shows it, or "" for none. */
static void default_text(const struct opt *o, char *buf, size_t len)
{
	char addr[ADDRESS_TEXT_MAX];

	buf[0] = '\0';
	if (o->def_text) {
		format(buf, len, "%s", o->def_text);
	} else if (o->kind == OPT_NUM) {
		format(buf, len, "%llu", (unsigned long long)o->def);
	} else if (o->kind == OPT_BYTES) {
		size_text(buf, len, o->def);
	} else if (o->kind == OPT_PEER) {
		struct address a = vsock_any((uint32_t)o->def);
		a.cid = CID_HOST;
		format_address(&a, addr, sizeof(addr));
		format(buf, len, "$VSOCKBOX_PEER, else %s", addr);
	} else if (o->kind == OPT_ADDR && o->def_addr) {
		struct address a;
		default_address(o, &a);
		format_address(&a, addr, sizeof(addr));
		format(buf, len, "%s", addr);
	}
}

static void usage_line(const struct applet_spec *spec)
{
	char word[64];
	size_t indent = strlen("usage: ") + strlen(applet_name()), col;

	out("usage: %s", applet_name());
	col = indent;
	for (const struct opt *o = spec->opts;; o++) {
		size_t n;
		if (o->name)
			n = format(word, sizeof(word), " [--%s%s%s]", o->name,
				   o->arg ? " " : "", o->arg ? o->arg : "");
		else if (spec->operands)
			n = format(word, sizeof(word), " %s", spec->operands);
		else
			break;
		if (col + n > 79) {
			out("\n%*s", (int)indent, "");
			col = indent;
		}
		out("%s", word);
		col += n;
		if (!o->name)
			break;
	}
	out("\n\n");
}

/* Words of text from column col on, wrapped at 79 columns under column
 * indent; returns the column reached. */
static size_t wrap_words(const char *text, size_t col, size_t indent)
{
	while (*text) {
		size_t n = strcspn(text, " \n");
		if (n) {
			if (col > indent && col + 1 + n > 79) {
				out("\n%*s", (int)indent, "");
				col = indent;
			}
			out("%s%.*s", col > indent ? " " : "", (int)n, text);
			col += n + (col > indent);
		}
		text += n;
		if (*text)
			text++;
	}
	return col;
}

/* One option: "  --name ARG   help (default D)", wrapped under the
 * help's column. */
static void option_lines(const struct opt *o, int width)
{
	char left[48], def[96];
	size_t indent = 2 + (size_t)width + 2;

	format(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
	       o->arg ? o->arg : "");
	out("  %-*s  ", width, left);
	size_t col = wrap_words(o->help, indent, indent);
	default_text(o, def, sizeof(def));
	if (*def) {
		char text[sizeof(def) + 16];
		format(text, sizeof(text), "(default %s)", def);
		wrap_words(text, col, indent);
	}
	out("\n");
}

/* What every applet's help ends with, for the kinds of value it takes. */
static void shared_text(const struct applet_spec *spec)
{
	out("\n");
	if (has_kind(spec, OPT_ADDR, OPT_PEER))
		out("ADDR: vsock:CID[:PORT] (CID a number, or any, local (1), host (2)),\n"
		    "      tcp:IPV4[:PORT] or tcp:[IPV6][:PORT]; a bare CID is vsock"
		    IF_FEATURE_HYBRID(";\n"
		    "      unix:PATH[:PORT] a hybrid vsock host's socket (CONNECT to PATH,\n"
		    "      guest connections at PATH_PORT); unix-ports:PATH[:PORT] PATH_PORT\n"
		    "      both ways, no CONNECT (libkrun)") ".\n");
	if (has_kind(spec, OPT_BYTES, OPT_BYTES))
		out("BYTES: a number with an optional K, M, G or T suffix (powers of 1024).\n");
	out("Exit: 0 pass, 1 test failure (data, protocol, peer), 2 usage,\n"
	    "3 environment (no vsock, address in use, unreachable, time-out).\n");
}

static void usage(const struct applet_spec *spec, const char *about)
{
	int width = 0;

	usage_line(spec);
	if (about)
		out("%s\n", about);
	else
		spec->describe();
	for (const struct opt *o = spec->opts; o->name; o++) {
		int w = (int)(strlen(o->name) + 2 + (o->arg ? strlen(o->arg) + 1 : 0));
		if (w > width)
			width = w;
	}
	if (spec->opts[0].name)
		out("\n");
	for (const struct opt *o = spec->opts; o->name; o++)
		option_lines(o, width);
	shared_text(spec);
}

void print_usage(const struct applet_spec *spec)
{
	usage(spec, NULL);
}

void list_options(const char *applet, const struct applet_spec *spec)
{
	static const char *const kinds[] = {
		[OPT_FLAG] = "flag", [OPT_NUM] = "num", [OPT_BYTES] = "bytes",
		[OPT_ADDR] = "addr", [OPT_PEER] = "addr",
		[OPT_BYTE_LIST] = "byte-list", [OPT_NAMES] = "names",
		[OPT_NAME_SET] = "names",
	};

	for (const struct opt *o = spec->opts; o->name; o++) {
		bool number = o->kind == OPT_NUM || o->kind == OPT_BYTES;
		out("%s %s %s", applet, o->name, kinds[o->kind]);
		if (number)
			out(" %llu %llu %llu", (unsigned long long)o->min,
			    (unsigned long long)o->max, (unsigned long long)o->def);
		else if (o->kind == OPT_BYTE_LIST)
			out(" 0 255 -");
		else
			out(" - - -");
		if (o->kind == OPT_NAMES || o->kind == OPT_NAME_SET) {
			const char *sep = " ", *n;
			for (size_t i = 0; (n = name_at(o, i)) != NULL; i++) {
				out("%s%s", sep, n);
				sep = ",";
			}
		} else {
			out(" -");
		}
		out("\n");
	}
}

/* ---- compositions: one front end for several applets run together ---- */

/* Room for any kind of value, so that a composed table's offsets need no
 * struct of their own. */
union any_value {
	bool flag;
	uint64_t number;
	unsigned names;
	struct address address;
	struct byte_list bytes;
};

/* A composed row's .offset is narrow (struct opt). */
_Static_assert(OPTIONS_MAX * sizeof(union any_value) <= UINT16_MAX,
	       "composed offsets do not fit struct opt's .offset");

struct composition {
	const char *name;	/* the front end's, e.g. vsock-bench */
	const struct composed *applets;
	size_t n;
	struct opt opts[OPTIONS_MAX + 1];
	char def_text[OPTIONS_MAX][64];	/* "100/100/50": defaults that differ */
	const char *given[OPTIONS_MAX];	/* the value text of each given option */
	union any_value values[OPTIONS_MAX];
};

static const struct opt *find_row(const struct opt *opts, const char *name)
{
	for (const struct opt *o = opts; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* The default every applet that takes row k gives it, "A/B/C" if they
 * differ. */
static void merged_default(struct composition *c, size_t k)
{
	struct opt *row = &c->opts[k];
	size_t used = 0;
	bool differ = false;

	for (size_t i = 0; i < c->n; i++) {
		const struct opt *o = find_row(c->applets[i].spec->opts, row->name);
		if (!o)
			continue;
		char text[24];
		differ |= o->def != row->def;
		if (o->kind == OPT_BYTES)
			size_text(text, sizeof(text), o->def);
		else
			format(text, sizeof(text), "%llu", (unsigned long long)o->def);
		used += format(c->def_text[k] + used, sizeof(c->def_text[k]) - used,
			       "%s%s", used ? "/" : "", text);
		if (used >= sizeof(c->def_text[k]))
			break;
	}
	if (differ && !row->def_text)
		row->def_text = c->def_text[k];
}

/* Every option of the applets but their own (OPT_OWN), once, in the
 * order the applets give them; the first applet's row stands for all. */
static void compose_table(struct composition *c)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n; i++)
		for (const struct opt *o = c->applets[i].spec->opts; o->name; o++) {
			if ((o->flags & OPT_OWN) || find_row(c->opts, o->name))
				continue;
			if (k == OPTIONS_MAX)
				die(EXIT_USAGE, "%s: more than %d options", c->name,
				    OPTIONS_MAX);
			c->opts[k] = *o;
			c->opts[k].offset = (uint16_t)(k * sizeof(union any_value));
			c->opts[k + 1] = (struct opt)OPTION_END;
			if (o->kind == OPT_NUM || o->kind == OPT_BYTES)
				merged_default(c, k);
			k++;
		}
}

/* One applet's share of the given options as "--NAME=VALUE" words,
 * judged by that applet's own parser; printed as one line, APPLET first. */
static void compose_applet(struct composition *c, const struct composed *a)
{
	char *argv[OPTIONS_MAX + 2], words[OPTIONS_MAX][160];
	int argc = 0;

	argv[argc++] = (char *)a->name;
	for (size_t k = 0; c->opts[k].name; k++) {
		if (!c->given[k] || !find_row(a->spec->opts, c->opts[k].name))
			continue;
		format(words[argc - 1], sizeof(words[0]), "--%s%s%s", c->opts[k].name,
		       c->opts[k].kind == OPT_FLAG ? "" : "=", c->given[k]);
		argv[argc] = words[argc - 1];
		argc++;
	}
	argv[argc] = NULL;
	void *values = xmalloc(a->spec->values_size);
	parse_command_line(a->spec, values, argc, argv);
	xfree(values);
	out("%s", a->name);
	for (int i = 1; i < argc; i++)
		out(" %s", argv[i]);
	out("\n");
}

int compose(const char *name, const struct composed *applets, size_t n,
	    const char *text, int argc, char **argv)
{
	struct composition *c = xmalloc(sizeof(*c));

	c->name = name;
	c->applets = applets;
	c->n = n;
	compose_table(c);
	const struct applet_spec spec = {NULL, NULL, c->opts,
					 sizeof(c->values)};
	set_applet_name(name);
	parse_args(&spec, c->values, argc, argv, c->given, text);
	for (size_t i = 0; i < n; i++)
		compose_applet(c, &applets[i]);
	xfree(c);
	return EXIT_PASS;
}
