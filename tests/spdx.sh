#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/check-spdx.sh on scratch trees: a tree whose files all carry the
# licence line (or are REUSE.toml paths) passes; a file added without one
# fails the check, which names it.
SUITE=spdx
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
check() { sh "$top/scripts/check-spdx.sh" "$1" >/dev/null 2>"$TEST_TMP/err"; echo $?; }

tree=$TEST_TMP/tree
mkdir -p "$tree/common" "$tree/tests/fuzz/corpus"
cp "$top/REUSE.toml" "$top/LICENSE" "$tree/"
cp "$top/common/clock.c" "$top/common/protocol.h" "$tree/common/"
printf 'seed\n' > "$tree/tests/fuzz/corpus/a"
testing "every file licensed: pass" "check '$tree'" 0
printf '/* new.c */\nint x;\n' > "$tree/common/new.c"
testing "a C file without the line: fail" "check '$tree'" 1
testing "the line names the file" \
	"grep -c 'common/new.c: no .SPDX-License-Identifier: MIT' '$TEST_TMP/err'" 1
sed -i '1i // SPDX-License-Identifier: MIT' "$tree/common/new.c"
testing "the line added: pass" "check '$tree'" 0
printf '#!/bin/sh\necho hi\n' > "$tree/run.sh"
testing "a script without the line: fail" "check '$tree'" 1
sed -i '1a # SPDX-License-Identifier: MIT' "$tree/run.sh"
testing "after the shebang: pass" "check '$tree'" 0
finish
