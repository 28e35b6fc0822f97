# SPDX-License-Identifier: MIT
# tests/vm/conform-compare.awk: vsock-conform side by side with the
# kernel's vsock_test, from the console logs of tests/vm/conform-compare.sh
# (one loopback guest per kernel, both run there).
#   awk -f conform-compare.awk MAP LOG...
# MAP (tests/vm/conform-vsock_test): "CASE: NAME; NAME..." rows, a
# vsock-conform case and the vsock_test cases (by name) that check the same
# behaviour. A LOG holds "CONFORM CASE ok|not-ok|skip" lines (vsock-conform's
# verdicts, as tests/ktap gives them), "VSOCKTEST SOURCE ID VERDICT NAME |
# DETAIL" lines and the VMTEST-START line naming the kernel. Prints markdown: the side-by-side table (a cell:
# vsock-conform's verdict, then vsock_test's, of every source that has the
# case), the cases each has alone, and the disagreements: a behaviour both
# check where one says ok and the other a failure. Exit 1 if any.

function class(v) { # ok, skip or fail
	return v == "ok" || v == "skip" ? v : "fail"
}
function shown(v) { return v == "fail" ? "not ok" : v }
function trim(s) {
	gsub(/^[ \t]+|[ \t]+$/, "", s)
	return s
}

FNR == NR {
	sub(/#.*/, "")
	if ($0 !~ /:/) next
	c = trim(substr($0, 1, index($0, ":") - 1))
	order[++nmap] = c
	n = split(substr($0, index($0, ":") + 1), parts, ";")
	for (i = 1; i <= n; i++) {
		vt[c, i] = trim(parts[i])
		mapped[vt[c, i]] = 1
	}
	nvt[c] = n
	next
}

FNR == 1 { k++ }
/VMTEST-START/ {
	r = $0
	sub(/.*VMTEST-START uptime [0-9.]+s, /, "", r)
	sub(/,.*/, "", r)
	split(r, a, /[.-]/)
	kernel[k] = a[1] "." a[2]
}
/^CONFORM [^ ]+ (ok|not-ok|skip)/ {
	v = $3 == "not-ok" ? "fail" : $3
	cf[k, $2] = v
	if (!($2 in cases)) caseorder[++ncases] = $2
	cases[$2] = 1
}
/VSOCKTEST [^ ]+ [0-9]+ / {
	line = $0
	sub(/.*VSOCKTEST /, "", line)
	split(line, f, " ")
	src = f[1]
	sub(/^[^ ]+ [0-9]+ [^ ]+ /, "", line)
	sub(/ \| .*/, "", line)
	res[k, src, line] = f[3]
	if (!(src in srcs)) srcorder[++nsrcs] = src
	srcs[src] = 1
	if (!(line in vtnames)) vtorder[++nvtnames] = line
	vtnames[line] = 1
}

# vsock_test's verdict for case c on kernel k: every source with its
# cases, "a/b" where the sources differ. Sets vclass.
function vtcell(k, c,   i, j, s, out, v, w, cl) {
	vclass = ""
	out = ""
	for (i = 1; i <= nvt[c]; i++) {
		w = ""
		for (j = 1; j <= nsrcs; j++) {
			s = srcorder[j]
			if (!((k, s, vt[c, i]) in res)) continue
			{
				v = res[k, s, vt[c, i]]
				if (w == "") w = v
				else if (index("/" w "/", "/" v "/") == 0) w = w "/" v
				cl = class(v)
				if (vclass == "" || cl == "fail" || (cl == "skip" && vclass == "ok"))
					vclass = cl
			}
		}
		if (w == "") w = "-"
		out = out (i > 1 ? ", " : "") w
	}
	return out
}

END {
	printf "| vsock-conform case | vsock_test case(s) |"
	for (i = 1; i <= k; i++) printf " %s |", kernel[i]
	printf "\n|---|---|"
	for (i = 1; i <= k; i++) printf "---|"
	printf "\n"
	for (m = 1; m <= nmap; m++) {
		c = order[m]
		names = ""
		for (i = 1; i <= nvt[c]; i++) names = names (i > 1 ? "; " : "") vt[c, i]
		if (!(c in cases)) missing = missing " " c
		printf "| %s | %s |", c, names
		for (i = 1; i <= k; i++) {
			mine = (i, c) in cf ? cf[i, c] : "-"
			cell = vtcell(i, c)
			printf " %s / %s |", shown(mine), cell
			if (vclass != "" && mine != "-" && mine != "skip" && vclass != "skip" &&
			    mine != vclass)
				disagree = disagree sprintf("- %s on %s: vsock-conform %s, vsock_test %s\n",
					c, kernel[i], shown(mine), cell)
		}
		printf "\n"
	}
	printf "\nOnly in vsock-conform:"
	for (j = 1; j <= ncases; j++) {
		found = 0
		for (m = 1; m <= nmap; m++) if (order[m] == caseorder[j]) found = 1
		if (!found) printf " %s;", caseorder[j]
	}
	printf "\n\nOnly in vsock_test:"
	for (j = 1; j <= nvtnames; j++)
		if (!(vtorder[j] in mapped)) printf " %s;", vtorder[j]
	printf "\n"
	if (missing != "") printf "\nIn the map but not in vsock-conform's output:%s\n", missing
	if (disagree != "") {
		printf "\nDisagreements (one says ok, the other a failure):\n%s", disagree
		exit 1
	}
	printf "\nNo disagreement: where both check a behaviour and neither skips, their verdicts agree.\n"
	exit missing != ""
}
