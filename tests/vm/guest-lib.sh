#!/bin/sh
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

first_error() { # file: its first line but a readiness line
	grep -v ': listening on ' "$1" | head -n 1
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

# One result per check of vsock-itest-host, from its stdout (FILE).
itest_checks() {
	for check in guest-initiated host-initiated host-terminated \
		guest-terminated; do
		line=$(grep "^$check: " "$1")
		case $line in
		"$check: PASS") result "itest-$check" PASS "vsock-itest-host: $line" ;;
		"") result "itest-$check" FAIL "vsock-itest-host printed no $check line" ;;
		*) result "itest-$check" FAIL "vsock-itest-host: $line" ;;
		esac
	done
}
