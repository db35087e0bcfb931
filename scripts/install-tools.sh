#!/usr/bin/env bash
# Installs the tools the project needs beyond Rust itself, on a Debian machine that
# already has rustup, cargo and Python 3 with pip. Idempotent: whatever is already
# there is left alone, so a second run takes a second or two.
#
#   moto[server]   AWS emulator (DynamoDB, SQS, S3) for the adapter and end-to-end tests
#   aws-sam-cli    sam validate / build / deploy of infra/template.yaml (brings cfn-lint)
#   cargo-lambda   cross-builds the Lambda binaries; its PyPI package brings zig
#                  (the `ziglang` package), which cargo-lambda uses as the cross linker
#   rust-std for aarch64- and x86_64-unknown-linux-gnu (rustup), the Lambda targets
#   redis-server   the Redis Lua baseline of `oms bench flash-sale` (Debian's package, apt)
#   chromium       headless browser for the tracking page's test, tests/tests/lookup_page.rs
#                  (Debian's package, apt)
#
# Everything comes from PyPI, rustup's own distribution server and Debian's archive (only
# redis-server and chromium, and only when apt-get can run); no Docker needed.
# Usage: scripts/install-tools.sh [--no-targets]
set -euo pipefail

want_targets=1
for arg in "$@"; do
    case "$arg" in
        --no-targets) want_targets=0 ;;
        -h|--help) sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install-tools: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

say() { printf 'install-tools: %s\n' "$*"; }

PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || { say "$PYTHON not found"; exit 1; }

# --- Python packages --------------------------------------------------------------
# A distribution counts as present when its metadata is installed (fast: no imports).
have_dist() {
    "$PYTHON" - "$@" <<'EOF'
import sys
from importlib.metadata import distribution, PackageNotFoundError
try:
    for name in sys.argv[1:]:
        distribution(name)
except PackageNotFoundError:
    sys.exit(1)
EOF
}

pip_missing=()
# moto's [server] extra is flask and flask-cors.
have_dist moto flask flask-cors || pip_missing+=('moto[server]')
{ have_dist aws-sam-cli && command -v sam >/dev/null; } || pip_missing+=(aws-sam-cli)
{ have_dist cargo-lambda && command -v cargo-lambda >/dev/null; } || pip_missing+=(cargo-lambda)

if ((${#pip_missing[@]})); then
    say "pip install ${pip_missing[*]}"
    # Quiet, but keep pip's cache: a re-install on the same machine is then offline-fast.
    "$PYTHON" -m pip install --quiet --disable-pip-version-check "${pip_missing[@]}"
    # pyenv only sees new console scripts (sam, cargo-lambda, moto_server) after a rehash.
    if command -v pyenv >/dev/null; then pyenv rehash; fi
    hash -r
else
    say "moto[server], aws-sam-cli and cargo-lambda already installed"
fi

# cargo-lambda cross-links with zig: the PyPI cargo-lambda depends on `ziglang`, which it
# runs as `python3 -m ziglang`. Install it on its own if it went missing.
if ! command -v zig >/dev/null && ! "$PYTHON" -m ziglang version >/dev/null 2>&1; then
    say "pip install ziglang"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check ziglang
fi

say "$(sam --version)"
say "$(cargo lambda --version)"
say "zig $(command -v zig >/dev/null && zig version || "$PYTHON" -m ziglang version)"

# --- Rust targets -----------------------------------------------------------------
if ((want_targets)); then
    if ! command -v rustup >/dev/null; then
        say "rustup not found: add the targets aarch64-unknown-linux-gnu and x86_64-unknown-linux-gnu yourself"
    else
        installed=$(rustup target list --installed)
        for target in aarch64-unknown-linux-gnu x86_64-unknown-linux-gnu; do
            if grep -qx "$target" <<<"$installed"; then
                say "rust target $target already installed"
            elif rustup target add "$target" >/dev/null 2>&1; then
                say "rust target $target installed"
            else
                # Not fatal: the other architecture can still be built (scripts/build-lambdas.sh).
                say "WARNING: 'rustup target add $target' failed (no access to rustup's server?);"
                say "         cargo lambda cannot build for $target until it succeeds"
            fi
        done
    fi
fi

# --- redis-server (the flash-sale benchmark's baseline) -----------------------------
if command -v redis-server >/dev/null; then
    say "$(redis-server --version | cut -d' ' -f1-3) already installed"
elif command -v apt-get >/dev/null && { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null; }; then
    as_root=(); [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    say "apt-get install redis-server"
    if "${as_root[@]}" apt-get install -y -qq redis-server >/dev/null 2>&1 \
        || { "${as_root[@]}" apt-get update -qq >/dev/null 2>&1 && "${as_root[@]}" apt-get install -y -qq redis-server >/dev/null 2>&1; }; then
        # The package starts a system service; the benchmark starts its own on a free port.
        say "$(redis-server --version | cut -d' ' -f1-3) installed"
    else
        say "WARNING: redis-server could not be installed; oms bench flash-sale will say so and skip Redis"
    fi
else
    say "WARNING: no apt-get (or no root): install redis-server yourself for oms bench flash-sale's baseline"
fi

# --- chromium (the tracking page's browser test) -------------------------------------
if command -v chromium >/dev/null; then
    say "$(chromium --version 2>/dev/null | head -n1) already installed"
elif command -v apt-get >/dev/null && { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null; }; then
    as_root=(); [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    say "apt-get install chromium"
    if "${as_root[@]}" apt-get install -y -qq chromium >/dev/null 2>&1 \
        || { "${as_root[@]}" apt-get update -qq >/dev/null 2>&1 && "${as_root[@]}" apt-get install -y -qq chromium >/dev/null 2>&1; }; then
        say "$(chromium --version 2>/dev/null | head -n1) installed"
    else
        say "WARNING: chromium could not be installed; the tracking page's browser test will print SKIPPED"
    fi
else
    say "WARNING: no apt-get (or no root): install chromium yourself for the tracking page's browser test"
fi

say "done"
