#!/usr/bin/env bash
# Whole-run timings of `veil ingest` (issue 6, point 9), on the same machine
# in the same run, against:
#   - cp -r of the same inbox (no fsync: a floor, not a competitor);
#   - a shell pipeline doing per file what ingest does at minimum:
#     `exiftool -all=` into a release folder and `age -r` into a vault.
# and peak RSS (/usr/bin/time -v) of ingest on growing inboxes.
# Every ingest run starts from a fresh copy of an empty vault and of the
# inbox (copies not timed). Prints ratios, which hold across machines better
# than seconds do.
#
#   scripts/bench-ingest.sh                       # 40 x 12 MP, 1000 x 800x600, RSS at 1000 and 10000
#   RSS_N="1000 10000 100000" scripts/bench-ingest.sh
#   LARGE=10 SMALL=200 RSS_N=1000 RUNS=1 scripts/bench-ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LARGE=${LARGE:-40}
SMALL=${SMALL:-1000}
RUNS=${RUNS:-3}
RSS_N=${RSS_N:-"1000 10000"}
RSS_SIZE=${RSS_SIZE:-320x240}
WORKERS=${WORKERS:-$(nproc)}
work=${WORK:-$(mktemp -d)}
trap 'rm -rf "$work"' EXIT

go build -o "$work/veil" ./cmd/veil
veil=$work/veil
if command -v age >/dev/null; then
	age=$(command -v age)
else
	GOBIN=$work/bin go install filippo.io/age/cmd/age@v1.3.2
	age=$work/bin/age
fi
printf 'correct horse battery staple\n' >"$work/pass"
"$veil" init --vault "$work/vault0" --custodian-out "$work/custodian.age" --passphrase-file "$work/pass" >/dev/null
recipient=$(grep -o 'age1[0-9a-z]*' "$work/vault0/vault.json" | head -1)

# corpus N WxH DIR: N photos with realistic metadata, as inbox/<patient>/<phase>/IMG_n.jpg
# (ten patients, by the last digit of n)
corpus() {
	local n=$1 size=$2 dir=$3
	go run ./scripts/gencorpus -n "$n" -size "$size" -o "$dir.flat" >/dev/null
	for d in 0 1 2 3 4 5 6 7 8 9; do
		local ph=before
		[ $((d % 2)) = 1 ] && ph=after
		mkdir -p "$dir/Patient $d/$ph"
		find "$dir.flat" -name "IMG_*$d.jpg" -exec mv -t "$dir/Patient $d/$ph/" {} +
	done
	rmdir "$dir.flat"
}

now() { date +%s.%N; }

# best of RUNS: prepare (untimed) then the timed command
best() {
	local prep=$1 cmd=$2 min=""
	for _ in $(seq "$RUNS"); do
		eval "$prep"
		sync
		local t0 t1 d
		t0=$(now)
		eval "$cmd" >/dev/null 2>&1 || true
		t1=$(now)
		d=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$min" ] || [ "$(echo "$d < $min" | bc -l)" = 1 ]; then min=$d; fi
	done
	echo "$min"
}
ratio() { echo "scale=2; $1 / $2" | bc -l; }

fresh='rm -rf "$work/v" "$work/r" "$work/in" "$work/o"; cp -r "$work/vault0" "$work/v"; cp -r "$src" "$work/in"'
ingest='"$veil" ingest --vault "$work/v" --out "$work/r" --settle 0 --workers "$WORKERS" --quiet "$work/in"'
copy='cp -r "$work/in" "$work/o"'
pipeline='mkdir -p "$work/o/rel" "$work/o/vault"; find "$work/in" -type f | while IFS= read -r f; do b=$(basename "$f"); exiftool -q -all= -o "$work/o/rel/$b" "$f"; "$age" -r "$recipient" -o "$work/o/vault/$b.age" "$f"; done'

echo "generating corpora in $work ..."
corpus "$LARGE" 4032x3024 "$work/large"
corpus "$SMALL" 800x600 "$work/small"

echo
src=$work/large
echo "== $LARGE photos of 4032x3024 ($(du -sh "$src" | cut -f1)), $WORKERS workers, best of $RUNS"
vi=$(best "$fresh" "$ingest")
c=$(best "$fresh" "$copy")
cs=$(best "$fresh" "$copy && sync")
e=$(best "$fresh" "$pipeline")
printf 'veil ingest %.2fs   cp -r %.2fs   cp -r + sync %.2fs   exiftool -all= + age per file %.2fs\n' "$vi" "$c" "$cs" "$e"
echo "ingest / cp -r:            $(ratio "$vi" "$c")x   (target <= 3)"
echo "ingest / (cp -r + sync):   $(ratio "$vi" "$cs")x   (ingest makes two durable copies, one encrypted)"
echo "ingest / exiftool+age:     $(ratio "$vi" "$e")x   (target <= 0.5)"

echo
src=$work/small
echo "== $SMALL photos of 800x600 ($(du -sh "$src" | cut -f1))"
vi=$(best "$fresh" "$ingest")
c=$(best "$fresh" "$copy")
printf 'veil ingest %.2fs = %.0f files/s (target >= 500)   cp -r %.2fs (ingest/cp %sx)\n' "$vi" "$(echo "$SMALL / $vi" | bc -l)" "$c" "$(ratio "$vi" "$c")"

echo
echo "== peak RSS of veil ingest (photos of $RSS_SIZE)"
for n in $RSS_N; do
	corpus "$n" "$RSS_SIZE" "$work/rss"
	rm -rf "$work/v" "$work/r"
	cp -r "$work/vault0" "$work/v"
	sync
	/usr/bin/time -v "$veil" ingest --vault "$work/v" --out "$work/r" --settle 0 --workers "$WORKERS" --quiet "$work/rss" \
		>"$work/out" 2>"$work/time" || true
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time")
	printf '%7d files: peak RSS %6.1f MB, %s wall; %s\n' "$n" "$(echo "$rss / 1024" | bc -l)" "$wall" "$(tail -1 "$work/out")"
	# and 1,000 more photos into the vault that now holds n
	go run ./scripts/gencorpus -n 1000 -size 321x240 -o "$work/more/Patient X/after" >/dev/null
	/usr/bin/time -v "$veil" ingest --vault "$work/v" --out "$work/r" --settle 0 --workers "$WORKERS" --quiet "$work/more" \
		>"$work/out" 2>"$work/time" || true
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
	printf '%7s +1000 into that vault: peak RSS %6.1f MB; %s\n' "" "$(echo "$rss / 1024" | bc -l)" "$(tail -1 "$work/out")"
	rm -rf "$work/rss" "$work/v" "$work/r" "$work/more"
done
