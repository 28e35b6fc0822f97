// SPDX-License-Identifier: MIT
/* vsock-lifecycle: connections held open across an event of the VM's life
 * (a pause, a snapshot and restore, a live migration), judged after it.
 *
 * Both halves are this applet: --role guest in the VM, --role host on
 * the host. For each event of --events, in the order of the table below,
 * the two sides open every case's connection in the state it needs
 * (cases.c), say "armed" on stderr, and wait for a line on stdin: the
 * harness, which drives the VMM, writes it once the event is over. Then
 * each end is judged, the two sides exchange their verdicts over a new
 * control connection and both print the same KTAP, one result per event
 * and case ("restore:guest-recv-gi"), with what was measured (the delay
 * from the event's end to each blocked call's wake-up) as diagnostics.
 * The control connection and the ports are in common/protocol.h. */
//config:config VSOCK_LIFECYCLE
//config:	bool "vsock-lifecycle: connections across a pause, restore or migration"
//config:	default y
//config:	help
//config:	  Holds connections in every state across an event of the VM's life
//config:	  that a harness (or a VMM developer) brings about, and judges them
//config:	  after it, as KTAP.
#include "lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "vsock_abi.h"

/* The events, in the order a run takes them: each name is an --events
 * member. */
static const struct event events[] = {
	{.name = "pause", .resets = false, .new_cid = false},
	{.name = "pause-long", .resets = false, .new_cid = false,
	 .host_deadlines = true},
	{.name = "restore", .resets = true, .new_cid = false},
	{.name = "restore-cid", .resets = true, .new_cid = true},
	{.name = "migrate", .resets = true, .new_cid = false},
	{.name = "migrate-cid", .resets = true, .new_cid = true},
};
enum { EVENT_COUNT = sizeof(events) / sizeof(events[0]) };
static const struct opt_name event_names[] = {
	{"pause", 1}, {"pause-long", 2}, {"restore", 4}, {"restore-cid", 8},
	{"migrate", 16}, {"migrate-cid", 32}, {NULL, 0}};
static const struct opt_name role_names[] = {
	{"guest", 1u << ROLE_GUEST}, {"host", 1u << ROLE_HOST}, {NULL, 0}};

struct lifecycle_options {
	struct address peer, listen;
	unsigned role, events;
	uint64_t timeout_s, wait_s, wake_s, after_s;
	bool list;
};
#define O(f) offsetof(struct lifecycle_options, f)

static const struct opt options[] = {
	{.name = "role", .arg = "guest|host", .kind = OPT_NAMES, .offset = O(role),
	 .names = role_names, .help = "this side: the guest (in the VM) or the "
	 "host"},
	OPTION_PEER(struct lifecycle_options, peer, LIFECYCLE_CTL_PORT),
	{.name = "listen", .arg = "ADDR", .kind = OPT_ADDR, .offset = O(listen),
	 .def_addr = "vsock:any", .def = LIFECYCLE_CTL_PORT,
	 .help = "the host's control address (--role host)"},
	{.name = "events", .arg = "LIST", .kind = OPT_NAMES, .offset = O(events),
	 .names = event_names, .def = 1, .help = "comma list of pause, "
	 "pause-long (longer than --timeout), restore, "
	 "restore-cid, migrate, migrate-cid, taken in that order; the guest "
	 "and the host are given the same"},
	OPTION_TIMEOUT(struct lifecycle_options, timeout_s),
	{.name = "wait", .arg = "S", .kind = OPT_NUM, .offset = O(wait_s),
	 .min = 1, .max = MAX_TIMEOUT_S, .def = 600,
	 .help = "wait at most S seconds for the other side's first control "
	 "connection and for each event's end on stdin"},
	{.name = "wake", .arg = "S", .kind = OPT_NUM, .offset = O(wake_s),
	 .min = 1, .max = MAX_TIMEOUT_S, .def = 20,
	 .help = "after a reset, every end must have ended within S seconds "
	 "of the event's end"},
	{.name = "after", .arg = "S", .kind = OPT_NUM, .offset = O(after_s),
	 .max = MAX_TIMEOUT_S, .def = 2,
	 .help = "after a pause, the verified streams run S seconds more"},
	{.name = "list", .kind = OPT_FLAG, .offset = O(list),
	 .help = "list the cases and events, and exit"},
	OPTION_END
};

static void describe(void)
{
	out("Connections in every state, guest-initiated and host-initiated, held\n"
	    "across an event of the VM's life and judged after it, as KTAP. Run\n"
	    "--role host on the host first, then --role guest --peer ADDR in the\n"
	    "guest, with the same --events; each says \"armed for EVENT\" on stderr\n"
	    "when its connections are ready: bring the event about (pause and\n"
	    "resume, snapshot and restore, migrate), then write a line to both\n"
	    "stdins. After a pause every connection goes on; after a restore or\n"
	    "a migration every connection of the guest ends with ECONNRESET by\n"
	    "itself and the host's end too, listeners still accept.\n"
	    "Exit: 0 every case ok or skipped, 1 some not ok (a case's setup too),\n"
	    "3 the control connection failed.\n");
}

const struct applet_spec vsock_lifecycle_spec = {NULL, describe, options,
						 sizeof(struct lifecycle_options)};

uint32_t host_port(const struct round *r, unsigned i)
{
	return LIFECYCLE_HOST_PORT + r->index * LIFECYCLE_ROUND_PORTS + i;
}

uint32_t guest_port(const struct round *r, unsigned i)
{
	return LIFECYCLE_GUEST_PORT + r->index * LIFECYCLE_ROUND_PORTS + i;
}

void setup_failed(struct end *e, const char *what, int err)
{
	e->setup_what = what;
	e->setup_err = err;
	warn("case %s: %s: %s (the case is not ok)",
	     lifecycle_cases[e->index].name, what, io_error_text(err));
}

static bool i_connect(const struct round *r, unsigned i)
{
	return lifecycle_cases[i].by == (r->role == ROLE_GUEST ? BY_GUEST
							       : BY_HOST);
}

/* The data of case i sent by `from`, distinct per round and direction. */
static uint32_t seed(const struct round *r, unsigned i, enum role from)
{
	return r->index << 16 | i << 4 | ((uint32_t)from + 1);
}

/* The guest's CID as its own ioctl says; VSOCK_CID_ANY off vsock. */
static uint32_t local_cid(const struct lifecycle_options *o)
{
	unsigned v = VSOCK_CID_ANY;
	if (o->peer.transport != TRANSPORT_VSOCK)
		return VSOCK_CID_ANY;
	int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(EXIT_ENV, "open /dev/vsock: %m");
	if (ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &v) < 0)
		die(EXIT_ENV, "ioctl(IOCTL_VM_SOCKETS_GET_LOCAL_CID): %m");
	close(fd);
	return v;
}

static void sleep_100ms(void)
{
	struct timespec ts = {0, 100000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- the control connection ---- */

/* The guest's: connects (again and again while the host is not there yet
 * or the transport is being reset) and says its CID. */
static void guest_control(struct round *r, const struct lifecycle_options *o,
			  struct conn *ctl, uint64_t wait_s, uint32_t *cid)
{
	struct deadline d = step_deadline(wait_s);
	int err;
	while ((err = conn_open(ctl, &o->peer, 0, NULL, d)) != 0 &&
	       deadline_left_ns(d))
		sleep_100ms();
	if (err)
		die(EXIT_ENV, "control: connect %s: %s", ctl->name,
		    io_error_text(err));
	*cid = local_cid(o);
	err = message_send(ctl, LIFECYCLE_HELLO, *cid, r->event->name,
			   step_deadline(r->timeout_s));
	if (err)
		die_io(ctl, err, "control: hello to");
}

/* The host's: takes the guest's next control connection; where it comes
 * from is where the host connects to the guest from then on. */
static void host_control(struct round *r, int lfd,
			 const struct lifecycle_options *o, struct conn *ctl,
			 uint64_t wait_s, uint32_t *cid, uint32_t *seen)
{
	struct message m;
	struct address from;
	int err = conn_accept(ctl, lfd, &o->listen, step_deadline(wait_s),
			      &from);
	if (err)
		die(EXIT_ENV, "control: accept the guest's connection (%s): %s",
		    r->event->name, io_error_text(err));
	err = message_recv(ctl, &m, step_deadline(r->timeout_s));
	if (!err && m.tag != LIFECYCLE_HELLO)
		err = ERR_DATA;
	if (err)
		die_io(ctl, err, "control: hello from");
	*cid = m.value;
	*seen = from.transport == TRANSPORT_VSOCK ? from.cid : VSOCK_CID_ANY;
	/* A hybrid host reaches the guest through the VMM's socket (its
	 * CONNECT), not where a guest's connection came from. */
	r->peer = is_unix(&o->listen) ? o->listen : from;
}

static void control(struct round *r, const struct lifecycle_options *o,
		    int lfd, struct conn *ctl, uint64_t wait_s, bool after)
{
	if (r->role == ROLE_GUEST)
		guest_control(r, o, ctl, wait_s,
			      after ? &r->cid_after : &r->cid_before);
	else
		host_control(r, lfd, o, ctl, wait_s,
			     after ? &r->cid_after : &r->cid_before,
			     after ? &r->seen_after : &r->seen_before);
}

/* ---- a round: one event ---- */

static void end_start(struct round *r, struct end *e, unsigned i)
{
	void *buf = e->buf;
	*e = (struct end){.index = i, .lfd = -1, .buf = buf,
			  .buf_len = CHUNK, .d = NO_DEADLINE};
	e->c.fd = -1;
	atomic_store(&e->done, false);
	atomic_store(&e->stop, false);
	atomic_store(&e->moved, 0);
	enum role other = r->role == ROLE_GUEST ? ROLE_HOST : ROLE_GUEST;
	e->tx_seed = seed(r, i, r->role);
	e->rx_seed = seed(r, i, other);
}

/* Listeners first (for the connections the other side opens), then the
 * control connection, then each case's connection and state, in order. */
static void arm_round(struct round *r, const struct lifecycle_options *o,
		      int ctl_lfd, struct end *ends)
{
	struct conn ctl;
	struct message m;

	for (unsigned i = 0; i < lifecycle_case_count; i++) {
		struct end *e = &ends[i];
		end_start(r, e, i);
		if (lifecycle_cases[i].by == BY_NONE || i_connect(r, i))
			continue;
		e->laddr = with_port(&r->self, r->role == ROLE_GUEST
				     ? guest_port(r, i) : host_port(r, i));
		e->lfd = xlisten(&e->laddr, 1, &r->setup);
	}
	control(r, o, ctl_lfd, &ctl, r->index ? r->timeout_s + r->wait_s
						: r->wait_s, false);
	for (unsigned i = 0; i < lifecycle_case_count; i++) {
		struct end *e = &ends[i];
		struct deadline d = step_deadline(r->timeout_s);
		int err = 0;
		if (i_connect(r, i)) {
			struct address to = with_port(&r->peer,
				r->role == ROLE_GUEST ? host_port(r, i)
						      : guest_port(r, i));
			err = conn_open(&e->c, &to, 0, &r->setup, d);
		} else if (lifecycle_cases[i].by != BY_NONE) {
			err = conn_accept(&e->c, e->lfd, &e->laddr, d, NULL);
			close(e->lfd);
			e->lfd = -1;
		}
		if (err)
			setup_failed(e, i_connect(r, i) ? "connect" : "accept",
				     err);
		else
			mine(r, i)->arm(r, e);
	}
	int err = message_send(&ctl, LIFECYCLE_ARMED, 0, NULL,
			       step_deadline(r->timeout_s));
	if (!err)
		err = message_recv(&ctl, &m, step_deadline(r->timeout_s));
	if (!err && m.tag != LIFECYCLE_ARMED)
		err = ERR_DATA;
	if (err)
		die_io(&ctl, err, "control: armed, to and from");
	conn_close(&ctl);
	warn("armed for %s: %u cases; write a line on stdin once it is over",
	     r->event->name, (unsigned)lifecycle_case_count);
}

/* A line on stdin: the event is over. */
static void wait_event(struct round *r, struct end *ends)
{
	struct deadline d = step_deadline(r->wait_s);
	for (;;) {
		struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
		int n = poll(&p, 1, deadline_left_ms(d));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die(EXIT_ENV, "%s: no line on stdin within %llu s (the "
			    "event's end)", r->event->name,
			    (unsigned long long)r->wait_s);
		char ch;
		ssize_t k = read(STDIN_FILENO, &ch, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die(EXIT_ENV, "%s: stdin ended before the event's end "
			    "was said", r->event->name);
		if (ch == '\n')
			break;
	}
	r->done_ns = now_ns();
	for (unsigned i = 0; i < lifecycle_case_count; i++)
		ends[i].moved_at_event = atomic_load(&ends[i].moved);
}

/* The KTAP result of one case: both sides' diagnostics, then the line. */
static uint32_t report(unsigned n, const char *event, const char *name,
		       uint32_t a, const char *why_a, uint32_t b,
		       const char *why_b)
{
	const char *texts[2] = {why_a, why_b};
	uint32_t v = a == CONFORM_FAILED || b == CONFORM_FAILED ? CONFORM_FAILED
		     : a == CONFORM_SKIPPED || b == CONFORM_SKIPPED
		     ? CONFORM_SKIPPED : CONFORM_OK;
	for (size_t t = 0; t < 2; t++)
		if (texts[t][0])
			out("# %s:%s: %s\n", event, name, texts[t]);
	if (v == CONFORM_SKIPPED)
		out("ok %u %s:%s # SKIP %s\n", n, event, name,
		    a == CONFORM_SKIPPED ? why_a : why_b);
	else
		out("%sok %u %s:%s\n", v == CONFORM_FAILED ? "not " : "", n,
		    event, name);
	return v;
}

static void close_round(struct end *ends)
{
	for (unsigned i = 0; i < lifecycle_case_count; i++) {
		struct end *e = &ends[i];
		if (e->threaded) {
			conn_shutdown(&e->c);
			xthread_join(e->thread);
			e->threaded = false;
		}
		conn_close(&e->c);
		if (e->lfd >= 0)
			close(e->lfd);
		e->lfd = -1;
	}
}

/* The event's end is when the host heard of it: the guest may hear
 * later (through a slow serial console, say), and its delays must count
 * from the moment the VM ran again, not from its own line. The host says
 * how long ago that was; the guest's clock counts the same time once the
 * VM runs. */
static void agree_event_end(struct round *r, struct conn *ctl)
{
	struct deadline d = step_deadline(r->timeout_s);
	struct message m;
	int err;

	if (r->role == ROLE_HOST) {
		uint64_t us = (now_ns() - r->done_ns) / 1000;
		err = message_send(ctl, LIFECYCLE_CLOCK, us > UINT32_MAX
				   ? UINT32_MAX : (uint32_t)us, NULL, d);
	} else {
		err = message_recv(ctl, &m, d);
		if (!err && m.tag != LIFECYCLE_CLOCK)
			err = ERR_DATA;
	}
	if (err)
		die_io(ctl, err, "control: the event's end, to or from");
	if (r->role == ROLE_HOST)
		return;
	uint64_t now = now_ns(), ago = (uint64_t)m.value * 1000;
	uint64_t host_end = ago < now ? now - ago : 0;
	bool later = r->done_ns >= host_end;
	char num[32];
	warn("%s: the host heard of the event's end %s s %s this side",
	     r->event->name, format_fixed(num, sizeof(num), (double)(later
		? r->done_ns - host_end : host_end - r->done_ns) / 1e9, 2),
	     later ? "before" : "after");
	r->done_ns = host_end;
}

/* After the event: a new control connection (after a reset, the guest's
 * old ones are gone by now) and the event's end agreed on, then each
 * connection judged on its own (the two sides meet only on the case's
 * connection), the cases without a connection, and the verdicts
 * exchanged and printed. */
static void judge_round(struct round *r, const struct lifecycle_options *o,
			int ctl_lfd, struct end *ends, unsigned *n,
			unsigned count[])
{
	enum { WHY = SIDE_TEXT_MAX };
	char (*why)[WHY] = xmalloc(lifecycle_case_count * WHY);
	uint32_t *verdict = xmalloc(lifecycle_case_count * sizeof(*verdict));
	struct conn ctl;

	control(r, o, ctl_lfd, &ctl, r->timeout_s + r->wake_s, true);
	agree_event_end(r, &ctl);
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < lifecycle_case_count; i++)
			if ((lifecycle_cases[i].by == BY_NONE) == (pass == 1))
				verdict[i] = judge_end(r, &ends[i], why[i],
						       WHY);
	for (unsigned i = 0; i < lifecycle_case_count; i++) {
		struct deadline d = step_deadline(r->timeout_s);
		struct message m;
		int err = message_send(&ctl, LIFECYCLE_RESULT, verdict[i],
				       why[i], d);
		if (!err)
			err = message_recv(&ctl, &m, d);
		if (!err && (m.tag != LIFECYCLE_RESULT ||
			     m.value > CONFORM_SKIPPED))
			err = ERR_DATA;
		if (err)
			die_io(&ctl, err, "control: the verdicts of %s, to and "
			       "from", r->event->name);
		/* The guest's half first, in both sides' output. */
		bool g = r->role == ROLE_GUEST;
		count[report(++*n, r->event->name, lifecycle_cases[i].name,
			     g ? verdict[i] : m.value, g ? why[i] : m.text,
			     g ? m.value : verdict[i], g ? m.text : why[i])]++;
	}
	conn_close(&ctl);
	close_round(ends);
	xfree(verdict);
	xfree(why);
}

static int run(const struct lifecycle_options *o)
{
	struct round r = {
		.role = o->role == 1u << ROLE_GUEST ? ROLE_GUEST : ROLE_HOST,
		.timeout_s = o->timeout_s, .wait_s = o->wait_s,
		.wake_s = o->wake_s, .after_s = o->after_s,
		.setup = {.buffer_size = 64 << 10},
	};
	struct end *ends = xmalloc(lifecycle_case_count * sizeof(*ends));
	unsigned rounds = 0, n = 0, count[CONFORM_SKIPPED + 1] = {0};
	int ctl_lfd = -1;

	for (unsigned i = 0; i < lifecycle_case_count; i++)
		ends[i].buf = xmalloc(CHUNK);
	for (unsigned k = 0; k < EVENT_COUNT; k++)
		rounds += !!(o->events & event_names[k].bits);
	if (r.role == ROLE_HOST) {
		struct address where = o->listen;
		r.self = any_address_like(&o->listen, 0);
		ctl_lfd = xlisten(&where, 4, NULL);
		announce_listening(&where);
	} else {
		r.self = any_address_like(&o->peer, 0);
		r.peer = o->peer;
	}
	out("KTAP version 1\n# vsock-lifecycle: %s side, %u events, %u cases "
	    "each\n1..%u\n", r.role == ROLE_GUEST ? "guest" : "host", rounds,
	    (unsigned)lifecycle_case_count,
	    rounds * (unsigned)lifecycle_case_count);
	for (unsigned k = 0; k < EVENT_COUNT; k++) {
		if (!(o->events & event_names[k].bits))
			continue;
		r.event = &events[k];
		arm_round(&r, o, ctl_lfd, ends);
		wait_event(&r, ends);
		judge_round(&r, o, ctl_lfd, ends, &n, count);
		r.index++;
	}
	out("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:%u error:0\n",
	    count[CONFORM_OK], count[CONFORM_FAILED], count[CONFORM_SKIPPED]);
	if (ctl_lfd >= 0)
		unlisten(ctl_lfd, &o->listen);
	for (unsigned i = 0; i < lifecycle_case_count; i++)
		xfree(ends[i].buf);
	xfree(ends);
	return count[CONFORM_FAILED] ? EXIT_FAIL : EXIT_PASS;
}

static int list(void)
{
	for (unsigned k = 0; k < EVENT_COUNT; k++)
		out("event %-12s %s%s\n", events[k].name, events[k].resets
		    ? "resets the device" : events[k].host_deadlines
		    ? "longer than --timeout: the host's deadlines fire "
		      "during it, it closes those connections"
		    : "keeps every connection",
		    events[k].new_cid ? ", the guest comes back with another CID"
		    : "");
	for (size_t i = 0; i < lifecycle_case_count; i++)
		out("case  %-20s %s\n", lifecycle_cases[i].name,
		    lifecycle_cases[i].what);
	return EXIT_PASS;
}

int vsock_lifecycle_main(int argc, char **argv)
{
	struct lifecycle_options o;

	parse_command_line(&vsock_lifecycle_spec, &o, argc, argv);
	if (o.list)
		return list();
	if (o.role != 1u << ROLE_GUEST && o.role != 1u << ROLE_HOST)
		die(EXIT_USAGE, "--role guest or --role host: one of them");
	if (!o.events)
		die(EXIT_USAGE, "--events: at least one event");
	set_signals();
	return run(&o);
}
