#!/usr/bin/env bash
# Builds the Lambda functions (every workspace member under functions/) with cargo lambda,
# for Lambda's provided.al2023 runtime, then prints each bootstrap's size and flags any
# over 8 MB. One `cargo lambda build` for all of them, so shared crates compile once.
#
# Usage: scripts/build-lambdas.sh [options] [-- extra cargo lambda build args]
#   --arm64            build for Graviton (the default; what infra/template.yaml deploys)
#   --x86-64           build for x86_64
#   --arch ARCH        arm64 | aarch64 | x86_64 | x86-64
#   --only NAME        build only this function (crate folder or package name); repeatable,
#                      or comma-separated
#   --debug            debug profile instead of --release
#   --sizes-only       build nothing; report the sizes of the bootstraps already built
#   --dry-run          print the cargo lambda command instead of running it
#   --list             print the function names and exit
#   -h, --help         this help
#
# Cross-compiling needs zig (PyPI `ziglang`, which cargo-lambda brings) and the target's
# rust-std (`rustup target add aarch64-unknown-linux-gnu`): scripts/install-tools.sh.
# Binaries land in <target dir>/lambda/<binary>/bootstrap, where SAM's rust-cargolambda
# build also takes them from.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LIMIT_BYTES=$((8 * 1024 * 1024))

usage() { sed -n '2,/^set -euo/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { printf 'build-lambdas: %s\n' "$*" >&2; exit 2; }

arch=arm64
profile=release
only=()
sizes_only=0
dry_run=0
list_only=0
extra=()

while (($#)); do
    case "$1" in
        --arm64) arch=arm64 ;;
        --x86-64|--x86_64) arch=x86_64 ;;
        --arch)
            (($# >= 2)) || die "--arch needs a value (arm64 or x86_64)"
            shift
            case "$1" in
                arm64|aarch64) arch=arm64 ;;
                x86_64|x86-64|amd64) arch=x86_64 ;;
                *) die "unknown architecture '$1' (arm64 or x86_64)" ;;
            esac ;;
        --arch=*) set -- --arch "${1#--arch=}" "${@:2}"; continue ;;
        --only)
            (($# >= 2)) || die "--only needs a function name"
            shift
            IFS=, read -r -a names <<<"$1"
            only+=("${names[@]}") ;;
        --only=*) set -- --only "${1#--only=}" "${@:2}"; continue ;;
        --debug) profile=debug ;;
        --release) profile=release ;;
        --sizes-only) sizes_only=1 ;;
        --dry-run) dry_run=1 ;;
        --list) list_only=1 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; extra=("$@"); break ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done

cd "$ROOT"

# The function packages and their binaries, from cargo's own view of the workspace:
# lines of "<crate folder> <package> <binary>" plus one "TARGET_DIR <path>" line.
metadata=$(cargo metadata --no-deps --format-version 1 --manifest-path "$ROOT/Cargo.toml") \
    || die "cargo metadata failed: is Cargo.toml a valid workspace?"
table=$(python3 -c '
import json, os, sys
meta = json.load(sys.stdin)
functions = os.path.join(sys.argv[1], "functions") + os.sep
print("TARGET_DIR", meta["target_directory"])
for pkg in sorted(meta["packages"], key=lambda p: p["name"]):
    manifest = pkg["manifest_path"]
    if not manifest.startswith(functions):
        continue
    folder = os.path.relpath(os.path.dirname(manifest), functions)
    for target in pkg["targets"]:
        if "bin" in target["kind"]:
            print(folder, pkg["name"], target["name"])
' "$ROOT" <<<"$metadata")

target_dir=$(awk '$1 == "TARGET_DIR" { $1 = ""; sub(/^ /, ""); print }' <<<"$table")
mapfile -t rows < <(grep -v '^TARGET_DIR ' <<<"$table" || true)

if ((${#rows[@]} == 0)); then
    printf 'build-lambdas: no function crates under functions/ are workspace members yet\n' >&2
    exit 1
fi

# Select the binaries to build.
selected=()
for name in "${only[@]+"${only[@]}"}"; do
    [[ -n "$name" ]] || continue
    found=0
    for row in "${rows[@]}"; do
        read -r folder pkg bin <<<"$row"
        if [[ "$name" == "$folder" || "$name" == "$pkg" || "$name" == "$bin" ]]; then
            selected+=("$bin"); found=1
        fi
    done
    ((found)) || die "no function named '$name' (known: $(printf '%s\n' "${rows[@]}" | awk '{print $1}' | sort -u | paste -sd ' '))"
done
if ((${#selected[@]} == 0)); then
    for row in "${rows[@]}"; do read -r _ _ bin <<<"$row"; selected+=("$bin"); done
fi
mapfile -t selected < <(printf '%s\n' "${selected[@]}" | sort -u)

if ((list_only)); then
    printf '%s\n' "${rows[@]}" | awk '{print $1}' | sort -u
    exit 0
fi

# Build.
if ((!sizes_only)); then
    cmd=(cargo lambda build)
    [[ "$profile" == release ]] && cmd+=(--release)
    if [[ "$arch" == arm64 ]]; then cmd+=(--arm64); else cmd+=(--x86-64); fi
    for bin in "${selected[@]}"; do cmd+=(--bin "$bin"); done
    cmd+=("${extra[@]+"${extra[@]}"}")
    if ((dry_run)); then
        printf '%q ' "${cmd[@]}"; printf '\n'
        exit 0
    fi
    printf 'build-lambdas: %s\n' "${cmd[*]}"
    "${cmd[@]}"
fi

# Report sizes.
human() { awk -v b="$1" 'BEGIN { if (b >= 1048576) printf "%.1f MB", b / 1048576; else printf "%.0f KB", b / 1024 }'; }
missing=0
oversize=0
printf '\n%-20s %10s  %s\n' FUNCTION SIZE BOOTSTRAP
for bin in "${selected[@]}"; do
    path="$target_dir/lambda/$bin/bootstrap"
    if [[ ! -f "$path" ]]; then
        printf '%-20s %10s  %s\n' "$bin" missing "$path"
        missing=$((missing + 1))
        continue
    fi
    bytes=$(stat -c %s "$path")
    flag=""
    if ((bytes > LIMIT_BYTES)); then flag="  <-- OVER 8 MB"; oversize=$((oversize + 1)); fi
    printf '%-20s %10s  %s%s\n' "$bin" "$(human "$bytes")" "${path#"$ROOT"/}" "$flag"
done

if ((oversize)); then
    printf '\nbuild-lambdas: %d bootstrap(s) over 8 MB: cold starts grow with size (check features, lto, strip)\n' "$oversize" >&2
fi
if ((missing)); then
    printf '\nbuild-lambdas: %d bootstrap(s) missing\n' "$missing" >&2
    exit 1
fi
