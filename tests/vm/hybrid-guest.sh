#!/bin/sh
# The guest's half of make check-hybrid (tests/vm/hybrid.sh): runs as
# /bin/vm-tests in a QEMU guest whose vsock device is vhost-user-vsock-pci,
# served on the build machine by vhost-device-vsock, whose host side is
# Unix sockets there. Checks that the driver bound the device, says
# "GUEST-READY ok|FAIL ...", then runs what the host asks on the console,
# one request a line (the host starts its side of each step first):
#   run NAME COMMAND...   run COMMAND (sh -c), bounded by $hy_bound s, and
#                         report "GOUT NAME: line" (stdout), "GERR NAME:
#                         line" (stderr), then "GDONE NAME rc=N"
#   bg NAME COMMAND...    start COMMAND in the background ("GDONE NAME
#                         rc=bg"), for the host to kill this guest mid-run
#   quit                  "GUEST-END", and /init powers off
set -u

bound=${hy_bound:-120}
tmo=${hy_timeout:-30}
work=/tmp/hybrid
# shellcheck source=tests/vm/guest-lib.sh
. /bin/vm-lib.sh

why=""
for m in virtio_pci vsock vmw_vsock_virtio_transport; do
	[ -d "/sys/module/$m" ] || why="$why $m not loaded;"
done
[ -c /dev/vsock ] || why="$why no /dev/vsock;"
device=""
for d in /sys/bus/virtio/devices/*; do
	[ "$(cat "$d/device" 2>/dev/null)" = 0x0013 ] && [ -e "$d/driver" ] &&
		device="${d##*/} bound to $(readlink "$d/driver" | sed 's|.*/||')"
done
[ -n "$device" ] || why="$why no virtio device 0x0013 with a driver;"

# Requests come from the console: no echo, so that the host reads only
# answers.
stty -echo 2>/dev/null
read -r up _ </proc/uptime
if [ -z "$why" ]; then
	echo "GUEST-READY ok uptime ${up}s $(uname -r): virtio-vsock $device"
else
	echo "GUEST-READY FAIL uptime ${up}s:$why"
fi

while read -r verb name cmd; do
	case $verb in
	run)
		run_client "$name" sh -c "$cmd"
		sed "s/^/GOUT $name: /" "$work/$name.out"
		sed "s/^/GERR $name: /" "$work/$name.err"
		echo "GDONE $name rc=$rc" ;;
	bg)
		sh -c "$cmd" >"$work/$name.out" 2>"$work/$name.err" &
		echo "GDONE $name rc=bg" ;;
	quit) break ;;
	*) echo "GDONE ${name:-?} rc=unknown-request" ;;
	esac
done
echo "GUEST-END"
