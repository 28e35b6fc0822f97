# tests/vm/conform-expect.awk: vsock-conform's KTAP output from a VM run
# against the expected verdicts of tests/vm/conform-expect (used by
# tests/vm/lib.sh: conform_judge).
#   awk -v release=UNAME_R -v where=LABEL -f conform-expect.awk EXPECT KTAP
# EXPECT: a header row "case K1 K2 ..." (kernel series: 6.1, 6.12, 7.2), a
# row per case with ok, skip or xfail under each kernel, and a row
# "why CASE KERNEL reason..." for every xfail. The kernel's column is its
# series (major.minor of release); a kernel newer than every column takes
# the newest (said in the summary). KTAP: top-level result lines
# "ok N NAME", "ok N NAME # SKIP reason", "not ok N NAME".
# Prints one "conform-expect FAIL ..." line per case whose verdict differs
# (either way), is missing, or has no expectation, then one summary line;
# exits 1 if any.

function series(r,   a) {
	split(r, a, /[.-]/)
	return (a[1] + 0) "." (a[2] + 0)
}
function newer(x, y,   a, b) { # series x > series y
	split(x, a, "."); split(y, b, ".")
	return a[1] + 0 > b[1] + 0 || (a[1] + 0 == b[1] + 0 && a[2] + 0 > b[2] + 0)
}
function bad(msg) {
	printf "conform-expect FAIL %s%s\n", where == "" ? "" : where ": ", msg
	nbad++
}

FNR == NR {
	sub(/#.*/, "")
	if (NF == 0) next
	if ($1 == "case") {
		for (i = 2; i <= NF; i++) col[i] = $i
		ncol = NF
		next
	}
	if ($1 == "why") {
		reason = $0
		sub(/^[ \t]*why[ \t]+[^ \t]+[ \t]+[^ \t]+[ \t]+/, "", reason)
		why[$2, $3] = reason
		next
	}
	if (NF != ncol) {
		bad("tests/vm/conform-expect line " FNR ": " NF - 1 " verdicts for " ncol - 1 " kernels")
		next
	}
	cases[++ncases] = $1
	for (i = 2; i <= NF; i++) {
		if ($i !~ /^(ok|skip|xfail)$/)
			bad("tests/vm/conform-expect: " $1 " " col[i] ": '" $i "' (want ok, skip or xfail)")
		want[$1, col[i]] = $i
	}
	next
}

/^(not )?ok [0-9]+ / {
	v = ($1 == "not") ? "xfail" : "ok"
	name = $0
	sub(/^(not )?ok [0-9]+ /, "", name)
	if (name ~ /# *[Ss][Kk][Ii][Pp]/) v = "skip"
	sub(/ *#.*/, "", name)
	if (name in got) bad(name ": more than one result")
	got[name] = v
}

END {
	k = series(release)
	use = ""
	newest = col[2]
	for (i = 2; i <= ncol; i++) {
		if (col[i] == k) use = k
		if (newer(col[i], newest)) newest = col[i]
	}
	note = ""
	if (use == "" && newer(k, newest)) {
		use = newest
		note = " (kernel " k " is newer than every column: " newest "'s expectations)"
	}
	if (use == "") {
		bad("no column for kernel " k " in tests/vm/conform-expect")
		exit 1
	}
	n["ok"] = n["skip"] = n["xfail"] = 0
	for (c = 1; c <= ncases; c++) {
		name = cases[c]
		w = want[name, use]
		if (w == "xfail" && !((name, use) in why))
			bad(name " " use ": xfail without a \"why\" row")
		if (!(name in got)) {
			bad(name ": no result (expected " w ")")
			continue
		}
		if (got[name] != w) {
			bad(name ": " (got[name] == "xfail" ? "not ok" : got[name]) ", expected " \
				(w == "xfail" ? "not ok (" why[name, use] ")" : w) " on " use)
			continue
		}
		n[w]++
	}
	for (name in got) {
		known = 0
		for (c = 1; c <= ncases; c++) if (cases[c] == name) known = 1
		if (!known) bad(name ": a case with no row in tests/vm/conform-expect")
	}
	printf "conform-expect: %s%d of %d cases as expected on %s: %d ok, %d skip, %d not ok as expected%s\n",
		where == "" ? "" : where ": ", n["ok"] + n["skip"] + n["xfail"], ncases, release,
		n["ok"], n["skip"], n["xfail"], note
	exit nbad > 0
}
