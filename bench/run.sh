#!/bin/sh
# bench/run.sh - vsockbox's applets side by side with a C floor (ceiling.c,
# pingpong.c) and with iperf3 and sockperf, over TCP loopback, repeated, and
# reported as medians and ratios; plus CPU, peak RSS, binary size, start-up.
#
#   bench/run.sh [--quick] [--runs N] [--out FILE] [VSOCKBOX]
#
#   --quick    small sizes and 3 pairs, under a minute, without the CPU
#              lock; writes no RESULTS.md unless --out is given (also
#              BENCH_QUICK=1)
#   --runs N   pairs of runs per comparison (default 9, quick 3)
#   --out FILE where the report goes (default bench/RESULTS.md; quick: none)
#   VSOCKBOX   the binary under test (default ./vsockbox next to bench/)
#
# Every comparison is a series of pairs of runs, A and B in turn first; a
# ratio is the median of the per-pair ratios, with min and max. Each batch of
# pairs holds the CPU lock (flock BENCH_LOCK, default /tmp/vsockbox-cpu.lock;
# empty: none) and records how busy other processes kept the CPUs. As root,
# the whole run has a network namespace of its own (unshare -n).
#
# Environment: HOSTCC builds the reference programs (default cc; not CC,
# which may be a cross or musl compiler), MUSL_CC the musl build of vsockbox
# (default musl-gcc). As root, apt-get installs what is missing (iperf3
# sockperf musl-tools hyperfine) unless BENCH_INSTALL=0. Exit 0 when every
# measurement ran (targets met or not), 1 when one failed, 2 on a usage error.
#
# Latency is taken twice: both ends pinned to one CPU (the software path
# alone, stable) and to two CPUs (adds the cross-CPU wake-up, which in a VM
# with idle vCPUs costs tens of microseconds). Throughput is not pinned.
#
# Every address is tcp:127.0.0.1: this never opens an AF_VSOCK socket.
set -u

usage() {
	sed -n '6,14s/^# \{0,1\}//p' "$0"
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
[ -n "${BENCH_NETNS:-}" ] || install_missing

# As root, a network namespace of our own: the guest applets bind the
# protocol's fixed ports (8501, 8503...), which other suites may be using.
if [ -z "${BENCH_NETNS:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
	command -v ip >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
	BENCH_NETNS=1
	export BENCH_NETNS
	exec unshare -n sh -c 'ip link set lo up && exec sh "$@"' sh "$0" "$@"
fi

quick=${BENCH_QUICK:-0}
runs=
out=
vsb=${VSOCKBOX:-}
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--runs | --out)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		if [ "$1" = --runs ]; then runs=$2; else out=$2; fi
		shift ;;
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) vsb=$1 ;;
	esac
	shift
done
case $quick in 0 | '') quick=0 ;; *) quick=1 ;; esac

here=$(cd "$(dirname "$0")" && pwd) || exit 2
top=${here%/*}
# Before the report rewrites RESULTS.md, which would make any tree dirty.
source=$(git -C "$top" describe --always --dirty 2>/dev/null || echo '?')
vsb=${vsb:-$top/vsockbox}
case $vsb in /*) ;; *) vsb=$(pwd)/$vsb ;; esac
HOSTCC=${HOSTCC:-cc}
# The musl build below is a make of its own, whatever make runs us.
unset MAKEFLAGS MFLAGS MAKELEVEL
# Belt and braces: no applet may fall back to its vsock default here.
VSOCKBOX_PEER=tcp:127.0.0.1
export VSOCKBOX_PEER

MiB=1048576
if [ "$quick" = 1 ]; then
	runs=${runs:-3} size=$((16 * MiB)) count=4 lat_max=2000 sp_secs=1 starts=200 musl_runs=1
else
	runs=${runs:-9} size=$((128 * MiB)) count=10 lat_max=1000000 sp_secs=1 starts=1000 musl_runs=3
	[ -n "$out" ] || out=$here/RESULTS.md
fi
case $runs in '' | *[!0-9]* | 0) echo "bench: --runs wants a positive number" >&2; exit 2 ;; esac
uni_bytes=$((2 * size * count))	# vsock-perf counts 2 x SIZE per iteration
bi_bytes=$((size * count))	# each way
lat_probe=1000	# the calibration run's round trips, and the fewest a run times
lat=$lat_probe	# round trips per latency run: set per CPU mode by calibrate_lat
timeout=30

failures=0
fail() {
	log "bench: FAILED: $*"
	failures=$((failures + 1))
}

W=$(mktemp -d "${TMPDIR:-/tmp}/vsockbox-bench.XXXXXX") || exit 3
mkdir "$W/data"
bgpids=
# stop PID: end a background process we started (and a child of
# bench/rusage, which does not pass signals on), then reap it.
stop() {
	for sp_child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		kill "$sp_child" 2>/dev/null
	done
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
# stop_tool PID: end the command that bench/rusage PID runs and let rusage
# reap it and exit, so that its CPU time counts as ours; rusage itself only
# if it is still there after 2 s.
stop_tool() {
	for st_child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
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

[ -x "$vsb" ] || { log "bench: no $vsb (run make first)"; exit 3; }
# A copy, so that a rebuild during the run changes nothing.
vsb_given=$vsb vsb=$W/vsockbox
cp "$vsb_given" "$vsb" || exit 3
for f in ceiling pingpong rusage; do
	if [ "$f" = rusage ]; then set -- "$here/rusage.c"; else set -- "$here/$f.c" "$here/util.c"; fi
	"$HOSTCC" -std=c11 -O2 -Wall -Wextra -Werror -pthread -o "$W/$f" "$@" ||
		{ log "bench: cannot build $f"; exit 3; }
done

# ---- helpers ----
# start_bg NAME CPU CMD...: CMD in the background (on CPU, or anywhere
# for -), stdout NAME.out, stderr NAME.err, "user sys maxrss" in NAME.time;
# its pid in $bg.
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
mode_name() {
	case $1 in same) echo 'one CPU' ;; split) echo 'two CPUs' ;; *) echo unpinned ;; esac
}
# wait_line FILE REGEX PID: until FILE holds a line matching REGEX; fails
# when PID ends without it, or after 10 s. A poll, not a fixed sleep.
wait_line() {
	wl_i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		if ! kill -0 "$3" 2>/dev/null; then
			grep -q "$2" "$1" 2>/dev/null
			return
		fi
		wl_i=$((wl_i + 1))
		[ "$wl_i" -lt 1000 ] || return 1
		sleep 0.01
	done
}
# listen_port FILE: the port of "...: listening on tcp:127.0.0.1:PORT".
listen_port() {
	sed -n 's/.*listening on tcp:127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$1" | head -n 1
}
errtext() { tr '\n' ' ' <"$W/$1.err" | cut -c 1-300; }
# jget FILE KEY: a scalar of a JSON file (keys joined by dots).
jget() {
	awk -f "$here/jsonflat.awk" "$1" | awk -v k="$2" '$1 == k { print $2; exit }'
}
# kv KEY FILE: KEY=VALUE out of a line of the reference programs.
kv() { tr ' ' '\n' <"$2" | sed -n "s/^$1=//p" | head -n 1; }
calc() { awk "BEGIN { printf \"%.6g\", $1 }"; }
isnum() { case $1 in '' | n/a | *[!0-9.e+-]*) return 1 ;; esac; }
# record METRIC VALUE: one sample (non-numbers are a failure of the caller).
# Metrics are named "$pfx$METRIC": the musl pass sets pfx=musl.
pfx=
record() {
	if isnum "$2"; then
		printf '%s\n' "$2" >>"$W/data/$pfx$1"
	else
		fail "$pfx$1: no number in the output (got '$2')"
	fi
}
median() {
	if [ -s "$W/data/$1" ]; then
		sort -n "$W/data/$1" | awk '{ v[NR] = $1 } END {
			m = int((NR + 1) / 2); print (NR % 2) ? v[m] : (v[m] + v[m + 1]) / 2 }'
	else
		echo n/a
	fi
}
maximum() {
	if [ -s "$W/data/$1" ]; then sort -n "$W/data/$1" | tail -n 1; else echo n/a; fi
}
# whole NAME BYTES: BYTES in MiB over the wall time in NAME.time
whole() {
	awk -v b="$2" '{ if ($4 > 0) printf "%.6g", b / 1048576 / $4 }' "$W/$1.time" 2>/dev/null
}
# cost TAG BYTES NAME...: CPU seconds per GiB moved and peak RSS (KiB) of
# the processes whose NAME.time files are given (summed, largest).
cost() {
	co_tag=$1 co_bytes=$2
	shift 2
	for co_n; do
		[ -s "$W/$co_n.time" ] || return 0
	done
	for co_n; do cat "$W/$co_n.time"; done >"$W/cost.txt"
	record "cpu.$co_tag" "$(awk -v b="$co_bytes" '{ s += $1 + $2 }
		END { printf "%.6g", s / (b / 1073741824) }' "$W/cost.txt")"
	record "rss.$co_tag" "$(awk '$3 > m { m = $3 } END { print m + 0 }' "$W/cost.txt")"
}
f1() { if isnum "$1"; then awk "BEGIN { printf \"%.1f\", $1 }"; else echo n/a; fi; }
f2() { if isnum "$1"; then awk "BEGIN { printf \"%.2f\", $1 }"; else echo n/a; fi; }

# ---- vsockbox: vsock-perf on an ephemeral port, one guest applet ----
# vsb_pair TAG GUEST_APPLET GUEST_ARGS -- HOST_ARGS: runs both (on $hcpu
# and $gcpu), leaves host.out (JSON), host.time, guest.time; fails on any
# error.
vsb_pair() {
	vp_tag=$1 vp_applet=$2
	shift 2
	vp_gargs=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vp_gargs="$vp_gargs $1"
		shift
	done
	shift
	start_bg host "$hcpu" "$vsb" vsock-perf --listen tcp:127.0.0.1:0 --json \
		--timeout "$timeout" "$@"
	vp_host=$bg
	if ! wait_line "$W/host.err" 'listening on tcp:' "$vp_host"; then
		fail "$vp_tag: vsock-perf did not listen: $(errtext host)"
		stop "$vp_host"
		return 1
	fi
	vp_port=$(listen_port "$W/host.err")
	# shellcheck disable=SC2086 # options without spaces
	if ! run_fg guest "$gcpu" "$vsb" "$vp_applet" --peer "tcp:127.0.0.1:$vp_port" \
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

# Each measurement below leaves its figures in r_whole, r_p50, r_p99 (empty
# when it failed) for pair() to compare, and records CPU and RSS.
r_clear() { r_whole='' r_p50='' r_p99=''; }

# vsockbox unidir: "whole" is all bytes over the guest applet's wall time,
# "p50" vsock-perf's median iteration.
m_uni_vsb() {
	cpus any
	vsb_pair unidir vsock-unidir --size "$size" --count "$count" -- \
		--tests unidir --size "$size" --count "$count" || return
	r_p50=$(jget "$W/host.out" single_stream_unidirectional.p_50th)
	r_whole=$(whole guest "$uni_bytes")
	cost "unidir.vsock-perf" "$uni_bytes" host
	cost "unidir.vsock-unidir" "$uni_bytes" guest
}
m_bi_vsb() {
	cpus any
	vsb_pair bidir vsock-bidir --size "$size" --count "$count" -- \
		--tests bidir --size "$size" --count "$count" || return
	mb_tx=$(jget "$W/host.out" tx_throughput.p_50th)
	mb_rx=$(jget "$W/host.out" rx_throughput.p_50th)
	isnum "$mb_tx" && isnum "$mb_rx" && r_p50=$(calc "$mb_tx + $mb_rx")
	r_whole=$(whole guest "$((2 * bi_bytes))")
	cost "bidir.vsock-perf" "$((2 * bi_bytes))" host
	cost "bidir.vsock-bidir" "$((2 * bi_bytes))" guest
}
# m_lat_vsb: on $lat_mode's CPUs
m_lat_vsb() {
	cpus "$lat_mode"
	vsb_pair latency vsock-echo -- --tests latency --latency-count "$lat" || return
	r_p50=$(jget "$W/host.out" round_trip_page.p_50th)
	r_p99=$(jget "$W/host.out" round_trip_page.p_99th)
	isnum "$r_p50" && r_p50=$(calc "$r_p50 / 1000")
	isnum "$r_p99" && r_p99=$(calc "$r_p99 / 1000")
	cost "latency-$lat_mode.vsock-perf" "$(lat_bytes)" host
	cost "latency-$lat_mode.vsock-echo" "$(lat_bytes)" guest
}
lat_bytes() { echo $((2 * 4096 * (lat + 100))); }	# warm-up included
# calibrate_lat: $lat for $lat_mode, so that a run of round trips lasts
# about as long as sockperf's window ($sp_secs): the machine changes speed
# within seconds, and a shorter window would weigh a change differently.
# From the median of a short run that records nothing (at most $lat_max);
# if that run fails (a failure already), the short count stays, so that
# every later batch of this mode still has one.
calibrate_lat() {
	cpus "$lat_mode"
	lat=$lat_probe
	if vsb_pair latency vsock-echo -- --tests latency --latency-count "$lat"; then
		cl_p50=$(jget "$W/host.out" round_trip_page.p_50th)
		if isnum "$cl_p50"; then
			lat=$(awk -v ns="$cl_p50" -v s="$sp_secs" -v m="$lat_max" -v p="$lat_probe" \
				'BEGIN { n = int(s * 1e9 / ns); if (n > m) n = m; if (n < p) n = p; print n }')
		else
			fail "latency calibration: no median"
		fi
	fi
	eval "lat_$lat_mode=\$lat"
}
# The musl build, the same way.
musl_on() { glibc_vsb=$vsb vsb=$musl pfx=musl.; }
musl_off() { vsb=$glibc_vsb pfx=; }
m_uni_musl() { musl_on; m_uni_vsb; musl_off; }
m_bi_musl() { musl_on; m_bi_vsb; musl_off; }
m_lat_musl() { musl_on; m_lat_vsb; musl_off; }

# ---- the C floor ----
# The same pattern as vsock-perf with vsock-unidir: per iteration SIZE out,
# then SIZE back (-R), timed per iteration of 2 x SIZE.
m_uni_ceil() {
	if ! run_fg ceil - "$W/ceiling" -R -b "$ceil_io_uni" -n "$uni_bytes" -i "$((2 * size))"; then
		fail "ceiling unidir: $(errtext ceil)"
		return
	fi
	r_p50=$(kv p50_mibps "$W/ceil.out")
	r_whole=$(kv mibps "$W/ceil.out")
	cost unidir.ceiling "$uni_bytes" ceil
}
m_bi_ceil() {
	if ! run_fg ceil - "$W/ceiling" -B -b "$ceil_io_bi" -n "$bi_bytes" -i "$size"; then
		fail "ceiling bidir: $(errtext ceil)"
		return
	fi
	mc_tx=$(kv tx_p50_mibps "$W/ceil.out")
	mc_rx=$(kv rx_p50_mibps "$W/ceil.out")
	isnum "$mc_tx" && isnum "$mc_rx" && r_p50=$(calc "$mc_tx + $mc_rx")
	r_whole=$(kv mibps "$W/ceil.out")
	cost bidir.ceiling "$((2 * bi_bytes))" ceil
}
# m_lat_pp: the echo server where vsock-echo runs, the client where
# vsock-perf runs.
m_lat_pp() {
	cpus "$lat_mode"
	start_bg pps "$gcpu" "$W/pingpong" -l tcp:127.0.0.1:0
	mp_srv=$bg
	if ! wait_line "$W/pps.err" 'listening on tcp:' "$mp_srv"; then
		fail "pingpong server: $(errtext pps)"
		stop "$mp_srv"
		return
	fi
	if ! run_fg pp "$hcpu" "$W/pingpong" -n "$lat" -w 100 \
		-c "tcp:127.0.0.1:$(listen_port "$W/pps.err")"; then
		fail "pingpong: $(errtext pp)"
		stop "$mp_srv"
		return
	fi
	wait "$mp_srv" || fail "pingpong server: $(errtext pps)"
	r_p50=$(kv p50_us "$W/pp.out")
	r_p99=$(kv p99_us "$W/pp.out")
	cost "latency-$lat_mode.pingpong" "$(lat_bytes)" pp pps
}

# ---- iperf3 and sockperf, on a free port found by trying ----
next_port=$((20000 + $$ % 20000))
# tool_server NAME CPU READY_REGEX CMD...: CMD with "-p PORT" appended, in
# the background (on CPU, or anywhere for -); retries the next port if CMD
# dies unready. The port in $sport, the pid in $spid.
tool_server() {
	ts_name=$1 ts_cpu=$2 ts_ready=$3
	shift 3
	set -- "$W/$ts_name.time" "$@"
	[ "$ts_cpu" = - ] || set -- -c "$ts_cpu" "$@"
	for ts_try in 1 2 3 4 5 6 7 8; do
		sport=$next_port
		next_port=$((next_port + 1))
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
iperf3_run() { # TAG ARGS...: one iperf3 test, JSON in iperf3.json, the client's times in ipc.time
	ir_tag=$1
	shift
	tool_server iperf3-s - 'Server listening' iperf3 -s -1 --forceflush || return 1
	if ! "$W/rusage" "$W/ipc.time" iperf3 -c 127.0.0.1 -p "$sport" -J "$@" >"$W/iperf3.json" 2>&1; then
		fail "iperf3 $ir_tag: $(head -c 300 "$W/iperf3.json")"
		stop "$spid"
		return 1
	fi
	wait "$spid"
}
# iperf3: "whole" is the bytes over the client process's wall time, as for
# the guest applet (connection set-up included on both sides).
m_uni_iperf() {
	have iperf3 || return 0
	iperf3_run unidir -n "$uni_bytes" || return
	r_whole=$(whole ipc "$uni_bytes")
}
# iperf3 --bidir -n stops when the first direction is done, so the figure is
# all bytes received both ways over the client's wall time.
m_bi_iperf() {
	have iperf3 || return 0
	iperf3_run bidir --bidir -n "$bi_bytes" || return
	mi_f=$(jget "$W/iperf3.json" end.sum_received.bytes)
	mi_r=$(jget "$W/iperf3.json" end.sum_received_bidir_reverse.bytes)
	if isnum "$mi_f" && isnum "$mi_r"; then
		# shellcheck disable=SC2034 # read by pair
		r_whole=$(whole ipc "$(calc "$mi_f + $mi_r")")
	else
		fail "iperf3 bidir: no result in its JSON"
	fi
}
# m_lat_sp: sockperf on $lat_mode's CPUs
m_lat_sp() {
	have sockperf || return 0
	cpus "$lat_mode"
	tool_server sockperf-s "$gcpu" 'block on socket' sockperf server --tcp -i 127.0.0.1 || return
	set -- "$W/sockperf.time" sockperf ping-pong --tcp -i 127.0.0.1 -p "$sport" \
		-m 4096 -t "$sp_secs" --full-rtt
	[ "$hcpu" = - ] || set -- -c "$hcpu" "$@"
	if ! "$W/rusage" "$@" >"$W/sockperf.out" 2>&1; then
		fail "sockperf: $(tail -n 3 "$W/sockperf.out")"
	else
		r_p50=$(sed -n 's/.*percentile 50\.000 = *\([0-9.]*\).*/\1/p' "$W/sockperf.out")
		r_p99=$(sed -n 's/.*percentile 99\.000 = *\([0-9.]*\).*/\1/p' "$W/sockperf.out")
	fi
	stop_tool "$spid"
}

# ---- pairs ----
# pair KIND A B: one pair of runs, m_KIND_A and m_KIND_B, A first in odd
# rounds ($round) and B first in even ones; then records, for each figure
# both gave, SERIES.a, .b and .r (A/B of this pair), SERIES being
# KIND.A-B.FIG (latency: lat.MODE.A-B.FIG).
pair() {
	pr_k=$1 pr_a=$2 pr_b=$3
	if [ $((round % 2)) = 1 ]; then set -- "$pr_a" "$pr_b"; else set -- "$pr_b" "$pr_a"; fi
	for pr_who; do
		r_clear
		"m_${pr_k}_$pr_who"
		eval "pr_${pr_who}_whole=\$r_whole pr_${pr_who}_p50=\$r_p50 pr_${pr_who}_p99=\$r_p99"
	done
	for pr_fig in whole p50 p99; do
		pr_va='' pr_vb=''
		eval "pr_va=\$pr_${pr_a}_$pr_fig pr_vb=\$pr_${pr_b}_$pr_fig"
		if ! isnum "$pr_va" || ! isnum "$pr_vb"; then continue; fi
		pr_s=$pr_k.$pr_a-$pr_b.$pr_fig
		[ "$pr_k" != lat ] || pr_s=lat.$lat_mode.$pr_a-$pr_b.$pr_fig
		record "$pr_s.a" "$pr_va"
		record "$pr_s.b" "$pr_vb"
		record "$pr_s.r" "$(awk "BEGIN { printf \"%.4f\", $pr_va / $pr_vb }")"
	done
}

# ---- batches: each under the CPU lock, with the others' share of the CPUs ----
# cpu_jiffies: "BUSY TOTAL STEAL" of all CPUs; busy is user, nice and system
# time (irq and softirq left out: they are mostly our own network work).
cpu_jiffies() {
	awk '/^cpu / { b = $2 + $3 + $4; print b, b + $5 + $6 + $7 + $8 + $9, $9 }' /proc/stat
}
# retrans: TCP segments retransmitted so far in our network namespace
retrans() {
	awk '$1 == "Tcp:" { if (!n) { for (i = 1; i <= NF; i++) if ($i == "RetransSegs") k = i; n = 1 }
		else print $k }' /proc/net/snmp 2>/dev/null
}
# our_cpu: $ours gets the CPU seconds of all the children this shell has
# reaped. Never in $(...) or a pipe: a subshell has no children.
our_cpu() {
	times >"$W/times.txt"
	ours=$(sed -n 2p "$W/times.txt" | tr 'ms' '  ' |
		awk '{ printf "%.3f", $1 * 60 + $2 + $3 * 60 + $4 }')
}
lock=${BENCH_LOCK-/tmp/vsockbox-cpu.lock}
[ "$quick" = 0 ] || lock=${BENCH_LOCK:-}
batch_begin() {
	bt_name=$1
	if [ -n "$lock" ] && have flock; then
		log "bench: $bt_name: waiting for the CPU lock $lock"
		exec 9>>"$lock"
		flock 9 || log "bench: no lock, going on without"
	fi
	log "bench: $bt_name"
	bt_j0=$(cpu_jiffies) bt_r0=$(retrans)
	our_cpu
	bt_o0=$ours
}
batch_end() {
	our_cpu
	bt_o1=$ours
	# shellcheck disable=SC2046,SC2086 # three numbers each
	set -- $(cpu_jiffies) $bt_j0
	printf '%s\n' "$*" "$bt_o0 $bt_o1 ${bt_r0:-0} $(retrans)" |
		awk -v hz="$(getconf CLK_TCK)" -v name="$bt_name" -v ncpu="$(nproc)" '
		NR == 1 { busy = ($1 - $4) / hz; total = ($2 - $5) / hz; steal = ($3 - $6) / hz }
		NR == 2 { o = total > 0 ? (busy - ($2 - $1)) / total * 100 : 0
			if (o < 0) o = 0
			st = total > 0 ? steal / total * 100 : 0
			printf "%s %.0f %.0f %.1f %d\n", name, o, st, total / ncpu, $4 - $3 }' \
		>>"$W/busy.txt"
	if [ -n "$lock" ] && have flock; then flock -u 9; exec 9>&-; fi
}

# ---- the applets measured once: multi stream, integration test, vsock-ctl ----
m_once() {
	mcount=2
	cpus any
	if vsb_pair multi vsock-multi --size "$size" --count "$mcount" -- \
		--tests multi --size "$size" --count "$mcount"; then
		record tp.multi.vsb "$(jget "$W/host.out" multi_stream_unidirectional.p_50th)"
		cost multi.vsock-perf "$((5 * 2 * size * mcount))" host
		cost multi.vsock-multi "$((5 * 2 * size * mcount))" guest
	fi

	# vsock-itest-host first (ephemeral port); the guest's servers on P..P+2.
	gport=$next_port
	next_port=$((next_port + 3))
	start_bg ihost - "$vsb" vsock-itest-host --guest "tcp:127.0.0.1:$gport" \
		--listen tcp:127.0.0.1:0 --timeout "$timeout"
	mo_host=$bg
	if wait_line "$W/ihost.err" 'listening on tcp:' "$mo_host"; then
		if ! run_fg iguest - "$vsb" vsock-itest --peer "tcp:127.0.0.1:$(listen_port "$W/ihost.err")" \
			--listen "tcp:127.0.0.1:$gport" --timeout "$timeout"; then
			fail "vsock-itest: $(errtext iguest) $(cat "$W/iguest.out")"
		fi
		if wait "$mo_host"; then
			cost itest.vsock-itest-host 1073741824 ihost
			cost itest.vsock-itest 1073741824 iguest
		else
			fail "vsock-itest-host: $(errtext ihost)"
		fi
	else
		fail "vsock-itest-host did not listen: $(errtext ihost)"
		stop "$mo_host"
	fi

	# vsock-ctl alone, against a bare listener (ceiling moving 0 bytes).
	start_bg dummy - "$W/ceiling" -n 0 -l tcp:127.0.0.1:0
	mo_dummy=$bg
	if wait_line "$W/dummy.err" 'listening on tcp:' "$mo_dummy"; then
		if run_fg ctl - "$vsb" vsock-ctl --peer "tcp:127.0.0.1:$(listen_port "$W/dummy.err")" \
			--magic 123 --timeout "$timeout"; then
			cost ctl.vsock-ctl 1073741824 ctl
		else
			fail "vsock-ctl: $(errtext ctl)"
		fi
		wait "$mo_dummy" || fail "dummy control peer: $(errtext dummy)"
	else
		fail "dummy control peer did not listen"
		stop "$mo_dummy"
	fi
}

# ---- the best read/write size for the ceiling ----
ceil_io_uni=1M ceil_io_bi=1M
sweep() {
	sw_best_uni=0 sw_best_bi=0
	for sw_io in 64K 128K 256K 512K 1M; do
		for _ in 1 2 3; do
			run_fg ceil - "$W/ceiling" -R -b "$sw_io" -n "$uni_bytes" -i "$((2 * size))" &&
				record "sweep.uni.$sw_io" "$(kv p50_mibps "$W/ceil.out")"
			run_fg ceil - "$W/ceiling" -B -b "$sw_io" -n "$bi_bytes" -i "$size" &&
				record "sweep.bi.$sw_io" "$(calc "$(kv tx_p50_mibps "$W/ceil.out") + $(kv rx_p50_mibps "$W/ceil.out")")"
		done
		sw_u=$(median "sweep.uni.$sw_io")
		sw_b=$(median "sweep.bi.$sw_io")
		sweep_line="$sweep_line $sw_io:$(f1 "$sw_u")/$(f1 "$sw_b")"
		if isnum "$sw_u" && awk "BEGIN { exit !($sw_u > $sw_best_uni) }"; then
			sw_best_uni=$sw_u ceil_io_uni=$sw_io
		fi
		if isnum "$sw_b" && awk "BEGIN { exit !($sw_b > $sw_best_bi) }"; then
			sw_best_bi=$sw_b ceil_io_bi=$sw_io
		fi
	done
}

# ---- binary size and start-up ----
# The musl builds: -O2, -Os, and the Makefile's SMALL=1 (flags alone, no
# code change, that make the binary smaller; the README's route).
sizes() {
	if strip -o "$W/vsockbox.glibc" "$vsb"; then
		size_glibc=$(wc -c <"$W/vsockbox.glibc")
	else
		fail "strip $vsb"
	fi
	printf 'int main(void) { return 0; }\n' >"$W/true.c"
	"$HOSTCC" -static -O2 -o "$W/true.glibc" "$W/true.c" || fail "$HOSTCC -static true.c"
	have "$MUSL_CC" || return 0
	"$MUSL_CC" -static -O2 -o "$W/true.musl" "$W/true.c" || fail "$MUSL_CC true.c"
	mkdir "$W/src"
	# An out-of-tree copy, so that the main build stays untouched.
	(cd "$top" && tar -cf - --exclude=./.git --exclude=./bench --exclude='*.o' \
		--exclude=./build --exclude=./vsockbox .) | (cd "$W/src" && tar -xf -) ||
		{ fail "copy of the source tree"; return; }
	for sz_v in O2 Os small; do
		case $sz_v in
		small) set -- SMALL=1 ;;
		*) set -- CFLAGS="-$sz_v" LDFLAGS= ;;
		esac
		make -C "$W/src" clean >/dev/null 2>&1
		if make -C "$W/src" CC="$MUSL_CC" "$@" vsockbox >"$W/musl-$sz_v.log" 2>&1 &&
			strip -o "$W/vsockbox.musl-$sz_v" "$W/src/vsockbox"; then
			sz_n=$(wc -c <"$W/vsockbox.musl-$sz_v")
			case $sz_v in
			O2) size_musl_O2=$sz_n ;;
			Os) size_musl_Os=$sz_n ;;
			small) size_musl_small=$sz_n ;;
			esac
		else
			fail "musl build ($sz_v): $(tail -n 3 "$W/musl-$sz_v.log")"
		fi
	done
}
# startup NAME CMD...: median seconds per call, by hyperfine or a shell loop
startup() {
	su_name=$1
	shift
	"$@" >/dev/null 2>&1 || { fail "start-up: $* exits $?"; return; }
	if have hyperfine; then
		if hyperfine -N --style none --warmup 20 --runs "$starts" \
			--export-json "$W/hf.json" -- "$*" >/dev/null 2>"$W/hf.err"; then
			record "start.$su_name" "$(calc "$(jget "$W/hf.json" results.0.median) * 1000000")"
		else
			fail "hyperfine $*: $(head -c 300 "$W/hf.err")"
		fi
		return
	fi
	# No hyperfine: the mean of a shell loop, fork included.
	su_t0=$(date +%s%N)
	su_i=0
	while [ "$su_i" -lt "$starts" ]; do
		"$@" >/dev/null 2>&1
		su_i=$((su_i + 1))
	done
	record "start.$su_name" "$(calc "($(date +%s%N) - $su_t0) / 1000 / $starts")"
}

# ---- run ----
log "bench: $vsb_given, $runs pairs, $(if [ "$quick" = 1 ]; then echo quick; else echo full; fi):" \
	"unidir $uni_bytes B, bidir $bi_bytes B each way, latency about $sp_secs s per run"
log "bench: binary sizes (a musl build in a copy of the tree)"
size_glibc=n/a size_musl_O2=n/a size_musl_Os=n/a size_musl_small=n/a
sizes
musl=$W/vsockbox.musl-O2
: >"$W/busy.txt"
sweep_line=
if [ "$quick" = 0 ]; then
	batch_begin 'ceiling read/write size sweep'
	sweep
	batch_end
fi
# Every comparison is a series of pairs, A and B in turn first.
# compare_batch TITLE KIND FLOOR TOOL PROGRAM [PREPARE]: vsockbox against
# the C floor and, if PROGRAM is installed, against TOOL; PREPARE first,
# within the batch.
compare_batch() {
	batch_begin "$1, $runs pairs per comparison"
	[ -z "${6-}" ] || "$6"
	round=0
	while [ "$round" -lt "$runs" ]; do
		round=$((round + 1))
		pair "$2" vsb "$3"
		have "$5" && pair "$2" vsb "$4"
	done
	batch_end
}
compare_batch unidirectional uni ceil iperf iperf3
compare_batch bidirectional bi ceil iperf iperf3
for lat_mode in $lat_modes; do
	compare_batch "latency, $(mode_name "$lat_mode")" lat pp sp sockperf calibrate_lat
done
if [ -x "$musl" ]; then
	batch_begin "the musl build against the glibc one, $musl_runs pairs"
	lat_mode=${lat_modes%% *}
	eval "lat=\$lat_$lat_mode"
	round=0
	while [ "$round" -lt "$musl_runs" ]; do
		round=$((round + 1))
		pair uni musl vsb
		pair bi musl vsb
		pair lat musl vsb
	done
	batch_end
fi
batch_begin 'multi stream, integration test, vsock-ctl, start-up'
m_once
if [ -x "$musl" ]; then
	glibc_vsb=$vsb vsb=$musl pfx=musl.
	m_once
	vsb=$glibc_vsb pfx=
fi
# The floor under every RSS figure: a static program that does nothing.
for f in glibc musl; do
	[ -x "$W/true.$f" ] && run_fg "true-$f" - "$W/true.$f" &&
		cost "floor.$f" 1073741824 "true-$f"
done
startup glibc "$W/vsockbox.glibc" vsock-echo --help
[ -x "$musl" ] && startup musl "$musl" vsock-echo --help
[ -x "$W/true.glibc" ] && startup true.glibc "$W/true.glibc"
[ -x "$W/true.musl" ] && startup true.musl "$W/true.musl"
batch_end

# ---- report ----
mib() { if isnum "$1"; then awk "BEGIN { printf \"%.2f\", $1 / 1024 }"; else echo n/a; fi; }
kib() { if isnum "$1"; then awk "BEGIN { printf \"%.1f\", $1 / 1024 }"; else echo n/a; fi; }
f3() { if isnum "$1"; then awk "BEGIN { printf \"%.3f\", $1 }"; else echo n/a; fi; }
minimum() {
	if [ -s "$W/data/$1" ]; then sort -n "$W/data/$1" | head -n 1; else echo n/a; fi
}
count() { if [ -s "$W/data/$1" ]; then wc -l <"$W/data/$1" | tr -d ' '; else echo 0; fi; }
# verdict CONDITION: met, MISSED, or n/a when a figure is missing
verdict() {
	case $1 in *n/a*) echo n/a; return ;; esac
	if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi
}
# pr LABEL SERIES: one comparison: the medians of A and B, the median of
# the per-pair ratios A/B with their min and max, and the number of pairs.
pr() {
	printf '%-34s %9s %9s %7s %7s %7s %3s\n' "$1" "$(f1 "$(median "$2.a")")" \
		"$(f1 "$(median "$2.b")")" "$(f3 "$(median "$2.r")")" "$(f3 "$(minimum "$2.r")")" \
		"$(f3 "$(maximum "$2.r")")" "$(count "$2.r")"
}
head_row() { printf '%-34s %9s %9s %7s %7s %7s %3s\n' "$1" A B 'A/B' min max n; }
line() { printf '%-38s %12s %14s %14s\n' "$1" "$2" "${3-}" "${4-}"; }
# target TEXT SERIES OP LIMIT: met when the median of the per-pair ratios holds
target() {
	tg_m=$(f3 "$(median "$2.r")")
	printf '  %-58s %s\n' "$1 (median $tg_m)" "$(verdict "$tg_m $3 $4")"
}

report() {
	printf 'vsockbox bench over TCP 127.0.0.1: pairs of runs, A and B in turn first\n'
	printf 'unidir %s B (vsock-perf --size %s --count %s); bidir %s B each way;\n' \
		"$uni_bytes" "$size" "$count" "$bi_bytes"
	rp_counts=
	for rp_mode in $lat_modes; do
		rp_n=
		eval "rp_n=\${lat_$rp_mode:-n/a}"
		rp_counts="$rp_counts${rp_counts:+, }$rp_n on $(mode_name "$rp_mode")"
	done
	printf 'latency 4096 B round trips: %s\n' "$rp_counts"
	printf '  (a run of about %s s, like sockperf -t %s%s)\n' "$sp_secs" "$sp_secs" \
		"$(if [ "$quick" = 1 ]; then echo "; quick: at most $lat_max"; fi)"
	printf 'ceiling read/write size: unidir %s, bidir %s' "$ceil_io_uni" "$ceil_io_bi"
	if [ -n "$sweep_line" ]; then
		printf '\n  (sweep, medians of 3, MiB/s unidir/bidir:%s)\n' "$sweep_line"
	else
		printf ' (no sweep in quick mode)\n'
	fi
	printf 'TCP congestion control %s; batches, %s:\n' \
		"$(cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null || echo '?')" \
		"$(if [ -n "$lock" ]; then echo "each under the CPU lock"; else echo "no CPU lock"; fi)"
	printf '  %-52s %7s %6s %6s %8s\n' '' 'others' steal wall retrans
	while read -r bb_line; do
		printf '  %s\n' "$bb_line" | awk '{ r = $NF; w = $(NF - 1); s = $(NF - 2); o = $(NF - 3)
			$NF = ""; $(NF - 1) = ""; $(NF - 2) = ""; $(NF - 3) = ""; sub(/ +$/, "")
			printf "  %-52s %6d%% %5d%% %5.0fs %8d\n", $0, o, s, w, r }'
	done <"$W/busy.txt"
	echo '  (others: the share of CPU time, user and system, that our processes did'
	echo '   not use; retrans: TCP segments retransmitted over loopback)'
	echo
	head_row 'throughput, MiB/s (A: vsockbox)'
	pr 'unidir vs ceiling (same pattern)' uni.vsb-ceil.whole
	pr '  p50 iteration' uni.vsb-ceil.p50
	pr 'unidir vs iperf3 -n' uni.vsb-iperf.whole
	pr 'bidir vs ceiling' bi.vsb-ceil.whole
	pr '  p50 tx + p50 rx' bi.vsb-ceil.p50
	pr 'bidir vs iperf3 --bidir -n' bi.vsb-iperf.whole
	pr 'musl build vs glibc: unidir' uni.musl-vsb.whole
	pr '  bidir' bi.musl-vsb.whole
	printf '%-34s %9s\n' 'multi, 5 streams, p50' "$(f1 "$(median tp.multi.vsb)")"
	echo '(whole: all bytes over the wall time of the guest applet / iperf3 client'
	echo ' process / the ceiling'"'"'s timed run; p50: the median iteration as vsock-perf'
	echo ' reports it; A/B: the median of the per-pair ratios, min, max, n pairs)'
	echo
	head_row 'round trip 4 KiB, us (A: vsockbox)'
	for rp_mode in $lat_modes; do
		for rp_p in p50 p99; do
			pr "$rp_p, $(mode_name "$rp_mode"), vs pingpong" "lat.$rp_mode.vsb-pp.$rp_p"
			pr "$rp_p, $(mode_name "$rp_mode"), vs sockperf" "lat.$rp_mode.vsb-sp.$rp_p"
		done
	done
	rp_mode=${lat_modes%% *}
	pr "p50, $(mode_name "$rp_mode"), musl vs glibc" "lat.$rp_mode.musl-vsb.p50"
	pr "p99, $(mode_name "$rp_mode"), musl vs glibc" "lat.$rp_mode.musl-vsb.p99"
	echo
	line 'process (test)' 'CPU s/GiB' 'peak RSS KiB' 'musl: RSS KiB'
	rp_lat=latency-${lat_modes%% *}
	for rp_test in unidir:vsock-unidir:ceiling bidir:vsock-bidir:ceiling \
		"$rp_lat:vsock-echo:pingpong" multi:vsock-multi: \
		itest:vsock-itest:vsock-itest-host ctl:vsock-ctl:; do
		IFS=: read -r rp_t rp_guest rp_ref <<-EOF
			$rp_test
		EOF
		case $rp_t in
		itest | ctl) rp_host=$rp_ref rp_ref= ;;
		*) rp_host=vsock-perf ;;
		esac
		for rp_p in "$rp_host" "$rp_guest" "$rp_ref"; do
			[ -n "$rp_p" ] || continue
			rp_cpu=$(f2 "$(median "cpu.$rp_t.$rp_p")")
			case $rp_t in itest | ctl) rp_cpu=- ;; esac
			rp_musl=$(maximum "musl.rss.$rp_t.$rp_p")
			case $rp_p in vsock-*) ;; *) rp_musl= ;; esac
			line "$rp_p ($rp_t)" "$rp_cpu" "$(maximum "rss.$rp_t.$rp_p")" "$rp_musl"
			if [ "$rp_p" = "$rp_guest" ] && [ "$rp_cpu" != - ]; then
				rp_h=$(median "cpu.$rp_t.$rp_host") rp_g=$(median "cpu.$rp_t.$rp_guest")
				rp_sum=n/a
				isnum "$rp_h" && isnum "$rp_g" && rp_sum=$(calc "$rp_h + $rp_g")
				line "  vsockbox, both ends ($rp_t)" "$(f2 "$rp_sum")" ''
			fi
		done
	done
	line 'empty main(), static (the floor)' - "$(maximum rss.floor.glibc)" "$(maximum rss.floor.musl)"
	echo '(ceiling, pingpong: CPU of both ends, RSS of the measuring end;'
	echo ' latency: CPU per GiB of 4 KiB packets moved; vsock-perf keeps each timed'
	echo ' round trip, 8 bytes, so its latency RSS is above what its default 10000 take)'
	echo
	line 'static binary, stripped' bytes ''
	line '  vsockbox, glibc' "$size_glibc" ''
	line '  vsockbox, musl, -O2' "$size_musl_O2" ''
	line '  vsockbox, musl, -Os' "$size_musl_Os" ''
	line '  vsockbox, musl, make SMALL=1 (*)' "$size_musl_small" ''
	line 'start-up, us per call (median)' '' ''
	line '  vsock-echo --help, glibc' "$(f1 "$(median start.glibc)")" ''
	line '  vsock-echo --help, musl' "$(f1 "$(median start.musl)")" ''
	line '  empty main(), glibc static' "$(f1 "$(median start.true.glibc)")" ''
	line '  empty main(), musl static' "$(f1 "$(median start.true.musl)")" ''
	echo
	echo 'targets (a ratio target is met when the median of the per-pair ratios holds)'
	target 'unidir >= 0.95 x ceiling, same pattern' uni.vsb-ceil.whole '>=' 0.95
	target 'unidir >= iperf3' uni.vsb-iperf.whole '>=' 1
	target 'bidir >= 0.95 x ceiling' bi.vsb-ceil.whole '>=' 0.95
	target 'bidir >= iperf3 --bidir, per byte moved' bi.vsb-iperf.whole '>=' 1
	for rp_mode in $lat_modes; do
		target "echo p50 <= 1.05 x pingpong, $(mode_name "$rp_mode")" \
			"lat.$rp_mode.vsb-pp.p50" '<=' 1.05
		target "echo p50 <= sockperf, $(mode_name "$rp_mode")" "lat.$rp_mode.vsb-sp.p50" '<=' 1
		target "echo p99 <= sockperf, $(mode_name "$rp_mode")" "lat.$rp_mode.vsb-sp.p99" '<=' 1
	done
	rp_rss=0
	for rp_f in "$W"/data/rss.*.vsock-* "$W"/data/musl.rss.*.vsock-*; do
		[ -s "$rp_f" ] || continue
		rp_m=$(maximum "${rp_f##*/}")
		[ "$rp_m" -gt "$rp_rss" ] && rp_rss=$rp_m
	done
	[ "$rp_rss" = 0 ] && rp_rss=n/a
	printf '  %-58s %s\n' "peak RSS <= 2 MiB per applet (largest: $(mib "$rp_rss") MiB)" \
		"$(verdict "$rp_rss <= 2048")"
	printf '  %-58s %s\n' "stripped static musl binary <= 64 KiB, -O2 ($(kib "$size_musl_O2") KiB)" \
		"$(verdict "$size_musl_O2 <= 65536")"
	printf '  %-58s %s\n' "  the same with make SMALL=1 (*) ($(kib "$size_musl_small") KiB)" \
		"$(verdict "$size_musl_small <= 65536")"
	echo
	echo "(*) SMALL=1 (Makefile): -Os, no unwind tables, unused sections dropped,"
	echo "    no RELRO, no page-aligned code segment, no build id"
}

report >"$W/table.txt"
cat "$W/table.txt"
if [ -n "$out" ]; then
	{
		echo '# vsockbox benchmark results'
		echo
		echo "Taken $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/run.sh$(
			[ "$quick" = 1 ] && echo ' --quick')\` ($failures failures)."
		echo
		echo "- source: $source," \
			"binary $(wc -c <"$vsb_given") bytes ($vsb_given)"
		echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)" \
			"(family $(sed -n 's/^cpu family[^:]*: //p' /proc/cpuinfo | head -n 1)," \
			"model $(sed -n 's/^model[^:]*: \([0-9]*\)$/\1/p' /proc/cpuinfo | head -n 1))," \
			"$(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
		echo "- kernel: $(uname -srm); TCP congestion control" \
			"$(cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null || echo '?')," \
			"tcp_rmem $(tr '\t' ' ' </proc/sys/net/ipv4/tcp_rmem 2>/dev/null)," \
			"tcp_wmem $(tr '\t' ' ' </proc/sys/net/ipv4/tcp_wmem 2>/dev/null)"
		echo "- compilers: $("$HOSTCC" --version | head -n 1); musl $(
			dpkg-query -W -f='${Version}' musl 2>/dev/null || echo '?')"
		echo "- tools: $(iperf3 --version 2>/dev/null | head -n 1 | cut -d' ' -f1-2), sockperf $(
			sockperf --version 2>/dev/null | sed -n 's/.*version \([^ ]*\).*/\1/p' | head -n 1)"
		echo
		echo '```'
		cat "$W/table.txt"
		echo '```'
		echo
		[ -f "$here/EARLIER.md" ] && cat "$here/EARLIER.md" && echo
		cat <<-'EOF'
			How: every comparison is a series of pairs of runs, A then B, then B
			then A, and so on (each pair under the CPU lock, in its own network
			namespace when run as root); a ratio is the median of the per-pair
			ratios, with the smallest and largest, never a best run, and a target is
			met only when that median holds. "others busy" is the share of the CPUs'
			user and system time that our processes did not use during the batch
			(irq and softirq time left out, as it is mostly our own network work);
			steal is the hypervisor's. vsockbox: `vsock-perf --listen
			tcp:127.0.0.1:0 --json` with the guest applet; "whole" is all bytes over
			the guest applet's wall time (process start and connections included),
			"p50" vsock-perf's median iteration. ceiling: bench/ceiling.c at the best
			read/write size of a sweep; unidir with the protocol's pattern (-R: per
			iteration SIZE out, then SIZE back, so the stream turns round twice per
			iteration), bidir a writer thread beside the reader, SIZE each way per
			iteration; its own timed run (from the first byte). iperf3: `-n` the
			same bytes; `--bidir -n` ends when the first direction is done, so its
			figure is the bytes received both ways over the client process's wall
			time, like vsockbox's. Throughput runs unpinned. Latency: vsock-perf
			with vsock-echo (100 warm-up, then N timed 4096-byte round trips, N
			set per CPU mode from a short calibration run so that a run lasts
			about as long as sockperf's) vs
			bench/pingpong.c (the same, TCP_NODELAY) vs `sockperf ping-pong --tcp -m
			4096 --full-rtt` (its own percentiles), with both ends on one CPU, then
			on two (host end CPU 0, guest end CPU 1). CPU: wait4's user+sys of each
			process (bench/rusage.c). Peak RSS: the largest VmRSS of the process,
			read every 10 ms and at its exit (a ptrace exit stop), which is exact;
			ru_maxrss and VmHWM would not be: they would count the wrapper's pages
			before exec, and since Linux 6.2 they read per-CPU counters that can
			miss ~32 pages per CPU. ceiling and pingpong: the parent process (the
			measuring end) only.

			Every sample, sorted (X.a, X.b: the two sides of comparison X; X.r: the
			per-pair ratios):
		EOF
		echo
		echo '```'
		for rs_f in "$W"/data/*; do
			case ${rs_f##*/} in start.* | sweep.*) continue ;; esac
			printf '%-34s %s\n' "${rs_f##*/}" "$(sort -n "$rs_f" | tr '\n' ' ')"
		done
		echo '```'
	} >"$out"
	log "bench: wrote $out"
fi
[ "$failures" = 0 ] || { log "bench: $failures failures"; exit 1; }
