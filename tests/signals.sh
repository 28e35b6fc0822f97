#!/bin/sh
# SPDX-License-Identifier: MIT
# shellcheck disable=SC2016 # check evaluates its CONDITION (tests/lib.sh)
# Signals over TCP loopback. SIGINT and SIGTERM in the middle of a run
# (waiting for a connection, blocked on a stalled peer, mid-transfer
# against a slow peer, in threads) end every applet at once with status
# 130 or 143 and one line "APPLET: interrupted (SIGINT)" or
# "APPLET: terminated (SIGTERM)", leaving no process behind; SIGPIPE never
# ends an applet silently: a closed peer or a closed stdout is an EPIPE
# the applet reports (or, in the integration test's host-terminated
# step, expects). Ends with "signals: N passed, N failed".
# Usage: sh tests/signals.sh [-v]
# Word splitting of $V (wrapper and binary), $SLOW and the like is wanted
# throughout: they are option lists.
# shellcheck disable=SC2086
set -u
SUITE=signals
# shellcheck source=tests/faultlib.sh
. "$(dirname "$0")/faultlib.sh"
[ "${1:-}" = -v ] && VERBOSE=1

T=30		# the applets' --timeout: far longer than any test here
QUICK_MS=$((5000 + TIME_SLACK_MS))	# a signalled run ends well before

# interrupted NAME SIGNAL READY_FILE READY_PATTERN CMD...: starts CMD,
# waits for READY_PATTERN in READY_FILE ($TEST_TMP/NAME.err for the
# applet's own stderr), sends SIGNAL ("INT", or "-INT" for the whole
# process group, as a terminal's ^C), then checks status 128+N, the
# one-line message (one per applet of a pipeline), a prompt end and no
# process left.
interrupted() {
	_name=$1 _sig=$2 _ready=$3 _pattern=$4
	shift 4
	start_supervised 60 "$_name" "$@"
	_sup=$LAST_PID
	if ! wait_line "$_ready" "$_pattern"; then
		kill "$_sup" 2>/dev/null
		reap "$_sup"
		check "$_name" false "never got ready ($_pattern)" "$(cat "$_ready")"
		return
	fi
	_pid=$(applet_pid "$_name")
	case $_sig in
	-*) _sig=${_sig#-}; kill "-$_sig" "-$_pid" ;;
	*) kill "-$_sig" "$_pid" ;;
	esac
	reap "$_sup"
	read_result "$_name"
	case $_sig in
	INT) _want=130 _msg="interrupted (SIGINT)" ;;
	TERM) _want=143 _msg="terminated (SIGTERM)" ;;
	esac
	_problems=""
	[ "$STATUS" = "$_want" ] || _problems="$_problems exit $STATUS, expected $_want;"
	error_lines "$TEST_TMP/$_name.err" >"$TEST_TMP/$_name.lines"
	if [ ! -s "$TEST_TMP/$_name.lines" ]; then
		_problems="$_problems no message;"
	elif grep -v -q -x -E "vsock-[a-z-]+: $(echo "$_msg" | sed 's/[()]/\\&/g')" \
		"$TEST_TMP/$_name.lines"; then
		_problems="$_problems other lines on stderr;"
	fi
	[ "$ELAPSED_MS" -le "$QUICK_MS" ] || _problems="$_problems took ${ELAPSED_MS} ms;"
	[ "$LEFTOVER" = 0 ] || _problems="$_problems left behind: $LEFTOVER;"
	check "$_name" '[ -z "$_problems" ]' "problems:$_problems" \
		"stderr: $(cat "$TEST_TMP/$_name.err")"
}

# A run of the applet ($@) against faultpeer ROLE FAULT (the first
# words of $PEER_ARGS), signalled once faultpeer has injected its fault.
against() {
	_an_name=$1 _an_sig=$2 _an_peer=$3
	shift 3
	# shellcheck disable=SC2086
	start_peer "$_an_name-fp" $_an_peer --timeout 60
	_an_port=${PORT:-}
	_an_args=""
	for _a in "$@"; do _an_args="$_an_args $(echo "$_a" | sed "s/PORT/$_an_port/g")"; done
	# shellcheck disable=SC2086
	interrupted "$_an_name" "$_an_sig" "$TEST_TMP/$_an_name-fp.err" \
		"injected" $_an_args
	stop_peer
}

V="$VSOCKBOX_WRAP $VSOCKBOX"
SLOW="--size 4M --count 2"

# ---- hosts waiting for the guest ----
for sig in INT TERM; do
	# shellcheck disable=SC2086
	interrupted "vsock-perf waiting for connections, SIG$sig" "$sig" \
		"$TEST_TMP/vsock-perf waiting for connections, SIG$sig.err" \
		"listening on" $V vsock-perf --listen "$LOOP:0" --timeout $T
	# shellcheck disable=SC2086
	interrupted "vsock-itest-host waiting for the guest, SIG$sig" "$sig" \
		"$TEST_TMP/vsock-itest-host waiting for the guest, SIG$sig.err" \
		"listening on" $V vsock-itest-host --listen "$LOOP:0" \
		--guest "$LOOP:1" --timeout $T
done

# ---- guests blocked on a stalled or slow host ----
for sig in INT TERM; do
	against "vsock-echo, stalled host, SIG$sig" "$sig" \
		"perf-host stall --tests latency" \
		$V vsock-echo --peer "$LOOP:PORT" --timeout $T
	against "vsock-unidir mid-transfer, slow host, SIG$sig" "$sig" \
		"perf-host slow --tests unidir $SLOW" \
		$V vsock-unidir --peer "$LOOP:PORT" $SLOW --timeout $T
	# Two threads, one blocked in recv, one in send.
	against "vsock-bidir, stalled host, SIG$sig" "$sig" \
		"perf-host stall --tests bidir $SLOW" \
		$V vsock-bidir --peer "$LOOP:PORT" $SLOW --timeout $T
	# Five threads.
	against "vsock-multi, stalled host, SIG$sig" "$sig" \
		"perf-host stall --tests multi $SLOW" \
		$V vsock-multi --peer "$LOOP:PORT" $SLOW --timeout $T
	# vsock-ctl runs the applet in its place (exec).
	against "vsock-ctl running vsock-unidir, slow host, SIG$sig" "$sig" \
		"perf-host slow --tests unidir $SLOW" \
		$V vsock-ctl --peer "$LOOP:PORT" --timeout $T -- \
		$V vsock-unidir --peer "$LOOP:PORT" $SLOW --timeout $T
done

# vsock-itest waiting in accept: the host quit after the first exchange.
GUEST_P=$("$SUPERVISE" ports 3)
against "vsock-itest waiting for the host, SIGINT" INT \
	"itest-host early --guest $LOOP:$GUEST_P" \
	$V vsock-itest --peer "$LOOP:PORT" --listen "$LOOP:$GUEST_P" --timeout $T

# vsock-perf mid-test: the guest stalls the latency test.
start_supervised 60 "perf-stalled" $V vsock-perf --listen "$LOOP:0" \
	--timeout $T --latency-count 50
perf_sup=$LAST_PID
wait_listening perf-stalled
start_peer perf-stalled-fp perf-guest stall --peer "$LOOP:$PORT" --timeout 60
wait_line "$TEST_TMP/perf-stalled-fp.err" injected
kill -TERM "$(applet_pid perf-stalled)"
reap "$perf_sup"
read_result perf-stalled
stop_peer
check "vsock-perf mid-test, stalled guest, SIGTERM" \
	'[ "$STATUS" = 143 ] &&
	[ "$(error_lines "$TEST_TMP/perf-stalled.err")" = "vsock-perf: terminated (SIGTERM)" ] &&
	[ "$ELAPSED_MS" -le "$QUICK_MS" ]' \
	"exit $STATUS, ${ELAPSED_MS} ms" "$(cat "$TEST_TMP/perf-stalled.err")"

# vsock-bench: ^C at a terminal signals the whole process group; every
# stage still running says it was interrupted.
against "vsock-bench mid-run, ^C to its process group" -INT \
	"perf-host slow --tests all --latency-count 50 $SLOW" \
	sh "$SRC_DIR/scripts/vsock-bench" --peer "$LOOP:PORT" $SLOW --timeout $T

# SIGTERM to vsock-bench's process alone (a service manager's stop): it
# passes the signal on, so that no stage outlives it.
for sig in TERM INT; do
	against "vsock-bench mid-run, SIG$sig to its process alone" "$sig" \
		"perf-host slow --tests all --latency-count 50 $SLOW" \
		sh "$SRC_DIR/scripts/vsock-bench" --peer "$LOOP:PORT" $SLOW --timeout $T
done

# ---- SIGPIPE ----
# The protocol's own EPIPE: in the host-terminated step the guest writes
# until the host's close fails a write; SIGPIPE is at its default here.
GUEST_P=$("$SUPERVISE" ports 3)
start_peer itest-fp itest-host none --guest "$LOOP:$GUEST_P" --timeout 60
# shellcheck disable=SC2086
supervised 60 itest-epipe $V vsock-itest --peer "$LOOP:$PORT" \
	--listen "$LOOP:$GUEST_P" --timeout 10
stop_peer
check "vsock-itest: host-terminated EPIPE is the expected outcome" \
	'[ "$STATUS" = 0 ] && [ "$(cat "$TEST_TMP/itest-epipe.out")" = PASS ] &&
	[ ! -s "$TEST_TMP/itest-epipe.err" ]' \
	"exit $STATUS" "$(cat "$TEST_TMP/itest-epipe.err")"

# closed_stdout NAME CMD...: runs CMD with its stdout a pipe nobody reads
# any more (the reader closed it before CMD started); then
# check_closed_stdout NAME WANT_REGEX: CMD's write must have failed with
# a one-line error and exit 3, not a silent SIGPIPE death.
closed_stdout() {
	_cs_name=$1
	shift
	rm -f "$TEST_TMP/$_cs_name.noreader"
	{
		wait_line "$TEST_TMP/$_cs_name.noreader" closed &&
			"$SUPERVISE" run 60 "$TEST_TMP/$_cs_name.res" "$@" \
			</dev/null 2>"$TEST_TMP/$_cs_name.err"
	} | { exec 0<&-; echo closed >"$TEST_TMP/$_cs_name.noreader"; }
}

check_closed_stdout() {
	read_result "$1"
	_cs_lines=$(error_lines "$TEST_TMP/$1.err")
	_cs_want=$2
	check "$1" '[ "$STATUS" = 3 ] && [ "$(echo "$_cs_lines" | wc -l)" -eq 1 ] &&
		echo "$_cs_lines" | grep -q -E "$_cs_want"' \
		"exit $STATUS (141 is a SIGPIPE death)" "stderr: $(cat "$TEST_TMP/$1.err")"
}

start_peer chain-fp perf-host none --tests latency --latency-count 20 --timeout 60
name="vsock-echo --chain, stdout closed: EPIPE reported"
# shellcheck disable=SC2086
closed_stdout "$name" $V vsock-echo --peer "$LOOP:$PORT" --chain --timeout 10
check_closed_stdout "$name" "^vsock-echo: chain: write stdout: Broken pipe$"
stop_peer

# vsock-perf prints its table at the end, into the closed pipe.
name="vsock-perf table, stdout closed: EPIPE reported"
P=$("$SUPERVISE" ports 1)
# shellcheck disable=SC2086
closed_stdout "$name" $V vsock-perf --listen "$LOOP:$P" --tests unidir \
	--size 64K --count 2 --timeout 10 &
closed_pid=$!
wait_line "$TEST_TMP/$name.err" "listening on"
start_peer perf-epipe-fp perf-guest none --tests unidir --peer "$LOOP:$P" \
	--size 64K --count 2 --timeout 60
wait "$closed_pid"
stop_peer
check_closed_stdout "$name" "^vsock-perf: write stdout: Broken pipe$"

# vsock-ctl ignores SIGPIPE for itself, not for the program it runs.
start_peer ctl-sentinel sentinel none --timeout 60
# shellcheck disable=SC2016,SC2086
supervised 60 ctl-sigpipe $V vsock-ctl --peer "$LOOP:$PORT" --timeout 10 -- \
	sh -c 'sed -n "s/^SigIgn:[[:space:]]*//p" /proc/$$/status'
stop_peer
mask=$(cat "$TEST_TMP/ctl-sigpipe.out")
check "vsock-ctl: PROG starts with SIGPIPE at its default" \
	'[ "$STATUS" = 0 ] && [ -n "$mask" ] && [ $((0x$mask & 0x1000)) -eq 0 ]' \
	"exit $STATUS, SigIgn $mask" "$(cat "$TEST_TMP/ctl-sigpipe.err")"

finish
