#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/vm.sh: make bench-vm. vsockbox against Linux's vsock_perf
# (tools/testing/vsock/vsock_perf.c) over vsock loopback (CID 1) inside a
# QEMU guest (TCG), one boot per Debian cloud kernel: bookworm's 6.1 and
# trixie's 6.12. vsock_perf is built here at run time, statically, from
# Debian's linux-source package (only tools/testing/vsock is unpacked) and
# cached under the cache directory; nothing of it enters the repository.
# In the guest bench/vm-guest.sh runs every variant once per round, the
# variants alternating inside one boot; here the per-round ratios become
# medians with min, max and the number of pairs, printed as a table and
# (unless --quick) written to bench/RESULTS-VM.md.
#
# Every boot holds the shared CPU lock (flock /tmp/vsockbox-cpu.lock; VM_LOCK
# names another). Reuses tests/vm/lib.sh: tools, kernels, busybox,
# qemu-exit, the console log. A measurement, not a test: exit 0 when every
# run of every kernel worked, 1 when one failed, 2 on a setup error, 77
# skipped (no QEMU, no kernel or source to be had).
set -u

usage() {
	cat <<'EOF'
usage: bench/vm.sh [-b VSOCKBOX] [-c CACHE] [--suites "bookworm trixie"]
                   [--quick] [-o RESULTS.md] [NAME=VALUE]...

  -b VSOCKBOX   the static binary (default: ./vsockbox of the repo)
  -c CACHE      kernels, packages, vsock_perf and console logs (default
                build/vm; $VM_CACHE)
  --suites S    the Debian releases whose cloud kernels boot, one boot each
                (default "bookworm trixie": 6.1 and 6.12)
  --quick       3 rounds of 128 MiB moved per run, no results file
  -o FILE       the results file (default bench/RESULTS-VM.md)
  NAME=VALUE    guest settings: bvm_rounds=N, bvm_size=B, bvm_count=N,
                bvm_vsk=B, bvm_buf=B, bvm_variants=LIST, bvm_bound=S (the
                time-out of every run; bench/vm-guest.sh)
Environment: VM_TIMEOUT (bound on each boot, default 1500 s), VM_LOCK, and
tests/vm/run.sh's VM_MIRROR, VM_BUSYBOX, VM_QEMU, VM_NO_INSTALL, CI.
EOF
}

me=bench-vm
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/vm/lib.sh
. "$repo/tests/vm/lib.sh"

vsockbox=$repo/vsockbox
cache=${VM_CACHE:-$repo/build/vm}
suites="bookworm trixie"
results=$repo/bench/RESULTS-VM.md
quick=""
bound=120 rounds=7 size=64M count=8 vsk=4M buf=1M variants=pf,vb,pfz,vbz,pfb,vbk,pfbz
lock=${VM_LOCK:-/tmp/vsockbox-cpu.lock}
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-b | -c | -o | --suites)
		[ $# -ge 2 ] || die "$1: missing value"
		case $1 in
		-b) vsockbox=$2 ;;
		-c) cache=$2 ;;
		-o) results=$2 ;;
		--suites) suites=$2 ;;
		esac
		shift 2 ;;
	--quick) quick=1 rounds=3 size=16M count=4; shift ;;
	bvm_rounds=[1-9]*) rounds=${1#*=}; shift ;;
	bvm_size=[1-9]*) size=${1#*=}; shift ;;
	bvm_count=[1-9]*) count=${1#*=}; shift ;;
	bvm_vsk=[1-9]*) vsk=${1#*=}; shift ;;
	bvm_buf=[1-9]*) buf=${1#*=}; shift ;;
	bvm_variants=[a-z]*) variants=${1#*=}; shift ;;
	bvm_bound=[1-9]*) bound=${1#*=}; shift ;;
	*) usage >&2; exit 2 ;;
	esac
done
case $size in
*M) mbytes=$((${size%M} * count * 2)) ;;
*G) mbytes=$((${size%G} * 1024 * count * 2)) ;;
*) die "bvm_size=$size: want a size in M or G" ;;
esac
for s in $suites; do
	case $s in bookworm | trixie) ;; *) die "--suites: $s: want bookworm or trixie" ;; esac
done
set_arch amd64
[ -x "$vsockbox" ] || die "$vsockbox: not built (run make first)"
runner_setup 1500 60 benchvm

need "$qemu:$qemu_package" cpio:cpio timeout:coreutils gzip:gzip \
	awk:mawk flock:util-linux xz:xz-utils cc:gcc
find_busybox amd64
is_static "$vsockbox" || die "$vsockbox is not static"
build_qemu_exit

# ---- vsock_perf, from Debian's kernel source, built here ----
# trixie's linux-source (6.12): its vsock_perf has --zerocopy (lib.sh:
# build_vsock_tool; the binary and its sources stay in the cache).
build_vsock_tool trixie vsock_perf
vsock_perf=$vtool
vsock_perf_version=$(cat "$vsrc/version")

# ---- QEMU, under the shared CPU lock ----
run_qemu() {
	# shellcheck disable=SC2086
	flock "$lock" timeout -k 5 "$1" "$qemu" -accel "$tcg" $qemu_machine \
		-m 1024 -smp 2 -nodefaults -no-user-config -display none \
		-serial stdio -no-reboot -kernel "$vmlinuz" -initrd "$initramfs" \
		-append "console=$console panic=-1 quiet $2" </dev/null
}

settings="bvm_rounds=$rounds bvm_size=$size bvm_count=$count bvm_mbytes=$mbytes bvm_vsk=$vsk bvm_buf=$buf bvm_variants=$variants bvm_bound=$bound"
status=0
tables=""
for suite in $suites; do
	fetch_kernel "$suite" amd64
	vmlinuz=$kdir/vmlinuz
	initramfs=$tmp/initramfs-$suite.cpio.gz
	set -- -o "$initramfs" -b "$vsockbox" -s "$repo/scripts/vsock-bench" \
		-B "$busybox" -i "$repo/scripts/init.sh" \
		-f "$repo/bench/vm-guest.sh:/bin/bench-vm-guest" \
		-f "$repo/tests/vm/guest-lib.sh:/bin/vm-lib.sh" \
		-f "$vsock_perf:/bin/vsock_perf" -f "$qemu_exit:/bin/qemu-exit"
	for m in $vsock_modules; do
		set -- "$@" -m "$(module_file "$kdir/modules" "$m")"
	done
	sh "$repo/scripts/mkinitramfs.sh" "$@" >"$tmp/mkinitramfs.log" 2>&1 || {
		cat "$tmp/mkinitramfs.log" >&2
		die "building the initramfs failed"
	}
	log=$cache/console-bench-$suite.log
	say "booting $(cat "$kdir/package") (TCG, 2 vCPUs), waiting for $lock; console log in $log"
	boot "$log" "$host_timeout" \
		"init_watchdog=$((host_timeout - 15)) init_debug_exit=0xf4 $settings -- sh /bin/bench-vm-guest"
	if ! grep -q '^BVM-DONE' "$log"; then
		say "$suite: the guest did not finish (QEMU exit $qemu_rc)"
		status=1
	fi
	# vsock_perf --zerocopy exits where the kernel refuses SO_ZEROCOPY
	# for vsock (6.1): n/a, not a failure.
	tr -d '\r' <"$log" | grep 'BVM-RUN .* [1-9][0-9]*$' |
		grep -v -e ' pfz ' -e ' pfbz ' | grep -q . && status=1
	for v in pfz pfbz; do
		if tr -d '\r' <"$log" | grep "BVM-RUN .* $v .* [1-9][0-9]*\$" | grep -q . &&
			! grep -q "$v send.err: setsockopt: Operation not supported" "$log"; then
			status=1
		fi
	done
	tables="$tables$suite "
done

# ---- the table ----
# Ratios of throughput per round (same bytes: the inverse ratio of times),
# for each pair of variants that both worked in that round.
analyse() { # log
	tr -d '\r' <"$1" | awk -v mbytes="$mbytes" -v vsk="$vsk" '
	function median(a, n,   i, j, x) {
		for (i = 2; i <= n; i++) {
			x = a[i]
			for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]
			a[j + 1] = x
		}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	/BVM-KERNEL/ { sub(/.*BVM-KERNEL /, ""); kernel = $1 }
	/BVM-RUN / {
		sub(/.*BVM-RUN /, "")
		if ($4 == 0 && $3 > 0) t[$2, $1] = $3; else bad[$2]++
		if ($1 > rounds) rounds = $1
	}
	function row(x, y, what,   r, n, q, lo, hi, m) {
		n = 0
		for (r = 1; r <= rounds; r++)
			if ((x, r) in t && (y, r) in t) {
				q[++n] = t[y, r] / t[x, r]
				if (n == 1 || q[n] < lo) lo = q[n]
				if (n == 1 || q[n] > hi) hi = q[n]
			}
		if (n == 0) {
			printf "| %s | %s / %s | n/a | | | 0 |\n", what, x, y
			return
		}
		m = median(q, n)
		printf "| %s | %s / %s | %.3f | %.3f | %.3f | %d |\n", what, x, y, m, lo, hi, n
	}
	function rate(v,   r, n, a, lo, hi) {
		n = 0
		for (r = 1; r <= rounds; r++)
			if ((v, r) in t) {
				a[++n] = mbytes * 100 / t[v, r]
				if (n == 1 || a[n] < lo) lo = a[n]
				if (n == 1 || a[n] > hi) hi = a[n]
			}
		if (n == 0 && !bad[v]) printf "| %s | not run | | | |\n", v
		else if (n == 0) printf "| %s | failed | | | %d failed |\n", v, bad[v]
		else printf "| %s | %.0f | %.0f | %.0f | %d%s |\n", v, median(a, n), lo, hi, n, \
			bad[v] ? ", " bad[v] " failed" : ""
	}
	END {
		print "Kernel " kernel ": throughput of each variant, MiB moved per second over the whole run"
		print ""
		print "| variant | median MiB/s | min | max | runs |"
		print "|---|---|---|---|---|"
		nv = split("pf vb pfz vbz pfb vbk pfbz", vs, " ")
		for (i = 1; i <= nv; i++) rate(vs[i])
		print ""
		print "| comparison | ratio | median | min | max | pairs |"
		print "|---|---|---|---|---|---|"
		row("vb", "pfb", "vsockbox at its defaults vs vsock_perf at its best settings (target >= 1.0)")
		row("vb", "pf", "vsockbox vs vsock_perf, both at their defaults")
		row("vb", "vbk", "vsockbox defaults (" vsk " buffer) vs --buffer-size 0, the kernel default")
		row("vbz", "vb", "vsockbox --zerocopy vs plain, defaults (6.12 target >= 1.15)")
		row("pfz", "pf", "vsock_perf --zerocopy vs plain, defaults")
		row("pfbz", "pfb", "vsock_perf --zerocopy vs plain, best settings")
		row("vbz", "pfbz", "vsockbox --zerocopy at its defaults vs vsock_perf --zerocopy at its best")
	}'
}

report=$tmp/report.md
{
	for suite in $tables; do
		analyse "$cache/console-bench-$suite.log"
		echo
	done
} >"$report"
echo
cat "$report"

[ -n "$quick" ] && exit "$status"

# ---- bench/RESULTS-VM.md: the figures, how they were made, and the notes
# kept from the file before (everything from its "## Notes" line on). ----
notes=$tmp/notes.md
: >"$notes"
[ -f "$results" ] && awk '/^## Notes/ { p = 1 } p' "$results" >"$notes"
kernels=""
for suite in $tables; do
	kernels="$kernels $(cat "$cache/kernel-$suite-amd64/package") ($suite);"
done
{
	cat <<EOF
# vsockbox against vsock_perf in a QEMU guest (make bench-vm)

Generated by \`bench/vm.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'). Do not edit above "## Notes".

- Machine: $(grep -m 1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs, load average $(cut -d ' ' -f 1-3 /proc/loadavg) at the end; $("$qemu" --version | head -n 1), \`-accel $tcg -smp 2 -m 1024\`; one boot per kernel, every boot under \`flock $lock\`.
- Kernels:$kernels vsock loopback (CID 1, \`vsock_loopback\`), guest to itself.
- vsock_perf: \`tools/testing/vsock/vsock_perf.c\` of Debian's $vsock_perf_version, built at run time with \`gcc -static -O2\` (not in the repository).
- Every run moves $mbytes MiB. vsockbox: \`vsock-perf --tests unidir\` with \`vsock-unidir\`, $count iterations of $size out and $size back (one stream, the two directions in turn). vsock_perf: one way, \`--bytes ${mbytes}M\`. The time of a run: from starting the sending side (vsock_perf's sender, vsock-unidir) to the exit of both ends, read from the guest's \`/proc/uptime\` (10 ms steps; runs take seconds). Throughput: MiB moved / that time.
- Rounds: $rounds. Each round runs every variant once (the order reversed every other round), so any two variants alternate inside one boot; a ratio is per round (the inverse ratio of the two times), quoted as median, min and max over the rounds where both ran. TCG-emulated: relative figures, not a device's.

Commands (guest, \`bench/vm-guest.sh\`; sizes as run):

| variant | receiving side | sending side |
|---|---|---|
| pf | \`vsock_perf --port 1234\` | \`vsock_perf --sender 1 --port 1234 --bytes ${mbytes}M\` |
| pfz | as pf | pf's, with \`--zerocopy\` |
| pfb | \`vsock_perf --port 1234 --buf-size $buf --vsk-size $vsk\` | \`vsock_perf --sender 1 --port 1234 --bytes ${mbytes}M --buf-size $buf --vsk-size $vsk\` |
| pfbz | as pfb | pfb's, with \`--zerocopy\` |
| vb | \`vsock-perf --listen vsock:any:8500 --tests unidir --size $size --count $count\` | \`vsock-unidir --peer vsock:1 --size $size --count $count\` |
| vbk | vb's with \`--buffer-size 0\` | vb's with \`--buffer-size 0\` |
| vbz | vb's with \`--zerocopy\` | vb's with \`--zerocopy\` |

(vsockbox's defaults include a 4 MiB socket buffer over vsock; \`--buffer-size 0\` keeps the kernel's 256 KiB. vsockbox's ends both send: vsock-perf writes SIZE and vsock-unidir writes it back, so both take the option. vsock_perf's receiver never sends; its sender's \`--vsk-size\` sets nothing, only the receiver's buffer counts. vsockbox's own io-size, 1 MiB per call, is the same in every vb variant, but with \`--zerocopy\` over vsock each send takes at most a quarter of the socket buffer: 1 MiB at the default 4 MiB.)

EOF
	cat "$report"
	[ -s "$notes" ] && cat "$notes"
} >"$results"
say "wrote $results"
exit "$status"
