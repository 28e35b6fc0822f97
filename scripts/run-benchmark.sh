#!/bin/sh
# SPDX-License-Identifier: MIT
# The main job: the whole micro benchmark on this machine, host side
# (vsock-perf) and guest side (vsock-bench) together, over vsock loopback
# (CID 1) when the kernel offers it, else over TCP loopback.
# Usage: run-benchmark.sh VSOCKBOX [--quick] [--json]
# Detection looks for the vsock_loopback module first, then binds a socket
# to CID 1; it never connects anywhere, least of all to the host (CID 2). Progress goes to stderr, one line per finished
# test (a terminal also shows the running count); the table to stdout.
set -eu
vsockbox=$1
shift
quick=false json=""
for arg in "$@"; do
	case $arg in
	--quick) quick=true ;;
	--json) json=--json ;;
	*) echo "run-benchmark: unknown argument '$arg'" >&2; exit 2 ;;
	esac
done
here=$(dirname "$0")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vsockbox-run.XXXXXX")
perf_pid=""
trap '[ -z "$perf_pid" ] || kill "$perf_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
say() { echo "vsockbox: $*" >&2; }
started=$(date +%s)

# start_host NAME ARGS...: vsock-perf in the background, its stderr in
# $tmp/NAME.err (made first: it is read before the host may have opened
# it), its pid in $host_pid.
start_host() {
	name=$1
	shift
	: >"$tmp/$name.err"
	"$vsockbox" vsock-perf "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	host_pid=$!
}

# wait_listening NAME: the host's "listening on ADDR" line (in $addr), or
# its end (status 1).
wait_listening() {
	while kill -0 "$host_pid" 2>/dev/null; do
		addr=$(sed -n 's/.*: listening on //p' "$tmp/$1.err" | head -n 1)
		[ -z "$addr" ] || return 0
		sleep 0.05
	done
	addr=$(sed -n 's/.*: listening on //p' "$tmp/$1.err" | head -n 1)
	[ -n "$addr" ]
}

# Vsock loopback (CID 1, VMADDR_CID_LOCAL) when this kernel has the
# vsock_loopback module loaded: then a probe listens on CID 1 for a second,
# taking no connection. Without the module no AF_VSOCK socket is opened at
# all (a machine's vsock device may belong to something else).
listen=tcp:127.0.0.1:0 peer=tcp:127.0.0.1 transport="TCP loopback"
if [ -d /sys/module/vsock_loopback ]; then
	start_host probe --listen vsock:local:0 --tests latency --timeout 1
	if wait_listening probe; then
		listen=vsock:local:0 peer=vsock:local transport="vsock loopback (CID 1)"
	fi
	wait "$host_pid" 2>/dev/null || true
fi
[ "$peer" != tcp:127.0.0.1 ] ||
	say "no vsock loopback on this machine ('modprobe vsock_loopback' as root provides it): running over TCP loopback instead"

sizes="" perf_sizes="" scale="the protocol's full sizes"
if $quick; then
	sizes="--size 4M --count 5"
	perf_sizes="$sizes --latency-count 1000"
	scale="quick sizes (4 MiB x 5)"
fi
say "the micro benchmark over $transport, at $scale"

# shellcheck disable=SC2086
start_host perf --listen "$listen" --progress $perf_sizes $json
perf_pid=$host_pid
wait_listening perf || { cat "$tmp/perf.err" >&2; exit 3; }
port=${addr##*:}

# The host's progress lines (all but the first), as they come.
shown=1
show_progress() {
	lines=$(wc -l <"$tmp/perf.err")
	[ "$lines" -gt "$shown" ] || return 0
	sed -n "$((shown + 1)),${lines}p" "$tmp/perf.err" >&2
	shown=$lines
}

# shellcheck disable=SC2086
VSOCKBOX=$vsockbox sh "$here/vsock-bench" --peer "$peer:$port" $sizes &
bench_pid=$!
while kill -0 "$perf_pid" 2>/dev/null; do
	show_progress
	sleep 0.2
done
status=0 perf_status=0
wait "$bench_pid" || status=$?
wait "$perf_pid" || perf_status=$?
perf_pid=""
show_progress
cat "$tmp/perf.out"
[ "$status" -ne 0 ] || status=$perf_status
say "done in $(($(date +%s) - started)) s, exit $status"
exit "$status"
