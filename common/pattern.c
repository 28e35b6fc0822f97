// SPDX-License-Identifier: MIT
/* Data the protocol defines byte for byte, and --verify's pattern. */
//config:config FEATURE_VERIFY
//config:	bool "--verify: every stream a pattern, checked byte for byte"
//config:	default y
//config:	help
//config:	  vsock-perf, vsock-echo, -unidir, -bidir and -multi (and so vsock-bench)
//config:	  take --verify: every byte sent is a pattern of stream, direction and
//config:	  position, every byte received is checked. Beyond the original protocol.
#include "vsockbox.h"

#include <string.h>

void warmup_packet(unsigned i, unsigned char *buf, size_t len)
{
	char unit[WARMUP_UNIT + 1];

	/* "DAVID" + three digits: exactly WARMUP_UNIT bytes for i < 1000. */
	format(unit, sizeof(unit), WARMUP_TAG "%03u", i % 1000);
	for (size_t off = 0; off < len; off += WARMUP_UNIT) {
		size_t n = len - off < WARMUP_UNIT ? len - off : WARMUP_UNIT;
		memcpy(buf + off, unit, n);
	}
}

size_t find_not_byte(const unsigned char *buf, size_t len, unsigned char value)
{
	size_t i = 0;
	for (; i < len; i++)
		if (buf[i] != value)
			break;
	return i;
}

/* vsock-conform's data: byte i of a seed's stream, a mix of i / 4 and the
 * seed (a byte out of place or from another offset shows). */
uint8_t seeded_byte(uint32_t seed, uint64_t i)
{
	uint32_t x = (uint32_t)(i >> 2) * 2654435761u ^ seed;
	x ^= x >> 15;
	x *= 2246822519u;
	x ^= x >> 13;
	return (uint8_t)(x >> (8 * (i & 3)));
}

void seeded_fill(uint32_t seed, uint64_t from, unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = seeded_byte(seed, from + i);
}

size_t seeded_check(uint32_t seed, uint64_t from, const unsigned char *buf,
		    size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != seeded_byte(seed, from + i))
			return i;
	return len;
}

#if ENABLE_FEATURE_VERIFY
/* ---- --verify: the stream is 4 KiB blocks of 512 words (8 bytes, little
 * endian). Word j of block b is table[j] ^ body[b % PATTERN_BODIES], but
 * word 0 is the block's stamp, table[0] ^ mix(seed + b * STEP). The table
 * (512 words of mix, per stream) makes the words of a block differ from
 * each other, the body word (one of PATTERN_BODIES, a prime) the blocks
 * near each other, and the stamp every block from every other: mix is a
 * bijection (an odd multiplier, xor-shifts). So a byte moved, lost or
 * repeated, or a block in another's place, differs from what is expected
 * (as for any byte stream, by chance 1 in 256 per byte). A sender builds
 * its bodies once and writes one stamp per block before each send; a
 * receiver checks every byte, a table xor, at memory speed. What it
 * cannot see: a piece of a block without its stamp word moved by a
 * multiple of PATTERN_BODIES blocks (doc/PROTOCOL.md). */
#define PATTERN_STEP 0x9e3779b97f4a7c15ull
#define PATTERN_MIX 0xd6e8feb86659fd93ull
/* Changed with the pattern: a peer that runs another version differs from
 * the first word on (0x243f6a8885a308d3 until the stamped blocks). */
#define PATTERN_VERSION_SALT 0x13198a2e03707344ull
enum { BLOCK_SHIFT = 12, BLOCK = 1 << BLOCK_SHIFT,
       WORD_MASK = PATTERN_TABLE_WORDS - 1 };

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 32;
	x *= PATTERN_MIX;
	return x ^ (x >> 29);
}

static inline uint64_t stamp(const struct pattern *s, uint64_t block)
{
	return s->table[0] ^ mix(s->seed + block * PATTERN_STEP);
}

static inline uint64_t body_word(const struct pattern *s, uint64_t pos)
{
	return s->body[(pos >> BLOCK_SHIFT) % PATTERN_BODIES];
}

static inline uint64_t load_le64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline void store_le64(unsigned char *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, sizeof(v));
}

/* The word of the stream that holds byte pos. */
static uint64_t pattern_word(const struct pattern *s, uint64_t pos)
{
	if ((pos & (BLOCK - 1)) < 8)
		return stamp(s, pos >> BLOCK_SHIFT);
	return s->table[(pos >> 3) & WORD_MASK] ^ body_word(s, pos);
}

unsigned char pattern_byte(const struct pattern *s, uint64_t pos)
{
	return (unsigned char)(pattern_word(s, pos) >> (8 * (pos & 7)));
}

/* Loops of GROUP words, a constant count, are what the compiler turns
 * into vector instructions at -O2. */
enum { GROUP = 32 };

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Nonzero if any of GROUP words differs: no branch in the loop. */
ALWAYS_INLINE uint64_t group_differs(const unsigned char *restrict p,
				     const uint64_t *restrict t, uint64_t b)
{
	uint64_t diff = 0;
	for (size_t k = 0; k < GROUP; k++)
		diff |= load_le64(p + 8 * k) ^ t[k] ^ b;
	return diff;
}

/* Whole words from a word boundary, in one block: the index of the first
 * word that differs, or words. One branch per GROUP words. */
ALWAYS_INLINE size_t find_word_body(const uint64_t *restrict t, uint64_t b,
				    const unsigned char *restrict p,
				    size_t words)
{
	size_t i = 0;

	for (; words - i >= GROUP; i += GROUP)
		if (group_differs(p + 8 * i, t + i, b))
			break;
	for (; i < words; i++)
		if (load_le64(p + 8 * i) != (t[i] ^ b))
			return i;
	return words;
}

/* A whole block from its start: the stamp st and the first group without
 * a branch (words 1..3 alone, so that the rest goes in whole vectors),
 * then whole groups. */
ALWAYS_INLINE size_t find_block_body(const uint64_t *restrict t, uint64_t b,
				     uint64_t st,
				     const unsigned char *restrict p)
{
	uint64_t diff = load_le64(p) ^ st;

	for (size_t k = 1; k < 4; k++)
		diff |= load_le64(p + 8 * k) ^ t[k] ^ b;
	for (size_t k = 4; k < GROUP; k++)
		diff |= load_le64(p + 8 * k) ^ t[k] ^ b;
	if (diff) {
		if (load_le64(p) != st)
			return 0;
		return 1 + find_word_body(t + 1, b, p + 8, GROUP - 1);
	}
	return GROUP + find_word_body(t + GROUP, b, p + 8 * GROUP,
				      PATTERN_TABLE_WORDS - GROUP);
}

/* The loops above as functions of their own, for one instruction set. */
#define WORD_LOOP(isa, attributes)					\
	attributes static size_t find_##isa(const uint64_t *restrict t,	\
					    uint64_t b,			\
					    const unsigned char *restrict p, \
					    size_t words)		\
	{								\
		return find_word_body(t, b, p, words);			\
	}								\
	attributes static size_t block_##isa(const uint64_t *restrict t, \
					     uint64_t b, uint64_t st,	\
					     const unsigned char *restrict p) \
	{								\
		return find_block_body(t, b, st, p);			\
	}

WORD_LOOP(plain, )

/* x86-64's baseline vectors are SSE2's 16 bytes: where the CPU has AVX2
 * (asked once a block, a load), the same loop takes 32 a step. The bytes
 * are the same either way; only the CPU time differs (bench/RUNS.md). A
 * build for size (-Os, SMALL=1) goes without: asking the CPU links the
 * compiler's CPU model code. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__OPTIMIZE_SIZE__)
WORD_LOOP(avx2, __attribute__((target("avx2"))))
#define HAS_AVX2() __builtin_cpu_supports("avx2")
#else
#define find_avx2 find_plain
#define block_avx2 block_plain
#define HAS_AVX2() 0
#endif

/* Words of pos's block from pos (a word boundary) on, at most what len
 * holds. */
static size_t words_in_block(uint64_t pos, size_t len)
{
	size_t left = PATTERN_TABLE_WORDS - (size_t)((pos >> 3) & WORD_MASK);
	return len / 8 < left ? len / 8 : left;
}

/* Whole words from pos, a word boundary, in one block: the index of the
 * first word that differs, or words. A whole block (the usual case) in
 * one call; the stamp word of a part alone. */
static size_t find_word(const struct pattern *s, uint64_t pos,
			const unsigned char *p, size_t words)
{
	const uint64_t *t = s->table + ((pos >> 3) & WORD_MASK);
	uint64_t b = body_word(s, pos), st;

	if ((pos & (BLOCK - 1)) != 0)
		return HAS_AVX2() ? find_avx2(t, b, p, words)
				  : find_plain(t, b, p, words);
	st = stamp(s, pos >> BLOCK_SHIFT);
	if (words == PATTERN_TABLE_WORDS)
		return HAS_AVX2() ? block_avx2(t, b, st, p)
				  : block_plain(t, b, st, p);
	if (load_le64(p) != st)
		return 0;
	return 1 + (HAS_AVX2() ? find_avx2(t + 1, b, p + 8, words - 1)
			       : find_plain(t + 1, b, p + 8, words - 1));
}

void pattern_fill(const struct pattern *s, uint64_t pos, void *buf, size_t len)
{
	unsigned char *p = buf;

	/* Byte by byte up to a word boundary of the stream, then words. */
	for (; len && (pos & 7); len--)
		*p++ = pattern_byte(s, pos++);
	for (; len >= 8; len -= 8, p += 8, pos += 8)
		store_le64(p, pattern_word(s, pos));
	for (; len; len--)
		*p++ = pattern_byte(s, pos++);
}

size_t pattern_find(const struct pattern *s, uint64_t pos, const void *buf,
		    size_t len)
{
	const unsigned char *p = buf;
	size_t off = 0;

	for (; off < len && ((pos + off) & 7); off++)
		if (p[off] != pattern_byte(s, pos + off))
			return off;
	for (size_t n; (n = words_in_block(pos + off, len - off)) != 0;) {
		size_t good = find_word(s, pos + off, p + off, n);
		off += 8 * good;
		if (good < n)
			break;
	}
	for (; off < len; off++)
		if (p[off] != pattern_byte(s, pos + off))
			return off;
	return len;
}

/* ---- a verified stream ---- */

void pattern_start(struct pattern *s, const char *test, uint32_t port,
		   enum pattern_dir dir, uint64_t size)
{
	/* A different seed for every stream and direction; mix spreads
	 * the few bits that differ over the whole word. */
	uint64_t seed = mix(((uint64_t)port << 1 | (uint64_t)dir) *
			    PATTERN_STEP + PATTERN_VERSION_SALT);

	*s = (struct pattern){.test = test, .port = port, .dir = dir,
			      .size = size, .seed = seed};
	for (unsigned j = 0; j < PATTERN_TABLE_WORDS; j++)
		s->table[j] = mix(mix(seed ^ 0x5bd1e9955bd1e995ull) +
				  (j + 1) * PATTERN_STEP);
	for (unsigned k = 0; k < PATTERN_BODIES; k++)
		s->body[k] = mix(seed + k * PATTERN_STEP);
}

/* The sender's bodies: ring block r holds body r % PATTERN_BODIES, so
 * that len bytes from any place are one slice. Built once a stream (again
 * only for a longer send); the stamp words stay zero until a send writes
 * them, so that a send without its stamps fails from its first word. */
static void ring_build(struct pattern *s, size_t len)
{
	size_t blocks = PATTERN_BODIES + len / BLOCK + 2;

	xfree(s->ring);
	s->ring_len = blocks * BLOCK;
	s->ring = xmalloc(s->ring_len);
	for (size_t r = 0; r < blocks; r++)
		pattern_fill(s, (uint64_t)r * BLOCK + 8, s->ring + r * BLOCK + 8,
			     BLOCK - 8);
}

const void *pattern_next(struct pattern *s, size_t len)
{
	uint64_t pos = s->pos, first = pos >> BLOCK_SHIFT;
	uint64_t last = len ? (pos + len - 1) >> BLOCK_SHIFT : first;

	if (!s->ring || s->ring_len < PATTERN_BODIES * BLOCK + len + BLOCK)
		ring_build(s, len);
	/* Ring block r0 holds first's body; every block of the slice gets
	 * its stamp (one that starts before pos goes whole: the bytes
	 * before the slice are the ring's, never sent in this call). */
	unsigned char *slice = s->ring + (first % PATTERN_BODIES) * BLOCK;
	for (uint64_t b = first; b <= last; b++)
		store_le64(slice + (b - first) * BLOCK, stamp(s, b));
	s->pos += len;
	return slice + (pos & (BLOCK - 1));
}

/* A peer that does not verify sends zeros, or echoes what it got, and one
 * with another version of the pattern its own bytes: either way its
 * stream differs from its very first word. */
static bool looks_unverified(const struct pattern *s, size_t at)
{
	return s->pos + at < 8;
}

int pattern_check(struct pattern *s, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t at = pattern_find(s, s->pos, p, len);

	if (at == len) {
		s->pos += len;
		s->checked += len;
		return 0;
	}
	s->bad = (struct pattern_mismatch){
		.pos = s->pos + at,
		.expected = pattern_byte(s, s->pos + at),
		.got = p[at],
		.unverified_peer = looks_unverified(s, at),
	};
	s->checked += at;
	s->pos += len;
	return ERR_PATTERN;
}

const char *pattern_dir_text(enum pattern_dir dir)
{
	return dir == PATTERN_TO_GUEST ? "host to guest" : "guest to host";
}

void pattern_describe(const struct pattern *s, char *buf, size_t len)
{
	const struct pattern_mismatch *b = &s->bad;
	uint64_t size = s->size ? s->size : UINT64_MAX;

	format(buf, len, "%s: port %u, %s: data differs at iteration %llu, "
	       "offset %llu: expected 0x%02x, received 0x%02x%s", s->test,
	       (unsigned)s->port, pattern_dir_text(s->dir),
	       (unsigned long long)(b->pos / size),
	       (unsigned long long)(b->pos % size), b->expected, b->got,
	       b->unverified_peer ? " (the peer may not be running with "
				    "--verify, or runs a build with another "
				    "pattern: both ends need the same)" : "");
}

void stream_patterns_start(struct stream_patterns *v, const char *test,
			   uint32_t port, enum pattern_dir sent_dir,
			   uint64_t size)
{
	pattern_start(&v->sent, test, port, sent_dir, size);
	pattern_start(&v->checked, test, port,
		      sent_dir == PATTERN_TO_GUEST ? PATTERN_TO_HOST
						   : PATTERN_TO_GUEST, size);
}
#endif /* ENABLE_FEATURE_VERIFY */

/* Without --verify in the build too: an applet ends what it may start. */
void pattern_end(struct pattern *s)
{
	xfree(s->ring);
	s->ring = NULL;
	s->ring_len = 0;
}

void stream_patterns_end(struct stream_patterns *v)
{
	if (!v)
		return;
	pattern_end(&v->sent);
	pattern_end(&v->checked);
}
