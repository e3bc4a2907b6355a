"""Lines priced below Medicare on the real chargemasters: the table in README.md.

Runs each chargemaster of ../shared/realdata/cdm (not the Del Amo print report, which the tool
refuses) with the shared CLFS and one OPPS Addendum B release, and prints per file the lines
below Medicare and the total gap per unit, split by schedule.

    python benchmarks/fee_gap.py                                   # as of 2026-04-01, April 2026
    python benchmarks/fee_gap.py --as-of 2025-05-01 --addendum-b OPPS_AddendumB_2023_January.xlsx
    python benchmarks/fee_gap.py --labels          # + precision of the labels, new samples

PRICE-BELOW-FEE-SCHEDULE needs a fee schedule, which benchmarks/precision.py does not load (it
runs Addendum B as a code set, one release per CDM year), so its labels are measured here, in
these runs: `--labels` prints the labels of benchmarks/labels/price_below_fee_schedule.csv whose
finding still fires (n, right, wrong, debatable, precision with debatable counting half, and
those gone) and appends unlabelled findings (fixed seed, one file after another, precision.py's
sampler) until `--per-rule` labels fire. `--cache DIR` keeps the runs' findings.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's chargemaster, not an installed one

from precision import (  # noqa: E402  (benchmarks/ is on sys.path: the script's folder)
    COLUMNS,
    keyed,
    label_path,
    read_labels,
    report,
    sample,
    text,
)

from chargemaster.feeschedule import RULE  # noqa: E402
from chargemaster.pipeline import RunOptions, run  # noqa: E402

REAL = ROOT.parent / "shared" / "realdata"
FILES = [
    "ca_barton_memorial_2018_cdm.xlsx",
    "ca_los_robles_2018_cdm.xlsx",
    "pa_hahnemann_2018_cdm.xlsx",
    "ca_healthsouth_modesto_2018_cdm.xls",
    "ca_uc_davis_2019_cdm.csv",
    "tx_md_anderson_2018_hospital_charges.csv",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", default="2026-04-01")
    parser.add_argument("--addendum-b", default="OPPS_AddendumB_2026_April_softek.csv")
    parser.add_argument("--clfs", default="CLFS_2025_Q2.csv")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--labels", action="store_true", help="precision of the labels, sample")
    parser.add_argument("--per-rule", type=int, default=25, help="firing labels to reach")
    parser.add_argument("--cache", type=Path, help="keep (or reuse) the runs' findings here")
    parser.add_argument("--context", type=Path, help="write the labelled lines' context (CSV)")
    args = parser.parse_args()
    hcpcs = REAL / "hcpcs"
    as_of = dt.date.fromisoformat(args.as_of)
    cached = args.cache / "fee_findings.pkl" if args.cache else None
    if cached is not None and cached.exists():
        findings = pd.read_pickle(cached)
        print(f"findings from {cached} (delete it after a code change)")
    else:
        findings = table(args, hcpcs, as_of)
        if cached is not None:
            args.cache.mkdir(parents=True, exist_ok=True)
            findings.to_pickle(cached)
    if args.labels:
        label(findings, args.per_rule, args.context)


def table(args, hcpcs: Path, as_of: dt.date) -> pd.DataFrame:
    """Print the table; return the runs' PRICE-BELOW-FEE-SCHEDULE findings with each line's
    description, codes and price (what a labeller reads beside the source file)."""
    found = []
    print(
        "| file | price compared | below Medicare | total gap | CLFS lines / gap "
        "| OPPS lines / gap | codes |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in FILES:
        result = run(
            RunOptions(
                REAL / "cdm" / name,
                config=args.config,
                as_of=as_of,
                addendum_b=hcpcs / args.addendum_b,
                clfs=(hcpcs / args.clfs,),
            )
        )
        below = result.below_fee
        f = result.findings
        f = f[f["rule"].eq(RULE)].copy()
        ctx = result.lines.frame.reindex(pd.to_numeric(f["row"], errors="coerce"))
        for col in ("description", "revenue_code", "coded_hcpcs", "coded_modifiers"):
            f[f"line_{col}"] = ctx[col].to_numpy()
        found.append(f.assign(file=name))
        lab = below["source"].str.startswith("CLFS")
        column = below["price_column"].iloc[0] if len(below) else ""
        print(
            f"| {name} | {column} | {len(below):,} | ${below['gap'].sum():,.2f} "
            f"| {int(lab.sum()):,} / ${below['gap'][lab].sum():,.2f} "
            f"| {int((~lab).sum()):,} / ${below['gap'][~lab].sum():,.2f} "
            f"| {below['hcpcs'].nunique():,} |"
        )
    return pd.concat(found, ignore_index=True)


def label(findings: pd.DataFrame, per_rule: int, context: Path | None) -> None:
    """Sample unlabelled findings into the label file, then print the precision of the labels
    whose finding still fires in these runs."""
    old = read_labels(RULE)
    live = set(keyed(findings))
    if len(old):  # a sampled row nobody labelled, whose finding is gone, is dropped
        old = old[old["label"].ne("") | keyed(old).isin(live)]
    new = sample(findings, RULE, per_rule, set(keyed(old)) if len(old) else set())
    rows = new.assign(label="", reason="")
    rows["row"] = rows["row"].map(lambda r: text(r).removesuffix(".0"))
    rows = rows[COLUMNS].map(text)
    merged = pd.concat([old, rows], ignore_index=True) if len(old) else rows
    merged.to_csv(label_path(RULE), index=False, quoting=csv.QUOTE_MINIMAL)
    print(f"{len(rows)} new findings sampled into {label_path(RULE).relative_to(ROOT)}")
    if context is not None:
        keys = set(keyed(merged))
        hits = findings[keyed(findings).isin(keys)]
        cols = ["file", "row", "value", "suggested", "charge_code", "line_description"]
        cols += ["line_revenue_code", "line_coded_hcpcs", "line_coded_modifiers", "message"]
        hits[cols].to_csv(context, index=False)
    scores = report(findings)
    scores = scores[scores["rule"].eq(RULE)]
    print(scores.to_string(index=False) if len(scores) else f"no {RULE} labels yet")


if __name__ == "__main__":
    main()
