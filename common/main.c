// SPDX-License-Identifier: MIT
/* Dispatch: the applet named by argv[0], or by `vsockbox APPLET ARGS`. */
#include "vsockbox.h"

#include <string.h>
#include <unistd.h>

#define APPLET(c_name, name, summary) \
	int c_name##_main(int argc, char **argv); \
	extern const struct applet_spec c_name##_spec;
#include "applets.h"
#undef APPLET

struct applet {
	const char *name;
	int (*main)(int argc, char **argv);
	const struct applet_spec *spec;
	const char *summary;
};

static const struct applet applets[] = {
#define APPLET(c_name, name, summary) {name, c_name##_main, &c_name##_spec, summary},
#include "applets.h"
#undef APPLET
};

enum { APPLET_COUNT = sizeof(applets) / sizeof(applets[0]) };
/* Past the last applet (a pointer, so that a build of none compiles:
 * i < 0 of an index would be a warning). */
#define APPLETS_END (applets + APPLET_COUNT)

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static const struct applet *find_applet(const char *name)
{
	for (const struct applet *a = applets; a < APPLETS_END; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static int list_applets(void)
{
	for (const struct applet *a = applets; a < APPLETS_END; a++)
		out("%s\n", a->name);
	return EXIT_PASS;
}

/* Every option of every applet, machine-readable (options.c). */
static int list_all_options(void)
{
	for (const struct applet *a = applets; a < APPLETS_END; a++)
		list_options(a->name, a->spec);
	return EXIT_PASS;
}

/* Every test of the micro benchmark (PERF_TESTS, protocol.h), one line
 * each, "test NAME GUEST-APPLET PORT STREAMS LABEL", and one per result,
 * "result NAME JSON-KEY TABLE-LABEL": vsock-bench takes its stages from
 * here, the test suites their lists. */
static int list_perf_tests(void)
{
	for (int i = 0; i < PERF_TESTS_N; i++) {
		const struct perf_test *t = &perf_tests[i];
		out("test %s %s %u %u %s\n", t->name, t->guest, (unsigned)t->port,
		    t->streams, t->label);
		for (int k = 0; k < PERF_RESULTS_MAX && t->results[k].key; k++)
			out("result %s %s %s\n", t->name, t->results[k].key,
			    t->results[k].label);
	}
	return EXIT_PASS;
}

/* `vsockbox --check-options APPLET ARGS...`: APPLET's own parser judges
 * ARGS, which are options only, and nothing runs: exit 0, or its one line
 * and 2. vsock-bench checks its stages' options this way before any of
 * them opens a connection. */
static int check_options(int argc, char **argv)
{
	const struct applet *a = argc > 2 ? find_applet(argv[2]) : NULL;

	if (!a) {
		print_to(STDERR_FILENO, "vsockbox: --check-options: %s\n", argc > 2 ?
			"no such applet (try vsockbox --list)" :
			"which applet? (--check-options APPLET ARGS...)");
		return EXIT_USAGE;
	}
	set_applet_name(a->name);
	void *values = xmalloc(a->spec->values_size);
	int first = parse_command_line(a->spec, values, argc - 2, argv + 2);
	xfree(values);
	if (first < argc - 2)
		die(EXIT_USAGE, "unexpected argument '%s'", argv[first + 2]);
	return EXIT_PASS;
}

/* `vsockbox --compose NAME APPLET,APPLET... TEXT ARGS...` (options.c):
 * the front end of a script that runs several applets together. */
static int compose_applets(int argc, char **argv)
{
	struct composed list[APPLET_COUNT];
	size_t n = 0;

	if (argc < 5) {
		print_to(STDERR_FILENO, "vsockbox: --compose NAME APPLET,APPLET... TEXT ARGS...\n");
		return EXIT_USAGE;
	}
	/* The comma list, empty names skipped (split by hand: strtok would
	 * bring code of its own into the small build). */
	for (char *name = argv[3], *next; *name; name = next) {
		size_t len = strcspn(name, ",");
		next = name + len + (name[len] == ',');
		name[len] = '\0';
		if (!len)
			continue;
		const struct applet *a = find_applet(name);
		if (!a || n == APPLET_COUNT) {
			print_to(STDERR_FILENO, "vsockbox: --compose: no applet %s in this build "
				"(vsockbox --list)\n", name);
			return EXIT_ENV;
		}
		list[n++] = (struct composed){a->name, a->spec};
	}
	return compose(argv[2], list, n, argv[4], argc - 4, argv + 4);
}

static int usage(int fd, int code)
{
	print_to(fd,
		"vsockbox " VSOCKBOX_VERSION ": virtio-vsock tests and benchmarks\n"
		"usage: vsockbox APPLET [ARGS...]   or a link named APPLET\n"
		"       vsockbox --list | --list-options | --list-perf-tests\n"
		"       vsockbox --help | --version\n"
		"       vsockbox --check-options APPLET ARGS...\n"
		"       vsockbox --compose NAME APPLET,APPLET... TEXT ARGS...\n\n"
		"applets (APPLET --help for each):\n");
	for (const struct applet *a = applets; a < APPLETS_END; a++)
		print_to(fd, "  %-18s %s\n", a->name, a->summary);
	print_to(fd, "\nscript:\n  %-18s %s\n", "vsock-bench",
		 "the guest side of the whole micro benchmark (POSIX sh),\n"
		 "                     installed beside vsockbox by make install");
	return code;
}

static int run(const struct applet *a, int argc, char **argv)
{
	set_applet_name(a->name);
	set_signals();
	argv[0] = (char *)a->name;
	int code = a->main(argc, argv);
#ifdef VSOCKBOX_MALLOC
	/* Checked builds: an applet that returns has freed what it took. */
	if (xmalloc_live())
		die(99, "%zu buffers not freed", xmalloc_live());
#endif
	return code;
}

int main(int argc, char **argv)
{
	const char *name = base_name(argc > 0 ? argv[0] : "vsockbox");
	const struct applet *a;

	/* Any vsockbox* name is the multicall binary (vsockbox-aarch64...). */
	if (strncmp(name, "vsockbox", 8) == 0) {
		if (argc < 2)
			return usage(STDERR_FILENO, EXIT_USAGE);
		name = argv[1];
		if (strcmp(name, "--list") == 0 || strcmp(name, "-l") == 0)
			return list_applets();
		if (strcmp(name, "--list-options") == 0)
			return list_all_options();
		if (strcmp(name, "--list-perf-tests") == 0)
			return list_perf_tests();
		if (strcmp(name, "--check-options") == 0)
			return check_options(argc, argv);
		if (strcmp(name, "--compose") == 0)
			return compose_applets(argc, argv);
		if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
			return usage(STDOUT_FILENO, EXIT_PASS);
		if (strcmp(name, "--version") == 0) {
			out("vsockbox " VSOCKBOX_VERSION "\n");
			return EXIT_PASS;
		}
		argc--;
		argv++;
	}
	a = find_applet(name);
	if (!a) {
		print_to(STDERR_FILENO, "vsockbox: unknown applet '%s' (try vsockbox --list)\n",
			name);
		return EXIT_USAGE;
	}
	return run(a, argc, argv);
}
