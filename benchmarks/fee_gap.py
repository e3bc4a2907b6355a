"""Lines priced below Medicare on the real chargemasters: the table in README.md.

Runs each chargemaster of ../shared/realdata/cdm (not the Del Amo print report, which the tool
refuses) with the shared CLFS and one OPPS Addendum B release, and prints per file the lines
below Medicare and the total gap per unit, split by schedule.

    python benchmarks/fee_gap.py                                   # as of 2026-04-01, April 2026
    python benchmarks/fee_gap.py --as-of 2025-05-01 --addendum-b OPPS_AddendumB_2023_January.xlsx
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's chargemaster, not an installed one

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
    args = parser.parse_args()
    hcpcs = REAL / "hcpcs"
    as_of = dt.date.fromisoformat(args.as_of)
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
        lab = below["source"].str.startswith("CLFS")
        column = below["price_column"].iloc[0] if len(below) else ""
        print(
            f"| {name} | {column} | {len(below):,} | ${below['gap'].sum():,.2f} "
            f"| {int(lab.sum()):,} / ${below['gap'][lab].sum():,.2f} "
            f"| {int((~lab).sum()):,} / ${below['gap'][~lab].sum():,.2f} "
            f"| {below['hcpcs'].nunique():,} |"
        )


if __name__ == "__main__":
    main()
