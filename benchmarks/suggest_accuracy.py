"""How often the suggester finds the code a hospital actually used.

For each real chargemaster in ../shared/realdata/cdm (with OPPS Addendum B April 2026 loaded),
hide the code of every active ancillary line that carries a valid one, suggest, and count how
often the hidden code is the first candidate (top-1) or among the three (top-3): overall and for
lab, radiology and Level II lines; plus the time per 1,000 lines.

Run:  python benchmarks/suggest_accuracy.py [path/to/shared/realdata]
"""

import datetime as dt
import sys
import time
from pathlib import Path

import pandas as pd

from chargemaster.pipeline import RunOptions, run
from chargemaster.refcheck import code_status
from chargemaster.rules import code_family
from chargemaster.suggest import Suggester, local_index, reference_catalog

REAL = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[2] / "shared/realdata"
ADDENDUM_B = REAL / "hcpcs" / "OPPS_AddendumB_2026_April_softek.csv"
AS_OF = dt.date(2026, 4, 1)
FILES = [
    "ca_barton_memorial_2018_cdm.xlsx",
    "ca_los_robles_2018_cdm.xlsx",
    "pa_hahnemann_2018_cdm.xlsx",
    "ca_healthsouth_modesto_2018_cdm.xls",
    "ca_uc_davis_2019_cdm.csv",
    "tx_md_anderson_2018_hospital_charges.csv",
]

totals = []
for name in FILES:
    result = run(RunOptions(REAL / "cdm" / name, addendum_b=ADDENDUM_B, as_of=AS_OF))
    frame, ref, config = result.lines.frame, result.reference, result.config
    code = frame["coded_hcpcs"]
    status = code_status(code, ref, AS_OF)
    valid = status["known"].fillna(False).astype(bool) & ~status["deleted"]
    hidden = (
        frame["active"] & frame["ancillary"] & code.notna() & valid & frame["description"].notna()
    )
    known = frame[~hidden & code.notna() & valid & frame["description"].notna()]
    suggester = Suggester(reference_catalog(ref, config, AS_OF), config, local_index(known))
    rows = frame[hidden]
    started = time.perf_counter()
    items = [
        (d, None if pd.isna(f) else f)
        for d, f in zip(rows["description"], rows["family"], strict=True)
    ]
    results = suggester.candidates_many(items)
    for truth, cands in zip(rows["coded_hcpcs"], results, strict=True):
        codes = [c for c, _, _ in cands]
        totals.append(
            {"file": name, "truth": truth, "top1": codes[:1] == [truth], "top3": truth in codes}
        )
    seconds = time.perf_counter() - started
    n = len(rows)
    print(f"{name}: {n:,} lines, {seconds / max(n, 1) * 1000:.2f} s per 1,000 lines")

df = pd.DataFrame(totals)
df["kind"] = code_family(df["truth"].astype("str"), config.code_families).fillna("other")
df.loc[df["truth"].str.fullmatch(r"[A-Z]\d{4}"), "kind"] = "level II"


def line(label, part):
    return (
        f"{label:<10} n={len(part):>6,}  top-1 {part['top1'].mean():.3f}  "
        f"top-3 {part['top3'].mean():.3f}"
    )


print(line("overall", df))
for kind in ("lab", "radiology", "level II", "drugs", "other"):
    part = df[df["kind"].eq(kind)]
    if len(part):
        print(line(kind, part))
