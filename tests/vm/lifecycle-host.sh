#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/vm/lifecycle-host.sh: the events of make check-lifecycle, sourced
# as /bin/vm-lifecycle.sh by tests/vm/vhost-host.sh in L1 when the kernel
# command line has vh_lifecycle=EVENTS (tests/vm/vhost.sh --lifecycle),
# after its tests, before l2-killed, on the same L2.
# L1 is the host of L2 (vhost-vsock-pci, CID 3): vsock-lifecycle --role
# host runs here, --role guest in L2 (tests/vm/vhost-guest.sh), and for
# each event, once both say "armed", L1 brings it about through L2's QMP
# monitor, then tells both sides it is over:
#   pause        stop, vh_lc_pause seconds (default 5), cont
#   restore      stop, migrate to "exec:cat > FILE", quit, a new QEMU with
#                -incoming "exec:cat FILE", cont; the same CID
#   restore-cid  the same, the new QEMU with the next CID
#   migrate-cid  live: a second QEMU (the next CID: on one host the
#                source holds its own) with -incoming unix:SOCKET, migrate
#                there, the source quits
# Results: VMTEST lifecycle-EVENT PASS|FAIL (the event itself, with its
# times), then lifecycle-guest and lifecycle-host (each side ran its whole
# KTAP plan; "KTAP lifecycle-guest| " and "KTAP lifecycle-host| " lines
# carry the verdicts, judged by tests/vm/vhost.sh against
# tests/vm/lifecycle-expect). Settings: vh_lc_timeout=60 (the applet's
# --timeout), vh_lc_wake=30 (--wake), vh_lc_pause=5.
# Variables and functions of vhost-host.sh and guest-lib.sh:
# shellcheck disable=SC2154

lc_tmo=${vh_lc_timeout:-60}
lc_wake=${vh_lc_wake:-30}
lc_pause=${vh_lc_pause:-5}
qmp_id=0

# qmp N COMMAND [ARGUMENTS]: one QMP command to L2's instance N (ARGUMENTS
# a JSON object); its reply in qmp_reply. Fails on an error or no reply in
# 60 s.
qmp() {
	qmp_id=$((qmp_id + 1))
	printf '{"execute": "%s"%s, "id": "c%d"}\n' "$2" \
		"${3:+, \"arguments\": $3}" "$qmp_id" >"$work/qmp-$1.in"
	qmp_reply=""
	wait_line "$work/qmp-$1.log" "\"id\": \"c$qmp_id\"" 60 &&
		qmp_reply=$(grep -F "\"id\": \"c$qmp_id\"" "$work/qmp-$1.log")
	case $qmp_reply in *'"return"'*) return 0 ;; esac
	return 1
}

# qmp_until N COMMAND PATTERN SECONDS: COMMAND again every tenth of a
# second until its reply has PATTERN (grep -E) or says "failed".
qmp_until() {
	tries=$(($4 * 10))
	while qmp "$1" "$2"; do
		echo "$qmp_reply" | grep -qE "$3" && return 0
		echo "$qmp_reply" | grep -q '"failed"' && return 1
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
	return 1
}

# A new instance of L2 (its ARGS: -incoming ...), its monitor ready.
lc_launch() { # cid args...
	l2_n=$((l2_n + 1))
	launch_l2 "$l2_n" "$@"
	qmp "$l2_n" qmp_capabilities
}

ev_pause() {
	qmp "$l2_n" stop || { ev_detail="stop: $qmp_reply"; return 1; }
	sleep "$lc_pause"
	qmp "$l2_n" cont || { ev_detail="cont: $qmp_reply"; return 1; }
	ev_detail="stop, ${lc_pause}s, cont"
}

# The snapshot to a file, of the VM paused first as a VMM's snapshot is
# (a snapshot of a running L2, copied while vhost still wrote into it,
# was followed once by L2's kernel crashing): QEMU writes it through a
# command of its own; the new QEMU loads it paused and continues it.
ev_restore() { # cid
	snap=$work/snapshot
	t1=$(now)
	if ! qmp "$l2_n" stop ||
		! qmp "$l2_n" migrate "{\"uri\": \"exec:cat > $snap\"}" ||
		! qmp_until "$l2_n" query-migrate '"status": "completed"' 300; then
		ev_detail="stop, migrate to exec:cat > FILE: $qmp_reply"
		return 1
	fi
	saved=$(seconds $(($(now) - t1)))
	snap_size=$(wc -c <"$snap")
	qmp "$l2_n" quit
	wait "$l2_pid"
	t1=$(now)
	if ! lc_launch "$1" -incoming "exec:cat $snap" ||
		! qmp_until "$l2_n" query-status '"status": "(paused|running)"' 300 ||
		! qmp "$l2_n" cont ||
		! qmp_until "$l2_n" query-status '"status": "running"' 60; then
		ev_detail="saved in ${saved}s; the new QEMU -incoming: ${qmp_reply:-no reply}"
		return 1
	fi
	ev_after="rm -f $snap"
	ev_detail="snapshot of $snap_size bytes in ${saved}s, a new QEMU running from it $(seconds $(($(now) - t1)))s after, CID $1"
}

ev_migrate() { # cid
	old_n=$l2_n old_pid=$l2_pid sock=$work/migrate.sock
	t1=$(now)
	lc_launch "$1" -incoming "unix:$sock"
	tries=120
	while [ ! -S "$sock" ] && [ "$tries" -gt 0 ]; do
		tries=$((tries - 1))
		sleep 0.5
	done
	if [ ! -S "$sock" ]; then
		ev_detail="the destination QEMU did not listen on $sock: $qmp_reply"
		return 1
	fi
	if ! qmp "$old_n" migrate "{\"uri\": \"unix:$sock\"}" ||
		! qmp_until "$old_n" query-migrate '"status": "completed"' 300 ||
		! qmp_until "$l2_n" query-status '"status": "running"' 120; then
		ev_detail="migrate to unix:$sock: $qmp_reply"
		return 1
	fi
	took=$(seconds $(($(now) - t1)))
	# The source quits once both sides are told the event is over.
	ev_after="qmp $old_n quit; wait $old_pid"
	ev_detail="live to a second QEMU (CID $1) in ${took}s, the source quit"
}

# One event: both sides armed, the event, then both told it is over.
lc_event() { # event
	t0=$(now)
	if ! wait_line "$work/lc-host.err" "armed for $1:" "$bound"; then
		result "lifecycle-$1" FAIL "vsock-lifecycle here never armed for $1"
		show host "$work/lc-host.err"
		return 1
	fi
	l2_run "lifecycle-armed-$1"
	if [ "$l2_rc" != 0 ]; then
		result "lifecycle-$1" FAIL "vsock-lifecycle in L2 never armed for $1 (rc $l2_rc)"
		show l2 "$work/l2-lifecycle-armed-$1.err"
		return 1
	fi
	ev_detail="" ev_after=""
	case $1 in
	pause) ev_pause ;;
	restore) ev_restore "$l2_cid" ;;
	restore-cid) l2_cid=$((l2_cid + 1)) && ev_restore "$l2_cid" ;;
	migrate-cid) l2_cid=$((l2_cid + 1)) && ev_migrate "$l2_cid" ;;
	*) ev_detail="no such event here"; false ;;
	esac
	ev_rc=$?
	# Over as soon as L2 runs again (the delays count from here), even
	# after a failure: both sides end by their own deadlines.
	(trap '' PIPE; echo over >&7) 2>/dev/null
	eval "$ev_after"
	l2_run "lifecycle-over-$1"
	if [ "$ev_rc" -eq 0 ]; then
		result "lifecycle-$1" PASS "$ev_detail"
	else
		result "lifecycle-$1" FAIL "$ev_detail"
	fi
	return "$ev_rc"
}

run_lifecycle() {
	t0=$(now)
	# The host's half, its stdin a FIFO held open on descriptor 7.
	mkfifo "$work/lc-host.in"
	timeout $((bound * 6)) vsock-lifecycle --role host --listen vsock:any \
		--events "$vh_lifecycle" --timeout "$lc_tmo" --wake "$lc_wake" \
		--wait "$bound" <>"$work/lc-host.in" >"$work/lc-host.out" \
		2>"$work/lc-host.err" &
	lc_pid=$!
	exec 7>"$work/lc-host.in"
	wait_line "$work/lc-host.err" ': listening on ' 30
	qmp "$l2_n" qmp_capabilities
	l2_run lifecycle-start
	aborted=""
	for ev in $(echo "$vh_lifecycle" | tr , ' '); do
		lc_event "$ev" && continue
		# The events left will not come: both halves go now, their
		# KTAP cut short (lifecycle-guest and -host fail).
		aborted=1
		kill "$lc_pid" 2>/dev/null
		break
	done
	t0=$(now)
	l2_run "lifecycle-end${aborted:+-now}"
	wait "$lc_pid"
	host_rc=$?
	conform_result lifecycle-guest lifecycle-guest "$l2_rc" \
		"$work/l2-lifecycle-end.out" "$(seconds $(($(now) - t0)))" \
		"L2's vsock-lifecycle"
	[ "$l2_rc" = 0 ] || [ "$l2_rc" = 1 ] || show l2 "$work/l2-lifecycle-end.err"
	conform_result lifecycle-host lifecycle-host "$host_rc" \
		"$work/lc-host.out" "$(seconds $(($(now) - t0)))" \
		"L1's vsock-lifecycle"
	[ "$host_rc" = 0 ] || [ "$host_rc" = 1 ] || show host "$work/lc-host.err"
}
