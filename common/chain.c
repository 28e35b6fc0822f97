// SPDX-License-Identifier: MIT
/* The control connection and the chain of stages in vsock-bench.
 *
 * vsock-ctl opens the control connection and runs a pipeline of applets
 * with it on the descriptor named by $VSOCK_CTL_FD. Every stage connects at
 * once (so all nine connections are open up front), then, with --chain,
 * waits for the previous stage's "done" line on stdin before it sends its
 * magic, and prints "done" when its test is over. */
#include "vsockbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int inherited_ctl_fd(const char *text)
{
	uint64_t fd;
	int type;
	socklen_t len = sizeof(type);

	if (parse_u64(text, 0, 1024 * 1024, 0, &fd))
		die(EXIT_USAGE, "%s=%s: not a descriptor number", CTL_FD_ENV, text);
	/* A socket answers SO_TYPE, anything else ENOTSOCK (fstat would
	 * bring code of its own into the small build). */
	if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
		if (errno == ENOTSOCK)
			die(EXIT_ENV, "%s=%s: not a socket", CTL_FD_ENV, text);
		die(EXIT_ENV, "%s=%s: %m", CTL_FD_ENV, text);
	}
	return (int)fd;
}

void ctl_check(void)
{
	const char *env = getenv(CTL_FD_ENV);

	if (env && *env)
		(void)inherited_ctl_fd(env);
}

void ctl_open(struct conn *ctl, const struct address *peer,
	      const struct socket_setup *setup, uint64_t token,
	      struct deadline d)
{
	const char *env = getenv(CTL_FD_ENV);
	char name[64];

	if (env && *env) {
		int fd = inherited_ctl_fd(env);
		format(name, sizeof(name), "control connection (fd %d)", fd);
		conn_adopt(ctl, fd, name);
		return;
	}
	xconn_open_stream(ctl, peer, PERF_CTL_PORT, setup, token, d);
}

void send_magics(struct conn *ctl, const unsigned char *magic, size_t n,
		 struct deadline d)
{
	int err = write_full(ctl, magic, n, d);
	if (err)
		die_io(ctl, err, "write magic to");
}

void chain_wait(void)
{
	char line[16];
	size_t len = 0;

	for (;;) {
		char c;
		ssize_t n = read(STDIN_FILENO, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EXIT_ENV, "chain: read stdin: %m");
		if (n == 0)
			die(EXIT_FAIL, "chain: the previous stage failed "
			    "(stdin closed before 'done')");
		if (c != '\n') {
			if (len < sizeof(line) - 1)
				line[len++] = c;
			continue;
		}
		line[len] = '\0';
		if (strcmp(line, "done") == 0)
			return;
		len = 0;
	}
}

void chain_done(void)
{
	int err = fd_write_all(STDOUT_FILENO, "done\n", 5);
	if (err)
		die(EXIT_ENV, "chain: write stdout: %s", io_error_text(err));
}
