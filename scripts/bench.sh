#!/usr/bin/env bash
# Whole-run timings of `veil strip` against `exiftool -all=` (one process for
# the whole folder) and `cp -r`, on the same machine in the same run.
# Prints ratios, which hold across machines better than seconds do.
#
#   scripts/bench.sh            # 1000 photos of 800x600, 40 of 4032x3024
#   SMALL=200 LARGE=10 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SMALL=${SMALL:-1000}
LARGE=${LARGE:-40}
RUNS=${RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/veil" ./cmd/veil
echo "generating corpus in $work ..."
go run ./scripts/gencorpus -n "$SMALL" -size 800x600 -o "$work/small"
go run ./scripts/gencorpus -n "$LARGE" -size 4032x3024 -o "$work/large"
sync

# best (minimum) wall time of RUNS runs of a command, after clearing its output
best() {
	local out=$1; shift
	local min=""
	for _ in $(seq "$RUNS"); do
		rm -rf "$out"
		local t0 t1
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		t1=$(date +%s.%N)
		local d
		d=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$min" ] || [ "$(echo "$d < $min" | bc -l)" = 1 ]; then min=$d; fi
	done
	echo "$min"
}

ratio() { echo "scale=2; $1 / $2" | bc -l; }

echo
echo "== $SMALL photos of 800x600 ($(du -sh "$work/small" | cut -f1))"
v=$(best "$work/o-veil" "$work/veil" strip -o "$work/o-veil" "$work/small")
vn=$(best "$work/o-veil" "$work/veil" strip --no-sync -o "$work/o-veil" "$work/small")
c=$(best "$work/o-cp" cp -r "$work/small" "$work/o-cp")
if command -v exiftool >/dev/null; then
	e=$(best "$work/o-et" exiftool -q -all= -o "$work/o-et/" "$work/small")
	printf 'veil strip %.2fs (%.0f files/s)  exiftool -all= %.2fs (%.0f files/s)  cp -r %.2fs\n' \
		"$v" "$(echo "$SMALL / $v" | bc -l)" "$e" "$(echo "$SMALL / $e" | bc -l)" "$c"
	echo "veil files/s / exiftool files/s: $(ratio "$e" "$v")x   (target >= 3)"
else
	printf 'veil strip %.2fs  cp -r %.2fs  (exiftool not installed)\n' "$v" "$c"
fi
echo "veil time / cp time: $(ratio "$v" "$c")x   (--no-sync, like cp: $(ratio "$vn" "$c")x, $(printf %.0f "$(echo "$SMALL / $vn" | bc -l)") files/s, $(ratio "$e" "$vn")x exiftool's files/s)"

echo
echo "== $LARGE photos of 4032x3024 ($(du -sh "$work/large" | cut -f1))"
v=$(best "$work/o-veil" "$work/veil" strip -o "$work/o-veil" "$work/large")
vn=$(best "$work/o-veil" "$work/veil" strip --no-sync -o "$work/o-veil" "$work/large")
c=$(best "$work/o-cp" cp -r "$work/large" "$work/o-cp")
if command -v exiftool >/dev/null; then
	e=$(best "$work/o-et" exiftool -q -all= -o "$work/o-et/" "$work/large")
	printf 'veil strip %.2fs  exiftool -all= %.2fs  cp -r %.2fs\n' "$v" "$e" "$c"
	echo "veil time / exiftool time: $(ratio "$v" "$e")x"
else
	printf 'veil strip %.2fs  cp -r %.2fs\n' "$v" "$c"
fi
echo "veil time / cp time: $(ratio "$v" "$c")x durable; $(ratio "$vn" "$c")x with --no-sync, like cp   (target <= 1.2)"
