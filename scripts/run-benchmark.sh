#!/bin/sh
# The main job: the whole micro benchmark on this machine, host side
# (vsock-perf) and guest side (vsock-bench) together, over vsock loopback
# (CID 1) when the kernel offers it, else over TCP loopback.
# Usage: run-benchmark.sh VSOCKBOX [--quick] [--json]
# Detection binds a socket to CID 1 and never connects anywhere, least of
# all to the host (CID 2).
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

# wait_listening FILE PID: the host's "listening on ADDR" line, or its end.
wait_listening() {
	while kill -0 "$2" 2>/dev/null; do
		addr=$(sed -n 's/.*: listening on //p' "$1" | head -n 1)
		[ -z "$addr" ] || return 0
		sleep 0.05
	done
	return 1
}

# Can this kernel bind vsock CID 1 (VMADDR_CID_LOCAL, vsock_loopback)? The
# probe listens for a second and takes no connection.
"$vsockbox" vsock-perf --listen vsock:local:0 --tests latency --timeout 1 \
	2>"$tmp/probe" &
probe=$!
if wait_listening "$tmp/probe" "$probe"; then
	listen=vsock:local:0 peer=vsock:local transport="vsock loopback (CID 1)"
else
	listen=tcp:127.0.0.1:0 peer=tcp:127.0.0.1 transport="TCP loopback"
	why=$(sed 's/^vsock-perf: //' "$tmp/probe")
fi
wait "$probe" 2>/dev/null || true

sizes=""
if $quick; then
	sizes="--size 4M --count 5"
	perf_sizes="$sizes --latency-count 1000"
else
	perf_sizes=""
fi
echo "vsockbox: micro benchmark over $transport${why:+ (no vsock loopback: $why)}" >&2

# shellcheck disable=SC2086
"$vsockbox" vsock-perf --listen "$listen" $perf_sizes $json \
	>"$tmp/result" 2>"$tmp/perf.err" &
perf_pid=$!
if ! wait_listening "$tmp/perf.err" "$perf_pid"; then
	cat "$tmp/perf.err" >&2
	exit 3
fi
port=${addr##*:}
status=0
# shellcheck disable=SC2086
VSOCKBOX=$vsockbox sh "$here/vsock-bench" --peer "$peer:$port" $sizes || status=$?
perf_status=0
wait "$perf_pid" || perf_status=$?
perf_pid=""
grep -v ': listening on ' "$tmp/perf.err" >&2 || true
cat "$tmp/result"
[ "$status" -ne 0 ] || status=$perf_status
exit "$status"
