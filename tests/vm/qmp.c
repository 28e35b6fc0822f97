// SPDX-License-Identifier: MIT
/*
 * qmp SECONDS SOCKET COMMAND...: one QMP session with the QEMU whose
 * monitor listens on the Unix socket SOCKET (-qmp unix:SOCKET,server=on,
 * wait=off): its greeting, qmp_capabilities, then each COMMAND in turn
 * (a name: stop, cont, query-status; or NAME=ARGUMENTS, a JSON object:
 * migrate={"uri": "exec:cat >/dev/null"}), each reply printed on stdout as
 * one line. Events between are skipped. Everything within
 * SECONDS. The test runners have no socat: this is their QMP client.
 * Exit: 0 every command returned, 1 one gave an error (the rest not sent),
 * 2 usage, 3 no connection, no reply in time, or the monitor went away.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct session {
	int fd;
	long long deadline_ms;	/* CLOCK_MONOTONIC */
	char buf[65536];
	size_t len;		/* bytes in buf */
};

static long long now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fail(const char *what)
{
	fprintf(stderr, "qmp: %s: %s\n", what, errno ? strerror(errno) : "time-out");
	exit(3);
}

static void send_all(struct session *s, const char *text)
{
	size_t done = 0, len = strlen(text);

	while (done < len) {
		ssize_t n = write(s->fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			fail("write");
		done += (size_t)n;
	}
}

/* Waits for more bytes until the deadline; fails on EOF or time-out. */
static void fill(struct session *s)
{
	struct pollfd p = {.fd = s->fd, .events = POLLIN};
	long long left = s->deadline_ms - now_ms();

	if (s->len == sizeof s->buf - 1) {
		errno = EMSGSIZE;
		fail("read");
	}
	if (left <= 0) {
		errno = 0;
		fail("no reply");
	}
	int r = poll(&p, 1, (int)left);
	if (r < 0 && errno == EINTR)
		return;
	if (r == 0)
		errno = 0;
	if (r <= 0)
		fail("no reply");
	ssize_t n = read(s->fd, s->buf + s->len, sizeof s->buf - 1 - s->len);
	if (n < 0 && errno == EINTR)
		return;
	if (n == 0)
		errno = ECONNRESET;
	if (n <= 0)
		fail("read");
	s->len += (size_t)n;
}

/* The next line, without its CR LF, into out (as long as buf). */
static void next_line(struct session *s, char *out)
{
	char *nl;

	s->buf[s->len] = '\0';
	while (!(nl = memchr(s->buf, '\n', s->len))) {
		fill(s);
		s->buf[s->len] = '\0';
	}
	size_t n = (size_t)(nl - s->buf);
	memcpy(out, s->buf, n);
	out[n] = '\0';
	if (n > 0 && out[n - 1] == '\r')
		out[n - 1] = '\0';
	s->len -= n + 1;
	memmove(s->buf, nl + 1, s->len);
}

/* COMMAND's reply line (events skipped): 0 "return", 1 "error". */
static int command(struct session *s, const char *name, int show)
{
	char line[sizeof s->buf];

	const char *args = strchr(name, '=');
	int len = args ? (int)(args - name) : (int)strlen(name);
	int n = args ? snprintf(line, sizeof line, "{\"execute\": \"%.*s\", "
				"\"arguments\": %s}\n", len, name, args + 1)
		     : snprintf(line, sizeof line, "{\"execute\": \"%s\"}\n",
				name);
	if (n < 0 || n >= (int)sizeof line) {
		fprintf(stderr, "qmp: command too long\n");
		exit(2);
	}
	send_all(s, line);
	for (;;) {
		next_line(s, line);
		if (strstr(line, "\"event\""))
			continue;
		if (show && printf("%s\n", line) < 0)
			fail("stdout");
		if (strstr(line, "\"return\""))
			return 0;
		if (strstr(line, "\"error\""))
			return 1;
	}
}

static void connect_to(struct session *s, const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof a.sun_path) {
		fprintf(stderr, "qmp: socket path too long: %s\n", path);
		exit(2);
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		fail("socket");
	while (connect(s->fd, (struct sockaddr *)&a, sizeof a) < 0)
		if (errno != EINTR)
			fail(path);
}

int main(int argc, char **argv)
{
	static struct session s;
	char *end;
	char greeting[sizeof s.buf];

	if (argc < 4) {
		fprintf(stderr, "usage: qmp SECONDS SOCKET COMMAND...\n");
		return 2;
	}
	errno = 0;
	long seconds = strtol(argv[1], &end, 10);
	if (errno || *end || seconds <= 0 || seconds > 3600) {
		fprintf(stderr, "qmp: bad SECONDS '%s'\n", argv[1]);
		return 2;
	}
	s.deadline_ms = now_ms() + seconds * 1000;
	connect_to(&s, argv[2]);
	next_line(&s, greeting);
	if (!strstr(greeting, "\"QMP\"")) {
		fprintf(stderr, "qmp: not a QMP greeting: %s\n", greeting);
		return 3;
	}
	if (command(&s, "qmp_capabilities", 0))
		return 1;
	for (int i = 3; i < argc; i++)
		if (command(&s, argv[i], 1))
			return 1;
	if (fflush(stdout) == EOF)
		fail("stdout");
	return 0;
}
