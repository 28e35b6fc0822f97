#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/vm/lib.sh: what the QEMU runners share, sourced by tests/vm/run.sh
# (one guest over vsock loopback, amd64 or arm64, any Debian kernel) and
# tests/vm/vhost.sh (a guest inside a guest over vhost-vsock-pci): messages
# and the skip rule, tools and their installation, Debian kernels and
# packages fetched through an apt configuration of our own, the qemu-exit
# helper, the machine of each architecture, and the verdict on a console log.
#
# The runner sets before sourcing: me (the name its messages start with),
# repo (the source tree). Before using the functions: cache (a directory
# kept between runs) and tmp (a scratch directory it removes).
# Variables set here are for the runner, and the runner's for us:
# shellcheck disable=SC2034,SC2154

# ---- messages, the skip rule ----
say() { echo "$me: $*" >&2; }

die() {
	say "$*"
	exit 2
}

# Nothing to test with (no QEMU, no kernel to be had): exit 77, which the
# make targets report as skipped. With $CI set (non-empty) a skip is a
# failure instead: exit 1 with the reason in one line.
skip() {
	if [ -n "${CI:-}" ]; then
		echo "$me: FAIL: cannot run, and CI is set: $*"
		exit 1
	fi
	echo "SKIP: $*"
	echo "$me: 0 passed, 0 failed, 1 skipped"
	exit 77
}

# runner_setup DEFAULT MIN NAME: the bound on the whole run (VM_TIMEOUT,
# else DEFAULT seconds; at least MIN), vsockbox's path made absolute, the
# cache made and absolute, a scratch directory NAME.XXXXXX removed on exit.
# Sets host_timeout, vsockbox, cache, tmp.
runner_setup() {
	host_timeout=${VM_TIMEOUT:-$1}
	case $host_timeout in '' | *[!0-9]*) die "VM_TIMEOUT=$host_timeout: want seconds" ;; esac
	[ "$host_timeout" -ge "$2" ] || die "VM_TIMEOUT=$host_timeout: want $2 s or more"
	case $vsockbox in /*) ;; *) vsockbox=$(pwd)/$vsockbox ;; esac
	mkdir -p "$cache" || die "cannot create $cache"
	cache=$(cd "$cache" && pwd)
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$3.XXXXXX") || die "mktemp failed"
	trap 'rm -rf "$tmp"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

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

# need COMMAND:PACKAGE...: install the packages of the missing commands if
# we may, then skip naming the first command still missing.
need() {
	missing=""
	for spec; do
		command -v "${spec%%:*}" >/dev/null 2>&1 || missing="$missing ${spec#*:}"
	done
	if [ -n "$missing" ] && can_install; then
		# shellcheck disable=SC2086
		apt_install $missing || say "apt-get install$missing failed"
	fi
	for spec; do
		command -v "${spec%%:*}" >/dev/null 2>&1 ||
			skip "no ${spec%%:*} (apt-get install ${spec#*:})"
	done
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

# The ELF machine of a binary as readelf names it ("" without readelf).
elf_machine() {
	command -v readelf >/dev/null 2>&1 || return 0
	readelf -h "$1" 2>/dev/null | sed -n 's/^ *Machine: *//p'
}

# ---- the machine of each guest architecture ----
# Sets qemu (the emulator), qemu_package, console, qemu_machine (its
# arguments before the common ones), tcg (the -accel value), elf (readelf's
# name of the machine), exit_device (yes: isa-debug-exit hands the guest's
# status to QEMU; else QEMU exits 0 at power-off and the console tells),
# cross (COMMAND:PACKAGES of the compiler that builds for it on amd64).
# TCG: on this 2-core machine one host thread is 5-10x faster for the x86
# guest (thread=multi: unidirectional 35 against 330 MiB/s), two threads
# about 2x faster for the arm64 one.
set_arch() {
	case $1 in
	amd64)
		qemu=qemu-system-x86_64 qemu_package=qemu-system-x86
		console=ttyS0 tcg=tcg,thread=single elf=X86-64 exit_device=yes
		qemu_machine="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
		cross=""
		;;
	arm64)
		qemu=qemu-system-aarch64 qemu_package=qemu-system-arm
		console=ttyAMA0 tcg=tcg,thread=multi elf=AArch64 exit_device=""
		qemu_machine="-machine virt -cpu cortex-a57"
		cross="aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
		;;
	*) die "unknown architecture '$1' (amd64 or arm64)" ;;
	esac
	qemu=${VM_QEMU:-$qemu}
}

# ---- Debian packages through an apt of our own ----
# The machine's own apt sources, lists and dpkg state stay untouched: each
# suite and architecture gets a sources file, lists, an empty dpkg status
# and a package cache under $cache/apt/SUITE-ARCH.

# The Debian archive the machine's apt uses (not its security archive).
debian_mirror() {
	if [ -n "${VM_MIRROR:-}" ]; then
		echo "$VM_MIRROR"
		return
	fi
	m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n 's|^URIs: *\([^ ]*/debian\)/\{0,1\}\( .*\)\{0,1\}$|\1|p' | head -n 1)
	[ -n "$m" ] || m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		sed -n 's|^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*/debian\)/\{0,1\} .*|\2|p' | head -n 1)
	echo "${m:-http://deb.debian.org/debian}"
}

apt_private() { # suite arch: sets apt_conf
	d=$cache/apt/$1-$2
	mkdir -p "$d/lists/partial" "$d/archives/partial" "$d/none"
	[ -f "$d/status" ] || : >"$d/status"
	printf 'deb [arch=%s signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
		"$2" "$(debian_mirror)" "$1" >"$d/sources.list"
	cat >"$d/apt.conf" <<EOF
APT::Architecture "$2";
APT::Architectures { "$2"; };
Dir::Etc::sourcelist "$d/sources.list";
Dir::Etc::sourceparts "$d/none";
Dir::Etc::preferences "$d/none/preferences";
Dir::Etc::preferencesparts "$d/none";
Dir::State::Lists "$d/lists";
Dir::State::status "$d/status";
Dir::Cache "$d";
Dir::Cache::archives "$d/archives";
Acquire::Languages "none";
APT::Sandbox::User "root";
EOF
	apt_conf=$d/apt.conf
}

papt() { APT_CONFIG=$apt_conf "$@"; }

# apt-get update takes a lock on the lists and fails at once when another
# run holds it: runs of the same suite take turns instead.
papt_update() {
	say "apt-get update (Debian $apt_suite, $apt_arch, lists of our own)"
	if command -v flock >/dev/null 2>&1; then
		papt flock -w 600 "$cache/apt/$apt_suite-$apt_arch/update.lock" \
			timeout 300 apt-get update -q >>"$tmp/apt.log" 2>&1
	else
		papt timeout 300 apt-get update -q >>"$tmp/apt.log" 2>&1
	fi
}

# The package a metapackage stands for (the versioned kernel or source):
# its first dependency named like it (linux-image-cloud-amd64: the first
# linux-image-*; sid's first dependency is linux-base-cloud-amd64), else its
# first dependency.
papt_depends() {
	papt apt-cache depends "$1" 2>/dev/null |
		sed -n 's/^ *|\{0,1\}Depends: \([^ <]*\)$/\1/p' >"$tmp/depends"
	stem=$(echo "$1" | cut -d - -f 1-2)
	grep -m 1 "^$stem-" "$tmp/depends" || head -n 1 "$tmp/depends"
}

# fetch_lock NAME: wait (up to 15 minutes) until no other run fetches NAME
# into the cache, then hold it on descriptor 9 until fetch_unlock: two runs
# that fetch at once take turns, the second finding what the first cached.
# Without flock(1) there is no lock (renames still keep the cache whole).
fetch_lock() {
	command -v flock >/dev/null 2>&1 || return 0
	exec 9>"$cache/$1.lock"
	flock -w 900 9 || skip "another run has held $cache/$1.lock for 15 minutes"
}
fetch_unlock() { exec 9>&-; }

# papt_deb SUITE ARCH PACKAGE [METAPACKAGE]: sets deb, the downloaded .deb of
# PACKAGE (or of the package METAPACKAGE depends on), and pkg, its name.
# Updates our lists when they lack it or name a version the archive lost.
papt_deb() {
	apt_suite=$1 apt_arch=$2
	if ! command -v apt-get >/dev/null 2>&1 ||
		! command -v dpkg-deb >/dev/null 2>&1; then
		skip "no apt-get/dpkg-deb to fetch Debian's ${4:-$3}"
	fi
	apt_private "$1" "$2"
	: >>"$tmp/apt.log"
	for try in 1 2; do
		set -- "$1" "$2" "$3" "${4:-}" "$cache/apt/$1-$2/lists/"*_Packages*
		if [ "$try" -eq 2 ] || [ ! -f "$5" ]; then
			papt_update
		fi
		pkg=$3
		[ -z "${4:-}" ] || pkg=$(papt_depends "$4")
		[ -n "$pkg" ] || continue
		rm -rf "$tmp/deb"
		mkdir -p "$tmp/deb"
		(cd "$tmp/deb" && papt timeout 300 apt-get download "$pkg") >>"$tmp/apt.log" 2>&1 || continue
		deb=$(find "$tmp/deb" -name '*.deb' | head -n 1)
		[ -n "$deb" ] && return 0
	done
	tail -n 3 "$tmp/apt.log" | sed "s/^/$me: apt: /" >&2
	skip "cannot download Debian $1's ${4:-$3} for $2 (no network, or no such package)"
}

# A module file of a directory: NAME.ko, else compressed (mkinitramfs.sh
# decompresses it: busybox insmod may not).
module_file() { # dir name
	for f in "$1/$2.ko" "$1/$2.ko.xz" "$1/$2.ko.zst" "$1/$2.ko.gz"; do
		[ -f "$f" ] && echo "$f" && return 0
	done
	return 1
}

# The Debian suites whose cloud kernels the runners boot: bookworm (6.1),
# trixie (6.12), sid (unstable: the newest, 7.2.13 on 2026-12-03; it moves).
check_suite() {
	case $1 in
	bookworm | trixie | sid) ;;
	*) die "--suite $1: want bookworm, trixie or sid" ;;
	esac
}

vsock_modules="vsock vmw_vsock_virtio_transport_common vsock_loopback"
virtio_vsock_modules="virtio_ring virtio virtio_pci_modern_dev
virtio_pci_legacy_dev virtio_pci vsock vmw_vsock_virtio_transport_common
vmw_vsock_virtio_transport"
vhost_vsock_modules="vsock vmw_vsock_virtio_transport_common vhost_iotlb
vhost vhost_vsock"

# fetch_kernel SUITE ARCH: Debian SUITE's cloud kernel for ARCH, unpacked
# without installing it into $cache/kernel-SUITE-ARCH (kept; sets kdir):
# vmlinuz, package (its name), release (uname -r), version (the package's,
# and the date it was fetched), modules/ (vsock, virtio and vhost ones, flat;
# compressed as packaged) and virtio-vsock.modules (what a guest of this
# kernel loads for a real virtio-vsock device, in order, those built into
# the kernel left out). bookworm's and trixie's linux-image-VERSION holds
# /boot/vmlinuz-VERSION and the modules; newer ones (sid's 7.2) are a small
# metapackage over linux-binary-VERSION (/usr/lib/modules/VERSION/vmlinuz)
# and linux-modules-VERSION, fetched then too. Concurrent runs take turns
# (fetch_lock), and the directory appears whole or not at all (a rename).
kernel_cached() { [ -f "$kdir/vmlinuz" ] && [ -f "$kdir/release" ]; }

fetch_kernel() {
	kdir=$cache/kernel-$1-$2
	kernel_cached && return 0
	fetch_lock "kernel-$1-$2"
	if kernel_cached; then
		fetch_unlock
		return 0
	fi
	papt_deb "$1" "$2" "" "linux-image-cloud-$2"
	kpkg_version=$(dpkg-deb -f "$deb" Version)
	kernel_pattern='^\./(boot/vmlinuz-|(usr/)?lib/modules/[^/]+/(vmlinuz$|kernel/(net/vmw_vsock|drivers/virtio|drivers/vhost)/[^/]+$))'
	if ! dpkg-deb --fsys-tarfile "$deb" | tar -t | grep -qE "$kernel_pattern"; then
		kernel_parts "$2" "$pkg" "$deb"
	fi
	rm -rf "$tmp/x"
	mkdir -p "$tmp/x"
	for d in "$tmp/deb/"*.deb; do
		members=$(dpkg-deb --fsys-tarfile "$d" | tar -t | grep -E "$kernel_pattern")
		[ -n "$members" ] || continue
		# shellcheck disable=SC2086
		dpkg-deb --fsys-tarfile "$d" | tar -x -C "$tmp/x" $members ||
			skip "cannot unpack $d"
	done
	new=$kdir.new.$$
	rm -rf "$new"
	mkdir -p "$new/modules"
	for f in "$tmp/x/boot/"vmlinuz-* "$tmp/x/"lib/modules/*/vmlinuz \
		"$tmp/x/"usr/lib/modules/*/vmlinuz; do
		[ -f "$f" ] || continue
		cp "$f" "$new/vmlinuz"
		case $f in
		*/vmlinuz-*) echo "${f##*/vmlinuz-}" ;;
		*) basename "$(dirname "$f")" ;;
		esac >"$new/release"
	done
	[ -f "$new/vmlinuz" ] || skip "$pkg has no vmlinuz"
	for f in "$tmp/x/"lib/modules/*/kernel/*/*/* \
		"$tmp/x/"usr/lib/modules/*/kernel/*/*/*; do
		[ -f "$f" ] && cp "$f" "$new/modules/"
	done
	for m in $vsock_modules; do
		module_file "$new/modules" "$m" >/dev/null ||
			skip "$pkg has no $m.ko (is vsock built in? set VM_KERNEL and VM_MODULES)"
	done
	for m in $virtio_vsock_modules; do
		f=$(module_file "$new/modules" "$m") &&
			echo "$kdir/modules/${f##*/}"
	done >"$new/virtio-vsock.modules"
	echo "$pkg" >"$new/package"
	echo "$kpkg_version $(date -u +%Y-%m-%d)" >"$new/version"
	rm -rf "$kdir" "$tmp/deb" "$tmp/x"
	mv "$new" "$kdir"
	fetch_unlock
}

# kernel_parts ARCH PKG DEB: PKG (DEB) is a metapackage over the kernel
# image and the modules: download linux-binary-VERSION and
# linux-modules-VERSION, the dependencies it names, beside it in $tmp/deb.
kernel_parts() {
	kversion=${2#linux-image-}
	parts=""
	for part in binary modules; do
		dpkg-deb -f "$3" Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' |
			grep -qx "linux-$part-$kversion" ||
			skip "$2 holds no vmlinuz and does not depend on linux-$part-$kversion"
		parts="$parts linux-$part-$kversion"
	done
	say "$2 is a metapackage: fetching$parts"
	# shellcheck disable=SC2086
	(cd "$tmp/deb" && papt timeout 300 apt-get download $parts) >>"$tmp/apt.log" 2>&1 || {
		tail -n 3 "$tmp/apt.log" | sed "s/^/$me: apt: /" >&2
		skip "cannot download$parts for $1"
	}
}

# One line saying which kernel a run boots: the suites move, the cache stays.
kernel_line() { # suite arch
	v="package version not recorded"
	[ -f "$kdir/version" ] &&
		v=$(sed 's/^\([^ ]*\) \(.*\)/package version \1, fetched \2/' "$kdir/version")
	echo "kernel: Debian $1 $2 $(cat "$kdir/package") ($(cat "$kdir/release")), $v (remove $kdir to fetch the suite's newest)"
}

# ---- the kernel's own vsock tools, built here from Debian's source ----
# vsock_src SUITE: tools/testing/vsock and tools/include of Debian SUITE's
# linux-source (only those are unpacked from its inner tarball, which is
# read whole) in $cache/linux-vsock-SUITE/src, with the package's name and
# version in .../version (kept; sets vsrc). Nothing of it enters the
# repository.
vsock_src() {
	vsrc=$cache/linux-vsock-$1
	[ -s "$vsrc/version" ] && return 0
	fetch_lock "linux-vsock-$1"
	if [ -s "$vsrc/version" ]; then
		fetch_unlock
		return 0
	fi
	need xz:xz-utils
	papt_deb "$1" amd64 "" linux-source
	say "unpacking tools/testing/vsock from $pkg (the whole inner tarball is read)"
	inner=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | grep '^\./usr/src/linux-source-.*\.tar\.xz$' | head -n 1)
	[ -n "$inner" ] || skip "$pkg holds no linux-source tarball"
	rm -rf "$tmp/src"
	mkdir -p "$tmp/src"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "$inner" | xz -dc |
		tar -x -C "$tmp/src" --wildcards '*/tools/testing/vsock/*' '*/tools/include/*' ||
		skip "cannot unpack $inner"
	new=$vsrc.new.$$
	rm -rf "$new"
	mkdir -p "$new"
	mv "$tmp/src/"*/tools "$new/tools" || skip "cannot move $inner's tools"
	[ -f "$new/tools/testing/vsock/Makefile" ] || skip "$inner has no tools/testing/vsock"
	echo "$pkg $(dpkg-deb -f "$deb" Version)" >"$new/version"
	rm -rf "$vsrc" "$tmp/deb" "$tmp/src"
	mv "$new" "$vsrc"
	fetch_unlock
}

# build_vsock_tool SUITE NAME: NAME (vsock_test, vsock_perf) of SUITE's
# linux-source, static, from the objects its Makefile names, in
# $cache/linux-vsock-SUITE/NAME (kept; sets vtool). The machine's libc
# headers, the source's tools/include for its own.
build_vsock_tool() {
	vsock_src "$1"
	tool=$2 vtool=$vsrc/$2
	is_static "$vtool" && return 0
	d=$vsrc/tools/testing/vsock
	objs=$(sed -n "s/^$tool: *\([^=]*\)\$/\1/p" "$d/Makefile")
	[ -n "$objs" ] || die "$d/Makefile: no rule for $tool"
	set --
	for o in $objs; do set -- "$@" "$d/${o%.o}.c"; done
	say "building $tool of $(cat "$vsrc/version") (gcc -static -O2)"
	${CC:-cc} -static -O2 -D_GNU_SOURCE -I"$d" -I"$vsrc/tools/include" \
		-o "$vtool.new.$$" "$@" -lpthread 2>"$tmp/cc.log" || {
		rm -f "$vtool.new.$$"
		cat "$tmp/cc.log" >&2
		die "cannot build $tool of $(cat "$vsrc/version")"
	}
	mv "$vtool.new.$$" "$vtool"
}

# A static busybox for the guest: the machine's own when the guest is of its
# architecture, else Debian's busybox-static for ARCH (cached). Sets busybox.
find_busybox() { # arch
	if [ -n "${VM_BUSYBOX:-}" ]; then
		is_static "$VM_BUSYBOX" || die "VM_BUSYBOX=$VM_BUSYBOX: not a static executable"
		busybox=$VM_BUSYBOX
		return
	fi
	if [ "$1" = "$(host_arch)" ]; then
		need busybox:busybox-static
		for busybox in /bin/busybox /usr/bin/busybox; do
			is_static "$busybox" && return
		done
		skip "no static busybox (apt-get install busybox-static, or VM_BUSYBOX=PATH)"
	fi
	busybox=$cache/busybox-$1
	[ -x "$busybox" ] && return
	papt_deb bookworm "$1" busybox-static
	rm -rf "$tmp/x"
	mkdir -p "$tmp/x"
	dpkg-deb -x "$deb" "$tmp/x" || skip "cannot unpack $deb"
	for f in "$tmp/x/bin/busybox" "$tmp/x/usr/bin/busybox"; do
		[ -f "$f" ] && cp "$f" "$busybox.new.$$" && mv "$busybox.new.$$" "$busybox"
	done
	rm -rf "$tmp/x" "$tmp/deb"
	[ -x "$busybox" ] || skip "$pkg has no /bin/busybox"
}

host_arch() {
	case $(uname -m) in
	x86_64) echo amd64 ;;
	aarch64) echo arm64 ;;
	*) uname -m ;;
	esac
}

# build_helper NAME WITHOUT: tests/vm/NAME.c built static for this
# machine into $cache/NAME (again when the source is newer); sets helper
# ("" without a C compiler, after saying WITHOUT: what is lost then).
build_helper() {
	helper=$cache/$1
	src=$repo/tests/vm/$1.c
	if [ ! -x "$helper" ] || [ -n "$(find "$src" -newer "$helper")" ]; then
		if ${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 -static -s \
			-o "$helper.$$" "$src" 2>"$tmp/cc.log"; then
			mv "$helper.$$" "$helper"
		else
			rm -f "$helper.$$"
			say "cannot build $1 (no static C compiler?): $2"
			cat "$tmp/cc.log" >&2
		fi
	fi
	[ -x "$helper" ] || helper=""
}

# qemu-exit: hands the guest's exit status to QEMU through isa-debug-exit
# (the cloud kernel has no /dev/port); x86 only. Without a C compiler the
# status comes from the console alone. Sets qemu_exit ("" if none).
build_qemu_exit() {
	build_helper qemu-exit "the exit status comes from the console only"
	qemu_exit=$helper
}

# Milliseconds since the epoch (GNU date; whole seconds elsewhere).
now_ms() {
	ns=$(date +%s%N)
	case $ns in *[!0-9]*) ns=$(($(date +%s) * 1000000000)) ;; esac
	echo $((ns / 1000000))
}

# boot LOG LIMIT APPEND: boot the runner's machine, run_qemu LIMIT APPEND
# (a function of the runner: QEMU with the kernel command line APPEND, killed
# after LIMIT seconds), its console on this terminal and, without carriage
# returns, in LOG. Sets qemu_rc and took_ms.
boot() {
	log=$1 limit=$2
	start=$(now_ms)
	{
		run_qemu "$limit" "$3" </dev/null 2>&1
		echo $? >"$tmp/qemu.rc"
	} | tee "$tmp/console.raw"
	took_ms=$(($(now_ms) - start))
	tr -d '\r' <"$tmp/console.raw" >"$log"
	qemu_rc=$(cat "$tmp/qemu.rc")
}

# ---- vsock-conform's verdicts ----
# conform_judge LOG LABEL: vsock-conform's KTAP output, the "KTAP LABEL| "
# lines of the console LOG (guest-lib.sh: conform_result), checked by
# tests/ktap against the column of tests/vm/conform-expect for the kernel
# that ran (the release on the VMTEST-START line; tests/vm/conform-expect.awk
# picks it): a malformed stream and each case whose verdict differs, either
# way, are problems for verdict. Prints one line of counts. Needs
# need_ktap first ($KTAP: another tests/ktap); $conform_table: another table,
# $conform_tool and $conform_label: another applet's KTAP (vsock-lifecycle's)
# and the table's name, in the messages.
need_ktap() {
	ktap_tool=${KTAP:-$repo/tests/ktap}
	[ -x "$ktap_tool" ] ||
		die "$ktap_tool: not built (make tests/ktap): it reads vsock-conform's KTAP"
}

conform_judge() {
	ktap=$tmp/ktap-$2 expect=$tmp/expect-$2
	table=${conform_table:-$repo/tests/vm/conform-expect}
	tool=${conform_tool:-vsock-conform}
	sed -n "s/.*KTAP $2| //p" "$1" >"$ktap"
	if [ ! -s "$ktap" ]; then
		problem "no KTAP output from $tool ($2)"
		return
	fi
	release=$(sed -n 's/.*VMTEST-START uptime [0-9.]*s, \([^,]*\),.*/\1/p' "$1" | head -n 1)
	if ! awk -v release="$release" -f "$repo/tests/vm/conform-expect.awk" \
		"$table" >"$expect" 2>"$tmp/expect.err"; then
		while IFS= read -r line; do problem "$line"; done <"$tmp/expect.err"
		return
	fi
	sed "s/^/$me: /" "$tmp/expect.err"
	if "$ktap_tool" --expect "$expect" "$ktap" >"$tmp/verdicts" 2>"$tmp/ktap.err"; then
		echo "$me: $tool ($2) as ${conform_label:-tests/vm/conform-expect} has it for $release:" \
			"$(grep -c ' ok$' "$tmp/verdicts") ok, $(grep -c ' skip ' "$tmp/verdicts") skip," \
			"$(grep -c ' not-ok$' "$tmp/verdicts") not ok (known defects)"
		return
	fi
	# A difference on a case with a known defect: its reason too.
	while IFS= read -r line; do
		name=$(echo "$line" | sed -n 's/^ktap: \([^ :]*\): expected .*/\1/p')
		why=$(sed -n "s/^$name not-ok # //p" "$expect")
		problem "$tool ($2, $release): $line${why:+ (the known defect: $why)}"
	done <"$tmp/ktap.err"
}

# ---- the verdict ----
# verdict LOG NAMES: results are "VMTEST NAME PASS|FAIL ..." lines (a kernel
# message may share a line), "VMTEST-DONE passed=N failed=N" at the end.
# Any FAIL, a name of NAMES without exactly one result, a kernel panic, a
# time-out (limit, qemu_rc, took_ms of boot), a guest that did not halt
# with its status or did not say it was done fails the run, as does any
# problem found before (conform_judge). Prints every
# problem as a VMTEST-HOST FAIL line and ends with "ME: N passed, N failed";
# returns 1 on failure. Uses exit_device and qemu_exit.
verdict() {
	log=$1 names=$2
	passed=$(grep -cE 'VMTEST [^ ]+ PASS' "$log")
	failed=$(grep -cE 'VMTEST [^ ]+ FAIL' "$log")
	done_line=$(grep -o 'VMTEST-DONE .*' "$log" | tail -n 1)
	problems=${problems:-}
	# How QEMU ended: the guest's /init says "init: halt, status N" and
	# hands N to isa-debug-exit (QEMU exits 2N+1, modulo 256), or powers
	# off (0) without that device or helper; timeout(1) says 124 when the
	# bound ran out, 128+N when QEMU died of signal N.
	halt=$(sed -n 's/.*init: halt, status \([0-9]*\).*/\1/p' "$log" | tail -n 1)
	if [ "$qemu_rc" -eq 124 ]; then
		problem "time-out: QEMU stopped after ${limit}s"
	elif [ -n "$halt" ] && { [ "$qemu_rc" -eq $(((2 * halt + 1) % 256)) ] ||
		{ [ "$qemu_rc" -eq 0 ] && { [ -z "$exit_device" ] || [ -z "$qemu_exit" ]; }; }; }; then
		if [ "$halt" -ne 0 ] && [ "$failed" -eq 0 ] && [ -n "$done_line" ]; then
			problem "the guest tests exited $halt with no FAIL line"
		fi
	elif [ "$qemu_rc" -gt 128 ] && [ "$took_ms" -ge $((limit * 1000)) ]; then
		problem "time-out: QEMU killed after ${limit}s"
	elif [ "$qemu_rc" -gt 128 ]; then
		problem "QEMU exited $qemu_rc (killed by signal $((qemu_rc - 128))?) before the guest halted"
	elif [ "$qemu_rc" -eq 0 ]; then
		problem "QEMU exited 0 but the guest did not say it halted (panic or reboot?)"
	else
		problem "QEMU failed (exit $qemu_rc)"
	fi
	grep -q 'Kernel panic' "$log" && problem "kernel panic"
	grep -q 'init: watchdog' "$log" && problem "a guest's watchdog fired"
	if [ -z "$done_line" ]; then
		problem "no VMTEST-DONE line: the guest tests did not finish"
	else
		case "$done_line " in
		"VMTEST-DONE passed=$passed failed=$failed "*) ;;
		*) problem "lost results: the guest says '$done_line', the console shows $passed passed, $failed failed" ;;
		esac
	fi
	missing="" repeated=""
	for name in $names; do
		n=$(grep -cE "VMTEST $name (PASS|FAIL)( |\$)" "$log")
		case $n in
		0) missing="$missing $name" ;;
		1) ;;
		*) repeated="$repeated $name" ;;
		esac
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
	start_s=$(sed -n 's/.*VMTEST-START uptime \([0-9.]*\)s.*/\1/p' "$log" | head -n 1)
	say "timings: kernel to tests ${start_s:-?}s, guest total ${uptime:-?}s, QEMU wall $((took_ms / 1000)).$(printf '%03d' $((took_ms % 1000)))s"
	echo "$me: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

problem() {
	problems="$problems$1
"
}
