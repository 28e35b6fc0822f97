#!/bin/sh
# SPDX-License-Identifier: MIT
# mkinitramfs.sh: a gzip'd newc cpio initramfs that holds vsockbox, one
# symlink per applet and vsock-bench in /bin. With -B also busybox, a link
# per busybox applet and an /init script (scripts/init.sh): a whole root
# that boots. Without -B (or -i) it is a payload with no /init, to unpack
# into another tree or to append to another initramfs.
# Needs no root: the /dev/console node is written into the archive by hand.
set -eu

usage() {
	cat <<'EOF'
usage: mkinitramfs.sh -o OUT.cpio.gz -b VSOCKBOX [-s VSOCK_BENCH] [-B BUSYBOX]
                      [-i INIT] [-m MODULE.ko]... [-f SRC:DEST]... [-a APPLET]...
                      [-l BUSYBOX_APPLETS]

  -o OUT       the archive to write (gzip'd newc cpio)
  -b VSOCKBOX  the static vsockbox binary: /bin/vsockbox, a link per applet
  -s SCRIPT    vsock-bench script (default: vsock-bench beside this script)
  -B BUSYBOX   a static busybox: /bin/busybox, a link per busybox applet
               that vsockbox does not have, and /init (see -i)
  -i INIT      the /init script (default with -B: init.sh beside this
               script; without -B, no /init unless given)
  -m MODULE    a kernel module (.ko, or .ko.xz/.ko.zst/.ko.gz: stored
               decompressed) for /lib/modules, loaded by /init in the order
               given (repeatable)
  -f SRC:DEST  also copy file or directory SRC to DEST (an absolute path)
  -a APPLET    vsockbox applet names, when VSOCKBOX cannot run on this
               machine to tell them (a cross build; repeatable)
  -l FILE      busybox's applet names, one a line, when BUSYBOX cannot run
               on this machine to tell them (e.g. from a busybox of the same
               version built for this machine)
EOF
}

die() {
	echo "mkinitramfs: $*" >&2
	exit 1
}

here=$(dirname "$0")
out="" vsockbox="" bench="$here/vsock-bench" busybox="" init=""
modules="" files="" applets="" busybox_list=""
nl='
'
while getopts o:b:s:B:m:i:f:a:l:h opt; do
	case $opt in
	o) out=$OPTARG ;;
	b) vsockbox=$OPTARG ;;
	s) bench=$OPTARG ;;
	B) busybox=$OPTARG ;;
	m) modules="$modules$OPTARG$nl" ;;
	i) init=$OPTARG ;;
	f) files="$files$OPTARG$nl" ;;
	a) applets="$applets $OPTARG" ;;
	l) busybox_list=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { usage >&2; exit 2; }
[ -n "$out" ] || { echo "mkinitramfs: -o is required" >&2; usage >&2; exit 2; }
[ -n "$vsockbox" ] || { echo "mkinitramfs: -b is required" >&2; usage >&2; exit 2; }
[ -z "$busybox" ] || [ -n "$init" ] || init=$here/init.sh
for f in "$vsockbox" "$bench" ${init:+"$init"} ${busybox:+"$busybox"}; do
	[ -f "$f" ] || die "$f: no such file"
done
for tool in cpio gzip find sort; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (apt-get install $tool)"
done

# Nothing in the archive is a libc: the binaries must be static, ELF files
# without a program interpreter (readelf reads a foreign one too; else ldd
# lists no library for a static binary).
check_static() {
	if command -v readelf >/dev/null 2>&1; then
		readelf -h "$1" >/dev/null 2>&1 || die "$1: not an ELF file"
		if readelf -lW "$1" 2>/dev/null | grep -q INTERP; then
			die "$1 is dynamically linked: the initramfs has no libc"
		fi
	elif command -v ldd >/dev/null 2>&1 && ldd "$1" 2>&1 | grep -q '=>'; then
		die "$1 is dynamically linked: the initramfs has no libc"
	fi
}
for f in "$vsockbox" ${busybox:+"$busybox"}; do
	check_static "$f"
done

if [ -z "$applets" ]; then
	applets=$("$vsockbox" --list) ||
		die "$vsockbox --list failed: name the applets with -a (a cross build?)"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkinitramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
root=$tmp/root

mkdir -p "$root/bin" "$root/dev"
if [ -n "$init" ]; then
	# A whole root, merged /usr: every program in /bin.
	mkdir -p "$root/etc" "$root/proc" "$root/root" "$root/sys" \
		"$root/tmp" "$root/usr"
	ln -s bin "$root/sbin"
	ln -s ../bin "$root/usr/bin"
	ln -s ../bin "$root/usr/sbin"
	chmod 1777 "$root/tmp"
	chmod 700 "$root/root"
fi

cp "$vsockbox" "$root/bin/vsockbox"
chmod 755 "$root/bin/vsockbox"
for a in $applets; do
	case $a in */* | .*) die "bad applet name '$a'" ;; esac
	ln -s vsockbox "$root/bin/$a"
done
cp "$bench" "$root/bin/vsock-bench"
chmod 755 "$root/bin/vsock-bench"

# busybox's links are written into the archive by hand (below): a few
# hundred ln processes cost seconds.
busybox_links=""
if [ -n "$busybox" ]; then
	cp "$busybox" "$root/bin/busybox"
	chmod 755 "$root/bin/busybox"
	if [ -n "$busybox_list" ]; then
		busybox_links=$(cat "$busybox_list") || die "$busybox_list: cannot read it"
	else
		busybox_links=$("$busybox" --list) ||
			die "$busybox --list failed (another architecture? name its applets with -l)"
	fi
fi

if [ -n "$init" ]; then
	cp "$init" "$root/init"
	chmod 755 "$root/init"
fi

# Modules: flat in /lib/modules, decompressed (busybox insmod may read only
# plain ELF), their load order in /etc/modules.
decompress() { # file: to stdout
	case $1 in
	*.xz) tool=xz package=xz-utils ;;
	*.zst) tool=zstd package=zstd ;;
	*.gz) tool=gzip package=gzip ;;
	*) cat "$1"; return ;;
	esac
	command -v "$tool" >/dev/null 2>&1 ||
		die "$1: no $tool to decompress it (apt-get install $package)"
	"$tool" -dc "$1"
}
while IFS= read -r m; do
	[ -n "$m" ] || continue
	[ -f "$m" ] || die "$m: no such file"
	name=$(basename "$m")
	name=${name%.xz} name=${name%.zst} name=${name%.gz}
	case $name in *.ko) ;; *) die "$m: not a kernel module (.ko)" ;; esac
	mkdir -p "$root/lib/modules" "$root/etc"
	decompress "$m" >"$root/lib/modules/$name" || die "$m: cannot decompress it"
	echo "/lib/modules/$name" >>"$root/etc/modules"
done <<EOF
$modules
EOF

while IFS= read -r spec; do
	[ -n "$spec" ] || continue
	case $spec in
	*:/*) ;;
	*) die "-f $spec: want SRC:DEST with an absolute DEST" ;;
	esac
	src=${spec%:*} dest=${spec##*:}
	[ -e "$src" ] || die "$src: no such file"
	mkdir -p "$root$(dirname "$dest")"
	rm -rf "$root$dest"
	cp -R "$src" "$root$dest"
done <<EOF
$files
EOF

if [ -n "$init" ] && [ ! -e "$root/bin/sh" ] && [ -z "$busybox" ]; then
	echo "mkinitramfs: warning: no /bin/sh for /init (give -B BUSYBOX or -f)" >&2
fi

# newc header fields, 8 hex digits each: ino mode uid gid nlink mtime
# filesize devmajor devminor rdevmajor rdevminor namesize check. The name
# follows with its NUL, padded so that the header and name end on 4 bytes.
# The data (a symlink's target, ASCII) follows, padded to 4 bytes too.
pad4() { # bytes so far
	pad=$(((4 - $1 % 4) % 4))
	while [ "$pad" -gt 0 ]; do
		printf '\0'
		pad=$((pad - 1))
	done
}
newc_entry() { # name mode rdevmajor rdevminor [data]
	namesize=$((${#1} + 1))
	data=${5:-}
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		0 "$2" 0 0 1 0 "${#data}" 0 0 "$3" "$4" "$namesize" 0
	printf '%s\0' "$1"
	pad4 $((110 + namesize))
	printf '%s' "$data"
	pad4 "${#data}"
}

# The tree, then a second archive with /dev/console (character device 5,1,
# mode 0600) and busybox's links (to busybox, for each applet that the tree
# has no file of): the kernel unpacks one archive after the other, and what
# is written this way needs no mknod (so no root) and no process per link.
# GNU cpio can own every file to root and number inodes reproducibly; other
# cpios (busybox) write the owners as they are.
cpio_flags=""
if cpio --version 2>/dev/null | grep -q 'GNU cpio'; then
	cpio_flags="-R 0:0 --quiet"
	if cpio --help 2>/dev/null | grep -q -- --reproducible; then
		cpio_flags="$cpio_flags --reproducible"
	fi
fi
(
	cd "$root"
	# shellcheck disable=SC2086
	find . ! -path . | LC_ALL=C sort | cpio -o -H newc $cpio_flags
	newc_entry dev/console $((0020600)) 5 1
	for a in $busybox_links; do
		case $a in */* | .*) continue ;; esac
		[ -e "bin/$a" ] || [ -L "bin/$a" ] ||
			newc_entry "bin/$a" $((0120777)) 0 0 busybox
	done
	newc_entry TRAILER!!! 0 0 0
) >"$tmp/initramfs.cpio"
gzip -9 -n <"$tmp/initramfs.cpio" >"$tmp/out.gz"
mv "$tmp/out.gz" "$out" 2>/dev/null || cp "$tmp/out.gz" "$out"
echo "mkinitramfs: $out: $(wc -c <"$out") bytes"
