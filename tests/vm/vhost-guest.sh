#!/bin/sh
# SPDX-License-Identifier: MIT
# The inner guest's half of make check-vhost (tests/vm/vhost.sh): runs as
# /bin/vm-tests in L2, the guest (CID 3) whose virtio-vsock device is
# vhost-vsock-pci in L1, the host (CID 2; tests/vm/vhost-host.sh).
#
# It checks that the driver bound the device, says "L2-READY ok|FAIL ...",
# then runs what L1 asks for, one command a line on the console (L1 starts
# the host side of each step first), and reports each as
#   L2OUT NAME: a line of the client's stdout
#   L2ERR NAME: a line of its stderr
#   L2DONE NAME rc=N
# L1 judges and prints the VMTEST lines. Settings (kernel command line, the
# same as L1's): vh_size, vh_count, vh_timeout, vh_conform_timeout,
# vh_bound; vh_lifecycle, vh_lc_timeout, vh_lc_wake (vsock-lifecycle's
# events and options, tests/vm/lifecycle-host.sh).
set -u

size=${vh_size:-1M}
count=${vh_count:-2}
tmo=${vh_timeout:-60}
conform_tmo=${vh_conform_timeout:-30}
bound=${vh_bound:-300}
lc_tmo=${vh_lc_timeout:-60}
lc_wake=${vh_lc_wake:-30}
lc_pid=""
work=/tmp/vhost
# shellcheck source=tests/vm/guest-lib.sh
. /bin/vm-lib.sh

say_device_ready L2-READY

report() { # name
	sed "s/^/L2OUT $1: /" "$work/$1.out"
	sed "s/^/L2ERR $1: /" "$work/$1.err"
	echo "L2DONE $1 rc=$rc"
}

data="--size $size --count $count"
while read -r cmd; do
	case $cmd in
	itest) run_client itest vsock-itest --peer vsock:2 --timeout "$tmo" ;;
	# The whole micro benchmark, nine connections through the device.
	bench)
		# shellcheck disable=SC2086
		run_client bench vsock-bench --peer vsock:2 $data --timeout "$tmo" ;;
	# In the background, for L1 to kill this guest mid-run.
	bench-bg)
		# shellcheck disable=SC2086
		vsock-bench --peer vsock:2 $data --timeout "$tmo" \
			>"$work/bench-bg.out" 2>"$work/bench-bg.err" &
		rc=0 ;;
	# MSG_ZEROCOPY sends through the device (vsock-perf --zerocopy in L1).
	zerocopy)
		# shellcheck disable=SC2086
		run_client zerocopy vsock-unidir --peer vsock:2 $data \
			--timeout "$tmo" --zerocopy ;;
	# The benchmark with --verify (and --zerocopy): vsock-perf --verify
	# in L1 checks every byte through the device, and so does L2.
	bench-verify|bench-verify-zc)
		zc=""
		[ "$cmd" = bench-verify-zc ] && zc=--zerocopy
		# shellcheck disable=SC2086
		run_client "$cmd" vsock-bench --peer vsock:2 $data \
			--timeout "$tmo" --verify $zc ;;
	# A host port nobody listens on.
	refused) run_client refused vsock-ctl --peer vsock:2:8999 --timeout "$tmo" ;;
	# The itest host's port from the wrong local port (8501, not 49152).
	wrong-port) run_client wrong-port vsock-ctl --peer vsock:2:8000 --timeout "$tmo" ;;
	# vsock-conform connecting to L1's listening side (KTAP on stdout).
	conform) run_client conform vsock-conform --peer vsock:2 --timeout "$conform_tmo" ;;
	# vsock-conform's listening side here, for L1's connecting side:
	# rc=0 once it listens; conform-listen-end waits for its exit.
	conform-listen)
		rc=0
		start_server conform-listen vsock-conform --listen vsock:any \
			--timeout "$conform_tmo" || rc=1 ;;
	conform-listen-end)
		wait "$server_pid"
		rc=$?
		cp "$work/conform-listen.err" "$work/conform-listen-end.err"
		: >"$work/conform-listen-end.out" ;;
	# vsock-lifecycle's guest half (tests/vm/lifecycle-host.sh), in the
	# background across L2's events, its stdin a FIFO it holds open:
	# lifecycle-armed-EVENT waits until it is armed, lifecycle-over-EVENT
	# tells it the event is over, lifecycle-end waits for its KTAP.
	lifecycle-start)
		rm -f "$work/lc.in"
		mkfifo "$work/lc.in"
		vsock-lifecycle --role guest --peer vsock:2 --events "${vh_lifecycle:-pause}" \
			--timeout "$lc_tmo" --wake "$lc_wake" --wait "$bound" \
			<>"$work/lc.in" >"$work/lifecycle.out" 2>"$work/lifecycle.err" &
		lc_pid=$!
		rc=0
		: >"$work/$cmd.out"
		: >"$work/$cmd.err" ;;
	lifecycle-armed-*)
		tries=$((bound * 2)) rc=1
		while [ "$tries" -gt 0 ] && kill -0 "$lc_pid" 2>/dev/null; do
			grep -q "armed for ${cmd#lifecycle-armed-}:" \
				"$work/lifecycle.err" && rc=0 && break
			tries=$((tries - 1))
			sleep 0.5
		done
		: >"$work/$cmd.out"
		cp "$work/lifecycle.err" "$work/$cmd.err" ;;
	lifecycle-over-*)
		echo over >"$work/lc.in"
		rc=0
		: >"$work/$cmd.out"
		: >"$work/$cmd.err" ;;
	lifecycle-end|lifecycle-end-now)
		[ "$cmd" = lifecycle-end ] || kill "$lc_pid" 2>/dev/null
		wait "$lc_pid"
		rc=$?
		cp "$work/lifecycle.out" "$work/$cmd.out"
		cp "$work/lifecycle.err" "$work/$cmd.err" ;;
	quit) break ;;
	*)
		echo "L2DONE $cmd rc=unknown-command"
		continue ;;
	esac
	report "$cmd"
done
echo "L2-END"
