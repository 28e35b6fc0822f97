// SPDX-License-Identifier: MIT
/*
 * rusage - run a command, then write its CPU time, peak RSS and wall time:
 *
 *   rusage [-c CPU] FILE CMD [ARGS...]
 *
 * FILE gets one line "USER_S SYS_S PEAK_RSS_KIB ELAPSED_S", like GNU time
 * -f '%U %S %M %e' but to the microsecond (time prints 10 ms steps, too
 * coarse for short runs). CPU time covers CMD and the children it waited
 * for. -c pins CMD to one CPU (unlike taskset, with nothing exec'd in
 * between). Exits with CMD's status, 128+N if signal N ended it.
 *
 * The peak RSS is the largest VmRSS of CMD, read from /proc every 10 ms and
 * at its exit (a ptrace exit stop; nothing else is traced). wait4's
 * ru_maxrss will not do: it counts what our child touched before its exec,
 * and since Linux 6.2 it (like VmHWM) comes from per-CPU counters that can
 * miss ~32 pages per CPU, most of a small static program; VmRSS is exact.
 * Without ptrace or /proc, ru_maxrss it is.
 */
#define _GNU_SOURCE		/* wait4, sched_setaffinity, ptrace options */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static double now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) {
		perror("rusage: clock_gettime");
		exit(127);
	}
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Raises *peak to the VmRSS (KiB) of a live process. */
static void sample_rss(pid_t pid, long *peak)
{
	char path[64], line[256];
	long kib;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1 && kib > *peak)
			*peak = kib;
	fclose(f);
}

static _Noreturn void child(int cpu, const sigset_t *mask, char **argv)
{
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			perror("rusage: sched_setaffinity");
			_exit(127);
		}
	}
	if (sigprocmask(SIG_SETMASK, mask, NULL) < 0)
		_exit(127);
	/* Traced, stop so that the parent can ask for exit stops; else untraced. */
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 && raise(SIGSTOP) != 0)
		_exit(127);
	execvp(argv[0], argv);
	fprintf(stderr, "rusage: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int main(int argc, char **argv)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	int status, cpu = -1, arg = 1, execed = 0;
	sigset_t chld, old;
	struct rusage ru;
	long peak = -1;
	double start;
	pid_t pid;
	FILE *f;

	if (argc > 3 && strcmp(argv[1], "-c") == 0) {
		char *end;
		long v = strtol(argv[2], &end, 10);

		if (*end || end == argv[2] || v < 0 || v >= CPU_SETSIZE) {
			fprintf(stderr, "rusage: bad CPU: %s\n", argv[2]);
			return 2;
		}
		cpu = (int)v;
		arg = 3;
	}
	if (argc - arg < 2) {
		fprintf(stderr, "usage: rusage [-c CPU] FILE CMD [ARGS...]\n");
		return 2;
	}
	/* SIGCHLD blocked, so that sigtimedwait wakes us when CMD changes state. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, &old) < 0) {
		perror("rusage: sigprocmask");
		return 127;
	}
	start = now();
	pid = fork();
	if (pid < 0) {
		perror("rusage: fork");
		return 127;
	}
	if (pid == 0)
		child(cpu, &old, argv + arg + 1);
	for (;;) {
		pid_t w = wait4(pid, &status, WNOHANG, &ru);
		int sig;

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			perror("rusage: wait4");
			return 127;
		}
		if (w == 0) {	/* running: sample, sleep until news or the tick */
			if (execed)
				sample_rss(pid, &peak);
			if (sigtimedwait(&chld, NULL, &tick) < 0 && errno != EAGAIN &&
			    errno != EINTR) {
				perror("rusage: sigtimedwait");
				return 127;
			}
			continue;
		}
		if (!WIFSTOPPED(status))
			break;
		sig = WSTOPSIG(status);
		if (status >> 8 == (SIGTRAP | PTRACE_EVENT_EXIT << 8)) {
			sample_rss(pid, &peak);
			sig = 0;
		} else if (sig == SIGSTOP && !execed) {	/* our own stop */
			if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
				   (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL)) < 0)
				perror("rusage: PTRACE_SETOPTIONS");
			sig = 0;
		} else if (sig == SIGTRAP && !execed) {	/* after execve */
			execed = 1;
			sig = 0;
		}
		/* Anything else is the command's own signal: pass it on. */
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig) < 0 && errno != ESRCH) {
			perror("rusage: PTRACE_CONT");
			return 127;
		}
	}
	if (peak < 0)		/* never traced or sampled: the approximate figure */
		peak = ru.ru_maxrss;
	f = fopen(argv[arg], "w");
	if (!f || fprintf(f, "%.6f %.6f %ld %.6f\n", seconds(ru.ru_utime),
			  seconds(ru.ru_stime), peak, now() - start) < 0 ||
	    fclose(f) == EOF) {
		fprintf(stderr, "rusage: %s: %s\n", argv[arg], strerror(errno));
		return 127;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
