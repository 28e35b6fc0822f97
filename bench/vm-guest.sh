#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/vm-guest.sh: the guest side of make bench-vm (bench/vm.sh puts it in
# the initramfs as /bin/bench-vm-guest, with /bin/vsock_perf, Linux's
# tools/testing/vsock/vsock_perf built at run time). Over vsock loopback
# (CID 1) it runs each variant below once per round, the variants in turn
# and the order reversed every other round, so every two of them alternate
# inside this one boot. Every run moves the same bytes; the time of a run
# is from the start of the sending (client) side to the exit of both ends,
# read from /proc/uptime (10 ms steps), and goes to the console as
#   BVM-RUN ROUND VARIANT HUNDREDTHS EXIT
# The host (bench/vm.sh) turns the lines into ratios.
#
# Settings (kernel command-line words, so environment variables here):
#   bvm_rounds=N   rounds (default 7)
#   bvm_size=B     vsockbox's SIZE per iteration (default 64M)
#   bvm_count=N    vsockbox's iterations (default 8); an iteration moves
#                  SIZE out and SIZE back, so a run moves 2 x SIZE x COUNT,
#                  which vsock_perf is told to send (--bytes) in one way
#   bvm_mbytes=N   that total in MiB (bench/vm.sh computes it)
#   bvm_vsk=B      vsock_perf's socket buffer (--vsk-size) in its "best"
#                  variants (4M, vsockbox's default)
#   bvm_buf=B      vsock_perf's --buf-size there (1M, vsockbox's io-size)
#   bvm_variants=LIST  comma list of the variants (default all)
# Variables set by guest-lib.sh and used there:
# shellcheck disable=SC2034,SC2154

work=/tmp/bvm
# Each process is killed after bound seconds; the applets' own --timeout
# (tmo) ends them first, with a message saying which step waited.
bound=${bvm_bound:-120}
tmo=$((bound - bound / 4))
# shellcheck source=tests/vm/guest-lib.sh
. /bin/vm-lib.sh

rounds=${bvm_rounds:-7}
size=${bvm_size:-64M}
count=${bvm_count:-8}
mbytes=${bvm_mbytes:-1024}
vsk=${bvm_vsk:-4M}
buf=${bvm_buf:-1M}
variants=$(echo "${bvm_variants:-pf,vb,pfz,vbz,pfb,vbk,pfbz}" | tr , ' ')
pf_port=1234

# A variant: which tool, and its options on both ends.
#   pf    vsock_perf, its defaults (128 KiB calls, 256 KiB socket buffer)
#   pfz   the same, the sender with --zerocopy
#   pfb   vsock_perf --buf-size $buf --vsk-size $vsk
#   pfbz  the same, the sender with --zerocopy
#   vb    vsockbox vsock-perf --tests unidir with vsock-unidir, defaults
#         (a 4 MiB socket buffer over vsock)
#   vbk   both with --buffer-size 0 (the kernel's 256 KiB buffer)
#   vbz   both with --zerocopy
options() { # variant: sets tool, opts (both ends), zc (the sender's extra)
	zc=""
	case $1 in
	pf) tool=pf opts="" ;;
	pfz) tool=pf opts="" zc=--zerocopy ;;
	pfb) tool=pf opts="--buf-size $buf --vsk-size $vsk" ;;
	pfbz) tool=pf opts="--buf-size $buf --vsk-size $vsk" zc=--zerocopy ;;
	vb) tool=vb opts="" ;;
	vbk) tool=vb opts="--buffer-size 0" ;;
	vbz) tool=vb opts="--zerocopy" ;;
	*) echo "bench-vm-guest: unknown variant $1"; exit 2 ;;
	esac
}

has_socket() { # pid
	for fd in "/proc/$1/fd/"*; do
		case $(readlink "$fd" 2>/dev/null) in socket:*) return 0 ;; esac
	done
	return 1
}

# The receiver prints nothing before it listens that a pipe would show (its
# stdout is buffered): wait for its socket in /proc, then let the sender
# retry a refused connect. Only the successful attempt is timed.
run_pf() { # variant
	# shellcheck disable=SC2086
	timeout "$bound" vsock_perf --port "$pf_port" $opts \
		>"$work/recv.out" 2>"$work/recv.err" &
	recv=$!
	tries=0
	while ! has_socket "$recv" && [ "$tries" -lt 200 ]; do
		tries=$((tries + 1))
		sleep 0.01
	done
	tries=0
	while :; do
		t1=$(now)
		# shellcheck disable=SC2086
		timeout "$bound" vsock_perf --sender 1 --port "$pf_port" \
			--bytes "${mbytes}M" $opts $zc >"$work/send.out" 2>"$work/send.err"
		rc=$?
		if [ "$rc" -eq 0 ] || grep -q 'total bytes sent' "$work/send.out" ||
			! grep -q 'connect' "$work/send.err" || [ "$tries" -ge 50 ]; then
			break
		fi
		tries=$((tries + 1))
		sleep 0.05
	done
	wait "$recv"
	rrc=$?
	t2=$(now)
	[ "$rc" -ne 0 ] || rc=$rrc
	[ "$rc" -ne 0 ] && kill "$recv" 2>/dev/null
}

run_vb() { # variant
	# shellcheck disable=SC2086
	if ! start_server perf vsock-perf --listen vsock:any:8500 --tests unidir \
		--size "$size" --count "$count" --timeout "$tmo" $opts; then
		wait "$server_pid"
		rc=3 t1=$(now) t2=$t1
		cp "$work/perf.err" "$work/recv.err"
		return
	fi
	t1=$(now)
	# shellcheck disable=SC2086
	timeout "$bound" vsock-unidir --peer vsock:1 --size "$size" \
		--count "$count" --timeout "$tmo" $opts \
		>"$work/send.out" 2>"$work/send.err"
	rc=$?
	wait "$server_pid"
	rrc=$?
	t2=$(now)
	[ "$rc" -ne 0 ] || rc=$rrc
	cp "$work/perf.out" "$work/recv.out"
	cp "$work/perf.err" "$work/recv.err"
}

run() { # round variant
	options "$2"
	"run_$tool" "$2"
	echo "BVM-RUN $1 $2 $((t2 - t1)) $rc"
	# What each end said, once per variant and whenever a run failed.
	if [ "$1" -eq 1 ] || [ "$rc" -ne 0 ]; then
		for f in send.out send.err recv.out recv.err; do
			grep -v '^$' "$work/$f" 2>/dev/null | head -n 20 | sed "s/^/  | $2 $f: /"
		done
	fi
}

echo "BVM-KERNEL $(uname -r) $(uname -m) cpus=$(grep -c '^processor' /proc/cpuinfo)"
echo "BVM-SETTINGS rounds=$rounds size=$size count=$count mbytes=$mbytes vsk=$vsk buf=$buf"
t0=$(now)
reversed=$(for v in $variants; do echo "$v"; done | awk '{l[NR]=$0} END {for (i = NR; i; i--) print l[i]}')
r=1
while [ "$r" -le "$rounds" ]; do
	order=$variants
	[ $((r % 2)) -eq 0 ] && order=$reversed
	for v in $order; do
		run "$r" "$v"
	done
	r=$((r + 1))
done
echo "BVM-DONE uptime=$(seconds "$(now)")s"
