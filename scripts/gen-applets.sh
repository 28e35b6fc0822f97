#!/bin/sh
# SPDX-License-Identifier: MIT
# Generate the applet table and object list from Config.in and .config.
# Usage: gen-applets.sh CONFIG_IN DOTCONFIG OUTDIR
# Writes OUTDIR/applets.h (X-macro rows of enabled applets) and
# OUTDIR/applets.mk (object list). Fails if an applet file and a Config.in
# entry do not match one to one. FEATURE_ entries are no applets: they are
# options of a mechanism (scripts/kconfig.sh features-h).
set -eu
config_in=$1 dotconfig=$2 outdir=$3
srcdir=$(dirname "$config_in")
mkdir -p "$outdir"

entries=$(awk '
	/^config FEATURE_/ { name = ""; next }
	/^config / { name = $2; next }
	name != "" && /^[ \t]*bool / {
		prompt = $0
		sub(/^[ \t]*bool[ \t]*"/, "", prompt); sub(/"[ \t]*$/, "", prompt)
		print name "\t" prompt; name = ""
	}' "$config_in")

status=0
# Every applet file needs an entry, and every entry a file.
for f in "$srcdir"/applets/*.c; do
	base=$(basename "$f" .c)
	sym=$(printf '%s' "$base" | tr '[:lower:]' '[:upper:]')
	if ! printf '%s\n' "$entries" | cut -f1 | grep -qx "$sym"; then
		echo "gen-applets: applets/$base.c has no 'config $sym' in Config.in" >&2
		status=1
	fi
done
for sym in $(printf '%s\n' "$entries" | cut -f1); do
	base=$(printf '%s' "$sym" | tr '[:upper:]' '[:lower:]')
	if [ ! -f "$srcdir/applets/$base.c" ]; then
		echo "gen-applets: Config.in entry $sym has no applets/$base.c" >&2
		status=1
	fi
done
[ "$status" -eq 0 ] || exit 1

tmp_h=$outdir/applets.h.tmp tmp_mk=$outdir/applets.mk.tmp
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
		printf 'APPLET_OBJS += applets/%s.o\n' "$base" >> "$tmp_mk"
		printf 'APPLET_NAMES += %s\n' "$name" >> "$tmp_mk"
	fi
done
# Replace only on change so make does not rebuild everything every time.
for f in applets.h applets.mk; do
	if cmp -s "$outdir/$f.tmp" "$outdir/$f"; then rm -f "$outdir/$f.tmp"
	else mv "$outdir/$f.tmp" "$outdir/$f"; fi
done
