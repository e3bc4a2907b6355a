"""Generate realistic synthetic chargemasters for the benchmarks (10k, 100k, 1M lines).

The shape and mess of the real files in ../shared/realdata/cdm: a title block, a department mix
(lab, radiology, CT, MRI, imaging, pharmacy, supplies, room and board, ER, clinic), revenue
codes that lost their zero (stored as numbers in the xlsx), fixed-width padded codes, a few
percent malformed, local and deleted codes, uncoded ancillary lines that a code map codes,
repeated HCPCS at different prices.

Run:  python benchmarks/generate.py 100000 [--out benchmarks/out]
Writes cdm_<n>.xlsx, cdm_<n>.csv and codemap_<n>.csv.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import xlsxwriter

HEADERS = [
    "Dept",
    "Charge Code",
    "Charge Description",
    "Rev Code",
    "CPT/HCPCS",
    "Modifier",
    "Price IP",
    "Price OP",
    "Status",
]
# department, revenue codes, code pool, description stem, share of lines
MIX = [
    ("LAB", ["0300", "0301", "0302", "0305", "0306", "0310", "0311"], "lab", "LAB TEST", 0.30),
    ("RADIOLOGY", ["0320", "0324"], "rad", "XR STUDY", 0.08),
    ("CT", ["0350", "0351", "0352"], "rad", "CT SCAN", 0.03),
    ("MRI", ["0610", "0611", "0612"], "rad", "MRI SCAN", 0.02),
    ("ULTRASOUND", ["0402"], "rad", "US EXAM", 0.03),
    ("PHARMACY", ["0250"], "none", "ORAL MED TAB", 0.18),
    ("PHARMACY", ["0636"], "drug", "INJ DRUG", 0.10),
    ("SUPPLY", ["0270", "0272", "0278"], "supply", "SUPPLY ITEM", 0.21),
    ("NURSING", ["0110", "0120"], "none", "ROOM AND BOARD", 0.01),
    ("EMERGENCY", ["0450"], "em", "ED VISIT LEVEL", 0.01),
    ("CLINIC", ["0510"], "em", "CLINIC VISIT", 0.03),
]
POOLS = {
    "lab": [f"{c}" for c in range(80047, 89398, 7)] + ["36415", "0001U", "0002M", "G0480"],
    "rad": [f"{c}" for c in range(70010, 79999, 11)],
    "drug": ["J1885", "J2405", "J1100", "J3490", "J2250", "J0696", "J1170", "J2270", "J9999"],
    "supply": ["A4649", "C1713", "C1776", "L8699", "A4206", "C1874", "X3908"],
    "em": ["99281", "99282", "99283", "99284", "99285", "99211", "99212", "99213", "G0463"],
    "none": [""],
}
DELETED = ["G0202", "G0204", "G8978", "77059", "74241", "99201"]
MALFORMED = ["8502", "85025, 85027", "99213-Office Visit", "J12345", "303263"]


def build(n: int, seed: int = 11):
    rng = np.random.default_rng(seed)
    shares = np.array([m[4] for m in MIX])
    kinds = rng.choice(len(MIX), size=n, p=shares / shares.sum())
    rows, map_rows = [], []
    prices = {}
    for i, k in enumerate(kinds):
        dept, revs, pool_name, stem, _ = MIX[k]
        code = str(30000000 + i)
        rev = revs[int(rng.integers(len(revs)))]
        pool = POOLS[pool_name]
        hcpcs = pool[int(rng.integers(len(pool)))]
        roll = rng.random()
        if pool_name in ("lab", "rad") and roll < 0.06:  # uncoded: the map codes most of them
            if roll < 0.05:
                map_rows.append([code, hcpcs, ""])
            hcpcs = ""
        elif roll < 0.08:
            hcpcs = "0" + hcpcs.ljust(9) if hcpcs else hcpcs  # fixed-width export
        elif roll < 0.09:
            hcpcs = MALFORMED[int(rng.integers(len(MALFORMED)))]
        elif roll < 0.10:
            hcpcs = DELETED[int(rng.integers(len(DELETED)))]
        base = prices.setdefault(hcpcs, round(float(rng.uniform(5, 4000)), 2))
        price = base if rng.random() < 0.8 else round(base * float(rng.uniform(0.8, 1.3)), 2)
        if rng.random() < 0.003:
            price = 99999.99
        mod = ""
        if pool_name == "rad" and rng.random() < 0.05:
            mod = ["RT", "LT", "26", "TC", "RT LT"][int(rng.integers(5))]
        three = rng.random() < 0.3  # lost its leading zero
        rev_value = int(rev) if three else rev
        status = "I" if rng.random() < 0.02 else "A"
        desc = f"{stem} {i % 997:03d} {dept}"
        rows.append([dept, code, desc, rev_value, hcpcs, mod, price, price, status])
    return rows, map_rows


def write(n: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows, map_rows = build(n)
    title = [
        ["Synthetic Health System - Chargemaster Detail (BENCHMARK DATA)"],
        ["Exported from the patient accounting system"],
        [],
    ]
    book = xlsxwriter.Workbook(
        str(out / f"cdm_{n}.xlsx"),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    ws = book.add_worksheet("CDM")
    r = 0
    for t in title:
        ws.write_row(r, 0, t)
        r += 1
    ws.write_row(r, 0, HEADERS)
    for row in rows:
        r += 1
        ws.write_row(r, 0, row)
    book.close()
    with (out / f"cdm_{n}.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerows(title)
        w.writerow(HEADERS)
        w.writerows(rows)
    with (out / f"codemap_{n}.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Charge Code", "HCPCS", "Modifier"])
        w.writerows(map_rows)
    print(f"{n:,} lines -> {out}/cdm_{n}.xlsx, cdm_{n}.csv; {len(map_rows):,} code map entries")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", type=int)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    for size in args.sizes:
        write(size, args.out)
