/* SPDX-License-Identifier: MIT */
/* vsock-conform's control connection: framed messages (tag, value, text;
 * protocol.h and doc/PROTOCOL.md), control.c. Shared with the fault peer
 * that plays the listening side (tests/faultpeer.c), which links
 * control.c too. */
#ifndef VSOCK_CONFORM_CONTROL_H
#define VSOCK_CONFORM_CONTROL_H

#include "vsockbox.h"

struct message {
	uint32_t tag, value;
	char text[CONFORM_TEXT_MAX + 1];	/* '\0'-terminated */
};
/* Each 0 or a transfer's error; ERR_DATA: a text longer than allowed. A
 * longer text is cut to CONFORM_TEXT_MAX bytes. */
int message_send(struct conn *c, uint32_t tag, uint32_t value,
		 const char *text, struct deadline d);
int message_recv(struct conn *c, struct message *m, struct deadline d);

#endif
