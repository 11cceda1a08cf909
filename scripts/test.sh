#!/usr/bin/env bash
# Runs the whole test suite. Installs and starts what the tests need first
# (a private containerd daemon, from Debian's packages), runs every package
# with the race detector, fuzzes every parser for a bounded time, and stops
# the daemon at the end. Run as root: the exec and containerd drivers and
# the multi-host tests need it, and fail (never skip) without it.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v go >/dev/null || { echo "go is not installed: install Go 1.26 (https://go.dev/doc/install)" >&2; exit 1; }

# Build the binary once; the end-to-end tests run it as a real agent.
make build
export DROVER_TEST_BINARY="$PWD/bin/drover"

go vet ./...

# A private containerd for the containerd driver's tests (installs
# containerd, runc and busybox-static from Debian if missing). The output
# is assigned first: set -e does not see a failure inside eval "$(...)".
containerd_env="$(scripts/containerd-test-env.sh start)"
eval "$containerd_env"
trap 'scripts/containerd-test-env.sh stop' EXIT

go test -race -count=1 -p 2 -timeout "${TEST_TIMEOUT:-30m}" ./...

# Bounded fuzzing of every parser and decoder.
FUZZTIME="${FUZZTIME:-100000x}" ./scripts/fuzz.sh
