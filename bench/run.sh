#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/run.sh - vsockbox's applets side by side with a C floor (ceiling.c,
# pingpong.c) and with iperf3 and sockperf, over TCP loopback, repeated;
# plus CPU, peak RSS, binary size, start-up.
#
#   bench/run.sh [--quick] [--runs N] [--out FILE] [--samples FILE] [VSOCKBOX]
#
#   --quick    small sizes and 3 pairs, under a minute, without the CPU
#              lock; writes no RESULTS.md unless --out is given (also
#              BENCH_QUICK=1)
#   --runs N   pairs of runs per comparison (default 9, quick 3)
#   --out FILE where the report goes (default bench/RESULTS.md; quick: none);
#              its samples beside it (X.md: X.samples)
#   --samples FILE  keep the samples there (too)
#   VSOCKBOX   the binary under test (default ./vsockbox next to bench/)
#
# This script runs the programs and records what each run printed, one
# line per figure (the format is in bench/report.c); bench/report makes
# every figure of the report from those samples. Every comparison is a
# series of pairs of runs, A and B in turn first. Each batch of pairs holds
# the CPU lock (flock BENCH_LOCK, default /tmp/vsockbox-cpu.lock; empty:
# none) and records how busy other processes kept the CPUs. As root, the
# whole run has a network namespace of its own (unshare -n).
#
# Environment: HOSTCC builds the bench's programs (default cc; not CC,
# which may be a cross or musl compiler), MUSL_CC the musl build of vsockbox
# (default musl-gcc). As root, apt-get installs what is missing (iperf3
# sockperf musl-tools hyperfine) unless BENCH_INSTALL=0. Exit 0 when every
# measurement ran (targets met or not), 1 when one failed, 2 on a usage error.
#
# Latency is taken twice: both ends pinned to one CPU (the software path
# alone, stable) and to two CPUs (adds the cross-CPU wake-up, which in a VM
# with idle vCPUs costs tens of microseconds). Throughput is not pinned.
# When the binary has --verify, a batch compares it with plain runs.
#
# Every address is tcp:127.0.0.1: this never opens an AF_VSOCK socket.
set -u
# own_netns, wait_line, listening_port
# shellcheck source=tests/base.sh
. "$(dirname "$0")/../tests/base.sh"

usage() {
	sed -n '6,16s/^# \{0,1\}//p' "$0"
}

case " $* " in *' -h '* | *' --help '*) usage; exit 0 ;; esac
log() { printf '%s\n' "$*" >&2; }
MUSL_CC=${MUSL_CC:-musl-gcc}
# ---- tools ----
install_missing() {
	pkgs=
	command -v iperf3 >/dev/null 2>&1 || pkgs="$pkgs iperf3"
	command -v sockperf >/dev/null 2>&1 || pkgs="$pkgs sockperf"
	command -v "$MUSL_CC" >/dev/null 2>&1 || pkgs="$pkgs musl-tools"
	command -v hyperfine >/dev/null 2>&1 || pkgs="$pkgs hyperfine"
	[ -n "$pkgs" ] || return 0
	if [ "${BENCH_INSTALL:-1}" != 0 ] && [ "$(id -u)" = 0 ] &&
		command -v apt-get >/dev/null 2>&1; then
		log "bench: installing$pkgs"
		# shellcheck disable=SC2086 # a list of package names
		if ! { apt-get update -qq &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends $pkgs; } >"${TMPDIR:-/tmp}/vsockbox-bench-apt.log" 2>&1; then
			log "bench: apt-get failed, going on without:$pkgs"
			tail -n 5 "${TMPDIR:-/tmp}/vsockbox-bench-apt.log" >&2
		fi
	else
		log "bench: missing$pkgs (not installed: BENCH_INSTALL=0, not root or no apt-get);" \
			"their figures read n/a"
	fi
}
# Outside the namespace below, which has no network.
[ "${VSOCKBOX_NETNS:-}" = own ] || install_missing

# As root, a network namespace of our own: the guest applets bind the
# protocol's fixed ports (8501, 8503...), which other suites may be using.
own_netns "$0" "$@"

quick=${BENCH_QUICK:-0}
runs=
out=
keep=
vsb=${VSOCKBOX:-}
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--runs | --out | --samples)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		case $1 in --runs) runs=$2 ;; --out) out=$2 ;; *) keep=$2 ;; esac
		shift ;;
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) vsb=$1 ;;
	esac
	shift
done
case $quick in 0 | '') quick=0 ;; *) quick=1 ;; esac
case ${runs:-1} in *[!0-9]* | 0) echo "bench: --runs wants a positive number" >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")" && pwd) || exit 2
top=${here%/*}
# Before the report rewrites RESULTS.md, which would make any tree dirty.
source=$(git -C "$top" describe --always --dirty 2>/dev/null || echo '?')
vsb=${vsb:-$top/vsockbox}
case $vsb in /*) ;; *) vsb=$(pwd)/$vsb ;; esac
HOSTCC=${HOSTCC:-cc}
# The builds below are makes of their own, whatever make runs us.
unset MAKEFLAGS MFLAGS MAKELEVEL
# Belt and braces: no applet may fall back to its vsock default here.
VSOCKBOX_PEER=tcp:127.0.0.1
export VSOCKBOX_PEER

failures=0
fail() {
	log "bench: FAILED: $*"
	failures=$((failures + 1))
}

[ -x "$vsb" ] || { log "bench: no $vsb (run make first)"; exit 3; }
W=$(mktemp -d "${TMPDIR:-/tmp}/vsockbox-bench.XXXXXX") || exit 3
S=$W/samples
bgpids=
# stop PID: end a background process we started (and a child of
# bench/rusage, which does not pass signals on), then reap it.
stop() {
	for sp_child in $(pgrep -P "$1"); do
		kill "$sp_child" 2>/dev/null
	done
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
# stop_tool PID: end the command that bench/rusage PID runs and let rusage
# reap it and exit, so that its CPU time counts as ours; rusage itself only
# if it is still there after 2 s.
stop_tool() {
	for st_child in $(pgrep -P "$1"); do
		kill "$st_child" 2>/dev/null
	done
	st_i=0
	while kill -0 "$1" 2>/dev/null && [ "$st_i" -lt 200 ]; do
		st_i=$((st_i + 1))
		sleep 0.01
	done
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup() {
	for cp_pid in $bgpids; do
		kill -0 "$cp_pid" 2>/dev/null && stop "$cp_pid"
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

have() { command -v "$1" >/dev/null 2>&1; }
if [ "$(nproc)" -ge 2 ]; then
	lat_modes="same split"
else
	lat_modes=any
fi

# Copies, so that a rebuild during the run changes nothing.
vsb_given=$vsb vsb=$W/vsockbox
cp "$vsb_given" "$vsb" || exit 3
make -s -C "$top" HOSTCC="$HOSTCC" bench-programs >&2 ||
	{ log "bench: cannot build the bench's programs"; exit 3; }
for f in ceiling pingpong rusage report; do
	cp "$top/build/bench/$f" "$W/$f" || exit 3
done

# ---- what the binary says: protocol facts and options ----
# opt_default APPLET OPTION: the default the binary declares for it
opt_default() {
	"$vsb" --list-options | while read -r od_applet od_name _ _ _ od_default _; do
		if [ "$od_applet $od_name" = "$1 $2" ]; then
			echo "$od_default"
			break
		fi
	done
}
# has_verify: every applet of the --verify batch takes --verify
has_verify() {
	for hv_applet in vsock-perf vsock-unidir vsock-bidir; do
		"$vsb" --list-options | grep -q "^$hv_applet verify " || return 1
	done
}
packet=$(opt_default vsock-echo packet-size)
full_size=$(opt_default vsock-perf size)
itest_servers=$("$W/report" --fact itest-servers)
for f in "$packet" "$full_size" "$itest_servers"; do
	case $f in '' | *[!0-9]*) log "bench: $vsb_given --list-options lacks a default the bench needs"; exit 3 ;; esac
done
verify=0
has_verify && verify=1

if [ "$quick" = 1 ]; then
	runs=${runs:-3} size=$((16 * 1048576)) count=4 lat_max=2000 sp_secs=1 starts=200 musl_runs=1
else
	runs=${runs:-9} size=$full_size count=10 lat_max=1000000 sp_secs=1 starts=1000 musl_runs=3
	[ -n "$out" ] || out=$here/RESULTS.md
fi
uni_bytes=$((2 * size * count))	# 2 x SIZE per iteration (vsock-perf counts both)
bi_bytes=$((size * count))	# each way
lat_probe=1000	# the calibration run's round trips, and the fewest a run times
multi_count=2
timeout=30
lock=${BENCH_LOCK-/tmp/vsockbox-cpu.lock}
[ "$quick" = 0 ] || lock=${BENCH_LOCK:-}

# ---- samples ----
rec() { printf '%s\n' "$*" >>"$S"; }
isnum() { case $1 in '' | n/a | *[!0-9.e+-]*) return 1 ;; esac; }
# value SERIES VALUE: a sample as the program printed it
value() {
	if isnum "$2"; then rec value "$@"; else fail "$1: no number in the output (got '$2')"; fi
}
# fig ID FIG UNIT VALUE...: a figure of run ID ("KIND A-B ROUND WHO") when
# every value is a number (bench/report pairs it with the other run's)
fig() {
	fg_rec="pair $1 $2 $3"
	shift 3
	for fg_v; do
		isnum "$fg_v" || return 0
		fg_rec="$fg_rec $fg_v"
	done
	rec "$fg_rec"
}
# cost BUILD TAG PROC NAME...: the rusage lines of NAME... as PROC's cost in
# test TAG (nothing if one is missing)
cost() {
	co_rec="cost $1 $2 $3"
	shift 3
	for co_n; do
		[ -s "$W/$co_n.time" ] || return 0
		co_rec="$co_rec $(cat "$W/$co_n.time")"
	done
	rec "$co_rec"
}
locked=0
[ -z "$lock" ] || locked=1
# The licence line first: the samples are kept in the tree (check-spdx).
echo '# SPDX-License-Identifier: MIT' >>"$S"
printf 'param %s\n' "quick $quick" "runs $runs" "size $size" "count $count" \
	"packet $packet" "lat_modes $lat_modes" "lat_probe $lat_probe" "lat_max $lat_max" \
	"sp_secs $sp_secs" "multi_count $multi_count" "ncpu $(nproc)" "hz $(getconf CLK_TCK)" \
	"lock $locked" "verify $verify" >>"$S"

# ---- helpers ----
# start_bg NAME CPU CMD...: CMD in the background (on CPU, or anywhere
# for -), stdout NAME.out, stderr NAME.err, "user sys maxrss wall" in
# NAME.time; its pid in $bg.
start_bg() {
	sb_name=$1 sb_cpu=$2
	shift 2
	set -- "$W/$sb_name.time" "$@"
	[ "$sb_cpu" = - ] || set -- -c "$sb_cpu" "$@"
	# Gone before the start, so that no wait_line reads the last run's.
	rm -f "$W/$sb_name.time" "$W/$sb_name.out" "$W/$sb_name.err"
	"$W/rusage" "$@" >"$W/$sb_name.out" 2>"$W/$sb_name.err" &
	bg=$!
	bgpids="$bgpids $bg"
}
# run_fg NAME CPU CMD...: the same in the foreground; CMD's exit status.
run_fg() {
	rf_name=$1 rf_cpu=$2
	shift 2
	set -- "$W/$rf_name.time" "$@"
	[ "$rf_cpu" = - ] || set -- -c "$rf_cpu" "$@"
	rm -f "$W/$rf_name.time"
	"$W/rusage" "$@" >"$W/$rf_name.out" 2>"$W/$rf_name.err"
}
# cpus MODE: sets hcpu and gcpu, where the host and guest ends run.
cpus() {
	case $1 in
	same) hcpu=0 gcpu=0 ;;
	split) hcpu=0 gcpu=1 ;;
	*) hcpu=- gcpu=- ;;
	esac
}
# wait_line FILE REGEX PID and listening_port FILE: tests/base.sh.
errtext() { tr '\n' ' ' <"$W/$1.err" | cut -c 1-300; }
# jget FILE KEY: a scalar of a JSON file (keys joined by dots).
jget() {
	awk -f "$here/jsonflat.awk" "$1" | while read -r jg_key jg_value; do
		if [ "$jg_key" = "$2" ]; then
			echo "$jg_value"
			break
		fi
	done
}
# kv KEY FILE: KEY=VALUE out of a line of the reference programs.
kv() { tr ' ' '\n' <"$2" | sed -n "s/^$1=//p" | head -n 1; }
# wall NAME: the wall time in NAME.time
wall() { read -r _ _ _ wa_s <"$W/$1.time" && echo "$wa_s"; }
lat_count() { "$W/report" --lat-count "$1" "$S"; }

# ---- vsockbox: vsock-perf on an ephemeral port, one guest applet ----
# vsb_pair BINARY TAG GUEST_APPLET GUEST_ARGS -- HOST_ARGS: runs both (on
# $hcpu and $gcpu), leaves host.out (JSON), host.time, guest.time; fails on
# any error.
vsb_pair() {
	vp_bin=$1 vp_tag=$2 vp_applet=$3
	shift 3
	vp_gargs=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vp_gargs="$vp_gargs $1"
		shift
	done
	shift
	start_bg host "$hcpu" "$vp_bin" vsock-perf --listen tcp:127.0.0.1:0 --json \
		--timeout "$timeout" "$@"
	vp_host=$bg
	if ! wait_line "$W/host.err" 'listening on tcp:' "$vp_host"; then
		fail "$vp_tag: vsock-perf did not listen: $(errtext host)"
		stop "$vp_host"
		return 1
	fi
	vp_port=$(listening_port "$W/host.err")
	# shellcheck disable=SC2086 # options without spaces
	if ! run_fg guest "$gcpu" "$vp_bin" "$vp_applet" --peer "tcp:127.0.0.1:$vp_port" \
		--timeout "$timeout" $vp_gargs; then
		fail "$vp_tag: $vp_applet: $(errtext guest)"
		stop "$vp_host"
		return 1
	fi
	if ! wait "$vp_host"; then
		fail "$vp_tag: vsock-perf: $(errtext host)"
		return 1
	fi
}

# Every run below is one side of pair ID, "KIND A-B ROUND WHO" (KIND uni,
# bi or lat.MODE), and records its figures as such.

# vsb_run ID: vsockbox; WHO vsb (the glibc build), musl, or verify (the
# glibc build with --verify at both ends). "whole" is all bytes over the
# guest applet's wall time, "p50" vsock-perf's median iteration.
vsb_run() {
	# shellcheck disable=SC2086 # the ID's words
	set -- "$1" $1
	vr_id=$1 vr_kind=$2 vr_cmp=$3 vr_bin=$vsb vr_build=glibc vr_verify=
	case $5 in
	musl) vr_bin=$musl vr_build=musl ;;
	verify) vr_verify=--verify ;;
	esac
	case $vr_kind in
	uni)
		cpus any
		vr_tag=unidir vr_applet=vsock-unidir
		vsb_pair "$vr_bin" unidir vsock-unidir --size "$size" --count "$count" $vr_verify -- \
			--tests unidir --size "$size" --count "$count" $vr_verify || return
		fig "$vr_id" p50 mibps "$(jget "$W/host.out" single_stream_unidirectional.p_50th)"
		fig "$vr_id" whole wall "$(wall guest)" "$uni_bytes" ;;
	bi)
		cpus any
		vr_tag=bidir vr_applet=vsock-bidir
		vsb_pair "$vr_bin" bidir vsock-bidir --size "$size" --count "$count" $vr_verify -- \
			--tests bidir --size "$size" --count "$count" $vr_verify || return
		fig "$vr_id" p50 mibps "$(jget "$W/host.out" tx_throughput.p_50th)" \
			"$(jget "$W/host.out" rx_throughput.p_50th)"
		fig "$vr_id" whole wall "$(wall guest)" "$((2 * bi_bytes))" ;;
	lat.*)
		cpus "${vr_kind#lat.}"
		vr_tag=latency-${vr_kind#lat.} vr_applet=vsock-echo
		vsb_pair "$vr_bin" latency vsock-echo -- --tests latency \
			--latency-count "$(lat_count "${vr_kind#lat.}")" || return
		fig "$vr_id" p50 ns "$(jget "$W/host.out" round_trip_page.p_50th)"
		fig "$vr_id" p99 ns "$(jget "$W/host.out" round_trip_page.p_99th)" ;;
	esac
	if [ "$vr_cmp" = verify-vsb ]; then
		# shellcheck disable=SC2046 # two lines of four numbers
		fig "$vr_id" cpu rusage $(cat "$W/host.time" "$W/guest.time")
	else
		cost "$vr_build" "$vr_tag" vsock-perf host
		cost "$vr_build" "$vr_tag" "$vr_applet" guest
	fi
}
# calibrate MODE: a short latency run that records nothing but its median,
# from which bench/report sets the round trips of MODE's runs.
calibrate() {
	cpus "$1"
	if vsb_pair "$vsb" latency vsock-echo -- --tests latency --latency-count "$lat_probe"; then
		ca_p50=$(jget "$W/host.out" round_trip_page.p_50th)
		if isnum "$ca_p50"; then
			rec calib "$1" "$ca_p50"
			return
		fi
		fail "latency calibration: no median"
	fi
	rec calib "$1" failed
}

# ---- the C floor ----
# ref_run ID: ceiling (unidir with the protocol's pattern: per iteration
# SIZE out, then SIZE back, timed per 2 x SIZE) or pingpong (its echo
# server where vsock-echo runs, the client where vsock-perf runs).
ref_run() {
	case $1 in
	uni*)
		if ! run_fg ceil - "$W/ceiling" -R -b "$ceil_io_uni" -n "$uni_bytes" -i "$((2 * size))"; then
			fail "ceiling unidir: $(errtext ceil)"
			return
		fi
		fig "$1" p50 mibps "$(kv p50_mibps "$W/ceil.out")"
		fig "$1" whole mibps "$(kv mibps "$W/ceil.out")"
		cost glibc unidir ceiling ceil ;;
	bi*)
		if ! run_fg ceil - "$W/ceiling" -B -b "$ceil_io_bi" -n "$bi_bytes" -i "$size"; then
			fail "ceiling bidir: $(errtext ceil)"
			return
		fi
		fig "$1" p50 mibps "$(kv tx_p50_mibps "$W/ceil.out")" "$(kv rx_p50_mibps "$W/ceil.out")"
		fig "$1" whole mibps "$(kv mibps "$W/ceil.out")"
		cost glibc bidir ceiling ceil ;;
	lat.*)
		rr_mode=${1%% *}
		rr_mode=${rr_mode#lat.}
		cpus "$rr_mode"
		start_bg pps "$gcpu" "$W/pingpong" -m "$packet" -l tcp:127.0.0.1:0
		rr_srv=$bg
		if ! wait_line "$W/pps.err" 'listening on tcp:' "$rr_srv"; then
			fail "pingpong server: $(errtext pps)"
			stop "$rr_srv"
			return
		fi
		if ! run_fg pp "$hcpu" "$W/pingpong" -m "$packet" -n "$(lat_count "$rr_mode")" \
			-c "tcp:127.0.0.1:$(listening_port "$W/pps.err")"; then
			fail "pingpong: $(errtext pp)"
			stop "$rr_srv"
			return
		fi
		wait "$rr_srv" || fail "pingpong server: $(errtext pps)"
		fig "$1" p50 us "$(kv p50_us "$W/pp.out")"
		fig "$1" p99 us "$(kv p99_us "$W/pp.out")"
		cost glibc "latency-$rr_mode" pingpong pp pps ;;
	esac
}

# ---- the ports the benchmark binds itself ----
# iperf3's, sockperf's and the itest guest's servers: below the kernel's
# ephemeral range, where no connection's local port lands (20000 + PID %
# 20000, as it was, lands inside 32768-60999, where another process's
# connection took one: EADDRINUSE), from a start of this run's own, and
# every user tries the next ports when a bind fails. BENCH_FIRST_PORT=P
# starts at P (to show a port in use taken in stride).
eph_low=$(cut -f 1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
case $eph_low in '' | *[!0-9]*) eph_low=32768 ;; esac
port_lo=10000 port_hi=$eph_low
# A range that starts low leaves no room below it: any ports, then.
[ "$port_hi" -ge $((port_lo + 2000)) ] || port_lo=20000 port_hi=32768
next_port=${BENCH_FIRST_PORT:-$((port_lo + $$ % (port_hi - port_lo - 1000)))}
# take_ports N: $port, the first of N ports in a row this run has not
# taken yet (from the bottom again at the range's end).
take_ports() {
	[ $((next_port + $1)) -lt "$port_hi" ] || next_port=$port_lo
	port=$next_port
	next_port=$((next_port + $1))
}

# ---- iperf3 and sockperf, on a free port found by trying ----
# tool_server NAME CPU READY_REGEX CMD...: CMD with "-p PORT" appended, in
# the background (on CPU, or anywhere for -); retries the next port if CMD
# dies unready. The port in $sport, the pid in $spid.
tool_server() {
	ts_name=$1 ts_cpu=$2 ts_ready=$3
	shift 3
	set -- "$W/$ts_name.time" "$@"
	[ "$ts_cpu" = - ] || set -- -c "$ts_cpu" "$@"
	for ts_try in 1 2 3 4 5 6 7 8; do
		take_ports 1
		sport=$port
		rm -f "$W/$ts_name.out"
		"$W/rusage" "$@" -p "$sport" >"$W/$ts_name.out" 2>&1 &
		spid=$!
		bgpids="$bgpids $spid"
		wait_line "$W/$ts_name.out" "$ts_ready" "$spid" && return 0
		stop "$spid"
		[ "$ts_try" -lt 8 ] || fail "$ts_name: does not start: $(tail -n 2 "$W/$ts_name.out")"
	done
	return 1
}
# iperf_run ID: iperf3 -n the same bytes; "whole" is the bytes over the
# client process's wall time, as for the guest applet (connection set-up
# included on both sides). --bidir -n stops when the first direction is
# done, so its figure is all bytes received both ways.
iperf_run() {
	case $1 in uni*) set -- "$1" unidir -n "$uni_bytes" ;; *) set -- "$1" bidir --bidir -n "$bi_bytes" ;; esac
	ir_id=$1 ir_test=$2
	shift 2
	tool_server iperf3-s - 'Server listening' iperf3 -s -1 --forceflush || return
	if ! "$W/rusage" "$W/ipc.time" iperf3 -c 127.0.0.1 -p "$sport" -J "$@" >"$W/iperf3.json" 2>&1; then
		fail "iperf3 $ir_test: $(head -c 300 "$W/iperf3.json")"
		stop "$spid"
		return
	fi
	wait "$spid"
	if [ "$ir_test" = unidir ]; then
		fig "$ir_id" whole wall "$(wall ipc)" "$uni_bytes"
		return
	fi
	ir_f=$(jget "$W/iperf3.json" end.sum_received.bytes)
	ir_r=$(jget "$W/iperf3.json" end.sum_received_bidir_reverse.bytes)
	if isnum "$ir_f" && isnum "$ir_r"; then
		fig "$ir_id" whole wall "$(wall ipc)" "$ir_f" "$ir_r"
	else
		fail "iperf3 bidir: no result in its JSON"
	fi
}
# sockperf_run ID: sockperf ping-pong on the mode's CPUs, its own percentiles
sockperf_run() {
	sr_mode=${1%% *}
	cpus "${sr_mode#lat.}"
	tool_server sockperf-s "$gcpu" 'block on socket' sockperf server --tcp -i 127.0.0.1 || return
	set -- "$1" "$W/sockperf.time" sockperf ping-pong --tcp -i 127.0.0.1 -p "$sport" \
		-m "$packet" -t "$sp_secs" --full-rtt
	sr_id=$1
	shift
	[ "$hcpu" = - ] || set -- -c "$hcpu" "$@"
	if ! "$W/rusage" "$@" >"$W/sockperf.out" 2>&1; then
		fail "sockperf: $(tail -n 3 "$W/sockperf.out")"
	else
		fig "$sr_id" p50 us "$(sed -n 's/.*percentile 50\.000 = *\([0-9.]*\).*/\1/p' "$W/sockperf.out")"
		fig "$sr_id" p99 us "$(sed -n 's/.*percentile 99\.000 = *\([0-9.]*\).*/\1/p' "$W/sockperf.out")"
	fi
	stop_tool "$spid"
}

# ---- pairs ----
# pair KIND A B ROUND: one run of A and one of B, A first in odd rounds
pair() {
	if [ $(($4 % 2)) = 1 ]; then
		set -- "$1 $2-$3 $4" "$2" "$3"
	else
		set -- "$1 $2-$3 $4" "$3" "$2"
	fi
	run_one "$1 $2"
	run_one "$1 $3"
}
run_one() {
	case ${1##* } in
	vsb | musl | verify) vsb_run "$1" ;;
	ceil | pp) ref_run "$1" ;;
	iperf) iperf_run "$1" ;;
	sp) sockperf_run "$1" ;;
	esac
}

# ---- batches: each under the CPU lock, with the others' share of the CPUs ----
# counters: how busy the CPUs were, how much CPU our reaped children took
# (the shell's times: never in $(...) or a pipe, where a subshell has no
# children), TCP retransmissions in our network namespace.
counters() {
	times >"$W/times.txt"
	{
		sed -n '1s/^/stat /p' /proc/stat
		sed -n 's/^Tcp:/snmp Tcp:/p' /proc/net/snmp 2>/dev/null
		sed -n '2s/^/times /p' "$W/times.txt"
	} >>"$S"
}
batch_begin() {
	if [ -n "$lock" ] && have flock; then
		log "bench: $1: waiting for the CPU lock $lock"
		exec 9>>"$lock"
		flock 9 || log "bench: no lock, going on without"
	fi
	log "bench: $1"
	rec batch begin "$1"
	counters
}
batch_end() {
	rec batch end
	counters
	if [ -n "$lock" ] && have flock; then flock -u 9; exec 9>&-; fi
}
# compare_batch TITLE KIND FLOOR TOOL PROGRAM [PREPARE...]: vsockbox against
# the C floor and, if PROGRAM is installed, against TOOL, in pairs; PREPARE
# first, within the batch.
compare_batch() {
	batch_begin "$1, $runs pairs per comparison"
	cb_kind=$2 cb_floor=$3 cb_tool=$4 cb_program=$5
	shift 5
	[ $# = 0 ] || "$@"
	cb_round=0
	while [ "$cb_round" -lt "$runs" ]; do
		cb_round=$((cb_round + 1))
		pair "$cb_kind" vsb "$cb_floor" "$cb_round"
		have "$cb_program" && pair "$cb_kind" vsb "$cb_tool" "$cb_round"
	done
	batch_end
}

# ---- the applets measured once: multi stream, integration test, vsock-ctl ----
# itest_once BINARY: vsock-itest-host (on a port of the kernel's) and
# vsock-itest, whose servers take ports of ours: others where one is in
# use (the guest's bind fails at once, its host waits for nothing more).
itest_once() {
	for io_try in 1 2 3 4 5 6 7 8; do
		take_ports "$itest_servers"
		start_bg ihost - "$1" vsock-itest-host --guest "tcp:127.0.0.1:$port" \
			--listen tcp:127.0.0.1:0 --timeout "$timeout"
		io_host=$bg
		if ! wait_line "$W/ihost.err" 'listening on tcp:' "$io_host"; then
			fail "vsock-itest-host did not listen: $(errtext ihost)"
			stop "$io_host"
			return
		fi
		if run_fg iguest - "$1" vsock-itest --listen "tcp:127.0.0.1:$port" \
			--peer "tcp:127.0.0.1:$(listening_port "$W/ihost.err")" \
			--timeout "$timeout"; then
			break
		fi
		if [ "$io_try" -lt 8 ] && grep -q 'Address already in use' "$W/iguest.err"; then
			log "bench: vsock-itest: port $port or the next in use, trying others"
			stop "$io_host"
			continue
		fi
		fail "vsock-itest: $(errtext iguest) $(cat "$W/iguest.out")"
		break
	done
	if wait "$io_host"; then
		cost "$on_build" itest vsock-itest-host ihost
		cost "$on_build" itest vsock-itest iguest
	else
		fail "vsock-itest-host: $(errtext ihost)"
	fi
}
# once BUILD BINARY
once() {
	on_build=$1 on_bin=$2 on_pfx=
	[ "$on_build" = glibc ] || on_pfx=$on_build.
	cpus any
	if vsb_pair "$on_bin" multi vsock-multi --size "$size" --count "$multi_count" -- \
		--tests multi --size "$size" --count "$multi_count"; then
		value "${on_pfx}tp.multi.vsb" "$(jget "$W/host.out" multi_stream_unidirectional.p_50th)"
		cost "$on_build" multi vsock-perf host
		cost "$on_build" multi vsock-multi guest
	fi

	itest_once "$on_bin"

	# vsock-ctl alone, against a bare listener (ceiling moving 0 bytes).
	start_bg dummy - "$W/ceiling" -n 0 -l tcp:127.0.0.1:0
	on_dummy=$bg
	if wait_line "$W/dummy.err" 'listening on tcp:' "$on_dummy"; then
		if run_fg ctl - "$on_bin" vsock-ctl --peer "tcp:127.0.0.1:$(listening_port "$W/dummy.err")" \
			--magic 123 --timeout "$timeout"; then
			cost "$on_build" ctl vsock-ctl ctl
		else
			fail "vsock-ctl: $(errtext ctl)"
		fi
		wait "$on_dummy" || fail "dummy control peer: $(errtext dummy)"
	else
		fail "dummy control peer did not listen"
		stop "$on_dummy"
	fi
}

# ---- the best read/write size for the ceiling ----
sweep() {
	for sw_io in 64K 128K 256K 512K 1M; do
		for _ in 1 2 3; do
			run_fg ceil - "$W/ceiling" -R -b "$sw_io" -n "$uni_bytes" -i "$((2 * size))" &&
				rec sweep uni "$sw_io" "$(kv p50_mibps "$W/ceil.out")"
			run_fg ceil - "$W/ceiling" -B -b "$sw_io" -n "$bi_bytes" -i "$size" &&
				rec sweep bi "$sw_io" "$(kv tx_p50_mibps "$W/ceil.out")" \
					"$(kv rx_p50_mibps "$W/ceil.out")"
		done
	done
}

# ---- binary size and start-up ----
# The musl builds of the default configuration: -O2, -Os, and the
# Makefile's SMALL=1 (flags alone, no code change, that make the binary
# smaller; doc/BUILD.md's route); and SMALL=1 of the original protocol's slice
# (make protocolconfig: its applets, every FEATURE_ off), the build the
# 64 KiB target is for.
sizes() {
	if strip -o "$W/vsockbox.glibc" "$vsb"; then
		rec size glibc "$(wc -c <"$W/vsockbox.glibc")"
	else
		fail "strip $vsb"
	fi
	printf 'int main(void) { return 0; }\n' >"$W/true.c"
	"$HOSTCC" -static -O2 -o "$W/true.glibc" "$W/true.c" || fail "$HOSTCC -static true.c"
	have "$MUSL_CC" || return 0
	"$MUSL_CC" -static -O2 -o "$W/true.musl" "$W/true.c" || fail "$MUSL_CC true.c"
	mkdir "$W/src"
	# A copy of what the build reads, so that the main build stays untouched
	# (cp, not GNU tar's --exclude, which busybox's tar lacks).
	for sz_f in Makefile Config.in applets common mk scripts; do
		[ ! -e "$top/$sz_f" ] || cp -R "$top/$sz_f" "$W/src/" ||
			{ fail "copy of the source tree"; return; }
	done
	for sz_v in O2 Os small small-protocol; do
		sz_config=defconfig
		case $sz_v in
		small) set -- SMALL=1 ;;
		small-protocol)
			set -- SMALL=1
			sz_config=protocolconfig
			;;
		*) set -- CFLAGS="-$sz_v" LDFLAGS= ;;
		esac
		make -C "$W/src" clean >/dev/null 2>&1
		if make -C "$W/src" "$sz_config" >"$W/musl-$sz_v.log" 2>&1 &&
			make -C "$W/src" CC="$MUSL_CC" "$@" vsockbox >>"$W/musl-$sz_v.log" 2>&1 &&
			strip -o "$W/vsockbox.musl-$sz_v" "$W/src/vsockbox"; then
			rec size "musl-$sz_v" "$(wc -c <"$W/vsockbox.musl-$sz_v")"
		else
			fail "musl build ($sz_v): $(tail -n 3 "$W/musl-$sz_v.log")"
		fi
	done
}
# startup NAME CMD...: seconds per call, by hyperfine (its median) or a
# shell loop (the mean, fork included)
startup() {
	su_name=$1
	shift
	"$@" >/dev/null 2>&1 || { fail "start-up: $* exits $?"; return; }
	if have hyperfine; then
		if hyperfine -N --style none --warmup 20 --runs "$starts" \
			--export-json "$W/hf.json" -- "$*" >/dev/null 2>"$W/hf.err"; then
			su_s=$(jget "$W/hf.json" results.0.median)
			if isnum "$su_s"; then rec start "$su_name" s "$su_s"; else fail "hyperfine: no median"; fi
		else
			fail "hyperfine $*: $(head -c 300 "$W/hf.err")"
		fi
		return
	fi
	su_t0=$(date +%s%N)
	su_i=0
	while [ "$su_i" -lt "$starts" ]; do
		"$@" >/dev/null 2>&1
		su_i=$((su_i + 1))
	done
	rec start "$su_name" loop "$(($(date +%s%N) - su_t0))" "$starts"
}

# ---- run ----
log "bench: $vsb_given, $runs pairs, $(if [ "$quick" = 1 ]; then echo quick; else echo full; fi):" \
	"unidir $uni_bytes B, bidir $bi_bytes B each way, latency about $sp_secs s per run"
log "bench: binary sizes (a musl build in a copy of the tree)"
sizes
musl=$W/vsockbox.musl-O2
if [ "$quick" = 0 ]; then
	batch_begin 'ceiling read/write size sweep'
	sweep
	batch_end
fi
ceil_io_uni=$("$W/report" --ceiling-io uni "$S")
ceil_io_bi=$("$W/report" --ceiling-io bi "$S")
compare_batch unidirectional uni ceil iperf iperf3
compare_batch bidirectional bi ceil iperf iperf3
if [ "$verify" = 1 ]; then
	batch_begin "--verify against plain, $runs pairs"
	round=0
	while [ "$round" -lt "$runs" ]; do
		round=$((round + 1))
		pair uni verify vsb "$round"
		pair bi verify vsb "$round"
	done
	batch_end
fi
for mode in $lat_modes; do
	case $mode in same) name='one CPU' ;; split) name='two CPUs' ;; *) name=unpinned ;; esac
	compare_batch "latency, $name" "lat.$mode" pp sp sockperf calibrate "$mode"
done
if [ -x "$musl" ]; then
	batch_begin "the musl build against the glibc one, $musl_runs pairs"
	round=0
	while [ "$round" -lt "$musl_runs" ]; do
		round=$((round + 1))
		pair uni musl vsb "$round"
		pair bi musl vsb "$round"
		pair "lat.${lat_modes%% *}" musl vsb "$round"
	done
	batch_end
fi
batch_begin 'multi stream, integration test, vsock-ctl, start-up'
once glibc "$vsb"
[ -x "$musl" ] && once musl "$musl"
# The floor under every RSS figure: a static program that does nothing.
for f in glibc musl; do
	[ -x "$W/true.$f" ] && run_fg "true-$f" - "$W/true.$f" && cost glibc floor "$f" "true-$f"
done
startup glibc "$W/vsockbox.glibc" vsock-echo --help
[ -x "$musl" ] && startup musl "$musl" vsock-echo --help
[ -x "$W/true.glibc" ] && startup true.glibc "$W/true.glibc"
[ -x "$W/true.musl" ] && startup true.musl "$W/true.musl"
batch_end

# ---- report ----
first() { sed -n "s/^$1[^:]*: //p" /proc/cpuinfo | head -n 1; }
rec meta taken "$(date -u '+%Y-%m-%d %H:%M UTC')"
rec meta source "$source"
rec meta binary_bytes "$(wc -c <"$vsb_given")"
rec meta binary "$vsb_given"
rec meta machine "$(nproc) CPUs, $(first 'model name') (family $(first 'cpu family')," \
	"model $(sed -n 's/^model[^:]*: \([0-9]*\)$/\1/p' /proc/cpuinfo | head -n 1))," \
	"$(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
congestion=$(cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null || echo '?')
rec meta congestion "$congestion"
rec meta kernel "$(uname -srm); TCP congestion control $congestion," \
	"tcp_rmem $(tr '\t' ' ' </proc/sys/net/ipv4/tcp_rmem 2>/dev/null)," \
	"tcp_wmem $(tr '\t' ' ' </proc/sys/net/ipv4/tcp_wmem 2>/dev/null)"
rec meta compilers "$("$HOSTCC" --version | head -n 1); musl $(
	dpkg-query -W -f='${Version}' musl 2>/dev/null || echo '?')"
rec meta tools "$(iperf3 --version 2>/dev/null | head -n 1 | cut -d' ' -f1-2), sockperf $(
	sockperf --version 2>/dev/null | sed -n 's/.*version \([^ ]*\).*/\1/p' | head -n 1)"
rec meta failures "$failures"
for f in "$keep" "${out:+${out%.md}.samples}"; do
	[ -z "$f" ] || cp "$S" "$f" || fail "cannot keep the samples in $f"
done
set --
[ -z "$out" ] || set -- --out "$out" --notes "$here/EARLIER.md"
if "$W/report" "$@" "$S"; then
	[ -z "$out" ] || log "bench: wrote $out"
else
	fail "bench/report could not make the report"
fi
[ "$failures" = 0 ] || { log "bench: $failures failures"; exit 1; }
