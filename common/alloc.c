// SPDX-License-Identifier: MIT
/* Buffers: allocated a few times per run, never in a data loop. */
#include "vsockbox.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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
/* Memory straight from the kernel: zeroed (buffers go on the wire), and
 * no allocator linked in, which keeps a static musl binary small. The
 * applets allocate a few buffers once, never in a data loop. A buffer
 * starts on a BUFFER_ALIGN boundary, after a page that holds only its header:
 * a 4 KiB packet then lies in one page, not across two, which the kernel
 * copies a little faster (bench/EARLIER.md). */
struct alloc_header {
	size_t total;	/* the whole mapping, header page included */
};

void *xmalloc(size_t len)
{
	size_t total = len + BUFFER_ALIGN;
	struct alloc_header h = {total};

	if (total < len)
		die(EXIT_ENV, "out of memory (%zu bytes)", len);
	unsigned char *p = mmap(NULL, total, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die(EXIT_ENV, "out of memory (%zu bytes): %m", len);
	memcpy(p + BUFFER_ALIGN - sizeof(h), &h, sizeof(h));
	return p + BUFFER_ALIGN;
}

void xfree(void *ptr)
{
	struct alloc_header h;
	if (!ptr)
		return;
	unsigned char *p = (unsigned char *)ptr - BUFFER_ALIGN;
	memcpy(&h, p + BUFFER_ALIGN - sizeof(h), sizeof(h));
	munmap(p, h.total);
}
#endif
