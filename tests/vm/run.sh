#!/bin/sh
# tests/vm/run.sh: vsockbox on a real kernel. Boots Debian's cloud kernel in
# QEMU with an initramfs holding vsockbox, busybox and the vsock modules,
# runs tests/vm/guest-tests.sh there over AF_VSOCK loopback (CID 1), and
# reads its results from the serial console. Never opens a vsock socket on
# this machine, and gives QEMU no vsock device.
#
# Fetches what it lacks on a Debian machine (as root: apt-get install
# qemu-system-x86 cpio busybox-static; the kernel with apt-get download,
# unpacked without installing it) into a cache directory, reused next time.
# Exit: 0 pass, 1 failure, 2 usage or setup error, 77 skipped (no QEMU or no
# kernel to be had; a "SKIP: reason" line says why).
set -u

usage() {
	cat <<'EOF'
usage: tests/vm/run.sh [-b VSOCKBOX] [-c CACHE] [--shell|--fetch] [NAME=VALUE]...

  -b VSOCKBOX  the static binary to test (default: ./vsockbox of the repo)
  -c CACHE     where the kernel and the qemu-exit helper are kept, and the
               last console log (default: build/vm of the repo; $VM_CACHE)
  --shell      boot to a shell on this terminal instead of running the
               tests (quit QEMU with Ctrl-A X)
  --fetch      only fetch the kernel into CACHE/kernel: vmlinuz, modules/
               and virtio-vsock.modules (the modules a guest on a real
               vhost-vsock device loads, in order), and say where
  NAME=VALUE   passed to the guest on the kernel command line, e.g.
               vm_size=4M vm_count=10 vm_latency_count=1000 vm_timeout=20
               vm_tests=itest,bench-table (see tests/vm/guest-tests.sh)

Environment: VM_ACCEL=auto|kvm|tcg (default auto: KVM only if /dev/kvm is
usable and a probe boot works, else TCG), VM_TIMEOUT=S (bound on the whole
boot, default 240), VM_KERNEL=VMLINUZ with VM_MODULES=DIR (this kernel and
the vsock modules in DIR instead of a download), VM_BUSYBOX=PATH (a static
busybox), VM_NO_INSTALL=1 (never apt-get install).
Exit: 0 pass, 1 failure, 2 usage or setup error, 77 skipped.
EOF
}

say() { echo "vm: $*" >&2; }

skip() {
	echo "SKIP: $*"
	echo "vm: 0 passed, 0 failed, 1 skipped"
	exit 77
}

die() {
	say "$*"
	exit 2
}

# Every test of tests/vm/guest-tests.sh; "itest" also reports one result
# per check of the host side. A test missing from the console fails.
all_tests="busybox modules itest bench-table bench-json listen-in-use \
bind-in-use refused host-killed guest-killed"
itest_checks="guest-initiated host-initiated host-terminated guest-terminated"
vsock_modules="vsock vmw_vsock_virtio_transport_common vsock_loopback"
virtio_vsock_modules="virtio_ring virtio virtio_pci_modern_dev
virtio_pci_legacy_dev virtio_pci vsock vmw_vsock_virtio_transport_common
vmw_vsock_virtio_transport"

repo=$(cd "$(dirname "$0")/../.." && pwd)
vsockbox=$repo/vsockbox
cache=${VM_CACHE:-$repo/build/vm}
shell=""
fetch=""
guest_args=""
selected=""
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-b) [ $# -ge 2 ] || die "-b: missing value"; vsockbox=$2; shift 2 ;;
	-c) [ $# -ge 2 ] || die "-c: missing value"; cache=$2; shift 2 ;;
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
	case " $all_tests " in
	*" $t "*) ;;
	*) die "vm_tests: unknown test '$t' (known: $all_tests)" ;;
	esac
done
host_timeout=${VM_TIMEOUT:-240}
case $host_timeout in '' | *[!0-9]*) die "VM_TIMEOUT=$host_timeout: want seconds" ;; esac
[ "$host_timeout" -ge 30 ] || die "VM_TIMEOUT=$host_timeout: want 30 s or more"

[ "$(uname -m)" = x86_64 ] ||
	skip "the guest is x86_64 and this machine is $(uname -m)"
[ -n "$fetch" ] || [ -x "$vsockbox" ] ||
	die "$vsockbox: not built (run make first)"
mkdir -p "$cache" || die "cannot create $cache"
cache=$(cd "$cache" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmtest.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- tools ----
can_install() {
	[ -z "${VM_NO_INSTALL:-}" ] && [ "$(id -u)" -eq 0 ] &&
		command -v apt-get >/dev/null 2>&1
}

# apt-get install, with an apt-get update first if the lists lack them.
apt_install() {
	say "installing $*"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends "$@" >"$tmp/apt.log" 2>&1 && return
	timeout 300 apt-get update -q >>"$tmp/apt.log" 2>&1
	apt-get install -y -q --no-install-recommends "$@" >>"$tmp/apt.log" 2>&1 && return
	tail -n 5 "$tmp/apt.log" >&2
	return 1
}

# Static: an ELF file without a program interpreter (a static-pie too).
# Without readelf, ldd lists no libraries for a static binary.
is_static() {
	[ -f "$1" ] && [ -x "$1" ] || return 1
	if command -v readelf >/dev/null 2>&1; then
		readelf -h "$1" >/dev/null 2>&1 || return 1
		! readelf -lW "$1" 2>/dev/null | grep -q 'INTERP'
	elif command -v ldd >/dev/null 2>&1; then
		! ldd "$1" 2>&1 | grep -q '=>'
	fi
}

find_busybox() {
	for b in ${VM_BUSYBOX:-} /bin/busybox /usr/bin/busybox; do
		if is_static "$b"; then
			busybox=$b
			return 0
		fi
	done
	return 1
}

missing=""
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing="$missing qemu-system-x86"
command -v cpio >/dev/null 2>&1 || missing="$missing cpio"
find_busybox || missing="$missing busybox-static"
if [ -n "$missing" ] && can_install; then
	# shellcheck disable=SC2086
	apt_install $missing || say "apt-get install$missing failed"
fi
command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	skip "no qemu-system-x86_64 (apt-get install qemu-system-x86)"
command -v cpio >/dev/null 2>&1 || skip "no cpio (apt-get install cpio)"
if [ -n "${VM_BUSYBOX:-}" ] && ! is_static "$VM_BUSYBOX"; then
	die "VM_BUSYBOX=$VM_BUSYBOX: not a static executable"
fi
find_busybox || skip "no static busybox (apt-get install busybox-static, or VM_BUSYBOX=PATH)"
for t in timeout gzip tee awk; do
	command -v "$t" >/dev/null 2>&1 || skip "no $t on this machine"
done
[ -n "$fetch" ] || is_static "$vsockbox" ||
	die "$vsockbox is not static: the initramfs has no libc (build with the default STATIC=-static)"

# qemu-exit: hands the guest's exit status to QEMU (the cloud kernel has no
# /dev/port). Without a C compiler the status comes from the console alone.
qemu_exit=$cache/qemu-exit
src=$repo/tests/vm/qemu-exit.c
if [ ! -x "$qemu_exit" ] || [ -n "$(find "$src" -newer "$qemu_exit")" ]; then
	if ${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 -static -s \
		-o "$qemu_exit.$$" "$src" 2>"$tmp/cc.log"; then
		mv "$qemu_exit.$$" "$qemu_exit"
	else
		rm -f "$qemu_exit.$$"
		say "cannot build qemu-exit (no static C compiler?): the exit status comes from the console only"
		cat "$tmp/cc.log" >&2
	fi
fi

# ---- the kernel: vmlinuz and the vsock modules ----
kdir=$cache/kernel

resolve_kernel_package() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^ *|\{0,1\}Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1
}

download() { # package
	rm -rf "$tmp/deb"
	mkdir -p "$tmp/deb"
	[ -n "$1" ] && (cd "$tmp/deb" && timeout 300 apt-get download "$1") \
		>>"$tmp/apt.log" 2>&1
}

# A module file of the cache or of VM_MODULES: NAME.ko, else compressed
# (mkinitramfs.sh decompresses it: busybox insmod may not).
module_file() { # dir name
	for f in "$1/$2.ko" "$1/$2.ko.xz" "$1/$2.ko.zst" "$1/$2.ko.gz"; do
		[ -f "$f" ] && echo "$f" && return 0
	done
	return 1
}

fetch_kernel() {
	if ! command -v apt-get >/dev/null 2>&1 ||
		! command -v dpkg-deb >/dev/null 2>&1; then
		skip "no apt-get/dpkg-deb to fetch a kernel: set VM_KERNEL and VM_MODULES"
	fi
	: >"$tmp/apt.log"
	pkg=$(resolve_kernel_package)
	if [ -z "$pkg" ] && can_install; then
		timeout 300 apt-get update -q >>"$tmp/apt.log" 2>&1
		pkg=$(resolve_kernel_package)
	fi
	[ -n "$pkg" ] ||
		skip "cannot resolve linux-image-cloud-amd64 (apt-cache depends found nothing; apt-get update?)"
	say "fetching $pkg"
	if ! download "$pkg"; then
		# Stale package lists name a version the archive no longer has.
		if ! can_install ||
			! timeout 300 apt-get update -q >>"$tmp/apt.log" 2>&1 ||
			! pkg=$(resolve_kernel_package) || ! download "$pkg"; then
			tail -n 3 "$tmp/apt.log" | sed 's/^/vm: apt: /' >&2
			skip "apt-get download $pkg failed (no network or no such package)"
		fi
	fi
	deb=$(find "$tmp/deb" -name '*.deb' | head -n 1)
	[ -n "$deb" ] || skip "apt-get download $pkg left no .deb"
	# Only the kernel, the vsock modules and the virtio ones a guest on a
	# real vhost-vsock device needs besides (not this test), wherever the
	# package keeps them (/lib/modules, or /usr/lib/modules).
	members=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | grep -E \
		'^\./(boot/vmlinuz-|(usr/)?lib/modules/[^/]+/kernel/(net/vmw_vsock|drivers/virtio)/[^/]+$)')
	[ -n "$members" ] || skip "$pkg holds no vmlinuz and no vsock modules"
	mkdir -p "$tmp/x"
	# shellcheck disable=SC2086
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" $members ||
		skip "cannot unpack $deb"
	rm -rf "$kdir.new"
	mkdir -p "$kdir.new/modules"
	for f in "$tmp/x/boot/"vmlinuz-*; do
		[ -f "$f" ] && cp "$f" "$kdir.new/vmlinuz"
	done
	for f in "$tmp/x/"lib/modules/*/kernel/net/vmw_vsock/* \
		"$tmp/x/"usr/lib/modules/*/kernel/net/vmw_vsock/* \
		"$tmp/x/"lib/modules/*/kernel/drivers/virtio/* \
		"$tmp/x/"usr/lib/modules/*/kernel/drivers/virtio/*; do
		[ -f "$f" ] && cp "$f" "$kdir.new/modules/"
	done
	[ -f "$kdir.new/vmlinuz" ] || skip "$pkg has no vmlinuz"
	for m in $vsock_modules; do
		module_file "$kdir.new/modules" "$m" >/dev/null ||
			skip "$pkg has no $m.ko (is vsock built in? set VM_KERNEL and VM_MODULES)"
	done
	# For make initramfs INITRAMFS_MODULES=...: the modules a guest of
	# this kernel loads, in order, to use a virtio-vsock device (those
	# built into the kernel are left out).
	for m in $virtio_vsock_modules; do
		f=$(module_file "$kdir.new/modules" "$m") &&
			echo "$kdir/modules/${f##*/}"
	done >"$kdir.new/virtio-vsock.modules"
	echo "$pkg" >"$kdir.new/package"
	rm -rf "$kdir"
	mv "$kdir.new" "$kdir"
	rm -rf "$tmp/deb" "$tmp/x"
}

if [ -n "${VM_KERNEL:-}" ]; then
	[ -n "${VM_MODULES:-}" ] || die "VM_KERNEL needs VM_MODULES (the directory of the vsock .ko files)"
	vmlinuz=$VM_KERNEL
	moddir=$VM_MODULES
	kernel_name=$VM_KERNEL
else
	if [ ! -f "$kdir/vmlinuz" ] || [ ! -f "$kdir/package" ] ||
		[ ! -f "$kdir/virtio-vsock.modules" ]; then
		fetch_kernel
	fi
	vmlinuz=$kdir/vmlinuz
	moddir=$kdir/modules
	kernel_name=$(cat "$kdir/package")
fi
[ -f "$vmlinuz" ] || die "$vmlinuz: no such kernel"
if [ -n "$fetch" ]; then
	echo "kernel:  $vmlinuz ($kernel_name)"
	echo "modules: $moddir"
	[ -z "${VM_KERNEL:-}" ] &&
		echo "virtio-vsock guest modules, in load order: $kdir/virtio-vsock.modules"
	exit 0
fi

# ---- the initramfs ----
initramfs=$tmp/initramfs.cpio.gz
set -- -o "$initramfs" -b "$vsockbox" -s "$repo/scripts/vsock-bench" \
	-B "$busybox" -i "$repo/scripts/init.sh" \
	-f "$repo/tests/vm/guest-tests.sh:/bin/vm-tests"
for m in $vsock_modules; do
	f=$(module_file "$moddir" "$m") || die "$moddir: no $m.ko"
	set -- "$@" -m "$f"
done
[ -x "$qemu_exit" ] && set -- "$@" -f "$qemu_exit:/bin/qemu-exit"
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
	set -- -m 512 -smp 2 \
		-nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$vmlinuz" -initrd "$initramfs" \
		-append "console=ttyS0 panic=-1 quiet $append"
	# TCG on one host thread: with two vCPU threads (thread=multi) on a
	# 2-core machine the guest measured 5 to 10 times slower (unidirectional
	# 35 against 330 MiB/s, echo p50 0.3-7 ms against 0.11 ms).
	case $accel in
	kvm) set -- -accel kvm -cpu host "$@" ;;
	*) set -- -accel tcg,thread=single "$@" ;;
	esac
	if [ "$limit" -eq 0 ]; then
		qemu-system-x86_64 "$@"
	else
		timeout -k 5 "$limit" qemu-system-x86_64 "$@" </dev/null
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
	[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 0
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
	say "booting $kernel_name ($accel) to a shell: Ctrl-A X quits QEMU"
	run_qemu 0 "$guest_args -- setsid cttyhack sh"
	exit 0
fi

# ---- the tests ----
# The guest powers itself off before the host's bound, so that the console
# says what hung.
watchdog=$((host_timeout - 15))
log=$cache/console.log
say "booting $kernel_name ($accel), bound ${host_timeout}s; console log in $log"
# Milliseconds since the epoch (GNU date; whole seconds elsewhere).
now_ms() {
	ns=$(date +%s%N)
	case $ns in *[!0-9]*) ns=$(($(date +%s) * 1000000000)) ;; esac
	echo $((ns / 1000000))
}
start=$(now_ms)
{
	run_qemu "$host_timeout" "init_watchdog=$watchdog init_debug_exit=0xf4$guest_args -- sh /bin/vm-tests" 2>&1
	echo $? >"$tmp/qemu.rc"
} | tee "$tmp/console.raw"
took_ms=$(($(now_ms) - start))
tr -d '\r' <"$tmp/console.raw" >"$log"
qemu_rc=$(cat "$tmp/qemu.rc")

# ---- the verdict ----
# Results: "VMTEST NAME PASS|FAIL ..." lines (a kernel message may share a
# line), "VMTEST-DONE passed=N failed=N" at the end. Any FAIL, a test
# without a result, a kernel panic, a time-out or a guest that did not say
# it was done fails the run.
passed=$(grep -cE 'VMTEST [^ ]+ PASS' "$log")
failed=$(grep -cE 'VMTEST [^ ]+ FAIL' "$log")
done_line=$(grep -o 'VMTEST-DONE .*' "$log" | tail -n 1)
problems=""
problem() {
	problems="$problems$1
"
}
# How QEMU ended: the guest's /init says "init: halt, status N" and hands N
# to isa-debug-exit (QEMU exits 2N+1, modulo 256), or powers off (0) when
# qemu-exit is missing; timeout(1) says 124 when the bound ran out, 128+N
# when QEMU died of signal N (SIGKILL: by timeout -k, or by someone else).
halt=$(sed -n 's/.*init: halt, status \([0-9]*\).*/\1/p' "$log" | tail -n 1)
if [ "$qemu_rc" -eq 124 ]; then
	problem "time-out: QEMU stopped after ${host_timeout}s"
elif [ -n "$halt" ] && { [ "$qemu_rc" -eq $(((2 * halt + 1) % 256)) ] ||
	{ [ "$qemu_rc" -eq 0 ] && [ ! -x "$qemu_exit" ]; }; }; then
	if [ "$halt" -ne 0 ] && [ "$failed" -eq 0 ] && [ -n "$done_line" ]; then
		problem "the guest tests exited $halt with no FAIL line"
	fi
elif [ "$qemu_rc" -gt 128 ] && [ "$took_ms" -ge $((host_timeout * 1000)) ]; then
	problem "time-out: QEMU killed after ${host_timeout}s"
elif [ "$qemu_rc" -gt 128 ]; then
	problem "QEMU exited $qemu_rc (killed by signal $((qemu_rc - 128))?) before the guest halted"
elif [ "$qemu_rc" -eq 0 ]; then
	problem "QEMU exited 0: the guest did not hand over its status (panic or reboot?)"
else
	problem "QEMU failed (exit $qemu_rc)"
fi
grep -q 'Kernel panic' "$log" && problem "kernel panic"
grep -q 'init: watchdog' "$log" && problem "the guest's watchdog fired after ${watchdog}s"
if [ -z "$done_line" ]; then
	problem "no VMTEST-DONE line: the guest tests did not finish"
else
	case "$done_line " in
	"VMTEST-DONE passed=$passed failed=$failed "*) ;;
	*) problem "lost results: the guest says '$done_line', the console shows $passed passed, $failed failed" ;;
	esac
fi
missing="" repeated=""
for t in ${selected:-$all_tests}; do
	names=$t
	[ "$t" = itest ] && for c in $itest_checks; do names="$names itest-$c"; done
	for name in $names; do
		n=$(grep -cE "VMTEST $name (PASS|FAIL)( |\$)" "$log")
		case $n in
		0) missing="$missing $name" ;;
		1) ;;
		*) repeated="$repeated $name" ;;
		esac
	done
done
[ -z "$missing" ] || problem "no result from:$missing"
[ -z "$repeated" ] || problem "more than one result from:$repeated"

echo
if [ -n "$problems" ]; then
	printf '%s' "$problems" | sed 's/^/VMTEST-HOST FAIL /'
	failed=$((failed + $(printf '%s' "$problems" | grep -c '')))
fi
grep -o 'VMTEST [^ ]* FAIL.*' "$log" | sed 's/^/failed: /'
uptime=$(printf '%s\n' "$done_line" | sed -n 's/.*uptime=\([0-9.]*\)s.*/\1/p')
boot=$(sed -n 's/.*VMTEST-START uptime \([0-9.]*\)s.*/\1/p' "$log" | head -n 1)
say "timings: kernel to tests ${boot:-?}s, guest total ${uptime:-?}s, QEMU wall $((took_ms / 1000)).$(printf '%03d' $((took_ms % 1000)))s ($accel)"
echo "vm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
