// SPDX-License-Identifier: MIT
/* libFuzzer harness for the command-line parsers: parse_u64,
 * parse_address (with format_address) and parse_command_line.
 *
 * An input is a list of fields separated by newlines. Every field goes
 * through parse_u64 under four sets of limits, checked against a
 * reference built on strtoull, and through parse_address: an accepted
 * address must keep the form's invariants and come back unchanged from
 * format_address and a second parse. Then the fields are a command line
 * for parse_command_line, with a table of every kind of option, once
 * taking operands and once refusing them; and the first field is
 * $VSOCKBOX_PEER.
 *
 * parse_command_line ends a bad command line with die(EXIT_USAGE, ), which calls
 * exit(2). The binary is linked with -Wl,--wrap=exit: while a parser runs,
 * __wrap_exit records the status and longjmps back here, so one process
 * sees millions of refusals; outside a parser (libFuzzer's own exit) it is
 * the real exit. A refusal must be status 2 with exactly one line on
 * stderr, signed with the program's name; --help is status 0; any other
 * status, or a line that is not one, aborts (a finding). */
#include "vsockbox.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
_Noreturn void __real_exit(int code);
_Noreturn void __wrap_exit(int code);

static jmp_buf exit_jump;
static volatile int exit_armed;
static int stderr_pipe[2] = {-1, -1};
static int saved_stderr = -1;

_Noreturn void __wrap_exit(int code)
{
	if (exit_armed) {
		exit_armed = 0;
		longjmp(exit_jump, code + 1);	/* never 0: setjmp's first return */
	}
	__real_exit(code);
}

enum { MAX_FIELDS = 64, MAX_FIELD = 512 };

/* Reads what the parser wrote on stderr (at most one small message). */
static size_t drain_stderr(char *buf, size_t len)
{
	size_t used = 0;
	for (;;) {
		ssize_t n = read(stderr_pipe[0], buf + used, len - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		if (used == len - 1)
			break;
	}
	buf[used] = '\0';
	return used;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	set_applet_name("fuzz");
	unsetenv("VSOCKBOX_PEER");
	if (pipe(stderr_pipe) < 0 ||
	    fcntl(stderr_pipe[0], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(stderr_pipe[1], F_SETFL, O_NONBLOCK) < 0)
		abort();
	return 0;
}

/* ---- numbers ---- */

/* The reference: digits only (then one suffix letter if allowed),
 * strtoull for the value and its overflow. */
static bool reference_u64(const char *s, uint64_t min, uint64_t max,
			  unsigned flags, uint64_t *out)
{
	size_t digits = strspn(s, "0123456789");
	unsigned shift = 0;

	if (digits == 0)
		return false;
	if (s[digits] != '\0') {
		const char *letters = "kKmMgGtT";
		const char *at = strchr(letters, s[digits]);
		if (!(flags & NUM_SUFFIX) || !at || s[digits + 1] != '\0')
			return false;
		shift = 10 * (unsigned)((at - letters) / 2 + 1);
	}
	char text[MAX_FIELD + 1];
	memcpy(text, s, digits);
	text[digits] = '\0';
	errno = 0;
	unsigned long long v = strtoull(text, NULL, 10);
	if (errno == ERANGE || v > (UINT64_MAX >> shift))
		return false;
	v <<= shift;
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

static void check_u64(const char *field)
{
	static const struct {
		uint64_t min, max;
		unsigned flags;
	} limits[] = {
		{0, UINT64_MAX, 0},
		{1, (uint64_t)1 << 40, NUM_SUFFIX},
		{0, 255, 0},
		{1, UINT64_MAX, NUM_SUFFIX},
	};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		uint64_t got = 0x5eed, want = 0;
		const char *why = parse_u64(field, limits[i].min, limits[i].max,
					    limits[i].flags, &got);
		bool ok = reference_u64(field, limits[i].min, limits[i].max,
					limits[i].flags, &want);
		if (ok != (why == NULL))
			abort();	/* accepted by one, refused by the other */
		if (ok && got != want)
			abort();
		if (!ok && (got != 0x5eed || !*why))
			abort();	/* refused, yet wrote; or no reason */
	}
}

/* ---- addresses ---- */

static bool same_address(const struct address *a, const struct address *b)
{
	return a->transport == b->transport && a->family == b->family &&
	       a->cid == b->cid && a->port == b->port &&
	       memcmp(a->ip, b->ip, sizeof(a->ip)) == 0 &&
	       strcmp(a->path, b->path) == 0 && a->token == b->token;
}

/* unix:PATH[:PORT], unix-ports:PATH[:PORT]: a path that fits PATH_PORT
 * in a sockaddr_un, no IP, no CID, no token (only a preamble sets one). */
static void check_unix_invariants(const struct address *a)
{
	size_t len = strnlen(a->path, sizeof(a->path));
	if (a->family != AF_UNIX || a->cid != 0 || a->token != 0 ||
	    len == 0 || len > UNIX_PATH_MAX_LEN)
		abort();
	for (size_t i = 0; i < sizeof(a->ip); i++)
		if (a->ip[i])
			abort();
}

static void check_address_invariants(const struct address *a)
{
	if (is_unix(a)) {
		check_unix_invariants(a);
		return;
	}
	if (a->path[0] || a->token)
		abort();
	if (a->transport == TRANSPORT_VSOCK) {
		if (a->family != AF_VSOCK)
			abort();
		for (size_t i = 0; i < sizeof(a->ip); i++)
			if (a->ip[i])
				abort();
		return;
	}
	if (a->transport != TRANSPORT_TCP || a->cid != 0)
		abort();
	if (a->family != AF_INET && a->family != AF_INET6)
		abort();
	if (a->port != PORT_UNSET && a->port > 65535)
		abort();
	if (a->family == AF_INET)
		for (size_t i = 4; i < sizeof(a->ip); i++)
			if (a->ip[i])
				abort();
}

static void check_address(const char *field)
{
	struct address a, b, untouched;
	char text[ADDRESS_TEXT_MAX], again[ADDRESS_TEXT_MAX];

	memset(&a, 0xa5, sizeof(a));
	untouched = a;
	const char *why = parse_address(field, &a);
	if (why) {
		if (!*why || memcmp(&a, &untouched, sizeof(a)) != 0)
			abort();	/* no reason, or wrote on refusal */
		return;
	}
	check_address_invariants(&a);
	format_address(&a, text, sizeof(text));
	if (strlen(text) + 1 >= sizeof(text))
		abort();	/* the longest text must fit with room */
	if (parse_address(text, &b) != NULL || !same_address(&a, &b))
		abort();	/* format_address's text does not parse back */
	format_address(&b, again, sizeof(again));
	if (strcmp(text, again) != 0)
		abort();
	/* The text names the transport it parsed. */
	static const char *const prefix[] = {
		[TRANSPORT_VSOCK] = "vsock:", [TRANSPORT_TCP] = "tcp:",
		[TRANSPORT_HYBRID] = "unix:", [TRANSPORT_UNIX_PORTS] = "unix-ports:",
	};
	if (strncmp(text, prefix[a.transport], strlen(prefix[a.transport])) != 0)
		abort();
}

/* ---- options ---- */

/* Every kind of option the parser knows, as applets declare them. */
struct values {
	struct address peer, listen;
	uint64_t timeout_s, size, count;
	bool flag;
	struct byte_list bytes;
	unsigned names;
	struct name_set cases;
};

/* vsock-perf's tests, from its table. */
static const struct opt_name fuzz_names[] = {TEST_NAMES, {NULL, 0}};

static const struct opt fuzz_options[] = {
	OPTION_PEER(struct values, peer, PERF_HOST_PORT),
	{.name = "listen", .arg = "ADDR", .kind = OPT_ADDR,
	 .offset = offsetof(struct values, listen), .def = ITEST_GUEST_PORT,
	 .help = "where"},
	OPTION_TIMEOUT(struct values, timeout_s),
	OPTION_SIZE(struct values, size),
	OPTION_COUNT(struct values, count, 100),
	{.name = "json", .kind = OPT_FLAG,
	 .offset = offsetof(struct values, flag), .help = "f"},
	{.name = "magic", .arg = "N", .kind = OPT_BYTE_LIST,
	 .offset = offsetof(struct values, bytes), .max = 255, .help = "m"},
	{.name = "tests", .arg = "LIST", .kind = OPT_NAMES,
	 .offset = offsetof(struct values, names), .def = TEST_ALL,
	 .help = "t", .names = fuzz_names},
	{.name = "only", .arg = "CASES", .kind = OPT_NAME_SET,
	 .offset = offsetof(struct values, cases), .help = "o",
	 .names = fuzz_names},
	OPTION_END
};

static void no_text(void)
{
}

/* The same table, once taking operands and once not. */
static const struct applet_spec with_operands = {"[PROG]", no_text,
						 fuzz_options,
						 sizeof(struct values)};
static const struct applet_spec without_operands = {NULL, no_text,
						    fuzz_options,
						    sizeof(struct values)};

static void check_values(const struct values *v)
{
	if (v->timeout_s < 1 || v->timeout_s > MAX_TIMEOUT_S)
		abort();
	if (v->size < 1 || v->size > MAX_SIZE)
		abort();
	if (v->count < 1 || v->count > MAX_COUNT)
		abort();
	if (!v->names || (v->names & ~15u))
		abort();
	if (v->bytes.n > BYTE_LIST_MAX)
		abort();
	for (size_t i = 0; i < NAME_SET_MAX; i++)	/* members it names */
		if (name_set_has(&v->cases, i) &&
		    i >= sizeof(fuzz_names) / sizeof(fuzz_names[0]) - 1)
			abort();
	check_address_invariants(&v->peer);
	if (v->peer.port == PORT_UNSET)
		abort();	/* the default port applies */
	if (v->listen.family) {
		check_address_invariants(&v->listen);
		if (v->listen.port == PORT_UNSET)
			abort();
	}
}

enum { RETURNED = -1 };

/* Runs parse_command_line with stderr caught in message; RETURNED (the
 * first operand's index in *first), or the status given to exit(). */
static int guarded(const struct applet_spec *spec, struct values *v, int argc,
		   char **argv, int *first, char *message, size_t size,
		   size_t *len)
{
	drain_stderr(message, size);
	if (dup2(stderr_pipe[1], STDERR_FILENO) < 0)
		abort();
	int jumped = setjmp(exit_jump);
	if (!jumped) {
		exit_armed = 1;
		*first = parse_command_line(spec, v, argc, argv);
		exit_armed = 0;
	}
	if (dup2(saved_stderr, STDERR_FILENO) < 0)
		abort();
	*len = drain_stderr(message, size);
	return jumped ? jumped - 1 : RETURNED;
}

/* A refusal: status 2 and one line "fuzz: ...\n" (a value cannot hold a
 * newline of its own: fields are split on newlines). */
static void check_refusal(int code, const char *message, size_t len)
{
	if (code != EXIT_USAGE)
		abort();	/* a command line is refused with 2, only */
	if (len < 7 || strncmp(message, "fuzz: ", 6) != 0 ||
	    message[len - 1] != '\n' || memchr(message, '\n', len - 1))
		abort();
}

/* One command line; returns the first operand's index, or -1 when the
 * parser ended the run (refusal, --help, --version). */
static int check_command_line(const struct applet_spec *spec, int argc,
			      char **argv, struct values *v)
{
	char message[1024];
	size_t len;
	int first = -1;

	memset(v, 0, sizeof(*v));
	int code = guarded(spec, v, argc, argv, &first, message,
			   sizeof(message), &len);
	if (code == EXIT_PASS) {
		if (len != 0)
			abort();	/* --help, --version: stdout only */
		return -1;
	}
	if (code != RETURNED) {
		check_refusal(code, message, len);
		return -1;
	}
	if (first < 1 || first > argc || len != 0)
		abort();
	check_values(v);
	return first;
}

static void check_options(char **fields, int n)
{
	static char program[] = "fuzz";
	static char *argv[MAX_FIELDS + 2];
	static struct values v;

	argv[0] = program;
	for (int i = 0; i < n; i++)
		argv[i + 1] = fields[i];
	argv[n + 1] = NULL;
	int first = check_command_line(&with_operands, n + 1, argv, &v);
	int strict = check_command_line(&without_operands, n + 1, argv, &v);
	/* Operands: taken by the one, refused by the other, iff any. */
	if (first >= 0 && first < n + 1 && strict >= 0)
		abort();
	if (first == n + 1 && strict != n + 1)
		abort();
}

/* $VSOCKBOX_PEER: refused as --peer would be, else the peer. */
static void check_env_peer(const char *field)
{
	static char program[] = "fuzz";
	static char *argv[] = {program, NULL};
	static struct values v;
	struct address a;
	char message[1024];
	size_t len;
	int first;

	/* An environment of one entry: setenv would keep every value it
	 * was ever given (glibc), millions of them. */
	static char entry[sizeof("VSOCKBOX_PEER=") + MAX_FIELD];
	static char *one[] = {entry, NULL};
	char **saved = environ;
	format(entry, sizeof(entry), "VSOCKBOX_PEER=%s", field);
	environ = one;
	int code = guarded(&without_operands, &v, 1, argv, &first, message,
			   sizeof(message), &len);
	environ = saved;
	const char *why = *field ? parse_address(field, &a) : NULL;
	if (why) {
		check_refusal(code, message, len);
		return;
	}
	if (code != RETURNED || len != 0)
		abort();
	if (!*field)	/* empty: the default, vsock:2:8500 */
		a = vsock_any(PERF_HOST_PORT), a.cid = CID_HOST;
	if (a.port == PORT_UNSET)
		a.port = PERF_HOST_PORT;
	if (!same_address(&v.peer, &a))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char copy[MAX_FIELDS * (MAX_FIELD + 1)];
	char *fields[MAX_FIELDS];
	int n = 0;

	if (size >= sizeof(copy))
		return 0;
	if (saved_stderr < 0 && (saved_stderr = dup(STDERR_FILENO)) < 0)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	/* Fields end at newlines; a NUL ends a field's text early, as it
	 * would in argv. */
	for (char *p = copy; n < MAX_FIELDS;) {
		char *nl = memchr(p, '\n', (size_t)(copy + size - p));
		if (nl)
			*nl = '\0';
		if (strlen(p) > MAX_FIELD)
			return 0;
		fields[n++] = p;
		if (!nl)
			break;
		p = nl + 1;
	}
	for (int i = 0; i < n; i++) {
		check_u64(fields[i]);
		check_address(fields[i]);
	}
	check_options(fields, n);
	check_env_peer(fields[0]);
	return 0;
}
