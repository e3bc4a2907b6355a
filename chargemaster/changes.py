"""What changed since last night: compare a run with a previous report (``--baseline``).

Lines are matched on the charge code (on the row number when the file has none); findings on
(rule, line, column, value). The previous report is read back from its own Chargemaster and
Issues sheets, so no other state is kept between nights.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import InputError
from .fields import field_specs, map_headers
from .pipeline import Result
from .reader import cell_text, read_grids
from .report import CODED_HEADERS, WORK_HEADERS, display_key

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
    "Status",
    "Owner",
    "Comment",
]
WORK = ["Status", "Owner", "Comment"]
# The line fields compared, by their name in the report.
FIELDS = ["Description", "Price", "HCPCS", "Modifiers", "Revenue Code", "Status"]


@dataclass
class Baseline:
    path: Path
    lines: pd.DataFrame  # index key; columns FIELDS + "Row"
    findings: pd.DataFrame  # columns Rule, key, Column, Value, Message, Row
    # What analysts wrote (display_key -> Status, Owner, Comment), the Summary's run facts and
    # Reference lines, and the input columns the report was made from.
    notes: dict[str, tuple[str, str, str]] = dataclasses.field(default_factory=dict)
    facts: dict[str, str] = dataclasses.field(default_factory=dict)
    reference: list[str] = dataclasses.field(default_factory=list)
    headers: list[str] = dataclasses.field(default_factory=list)


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
    inputs = [h for h in head[1:] if h not in CODED_HEADERS]
    facts, reference = _summary_facts(grids)
    return Baseline(path, lines, found, _notes(grids), facts, reference, inputs)


def _summary_facts(grids) -> tuple[dict[str, str], list[str]]:
    facts: dict[str, str] = {}
    reference: list[str] = []
    rows = next((g.rows for g in grids if g.sheet == "Summary"), [])
    in_reference = False
    for row in rows:
        label = cell_text(row[0]).strip() if row else ""
        value = cell_text(row[1]).strip() if len(row) > 1 else ""
        if label == "Reference":
            in_reference = True
        elif label:
            in_reference = False
        if in_reference and value:
            reference.append(value)
        elif label and value:
            facts.setdefault(label, value)
    return facts, reference


def _notes(grids) -> dict[str, tuple[str, str, str]]:
    """What analysts wrote in Status / Owner / Comment, on every sheet that has them."""
    notes: dict[str, tuple[str, str, str]] = {}
    for g in grids:
        if not g.rows:
            continue
        head = [cell_text(v).strip() for v in g.rows[0]]
        if not all(h in head for h in WORK_HEADERS):
            continue
        sheet = re.sub(r" \(\d+\)$", "", g.sheet)  # "Issues (2)" continues "Issues"
        at = [head.index(h) for h in WORK_HEADERS]
        for raw in g.rows[1:]:
            cells = [cell_text(v).strip() for v in raw] + [""] * (len(head) - len(raw))
            note = tuple(cells[j] for j in at)
            if any(note):
                notes[display_key(sheet, dict(zip(head, cells, strict=False)))] = note
    return notes


MISMATCH_QUARTERS = (1, 4, 7, 10)  # HCPCS and OPPS code changes take effect on quarter starts


def mismatch_findings(result: Result, base: Baseline) -> list[dict]:
    """BASELINE-MISMATCH: the baseline came from another input, reference set or as-of date,
    so some of the changes come from that and not from the chargemaster."""
    reasons = []
    then_input = base.facts.get("Input file", "")
    now_input = result.stats["input"]
    now_headers = list(result.table.headers)
    if (
        then_input
        and Path(then_input).name != Path(now_input).name
        and base.headers
        and [h.removesuffix(" (input)") for h in base.headers] != now_headers
    ):
        reasons.append(
            f"it was made from another input ({Path(then_input).name}, "
            f"{len(base.headers)} columns; tonight {Path(now_input).name}, "
            f"{len(now_headers)} columns)"
        )
    now_ref = list(result.stats["reference"])
    if base.reference:
        then_ref = [r for r in base.reference if not r.startswith("CPT: checked by shape")]
        if then_ref != now_ref:
            gone = [r for r in then_ref if r not in now_ref]
            new = [r for r in now_ref if r not in then_ref]
            reasons.append(
                "it used other reference code sets (then: "
                + ("; ".join(gone) or "the same")
                + "; tonight: "
                + ("; ".join(new) or "the same")
                + ")"
            )
    then_day = _date(base.facts.get("As-of date", ""))
    now_day = result.as_of
    if then_day and then_day != now_day and _crosses_quarter(then_day, now_day):
        reasons.append(
            f"it was checked as of {then_day.isoformat()} and tonight as of "
            f"{now_day.isoformat()}: codes that took effect or ended in between change findings"
        )
    if not reasons:
        return []
    return [
        {
            "rule": "BASELINE-MISMATCH",
            "value": str(base.path),
            "message": f"The baseline {base.path.name}: "
            + "; ".join(reasons)
            + ". Some changes on the Changes sheet come from that, not from the chargemaster.",
        }
    ]


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _crosses_quarter(a: dt.date, b: dt.date) -> bool:
    """A quarter start (when code sets change) lies between the two dates, or time went back."""
    if b < a:
        return True
    for year in range(a.year, b.year + 1):
        for month in MISMATCH_QUARTERS:
            start = dt.date(year, month, 1)
            if a < start <= b:
                return True
    return False


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
    by_line = row.map(by_row).astype("object")
    where = charge.where(charge.ne(""), by_line.where(by_line.notna(), "row " + row))
    return (
        found["Rule"].astype("str")
        + "|"
        + where
        + "|"
        + found["Column"].fillna("").astype("str")
        + "|"
        + _canonical(found["Value"])
    )


def _canonical(values: pd.Series) -> pd.Series:
    """Values as text, numbers in one form: the report writes a price finding's value as a
    number ("$1,200.00" is read back as 1200)."""
    text = values.fillna("").astype("str")
    number = pd.to_numeric(text.str.replace(r"[$,\s]", "", regex=True), errors="coerce")
    shown = number.map(lambda v: f"{v:.2f}" if v == v and abs(v) != float("inf") else "")
    return shown.where(number.notna() & shown.ne(""), text)


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


def _pair(now: pd.DataFrame, before: pd.DataFrame) -> tuple[pd.Index, pd.Index]:
    """Keys that pair tonight's lines with last night's.

    A charge code on one line each night pairs those lines. Lines sharing a charge code are
    paired by content, not position: first the lines identical in every compared field, then
    those with the same description, then the rest in order; so deleting one of two lines with
    the same code removes that line, and does not "change" the other.
    """
    n_key = pd.Series(None, index=range(len(now)), dtype="object")
    b_key = pd.Series(None, index=range(len(before)), dtype="object")
    n_code = now["Charge Code"].fillna("").astype("str").reset_index(drop=True)
    b_code = before["Charge Code"].fillna("").astype("str").reset_index(drop=True)
    # Lines without a charge code are known by their row.
    n_key[n_code.eq("")] = "row " + now["Row"].astype("str").reset_index(drop=True)[n_code.eq("")]
    b_key[b_code.eq("")] = (
        "row " + before["Row"].astype("str").reset_index(drop=True)[b_code.eq("")]
    )
    n_fields = now.reset_index(drop=True).fillna("").astype("str")
    b_fields = before.reset_index(drop=True).fillna("").astype("str")
    for step, cols in enumerate((FIELDS, ["Description"], [])):
        n_open, b_open = n_key.isna(), b_key.isna()
        if not n_open.any() or not b_open.any():
            break

        def keys(codes, fields, open_, cols=cols, step=step):
            k = codes[open_]
            for c in cols:
                k = k + "\x1f" + fields.loc[open_, c]
            nth = k.groupby(k).cumcount().astype("str")
            return k + f"\x1e{step}#" + nth

        kn, kb = keys(n_code, n_fields, n_open), keys(b_code, b_fields, b_open)
        common = set(kn) & set(kb)
        n_key[kn[kn.isin(common)].index] = kn[kn.isin(common)]
        b_key[kb[kb.isin(common)].index] = kb[kb.isin(common)]
    n_key = n_key.where(n_key.notna(), "tonight " + pd.Series(range(len(now))).astype("str"))
    b_key = b_key.where(b_key.notna(), "baseline " + pd.Series(range(len(before))).astype("str"))
    return pd.Index(n_key), pd.Index(b_key)


def compare(result: Result, baseline: Baseline) -> pd.DataFrame:
    """The Changes sheet: lines added, removed, changed; findings new and resolved."""
    now = current_lines(result)
    before = baseline.lines
    now.index, before.index = _pair(now, before)
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
        # What the analyst wrote on a resolved finding stays with it on the Changes sheet.
        notes = [
            baseline.notes.get(display_key("Issues", row), ("", "", ""))
            for row in gone.fillna("").to_dict("records")
        ]
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
                status=[n[0] for n in notes],
                owner=[n[1] for n in notes],
                comment=[n[2] for n in notes],
            )
        )
    frame = pd.concat([blk for blk in blocks if len(blk)] or [_block("", 0)], ignore_index=True)
    return frame.where(frame.notna() & frame.ne(""), None)
