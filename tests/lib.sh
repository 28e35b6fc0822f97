# SPDX-License-Identifier: MIT
# shellcheck shell=sh disable=SC2034
# Shared helpers for the shell test suites (POSIX sh; sourced, not run).
# Each suite sets SUITE, sources this file, calls the helpers and ends with
# `finish`, which prints "SUITE: N passed, N failed" and sets the status.

: "${VSOCKBOX:=$(pwd)/vsockbox}"
VSOCKBOX=$(cd "$(dirname "$VSOCKBOX")" && pwd)/$(basename "$VSOCKBOX")
export VSOCKBOX
# Tools such as valgrind wrap every applet run: VSOCKBOX_WRAP="valgrind -q".
: "${VSOCKBOX_WRAP:=}"
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vsockbox-test.XXXXXX")
PASSED=0
FAILED=0
BG_PIDS=""

cleanup() {
	for pid in $BG_PIDS; do kill "$pid" 2>/dev/null; done
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() {
	PASSED=$((PASSED + 1))
	[ -z "${VERBOSE:-}" ] || echo "PASS: $1"
}

fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL: $1"
	shift
	for line in "$@"; do echo "    $line"; done
}

# vsb APPLET ARGS...: one applet run, through the wrapper if any.
vsb() {
	# shellcheck disable=SC2086
	$VSOCKBOX_WRAP "$VSOCKBOX" "$@"
}

# testing NAME COMMAND EXPECTED: COMMAND's stdout must be EXPECTED.
testing() {
	got=$(eval "$2" 2>"$TEST_TMP/stderr")
	if [ "$got" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "command:  $2" "expected: $3" "got:      $got" \
			"stderr:   $(head -c 300 "$TEST_TMP/stderr")"
	fi
}

# start_bg NAME COMMAND...: run in the background, stdout and stderr to
# $TEST_TMP/NAME.out and NAME.err; the pid goes to $LAST_PID.
start_bg() {
	_bg=$1
	shift
	# Not through the vsb function: $! must be the applet itself, so that
	# kill reaches it and no process outlives the suite.
	if [ "$1" = vsb ]; then
		shift
		# shellcheck disable=SC2086
		set -- $VSOCKBOX_WRAP "$VSOCKBOX" "$@"
	fi
	"$@" >"$TEST_TMP/$_bg.out" 2>"$TEST_TMP/$_bg.err" &
	LAST_PID=$!
	BG_PIDS="$BG_PIDS $LAST_PID"
}

# wait_listening NAME: wait (at most 10 s) for "listening on ADDR" in
# NAME.err; sets $PORT from ADDR. The host prints it once it listens.
wait_listening() {
	_wl_tries=0
	while :; do
		PORT=$(sed -n 's/.*: listening on .*:\([0-9][0-9]*\)$/\1/p' \
			"$TEST_TMP/$1.err" 2>/dev/null | head -n 1)
		[ -z "$PORT" ] || return 0
		_wl_tries=$((_wl_tries + 1))
		if [ "$_wl_tries" -gt 200 ]; then
			echo "$1 never listened: $(cat "$TEST_TMP/$1.err")"
			return 1
		fi
		sleep 0.05
	done
}

# reap PID: wait for a background job; its exit status goes to $STATUS.
reap() {
	STATUS=0
	wait "$1" || STATUS=$?
}

# expect_status NAME WANT GOT [DETAIL...]
expect_status() {
	_es_name=$1 _es_want=$2 _es_got=$3
	shift 3
	if [ "$_es_got" = "$_es_want" ]; then
		pass "$_es_name"
	else
		fail "$_es_name" "exit status $_es_got, expected $_es_want" "$@"
	fi
}

# one_line FILE: the file holds exactly one line.
one_line() {
	[ "$(wc -l < "$1")" -eq 1 ]
}

finish() {
	echo "$SUITE: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
