#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need first (nothing
# beyond Go for now: raw_exec needs only /bin/sh), then runs every package.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v go >/dev/null || { echo "go is not installed: install Go 1.26 (https://go.dev/doc/install)" >&2; exit 1; }

# Build the binary once; the end-to-end tests run it as a real agent.
make build
export DROVER_TEST_BINARY="$PWD/bin/drover"

go vet ./...
go test -race -count=1 -p 2 -timeout "${TEST_TIMEOUT:-30m}" ./...

# Bounded fuzzing of every parser and decoder.
FUZZTIME="${FUZZTIME:-10s}" ./scripts/fuzz.sh
