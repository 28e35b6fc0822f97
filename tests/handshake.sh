#!/bin/sh
# SPDX-License-Identifier: MIT
# Hybrid vsock addresses on this machine, over Unix sockets only (no VM):
# the CONNECT/OK handshake of unix:PATH against tests/fakevmm, a VMM that
# answers garbage, closes before OK, never answers, or answers late; a
# missing socket; and the host applets over unix-ports:PATH (PATH_PORT
# both ways, as libkrun has it, which is also what a hybrid VMM hands the
# host for a guest's connections) against the guest applets: the
# integration test with its source-port note, the benchmark with the
# stream preamble, without it, and with a stranger of another run. Each
# case asserts the exit status, the one line, the time bound and what the
# fake VMM saw. Prints "handshake: N passed, N failed".
# Usage: sh tests/handshake.sh [-v]   (env: VSOCKBOX, VSOCKBOX_WRAP,
#        TIME_SLACK_MS)
set -u
SUITE=handshake
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
[ "${1:-}" = -v ] && VERBOSE=1

FAKEVMM=$(cd "$(dirname "$0")" && pwd)/fakevmm
[ -x "$FAKEVMM" ] || { echo "handshake: build tests/fakevmm first (make tests/fakevmm)"; exit 2; }
T=2
T_MS=$((T * 1000))
SLACK_MS=$((500 + ${TIME_SLACK_MS:-0}))
VMM=$TEST_TMP/vmm.sock
U=$TEST_TMP/u

now_ms() {
	ns=$(date +%s%N)
	echo $((ns / 1000000))
}

# vmm MODE [MS]: the fake VMM on $VMM, ready.
vmm() {
	# Not the last one's readiness line: a new file.
	rm -f "$VMM" "$TEST_TMP/vmm.out"
	start_bg vmm "$FAKEVMM" "$1" "$VMM" ${2:+"$2"}
	VMM_PID=$LAST_PID
	_v=0
	while ! grep -q 'listening on' "$TEST_TMP/vmm.out" 2>/dev/null; do
		_v=$((_v + 1))
		[ "$_v" -lt 100 ] || break
		sleep 0.05
	done
}
vmm_stop() {
	kill "$VMM_PID" 2>/dev/null
	wait "$VMM_PID" 2>/dev/null
}

# connect_case NAME WANT-STATUS WORDS MIN-MS MAX-MS: vsock-ctl through
# the handshake to guest port 8500, sending magic 123 once connected.
connect_case() {
	_t0=$(now_ms)
	vsb vsock-ctl --peer "unix:$VMM:8500" --timeout "$T" --magic 123 \
		>/dev/null 2>"$TEST_TMP/ctl.err"
	_rc=$? _took=$(($(now_ms) - _t0))
	if [ "$_rc" = "$2" ] && [ "$_took" -ge "$4" ] && [ "$_took" -le "$5" ] &&
		{ [ "$2" = 0 ] && [ ! -s "$TEST_TMP/ctl.err" ] ||
		{ one_line "$TEST_TMP/ctl.err" &&
		grep -q "^vsock-ctl: connect unix:$VMM:8500 from port 8501: .*$3" "$TEST_TMP/ctl.err"; }; }; then
		pass "$1"
	else
		fail "$1" "exit $_rc after $_took ms; want $2 within [$4, $5] ms and one line with '$3'" \
			"stderr: $(cat "$TEST_TMP/ctl.err")"
	fi
}

# ---- the handshake ----
vmm garbage
connect_case "garbage answer: exit 1 at once" 1 "answer to CONNECT is not 'OK <port>'$" 0 "$SLACK_MS"
vmm_stop

vmm close
connect_case "closed before OK, every time: retried to the deadline, exit 3" 3 \
	"closed every CONNECT before its OK .*may not reset such connections)$" "$T_MS" $((T_MS + SLACK_MS))
vmm_stop
tries=$(grep -c '^fakevmm: CONNECT 8500$' "$TEST_TMP/vmm.out")
if [ "$tries" -ge 10 ]; then
	pass "closed before OK: tried again ($tries CONNECTs)"
else
	fail "closed before OK: tried again" "$tries CONNECTs in ${T} s, want 10 or more"
fi

vmm silent
connect_case "never answers: exit 3 at the deadline" 3 "waiting for the VMM's OK to CONNECT$" \
	"$T_MS" $((T_MS + SLACK_MS))
vmm_stop

vmm late $((T_MS + 1000))
connect_case "OK after the deadline: exit 3 at the deadline" 3 "waiting for the VMM's OK to CONNECT$" \
	"$T_MS" $((T_MS + SLACK_MS))
vmm_stop

vmm late 500
connect_case "OK late, within the deadline: exit 0" 0 "" 500 $((T_MS + SLACK_MS))
wait "$VMM_PID" 2>/dev/null
if grep -q '^fakevmm: after OK: 1 bytes, first 123$' "$TEST_TMP/vmm.out" &&
	! grep -q 'data before OK' "$TEST_TMP/vmm.out"; then
	pass "OK late: nothing before OK, the magic after it"
else
	fail "OK late: nothing before OK, the magic after it" "$(cat "$TEST_TMP/vmm.out")"
fi

rm -f "$VMM"
connect_case "no VMM socket: exit 3 at once" 3 "No such file or directory$" 0 "$SLACK_MS"

VSOCK_PREAMBLE_TOKEN=x vsb vsock-ctl --peer "unix-ports:$U" --preamble \
	>/dev/null 2>"$TEST_TMP/tok.err"
rc=$?
if [ "$rc" = 2 ] && one_line "$TEST_TMP/tok.err" && grep -q 'VSOCK_PREAMBLE_TOKEN=x: not a token' "$TEST_TMP/tok.err"; then
	pass "a bad VSOCK_PREAMBLE_TOKEN: exit 2, one line"
else
	fail "a bad VSOCK_PREAMBLE_TOKEN: exit 2, one line" "exit $rc: $(cat "$TEST_TMP/tok.err")"
fi

# ---- host applets over unix-ports: the integration test ----
start_bg itest-host vsb vsock-itest-host --listen "unix-ports:$U" --timeout "$T"
ihost=$LAST_PID
wait_listening itest-host >/dev/null
vsb vsock-itest --peer "unix-ports:$U" --timeout "$T" >"$TEST_TMP/itest.out" 2>&1
grc=$?
reap "$ihost"
if [ "$grc" = 0 ] && [ "$STATUS" = 0 ] &&
	[ "$(grep -c ': PASS' "$TEST_TMP/itest-host.out")" = 4 ] &&
	grep -q '^guest-initiated: PASS (source port: not visible to a hybrid vsock host, not checked)$' \
		"$TEST_TMP/itest-host.out"; then
	pass "itest over unix-ports: 4 checks, the source port not checked and said so"
else
	fail "itest over unix-ports" "guest exit $grc: $(cat "$TEST_TMP/itest.out")" \
		"host exit $STATUS: $(cat "$TEST_TMP/itest-host.out" "$TEST_TMP/itest-host.err")"
fi

# ---- the benchmark with the stream preamble ----
SIZES="--size 256K --count 2"
perf() { # name extra...
	_n=$1
	shift
	# shellcheck disable=SC2086
	start_bg "$_n" vsb vsock-perf --listen "unix-ports:$U" $SIZES \
		--latency-count 50 --timeout "$T" --json "$@"
	PERF_PID=$LAST_PID
	wait_listening "$_n" >/dev/null
}
bench() { # extra...
	_b0=$(now_ms)
	# shellcheck disable=SC2086
	VSOCKBOX="$VSOCKBOX" sh "$(dirname "$0")/../scripts/vsock-bench" \
		--peer "unix-ports:$U" $SIZES --timeout "$T" "$@" \
		>"$TEST_TMP/bench.out" 2>"$TEST_TMP/bench.err"
	BENCH_RC=$? BENCH_MS=$(($(now_ms) - _b0))
}

perf perf
bench --preamble
reap "$PERF_PID"
ALONE_MS=$BENCH_MS
if [ "$BENCH_RC" = 0 ] && [ "$STATUS" = 0 ] &&
	grep -q '"data_corruption": true' "$TEST_TMP/perf.out" &&
	! grep -q null "$TEST_TMP/perf.out" && [ ! -e "${U}_8500" ]; then
	pass "vsock-bench --preamble against vsock-perf on unix-ports: every test; its socket file removed"
else
	fail "vsock-bench --preamble against vsock-perf on unix-ports" \
		"bench exit $BENCH_RC: $(cat "$TEST_TMP/bench.err")" \
		"perf exit $STATUS: $(cat "$TEST_TMP/perf.err")" "$(ls "$TEST_TMP")"
fi

# Another run's connection comes first: a token of its own, so it is a
# stranger, closed with one warning; the guest's run passes. --guest names
# the VMM's socket, whatever the run.
perf perf2 --guest "unix-ports:$U"
VSOCK_PREAMBLE_TOKEN=7 vsb vsock-ctl --peer "unix-ports:$U" --preamble --timeout "$T" -- \
	sleep 1 >/dev/null 2>"$TEST_TMP/stranger.err" &
stranger=$!
sleep 0.2
bench --preamble
reap "$PERF_PID"
wait "$stranger" 2>/dev/null
if [ "$BENCH_RC" = 0 ] && [ "$STATUS" = 0 ] &&
	[ "$(grep -vc 'listening on' "$TEST_TMP/perf2.err")" = 1 ] &&
	grep -q 'is not the guest: 1 connection closed' "$TEST_TMP/perf2.err"; then
	pass "a second run's connection (another token): closed with one warning, the run (--guest) passes"
else
	fail "a second run's connection" "bench exit $BENCH_RC: $(cat "$TEST_TMP/bench.err")" \
		"perf exit $STATUS: $(cat "$TEST_TMP/perf2.err")"
fi

# Three silent connections (a stranger, or a VMM's probe) come before the
# guest: they never hold up its connections, whose preambles are read
# alongside theirs, and the run passes in about the time it takes alone.
# The wait for connections is 10 s here: reading preambles in turn, each
# silent one stalled the next by the whole --timeout (2 s, 6 s for three),
# far beyond the bound (alone + 2 s; under two other suites' load the
# run took 1.1 s more than alone).
perf perf5 --connect-timeout 10
SILENT=""
for i in 1 2 3; do
	start_bg "silent$i" vsb vsock-ctl --peer "unix-ports:$U" --timeout 30 -- sleep 30
	SILENT="$SILENT $LAST_PID"
done
sleep 0.3
bench --preamble
reap "$PERF_PID"
for pid in $SILENT; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
if [ "$BENCH_RC" = 0 ] && [ "$STATUS" = 0 ] &&
	[ "$BENCH_MS" -le $((ALONE_MS + 2000 + ${TIME_SLACK_MS:-0})) ] &&
	grep -q 'closed 3 connections that sent no stream preamble' "$TEST_TMP/perf5.err"; then
	pass "three silent connections before the guest: the run passes in $BENCH_MS ms (alone: $ALONE_MS ms)"
else
	fail "three silent connections before the guest" \
		"bench exit $BENCH_RC after $BENCH_MS ms (alone: $ALONE_MS ms): $(cat "$TEST_TMP/bench.err")" \
		"perf exit $STATUS: $(cat "$TEST_TMP/perf5.err")"
fi

# A guest's connection breaks mid-test (as at an event of the VM: a
# restore, a new VMM): the hybrid host says which, when and how; then a
# new run over the same socket path passes (a reconnect after restore).
# broken NAME SIGNAL STATUS HOW LABEL: vsock-unidir --preamble, a long
# run, gets SIGNAL; vsock-perf must exit STATUS with the line that names
# the connection, HOW it broke (a pattern) and when.
broken() {
	start_bg "$1" vsb vsock-perf --listen "unix-ports:$U" --tests unidir \
		--size 64K --count 1000000 --timeout "$T"
	PERF_PID=$LAST_PID
	wait_listening "$1" >/dev/null
	start_bg "$1-guest" vsb vsock-unidir --peer "unix-ports:$U" --preamble \
		--size 64K --count 1000000 --timeout 30
	_guest=$LAST_PID
	sleep 0.5
	kill "-$2" "$_guest"
	reap "$PERF_PID"
	kill -9 "$_guest" 2>/dev/null
	wait "$_guest" 2>/dev/null
	if [ "$STATUS" = "$3" ] &&
		grep -q "^vsock-perf: guest port 8503 on unix-ports:$U:8500: $4, [0-9.]* s into the unidirectional test ([0-9.]* s into the run)\$" \
			"$TEST_TMP/$1.err"; then
		pass "$5: exit $3, the connection, when and how"
	else
		fail "$5" "perf exit $STATUS, want $3: $(cat "$TEST_TMP/$1.err")"
	fi
}
broken killed KILL 1 '\(end of stream\|reset\)' "a guest killed mid-test"
broken stopped STOP 3 'silence until the deadline' \
	"a guest stopped mid-test (at the deadline)"
perf again
bench --preamble
reap "$PERF_PID"
if [ "$BENCH_RC" = 0 ] && [ "$STATUS" = 0 ]; then
	pass "after a broken run, a new one over the same path passes"
else
	fail "after a broken run, a new one over the same path" \
		"bench exit $BENCH_RC: $(cat "$TEST_TMP/bench.err")" \
		"perf exit $STATUS: $(cat "$TEST_TMP/again.err")"
fi

# No preamble: vsock-perf cannot place the connections, and says why.
perf perf3
bench
reap "$PERF_PID"
if [ "$STATUS" = 3 ] && [ "$BENCH_RC" != 0 ] &&
	tail -n 1 "$TEST_TMP/perf3.err" | grep -q 'no connection sent a stream preamble (.*): run the guest.s vsock-bench with --preamble$'; then
	pass "vsock-bench without --preamble: vsock-perf exit 3, says to add it"
else
	fail "vsock-bench without --preamble" "perf exit $STATUS: $(cat "$TEST_TMP/perf3.err")"
fi

# A socket file nobody listens on is taken over; one in use is not.
"$FAKEVMM" ok "${U}_8500" >/dev/null &
held=$!
sleep 0.2
vsb vsock-perf --listen "unix-ports:$U" --timeout 1 >/dev/null 2>"$TEST_TMP/inuse.err"
rc=$?
kill -9 "$held" 2>/dev/null
wait "$held" 2>/dev/null
if [ "$rc" = 3 ] && one_line "$TEST_TMP/inuse.err" &&
	grep -q "bind unix-ports:$U:8500: Address already in use" "$TEST_TMP/inuse.err"; then
	pass "a socket file in use: exit 3, one line"
else
	fail "a socket file in use" "exit $rc: $(cat "$TEST_TMP/inuse.err")"
fi
# The fake VMM was killed: its file stays, and nobody answers it.
start_bg perf4 vsb vsock-perf --listen "unix-ports:$U" --timeout 1
PERF_PID=$LAST_PID
if wait_listening perf4 >/dev/null; then
	pass "a stale socket file: taken over"
else
	fail "a stale socket file: taken over" "$(cat "$TEST_TMP/perf4.err")"
fi
kill "$PERF_PID" 2>/dev/null
wait "$PERF_PID" 2>/dev/null

finish
