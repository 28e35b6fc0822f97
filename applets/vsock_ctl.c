// SPDX-License-Identifier: MIT
/* vsock-ctl: the micro benchmark's control connection, guest side
 * (doc/PROTOCOL.md); describe() says what it does. It hands the
 * connection to a program, UCSPI style, so that the data applets that
 * program starts announce their tests on it. */
//config:config VSOCK_CTL
//config:	bool "vsock-ctl: open the control connection and send magic numbers"
//config:	default y
//config:	help
//config:	  Runs a program with the connection on $VSOCK_CTL_FD, for the data applets.
#include "vsockbox.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ctl {
	struct address peer;
	uint64_t timeout_s;
	struct socket_setup setup;
	struct byte_list magic;
	bool preamble;
};

static const struct opt options[] = {
	OPTION_PEER(struct ctl, peer, PERF_HOST_PORT),
	OPTION_TIMEOUT(struct ctl, timeout_s),
	{.name = "magic", .arg = "N", .kind = OPT_BYTE_LIST,
	 .offset = offsetof(struct ctl, magic), .max = 255,
	 .help = "write this magic number (repeatable, in order)",
	 .flags = OPT_OWN},
	OPTION_BUFFER_SIZE(struct ctl, setup.buffer_size),
	IF_FEATURE_HYBRID(OPTION_PREAMBLE(struct ctl, preamble),)
	OPTION_END
};

static void describe(void)
{
	out("Open the control connection from port %u to the host and write each\n"
	    "magic number N (0..255) as one byte. With PROG, run it with the connection\n"
	    "on the descriptor named by $" CTL_FD_ENV "; its exit status is ours.\n"
	    "Magic numbers: %u bidirectional, %u unidirectional, %u..%u multi stream.\n"
	    "example: vsock-ctl -- sh -c 'vsock-echo --chain | vsock-bidir --chain'\n",
	    PERF_CTL_PORT, MAGIC_BIDIR, MAGIC_UNIDIR, MAGIC_MULTI,
	    MAGIC_MULTI + PERF_MULTI_STREAMS - 1);
}

const struct applet_spec vsock_ctl_spec = {"[PROG [ARGS...]]", describe,
					   options, sizeof(struct ctl)};

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
	struct ctl o;
	struct conn ctl;
	char fd_text[sizeof(CTL_FD_ENV) + 16];
	char token_text[sizeof(PREAMBLE_TOKEN_ENV) + 24];

	int first = parse_command_line(&vsock_ctl_spec, &o, argc, argv);
	/* One token for the run: the program's stages name theirs with it. */
	uint64_t token = run_token(o.preamble);
	xconn_open_stream(&ctl, &o.peer, PERF_CTL_PORT, &o.setup, token,
			  step_deadline(o.timeout_s));
	if (o.magic.n)
		send_magics(&ctl, o.magic.v, o.magic.n,
			    step_deadline(o.timeout_s));
	if (first >= argc) {
		conn_close(&ctl);
		return EXIT_PASS;
	}
	/* The program inherits the connection. */
	if (fcntl(ctl.fd, F_SETFD, 0) < 0)
		die(EXIT_ENV, "fcntl %s: %m", ctl.name);
	format(fd_text, sizeof(fd_text), CTL_FD_ENV "=%d", ctl.fd);
	environ = environment_with(fd_text);
	if (ENABLE_FEATURE_HYBRID && token) {	/* run_token(): 0 without */
		format(token_text, sizeof(token_text), PREAMBLE_TOKEN_ENV "=%llu",
		       (unsigned long long)token);
		environ = environment_with(token_text);
	}
	signal(SIGPIPE, SIG_DFL);	/* ignored for us, not for PROG */
	execvp(argv[first], argv + first);
	die(127, "exec %s: %m", argv[first]);
}
