#!/bin/sh
# crash-trials.sh [N]: run veil ingest on a corpus and SIGKILL it N times at
# random moments (default 200), plus twice at each step of the commit order,
# then check after each recovery run that every photo is committed exactly
# once or still in the inbox, that verify --release passes and that no
# temporary file is left. CI runs the same test with 16 random trials.
#   VEIL_CRASH_SEED=... repeats a failing sequence.
set -eu
cd "$(dirname "$0")/.."
VEIL_CRASH_TRIALS="${1:-200}" exec go test ./cmd/veil -run '^TestCrashTrials$' -count=1 -v -timeout 30m
