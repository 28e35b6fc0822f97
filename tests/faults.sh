#!/bin/sh
# Fault injection over TCP loopback: every applet against every fault that
# applies to it, played by tests/faultpeer on the other side of the
# protocol. Each cell asserts the exit status (1 protocol or data failure,
# 3 environment or time-out, 0 where the protocol lets the applet pass),
# exactly one line on stderr naming the operation, an end within the
# timeout plus a margin, no process and no temporary file left behind,
# and that faultpeer did inject its fault. Prints the matrix (fault x
# applet) and "faults: N passed, N failed".
# Usage: sh tests/faults.sh [-v]   (env: VSOCKBOX, VSOCKBOX_WRAP,
#        FAULTS_TIMEOUT (2), TIME_SLACK_MS (0), FAULTS_ONLY="fault/applet ...")
set -u
SUITE=faults
# shellcheck source=tests/faultlib.sh
. "$(dirname "$0")/faultlib.sh"
[ "${1:-}" = -v ] && VERBOSE=1

T=${FAULTS_TIMEOUT:-2}		# the applets' --timeout
LIMIT_MS=$((T * 1000 + 1500 + TIME_SLACK_MS))	# how long a cell may take
HARD_S=$((T * 3 + 10 + TIME_SLACK_MS / 1000))	# then the supervisor kills it
SIZES="--size 64K --count 2"
APPLETS="echo unidir bidir multi ctl bench itest perf itest-host"
FAULTS="none refuse close reset early stall wrong-byte wrong-magic magic-order bad-port truncate flood"
CELLS=$TEST_TMP/cells
: >"$CELLS"
# vsock-bench's temporary files go here, and must be gone after each run.
RUN_TMP=$TEST_TMP/tmp
mkdir "$RUN_TMP"
TMPDIR=$RUN_TMP
export TMPDIR

# The command that runs applet $1 against a peer at $PEER (guest
# applets) or listening on an ephemeral port (hosts); $GUEST_P is where
# itest servers listen. Word splitting of $SIZES and $VSOCKBOX_WRAP is
# wanted: option lists.
# shellcheck disable=SC2086
applet_command() {
	case $1 in
	echo) set -- vsock-echo --peer "$PEER" ;;
	unidir|bidir|multi) set -- "vsock-$1" --peer "$PEER" $SIZES ;;
	ctl) set -- vsock-ctl --peer "$PEER" --timeout "$T" -- \
		$VSOCKBOX_WRAP "$VSOCKBOX" vsock-unidir --peer "$PEER" $SIZES ;;
	bench)
		CMD="sh $SRC_DIR/scripts/vsock-bench --peer $PEER $SIZES --timeout $T"
		return ;;
	itest) set -- vsock-itest --peer "$PEER" --listen "$LOOP:$GUEST_P" ;;
	perf) set -- vsock-perf --listen "$LOOP:0" $SIZES --latency-count 50 ;;
	itest-host) set -- vsock-itest-host --listen "$LOOP:0" --guest "$LOOP:$GUEST_P" ;;
	esac
	CMD="$VSOCKBOX_WRAP $VSOCKBOX $* --timeout $T"
}

# The peer's role and test selection for applet $1.
peer_role() {
	case $1 in
	echo) ROLE="perf-host --tests latency" ;;
	unidir|ctl) ROLE="perf-host --tests unidir" ;;
	bidir) ROLE="perf-host --tests bidir" ;;
	multi) ROLE="perf-host --tests multi" ;;
	bench) ROLE="perf-host --tests all --latency-count 50" ;;
	itest) ROLE="itest-host --guest $LOOP:$GUEST_P" ;;
	perf) ROLE="perf-guest --tests all" ;;
	itest-host) ROLE="itest-guest --listen $LOOP:$GUEST_P" ;;
	esac
}

# cell APPLET FAULT WANT_STATUS [OPERATION_REGEX]: one run and its checks.
# WANT_STATUS 0 wants an empty stderr; otherwise exactly one line
# "APPLET: ..." matching the regex (extended, as grep -E).
cell() {
	applet=$1 fault=$2 want=$3 op=${4:-}
	name="$fault-$applet"
	if [ -n "${FAULTS_ONLY:-}" ]; then
		case " $FAULTS_ONLY " in
		*" $fault/$applet "*) ;;
		*) return ;;
		esac
	fi
	GUEST_P=$("$SUPERVISE" ports 3) || { fail "$name: no free ports"; return; }
	peer_role "$applet"
	# Word splitting of $ROLE and $CMD is wanted: option lists.
	case $applet in
	perf|itest-host)
		PEER=unused
		applet_command "$applet"
		# shellcheck disable=SC2086
		start_supervised "$HARD_S" "$name" $CMD
		app_pid=$LAST_PID
		if ! wait_listening "$name"; then
			reap "$app_pid"
			record "$applet" "$fault" "no-listen"
			fail "$name: the host never listened" "$(cat "$TEST_TMP/$name.err")"
			return
		fi
		# shellcheck disable=SC2086
		start_peer "$name-fp" ${ROLE%% *} "$fault" ${ROLE#* } \
			--peer "$LOOP:$PORT" $SIZES --timeout $((T * 3 + 5))
		reap "$app_pid"
		read_result "$name"
		;;
	*)
		# shellcheck disable=SC2086
		start_peer "$name-fp" ${ROLE%% *} "$fault" ${ROLE#* } $SIZES \
			--timeout $((T * 3 + 5)) || {
			record "$applet" "$fault" "no-peer"
			fail "$name: faultpeer never listened"
			return
		}
		PEER=$LOOP:$PORT
		applet_command "$applet"
		# shellcheck disable=SC2086
		supervised "$HARD_S" "$name" $CMD
		;;
	esac
	stop_peer
	check_cell "$applet" "$fault" "$want" "$op"
}

# check_cell APPLET FAULT WANT OP: the assertions on $TEST_TMP/$name.*.
check_cell() {
	problems=""
	err=$TEST_TMP/$name.err
	# vsock-bench: the stages after a failed one say that their chain
	# broke; the first stage's error is the one line that counts.
	error_lines "$err" | grep -v -e ': chain: the previous stage failed' \
		>"$err.lines"
	lines=$(wc -l <"$err.lines" | tr -d ' ')
	if [ "$STATUS" = timeout ]; then
		problems="$problems hung"
	elif [ "$STATUS" != "$3" ]; then
		problems="$problems exit:$STATUS"
	fi
	if [ "$3" = 0 ]; then
		[ "$lines" -eq 0 ] || problems="$problems stderr:$lines"
	elif [ "$lines" -ne 1 ]; then
		problems="$problems lines:$lines"
	elif ! grep -q -E "^vsock-[a-z-]+: .*($4)" "$err.lines"; then
		problems="$problems message"
	fi
	[ "$ELAPSED_MS" -le "$LIMIT_MS" ] ||
		problems="$problems slow:${ELAPSED_MS}ms"
	case $LEFTOVER in
	0) ;;
	*) problems="$problems leak:$(echo "$LEFTOVER" | tr ' ' ',')" ;;
	esac
	[ "$FP_STATUS" = 0 ] || problems="$problems peer:$FP_STATUS"
	if [ -n "$(ls -A "$RUN_TMP")" ]; then
		problems="$problems tmpfiles"
		rm -f "$RUN_TMP"/*
	fi
	if [ -z "$problems" ]; then
		record "$1" "$2" OK
		pass "$name"
	else
		record "$1" "$2" "$(echo "$problems" | sed 's/^ //; s/ /,/g')"
		fail "$name: $problems" "want exit $3 and one line matching: $4" \
			"stderr: $(cat "$err")" \
			"faultpeer: $(tr '\n' '|' <"$TEST_TMP/$name-fp.err")" \
			"elapsed ${ELAPSED_MS} ms, status $STATUS"
	fi
}

record() {
	echo "$2 $1 $3" >>"$CELLS"
}

# The matrix: rows are faults, columns applets; "-" where a fault does not
# apply to an applet.
print_matrix() {
	printf '\n%-12s' "fault"
	for a in $APPLETS; do printf ' %-11s' "$a"; done
	printf '\n'
	for f in $FAULTS; do
		printf '%-12s' "$f"
		for a in $APPLETS; do
			c=$(awk -v f="$f" -v a="$a" '$1 == f && $2 == a { print $3 }' "$CELLS")
			printf ' %-11s' "${c:--}"
		done
		printf '\n'
	done
	printf '\n%s\n%s\n\n' \
		"OK: the expected status, error line and time, nothing left behind;" \
		"-: not applicable (or not selected); else: what went wrong"
}

# Operations named in the one-line errors.
CONNECT='connect .*: Connection refused'
CLOSED='peer closed the connection|Connection reset by peer|Broken pipe'
TIMED_OUT='timed out'

# ---- guest applets against a host that misbehaves ----
for a in echo unidir bidir multi ctl bench itest; do
	cell "$a" none 0
	cell "$a" refuse 3 "$CONNECT"
	cell "$a" reset 1 "(read|write|write magic to) .*: ($CLOSED)"
	cell "$a" stall 3 "(read|write) .*: $TIMED_OUT"
done
# The echo guest cannot tell a host that closes between packets from the
# end of the latency test: both are a pass.
cell echo close 0
cell echo early 0
cell echo truncate 1 "read .*: peer closed after 1000 of 4096 bytes of a packet"
for a in unidir bidir multi ctl bench; do
	cell "$a" close 1 "(read|write|write magic to) .*: ($CLOSED)"
	cell "$a" early 1 "(read|write|write magic to) .*: ($CLOSED)"
	[ "$a" = bench ] || cell "$a" truncate 1 "(read|write) .*: ($CLOSED)"
	# Data after the last iteration is never read: not the guest's concern.
	cell "$a" flood 0
done
# vsock-bench starts with the latency test: the echo stage sees the cut.
cell bench truncate 1 "read .*: peer closed after 1000 of 4096 bytes of a packet"
cell itest close 1 "guest-initiated: (read|write) .*: ($CLOSED)"
cell itest early 3 "host-initiated: accept .*: $TIMED_OUT"
cell itest wrong-byte 1 "guest-initiated: read .*: got byte 43, expected 42"
cell itest truncate 1 "guest-terminated: read .*: peer closed the connection"
cell itest flood 0

# ---- host applets against a guest that misbehaves ----
cell perf none 0
cell perf refuse 3 "accept .*: $TIMED_OUT after 2000 ms with 9 of the guest's connections missing"
cell perf close 1 "($CLOSED|closed before its turn)"
cell perf reset 1 "latency: (read|write) .*: ($CLOSED)"
cell perf early 1 "bidirectional: (read magic from .*: peer closed the connection|.*: the guest closed before its turn)"
cell perf stall 3 "latency: read warm-up echo from .*: $TIMED_OUT"
cell perf wrong-byte 1 "data corruption"
cell perf wrong-magic 1 "bidirectional: magic 200 out of order, expected 129"
cell perf magic-order 1 "bidirectional: magic 123 \(unidirectional\) out of order, expected 129"
cell perf bad-port 1 "accept .*: unexpected connection from port [0-9]+"
cell perf truncate 1 "latency: read warm-up echo from .*: peer closed the connection"
cell perf flood 0

cell itest-host none 0
cell itest-host refuse 3 "guest-initiated: accept .*: $TIMED_OUT"
cell itest-host close 1 "guest-initiated: read .*: peer closed the connection"
cell itest-host reset 1 "guest-initiated: read .*: Connection reset by peer"
cell itest-host early 3 "host-initiated: connect .*: Connection refused"
cell itest-host stall 3 "guest-initiated: read .*: $TIMED_OUT"
cell itest-host wrong-byte 1 "guest-initiated: read .*: byte 1000 is 43, expected 42"
cell itest-host bad-port 1 "guest-initiated: accept .*: source port [0-9]+, expected 49152"
cell itest-host truncate 1 "guest-initiated: read .*: peer closed the connection"
cell itest-host flood 1 "guest-initiated: wait for the guest to close .*: peer sent data where the protocol allows none"

print_matrix
finish
