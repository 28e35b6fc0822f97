// SPDX-License-Identifier: MIT
/* vsock-conform: the socket semantics of a vsock path, case by case; its
 * control connection is in doc/PROTOCOL.md.
 *
 * Two roles: the listening side (--listen ADDR) and the connecting side
 * (--peer ADDR), on either end of the path, over AF_VSOCK or TCP. Every
 * case runs over a control connection of its own, to the control port on
 * the transport under test (no IP network needed in a guest), so a broken
 * case cannot poison the next: the two sides agree on the case by name,
 * each runs its half, the listening side reports its verdict, and the
 * connecting side the case's. Both print the same KTAP.
 *
 * The cases are one table (conform_cases, at the bottom of cases.c), a
 * row each: its name, what it checks, its two halves NAME_connect (the
 * connecting side's) and NAME_listen (the listening side's), NAME the
 * case's name with '_' for '-', its socket type, and why it does not run
 * over TCP (.vsock_only) or on a hybrid host. --list, --only and --skip
 * are derived from it; conform.h names the files of the harness. Every step runs by the case's deadline; a wait also
 * ends when the other side gives up (CONFORM_ABORT, or a failed result).
 * Expectations are facts of the transport (vsock answers an unbound port
 * with a reset, TCP with a refusal); a kernel that lacks a feature says
 * so through the call (EOPNOTSUPP, ENOTTY, EINVAL, ENOPROTOOPT), which is
 * a SKIP with the kernel's answer as the reason. */
//config:config VSOCK_CONFORM
//config:	bool "vsock-conform: socket semantics of a vsock path, as KTAP"
//config:	default y
//config:	help
//config:	  Checks a path's socket semantics case by case, as KTAP.
#include "conform.h"

/* ---- options ---- */

struct conform_options {
	struct address listen, peer;
	struct name_set only, skip;
	uint64_t timeout_s, wait_s, seed;
	bool list;
};

enum { DEFAULT_CASE_TIMEOUT_S = 10, DEFAULT_WAIT_S = 60 };

/* The names for --only and --skip: the table's. */
static const char *case_name(size_t i)
{
	return i < conform_case_count ? conform_cases[i].name : NULL;
}

#define O(field) offsetof(struct conform_options, field)
static const struct opt options[] = {
	{.name = "listen", .arg = "ADDR", .kind = OPT_ADDR, .offset = O(listen),
	 .def = CONFORM_CTL_PORT, .help = "be the listening side, its control "
	 "port at ADDR (tcp port 0: any)", .def_text = "none"},
	{.name = "peer", .arg = "ADDR", .kind = OPT_ADDR, .offset = O(peer),
	 .def = CONFORM_CTL_PORT, .help = "be the connecting side, to the "
	 "listening side's control port at ADDR", .def_text = "none"},
	{.name = "only", .arg = "CASES", .kind = OPT_NAME_SET, .offset = O(only),
	 .help = "run only these cases (a comma list; --list names them)",
	 .name_of = case_name, .flags = OPT_NAME_OF},
	{.name = "skip", .arg = "CASES", .kind = OPT_NAME_SET, .offset = O(skip),
	 .help = "leave these cases out", .name_of = case_name,
	 .flags = OPT_NAME_OF},
	{.name = "list", .kind = OPT_FLAG, .offset = O(list),
	 .help = "print the cases (name, transports, socket type, the roles "
	 "a hybrid host checks it in: hybrid both, hy-peer as --peer, "
	 "hy-listen as --listen, - neither; what it checks), then exit"},
	{.name = "seed", .arg = "N", .kind = OPT_NUM, .offset = O(seed),
	 .min = 1, .max = UINT32_MAX, .help = "the connecting side's seed of "
	 "random sizes and data", .def_text = "from the clock"},
	{.name = "timeout", .arg = "S", .kind = OPT_NUM, .offset = O(timeout_s),
	 .min = 1, .max = MAX_TIMEOUT_S, .def = DEFAULT_CASE_TIMEOUT_S,
	 .help = "each case's deadline: every step of it ends by then"},
	{.name = "wait", .arg = "S", .kind = OPT_NUM, .offset = O(wait_s),
	 .min = 1, .max = MAX_TIMEOUT_S, .def = DEFAULT_WAIT_S,
	 .help = "the listening side waits this long for the first case"},
	OPTION_END
};
#undef O

static void describe(void)
{
	out("Socket semantics of a vsock (or TCP) path, as KTAP on stdout, from both\n"
	    "sides: run one side with --listen ADDR (e.g. vsock:any, in the guest)\n"
	    "and the other with --peer ADDR (e.g. vsock:3, on the host), in either\n"
	    "order within --wait. Each case runs over a control connection of its\n"
	    "own to port %u (ADDR's port, if given) of the transport under test;\n"
	    "its data connections go to ports the listening side picks. A case\n"
	    "that does not apply (transport, socket type, a kernel without the\n"
	    "feature, or a hybrid vsock host at unix:PATH, which cannot see a\n"
	    "vsock socket of its own) is a SKIP with the reason. Exit 0 when no\n"
	    "case failed, 1 when one did, 3 when the other side cannot be\n"
	    "reached.\n",
	    CONFORM_CTL_PORT);
}

const struct applet_spec vsock_conform_spec = {
	.operands = NULL, .describe = describe, .opts = options,
	.values_size = sizeof(struct conform_options),
};

/* ---- the run ---- */

/* Why a case does not run here, on the connecting side or the
 * listening one, or NULL. */
static const char *not_here(const struct conform_case *c, enum transport t,
			    bool connecting)
{
	if (t == TRANSPORT_HYBRID || t == TRANSPORT_UNIX_PORTS)
		return connecting ? c->not_hybrid_connect : c->not_hybrid_listen;
	return t == TRANSPORT_TCP ? c->vsock_only : NULL;
}

static bool selected(const struct conform_options *o, size_t i)
{
	return (name_set_empty(&o->only) || name_set_has(&o->only, i)) &&
	       !name_set_has(&o->skip, i);
}

static int list_cases(const struct conform_options *o)
{
	for (size_t i = 0; i < conform_case_count; i++) {
		const struct conform_case *c = &conform_cases[i];
		if (!selected(o, i))
			continue;
		bool as_peer = !c->not_hybrid_connect,
		     as_listener = !c->not_hybrid_listen;
		out("%-24s %-5s %-9s %-9s %s\n", c->name,
		    c->vsock_only ? "vsock" : "both",
		    c->type == SEQPACKET ? "seqpacket" : "stream",
		    as_peer && as_listener ? "hybrid" : as_peer ? "hy-peer"
		    : as_listener ? "hy-listen" : "-", c->what);
	}
	return EXIT_PASS;
}

static int find_case(const char *name)
{
	for (size_t i = 0; i < conform_case_count; i++)
		if (strcmp(conform_cases[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* KTAP: the result line of case number n, its diagnostics first (one
 * "# " line per line of why). */
static void print_result(unsigned n, const char *name, uint32_t verdict,
			 const char *why)
{
	if (verdict == CONFORM_FAILED) {
		const char *p = why;
		while (*p) {
			size_t len = strcspn(p, "\n");
			out("# %s: %.*s\n", name, (int)len, p);
			p += len + (p[len] == '\n');
		}
		out("not ok %u %s\n", n, name);
	} else if (verdict == CONFORM_SKIPPED) {
		out("ok %u %s # SKIP %s\n", n, name, why);
	} else {
		out("ok %u %s\n", n, name);
	}
}

static void side_start(struct side *s, const struct conform_options *o,
		       const struct conform_case *c, struct address base,
		       bool connecting, uint32_t seed)
{
	s->c = c;
	s->base = base;
	s->transport = base.transport;
	s->connecting = connecting;
	s->seed = seed;
	s->d = step_deadline(o->timeout_s);
	s->n_fds = 0;
	s->unix_lfd = -1;
	s->why[0] = '\0';
	s->have_result = false;
}

/* Which verdict the case gets from both halves, and why. */
static uint32_t combine(struct side *s, uint32_t mine, const struct message *r,
			char *why, size_t len)
{
	uint32_t theirs = r->value;

	/* Our skip stops the case: what the other side saw after it (our
	 * connections closing) is no failure. */
	if (mine == CONFORM_SKIPPED) {
		format(why, len, "%s", s->why);
		return CONFORM_SKIPPED;
	}
	if (mine == CONFORM_FAILED) {
		if (theirs == CONFORM_FAILED)
			format(why, len, "%s\nlistening side: %s", s->why, r->text);
		else
			format(why, len, "%s", s->why);
		return CONFORM_FAILED;
	}
	if (theirs == CONFORM_FAILED) {
		format(why, len, "listening side: %s", r->text);
		return CONFORM_FAILED;
	}
	if (theirs == CONFORM_SKIPPED) {
		format(why, len, "listening side: %s", r->text);
		return CONFORM_SKIPPED;
	}
	if (mine == CONFORM_ABORTED || theirs == CONFORM_ABORTED) {
		format(why, len, "control: each side says the other stopped first");
		return CONFORM_FAILED;
	}
	why[0] = '\0';
	return CONFORM_OK;
}

/* The connecting side's half of its case, then the listening side's
 * result: the case's verdict, and why into why. */
static uint32_t connecting_half(struct side *s, const struct conform_options *o,
				char *why, size_t len)
{
	uint32_t mine = (uint32_t)s->c->connect(s);
	struct message r;
	int err;

	/* The case's deadline may have passed: the control messages that
	 * end it have their own. The other side's steps end by its deadline,
	 * which started a moment after ours; after an abort, at once. */
	s->d = step_deadline(mine == CONFORM_OK ? o->timeout_s + 2
			: o->timeout_s < ABORT_GRACE_S ? o->timeout_s : ABORT_GRACE_S);
	/* The abort goes before the data connections close, so that the
	 * other side hears of it before it sees their end. */
	if (mine != CONFORM_OK && !s->have_result)
		(void)message_send(&s->ctl, CONFORM_ABORT, mine, NULL, s->d);
	close_all(s);
	if (s->have_result)
		return combine(s, mine, &s->result, why, len);
	do
		err = message_recv(&s->ctl, &r, s->d);
	while (!err && r.tag != CONFORM_RESULT);
	if (!err)
		return combine(s, mine, &r, why, len);
	if (mine == CONFORM_FAILED)
		format(why, len, "%s\ncontrol: the listening side's result: %s",
		       s->why, io_error_text(err));
	else
		format(why, len, "control: read the listening side's result: %s",
		       io_error_text(err));
	return CONFORM_FAILED;
}

/* The connecting side's part of case i, number n of total; its verdict. */
static uint32_t run_connecting(struct side *s, const struct conform_options *o,
			       size_t i, unsigned n, unsigned total,
			       bool *unreachable)
{
	const struct conform_case *c = &conform_cases[i];
	const char *off = not_here(c, o->peer.transport, true);
	char why[2 * WHY_MAX + 64];
	uint32_t verdict;

	side_start(s, o, c, o->peer, true, (uint32_t)o->seed + (uint32_t)i);
	int err = conn_open(&s->ctl, &o->peer, 0, NULL, s->d);
	*unreachable = err != 0;
	if (err) {
		format(why, sizeof(why), "control: connect %s: %s", s->ctl.name,
		       io_error_text(err));
		print_result(n, c->name, CONFORM_FAILED, why);
		return CONFORM_FAILED;
	}
	uint32_t value = n | (uint32_t)total << 12 |
			 (off ? CONFORM_CASE_NOT_RUN : 0);
	err = message_send(&s->ctl, CONFORM_CASE, value, c->name, s->d);
	if (!err && !off)
		err = message_send(&s->ctl, CONFORM_SYNC, s->seed, NULL, s->d);
	if (err) {
		format(why, sizeof(why), "control: send the case: %s",
		       io_error_text(err));
		verdict = CONFORM_FAILED;
	} else if (off) {
		format(why, sizeof(why), "%s", off);
		verdict = CONFORM_SKIPPED;
	} else {
		verdict = connecting_half(s, o, why, sizeof(why));
	}
	(void)message_send(&s->ctl, CONFORM_FINAL, verdict, why, s->d);
	conn_close(&s->ctl);
	print_result(n, c->name, verdict, why);
	return verdict;
}

static void say_end(const struct conform_options *o)
{
	struct conn ctl;

	if (conn_open(&ctl, &o->peer, 0, NULL, step_deadline(o->timeout_s)))
		return;
	(void)message_send(&ctl, CONFORM_END, 0, NULL,
			   step_deadline(o->timeout_s));
	conn_close(&ctl);
}

/* The kselftest summary line, from the count of each verdict. */
static void print_totals(const unsigned count[])
{
	out("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:%u error:0\n",
	    count[CONFORM_OK], count[CONFORM_FAILED], count[CONFORM_SKIPPED]);
}

static int connecting_side(const struct conform_options *o, struct side *s)
{
	unsigned total = 0, n = 0, count[CONFORM_ABORTED + 1] = {0};
	char where[ADDRESS_TEXT_MAX];

	for (size_t i = 0; i < conform_case_count; i++)
		total += selected(o, i);
	format_address(&o->peer, where, sizeof(where));
	out("KTAP version 1\n# vsock-conform: connecting to %s, seed %u\n1..%u\n",
	    where, (unsigned)o->seed, total);
	for (size_t i = 0; i < conform_case_count; i++) {
		bool unreachable;
		if (!selected(o, i))
			continue;
		n++;
		count[run_connecting(s, o, i, n, total, &unreachable)]++;
		if (unreachable && n == 1)
			die(EXIT_ENV, "control: the listening side at %s cannot "
			    "be reached", where);
	}
	say_end(o);
	print_totals(count);
	return count[CONFORM_FAILED] ? EXIT_FAIL : EXIT_PASS;
}

/* The listening side's half of case i (-1: no case of the name the
 * connecting side gave), from its seed on: the side's verdict, and why in
 * s->why. */
static uint32_t listening_half(struct side *s, const struct conform_options *o,
			       const struct message *m, int i)
{
	struct message seed;
	const char *off;

	if (i < 0) {
		format(s->why, sizeof(s->why), "no case '%s' here (another "
		       "version of vsock-conform?)", m->text);
		return CONFORM_FAILED;
	}
	int err = message_recv(&s->ctl, &seed, s->d);
	if (err || seed.tag != CONFORM_SYNC) {
		format(s->why, sizeof(s->why), "control: the case's seed: %s",
		       err ? io_error_text(err) : "another message");
		return CONFORM_FAILED;
	}
	if ((off = not_here(&conform_cases[i], o->listen.transport, false))) {
		/* Only a hybrid host knows it is one: the connecting side in
		 * the guest hears it as the result. */
		format(s->why, sizeof(s->why), "%s", off);
		return CONFORM_SKIPPED;
	}
	s->seed = seed.value;
	return (uint32_t)conform_cases[i].listen(s);
}

/* The case's verdict as the connecting side gives it (FINAL), printed as
 * case n; the data connections stay until then. */
static uint32_t final_verdict(struct side *s, unsigned n, const char *name)
{
	struct message final;
	int err;

	do
		err = message_recv(&s->ctl, &final, s->d);
	while (!err && final.tag != CONFORM_FINAL);
	close_all(s);
	if (err) {
		char why[128];
		format(why, sizeof(why), "control: the case's verdict: %s",
		       io_error_text(err));
		print_result(n, name, CONFORM_FAILED, why);
		return CONFORM_FAILED;
	}
	if (final.value != CONFORM_OK && final.value != CONFORM_SKIPPED &&
	    final.value != CONFORM_FAILED) {
		print_result(n, name, CONFORM_FAILED,
			     "control: the case's verdict: not a verdict");
		return CONFORM_FAILED;
	}
	print_result(n, name, final.value, final.text);
	return final.value;
}

/* The listening side's part of one case, on its control connection. */
static uint32_t run_listening(struct side *s, const struct conform_options *o,
			      const struct message *m, bool *printed_plan)
{
	unsigned n = m->value & 0xfff, total = m->value >> 12 & 0xfff;
	bool not_run = m->value & CONFORM_CASE_NOT_RUN;
	int i = find_case(m->text);
	uint32_t verdict = CONFORM_OK;

	if (!*printed_plan) {
		out("KTAP version 1\n# vsock-conform: listening side\n1..%u\n", total);
		*printed_plan = true;
	}
	side_start(s, o, i >= 0 ? &conform_cases[i] : NULL, o->listen, false, 0);
	if (i < 0 || !not_run)
		verdict = listening_half(s, o, m, i);
	/* The case's deadline may have passed: the messages that end it have
	 * their own. */
	s->d = step_deadline(o->timeout_s + 2);
	if (!not_run &&
	    message_send(&s->ctl, CONFORM_RESULT, verdict, s->why, s->d) != 0) {
		close_all(s);
		print_result(n, m->text, CONFORM_FAILED,
			     "control: send the result: the connecting side is gone");
		return CONFORM_FAILED;
	}
	return final_verdict(s, n, m->text);
}

static int listening_side(const struct conform_options *o, struct side *s)
{
	struct address where = o->listen;
	char text[ADDRESS_TEXT_MAX];
	bool printed_plan = false;
	unsigned cases_run = 0, count[CONFORM_ABORTED + 1] = {0};
	int lfd = xlisten(&where, 8, NULL);

	format_address(&where, text, sizeof(text));
	announce_listening(&where);
	for (;;) {
		struct message m;
		/* The connecting side may take a case's deadline and its
		 * wait for the result between two cases. */
		struct deadline d = cases_run
			? step_deadline(2 * o->timeout_s + 5)
			: step_deadline(o->wait_s);
		int err = conn_accept(&s->ctl, lfd, &where, d, NULL);
		if (err) {
			if (!cases_run)
				die(EXIT_ENV, "control: accept on %s: %s (no "
				    "connecting side)", text, io_error_text(err));
			die(EXIT_FAIL, "control: accept on %s: %s after %u cases "
			    "(the connecting side is gone)", text,
			    io_error_text(err), cases_run);
		}
		s->d = step_deadline(o->timeout_s);
		err = message_recv(&s->ctl, &m, s->d);
		if (!err && m.tag == CONFORM_END) {
			conn_close(&s->ctl);
			break;
		}
		if (err || m.tag != CONFORM_CASE) {
			warn("control: %s: %s", s->ctl.name, err ?
				 io_error_text(err) : "not a case");
			conn_close(&s->ctl);
			continue;
		}
		cases_run++;
		count[run_listening(s, o, &m, &printed_plan)]++;
		conn_close(&s->ctl);
	}
	close(lfd);
	if (!printed_plan)
		out("KTAP version 1\n# vsock-conform: listening side\n1..0\n");
	print_totals(count);
	return count[CONFORM_FAILED] ? EXIT_FAIL : EXIT_PASS;
}

int vsock_conform_main(int argc, char **argv)
{
	struct conform_options *o = xmalloc(sizeof(*o));
	struct side *s = xmalloc(sizeof(*s));
	int code;

	parse_command_line(&vsock_conform_spec, o, argc, argv);
	if (o->list) {
		code = list_cases(o);
	} else {
		if (!o->listen.family == !o->peer.family)
			die(EXIT_USAGE, "--listen ADDR (the listening side) or --peer "
				    "ADDR (the connecting side): one of them");
		/* The connecting side picks the cases and their seeds. */
		if (o->listen.family && (!name_set_empty(&o->only) ||
					 !name_set_empty(&o->skip) || o->seed))
			die(EXIT_USAGE, "--only, --skip and --seed: the connecting "
				    "side's (--peer), not the listening side's");
		if (!o->seed)
			o->seed = (uint32_t)(now_ns() % 4000000000u) + 1;
		s->buf = xmalloc(BUF_BYTES);
		s->buf2 = xmalloc(BUF_BYTES);
		code = o->peer.family ? connecting_side(o, s)
				      : listening_side(o, s);
		xfree(s->buf);
		xfree(s->buf2);
	}
	xfree(s);
	xfree(o);
	return code;
}
