/* Unit tests of common/: parsers, address text, data patterns, statistics
 * and whole-transfer I/O. Prints "unit: N passed, N failed". */
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
}

/* ---- I/O ---- */

/* A child writes `len` bytes in pieces of `piece`, then closes. */
static pid_t trickle(int fd, size_t len, size_t piece)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	unsigned char *data = malloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 31);
	for (size_t off = 0; off < len; off += piece) {
		size_t n = len - off < piece ? len - off : piece;
		if (write_full(fd, data + off, n))
			_exit(1);
		usleep(200);
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

static void test_io(void)
{
	int sv[2];
	unsigned char buf[70000];
	size_t got;

	/* Short reads are continued until the whole buffer is there. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid_t pid = trickle(sv[1], sizeof(buf), 1000);
	close(sv[1]);
	CHECK(read_full(sv[0], buf, sizeof(buf)) == 0);
	int ok = 1;
	for (size_t i = 0; i < sizeof(buf); i++)
		ok &= buf[i] == (unsigned char)(i * 31);
	CHECK(ok);
	/* Then the peer's close is ERR_EOF, with nothing counted. */
	CHECK(read_counted(sv[0], buf, 10, &got) == ERR_EOF && got == 0);
	waitpid(pid, NULL, 0);
	close(sv[0]);

	/* A close in the middle: EOF, with the count of what came. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(write_full(sv[1], "abcde", 5) == 0);
	close(sv[1]);
	CHECK(read_counted(sv[0], buf, 10, &got) == ERR_EOF && got == 5);
	close(sv[0]);

	/* Writes far beyond the socket buffer complete (short writes). */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		static unsigned char big[4 << 20];
		_exit(send_bytes(sv[1], 16u << 20, big, sizeof(big)) ? 1 : 0);
	}
	close(sv[1]);
	CHECK(recv_bytes(sv[0], 16u << 20, buf, sizeof(buf)) == 0);
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
	close(sv[0]);

	/* SO_RCVTIMEO turns a silent peer into ETIMEDOUT, an env failure. */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	set_io_timeout(sv[0], 1);
	uint64_t start = now_ns();
	CHECK(read_full(sv[0], buf, 1) == ETIMEDOUT);
	CHECK(now_ns() - start >= 900000000u);
	CHECK(io_exit_code(ETIMEDOUT) == EXIT_ENV);
	/* read_within keeps its own deadline. */
	start = now_ns();
	CHECK(read_within(sv[0], buf, 1, 50) == ETIMEDOUT);
	CHECK(now_ns() - start >= 45000000u);
	/* A closed peer: EPIPE on write (never SIGPIPE), EOF on read. */
	close(sv[1]);
	CHECK(write_full(sv[0], "x", 1) == EPIPE);
	CHECK(read_within(sv[0], buf, 1, 50) == ERR_EOF);
	CHECK(io_exit_code(ERR_EOF) == EXIT_FAIL);
	CHECK(io_exit_code(ECONNRESET) == EXIT_FAIL);
	CHECK(strcmp(io_error_text(ERR_EOF), "peer closed the connection") == 0);
	close(sv[0]);
}

/* --io-size overrides every test's own default; without it each keeps its. */
static void test_io_size(void)
{
	static const char usage[] = "usage: unit\n";
	struct settings s;
	char arg0[] = "unit", opt[] = "--io-size", val[] = "4K";
	char *argv[] = {arg0, opt, val, NULL};

	settings_defaults(&s, PERF_HOST_PORT);
	CHECK(io_size_for(&s, UNIDIR_IO_SIZE) == 1 << 20);
	CHECK(io_size_for(&s, BIDIR_IO_SIZE) == 512 << 10);
	CHECK(io_size_for(&s, MULTI_IO_SIZE) == 128 << 10);
	optind = 1;
	CHECK(parse_options(3, argv, OPT_IO_SIZE, usage, &s) == 3);
	CHECK(io_size_for(&s, UNIDIR_IO_SIZE) == 4096);
	CHECK(io_size_for(&s, MULTI_IO_SIZE) == 4096);
}

int main(void)
{
	set_applet_name("unit");
	test_numbers();
	test_addresses();
	test_patterns();
	test_stats();
	test_io_size();
	test_format();
	test_memory();
	test_io();
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
