"""What changed since last night: compare a run with a previous report (``--baseline``).

Lines are matched on the charge code (on the row number when the file has none); findings on
(rule, line, column, value). The previous report is read back from its own Chargemaster and
Issues sheets, so no other state is kept between nights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import InputError
from .fields import field_specs, map_headers
from .pipeline import Result
from .reader import cell_text, read_grids

CHANGE_HEADERS = [
    "Change",
    "Charge Code",
    "Row",
    "Baseline Row",
    "Field",
    "Before",
    "After",
    "Rule",
    "Message",
]
# The line fields compared, by their name in the report.
FIELDS = ["Description", "Price", "HCPCS", "Modifiers", "Revenue Code", "Status"]


@dataclass
class Baseline:
    path: Path
    lines: pd.DataFrame  # index key; columns FIELDS + "Row"
    findings: pd.DataFrame  # columns Rule, key, Column, Value, Message, Row


def _sheet(grids, name: str, path: Path) -> list[list[str]]:
    for g in grids:
        if g.sheet == name:
            return [[cell_text(v) for v in row] for row in g.rows]
    raise InputError(f"{path}: not a chargemaster report (no '{name}' sheet) for --baseline")


def _keys(codes: pd.Series, rows: pd.Series) -> pd.Series:
    """Charge code, numbered when it repeats ('123#2'); the row when there is no code."""
    codes = codes.fillna("").astype("str")
    nth = codes.groupby(codes).cumcount() + 1
    key = codes.where(nth.eq(1), codes + "#" + nth.astype("str"))
    return key.where(codes.ne(""), "row " + rows.astype("str"))


def _line_frame(headers: list[str], table: pd.DataFrame, aliases) -> pd.DataFrame:
    fields, _ = map_headers(headers, field_specs("chargemaster", aliases))
    first = {f: cols[0] for f, cols in fields.items() if cols}

    def col(name: str) -> pd.Series:
        if name in table.columns:
            return table[name].astype("str").str.strip()
        return pd.Series("", index=table.index, dtype="str")

    price = pd.to_numeric(col(first.get("price", "")), errors="coerce").map(
        lambda v: f"{v:.2f}" if v == v else ""
    )
    out = pd.DataFrame(
        {
            "Row": col("Row"),
            "Charge Code": col(first.get("charge_code", "")),
            "Description": col(first.get("description", "")),
            "Price": price,
            "HCPCS": col("HCPCS (coded)"),
            "Modifiers": col("Modifiers (coded)"),
            "Revenue Code": col("Revenue Code (coded)"),
            "Status": col(first.get("status", "")),
        }
    )
    out.index = _keys(out["Charge Code"].replace("", pd.NA), out["Row"])
    return out


def read_baseline(path: Path, aliases=None) -> Baseline:
    path = Path(path)
    grids = read_grids(path)
    cdm = _sheet(grids, "Chargemaster", path)
    issues = _sheet(grids, "Issues", path)
    if not cdm or cdm[0][:1] != ["Row"]:
        raise InputError(f"{path}: the Chargemaster sheet is not a chargemaster report's")
    head, body = cdm[0], cdm[1:]
    table = pd.DataFrame(body, columns=head, dtype="str")
    lines = _line_frame(head, table, aliases)
    found = pd.DataFrame(issues[1:], columns=issues[0], dtype="str") if issues else pd.DataFrame()
    return Baseline(path, lines, found)


def current_lines(result: Result) -> pd.DataFrame:
    table = result.table
    data = table.data.copy()
    frame = result.lines.frame
    data.insert(0, "Row", frame.index.astype("str"))
    data["HCPCS (coded)"] = frame["coded_hcpcs"]
    data["Modifiers (coded)"] = frame["coded_modifiers"]
    data["Revenue Code (coded)"] = frame["revenue_code"]
    price_col = table.col("price")
    if price_col:  # the report writes parsed prices as numbers: compare like with like
        data[price_col] = result.lines.prices[price_col].map(lambda v: f"{v}" if v == v else "")
    data = data.fillna("")
    return _line_frame(
        ["Row", *table.headers, "HCPCS (coded)", "Modifiers (coded)", "Revenue Code (coded)"],
        data,
        result.config.aliases,
    )


def _finding_keys(found: pd.DataFrame, lines: pd.DataFrame) -> pd.Series:
    """A finding's identity across nights: rule, line key (charge code), column, value."""
    by_row = pd.Series(lines.index, index=lines["Row"].astype("str"))
    row = found["Row"].fillna("").astype("str").str.replace(r"\.0$", "", regex=True)
    charge = found["Charge Code"].fillna("").astype("str")
    where = charge.where(charge.ne(""), row.map(by_row).fillna("row " + row))
    return (
        found["Rule"].astype("str")
        + "|"
        + where
        + "|"
        + found["Column"].fillna("").astype("str")
        + "|"
        + found["Value"].fillna("").astype("str")
    )


def _block(change: str, n: int, **columns) -> pd.DataFrame:
    """n rows of one kind of change; columns by snake-case header, the rest blank."""

    def values(header: str) -> list:
        v = columns.get(header.replace(" ", "_").lower())
        if v is None:
            return [None] * n
        return v.astype("object").tolist() if isinstance(v, pd.Series) else list(v)

    data = {h: values(h) for h in CHANGE_HEADERS}
    data["Change"] = [change] * n
    return pd.DataFrame(data, dtype="object")


def compare(result: Result, baseline: Baseline) -> pd.DataFrame:
    """The Changes sheet: lines added, removed, changed; findings new and resolved."""
    now = current_lines(result)
    before = baseline.lines
    added = now.loc[now.index.difference(before.index, sort=False)]
    removed = before.loc[before.index.difference(now.index, sort=False)]
    blocks = [
        _block(
            "line added",
            len(added),
            charge_code=added["Charge Code"],
            row=added["Row"],
            after=added["Description"],
            message=["New line since the baseline."] * len(added),
        ),
        _block(
            "line removed",
            len(removed),
            charge_code=removed["Charge Code"],
            baseline_row=removed["Row"],
            before=removed["Description"],
            message=["Line no longer in the chargemaster."] * len(removed),
        ),
    ]
    both = now.index.intersection(before.index, sort=False)
    a, b = now.loc[both], before.loc[both]
    for field in FIELDS:
        changed = a[field].fillna("").ne(b[field].fillna("")).to_numpy()
        x, y = a[changed], b[changed]
        blocks.append(
            _block(
                "line changed",
                len(x),
                charge_code=x["Charge Code"],
                row=x["Row"],
                baseline_row=y["Row"],
                field=[field] * len(x),
                before=y[field],
                after=x[field],
                message=[f"{field} changed."] * len(x),
            )
        )
    f_now = result.findings.rename(
        columns={
            "rule": "Rule",
            "row": "Row",
            "column": "Column",
            "value": "Value",
            "charge_code": "Charge Code",
            "message": "Message",
        }
    )
    if not baseline.findings.empty and "Rule" in baseline.findings:
        k_now = _finding_keys(f_now.astype("object"), now)
        k_before = _finding_keys(baseline.findings, before)
        new = f_now[~k_now.isin(set(k_before)).to_numpy()]
        gone = baseline.findings[~k_before.isin(set(k_now)).to_numpy()]
        blocks.append(
            _block(
                "new finding",
                len(new),
                charge_code=new["Charge Code"],
                row=new["Row"],
                field=new["Column"],
                after=new["Value"],
                rule=new["Rule"],
                message=new["Message"],
            )
        )
        blocks.append(
            _block(
                "resolved finding",
                len(gone),
                charge_code=gone["Charge Code"],
                baseline_row=gone["Row"],
                field=gone["Column"],
                before=gone["Value"],
                rule=gone["Rule"],
                message=gone["Message"],
            )
        )
    frame = pd.concat([blk for blk in blocks if len(blk)] or [_block("", 0)], ignore_index=True)
    return frame.where(frame.notna() & frame.ne(""), None)
