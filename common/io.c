/* Whole reads and writes: EINTR is retried, short transfers are continued,
 * and the kernel's SO_RCVTIMEO/SO_SNDTIMEO bound every wait at no cost on
 * the data path. */
#include "vsockbox.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *io_error_text(int err)
{
	if (err == ERR_EOF)
		return "peer closed the connection";
	if (err == ERR_DATA)
		return "peer sent data where the protocol allows none";
	if (err == ETIMEDOUT)
		return "timed out";
	return strerror(err);
}

int io_exit_code(int err)
{
	switch (err) {
	case ERR_EOF: case ERR_DATA: case ECONNRESET: case EPIPE:
	case ECONNABORTED:
		return EXIT_FAIL;
	default:
		return EXIT_ENV;
	}
}

static int timeout_errno(void)
{
	return (errno == EAGAIN || errno == EWOULDBLOCK) ? ETIMEDOUT : errno;
}

int read_full(int fd, void *buf, size_t len)
{
	size_t got;
	return read_counted(fd, buf, len, &got);
}

/* Reads len bytes, counting them in *got, whole (MSG_WAITALL) while *flags
 * keeps it. AF_VSOCK refuses a MSG_WAITALL read as large as its receive
 * buffer (256 KiB by default) with ENOMEM: then *flags drops MSG_WAITALL
 * for the rest of the transfer, and each call takes what is there. */
static int read_whole(int fd, unsigned char *p, size_t len, size_t *got,
		      int *flags)
{
	*got = 0;
	while (len) {
		ssize_t n = recv(fd, p, len, *flags);
		if (n < 0 && errno == ENOTSOCK)
			n = read(fd, p, len);
		if (n == 0)
			return ERR_EOF;
		if (n < 0) {
			if (errno == ENOMEM && *flags) {
				*flags = 0;
				continue;
			}
			if (errno == EINTR)
				continue;
			return timeout_errno();
		}
		p += n;
		len -= (size_t)n;
		*got += (size_t)n;
	}
	return 0;
}

int read_counted(int fd, void *buf, size_t len, size_t *got)
{
	int flags = MSG_WAITALL;
	return read_whole(fd, buf, len, got, &flags);
}

int write_full(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len) {
		/* MSG_NOSIGNAL: a closed peer is EPIPE, never SIGPIPE. */
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return timeout_errno();
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int ms_left(uint64_t deadline)
{
	uint64_t now = now_ns();
	return now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
}

int read_within(int fd, void *buf, size_t len, int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;
	unsigned char *p = buf;

	while (len) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int ready = poll(&pfd, 1, ms_left(deadline));
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return errno;
		if (ready == 0)
			return ETIMEDOUT;
		ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
		if (n == 0)
			return ERR_EOF;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int recv_bytes(int fd, uint64_t total, void *buf, size_t buf_len)
{
	int flags = MSG_WAITALL;
	size_t got;

	while (total) {
		size_t chunk = total < buf_len ? (size_t)total : buf_len;
		int err = read_whole(fd, buf, chunk, &got, &flags);
		if (err)
			return err;
		total -= chunk;
	}
	return 0;
}

int send_bytes(int fd, uint64_t total, const void *buf, size_t buf_len)
{
	while (total) {
		size_t chunk = total < buf_len ? (size_t)total : buf_len;
		int err = write_full(fd, buf, chunk);
		if (err)
			return err;
		total -= chunk;
	}
	return 0;
}

int wait_for_close(int fd)
{
	char byte;

	/* A peer that keeps writing would keep a discarding loop busy for
	 * ever: the first byte is already a failure. */
	for (;;) {
		ssize_t n = recv(fd, &byte, 1, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			return ERR_DATA;
		if (errno != EINTR)
			return timeout_errno();
	}
}

_Noreturn void die_io(const struct conn *c, const char *op, int err)
{
	die(io_exit_code(err), "%s %s: %s", op, c->name, io_error_text(err));
}

#ifdef VSOCKBOX_MALLOC
/* Sanitizer and valgrind builds: the C library's allocator, whose blocks
 * those tools check to the byte (an mmap'd page hides an overrun). Live
 * blocks stay listed here: a run that dies with its buffers in use leaks
 * nothing to a leak checker, and one that returns from its applet must
 * have freed them all (xmalloc_live(), checked by main). */
enum { LIVE_MAX = 64 };
static void *live[LIVE_MAX];
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;

void *xmalloc(size_t len)
{
	void *p = calloc(1, len ? len : 1);
	if (!p)
		die(EXIT_ENV, "out of memory (%zu bytes)", len);
	pthread_mutex_lock(&live_lock);
	for (size_t i = 0; i < LIVE_MAX; i++)
		if (!live[i]) {
			live[i] = p;
			break;
		}
	pthread_mutex_unlock(&live_lock);
	return p;
}

void xfree(void *p)
{
	pthread_mutex_lock(&live_lock);
	for (size_t i = 0; p && i < LIVE_MAX; i++)
		if (live[i] == p)
			live[i] = NULL;
	pthread_mutex_unlock(&live_lock);
	free(p);
}

size_t xmalloc_live(void)
{
	size_t n = 0;
	pthread_mutex_lock(&live_lock);
	for (size_t i = 0; i < LIVE_MAX; i++)
		n += live[i] != NULL;
	pthread_mutex_unlock(&live_lock);
	return n;
}
#else
/* Memory straight from the kernel: zeroed (buffers go on the wire), page
 * aligned, and no allocator linked in, which keeps a static musl binary
 * small. The applets allocate a few buffers once, never in a data loop. */
enum { ALLOC_HEADER = 16 };	/* keeps the result 16-byte aligned */

void *xmalloc(size_t len)
{
	size_t total = len + ALLOC_HEADER;
	if (total < len)
		die(EXIT_ENV, "out of memory (%zu bytes)", len);
	unsigned char *p = mmap(NULL, total, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die_errno(EXIT_ENV, "out of memory (%zu bytes)", len);
	memcpy(p, &total, sizeof(total));
	return p + ALLOC_HEADER;
}

void xfree(void *ptr)
{
	size_t total;
	if (!ptr)
		return;
	unsigned char *p = (unsigned char *)ptr - ALLOC_HEADER;
	memcpy(&total, p, sizeof(total));
	munmap(p, total);
}
#endif

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
