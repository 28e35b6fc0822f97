/* vsock-ctl: the control connection of the micro benchmark, guest side.
 *
 * Opens the connection from local port 8501, writes any --magic bytes,
 * then (UCSPI style) runs PROG with the connection open on the descriptor
 * named by $VSOCK_CTL_FD, so that the data applets it starts announce
 * their tests on it. */
#include "vsockbox.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: vsock-ctl [--peer ADDR] [--timeout S] [--magic N]... [PROG [ARGS...]]\n"
	"\n"
	"Open the control connection from port 8501 to the host and write each\n"
	"magic number N (0..255) as one byte. With PROG, run it with the connection\n"
	"on the descriptor named by $VSOCK_CTL_FD; its exit status is ours.\n"
	"Magic numbers: 129 bidirectional, 123 unidirectional, 124..128 multi stream.\n"
	"\n"
	"  --peer ADDR   host (default $VSOCKBOX_PEER or vsock:2; port 8500)\n"
	"  --timeout S   connect and write timeout in seconds (default 30)\n"
	"  --magic N     write this magic number (repeatable, in order)\n"
	"\n"
	"example: vsock-ctl -- sh -c 'vsock-echo --chain | vsock-bidir --chain'\n";

extern char **environ;

/* The environment with NAME=VALUE in place of any NAME=... (setenv would
 * link a whole allocator into a static musl binary). */
static char **environment_with(char *assignment)
{
	size_t name_len = (size_t)(strchr(assignment, '=') - assignment) + 1;
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = xmalloc((n + 2) * sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], assignment, name_len) != 0)
			env[k++] = environ[i];
	env[k++] = assignment;
	env[k] = NULL;
	return env;
}

int vsock_ctl_main(int argc, char **argv)
{
	struct settings s;
	struct conn ctl;
	char fd_text[sizeof(CTL_FD_ENV) + 16];

	settings_defaults(&s, PERF_HOST_PORT);
	int first = parse_options(argc, argv, OPT_PEER | OPT_TIMEOUT | OPT_MAGIC,
				  usage, &s);

	xconn_open(&ctl, &s.peer, PERF_CTL_PORT, s.timeout_s);
	if (s.magics)
		send_magics(&ctl, s.magic, s.magics);
	if (first >= argc) {
		conn_close(&ctl);
		return EXIT_PASS;
	}
	/* The program inherits the connection; our own timeouts stay on it. */
	if (fcntl(ctl.fd, F_SETFD, 0) < 0)
		die_errno(EXIT_ENV, "fcntl %s", ctl.name);
	format(fd_text, sizeof(fd_text), CTL_FD_ENV "=%d", ctl.fd);
	environ = environment_with(fd_text);
	signal(SIGPIPE, SIG_DFL);	/* ignored for us, not for PROG */
	execvp(argv[first], argv + first);
	die_errno(127, "exec %s", argv[first]);
}
