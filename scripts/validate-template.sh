#!/usr/bin/env bash
# Checks the deployment files offline, with no AWS account or credentials:
#   1. `sam validate --lint` on infra/template.yaml: the SAM transform, then cfn-lint;
#      any error or warning fails it.
#   2. cfn-lint with the informational checks too (stateful resources without explicit
#      deletion policies, queues without explicit retention, ...): must be clean as well.
#   3. every function is granted exactly what its code calls, no wildcard
#      (scripts/check-iam.py);
#   3b. samconfig.toml parses and names infra/template.yaml for build and validate.
#   4. Every sample event in infra/events/ is valid JSON.
#   5. Every function's CodeUri is a crate folder (a note while the crates are being
#      written; an error with --strict).
# Usage: scripts/validate-template.sh [--strict]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEMPLATE=infra/template.yaml
strict=0
for arg in "$@"; do
    case "$arg" in
        --strict) strict=1 ;;
        -h|--help) sed -n '2,/^set -euo/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "validate-template: unknown argument: $arg" >&2; exit 2 ;;
    esac
done
cd "$ROOT"

# Linting needs a region (cfn-lint checks resource types against it) but no credentials.
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
export AWS_REGION=${AWS_REGION:-$AWS_DEFAULT_REGION}
# No telemetry calls from an offline machine or CI.
export SAM_CLI_TELEMETRY=0

command -v sam >/dev/null || { echo "validate-template: sam not found: run scripts/install-tools.sh" >&2; exit 1; }

echo "== sam validate --lint --template $TEMPLATE"
sam validate --lint --template "$TEMPLATE" --region "$AWS_DEFAULT_REGION"

echo "== cfn-lint --include-checks I $TEMPLATE"
cfn-lint --regions "$AWS_DEFAULT_REGION" --include-checks I -- "$TEMPLATE"
echo "no findings"

echo "== least privilege (scripts/check-iam.py)"
python3 scripts/check-iam.py "$TEMPLATE"

echo "== samconfig.toml and infra/events/*.json"
python3 - "$TEMPLATE" <<'EOF'
import glob, json, sys, tomllib

template = sys.argv[1]
with open("samconfig.toml", "rb") as f:
    config = tomllib.load(f)
default = config.get("default", {})
for command in ("build", "validate"):
    named = default.get(command, {}).get("parameters", {}).get("template_file")
    if named != template:
        sys.exit(f"samconfig.toml: [default.{command}.parameters] template_file is {named!r}, not {template!r}")
if "template_file" in default.get("global", {}).get("parameters", {}):
    sys.exit("samconfig.toml: template_file must not be global: sam deploy would deploy the unbuilt template")
print("samconfig.toml ok")

events = sorted(glob.glob("infra/events/*.json"))
for path in events:
    with open(path) as f:
        try:
            json.load(f)
        except json.JSONDecodeError as e:
            sys.exit(f"{path}: not valid JSON: {e}")
print(f"{len(events)} sample events ok")
EOF

echo "== function crates"
missing=0
while read -r uri; do
    dir="infra/$uri"
    if [[ -f "$dir/Cargo.toml" ]]; then
        echo "ok    $uri"
    else
        echo "note  $uri has no Cargo.toml yet"
        missing=$((missing + 1))
    fi
done < <(sed -n 's/^ *CodeUri: *//p' "$TEMPLATE")
if ((missing && strict)); then
    echo "validate-template: $missing function crate(s) missing" >&2
    exit 1
fi

echo "validate-template: clean"
