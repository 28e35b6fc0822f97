# SPDX-License-Identifier: MIT
# shellcheck shell=sh disable=SC2034
# Helpers of the reliability suites (faults.sh, cmdline.sh, signals.sh) on
# top of tests/lib.sh: the fault-injecting peer (tests/faultpeer) and the
# supervisor that bounds, times and cleans up every run (tests/supervise).
# POSIX sh; sourced, not run. The suites honour VSOCKBOX (the binary under
# test), VSOCKBOX_WRAP (e.g. valgrind), FAULTPEER and SUPERVISE (the tools),
# TIME_SLACK_MS (added to every time bound, for slow wrappers).

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$TESTS_DIR/.." && pwd)
: "${FAULTPEER:=$TESTS_DIR/faultpeer}"
: "${SUPERVISE:=$TESTS_DIR/supervise}"
: "${TIME_SLACK_MS:=0}"
LOOP=tcp:127.0.0.1

for _tool in "$VSOCKBOX" "$FAULTPEER" "$SUPERVISE"; do
	if [ ! -x "$_tool" ]; then
		echo "$SUITE: $_tool missing (make vsockbox tests/faultpeer tests/supervise)" >&2
		exit 3
	fi
done

# supervised LIMIT_S NAME CMD...: runs CMD under the supervisor with stdin
# from /dev/null, stdout and stderr to $TEST_TMP/NAME.out and NAME.err.
# Sets STATUS (a number or "timeout"), ELAPSED_MS, END_MS (CMD's end on
# the monotonic clock) and LEFTOVER (a count, then the names of processes
# CMD left behind).
# SUPERVISE_FLAGS=--no-socket: any socket() kills CMD (status 159).
supervised() {
	_sv_limit=$1 _sv_name=$2
	shift 2
	# shellcheck disable=SC2086
	"$SUPERVISE" run ${SUPERVISE_FLAGS:-} "$_sv_limit" \
		"$TEST_TMP/$_sv_name.res" "$@" \
		</dev/null >"$TEST_TMP/$_sv_name.out" 2>"$TEST_TMP/$_sv_name.err"
	read_result "$_sv_name"
}

# start_supervised LIMIT_S NAME CMD...: the same in the background; then
# reap "$LAST_PID" and read_result NAME.
start_supervised() {
	_sv_limit=$1 _sv_name=$2
	shift 2
	rm -f "$TEST_TMP/$_sv_name.res" "$TEST_TMP/$_sv_name.res.pid"
	start_bg "$_sv_name" "$SUPERVISE" run "$_sv_limit" \
		"$TEST_TMP/$_sv_name.res" "$@" </dev/null
}

# read_result NAME: STATUS, ELAPSED_MS, END_MS and LEFTOVER from NAME.res
# (shell builtins only: the command-line suite reads a thousand of them).
read_result() {
	STATUS=none ELAPSED_MS=0 END_MS=0 LEFTOVER=0
	[ -f "$TEST_TMP/$1.res" ] || return 0
	while read -r _rr_key _rr_value; do
		case $_rr_key in
		status) STATUS=$_rr_value ;;
		elapsed_ms) ELAPSED_MS=$_rr_value ;;
		end_ms) END_MS=$_rr_value ;;
		leftover) LEFTOVER=$_rr_value ;;
		esac
	done <"$TEST_TMP/$1.res"
}

# applet_pid NAME: the pid of a start_supervised command, once it runs.
applet_pid() {
	# Mostly there already: read at once (a signal may race a deadline).
	[ -s "$TEST_TMP/$1.res.pid" ] || wait_line "$TEST_TMP/$1.res.pid" . &&
		read -r _ap_pid <"$TEST_TMP/$1.res.pid" && echo "$_ap_pid"
}

# start_peer NAME ROLE FAULT ARGS...: faultpeer in the background; host
# roles are waited for until they listen ($PORT). $FP_PID is its pid.
start_peer() {
	_fp_name=$1
	shift
	start_bg "$_fp_name" "$FAULTPEER" "$@"
	FP_PID=$LAST_PID
	case $1 in
	*-host|sentinel) wait_listening "$_fp_name" ;;
	esac
}

# stop_peer: ends faultpeer (SIGTERM if still running); $FP_STATUS is 0
# if it injected its fault.
stop_peer() {
	kill -TERM "$FP_PID" 2>/dev/null
	FP_STATUS=0
	wait "$FP_PID" || FP_STATUS=$?
}

# error_lines FILE: stderr without the hosts' readiness line.
error_lines() {
	grep -v -e ': listening on ' "$1"
}
