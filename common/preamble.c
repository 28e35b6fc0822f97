// SPDX-License-Identifier: MIT
/* The stream preamble (protocol.h): how a guest connection names its
 * stream to a host that cannot see its source port, and the run token
 * that keeps a second guest, or a second run, out. Part of FEATURE_HYBRID
 * (sock.c): without it, only a connection without a preamble. */
#include "vsockbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void xconn_open_stream(struct conn *c, const struct address *peer,
		       uint32_t local_port, const struct socket_setup *setup,
		       uint64_t token, struct deadline d)
{
	xconn_open(c, peer, local_port, setup, d);
	if (!ENABLE_FEATURE_HYBRID || !token)
		return;
	int err = preamble_send(c, local_port, token, d);
	if (err)
		die_io(c, err, "write the stream preamble to");
}

uint64_t run_token(bool preamble)
{
	return ENABLE_FEATURE_HYBRID && preamble ? preamble_token() : 0;
}

#if ENABLE_FEATURE_HYBRID
uint64_t preamble_token(void)
{
	const char *env = getenv(PREAMBLE_TOKEN_ENV);
	uint64_t token = 0;

	if (env && *env) {
		if (parse_u64(env, 1, UINT64_MAX, 0, &token))
			die(EXIT_USAGE, "%s=%s: not a token (1 to %llu)",
				    PREAMBLE_TOKEN_ENV, env,
				    (unsigned long long)UINT64_MAX);
		return token;
	}
	while (token == 0) {
		ssize_t n = getrandom(&token, sizeof(token), 0);
		if (n < 0 && errno != EINTR)
			die(EXIT_ENV, "getrandom: %m");
	}
	return token;
}

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t get_be(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

int preamble_send(struct conn *c, uint32_t port, uint64_t token,
		  struct deadline d)
{
	unsigned char p[PREAMBLE_BYTES];

	memcpy(p, PREAMBLE_TAG, PREAMBLE_TAG_LEN);
	put_be(p + PREAMBLE_TAG_LEN, port, 4);
	put_be(p + PREAMBLE_TAG_LEN + 4, token, 8);
	return write_full(c, p, sizeof(p), d);
}

int preamble_read(struct conn *c, const struct address *local,
		  struct address *peer, struct deadline d)
{
	unsigned char p[PREAMBLE_BYTES];
	char where[ADDRESS_TEXT_MAX];
	int err = read_full(c, p, sizeof(p), d);

	if (err)
		return err;
	uint64_t token = get_be(p + PREAMBLE_TAG_LEN + 4, 8);
	if (memcmp(p, PREAMBLE_TAG, PREAMBLE_TAG_LEN) != 0 || token == 0)
		return ERR_DATA;
	peer->port = (uint32_t)get_be(p + PREAMBLE_TAG_LEN, 4);
	peer->token = token;
	format_address(local, where, sizeof(where));
	format(c->name, sizeof(c->name), "guest port %u on %s",
	       (unsigned)peer->port, where);
	return 0;
}
#endif /* ENABLE_FEATURE_HYBRID */
