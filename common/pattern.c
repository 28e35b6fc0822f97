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
/* ---- --verify: the stream is 4 KiB blocks; word j (8 bytes, little
 * endian) of block b is table[j] ^ mix(seed + b * STEP). The table (512
 * words of mix, per stream) makes the words of a block differ from each
 * other; the block's word, one multiply per 4 KiB, makes the blocks
 * differ. So bytes look random at every distance: one moved, lost or
 * repeated, or a whole block in another's place, differs from what is
 * expected (as for any byte stream, by chance 1 in 256 per byte), and
 * making or checking it is a table xor, at memory speed. mix is a
 * bijection (an odd multiplier, xor-shifts), so blocks never repeat. */
#define PATTERN_STEP 0x9e3779b97f4a7c15ull
#define PATTERN_MIX 0xd6e8feb86659fd93ull
enum { BLOCK_SHIFT = 12, WORD_MASK = PATTERN_TABLE_WORDS - 1 };

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 32;
	x *= PATTERN_MIX;
	return x ^ (x >> 29);
}

static inline uint64_t block_word(const struct pattern *s, uint64_t pos)
{
	return mix(s->seed + (pos >> BLOCK_SHIFT) * PATTERN_STEP);
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

unsigned char pattern_byte(const struct pattern *s, uint64_t pos)
{
	uint64_t w = s->table[(pos >> 3) & WORD_MASK] ^ block_word(s, pos);
	return (unsigned char)(w >> (8 * (pos & 7)));
}

/* Loops of GROUP words, a constant count, are what the compiler turns
 * into vector instructions at -O2. */
enum { GROUP = 32 };

#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE void fill_group(unsigned char *restrict p,
			      const uint64_t *restrict t, uint64_t b)
{
	for (size_t k = 0; k < GROUP; k++)
		store_le64(p + 8 * k, t[k] ^ b);
}

/* Whole words from a word boundary, in one block. */
ALWAYS_INLINE void fill_words_body(const uint64_t *restrict t, uint64_t b,
				   unsigned char *restrict p, size_t words)
{
	size_t i = 0;

	for (; words - i >= GROUP; i += GROUP)
		fill_group(p + 8 * i, t + i, b);
	for (; i < words; i++)
		store_le64(p + 8 * i, t[i] ^ b);
}

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

/* The loops above as functions of their own, for one instruction set. */
#define WORD_LOOPS(isa, attributes)					\
	attributes static void fill_##isa(const uint64_t *restrict t,	\
					  uint64_t b,			\
					  unsigned char *restrict p,	\
					  size_t words)		\
	{								\
		fill_words_body(t, b, p, words);			\
	}								\
	attributes static size_t find_##isa(const uint64_t *restrict t,	\
					    uint64_t b,			\
					    const unsigned char *restrict p, \
					    size_t words)		\
	{								\
		return find_word_body(t, b, p, words);			\
	}

WORD_LOOPS(plain, )

/* x86-64's baseline vectors are SSE2's 16 bytes: where the CPU has AVX2
 * (asked once a block, a load), the same loops take 32 a step. The bytes
 * are the same either way; only the CPU time differs (bench/RUNS.md). A
 * build for size (-Os, SMALL=1) goes without: asking the CPU links the
 * compiler's CPU model code. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__OPTIMIZE_SIZE__)
WORD_LOOPS(avx2, __attribute__((target("avx2"))))
#define HAS_AVX2() __builtin_cpu_supports("avx2")
#else
#define fill_avx2 fill_plain
#define find_avx2 find_plain
#define HAS_AVX2() 0
#endif

static void fill_words(const struct pattern *s, uint64_t pos,
		       unsigned char *p, size_t words)
{
	const uint64_t *t = s->table + ((pos >> 3) & WORD_MASK);
	uint64_t b = block_word(s, pos);

	if (HAS_AVX2())
		fill_avx2(t, b, p, words);
	else
		fill_plain(t, b, p, words);
}

static size_t find_word(const struct pattern *s, uint64_t pos,
			const unsigned char *p, size_t words)
{
	const uint64_t *t = s->table + ((pos >> 3) & WORD_MASK);
	uint64_t b = block_word(s, pos);

	return HAS_AVX2() ? find_avx2(t, b, p, words)
			  : find_plain(t, b, p, words);
}

/* Words left in pos's block, at most what len holds. */
static size_t words_in_block(uint64_t pos, size_t len)
{
	size_t left = (PATTERN_TABLE_WORDS - ((pos >> 3) & WORD_MASK));
	return len / 8 < left ? len / 8 : left;
}

void pattern_fill(const struct pattern *s, uint64_t pos, void *buf, size_t len)
{
	unsigned char *p = buf;

	/* Byte by byte up to a word boundary of the stream, then words. */
	for (; len && (pos & 7); len--)
		*p++ = pattern_byte(s, pos++);
	for (size_t n; (n = words_in_block(pos, len)) != 0;) {
		fill_words(s, pos, p, n);
		p += 8 * n;
		pos += 8 * n;
		len -= 8 * n;
	}
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
			    PATTERN_STEP + 0x243f6a8885a308d3ull);

	*s = (struct pattern){.test = test, .port = port, .dir = dir,
			      .size = size, .seed = seed};
	for (unsigned j = 0; j < PATTERN_TABLE_WORDS; j++)
		s->table[j] = mix(mix(seed ^ 0x5bd1e9955bd1e995ull) +
				  (j + 1) * PATTERN_STEP);
}

void pattern_next(struct pattern *s, void *buf, size_t len)
{
	pattern_fill(s, s->pos, buf, len);
	s->pos += len;
}

/* A peer that does not verify sends zeros, or echoes what it got: either
 * way its stream differs from its very first word. */
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
				    "--verify)" : "");
}
#endif /* ENABLE_FEATURE_VERIFY */
