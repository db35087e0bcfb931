#!/usr/bin/env bash
# The project's one test command, on a fresh machine or in CI:
#   bash tests/run.sh
# installs what the tests need (scripts/install-tools.sh), then runs, in order:
# formatting, lints, every test of the workspace (the AWS adapter and end-to-end tests
# start their own AWS emulator, moto's server, on a free loopback port; point
# AWS_ENDPOINT_URL at LocalStack to run them there instead), `sam validate --lint`, and
# a type-check of the fuzz targets, and a Lambda build of one function (skip it with
# OMS_SKIP_LAMBDA_BUILD=1).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "tools"
bash scripts/install-tools.sh

step "format"
cargo fmt --all --check

step "lint"
cargo clippy --workspace --all-targets --all-features --quiet -- -D warnings

step "tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --all-features --no-fail-fast 2>&1 | tee "$log"
passed=$(grep -Eo '^test result: [a-z]+\. [0-9]+ passed' "$log" | awk '{s += $4} END {print s + 0}')
failed=$(grep -Eo '^test result: .* [0-9]+ failed' "$log" | grep -Eo '[0-9]+ failed' | awk '{s += $1} END {print s + 0}')

step "fuzz targets (type-check on stable; run them with cargo +nightly fuzz)"
cargo check --quiet --manifest-path shared/channels/fuzz/Cargo.toml --bins --target-dir target/fuzz-check

step "template"
bash scripts/validate-template.sh

if [[ "${OMS_SKIP_LAMBDA_BUILD:-}" != 1 ]]; then
    step "lambda build (one function, x86_64)"
    bash scripts/build-lambdas.sh --x86-64 --only ingest-order
fi

printf '\n%s passed, %s failed\n' "$passed" "$failed"
