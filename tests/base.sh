# SPDX-License-Identifier: MIT
# shellcheck shell=sh
# What the test suites (tests/lib.sh) and the benchmark (bench/run.sh)
# share: their own network namespace, and the one way to wait for a
# process to get ready. POSIX sh; sourced, not run; defines functions only.

# own_netns SCRIPT ARGS...: as root, runs SCRIPT ARGS again in a network
# namespace of its own with lo up, in place of this shell (once:
# VSOCKBOX_NETNS is set there). The suites and the benchmark bind fixed
# ports on 127.0.0.1 (the protocol's 8500-8503 and 49152 among them),
# which no other process can hold in there. Returns, doing nothing, when
# not root, without unshare or ip, or with VSOCKBOX_NETNS set (=host:
# stay in the machine's namespace).
own_netns() {
	[ -z "${VSOCKBOX_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
		command -v unshare >/dev/null 2>&1 &&
		command -v ip >/dev/null 2>&1 && unshare -n true 2>/dev/null ||
		return 0
	VSOCKBOX_NETNS=own
	export VSOCKBOX_NETNS
	exec unshare -n sh -c 'ip link set lo up && exec sh "$@"' sh "$@"
}

# wait_line FILE PATTERN [PID]: waits until a line of FILE matches the
# grep pattern: 200 polls 0.05 s apart (10 s, more on a busy machine), or
# until PID (if given) has ended without writing it; false if no line
# came. A poll, not a fixed sleep.
wait_line() {
	_wl_polls=200
	until grep -q -e "$2" "$1" 2>/dev/null; do
		if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
			grep -q -e "$2" "$1" 2>/dev/null
			return
		fi
		[ "$_wl_polls" -gt 0 ] || return 1
		_wl_polls=$((_wl_polls - 1))
		sleep 0.05
	done
}

# listening_port FILE: the port of the first "...: listening on ...:PORT"
# line of FILE (a host prints it once it listens; carriage returns of a
# terminal's output aside).
listening_port() {
	tr -d '\r' <"$1" | sed -n 's/.*: listening on .*:\([0-9][0-9]*\)$/\1/p' |
		head -n 1
}
