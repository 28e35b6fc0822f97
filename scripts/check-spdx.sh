#!/bin/sh
# SPDX-License-Identifier: MIT
# Every file of the tree says its licence: an SPDX-License-Identifier: MIT
# line within its first three lines, or a path of REUSE.toml's annotations
# (for files that cannot carry a comment). Usage: check-spdx.sh [DIR]
# Lists the files without one and fails; the files are git's where DIR is a
# checkout, else every file below DIR but build/.
set -eu
cd "${1:-.}"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	list() { git ls-files --cached --others --exclude-standard; }
else
	list() { find . -path ./build -prune -o -path ./.git -prune -o -type f -print | sed 's,^\./,,'; }
fi
# REUSE.toml's path globs, one a line ("**" is any depth; case's * crosses /).
globs=$(sed -n 's/^path *= *\[\(.*\)\]/\1/p' REUSE.toml 2>/dev/null |
	tr ',' '\n' | sed 's/^ *"//; s/" *$//; s/\*\*/*/g')
missing=0 checked=0
tmp=$(list)
for f in $tmp; do
	[ -f "$f" ] || continue
	checked=$((checked + 1))
	exempt=no
	for g in $globs; do
		# shellcheck disable=SC2254
		case $f in $g) exempt=yes; break ;; esac
	done
	[ "$exempt" = yes ] && continue
	head -n 3 "$f" | grep -q 'SPDX-License-Identifier: MIT' && continue
	echo "check-spdx: $f: no 'SPDX-License-Identifier: MIT' in its first 3 lines" >&2
	missing=$((missing + 1))
done
[ "$missing" -eq 0 ] || { echo "check-spdx: $missing of $checked files without a licence line" >&2; exit 1; }
echo "check-spdx: $checked files, each with its licence"
