// SPDX-License-Identifier: MIT
/* vsock-conform: one side of one case, its verdict and why, and the
 * other side's steps over the case's control connection. */
#include "conform.h"

#include <arpa/inet.h>

const char *count_text(ssize_t n, int err, char *buf, size_t len)
{
	if (n < 0)
		return errno_name(err, buf, len);
	format(buf, len, "%zd", n);
	return buf;
}

int fail(struct side *s, const char *fmt, ...)
{
	va_list ap;

	if (s->why[0])
		return CONFORM_FAILED;	/* the first cause is the one */
	va_start(ap, fmt);
	format_v(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return CONFORM_FAILED;
}

int skip(struct side *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_v(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return CONFORM_SKIPPED;
}

/* A kernel without a feature answers one of these. */
bool lacks_feature(int err)
{
	return err == EOPNOTSUPP || err == ENOTTY || err == EINVAL ||
	       err == ENOPROTOOPT;
}

bool is_vsock(const struct side *s)
{
	return s->transport == TRANSPORT_VSOCK;
}

/* A hybrid host's side (unix:PATH, unix-ports:PATH): a Unix socket
 * behind the VMM, whose connections go through common/'s conn_open (the
 * CONNECT handshake) and conn_accept, as the other host applets' do. */
bool is_hybrid(const struct side *s)
{
	return is_unix(&s->base);
}

/* ---- the other side, over the control connection ---- */

/* Has the other side stopped (a failure, a skip or an abort waits on
 * the control connection, or it closed)? Peeks only: the message stays
 * for whoever reads it. */
bool other_side_stopped(struct side *s)
{
	struct pollfd p = {.fd = s->ctl.fd, .events = POLLIN};
	uint32_t w[2];

	if (s->have_result)
		return s->result.value != CONFORM_OK;
	if (poll(&p, 1, 0) <= 0)
		return false;
	ssize_t n = recv(s->ctl.fd, w, sizeof(w), MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return true;
	if (n < (ssize_t)sizeof(w))
		return false;
	uint32_t tag = ntohl(w[0]), value = ntohl(w[1]);
	return tag == CONFORM_ABORT ||
	       (tag == CONFORM_RESULT && value != CONFORM_OK);
}

int ctl_send_text(struct side *s, uint32_t tag, uint32_t value,
		  const char *text)
{
	int err = message_send(&s->ctl, tag, value, text, s->d);
	return err ? fail(s, "control: send to the other side: %s",
			  io_error_text(err)) : CONFORM_OK;
}

int ctl_send(struct side *s, uint32_t tag, uint32_t value)
{
	return ctl_send_text(s, tag, value, NULL);
}

static const char *tag_name(uint32_t tag)
{
	switch (tag) {
	case CONFORM_CASE: return "CASE";
	case CONFORM_READY: return "READY";
	case CONFORM_SYNC: return "SYNC";
	case CONFORM_RESULT: return "RESULT";
	case CONFORM_FINAL: return "FINAL";
	case CONFORM_ABORT: return "ABORT";
	case CONFORM_END: return "END";
	default: return "an unknown message";
	}
}

/* Waits for the other side's next step (tag); its value to *value and
 * its text to text (either may be NULL). The other side's result or
 * abort instead ends the case here: CONFORM_ABORTED (kept for the
 * runner) unless it is a success. */
int ctl_wait_text(struct side *s, uint32_t tag, const char *step,
		  uint32_t *value, char *text, size_t text_len)
{
	struct message m;

	for (;;) {
		int err = message_recv(&s->ctl, &m, s->d);
		if (err)
			return fail(s, "%s: control: wait for %s from the other "
				    "side: %s", step, tag_name(tag),
				    io_error_text(err));
		if (m.tag == tag)
			break;
		if (m.tag == CONFORM_RESULT && !s->have_result) {
			s->have_result = true;
			s->result = m;
			if (m.value == CONFORM_OK)
				return fail(s, "%s: control: the other side "
					    "ended the case before %s", step,
					    tag_name(tag));
			return CONFORM_ABORTED;
		}
		if (m.tag == CONFORM_ABORT)
			return CONFORM_ABORTED;
		return fail(s, "%s: control: expected %s from the other side, "
			    "got %s", step, tag_name(tag), tag_name(m.tag));
	}
	if (value)
		*value = m.value;
	if (text)
		format(text, text_len, "%s", m.text);
	return CONFORM_OK;
}

int ctl_wait(struct side *s, uint32_t tag, const char *step,
	     uint32_t *value)
{
	return ctl_wait_text(s, tag, step, value, NULL, 0);
}
