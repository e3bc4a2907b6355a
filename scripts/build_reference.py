"""Build the reference code sets bundled in chargemaster/data/ from public files.

Sources (all in ../shared/realdata/hcpcs/, see its MANIFEST.md):
- HCPC2020_OCT_ANWEB.xlsx: the complete CMS alpha-numeric HCPCS file, October 2020, with add,
  effective and termination dates and cross-references (public domain, CMS).
- HCPC2025_JUL_ANWEB_v3_reduced.xlsx: the July 2025 CMS file cut to code, RECID and long
  description (no dates): codes added since 2020 and current long descriptions.
- HCPC2025_JUL_NOC_codes.xlsx: the CMS list of not-otherwise-classified codes, July 2025.
- ub04_revenue_codes_tuva.csv: UB-04 revenue codes, transcribed by the Tuva project (Apache-2.0).

Run from the project root:  python scripts/build_reference.py [path/to/shared/realdata/hcpcs]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from chargemaster.normalize import clean_text
from chargemaster.reader import read_grids
from chargemaster.reference import _frame, _header_index, read_cms_hcpcs

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "chargemaster" / "data"


def iso(s: pd.Series) -> pd.Series:
    return s.dt.strftime("%Y-%m-%d").where(s.notna(), "")


def main(src: Path) -> None:
    level2, mods, _, _ = read_cms_hcpcs(src / "HCPC2020_OCT_ANWEB.xlsx")
    new2, newmods, _, _ = read_cms_hcpcs(src / "HCPC2025_JUL_ANWEB_v3_reduced.xlsx")
    # Codes of the 2025 file that 2020 lacks were added between the two: add date unknown.
    added = new2.index.difference(level2.index)
    level2 = pd.concat([level2, new2.loc[added]])
    level2["long_description"] = (
        new2["long_description"].reindex(level2.index).fillna(level2["long_description"])
    )
    added_mods = newmods.index.difference(mods.index)
    mods = pd.concat([mods, newmods.loc[added_mods]])
    # The October 2020 file lists every code valid that quarter (and those terminated since
    # 2014): a code it lacks was not valid on its first day, whatever the later add date.
    level2["absent_through"] = pd.NaT
    level2.loc[added, "absent_through"] = pd.Timestamp("2020-10-01")
    cols = ["add_date", "term_date", "absent_through", "xref", "short_description"]
    out2 = level2[[*cols, "long_description"]].copy()
    for col in ("add_date", "term_date", "absent_through"):
        out2[col] = iso(out2[col])
    out2.sort_index().to_csv(
        OUT / "hcpcs_level2.csv.gz", index_label="code", compression={"method": "gzip", "mtime": 0}
    )
    outm = mods[["add_date", "term_date", "long_description"]].copy()
    outm["add_date"], outm["term_date"] = iso(outm["add_date"]), iso(outm["term_date"])
    outm.sort_index().to_csv(OUT / "hcpcs_modifiers.csv", index_label="modifier")

    grid = read_grids(src / "HCPC2025_JUL_NOC_codes.xlsx")[0]
    noc = _frame(grid, _header_index(grid, {"hcpcs", "longdescription"}))
    noc = pd.DataFrame(
        {"code": clean_text(noc["hcpcs"]), "long_description": clean_text(noc["longdescription"])}
    ).dropna()
    noc.drop_duplicates("code").sort_values("code").to_csv(OUT / "hcpcs_noc.csv", index=False)

    rev = pd.read_csv(src / "ub04_revenue_codes_tuva.csv", dtype="str", keep_default_na=False)
    rev = rev[rev["revenue_center_code"].str.fullmatch(r"\d{4}")]
    rev = rev.rename(
        columns={"revenue_center_code": "code", "revenue_center_description": "description"}
    )
    rev.sort_values("code").to_csv(OUT / "revenue_codes.csv", index=False)

    release = {
        "hcpcs": {
            "kind": "HCPCS Level II",
            "name": "CMS HCPCS 2025-07 (dates as of 2020-10)",
            "source": "bundled: HCPC2020_OCT_ANWEB.xlsx + HCPC2025_JUL_ANWEB codes",
            "start": "2025-07-01",
            "valid_through": "2025-09-30",
        },
        "modifiers": {
            "kind": "HCPCS modifiers",
            "name": "CMS HCPCS 2025-07 Level II + CPT list",
            "source": "bundled: HCPC2020_OCT_ANWEB.xlsx + HCPC2025_JUL_ANWEB codes",
            "start": "2025-07-01",
            "valid_through": "2025-09-30",
        },
        "revenue": {
            "kind": "UB-04 revenue codes",
            "name": "NUBC list as transcribed by Tuva",
            "source": "bundled: ub04_revenue_codes_tuva.csv (Apache-2.0)",
        },
        "noc": {
            "kind": "NOC codes",
            "name": "CMS NOC list 2025-07",
            "source": "bundled: HCPC2025_JUL_NOC_codes.xlsx",
        },
    }
    (OUT / "release.json").write_text(json.dumps(release, indent=2) + "\n")
    print(
        f"level II {len(out2):,} ({len(added):,} added after 2020-10), modifiers {len(outm):,}, "
        f"NOC {len(noc):,}, revenue codes {len(rev):,}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/realdata/hcpcs")
