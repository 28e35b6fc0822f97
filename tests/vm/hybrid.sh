#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/vm/hybrid.sh (make check-hybrid): vsockbox's host applets on this
# machine against a hybrid vsock host, the real one: Debian's
# vhost-device-vsock daemon serves QEMU's vhost-user-vsock-pci to a TCG
# guest (Debian's cloud kernel, the guest applets in a busybox initramfs)
# and gives its vsock to this machine as Unix sockets (uds-path=V): the
# host applets take unix:V. No AF_VSOCK socket is opened on this machine.
# The guest runs tests/vm/hybrid-guest.sh, which runs what this script asks
# on its console. Results, one line each:
#   daemon           vhost-device-vsock starts and makes its socket
#   guest-ready      the guest's driver bound the device
#   host-refused     a CONNECT to a guest port nobody listens on: the
#                    daemon sends no reset; vsock-ctl ends at its deadline
#                    with one line saying so
#   itest            vsock-itest in the guest, vsock-itest-host here; then
#                    itest-CHECK for each of the host's checks, and
#                    itest-source-port: the host says it cannot see it
#   bench            the whole vsock-bench --preamble in the guest against
#                    vsock-perf here (JSON, every test, data check passed)
#   bench-verify     the same with --verify (when the build has it)
#   conform-host-peer   vsock-conform --peer unix:V here, --listen in the
#                    guest (both sides' KTAP as the guest kernel's column of
#                    tests/vm/conform-expect-hybrid-peer has it, tests/ktap);
#                    conform-guest-peer: --listen unix:V here, --peer
#                    vsock:2 there (tests/vm/conform-expect-hybrid-listen)
#   guest-refused    the guest connects to a host port nobody listens on:
#                    no reset; the applet ends at its deadline with one
#                    line saying so
#   migrate-refused  QMP migrate is refused (vhost-user-vsock-pci cannot
#                    migrate): the result line has QEMU's reason, and the
#                    guest still runs
#   guest-killed     QEMU killed mid-benchmark: vsock-perf ends in time
#                    with one line
#   daemon-stopped   the daemon, stopped by this script, is gone
#   daemon-drops     the daemon's log has no packet it could not parse
#                    (it says so only at RUST_LOG=debug): a guest kernel
#                    that splits a packet's payload over several
#                    descriptors (Linux 6.17, and 6.12.y with it
#                    backported) loses its large writes through
#                    vhost-device-vsock 0.3.0 (doc/HYBRID.md)
# Then a second boot (a daemon and QEMU of its own: daemon-lifecycle,
# guest-ready-lifecycle), since a QMP stop and cont leaves the guest's
# vsock dead for the rest of a boot:
#   lifecycle-EVENT  for pause (shorter than vsock-lifecycle's --timeout)
#                    and pause-long (longer): QMP stop, sleep, cont, then
#                    the event's end said to both halves
#   lifecycle        vsock-lifecycle --role host --listen unix:V here,
#                    --role guest --peer vsock:2 there: both sides' KTAP
#                    as tests/vm/lifecycle-expect-hybrid has it (a half
#                    that ended before any result counts each as not ok)
# A step that would start after QEMU has ended (the run's bound) is a FAIL
# "not run". Then "hybrid: N passed, N failed". Exit: 0 pass, 1 failure,
# 2 usage or setup error, 77 skipped (a "SKIP: reason" line; with $CI set
# a skip is a failure, exit 1).
set -u

usage() {
	cat <<'EOF'
usage: tests/vm/hybrid.sh [-b VSOCKBOX] [-c CACHE] [--suite SUITE]

  -b VSOCKBOX    the static amd64 binary to test (default: ./vsockbox)
  -c CACHE       where the kernel and vhost-device-vsock are kept, and the
                 console log (default: build/vm of the repo; $VM_CACHE)
  --suite SUITE  Debian release of the guest's kernel: bookworm (default;
                 $VM_SUITE) or trixie

Environment: VM_TIMEOUT=S (bound on each of its two boots, default 110), VM_QEMU,
VM_BUSYBOX, VM_MIRROR, VM_NO_INSTALL, CI as for tests/vm/run.sh;
HYBRID_DAEMON=PATH a vhost-device-vsock binary to use instead of Debian's.
Exit: 0 pass, 1 failure, 2 usage or setup error, 77 skipped.
EOF
}

me=hybrid
repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/vm/lib.sh
. "$repo/tests/vm/lib.sh"

vsockbox=$repo/vsockbox
cache=${VM_CACHE:-$repo/build/vm}
suite=${VM_SUITE:-bookworm}
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-b | -c | --suite)
		[ $# -ge 2 ] || die "$1: missing value"
		case $1 in
		-b) vsockbox=$2 ;;
		-c) cache=$2 ;;
		--suite) suite=$2 ;;
		esac
		shift 2 ;;
	*) usage >&2; exit 2 ;;
	esac
done
case $suite in
bookworm | trixie) ;;
*) die "--suite $suite: want bookworm or trixie" ;;
esac
set_arch amd64
[ -x "$vsockbox" ] || die "$vsockbox: not built (run make first)"
ktap=${KTAP:-$repo/tests/ktap}
[ -x "$ktap" ] || die "$ktap: not built (make tests/ktap): it reads vsock-conform's KTAP"
runner_setup 110 60 hybrid

# The applets' --timeout, the bound on each guest request, the sizes.
tmo=20
bound=60
sizes="--size 4M --count 3"
latency="--latency-count 500 --echo-timeout 1000"
# Debian sid's package as this suite was written against: its hash is
# checked; another version is used, and said in one line.
DAEMON_VERSION=0.3.0-2
DAEMON_SHA256=4fb6ea5af81beaa5d86eb6f8260e72b924d5fc7074fb97f9d23a44b60d11a40a

daemon_pid="" qemu_pid="" tail_pid="" lc_pid=""
cleanup() {
	for pid in $qemu_pid $daemon_pid $tail_pid $lc_pid; do
		kill "$pid" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- results ----
passed=0 failed=0
t_start=$(now_ms)
result() { # name PASS|FAIL detail
	case $2 in
	PASS) passed=$((passed + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
	t=$(($(now_ms) - t_start))
	echo "HYBRID $1 $2 $3 ($((t / 1000)).$(printf '%03d' $((t % 1000)))s)"
}
show() { # label file
	[ -s "$2" ] || return 0
	sed "s/^/  | $1: /" "$2"
}
# A one-line error naming the applet, with WORDS in it.
one_line_error() { # file applet words
	[ "$(grep -vc ': listening on ' "$1")" -eq 1 ] &&
		grep -v ': listening on ' "$1" | grep -q "^$2: .*$3"
}

# ---- tools, the kernel, the daemon ----
need "$qemu:$qemu_package" cpio:cpio timeout:coreutils gzip:gzip \
	sha256sum:coreutils
find_busybox amd64
is_static "$vsockbox" || die "$vsockbox is not static (build with the default STATIC=-static)"
build_qemu_exit
build_helper qmp "the QMP steps fail"
qmp_tool=$helper
fetch_kernel "$suite" amd64

# fetch_daemon: Debian sid's vhost-device-vsock (only sid has it; the
# binary needs only libc and libgcc), unpacked without installing it into
# $cache/vhost-device-vsock (kept). Sets daemon, daemon_version.
fetch_daemon() {
	if [ -n "${HYBRID_DAEMON:-}" ]; then
		daemon=$HYBRID_DAEMON daemon_version="given by HYBRID_DAEMON"
		[ -x "$daemon" ] || skip "no vhost-device-vsock: HYBRID_DAEMON=$daemon is not an executable"
		return
	fi
	ddir=$cache/vhost-device-vsock
	daemon=$ddir/vhost-device-vsock
	if [ ! -x "$daemon" ] || [ ! -f "$ddir/version" ]; then
		papt_deb sid amd64 vhost-device-vsock
		rm -rf "$tmp/x"
		mkdir -p "$tmp/x"
		dpkg-deb -x "$deb" "$tmp/x" || skip "cannot unpack $deb"
		[ -x "$tmp/x/usr/bin/vhost-device-vsock" ] ||
			skip "$pkg has no /usr/bin/vhost-device-vsock"
		# Made aside and renamed: two runs may fetch at once.
		rm -rf "$ddir.$$"
		mkdir -p "$ddir.$$"
		if ! cp "$tmp/x/usr/bin/vhost-device-vsock" "$ddir.$$/" ||
			! dpkg-deb -f "$deb" Version >"$ddir.$$/version"; then
			die "cannot copy the daemon"
		fi
		rm -rf "$ddir" "$tmp/x" "$tmp/deb"
		mv "$ddir.$$" "$ddir" 2>/dev/null || rm -rf "$ddir.$$"
	fi
	daemon_version=$(cat "$ddir/version")
	sum=$(sha256sum "$daemon" | cut -d ' ' -f 1)
	if [ "$daemon_version" = "$DAEMON_VERSION" ] && [ "$sum" != "$DAEMON_SHA256" ]; then
		die "vhost-device-vsock $daemon_version: sha256 $sum, want $DAEMON_SHA256 (remove $ddir to fetch it again)"
	fi
	[ "$daemon_version" = "$DAEMON_VERSION" ] ||
		say "Debian sid has vhost-device-vsock $daemon_version now (this suite was written against $DAEMON_VERSION): using it, sha256 $sum"
	daemon_version="$daemon_version sha256 ${sum%"${sum#????????????}"}"
}
fetch_daemon

# ---- the guest's initramfs ----
set -- -o "$tmp/initramfs.cpio.gz" -b "$vsockbox" \
	-s "$repo/scripts/vsock-bench" -B "$busybox" -i "$repo/scripts/init.sh" \
	-f "$repo/tests/vm/hybrid-guest.sh:/bin/vm-tests" \
	-f "$repo/tests/vm/guest-lib.sh:/bin/vm-lib.sh"
while IFS= read -r m; do
	set -- "$@" -m "$m"
done <"$kdir/virtio-vsock.modules"
[ -n "$qemu_exit" ] && set -- "$@" -f "$qemu_exit:/bin/qemu-exit"
sh "$repo/scripts/mkinitramfs.sh" "$@" >"$tmp/mkinitramfs.log" 2>&1 || {
	cat "$tmp/mkinitramfs.log" >&2
	die "building the initramfs failed"
}

# ---- the daemon, then QEMU ----
# boot SUFFIX: a daemon and a QEMU of their own (SUFFIX "" for the first
# boot): vhu, uds, log, daemon_pid, qemu_pid, qmp_sock for it.
boot() {
	vhu=$tmp/vhu$1.sock	# QEMU's vhost-user socket
	uds=$tmp/v$1.sock	# the guest's vsock, as this machine sees it
	log=$cache/console-hybrid$1.log
	: >"$log"
	# debug: the only level at which the daemon says it dropped a packet.
	RUST_LOG=debug "$daemon" --vm "guest-cid=3,socket=$vhu,uds-path=$uds" \
		>"$tmp/daemon$1.log" 2>&1 &
	daemon_pid=$!
	# The socket's existence is the sign: a connect would take the one
	# frontend it serves.
	tries=0
	while [ ! -S "$vhu" ] && [ "$tries" -lt 100 ] && kill -0 "$daemon_pid" 2>/dev/null; do
		tries=$((tries + 1))
		sleep 0.05
	done
	if [ -S "$vhu" ]; then
		result "daemon$1" PASS "vhost-device-vsock $daemon_version: $vhu after $((tries * 50)) ms"
	else
		result "daemon$1" FAIL "vhost-device-vsock made no $vhu in 5 s"
		show daemon "$tmp/daemon$1.log"
		echo "$me: $passed passed, $failed failed"
		exit 1
	fi

	mkfifo "$tmp/console$1.in"
	qmp_sock=$tmp/qmp$1.sock	# QEMU's QMP monitor: stop, cont, migrate
	mem=512
	# One TCG thread: several are slower for the x86 guest on this machine.
	# shellcheck disable=SC2086
	timeout -k 5 "$host_timeout" "$qemu" -accel "$tcg" $qemu_machine \
		-machine q35,memory-backend=mem0 -m "$mem" -smp 1 \
		-object "memory-backend-memfd,id=mem0,size=${mem}M,share=on" \
		-qmp "unix:$qmp_sock,server=on,wait=off" \
		-chardev "socket,id=char0,path=$vhu" \
		-device vhost-user-vsock-pci,chardev=char0 \
		-nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-kernel "$kdir/vmlinuz" -initrd "$tmp/initramfs.cpio.gz" \
		-append "console=$console panic=-1 quiet init_watchdog=$host_timeout hy_bound=$bound -- sh /bin/vm-tests" \
		<"$tmp/console$1.in" >"$log" 2>&1 &
	qemu_pid=$!
	exec 4>"$tmp/console$1.in"
	[ -z "$tail_pid" ] || kill "$tail_pid" 2>/dev/null
	tail -f "$log" 2>/dev/null | sed -u 's/^/guest| /' >&2 &
	tail_pid=$!
}
boot ""

# wait_guest PATTERN SECONDS: until the console has a line matching
# PATTERN (grep -E), QEMU is gone, or SECONDS pass.
wait_guest() {
	wg_tries=$(($2 * 20))
	while [ "$wg_tries" -gt 0 ]; do
		grep -qE "$1" "$log" && return 0
		kill -0 "$qemu_pid" 2>/dev/null || break
		wg_tries=$((wg_tries - 1))
		sleep 0.05
	done
	grep -qE "$1" "$log"
}

# to_guest LINE: LINE onto the guest's console; false once QEMU is gone
# (its time-out ends it): a write into the FIFO then would be this
# script's SIGPIPE, and the rest of the results would never be said.
to_guest() {
	kill -0 "$qemu_pid" 2>/dev/null || return 1
	(trap '' PIPE; echo "$1" >&4) 2>/dev/null
}

# guest_gone NAME: true, with NAME's FAIL, once QEMU has ended: a step
# then would only wait out its host applet's time-out.
guest_gone() {
	kill -0 "$qemu_pid" 2>/dev/null && return 1
	result "$1" FAIL "not run: QEMU had ended (the run's bound VM_TIMEOUT=$host_timeout s, or a crash)"
	return 0
}

# guest NAME COMMAND: runs COMMAND in the guest and waits for its end
# (bounded); its stdout and stderr lines into $tmp/NAME.gout, .gerr; sets
# grc (its status, or "none").
guest() {
	grc=none
	: >"$tmp/$1.gout"
	: >"$tmp/$1.gerr"
	to_guest "run $1 $2" || return 0
	wait_guest "^GDONE $1 rc=" $((bound + 10)) || return 0
	tr -d '\r' <"$log" | sed -n "s/^GOUT $1: //p" >"$tmp/$1.gout"
	tr -d '\r' <"$log" | sed -n "s/^GERR $1: //p" >"$tmp/$1.gerr"
	grc=$(tr -d '\r' <"$log" | sed -n "s/^GDONE $1 rc=//p" | tail -n 1)
}

# host NAME APPLET ARGS...: a host applet in the background, bounded by
# $bound, stdout and stderr into $tmp/NAME.out, .err; waits (bounded) for
# its "listening on" line if it listens. Sets hpid.
host() {
	h_name=$1
	shift
	timeout "$bound" "$vsockbox" "$@" >"$tmp/$h_name.out" 2>"$tmp/$h_name.err" &
	hpid=$!
}
wait_listening() { # name
	wl_tries=100
	while [ "$wl_tries" -gt 0 ] && ! grep -q ': listening on ' "$tmp/$1.err" 2>/dev/null; do
		kill -0 "$hpid" 2>/dev/null || return 1
		wl_tries=$((wl_tries - 1))
		sleep 0.05
	done
	grep -q ': listening on ' "$tmp/$1.err"
}
reap() { # pid: its status in hrc
	hrc=0
	wait "$1" || hrc=$?
}

# guest_ready NAME: the guest's driver bound the device (else the run
# ends).
guest_ready() {
	ready=""
	if wait_guest '^GUEST-READY ' 60 &&
		ready=$(tr -d '\r' <"$log" | grep '^GUEST-READY ' | head -n 1) &&
		[ "${ready#GUEST-READY ok}" != "$ready" ]; then
		result "$1" PASS "${ready#GUEST-READY ok }"
	else
		result "$1" FAIL "${ready:-no GUEST-READY line in 60 s}"
		echo "$me: $passed passed, $failed failed"
		exit 1
	fi
}
guest_ready guest-ready

# ---- a guest port nobody listens on, from here ----
t0=$(now_ms)
"$vsockbox" vsock-ctl --peer "unix:$uds:8999" --timeout 3 >/dev/null 2>"$tmp/refused.err"
rc=$? took=$(($(now_ms) - t0))
if [ "$rc" = 3 ] && [ "$took" -ge 2900 ] && [ "$took" -lt 4500 ] &&
	one_line_error "$tmp/refused.err" vsock-ctl "may not reset such connections"; then
	result host-refused PASS "exit 3 after $took ms: $(cat "$tmp/refused.err")"
else
	result host-refused FAIL "exit $rc after $took ms; want 3 after 3 s and one line 'may not reset'"
	show vsock-ctl "$tmp/refused.err"
fi

# ---- the integration test ----
host itest-host vsock-itest-host --listen "unix:$uds" --timeout "$tmo"
ihost=$hpid
if wait_listening itest-host; then
	guest itest "vsock-itest --peer vsock:2 --timeout $tmo"
	reap "$ihost"
	checks=$(grep -c ': PASS' "$tmp/itest-host.out")
	if [ "$grc" = 0 ] && [ "$(cat "$tmp/itest.gout")" = PASS ] &&
		[ "$hrc" = 0 ]; then
		result itest PASS "vsock-itest PASS, vsock-itest-host exit 0, $checks checks passed"
	else
		result itest FAIL "vsock-itest exit $grc, vsock-itest-host exit $hrc"
		show guest "$tmp/itest.gout"
		show guest "$tmp/itest.gerr"
		show host "$tmp/itest-host.out"
		show host "$tmp/itest-host.err"
	fi
	for check in guest-initiated host-initiated host-terminated guest-terminated; do
		line=$(grep "^$check: " "$tmp/itest-host.out")
		case $line in
		"$check: PASS"*) result "itest-$check" PASS "vsock-itest-host: $line" ;;
		"") result "itest-$check" FAIL "vsock-itest-host printed no $check line" ;;
		*) result "itest-$check" FAIL "vsock-itest-host: $line" ;;
		esac
	done
	# Neither a pass nor a failure: the host says it cannot see it.
	line=$(grep -i 'source port' "$tmp/itest-host.out")
	case $line in
	*"not visible"*) result itest-source-port PASS "vsock-itest-host: $line" ;;
	*) result itest-source-port FAIL "vsock-itest-host does not say the source port is not visible: '$line'" ;;
	esac
else
	reap "$ihost"
	result itest FAIL "vsock-itest-host did not listen (exit $hrc)"
	show host "$tmp/itest-host.err"
fi

# ---- the micro benchmark, with the stream preamble ----
# bench NAME EXTRA: vsock-perf --json here, the whole vsock-bench there.
bench() {
	guest_gone "$1" && return
	# shellcheck disable=SC2086
	host "$1-perf" vsock-perf --listen "unix:$uds" $sizes $latency \
		--timeout "$tmo" --json $2
	perf=$hpid
	if ! wait_listening "$1-perf"; then
		reap "$perf"
		result "$1" FAIL "vsock-perf did not listen (exit $hrc)"
		show perf "$tmp/$1-perf.err"
		return
	fi
	guest "$1" "vsock-bench --peer vsock:2 --preamble $sizes --timeout $tmo $2"
	reap "$perf"
	json=$tmp/$1-perf.out
	nulls=$(grep -o '": null' "$json" | wc -l)
	if [ "$grc" = 0 ] && [ "$hrc" = 0 ] &&
		grep -q '"data_corruption": true' "$json" && [ "$nulls" -eq 0 ] &&
		! grep -v ': listening on ' "$tmp/$1-perf.err" | grep -q .; then
		p50=$(sed -n 's/.*"single_stream_unidirectional": {[^}]*"p_50th": \([0-9.]*\).*/\1/p' "$json")
		result "$1" PASS "vsock-bench${2:+ $2} exit 0, vsock-perf exit 0: every test, data check passed, unidirectional p50 $p50 MiB/s"
	else
		result "$1" FAIL "vsock-bench exit $grc, vsock-perf exit $hrc, $nulls tests missing"
		show guest "$tmp/$1.gerr"
		show perf "$tmp/$1-perf.err"
		show perf "$json"
	fi
}
bench bench ""
if "$vsockbox" --list-options | grep -q '^vsock-perf verify '; then
	bench bench-verify --verify
else
	say "bench-verify not run: this build has no --verify"
fi

# ---- vsock-conform, both roles ----
# Each side's KTAP against the role's table (tests/ktap --expect), the
# guest kernel's column (tests/vm/conform-expect.awk picks it):
# tests/vm/conform-expect-hybrid-peer when this side connects,
# tests/vm/conform-expect-hybrid-listen when it listens. The cases a hybrid
# host can check in the role run through the daemon, the others are a
# SKIP saying what a hybrid host cannot see.
release=$(cat "$kdir/release")
# conform_judge NAME ROLE HOST_RC GUEST_RC HOST_KTAP GUEST_KTAP TABLE
conform_judge() {
	cj_bad=""
	cj_expect=$tmp/$1.expect
	if ! awk -v release="$release" -f "$repo/tests/vm/conform-expect.awk" \
		"$7" >"$cj_expect" 2>"$tmp/$1.expect.err"; then
		cj_bad=" $(basename "$7"): $(tr '\n' ';' <"$tmp/$1.expect.err")"
	fi
	for cj in "host:$5" "guest:$6"; do
		[ -n "$cj_bad" ] && break
		if ! "$ktap" --expect "$cj_expect" "${cj#*:}" \
			>"$tmp/$1.${cj%%:*}.verdicts" 2>"$tmp/$1.${cj%%:*}.ktap"; then
			cj_bad="$cj_bad ${cj%%:*}'s KTAP:"
			cj_bad="$cj_bad $(tr '\n' ';' <"$tmp/$1.${cj%%:*}.ktap")"
		fi
	done
	v=$tmp/$1.host.verdicts
	# A table with an xfail wants exit 1 of both sides.
	cj_rc=0
	grep -q ' not-ok' "$cj_expect" && cj_rc=1
	if [ -z "$cj_bad" ] && [ "$3" = "$cj_rc" ] && [ "$4" = "$cj_rc" ]; then
		result "$1" PASS "$2: both sides as $(basename "$7") has it for $release: $(grep -c ' ok$' "$v") ok, $(grep -c ' skip ' "$v") skip, $(grep -c ' not-ok' "$cj_expect") xfail"
	else
		result "$1" FAIL "$2: host exit $3, guest exit $4 (want $cj_rc);$cj_bad"
		show host "$tmp/$1-host.err"
		show guest "$tmp/$1.gerr"
	fi
}
ctmo=10
# The guest listens, this side connects through the daemon (CONNECT).
if ! guest_gone conform-host-peer; then
	host conform-host-peer-host vsock-conform --peer "unix:$uds" --timeout "$ctmo"
	cpeer=$hpid
	guest conform-host-peer "vsock-conform --listen vsock:any --timeout $ctmo"
	reap "$cpeer"
	conform_judge conform-host-peer "vsock-conform --peer unix:V here, --listen vsock:any in the guest" \
		"$hrc" "$grc" "$tmp/conform-host-peer-host.out" "$tmp/conform-host-peer.gout" \
		"$repo/tests/vm/conform-expect-hybrid-peer"
fi
# This side listens at V_8600 (data at V_8601...), the guest connects.
if ! guest_gone conform-guest-peer; then
	host conform-guest-peer-host vsock-conform --listen "unix:$uds" --timeout "$ctmo"
	clisten=$hpid
	if wait_listening conform-guest-peer-host; then
		guest conform-guest-peer "vsock-conform --peer vsock:2 --timeout $ctmo"
		reap "$clisten"
		conform_judge conform-guest-peer "vsock-conform --listen unix:V here, --peer vsock:2 in the guest" \
			"$hrc" "$grc" "$tmp/conform-guest-peer-host.out" "$tmp/conform-guest-peer.gout" \
			"$repo/tests/vm/conform-expect-hybrid-listen"
	else
		reap "$clisten"
		result conform-guest-peer FAIL "vsock-conform --listen unix:V did not listen (exit $hrc)"
		show host "$tmp/conform-guest-peer-host.err"
	fi
fi

# ---- a host port nobody listens on, from the guest ----
if ! guest_gone guest-refused; then
	guest guest-refused "vsock-ctl --peer vsock:2:8999 --timeout 3"
	if [ "$grc" = 3 ] && one_line_error "$tmp/guest-refused.gerr" vsock-ctl \
		"timed out (a hybrid vsock host .* no reset"; then
		result guest-refused PASS "exit 3: $(cat "$tmp/guest-refused.gerr")"
	else
		result guest-refused FAIL "vsock-ctl exit $grc; want 3 and one line 'timed out (a hybrid vsock host ... no reset'"
		show guest "$tmp/guest-refused.gerr"
	fi
fi

# ---- vsock-lifecycle across QMP's stop and cont, and migrate ----
# qmp COMMAND [ARGUMENTS]: one command to this boot's QEMU through
# tests/vm/qmp.c (ARGUMENTS a JSON object), its reply in qmp_reply; false
# on an error or none within 10 s.
qmp() {
	qmp_reply=$("$qmp_tool" 10 "$qmp_sock" "$1${2:+=$2}" 2>&1)
}
# qmp_open: this boot's QEMU answers on its monitor.
qmp_open() {
	if [ -z "$qmp_tool" ]; then
		qmp_reply="no QMP client (tests/vm/qmp.c did not build)"
		return 1
	fi
	qmp query-status
}

# The applet's --timeout, the two pauses (shorter and longer than it),
# --wake: the host's deadlines must fire during the long one even when
# the TCG guest took its time to arm.
lc_tmo=6 lc_pause=2 lc_long=10 lc_wake=5
lc_events=pause,pause-long
gwork=/tmp/hybrid	# tests/vm/hybrid-guest.sh's
# lc_event EVENT SECONDS: once both halves are armed, QEMU stopped for
# SECONDS and continued, then the event's end said to this side's half
# and to the guest's (through its console: a FIFO its half holds open).
# False, without a result, once this side's half has ended.
lc_event() {
	wl_tries=$((bound * 20))
	until grep -q "armed for $1:" "$tmp/lc-host.err"; do
		kill -0 "$lc_pid" 2>/dev/null && [ "$wl_tries" -gt 0 ] || return 1
		wl_tries=$((wl_tries - 1))
		sleep 0.05
	done
	if ! qmp stop; then
		result "lifecycle-$1" FAIL "QMP stop: $qmp_reply"
		return 1
	fi
	sleep "$2"
	if ! qmp cont; then
		result "lifecycle-$1" FAIL "QMP cont: $qmp_reply"
		return 1
	fi
	echo over >&6
	guest "lc-over-$1" "echo over >$gwork/lc.in"
	result "lifecycle-$1" PASS "QMP stop, $2 s, cont (--timeout $lc_tmo), the event's end said to both halves"
}
# lc_aborted KTAP: a half that ended (exit 3) before any result: its
# KTAP made whole, every planned result not ok, so that the table's
# verdicts judge it as they judge one that ran.
lc_aborted() {
	grep -q '^\(not \)\{0,1\}ok ' "$1" && return 1
	"$vsockbox" vsock-lifecycle --list | awk -v events="$lc_events" '
		$1 == "case" { c[++n] = $2 }
		END {
			k = split(events, e, ",")
			print "KTAP version 1"
			print "1.." k * n
			for (i = 1; i <= k; i++)
				for (j = 1; j <= n; j++)
					print "not ok " ++t " " e[i] ":" c[j]
		}' >"$1.whole"
	mv "$1.whole" "$1"
}
lifecycle() {
	mkfifo "$tmp/lc.in"
	timeout $((bound * 2)) "$vsockbox" vsock-lifecycle --role host \
		--listen "unix:$uds" --events "$lc_events" --timeout "$lc_tmo" \
		--wake "$lc_wake" --wait "$bound" <>"$tmp/lc.in" \
		>"$tmp/lc-host.out" 2>"$tmp/lc-host.err" &
	lc_pid=$! hpid=$!
	exec 6>"$tmp/lc.in"
	wait_listening lc-host || {
		result lifecycle FAIL "vsock-lifecycle --listen unix:V did not listen"
		show host "$tmp/lc-host.err"
		return
	}
	# Started in the background there (its stdin then a FIFO); its
	# status in lc.rc when it ends.
	to_guest "bg lc mkfifo $gwork/lc.in; vsock-lifecycle --role guest --peer vsock:2 --events $lc_events --timeout $lc_tmo --wake $lc_wake --wait $bound <>$gwork/lc.in >$gwork/lc.ktap 2>$gwork/lc.err; echo \$? >$gwork/lc.rc"
	for ev in $(echo "$lc_events" | tr , ' '); do
		case $ev in
		pause) lc_event "$ev" "$lc_pause" ;;
		*) lc_event "$ev" "$lc_long" ;;
		esac || break
	done
	guest lc-end "while [ ! -s $gwork/lc.rc ]; do sleep 0.2; done; cat $gwork/lc.ktap; cat $gwork/lc.err >&2; exit \$(cat $gwork/lc.rc)"
	reap "$lc_pid"
	lc_pid=""
	lc_how="--listen unix:V here, --peer vsock:2 in the guest"
	lc_hrc=$hrc lc_grc=$grc
	# Both halves ended before any result: each taken as not ok (exit 1).
	if [ "$hrc" = 3 ] && [ "$grc" = 3 ] && lc_aborted "$tmp/lc-host.out" &&
		lc_aborted "$tmp/lc-end.gout"; then
		lc_how="$lc_how: both ended (exit 3) before any result, after the first cont: host '$(grep -v ': listening on ' "$tmp/lc-host.err" | tail -n 1)', guest '$(tail -n 1 "$tmp/lc-end.gerr")'"
		lc_hrc=1 lc_grc=1
	fi
	conform_judge lifecycle "$lc_how" "$lc_hrc" "$lc_grc" "$tmp/lc-host.out" \
		"$tmp/lc-end.gout" "$repo/tests/vm/lifecycle-expect-hybrid"
	grep '^# .*host .*after the call began' "$tmp/lc-host.out" | sed 's/^/  | /'
}

# QEMU refuses to migrate a VM with vhost-user-vsock-pci: its reason in
# the result, and the VM runs on. A QEMU or daemon that learns to
# migrate changes the verdict.
if ! guest_gone migrate-refused && qmp_open; then
	if qmp migrate '{"uri": "exec:cat >/dev/null"}'; then
		mr=""
	else
		mr=$(echo "$qmp_reply" | sed -n 's/.*"desc": "\([^"]*\)".*/\1/p')
	fi
	qmp query-migrate
	mq=$qmp_reply
	qmp query-status
	case $mr in
	*non-migratable*vhost-user-vsock*)
		if echo "$qmp_reply" | grep -q '"status": "running"'; then
			result migrate-refused PASS "QEMU: $mr; query-migrate: $mq"
		else
			result migrate-refused FAIL "refused ($mr), but the VM no longer runs: $qmp_reply"
		fi ;;
	*) result migrate-refused FAIL "QMP migrate was not refused for vhost-user-vsock (error: '${mr:-none}'; query-migrate: $mq)" ;;
	esac
fi

# ---- the guest killed mid-run ----
if ! guest_gone guest-killed; then
	# shellcheck disable=SC2086
	host killed-perf vsock-perf --listen "unix:$uds" --size 64M --count 1000 \
		$latency --timeout "$tmo" --progress
	perf=$hpid
	if wait_listening killed-perf; then
		to_guest "bg killed vsock-bench --peer vsock:2 --preamble --size 64M --count 1000 --timeout $tmo" ||
			kill "$perf" 2>/dev/null
		tries=0
		while [ "$tries" -lt $((tmo * 20)) ] && kill -0 "$perf" 2>/dev/null &&
			! grep -q 'the guest is in' "$tmp/killed-perf.err"; do
			tries=$((tries + 1))
			sleep 0.05
		done
		# Mid-run: in the latency test or after it.
		sleep 1
		running=""
		kill -0 "$perf" 2>/dev/null && grep -q 'the guest is in' "$tmp/killed-perf.err" &&
			running=1
		kill "$qemu_pid" 2>/dev/null
		t0=$(now_ms)
		reap "$perf"
		took=$(($(now_ms) - t0))
		# Progress and the note of how a hybrid connection broke (its
		# own line, before the error) aside, one error line.
		grep -v -e ': listening on ' -e ': the guest is in' -e ' done: ' \
			-e ' s into the [a-z ]* test ([0-9.]* s into the run)$' \
			"$tmp/killed-perf.err" >"$tmp/killed.lines"
		if [ -n "$running" ] && { [ "$hrc" = 1 ] || [ "$hrc" = 3 ]; } &&
			[ "$took" -lt $((tmo * 1000)) ] &&
			[ "$(wc -l <"$tmp/killed.lines")" -eq 1 ]; then
			result guest-killed PASS "vsock-perf exit $hrc $took ms after QEMU was killed: $(cat "$tmp/killed.lines")"
		else
			result guest-killed FAIL "vsock-perf exit $hrc $took ms after QEMU was killed${running:- (but it was not running its tests then)}; want 1 or 3 within ${tmo}s and one line"
			show perf "$tmp/killed-perf.err"
		fi
	else
		reap "$perf"
		result guest-killed FAIL "vsock-perf did not listen (exit $hrc)"
	fi
fi
wait "$qemu_pid" 2>/dev/null
qemu_pid=""

# ---- the daemon, stopped ----
kill "$daemon_pid" 2>/dev/null
{ reap "$daemon_pid"; } 2>/dev/null	# no "Terminated" from the shell
if kill -0 "$daemon_pid" 2>/dev/null; then
	result daemon-stopped FAIL "vhost-device-vsock (pid $daemon_pid) still runs"
else
	result daemon-stopped PASS "vhost-device-vsock stopped (status $hrc), nothing left"
	daemon_pid=""
fi
# Its log is whole now. A dropped TX packet is lost data and credit the
# guest never gets back: its writes then stall, whichever step it was.
drop_re='vsock: (error reading TX packet|RX queue error)'
drops=$(grep -cE "$drop_re" "$tmp/daemon.log")
if [ "$drops" -eq 0 ]; then
	result daemon-drops PASS "vhost-device-vsock's log (RUST_LOG=debug) has no packet it could not parse"
else
	first=$(grep -m 1 -oE "$drop_re.*" "$tmp/daemon.log")
	result daemon-drops FAIL "vhost-device-vsock $daemon_version dropped $drops packets, the first: '$first' (with $release: doc/HYBRID.md, \"Which guest kernels work\")"
fi

# ---- vsock-lifecycle across QMP stop and cont: a boot of its own ----
# Measured (QEMU 7.2, vhost-device-vsock 0.3.0): after a QMP stop and
# cont the guest's vsock carries nothing more, for the rest of the boot,
# so the steps above, which need it, run in a boot never stopped.
boot -lifecycle
guest_ready guest-ready-lifecycle
if qmp_open; then
	lifecycle
else
	result lifecycle FAIL "QMP $qmp_sock: $qmp_reply"
fi
to_guest quit && wait_guest '^GUEST-END' 20
kill "$qemu_pid" 2>/dev/null
wait "$qemu_pid" 2>/dev/null
qemu_pid=""
kill "$daemon_pid" 2>/dev/null
{ reap "$daemon_pid"; } 2>/dev/null
daemon_pid=""
kill "$tail_pid" 2>/dev/null
tail_pid=""
t=$(($(now_ms) - t_start))
say "took $((t / 1000)).$(printf '%03d' $((t % 1000))) s; console log in $log"
echo "$me: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
