#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/vm/run.sh: vsockbox on a real kernel. Boots Debian's cloud kernel
# (bookworm's 6.1, trixie's 6.12 or sid's newest; amd64 or arm64) in QEMU
# with an initramfs holding vsockbox, busybox and the vsock modules, runs
# tests/vm/guest-tests.sh there over AF_VSOCK loopback (CID 1), and reads its
# results from the serial console. Never opens a vsock socket on this
# machine, and gives QEMU no vsock device.
#
# Fetches what it lacks on a Debian machine (as root: apt-get install
# qemu-system-x86 or qemu-system-arm, cpio, busybox-static; the kernel,
# and for a foreign architecture busybox-static, with apt-get download
# through an apt configuration of its own, unpacked without installing)
# into a cache directory, reused next time. Shared code: tests/vm/lib.sh.
# Exit: 0 pass, 1 failure, 2 usage or setup error, 77 skipped (no QEMU or no
# kernel to be had; a "SKIP: reason" line says why; with $CI set a skip is
# a failure, exit 1).
# The guest's test "lifecycle" (vsock-lifecycle's pause) is the VMM's
# event: the runner stops the whole VM over QEMU's QMP socket (a Unix
# socket here, tests/vm/qmp.c its client) and continues it, then answers on
# the console, which is QEMU's stdin (a FIFO); its verdicts are judged
# against tests/vm/lifecycle-expect-loopback.
set -u

usage() {
	cat <<'EOF'
usage: tests/vm/run.sh [-b VSOCKBOX] [-c CACHE] [--arch ARCH] [--suite SUITE]
                       [--log FILE] [--shell|--fetch] [NAME=VALUE]...

  -b VSOCKBOX    the static binary to test (default: ./vsockbox of the repo;
                 for --arch arm64 an arm64 build)
  -c CACHE       where kernels, packages and the qemu-exit helper are kept,
                 and the last console log (default: build/vm; $VM_CACHE)
  --arch ARCH    the guest: amd64 (default; $VM_ARCH) or arm64 (the virt
                 machine under qemu-system-aarch64)
  --suite SUITE  the Debian release whose cloud kernel boots: bookworm
                 (6.1, default; $VM_SUITE), trixie (6.12) or sid (the
                 newest, 7.2 in 2026-12; the cache keeps the one fetched)
  --log FILE     the console log (default CACHE/console-SUITE-ARCH.log)
  --shell        boot to a shell on this terminal instead of running the
                 tests (quit QEMU with Ctrl-A X)
  --fetch        only fetch what the guest needs (tools, a cross compiler
                 for a foreign ARCH, the kernel into
                 CACHE/kernel-SUITE-ARCH: vmlinuz, modules/ and
                 virtio-vsock.modules, the modules a guest on a real
                 vhost-vsock device loads, in order), and say where
  NAME=VALUE     passed to the guest on the kernel command line, e.g.
                 vm_size=4M vm_count=10 vm_latency_count=1000 vm_timeout=20
                 vm_tests=itest,bench-table (see tests/vm/guest-tests.sh)

Environment: VM_ACCEL=auto|kvm|tcg (default auto: KVM only for a guest of
this machine's architecture, if /dev/kvm is usable and a probe boot works,
else TCG), VM_TIMEOUT=S (bound on the whole boot, default 240),
VM_KERNEL=VMLINUZ with VM_MODULES=DIR (this kernel and the vsock modules in
DIR instead of a download), VM_BUSYBOX=PATH (a static busybox of the
guest's architecture), VM_QEMU=PROGRAM (the emulator), VM_APPLETS="..."
(the applets, when VSOCKBOX cannot run here), VM_MIRROR=URL (the Debian
archive; default: the one of the machine's apt sources), VM_NO_INSTALL=1
(never apt-get install), CI (non-empty: a skip fails).
Exit: 0 pass, 1 failure, 2 usage or setup error, 77 skipped.
EOF
}

me=vm
repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/vm/lib.sh
. "$repo/tests/vm/lib.sh"

# Every test of tests/vm/guest-tests.sh; "itest" also reports one result
# per check of the host side. A test missing from the console fails.
all_tests="busybox modules itest bench-table bench-json zerocopy \
listen-in-use bind-in-use refused host-killed guest-killed conform \
verify verify-zerocopy soak lifecycle"
# Run only when vm_tests names it: the kernel's own vsock_test, built from
# Debian's linux-source of each of $vsock_test_suites (trixie: 6.12,
# sid: the newest), one run per case (make conform-compare).
extra_tests="vsock-test"
vsock_test_suites="trixie sid"
itest_checks="guest-initiated host-initiated host-terminated guest-terminated"
# The lifecycle test's pause, in seconds: shorter than its --timeout (10).
lc_pause=3

vsockbox=$repo/vsockbox
cache=${VM_CACHE:-$repo/build/vm}
arch=${VM_ARCH:-amd64}
suite=${VM_SUITE:-bookworm}
shell=""
fetch=""
log=""
guest_args=""
selected=""
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-b | -c | --arch | --suite | --log)
		[ $# -ge 2 ] || die "$1: missing value"
		case $1 in
		-b) vsockbox=$2 ;;
		--log) log=$2 ;;
		-c) cache=$2 ;;
		--arch) arch=$2 ;;
		--suite) suite=$2 ;;
		esac
		shift 2 ;;
	--shell) shell=1; shift ;;
	--fetch) fetch=1; shift ;;
	*=*)
		# The kernel hands name=value words to /init as environment
		# variables: a name the kernel does not know, a value of one word.
		case $1 in
		[!A-Za-z_]* | *[!A-Za-z0-9_]*=* | *=*[!A-Za-z0-9.,:_+-]*)
			die "bad guest setting '$1' (NAME=VALUE, no spaces or quotes)" ;;
		vm_tests=*) selected=$(echo "${1#*=}" | tr , ' ') ;;
		esac
		guest_args="$guest_args $1"; shift ;;
	*) usage >&2; exit 2 ;;
	esac
done
for t in $selected; do
	case " $all_tests $extra_tests " in
	*" $t "*) ;;
	*) die "vm_tests: unknown test '$t' (known: $all_tests $extra_tests)" ;;
	esac
done
check_suite "$suite"
set_arch "$arch"
[ -n "$fetch" ] || [ -x "$vsockbox" ] ||
	die "$vsockbox: not built (run make first)"
runner_setup 240 30 vmtest

# ---- tools ----
need "$qemu:$qemu_package" cpio:cpio timeout:coreutils gzip:gzip \
	tee:coreutils awk:mawk
# --fetch also brings the cross compiler (make check-vm ARCH=arm64 builds
# with it next).
[ -z "$fetch" ] || [ -z "$cross" ] || [ "$arch" = "$(host_arch)" ] || need "$cross"
find_busybox "$arch"
if [ -z "$fetch" ]; then
	is_static "$vsockbox" ||
		die "$vsockbox is not static: the initramfs has no libc (build with the default STATIC=-static)"
	machine=$(elf_machine "$vsockbox")
	case $machine in
	"" | *"$elf"*) ;;
	*) die "$vsockbox is built for $machine, the $arch guest needs $elf (for arm64: make check-vm ARCH=arm64)" ;;
	esac
fi
qemu_exit=""
[ -z "$exit_device" ] || build_qemu_exit
case " ${selected:-$all_tests} " in
*" conform "* | *" lifecycle "*) [ -n "$fetch" ] || need_ktap ;;
esac

# ---- the kernel: vmlinuz and the vsock modules ----
if [ -n "${VM_KERNEL:-}" ]; then
	[ -n "${VM_MODULES:-}" ] || die "VM_KERNEL needs VM_MODULES (the directory of the vsock .ko files)"
	vmlinuz=$VM_KERNEL
	moddir=$VM_MODULES
	kernel_name=$VM_KERNEL
else
	fetch_kernel "$suite" "$arch"
	vmlinuz=$kdir/vmlinuz
	moddir=$kdir/modules
	kernel_name=$(cat "$kdir/package")
	say "$(kernel_line "$suite" "$arch")"
fi
[ -f "$vmlinuz" ] || die "$vmlinuz: no such kernel"
if [ -n "$fetch" ]; then
	echo "kernel:  $vmlinuz ($kernel_name)"
	echo "modules: $moddir"
	[ -z "${VM_KERNEL:-}" ] &&
		echo "virtio-vsock guest modules, in load order: $kdir/virtio-vsock.modules"
	echo "busybox: $busybox"
	exit 0
fi

# ---- the initramfs ----
# A binary of another architecture cannot list its applets (or busybox's)
# here: VM_APPLETS names the first, the machine's busybox the second.
initramfs=$tmp/initramfs.cpio.gz
set -- -o "$initramfs" -b "$vsockbox" -s "$repo/scripts/vsock-bench" \
	-B "$busybox" -i "$repo/scripts/init.sh" \
	-f "$repo/tests/vm/guest-tests.sh:/bin/vm-tests" \
	-f "$repo/tests/vm/guest-lib.sh:/bin/vm-lib.sh"
if ! "$vsockbox" --list >/dev/null 2>&1; then
	[ -n "${VM_APPLETS:-}" ] ||
		die "$vsockbox cannot run here to list its applets: set VM_APPLETS"
	for a in $VM_APPLETS; do set -- "$@" -a "$a"; done
fi
if ! "$busybox" true >/dev/null 2>&1; then
	if ! command -v busybox >/dev/null 2>&1 ||
		! busybox --list >"$tmp/busybox.list"; then
		die "$busybox cannot run here and no busybox here lists its applets"
	fi
	set -- "$@" -l "$tmp/busybox.list"
fi
for m in $vsock_modules; do
	f=$(module_file "$moddir" "$m") || die "$moddir: no $m.ko"
	set -- "$@" -m "$f"
done
[ -n "$qemu_exit" ] && set -- "$@" -f "$qemu_exit:/bin/qemu-exit"
case " $selected " in
*" vsock-test "*)
	[ "$arch" = amd64 ] || die "vm_tests=vsock-test: amd64 guests only"
	need xz:xz-utils cc:gcc
	for s in $vsock_test_suites; do
		build_vsock_tool "$s" vsock_test
		v=$(cut -d ' ' -f 2 "$vsrc/version")
		say "vsock_test: $(cat "$vsrc/version") (Debian $s), as /bin/vsock_test-${v%%-*}"
		set -- "$@" -f "$vtool:/bin/vsock_test-${v%%-*}"
	done ;;
esac
sh "$repo/scripts/mkinitramfs.sh" "$@" >"$tmp/mkinitramfs.log" 2>&1 || {
	cat "$tmp/mkinitramfs.log" >&2
	die "building the initramfs failed"
}

# ---- QEMU ----
# run_qemu LIMIT APPEND: boot with the kernel command line APPEND, killed
# after LIMIT seconds (0: no limit, and QEMU keeps this terminal). No vsock
# device: the guest talks to itself through vsock_loopback.
run_qemu() {
	limit=$1
	append=$2
	# shellcheck disable=SC2086
	set -- $qemu_machine -m 512 -smp 2 \
		-nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-kernel "$vmlinuz" -initrd "$initramfs" \
		-append "console=$console panic=-1 quiet $append"
	[ -z "${qmp_sock:-}" ] || set -- "$@" -qmp "unix:$qmp_sock,server=on,wait=off"
	case $accel in
	kvm) set -- -accel kvm -cpu host "$@" ;;
	*) set -- -accel "$tcg" "$@" ;;
	esac
	if [ "$limit" -eq 0 ]; then
		"$qemu" "$@"
	else
		# Read and write: the open never waits for a writer.
		timeout -k 5 "$limit" "$qemu" "$@" <>"${console_in:-/dev/null}"
	fi
}

# KVM only if it really works: some nested KVMs abort ("failed to set MSR")
# or hang. A probe boot decides, once per boot of this machine.
choose_accel() {
	case ${VM_ACCEL:-auto} in
	tcg | kvm) accel=$VM_ACCEL; return ;;
	auto) ;;
	*) die "VM_ACCEL=$VM_ACCEL: want auto, kvm or tcg" ;;
	esac
	accel=tcg
	[ "$arch" = "$(host_arch)" ] && [ -c /dev/kvm ] && [ -r /dev/kvm ] &&
		[ -w /dev/kvm ] || return 0
	boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
	if [ -f "$cache/accel" ] && [ "$(sed -n 1p "$cache/accel")" = "$boot_id" ]; then
		accel=$(sed -n 2p "$cache/accel")
		return
	fi
	accel=kvm
	run_qemu 15 "init_watchdog=10 -- echo VMPROBE-OK" >"$tmp/probe.log" 2>&1
	if grep -q VMPROBE-OK "$tmp/probe.log"; then
		say "KVM works: using it"
	else
		accel=tcg
		why=$(tr -d '\r' <"$tmp/probe.log" | grep -m 1 'qemu-system')
		say "KVM does not work here (${why:-no answer in 15 s}): using TCG"
	fi
	printf '%s\n%s\n' "$boot_id" "$accel" >"$cache/accel"
}
choose_accel

if [ -n "$shell" ]; then
	say "booting $kernel_name ($arch, $accel) to a shell: Ctrl-A X quits QEMU"
	run_qemu 0 "$guest_args -- setsid cttyhack sh"
	exit 0
fi

# ---- the lifecycle test's pause ----
# lifecycle_pause: once the guest says LIFECYCLE-ARMED (guest-tests.sh:
# test_lifecycle), the whole VM stopped over QMP for $lc_pause s and
# continued, and the answer on the console: "over STOPPED-MS WALL-MS
# STATUS ACCEL" (WALL-MS since the line was seen; STATUS query-status's
# while stopped; ACCEL tcg or kvm), or "skip|fail REASON". A cont that fails leaves the VM stopped,
# where nothing can hear an answer: QEMU is told to quit, and
# $tmp/lifecycle.problem says why (lifecycle_results, too, when the
# results never come). Runs in the background during the boot.
lifecycle_pause() {
	# Not anchored: a kernel message may share the line.
	until grep -q 'LIFECYCLE-ARMED uptime' "$tmp/console.raw" 2>/dev/null; do
		sleep 0.1
	done
	lp_t0=$(now_ms)
	if [ -z "$qmp_tool" ]; then
		lp_answer="skip no QMP client here (tests/vm/qmp.c did not build)"
	elif ! "$qmp_tool" 10 "$qmp_sock" stop query-status >"$tmp/qmp.out" 2>&1; then
		lp_answer="fail QMP stop: $(tr '\n' ' ' <"$tmp/qmp.out")"
	else
		lp_t1=$(now_ms)
		lp_status=$(sed -n 's/.*"status": "\([a-z-]*\)".*/\1/p' "$tmp/qmp.out")
		sleep "$lc_pause"
		if ! "$qmp_tool" 10 "$qmp_sock" cont >"$tmp/qmp.out" 2>&1; then
			echo "QMP cont failed, QEMU told to quit: $(tr '\n' ' ' <"$tmp/qmp.out")" \
				>"$tmp/lifecycle.problem"
			"$qmp_tool" 10 "$qmp_sock" quit >/dev/null 2>&1
			return
		fi
		lp_t2=$(now_ms)
		lp_answer="over $((lp_t2 - lp_t1)) $((lp_t2 - lp_t0)) ${lp_status:-none} $accel"
	fi
	echo "$lp_answer" >"$console_in"
	[ -n "$qmp_tool" ] && lifecycle_results 120
}

# lifecycle_results SECONDS: the guest's last lifecycle result within
# SECONDS of the answer (its own bounds are shorter), else the VM is
# likely still stopped: QEMU is told to quit rather than left to the run's
# bound, and $tmp/lifecycle.problem says so.
lifecycle_results() {
	# By the clock: on a loaded machine a count of short sleeps runs late.
	lr_end=$(($(now_ms) + $1 * 1000))
	until grep -q 'VMTEST lifecycle-loopback-host ' "$tmp/console.raw"; do
		if [ "$(now_ms)" -ge "$lr_end" ]; then
			"$qmp_tool" 10 "$qmp_sock" query-status >"$tmp/qmp.out" 2>&1
			echo "no lifecycle result $1 s after the answer (query-status: $(tr '\n' ' ' <"$tmp/qmp.out")): QEMU told to quit" \
				>"$tmp/lifecycle.problem"
			"$qmp_tool" 10 "$qmp_sock" quit >/dev/null 2>&1
			return
		fi
		sleep 0.1
	done
}

# lifecycle_judge LOG: the pause's problems and both halves' KTAP against
# tests/vm/lifecycle-expect-loopback, unless the test was skipped (a
# failure with $CI set); adds the halves' results to names.
lifecycle_judge() {
	[ ! -s "$tmp/lifecycle.problem" ] || problem "lifecycle: $(cat "$tmp/lifecycle.problem")"
	if grep -q 'VMTEST lifecycle-loopback-pause PASS SKIP' "$1"; then
		# As skip (tests/vm/lib.sh): with CI set a skip fails.
		[ -z "${CI:-}" ] || problem "lifecycle: skipped, and CI is set"
		return
	fi
	names="$names lifecycle-loopback-guest lifecycle-loopback-host"
	for half in guest host; do
		conform_table=$repo/tests/vm/lifecycle-expect-loopback \
			conform_tool=vsock-lifecycle \
			conform_label=tests/vm/lifecycle-expect-loopback \
			conform_judge "$1" "lifecycle-loopback-$half"
	done
}

lc_driver=""
case " ${selected:-$all_tests} " in
*" lifecycle "*)
	build_helper qmp "the lifecycle test is skipped"
	qmp_tool=$helper
	qmp_sock=$tmp/qmp.sock
	console_in=$tmp/console.in
	mkfifo "$console_in" || die "mkfifo $console_in failed"
	lifecycle_pause &
	lc_driver=$! ;;
esac

# ---- the tests ----
# The guest powers itself off before the host's bound, so that the console
# says what hung.
watchdog=$((host_timeout - 15))
log=${log:-$cache/console-$suite-$arch.log}
say "booting $kernel_name ($arch, $accel), bound ${host_timeout}s; console log in $log"
exit_arg=""
[ -n "$qemu_exit" ] && exit_arg=" init_debug_exit=0xf4"
boot "$log" "$host_timeout" \
	"init_watchdog=$watchdog$exit_arg$guest_args -- sh /bin/vm-tests"
[ -z "$lc_driver" ] || { kill "$lc_driver" 2>/dev/null; wait "$lc_driver"; }

problems=""
case " ${selected:-$all_tests} " in
*" conform "*) conform_judge "$log" loopback ;;
esac
names=""
for t in ${selected:-$all_tests}; do
	case $t in
	lifecycle) names="$names lifecycle-loopback-pause" && lifecycle_judge "$log" ;;
	*) names="$names $t" ;;
	esac
	[ "$t" = itest ] && for c in $itest_checks; do names="$names itest-$c"; done
done
verdict "$log" "$names"
