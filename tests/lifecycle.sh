#!/bin/sh
# SPDX-License-Identifier: MIT
# shellcheck disable=SC2016 # check evaluates its CONDITION (tests/lib.sh)
# vsock-lifecycle over TCP loopback, both roles here, the event a fake one:
#   pause    the guest side is stopped (SIGSTOP) for PAUSE_S seconds, less
#            than its deadlines, then continued: every case ok (the CID's
#            a skip: TCP has none), as tests/ktap --expect reads both KTAP
#            streams, and the guest was seen stopped;
#   pause-long  the guest stopped LONG_S seconds, longer than the host's
#            --timeout (LONG_T): the host's ends with a call in progress
#            (host-recv, host-send, the streams) end with ETIMEDOUT on
#            their step's deadline, counted from the call's start, and
#            close; the guest's ends of those see EOF or a reset after
#            it runs again, within --wake; every other case as after a
#            pause: ok, as the KTAP of both sides says;
#   restore  nothing happens, but both sides are told it was a restore:
#            what a harness that pauses and calls it a restore does, and
#            what a device that never resets looks like. Every case with
#            a connection must be not ok (the guest's ends never see
#            ECONNRESET, the host's never end), the listener ok.
# The real events are tests/vm/vhost.sh --lifecycle's (make check-lifecycle).
# Ports: vsock-lifecycle's own (common/protocol.h): run it in a network
# namespace of its own on a shared machine.
# Usage: sh tests/lifecycle.sh [-v]   (env: VSOCKBOX, VSOCKBOX_WRAP, KTAP)
set -u
SUITE=lifecycle
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
[ "${1:-}" = -v ] && VERBOSE=1
: "${KTAP:=$(dirname "$0")/ktap}"
[ -x "$KTAP" ] || { echo "lifecycle: $KTAP missing (make tests/ktap)" >&2; exit 3; }
PAUSE_S=3
T=10		# --timeout: longer than the pause
WAKE=2		# --wake: how long a reset may take here (none comes)
LAG_S=1		# the guest hears of the event's end this much after the host
LONG_S=5	# pause-long: the stop, longer than
LONG_T=3	# its --timeout

# The cases, from the binary's own table.
CASES=$(vsb vsock-lifecycle --list | awk '$1 == "case" { print $2 }')
COUNT=$(echo "$CASES" | wc -l | tr -d ' ')

# start_side NAME ROLE EVENTS: one side in the background, its stdin a
# FIFO it holds open (the event's end is a line written there); sets
# LAST_PID.
start_side() {
	rm -f "$TEST_TMP/$1.in"
	mkfifo "$TEST_TMP/$1.in"
	case $2 in
	host) addr="--listen tcp:127.0.0.1" ;;
	*) addr="--peer tcp:127.0.0.1" ;;
	esac
	# shellcheck disable=SC2086
	$VSOCKBOX_WRAP "$VSOCKBOX" vsock-lifecycle --role "$2" $addr \
		--events "$3" --timeout "$T" --wait 60 --wake "$WAKE" \
		<>"$TEST_TMP/$1.in" >"$TEST_TMP/$1.out" 2>"$TEST_TMP/$1.err" &
	LAST_PID=$!
	BG_PIDS="$BG_PIDS $LAST_PID"
}

# expect FILE VERDICT...: writes tests/ktap's expectations, "EVENT:CASE V"
# for each case in order, V the first VERDICT, "cid" the second.
expect() {
	for c in $CASES; do
		case $c in
		cid) echo "$EVENT:$c $3" ;;
		listen) echo "$EVENT:$c ok" ;;
		*) echo "$EVENT:$c $2" ;;
		esac
	done >"$1"
}

# run_event EVENT HOW: both sides, the event, their verdicts.
run_event() {
	EVENT=$1
	start_side host host "$EVENT"
	host=$LAST_PID
	check "$EVENT: host listens" 'wait_listening host' || return
	start_side guest guest "$EVENT"
	guest=$LAST_PID
	if ! check "$EVENT: both sides armed" \
		'wait_line "$TEST_TMP/guest.err" "armed for $EVENT:" "$guest" &&
		wait_line "$TEST_TMP/host.err" "armed for $EVENT:" "$host"' \
		"guest: $(cat "$TEST_TMP/guest.err")" "host: $(cat "$TEST_TMP/host.err")"; then
		kill "$guest" "$host" 2>/dev/null
		return
	fi
	stopped=""
	if [ "$2" = stop ]; then
		kill -STOP "$guest"
		sleep 0.2
		# Field 3 of /proc/PID/stat: T while stopped.
		# shellcheck disable=SC2034 # stopped: read in check's CONDITION
		case $(cut -d ' ' -f 3 "/proc/$guest/stat" 2>/dev/null) in
		T) stopped=1 ;;
		esac
		sleep "$3"
		kill -CONT "$guest"
	fi
	# The guest hears later, as a guest behind a slow console does; its
	# delays still count from the host's moment.
	echo over >"$TEST_TMP/host.in"
	sleep "$LAG_S"
	echo over >"$TEST_TMP/guest.in"
	reap "$guest"
	guest_rc=$STATUS
	reap "$host"
	host_rc=$STATUS
	[ "$2" = stop ] || return 0
	check "$EVENT: the guest was stopped" '[ -n "$stopped" ]' "its state was not T"
}

# judge EVENT WANT-RC EXPECT: both sides' exit and KTAP.
judge() {
	for s in guest host; do
		rc=$host_rc
		[ "$s" = host ] || rc=$guest_rc
		expect_status "$1: $s exit" "$2" "$rc" "$(cat "$TEST_TMP/$s.err")"
		"$KTAP" --expect "$3" "$TEST_TMP/$s.out" >/dev/null 2>"$TEST_TMP/ktap.err"
		_ktap_rc=$?
		check "$1: $s's $COUNT verdicts as expected" '[ "$_ktap_rc" = 0 ]' \
			"$(cat "$TEST_TMP/ktap.err")" "$(grep '^#' "$TEST_TMP/$s.out" | head -n 40)"
	done
	# The diagnostics name each blocked call's wake-up.
	check "$1: the guest's KTAP says when blocked calls woke" \
		'grep -q "^# .*recv blocked across the event" "$TEST_TMP/guest.out"'
}

# woke_after FILE: the least "woke N s after the event's end" of FILE's
# diagnostics, or "none".
woke_after() {
	sed -n 's/.* woke \([0-9.]*\) s after the event.s end.*/\1/p' "$1" |
		sort -n | head -n 1 | grep . || echo none
}

run_event pause stop "$PAUSE_S"
expect "$TEST_TMP/pause.expect" ok skip
judge pause 0 "$TEST_TMP/pause.expect"
# A blocked recv wakes when the host's byte comes, after the guest's own
# line: counted from the host's moment, at least LAG_S after it (half of
# it, in hundredths, allows for the clock's message in flight).
least=$(woke_after "$TEST_TMP/guest.out")
check "pause: the guest's delays count from the host's end of the event" \
	'[ "$least" != none ] && [ "${least%.*}${least#*.}" -ge $((LAG_S * 50)) ]' \
	"least wake-up: $least s after (want >= $LAG_S / 2)" \
	"$(grep 'heard of the event' "$TEST_TMP/guest.err")"

# The host's deadlines fire while the guest is stopped: every end as the
# table says (ok), and the host says how long each timed-out call took.
T=$LONG_T
run_event pause-long stop "$LONG_S"
expect "$TEST_TMP/pause-long.expect" ok skip
judge pause-long 0 "$TEST_TMP/pause-long.expect"
# shellcheck disable=SC2034 # timed: read in check's CONDITION
timed=$(grep -c "^# pause-long:.*: host .*: ETIMEDOUT [0-9.]* s after the call began" \
	"$TEST_TMP/host.out")
check "pause-long: the host's 8 calls in progress timed out and closed" \
	'[ "$timed" = 8 ]' "$(grep '^# pause-long:.*host' "$TEST_TMP/host.out")"
T=10

run_event restore none
expect "$TEST_TMP/restore.expect" not-ok skip
judge restore 1 "$TEST_TMP/restore.expect"

finish
