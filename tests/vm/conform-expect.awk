# SPDX-License-Identifier: MIT
# tests/vm/conform-expect.awk: one kernel's column of tests/vm/conform-expect
# as tests/ktap --expect reads it (used by tests/vm/lib.sh: conform_judge).
#   awk -v release=UNAME_R -f conform-expect.awk tests/vm/conform-expect
# The table: a header row "case K1 K2 ..." (kernel series: 6.1, 6.12,
# 7.2), a row per case with ok, skip or xfail under each kernel, and a row
# "why CASE KERNEL reason..." for every xfail. The kernel's column is its
# series (major.minor of release); a kernel newer than every column takes
# the newest, and says so on stderr. Prints "CASE ok", "CASE skip" or
# "CASE not-ok # reason" per case. A malformed table, an xfail without its
# reason or no column for the kernel: one line each on stderr, exit 1.

function series(r,   a) {
	split(r, a, /[.-]/)
	return (a[1] + 0) "." (a[2] + 0)
}
function newer(x, y,   a, b) { # series x > series y
	split(x, a, "."); split(y, b, ".")
	return a[1] + 0 > b[1] + 0 || (a[1] + 0 == b[1] + 0 && a[2] + 0 > b[2] + 0)
}
function bad(msg) {
	print "conform-expect: " msg > "/dev/stderr"
	nbad++
}

{ sub(/#.*/, "") }
NF == 0 { next }
$1 == "case" {
	for (i = 2; i <= NF; i++) col[i] = $i
	ncol = NF
	next
}
$1 == "why" {
	reason = $0
	sub(/^[ \t]*why[ \t]+[^ \t]+[ \t]+[^ \t]+[ \t]+/, "", reason)
	why[$2, $3] = reason
	next
}
{
	if (NF != ncol) {
		bad("line " NR ": " NF - 1 " verdicts for " ncol - 1 " kernels")
		next
	}
	cases[++ncases] = $1
	for (i = 2; i <= NF; i++) {
		if ($i !~ /^(ok|skip|xfail)$/)
			bad($1 " " col[i] ": '" $i "' (want ok, skip or xfail)")
		want[$1, col[i]] = $i
	}
}

END {
	k = series(release)
	use = ""
	newest = col[2]
	for (i = 2; i <= ncol; i++) {
		if (col[i] == k) use = k
		if (newer(col[i], newest)) newest = col[i]
	}
	if (use == "" && ncol > 1 && newer(k, newest)) {
		use = newest
		print "conform-expect: kernel " k " is newer than every column: " newest "'s verdicts" > "/dev/stderr"
	}
	if (use == "") {
		bad("no column for kernel " k)
		exit 1
	}
	for (c = 1; c <= ncases; c++) {
		name = cases[c]
		w = want[name, use]
		if (w != "xfail") {
			print name, w
		} else if ((name, use) in why) {
			print name, "not-ok", "#", why[name, use]
		} else {
			bad(name " " use ": xfail without a \"why\" row")
		}
	}
	exit nbad > 0
}
