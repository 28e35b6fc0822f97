#!/bin/sh
# SPDX-License-Identifier: MIT
# shellcheck disable=SC2016 # check evaluates its CONDITION (tests/lib.sh)
# tests/vm-rules.sh: the QEMU runners' rules, checked without booting
# anything (a few seconds; a step of make check):
#  - no QEMU to be had: the runners skip (exit 77, a "SKIP: reason" line),
#    make check-vm / check-vhost / check-hybrid report it as skipped
#    (exit 0); with $CI set the skip is a failure: exit 1, the reason in
#    one line;
#  - bad settings and a binary of the wrong architecture: exit 2, one line;
#  - make initramfs packs a stripped copy and leaves ./vsockbox as it was;
#  - the nested runs make would start (make -n): one per kernel, with
#    --lifecycle for the kernels of LIFECYCLE_SUITES, so that make check
#    (check-vhost and check-lifecycle) boots each kernel's L2 once.
# QEMU is made unavailable with VM_QEMU (a program that does not exist) and
# VM_NO_INSTALL=1 (no apt-get).
set -u
SUITE=vm-rules
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

repo=$(cd "$(dirname "$0")/.." && pwd)
make=${MAKE:-make}
noqemu=/nonexistent/qemu-system-none
cache=$TEST_TMP/cache
unset CI

# rule NAME WANT_STATUS COMMAND: run COMMAND (eval'd, output to
# $TEST_TMP/out), check its status; the caller checks the output.
rule() {
	status=0
	eval "$3" >"$TEST_TMP/out" 2>&1 || status=$?
	expect_status "$1" "$2" "$status" "output: $(head -c 400 "$TEST_TMP/out")"
}

# has NAME PATTERN: the last output has a line matching PATTERN (grep -E).
has() {
	_re=$2
	check "$1" 'grep -qE "$_re" "$TEST_TMP/out"' \
		"no line matching '$2' in:" "$(head -c 400 "$TEST_TMP/out")"
}

# only_line NAME PATTERN: the last output is one line, matching PATTERN.
only_line() {
	_re=$2
	check "$1" 'one_line "$TEST_TMP/out" && grep -qE "$_re" "$TEST_TMP/out"' \
		"want one line matching '$2', got:" "$(head -c 400 "$TEST_TMP/out")"
}

for runner in run vhost conform-compare hybrid; do
	r="VM_NO_INSTALL=1 VM_QEMU=$noqemu sh $repo/tests/vm/$runner.sh -b $VSOCKBOX -c $cache"
	rule "$runner: no QEMU: skip" 77 "$r"
	has "$runner: no QEMU: the SKIP line names it" "^SKIP: no $noqemu \(apt-get install "
	rule "$runner: no QEMU, CI set: failure" 1 "CI=1 $r"
	only_line "$runner: no QEMU, CI set: one line with the reason" \
		"FAIL: cannot run, and CI is set: no $noqemu "
	rule "$runner: CI empty is no CI" 77 "CI= $r"
done
rule "vhost --lifecycle: no QEMU: skip" 77 \
	"VM_NO_INSTALL=1 VM_QEMU=$noqemu sh $repo/tests/vm/vhost.sh -b $VSOCKBOX -c $cache --lifecycle"
has "vhost --lifecycle: no QEMU: the SKIP line names it" "^SKIP: no $noqemu \(apt-get install "

# nested NAME COUNT PATTERN: the last output (make -n) has COUNT lines
# that start tests/vm/vhost.sh and match PATTERN (grep -E).
nested() {
	n=$(grep -E '^sh tests/vm/vhost\.sh ' "$TEST_TMP/out" | grep -cE -- "$3")
	if [ "$n" -eq "$2" ]; then
		pass "$1"
	else
		fail "$1" "want $2 vhost.sh lines matching '$3', got $n in:" \
			"$(grep 'vhost\.sh' "$TEST_TMP/out")"
	fi
}
dry="$make --no-print-directory -n -C $repo"
rule "make -n check-vhost check-lifecycle (as make check)" 0 \
	"$dry check-vhost check-lifecycle"
nested "make check: two nested runs" 2 .
nested "make check: trixie's with the events" 1 "--suite trixie --lifecycle( |$)"
nested "make check: bookworm's without" 1 "--suite bookworm *;"
has "make check-lifecycle: the TCP run" "^sh tests/lifecycle\.sh$"
rule "make -n check-lifecycle LIFECYCLE_SUITES=bookworm" 0 \
	"$dry check-lifecycle LIFECYCLE_SUITES=bookworm"
nested "make check-lifecycle: one nested run" 1 .
nested "make check-lifecycle: bookworm's, with the events" 1 "--suite bookworm --lifecycle( |$)"
rule "make -n check-vhost LIFECYCLE_SUITES=" 0 "$dry check-vhost LIFECYCLE_SUITES="
nested "make check-vhost LIFECYCLE_SUITES=: no events" 0 "--lifecycle"

vm_make="VM_NO_INSTALL=1 VM_QEMU=$noqemu VM_CACHE=$cache $make --no-print-directory -C $repo"
for target in check-vm "check-vm ARCH=arm64" check-vhost conform-compare check-hybrid; do
	rule "make $target: no QEMU: skipped, no failure" 0 "$vm_make $target"
	has "make $target: says SKIPPED" "SKIPPED \(not a failure"
	rule "make $target: no QEMU, CI set: fails" 2 "CI=1 $vm_make $target"
	has "make $target: CI set: the reason" "CI is set: no $noqemu "
done

run="VM_QEMU=true sh $repo/tests/vm/run.sh -b $VSOCKBOX -c $cache"
rule "run: unknown suite: usage error" 2 "$run --suite woody"
only_line "run: unknown suite: one line" "suite woody: want bookworm, trixie or sid"
rule "run: unknown architecture: usage error" 2 "$run --arch mips"
only_line "run: unknown architecture: one line" "unknown architecture 'mips'"
rule "run: bad guest setting: usage error" 2 "$run 'vm_size=1 2'"
only_line "run: bad guest setting: one line" "bad guest setting"
if [ -x /bin/busybox ] && command -v readelf >/dev/null 2>&1 &&
	[ "$(uname -m)" = x86_64 ]; then
	rule "run: an amd64 binary for the arm64 guest: refused" 2 \
		"VM_BUSYBOX=/bin/busybox $run --arch arm64"
	only_line "run: wrong architecture: one line naming both" \
		"built for .*X86-64, the arm64 guest needs AArch64"
fi

# vsock-conform's verdicts against an expectation table, as the runners
# judge them (lib.sh: conform_judge, tests/vm/conform-expect.awk and
# tests/ktap --expect) on a console log made here: a change either way, a
# case missing or unknown, a known defect without its reason and a kernel
# with no column are failures, each one line.
judge() { # name status release ktap-lines (words, "_" for a space) pattern
	{
		echo "VMTEST-START uptime 1.00s, $3, size 4M"
		printf 'KTAP version 1\n1..3\n'
		echo "$4" | tr ' _' '\n '
	} | sed '2,$s/^/KTAP loopback| /' >"$TEST_TMP/console"
	rule "conform-expect: $1" "$2" "judge_log $TEST_TMP/console"
	has "conform-expect: $1: says so" "$5"
}
judge_log() { # console-log: conform_judge's problems, exit 1 if any
	(
		me=vm tmp=$TEST_TMP/judge conform_table=$TEST_TMP/expect
		mkdir -p "$tmp"
		# shellcheck source=tests/vm/lib.sh
		. "$repo/tests/vm/lib.sh"
		need_ktap
		problems=""
		conform_judge "$1" loopback
		printf '%s' "$problems"
		[ -z "$problems" ]
	)
}
cat >"$TEST_TMP/expect" <<'EOF'
case      6.1    6.12  7.2
peek      ok     ok    ok
siocinq   skip   skip  ok
rcvlowat  xfail  ok    ok
why rcvlowat 6.1 the credit update never wakes the reader
EOF
judge "as expected on 6.1" 0 6.1.0-50-cloud-amd64 \
	"ok_1_peek ok_2_siocinq_#_SKIP_no_SIOCINQ not_ok_3_rcvlowat" \
	"as tests/vm/conform-expect has it for 6.1.0-50-cloud-amd64: 1 ok, 1 skip, 1 not ok"
judge "a known defect fixed: failure" 1 6.1.0-50-cloud-amd64 \
	"ok_1_peek ok_2_siocinq_#_SKIP_no ok_3_rcvlowat" \
	"rcvlowat: expected not-ok, got ok \(the known defect: the credit update never wakes the reader\)"
judge "a new failure" 1 6.12.117+deb13-cloud-amd64 \
	"not_ok_1_peek ok_2_siocinq_#_SKIP_no ok_3_rcvlowat" "peek: expected ok, got not-ok"
judge "a SKIP where ok is expected" 1 7.2.13+deb14-cloud-amd64 \
	"ok_1_peek ok_2_siocinq_#_SKIP_no ok_3_rcvlowat" "siocinq: expected ok, got skip"
judge "a newer kernel: the newest column" 0 7.3.1+deb14-cloud-amd64 \
	"ok_1_peek ok_2_siocinq ok_3_rcvlowat" "newer than every column: 7.2's"
judge "an older kernel: no column" 1 5.10.0-30-cloud-amd64 \
	"ok_1_peek ok_2_siocinq ok_3_rcvlowat" "no column for kernel 5.10"
judge "a case not in the table" 1 7.2.13+deb14-cloud-amd64 \
	"ok_1_peek ok_2_siocinq ok_3_linger" "linger"
sed -i '/^why/d' "$TEST_TMP/expect"
judge "xfail without a reason" 1 6.1.0-50-cloud-amd64 \
	"ok_1_peek ok_2_siocinq_#_SKIP_no not_ok_3_rcvlowat" \
	'rcvlowat 6.1: xfail without a "why" row'

# make initramfs: the archive's vsockbox is stripped, ./vsockbox is not.
before=$(cksum <"$VSOCKBOX")
rule "make initramfs" 0 "$make --no-print-directory -C $repo initramfs"
has "make initramfs: prints the stripped size" "vsockbox stripped: [0-9]+ bytes"
has "make initramfs: prints the archive's size" "vsockbox.cpio.gz: [0-9]+ bytes"
mkdir -p "$TEST_TMP/x"
(cd "$TEST_TMP/x" && gzip -dc "$repo/build/vsockbox.cpio.gz" | cpio -id --quiet bin/vsockbox)
check "make initramfs: the archive's vsockbox has no symbol table" \
	'[ -f "$TEST_TMP/x/bin/vsockbox" ] &&
	! readelf -S "$TEST_TMP/x/bin/vsockbox" | grep -q "\.symtab"' \
	"not stripped (or missing)"
testing "make initramfs: ./vsockbox untouched" "cksum <'$VSOCKBOX'" "$before"

finish
