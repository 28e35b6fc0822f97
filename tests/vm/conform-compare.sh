#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/vm/conform-compare.sh: make conform-compare. vsock-conform side by
# side with the kernel's own vsock_test (tools/testing/vsock of Debian's
# linux-source 6.12 and of sid's, built here by tests/vm/run.sh), both over
# vsock loopback in one guest per kernel (tests/vm/run.sh with
# vm_tests=modules,conform,vsock-test: vsock-conform against
# tests/vm/conform-expect as in make check-vm, then every vsock_test case
# in a run of its own). Prints the table of tests/vm/conform-compare.awk
# (the pairs of cases in tests/vm/conform-vsock_test) and vsock_test's
# counts per kernel; with -o also writes them to FILE. Run by hand: three
# boots, 3 to 5 minutes, and two linux-source packages (about 160 MB each)
# the first time.
# Exit: 0 every run passed and the two agree wherever both check a
# behaviour, 1 otherwise, 2 usage or setup error, 77 skipped.
set -u

usage() {
	cat <<'EOF'
usage: tests/vm/conform-compare.sh [-b VSOCKBOX] [-c CACHE]
                                   [--suites "bookworm trixie sid"] [-o FILE]

  -b VSOCKBOX   the static binary (default: ./vsockbox of the repo)
  -c CACHE      kernels, packages, vsock_test and console logs (default
                build/vm; $VM_CACHE)
  --suites S    the Debian releases whose kernels boot, one boot each
  -o FILE       also write the table there (markdown)
Environment: VM_TIMEOUT (bound on each boot, default 600 s), KTAP (another
tests/ktap) and those of tests/vm/run.sh.
EOF
}

me=conform-compare
repo=$(cd "$(dirname "$0")/../.." && pwd)
vsockbox=$repo/vsockbox
cache=${VM_CACHE:-$repo/build/vm}
suites="bookworm trixie sid"
out=""
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	-b | -c | -o | --suites)
		[ $# -ge 2 ] || { echo "$me: $1: missing value" >&2; exit 2; }
		case $1 in
		-b) vsockbox=$2 ;;
		-c) cache=$2 ;;
		-o) out=$2 ;;
		--suites) suites=$2 ;;
		esac
		shift 2 ;;
	*) usage >&2; exit 2 ;;
	esac
done
mkdir -p "$cache" || exit 2
ktap=${KTAP:-$repo/tests/ktap}
[ -x "$ktap" ] || { echo "$me: $ktap: not built (make tests/ktap)" >&2; exit 2; }
status=0
logs=""
for s in $suites; do
	log=$cache/console-compare-$s.log
	rm -f "$log"
	VM_TIMEOUT=${VM_TIMEOUT:-600} sh "$repo/tests/vm/run.sh" -b "$vsockbox" \
		-c "$cache" --suite "$s" --log "$log" vm_tests=modules,conform,vsock-test
	rc=$?
	case $rc in 0) ;; 1) status=1 ;; *) exit "$rc" ;; esac
	# No console: the guest never booted (a skip under CI, say).
	[ -f "$log" ] || exit 1
	# vsock-conform's verdicts as tests/ktap reads them, beside the log.
	{
		grep -E 'VMTEST-START|VSOCKTEST ' "$log"
		sed -n 's/.*KTAP loopback| //p' "$log" | "$ktap" | sed 's/^/CONFORM /'
	} >"$log.verdicts"
	logs="$logs $log.verdicts"
done

report=$(mktemp "${TMPDIR:-/tmp}/conform-compare.XXXXXX") || exit 2
trap 'rm -f "$report"' EXIT
{
	echo "vsock_test's verdicts, each case in a run of its own (SOURCE: the linux-source it is built from):"
	echo
	# shellcheck disable=SC2086
	for log in $logs; do
		awk '
			/VMTEST-START/ { k = $0; sub(/.*VMTEST-START uptime [0-9.]+s, /, "", k); sub(/,.*/, "", k) }
			/VSOCKTEST [^ ]+ [0-9]+ / { sub(/.*VSOCKTEST /, ""); n[$1]++; v[$1, $3]++ }
			END { for (s in n) printf "- kernel %s, vsock_test of %s: %d cases: %d ok, %d fail, %d hang, %d skip\n",
				k, s, n[s], v[s, "ok"], v[s, "fail"], v[s, "hang"], v[s, "skip"] }' "$log" | sort
	done
	echo
	# shellcheck disable=SC2086
	awk -f "$repo/tests/vm/conform-compare.awk" \
		"$repo/tests/vm/conform-vsock_test" $logs || status=1
} >"$report"
echo
cat "$report"
[ -z "$out" ] || cp "$report" "$out" || exit 2
exit "$status"
