# SPDX-License-Identifier: MIT
# jsonflat.awk - print one line "PATH VALUE" for every scalar of a JSON
# document, PATH being the keys and array indices joined by dots:
#   {"end":{"sum":{"bytes":5}},"a":[true]}  ->  end.sum.bytes 5 / a.0 true
# Strings lose their quotes but keep their escapes. Enough for the outputs of
# vsock-perf --json and iperf3 -J; not a validating parser.

{ doc = doc $0 "\n" }

function emit(v,    p, d) {
	p = ""
	for (d = 1; d <= depth; d++)
		p = p (d > 1 ? "." : "") (type[d] == "{" ? key[d] : idx[d])
	print p, v
}

END {
	n = length(doc)
	i = 1
	depth = 0
	while (i <= n) {
		c = substr(doc, i, 1)
		if (c == "{" || c == "[") {
			type[++depth] = c
			idx[depth] = 0
			want_key = (c == "{")
			i++
		} else if (c == "}" || c == "]") {
			depth--
			i++
		} else if (c == ",") {
			if (type[depth] == "[")
				idx[depth]++
			else
				want_key = 1
			i++
		} else if (c == ":" || c == " " || c == "\t" || c == "\r" || c == "\n") {
			i++
		} else if (c == "\"") {
			for (j = i + 1; j <= n; j++) {
				d = substr(doc, j, 1)
				if (d == "\\")
					j++
				else if (d == "\"")
					break
			}
			s = substr(doc, i + 1, j - i - 1)
			i = j + 1
			if (type[depth] == "{" && want_key) {
				key[depth] = s
				want_key = 0
			} else {
				emit(s)
			}
		} else {
			for (j = i; j <= n; j++)
				if (index(",}] \t\r\n", substr(doc, j, 1)))
					break
			emit(substr(doc, i, j - i))
			i = j
		}
	}
}
