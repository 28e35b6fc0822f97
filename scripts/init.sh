#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of a vsockbox initramfs (scripts/mkinitramfs.sh installs it; copy
# and extend it, or add an /etc/rc.local, to run your own tests).
#
#  1. mounts proc, sysfs, devtmpfs (on /dev, with the console on stdio) and
#     a tmpfs on /tmp, and brings up the loopback network interface;
#  2. loads the kernel modules listed in /etc/modules, one path a line, in
#     that order (mkinitramfs.sh -m writes it);
#  3. runs the command that follows "--" on the kernel command line, else
#     /etc/rc.local if present, else a shell on the console;
#  4. says "init: halt, status N" (N: the command's exit status) and powers
#     the machine off (PID 1 must never exit: that is a panic).
#
# Kernel command-line words name=value that the kernel does not know
# arrive here as environment variables; this script reads:
#   init_watchdog=S     power off after S seconds whatever is running
#   init_debug_exit=P   pass the command's exit status V to QEMU through
#                       -device isa-debug-exit,iobase=P (QEMU then exits
#                       with 2V+1); P such as 0xf4. Needs the qemu-exit
#                       helper (tests/vm/qemu-exit.c) on PATH.
# Every other such word is left in the environment of the command.
# Example: -append "console=ttyS0 quiet init_watchdog=60 -- vsock-itest"
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH

mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
# The kernel opened /dev/console for us if the archive holds the node;
# reopen it from devtmpfs so that stdio works either way.
exec </dev/console >/dev/console 2>&1
if command -v ip >/dev/null 2>&1; then
	ip link set lo up 2>/dev/null
fi

# Wait until the console has sent everything written so far: output still in
# the serial driver's buffer is lost when the machine stops. stty sets the
# terminal with TCSADRAIN, which waits for the transmitter to empty.
drain_console() {
	stty -F /dev/console "$(stty -F /dev/console -g)" 2>/dev/null
}

# Stop the machine, first handing status $1 to QEMU if asked to.
halt_machine() {
	echo "init: halt, status $1"
	drain_console
	if [ -n "${init_debug_exit:-}" ]; then
		qemu-exit "$init_debug_exit" $(($1 & 255))
	fi
	poweroff -f
	echo o >/proc/sysrq-trigger
	while :; do sleep 3600; done
}

if [ -n "${init_watchdog:-}" ]; then
	(
		sleep "$init_watchdog"
		echo "init: watchdog: ${init_watchdog}s elapsed, powering off; running:"
		ps -o pid,args 2>/dev/null | cut -c 1-100 | awk '!/\]$/'	# not kernel threads
		halt_machine 124
	) &
	watchdog=$!
fi

if [ -s /etc/modules ]; then
	while IFS= read -r module; do
		case $module in '' | '#'*) continue ;; esac
		insmod "$module" || echo "init: insmod $module failed"
	done </etc/modules
fi

if [ $# -gt 0 ]; then
	"$@"
elif [ -f /etc/rc.local ]; then
	sh /etc/rc.local
else
	sh
fi
status=$?
[ -n "${watchdog:-}" ] && kill "$watchdog" 2>/dev/null
echo "init: exit status $status"
halt_machine "$status"
