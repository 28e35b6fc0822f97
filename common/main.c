/* Dispatch: the applet named by argv[0], or by `vsockbox APPLET ARGS`. */
#include "vsockbox.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#define APPLET(c_name, name, summary) int c_name##_main(int argc, char **argv);
#include "applets.h"
#undef APPLET

struct applet {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

static const struct applet applets[] = {
#define APPLET(c_name, name, summary) {name, c_name##_main, summary},
#include "applets.h"
#undef APPLET
};

enum { APPLET_COUNT = sizeof(applets) / sizeof(applets[0]) };

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static const struct applet *find_applet(const char *name)
{
	for (size_t i = 0; i < APPLET_COUNT; i++)
		if (strcmp(applets[i].name, name) == 0)
			return &applets[i];
	return NULL;
}

static int list_applets(void)
{
	for (size_t i = 0; i < APPLET_COUNT; i++)
		out("%s\n", applets[i].name);
	return EXIT_PASS;
}

static int usage(int fd, int code)
{
	print_to(fd,
		"vsockbox " VSOCKBOX_VERSION ": virtio-vsock tests and benchmarks\n"
		"usage: vsockbox APPLET [ARGS...]   or a link named APPLET\n"
		"       vsockbox --list | --help | --version\n\napplets:\n");
	for (size_t i = 0; i < APPLET_COUNT; i++)
		print_to(fd, "  %-18s %s\n", applets[i].name, applets[i].summary);
	return code;
}

/* SIGINT/SIGTERM end a run at once, with one line and status 128 + N, as a
 * shell reports a killed command. Only async-signal-safe calls here. */
static void interrupted(int sig)
{
	const char *name = applet_name();
	const char *what = sig == SIGINT ? ": interrupted (SIGINT)\n"
					 : ": terminated (SIGTERM)\n";
	char line[128];
	size_t n = strlen(name), w = strlen(what);

	/* One write: the stages of a pipeline share stderr, and a ^C
	 * reaches them all at once. */
	if (n > sizeof(line) - w)
		n = sizeof(line) - w;
	memcpy(line, name, n);
	memcpy(line + n, what, w);
	ssize_t ignored = write(STDERR_FILENO, line, n + w);
	(void)ignored;
	_exit(128 + sig);
}

static void set_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* Writes to a closed peer must return EPIPE, never kill us. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = interrupted;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
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
		err_out("vsockbox: unknown applet '%s' (try vsockbox --list)\n",
			name);
		return EXIT_USAGE;
	}
	return run(a, argc, argv);
}
