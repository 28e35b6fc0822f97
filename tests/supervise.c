// SPDX-License-Identifier: MIT
/* supervise: runs one command under a hard time limit for the shell test
 * suites, and says how it ended.
 *
 *   supervise run [--no-socket] LIMIT_S RESULT CMD [ARGS...]
 *	Runs CMD in a process group of its own, with every signal at its
 *	default action and none blocked (as a job started from a terminal:
 *	a shell's background jobs inherit SIGINT ignored). Writes CMD's pid
 *	to RESULT.pid once it runs. When CMD ends, gives what it started up
 *	to a second to end too, then writes RESULT:
 *	    status N|timeout     exit status, 128+N for a signal
 *	    elapsed_ms M         from the start to CMD's end
 *	    end_ms E             CMD's end on the monotonic clock (ms), so
 *	                         that a suite can time it from an event of
 *	                         another process's (a fault's injection)
 *	    leftover K [NAMES]   processes CMD left running (then killed)
 *	After LIMIT_S seconds CMD's group gets SIGTERM, a second later
 *	SIGKILL, and the status is "timeout". Every process CMD starts stays
 *	our descendant (child subreaper), so none escapes the count, even in
 *	another process group. Exit status: CMD's, or 124 on timeout.
 *	CMD and all it starts cannot create an AF_VSOCK socket (a seccomp
 *	filter makes socket(AF_VSOCK, ...) fail with EACCES): the suites run
 *	over TCP only, and a machine's vsock device may belong to others.
 *	With --no-socket, the first socket() of any family kills the process
 *	that calls it (status 159, SIGSYS): a command line that must be
 *	refused may not even create a socket, let alone connect.
 *
 *   supervise ports N
 *	Prints a port P such that P..P+N-1 are free on 127.0.0.1, chosen
 *	below the kernel's ephemeral range (so no outgoing connection takes
 *	them meanwhile).
 *
 * Standalone: libc only, no vsockbox code. */
#define _GNU_SOURCE
#include <dirent.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_file(const char *path, const char *text)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f || fputs(text, f) == EOF || fclose(f) != 0 ||
	    rename(tmp, path) != 0) {
		fprintf(stderr, "supervise: write %s: %s\n", path, strerror(errno));
		exit(125);
	}
}

/* Our children (after the subreaper, every leftover descendant is one or
 * hangs below one): pids and names, from /proc. */
static int children(pid_t *pids, int max, char *names, size_t names_len)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	names[0] = '\0';
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[64], buf[512];
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* pid (comm) state ppid ...: comm may hold spaces. */
		char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
		if (!open_paren || !close_paren)
			continue;
		char state;
		int ppid;
		if (sscanf(close_paren + 1, " %c %d", &state, &ppid) != 2)
			continue;
		if (ppid != (int)getpid() || state == 'Z')
			continue;
		if (n < max)
			pids[n] = pid;
		n++;
		*close_paren = '\0';
		size_t used = strlen(names);
		snprintf(names + used, names_len - used, " %s", open_paren + 1);
	}
	closedir(d);
	return n;
}

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

/* socket(AF_VSOCK, ...) fails with EACCES, for this process and all it
 * starts (no_socket: every socket() kills the caller); a binary of another
 * architecture is killed at its first call. */
static void forbid_vsock(int no_socket)
{
#ifdef SECCOMP_ARCH
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 4),
		BPF_STMT(BPF_JMP | BPF_JA, 0),	/* or kill: below */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_VSOCK, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	if (no_socket)
		code[5] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						       SECCOMP_RET_KILL_PROCESS);
	struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		fprintf(stderr, "supervise: seccomp: %s\n", strerror(errno));
		_exit(125);
	}
#else
#error "supervise: no seccomp filter for this architecture"
#endif
}

/* Reaps whatever has ended; returns the direct child's status once. */
static int reap(pid_t child, int *status)
{
	int found = 0, st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		if (pid == child) {
			*status = st;
			found = 1;
		}
	return found;
}

/* Waits for SIGCHLD (or INT/TERM: we stop then) up to ms. */
static int wait_event(sigset_t *set, long long ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
	if (ms < 0)
		ts = (struct timespec){0, 0};
	int sig = sigtimedwait(set, NULL, &ts);
	return sig < 0 ? 0 : sig;
}

static int run(int argc, char **argv)
{
	int no_socket = argc > 2 && strcmp(argv[2], "--no-socket") == 0;

	if (no_socket) {
		argv++;
		argc--;
	}
	if (argc < 5) {
		fprintf(stderr, "usage: supervise run [--no-socket] LIMIT_S RESULT CMD [ARGS...]\n");
		return 125;
	}
	long long limit_ms = atoll(argv[2]) * 1000;
	const char *result = argv[3];
	char text[4096], path[4096];
	sigset_t set, old;

	if (limit_ms <= 0) {
		fprintf(stderr, "supervise: bad limit '%s'\n", argv[2]);
		return 125;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);

	long long start = now_ms();
	pid_t child = fork();
	if (child < 0) {
		perror("supervise: fork");
		return 125;
	}
	if (child == 0) {
		sigset_t none;
		setpgid(0, 0);
		for (int sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		forbid_vsock(no_socket);
		execvp(argv[4], argv + 4);
		fprintf(stderr, "supervise: exec %s: %s\n", argv[4], strerror(errno));
		_exit(127);
	}
	setpgid(child, child);
	snprintf(path, sizeof(path), "%s.pid", result);
	snprintf(text, sizeof(text), "%d\n", (int)child);
	write_file(path, text);

	int status = 0, timed_out = 0, stop_sig = 0;
	long long end;
	for (;;) {
		if (reap(child, &status))
			break;
		long long left = start + limit_ms - now_ms();
		if (left <= 0 || stop_sig) {
			/* Over time (or we were told to stop): TERM, then KILL. */
			timed_out = !stop_sig;
			kill(-child, SIGTERM);
			long long kill_at = now_ms() + 1000;
			while (!reap(child, &status)) {
				long long wait_ms = kill_at - now_ms();
				if (wait_ms <= 0) {
					kill(-child, SIGKILL);
					kill_at = now_ms() + 60000;
					continue;
				}
				wait_event(&set, wait_ms);
			}
			break;
		}
		int sig = wait_event(&set, left);
		if (sig == SIGINT || sig == SIGTERM)
			stop_sig = sig;
	}
	end = now_ms();

	/* What CMD started gets a second to end after it. Orphans are ours
	 * (subreaper) by the time their parent can be reaped, so when
	 * nothing is left to wait for, nothing was left behind. */
	pid_t pids[64];
	char names[1024] = "";
	int left_over = 0;
	siginfo_t si;
	reap(0, &(int){0});
	memset(&si, 0, sizeof(si));
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
		left_over = children(pids, 64, names, sizeof(names));
	long long grace_end = now_ms() + 1000;
	while (left_over > 0 && now_ms() < grace_end) {
		wait_event(&set, 20);
		reap(0, &(int){0});
		left_over = children(pids, 64, names, sizeof(names));
	}
	char leftover_names[1024];
	snprintf(leftover_names, sizeof(leftover_names), "%s", names);
	int reported = left_over;
	for (int round = 0; left_over > 0 && round < 100; round++) {
		kill(-child, SIGKILL);
		for (int i = 0; i < left_over && i < 64; i++)
			kill(pids[i], SIGKILL);
		wait_event(&set, 20);
		reap(0, &(int){0});
		left_over = children(pids, 64, names, sizeof(names));
	}

	int code;
	char status_text[32];
	if (timed_out) {
		code = 124;
		snprintf(status_text, sizeof(status_text), "timeout");
	} else {
		code = WIFEXITED(status) ? WEXITSTATUS(status)
		       : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 125;
		snprintf(status_text, sizeof(status_text), "%d", code);
	}
	snprintf(text, sizeof(text),
		 "status %s\nelapsed_ms %lld\nend_ms %lld\nleftover %d%s\n",
		 status_text, end - start, end, reported, leftover_names);
	write_file(result, text);
	if (stop_sig) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		signal(stop_sig, SIG_DFL);
		raise(stop_sig);
	}
	return code;
}

/* The first port of the kernel's ephemeral range, if it leaves room
 * between 20000 and it (32000 otherwise, under the usual 32768: a range
 * that starts lower leaves no port outside it, and bind() judges). */
static int ephemeral_low(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	int low = 0;
	if (f) {
		if (fscanf(f, "%d", &low) != 1)
			low = 0;
		fclose(f);
	}
	return low >= 21000 && low <= 65535 ? low : 32000;
}

static int free_ports(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 1;
	if (n < 1 || n > 100) {
		fprintf(stderr, "usage: supervise ports N (1..100)\n");
		return 125;
	}
	int top = ephemeral_low();
	srand((unsigned)getpid() ^ (unsigned)now_ms());
	for (int attempt = 0; attempt < 200; attempt++) {
		int base = 20000 + rand() % (top - 20000 - n), ok = 1, fds[100];
		int i;
		for (i = 0; i < n && ok; i++) {
			struct sockaddr_in in = {.sin_family = AF_INET,
						 .sin_port = htons((uint16_t)(base + i)),
						 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
			fds[i] = socket(AF_INET, SOCK_STREAM, 0);
			if (fds[i] < 0 ||
			    bind(fds[i], (struct sockaddr *)&in, sizeof(in)) < 0)
				ok = 0;
		}
		while (i-- > 0)
			if (fds[i] >= 0)
				close(fds[i]);
		if (ok) {
			printf("%d\n", base);
			return 0;
		}
	}
	fprintf(stderr, "supervise: no %d free ports in a row\n", n);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return run(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "ports") == 0)
		return free_ports(argc, argv);
	fprintf(stderr, "usage: supervise run [--no-socket] LIMIT_S RESULT CMD [ARGS...]\n"
			"       supervise ports N\n");
	return 125;
}
