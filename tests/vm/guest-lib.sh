#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/vm/guest-lib.sh: what the guests' test scripts share (sourced as
# /bin/vm-lib.sh by tests/vm/guest-tests.sh in the loopback guest and by
# tests/vm/vhost-host.sh and vhost-guest.sh in the nested pair): results,
# servers with a readiness line, bounded clients, error-line checks.
# The caller sets work (a scratch directory), bound (seconds after which
# any one process is killed) and tmo (the applets' --timeout).
# Every result is one console line, naming the kernel and machine it ran on:
#   VMTEST NAME PASS|FAIL DETAIL (SECONDS) [RELEASE MACHINE]
# Variables set here are for the caller, and the caller's for us:
# shellcheck disable=SC2034,SC2154

passed=0
failed=0
where="$(uname -r) $(uname -m)"
mkdir -p "$work"

# Seconds since boot in hundredths, from /proc/uptime.
now() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}" | sed 's/^0*//; s/^$/0/'
}
seconds() { # hundredths -> "S.HH"
	printf '%d.%02d' $(($1 / 100)) $(($1 % 100))
}

# wait_line FILE PATTERN SECONDS [PID]: until FILE has a line matching
# PATTERN (grep -E), looked at ten times a second; false after SECONDS,
# or once PID has ended without it. Its counter is its own (wl_): a
# caller's loop may call it.
wait_line() {
	wl_tries=$(($3 * 10))
	until grep -qE "$2" "$1" 2>/dev/null; do
		if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
			grep -qE "$2" "$1" 2>/dev/null
			return
		fi
		wl_tries=$((wl_tries - 1))
		[ "$wl_tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

result() { # name PASS|FAIL detail
	case $2 in
	PASS) passed=$((passed + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
	echo "VMTEST $1 $2 $3 ($(seconds $(($(now) - t0)))s) [$where]"
}

# Show a file on the console, each line indented, when a test fails.
show() { # label file
	[ -s "$2" ] || return 0
	sed "s/^/  | $1: /" "$2"
}

# Start a server in the background, bounded by $bound seconds, and wait for
# its readiness line ("APPLET: listening on ADDR") on stderr, which goes
# through a FIFO into $work/NAME.err; stdout goes to $work/NAME.out. Sets
# server_pid. Fails if the server ends without saying it listens.
start_server() { # name command...
	name=$1
	shift
	fifo=$work/$name.fifo
	rm -f "$fifo" "$work/$name.err" "$work/$name.out"
	mkfifo "$fifo"
	# busybox timeout execs the command in its own process: $! is the server.
	timeout "$bound" "$@" >"$work/$name.out" 2>"$fifo" &
	server_pid=$!
	exec 3<"$fifo"
	ready=""
	while IFS= read -r line <&3; do
		printf '%s\n' "$line" >>"$work/$name.err"
		case $line in *": listening on "*) ready=1 && break ;; esac
	done
	cat <&3 >>"$work/$name.err" &
	exec 3<&-
	[ -n "$ready" ]
}

# Run a client bounded by $bound seconds: stdout to $work/NAME.out, stderr
# to $work/NAME.err; sets rc.
run_client() { # name command...
	name=$1
	shift
	timeout "$bound" "$@" >"$work/$name.out" 2>"$work/$name.err"
	rc=$?
}

stop_server() {
	kill "$server_pid" 2>/dev/null
	wait "$server_pid" || :
}

# A one-line error naming the applet, as DESIGN.md asks, with WORDS in it.
one_line_error() { # file applet words
	[ "$(wc -l <"$1")" -eq 1 ] && grep -q "^$2: .*$3" "$1"
}

# Note the listening socket of server $server_pid (its only socket yet):
# call before any client starts.
note_listener() {
	listener="" link=""
	for fd in "/proc/$server_pid/fd/"*; do
		link=$(readlink "$fd") || continue
		case $link in socket:*) listener=$fd && break ;; esac
	done
}

# Wait until vsock-perf has closed that listening socket, which it does once
# it has accepted all nine connections, just before it starts the latency
# test. Nothing tells that from outside but /proc/PID/fd, so look every
# 0.05 s (a bounded wait on that condition, not a delay). Sets started.
wait_all_accepted() {
	tries=0 started=""
	while [ -n "$listener" ] && [ "$tries" -lt $((tmo * 20)) ]; do
		if [ "$(readlink "$listener" 2>/dev/null)" != "$link" ]; then
			started=1
			break
		fi
		tries=$((tries + 1))
		sleep 0.05
	done
}

# doc/PROTOCOL.md's integration test: vsock-itest-host here, then GUEST, a
# function that runs vsock-itest (WHERE says where, for the results) and
# sets guest_rc, guest_out and guest_err (files). One result for the whole
# run, then one per check of the host side. host-terminated is the kernel's
# EPIPE (or ECONNRESET): the guest writes until the host's close makes a
# write fail, and says PASS only if it did.
run_itest() { # guest-function where
	t0=$(now)
	if ! start_server itest-host vsock-itest-host --listen vsock:any:8000 \
		--timeout "$tmo"; then
		wait "$server_pid"
		result itest FAIL "vsock-itest-host did not listen (exit $?)"
		show host "$work/itest-host.err"
		return
	fi
	"$1"
	wait "$server_pid" 2>/dev/null
	host_rc=$?
	checks=$(grep -c ': PASS$' "$work/itest-host.out")
	if [ "$guest_rc" = 0 ] && [ "$(cat "$guest_out")" = PASS ] &&
		[ "$host_rc" -eq 0 ] && [ "$checks" -eq 4 ]; then
		result itest PASS "vsock-itest$2 PASS, vsock-itest-host 4/4 checks"
	else
		result itest FAIL "vsock-itest$2 exit $guest_rc, vsock-itest-host exit $host_rc, $checks/4 host checks"
		show guest "$guest_out"
		show guest "$guest_err"
		show host "$work/itest-host.out"
		show host "$work/itest-host.err"
	fi
	for check in guest-initiated host-initiated host-terminated \
		guest-terminated; do
		line=$(grep "^$check: " "$work/itest-host.out")
		case $line in
		"$check: PASS") result "itest-$check" PASS "vsock-itest-host: $line" ;;
		"") result "itest-$check" FAIL "vsock-itest-host printed no $check line" ;;
		*) result "itest-$check" FAIL "vsock-itest-host: $line" ;;
		esac
	done
}

# A connection to ADDR, where nobody listens, ended with exit 3 and one
# line: "vsock-ctl: connect ADDR ...: Connection reset by peer" (vsock's
# answer; TCP's is "refused").
refused_result() { # name rc errfile addr [detail-prefix]
	if [ "$2" = 3 ] && one_line_error "$3" vsock-ctl \
		"connect $4.*: Connection re\(set by peer\|fused\)$"; then
		result "$1" PASS "${5:-}exit 3: $(cat "$3")"
	else
		result "$1" FAIL "${5:-}vsock-ctl to $4: exit $2, want 3 and one line 'connect ... reset|refused'"
		show ctl "$3"
	fi
}

# APPLET, whose peer (WHO) died mid-run, ended on its own: exit 1 or 3
# within its own --timeout ($tmo), and, with WORDS, one error line naming
# them. TOOK: seconds since the peer died ("S.HH").
survivor_result() { # name rc took applet who errfile [words]
	grep -v ': listening on ' "$6" >"$6.lines"
	ok=""
	if { [ "$2" -eq 1 ] || [ "$2" -eq 3 ]; } && [ "${3%.*}" -lt "$tmo" ]; then
		ok=1
		[ -z "${7:-}" ] || one_line_error "$6.lines" "$4" "$7" || ok=""
	fi
	if [ -n "$ok" ]; then
		result "$1" PASS "$4 exit $2 ${3}s after $5 died: $(head -n 1 "$6.lines")"
	else
		result "$1" FAIL "$4 exit $2 ${3}s after $5 died, want 1 or 3 within ${tmo}s${7:+ and one line naming $7}"
		show "$4" "$6"
	fi
}

# MSG_ZEROCOPY over vsock came in Linux 6.7: true when this kernel is at
# least that.
has_vsock_zerocopy() {
	zc_release=$(uname -r)
	zc_major=${zc_release%%.*}
	zc_minor=${zc_release#*.}
	zc_minor=${zc_minor%%[!0-9]*}
	[ "$zc_major" -gt 6 ] || { [ "$zc_major" -eq 6 ] && [ "$zc_minor" -ge 7 ]; }
}

# start_zerocopy_perf: vsock-perf --zerocopy --json here, for one
# unidirectional stream of $size x $count (--timeout $tmo), to be judged by
# zerocopy_result; if it does not listen, reports the test "zerocopy"
# failed and returns 1.
start_zerocopy_perf() {
	start_server perf vsock-perf --listen vsock:any:8500 --tests unidir \
		--size "$size" --count "$count" --timeout "$tmo" --zerocopy --json &&
		return 0
	wait "$server_pid"
	result zerocopy FAIL "vsock-perf did not listen (exit $?)"
	show perf "$work/perf.err"
	return 1
}

# zerocopy_result NAME CLIENT-RC PERF-RC PERF-OUT PERF-ERR CLIENT-ERR DETAIL:
# a --zerocopy run of vsock-perf (--json) with a sending guest applet.
# From 6.7 on MSG_ZEROCOPY runs ("zerocopy": true, no warning); before,
# each side warns once and sends plainly ("zerocopy": false). Both pass
# either way, and nothing else is said.
zerocopy_result() {
	if has_vsock_zerocopy; then
		zr_want=true zr_warnings=0
	else
		zr_want=false zr_warnings=2
	fi
	zr_got=$(sed -n 's/.*"zerocopy": \([a-z]*\).*/\1/p' "$4")
	zr_said=$(cat "$5" "$6" | grep -c -- '--zerocopy: .*; plain sends instead$')
	zr_others=$(cat "$5" "$6" |
		grep -v -e 'listening on' -e '--zerocopy: .*; plain sends instead$')
	zr_detail="$7, zerocopy $zr_got, $zr_said warnings"
	if [ "$2" = 0 ] && [ "$3" = 0 ] && [ "$zr_got" = "$zr_want" ] &&
		[ "$zr_said" -eq "$zr_warnings" ] && [ -z "$zr_others" ]; then
		result "$1" PASS "$zr_detail"
	else
		result "$1" FAIL "client exit $2, vsock-perf exit $3, $zr_detail; want zerocopy $zr_want, $zr_warnings warnings, no other line"
		show client "$6"
		show perf "$5"
		show perf "$4"
	fi
}

# ---- vsock-conform ----
# ktap_summary FILE: sets ktap_plan (the N of "1..N", "" if none),
# ktap_results (top-level result lines), ktap_ok, ktap_notok, ktap_skip.
ktap_summary() {
	ktap_plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$1" | head -n 1)
	ktap_results=$(grep -cE '^(not )?ok [0-9]+ ' "$1")
	ktap_notok=$(grep -cE '^not ok [0-9]+ ' "$1")
	ktap_skip=$(grep -E '^ok [0-9]+ ' "$1" | grep -ciE '# *skip')
	ktap_ok=$((ktap_results - ktap_notok - ktap_skip))
}

# conform_result NAME LABEL RC FILE TOOK [DETAIL]: vsock-conform's
# connecting side ended with exit RC and KTAP in FILE after TOOK seconds.
# PASS when it ran the whole table: exit 0 (every case ok or skipped) or 1
# (some not ok: the host compares each verdict with tests/vm/conform-expect),
# a plan and one result per case; a hang (killed: exit 124 and up), a crash
# or a table cut short fail. The KTAP goes to the console, each line
# prefixed "KTAP LABEL| ", for the host (tests/vm/lib.sh: conform_judge).
conform_result() {
	sed "s/^/KTAP $2| /" "$4"
	ktap_summary "$4"
	detail="$2: exit $3; $ktap_results of ${ktap_plan:-?} cases: $ktap_ok ok, $ktap_notok not ok, $ktap_skip skip; ${5}s${6:+; $6}"
	if { [ "$3" = 0 ] || [ "$3" = 1 ]; } && [ -n "$ktap_plan" ] &&
		[ "$ktap_results" -eq "$ktap_plan" ]; then
		result "$1" PASS "$detail"
	else
		result "$1" FAIL "$detail; want exit 0 or 1 and the whole plan"
	fi
}

# verify_result NAME CLIENT-RC PERF-RC PERF-OUT PERF-ERR CLIENT-ERR ZC DETAIL:
# a vsock-perf --verify --json run against vsock-bench --verify (with
# --zerocopy when ZC is "zc"): both pass, every test is verified with
# bytes checked, the echoes too. With --zerocopy from 6.7 on MSG_ZEROCOPY
# runs with no warning; before, each side warns that it sends plainly.
verify_result() {
	vr_want='"verified": {"latency": true, "bidir": true, "unidir": true, "multi": true}'
	vr_zc=""
	vr_others=$(cat "$5" "$6" | grep -v -e 'listening on' \
		-e '--zerocopy: .*; plain sends instead$')
	if [ "$7" = zc ]; then
		vr_zc=$(sed -n 's/.*"zerocopy": \([a-z]*\).*/\1/p' "$4")
		if has_vsock_zerocopy; then
			[ "$vr_zc" = true ] || vr_others="$vr_others zerocopy $vr_zc"
			cat "$5" "$6" | grep -q -- '--zerocopy: ' &&
				vr_others="$vr_others (a --zerocopy warning)"
		fi
	fi
	vr_bytes=$(grep -o '"verified_bytes": {[^}]*}' "$4")
	if [ "$2" = 0 ] && [ "$3" = 0 ] && grep -qF "$vr_want" "$4" &&
		grep -q '"data_corruption": true' "$4" && [ -z "$vr_others" ]; then
		result "$1" PASS "$8; ${vr_bytes:-no bytes?}${vr_zc:+, zerocopy $vr_zc}"
	else
		result "$1" FAIL "client exit $2, vsock-perf exit $3; want every test verified, no other line ($8)"
		show client "$6"
		show perf "$5"
		show perf "$4"
	fi
}

# say_device_ready TAG: checks that the virtio-vsock device (virtio id
# 0x0013) is bound to its driver and /dev/vsock exists, then prints
# "TAG ok uptime S: KERNEL: virtio-vsock DEVICE" or "TAG FAIL uptime S:
# WHY" for the host, whose console carries only answers (no echo).
say_device_ready() {
	sdr_why=""
	for sdr_m in virtio_pci vsock vmw_vsock_virtio_transport; do
		[ -d "/sys/module/$sdr_m" ] || sdr_why="$sdr_why $sdr_m not loaded;"
	done
	[ -c /dev/vsock ] || sdr_why="$sdr_why no /dev/vsock;"
	sdr_device=""
	for sdr_d in /sys/bus/virtio/devices/*; do
		[ "$(cat "$sdr_d/device" 2>/dev/null)" = 0x0013 ] &&
			[ -e "$sdr_d/driver" ] &&
			sdr_device="${sdr_d##*/} bound to $(readlink "$sdr_d/driver" | sed 's|.*/||')"
	done
	[ -n "$sdr_device" ] ||
		sdr_why="$sdr_why no virtio device 0x0013 with a driver;"
	stty -echo 2>/dev/null
	read -r sdr_up _ </proc/uptime
	if [ -z "$sdr_why" ]; then
		echo "$1 ok uptime ${sdr_up}s $(uname -r): virtio-vsock $sdr_device"
	else
		echo "$1 FAIL uptime ${sdr_up}s:$sdr_why"
	fi
}
