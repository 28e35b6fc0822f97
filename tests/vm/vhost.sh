#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/vm/vhost.sh: vsockbox over the real virtio-vsock device. This
# machine's kernel cannot host vhost-vsock-pci, one level down it can: boots
# Debian's cloud kernel in QEMU (TCG; L1, the host role, CID 2) with
# vhost_vsock and a second QEMU in its initramfs, which boots the same
# kernel (L2, the guest, CID 3) with -device vhost-vsock-pci,guest-cid=3.
# tests/vm/vhost-host.sh in L1 drives tests/vm/vhost-guest.sh in L2: the
# itest, the whole vsock-bench through the device, the negatives that
# differ from loopback, and vsock-conform in both roles (its verdicts
# against tests/vm/conform-expect). Results are read from L1's serial
# console as by tests/vm/run.sh (shared code: tests/vm/lib.sh). Never opens
# a vsock socket on this machine.
#
# With --lifecycle, L1 also brings about L2's events in the same boot,
# after the tests and before l2-killed (tests/vm/lifecycle-host.sh):
# vsock-lifecycle in both, across a pause, a snapshot and restore with the
# same CID and with a new one, and a live migration to a second QEMU;
# their verdicts against tests/vm/lifecycle-expect. One L2 boot serves
# both: under TCG in TCG it costs 200-300 s on a quiet machine.
#
# Takes about 7 minutes on 2 CPUs (L2 boots in about 4 under double
# emulation), about 5 more with --lifecycle. Exit: 0 pass, 1 failure, 2 usage or setup error, 77 skipped
# (a "SKIP: reason" line; with $CI set a skip is a failure, exit 1).
set -u

usage() {
	cat <<'EOF'
usage: tests/vm/vhost.sh [-b VSOCKBOX] [-c CACHE] [--suite SUITE] [--lifecycle]
                         [NAME=VALUE]...

  -b VSOCKBOX    the static amd64 binary to test (default: ./vsockbox)
  -c CACHE       where the kernel and packages are kept, and the console log
                 (default: build/vm of the repo; $VM_CACHE)
  --suite SUITE  Debian release of the kernel both guests boot: bookworm
                 (default; $VM_SUITE), trixie or sid
  --lifecycle    also L2's events (pause, restore, restore-cid,
                 migrate-cid) with vsock-lifecycle on both sides, after the
                 tests, before l2-killed
  NAME=VALUE     settings for L1 and L2 (see tests/vm/vhost-host.sh):
                 vh_size=1M vh_count=2 vh_latency_count=100 vh_echo_ms=1000
                 vh_timeout=60 vh_conform_timeout=30 vh_bound=300
                 vh_l2_wait=600; with --lifecycle vh_lc_timeout=60
                 vh_lc_wake=30 vh_lc_pause=5

Environment: VM_TIMEOUT=S (bound on the whole run, default 1200, 1800
with --lifecycle), VM_QEMU,
VM_BUSYBOX, VM_MIRROR, VM_NO_INSTALL, CI as for tests/vm/run.sh.
Exit: 0 pass, 1 failure, 2 usage or setup error, 77 skipped.
EOF
}

me=vhost
repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/vm/lib.sh
. "$repo/tests/vm/lib.sh"

names="vhost-modules l2-boot host-refused itest itest-guest-initiated
itest-host-initiated itest-host-terminated itest-guest-terminated
guest-refused peer-cid bench zerocopy conform-l2-peer conform-l1-peer
verify verify-zerocopy l2-killed"

vsockbox=$repo/vsockbox
cache=${VM_CACHE:-$repo/build/vm}
suite=${VM_SUITE:-bookworm}
guest_args=""
lifecycle=""
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--lifecycle) lifecycle=pause,restore,restore-cid,migrate-cid; shift ;;
	-b | -c | --suite)
		[ $# -ge 2 ] || die "$1: missing value"
		case $1 in
		-b) vsockbox=$2 ;;
		-c) cache=$2 ;;
		--suite) suite=$2 ;;
		esac
		shift 2 ;;
	vh_*=*)
		case $1 in
		*[!A-Za-z0-9_]*=* | *=*[!A-Za-z0-9.]*)
			die "bad setting '$1' (vh_NAME=VALUE)" ;;
		esac
		guest_args="$guest_args $1"; shift ;;
	*) usage >&2; exit 2 ;;
	esac
done
check_suite "$suite"
set_arch amd64
[ -x "$vsockbox" ] || die "$vsockbox: not built (run make first)"
# The events take about 5 minutes beside the boots.
limit=1200
[ -z "$lifecycle" ] || limit=1800
runner_setup "$limit" 300 vhost

# ---- tools, the kernel ----
need "$qemu:$qemu_package" cpio:cpio ldd:libc-bin timeout:coreutils \
	gzip:gzip tee:coreutils
find_busybox amd64
is_static "$vsockbox" || die "$vsockbox is not static (build with the default STATIC=-static)"
case $(elf_machine "$vsockbox") in
"" | *X86-64*) ;;
*) die "$vsockbox is not an amd64 binary" ;;
esac
build_qemu_exit
need_ktap
fetch_kernel "$suite" amd64
say "$(kernel_line "$suite" amd64)"
for m in $vhost_vsock_modules; do
	module_file "$kdir/modules" "$m" >/dev/null ||
		skip "$(cat "$kdir/package") has no $m module"
done

# ---- L2's initramfs: vsockbox, busybox, the virtio-vsock modules ----
stage=$tmp/l1
mkdir -p "$stage/l2"
set -- -o "$stage/l2/initramfs.cpio.gz" -b "$vsockbox" \
	-s "$repo/scripts/vsock-bench" -B "$busybox" -i "$repo/scripts/init.sh" \
	-f "$repo/tests/vm/vhost-guest.sh:/bin/vm-tests" \
	-f "$repo/tests/vm/guest-lib.sh:/bin/vm-lib.sh"
while IFS= read -r m; do
	set -- "$@" -m "$m"
done <"$kdir/virtio-vsock.modules"
sh "$repo/scripts/mkinitramfs.sh" "$@" >"$tmp/mkinitramfs.log" 2>&1 || {
	cat "$tmp/mkinitramfs.log" >&2
	die "building L2's initramfs failed"
}
cp "$kdir/vmlinuz" "$stage/l2/vmlinuz"

# ---- L1's: the same, vhost_vsock, and QEMU with what it loads ----
# QEMU and every library ldd names, at the paths the loader looks in; its
# TCG accelerator module where QEMU looks for it, beside its own directory
# (/bin/../lib/ARCH/qemu); and the firmware (-L /usr/share/qemu): SeaBIOS
# and the option ROMs of -kernel.
qemu_path=$(command -v "$qemu")
copy_libs() { # binary: its libraries into the stage, as ldd resolves them
	ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
		while IFS= read -r lib; do
			mkdir -p "$stage$(dirname "$lib")"
			cp -L "$lib" "$stage$lib" || exit 1
		done
}
mkdir -p "$stage/bin" "$stage/usr/share/qemu"
# L1's script runs it by this name.
cp -L "$qemu_path" "$stage/bin/qemu-system-x86_64" || die "cannot copy $qemu_path"
copy_libs "$qemu_path" || die "cannot copy the libraries of $qemu_path"
accel=$(find /usr/lib /usr/lib64 -path "*/qemu/accel-tcg-x86_64.so" 2>/dev/null | head -n 1)
[ -n "$accel" ] || skip "no accel-tcg-x86_64.so module of $qemu (TCG for the inner guest)"
moddir=lib/${accel#/usr/lib/}
mkdir -p "$stage/$(dirname "$moddir")"
if ! cp -L "$accel" "$stage/$moddir" || ! copy_libs "$accel"; then
	die "cannot copy $accel and its libraries"
fi
for f in bios-256k.bin linuxboot_dma.bin kvmvapic.bin; do
	for d in /usr/share/qemu /usr/share/seabios ""; do
		[ -n "$d" ] || skip "no $f in /usr/share/qemu or /usr/share/seabios (apt-get install $qemu_package)"
		[ -f "$d/$f" ] && cp -L "$d/$f" "$stage/usr/share/qemu/" && break
	done
done
set -- -o "$tmp/l1.cpio.gz" -b "$vsockbox" -s "$repo/scripts/vsock-bench" \
	-B "$busybox" -i "$repo/scripts/init.sh" \
	-f "$repo/tests/vm/vhost-host.sh:/bin/vm-tests" \
	-f "$repo/tests/vm/guest-lib.sh:/bin/vm-lib.sh" \
	-f "$repo/tests/vm/lifecycle-host.sh:/bin/vm-lifecycle.sh" \
	-f "$stage/bin/qemu-system-x86_64:/bin/qemu-system-x86_64" -f "$stage/l2:/l2" \
	-f "$stage/usr/share/qemu:/usr/share/qemu"
# Directory by directory: /lib/modules is mkinitramfs's.
for d in "$stage"/lib/* "$stage"/lib64 "$stage"/usr/lib/* "$stage"/usr/lib64; do
	[ -e "$d" ] && set -- "$@" -f "$d:${d#"$stage"}"
done
for m in $vhost_vsock_modules; do
	set -- "$@" -m "$(module_file "$kdir/modules" "$m")"
done
[ -n "$qemu_exit" ] && set -- "$@" -f "$qemu_exit:/bin/qemu-exit"
sh "$repo/scripts/mkinitramfs.sh" "$@" >"$tmp/mkinitramfs.log" 2>&1 || {
	cat "$tmp/mkinitramfs.log" >&2
	die "building L1's initramfs failed"
}
say "L1's initramfs: $(wc -c <"$tmp/l1.cpio.gz") bytes"

# ---- L1 ----
# 2 GiB: the initramfs unpacked (about 80 MB) and L2's memory. mitigations=
# off: without it L2 had not reached its init after 348 s.
run_qemu() { # limit append
	# shellcheck disable=SC2086
	timeout -k 5 "$1" "$qemu" -accel "$tcg" $qemu_machine -m 2048 -smp 2 \
		-nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-kernel "$kdir/vmlinuz" -initrd "$tmp/l1.cpio.gz" \
		-append "console=$console panic=-1 quiet mitigations=off $2"
}
watchdog=$((host_timeout - 15))
# One log per kernel: a cache shared by several runs keeps each its own.
log=$cache/console-vhost-$suite.log
if [ -n "$lifecycle" ]; then
	names="${names%l2-killed}lifecycle-pause lifecycle-restore
lifecycle-restore-cid lifecycle-migrate-cid lifecycle-guest lifecycle-host
l2-killed"
	guest_args="$guest_args vh_lifecycle=$lifecycle"
fi
exit_arg=""
[ -n "$qemu_exit" ] && exit_arg=" init_debug_exit=0xf4"
say "booting $(cat "$kdir/package") as L1 (tcg), L2 inside it; bound ${host_timeout}s; console log in $log"
boot "$log" "$host_timeout" \
	"init_watchdog=$watchdog$exit_arg$guest_args -- sh /bin/vm-tests"
problems=""
conform_judge "$log" vhost-l2-peer
conform_judge "$log" vhost-l1-peer
if [ -n "$lifecycle" ]; then
	conform_tool=vsock-lifecycle conform_table=$repo/tests/vm/lifecycle-expect
	conform_label=tests/vm/lifecycle-expect
	conform_judge "$log" lifecycle-guest
	conform_judge "$log" lifecycle-host
fi
verdict "$log" "$names"
