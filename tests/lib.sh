# SPDX-License-Identifier: MIT
# shellcheck shell=sh disable=SC2034,SC2016
# Shared helpers for the shell test suites (POSIX sh; sourced, not run).
# Each suite sets SUITE, sources this file, declares its cases and ends
# with `finish`, which prints "SUITE: N passed, N failed" and sets the
# status. A case is declared one of two ways (any other helper of a suite
# ends in one of them):
#   testing NAME COMMAND EXPECTED   COMMAND's stdout is EXPECTED (toybox's)
#   check NAME CONDITION [DETAIL...]  CONDITION succeeds
# and a suite waits for a process to get ready with wait_line FILE PATTERN
# (tests/base.sh).

# shellcheck source=tests/base.sh
. "$(dirname "$0")/base.sh"
# As root, each suite runs in a network namespace of its own, where no
# other process can hold the fixed ports it binds. Otherwise (not root, or
# VSOCKBOX_NETNS=host) in the machine's: its hosts listen on port 0 (the
# kernel's, reported), and what it binds itself lies outside the ephemeral
# range (ports from `supervise ports`, the protocol's 8500-8503), where no
# outgoing connection takes a port; but the protocol's 49152 (itest's
# source port) lies inside it.
own_netns "$0" "$@"

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

# check NAME CONDITION [DETAIL...]: CONDITION (a command, evaluated like
# testing's) must succeed; the DETAIL lines say why when it does not
# (write "${problems:+$(cat FILE)}" for one that costs a process).
check() {
	_ck_name=$1 _ck_cond=$2
	shift 2
	if eval "$_ck_cond"; then
		pass "$_ck_name"
	else
		fail "$_ck_name" "$@"
		return 1
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

# wait_listening NAME: waits for "listening on ADDR" in NAME.err (a host
# prints it once it listens); sets $PORT from ADDR.
wait_listening() {
	if ! wait_line "$TEST_TMP/$1.err" ': listening on .*:[0-9][0-9]*$'; then
		echo "$1 never listened: $(cat "$TEST_TMP/$1.err" 2>/dev/null)"
		return 1
	fi
	PORT=$(listening_port "$TEST_TMP/$1.err")
}

# reap PID: wait for a background job; its exit status goes to $STATUS.
reap() {
	STATUS=0
	wait "$1" || STATUS=$?
}

# expect_status NAME WANT GOT [DETAIL...]: an exit status.
expect_status() {
	_es_want=$2 _es_got=$3
	_es_name=$1
	shift 3
	check "$_es_name" '[ "$_es_got" = "$_es_want" ]' \
		"exit status $_es_got, expected $_es_want" "$@"
}

# one_line FILE: the file holds exactly one line.
one_line() {
	[ "$(wc -l < "$1")" -eq 1 ]
}

finish() {
	echo "$SUITE: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
