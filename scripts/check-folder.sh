#!/bin/sh
# check-folder.sh DIR: before trusting veil with a photo library, strip a
# sample of it (DIR is only read) into a scratch folder and check the copies
# with tools that are not veil's:
#   - decoded pixels identical: Go's decoders for JPEG, PNG and WebP
#     (scripts/pixcmp), heif-convert for HEIC and AVIF when it is installed
#     (apt-get install libheif-examples);
#   - what exiftool still finds, tag by tag with a count, for a human to read
#     (apt-get install libimage-exiftool-perl): geometry, colour profile,
#     codec settings and Orientation are expected; a name, date, place or
#     device serial is a leak to report.
# Files veil refuses are listed by veil strip with the reason.
set -eu
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/veil" ./cmd/veil
go build -o "$work/pixcmp" ./scripts/pixcmp
"$work/veil" strip -o "$work/out" --no-sync --quiet "$dir" || true # 4: some refused, listed above
base=$(basename "$dir")
echo "== pixels (JPEG, PNG, WebP)"
"$work/pixcmp" "$dir" "$work/out" || status=1
if command -v heif-convert >/dev/null; then
	echo "== pixels (HEIC, AVIF, with heif-convert)"
	same=0 differ=0
	for f in $(cd "$dir" && find . -type f \( -iname '*.heic' -o -iname '*.heif' -o -iname '*.hif' -o -iname '*.avif' \)); do
		out="$work/out/$base/$f"
		[ -f "$out" ] || continue
		rm -rf "$work/png" && mkdir "$work/png"
		heif-convert "$dir/$f" "$work/png/a.png" >/dev/null 2>&1 || continue
		heif-convert "$out" "$work/png/b.png" >/dev/null 2>&1 || { echo "does not decode: $f"; differ=$((differ + 1)); continue; }
		for a in "$work"/png/a*.png; do
			b="$work/png/b${a#"$work"/png/a}"
			if [ -f "$b" ] && "$work/pixcmp" -pair "$a" "$b"; then same=$((same + 1)); else echo "pixels differ: $f"; differ=$((differ + 1)); fi
		done
	done
	echo "pixels identical $same, differ $differ"
	[ "$differ" = 0 ] || status=1
fi
if command -v exiftool >/dev/null; then
	echo "== what exiftool finds in the stripped copies (count, group, tag)"
	exiftool -q -q -a -G1 -s -r "$work/out" | grep -v '^=' | awk '{print $1, $2}' |
		grep -v -E '^\[(ExifTool|System|File)\]' | sort | uniq -c | sort -rn
fi
exit "${status:-0}"
