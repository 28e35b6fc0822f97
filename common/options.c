/* One option parser for every applet: each applet names the options it
 * takes, and every option means the same thing, is range-checked the same
 * way, and may be given at most once (but --magic). */
#include "vsockbox.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const struct option long_options[] = {
	{"peer", required_argument, NULL, OPT_PEER << 8},
	{"timeout", required_argument, NULL, OPT_TIMEOUT << 8},
	{"size", required_argument, NULL, OPT_SIZE << 8},
	{"count", required_argument, NULL, OPT_COUNT << 8},
	{"io-size", required_argument, NULL, OPT_IO_SIZE << 8},
	{"chain", no_argument, NULL, OPT_CHAIN << 8},
	{"listen", required_argument, NULL, OPT_LISTEN << 8},
	{"guest", required_argument, NULL, OPT_GUEST << 8},
	{"packet-size", required_argument, NULL, OPT_PACKET_SIZE << 8},
	{"latency-count", required_argument, NULL, OPT_LATENCY_COUNT << 8},
	{"tests", required_argument, NULL, OPT_TESTS << 8},
	{"json", no_argument, NULL, OPT_JSON << 8},
	{"magic", required_argument, NULL, OPT_MAGIC << 8},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Limits: a day of timeout; 1 TiB per iteration; buffers up to 64 MiB. */
#define MAX_TIMEOUT_S 86400u
#define MAX_SIZE ((uint64_t)1 << 40)
#define MAX_COUNT 1000000000u
#define MAX_IO_SIZE ((uint64_t)64 << 20)

void settings_defaults(struct settings *s, uint32_t peer_port)
{
	const char *env = getenv("VSOCKBOX_PEER");

	memset(s, 0, sizeof(*s));
	s->timeout_s = DEFAULT_TIMEOUT_S;
	s->size = PERF_DEFAULT_SIZE;
	s->io_size = 0;
	s->packet_size = PERF_ECHO_PACKET;
	s->latency_count = PERF_LATENCY_PACKETS;
	s->tests = TEST_ALL;
	if (env && *env) {
		const char *why = parse_address(env, &s->peer);
		if (why)
			usage_error("VSOCKBOX_PEER=%s: %s", env, why);
	} else {
		s->peer = vsock_any(PORT_UNSET);
		s->peer.cid = CID_HOST;
	}
	if (s->peer.port == PORT_UNSET)
		s->peer.port = peer_port;
}

static const char *option_name(int opt)
{
	for (const struct option *o = long_options; o->name; o++)
		if (o->val == opt << 8)
			return o->name;
	return "?";
}

static uint64_t number(int opt, const char *arg, uint64_t min, uint64_t max,
		       unsigned flags)
{
	uint64_t v;
	const char *why = parse_u64(arg, min, max, flags, &v);
	if (why)
		usage_error("--%s %s: %s", option_name(opt), arg, why);
	return v;
}

static void address(int opt, const char *arg, struct address *a,
		    uint32_t default_port)
{
	const char *why = parse_address(arg, a);
	if (why)
		usage_error("--%s %s: %s", option_name(opt), arg, why);
	if (a->port == PORT_UNSET)
		a->port = default_port;
}

static unsigned parse_tests(const char *arg)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{"latency", TEST_LATENCY}, {"bidir", TEST_BIDIR},
		{"unidir", TEST_UNIDIR}, {"multi", TEST_MULTI},
		{"all", TEST_ALL},
	};
	unsigned tests = 0;
	const char *p = arg;

	while (*p) {
		size_t len = strcspn(p, ",");
		size_t i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == len &&
			    strncmp(p, names[i].name, len) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			usage_error("--tests %s: unknown test '%.*s' (latency, "
				    "bidir, unidir, multi, all)", arg, (int)len, p);
		tests |= names[i].bit;
		p += len;
		if (*p == ',' && *++p == '\0')
			break;
	}
	if (!tests)
		usage_error("--tests %s: no test named", arg);
	return tests;
}

static void apply(int opt, const char *arg, struct settings *s)
{
	switch (opt) {
	case OPT_PEER: address(opt, arg, &s->peer, s->peer.port); break;
	case OPT_LISTEN:
		address(opt, arg, &s->listen, s->listen.port);
		s->listen_given = true;
		break;
	case OPT_GUEST:
		address(opt, arg, &s->guest, ITEST_GUEST_PORT);
		s->guest_given = true;
		break;
	case OPT_TIMEOUT:
		s->timeout_s = (unsigned)number(opt, arg, 1, MAX_TIMEOUT_S, 0);
		break;
	case OPT_SIZE: s->size = number(opt, arg, 1, MAX_SIZE, NUM_SUFFIX); break;
	case OPT_COUNT:
		s->count = number(opt, arg, 1, MAX_COUNT, 0);
		s->count_given = true;
		break;
	case OPT_IO_SIZE:
		s->io_size = (size_t)number(opt, arg, 1, MAX_IO_SIZE, NUM_SUFFIX);
		break;
	case OPT_PACKET_SIZE:
		s->packet_size = (size_t)number(opt, arg, 1, MAX_IO_SIZE,
						NUM_SUFFIX);
		break;
	case OPT_LATENCY_COUNT:
		s->latency_count = number(opt, arg, 1, MAX_COUNT, 0);
		break;
	case OPT_TESTS: s->tests = parse_tests(arg); break;
	case OPT_JSON: s->json = true; break;
	case OPT_CHAIN: s->chain = true; break;
	case OPT_MAGIC:
		if (s->magics == MAX_MAGICS)
			usage_error("--magic: at most %d", MAX_MAGICS);
		s->magic[s->magics++] = (unsigned char)number(opt, arg, 0, 255, 0);
		break;
	}
}

int parse_options(int argc, char **argv, unsigned accepted, const char *usage,
		  struct settings *s)
{
	unsigned seen = 0;
	int opt;

	opterr = 0;
	optind = 1;
	/* "+": stop at the first operand, so vsock-ctl can run a program. */
	while ((opt = getopt_long(argc, argv, "+:h", long_options, NULL)) != -1) {
		if (opt == 'h') {
			out_text(usage);
			exit(EXIT_PASS);
		}
		if (opt == ':')
			usage_error("%s: missing value (try --help)",
				    argv[optind - 1]);
		if (opt == '?') {
			if (optopt > 0 && optopt < 256)
				usage_error("unknown option -%c (try --help)",
					    optopt);
			usage_error("unknown option %s (try --help)",
				    argv[optind - 1]);
		}
		opt >>= 8;	/* long options carry their OPT_ bit << 8 */
		if (!(accepted & (unsigned)opt))
			usage_error("--%s does not apply here (try --help)",
				    option_name(opt));
		if ((seen & (unsigned)opt) && opt != OPT_MAGIC)
			usage_error("--%s given twice", option_name(opt));
		seen |= (unsigned)opt;
		apply(opt, optarg, s);
	}
	return optind;
}

void no_operands(int argc, char **argv, int first)
{
	if (first < argc)
		usage_error("unexpected argument '%s' (try --help)", argv[first]);
}

size_t io_size_for(const struct settings *s, size_t test_default)
{
	return s->io_size ? s->io_size : test_default;
}
