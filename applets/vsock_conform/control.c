// SPDX-License-Identifier: MIT
/* vsock-conform's control connection (protocol.h, doc/PROTOCOL.md): a
 * message is three 32-bit words in network order, tag, value and the
 * length of a text that follows; each whole message by the step's
 * deadline. tests/faultpeer.c links this file too. */
#include "control.h"

#include <arpa/inet.h>
#include <string.h>

int message_send(struct conn *c, uint32_t tag, uint32_t value,
		 const char *text, struct deadline d)
{
	unsigned char buf[3 * 4 + CONFORM_TEXT_MAX];
	size_t len = text ? strlen(text) : 0;
	uint32_t words[3];

	if (len > CONFORM_TEXT_MAX)
		len = CONFORM_TEXT_MAX;
	words[0] = htonl(tag);
	words[1] = htonl(value);
	words[2] = htonl((uint32_t)len);
	memcpy(buf, words, sizeof(words));
	if (len)
		memcpy(buf + sizeof(words), text, len);
	return write_full(c, buf, sizeof(words) + len, d);
}

int message_recv(struct conn *c, struct message *m, struct deadline d)
{
	uint32_t words[3];
	int err = read_full(c, words, sizeof(words), d);

	if (err)
		return err;
	m->tag = ntohl(words[0]);
	m->value = ntohl(words[1]);
	uint32_t len = ntohl(words[2]);
	if (len > CONFORM_TEXT_MAX)
		return ERR_DATA;
	m->text[len] = '\0';
	return len ? read_full(c, m->text, len, d) : 0;
}
