#!/bin/sh
# SPDX-License-Identifier: MIT
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

say_device_ready GUEST-READY

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
