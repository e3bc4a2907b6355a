"""Turn a read table into canonical lines: repaired codes, one revenue code, HCPCS and price
per line (with the column each came from), and the line's status, family and coding method."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from . import findings as F
from .config import Config
from .fields import REVENUE_FIELDS
from .normalize import (
    STORAGE_KINDS,
    Repair,
    clean_charge_code,
    clean_text,
    parse_price,
    repair_hcpcs,
    repair_revenue_code,
    revenue_markers,
    split_modifiers,
)
from .normalize import has_words as _has_words
from .reader import Table
from .rules import needing

if TYPE_CHECKING:
    from .reference import Reference

# Expected columns (COLUMN-MISSING); the rules each one gates come from the rule registry.
EXPECTED = {
    "charge_code": "charge code",
    "revenue_code": "revenue code",
    "hcpcs": "HCPCS/CPT",
    "modifiers": "modifiers",
    "price": "price",
    "status": "status",
    "department": "department",
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
    # The Repairs audit: one row per repaired cell (rule, row, cell, charge_code, column,
    # value = as written, suggested = repaired, message = what was done).
    repairs: pd.DataFrame = field(default_factory=F.empty)
    # Cells holding a configured "no code" placeholder ('0', 'NONE', 'N/A'), read as blank:
    # count per code column.
    placeholders: dict[str, int] = field(default_factory=dict)
    # True where a revenue cell states "no revenue code" ('0'): blank on purpose, not forgotten.
    no_revenue: pd.Series | None = None
    # Lines made inactive here, by reason: a record marker in the revenue code cell ('CNV'),
    # an older row of a charge code's price history (effective dates).
    retired: dict[str, int] = field(default_factory=dict)


def _first(values: list[pd.Series], sources: list[str], index: pd.Index):
    """Coalesce: per row, the first non-blank value and the column it came from."""
    value = pd.Series(pd.NA, index=index, dtype="str")
    source = pd.Series(pd.NA, index=index, dtype="str")
    for v, s in zip(values, sources, strict=True):
        take = value.isna() & v.notna()
        value = value.mask(take, v)
        source = source.mask(take, s)
    return value, source


def prepare(
    table: Table, config: Config, as_of: dt.date, reference: Reference | None = None
) -> Lines:
    df = table.data
    idx = df.index
    letters = table.letters
    out = pd.DataFrame(index=idx)
    found = []
    check: dict[str, pd.Series] = {}
    check_source: dict[str, str] = {}
    coded: dict[str, pd.Series] = {}
    repaired_masks: dict[str, pd.Series] = {}
    audit = _Audit(table)
    known_mods, known_code = _glue_reference(reference)

    def text_of(name: str) -> pd.Series:
        col = table.col(name)
        return clean_text(df[col]) if col else pd.Series(pd.NA, index=idx, dtype="str")

    cc = table.col("charge_code")
    if cc:
        rep = clean_charge_code(df[cc])
        out["charge_code"] = rep.value
        audit.add(rep, cc, "charge codes", pd.Series(pd.NA, index=idx, dtype="str"))
    else:
        out["charge_code"] = pd.Series(pd.NA, index=idx, dtype="str")
    for name in ("description", "department", "status", "coding_method", "revenue_description"):
        out[name] = text_of(name)
    for name in ("price_flag", "setting"):
        out[name] = text_of(name)
    charge = out["charge_code"]
    audit.charge = charge

    # Revenue codes: repair every revenue column; the line's code is the first usable one.
    rev_cols = [c for f in REVENUE_FIELDS for c in table.fields.get(f, [])]
    rev_values = []
    rev_placeholders: dict[str, int] = {}
    no_revenue = pd.Series(False, index=idx)
    marked = pd.Series(False, index=idx)
    for k, col in enumerate(rev_cols):
        holder = clean_text(df[col]).str.upper().isin(config.revenue_placeholders)
        holder = holder.fillna(False).astype(bool)
        if holder.any():
            rev_placeholders[col] = int(holder.sum())
        no_revenue |= holder
        marked |= revenue_markers(df[col])
        rep = repair_revenue_code(df[col].mask(holder), table.numeric.get(col))
        coded[col] = rep.value
        repaired_masks[col] = rep.repaired
        rev_values.append(rep.value)
        check[f"revenue_code__{k}"] = rep.value
        check_source[f"revenue_code__{k}"] = col
        audit.add(rep, col, "revenue codes", charge, rule="REVCODE-REPAIRED")
    out["revenue_code"], out["revenue_col"] = _first(
        [v.where(v.str.fullmatch(r"\d{4}").fillna(False)) for v in rev_values], rev_cols, idx
    )
    # A line whose revenue codes are all malformed still points at its first revenue cell.
    out["revenue_col"] = out["revenue_col"].fillna(rev_cols[0] if rev_cols else pd.NA)

    # HCPCS: repair every code column; the line's code is the first non-blank one.
    hcpcs_cols = table.fields.get("hcpcs", [])
    values, split_mods, repaired = [], [], []
    placeholders: dict[str, int] = dict(rev_placeholders)
    for k, col in enumerate(hcpcs_cols):
        rep = repair_hcpcs(
            df[col], table.numeric.get(col), config.hcpcs_placeholders, known_mods, known_code
        )
        coded[col] = rep.value
        repaired_masks[col] = rep.repaired
        values.append(rep.value)
        split_mods.append(rep.modifiers)
        repaired.append(rep.repaired)
        check[f"hcpcs__{k}"] = rep.value
        check_source[f"hcpcs__{k}"] = col
        placeholders[col] = int(rep.placeholder.sum())
        audit.add(rep, col, "HCPCS codes", charge)
        on = rep.content.to_numpy(dtype=bool)  # the message only where a finding is made
        found.append(
            audit.content(
                "HCPCS-REPAIRED",
                rep,
                col,
                "HCPCS '"
                + df[col][on].fillna("")
                + "' was repaired to '"
                + rep.value[on]
                + "' ("
                + rep.reason[on]
                + "). Put the bare code in the cell"
                + rep.modifiers[on]
                .notna()
                .map({True: " and its modifiers in their own column", False: ""})
                + ".",
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
        held = rep.value.dropna()  # split only the cells that hold modifiers
        tokens = held.str.split(" ", n=4, expand=True) if len(held) else None
        if tokens is not None:
            for j in tokens.columns:
                name = f"modifier__{k}_{j}"
                check[name] = tokens[j].astype("str").reindex(idx)
                check_source[name] = col
        audit.add(rep, col, "modifiers", charge)
        on = rep.content.to_numpy(dtype=bool)
        found.append(
            audit.content(
                "MODIFIER-REPAIRED",
                rep,
                col,
                "Modifier '"
                + df[col][on].fillna("")
                + "' was repaired to '"
                + rep.value[on]
                + "' ("
                + rep.reason[on]
                + "). Write modifiers as 2-character codes.",
            )
        )
    hcol = out["hcpcs_col"]
    split_out = F.make(
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
    found.append(split_out)
    audit.parts.append(split_out)
    joined = pd.Series("", index=idx, dtype="str")
    for part in [*mod_parts, glued]:
        joined = (joined + " " + part.fillna("")).str.strip()
    out["modifiers"] = joined.mask(joined.eq(""))
    first_mod_col = mod_cols[0] if mod_cols else pd.NA
    out["modifiers_col"] = pd.Series(first_mod_col, index=idx, dtype="str").mask(
        glued.notna() & pd.Series(not mod_cols, index=idx), hcol
    )
    found.extend(audit.summaries)

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
    # A record marker in the revenue code cell: the line is not billed on its own.
    retired = {"revenue code marker": int((out["active"] & marked).sum())}
    out["active"] &= ~marked
    history = superseded(table, out, as_of)
    retired["older price-history row"] = int(history.sum())
    out["active"] &= ~history
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
        repairs=audit.frame(),
        placeholders=placeholders,
        no_revenue=no_revenue,
        retired={k: v for k, v in retired.items() if v},
    )
    return lines


_DATE_TEXT = r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?: \d.*)?"


def _effective_column(table: Table) -> str | None:
    """The effective-date column: by its name, else a column with no header name whose
    values are dates (Eastern Plumas' unnamed date beside Charge and Units). A named date
    column (end, delete, last update) is never taken for one."""
    col = table.col("effective_date")
    if col or table.col("end_date"):
        return col
    for name in table.unmapped:
        if name.strip() and not name.startswith("Column "):
            continue
        values = clean_text(table.data[name]).dropna()
        if len(values) >= 10 and values.str.fullmatch(_DATE_TEXT).mean() >= 0.95:
            return name
    return None


def superseded(table: Table, out: pd.DataFrame, as_of: dt.date) -> pd.Series:
    """Older rows of a price history: where an effective-date column dates several active rows
    of one charge code, the row in force on the as-of date is the latest dated on or before it
    (failing that, the earliest); the others are history, not duplicates, and are inactive.
    Rows without a readable date are left as they are."""
    col = _effective_column(table)
    none = pd.Series(False, index=out.index)
    if not col:
        return none
    eff = pd.to_datetime(clean_text(table.data[col]), errors="coerce", format="mixed")
    code = out["charge_code"]
    dated = eff.where(code.notna() & out["active"])
    if dated.notna().sum() < 2:
        return none
    past = dated.where(dated <= pd.Timestamp(as_of))
    current = past.groupby(code).transform("max")
    current = current.fillna(dated.groupby(code).transform("min"))
    return (dated.notna() & dated.ne(current)).fillna(False).astype(bool)


def _glue_reference(reference: Reference | None):
    """Known modifiers and a known-code test for splitting glued codes ('8352090')."""
    if reference is None:
        return None, None
    from .reference import CPT_MODIFIERS, CPT_RE, LEVEL2_RE, isin

    mods = frozenset(reference.modifiers.index) | CPT_MODIFIERS
    level2 = reference.level2.index  # the reference's own Index: isin converts it once
    cpt = reference.cpt.index if reference.cpt is not None else None

    def known(codes: pd.Series) -> pd.Series:
        is_l2 = codes.str.fullmatch(LEVEL2_RE).fillna(False)
        is_cpt = codes.str.fullmatch(CPT_RE).fillna(False)
        ok = ~is_l2 | isin(codes, level2) | (isin(codes, cpt) if cpt is not None else False)
        if cpt is not None:  # CPT is checkable only with Addendum B or a CPT list loaded
            ok &= ~is_cpt | isin(codes, cpt)
        return ok & codes.notna()

    return mods, known


# Per storage kind: what the export did, what the coded output does, what to fix.
_KIND_TEXT = {
    "leading_zero": ("were stored without their leading zero", "restores them", "keep 4 digits"),
    "float": ("carried a float artefact '.0'", "removes it", "store codes as text"),
    "spaces": (
        "had spaces or invisible characters around them",
        "trims them",
        "write bare values",
    ),
    "lower_case": ("were in lower case", "upper-cases them", "store codes in upper case"),
    "padding": ("were padded to a fixed width", "removes the padding", "write bare codes"),
    "bracketed": (
        "were written as the NUBC description with the code in brackets",
        "takes the bracketed code",
        "write the bare 4-digit code",
    ),
}


def _shown(raw: str) -> str:
    return raw if raw == raw.strip() and raw.isprintable() else repr(raw)


def _first_pairs(raw: pd.Series, value: pd.Series, n: int) -> pd.DataFrame:
    """The first ``n`` distinct (raw, value) pairs in row order (fewer if there are not so
    many): a prefix of the rows is searched first, as the examples are found in it."""
    both = pd.DataFrame({"raw": raw, "value": value})
    head = both.head(1000).drop_duplicates()
    if len(head) >= n or len(both) <= 1000:
        return head.head(n)
    return both.drop_duplicates().head(n)


class _Audit:
    """Collects the Repairs audit (every repaired cell) and the per-column storage findings."""

    def __init__(self, table: Table):
        self.table = table
        self.parts: list[pd.DataFrame] = []
        self.summaries: list[pd.DataFrame] = []
        self.charge: pd.Series | None = None

    def add(
        self, rep: Repair, col: str, noun: str, charge: pd.Series, rule: str = "FORMAT-REPAIRED"
    ) -> None:
        """Storage repairs of one column: every cell into the audit, one finding per kind."""
        raw = self.table.data[col]
        letter = self.table.letters[col]
        storage = rep.repaired & ~rep.content
        self.parts.append(
            F.make(
                rule,
                storage,
                column=col,
                letter=letter,
                value=raw,
                suggested=rep.value,
                charge_code=charge,
                message=rep.reason,
            )
        )
        for kind, mask in rep.storage.items():
            n = int(mask.sum())
            did, fixes, advice = _KIND_TEXT[kind]
            pairs = _first_pairs(raw[mask], rep.value[mask], 3)
            shown = [f"{_shown(r)} → {v}" for r, v in pairs.head(2).itertuples(index=False)]
            more = ", ..." if len(pairs) > 2 else ""
            self.summaries.append(
                F.make(
                    rule,
                    row=self.table.header_row,
                    column=col,
                    letter=letter,
                    value=STORAGE_KINDS[kind],
                    message=f"{n:,} {noun} in column {col} {did} ({', '.join(shown)}{more}); "
                    f"the coded output {fixes}. Fix the export to {advice}.",
                )
            )

    def content(self, rule: str, rep: Repair, col: str, message: pd.Series) -> pd.DataFrame:
        """One finding per line with a content repair; also kept in the audit."""
        frame = F.make(
            rule,
            rep.content,
            column=col,
            letter=self.table.letters[col],
            value=self.table.data[col],
            suggested=rep.value,
            charge_code=self.charge,
            message=message,
        )
        self.parts.append(frame)
        return frame

    def frame(self) -> pd.DataFrame:
        audit = F.combine(self.parts)
        if audit.empty:
            return audit.assign(cell=pd.Series([], dtype="object"))
        audit = audit.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
        audit["cell"] = audit["letter"].astype("str") + audit["row"].astype("str")
        return audit


def _active(table: Table, out: pd.DataFrame, config: Config, as_of: dt.date) -> pd.Series:
    active = ~out["status"].str.upper().isin(config.inactive_status).fillna(False)
    # Retire markers in the text or the identifiers count only where the status cell says
    # nothing: a stated status wins over them.
    unstated = out["status"].isna()
    if config.inactive_descriptions:
        retired = _has_words(out["description"], config.inactive_descriptions)
        active &= ~(retired & unstated)
    if config.inactive_codes:  # revenue-code markers ('CNV') are normalize.revenue_markers'
        active &= ~(_has_words(out["charge_code"], config.inactive_codes) & unstated)
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
            held = values.dropna()  # the rest maps to NA, which fills nothing
            family = family.fillna(held.map(lookup).astype("str"))
    return family.astype("str")


def _column_findings(table: Table) -> list[pd.DataFrame]:
    out = []
    present = {f for f, cols in table.fields.items() if cols}
    seen = ", ".join(repr(h) for h in table.headers)
    for name, label in EXPECTED.items():
        has = bool(present & set(REVENUE_FIELDS)) if name == "revenue_code" else name in present
        if has:
            continue
        rules = needing(name)
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
