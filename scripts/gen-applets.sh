#!/bin/sh
# SPDX-License-Identifier: MIT
# Generate the applet table and object list from Config.in and .config.
# Usage: gen-applets.sh CONFIG_IN DOTCONFIG OUTDIR
#        gen-applets.sh mains DIR      each applet's main file, in name order
# Writes OUTDIR/applets.h (X-macro rows of enabled applets) and
# OUTDIR/applets.mk (object list). Fails if an applet and a Config.in
# entry do not match one to one. FEATURE_ entries are no applets: they are
# options of a mechanism (scripts/kconfig.sh features-h).
#
# An applet is one file, applets/NAME.c, or a folder of its own,
# applets/NAME/: its main file applets/NAME/NAME.c holds the //config:
# block and NAME_main, and every other .c file there is linked with it
# when the applet is configured (its headers are its own too). Nothing
# else names an applet's files.
set -eu

# applet_mains DIR: the main file of every applet, sorted by name; an
# applet in both forms, or a folder without its main file, fails.
applet_mains() {
	_list=""
	for f in "$1"/applets/*.c "$1"/applets/*/; do
		[ -e "$f" ] || continue
		f=${f%/}
		base=$(basename "$f" .c)
		if [ -d "$f" ]; then
			if [ ! -f "$f/$base.c" ]; then
				echo "gen-applets: applets/$base/ has no main file applets/$base/$base.c" >&2
				return 1
			fi
			if [ -f "$1/applets/$base.c" ]; then
				echo "gen-applets: applets/$base.c and applets/$base/ are one applet twice" >&2
				return 1
			fi
			f=$f/$base.c
		fi
		_list="$_list$base	$f
"
	done
	printf '%s' "$_list" | sort | cut -f2
}

if [ "${1:-}" = mains ]; then
	applet_mains "$2"
	exit
fi

config_in=$1 dotconfig=$2 outdir=$3
srcdir=$(dirname "$config_in")
mkdir -p "$outdir"
mains=$(applet_mains "$srcdir")

entries=$(awk '
	/^config FEATURE_/ { name = ""; next }
	/^config / { name = $2; next }
	name != "" && /^[ \t]*bool / {
		prompt = $0
		sub(/^[ \t]*bool[ \t]*"/, "", prompt); sub(/"[ \t]*$/, "", prompt)
		print name "\t" prompt; name = ""
	}' "$config_in")

status=0
# Every applet needs an entry, and every entry an applet.
for f in $mains; do
	base=$(basename "$f" .c)
	sym=$(printf '%s' "$base" | tr '[:lower:]' '[:upper:]')
	if ! printf '%s\n' "$entries" | cut -f1 | grep -qx "$sym"; then
		echo "gen-applets: ${f#"$srcdir"/} has no 'config $sym' in Config.in" >&2
		status=1
	fi
done
for sym in $(printf '%s\n' "$entries" | cut -f1); do
	base=$(printf '%s' "$sym" | tr '[:upper:]' '[:lower:]')
	if [ ! -f "$srcdir/applets/$base.c" ] && [ ! -f "$srcdir/applets/$base/$base.c" ]; then
		echo "gen-applets: Config.in entry $sym has no applets/$base.c nor applets/$base/$base.c" >&2
		status=1
	fi
done
[ "$status" -eq 0 ] || exit 1

# Temporary names of this process's own: two makes in one tree (a suite
# and a VM run side by side) must not take each other's half-written file.
tmp_h=$outdir/applets.h.tmp.$$ tmp_mk=$outdir/applets.mk.tmp.$$
{
	echo "/* Generated from Config.in and .config by scripts/gen-applets.sh. */"
	echo "/* APPLET(c_name, \"applet-name\", \"one-line summary\") */"
} > "$tmp_h"
echo "# Generated from .config by scripts/gen-applets.sh." > "$tmp_mk"
printf '%s\n' "$entries" | while IFS="$(printf '\t')" read -r sym prompt; do
	if grep -qx "CONFIG_$sym=y" "$dotconfig"; then
		base=$(printf '%s' "$sym" | tr '[:upper:]' '[:lower:]')
		name=${prompt%%:*}
		if [ "$name" != "$(printf '%s' "$base" | tr '_' '-')" ]; then
			echo "gen-applets: Config.in $sym: prompt must start with the applet name" >&2
			exit 1
		fi
		summary=${prompt#*: }
		printf 'APPLET(%s, "%s", "%s")\n' "$base" "$name" "$summary" >> "$tmp_h"
		if [ -d "$srcdir/applets/$base" ]; then
			for c in "$srcdir/applets/$base"/*.c; do
				c=${c#"$srcdir"/}
				printf 'APPLET_OBJS += %s.o\n' "${c%.c}"
			done >> "$tmp_mk"
		else
			printf 'APPLET_OBJS += applets/%s.o\n' "$base" >> "$tmp_mk"
		fi
		printf 'APPLET_NAMES += %s\n' "$name" >> "$tmp_mk"
	fi
done
# Replace only on change so make does not rebuild everything every time.
for f in applets.h applets.mk; do
	if cmp -s "$outdir/$f.tmp.$$" "$outdir/$f"; then rm -f "$outdir/$f.tmp.$$"
	else mv "$outdir/$f.tmp.$$" "$outdir/$f"; fi
done
