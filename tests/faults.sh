#!/bin/sh
# SPDX-License-Identifier: MIT
# shellcheck disable=SC2016 # check evaluates its CONDITION (tests/lib.sh)
# Fault injection over TCP loopback: every applet against every fault that
# applies to it, played by tests/faultpeer on the other side of the
# protocol. Each cell asserts the exit status (1 protocol or data failure,
# 3 environment or time-out, 2 a refused command line, 0 where the
# protocol lets the applet pass), the one line on stderr (none on a pass,
# unless a warning is the point), an end within the timeout plus a margin,
# no process and no temporary file left behind, and that faultpeer did
# inject its fault (and saw nothing it forbids). A cell with a bound also
# times the applet's failing step: from the fault's injection (or the
# applet's start, for a host's wait for connections) to the applet's end,
# the step's deadline plus at most 50 ms for the echo deadline, 0.5 s for
# the others. The applets are those `vsockbox --list` names, and
# vsock-bench: one without cells is reported, never skipped silently.
# Prints the matrix (fault x applet), the timed steps, and
# "faults: N passed, N failed".
# Usage: sh tests/faults.sh [-v]   (env: VSOCKBOX, VSOCKBOX_WRAP,
#        FAULTS_TIMEOUT (2), TIME_SLACK_MS (0), FAULTS_ONLY="row/applet ...")
set -u
SUITE=faults
# shellcheck source=tests/faultlib.sh
. "$(dirname "$0")/faultlib.sh"
[ "${1:-}" = -v ] && VERBOSE=1

T=${FAULTS_TIMEOUT:-2}		# the applets' --timeout
T_MS=$((T * 1000))
LIMIT_MS=$((T_MS + 1500 + TIME_SLACK_MS))	# how long a cell may take
HARD_S=$((T * 3 + 10 + TIME_SLACK_MS / 1000))	# then the supervisor kills it
SIZES="--size 64K --count 2"
# More than loopback's socket buffers hold (a few MiB each way): a host
# that never reads stops the guest's writes for good.
BIG="--size 16M --count 1"
LATENCY="--latency-count 50"
STRANGER=tcp:127.0.0.2		# a second machine on the loopback
CELLS=$TEST_TMP/cells
TIMINGS=$TEST_TMP/timings
: >"$CELLS"
: >"$TIMINGS"
# vsock-bench's temporary files go here, and must be gone after each run.
RUN_TMP=$TEST_TMP/tmp
mkdir "$RUN_TMP"
TMPDIR=$RUN_TMP
export TMPDIR

# The applets under test, by their short names (vsock-echo: echo), and
# the bound on each whole echo, as vsock-perf has it by default.
LISTED=$(vsb --list | sed 's/^vsock-//' | tr '\n' ' ')
ECHO_MS=$(vsb --list-options |
	awk '$1 == "vsock-perf" && $2 == "echo-timeout" { print $6 }')
# The matrix's columns, the guests first; applets missing from it come
# after, in the order of their first cell.
COLUMNS="echo unidir bidir multi ctl bench itest perf itest-host conform"
DECLARED=" "

# available APPLET: it is in this build (vsock-bench needs the guest
# applets it runs).
available() {
	case $1 in
	bench)
		for _av in ctl echo bidir unidir multi; do
			available "$_av" || return 1
		done ;;
	*)
		case " $LISTED " in
		*" $1 "*) ;;
		*) return 1 ;;
		esac ;;
	esac
}

# The command that runs applet $1 against a peer at $PEER (guest
# applets) or listening on an ephemeral port (hosts); $GUEST_P is where
# itest servers listen. Word splitting of $CELL_SIZES, $APP_EXTRA and
# $VSOCKBOX_WRAP is wanted: option lists.
# shellcheck disable=SC2086
applet_command() {
	case $1 in
	echo) set -- vsock-echo --peer "$PEER" ;;
	unidir|bidir|multi) set -- "vsock-$1" --peer "$PEER" $CELL_SIZES ;;
	ctl) set -- vsock-ctl --peer "$PEER" --timeout "$T" -- \
		$VSOCKBOX_WRAP "$VSOCKBOX" vsock-unidir --peer "$PEER" $CELL_SIZES ;;
	bench)
		CMD="sh $SRC_DIR/scripts/vsock-bench --peer $PEER $CELL_SIZES --timeout $T"
		return ;;
	itest) set -- vsock-itest --peer "$PEER" --listen "$LOOP:$GUEST_P" ;;
	perf) set -- vsock-perf --listen "$LOOP:0" $CELL_SIZES $LATENCY \
		${CELL_TESTS:+--tests "$CELL_TESTS"} ;;
	itest-host) set -- vsock-itest-host --listen "$LOOP:0" --guest "$LOOP:$GUEST_P" ;;
	esac
	CMD="$VSOCKBOX_WRAP $VSOCKBOX $* $APP_EXTRA --timeout $T"
}

# The peer's role and test selection for applet $1.
peer_role() {
	case $1 in
	echo) ROLE="perf-host --tests latency" ;;
	unidir|ctl) ROLE="perf-host --tests unidir" ;;
	bidir) ROLE="perf-host --tests bidir" ;;
	multi) ROLE="perf-host --tests multi" ;;
	bench) ROLE="perf-host --tests all $LATENCY" ;;
	itest) ROLE="itest-host --guest $LOOP:$GUEST_P" ;;
	perf) ROLE="perf-guest --tests ${CELL_TESTS:-all} $LATENCY" ;;
	itest-host) ROLE="itest-guest --listen $LOOP:$GUEST_P" ;;
	esac
}

# cell [-r ROW] [-t TESTS] [-s SIZES] [-a APPLET_ARGS] [-p PEER_ARGS]
#      [-b MS | -B MS] [-n] APPLET FAULT WANT_STATUS [REGEX]
# One run and its checks. ROW names the matrix row (default FAULT); -t
# sets vsock-perf's and its peer's --tests; -s replaces the sizes on both
# sides; -a and -p add options to the applet and to faultpeer; -b bounds
# the applet's failing step from the fault's injection, -B from the
# applet's start, by a deadline of MS ms; -n: no peer, the applet must
# refuse its command line before it creates any socket. WANT_STATUS 0
# wants an empty stderr, or with a REGEX exactly one line (a warning);
# any other status exactly one line "APPLET: ..." matching the REGEX
# (extended, as grep -E).
cell() {
	row="" CELL_TESTS="" CELL_SIZES=$SIZES APP_EXTRA="" PEER_EXTRA=""
	bound="" bound_from="" no_peer=""
	while :; do
		case $1 in
		-r) row=$2; shift 2 ;;
		-t) CELL_TESTS=$2; shift 2 ;;
		-s) CELL_SIZES=$2; shift 2 ;;
		-a) APP_EXTRA=$2; shift 2 ;;
		-p) PEER_EXTRA=$2; shift 2 ;;
		-b) bound=$2 bound_from=fault; shift 2 ;;
		-B) bound=$2 bound_from=start; shift 2 ;;
		-n) no_peer=1; shift ;;
		*) break ;;
		esac
	done
	applet=$1 fault=$2 want=$3 op=${4:-}
	: "${row:=$fault}"
	DECLARED="$DECLARED$applet "
	available "$applet" || return 0
	if [ -n "${FAULTS_ONLY:-}" ]; then
		case " $FAULTS_ONLY " in
		*" $row/$applet "*) ;;
		*) return ;;
		esac
	fi
	name=$(echo "$row-$applet" | tr / _)
	: >"$TEST_TMP/$name-fp.err"
	GUEST_P=$("$SUPERVISE" ports 3) ||
		{ check "$name" false "no 3 free ports in a row"; return; }
	peer_role "$applet"
	# Word splitting of $ROLE, $CMD and the option lists is wanted.
	if [ -n "$no_peer" ]; then
		PEER=unused
		applet_command "$applet"
		# shellcheck disable=SC2086
		SUPERVISE_FLAGS=--no-socket supervised "$HARD_S" "$name" $CMD
		FP_STATUS=0
		check_cell "$applet" "$row" "$want" "$op"
		return
	fi
	case $applet in
	perf|itest-host)
		PEER=unused
		applet_command "$applet"
		# shellcheck disable=SC2086
		start_supervised "$HARD_S" "$name" $CMD
		app_pid=$LAST_PID
		if ! wait_listening "$name"; then
			reap "$app_pid"
			record "$applet" "$row" "no-listen"
			check "$name" false "the host never listened" \
				"$(cat "$TEST_TMP/$name.err")"
			return
		fi
		# shellcheck disable=SC2086
		start_peer "$name-fp" ${ROLE%% *} "$fault" ${ROLE#* } \
			--peer "$LOOP:$PORT" $CELL_SIZES $PEER_EXTRA \
			--timeout $((T * 3 + 5))
		reap "$app_pid"
		read_result "$name"
		;;
	*)
		# shellcheck disable=SC2086
		start_peer "$name-fp" ${ROLE%% *} "$fault" ${ROLE#* } \
			$CELL_SIZES $PEER_EXTRA --timeout $((T * 3 + 5)) || {
			record "$applet" "$row" "no-peer"
			check "$name" false "faultpeer never listened"
			return
		}
		PEER=$LOOP:$PORT
		applet_command "$applet"
		# shellcheck disable=SC2086
		supervised "$HARD_S" "$name" $CMD
		;;
	esac
	stop_peer
	check_cell "$applet" "$row" "$want" "$op"
}

# check_bound: with a bound, the failing step took its deadline ($bound
# ms) plus less than the margin (50 ms for the echo deadline, else 0.5 s;
# TIME_SLACK_MS more for slow builds), and not much less than the deadline
# (faultpeer may see the step start a moment late, more so on a busy
# machine; a step that ends far sooner did not run into its deadline).
# Appends to $problems; logs the time.
check_bound() {
	[ -n "$bound" ] || return 0
	if [ "$bound_from" = start ]; then
		step=$ELAPSED_MS
	else
		mark=$(sed -n 's/^faultpeer: injected [^ ]* at \([0-9][0-9]*\) ms: .*/\1/p' \
			"$TEST_TMP/$name-fp.err" | head -n 1)
		if [ -z "$mark" ] || [ "$END_MS" = 0 ]; then
			problems="$problems untimed"
			return
		fi
		step=$((END_MS - mark))
	fi
	if [ "$bound" -le "$ECHO_MS" ]; then
		margin=50 under=$((bound / 2))
	else
		margin=500 under=250
	fi
	echo "$1 $2 $step $bound $margin" >>"$TIMINGS"
	[ "$step" -lt $((bound + margin + TIME_SLACK_MS)) ] ||
		problems="$problems late:${step}ms"
	[ "$step" -ge $((bound - under)) ] || problems="$problems early:${step}ms"
}

# check_cell APPLET ROW WANT OP: the assertions on $TEST_TMP/$name.*.
check_cell() {
	problems="" step=""
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
	if [ "$3" = 0 ] && [ -z "$4" ]; then
		[ "$lines" -eq 0 ] || problems="$problems stderr:$lines"
	elif [ "$lines" -ne 1 ]; then
		problems="$problems lines:$lines"
	elif [ "$4" = "$CORRUPT" ]; then
		corrupt_named || problems="$problems message"
	elif ! grep -q -E "^vsock-[a-z-]+: .*($4)" "$err.lines"; then
		problems="$problems message"
	fi
	[ "$ELAPSED_MS" -le "$LIMIT_MS" ] ||
		problems="$problems slow:${ELAPSED_MS}ms"
	check_bound "$1" "$2"
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
	else
		record "$1" "$2" "$(echo "$problems" | sed 's/^ //; s/ /,/g')"
	fi
	check "$name${step:+ (${step} ms)}: $(head -c 300 "$err.lines")" \
		'[ -z "$problems" ]' "problems:$problems" \
		"want exit $3 and one line matching: $4" \
		"${problems:+stderr: $(cat "$err")}" \
		"${problems:+faultpeer: $(tr '\n' '|' <"$TEST_TMP/$name-fp.err")}" \
		"elapsed ${ELAPSED_MS} ms, status $STATUS"
}

record() {
	echo "$2 $1 $3" >>"$CELLS"
}

# corrupt_named: the applet's line ends with the place of the corruption
# exactly as faultpeer made it (stream, direction, iteration, offset,
# both bytes): "first difference: ..." in its note.
CORRUPT=@corrupt
corrupt_named() {
	cn_want=$(sed -n 's/^faultpeer: injected .*; first difference: //p' \
		"$TEST_TMP/$name-fp.err")
	[ -n "$cn_want" ] &&
		awk -v w=": $cn_want" 'substr($0, length($0) - length(w) + 1) == w' \
			"$err.lines" | grep -q .
}

# The matrix: rows are faults (in the order of their first cell), columns
# applets; "-" where a fault does not apply to an applet.
print_matrix() {
	columns=""
	for a in $COLUMNS $(awk '{ print $2 }' "$CELLS"); do
		case " $columns " in *" $a "*) continue ;; esac
		grep -q " $a " "$CELLS" && columns="$columns $a"
	done
	width=$(awk 'length($1) > w { w = length($1) } END { print w + 1 }' "$CELLS")
	printf '\n%-*s' "$width" "fault"
	for a in $columns; do printf ' %-11s' "$a"; done
	printf '\n'
	rows=$(awk '!seen[$1]++ { print $1 }' "$CELLS" | tr '\n' ' ')
	for f in $rows; do
		printf '%-*s' "$width" "$f"
		for a in $columns; do
			c=$(awk -v f="$f" -v a="$a" '$1 == f && $2 == a { print $3 }' "$CELLS")
			printf ' %-11s' "${c:--}"
		done
		printf '\n'
	done
	printf '\n%s\n%s\n\n' \
		"OK: the expected status, error line and time, nothing left behind;" \
		"-: not applicable (or not selected); else: what went wrong"
}

# The timed steps: how long each took against its deadline.
print_timings() {
	[ -s "$TIMINGS" ] || return 0
	echo "timed steps (ms): applet, row: step, deadline + margin"
	while read -r t_applet t_row t_step t_bound t_margin; do
		printf '  %-11s %-18s %6s  %6s + %s\n' "$t_applet" "$t_row" \
			"$t_step" "$t_bound" "$t_margin"
	done <"$TIMINGS"
	echo
}

# Every applet of the build has cells, or says that it has none; cells
# of an applet this build lacks say that they did not run.
report_uncovered() {
	for a in $LISTED; do
		case $DECLARED in
		*" $a "*) ;;
		*) echo "faults: no fault cells for vsock-$a" ;;
		esac
	done
	for a in $(echo "$DECLARED" | tr ' ' '\n' | awk 'NF && !seen[$0]++'); do
		available "$a" ||
			echo "faults: vsock-$a not in this build: its cells did not run"
	done
}

# Operations named in the one-line errors.
CONNECT='connect .*: Connection refused'
CLOSED='peer closed the connection|Connection reset by peer|Broken pipe'
TIMED_OUT='timed out'
SURPLUS_SEEN='read .*: peer sent data where the protocol allows none'

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
	# #11: data beyond the test's bytes within SURPLUS_GRACE_MS of the
	# guest's last transfer fails the guest (before #11 it passed: "not
	# the guest's concern"). The host floods with its last bytes, before
	# it reads the guest's, so the flood is there when the guest looks.
	# vsock-bench: the flood hits the bidirectional stage first.
	cell "$a" flood 1 "$SURPLUS_SEEN"
	# The reverse of vsock-perf's surplus check: SIZE + 1 bytes.
	[ "$a" = bench ] || cell "$a" surplus 1 "$SURPLUS_SEEN"
done
# vsock-bench starts with the latency test: the echo stage sees the cut.
cell bench truncate 1 "read .*: peer closed after 1000 of 4096 bytes of a packet"
# A byte past the last packet: a packet that never ends.
cell echo surplus 1 "read .*: peer closed after 1 of 4096 bytes of a packet"
cell bench surplus 1 "read .*: peer closed after 1 of 4096 bytes of a packet"
# A host that never reads: the guest's writes stop, and it fails at its
# --timeout, counted from the step that cannot end (vsock-echo: the
# packet it cannot echo; vsock-bench: its echo stage; vsock-itest: the
# exchange, whose 240000 bytes the buffers may take, then the reply that
# never comes).
for a in echo unidir bidir multi ctl bench itest; do
	cell -s "$BIG" -b "$T_MS" "$a" never-reads 3 "(read|write) .*: $TIMED_OUT"
done
cell -r never-reads@8001 -p "--at host-initiated" -b "$T_MS" \
	itest never-reads 3 "host-initiated: (read|write) .*: $TIMED_OUT"
# A host that reads 8002 for ever: the guest's write loop is one step.
cell -b "$T_MS" itest drain 3 "host-terminated: write .*: $TIMED_OUT"
cell itest close 1 "guest-initiated: (read|write) .*: ($CLOSED)"
cell itest early 3 "host-initiated: accept .*: $TIMED_OUT"
cell itest wrong-byte 1 "guest-initiated: read .*: got byte 43, expected 42"
cell itest truncate 1 "guest-terminated: read .*: peer closed the connection"
# The flood follows the reply byte: one byte is all the host may write.
cell itest flood 1 "guest-initiated: read .*: peer sent data where the protocol allows none"

# ---- host applets against a guest that misbehaves ----
cell perf none 0
cell -B "$T_MS" perf refuse 3 "accept .*: $TIMED_OUT after $T_MS ms with 9 of the guest's connections missing"
cell perf close 1 "($CLOSED|closed before its turn)"
cell perf reset 1 "latency: (read|write) .*: ($CLOSED)"
cell perf early 1 "bidirectional: (read magic from .*: peer closed the connection|.*: the guest closed before its turn)"
cell perf stall 3 "latency: read warm-up echo from .*: $TIMED_OUT"
cell perf wrong-byte 1 "data corruption"
cell perf wrong-magic 1 "bidirectional: magic 200 out of order, expected 129"
cell perf magic-order 1 "bidirectional: magic 123 \(unidirectional\) out of order, expected 129"
cell perf bad-port 1 "accept .*: unexpected connection from port [0-9]+"
cell perf truncate 1 "latency: read warm-up echo from .*: peer closed the connection"
# #11: the guest keeps writing on the control connection after the last
# test: vsock-perf checks it after its last test (after the streams'
# grace periods, so the flood is there), and fails where it passed.
cell perf flood 1 "control: .*: the guest sent more than its magic numbers"
# The echo deadline covers the whole echo, write and read: a trickle of
# pieces, each sooner than the deadline, cannot stretch it.
WARM_UP="latency: read warm-up echo from .*: $TIMED_OUT"
TIMED="latency: read timed \($ECHO_MS ms at most\) echo from .*: $TIMED_OUT"
cell -t latency -r trickle-2x160 -p "--pieces 2 --gap 160" -b "$ECHO_MS" \
	perf trickle 3 "$WARM_UP"
cell -t latency -r trickle-16x90 -p "--pieces 16 --gap 90 --at timed" \
	-b "$ECHO_MS" perf trickle 3 "$TIMED"
cell -t latency -b "$ECHO_MS" perf stall-4095 3 "$WARM_UP"
cell -t latency -r stall-4095@timed -p "--at timed" -b "$ECHO_MS" \
	perf stall-4095 3 "$TIMED"
# A guest silent after its magic: the step's --timeout, not more.
cell -t bidir -r silent/bidir -b "$T_MS" perf silent 3 \
	"bidirectional: read .*: $TIMED_OUT"
cell -t unidir -r silent/unidir -b "$T_MS" perf silent 3 \
	"unidirectional: read .*: $TIMED_OUT"
# A stranger at 127.0.0.2 connects from the guest's ports before, among
# and after the guest's nine: the guest's run passes, with one warning for
# the stranger's two connections that came in before the guest's set was
# complete (the third finds the host no longer listening). With --guest,
# the stranger's connections are closed as they come, one warning for
# all. A set split across two machines is no guest's: it ends as
# connections missing do.
cell -p "--from $STRANGER" perf stranger 0 \
	"$STRANGER is not the guest: 2 connections closed$"
cell -r stranger/guest -a "--guest $LOOP" -p "--from $STRANGER" \
	perf stranger 0 "accept $STRANGER:[0-9]+ on .*: not the guest: closed"
cell -p "--from $STRANGER" -B "$T_MS" perf split 3 \
	"accept .*: $TIMED_OUT after $T_MS ms with 1 of the guest's connections missing"
# Bytes beyond what a stream carries, one line naming the stream.
MORE="the guest sent more than the test's bytes"
cell -t latency -r long-echo perf long-echo 1 "latency: .* on .*: $MORE"
cell -t latency -r surplus/latency perf surplus 1 "latency: .* on .*: $MORE"
cell -t bidir -r surplus/bidir perf surplus 1 "bidirectional: .* on .*: $MORE"
cell -t unidir -r surplus/unidir perf surplus 1 "unidirectional: .* on .*: $MORE"
cell -t multi -r surplus/multi perf surplus 1 "multi stream: .* on .*: $MORE"
cell perf ctl-data 1 "control: .*: the guest sent more than its magic numbers"
cell perf ctl-reset 1 "control: read .*: Connection reset by peer"
# --verify against a peer that corrupts its pattern at a random offset of
# a random iteration (of a random stream, for multi): a bit flipped, a 4
# KiB run twice, two runs swapped, a byte dropped and one inserted, a whole
# block in the place of one with the same body (only the block's stamp
# tells them apart: a sender that skipped its stamps fails this row). With
# --verify (the peer checks the applet's pattern too) the line names the
# exact place; without it the same bytes pass unseen (exit 0): proof that
# only the check catches them.
for kind in flip dup swap shift block; do
	for t in unidir bidir multi; do
		cell -r "corrupt-$kind" -a --verify -p --verify "$t" \
			"corrupt-$kind" 1 "$CORRUPT"
		cell -r "corrupt-$kind/plain" "$t" "corrupt-$kind" 0
		cell -t "$t" -r "corrupt-$kind/$t" -a --verify -p --verify \
			perf "corrupt-$kind" 1 "$CORRUPT"
		cell -t "$t" -r "corrupt-$kind/$t/plain" perf "corrupt-$kind" 0
	done
done
# Both ends with --verify, no fault: every byte checked both ways.
for t in unidir bidir multi; do
	cell -r verify -a --verify -p --verify "$t" none 0
	cell -t "$t" -r "verify/$t" -a --verify -p --verify perf none 0
done

# More samples than vsock-perf keeps: refused before it listens.
cell -n -t multi -s "--count 1000000000" -r count-1e9 perf none 2 \
	"--count 1000000000: every sample is kept"

cell itest-host none 0
cell -B "$T_MS" itest-host refuse 3 "guest-initiated: accept .*: $TIMED_OUT"
cell itest-host close 1 "guest-initiated: read .*: peer closed the connection"
cell itest-host reset 1 "guest-initiated: read .*: Connection reset by peer"
cell itest-host early 3 "host-initiated: connect .*: Connection refused"
cell itest-host stall 3 "guest-initiated: read .*: $TIMED_OUT"
cell itest-host wrong-byte 1 "guest-initiated: read .*: byte 1000 is 43, expected 42"
# The guest's connection from the wrong port, or from a machine that is
# not --guest: the run stops, and faultpeer fails if the host connects
# back to the guest's servers all the same.
cell itest-host bad-port 1 "guest-initiated: accept .*: source port [0-9]+, expected 49152"
cell -p "--from $STRANGER" itest-host stranger 1 \
	"guest-initiated: accept $STRANGER:49152 on .*: not the guest $LOOP \(1 of 4 checks failed, the rest not run\)"
cell itest-host truncate 1 "guest-initiated: read .*: peer closed the connection"
cell itest-host flood 1 "guest-initiated: wait for the guest to close .*: peer sent data where the protocol allows none"

# ---- vsock-conform against a broken listening side ----
# faultpeer conform-listen FAULT breaks the listening half of one case,
# plays unbound-port right and answers every other case with a SKIP: the
# whole table runs (its KTAP checked by tests/ktap), the faulted case is
# "not ok" with its step named, by its deadline, every other case ok or
# SKIP: the run went on.
: "${KTAP:=$TESTS_DIR/ktap}"
CONFORM_COUNT=$(vsb vsock-conform --list 2>/dev/null | wc -l | tr -d ' ')
# conform_cell FAULT CASE WANT_STATUS STEP_REGEX BOUND_MS
conform_cell() {
	_f=$1 _case=$2 _want=$3 _step=$4 _bound=$5
	name=$_f-conform
	DECLARED="${DECLARED}conform "
	available conform || return 0
	if [ -n "${FAULTS_ONLY:-}" ]; then
		case " $FAULTS_ONLY " in
		*" $_f/conform "*) ;;
		*) return ;;
		esac
	fi
	: >"$TEST_TMP/$name-fp.err"
	start_peer "$name-fp" conform-listen "$_f" --listen "$LOOP:0" \
		--timeout $((T * 3 + 10))
	if ! wait_listening "$name-fp"; then
		record conform "$_f" no-peer
		check "$name" false "faultpeer never listened"
		return
	fi
	# shellcheck disable=SC2086
	supervised "$HARD_S" "$name" $VSOCKBOX_WRAP "$VSOCKBOX" vsock-conform \
		--peer "$LOOP:$PORT" --timeout "$T"
	stop_peer
	problems=""
	case $STATUS in
	"$_want") ;;
	timeout) problems="$problems hung" ;;
	*) problems="$problems exit:$STATUS" ;;
	esac
	[ "$LEFTOVER" = 0 ] || problems="$problems leak:$LEFTOVER"
	"$KTAP" "$TEST_TMP/$name.out" >"$TEST_TMP/$name.v" 2>"$TEST_TMP/$name.kerr" ||
		problems="$problems ktap"
	[ "$(wc -l <"$TEST_TMP/$name.v" | tr -d ' ')" = "$CONFORM_COUNT" ] ||
		problems="$problems results"
	_bad=$(grep -c ' not-ok$' "$TEST_TMP/$name.v")
	if [ "$_want" = 0 ]; then
		[ "$_bad" = 0 ] || problems="$problems not-ok:$_bad"
	else
		[ "$_bad" = 1 ] && grep -q -x "$_case not-ok" "$TEST_TMP/$name.v" ||
			problems="$problems not-ok:$_bad"
		grep -q -E "^# $_case: ($_step)" "$TEST_TMP/$name.out" ||
			problems="$problems step"
		grep -q -x 'unbound-port ok' "$TEST_TMP/$name.v" ||
			problems="$problems unbound-port"
	fi
	[ "$ELAPSED_MS" -lt $((_bound + TIME_SLACK_MS)) ] ||
		problems="$problems slow:${ELAPSED_MS}ms"
	# merged breaks a SOCK_SEQPACKET case: over TCP it does not run, and
	# the fault never strikes.
	if [ "$_f" = merged ]; then
		[ "$FP_STATUS" = 1 ] || problems="$problems peer:$FP_STATUS"
		grep -q -x "$_case skip TCP has no SOCK_SEQPACKET" "$TEST_TMP/$name.v" ||
			problems="$problems not-skipped"
	else
		[ "$FP_STATUS" = 0 ] || problems="$problems peer:$FP_STATUS"
	fi
	if [ -z "$problems" ]; then
		record conform "$_f" OK
	else
		record conform "$_f" "$(echo "$problems" | sed 's/^ //; s/ /,/g')"
	fi
	check "$name (${ELAPSED_MS} ms): $(grep -m 1 -E "^# $_case: " \
		"$TEST_TMP/$name.out" || echo "$_case: no diagnostic")" \
		'[ -z "$problems" ]' "problems:$problems" \
		"${problems:+$(grep -v '# SKIP' "$TEST_TMP/$name.out" | head -n 12)}" \
		"${problems:+ktap: $(head -n 3 "$TEST_TMP/$name.kerr")}" \
		"${problems:+faultpeer: $(tr '\n' '|' <"$TEST_TMP/$name-fp.err")}" \
		"elapsed ${ELAPSED_MS} ms, status $STATUS"
}
# One case at its deadline (T), the rest of the table fast; silent: the
# step's deadline, then the wait for the peer's result (3 s at most).
ONE=$((T_MS + 2000))
conform_cell none - 0 "" 2000
conform_cell wrong-byte random-sizes 1 \
	"read the other side's bytes: recv: byte 1000 is [0-9]+, expected [0-9]+ \(seed [0-9]+\)" 2000
conform_cell truncate random-sizes 1 \
	"read the other side's bytes: recv: expected 262144 bytes, got EOF after 131072" 2000
conform_cell no-eof shut-wr-listening 1 \
	"read after the peer's SHUT_WR: recv: expected EOF, timed out" "$ONE"
conform_cell reset pollhup 1 \
	"read after the peer's SHUT_WR: recv: expected EOF, got ECONNRESET" 2000
conform_cell surplus pollhup 1 \
	"read after the peer's SHUT_WR: recv: expected EOF, got data" 2000
conform_cell silent names 1 \
	"connect: control: wait for READY from the other side: timed out" \
	$((ONE + T_MS + 1000))
conform_cell merged seqpacket-boundaries 0 "" 2000

print_matrix
print_timings
report_uncovered
finish
