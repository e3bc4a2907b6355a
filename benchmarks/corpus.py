"""Read every real chargemaster of ../shared/realdata/cdm (and its corpus/) and judge the reading.

    python benchmarks/corpus.py [--shared PATH] [--markdown]

Per file: sheet(s), header row, lines read, rows skipped by kind, the column of each role, and
a verdict against corpus/expect.json (the 30 corpus files) or the figures MANIFEST.md gives for
the seven files beside it. A file is right when:
- a chargemaster: the sheet and header row match, the lines read lie between `item_rows` and
  `max_rows` (or `data_rows`), and every role the expectation names is found on that column
  (charge code, description, revenue code: that column; CPT/HCPCS and modifiers: those columns;
  price: the first price column is the expected first, and every expected price column is read);
- not a chargemaster (and the print report): refused with one line (an input error), no
  traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chargemaster.errors import InputError  # noqa: E402
from chargemaster.fields import REVENUE_FIELDS, field_specs  # noqa: E402
from chargemaster.reader import read_table  # noqa: E402

# MANIFEST.md states these in prose; written out here as the same fields expect.json uses.
MANIFEST = [
    {
        "file": "ca_barton_memorial_2018_cdm.xlsx",
        "sheet": "Sheet1",
        "header_row": 1,
        "item_rows": 2493,
        "data_rows": 2493,
        "columns": {
            "charge_code": "A",
            "description": "B",
            "cpt_hcpcs": ["C"],
            "rev_code": "D",
            "price": ["E"],
        },
    },
    {
        "file": "ca_los_robles_2018_cdm.xlsx",
        "sheet": "Sheet1",
        "header_row": 7,
        "item_rows": 37703,
        "data_rows": 37703,
        "columns": {
            "charge_code": "B",
            "description": "C",
            "rev_code": "D",
            "cpt_hcpcs": ["E", "F"],
            "price": ["G", "H"],
        },
    },
    {
        "file": "pa_hahnemann_2018_cdm.xlsx",
        "sheet": "All CDM Items",
        "header_row": 9,
        "item_rows": 7498,  # 7,629 rows with 131 section rows among them
        "data_rows": 7629,
        "columns": {
            "charge_code": None,
            "description": "C",
            "rev_code": ["F", "G"],
            "cpt_hcpcs": ["J"],
            "modifier": ["K"],
            "price": ["N"],
        },
    },
    {
        "file": "ca_healthsouth_modesto_2018_cdm.xls",
        "sheet": "HP2010B",
        "header_row": 5,
        "item_rows": 7083,
        "data_rows": 7083,
        "columns": {
            "charge_code": "D",
            "description": "E",
            "rev_code": ["F", "G"],
            "cpt_hcpcs": ["L"],
            "modifier": ["M"],
            "price": ["H"],
        },
    },
    {"file": "ca_del_amo_2018_cdm_print_report.xls", "not_a_cdm": True},
    {
        "file": "ca_uc_davis_2019_cdm.csv",
        "sheet": None,
        "header_row": 1,
        "item_rows": 13528,
        "data_rows": 13528,
        "columns": {
            "charge_code": "B",
            "description": "C",
            "cpt_hcpcs": ["D"],
            "price": ["E", "F"],
        },
    },
    {
        "file": "tx_md_anderson_2018_hospital_charges.csv",
        "sheet": None,
        "header_row": 4,
        "item_rows": 2375,
        "data_rows": 2375,
        "columns": {"description": "D", "cpt_hcpcs": ["C"], "price": ["E"]},
    },
]

ROLE_FIELDS = {
    "charge_code": ["charge_code"],
    "description": ["description"],
    "rev_code": list(REVENUE_FIELDS),
    "cpt_hcpcs": ["hcpcs"],
    "modifier": ["modifiers"],
    "price": ["price"],
}


def found_letters(table, role: str) -> list[str]:
    cols = [c for f in ROLE_FIELDS[role] for c in table.fields.get(f, [])]
    return sorted({table.letters[c] for c in cols}, key=lambda s: (len(s), s))


def judge(exp: dict, table, error: str | None) -> tuple[bool, list[str]]:
    why: list[str] = []
    if exp.get("not_a_cdm"):
        if error is None:
            return False, ["read, but it is not a chargemaster"]
        return True, ["refused"]
    if error is not None:
        return False, [error]
    if (exp.get("sheet") or "") != (table.sheet or ""):
        why.append(f"sheet {table.sheet!r} != {exp.get('sheet')!r}")
    if exp["header_row"] != table.header_row:
        why.append(f"header {table.header_row} != {exp['header_row']}")
    low = exp.get("item_rows") or exp["data_rows"]
    high = exp.get("max_rows") or exp["data_rows"]
    if not low <= len(table.data) <= high:
        why.append(f"lines {len(table.data):,} not in {low:,}..{high:,}")
    for role, want in exp.get("columns", {}).items():
        if want in (None, []):
            continue
        got = found_letters(table, role)
        want_list = want if isinstance(want, list) else [want]
        if role == "price":
            first = table.letters[table.fields["price"][0]] if table.fields.get("price") else None
            ok = first == want_list[0] and set(want_list) <= set(got)
        else:
            ok = got == sorted(want_list, key=lambda s: (len(s), s))
        if not ok:
            why.append(f"{role} {','.join(got) or '-'} != {','.join(want_list)}")
    return not why, why


def run(shared: Path, markdown: bool) -> int:
    cdm = shared / "realdata" / "cdm"
    expectations = [(cdm / e["file"], e) for e in MANIFEST]
    expectations += [
        (cdm / "corpus" / e["file"], e)
        for e in json.loads((cdm / "corpus" / "expect.json").read_text())
    ]
    specs = field_specs("chargemaster")
    head = [
        "file",
        "sheet",
        "hdr",
        "lines",
        "skipped by kind",
        "cc",
        "desc",
        "rev",
        "cpt",
        "mod",
        "price",
        "other parts",
        "s",
        "verdict",
    ]
    rows = []
    right = 0
    for path, exp in expectations:
        t0 = time.perf_counter()
        table, error = None, None
        try:
            table = read_table(path, specs)
        except InputError as exc:
            error = str(exc).replace(str(path) + ": ", "")
        ok, why = judge(exp, table, error)
        right += ok
        secs = time.perf_counter() - t0
        if table is None:
            cells = [path.name, "", "", "", "", "", "", "", "", "", "", "", f"{secs:.1f}"]
            cells.append(("right: " if ok else "WRONG: ") + (error or "")[:110])
        else:
            skipped = ", ".join(f"{k} {v:,}" for k, v in table.skipped.items()) or "-"
            parts = ", ".join(f"{p.grid.sheet} ({p.lines:,})" for p in table.parts) or "-"
            cells = [
                path.name,
                table.sheet or "(text)",
                str(table.header_row),
                f"{len(table.data):,}",
                skipped,
                *(
                    ",".join(found_letters(table, r)) or "-"
                    for r in ("charge_code", "description", "rev_code", "cpt_hcpcs")
                ),
                ",".join(found_letters(table, "modifier")) or "-",
                ",".join(found_letters(table, "price")) or "-",
                parts,
                f"{secs:.1f}",
                "right" if ok else "WRONG: " + "; ".join(why),
            ]
        rows.append(cells)
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(c.replace("|", "/") for c in r) + " |")
    else:
        for r in rows:
            print("  ".join(r))
    print(f"\n{right}/{len(rows)} right")
    return 0 if right == len(rows) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parent.parent.parent / "shared"
    parser.add_argument("--shared", type=Path, default=default)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    return run(args.shared, args.markdown)


if __name__ == "__main__":
    raise SystemExit(main())
