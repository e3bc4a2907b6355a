"""Turn a read table into canonical lines: repaired codes, one revenue code, HCPCS and price
per line (with the column each came from), and the line's status, family and coding method."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import pandas as pd

from . import findings as F
from .config import Config
from .fields import REVENUE_FIELDS
from .normalize import (
    clean_code,
    clean_text,
    parse_price,
    repair_hcpcs,
    repair_revenue_code,
    split_modifiers,
)
from .reader import Table

# Expected columns and the rules that cannot run without them (COLUMN-MISSING / RULE-SKIPPED).
EXPECTED = {
    "charge_code": ("charge code", ["CHARGE-CODE-MISSING", "CHARGE-CODE-DUPLICATE"]),
    "revenue_code": (
        "revenue code",
        ["REVCODE-MISSING", "REVCODE-REPAIRED", "REVCODE-MALFORMED", "HCPCS-REVCODE-MISMATCH"],
    ),
    "hcpcs": (
        "HCPCS/CPT",
        [
            "HCPCS-REPAIRED",
            "HCPCS-MALFORMED",
            "HCPCS-LOCAL",
            "HCPCS-CATEGORY-II",
            "PRICE-INCONSISTENT",
        ],
    ),
    "modifiers": ("modifiers", []),
    "price": (
        "price",
        [
            "PRICE-MISSING",
            "PRICE-NEGATIVE",
            "PRICE-ZERO",
            "PRICE-PLACEHOLDER",
            "PRICE-INCONSISTENT",
            "HCPCS-CATEGORY-II",
        ],
    ),
    "status": ("status", []),
    "department": ("department", []),
}


@dataclass
class Lines:
    """Canonical view of the item lines; index = source row number."""

    frame: pd.DataFrame
    # Repaired value of every code cell, by source column (what the coded output writes back).
    coded: dict[str, pd.Series] = field(default_factory=dict)
    repaired: dict[str, pd.Series] = field(default_factory=dict)  # where coded differs, safely
    # Modifiers split out of each code cell (space-joined), by source column.
    split_modifiers: dict[str, pd.Series] = field(default_factory=dict)
    # For the contract: one column per checked value, and the source column of each.
    check: pd.DataFrame = field(default_factory=pd.DataFrame)
    check_source: dict[str, str] = field(default_factory=dict)
    # Every price column as a number (NaN where blank or not a number), by source column.
    prices: pd.DataFrame = field(default_factory=pd.DataFrame)
    findings: pd.DataFrame = field(default_factory=F.empty)
    raw: pd.DataFrame = field(default_factory=pd.DataFrame)  # the item lines as read
    first_hcpcs_col: str | None = None


def _first(values: list[pd.Series], sources: list[str], index: pd.Index):
    """Coalesce: per row, the first non-blank value and the column it came from."""
    value = pd.Series(pd.NA, index=index, dtype="str")
    source = pd.Series(pd.NA, index=index, dtype="str")
    for v, s in zip(values, sources, strict=True):
        take = value.isna() & v.notna()
        value = value.mask(take, v)
        source = source.mask(take, s)
    return value, source


def prepare(table: Table, config: Config, as_of: dt.date) -> Lines:
    df = table.data
    idx = df.index
    letters = table.letters
    out = pd.DataFrame(index=idx)
    found = []
    check: dict[str, pd.Series] = {}
    check_source: dict[str, str] = {}
    coded: dict[str, pd.Series] = {}
    repaired_masks: dict[str, pd.Series] = {}

    def text_of(name: str) -> pd.Series:
        col = table.col(name)
        return clean_text(df[col]) if col else pd.Series(pd.NA, index=idx, dtype="str")

    cc = table.col("charge_code")
    out["charge_code"] = clean_code(df[cc]) if cc else pd.Series(pd.NA, index=idx, dtype="str")
    for name in ("description", "department", "status", "coding_method", "revenue_description"):
        out[name] = text_of(name)
    charge = out["charge_code"]

    # Revenue codes: repair every revenue column; the line's code is the first usable one.
    rev_cols = [c for f in REVENUE_FIELDS for c in table.fields.get(f, [])]
    rev_values = []
    for k, col in enumerate(rev_cols):
        rep = repair_revenue_code(df[col], table.numeric.get(col))
        coded[col] = rep.value
        repaired_masks[col] = rep.repaired
        rev_values.append(rep.value)
        check[f"revenue_code__{k}"] = rep.value
        check_source[f"revenue_code__{k}"] = col
        found.append(
            _repair_finding(
                "REVCODE-REPAIRED",
                "Revenue code",
                rep,
                df[col],
                col,
                letters,
                charge,
                "Store revenue codes as 4-digit text with the leading zero.",
            )
        )
    out["revenue_code"], out["revenue_col"] = _first(
        [v.where(v.str.fullmatch(r"\d{4}").fillna(False)) for v in rev_values], rev_cols, idx
    )
    # A line whose revenue codes are all malformed still points at its first revenue cell.
    out["revenue_col"] = out["revenue_col"].fillna(rev_cols[0] if rev_cols else pd.NA)

    # HCPCS: repair every code column; the line's code is the first non-blank one.
    hcpcs_cols = table.fields.get("hcpcs", [])
    values, split_mods, repaired = [], [], []
    for k, col in enumerate(hcpcs_cols):
        rep = repair_hcpcs(df[col], table.numeric.get(col), config.hcpcs_placeholders)
        coded[col] = rep.value
        repaired_masks[col] = rep.repaired
        values.append(rep.value)
        split_mods.append(rep.modifiers)
        repaired.append(rep.repaired)
        check[f"hcpcs__{k}"] = rep.value
        check_source[f"hcpcs__{k}"] = col
        found.append(
            _repair_finding(
                "HCPCS-REPAIRED",
                "HCPCS",
                rep,
                df[col],
                col,
                letters,
                charge,
                "Store codes as text, one bare code per cell.",
            )
        )
    out["hcpcs"], out["hcpcs_col"] = _first(values, hcpcs_cols, idx)
    glued = pd.Series(pd.NA, index=idx, dtype="str")
    out["hcpcs_repaired"] = False
    for col, mods, rep_mask in zip(hcpcs_cols, split_mods, repaired, strict=True):
        here = out["hcpcs_col"].eq(col).fillna(False)
        glued = glued.mask(here & mods.notna(), mods)
        out["hcpcs_repaired"] = out["hcpcs_repaired"] | (here & rep_mask)
    # A line without a code still points at the code cell (where static coding writes).
    out["hcpcs_col"] = out["hcpcs_col"].fillna(hcpcs_cols[0] if hcpcs_cols else pd.NA)

    # Modifiers: modifier columns, then any split out of the code cell.
    mod_cols = table.fields.get("modifiers", [])
    mod_parts, mod_sources = [], []
    for k, col in enumerate(mod_cols):
        rep = split_modifiers(df[col], table.numeric.get(col))
        coded[col] = rep.value
        repaired_masks[col] = rep.repaired
        mod_parts.append(rep.value)
        mod_sources.append(col)
        tokens = rep.value.str.split(" ", n=4, expand=True) if rep.value.notna().any() else None
        if tokens is not None:
            for j in tokens.columns:
                name = f"modifier__{k}_{j}"
                check[name] = tokens[j].astype("str").reindex(idx)
                check_source[name] = col
        found.append(
            F.make(
                "MODIFIER-REPAIRED",
                rep.repaired,
                column=col,
                letter=letters[col],
                value=df[col],
                suggested=rep.value,
                charge_code=charge,
                message="Modifier '"
                + df[col].fillna("")
                + "' was repaired to '"
                + rep.value
                + "' ("
                + rep.reason
                + "). Write modifiers as 2-character codes.",
            )
        )
    hcol = out["hcpcs_col"]
    found.append(
        F.make(
            "MODIFIER-REPAIRED",
            glued.notna(),
            column=hcol,
            letter=hcol.map(letters),
            value=glued,
            suggested=glued,
            charge_code=charge,
            message="Modifier '" + glued + "' was split out of the HCPCS cell. Keep modifiers in "
            "their own column.",
        )
    )
    joined = pd.Series("", index=idx, dtype="str")
    for part in [*mod_parts, glued]:
        joined = (joined + " " + part.fillna("")).str.strip()
    out["modifiers"] = joined.mask(joined.eq(""))
    first_mod_col = mod_cols[0] if mod_cols else pd.NA
    out["modifiers_col"] = pd.Series(first_mod_col, index=idx, dtype="str").mask(
        glued.notna() & pd.Series(not mod_cols, index=idx), hcol
    )

    # Prices: the line's price is the first numeric price column.
    price_cols = table.fields.get("price", [])
    numbers, bads = [], []
    for k, col in enumerate(price_cols):
        number, bad = parse_price(df[col])
        numbers.append(number)
        bads.append(bad)
        check[f"price__{k}"] = number
        check_source[f"price__{k}"] = col
    price = pd.Series(float("nan"), index=idx)
    price_col = pd.Series(price_cols[0] if price_cols else pd.NA, index=idx, dtype="str")
    for col, number in zip(price_cols, numbers, strict=True):
        take = price.isna() & number.notna()
        price = price.mask(take, number)
        price_col = price_col.mask(take, col)
    out["price"] = price
    out["price_col"] = price_col
    out["price_text_bad"] = (
        pd.concat(bads, axis=1).any(axis=1) if bads else pd.Series(False, index=idx)
    )

    out["active"] = _active(table, out, config, as_of)
    out["family"] = _family(out, config)
    soft = out["coding_method"].str.upper().isin(config.soft_coding_values).fillna(False)
    if config.soft_coded_departments:
        soft |= out["department"].str.upper().isin(config.soft_coded_departments).fillna(False)
    out["soft"] = soft.astype(bool)
    out["ancillary"] = out["family"].isin(config.ancillary_families).fillna(False).astype(bool)
    out["requires_hcpcs"] = out["family"].isin(config.requires_hcpcs).fillna(False).astype(bool)

    check["charge_code"] = out["charge_code"]
    check["description"] = out["description"]
    check_source["charge_code"] = cc or "charge code"
    check_source["description"] = table.col("description") or "description"
    check_frame = pd.DataFrame(check, index=idx)
    found.extend(_column_findings(table))
    prices = pd.DataFrame(dict(zip(price_cols, numbers, strict=True)), index=idx)
    lines = Lines(
        out,
        coded,
        repaired_masks,
        dict(zip(hcpcs_cols, split_mods, strict=True)),
        check_frame,
        check_source,
        prices,
        F.combine(found),
        raw=df,
        first_hcpcs_col=hcpcs_cols[0] if hcpcs_cols else None,
    )
    return lines


def _repair_finding(rule, label, rep, raw, col, letters, charge, advice) -> pd.DataFrame:
    """'<label> '<raw>' was repaired to '<value>' (<why>). <advice>' on every repaired cell."""
    return F.make(
        rule,
        rep.repaired,
        column=col,
        letter=letters[col],
        value=raw,
        suggested=rep.value,
        charge_code=charge,
        message=f"{label} '"
        + raw.fillna("")
        + "' was repaired to '"
        + rep.value
        + "' ("
        + rep.reason
        + f"). {advice}",
    )


def _active(table: Table, out: pd.DataFrame, config: Config, as_of: dt.date) -> pd.Series:
    active = ~out["status"].str.upper().isin(config.inactive_status).fillna(False)
    end_col = table.col("end_date")
    if end_col:
        ends = pd.to_datetime(clean_text(table.data[end_col]), errors="coerce", format="mixed")
        active &= ~(ends <= pd.Timestamp(as_of)).fillna(False)
    return active.astype(bool)


def _family(out: pd.DataFrame, config: Config) -> pd.Series:
    """Family from the revenue code; failing that, from department or revenue description."""
    exact, prefix = {}, {}
    for name, codes in config.families.items():
        for code in codes:
            (exact if len(code) == 4 else prefix).setdefault(code, name)
    rev = out["revenue_code"]
    family = rev.map(exact).fillna(rev.str[:3].map(prefix))
    patterns = sorted(
        ((kw, name) for name, kws in config.department_families.items() for kw in kws),
        key=lambda t: -len(t[0]),
    )

    def by_words(text: str) -> str | None:
        up = text.upper()
        for kw, name in patterns:
            if re.search(rf"(?<![A-Z0-9]){re.escape(kw)}(?![A-Z0-9])", up):
                return name
        return None

    no_rev = rev.isna()
    for source in ("department", "revenue_description"):
        values = out[source].where(no_rev & family.isna())
        uniques = values.dropna().unique()
        if len(uniques):
            lookup = {u: by_words(u) for u in uniques}
            family = family.fillna(values.map(lookup).astype("str"))
    return family.astype("str")


def _column_findings(table: Table) -> list[pd.DataFrame]:
    out = []
    present = {f for f, cols in table.fields.items() if cols}
    seen = ", ".join(repr(h) for h in table.headers)
    for name, (label, rules) in EXPECTED.items():
        has = bool(present & set(REVENUE_FIELDS)) if name == "revenue_code" else name in present
        if has:
            continue
        skipped = f" Rules skipped: {', '.join(rules)}." if rules else ""
        extra = {
            "charge_code": " Lines are identified by their row; static coding needs a charge code.",
            "status": " Every line is treated as active.",
            "department": " Department-based settings (soft-coded departments) do not apply.",
        }.get(name, "")
        out.append(
            F.make(
                "COLUMN-MISSING",
                message=f"No {label} column was found (headers seen: {seen}).{skipped}{extra} "
                "Add the header to [aliases] in the config if the column is there.",
                value=label,
                row=table.header_row,
            )
        )
        for rule in rules:
            out.append(
                F.make(
                    "RULE-SKIPPED",
                    message=f"{rule} did not run: it needs a {label} column.",
                    value=rule,
                    row=table.header_row,
                )
            )
    for col in table.unmapped:
        out.append(
            F.make(
                "COLUMN-UNMAPPED",
                message=f"Column '{col}' matches no known field; it is carried through untouched.",
                column=col,
                letter=table.letters[col],
                value=col,
                row=table.header_row,
            )
        )
    return out
