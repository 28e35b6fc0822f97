/* The steps that every guest data applet takes, in the protocol's order. */
#include "vsockbox.h"

void guest_data_options(struct settings *s, int argc, char **argv,
			const char *usage, uint64_t default_count)
{
	settings_defaults(s, PERF_HOST_PORT);
	s->count = default_count;
	no_operands(argc, argv, parse_options(argc, argv,
		OPT_PEER | OPT_TIMEOUT | OPT_SIZE | OPT_COUNT | OPT_IO_SIZE |
		OPT_CHAIN, usage, s));
	ctl_check();
}

void guest_finish(struct conn *ctl, const struct settings *s)
{
	conn_close(ctl);
	if (s->chain)
		chain_done();
}

void guest_announce(struct conn *ctl, const struct settings *s,
		    const unsigned char *magic, size_t n)
{
	ctl_open(ctl, s);
	if (s->chain)
		chain_wait();
	send_magics(ctl, magic, n);
}

int guest_unidir(int fd, uint64_t size, uint64_t count, void *buf,
		 size_t buf_len, struct progress *p, const char **failed_op)
{
	for (uint64_t i = 0; i < count; i++) {
		int err = recv_bytes(fd, size, buf, buf_len);
		if (err) {
			*failed_op = "read";
			return err;
		}
		err = send_bytes(fd, size, buf, buf_len);
		if (err) {
			*failed_op = "write";
			return err;
		}
		if (p)
			progress_step(p, i + 1);
	}
	return 0;
}
