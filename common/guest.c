// SPDX-License-Identifier: MIT
/* The options and steps of the guest throughput applets (vsock-unidir,
 * vsock-bidir, vsock-multi), in the protocol's order. */
//config:config FEATURE_SOAK
//config:	bool "soak: vsock-perf --duration S, the guest's --soak"
//config:	default y
//config:	help
//config:	  Each throughput test runs for S seconds of whole iterations instead of a
//config:	  count, so that a stream stays open across an event of the VM (a pause, a
//config:	  snapshot): the host ends each stream after an iteration, and the guest
//config:	  applets with --soak (vsock-bench --soak) iterate until it does. Beyond
//config:	  the original protocol.
#include "vsockbox.h"

void throughput_options(const struct applet_spec *spec, struct throughput *t,
			int argc, char **argv)
{
	parse_command_line(spec, t, argc, argv);
	ctl_check();
	t->token = run_token(t->preamble);
}

void throughput_connect(struct throughput *t, struct conn *c,
			uint32_t local_port)
{
	xconn_open_stream(c, &t->peer, local_port, &t->setup, t->token,
			  step_deadline(t->timeout_s));
	conn_zerocopy(c, &t->setup);
}

void guest_announce(struct conn *ctl, const struct throughput *t,
		    const unsigned char *magic, size_t n)
{
	ctl_open(ctl, &t->peer, &t->setup, t->token,
		 step_deadline(t->timeout_s));
	if (t->chain)
		chain_wait();
	send_magics(ctl, magic, n, step_deadline(t->timeout_s));
}

void guest_finish(struct conn *ctl, const struct throughput *t)
{
	conn_close(ctl);
	if (t->chain)
		chain_done();
}

struct stream_patterns *guest_patterns(const struct throughput *t,
				       struct stream_patterns *v,
				       const char *test, uint32_t port)
{
	if (!ENABLE_FEATURE_VERIFY || !t->verify)
		return NULL;
	stream_patterns_start(v, test, port, PATTERN_TO_HOST, t->size);
	return v;
}

int guest_unidir(struct conn *c, const struct throughput *t,
		 struct stream_patterns *v, void *buf, size_t buf_len,
		 struct progress *p, const char **failed_op)
{
	for (uint64_t i = 0; guest_soaking(t) || i < t->count; i++) {
		bool ended = false;
		int err = recv_iteration(c, t->size, buf, buf_len,
					 patterns_checked(v),
					 step_deadline(t->timeout_s), &ended);
		/* A close before an iteration's first byte ends a soak. */
		if (!err && ended && !guest_soaking(t))
			err = ERR_EOF;
		if (err) {
			*failed_op = "read";
			return err;
		}
		if (ended)
			break;
		struct deadline d = step_deadline(t->timeout_s);
		err = send_stream(c, t->size, buf, buf_len, patterns_sent(v), d);
		/* The next read goes into the buffer just sent. */
		if (!err)
			err = zerocopy_wait(c, d);
		if (err) {
			*failed_op = "write";
			return err;
		}
		if (p)
			progress_step(p, i + 1);
	}
	/* Only data counts: how the host ends the connection is its own. */
	*failed_op = "read";
	return check_surplus(c, SURPLUS_GRACE_MS) == ERR_DATA ? ERR_DATA : 0;
}
