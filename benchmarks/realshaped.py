"""Build real-shaped benchmark inputs by stacking the real chargemaster exports.

Synthetic lines flatter the tool: real exports bring codes stored as numbers (BIFF floats such as
`17115000.0`), 3-digit revenue codes, fixed-width padding (`'0G0379    '`), glued modifiers
(`73030TCRT`), placeholders (`0`, `BLANK`), section rows, `$1,508.15 ` prices and deleted codes,
and each of these costs the checks something. This stacks the exports of
`../shared/realdata/cdm/` (plus two corpus files that carry glued modifiers) under one header,
block after block, until the requested number of lines, and writes `.xlsx` or `.csv`.

- Every source is read with python_calamine (xlsx/xls) or the csv module, as the tool does.
  Values are kept as exported: a number cell is written back as a number (xlsx) or as the text
  an export shows for it (csv: `274.0` -> `274`); text stays text, padding included.
- Columns are mapped to one header by name, per source (below); where a source has several
  candidate columns (IP/OP prices, two HCPCS columns) the first non-blank one is taken, raw.
- Charge codes are made unique per copy: block b (b = 100, 101, ...) prefixes its 3 digits to
  every non-blank charge code, keeping the cell's type and any leading padding. Duplicates that
  a source itself has stay duplicates inside their block. Blank charge codes stay blank.
- Fully blank rows are dropped; section, footer and placeholder rows are kept as lines.

Deterministic: the same sources and arguments give byte-identical CSV and the same xlsx cells.

Run:  python benchmarks/realshaped.py 100000 out.xlsx
      python benchmarks/realshaped.py 1000000 out.csv
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout

# A CSV export shows a cell as the reader reads it back: one definition of that text.
from chargemaster.reader import cell_text  # noqa: E402

HERE = Path(__file__).resolve().parent
REALDATA = HERE.parent.parent / "shared" / "realdata" / "cdm"

HEADER = ["Department", "Charge Code", "Description", "Rev Code", "HCPCS", "Modifier", "Price"]
HEADER += ["Status"]


@dataclass(frozen=True)
class Source:
    path: str  # relative to realdata/cdm
    sheet: str | None  # None: the first sheet (or a CSV file)
    header_row: int  # 1-based
    columns: dict[str, tuple[str, ...]]  # HEADER name -> source headers, first non-blank wins


# Header rows and sheets as documented in MANIFEST.md and corpus/CORPUS.md. Del Amo (a print
# report with no header row) is left out: the tool refuses it.
SOURCES = [
    Source(
        "ca_barton_memorial_2018_cdm.xlsx",
        None,
        1,
        {
            "Charge Code": ("EAP PROC CODE",),
            "Description": ("CODE DESCRIPTION",),
            "Rev Code": ("REV CODE",),
            "HCPCS": ("CPT",),
            "Price": ("UNIT CHARGE AMOUNT",),
        },
    ),
    Source(
        "ca_los_robles_2018_cdm.xlsx",
        None,
        7,
        {
            "Department": ("Chrg Dept",),
            "Charge Code": ("Chrg Code",),
            "Description": ("Chrg Bill Desc",),
            "Rev Code": ("Chrg Rev Code",),
            "HCPCS": ("Chrg CPT Code", "Chrg HCPCS Proc"),
            "Price": ("Chrg Amt IP", "Chrg Amt OP"),
        },
    ),
    Source(
        "pa_hahnemann_2018_cdm.xlsx",
        "All CDM Items",
        9,
        {
            # No charge-code column in this export (CC is a cost center): lines stay blank.
            "Department": ("DEPT",),
            "Description": ("TECHNICAL DESCRIPTION",),
            "Rev Code": ("OPREV", "IPREV"),
            "HCPCS": ("HCPCS",),
            "Modifier": ("MOD",),
            "Price": ("TOTAL CHARGE",),
            "Status": ("STATUS",),
        },
    ),
    Source(
        "ca_healthsouth_modesto_2018_cdm.xls",
        "HP2010B",
        5,
        {
            "Department": ("DEPT",),
            "Charge Code": ("CHARGE CODE",),
            "Description": ("DESCRIPTION",),
            "Rev Code": ("OP REV CODE", "IP REV CODE"),
            "HCPCS": ("CPT",),
            "Modifier": ("MODIFIERS",),
            "Price": ("PRICE",),
        },
    ),
    Source(
        "ca_uc_davis_2019_cdm.csv",
        None,
        1,
        {
            "Department": ("Category",),
            "Charge Code": ("Charge Code",),
            "Description": ("Charge Description",),
            "HCPCS": ("CPT/HCPCS Code",),
            "Price": (" Outpatient \nPrice ", " Inpatient \nPrice "),
        },
    ),
    Source(
        "tx_md_anderson_2018_hospital_charges.csv",
        None,
        4,
        {
            "Charge Code": ("List ID",),
            "Description": ("Procedure Name",),
            "HCPCS": ("CPT Code",),
            "Price": ("Unit Charge",),
        },
    ),
    Source(
        "corpus/ca_stanislaus_surgical_2018_cdm_all.xls",
        "Chargemaster",
        1,
        {
            "Charge Code": ("IVNUM",),
            "Description": ("IVDESC",),
            "Rev Code": ("IVREVCD",),
            "HCPCS": ("IVCPTCD",),
            "Price": ("IVPRICE1",),
        },
    ),
    Source(
        "corpus/ca_colorado_river_2018_cdm.csv",
        None,
        1,
        {
            "Charge Code": ("Item No.",),
            "Description": ("Item Description",),
            "HCPCS": ("CPT",),
            "Price": ("Price",),
        },
    ),
]

CODE = HEADER.index("Charge Code")


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_rows(root: Path, src: Source) -> list[list[Any]]:
    """The source's data rows as raw values, mapped onto HEADER."""
    path = root / src.path
    if path.suffix == ".csv":
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
        grid: list[list[Any]] = list(csv.reader(text.splitlines(keepends=True)))
    else:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_name(src.sheet or book.sheet_names[0])
        grid = sheet.to_python(skip_empty_area=False)
    header = [str(h) for h in grid[src.header_row - 1]]
    where = {}
    for name, candidates in src.columns.items():
        missing = [c for c in candidates if c not in header]
        if missing:
            raise SystemExit(f"{path}: header row {src.header_row} has no column {missing}")
        where[name] = [header.index(c) for c in candidates]
    rows = []
    for record in grid[src.header_row :]:
        out: list[Any] = [None] * len(HEADER)
        for name, indexes in where.items():
            for i in indexes:
                value = record[i] if i < len(record) else None
                if not blank(value):
                    out[HEADER.index(name)] = value
                    break
            else:  # all blank: keep the first one as exported ('' or padding)
                i = indexes[0]
                out[HEADER.index(name)] = record[i] if i < len(record) else None
        if any(not blank(v) for v in out):
            rows.append(out)
    return rows


def prefixed(code: Any, prefix: str) -> Any:
    """The charge code with the block's prefix; same cell type, same leading padding."""
    if blank(code):
        return code
    if isinstance(code, bool):
        return code
    if isinstance(code, int):
        return int(prefix + str(code))
    if isinstance(code, float):
        if code.is_integer():
            return float(prefix + str(int(code)))
        return prefix + repr(code)
    text = str(code)
    stripped = text.lstrip()
    return text[: len(text) - len(stripped)] + prefix + stripped


def lines(n: int, root: Path = REALDATA) -> Iterator[list[Any]]:
    """n stacked lines, block by block through SOURCES."""
    sources = [read_rows(root, s) for s in SOURCES]
    made = 0
    block = 100
    while made < n:
        for rows in sources:
            if block > 999:
                raise SystemExit("more than 900 blocks: the 3-digit prefix would repeat")
            prefix = str(block)
            block += 1
            for row in rows:
                if made >= n:
                    return
                out = list(row)
                out[CODE] = prefixed(out[CODE], prefix)
                yield out
                made += 1


def write_csv(path: Path, n: int, root: Path = REALDATA) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for row in lines(n, root):
            out.writerow([cell_text(v) for v in row])


def write_xlsx(path: Path, n: int, root: Path = REALDATA) -> None:
    import xlsxwriter

    # Fixed properties and constant memory: the same inputs give the same cells, and 1M lines
    # do not sit in memory twice.
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    wb.set_properties({"created": dt.datetime(2026, 1, 1)})
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("CDM")
    ws.write_row(0, 0, HEADER)
    for r, row in enumerate(lines(n, root), start=1):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                ws.write_string(r, c, value)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                ws.write_number(r, c, value)
            elif isinstance(value, dt.date | dt.datetime):
                ws.write_datetime(r, c, value, date_format)
            else:
                ws.write_string(r, c, str(value))
    wb.close()


def build(n: int, path: Path, root: Path = REALDATA) -> Path:
    """Write the input unless it is already there (the name carries n and the format)."""
    path = Path(path)
    if path.exists():
        return path
    if not (root / SOURCES[0].path).exists():
        raise SystemExit(f"{root}: the real chargemasters are not there (../shared/realdata/cdm)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part" + path.suffix)
    if path.suffix == ".csv":
        write_csv(tmp, n, root)
    elif path.suffix == ".xlsx":
        write_xlsx(tmp, n, root)
    else:
        raise SystemExit(f"{path}: write .csv or .xlsx")
    tmp.replace(path)
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("lines", type=int)
    p.add_argument("output", type=Path)
    p.add_argument("--force", action="store_true", help="rebuild even if the file exists")
    args = p.parse_args()
    if args.force and args.output.exists():
        args.output.unlink()
    build(args.lines, args.output)
    print(args.output, file=sys.stderr)


if __name__ == "__main__":
    main()
