#!/bin/sh
# SPDX-License-Identifier: MIT
# The QEMU guest's half of the real-kernel tests (tests/vm/run.sh boots a
# kernel with this as /bin/vm-tests and runs it from /init). Every test talks
# over AF_VSOCK loopback (CID 1, vsock_loopback.ko) and prints one line:
#   VMTEST NAME PASS|FAIL DETAIL (SECONDS) [KERNEL-RELEASE MACHINE]
# and the run ends with "VMTEST-DONE passed=N failed=N"; exit 1 on any
# failure. Settings come from kernel command-line words name=value:
#   vm_size=4M vm_count=10 vm_latency_count=1000   micro benchmark sizes
#   vm_timeout=20     the applets' --timeout (every blocking wait)
#   vm_conform_timeout=10  vsock-conform's --timeout (each case's deadline)
#   vm_bound=90       seconds after which any one process is killed
#   vm_tests=LIST     comma list of tests to run (default: all): busybox,
#                     modules, itest, bench-table, bench-json, zerocopy,
#                     listen-in-use, bind-in-use, refused, host-killed,
#                     guest-killed, conform, verify, verify-zerocopy, soak,
#                     lifecycle; and
#                     vsock-test (only when named: the kernel's vsock_test,
#                     see below)
#   vm_vt_bound=20    seconds after which a vsock_test side is killed
#   vm_lc_timeout=10  vsock-lifecycle's --timeout (lifecycle)
#   vm_lc_wait=60     how long the lifecycle test waits for the runner's
#                     answer on the console
set -u

size=${vm_size:-4M}
count=${vm_count:-10}
latency_count=${vm_latency_count:-1000}
tmo=${vm_timeout:-20}
conform_tmo=${vm_conform_timeout:-10}
bound=${vm_bound:-90}
only=${vm_tests:-}
work=/tmp/vmtest
# shellcheck source=tests/vm/guest-lib.sh
. /bin/vm-lib.sh

wanted() {
	[ -z "$only" ] && return 0
	case ",$only," in *",$1,"*) return 0 ;; esac
	return 1
}

# The static busybox that /init runs on: its applets are there and work.
test_busybox() {
	t0=$(now)
	why=""
	for a in sh insmod mount poweroff timeout mkfifo; do
		command -v "$a" >/dev/null 2>&1 || why="$why no $a;"
	done
	for fs in proc sysfs devtmpfs tmpfs; do
		grep -q "^[^ ]* [^ ]* $fs " /proc/mounts || why="$why $fs not mounted;"
	done
	version=$(busybox 2>&1 | sed -n '1s/^\(BusyBox v[^ ]*\).*/\1/p')
	[ -n "$version" ] || why="$why busybox gives no version;"
	if [ -z "$why" ]; then
		result busybox PASS "$version: sh insmod mount poweroff; proc, sysfs, devtmpfs, tmpfs mounted"
	else
		why=${why%;}
		result busybox FAIL "${why# }"
	fi
}

test_modules() {
	t0=$(now)
	missing=""
	for m in vsock vmw_vsock_virtio_transport_common vsock_loopback; do
		[ -d "/sys/module/$m" ] || missing="$missing $m"
	done
	if [ -n "$missing" ]; then
		result modules FAIL "not loaded:$missing"
	elif [ ! -c /dev/vsock ]; then
		result modules FAIL "no /dev/vsock"
	else
		result modules PASS "vsock, vmw_vsock_virtio_transport_common, vsock_loopback loaded"
	fi
}

# doc/PROTOCOL.md's integration test, both sides in this guest.
itest_guest() {
	run_client itest vsock-itest --peer vsock:1 --timeout "$tmo"
	guest_rc=$rc guest_out=$work/itest.out guest_err=$work/itest.err
}

# The micro benchmark at reduced sizes; $1 = table or json.
test_bench() {
	t0=$(now)
	json=""
	[ "$1" = json ] && json=--json
	if ! start_server perf vsock-perf --listen vsock:any:8500 --size "$size" \
		--count "$count" --latency-count "$latency_count" \
		--timeout "$tmo" $json; then
		wait "$server_pid"
		result "bench-$1" FAIL "vsock-perf did not listen (exit $?)"
		show perf "$work/perf.err"
		return
	fi
	run_client bench vsock-bench --peer vsock:1 --size "$size" \
		--count "$count" --timeout "$tmo"
	wait "$server_pid" 2>/dev/null
	perf_rc=$?
	if [ "$1" = json ]; then
		# doc/PROTOCOL.md: data_corruption is true when the check passed.
		check='"data_corruption": true'
		shape=$(sed -n '1{/^{.*}$/p;}' "$work/perf.out")
		[ "$(wc -l <"$work/perf.out")" -eq 1 ] && [ -n "$shape" ] ||
			check="(one JSON object)"
	else
		check='data corruption check: PASSED'
	fi
	sed 's/^/  /' "$work/perf.out"
	detail="size $size count $count latency-count $latency_count"
	if [ "$rc" -eq 0 ] && [ "$perf_rc" -eq 0 ] &&
		grep -qF "$check" "$work/perf.out"; then
		result "bench-$1" PASS "$detail"
	else
		result "bench-$1" FAIL "vsock-bench exit $rc, vsock-perf exit $perf_rc, want '$check' ($detail)"
		show bench "$work/bench.out"
		show bench "$work/bench.err"
		show perf "$work/perf.err"
	fi
}

# vsock-perf and vsock-unidir with --zerocopy over vsock, the sends cut to
# a quarter of the default socket buffer: from 6.7 on MSG_ZEROCOPY runs
# ("zerocopy": true in the JSON, no warning); before, each side warns once
# and sends plainly ("zerocopy": false). The run passes either way.
test_zerocopy() {
	t0=$(now)
	start_zerocopy_perf || return
	run_client zc vsock-unidir --peer vsock:1 --size "$size" --count "$count" \
		--timeout "$tmo" --zerocopy
	wait "$server_pid" 2>/dev/null
	perf_rc=$?
	zerocopy_result zerocopy "$rc" "$perf_rc" "$work/perf.out" \
		"$work/perf.err" "$work/zc.err" "size $size count $count"
}

# The micro benchmark with --verify on both sides: every byte of every
# stream checked both ways, and every timed echo; $1 = "zc" adds
# --zerocopy (the pattern is never rewritten while the kernel holds it).
# The data is the point here, not the echo's 100 ms: a loaded machine's
# TCG (arm64 most) misses it now and then, so the bound is 1 s.
test_verify() {
	t0=$(now)
	vname=verify zc=""
	[ "$1" = zc ] && vname=verify-zerocopy zc=--zerocopy
	# shellcheck disable=SC2086
	if ! start_server perf vsock-perf --listen vsock:any:8500 --size "$size" \
		--count "$count" --latency-count "$latency_count" \
		--timeout "$tmo" --echo-timeout 1000 --json --verify $zc; then
		wait "$server_pid"
		result "$vname" FAIL "vsock-perf did not listen (exit $?)"
		show perf "$work/perf.err"
		return
	fi
	# shellcheck disable=SC2086
	run_client bench vsock-bench --peer vsock:1 --size "$size" \
		--count "$count" --timeout "$tmo" --verify $zc
	wait "$server_pid" 2>/dev/null
	verify_result "$vname" "$rc" "$?" "$work/perf.out" "$work/perf.err" \
		"$work/bench.err" "$1" "size $size count $count latency-count $latency_count"
}

# A soak over vsock loopback (issue 27): vsock-perf --duration 5
# --interval 1 --verify against vsock-bench --soak --verify: both exit 0,
# and each throughput test has 5 or more interval lines.
test_soak() {
	t0=$(now)
	if ! start_server perf vsock-perf --listen vsock:any:8500 --size "$size" \
		--latency-count "$latency_count" --timeout "$tmo" \
		--echo-timeout 1000 --duration 5 --interval 1 --verify; then
		wait "$server_pid"
		result soak FAIL "vsock-perf did not listen (exit $?)"
		show perf "$work/perf.err"
		return
	fi
	run_client bench vsock-bench --peer vsock:1 --size "$size" \
		--timeout "$tmo" --soak --verify
	wait "$server_pid" 2>/dev/null
	perf_rc=$?
	b=$(grep -c '^interval bidir ' "$work/perf.out")
	u=$(grep -c '^interval unidir ' "$work/perf.out")
	m=$(grep -c '^interval multi ' "$work/perf.out")
	if [ "$rc" -eq 0 ] && [ "$perf_rc" -eq 0 ] && [ "$b" -ge 5 ] &&
		[ "$u" -ge 5 ] && [ "$m" -ge 5 ]; then
		result soak PASS "--duration 5: interval lines bidir $b, unidir $u, multi $m; verified"
	else
		result soak FAIL "vsock-bench exit $rc, vsock-perf exit $perf_rc; interval lines bidir $b, unidir $u, multi $m, want 5 or more each"
		show perf "$work/perf.err"
		show bench "$work/bench.err"
	fi
}

# A second server on a port a server holds: exit 3, one line, "in use".
test_listen_in_use() {
	t0=$(now)
	if ! start_server perf vsock-perf --listen vsock:any:8500 --timeout "$tmo"; then
		wait "$server_pid"
		result listen-in-use FAIL "first vsock-perf did not listen (exit $?)"
		show perf "$work/perf.err"
		return
	fi
	run_client perf2 vsock-perf --listen vsock:any:8500 --timeout "$tmo"
	stop_server
	if [ "$rc" -eq 3 ] && one_line_error "$work/perf2.err" vsock-perf \
		"bind vsock:any:8500: Address already in use$"; then
		result listen-in-use PASS "exit 3: $(cat "$work/perf2.err")"
	else
		result listen-in-use FAIL "second vsock-perf on 8500: exit $rc, want 3 and one 'in use' line"
		show perf2 "$work/perf2.err"
	fi
}

# A guest applet whose fixed local port (8502) is taken: it tries again
# until its deadline, then exit 3, one line.
test_bind_in_use() {
	t0=$(now)
	if ! start_server holder vsock-itest-host --listen vsock:any:8502 \
		--timeout "$tmo"; then
		wait "$server_pid"
		result bind-in-use FAIL "vsock-itest-host did not listen on 8502 (exit $?)"
		show holder "$work/holder.err"
		return
	fi
	# Shorter than the holder's: the port must still be held at the end.
	run_client echo vsock-echo --peer vsock:1:8500 --timeout 2
	stop_server
	if [ "$rc" -eq 3 ] && one_line_error "$work/echo.err" vsock-echo \
		"bind .* from port 8502: port 8502 still in use after 2.0 s of tries (another socket holds it: .*)$"; then
		result bind-in-use PASS "exit 3: $(cat "$work/echo.err")"
	else
		result bind-in-use FAIL "vsock-echo from taken port 8502: exit $rc, want 3 and one 'in use' line"
		show echo "$work/echo.err"
	fi
}

# Connecting to a port nobody listens on: exit 3, one line. Over vsock the
# kernel answers with a reset (ECONNRESET), over TCP with ECONNREFUSED.
test_refused() {
	t0=$(now)
	run_client ctl vsock-ctl --peer vsock:1:8999 --timeout "$tmo"
	refused_result refused "$rc" "$work/ctl.err" vsock:1:8999
}

# Start vsock-perf for the benchmark with a latency test that would last for
# many minutes (5000000 round trips: the host keeps 8 bytes a sample), note
# its listener, and start vsock-bench: sets server_pid and bench_pid.
start_long_bench() { # test name
	if ! start_server perf vsock-perf --listen vsock:any:8500 --size "$size" \
		--count "$count" --latency-count 5000000 --timeout "$tmo"; then
		wait "$server_pid"
		result "$1" FAIL "vsock-perf did not listen (exit $?)"
		show perf "$work/perf.err"
		return 1
	fi
	note_listener
	timeout "$bound" vsock-bench --peer vsock:1 --size "$size" \
		--count "$count" --timeout "$tmo" \
		>"$work/bench.out" 2>"$work/bench.err" &
	bench_pid=$!
	wait_all_accepted
	if [ -z "$listener" ] || [ -z "$started" ]; then
		kill -KILL "$server_pid" 2>/dev/null
		kill_guest_side
		wait "$server_pid" "$bench_pid"
		note=""
		[ -n "$listener" ] || note=" (no listening socket found)"
		result "$1" FAIL "vsock-perf never accepted all nine connections$note"
		show perf "$work/perf.err"
		show bench "$work/bench.err"
		return 1
	fi
}

# Kill every guest-side process of vsock-bench at once: all run as
# "vsockbox APPLET" (vsock-bench calls the binary by name), the server as
# vsock-perf; leave the server alone.
kill_guest_side() {
	pids=""
	for p in $(pidof vsockbox); do
		[ "$p" = "$server_pid" ] || pids="$pids $p"
	done
	# shellcheck disable=SC2086
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
}

# The host side dies (SIGKILL) as the latency test starts: the guest side
# must fail (exit 1 or 3) on its own, well within its timeout.
test_host_killed() {
	t0=$(now)
	start_long_bench host-killed || return
	kill -KILL "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	t1=$(now)
	wait "$bench_pid"
	rc=$?
	survivor_result host-killed "$rc" "$(seconds $(($(now) - t1)))" \
		vsock-bench "the host" "$work/bench.err"
}

# The guest side dies (SIGKILL to all its processes) as the latency test
# starts: the host side must fail (exit 1 or 3) on its own.
test_guest_killed() {
	t0=$(now)
	start_long_bench guest-killed || return
	kill_guest_side
	wait "$bench_pid"
	t1=$(now)
	wait "$server_pid" 2>/dev/null
	rc=$?
	survivor_result guest-killed "$rc" "$(seconds $(($(now) - t1)))" \
		vsock-perf "the guest" "$work/perf.err"
}

# vsock-conform's whole table over loopback: its listening side, then its
# connecting side, which prints KTAP (on the console as "KTAP loopback| "
# lines). PASS when the table ran to its end (guest-lib.sh:
# conform_result); the host compares every case's verdict with
# tests/vm/conform-expect for this kernel.
test_conform() {
	t0=$(now)
	if ! start_server conform-listen vsock-conform --listen vsock:any \
		--timeout "$conform_tmo"; then
		wait "$server_pid"
		result conform FAIL "vsock-conform --listen did not listen (exit $?)"
		show listen "$work/conform-listen.err"
		return
	fi
	run_client conform vsock-conform --peer vsock:1 --timeout "$conform_tmo"
	wait "$server_pid"
	listen_rc=$?
	conform_result conform loopback "$rc" "$work/conform.out" \
		"$(seconds $(($(now) - t0)))" \
		"the listening side exit $listen_rc"
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || show peer "$work/conform.err"
}

# ---- vsock-lifecycle's pause, the VMM's (issue 27) ----
# Both roles here over loopback, --events pause: once both say "armed",
# "LIFECYCLE-ARMED" asks the runner (tests/vm/run.sh) to stop the whole VM
# over QMP and continue it; its answer comes on the console, one line:
#   over STOPPED-MS WALL-MS STATUS ACCEL  QMP stop, STOPPED-MS ms, cont,
#                                   WALL-MS ms from our line to this one,
#                                   STATUS what query-status said while
#                                   stopped, ACCEL QEMU's (tcg, kvm)
#   skip REASON | fail REASON       no pause was made
# Then a line on each half's stdin ends the event. Results:
# lifecycle-loopback-pause (the event, and the guest's clock across it:
# under TCG the guest's clock is QEMU's virtual one, stopped with the VM,
# so it moves less than the runner's by about STOPPED-MS; under KVM it is
# reported, not judged), and
# lifecycle-loopback-guest and -host (each half's whole KTAP plan, on the
# console as "KTAP lifecycle-loopback-ROLE| " lines, judged by the runner
# against tests/vm/lifecycle-expect-loopback).
lc_tmo=${vm_lc_timeout:-10}
lc_wait=${vm_lc_wait:-60}

# lc_start NAME ROLE ADDRESS: one half in the background, its stdin a FIFO
# it holds open; sets lc_pid.
lc_start() {
	rm -f "$work/$1.in"
	mkfifo "$work/$1.in"
	timeout "$bound" vsock-lifecycle --role "$2" "$3" --events pause \
		--timeout "$lc_tmo" --wait "$lc_wait" \
		<>"$work/$1.in" >"$work/$1.out" 2>"$work/$1.err" &
	lc_pid=$!
}

# lc_event: the runner's pause, once both halves are armed; sets lc_why
# (empty when the pause was made and the guest's clock did not see it),
# lc_detail.
lc_event() {
	lc_detail="" lc_why=""
	if ! wait_line "$work/lc-host.err" ': listening on ' "$lc_wait" "$lc_host" ||
		! { lc_start lc-guest guest --peer=vsock:1 && lc_guest=$lc_pid; } ||
		! wait_line "$work/lc-guest.err" 'armed for pause:' "$lc_wait" "$lc_guest" ||
		! wait_line "$work/lc-host.err" 'armed for pause:' "$lc_wait" "$lc_host"; then
		lc_why="the halves were not armed within ${lc_wait}s"
		return
	fi
	stty -echo 2>/dev/null
	a0=$(now)
	echo "LIFECYCLE-ARMED uptime $(seconds "$a0")"
	# shellcheck disable=SC2016 # the inner shell expands it
	answer=$(timeout "$lc_wait" sh -c 'read -r line && echo "$line"')
	g=$((($(now) - a0) * 10))
	# shellcheck disable=SC2086 # its words
	set -- $answer
	case ${1:-} in
	over) ;;
	skip) lc_why="SKIP: ${answer#skip }" && return ;;
	*) lc_why="the runner answered '${answer:-nothing in ${lc_wait}s}'" && return ;;
	esac
	lc_detail="QMP stop, $(seconds $(($2 / 10)))s ($4, ${5:-?}), cont: the guest's clock moved $(seconds $((g / 10)))s across the runner's $(seconds $(($3 / 10)))s"
	[ "$4" = paused ] || lc_why="query-status said $4 while stopped, want paused"
	# Its clock saw the pause if it moved more than half of it beyond
	# what the runner saw running.
	[ "${5:-}" != tcg ] || [ $((2 * g)) -lt $((2 * $3 - $2)) ] ||
		lc_why="the guest's clock saw the pause"
}

test_lifecycle() {
	t0=$(now)
	if [ ! -d /sys/module/vsock_loopback ]; then
		result lifecycle-loopback-pause PASS "SKIP: no vsock_loopback module"
		return
	fi
	lc_guest=""
	lc_start lc-host host --listen=vsock:any
	lc_host=$lc_pid
	lc_event
	# The event is over (or never came): both halves end it and judge.
	echo over >"$work/lc-host.in"
	echo over >"$work/lc-guest.in"
	case $lc_why in
	"") result lifecycle-loopback-pause PASS "$lc_detail" ;;
	SKIP:*) result lifecycle-loopback-pause PASS "$lc_why" ;;
	*) result lifecycle-loopback-pause FAIL "$lc_why${lc_detail:+; $lc_detail}" ;;
	esac
	for half in guest host; do
		pid=$lc_guest
		[ "$half" = host ] && pid=$lc_host
		rc=none
		[ -z "$pid" ] || { wait "$pid"; rc=$?; }
		conform_result "lifecycle-loopback-$half" "lifecycle-loopback-$half" \
			"$rc" "$work/lc-$half.out" "$(seconds $(($(now) - t0)))"
		[ "$rc" = 0 ] || [ "$rc" = 1 ] || show "$half" "$work/lc-$half.err"
	done
}

# ---- the kernel's own vsock_test, for make conform-compare ----
# Each /bin/vsock_test-SOURCE (tools/testing/vsock of Debian's linux-source
# SOURCE, built by run.sh) over loopback, its TCP control channel on this
# guest's 127.0.0.1. vsock_test stops at its first failing case and can
# wait for ever in one, so every case runs alone (--pick, or --skip of all
# the others where the source has no --pick), each side killed after
# $vt_bound seconds, on ports of its own. One line a case:
#   VSOCKTEST SOURCE ID ok|fail|skip|hang NAME | DETAIL
# (skip: it said "Test skipped"; hang: killed at the bound). The test
# passes when every case listed gave one such line; the host compares.
vt_bound=${vm_vt_bound:-20}

# Until a TCP socket listens on PORT (either family), at most 5 s.
wait_tcp_listen() { # port
	hex=$(printf ':%04X ' "$1")
	tries=0
	while [ "$tries" -lt 100 ]; do
		cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
			awk -v p="$hex" 'index($2 " ", p) && $4 == "0A" { f = 1 } END { exit !f }' &&
			return 0
		tries=$((tries + 1))
		sleep 0.05
	done
	return 1
}

vsock_test_case() { # binary source id name
	if [ -n "$vt_pick" ]; then
		sel="--pick=$3"
	else
		sel=""
		for other in $vt_ids; do
			[ "$other" = "$3" ] || sel="$sel --skip=$other"
		done
	fi
	cport=$((15000 + $3)) vport=$((16000 + 2 * $3))
	set -- "$1" "$2" "$3" "$4" --peer-cid=1 --control-port="$cport" --peer-port="$vport"
	# shellcheck disable=SC2086
	timeout "$vt_bound" "$1" --mode=server "$5" "$6" "$7" $sel \
		>"$work/vt-server.out" 2>"$work/vt-server.err" &
	vt_server=$!
	wait_tcp_listen "$cport"
	# shellcheck disable=SC2086
	timeout "$vt_bound" "$1" --mode=client --control-host=127.0.0.1 "$5" "$6" "$7" $sel \
		>"$work/vt-client.out" 2>"$work/vt-client.err"
	crc=$?
	wait "$vt_server"
	src=$?
	detail=$(cat "$work/vt-client.err" "$work/vt-server.err" | grep -v '^Control socket' |
		tail -n 2 | tr '\n' ' ')
	if [ "$crc" -ge 124 ] || [ "$src" -ge 124 ]; then
		verdict=hang detail="killed after ${vt_bound}s (exit $crc/$src) $detail"
	elif [ "$crc" -ne 0 ] || [ "$src" -ne 0 ]; then
		verdict=fail
	elif grep -q 'Test skipped' "$work/vt-client.err" "$work/vt-server.err"; then
		verdict=skip
	elif grep -q "^$3 - .*\.\.\.ok" "$work/vt-client.out"; then
		verdict=ok
	else
		verdict=fail detail="no 'ok' for case $3: $detail"
	fi
	echo "VSOCKTEST $2 $3 $verdict $4 | $detail"
}

test_vsock_test() {
	t0=$(now)
	ran=0 missing=""
	for vt in /bin/vsock_test-*; do
		[ -x "$vt" ] || continue
		source=${vt#/bin/vsock_test-}
		"$vt" --list >"$work/vt.list" 2>&1
		vt_ids=$(sed -n 's/^\([0-9][0-9]*\)\t.*/\1/p' "$work/vt.list")
		[ -n "$vt_ids" ] || missing="$missing $source(no --list)"
		vt_pick=""
		"$vt" --help 2>&1 | grep -q -- '--pick' && vt_pick=1
		for id in $vt_ids; do
			name=$(sed -n "s/^$id\t//p" "$work/vt.list")
			vsock_test_case "$vt" "$source" "$id" "$name"
			ran=$((ran + 1))
		done
	done
	if [ "$ran" -gt 0 ] && [ -z "$missing" ]; then
		result vsock-test PASS "$ran cases of vsock_test, one run each"
	else
		result vsock-test FAIL "$ran cases run;${missing:- no /bin/vsock_test-*}"
	fi
}

read -r up _ </proc/uptime
echo "VMTEST-START uptime ${up}s, $(uname -r), size $size count $count latency-count $latency_count timeout $tmo"
wanted busybox && test_busybox
wanted modules && test_modules
wanted itest && run_itest itest_guest ""
wanted bench-table && test_bench table
wanted bench-json && test_bench json
wanted zerocopy && test_zerocopy
wanted verify && test_verify plain
wanted verify-zerocopy && test_verify zc
wanted soak && test_soak
wanted listen-in-use && test_listen_in_use
wanted bind-in-use && test_bind_in_use
wanted refused && test_refused
wanted host-killed && test_host_killed
wanted guest-killed && test_guest_killed
wanted conform && test_conform
wanted lifecycle && test_lifecycle
case ",$only," in *,vsock-test,*) test_vsock_test ;; esac
read -r up _ </proc/uptime
echo "VMTEST-DONE passed=$passed failed=$failed uptime=${up}s"
[ "$failed" -eq 0 ]
