#!/bin/sh
# SPDX-License-Identifier: MIT
# shellcheck disable=SC2016 # check evaluates its CONDITION (tests/lib.sh)
# vsock-conform over TCP loopback: both roles, their KTAP checked by
# tests/ktap against TCP's expected verdicts (tests/conform/tcp.expect),
# the two sides' verdicts equal, --list, --only and --skip, the exit
# codes, a listening side that dies mid-run, and what tests/ktap refuses.
# (The fault peer's broken listening side is in tests/faults.sh.) Every
# run is supervised: bounded, no process left behind, no AF_VSOCK socket.
# Ends with
# "conform: N passed, N failed".
# Usage: sh tests/conform.sh [-v]   (env: VSOCKBOX, VSOCKBOX_WRAP, KTAP,
#        TIME_SLACK_MS)
set -u
SUITE=conform
# shellcheck source=tests/faultlib.sh
. "$(dirname "$0")/faultlib.sh"
[ "${1:-}" = -v ] && VERBOSE=1
: "${KTAP:=$TESTS_DIR/ktap}"
[ -x "$KTAP" ] || { echo "conform: $KTAP missing (make tests/ktap)" >&2; exit 3; }
EXPECT=$TESTS_DIR/conform/tcp.expect
T=3			# the cases' --timeout
HARD_S=120

# The cases, from the binary's own table.
CASES=$(vsb vsock-conform --list | awk '{ print $1 }')
COUNT=$(echo "$CASES" | wc -l | tr -d ' ')

# start_listener NAME ARGS...: the listening side on an ephemeral port;
# $PORT once it listens, $LISTENER its supervisor's pid.
start_listener() {
	_sl=$1
	shift
	# shellcheck disable=SC2086
	start_supervised "$HARD_S" "$_sl" $VSOCKBOX_WRAP "$VSOCKBOX" vsock-conform \
		--listen "$LOOP:0" --timeout "$T" "$@"
	LISTENER=$LAST_PID
	wait_listening "$_sl"
}

# connect NAME ARGS...: the connecting side to $PORT, supervised.
connect() {
	_cn=$1
	shift
	# shellcheck disable=SC2086
	supervised "$HARD_S" "$_cn" $VSOCKBOX_WRAP "$VSOCKBOX" vsock-conform \
		--peer "$LOOP:$PORT" --timeout "$T" "$@"
}

# verdicts NAME: NAME.out through tests/ktap into NAME.v; problems into
# NAME.ktap-err; 0 if well formed.
verdicts() {
	"$KTAP" "$TEST_TMP/$1.out" >"$TEST_TMP/$1.v" 2>"$TEST_TMP/$1.ktap-err"
}

# ---- tests/ktap refuses what is not KTAP ----
# ktap_refuses NAME TEXT PROBLEM: TEXT (printf format) is refused with
# exit 1 and a line holding PROBLEM.
ktap_refuses() {
	# shellcheck disable=SC2059
	printf "$2" >"$TEST_TMP/bad.ktap"
	_st=0
	"$KTAP" "$TEST_TMP/bad.ktap" >/dev/null 2>"$TEST_TMP/bad.err" || _st=$?
	_kr_want=$3
	check "ktap refuses $1" \
		'[ "$_st" = 1 ] && grep -q -F -e "$_kr_want" "$TEST_TMP/bad.err"' \
		"exit $_st" "$(cat "$TEST_TMP/bad.err")"
}
H='KTAP version 1\n'
ktap_refuses "a plan larger than the results" "${H}1..3\nok 1 a\nok 2 b\n" \
	"2 results, the plan says 3"
ktap_refuses "a gap in the numbers" "${H}1..2\nok 1 a\nok 3 b\n" \
	"result number 3, expected 2"
ktap_refuses "a SKIP without a reason" "${H}1..1\nok 1 a # SKIP\n" \
	"SKIP without a reason"
ktap_refuses "\"not ok\" with SKIP" "${H}1..1\nnot ok 1 a # SKIP why\n" \
	'"not ok" with SKIP'
ktap_refuses "a TODO" "${H}1..1\nok 1 a # TODO later\n" "a directive other than SKIP"
ktap_refuses "a name twice" "${H}1..2\nok 1 a\nok 2 a\n" "a name seen before"
ktap_refuses "no header" "1..1\nok 1 a\n" 'no "KTAP version 1" line'
ktap_refuses "a result before the plan" "${H}ok 1 a\n1..1\n" "a result before the plan"
ktap_refuses "a stray line" "${H}1..1\nok 1 a\nrandom text\n" "not a KTAP line"
printf '%s\n' 'boot noise' 'KTAP version 1' '1..2' '# a diagnostic' 'ok 1 a' \
	'ok 2 b # SKIP no b here' >"$TEST_TMP/good.ktap"
testing "ktap: NAME VERDICT [REASON] per result, boot lines ignored" \
	"'$KTAP' '$TEST_TMP/good.ktap' | tr '\n' '|'" "a ok|b skip no b here|"
printf 'a ok\nb not-ok # a known defect\n' >"$TEST_TMP/want"
testing "ktap --expect: a verdict that differs is named" \
	"'$KTAP' --expect '$TEST_TMP/want' '$TEST_TMP/good.ktap' 2>&1 >/dev/null; echo \$?" \
	"ktap: b: expected not-ok, got skip no b here
1"

# ---- the whole table, both roles ----
start_listener all-l
connect all-c
C_STATUS=$STATUS C_MS=$ELAPSED_MS C_LEFT=$LEFTOVER
reap "$LISTENER"
read_result all-l
expect_status "whole table: the connecting side passes" 0 "$C_STATUS" \
	"$(grep -e '^not ok' -e '^#' "$TEST_TMP/all-c.out" | head -n 20)" \
	"$(head -c 300 "$TEST_TMP/all-c.err")"
expect_status "whole table: the listening side passes" 0 "$STATUS" \
	"$(head -c 300 "$TEST_TMP/all-l.err")"
check "whole table: no process left behind" \
	'[ "$C_LEFT" = 0 ] && [ "$LEFTOVER" = 0 ]' "left: $C_LEFT / $LEFTOVER"
verdicts all-c
check "whole table: the connecting side's KTAP is well formed" "[ $? = 0 ]" \
	"$(head -n 5 "$TEST_TMP/all-c.ktap-err")"
verdicts all-l
check "whole table: the listening side's KTAP is well formed" "[ $? = 0 ]" \
	"$(head -n 5 "$TEST_TMP/all-l.ktap-err")"
expect_rc=0
"$KTAP" --expect "$EXPECT" "$TEST_TMP/all-c.out" >/dev/null \
	2>"$TEST_TMP/expect.err" || expect_rc=$?
check "whole table: every case has TCP's expected verdict ($COUNT cases)" \
	"[ $expect_rc = 0 ]" "verdicts differ from $EXPECT:" \
	"$(head -n 10 "$TEST_TMP/expect.err")"
testing "whole table: both sides print the same verdicts" \
	"cmp -s '$TEST_TMP/all-c.v' '$TEST_TMP/all-l.v' && echo same" same
testing "whole table: the cases in --list's order" \
	"cut -d' ' -f1 '$TEST_TMP/all-c.v' | tr '\n' ' '" \
	"$(echo "$CASES" | tr '\n' ' ')"
# A vsock-only case says why in its SKIP.
testing "vsock-only cases: SKIP with the table's reason" \
	"grep -c '^ok [0-9]* shut-rd-connecting # SKIP TCP.s SHUT_RD is local' '$TEST_TMP/all-c.out'" 1
testing "the kselftest totals line" \
	"grep -c '^# Totals: pass:[0-9]* fail:0 xfail:0 xpass:0 skip:[0-9]* error:0\$' '$TEST_TMP/all-c.out' '$TEST_TMP/all-l.out' | cut -d: -f2 | tr '\n' ' '" "1 1 "
testing "the header names the seed" \
	"grep -c '^# vsock-conform: connecting to $LOOP:$PORT, seed [0-9]' '$TEST_TMP/all-c.out'" 1
check "whole table within 20 s" '[ "$C_MS" -le 20000 ]' "took ${C_MS} ms"

# ---- --list, --only, --skip ----
testing "--list: one line per case: NAME TRANSPORTS TYPE WHAT" \
	"vsb vsock-conform --list | awk 'NF < 4 || (\$2 != \"both\" && \$2 != \"vsock\") || (\$3 != \"stream\" && \$3 != \"seqpacket\")' | wc -l | tr -d ' '" 0
testing "--list with --only lists those" \
	"vsb vsock-conform --list --only names,pollhup | awk '{ print \$1 }' | tr '\n' ' '" \
	"names pollhup "
start_listener only-l
connect only-c --only pollhup,names,seqpacket-msg-eor
reap "$LISTENER"
verdicts only-c
testing "--only: those cases, in the table's order" \
	"cat '$TEST_TMP/only-c.v' | tr '\n' '|'" \
	"names ok|pollhup ok|seqpacket-msg-eor skip TCP has no SOCK_SEQPACKET|"
testing "--only: the plan counts them" "grep -x '1\\.\\.3' '$TEST_TMP/only-c.out'" "1..3"
start_listener skip-l
connect skip-c --skip names,many-connections
reap "$LISTENER"
verdicts skip-c
testing "--skip: every other case" \
	"awk '{ print \$1 }' '$TEST_TMP/skip-c.v' | tr '\n' ' '" \
	"$(echo "$CASES" | grep -v -x -e names -e many-connections | tr '\n' ' ')"
start_listener none-l
connect none-c --only names --skip names
reap "$LISTENER"
testing "--only X --skip X: an empty plan, exit 0" \
	"echo $STATUS; grep -c '^1\\.\\.0\$' '$TEST_TMP/none-c.out'" "0
1"

# ---- exit codes ----
PORT=$("$SUPERVISE" ports 1)
connect nobody
expect_status "no listening side: exit 3" 3 "$STATUS"
testing "no listening side: one line" \
	"grep -c 'vsock-conform: control: the listening side at $LOOP:$PORT cannot be reached' '$TEST_TMP/nobody.err'" 1
# shellcheck disable=SC2086
supervised 20 lonely $VSOCKBOX_WRAP "$VSOCKBOX" vsock-conform --listen "$LOOP:0" --wait 1
expect_status "no connecting side within --wait 1: exit 3" 3 "$STATUS"
check "no connecting side: ends at --wait" \
	'[ "$ELAPSED_MS" -lt $((2500 + TIME_SLACK_MS)) ]' "took ${ELAPSED_MS} ms for --wait 1"
# shellcheck disable=SC2086
supervised 20 lonly $VSOCKBOX_WRAP "$VSOCKBOX" vsock-conform --listen "$LOOP:0" --only names
expect_status "--only on the listening side: exit 2" 2 "$STATUS"
testing "--only on the listening side: one line" \
	"grep -c -e '--only, --skip and --seed: the connecting side' '$TEST_TMP/lonly.err'" 1
for args in "" "--listen $LOOP:0 --peer $LOOP:1"; do
	# shellcheck disable=SC2086
	supervised 20 roles $VSOCKBOX_WRAP "$VSOCKBOX" vsock-conform $args
	expect_status "roles '$args': exit 2" 2 "$STATUS"
	testing "roles '$args': one line naming both options" \
		"grep -c -e '--listen ADDR .* or --peer ADDR' '$TEST_TMP/roles.err'" 1
done

# ---- a listening side that dies mid-run ----
# Killed as it receives the first case (the first cases may be over by
# then): every case after is "not ok" at once (its control connection
# refused, the one it was in reset), and the run goes on to the end.
MIDRUN=names,pollhup,small-writes-stalled,random-sizes,zerocopy
start_listener dies-l
# shellcheck disable=SC2086
start_supervised "$HARD_S" dies-c $VSOCKBOX_WRAP "$VSOCKBOX" vsock-conform \
	--peer "$LOOP:$PORT" --timeout "$T" --only "$MIDRUN"
CPID=$LAST_PID
wait_line "$TEST_TMP/dies-l.out" '^1\.\.5$' &&
	kill -KILL "$(applet_pid dies-l)"
reap "$LISTENER"
reap "$CPID"
read_result dies-c
expect_status "listening side killed mid-run: exit 1" 1 "$STATUS"
refused=$(grep -c '^# [a-z-]*: control: connect .*: Connection refused' "$TEST_TMP/dies-c.out")
check "listening side killed mid-run: every later case not ok at once, the run goes on" \
	'"$KTAP" "$TEST_TMP/dies-c.out" >"$TEST_TMP/dies.v" 2>/dev/null &&
	[ "$(wc -l <"$TEST_TMP/dies.v")" = 5 ] &&
	[ "$(tail -n 2 "$TEST_TMP/dies.v" | grep -c " not-ok$")" = 2 ] &&
	[ "$ELAPSED_MS" -lt $((T * 1000 * 3)) ]'" && [ $refused -ge 2 ]" \
	"elapsed ${ELAPSED_MS} ms" "$(cat "$TEST_TMP/dies-c.out")"

# ---- a connecting side that dies mid-run ----
# The listening side ends at its bound (two case deadlines and 5 s), exit
# 1, one line naming why.
# shellcheck disable=SC2086
start_supervised "$HARD_S" gone-l $VSOCKBOX_WRAP "$VSOCKBOX" vsock-conform \
	--listen "$LOOP:0" --timeout 1
LISTENER=$LAST_PID
wait_listening gone-l
# shellcheck disable=SC2086
start_supervised "$HARD_S" gone-c $VSOCKBOX_WRAP "$VSOCKBOX" vsock-conform \
	--peer "$LOOP:$PORT" --timeout 1 --only "$MIDRUN"
CPID=$LAST_PID
wait_line "$TEST_TMP/gone-l.out" '^1\.\.5$' &&
	kill -KILL "$(applet_pid gone-c)"
reap "$CPID"
reap "$LISTENER"
read_result gone-l
expect_status "connecting side killed mid-run: the listening side exits 1" 1 "$STATUS"
check "connecting side killed mid-run: one line, by the listening side's bound" \
	'[ "$(error_lines "$TEST_TMP/gone-l.err" | grep -c "the connecting side is gone")" = 1 ] &&
	[ "$(error_lines "$TEST_TMP/gone-l.err" | wc -l)" = 1 ] &&
	[ "$ELAPSED_MS" -lt $((12000 + TIME_SLACK_MS)) ]' \
	"elapsed ${ELAPSED_MS} ms" "$(cat "$TEST_TMP/gone-l.err")"

finish
