#!/usr/bin/env bash
# Runs the AWS path once, end to end, through cargo-lambda's local Lambda emulator
# (`cargo lambda watch`) and moto's server, with the sample events of infra/events:
#
#   inventory      PUT /warehouses/wh-hz-1        (derived from apigw-http-put-inventory.json)
#   inventory      PUT /inventory/wh-hz-1/SKU-1   (apigw-http-put-inventory.json): on_hand 100, owned by m-1
#   ingest-order   POST /channels/generic/orders  (apigw-http-generic-order.json): 202, order_id
#   relay-outbox   the order's outbox item as the table's stream would hand it (the
#                  emulator's table has no stream: the items are scanned and shaped as
#                  dynamodb-stream-outbox.json): its message onto the allocate queue
#   allocate       the allocate queue's message, as an SQS event: no batch item failures
#   relay-outbox   the plan's outbox item: its message onto the reserve queue
#   reserve-stock  the reserve queue's message, as an SQS event: no batch item failures
#   ingest-order   GET /orders/{id}               (apigw-http-get-order.json): "reserved"
#
# Each function runs as a real Lambda process: it polls the runtime API of `cargo lambda
# watch`, which `cargo lambda invoke` feeds. At the end it prints each function's init
# (cold start) time: from the moment the process is started to its first poll of the
# runtime API (watch's debug log "processing request", stamped as it arrives), and the
# wall time of each `cargo lambda invoke`.
#
# Usage: scripts/lambda-local.sh [options]
#   (no options)       watch starts each function itself (`cargo run --bin <fn>`: debug
#                      builds in the workspace's target dir, built first by this script);
#                      init is timed from cargo's "Running `target/debug/<fn>`" line
#   --bootstraps DIR   run every function from DIR/<fn>/bootstrap instead (for example the
#                      x86_64 release builds of `scripts/build-lambdas.sh --x86-64`, DIR =
#                      target/lambda), started by this script against `cargo lambda watch
#                      --only-lambda-apis`; init is timed from the exec of the bootstrap
#   --keep             keep the work directory (logs, events, answers) after a success
#   -h, --help         this help
#
# Needs cargo-lambda, moto's server (`pip install 'moto[server]'`) and python3
# (scripts/install-tools.sh installs them); SQS is read with the AWS CLI when it is on PATH,
# else with boto3 (which moto brings). Nothing outside its own moto is touched: dummy
# credentials, AWS_ENDPOINT_URL pointing at it. Timeouts (seconds, from the environment):
# LAMBDA_LOCAL_BUILD_TIMEOUT (default 1800), LAMBDA_LOCAL_INVOKE_TIMEOUT (default 300),
# LAMBDA_LOCAL_START_TIMEOUT (default 60). Exits non-zero on the first failed step.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_TIMEOUT=${LAMBDA_LOCAL_BUILD_TIMEOUT:-1800}
INVOKE_TIMEOUT=${LAMBDA_LOCAL_INVOKE_TIMEOUT:-300}
START_TIMEOUT=${LAMBDA_LOCAL_START_TIMEOUT:-60}
SAMPLE_SECRET=oms-sample-generic-secret # what infra/events/apigw-http-generic-order.json is signed with
FUNCTIONS=(inventory ingest-order relay-outbox allocate reserve-stock)

usage() { sed -n '2,/^set -euo/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { printf 'lambda-local: %s\n' "$*" >&2; exit 2; }

bootstraps=""
keep=0
while (($#)); do
    case "$1" in
        --bootstraps)
            (($# >= 2)) || die "--bootstraps needs a directory (such as target/lambda)"
            shift; bootstraps=$1 ;;
        --bootstraps=*) bootstraps=${1#--bootstraps=} ;;
        --keep) keep=1 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done

for tool in cargo python3 timeout setsid ps; do
    command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
cargo lambda --version >/dev/null 2>&1 || die "cargo-lambda is not installed (scripts/install-tools.sh)"
command -v moto_server >/dev/null || die "moto_server is not on PATH: pip install 'moto[server]' (scripts/install-tools.sh)"
if [[ -n "$bootstraps" ]]; then
    [[ "$bootstraps" == /* ]] || bootstraps="$PWD/$bootstraps"
    for fn in "${FUNCTIONS[@]}"; do
        [[ -x "$bootstraps/$fn/bootstrap" ]] \
            || die "no $bootstraps/$fn/bootstrap: build it with scripts/build-lambdas.sh --x86-64 --only $(IFS=,; echo "${FUNCTIONS[*]}")"
        # An arm64 bootstrap cannot run on an x86_64 machine (and the other way round).
        machine=$(python3 -c 'import sys; h = open(sys.argv[1], "rb").read(20); print({62: "x86_64", 183: "aarch64"}.get(int.from_bytes(h[18:20], "little"), "other") if h[:4] == b"\x7fELF" else "not-elf")' "$bootstraps/$fn/bootstrap")
        [[ "$machine" == "$(uname -m)" ]] \
            || die "$bootstraps/$fn/bootstrap is built for $machine, this machine is $(uname -m): build it with scripts/build-lambdas.sh --x86-64 --only $fn"
    done
fi

cd "$ROOT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/oms-lambda-local.XXXXXX")
export NO_COLOR=1 CARGO_TERM_COLOR=never

# ---------------------------------------------------------------------------------------
# Background processes: each in its own session (setsid), so it and its children can be
# stopped by process group; whatever a process spawned in a group of its own (watch runs
# each function under watchexec) is found through the process tree first.
bg_pids=()
ok=0

descendants() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        printf '%s\n' "$child"
        descendants "$child"
    done
}

stop_all() {
    local pid all=() i
    for ((i = ${#bg_pids[@]} - 1; i >= 0; i--)); do
        pid=${bg_pids[i]}
        all+=("$pid")
        mapfile -t -O "${#all[@]}" all < <(descendants "$pid")
    done
    for pid in "${bg_pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for pid in "${all[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 50); do
        local alive=0
        for pid in "${all[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${bg_pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    for pid in "${all[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    bg_pids=()
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_all
    if ((ok && !keep)); then
        rm -rf "$WORK"
    else
        printf 'lambda-local: logs, events and answers kept in %s\n' "$WORK" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n==> %s\n' "$*"; }
fail() {
    printf '\nlambda-local: FAILED: %s\n' "$*" >&2
    for log in "$WORK"/watch.log "$WORK"/moto.log "$WORK"/fn-*.log; do
        [[ -s "$log" ]] || continue
        printf -- '--- last lines of %s ---\n' "$log" >&2
        tail -n 25 "$log" >&2
    done
    exit 1
}

# port_open PORT: something listens on 127.0.0.1:PORT.
port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' port-check "$1"; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for WHAT SECONDS PID COMMAND...: runs COMMAND until it succeeds; fails after SECONDS
# or as soon as the background process PID has died.
wait_for() {
    local what=$1 seconds=$2 pid=$3
    shift 3
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || fail "$what exited before it was ready"
        ((SECONDS < deadline)) || fail "$what was not ready within ${seconds}s"
        sleep 0.2
    done
}

# Copies stdin to stdout, each line prefixed with the epoch time it arrived at (µs).
stamp_lines() {
    local line
    while IFS= read -r line || [[ -n "$line" ]]; do
        printf '%s %s\n' "$EPOCHREALTIME" "$line"
    done
}
export -f stamp_lines

# ---------------------------------------------------------------------------------------
# JSON: the events are derived from infra/events and the answers checked with python3.
cat >"$WORK/events.py" <<'PY'
import base64, hashlib, json, os, sys, time

def load(path):
    with open(path) as f:
        return json.load(f)

def save(obj, path):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)

def warehouse_event(src, out):
    """PUT /warehouses/wh-hz-1 from the sample PUT /inventory event: the warehouse it counts."""
    e = load(src)
    e["rawPath"] = e["requestContext"]["http"]["path"] = "/warehouses/wh-hz-1"
    e["routeKey"] = e["requestContext"]["routeKey"] = "PUT /warehouses/{id}"
    e["pathParameters"] = {"id": "wh-hz-1"}
    e["body"] = json.dumps({"name": "Hangzhou 1", "merchant_id": "m-1", "province": "Zhejiang",
                            "city": "Hangzhou", "lat": 30.2, "lon": 120.1}, separators=(",", ":"))
    e["headers"]["content-length"] = str(len(e["body"]))
    save(e, out)

def get_order_event(src, order_id, out):
    e = load(src)
    e["rawPath"] = e["requestContext"]["http"]["path"] = f"/orders/{order_id}"
    e["pathParameters"] = {"id": order_id}
    save(e, out)

def http_answer(path, status, *checks):
    """Checks an API Gateway v2 answer's status and body fields (key=value); prints the body."""
    a = load(path)
    if not isinstance(a, dict) or "statusCode" not in a:
        sys.exit(f"not an API Gateway answer: {json.dumps(a)[:500]}")
    body = a.get("body") or ""
    if a.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        doc = body
    print(f"    {a['statusCode']} {json.dumps(doc)[:300]}")
    if a["statusCode"] != int(status):
        sys.exit(f"expected status {status}, got {a['statusCode']}")
    for check in checks:
        key, _, want = check.partition("=")
        got = doc.get(key) if isinstance(doc, dict) else None
        if want == "?":
            if not got:
                sys.exit(f"the answer has no {key}")
        elif str(got) != want:
            sys.exit(f"expected {key} = {want}, got {got!r}")

def field(path, key):
    a = load(path)
    body = a.get("body") or ""
    if a.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    print(json.loads(body)[key])

def sqs_event(template, received, queue_url, out):
    """An SQS event as Lambda's event source mapping builds it, from ReceiveMessage's answer."""
    rec0 = load(template)["Records"][0]
    got = load(received) if received != "-" else {"Messages": []}
    name = queue_url.rstrip("/").rsplit("/", 1)[-1]
    records = []
    for m in got.get("Messages") or []:
        attrs = m.get("Attributes") or {}
        now = str(int(time.time() * 1000))
        records.append({
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {
                "ApproximateReceiveCount": attrs.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": attrs.get("SentTimestamp", now),
                "SenderId": attrs.get("SenderId", rec0["attributes"]["SenderId"]),
                "ApproximateFirstReceiveTimestamp": attrs.get("ApproximateFirstReceiveTimestamp", now),
            },
            "messageAttributes": {},
            "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{rec0['awsRegion']}:123456789012:{name}",
            "awsRegion": rec0["awsRegion"],
        })
    save({"Records": records}, out)
    for r in records:
        print(f"    message {r['messageId']}: {r['body']}")
    with open(out + ".count", "w") as f:
        print(len(records), file=f)

def receive_boto3(queue_url, out):
    import boto3
    sqs = boto3.client("sqs")
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2,
                              AttributeNames=["All"])
    save({"Messages": got.get("Messages", [])}, out)

def delete_boto3(queue_url, event):
    import boto3
    sqs = boto3.client("sqs")
    for r in load(event)["Records"]:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=r["receiptHandle"])

def receipt_handles(event):
    for r in load(event)["Records"]:
        print(r["receiptHandle"])

def bodies_name(event, order_id):
    """Every message of the event is about the order (its body names it)."""
    for r in load(event)["Records"]:
        if json.loads(r["body"]).get("order_id") != order_id:
            sys.exit(f"a message is not about {order_id}: {r['body']}")

def outbox_event(template, scanned, seen_path, out):
    """The outbox items not relayed yet, as INSERT records of the table's stream."""
    record = load(template)["Records"][0]
    seen = set(load(seen_path)) if os.path.exists(seen_path) else set()
    records = []
    for item in load(scanned).get("Items", []):
        pk = item["pk"]["S"]
        if pk in seen:
            continue
        seen.add(pk)
        r = json.loads(json.dumps(record))
        r["dynamodb"]["Keys"] = {"pk": item["pk"], "sk": item["sk"]}
        r["dynamodb"]["NewImage"] = item
        r["dynamodb"]["SequenceNumber"] = str(len(seen)).zfill(21)
        r["eventID"] = f"local-{len(seen)}"
        records.append(r)
    save(sorted(seen), seen_path)
    save({"Records": records}, out)
    with open(out + ".count", "w") as f:
        f.write(str(len(records)))

def scan_boto3(table, out):
    import boto3
    client = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    items = client.scan(TableName=table, FilterExpression="begins_with(pk, :p)",
                        ExpressionAttributeValues={":p": {"S": "OUTBOX#"}}).get("Items", [])
    save({"Items": items}, out)

def batch_answer(path):
    a = load(path)
    print(f"    {json.dumps(a)[:300]}")
    if not isinstance(a, dict) or "batchItemFailures" not in a:
        sys.exit("not an SQS batch response")
    if a["batchItemFailures"]:
        sys.exit(f"batch item failures: {a['batchItemFailures']}")

globals()[sys.argv[1].replace("-", "_")](*sys.argv[2:])
PY
ev() { python3 "$WORK/events.py" "$@"; }

# ---------------------------------------------------------------------------------------
step "building the provisioning example and the functions (debug, workspace target dir)"
build() {
    printf '    cargo %s\n' "$*"
    timeout "$BUILD_TIMEOUT" cargo "$@" >>"$WORK/build.log" 2>&1 \
        || { tail -n 30 "$WORK/build.log" >&2; fail "cargo $* failed (or took over ${BUILD_TIMEOUT}s)"; }
}
build build -p oms-aws --features provision --example provision
if [[ -z "$bootstraps" ]]; then
    # One `cargo build --bin` each, exactly as watch's `cargo run --bin <fn>` will build
    # them, so the invokes find them fresh.
    for fn in "${FUNCTIONS[@]}"; do build build --bin "$fn"; done
fi

step "starting moto's server"
moto_port=$(free_port)
setsid moto_server -H 127.0.0.1 -p "$moto_port" >"$WORK/moto.log" 2>&1 &
bg_pids+=($!)
wait_for "moto_server" "$START_TIMEOUT" "${bg_pids[-1]}" port_open "$moto_port"
echo "    moto on http://127.0.0.1:$moto_port"

export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE

step "creating the table, queues, bucket and channel secrets (shared/aws/examples/provision.rs)"
# The sample webhook's secret goes into the Secrets Manager secret ingest-order reads.
export OMS_CHANNEL_SECRET_GENERIC=$SAMPLE_SECRET
exports=$(timeout 120 "$ROOT/target/debug/examples/provision" local 2>"$WORK/provision.err") \
    || { cat "$WORK/provision.err" >&2; fail "provisioning failed"; }
eval "$exports"
for var in OMS_TABLE OMS_ALLOCATE_QUEUE_URL OMS_RESERVE_QUEUE_URL OMS_OUTBOUND_QUEUE_URL OMS_BUCKET OMS_CHANNEL_SECRETS_ARN; do
    [[ -n "${!var:-}" ]] || fail "the provisioning example printed no $var"
    printf '    %s=%s\n' "$var" "${!var}"
done
export RUST_LOG=${RUST_LOG:-info}

step "starting cargo lambda watch"
watch_port=$(free_port)
watch_args=(lambda watch --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$watch_port")
[[ -n "$bootstraps" ]] && watch_args+=(--only-lambda-apis)
echo "    cargo ${watch_args[*]}"
# watch's debug log says "processing request" when a function takes an invocation; the
# functions it starts inherit this RUST_LOG, where only that one target is at debug.
RUST_LOG="$RUST_LOG,cargo_lambda_watch=debug" setsid bash -c 'cargo "$@" 2>&1 | stamp_lines' lambda-watch "${watch_args[@]}" >"$WORK/watch.log" 2>&1 &
bg_pids+=($!)
watch_pid=${bg_pids[-1]}
wait_for "cargo lambda watch" "$START_TIMEOUT" "$watch_pid" port_open "$watch_port"
echo "    invoke server on 127.0.0.1:$watch_port"

# With --bootstraps, this script starts each function: the runtime API of the function
# named <fn> is $runtime_api/<fn>, the path watch itself gives the functions it starts.
runtime_api="http://127.0.0.1:$watch_port/.rt"
declare -A started=() fn_pids=()
start_bootstrap() {
    local fn=$1 seen=$2 deadline=$((SECONDS + 30))
    [[ -n "$bootstraps" && -z "${started[$fn]:-}" ]] || return 0
    started[$fn]=1
    # Only once watch holds the invocation: the first poll then finds it, and marks the end
    # of init rather than the arrival of the invocation.
    until (($(grep -c "invocation received function_name=$fn\b" "$WORK/watch.log") > seen)); do
        ((SECONDS < deadline)) || fail "watch did not receive the invocation of $fn within 30 s"
        sleep 0.01
    done
    # The subshell writes its time, then becomes the bootstrap (exec): that time is its start.
    setsid bash -c 'printf "%s\n" "$EPOCHREALTIME" >"$1"; shift; exec "$@"' start \
        "$WORK/exec-$fn.time" env AWS_LAMBDA_RUNTIME_API="$runtime_api/$fn" AWS_LAMBDA_FUNCTION_NAME="$fn" \
        AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=4096 \
        "$bootstraps/$fn/bootstrap" >"$WORK/fn-$fn.log" 2>&1 &
    bg_pids+=($!)
    fn_pids[$fn]=$!
}

# invoke FN EVENT ANSWER: `cargo lambda invoke`, timed; the answer (JSON) lands in ANSWER.
declare -A invoke_ms=()
invoke() {
    local fn=$1 event=$2 answer=$3 t0 t1 ms
    local seen
    seen=$(grep -c "invocation received function_name=$fn\b" "$WORK/watch.log" || true)
    t0=$EPOCHREALTIME
    cargo lambda invoke "$fn" --invoke-address 127.0.0.1 --invoke-port "$watch_port" \
        --data-file "$event" --output-format json >"$answer" 2>"$answer.err" &
    local invoke_pid=$!
    start_bootstrap "$fn" "$seen"
    local deadline=$((SECONDS + INVOKE_TIMEOUT))
    while kill -0 "$invoke_pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            kill "$invoke_pid" 2>/dev/null || true
            fail "cargo lambda invoke $fn did not answer within ${INVOKE_TIMEOUT}s"
        fi
        kill -0 "$watch_pid" 2>/dev/null || fail "cargo lambda watch exited"
        [[ -z "${fn_pids[$fn]:-}" ]] || kill -0 "${fn_pids[$fn]}" 2>/dev/null || fail "the $fn bootstrap exited (see $WORK/fn-$fn.log)"
        sleep 0.05
    done
    wait "$invoke_pid" || { cat "$answer.err" "$answer" >&2; fail "cargo lambda invoke $fn failed"; }
    t1=$EPOCHREALTIME
    ms=$(((${t1/[.,]/} - ${t0/[.,]/}) / 1000))
    invoke_ms[$fn]="${invoke_ms[$fn]:+${invoke_ms[$fn]} }$ms"
    printf '    invoke %s: %s ms\n' "$fn" "$ms"
}

# receive QUEUE_URL OUT: the waiting messages as an SQS event (retries for up to 30 s).
receive() {
    local url=$1 out=$2 raw="$2.received" count deadline=$((SECONDS + 30))
    while :; do
        if command -v aws >/dev/null; then
            timeout 60 aws sqs receive-message --endpoint-url "$AWS_ENDPOINT_URL" --queue-url "$url" \
                --max-number-of-messages 10 --wait-time-seconds 2 --attribute-names All --output json \
                >"$raw" 2>"$raw.err" || { cat "$raw.err" >&2; fail "aws sqs receive-message failed"; }
            [[ -s "$raw" ]] || echo '{}' >"$raw"
        else
            timeout 60 python3 "$WORK/events.py" receive-boto3 "$url" "$raw" \
                || fail "receiving from $url with boto3 failed"
        fi
        ev sqs-event infra/events/sqs-allocate.json "$raw" "$url" "$out" || fail "cannot read what $url answered"
        count=$(cat "$out.count")
        ((count > 0)) && return 0
        ((SECONDS < deadline)) || fail "no message on $url within 30 s"
    done
}

# delete QUEUE_URL EVENT: what Lambda's event source does after a batch without failures.
delete() {
    local url=$1 event=$2 handle
    if command -v aws >/dev/null; then
        while IFS= read -r handle; do
            timeout 60 aws sqs delete-message --endpoint-url "$AWS_ENDPOINT_URL" --queue-url "$url" \
                --receipt-handle "$handle" || fail "aws sqs delete-message failed"
        done < <(ev receipt-handles "$event")
    else
        timeout 60 python3 "$WORK/events.py" delete-boto3 "$url" "$event" || fail "deleting from $url failed"
    fi
}

SQS_CLIENT=$(command -v aws >/dev/null && echo "the AWS CLI" || echo "boto3")

# relay OUT: the outbox items written since the last relay, handed to relay-outbox as the
# table's stream would hand them (the emulator's table has no stream).
relay() {
    local out=$1 scanned="$1.scanned"
    if command -v aws >/dev/null; then
        timeout 60 aws dynamodb scan --endpoint-url "$AWS_ENDPOINT_URL" --table-name "$OMS_TABLE" \
            --filter-expression "begins_with(pk, :p)" --expression-attribute-values '{":p":{"S":"OUTBOX#"}}' \
            --output json >"$scanned" 2>"$scanned.err" || { cat "$scanned.err" >&2; fail "aws dynamodb scan failed"; }
    else
        timeout 60 python3 "$WORK/events.py" scan-boto3 "$OMS_TABLE" "$scanned" || fail "scanning the outbox failed"
    fi
    ev outbox-event infra/events/dynamodb-stream-outbox.json "$scanned" "$WORK/relayed.json" "$out" \
        || fail "cannot shape the outbox items as a stream event"
    (($(cat "$out.count") > 0)) || fail "no outbox item to relay"
    invoke relay-outbox "$out" "$out.answer.json"
    ev batch-answer "$out.answer.json" || fail "relay-outbox"
}

# ---------------------------------------------------------------------------------------
step "inventory: PUT /warehouses/wh-hz-1 (registers the sample event's warehouse)"
ev warehouse-event infra/events/apigw-http-put-inventory.json "$WORK/put-warehouse.json"
invoke inventory "$WORK/put-warehouse.json" "$WORK/put-warehouse.answer.json"
ev http-answer "$WORK/put-warehouse.answer.json" 200 || fail "PUT /warehouses/wh-hz-1"

step "inventory: PUT /inventory/wh-hz-1/SKU-1 (infra/events/apigw-http-put-inventory.json)"
invoke inventory infra/events/apigw-http-put-inventory.json "$WORK/put-inventory.answer.json"
ev http-answer "$WORK/put-inventory.answer.json" 200 on_hand=100 || fail "PUT /inventory/wh-hz-1/SKU-1"

step "ingest-order: POST /channels/generic/orders (infra/events/apigw-http-generic-order.json)"
invoke ingest-order infra/events/apigw-http-generic-order.json "$WORK/order.answer.json"
ev http-answer "$WORK/order.answer.json" 202 order_id=? status=received || fail "POST /channels/generic/orders"
order_id=$(ev field "$WORK/order.answer.json" order_id)
echo "    order $order_id"

step "relay-outbox: the order's outbox item, as the table's stream hands it"
relay "$WORK/relay-order.json"

step "allocate: the allocate queue's message (received with $SQS_CLIENT) as an SQS event"
receive "$OMS_ALLOCATE_QUEUE_URL" "$WORK/allocate-event.json"
ev bodies-name "$WORK/allocate-event.json" "$order_id" || fail "the allocate queue"
invoke allocate "$WORK/allocate-event.json" "$WORK/allocate.answer.json"
ev batch-answer "$WORK/allocate.answer.json" || fail "allocate"
delete "$OMS_ALLOCATE_QUEUE_URL" "$WORK/allocate-event.json"

step "relay-outbox: the plan's outbox item"
relay "$WORK/relay-plan.json"

step "reserve-stock: the reserve queue's message as an SQS event"
receive "$OMS_RESERVE_QUEUE_URL" "$WORK/reserve-event.json"
ev bodies-name "$WORK/reserve-event.json" "$order_id" || fail "the reserve queue"
invoke reserve-stock "$WORK/reserve-event.json" "$WORK/reserve.answer.json"
ev batch-answer "$WORK/reserve.answer.json" || fail "reserve-stock"
delete "$OMS_RESERVE_QUEUE_URL" "$WORK/reserve-event.json"

step "ingest-order: GET /orders/$order_id (infra/events/apigw-http-get-order.json)"
ev get-order-event infra/events/apigw-http-get-order.json "$order_id" "$WORK/get-order.json"
invoke ingest-order "$WORK/get-order.json" "$WORK/get-order.answer.json"
ev http-answer "$WORK/get-order.answer.json" 200 status=reserved || fail "GET /orders/$order_id"

# ---------------------------------------------------------------------------------------
step "init (cold start) times"
python3 - "$WORK" "${bootstraps:+bootstraps}" "${FUNCTIONS[@]}" <<'PY' || fail "cannot read the init times"
import os, re, sys
work, mode, functions = sys.argv[1], sys.argv[2], sys.argv[3:]
ansi = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
lines = []
with open(os.path.join(work, "watch.log"), errors="replace") as f:
    for raw in f:
        stamp, _, text = raw.rstrip("\n").partition(" ")
        try:
            lines.append((float(stamp.replace(",", ".")), ansi.sub("", text)))
        except ValueError:
            pass
print(f"    {'function':<15} {'init':>9}   from")
for fn in functions:
    if mode:
        with open(os.path.join(work, f"exec-{fn}.time")) as f:
            start, origin = float(f.read().strip().replace(",", ".")), "exec of the bootstrap"
    else:
        running = [t for t, text in lines if re.search(r"Running `[^`]*[/\\]" + re.escape(fn) + r"`", text)]
        if not running:
            sys.exit(f"no cargo 'Running' line for {fn} in watch.log")
        start, origin = running[0], "cargo's Running line"
    polls = [t for t, text in lines if "processing request" in text and re.search(r'function="?' + re.escape(fn) + r'\b', text) and t >= start]
    if not polls:
        sys.exit(f"no 'processing request' line for {fn} in watch.log")
    print(f"    {fn:<15} {round((polls[0] - start) * 1000):>6} ms   {origin} -> first runtime API poll")
PY
printf '\n    %-15s %s\n' "function" "invoke wall times, ms (first = cold; cargo lambda invoke's own start-up included)"
for fn in "${FUNCTIONS[@]}"; do printf '    %-15s %s\n' "$fn" "${invoke_ms[$fn]}"; done

ok=1
printf '\nlambda-local: the AWS path works through cargo lambda: order %s is reserved\n' "$order_id"
