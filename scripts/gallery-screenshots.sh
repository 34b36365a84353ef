#!/usr/bin/env bash
# Screenshots of the gallery for docs/gallery.md: builds veil, ingests a copy
# of the sample inbox (testdata/inbox) into a throwaway vault as the README's
# demo does, builds the gallery of that release, and has headless Chromium
# photograph the index and the page of a subject with a before and an after.
#
#   scripts/gallery-screenshots.sh          # writes docs/gallery-index.png, docs/gallery-subject.png
#   CHROMIUM=/usr/bin/chromium OUT=/tmp scripts/gallery-screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-docs}
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$CHROMIUM" ]; then
	echo "gallery-screenshots: no chromium on PATH (apt-get install chromium)" >&2
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/veil" ./cmd/veil
printf 'demo passphrase, not for real use\n' >"$work/pass"
"$work/veil" init --vault "$work/vault" --custodian-out "$work/custodian.age" --passphrase-file "$work/pass" >/dev/null
cp -r testdata/inbox "$work/inbox"
"$work/veil" ingest --vault "$work/vault" --out "$work/release" --settle 0 --quiet "$work/inbox"
"$work/veil" gallery --release "$work/release" -o "$work/site" --quiet

# The subject to show: the first (by code) with both a before and an after.
subject=$(awk -F, 'NR > 1 { p[$2] = p[$2] " " $3 } END {
	for (s in p) if (p[s] ~ / before/ && p[s] ~ / (after|followup)/) print s }' "$work/release/index.csv" | sort | head -n 1)
if [ -z "$subject" ]; then
	echo "gallery-screenshots: no subject with a before and an after in the sample release" >&2
	exit 1
fi

# The same flags as the browser test: as root in a container, a profile of
# its own, no network chatter.
shoot() {
	"$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$work/profile" --hide-scrollbars --window-size=1280,900 \
		--screenshot="$2" "file://$1" 2>/dev/null
}
mkdir -p "$OUT"
shoot "$work/site/index.html" "$OUT/gallery-index.png"
shoot "$work/site/s/$subject.html" "$OUT/gallery-subject.png"
echo "wrote $OUT/gallery-index.png $OUT/gallery-subject.png"
