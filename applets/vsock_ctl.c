/* vsock-ctl: the control connection of the micro benchmark, guest side.
 *
 * Opens the connection from local port 8501, writes any --magic bytes,
 * then (UCSPI style) runs PROG with the connection open on the descriptor
 * named by $VSOCK_CTL_FD, so that the data applets it starts announce
 * their tests on it. */
#include "vsockbox.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

int vsock_ctl_main(int argc, char **argv)
{
	struct settings s;
	struct conn ctl;
	char fd_text[16];

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
	snprintf(fd_text, sizeof(fd_text), "%d", ctl.fd);
	if (setenv(CTL_FD_ENV, fd_text, 1) < 0)
		die_errno(EXIT_ENV, "setenv %s", CTL_FD_ENV);
	signal(SIGPIPE, SIG_DFL);	/* ignored for us, not for PROG */
	execvp(argv[first], argv + first);
	die_errno(127, "exec %s", argv[first]);
}
