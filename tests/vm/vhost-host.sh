#!/bin/sh
# SPDX-License-Identifier: MIT
# The outer guest's half of make check-vhost (tests/vm/vhost.sh): runs as
# /bin/vm-tests in L1, a TCG guest whose kernel has vhost_vsock. It plays
# the host (CID 2): boots the inner guest L2 under its own QEMU with
# -device vhost-vsock-pci,guest-cid=3, so that L2 -> L1 is the real path
# (virtio-vsock driver, virtqueues, vhost_vsock, AF_VSOCK here), and drives
# it step by step: for each step it starts the host side, then tells L2
# (tests/vm/vhost-guest.sh) on L2's console what to run, and judges both.
# L2's console is copied to this one, each line prefixed "L2| ".
#
# Results, one line each: VMTEST NAME PASS|FAIL DETAIL (SECONDS) [KERNEL]
#   vhost-modules  vhost_vsock loaded here, /dev/vhost-vsock
#   l2-boot        L2 booted and its driver bound the device
#   host-refused   L1 connects to a guest port nobody listens on
#   itest          vsock-itest in L2 against vsock-itest-host here, and
#                  itest-CHECK for each of the host side's four checks
#   guest-refused  L2 connects to a host port nobody listens on
#   peer-cid       the host's messages name the guest as vsock:3:PORT
#   bench          the whole vsock-bench in L2 against vsock-perf here
#   zerocopy       vsock-unidir --zerocopy in L2 against vsock-perf
#                  --zerocopy here: MSG_ZEROCOPY both ways from 6.7 on,
#                  one warning a side and plain sends before
#   conform-l2-peer, conform-l1-peer  vsock-conform's whole table, L2
#                  connecting to this side, then this side to L2
#   verify         vsock-bench --verify in L2 against vsock-perf --verify
#                  here: every byte both ways through the device checked
#   verify-zerocopy  the same with --zerocopy on both sides
#   lifecycle-*    with vh_lifecycle=EVENTS (tests/vm/vhost.sh --lifecycle):
#                  L2's events, on the L2 the tests above leave idle
#                  (tests/vm/lifecycle-host.sh)
#   l2-killed      L2's QEMU killed mid-benchmark: vsock-perf ends in time
#                  with one line
# then "VMTEST-DONE passed=N failed=N". Settings (kernel command line,
# passed on to L2): vh_size=1M vh_count=2 vh_latency_count=100 (benchmark
# sizes), vh_echo_ms=1000 (vsock-perf's per-echo bound: double emulation
# gives 24-190 ms round trips, the protocol's 100 ms cannot hold),
# vh_timeout=60 (the applets' --timeout), vh_conform_timeout=30
# (vsock-conform's deadline of each case), vh_bound=300 (per process),
# vh_l2_wait=600 (for L2 to be ready), vh_l2_smp=1, vh_l2_mem=256.
# L2 lives at most vh_l2_wait + 4 * vh_bound seconds, 4 * vh_bound more
# with vh_lifecycle (its events follow the tests in the same boot).
set -u

size=${vh_size:-1M}
count=${vh_count:-2}
latency_count=${vh_latency_count:-100}
echo_ms=${vh_echo_ms:-1000}
tmo=${vh_timeout:-60}
conform_tmo=${vh_conform_timeout:-30}
bound=${vh_bound:-300}
l2_wait=${vh_l2_wait:-600}
l2_smp=${vh_l2_smp:-1}
l2_mem=${vh_l2_mem:-256}
work=/tmp/vhost
# shellcheck source=tests/vm/guest-lib.sh
. /bin/vm-lib.sh
l2log=$work/l2.log
l2_pid=""
# L2's CID: a restore or a migration may give it another.
l2_cid=3
l2_life=$((l2_wait + bound * 4))
[ -z "${vh_lifecycle:-}" ] || l2_life=$((l2_life + bound * 4))

# ---- L2 and its console ----
# The settings L2 needs, as this kernel got them.
l2_settings=""
for v in vh_size vh_count vh_timeout vh_conform_timeout vh_bound \
	vh_lifecycle vh_lc_timeout vh_lc_wake; do
	eval "val=\${$v:-}"
	[ -z "$val" ] || l2_settings="$l2_settings $v=$val"
done

# launch_l2 N CID [ARGS...]: L2's QEMU, instance N (a restore or a
# migration starts another with -incoming in ARGS), its device
# vhost-vsock-pci with guest-cid=CID. The console: its input a FIFO,
# $work/l2-N.in, held open on descriptor 4 from now on, its output
# appended to $l2log. Its QMP monitor on the FIFOs $work/qmp-N.in and
# .out, the replies copied to $work/qmp-N.log (tests/vm/lifecycle-host.sh
# drives it). Sets l2_pid.
l2_n=0
launch_l2() {
	n=$1 cid=$2
	shift 2
	mkfifo "$work/l2-$n.in" "$work/qmp-$n.in" "$work/qmp-$n.out"
	# Opened read-write: QEMU starts without waiting for a writer.
	timeout "$l2_life" qemu-system-x86_64 -L /usr/share/qemu \
		-accel tcg,thread=single -m "$l2_mem" -smp "$l2_smp" \
		-nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-device vhost-vsock-pci,guest-cid="$cid" \
		-chardev pipe,id=qmp,path="$work/qmp-$n" -mon chardev=qmp,mode=control \
		-kernel /l2/vmlinuz -initrd /l2/initramfs.cpio.gz \
		-append "console=ttyS0 panic=-1 quiet mitigations=off init_watchdog=$l2_life$l2_settings -- sh /bin/vm-tests" \
		"$@" <>"$work/l2-$n.in" >>"$l2log" 2>&1 &
	l2_pid=$!
	exec 4>"$work/l2-$n.in"
	cat "$work/qmp-$n.out" >"$work/qmp-$n.log" &
}

start_l2() {
	: >"$l2log"
	l2_n=$((l2_n + 1))
	launch_l2 "$l2_n" "$l2_cid"
	tail -f "$l2log" | sed 's/^/L2| /' &
}

# wait_l2 PATTERN SECONDS: until L2's console has a line matching PATTERN
# (grep -E), L2's QEMU is gone, or SECONDS pass.
wait_l2() { wait_line "$l2log" "$1" "$2" "$l2_pid"; }

# l2_run NAME: have L2 run NAME; sets l2_rc (its status, "none" if it did
# not answer within $bound seconds) and writes its stdout and stderr to
# $work/l2-NAME.out and .err. A dead L2 (its kernel has crashed after a
# migration) leaves the FIFO without a reader: the write fails, in a
# subshell, instead of SIGPIPE ending this script without its results.
l2_run() {
	(trap '' PIPE; echo "$1" >&4) 2>/dev/null
	l2_rc=none
	if wait_l2 "^L2DONE $1 rc=" "$bound"; then
		l2_rc=$(sed -n "s/^L2DONE $1 rc=\([^ ]*\).*/\1/p" "$l2log" | tr -d '\r' | tail -n 1)
	fi
	sed -n "s/^L2OUT $1: //p" "$l2log" | tr -d '\r' >"$work/l2-$1.out"
	sed -n "s/^L2ERR $1: //p" "$l2log" | tr -d '\r' >"$work/l2-$1.err"
}

# ---- the tests ----
test_vhost_modules() {
	t0=$(now)
	missing=""
	for m in vsock vmw_vsock_virtio_transport_common vhost_iotlb vhost vhost_vsock; do
		[ -d "/sys/module/$m" ] || missing="$missing $m"
	done
	if [ -n "$missing" ]; then
		result vhost-modules FAIL "not loaded:$missing"
	elif [ ! -c /dev/vhost-vsock ]; then
		result vhost-modules FAIL "no /dev/vhost-vsock"
	else
		result vhost-modules PASS "vsock, vhost, vhost_vsock loaded; /dev/vhost-vsock"
	fi
}

# Its console's reader goes, so that start_l2 can begin anew.
forget_l2() {
	exec 4>&-
	# shellcheck disable=SC2046
	kill $(pidof tail) 2>/dev/null
}

# L2 boots once more if its QEMU exits before L2 is ready: TCG inside TCG
# has crashed L2's kernel while it booted (a double fault in kthreadd,
# before init), which is the emulator's fault, not the path under test.
test_l2_boot() {
	t0=$(now)
	for attempt in 1 2; do
		start_l2
		wait_l2 '^L2-READY ' "$l2_wait" && break
		if kill -0 "$l2_pid" 2>/dev/null; then
			result l2-boot FAIL "L2 not ready after ${l2_wait}s"
			return 1
		fi
		wait "$l2_pid"
		l2_status=$?
		if [ "$attempt" -eq 2 ]; then
			result l2-boot FAIL "L2's QEMU exited $l2_status before it was ready, at both boots"
			return 1
		fi
		echo "vhost: L2's QEMU exited $l2_status before it was ready (its console above says why): booting L2 once more"
		forget_l2
	done
	line=$(grep -m 1 '^L2-READY ' "$l2log" | tr -d '\r')
	case $line in
	"L2-READY ok "*) result l2-boot PASS "${line#L2-READY ok }" ;;
	*) result l2-boot FAIL "${line#L2-READY }"; return 1 ;;
	esac
}

# A port of the guest nobody listens on: exit 3, one line naming it. The
# guest's kernel answers with a reset.
test_host_refused() {
	t0=$(now)
	run_client ctl vsock-ctl --peer vsock:3:8999 --timeout "$tmo"
	refused_result host-refused "$rc" "$work/ctl.err" vsock:3:8999
}

# The integration test's guest side in L2.
itest_l2() {
	l2_run itest
	guest_rc=$l2_rc guest_out=$work/l2-itest.out guest_err=$work/l2-itest.err
}

# A port of the host nobody listens on: the guest's vsock-ctl exits 3 with
# one line. This kernel (vhost_vsock) answers with a reset.
test_guest_refused() {
	t0=$(now)
	l2_run refused
	refused_result guest-refused "$l2_rc" "$work/l2-refused.err" vsock:2:8999 "L2 "
}

# The guest connects to the itest host from the wrong port: the host's
# message names the guest as it sees it, CID 3 (not 1, not "any").
test_peer_cid() {
	t0=$(now)
	if ! start_server cid-host vsock-itest-host --listen vsock:any:8000 \
		--guest vsock:3:8001 --timeout "$tmo"; then
		wait "$server_pid"
		result peer-cid FAIL "vsock-itest-host did not listen (exit $?)"
		show host "$work/cid-host.err"
		return
	fi
	l2_run wrong-port
	wait "$server_pid" 2>/dev/null
	host_rc=$?
	line=$(grep '^guest-initiated: ' "$work/cid-host.out")
	case $line in
	*": accept vsock:3:8501 on "*": source port 8501, expected 49152")
		result peer-cid PASS "vsock-itest-host exit $host_rc: $line" ;;
	*)
		result peer-cid FAIL "vsock-itest-host exit $host_rc, want a guest-initiated failure naming vsock:3:8501; got '$line'"
		show host "$work/cid-host.out"
		show host "$work/cid-host.err" ;;
	esac
}

# vsock-perf's per-echo bound raised for double emulation, and its window
# for the guest's connections as long as any other wait.
knobs="--echo-timeout $echo_ms --connect-timeout $tmo"

test_bench() {
	t0=$(now)
	# shellcheck disable=SC2086
	if ! start_server perf vsock-perf --listen vsock:any:8500 --size "$size" \
		--count "$count" --latency-count "$latency_count" \
		--timeout "$tmo" $knobs; then
		wait "$server_pid"
		result bench FAIL "vsock-perf did not listen (exit $?)"
		show perf "$work/perf.err"
		return
	fi
	l2_run bench
	wait "$server_pid" 2>/dev/null
	perf_rc=$?
	sed 's/^/  /' "$work/perf.out"
	detail="size $size count $count latency-count $latency_count; all nine connections, latency bound ${echo_ms} ms per echo"
	missing=""
	for row in round bidirectional unidirectional multi; do
		grep -q "^ *$row" "$work/perf.out" || missing="$missing $row"
	done
	grep -q 'data corruption check: PASSED' "$work/perf.out" ||
		missing="$missing data-corruption-PASSED"
	if [ "$l2_rc" = 0 ] && [ "$perf_rc" -eq 0 ] && [ -z "$missing" ]; then
		result bench PASS "$detail"
	else
		result bench FAIL "vsock-bench in L2 exit $l2_rc, vsock-perf exit $perf_rc, missing:${missing:- nothing} ($detail)"
		show l2 "$work/l2-bench.out"
		show l2 "$work/l2-bench.err"
		show perf "$work/perf.err"
	fi
}

test_zerocopy() {
	t0=$(now)
	start_zerocopy_perf || return
	l2_run zerocopy
	wait "$server_pid" 2>/dev/null
	perf_rc=$?
	zerocopy_result zerocopy "$l2_rc" "$perf_rc" "$work/perf.out" \
		"$work/perf.err" "$work/l2-zerocopy.err" \
		"size $size count $count through the device"
}

# vsock-conform through the device in both roles: L2 connects to the
# listening side here ("KTAP vhost-l2-peer| " lines), then this side
# connects to the listening side in L2 ("KTAP vhost-l1-peer| "). PASS when
# each ran its whole table (guest-lib.sh: conform_result); the host
# compares each verdict with tests/vm/conform-expect.
test_conform_l2_peer() {
	t0=$(now)
	if ! start_server conform-listen vsock-conform --listen vsock:any \
		--timeout "$conform_tmo"; then
		wait "$server_pid"
		result conform-l2-peer FAIL "vsock-conform --listen did not listen (exit $?)"
		show listen "$work/conform-listen.err"
		return
	fi
	l2_run conform
	wait "$server_pid"
	listen_rc=$?
	conform_result conform-l2-peer vhost-l2-peer "$l2_rc" "$work/l2-conform.out" \
		"$(seconds $(($(now) - t0)))" "L1's listening side exit $listen_rc"
	[ "$l2_rc" = 0 ] || [ "$l2_rc" = 1 ] || show l2 "$work/l2-conform.err"
}

test_conform_l1_peer() {
	t0=$(now)
	l2_run conform-listen
	if [ "$l2_rc" != 0 ]; then
		result conform-l1-peer FAIL "vsock-conform --listen in L2 did not listen (rc $l2_rc)"
		show l2 "$work/l2-conform-listen.err"
		return
	fi
	run_client conform vsock-conform --peer vsock:3 --timeout "$conform_tmo"
	l2_run conform-listen-end
	conform_result conform-l1-peer vhost-l1-peer "$rc" "$work/conform.out" \
		"$(seconds $(($(now) - t0)))" "L2's listening side exit $l2_rc"
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || show peer "$work/conform.err"
}

# The benchmark with --verify both sides of the device, every byte of
# every stream checked both ways; $1 = "zc" adds --zerocopy. The data is
# the point, not the echo's bound: five times the bench's, as TCG in TCG
# on a loaded machine missed even that now and then.
test_verify() {
	t0=$(now)
	vname=verify zc="" cmd=bench-verify
	[ "$1" = zc ] && vname=verify-zerocopy zc=--zerocopy cmd=bench-verify-zc
	# shellcheck disable=SC2086
	if ! start_server perf vsock-perf --listen vsock:any:8500 --size "$size" \
		--count "$count" --latency-count "$latency_count" \
		--timeout "$tmo" --echo-timeout $((echo_ms * 5)) \
		--connect-timeout "$tmo" --json --verify $zc; then
		wait "$server_pid"
		result "$vname" FAIL "vsock-perf did not listen (exit $?)"
		show perf "$work/perf.err"
		return
	fi
	l2_run "$cmd"
	wait "$server_pid" 2>/dev/null
	verify_result "$vname" "$l2_rc" "$?" "$work/perf.out" "$work/perf.err" \
		"$work/l2-$cmd.err" "$1" "size $size count $count through the device"
}

# L2's QEMU is killed (SIGKILL) once vsock-perf has all nine connections and
# runs a latency test of many minutes: its device goes away, and vsock-perf
# must end on its own with one line (exit 1 or 3), well within its timeout.
test_l2_killed() {
	t0=$(now)
	# shellcheck disable=SC2086
	if ! start_server perf vsock-perf --listen vsock:any:8500 --size "$size" \
		--count "$count" --latency-count 5000000 --timeout "$tmo" $knobs; then
		wait "$server_pid"
		result l2-killed FAIL "vsock-perf did not listen (exit $?)"
		show perf "$work/perf.err"
		return
	fi
	note_listener
	l2_run bench-bg
	wait_all_accepted
	if [ -z "$started" ]; then
		kill -KILL "$server_pid" "$l2_pid" 2>/dev/null
		wait "$server_pid"
		result l2-killed FAIL "vsock-perf never accepted L2's connections"
		show perf "$work/perf.err"
		return
	fi
	kill -KILL "$l2_pid"
	wait "$l2_pid" 2>/dev/null
	t1=$(now)
	wait "$server_pid" 2>/dev/null
	rc=$?
	survivor_result l2-killed "$rc" "$(seconds $(($(now) - t1)))" \
		vsock-perf L2 "$work/perf.err" "vsock:$l2_cid:85"
}

read -r up _ </proc/uptime
echo "VMTEST-START uptime ${up}s, $(uname -r), size $size count $count latency-count $latency_count echo ${echo_ms}ms timeout $tmo"
test_vhost_modules
if test_l2_boot; then
	test_host_refused
	run_itest itest_l2 " in L2 over vhost-vsock-pci"
	test_guest_refused
	test_peer_cid
	test_bench
	test_zerocopy
	test_conform_l2_peer
	test_conform_l1_peer
	test_verify plain
	test_verify zc
	if [ -n "${vh_lifecycle:-}" ]; then
		# tests/vm/vhost.sh --lifecycle: L2's events in this boot, its
		# connections closed by now (make check boots L2 once a kernel).
		# shellcheck source=tests/vm/lifecycle-host.sh
		. /bin/vm-lifecycle.sh
		run_lifecycle
	fi
	test_l2_killed
fi
[ -z "$l2_pid" ] || kill -KILL "$l2_pid" 2>/dev/null
# shellcheck disable=SC2046
kill $(pidof tail) 2>/dev/null
read -r up _ </proc/uptime
echo "VMTEST-DONE passed=$passed failed=$failed uptime=${up}s"
[ "$failed" -eq 0 ]
