// SPDX-License-Identifier: MIT
/* Pure parsers for numbers and addresses: no I/O, no exits, so that the
 * fuzzer and the unit tests can call them directly. */
#include "vsockbox.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>

static int suffix_shift(char c)
{
	switch (c) {
	case 'K': case 'k': return 10;
	case 'M': case 'm': return 20;
	case 'G': case 'g': return 30;
	case 'T': case 't': return 40;
	default: return -1;
	}
}

const char *parse_u64(const char *s, uint64_t min, uint64_t max,
		      unsigned flags, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!s || !*s)
		return "empty value";
	if (*p == '-')
		return "must not be negative";
	if (!isdigit((unsigned char)*p))
		return "not a number";
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return "too large";
		v = v * 10 + d;
	}
	if (*p && (flags & NUM_SUFFIX) && suffix_shift(*p) >= 0) {
		int shift = suffix_shift(*p++);
		if (v > (UINT64_MAX >> shift))
			return "too large";
		v <<= shift;
	}
	if (*p)
		return (flags & NUM_SUFFIX) ? "not a number (suffixes: K, M, G, T)"
					    : "not a whole number";
	if (v < min)
		return min == 1 ? "must be at least 1" : "too small";
	if (v > max)
		return "too large";
	*out = v;
	return NULL;
}

static const char *parse_port(const char *s, uint32_t max, uint32_t *port)
{
	uint64_t v;
	const char *why = parse_u64(s, 0, max, 0, &v);
	if (why)
		return max == 65535 ? "bad port (0 to 65535)"
				    : "bad port (0 to 4294967294)";
	*port = (uint32_t)v;
	return NULL;
}

static const char *parse_cid(const char *s, uint32_t *cid)
{
	uint64_t v;
	if (strcmp(s, "any") == 0) {
		*cid = VSOCK_CID_ANY;
		return NULL;
	}
	if (strcmp(s, "local") == 0) {
		*cid = CID_LOCAL;
		return NULL;
	}
	if (strcmp(s, "host") == 0) {
		*cid = CID_HOST;
		return NULL;
	}
	/* 2^32 - 1 is VMADDR_CID_ANY, spelled "any". */
	if (parse_u64(s, 0, UINT32_MAX - 1, 0, &v))
		return "bad CID (a number below 4294967295, any, local or host)";
	*cid = (uint32_t)v;
	return NULL;
}

/* "CID[:PORT]" after "vsock:" */
static const char *parse_vsock(const char *rest, struct address *a)
{
	char cid[32];
	const char *colon = strchr(rest, ':');
	size_t len = colon ? (size_t)(colon - rest) : strlen(rest);

	if (len == 0)
		return "missing CID (vsock:CID[:PORT])";
	if (len >= sizeof(cid))
		return "bad CID (a number below 4294967295, any, local or host)";
	memcpy(cid, rest, len);
	cid[len] = '\0';
	a->transport = TRANSPORT_VSOCK;
	a->family = AF_VSOCK;
	const char *why = parse_cid(cid, &a->cid);
	if (why)
		return why;
	/* VMADDR_PORT_ANY (2^32 - 1) is not a port one can name. */
	return colon ? parse_port(colon + 1, UINT32_MAX - 1, &a->port) : NULL;
}

/* "IPV4[:PORT]" or "[IPV6][:PORT]" after "tcp:" */
static const char *parse_tcp(const char *rest, struct address *a)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *end, *port = NULL;
	size_t len;

	a->transport = TRANSPORT_TCP;
	if (*rest == '[') {
		end = strchr(rest, ']');
		if (!end)
			return "missing ']' after the IPv6 address";
		rest++;
		len = (size_t)(end - rest);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return "expected ':PORT' after ']'";
		a->family = AF_INET6;
	} else {
		end = strchr(rest, ':');
		len = end ? (size_t)(end - rest) : strlen(rest);
		if (end)
			port = end + 1;
		a->family = AF_INET;
	}
	if (len == 0)
		return "missing host (tcp:IPV4[:PORT] or tcp:[IPV6][:PORT])";
	if (len >= sizeof(host))
		return "not a numeric IP address";
	memcpy(host, rest, len);
	host[len] = '\0';
	if (inet_pton(a->family, host, a->ip) != 1)
		return a->family == AF_INET6
			       ? "not a numeric IPv6 address"
			       : "not a numeric IP address (IPv6 goes in [])";
	return port ? parse_port(port, 65535, &a->port) : NULL;
}

/* A word of digits alone (strspn would link code of its own into the
 * SMALL=1 binary). */
static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	while (isdigit((unsigned char)*s))
		s++;
	return !*s;
}

/* "PATH[:PORT]" after "unix:" or "unix-ports:": a last ":DIGITS" is the
 * port, so a PATH that itself ends in ":DIGITS" needs a port after it. */
static const char *parse_unix(const char *rest, enum transport t,
			      struct address *a)
{
	const char *colon = strrchr(rest, ':');
	size_t len = strlen(rest);

	a->transport = t;
	a->family = AF_UNIX;
	if (colon && all_digits(colon + 1)) {
		len = (size_t)(colon - rest);
		const char *why = parse_port(colon + 1, UINT32_MAX - 1, &a->port);
		if (why)
			return why;
	}
	if (len == 0)
		return "missing path (unix:PATH[:PORT] or unix-ports:PATH[:PORT])";
	if (len > UNIX_PATH_MAX_LEN)
		return "path too long (at most 96 bytes, so that PATH_PORT fits "
		       "a Unix socket)";
	memcpy(a->path, rest, len);
	a->path[len] = '\0';
	return NULL;
}

const char *parse_address(const char *s, struct address *out)
{
	struct address a;

	memset(&a, 0, sizeof(a));
	a.port = PORT_UNSET;
	if (!s || !*s)
		return "empty address";
	const char *why;
	if (strncmp(s, "vsock:", 6) == 0)
		why = parse_vsock(s + 6, &a);
	else if (strncmp(s, "tcp:", 4) == 0)
		why = parse_tcp(s + 4, &a);
	else if (ENABLE_FEATURE_HYBRID && strncmp(s, "unix:", 5) == 0)
		why = parse_unix(s + 5, TRANSPORT_HYBRID, &a);
	else if (ENABLE_FEATURE_HYBRID && strncmp(s, "unix-ports:", 11) == 0)
		why = parse_unix(s + 11, TRANSPORT_UNIX_PORTS, &a);
	else if (isdigit((unsigned char)*s)) {
		a.transport = TRANSPORT_VSOCK;
		a.family = AF_VSOCK;
		why = strchr(s, ':') ? parse_vsock(s, &a) : parse_cid(s, &a.cid);
	} else
		why = "expected vsock:CID[:PORT], tcp:HOST[:PORT]"
		      IF_FEATURE_HYBRID(", unix:PATH[:PORT]") " or a CID";
	if (why)
		return why;
	*out = a;
	return NULL;
}

/* RFC 5952 text: lowercase hex groups, the longest run of two or more
 * zero groups (the first of equals) as "::". Written out here because
 * musl's inet_ntop pulls in the whole of printf. */
static void ipv6_text(const unsigned char ip[16], char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned group[8];
	int best = -1, best_len = 1;
	size_t n = 0;

	for (int i = 0; i < 8; i++)
		group[i] = (unsigned)ip[2 * i] << 8 | ip[2 * i + 1];
	for (int i = 0, run; i < 8; i += run ? run : 1) {
		for (run = 0; i + run < 8 && group[i + run] == 0; run++)
			;
		if (run > best_len) {
			best = i;
			best_len = run;
		}
	}
	char text[INET6_ADDRSTRLEN];
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			text[n++] = ':';
			if (i == 0)
				text[n++] = ':';
			i += best_len - 1;
			continue;
		}
		bool started = false;
		for (int shift = 12; shift >= 0; shift -= 4) {
			unsigned d = group[i] >> shift & 15;
			if (d || started || shift == 0) {
				text[n++] = hex[d];
				started = true;
			}
		}
		if (i < 7)
			text[n++] = ':';
	}
	text[n] = '\0';
	format(buf, len, "%s", text);
}

void format_address(const struct address *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	char port[16] = "";

	if (a->port != PORT_UNSET)
		format(port, sizeof(port), ":%u", (unsigned)a->port);
	if (is_unix(a)) {
		format(buf, len, "%s:%s%s", a->transport == TRANSPORT_HYBRID ?
		       "unix" : "unix-ports", a->path, port);
		return;
	}
	if (a->transport == TRANSPORT_VSOCK) {
		if (a->cid == VSOCK_CID_ANY)
			format(buf, len, "vsock:any%s", port);
		else
			format(buf, len, "vsock:%u%s", (unsigned)a->cid, port);
		return;
	}
	if (a->family == AF_INET6)
		ipv6_text(a->ip, host, sizeof(host));
	else
		format(host, sizeof(host), "%u.%u.%u.%u", a->ip[0], a->ip[1],
		       a->ip[2], a->ip[3]);
	format(buf, len, a->family == AF_INET6 ? "tcp:[%s]%s" : "tcp:%s%s",
		 host, port);
}

struct address with_port(const struct address *a, uint32_t port)
{
	struct address r = *a;
	r.port = port;
	return r;
}

struct address any_address_like(const struct address *a, uint32_t port)
{
	struct address r = *a;
	r.cid = VSOCK_CID_ANY;
	memset(r.ip, 0, sizeof(r.ip));	/* INADDR_ANY and in6addr_any */
	r.port = port;
	return r;
}

struct address vsock_any(uint32_t port)
{
	struct address a;
	memset(&a, 0, sizeof(a));
	a.transport = TRANSPORT_VSOCK;
	a.family = AF_VSOCK;
	a.cid = VSOCK_CID_ANY;
	a.port = port;
	return a;
}

bool same_host(const struct address *a, const struct address *b)
{
	if (a->transport != b->transport)
		return false;
	/* One VMM's socket serves one guest; a run is one token (0, as in
	 * an address from the command line, stands for any run). */
	if (is_unix(a))
		return strcmp(a->path, b->path) == 0 &&
		       (!a->token || !b->token || a->token == b->token);
	if (a->transport == TRANSPORT_VSOCK)
		return a->cid == b->cid;
	return a->family == b->family &&
	       memcmp(a->ip, b->ip, a->family == AF_INET6 ? 16 : 4) == 0;
}
