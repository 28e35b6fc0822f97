#!/bin/sh
# SPDX-License-Identifier: MIT
# Command lines that must be refused: every option of every applet with an
# empty, negative, huge (overflowing), non-numeric, out-of-range or
# duplicate value, unknown and misplaced options, bad addresses, stray
# operands. Each must exit 2 with exactly one line on stderr (naming the
# applet and the option), nothing on stdout, and without creating a
# socket: every case runs under `supervise run --no-socket`, whose seccomp
# filter kills the first socket() call (status 159), so that not even a
# refused connection goes unseen; and a sentinel listener, the peer of
# every otherwise valid command line, reports any connection. Ends with
# "cmdline: N passed, N failed".
# Usage: sh tests/cmdline.sh [-v]   (CMDLINE_QUICK=N: one case in N, for
# slow wrappers such as valgrind; a fixed sample across every applet)
set -u
SUITE=cmdline
# shellcheck source=tests/faultlib.sh
. "$(dirname "$0")/faultlib.sh"
[ "${1:-}" = -v ] && VERBOSE=1
set -f	# values such as tcp:[::1 are not patterns

start_peer sentinel sentinel none --timeout 600
SENTINEL=$LOOP:$PORT
SUPERVISE_FLAGS=--no-socket

# refused NAME PREFIX CONTAINS APPLET ARGS...: the applet's command line
# must be refused as described above. PREFIX: the applets that may sign
# the line (names separated by '|'); CONTAINS: text the line must hold.
refused() {
	_r1=$1 _r2=$2 _r3=$3
	shift 3
	# shellcheck disable=SC2086
	refused_cmd "$_r1" "$_r2" "$_r3" $VSOCKBOX_WRAP "$VSOCKBOX" "$@"
}

# signed_by LINE NAMES: LINE starts with "NAME: " for one of NAMES
# (separated by '|').
signed_by() {
	_sb_rest=$2
	while [ -n "$_sb_rest" ]; do
		_sb_name=${_sb_rest%%|*}
		case $1 in "$_sb_name: "*) return 0 ;; esac
		case $_sb_rest in *"|"*) _sb_rest=${_sb_rest#*|} ;; *) _sb_rest="" ;; esac
	done
	return 1
}

# refused_cmd NAME PREFIX CONTAINS CMD...: the same for any command.
# Shell builtins only, but for the supervised run: a thousand cases.
CASES=0 RUN_CASES=0
refused_cmd() {
	_name=$1 _prefix=$2 _contains=$3
	shift 3
	CASES=$((CASES + 1))
	[ -z "${CMDLINE_QUICK:-}" ] || [ $((CASES % CMDLINE_QUICK)) = 1 ] ||
		[ "$CMDLINE_QUICK" = 1 ] || return 0
	RUN_CASES=$((RUN_CASES + 1))
	supervised 20 case "$@"
	_problems=""
	case $STATUS in
	2) ;;
	159) _problems="$_problems created a socket (killed by SIGSYS);" ;;
	*) _problems="$_problems exit $STATUS, expected 2;" ;;
	esac
	_lines=0 _line="" _l=""
	while IFS= read -r _l; do
		_lines=$((_lines + 1))
		_line=$_l
	done <"$TEST_TMP/case.err"
	if [ -n "$_l" ]; then
		_problems="$_problems stderr does not end with a newline;"
	elif [ "$_lines" != 1 ]; then
		_problems="$_problems $_lines lines on stderr;"
	elif ! signed_by "$_line" "$_prefix"; then
		_problems="$_problems the line is not signed by $_prefix;"
	else
		case $_line in
		*"$_contains"*) ;;
		*) _problems="$_problems the line does not name '$_contains';" ;;
		esac
	fi
	[ ! -s "$TEST_TMP/case.out" ] || _problems="$_problems output on stdout;"
	[ "$LEFTOVER" = 0 ] || _problems="$_problems left processes: $LEFTOVER;"
	if [ -z "$_problems" ]; then
		pass "$_name"
	else
		fail "$_name:$_problems" "command: $*" \
			"stderr: $(head -c 400 "$TEST_TMP/case.err")" \
			"stdout: $(head -c 200 "$TEST_TMP/case.out")"
	fi
}

# Every option of every applet, from the binary itself (a new applet or
# option is covered with no edit here): "APPLET OPTION KIND MIN MAX
# DEFAULT NAMES" per line.
"$VSOCKBOX" --list-options >"$TEST_TMP/options" ||
	{ echo "cmdline: vsockbox --list-options failed"; exit 1; }

# options_of APPLET: its options as NAME:KIND.
options_of() {
	awk -v a="$1" '$1 == a { printf "%s:%s ", $2, $3 }' "$TEST_TMP/options"
}

# option_field APPLET OPTION N: field N of the option's line.
option_field() {
	awk -v a="$1" -v o="$2" -v n="$3" '$1 == a && $2 == o { print $n; exit }' \
		"$TEST_TMP/options"
}

# A command line every applet accepts: every address at the sentinel
# (were an applet to bind or connect before refusing, the supervisor's
# seccomp filter would kill it at its first socket()).
base_of() {
	awk -v a="$1" -v s="$SENTINEL" \
		'$1 == a && $3 == "addr" { printf "--%s %s ", $2, s }' "$TEST_TMP/options"
}

# The base without option $2 (when $2 itself is under test).
base_without() {
	_drop=--$2
	# shellcheck disable=SC2046
	set -- $(base_of "$1")
	_out=""
	while [ $# -gt 0 ]; do
		if [ "$1" = "$_drop" ]; then shift 2; continue; fi
		_out="$_out $1"
		shift
	done
	echo "$_out"
}

# A value past the option's upper limit.
too_large() { # APPLET OPTION
	echo $(($(option_field "$1" "$2" 5) + 1))
}

# A value the option accepts, by its kind.
good_value() { # APPLET OPTION KIND
	case $3 in
	addr) echo "$SENTINEL" ;;
	names) option_field "$1" "$2" 7 | cut -d, -f1 ;;
	*) echo 1 ;;
	esac
}

NUMBERS="-1 -0 abc 12abc 1.5 0x10 +1 1e3 18446744073709551616 18446744073709551615 99999999999999999999999"
ADDRESSES="vsock: vsock:x:1 tcp:host tcp:[::1 tcp:127.0.0.1:70000 vsock:4294967296 4294967296 vsock:4294967295:1 tcp: tcp:127.0.0.1: tcp:[::1]x tcp:[::1]:65536 vsock:2:4294967295 unix: unix:/tmp/x:4294967295 tcp:127.0.0.1:-1 tcp:1.2.3 tcp:[1.2.3.4]:1 tcp:::1 vsock:-1 x:1 vsock:2:8500:1 tcp:localhost:1"

APPLETS=$("$VSOCKBOX" --list)
for applet in $APPLETS; do
	for spec in $(options_of "$applet"); do
		opt=${spec%%:*} kind=${spec#*:}
		base=$(base_without "$applet" "$opt")
		# Word splitting of $base is wanted: an option list.
		# shellcheck disable=SC2086
		case $kind in
		num|bytes|byte-list)
			for v in $NUMBERS "" " 1" "1 " "$(too_large "$applet" "$opt")"; do
				refused "$applet --$opt '$v'" "$applet" "--$opt" \
					"$applet" $base "--$opt" "$v"
			done
			refused "$applet --$opt=" "$applet" "--$opt" \
				"$applet" $base "--$opt="
			[ "$(option_field "$applet" "$opt" 4)" != 1 ] ||
				refused "$applet --$opt 0" "$applet" "--$opt" \
					"$applet" $base "--$opt" 0
			case $kind in
			bytes)
				for v in 1X 1KB 1k1 99999999999T 16777216T K; do
					refused "$applet --$opt $v" "$applet" "--$opt" \
						"$applet" $base "--$opt" "$v"
				done ;;
			*)
				refused "$applet --$opt 1K" "$applet" "--$opt" \
					"$applet" $base "--$opt" 1K ;;
			esac
			;;
		addr)
			for v in "" $ADDRESSES " tcp:127.0.0.1:1"; do
				refused "$applet --$opt '$v'" "$applet" "--$opt" \
					"$applet" $base "--$opt" "$v"
			done
			;;
		names)
			n1=$(good_value "$applet" "$opt" names)
			N1=$(echo "$n1" | tr '[:lower:]' '[:upper:]')
			for v in "" foo "," ",$n1" "$n1,,$n1" "$n1,foo" "$N1" "$n1 $n1" "$n1,x"; do
				refused "$applet --$opt '$v'" "$applet" "--$opt" \
					"$applet" $base "--$opt" "$v"
			done
			;;
		flag)
			refused "$applet --$opt=1" "$applet" "--$opt" \
				"$applet" $base "--$opt=1"
			;;
		esac
		# Missing value (last on the line), and given twice.
		# shellcheck disable=SC2086
		case $kind in
		flag)
			refused "$applet --$opt twice" "$applet" "--$opt" \
				"$applet" $base "--$opt" "--$opt" ;;
		byte-list) ;;	# repeatable
		*)
			refused "$applet --$opt (no value)" "$applet" "--$opt" \
				"$applet" $base "--$opt"
			v1=$(good_value "$applet" "$opt" "$kind")
			refused "$applet --$opt twice" "$applet" "--$opt" \
				"$applet" $base "--$opt" "$v1" "--$opt" "$v1" ;;
		esac
	done
	base=$(base_of "$applet")
	# Unknown, ambiguous and foreign options; stray operands.
	# shellcheck disable=SC2086
	{
		refused "$applet --nosuch" "$applet" "--nosuch" \
			"$applet" $base --nosuch
		refused "$applet --nosuch=1" "$applet" "--nosuch" \
			"$applet" $base --nosuch=1
		refused "$applet -x" "$applet" "-x" "$applet" $base -x
	}
	# Every other applet's options, with a value they would accept.
	# (one word per option: its lines hold no blanks)
	# shellcheck disable=SC2013
	for foreign in $(awk '{ print $2 ":" $3 ":" $1 }' "$TEST_TMP/options" | sort -u -t: -k1,1); do
		o=${foreign%%:*} rest=${foreign#*:}
		kind=${rest%%:*} owner=${rest#*:}
		case " $(options_of "$applet") " in *" $o:"*) continue ;; esac
		if [ "$kind" = flag ]; then set -- "--$o"
		else set -- "--$o" "$(good_value "$owner" "$o" "$kind")"; fi
		# shellcheck disable=SC2086
		refused "$applet $* (not its option)" "$applet" "--$o" \
			"$applet" $base "$@"
	done
	# vsock-ctl runs its operands: a program.
	if [ "$applet" != vsock-ctl ]; then
		# shellcheck disable=SC2086
		{
			refused "$applet operand" "$applet" "'extra'" \
				"$applet" $base extra
			refused "$applet -" "$applet" "'-'" "$applet" $base -
			refused "$applet -- extra" "$applet" "'extra'" \
				"$applet" $base -- extra
		}
	fi
	# A bad value before --help is still refused.
	# shellcheck disable=SC2086
	refused "$applet bad value then --help" "$applet" "--timeout" \
		"$applet" $base --timeout 0 --help
done

# Abbreviations: unambiguous ones are getopt's, ambiguous ones refused.
refused "vsock-perf --l (ambiguous)" vsock-perf "--l" \
	vsock-perf --listen "$SENTINEL" --l 1
refused "vsock-echo --p (ambiguous)" vsock-echo "--p" \
	vsock-echo --peer "$SENTINEL" --p 1

# Applet-specific rules.
refused "vsock-ctl: 17 magic numbers" vsock-ctl "--magic" \
	vsock-ctl --peer "$SENTINEL" --magic 1 --magic 2 --magic 3 \
	--magic 4 --magic 5 --magic 6 --magic 7 --magic 8 --magic 9 --magic 10 \
	--magic 11 --magic 12 --magic 13 --magic 14 --magic 15 --magic 16 --magic 17
# Bidirectional moves SIZE x COUNT bytes each way in one go: a product
# past 2^64 would wrap (1T x 16777216 is 0 bytes: a silent "pass").
for args in "--size 1T --count 16777216" "--count 1000000000 --size 1T"; do
	# shellcheck disable=SC2086
	refused "vsock-bidir $args" vsock-bidir "--size" \
		vsock-bidir --peer "$SENTINEL" $args
done
# Every sample is kept: a count the statistics cannot hold is refused
# before anything listens.
for args in "--tests multi --count 1000000000" "--count 3355444" \
	"--tests unidir --count 16777217"; do
	# shellcheck disable=SC2086
	refused "vsock-perf $args" vsock-perf "--count" \
		vsock-perf --listen "$SENTINEL" $args
done
for p in 0 65534 65535; do
	refused "vsock-itest --listen port $p" vsock-itest "--listen" \
		vsock-itest --peer "$SENTINEL" --listen "$LOOP:$p"
done
refused "vsock-itest: --listen and --peer transports differ" vsock-itest "--listen" \
	vsock-itest --peer "$SENTINEL" --listen vsock:any:18001
for v in vsock:x "tcp:[::1" tcp:127.0.0.1:70000; do
	# shellcheck disable=SC2086
	refused_cmd "VSOCKBOX_PEER=$v" vsock-echo "VSOCKBOX_PEER" \
		env VSOCKBOX_PEER="$v" $VSOCKBOX_WRAP "$VSOCKBOX" vsock-echo
done

for applet in vsock-unidir vsock-bidir vsock-multi; do
	for v in abc -1 99999999999; do
		# shellcheck disable=SC2086
		refused_cmd "$applet VSOCK_CTL_FD=$v" "$applet" "VSOCK_CTL_FD" \
			env VSOCK_CTL_FD="$v" $VSOCKBOX_WRAP "$VSOCKBOX" "$applet" \
			--peer "$SENTINEL"
	done
done

# The dispatcher.
refused "vsockbox nosuch" vsockbox "nosuch" nosuch
refused "vsockbox --nosuch" vsockbox "--nosuch" --nosuch
refused "vsockbox ''" vsockbox "''" ""
# --check-options: the applet's parser judges, nothing runs.
refused "vsockbox --check-options" vsockbox "which applet" --check-options
refused "vsockbox --check-options nosuch" vsockbox "no such applet" \
	--check-options nosuch
refused "vsockbox --check-options vsock-unidir --size 0" vsock-unidir \
	"--size 0: must be at least 1" --check-options vsock-unidir --size 0
refused "vsockbox --check-options vsock-ctl -- prog" vsock-ctl \
	"unexpected argument 'prog'" --check-options vsock-ctl -- prog
# shellcheck disable=SC2086
supervised 10 case $VSOCKBOX_WRAP "$VSOCKBOX" --check-options vsock-perf \
	--listen vsock:any:8500 --tests latency,unidir --size 1T
if [ "$STATUS" = 0 ] && [ ! -s "$TEST_TMP/case.out" ] && [ ! -s "$TEST_TMP/case.err" ]; then
	pass "vsockbox --check-options: good options, exit 0 and silence"
else
	fail "vsockbox --check-options: good options, exit 0 and silence" "exit $STATUS" \
		"$(head -c 300 "$TEST_TMP/case.err")"
fi
# shellcheck disable=SC2086
supervised 10 case $VSOCKBOX_WRAP "$VSOCKBOX"
if [ "$STATUS" = 2 ] && [ ! -s "$TEST_TMP/case.out" ] &&
	grep -q '^usage: vsockbox' "$TEST_TMP/case.err"; then
	pass "vsockbox without arguments: usage on stderr, exit 2"
else
	fail "vsockbox without arguments: usage on stderr, exit 2" "exit $STATUS"
fi

# vsock-bench (a script) has the applets' parser judge its command line
# (vsockbox --compose) before it runs any applet: one line signed
# vsock-bench. Each case is ARGS|TEXT THE LINE MUST HOLD.
BENCH="sh $SRC_DIR/scripts/vsock-bench"
while IFS='|' read -r args text; do
	# shellcheck disable=SC2086
	refused_cmd "vsock-bench $args" vsock-bench "$text" \
		$BENCH --peer "$SENTINEL" $args
done <<EOF
--size abc|--size abc: not a number
--size -1|--size -1: must not be negative
--size=|--size : empty value
--size 1025G|--size 1025G: too large
--size 2T|--size 2T: too large
--size 1099511627777|too large
--size 16777216T|--size 16777216T: too large
--size 18446744073709551616|--size 18446744073709551616: too large
--size 99999999999999999999999999999999999999K|too large
--size 1P|--size 1P: not a number (suffixes: K, M, G, T)
--size 1KK|not a number (suffixes: K, M, G, T)
--size 1.5M|not a number (suffixes: K, M, G, T)
--count 0|--count 0: must be at least 1
--count 1K|--count 1K: not a whole number
--count 1000000001|too large
--count 18446744073709551616|--count 18446744073709551616: too large
--count 18446744073709551615|too large
--io-size 65M|--io-size 65M: too large
--io-size 67108865|too large
--io-size 0|must be at least 1
--timeout 0|--timeout 0: must be at least 1
--timeout 86401|--timeout 86401: too large
--timeout 0x10|not a whole number
--size 1M --size 2M|--size given twice
--size 1M --size=2M|--size given twice
--nosuch|unknown option --nosuch
--chain|unknown option --chain
--magic 123|unknown option --magic
--size|--size: missing value
extra|unexpected argument 'extra'
@pipeline|unexpected argument '@pipeline'
EOF
while IFS='|' read -r args text; do
	# shellcheck disable=SC2086
	refused_cmd "vsock-bench $args" vsock-bench "$text" $BENCH $args
done <<EOF
--peer vsock:x:1|--peer vsock:x:1: bad CID
--peer vsock:4294967295|bad CID
--peer vsock:|missing CID
--peer vsock:2:4294967295|bad port (0 to 4294967294)
--peer 2:x|bad port
--peer tcp:[::1|missing ']'
--peer tcp:[::1]x|expected ':PORT' after ']'
--peer tcp:[::g]:1|not a numeric IPv6 address
--peer tcp:[1::2::3]|not a numeric IPv6 address
--peer tcp:[::1.2.3.04]|not a numeric IPv6 address
--peer tcp:127.0.0.1:70000|--peer tcp:127.0.0.1:70000: bad port (0 to 65535)
--peer=tcp:127.0.0.1:70000|bad port (0 to 65535)
--peer tcp:01.2.3.4|not a numeric IP address
--peer tcp:1;2|not a numeric IP address
--peer tcp:|missing host
--peer udp:127.0.0.1|expected vsock:CID[:PORT], tcp:HOST[:PORT], unix:PATH[:PORT] or a CID
--peer=|--peer : empty address
--peer|--peer: missing value
EOF
# shellcheck disable=SC2086
refused_cmd "vsock-bench VSOCKBOX_PEER=tcp:1;2" vsock-bench \
	"VSOCKBOX_PEER=tcp:1;2: not a numeric IP address" \
	env VSOCKBOX_PEER="tcp:1;2" $BENCH --peer "$SENTINEL"

# A stand-in for vsockbox runs vsock-bench's pipeline without a socket
# (the real one judges the options):
# its vsock-ctl runs the program at once, its stages pass the chain's
# "done" on, but stage $FAKE_STAGE, which kills itself with $FAKE_SIGNAL
# (or exits $FAKE_EXIT) once its turn comes.
FAKE=$TEST_TMP/fakebox
cat >"$FAKE" <<'EOF'
#!/bin/sh
applet=$1
shift
case $applet in
--compose|--list-perf-tests) exec "$FAKE_REAL" "$applet" "$@" ;;
vsock-ctl)
	while [ "$1" != -- ]; do shift; done
	shift
	VSOCK_CTL_FD=3 exec "$@" 3</dev/null ;;
vsock-echo) ;;
*) read -r line && [ "$line" = done ] || exit 1 ;;
esac
if [ "$applet" = "${FAKE_STAGE:-}" ]; then
	[ -z "${FAKE_SIGNAL:-}" ] || kill -s "$FAKE_SIGNAL" $$
	exit "${FAKE_EXIT:-0}"
fi
echo done
EOF
chmod +x "$FAKE"
BENCH_TMP=$TEST_TMP/bench-tmp
mkdir "$BENCH_TMP"

# bench_ends NAME STATUS LINE [VAR=VALUE...]: vsock-bench with the
# stand-in (and the environment given) ends with STATUS and LINE on
# stderr (or nothing), nothing on stdout, no process and no temporary
# file left behind.
bench_ends() {
	_be_name=$1 _be_status=$2 _be_line=$3
	shift 3
	supervised 20 case env TMPDIR="$BENCH_TMP" VSOCKBOX="$FAKE" \
		FAKE_REAL="$VSOCKBOX" "$@" \
		sh "$SRC_DIR/scripts/vsock-bench" --peer "$SENTINEL"
	_problems=""
	[ "$STATUS" = "$_be_status" ] || _problems="$_problems exit $STATUS;"
	[ "$(cat "$TEST_TMP/case.err")" = "$_be_line" ] ||
		_problems="$_problems stderr;"
	[ ! -s "$TEST_TMP/case.out" ] || _problems="$_problems output on stdout;"
	[ "$LEFTOVER" = 0 ] || _problems="$_problems left processes: $LEFTOVER;"
	[ -z "$(ls -A "$BENCH_TMP")" ] || _problems="$_problems left files;"
	if [ -z "$_problems" ]; then
		pass "$_be_name"
	else
		fail "$_be_name:$_problems" "want exit $_be_status, stderr: $_be_line" \
			"stderr: $(head -c 400 "$TEST_TMP/case.err")"
	fi
}
bench_ends "vsock-bench: the pipeline passes" 0 ""
bench_ends "vsock-bench: a stage killed by SIGKILL is an environment failure" 3 \
	"vsock-bench: vsock-multi killed by signal 9 (SIGKILL)" \
	FAKE_STAGE=vsock-multi FAKE_SIGNAL=KILL
bench_ends "vsock-bench: the first stage killed, the others' chain broken" 3 \
	"vsock-bench: vsock-echo killed by signal 1 (SIGHUP)" \
	FAKE_STAGE=vsock-echo FAKE_SIGNAL=HUP
bench_ends "vsock-bench: the first failure's status is the result" 1 "" \
	FAKE_STAGE=vsock-bidir FAKE_EXIT=1
bench_ends "vsock-bench: a status outside 0 to 3 is an environment failure" 3 \
	"vsock-bench: vsock-unidir ended with status 42" \
	FAKE_STAGE=vsock-unidir FAKE_EXIT=42
bench_ends "vsock-bench: VSOCKBOX missing" 3 \
	"vsock-bench: $TEST_TMP/nosuch: not found" VSOCKBOX="$TEST_TMP/nosuch"

# Values at their limits pass vsock-bench's checks (on to the stand-in's
# pipeline here).
for args in "--peer vsock:4294967294:4294967294 --size 1T --count 1000000000 --io-size 64M --timeout 86400" \
	"--peer vsock:any --size 0001t --io-size 64m" "--peer vsock:local" \
	"--peer tcp:255.255.255.255:65535" "--peer tcp:[1:2:3:4:5:6:1.2.3.4]:0" \
	"--peer=tcp:[::]" "--peer 0002:0008500 --count 01"; do
	# shellcheck disable=SC2086
	supervised 20 case env TMPDIR="$BENCH_TMP" VSOCKBOX="$FAKE" \
		FAKE_REAL="$VSOCKBOX" sh "$SRC_DIR/scripts/vsock-bench" $args
	expect_status "vsock-bench $args passes its checks" 0 "$STATUS" \
		"$(cat "$TEST_TMP/case.err")"
done

# vsock-bench and vsock-bidir judge a command line alike: the same status
# and, but for the name, the same line (vsock-bidir through
# --check-options, vsock-bench on to the stand-in: nothing connects).
while IFS='|' read -r args; do
	# shellcheck disable=SC2086
	supervised 10 case $VSOCKBOX_WRAP "$VSOCKBOX" --check-options vsock-bidir \
		--peer "$SENTINEL" $args
	bidir_status=$STATUS bidir_line=$(sed 's/^vsock-bidir: //' "$TEST_TMP/case.err")
	# shellcheck disable=SC2086
	supervised 20 case env TMPDIR="$BENCH_TMP" VSOCKBOX="$FAKE" \
		FAKE_REAL="$VSOCKBOX" sh "$SRC_DIR/scripts/vsock-bench" \
		--peer "$SENTINEL" $args
	bench_line=$(sed 's/^vsock-bench: //' "$TEST_TMP/case.err")
	if [ "$STATUS" = "$bidir_status" ] && [ "$bench_line" = "$bidir_line" ]; then
		pass "vsock-bench and vsock-bidir alike: $args"
	else
		fail "vsock-bench and vsock-bidir alike: $args" \
			"vsock-bidir: exit $bidir_status: $bidir_line" \
			"vsock-bench: exit $STATUS: $bench_line"
	fi
done <<EOF
--tim 5
--t 5
--si 1M --coun 3
--siz=1T
--io 4K
--zero
--b 4K
--pe=tcp:127.0.0.1:1
--timeout
--count=0
--count 1e3
--size 1X
--buffer-size=
--zerocopy=1
--size 1M --size 2M
--size 1M --si=2M
--nosuch
--peer vsock:
-x
extra
EOF

# expect_help NAME CMD...: CMD (NAME's --help) prints NAME's usage on
# stdout, nothing on stderr, and exits 0.
expect_help() {
	eh_name=$1
	shift
	supervised 10 case "$@"
	if [ "$STATUS" = 0 ] && grep -q "^usage: $eh_name" "$TEST_TMP/case.out" &&
		[ ! -s "$TEST_TMP/case.err" ]; then
		pass "$eh_name --help"
	else
		fail "$eh_name --help" "exit $STATUS" "$(head -c 300 "$TEST_TMP/case.err")"
	fi
}

# Every applet's --help, and no socket either.
for applet in $("$VSOCKBOX" --list); do
	# shellcheck disable=SC2086
	expect_help "$applet" $VSOCKBOX_WRAP "$VSOCKBOX" "$applet" --help
done

[ -z "${CMDLINE_QUICK:-}" ] ||
	echo "cmdline: CMDLINE_QUICK=$CMDLINE_QUICK: $RUN_CASES of $CASES refusals run"

expect_help vsock-bench sh "$SRC_DIR/scripts/vsock-bench" --help

# The sentinel, peer of every case: not one connection.
stop_peer
if grep -q 'connection from' "$TEST_TMP/sentinel.err"; then
	fail "no case connected to the sentinel" "$(grep 'connection from' "$TEST_TMP/sentinel.err" | head -n 3)"
else
	pass "no case connected to the sentinel"
fi
finish
