// SPDX-License-Identifier: MIT
/* Unit tests of common/: parsers, address text, data patterns, statistics
 * and whole-transfer I/O. Prints "unit: N passed, N failed". A case is a
 * function of CHECK()s and its row in cases[] (at the end). */
#include "vsockbox.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int passed, failed;

#define CHECK(cond) check((cond), #cond, __FILE__, __LINE__)

static void check(int ok, const char *what, const char *file, int line)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
}

/* ---- numbers ---- */

static void expect_number(const char *s, uint64_t min, uint64_t max,
			  unsigned flags, uint64_t want)
{
	uint64_t got = 0;
	const char *why = parse_u64(s, min, max, flags, &got);
	if (why || got != want)
		fprintf(stderr, "  parse_u64(\"%s\") = %llu (%s), want %llu\n", s,
			(unsigned long long)got, why ? why : "ok",
			(unsigned long long)want);
	CHECK(!why && got == want);
}

static void expect_bad_number(const char *s, uint64_t min, uint64_t max,
			      unsigned flags)
{
	uint64_t got = 12345;
	const char *why = parse_u64(s, min, max, flags, &got);
	if (!why)
		fprintf(stderr, "  parse_u64(\"%s\") accepted %llu\n", s,
			(unsigned long long)got);
	CHECK(why != NULL && got == 12345);
}

static void test_numbers(void)
{
	expect_number("0", 0, 10, 0, 0);
	expect_number("4096", 1, UINT64_MAX, 0, 4096);
	expect_number("128M", 1, UINT64_MAX, NUM_SUFFIX, 128u << 20);
	expect_number("1k", 1, UINT64_MAX, NUM_SUFFIX, 1024);
	expect_number("2G", 1, UINT64_MAX, NUM_SUFFIX, 2ull << 30);
	expect_number("1T", 1, UINT64_MAX, NUM_SUFFIX, 1ull << 40);
	expect_number("18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX);
	expect_number("255", 0, 255, 0, 255);
	expect_bad_number("", 0, 10, 0);
	expect_bad_number(NULL, 0, 10, 0);
	expect_bad_number("-1", 0, 10, 0);
	expect_bad_number("0", 1, 10, 0);
	expect_bad_number("11", 1, 10, 0);
	expect_bad_number("256", 0, 255, 0);
	expect_bad_number("18446744073709551616", 0, UINT64_MAX, 0);
	expect_bad_number("99999999999999999999999", 0, UINT64_MAX, 0);
	expect_bad_number("17179869184G", 0, UINT64_MAX, NUM_SUFFIX);
	expect_bad_number("12abc", 0, UINT64_MAX, 0);
	expect_bad_number("1M", 0, UINT64_MAX, 0);	/* no suffix allowed */
	expect_bad_number("1MB", 0, UINT64_MAX, NUM_SUFFIX);
	expect_bad_number("1X", 0, UINT64_MAX, NUM_SUFFIX);
	expect_bad_number(" 1", 0, UINT64_MAX, 0);
	expect_bad_number("1 ", 0, UINT64_MAX, 0);
	expect_bad_number("+1", 0, UINT64_MAX, 0);
	expect_bad_number("0x10", 0, UINT64_MAX, 0);
}

/* ---- addresses ---- */

static void expect_address(const char *s, const char *canonical)
{
	struct address a;
	char text[ADDRESS_TEXT_MAX] = "";
	const char *why = parse_address(s, &a);
	if (!why)
		format_address(&a, text, sizeof(text));
	if (why || strcmp(text, canonical) != 0)
		fprintf(stderr, "  parse_address(\"%s\") -> \"%s\" (%s), want \"%s\"\n",
			s, text, why ? why : "ok", canonical);
	CHECK(!why && strcmp(text, canonical) == 0);
}

static void expect_bad_address(const char *s)
{
	struct address a;
	memset(&a, 0x5a, sizeof(a));
	const char *why = parse_address(s, &a);
	if (!why)
		fprintf(stderr, "  parse_address(\"%s\") accepted\n", s);
	CHECK(why != NULL && a.port == 0x5a5a5a5a);	/* untouched on error */
}

static void test_addresses(void)
{
	struct address a;

	expect_address("vsock:2", "vsock:2");
	expect_address("vsock:2:8500", "vsock:2:8500");
	expect_address("vsock:any:8500", "vsock:any:8500");
	expect_address("vsock:host", "vsock:2");
	expect_address("vsock:local:1234", "vsock:1:1234");
	expect_address("vsock:3:4294967294", "vsock:3:4294967294");
	expect_address("3", "vsock:3");
	expect_address("3:8000", "vsock:3:8000");
	expect_address("vsock:4294967294", "vsock:4294967294");
	expect_address("tcp:127.0.0.1", "tcp:127.0.0.1");
	expect_address("tcp:127.0.0.1:8500", "tcp:127.0.0.1:8500");
	expect_address("tcp:10.0.0.1:0", "tcp:10.0.0.1:0");
	expect_address("tcp:[::1]", "tcp:[::1]");
	expect_address("tcp:[::1]:65535", "tcp:[::1]:65535");
	expect_address("tcp:[fe80::1:2]:80", "tcp:[fe80::1:2]:80");
	/* IPv6 text as RFC 5952 (and inet_ntop) writes it. */
	expect_address("tcp:[::]", "tcp:[::]");
	expect_address("tcp:[1::]", "tcp:[1::]");
	expect_address("tcp:[2001:DB8:0:0:1:0:0:1]", "tcp:[2001:db8::1:0:0:1]");
	expect_address("tcp:[2001:db8:0:1:1:1:1:1]", "tcp:[2001:db8:0:1:1:1:1:1]");
	expect_address("tcp:[1:0:0:2:0:0:0:3]", "tcp:[1:0:0:2::3]");
	expect_address("tcp:[0:0:1:0:0:0:0:0]:7", "tcp:[0:0:1::]:7");
	expect_address("tcp:[::ffff:1.2.3.4]", "tcp:[::ffff:102:304]");
	expect_address("tcp:[abcd:ef01:2345:6789:abcd:ef01:2345:6789]",
		       "tcp:[abcd:ef01:2345:6789:abcd:ef01:2345:6789]");
	expect_address("tcp:255.255.255.255:65535", "tcp:255.255.255.255:65535");

	/* Hybrid vsock: a last ":DIGITS" is the port, any other colon is
	 * the path's. */
	expect_address("unix:/run/v.sock", "unix:/run/v.sock");
	expect_address("unix:/run/v.sock:8500", "unix:/run/v.sock:8500");
	expect_address("unix:v.sock:0", "unix:v.sock:0");
	expect_address("unix:/a:b/v.sock", "unix:/a:b/v.sock");
	expect_address("unix:/a:1:2", "unix:/a:1:2");
	expect_address("unix:/a:", "unix:/a:");
	expect_address("unix:/v:4294967294", "unix:/v:4294967294");
	expect_address("unix-ports:/run/krun.sock:1024",
		       "unix-ports:/run/krun.sock:1024");
	expect_address("unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1",
		       "unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:1");
	CHECK(!parse_address("unix:/a:1:2", &a) && a.port == 2 &&
	      a.family == AF_UNIX && a.transport == TRANSPORT_HYBRID &&
	      strcmp(a.path, "/a:1") == 0 && a.token == 0);
	CHECK(!parse_address("unix-ports:/k", &a) && a.port == PORT_UNSET &&
	      a.transport == TRANSPORT_UNIX_PORTS && is_unix(&a));
	{
		/* One VMM's socket is one host; a run is one token. */
		struct address x, y;
		CHECK(!parse_address("unix:/v:8500", &x) &&
		      !parse_address("unix:/v:1", &y) && same_host(&x, &y));
		y.token = 7;
		CHECK(same_host(&x, &y));	/* no token: any run's */
		x.token = 5;
		CHECK(!same_host(&x, &y));
		x.token = 0;
		CHECK(!parse_address("unix:/w:8500", &y) && !same_host(&x, &y));
		CHECK(!parse_address("unix-ports:/v:8500", &y) &&
		      !same_host(&x, &y));
	}

	CHECK(!parse_address("vsock:2", &a) && a.port == PORT_UNSET &&
	      a.family == AF_VSOCK && a.cid == 2);
	CHECK(!parse_address("tcp:[::1]:9", &a) && a.family == AF_INET6 &&
	      a.port == 9 && a.ip[15] == 1);
	CHECK(!parse_address("tcp:127.0.0.1:9", &a) && a.family == AF_INET &&
	      a.ip[0] == 127 && a.ip[3] == 1);

	expect_bad_address("");
	expect_bad_address("vsock:");
	expect_bad_address("vsock::1");
	expect_bad_address("vsock:x:1");
	expect_bad_address("vsock:2:");
	expect_bad_address("vsock:2:x");
	expect_bad_address("vsock:2:-1");
	expect_bad_address("vsock:2:4294967295");	/* VMADDR_PORT_ANY */
	expect_bad_address("vsock:4294967295");	/* spelled "any" */
	expect_bad_address("vsock:4294967296");	/* 2^32 */
	expect_bad_address("4294967296");
	expect_bad_address("vsock:2:8500:1");
	expect_bad_address("tcp:");
	expect_bad_address("tcp:host");
	expect_bad_address("tcp:localhost:80");
	expect_bad_address("tcp:127.0.0.1:70000");
	expect_bad_address("tcp:127.0.0.1:65536");
	expect_bad_address("tcp:127.0.0.1:");
	expect_bad_address("tcp:127.0.0.1:8a");
	expect_bad_address("tcp:1.2.3");
	expect_bad_address("tcp:[::1");
	expect_bad_address("tcp:[::1]x");
	expect_bad_address("tcp:[]:1");
	expect_bad_address("tcp:::1");
	expect_bad_address("tcp:[127.0.0.1]:1");
	expect_bad_address("udp:1.2.3.4:5");
	expect_bad_address("unix:");
	expect_bad_address("unix::8500");
	expect_bad_address("unix-ports:");
	expect_bad_address("unix:/v.sock:4294967295");	/* VMADDR_PORT_ANY */
	expect_bad_address("unix:/v.sock:99999999999");
	/* 97 bytes: PATH_4294967294 would not fit a sockaddr_un. */
	expect_bad_address("unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	expect_bad_address("Unix:/v.sock");
	expect_bad_address("host");

	struct address any = any_address_like(&(struct address){
		.transport = TRANSPORT_TCP, .family = AF_INET,
		.ip = {127, 0, 0, 1}, .port = 5}, 8001);
	char text[ADDRESS_TEXT_MAX];
	format_address(&any, text, sizeof(text));
	CHECK(strcmp(text, "tcp:0.0.0.0:8001") == 0);
	CHECK(!parse_address("vsock:2:1", &a));
	any = any_address_like(&a, 8001);
	format_address(&any, text, sizeof(text));
	CHECK(strcmp(text, "vsock:any:8001") == 0);
}

/* ---- protocol data ---- */

static void test_patterns(void)
{
	unsigned char buf[PERF_ECHO_PACKET + 1];

	memset(buf, 0, sizeof(buf));
	warmup_packet(7, buf, PERF_ECHO_PACKET);
	CHECK(memcmp(buf, "DAVID007DAVID007", 16) == 0);
	CHECK(memcmp(buf + PERF_ECHO_PACKET - 8, "DAVID007", 8) == 0);
	CHECK(buf[PERF_ECHO_PACKET] == 0);	/* no overrun */
	warmup_packet(99, buf, PERF_ECHO_PACKET);
	CHECK(memcmp(buf, "DAVID099", 8) == 0);
	warmup_packet(0, buf, 12);
	CHECK(memcmp(buf, "DAVID000DAVI", 12) == 0);
	/* 512 repetitions of 8 bytes make one 4096-byte packet. */
	size_t units = 0;
	warmup_packet(42, buf, PERF_ECHO_PACKET);
	for (size_t off = 0; off < PERF_ECHO_PACKET; off += 8)
		units += memcmp(buf + off, "DAVID042", 8) == 0;
	CHECK(units == 512);

	memset(buf, 42, 100);
	CHECK(find_not_byte(buf, 100, 42) == 100);
	buf[63] = 43;
	CHECK(find_not_byte(buf, 100, 42) == 63);
	CHECK(find_not_byte(buf, 0, 42) == 0);

	/* vsock-conform's seeded data: by offset, not by call. */
	unsigned char a[300], b[300];
	seeded_fill(7, 1000, a, sizeof(a));
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = seeded_byte(7, 1000 + i);
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	CHECK(seeded_check(7, 1000, a, sizeof(a)) == sizeof(a));
	CHECK(seeded_check(7, 1001, a, sizeof(a)) < 8);	/* shifted by one */
	CHECK(seeded_check(8, 1000, a, sizeof(a)) < 8);	/* another seed */
	a[123] ^= 1;
	CHECK(seeded_check(7, 1000, a, sizeof(a)) == 123);
	char name[24];
	CHECK(strcmp(errno_name(ECONNRESET, name, sizeof(name)), "ECONNRESET") == 0);
	CHECK(strcmp(errno_name(9999, name, sizeof(name)), "errno 9999") == 0);
}

/* ---- --verify's pattern ---- */

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Feeds buf to a fresh stream in chunks of random sizes (1..max_chunk),
 * as a receiver would get them; the position of the first difference,
 * or UINT64_MAX. */
static uint64_t check_in_chunks(uint32_t port, enum pattern_dir dir,
				uint64_t start, const unsigned char *buf,
				size_t len, size_t max_chunk, uint64_t *checked)
{
	struct pattern s;
	pattern_start(&s, "test", port, dir, 1000);
	s.pos = start;
	for (size_t off = 0; off < len;) {
		size_t n = 1 + (size_t)(rng() % max_chunk);
		if (n > len - off)
			n = len - off;
		if (pattern_check(&s, buf + off, n) == ERR_PATTERN) {
			*checked = s.checked;
			return s.bad.pos;
		}
		off += n;
	}
	*checked = s.checked;
	return UINT64_MAX;
}

/* The first position where two buffers differ, byte by byte. */
static uint64_t naive_first_difference(uint64_t start, const unsigned char *a,
				       const unsigned char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return start + i;
	return UINT64_MAX;
}

enum { PAT_LEN = 64 << 10, RUN = 4096 };

/* One corruption of the stream at a random offset, as the fault peer
 * makes them: where it is first seen must be exactly where it is. */
static void expect_caught(const char *kind, uint64_t start,
			  const unsigned char *clean, unsigned char *bad)
{
	uint64_t checked, want = naive_first_difference(start, clean, bad,
							 PAT_LEN);
	uint64_t got = check_in_chunks(PERF_UNIDIR_PORT, PATTERN_TO_GUEST, start, bad, PAT_LEN, 9000, &checked);
	if (got != want || want == UINT64_MAX)
		fprintf(stderr, "  %s at start %llu: found %llu, want %llu\n",
			kind, (unsigned long long)start,
			(unsigned long long)got, (unsigned long long)want);
	CHECK(got == want && want != UINT64_MAX && checked == want - start);
}

static void test_pattern_corruptions(void)
{
	static unsigned char clean[PAT_LEN], bad[PAT_LEN];
	static struct pattern gen;
	const struct pattern *seed = &gen;

	pattern_start(&gen, "test", PERF_UNIDIR_PORT, PATTERN_TO_GUEST, 1000);
	for (int round = 0; round < 200; round++) {
		uint64_t start = rng() % (1ull << 40);
		size_t k = (size_t)(rng() % (PAT_LEN - 2 * RUN - 1));
		pattern_fill(seed, start, clean, PAT_LEN);

		/* One flipped bit: found at its very byte. */
		memcpy(bad, clean, PAT_LEN);
		bad[k] ^= (unsigned char)(1u << (rng() % 8));
		expect_caught("flipped bit", start, clean, bad);
		CHECK(pattern_find(seed, start, bad, PAT_LEN) == k);

		/* A 4 KiB run sent twice: the copy takes the next run's place. */
		memcpy(bad, clean, PAT_LEN);
		memcpy(bad + k + RUN, clean + k, RUN);
		expect_caught("duplicated run", start, clean, bad);

		/* Two 4 KiB runs swapped. */
		memcpy(bad, clean, PAT_LEN);
		memcpy(bad + k, clean + k + RUN, RUN);
		memcpy(bad + k + RUN, clean + k, RUN);
		expect_caught("swapped runs", start, clean, bad);

		/* One byte dropped: the rest moves up by one. */
		memcpy(bad, clean, PAT_LEN);
		memmove(bad + k, clean + k + 1, PAT_LEN - k - 1);
		expect_caught("dropped byte", start, clean, bad);

		/* One byte inserted: the rest moves down by one. */
		memcpy(bad, clean, PAT_LEN);
		bad[k] = (unsigned char)rng();
		memcpy(bad + k + 1, clean + k, PAT_LEN - k - 1);
		if (bad[k] != clean[k])
			expect_caught("inserted byte", start, clean, bad);

		/* A whole block in the place of the one PATTERN_BODIES on,
		 * whose body is the same: its stamp tells them apart. */
		size_t b = k + (size_t)((RUN - (start + k) % RUN) % RUN);
		memcpy(bad, clean, PAT_LEN);
		pattern_fill(seed, start + b + PATTERN_BODIES * RUN, bad + b,
			     RUN);
		expect_caught("block of the same body", start, clean, bad);
		CHECK(pattern_find(seed, start, bad, PAT_LEN) < b + 8);

		/* What it cannot see: a piece without the stamp word, moved
		 * by PATTERN_BODIES blocks (doc/PROTOCOL.md). */
		memcpy(bad, clean, PAT_LEN);
		pattern_fill(seed, start + b + 8 + PATTERN_BODIES * RUN,
			     bad + b + 8, RUN - 8);
		CHECK(pattern_find(seed, start, bad, PAT_LEN) == PAT_LEN);
	}
}

/* A sender's slices (pattern_next: bodies built once, stamps written
 * send by send) are the stream's bytes, at any place and size, send
 * after send; and the bodies are built only once for a size. */
static void test_pattern_sends(void)
{
	static unsigned char want[1 << 20];
	struct pattern s, ref;
	int same = 1;

	pattern_start(&s, "test", PERF_BIDIR_PORT, PATTERN_TO_GUEST, 1000);
	pattern_start(&ref, "test", PERF_BIDIR_PORT, PATTERN_TO_GUEST, 1000);
	for (int i = 0; i < 300; i++) {
		size_t len = (size_t)(rng() % (i % 3 ? 9000 : sizeof(want)));
		uint64_t pos = s.pos;
		const unsigned char *got = pattern_next(&s, len);
		pattern_fill(&ref, pos, want, len);
		same &= memcmp(got, want, len) == 0;
		same &= pattern_find(&ref, pos, got, len) == len;
	}
	CHECK(same);
	size_t built = s.ring_len;
	const unsigned char *ring = s.ring;
	for (int i = 0; i < 100; i++)
		same &= pattern_next(&s, 1 + (size_t)(rng() % (1 << 19))) != NULL;
	CHECK(same && s.ring == ring && s.ring_len == built);
	pattern_end(&s);
	CHECK(s.ring == NULL);
}

static void test_pattern(void)
{
	static unsigned char whole[PAT_LEN], part[PAT_LEN];
	static struct pattern gen, other;
	const struct pattern *seed = &gen;
	uint64_t checked;

	pattern_start(&gen, "test", PERF_MULTI_PORT, PATTERN_TO_HOST, 1000);

	/* Any slice, at any offset, is the same bytes as the whole. */
	pattern_fill(seed, 1000, whole, PAT_LEN);
	int same = 1;
	for (int i = 0; i < 500; i++) {
		size_t off = (size_t)(rng() % PAT_LEN);
		size_t len = (size_t)(rng() % (PAT_LEN - off + 1));
		pattern_fill(seed, 1000 + off, part, len);
		same &= memcmp(part, whole + off, len) == 0;
		same &= pattern_find(seed, 1000 + off, whole + off, len) == len;
		same &= pattern_byte(seed, 1000 + off) == whole[off];
	}
	CHECK(same);
	/* Received in chunks of any size: every byte checked, none wrong. */
	CHECK(check_in_chunks(PERF_MULTI_PORT, PATTERN_TO_HOST, 1000, whole, PAT_LEN, 1, &checked) == UINT64_MAX &&
	      checked == PAT_LEN);
	CHECK(check_in_chunks(PERF_MULTI_PORT, PATTERN_TO_HOST, 1000, whole, PAT_LEN, 13, &checked) == UINT64_MAX);
	CHECK(check_in_chunks(PERF_MULTI_PORT, PATTERN_TO_HOST, 1000, whole, PAT_LEN, 70000, &checked) ==
	      UINT64_MAX && checked == PAT_LEN);
	/* Streams and directions differ from their first bytes. */
	pattern_start(&other, "test", PERF_MULTI_PORT + 1, PATTERN_TO_HOST, 1);
	CHECK(pattern_find(&other, 1000, whole, PAT_LEN) < 8);
	pattern_start(&other, "test", PERF_MULTI_PORT, PATTERN_TO_GUEST, 1);
	CHECK(pattern_find(&other, 1000, whole, PAT_LEN) < 8);
	/* Byte k and byte k + 4 KiB (a block away), or k + 8 (a word away),
	 * agree only by chance: about 1 in 256, as in a random stream. */
	size_t same_block = 0, same_word = 0;
	for (size_t k = 0; k + 4096 < PAT_LEN; k++) {
		same_block += whole[k] == whole[k + 4096];
		same_word += whole[k] == whole[k + 8];
	}
	CHECK(same_block < 3 * PAT_LEN / 256 && same_word < 3 * PAT_LEN / 256);
	test_pattern_corruptions();
	test_pattern_sends();
}

/* The one line a difference makes, and the hint at a peer without
 * --verify (its stream differs from the first word on). */
static void test_pattern_message(void)
{
	unsigned char buf[4096];
	struct pattern s;
	char line[256];

	pattern_start(&s, "unidirectional", PERF_UNIDIR_PORT,
		      PATTERN_TO_GUEST, 1000);
	memset(buf, 0, sizeof(buf));
	CHECK(pattern_check(&s, buf, sizeof(buf)) == ERR_PATTERN);
	CHECK(s.bad.pos < 8 && s.bad.unverified_peer && s.bad.got == 0);
	pattern_describe(&s, line, sizeof(line));
	CHECK(strstr(line, "unidirectional: port 8503, host to guest: data "
		      "differs at iteration 0, offset ") == line);
	CHECK(strstr(line, "(the peer may not be running with --verify, or "
		      "runs a build with another pattern: both ends need the "
		      "same)") != NULL);

	/* A real difference later: iteration and offset from the position. */
	pattern_start(&s, "multi stream", PERF_MULTI_PORT + 2,
		      PATTERN_TO_HOST, 1000);
	pattern_fill(&s, 0, buf, sizeof(buf));
	unsigned char want = buf[2345];
	buf[2345] ^= 0x10;
	CHECK(pattern_check(&s, buf, 2000) == 0);
	CHECK(pattern_check(&s, buf + 2000, 2096) == ERR_PATTERN);
	CHECK(s.bad.pos == 2345 && !s.bad.unverified_peer && s.checked == 2345);
	pattern_describe(&s, line, sizeof(line));
	char expect[200];
	snprintf(expect, sizeof(expect), "multi stream: port 8506, guest to "
		 "host: data differs at iteration 2, offset 345: expected "
		 "0x%02x, received 0x%02x", want, want ^ 0x10);
	if (strcmp(line, expect))
		fprintf(stderr, "  got  %s\n  want %s\n", line, expect);
	CHECK(strcmp(line, expect) == 0);
}

/* ---- statistics ---- */

static void test_stats(void)
{
	/* floor(p/100 * (n-1)), computed by hand. */
	CHECK(percentile_index(1, 99) == 0);
	CHECK(percentile_index(10, 25) == 2);	/* 2.25 */
	CHECK(percentile_index(10, 50) == 4);	/* 4.5 */
	CHECK(percentile_index(10, 75) == 6);	/* 6.75 */
	CHECK(percentile_index(10, 99) == 8);	/* 8.91 */
	CHECK(percentile_index(100, 99) == 98);	/* 98.01 */
	CHECK(percentile_index(101, 50) == 50);
	CHECK(percentile_index(10000, 99) == 9899);	/* 9899.01 */
	CHECK(percentile_index(5, 100) == 4);

	double v[10] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
	struct summary s;
	summarize(v, 10, &s);
	CHECK(s.n == 10 && s.min == 1 && s.max == 10);
	CHECK(s.p25 == 3 && s.p50 == 5 && s.p75 == 7 && s.p99 == 9);

	double one[1] = {4.5};
	summarize(one, 1, &s);
	CHECK(s.min == 4.5 && s.p50 == 4.5 && s.p99 == 4.5 && s.max == 4.5);

	double many[1000];
	for (int i = 0; i < 1000; i++)
		many[i] = (double)((i * 7919) % 1000);	/* 0..999 shuffled */
	summarize(many, 1000, &s);
	CHECK(s.p25 == 249 && s.p50 == 499 && s.p75 == 749 && s.p99 == 989);
	summarize(many, 0, &s);
	CHECK(s.n == 0 && s.max == 0);

	/* The sort itself: random values with many equal ones, sorted in
	 * place, nothing lost. */
	static double r[4097];
	double sum = 0, after = 0;
	unsigned seed = 12345;
	for (int i = 0; i < 4097; i++) {
		seed = seed * 1103515245u + 12345u;
		r[i] = (double)((seed >> 16) % 300);
		sum += r[i];
	}
	summarize(r, 4097, &s);
	int sorted = 1;
	for (int i = 0; i < 4097; i++) {
		after += r[i];
		sorted &= i == 0 || r[i - 1] <= r[i];
	}
	CHECK(sorted && sum == after);

	/* Fixed-point text, rounded half away from zero. */
	char buf[32];
	CHECK(strcmp(format_fixed(buf, sizeof(buf), 1234.5678, 2), "1234.57") == 0);
	CHECK(strcmp(format_fixed(buf, sizeof(buf), 0.004, 2), "0.00") == 0);
	CHECK(strcmp(format_fixed(buf, sizeof(buf), 0.005, 3), "0.005") == 0);
	CHECK(strcmp(format_fixed(buf, sizeof(buf), 9.9996, 3), "10.000") == 0);
	CHECK(strcmp(format_fixed(buf, sizeof(buf), 13410.0, 0), "13410") == 0);
	CHECK(strcmp(format_fixed(buf, sizeof(buf), 13410.5, 0), "13411") == 0);
	CHECK(strcmp(format_fixed(buf, sizeof(buf), -2.25, 1), "-2.3") == 0);
	CHECK(strcmp(format_fixed(buf, sizeof(buf), 1e300, 2), "inf") == 0);
	CHECK(strcmp(format_fixed(buf, sizeof(buf), 0.0 / 0.0, 2), "nan") == 0);
	CHECK(strcmp(format_fixed(buf, sizeof(buf), 5.0, 9), "5.0000") == 0);
}

/* ---- format: the C library's snprintf is the oracle ---- */

#define SAME_AS_LIBC(...)                                                     \
	do {                                                                  \
		char ours[128], libc[128];                                    \
		size_t n = format(ours, sizeof(ours), __VA_ARGS__);           \
		int m = snprintf(libc, sizeof(libc), __VA_ARGS__);            \
		if (strcmp(ours, libc) != 0 || (int)n != m)                   \
			fprintf(stderr, "  format: \"%s\" vs libc \"%s\"\n", \
				ours, libc);                                  \
		CHECK(strcmp(ours, libc) == 0 && (int)n == m);                \
	} while (0)

/* format_v without the format attribute, for a format the compiler must
 * not see. */
static size_t unchecked_format(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = format_v(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

static void test_format(void)
{
	SAME_AS_LIBC("plain text");
	SAME_AS_LIBC("%s: %s", "vsock-echo", "read");
	SAME_AS_LIBC("%d %d %d", 0, -1, 2147483647);
	SAME_AS_LIBC("%d", (int)-2147483647 - 1);
	SAME_AS_LIBC("%u %u", 0u, 4294967295u);
	SAME_AS_LIBC("%llu %lld", 18446744073709551615ull, -9223372036854775807ll);
	SAME_AS_LIBC("%lu %ld", 123456789ul, -5l);
	SAME_AS_LIBC("%zu %zd", (size_t)4096, (ssize_t)-3);
	SAME_AS_LIBC("[%03u] [%05d] [%5d] [%-5d|]", 7u, -42, 42, 42);
	SAME_AS_LIBC("[%10s] [%-10s] [%3s]", "abc", "abc", "abcdef");
	SAME_AS_LIBC("[%.*s] [%.2s] [%-28s]", 3, "abcdef", "xyz", "round trip");
	SAME_AS_LIBC("[%*s] [%0*llu]", 6, "r", 4, 12ull);
	SAME_AS_LIBC("%c%c 100%%", 'o', 'k');
	SAME_AS_LIBC("DAVID%03u", 99u);

	char small[8];
	CHECK(format(small, sizeof(small), "%s", "truncated text") == 14);
	CHECK(strcmp(small, "truncat") == 0);
	CHECK(format(small, 0, "%d", 5) == 1);

	errno = EPIPE;
	SAME_AS_LIBC("write: %m");

	/* A conversion outside the subset, as if the build's check had been
	 * bypassed (the literal is built here so that fmtcheck never sees
	 * it): visible, and nothing after it is formatted. */
	char text[64], bad[] = {'%', 'd', ' ', '%', '.', '1', 'f', ' ', '%',
				's', '\0'};
	unchecked_format(text, sizeof(text), bad, 7, 2.5, "never read");
	bool shown = strncmp(text, "7 ", 2) == 0 && text[2] == '%' &&
		     strcmp(text + 3, "f(unsupported conversion)") == 0;
	CHECK(shown);
}

/* ---- I/O ---- */

/* A connection on one end of a socketpair. */
static void pair(struct conn *c, int sv[2])
{
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	conn_adopt(&c[0], sv[0], "pair 0");
	conn_adopt(&c[1], sv[1], "pair 1");
}

/* A child writes `len` bytes in pieces of `piece`, `gap_us` apart, then
 * closes. */
static pid_t trickle(struct conn *c, size_t len, size_t piece, unsigned gap_us)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	unsigned char *data = malloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 31);
	for (size_t off = 0; off < len; off += piece) {
		size_t n = len - off < piece ? len - off : piece;
		if (write_full(c, data + off, n, NO_DEADLINE))
			_exit(1);
		usleep(gap_us);
	}
	_exit(0);
}

static void test_memory(void)
{
	unsigned char *p = xmalloc(100000);
	int zero = 1;
	for (size_t i = 0; i < 100000; i++)
		zero &= p[i] == 0;
	CHECK(zero);
	CHECK(((uintptr_t)p & 15) == 0);
	memset(p, 1, 100000);
	xfree(p);
	xfree(NULL);
}

/* How late a step may end past its deadline in these checks: what a
 * loaded machine (other suites, QEMU guests) may take to run a woken
 * process. The faults they exist for are later by a whole step, or
 * never end. */
#define LATE_NS 150000000u

static void test_io(void)
{
	int sv[2];
	struct conn c[2];
	unsigned char buf[70000];
	size_t got;

	/* Short reads are continued until the whole buffer is there. */
	pair(c, sv);
	pid_t pid = trickle(&c[1], sizeof(buf), 1000, 200);
	close(sv[1]);
	CHECK(read_full(&c[0], buf, sizeof(buf), NO_DEADLINE) == 0);
	int ok = 1;
	for (size_t i = 0; i < sizeof(buf); i++)
		ok &= buf[i] == (unsigned char)(i * 31);
	CHECK(ok);
	/* Then the peer's close is ERR_EOF, with nothing counted. */
	CHECK(read_counted(&c[0], buf, 10, &got, NO_DEADLINE) == ERR_EOF &&
	      got == 0);
	waitpid(pid, NULL, 0);
	close(sv[0]);

	/* A close in the middle: EOF, with the count of what came. */
	pair(c, sv);
	CHECK(write_full(&c[1], "abcde", 5, NO_DEADLINE) == 0);
	close(sv[1]);
	CHECK(read_counted(&c[0], buf, 10, &got, NO_DEADLINE) == ERR_EOF &&
	      got == 5);
	close(sv[0]);

	/* Writes far beyond the socket buffer complete (short writes). */
	pair(c, sv);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		static unsigned char big[4 << 20];
		_exit(send_bytes(&c[1], 16u << 20, big, sizeof(big),
				 NO_DEADLINE) ? 1 : 0);
	}
	close(sv[1]);
	CHECK(recv_bytes(&c[0], 16u << 20, buf, sizeof(buf), NO_DEADLINE) == 0);
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
	close(sv[0]);

	/* A silent peer is ETIMEDOUT at the deadline, an env failure. */
	pair(c, sv);
	uint64_t start = now_ns();
	CHECK(read_full(&c[0], buf, 1, deadline_after_ms(200)) == ETIMEDOUT);
	uint64_t took = now_ns() - start;
	CHECK(took >= 190000000u && took < 200000000u + LATE_NS);
	CHECK(io_exit_code(ETIMEDOUT) == EXIT_ENV);
	/* A shorter time-out left by that step does not cut the next one. */
	start = now_ns();
	CHECK(read_full(&c[0], buf, 1, deadline_after_ms(500)) == ETIMEDOUT);
	took = now_ns() - start;
	CHECK(took >= 490000000u && took < 500000000u + LATE_NS);
	/* A closed peer: EPIPE on write (never SIGPIPE), EOF on read. */
	close(sv[1]);
	CHECK(write_full(&c[0], "x", 1, deadline_after_ms(50)) == EPIPE);
	CHECK(read_full(&c[0], buf, 1, deadline_after_ms(50)) == ERR_EOF);
	CHECK(io_exit_code(ERR_EOF) == EXIT_FAIL);
	CHECK(io_exit_code(ECONNRESET) == EXIT_FAIL);
	CHECK(io_exit_code(ERR_DATA) == EXIT_FAIL);
	CHECK(strcmp(io_error_text(ERR_EOF), "peer closed the connection") == 0);
	close(sv[0]);
}

/* Partial progress never extends a step: bytes trickling in 20 ms apart
 * end a 150 ms read at 150 ms, with what came counted. */
static void test_deadline(void)
{
	int sv[2];
	struct conn c[2];
	unsigned char buf[64];
	size_t got;

	pair(c, sv);
	pid_t pid = trickle(&c[1], sizeof(buf), 1, 20000);
	close(sv[1]);
	uint64_t start = now_ns();
	CHECK(read_counted(&c[0], buf, sizeof(buf), &got,
			   deadline_after_ms(150)) == ETIMEDOUT);
	uint64_t took = now_ns() - start;
	CHECK(took >= 145000000u && took < 150000000u + LATE_NS);
	CHECK(got >= 3 && got < sizeof(buf));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(sv[0]);

	/* The same with a watchdog in place of the kernel's time-outs: its
	 * timer interrupts the read every 18 ms (an eighth of 150). */
	pair(c, sv);
	struct watchdog w;
	watchdog_start(&w, &c[0], 150);
	pid = trickle(&c[1], sizeof(buf), 1, 20000);
	start = now_ns();
	CHECK(read_counted(&c[0], buf, sizeof(buf), &got,
			   deadline_after_ms(150)) == ETIMEDOUT);
	took = now_ns() - start;
	CHECK(took >= 145000000u && took < 150000000u + LATE_NS);
	CHECK(got >= 3 && got < sizeof(buf));
	watchdog_stop(&w);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(sv[0]);
	close(sv[1]);
	/* A step within its deadline is untouched by the interruptions: 3
	 * bytes 30 ms apart, the timer every 5 ms, the bound 500 ms. */
	pair(c, sv);
	watchdog_start(&w, &c[0], 40);
	pid = trickle(&c[1], 3, 1, 30000);
	start = now_ns();
	CHECK(read_full(&c[0], buf, 3, deadline_after_ms(500)) == 0);
	took = now_ns() - start;
	CHECK(took >= 55000000u && took < 500000000u);
	CHECK(buf[0] == 0 && buf[1] == 31 && buf[2] == 62);
	/* A silent peer: the watched read ends at its deadline. */
	start = now_ns();
	CHECK(read_full(&c[0], buf, 1, deadline_after_ms(60)) == ETIMEDOUT);
	took = now_ns() - start;
	CHECK(took >= 59000000u && took < 60000000u + LATE_NS);
	watchdog_stop(&w);
	waitpid(pid, NULL, 0);
	close(sv[0]);
	close(sv[1]);

	/* A writer whose peer never reads: ETIMEDOUT at its deadline. */
	pair(c, sv);
	static unsigned char big[1 << 20];
	start = now_ns();
	CHECK(send_bytes(&c[0], 64u << 20, big, sizeof(big),
			 deadline_after_ms(150)) == ETIMEDOUT);
	took = now_ns() - start;
	CHECK(took >= 145000000u && took < 150000000u + LATE_NS);
	/* The same writer, watched: its blocked send is interrupted and
	 * the step ends at its deadline, at most an interval (18 ms) late. */
	watchdog_start(&w, &c[0], 150);
	start = now_ns();
	CHECK(send_bytes(&c[0], 64u << 20, big, sizeof(big),
			 deadline_after_ms(150)) == ETIMEDOUT);
	took = now_ns() - start;
	CHECK(took >= 145000000u && took < 150000000u + LATE_NS);
	watchdog_stop(&w);
	close(sv[0]);
	close(sv[1]);

	int status;
	/* A Unix peer that reads once mid-step, then stalls: the write
	 * step still ends at its deadline. A blocking AF_UNIX send() waits
	 * SO_SNDTIMEO afresh for each buffer it allocates, so the read
	 * gave the call a second full time-out (1.4 s here) until writes
	 * on a Unix socket waited by poll (the late write of issue 27). */
	pair(c, sv);
	pid = fork();
	if (pid == 0) {
		static unsigned char sink[64 << 10];
		usleep(400000);
		_exit(read(sv[1], sink, sizeof(sink)) > 0 ? 0 : 1);
	}
	start = now_ns();
	CHECK(send_bytes(&c[0], 64u << 20, big, sizeof(big),
			 deadline_after_ms(1000)) == ETIMEDOUT);
	took = now_ns() - start;
	CHECK(took >= 995000000u && took < 1300000000u);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
	close(sv[0]);
	close(sv[1]);

	/* Surplus: a byte within the grace is ERR_DATA, a close is not. */
	pair(c, sv);
	CHECK(check_surplus(&c[0], 10) == 0);
	CHECK(write_full(&c[1], "x", 1, NO_DEADLINE) == 0);
	CHECK(check_surplus(&c[0], 10) == ERR_DATA);
	CHECK(read_full(&c[0], buf, 1, NO_DEADLINE) == 0);
	close(sv[1]);
	CHECK(check_surplus(&c[0], 10) == 0);
	close(sv[0]);

	/* Deadlines: none, passed, in the future. */
	CHECK(deadline_left_ms(NO_DEADLINE) == -1);
	CHECK(deadline_left_ns((struct deadline){1}) == 0);
	CHECK(deadline_left_ms(deadline_after_ms(1000)) > 990);
}

/* The shared parser: defaults from the table, values into the struct. */
struct parsed {
	struct address peer, listen, bind;
	uint64_t size, count;
	bool flag;
	struct byte_list bytes;
	unsigned names;
	struct name_set set, rows;
};

static void no_text(void)
{
}

static const struct opt_name some_names[] = {
	{"one", 1}, {"two", 2}, {"all", 3}, {NULL, 0},
};

/* More names than an unsigned has bits: n00..n69. */
#define TEN(d) {"n" #d "0", 0}, {"n" #d "1", 0}, {"n" #d "2", 0}, \
	{"n" #d "3", 0}, {"n" #d "4", 0}, {"n" #d "5", 0}, {"n" #d "6", 0}, \
	{"n" #d "7", 0}, {"n" #d "8", 0}, {"n" #d "9", 0}
static const struct opt_name many_names[] = {
	TEN(0), TEN(1), TEN(2), TEN(3), TEN(4), TEN(5), TEN(6), {NULL, 0},
};
#undef TEN

/* A table of an applet's own, its names in rows that are no opt_names. */
static const struct {
	int value;
	const char *name;
} unit_rows[] = {{1, "first"}, {2, "second"}, {3, "third"}};

static const char *unit_row_name(size_t i)
{
	return i < sizeof(unit_rows) / sizeof(unit_rows[0]) ? unit_rows[i].name
							    : NULL;
}

static const struct opt unit_options[] = {
	OPTION_PEER(struct parsed, peer, 8500),
	{.name = "listen", .arg = "ADDR", .kind = OPT_ADDR,
	 .offset = offsetof(struct parsed, listen), .def = 8001, .help = "where",
	 .def_text = "none"},
	{.name = "bind", .arg = "ADDR", .kind = OPT_ADDR,
	 .offset = offsetof(struct parsed, bind), .def = 8002,
	 .def_addr = "tcp:127.0.0.1", .help = "where to listen"},
	OPTION_SIZE(struct parsed, size),
	OPTION_COUNT(struct parsed, count, 7),
	{.name = "flag", .kind = OPT_FLAG, .offset = offsetof(struct parsed, flag),
	 .help = "f"},
	{.name = "byte", .arg = "N", .kind = OPT_BYTE_LIST,
	 .offset = offsetof(struct parsed, bytes), .max = 255, .help = "b"},
	{.name = "names", .arg = "LIST", .kind = OPT_NAMES,
	 .offset = offsetof(struct parsed, names), .def = 3, .help = "n",
	 .names = some_names},
	{.name = "set", .arg = "LIST", .kind = OPT_NAME_SET,
	 .offset = offsetof(struct parsed, set), .help = "s",
	 .names = many_names},
	{.name = "rows", .arg = "LIST", .kind = OPT_NAME_SET,
	 .offset = offsetof(struct parsed, rows), .help = "r",
	 .name_of = unit_row_name, .flags = OPT_NAME_OF},
	OPTION_END
};

static const struct applet_spec unit_spec = {NULL, no_text, unit_options,
					     sizeof(struct parsed)};

static int parse_words(struct parsed *v, const char *line)
{
	static char text[256];
	char *argv[32];
	int argc = 0;

	snprintf(text, sizeof(text), "unit %s", line);
	for (char *w = strtok(text, " "); w && argc < 31; w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	memset(v, 0xa5, sizeof(*v));	/* the parser sets every default */
	return parse_command_line(&unit_spec, v, argc, argv);
}

static void test_options(void)
{
	struct parsed v;
	char text[ADDRESS_TEXT_MAX];

	unsetenv("VSOCKBOX_PEER");
	CHECK(parse_words(&v, "") == 1);
	format_address(&v.peer, text, sizeof(text));
	CHECK(strcmp(text, "vsock:2:8500") == 0);
	CHECK(v.listen.family == 0 && v.listen.port == 8001);
	/* An address's default is the row's, set by the parser itself. */
	format_address(&v.bind, text, sizeof(text));
	CHECK(strcmp(text, "tcp:127.0.0.1:8002") == 0);
	CHECK(v.size == PERF_DEFAULT_SIZE && v.count == 7 && !v.flag);
	CHECK(v.bytes.n == 0 && v.names == 3);

	CHECK(parse_words(&v, "--size 4K --count 9 --flag --byte 1 --byte 255 "
			  "--names two --listen tcp:127.0.0.1 --peer 3") == 16);
	CHECK(v.size == 4096 && v.count == 9 && v.flag && v.names == 2);
	CHECK(v.bytes.n == 2 && v.bytes.v[0] == 1 && v.bytes.v[1] == 255);
	format_address(&v.listen, text, sizeof(text));
	CHECK(strcmp(text, "tcp:127.0.0.1:8001") == 0);
	format_address(&v.peer, text, sizeof(text));
	CHECK(strcmp(text, "vsock:3:8500") == 0);
	CHECK(parse_words(&v, "--names one,two") == 3 && v.names == 3);
	CHECK(name_set_empty(&v.set));

	/* A name set: members by index, past the first 64 too. */
	CHECK(parse_words(&v, "--set n01,n65,n01,n69,") == 3);
	CHECK(name_set_has(&v.set, 1) && name_set_has(&v.set, 65) &&
	      name_set_has(&v.set, 69));
	CHECK(!name_set_has(&v.set, 0) && !name_set_has(&v.set, 2) &&
	      !name_set_has(&v.set, 64) && !name_set_has(&v.set, 70) &&
	      !name_set_has(&v.set, NAME_SET_MAX));
	CHECK(!name_set_empty(&v.set));

	/* A name set whose names a function gives (.name_of). */
	CHECK(name_set_empty(&v.rows));
	CHECK(parse_words(&v, "--rows third,second") == 3);
	CHECK(!name_set_has(&v.rows, 0) && name_set_has(&v.rows, 1) &&
	      name_set_has(&v.rows, 2) && !name_set_has(&v.rows, 3));

	setenv("VSOCKBOX_PEER", "tcp:[::1]:9", 1);
	CHECK(parse_words(&v, "") == 1);
	format_address(&v.peer, text, sizeof(text));
	CHECK(strcmp(text, "tcp:[::1]:9") == 0);
	unsetenv("VSOCKBOX_PEER");

	/* The hosts' peer check: CIDs, or IP addresses, ports aside. */
	struct address a, b;
	CHECK(!parse_address("tcp:127.0.0.1:1", &a) &&
	      !parse_address("tcp:127.0.0.1:2", &b) && same_host(&a, &b));
	CHECK(!parse_address("tcp:127.0.0.2:1", &b) && !same_host(&a, &b));
	CHECK(!parse_address("vsock:3:1", &a) && !parse_address("vsock:3", &b) &&
	      same_host(&a, &b));
	CHECK(!parse_address("vsock:4", &b) && !same_host(&a, &b));
	CHECK(!parse_address("tcp:[::1]", &b) && !same_host(&a, &b));
}

/* Every case, one row each: a new one is a function and its row. */
static const struct unit_case {
	const char *name;
	void (*run)(void);
} cases[] = {
	{"numbers", test_numbers},
	{"addresses", test_addresses},
	{"patterns", test_patterns},
	{"pattern", test_pattern},
	{"pattern message", test_pattern_message},
	{"stats", test_stats},
	{"options", test_options},
	{"format", test_format},
	{"memory", test_memory},
	{"io", test_io},
	{"deadline", test_deadline},
};

int main(void)
{
	set_applet_name("unit");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int failed_before = failed;
		cases[i].run();
		if (failed != failed_before)
			fprintf(stderr, "unit: %s: %d failed\n", cases[i].name,
				failed - failed_before);
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
