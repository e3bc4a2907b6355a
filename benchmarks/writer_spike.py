"""Spike: could a faster xlsx writer (or reader) replace xlsxwriter / calamine in the report?

Writers compared on what the report needs (issue 13), each in a fresh process:
  xlsxwriter           default mode (rows kept in memory until close)
  xlsxwriter-cm        constant_memory, the report's own way (table added at the end)
  xlsxwriter-cm-zip1   the same with the zip deflate level 1 instead of 6 (ZipFile patched)
  xlsxturbo            1.12 (binding of rust_xlsxwriter): dfs_to_xlsx with per-sheet options
  jetxl                0.3 (Rust, Arrow in): write_sheets_arrow
  pyexcelerate         0.13 (pure Python): what it has (no tables, links, charts, CF)
  none                 (timed only) start, build the frame, write nothing: the CPU to subtract

Timed workload (`--time`): one sheet of 200,000 rows x 12 columns shaped like the Issues sheet
(text codes with leading zeros, numbers, a currency price, text that starts with '='), as an
Excel table with a frozen header, 65,000 internal links (Excel's per-sheet maximum is 65,530),
20,000 single cells filled by severity, a conditional format on the Severity column, plus a
Summary sheet with a bar chart. Time = DataFrame in memory -> file closed; peak = max RSS.

Feature probe (`--features`): a small workbook per writer and feature, then checked from the
file itself (the XML parts, read back with calamine, converted by LibreOffice), never from the
documentation: table, internal link, currency format, single-cell fill, conditional format,
bar chart, frozen panes, '=1+1' kept as text, '00123' kept as text, a control character, what
happens past 1,048,576 rows, identical bytes on a second write.

Reader (`--read CDM.xlsx`): python_calamine to Python objects (the tool's read) against
fastexcel to Arrow, default dtypes and all-string, in fresh processes.

The report itself (`--report CDM`): the pipeline runs on a real-shaped chargemaster, then its
workbook is written (a) by the report's own writer (xlsxwriter, table rows as XML straight into
its constant-memory row data, chargemaster/excel.py) and (b) the same table sheets, built by
the same sheet functions, with their links, fills, currency columns and severity conditional
formats, by xlsxturbo's dfs_to_xlsx (no Summary: (b) does less than (a)). CPU of the writing
alone (sheets built and written), peak memory of the process and what writing added to it.

Findings (issue 13, 2-core machine, CPU seconds). On the synthetic 200k x 12 sheet xlsxturbo
took a quarter of xlsxwriter's CPU, every feature worked, but its creation timestamp is always
"now" (no byte-identical reports without rewriting docProps/core.xml) and it sets no title or
author. Once the report wrote its table rows as XML straight into xlsxwriter's constant-memory
row data, `--report` on 100k real-shaped lines gave: the report's writer 4.4 s, process peak
531 MB (144 MB added by writing), 14.7 MB file; xlsxturbo 5.2 s for the table sheets alone (no
Summary), peak 1,171 MB (784 MB added: dfs_to_xlsx takes every sheet at once), 11.5 MB. The
report stays on xlsxwriter.

Run:  python benchmarks/writer_spike.py                      # everything, tables at the end
      python benchmarks/writer_spike.py --time --writers xlsxturbo,xlsxwriter-cm
      python benchmarks/writer_spike.py --read benchmarks/out/real_100000.xlsx
      python benchmarks/writer_spike.py --report benchmarks/out/real_100000.xlsx --repeat 1
Needs: pip install '.[spike]' (xlsxturbo, jetxl, pyexcelerate, fastexcel), GNU time,
LibreOffice for the "opens" column (skipped when absent).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

WRITERS = ["xlsxwriter", "xlsxwriter-cm", "xlsxwriter-cm-zip1", "xlsxturbo", "jetxl"]
WRITERS += ["pyexcelerate"]
ROWS = 200_000
LINKS = 65_000
FILLS = 20_000
EXCEL_MAX_ROWS = 1_048_576
HEADERS = ["Severity", "Rule", "Row", "Cell", "Column", "Charge Code", "Value", "Suggested"]
HEADERS += ["Message", "Description", "Price", "Department"]
CURRENCY = "$#,##0.00"
FILL = {"error": "#F8CBAD", "warning": "#FFE699", "info": "#DDEBF7"}
SEVERITIES = ["error", "warning", "info"]


def frame(n: int = ROWS) -> pd.DataFrame:
    """Deterministic Issues-like rows; every column but Row and Price is text."""
    rng = np.random.default_rng(13)
    i = np.arange(n)
    rules = np.array(["HCPCS-UNKNOWN", "REVCODE-REPAIRED", "PRICE-ZERO", "HCPCS-NOC"])
    value = pd.Series([f"{v:05d}" for v in rng.integers(0, 99999, n)], dtype=object)
    value[::1000] = "=1+1"  # text that a careless writer turns into a formula
    return pd.DataFrame(
        {
            "Severity": np.array(SEVERITIES)[i % 3],
            "Rule": rules[i % 4],
            "Row": i + 2,
            "Cell": [f"E{r}" for r in i + 2],
            "Column": "HCPCS",
            "Charge Code": [f"{v:09d}" for v in rng.integers(0, 10**8, n)],
            "Value": value,
            "Suggested": np.where(i % 5 == 0, "99213", None),
            "Message": "Code not in the reference code sets as of 2026-11-01: check the code.",
            "Description": [f"HCHG CT HEAD W/O CONTRAST {v}" for v in i % 977],
            "Price": np.round(rng.random(n) * 5000, 2),
            "Department": np.array(["LAB", "RAD", "PHARM", "SUPPLY"])[i % 4],
        }
    )


def summary_frame() -> pd.DataFrame:
    return pd.DataFrame({"Rule": [f"RULE-{k:02d}" for k in range(46)], "Count": range(46, 0, -1)})


def links(n: int, count: int = LINKS) -> list[tuple[int, str, str]]:
    """(data row index, target, display) for the first `count` rows."""
    return [(r, f"'Chargemaster'!E{r + 2}", f"E{r + 2}") for r in range(min(n, count))]


def fills(n: int, count: int = FILLS) -> list[tuple[int, str]]:
    """(data row index, severity) of single cells in the Value column to fill."""
    step = max(n // count, 1)
    return [(r, SEVERITIES[r % 3]) for r in range(0, n, step)][:count]


# --- writers: write(path, sheets) where sheets = {"name": (df, features)} --------------------


def _xlsxwriter(path: Path, df: pd.DataFrame, cm: bool, zip_level: int | None = None) -> None:
    import xlsxwriter

    if zip_level is not None:
        import functools
        import zipfile as zf

        import xlsxwriter.workbook as xw

        xw.ZipFile = functools.partial(zf.ZipFile, compresslevel=zip_level)
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": cm,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    wb.set_properties({"created": pd.Timestamp("2000-01-01").to_pydatetime()})
    header = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
    money = wb.add_format({"num_format": CURRENCY})
    link_fmt = wb.add_format({"font_color": "#0563C1", "underline": 1})
    fill_fmt = {k: wb.add_format({"bg_color": v}) for k, v in FILL.items()}
    summary = wb.add_worksheet("Summary")
    ws = wb.add_worksheet("Issues")
    ws.write_row(0, 0, HEADERS, header)
    ws.freeze_panes(1, 0)
    price_col = HEADERS.index("Price")
    ws.set_column(price_col, price_col, 12, money)
    link_at = {r: (t, d) for r, t, d in links(len(df))}
    fill_at = dict(fills(len(df)))
    cell_col, value_col = HEADERS.index("Cell"), HEADERS.index("Value")
    columns = [df[c].astype(object).where(df[c].notna(), None).tolist() for c in HEADERS]
    for i, row in enumerate(zip(*columns, strict=True)):
        r = i + 1
        if i not in link_at and i not in fill_at:
            ws.write_row(r, 0, row)
            continue
        ws.write_row(r, 0, row[:cell_col])
        if i in link_at:
            ws.write_url(r, cell_col, "internal:" + link_at[i][0], link_fmt, string=row[cell_col])
        else:
            ws.write_string(r, cell_col, row[cell_col])
        ws.write_row(r, cell_col + 1, row[cell_col + 1 : value_col])
        if i in fill_at:
            ws.write_string(r, value_col, row[value_col], fill_fmt[fill_at[i]])
        else:
            ws.write_string(r, value_col, row[value_col])
        ws.write_row(r, value_col + 1, row[value_col + 1 :])
    last = len(df)
    for sev, color in FILL.items():
        ws.conditional_format(
            1,
            0,
            last,
            0,
            {
                "type": "cell",
                "criteria": "==",
                "value": f'"{sev}"',
                "format": wb.add_format({"bg_color": color}),
            },
        )
    if cm:  # the report's trick: add_table at the end, header guard lifted
        ws.constant_memory = False
        ws.table_cells = {}
        ws.add_table(0, 0, last, len(HEADERS) - 1, {"columns": [{"header": h} for h in HEADERS]})
        ws.constant_memory = True
        ws.table.pop(0, None)
    else:
        ws.add_table(0, 0, last, len(HEADERS) - 1, {"columns": [{"header": h} for h in HEADERS]})
    s = summary_frame()
    summary.write_row(0, 0, list(s.columns), header)
    for i, (rule, count) in enumerate(s.itertuples(index=False), start=1):
        summary.write_string(i, 0, rule)
        summary.write_number(i, 1, count)
    chart = wb.add_chart({"type": "bar"})
    chart.add_series(
        {"categories": ["Summary", 1, 0, len(s), 0], "values": ["Summary", 1, 1, len(s), 1]}
    )
    summary.insert_chart("D2", chart)
    wb.close()


def _xlsxturbo(path: Path, df: pd.DataFrame) -> None:
    import xlsxturbo

    fill_at = fills(len(df))
    value_letter = _letter(HEADERS.index("Value"))
    cells = {
        f"{value_letter}{r + 2}": {"value": df["Value"].iat[r], "format": {"bg_color": FILL[sev]}}
        for r, sev in fill_at
    }
    cell_letter = _letter(HEADERS.index("Cell"))
    hyperlinks = [(f"{cell_letter}{r + 2}", f"internal:{t}", d) for r, t, d in links(len(df))]
    severity_cf = {
        "Severity": [
            {
                "type": "cell",
                "criteria": "equal_to",
                "value": f'"{sev}"',
                "format": {"bg_color": color},
            }
            for sev, color in FILL.items()
        ]
    }
    s = summary_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xlsxturbo.dfs_to_xlsx(
            [
                (
                    s,
                    "Summary",
                    {
                        "charts": {
                            "D2": {
                                "type": "bar",
                                "values_range": f"Summary!$B$2:$B${len(s) + 1}",
                                "categories_range": f"Summary!$A$2:$A${len(s) + 1}",
                            }
                        }
                    },
                ),
                (
                    df,
                    "Issues",
                    {
                        "table_style": "Light1",
                        "freeze_panes": True,
                        "column_formats": {"Price": {"num_format": CURRENCY}},
                        "conditional_formats": severity_cf,
                        "hyperlinks": hyperlinks,
                        "cells": cells,
                        "header_format": {"bold": True, "bg_color": "#D9E1F2"},
                    },
                ),
            ],
            str(path),
        )


def _jetxl(path: Path, df: pd.DataFrame) -> None:
    import jetxl
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    s = summary_frame()
    value_col = HEADERS.index("Value")
    styles = [
        {"row": r + 2, "col": value_col, "fill": {"pattern": "solid", "fg_color": _argb(FILL[sev])}}
        for r, sev in fills(len(df))
    ]
    # jetxl rows are 1-based sheet rows (row 2 = the first data row under the header)
    link_list = [(r + 2, HEADERS.index("Cell"), f"#{t}", d) for r, t, d in links(len(df))]
    jetxl.write_sheets_arrow(
        [
            {
                "data": pa.Table.from_pandas(s, preserve_index=False),
                "name": "Summary",
                "charts": [
                    {
                        "chart_type": "bar",
                        "start_row": 1,
                        "start_col": 0,
                        "end_row": len(s) + 1,
                        "end_col": 1,
                        "from_col": 3,
                        "from_row": 1,
                        "to_col": 10,
                        "to_row": 20,
                        "category_col": 0,
                        "title": "Findings by rule",
                    }
                ],
            },
            {
                "data": table,
                "name": "Issues",
                "freeze_rows": 1,
                "styled_headers": True,
                "column_formats": {"Price": "currency"},
                "hyperlinks": link_list,
                "cell_styles": styles,
                "conditional_formats": [
                    {
                        "start_row": 1,
                        "start_col": 0,
                        "end_row": len(df),
                        "end_col": 0,
                        "rule_type": "cell_value",
                        "operator": "equal",
                        "value": f'"{sev}"',
                        "style": {"fill": {"pattern": "solid", "fg_color": _argb(color)}},
                    }
                    for sev, color in FILL.items()
                ],
                "tables": [
                    {
                        "name": "Issues",
                        "start_row": 0,
                        "start_col": 0,
                        "end_row": len(df),
                        "end_col": len(HEADERS) - 1,
                        "style": "TableStyleLight1",
                    }
                ],
            },
        ],
        str(path),
        num_threads=2,
    )


def _pyexcelerate(path: Path, df: pd.DataFrame) -> None:
    from pyexcelerate import Color, Fill, Format, Panes, Style, Workbook

    wb = Workbook()
    s = summary_frame()
    wb.new_sheet("Summary", data=[list(s.columns), *s.itertuples(index=False)])
    columns = [df[c].astype(object).where(df[c].notna(), None).tolist() for c in HEADERS]
    rows = [HEADERS, *map(list, zip(*columns, strict=True))]
    ws = wb.new_sheet("Issues", data=rows)
    ws.panes = Panes(0, 1)
    price = HEADERS.index("Price") + 1
    ws.set_col_style(price, Style(format=Format(CURRENCY)))
    value_col = HEADERS.index("Value") + 1
    for r, sev in fills(len(df)):
        hexa = FILL[sev].lstrip("#")
        rgb = tuple(int(hexa[k : k + 2], 16) for k in (0, 2, 4))
        ws.set_cell_style(r + 2, value_col, Style(fill=Fill(background=Color(*rgb))))
    wb.save(str(path))


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _argb(color: str) -> str:
    return "FF" + color.lstrip("#").upper()


def write(name: str, path: Path, df: pd.DataFrame) -> None:
    if name == "none":  # the process and the frame alone: subtract from the others' CPU
        path.write_bytes(b"")
    elif name == "xlsxwriter":
        _xlsxwriter(path, df, cm=False)
    elif name == "xlsxwriter-cm":
        _xlsxwriter(path, df, cm=True)
    elif name == "xlsxwriter-cm-zip1":
        _xlsxwriter(path, df, cm=True, zip_level=1)
    elif name == "xlsxturbo":
        _xlsxturbo(path, df)
    elif name == "jetxl":
        _jetxl(path, df)
    elif name == "pyexcelerate":
        _pyexcelerate(path, df)
    else:
        raise SystemExit(f"unknown writer {name}")


# --- checks from the file itself ------------------------------------------------------------


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if n.endswith(("ml", ".rels"))]
        return {n: z.read(n).decode("utf-8", "replace") for n in names}


def _sheet_xml(parts: dict[str, str], path: Path, name: str) -> str:
    """The worksheet part of sheet `name` (via workbook.xml and its rels)."""
    wb = parts["xl/workbook.xml"]
    rels = parts["xl/_rels/workbook.xml.rels"]
    m = re.search(rf'<sheet [^>]*name="{re.escape(name)}"[^>]*r:id="(rId\d+)"', wb)
    if not m:
        m = re.search(rf'<sheet [^>]*r:id="(rId\d+)"[^>]*name="{re.escape(name)}"', wb)
    rid = m.group(1)
    t = re.search(rf'<Relationship [^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels)
    if not t:
        t = re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels)
    target = t.group(1).lstrip("/")
    return parts[target if target.startswith("xl/") else "xl/" + target]


def probe(name: str, tmp: Path) -> dict[str, str]:
    """Feature -> 'yes' / 'no: why', each checked in the written file."""
    from python_calamine import CalamineWorkbook

    out: dict[str, str] = {}
    df = frame(300)
    df.loc[0, "Value"] = "=1+1"
    df.loc[1, "Value"] = "\x01ctrl"
    df.loc[2, "Charge Code"] = "00123"
    path = tmp / f"{name}.xlsx"
    try:
        write(name, path, df)
    except Exception as exc:  # a writer that cannot write the report's features at all
        return {"write": f"no: {type(exc).__name__}: {str(exc)[:120]}"}
    out["write"] = "yes"
    parts = _parts(path)
    sheet = _sheet_xml(parts, path, "Issues")
    all_text = "\n".join(parts.values())
    out["table"] = "yes" if any(n.startswith("xl/tables/") for n in parts) else "no"
    m = re.search(r"<hyperlink [^>]*>", sheet)
    internal = m and "location=" in m.group(0) and "Chargemaster" in m.group(0)
    external_hash = re.search(r'Target="#[^"]*Chargemaster[^"]*" TargetMode="External"', all_text)
    if internal:
        out["internal link"] = "yes"
    elif external_hash:
        out["internal link"] = "partial: an External relationship to '#Sheet!A1', no location"
    else:
        out["internal link"] = f"no: {m.group(0)[:80] if m else 'none'}"
    out["currency format"] = "yes" if "$#,##0.00" in parts.get("xl/styles.xml", "") else "no"
    fill_hex = FILL["error"].lstrip("#").upper()
    styles = parts.get("xl/styles.xml", "")
    out["cell fill"] = "yes" if fill_hex in styles.upper() else "no"
    out["conditional format"] = "yes" if "<conditionalFormatting" in sheet else "no"
    charts = [v for n, v in parts.items() if n.startswith("xl/charts/chart")]
    out["bar chart"] = "yes" if any("<c:barChart>" in c for c in charts) else "no"
    out["frozen panes"] = "yes" if re.search(r'<pane [^>]*state="frozen"', sheet) else "no"
    book = CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_name("Issues").to_python()
    value_col, code_col = HEADERS.index("Value"), HEADERS.index("Charge Code")
    has_formula = "<f>" in sheet or "<f " in sheet
    eq_ok = rows[1][value_col] == "=1+1" and not has_formula
    out["'=1+1' as text"] = "yes" if eq_ok else f"no: {rows[1][value_col]!r}, formula={has_formula}"
    out["'00123' as text"] = "yes" if rows[3][code_col] == "00123" else f"no: {rows[3][code_col]!r}"
    ctrl = rows[2][value_col]
    out["control char"] = "kept as _x0001_" if "_x0001_" in all_text else f"{ctrl!r}"
    again = tmp / f"{name}.again.xlsx"
    time.sleep(1.1)  # a timestamp in the properties would differ
    write(name, again, df)
    out["same bytes twice"] = "yes" if again.read_bytes() == path.read_bytes() else "no"
    out["opens in LibreOffice"] = _libreoffice(path, tmp)
    out["past 1,048,576 rows"] = _row_limit(name, tmp)
    return out


def _libreoffice(path: Path, tmp: Path) -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        return "not tested (no LibreOffice)"
    outdir = tmp / f"lo_{path.stem}"
    proc = subprocess.run(
        [
            exe,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp}/lo_profile",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,2",
            "--outdir",
            str(outdir),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    csvs = list(outdir.glob("*.csv")) if outdir.exists() else []
    if proc.returncode != 0 or not csvs:
        return f"no: rc {proc.returncode} {proc.stderr.strip()[:80]}"
    text = csvs[0].read_text("utf-8", "replace")
    return "yes" if "=1+1" in text and "00123" in text else "yes, but values differ"


def _row_limit(name: str, tmp: Path) -> str:
    """One sheet of EXCEL_MAX_ROWS data rows + header: does the writer say so?"""
    n = EXCEL_MAX_ROWS  # + the header row = one row too many
    df = pd.DataFrame({"Row": np.arange(n, dtype="int64")})
    path = tmp / f"{name}.limit.xlsx"
    try:
        if name.startswith("xlsxwriter"):
            import xlsxwriter

            wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
            ws = wb.add_worksheet("S")
            ws.write(0, 0, "Row")
            codes = {ws.write_number(i + 1, 0, v) for i, v in enumerate(df["Row"].tolist())}
            wb.close()
            return (
                "returns -1 for the row past the limit (silent unless checked)"
                if -1 in (codes)
                else "wrote it"
            )
        if name == "xlsxturbo":
            import xlsxturbo

            xlsxturbo.df_to_xlsx(df, str(path), sheet_name="S")
        elif name == "jetxl":
            import jetxl
            import pyarrow as pa

            jetxl.write_sheet_arrow(pa.Table.from_pandas(df), str(path), sheet_name="S")
        elif name == "pyexcelerate":
            from pyexcelerate import Workbook

            wb = Workbook()
            wb.new_sheet("S", data=[["Row"], *([v] for v in df["Row"].tolist())])
            wb.save(str(path))
    except Exception as exc:
        return f"raises {type(exc).__name__} (caller splits)"
    from python_calamine import CalamineWorkbook

    try:
        height = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("S").total_height
    except Exception as exc:
        return f"writes a file calamine refuses ({type(exc).__name__})"
    return f"silently writes {height:,} rows (out of spec)"


# --- drivers -----------------------------------------------------------------------------


def child_time(name: str, out: Path) -> None:
    df = frame()
    t = time.perf_counter()
    write(name, out, df)
    print(json.dumps({"seconds": time.perf_counter() - t, "bytes": out.stat().st_size}))


def run_timed(names: list[str], repeat: int) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            runs = []
            for _ in range(repeat):
                out = Path(tmp) / f"{name}.xlsx"
                proc = subprocess.run(
                    ["/usr/bin/time", "-f", "%U %S %M", sys.executable, __file__, "--child", name]
                    + [str(out)],
                    capture_output=True,
                    text=True,
                    timeout=1800,
                )
                if proc.returncode != 0:
                    runs.append({"error": proc.stderr.strip()[-300:]})
                    break
                got = json.loads(proc.stdout.strip().splitlines()[-1])
                user, system, kb = proc.stderr.strip().splitlines()[-1].split()
                got["mb"] = int(kb) / 1024
                got["cpu"] = float(user) + float(system)
                runs.append(got)
            ok = [r for r in runs if "error" not in r]
            row = {"writer": name}
            if ok:
                row |= {
                    "seconds": float(np.median([r["seconds"] for r in ok])),
                    "mb": float(np.median([r["mb"] for r in ok])),
                    "cpu": float(np.median([r["cpu"] for r in ok])),
                    "file_mb": ok[0]["bytes"] / 1e6,
                }
            else:
                row["error"] = runs[0]["error"]
            print(json.dumps(row), flush=True)
            results.append(row)
    return results


def run_read(cdm: Path, repeat: int) -> list[dict]:
    ways = {
        "calamine to_python (the tool)": (
            "from python_calamine import CalamineWorkbook as W\n"
            "b=W.from_path(P)\n"
            "rows=b.get_sheet_by_name(b.sheet_names[0]).to_python(skip_empty_area=False)\n"
            "n=len(rows)"
        ),
        "fastexcel to Arrow, inferred dtypes": (
            "import fastexcel\n"
            "r=fastexcel.read_excel(P)\n"
            "t=r.load_sheet(0,header_row=None,eager=True)\n"
            "n=t.num_rows"
        ),
        "fastexcel to Arrow, all string": (
            "import fastexcel\n"
            "r=fastexcel.read_excel(P)\n"
            "t=r.load_sheet(0,header_row=None,dtypes='string',eager=True)\n"
            "n=t.num_rows"
        ),
        "fastexcel all string -> pandas": (
            "import fastexcel\n"
            "r=fastexcel.read_excel(P)\n"
            "t=r.load_sheet(0,header_row=None,dtypes='string',eager=True)\n"
            "n=len(t.to_pandas())"
        ),
    }
    results = []
    for label, code in ways.items():
        runs = []
        for _ in range(repeat):
            script = (
                f"import time\nP={str(cdm)!r}\nt0=time.perf_counter()\nc0=time.process_time()\n"
                f"{code}\nprint(time.perf_counter()-t0, time.process_time()-c0, n)"
            )
            proc = subprocess.run(
                ["/usr/bin/time", "-f", "%M", sys.executable, "-c", script],
                capture_output=True,
                text=True,
                timeout=600,
            )
            if proc.returncode != 0:
                runs.append({"error": proc.stderr.strip()[-200:]})
                break
            seconds, cpu, n = proc.stdout.split()
            mb = int(proc.stderr.strip().splitlines()[-1]) / 1024
            runs.append({"seconds": float(seconds), "cpu": float(cpu), "mb": mb, "rows": int(n)})
        ok = [r for r in runs if "error" not in r]
        row = {"read": label}
        if ok:
            row |= {
                "seconds": float(np.median([r["seconds"] for r in ok])),
                "cpu": float(np.median([r["cpu"] for r in ok])),
                "mb": float(np.median([r["mb"] for r in ok])),
                "rows": ok[0]["rows"],
            }
        else:
            row["error"] = runs[0]["error"]
        print(json.dumps(row), flush=True)
        results.append(row)
    # what each gives for a number-stored code: the tool must know the cell was a number
    sample = (
        "import fastexcel\nfrom python_calamine import CalamineWorkbook as W\n"
        f"P={str(cdm)!r}\n"
        "b=W.from_path(P).get_sheet_by_name('CDM').to_python()\n"
        "t=fastexcel.read_excel(P).load_sheet(0,header_row=None,dtypes='string',eager=True)\n"
        "print(repr(b[1][3]), repr(t.column(3)[1].as_py()), repr(b[1][6]), "
        "repr(t.column(6)[1].as_py()))"
    )
    proc = subprocess.run([sys.executable, "-c", sample], capture_output=True, text=True)
    print("calamine vs fastexcel(all string), Rev Code and Price of line 1:", proc.stdout.strip())
    return results


def child_report(how: str, cdm: Path, out: Path) -> None:
    """Run the pipeline on cdm, then write its report one way; print what writing cost."""
    import datetime as dt
    import resource

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from chargemaster import report
    from chargemaster.pipeline import RunOptions, run
    from chargemaster.reader import column_letter

    result = run(RunOptions(cdm, as_of=dt.date(2026, 11, 1)))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    c0 = time.process_time()
    if how == "report":
        report.write_report(result, out)
    else:
        import xlsxturbo

        view = report._view(result)
        sheets = []
        for build in report.SHEETS:
            sh = build(view)
            if sh is None:
                continue
            df = pd.DataFrame(
                {h: pd.Series(c, dtype=object) for h, c in zip(sh.headers, sh.columns, strict=True)}
            )
            opts = {"table_style": "Light1", "freeze_panes": True}
            opts["header_format"] = {"bold": True, "bg_color": "#D9E1F2"}
            links = []
            for c, targets in sh.links.items():
                for i, t in enumerate(targets):
                    if t and sh.columns[c][i] is not None and len(links) < 65_530:
                        links.append((f"{column_letter(c + 1)}{i + 2}", t, str(sh.columns[c][i])))
            cells = {
                f"{column_letter(c + 1)}{i + 2}": {
                    "value": sh.columns[c][i],
                    "format": {"bg_color": FILL[sev]},
                }
                for i, marks in sh.cell_fills.items()
                for c, sev in marks.items()
            }
            if links:
                opts["hyperlinks"] = links
            if cells:
                opts["cells"] = cells
            if sh.severity is not None:
                opts["conditional_formats"] = {
                    sh.headers[sh.severity]: [
                        {"type": "cell", "criteria": "equal_to", "value": f'"{k}"'}
                        | {"format": {"bg_color": v}}
                        for k, v in FILL.items()
                    ]
                }
            if sh.formats:
                opts["column_formats"] = {
                    sh.headers[c]: {"num_format": CURRENCY} for c in sh.formats
                }
            sheets.append((df, sh.name, opts))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            xlsxturbo.dfs_to_xlsx(sheets, str(out))
    cpu = time.process_time() - c0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"cpu": cpu, "added_mb": after - before, "bytes": out.stat().st_size}))


def run_report(cdm: Path, repeat: int) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for how in ("report", "xlsxturbo"):
            runs = []
            for _ in range(repeat):
                out = Path(tmp) / f"{how}.xlsx"
                proc = subprocess.run(
                    ["/usr/bin/time", "-f", "%M", sys.executable, __file__, "--report-child"]
                    + [how, str(cdm), str(out)],
                    capture_output=True,
                    text=True,
                    timeout=3600,
                )
                if proc.returncode != 0:
                    runs.append({"error": proc.stderr.strip()[-300:]})
                    break
                got = json.loads(proc.stdout.strip().splitlines()[-1])
                got["mb"] = int(proc.stderr.strip().splitlines()[-1]) / 1024
                runs.append(got)
            ok = [r for r in runs if "error" not in r]
            row = {"writer": how}
            if ok:
                row |= {k: float(np.median([r[k] for r in ok])) for k in ("cpu", "mb", "added_mb")}
                row["file_mb"] = ok[0]["bytes"] / 1e6
            else:
                row["error"] = runs[0]["error"]
            print(json.dumps(row), flush=True)
            results.append(row)
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--time", action="store_true")
    p.add_argument("--features", action="store_true")
    p.add_argument("--read", type=Path)
    p.add_argument("--writers", default=",".join(WRITERS))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--report", type=Path, metavar="CDM")
    p.add_argument("--child", nargs=2, metavar=("WRITER", "OUT"), help=argparse.SUPPRESS)
    p.add_argument("--report-child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child_time(args.child[0], Path(args.child[1]))
        return
    if args.report_child:
        how, cdm, out = args.report_child
        child_report(how, Path(cdm), Path(out))
        return
    names = args.writers.split(",")
    everything = not (args.time or args.features or args.read or args.report)
    if args.features or everything:
        table = {}
        with tempfile.TemporaryDirectory() as tmp:
            for name in names:
                table[name] = probe(name, Path(tmp))
                print(json.dumps({name: table[name]}), flush=True)
        features = list(dict.fromkeys(k for v in table.values() for k in v))
        print("\n| feature | " + " | ".join(names) + " |")
        print("|---" * (len(names) + 1) + "|")
        for f in features:
            print(f"| {f} | " + " | ".join(table[n].get(f, "-") for n in names) + " |")
    if args.time or everything:
        rows = run_timed(names, args.repeat)
        print(
            f"\n| writer ({ROWS:,} x {len(HEADERS)}) | write s | process CPU s | peak MB "
            "| file MB |"
        )
        print("|---|---|---|---|---|")
        for r in rows:
            if "error" in r:
                print(f"| {r['writer']} | failed: {r['error']} | | |")
            else:
                print(
                    f"| {r['writer']} | {r['seconds']:.1f} | {r['cpu']:.1f} | {r['mb']:.0f} "
                    f"| {r['file_mb']:.1f} |"
                )
    if args.read:
        rows = run_read(args.read, args.repeat)
        print("\n| read | seconds | CPU s | peak MB | rows |\n|---|---|---|---|---|")
        for r in rows:
            if "error" in r:
                print(f"| {r['read']} | failed: {r['error'][:100]} | | | |")
            else:
                print(
                    f"| {r['read']} | {r['seconds']:.2f} | {r['cpu']:.2f} | {r['mb']:.0f} "
                    f"| {r['rows']:,} |"
                )

    if args.report:
        rows = run_report(args.report, args.repeat)
        print(
            "\n| the report written by | writing CPU s | process peak MB | added by writing MB "
            "| file MB |\n|---|---|---|---|---|"
        )
        for r in rows:
            if "error" in r:
                print(f"| {r['writer']} | failed: {r['error'][:100]} | | | |")
            else:
                print(
                    f"| {r['writer']} | {r['cpu']:.2f} | {r['mb']:.0f} | {r['added_mb']:.0f} "
                    f"| {r['file_mb']:.1f} |"
                )


if __name__ == "__main__":
    main()
