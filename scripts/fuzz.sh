#!/usr/bin/env bash
# Runs every go test -fuzz target in the repository for a bounded effort
# each (FUZZTIME, default 100000x: that many inputs). A count rather than a
# duration keeps the work the same on a busy machine and avoids the fuzz
# engine's end-of-deadline failures under load. Parsers and decoders must
# never panic; a crash fails the run and leaves the input under the
# package's testdata/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-100000x}
# Each new interesting input is minimized for at most this long (the
# engine's default, 60 s, dominated a run once inputs took a while each).
MINIMIZETIME=${MINIMIZETIME:-5s}

grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r file; do
  pkg="./$(dirname "${file#./}")"
  for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
    echo "fuzz $pkg $target for $FUZZTIME"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$MINIMIZETIME" "$pkg"
  done
done
