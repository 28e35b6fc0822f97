// SPDX-License-Identifier: MIT
/* fakevmm: the host side of a hybrid vsock VMM's socket (Firecracker,
 * cloud-hypervisor, vhost-device-vsock), misbehaving as asked, for
 * tests/handshake.sh:
 *
 *   fakevmm MODE PATH [MS]
 *
 * Listens on PATH and, for each connection, reads "CONNECT <port>\n", then
 *   ok       answers "OK 1073741824\n" and reports what follows;
 *   late     the same after MS milliseconds;
 *   garbage  answers "HELLO\n";
 *   close    closes at once (a guest still booting, or a port nobody
 *            listens on), every time;
 *   silent   never answers.
 * Prints "fakevmm: listening on PATH" once ready, then one line per
 * connection: "fakevmm: CONNECT <port>", and for ok and late
 * "fakevmm: after OK: N bytes, first B" (B: the first byte's value) once
 * the client closes. A client that writes anything after its CONNECT line
 * before the answer makes it say "fakevmm: data before OK" and exit 1.
 * Ends (status 0) after its first ok or late connection, or on SIGTERM;
 * after 30 s in any case (status 3). Removes PATH at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *path;

static void bye(int status)
{
	unlink(path);
	exit(status);
}

static void on_signal(int sig)
{
	unlink(path);
	_exit(sig == SIGALRM ? 3 : 0);
}

static void fail(const char *what)
{
	fprintf(stderr, "fakevmm: %s: %s\n", what, strerror(errno));
	bye(3);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The CONNECT line, a byte at a time; false if the client went away. */
static int read_connect(int fd, char *line, size_t len)
{
	size_t n = 0;
	while (n + 1 < len) {
		ssize_t got = read(fd, &line[n], 1);
		if (got <= 0)
			return 0;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	return 1;
}

/* Nothing may follow the CONNECT line before the answer. */
static void expect_quiet(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char byte;
	if (poll(&p, 1, 50) == 1 &&
	    recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 1) {
		printf("fakevmm: data before OK\n");
		fflush(stdout);
		bye(1);
	}
}

static void after_ok(int fd)
{
	unsigned char buf[4096], first = 0;
	long total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 ||
	       (n < 0 && errno == EINTR)) {
		if (n > 0 && total == 0)
			first = buf[0];
		if (n > 0)
			total += n;
	}
	printf("fakevmm: after OK: %ld bytes, first %u\n", total, first);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char line[64];

	if (argc < 3) {
		fprintf(stderr, "usage: fakevmm ok|late|garbage|close|silent PATH [MS]\n");
		return 2;
	}
	const char *mode = argv[1];
	long ms = argc > 3 ? atol(argv[3]) : 0;
	path = argv[2];
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	alarm(30);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0)
		fail("socket");
	unlink(path);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		fail("bind");
	if (listen(lfd, 16) < 0)
		fail("listen");
	printf("fakevmm: listening on %s\n", path);
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			fail("accept");
		if (!read_connect(fd, line, sizeof(line))) {
			close(fd);
			continue;
		}
		printf("fakevmm: %s\n", line);
		fflush(stdout);
		if (strcmp(mode, "close") == 0) {
			close(fd);
			continue;
		}
		if (strcmp(mode, "silent") == 0)
			continue;	/* held open, never answered */
		expect_quiet(fd);
		if (strcmp(mode, "garbage") == 0) {
			(void)!write(fd, "HELLO\n", 6);
			close(fd);
			continue;
		}
		if (strcmp(mode, "late") == 0) {
			sleep_ms(ms);
			expect_quiet(fd);
		}
		(void)!write(fd, "OK 1073741824\n", 14);
		after_ok(fd);
		close(fd);
		bye(0);
	}
}
