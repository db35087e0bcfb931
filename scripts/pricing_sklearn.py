#!/usr/bin/env python3
"""scikit-learn's LinearRegression, Ridge, Lasso and DecisionTreeRegressor on the same
train/test CSVs as `oms retrain`, for the benchmark (scripts/bench-pricing.sh).

Every model fits the log of the unit price, as ours do, and is scored in price units on
the test file. The features are the plain reading of the same columns: hour, weekday,
month, day of month, days since the first training row, quantity and its log, and the
categories (SKU, province, city, customer): one-hot for the linear models (sparse),
ordinal codes for the tree. It also writes the tree's training matrix (features, then
the target) so our tree can be timed on exactly the same rows (`oms bench tree`).

    python3 scripts/pricing_sklearn.py DIR   # DIR holds train.csv and test.csv
"""

import json
import os
import sys
import time

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.linear_model import Lasso, LinearRegression, Ridge
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.tree import DecisionTreeRegressor

CATEGORIES = ["sku", "province", "city", "customer_id"]
TREE = dict(max_depth=14, min_samples_leaf=5)


def numeric(frame, origin):
    at = pd.to_datetime(frame["purchased_at"], utc=True)
    return np.column_stack(
        [
            at.dt.hour,
            at.dt.day_of_week,
            at.dt.month,
            at.dt.day,
            (at - origin).dt.total_seconds() / 86400.0,
            frame["quantity"],
            np.log(frame["quantity"]),
        ]
    ).astype(float)


def main():
    directory = sys.argv[1]
    train = pd.read_csv(os.path.join(directory, "train.csv"), dtype={"customer_id": str, "sku": str})
    test = pd.read_csv(os.path.join(directory, "test.csv"), dtype={"customer_id": str, "sku": str})
    for frame in (train, test):
        frame["city"] = frame["province"] + "/" + frame["city"]
    origin = pd.to_datetime(train["purchased_at"], utc=True).min()
    y = np.log(train["unit_price"].to_numpy())
    paid = test["unit_price"].to_numpy()

    scaler = StandardScaler().fit(numeric(train, origin))
    onehot = OneHotEncoder(handle_unknown="ignore").fit(train[CATEGORIES])
    linear_x = lambda frame: sparse.hstack([scaler.transform(numeric(frame, origin)), onehot.transform(frame[CATEGORIES])]).tocsr()
    ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1).fit(train[CATEGORIES])
    tree_x = lambda frame: np.column_stack([numeric(frame, origin), ordinal.transform(frame[CATEGORIES])])

    results = {}
    models = [
        ("LinearRegression", LinearRegression(), linear_x),
        ("Ridge", Ridge(alpha=1.0), linear_x),
        ("Lasso", Lasso(alpha=1e-4, max_iter=2000), linear_x),
        ("DecisionTreeRegressor", DecisionTreeRegressor(random_state=0, **TREE), tree_x),
    ]
    for name, model, features in models:
        x_train, x_test = features(train), features(test)
        started = time.perf_counter()
        model.fit(x_train, y)
        seconds = time.perf_counter() - started
        predicted = np.exp(model.predict(x_test))
        rmse = float(np.sqrt(np.mean((predicted - paid) ** 2)))
        results[name] = dict(rmse=rmse, fit_seconds=seconds)
        print(f"  sklearn {name:<22} test RMSE {rmse:10.4f}   fit {seconds:8.2f} s", flush=True)

    matrix = np.column_stack([tree_x(train), y])
    header = ",".join(["hour", "weekday", "month", "day", "trend", "quantity", "ln_quantity"] + CATEGORIES + ["ln_price"])
    np.savetxt(os.path.join(directory, "tree_matrix.csv"), matrix, delimiter=",", header=header, comments="", fmt="%.9g")
    with open(os.path.join(directory, "sklearn.json"), "w") as out:
        json.dump(dict(results=results, tree=TREE, train_rows=len(train), test_rows=len(test)), out, indent=2)


if __name__ == "__main__":
    main()
