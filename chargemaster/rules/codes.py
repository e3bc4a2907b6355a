"""Revenue code, HCPCS and modifier rules that need several columns or the configuration."""

from __future__ import annotations

import pandas as pd

from .charge import charge_columns
from .common import code_family, fmt_price, per_value, why_family
from .registry import INVALID_CODES, MISMATCH, MISSING_HCPCS, Context, Fire, rule


def _all_blank(ctx: Context, prefix: str) -> pd.Series:
    check = ctx.lines.check
    cols = [c for c in check.columns if c.startswith(prefix)]
    if not cols:
        return pd.Series(True, index=ctx.frame.index)
    return check[cols].isna().all(axis=1)


@rule(
    "REVCODE-MISSING",
    needs=("revenue_code",),
    message="Revenue code is blank on an active line{billed}. Enter the 4-digit UB-04 revenue "
    "code.",
    worklist=INVALID_CODES,
)
def revcode_missing(ctx: Context) -> list[Fire]:
    """A blank revenue code on a line that bills something. A line with no HCPCS and no price
    above zero (a statistical, 'no charge' or memo line) never reaches a claim line by itself:
    PRICE-ZERO or PRICE-MISSING already names it. Only the charge columns count: a line priced
    only in a price transparency file's payer columns (an all-inclusive per diem a contract
    pays) is a contract term, not a chargemaster charge. A cell that says '0' (a configured
    placeholder) is blank on purpose, not forgotten."""
    df = ctx.frame
    prices = ctx.lines.prices[charge_columns(ctx)]
    code = df["coded_hcpcs"]
    if len(prices.columns):
        priced = prices.gt(0).any(axis=1)
        billed = code.notna() | priced
    else:
        priced = pd.Series(False, index=df.index)
        billed = pd.Series(True, index=df.index)
    on_purpose = ctx.lines.no_revenue
    if on_purpose is None:
        on_purpose = pd.Series(False, index=df.index)
    missing = ctx.active & df["revenue_code"].isna() & _all_blank(ctx, "revenue_code__")
    missing &= billed & ~on_purpose
    what = pd.Series("", index=df.index, dtype="str")
    if len(prices.columns):
        what = what.mask(priced, " priced " + fmt_price(prices.max(axis=1)))
    what = what.mask(code.notna(), what + " with HCPCS " + code.fillna(""))
    return [Fire(missing, column=df["revenue_col"], value="", fields={"billed": what})]


def _catch_all_lines(description: pd.Series) -> pd.Series:
    from ..suggest import catch_all, normalize  # the suggester's reading of a catch-all line

    caught = description.map(lambda d: isinstance(d, str) and catch_all(normalize(d)) == "")
    return caught.astype(bool)


# Without a HCPCS column every ancillary line would fire: COLUMN-MISSING says it once instead.
@rule(
    "HCPCS-MISSING",
    needs=("hcpcs",),
    message="Active {family} line ({why}) has no HCPCS; it must be statically coded. Add the "
    "code to the line or to the code map, or mark the line soft-coded.",
    worklist=MISSING_HCPCS,
)
def hcpcs_missing(ctx: Context) -> list[Fire]:
    df = ctx.frame
    missing = ctx.active & df["requires_hcpcs"] & ~df["soft"] & df["coded_hcpcs"].isna()
    # A catch-all line ('MISC LAB', 'XRAY THER MISC', 'MISCELLANEOUS') stands for whatever was
    # done: where no section's unlisted code fits it ('MISC XRAY' takes 76499), no one code can
    # be static on it, it is coded at charge entry by design.
    missing &= ~per_value(df["description"].where(missing), _catch_all_lines)
    family = df["family"].fillna("").str.replace("_", " ")
    col = df["hcpcs_col"].fillna(ctx.lines.first_hcpcs_col)
    return [Fire(missing, column=col, value="", fields={"family": family, "why": why_family(df)})]


@rule(
    "HCPCS-REVCODE-MISMATCH",
    needs=("revenue_code",),
    message="HCPCS {code} is a {fam} code but revenue code {rev} is not a {fam} revenue code. "
    "Correct the revenue code or the HCPCS.",
    worklist=MISMATCH,
)
def hcpcs_revcode_mismatch(ctx: Context) -> list[Fire]:
    """The configured table of code families and the revenue families each fits
    ([code_families] in defaults.toml, each pair with its public source)."""
    df = ctx.frame
    code = df["coded_hcpcs"]
    families = ctx.config.code_families
    fam = code_family(code, families)
    rev = df["revenue_code"]
    fits = pd.Series(True, index=df.index)
    for f in families:
        room = _in_revenue_codes(rev, f.revenue_codes)
        fits &= ~(fam.eq(f.name).fillna(False) & ~df["family"].isin(f.revenue_families) & ~room)
    mismatch = ctx.active & fam.notna() & df["revenue_code"].notna() & ~fits
    col = df["hcpcs_col"].fillna(ctx.lines.first_hcpcs_col)
    shown = fam.fillna("").str.replace("_", " ")
    return [
        Fire(
            mismatch,
            column=col,
            value=code,
            fields={"code": code, "fam": shown, "rev": df["revenue_code"]},
        )
    ]


def _in_revenue_codes(rev: pd.Series, codes: tuple[str, ...]) -> pd.Series:
    """True where a revenue code is one of ``codes`` (4 digits) or starts with one (3 digits)."""
    return per_value(rev, lambda values: _revenue_codes_in(values, codes))


def _revenue_codes_in(rev: pd.Series, codes: tuple[str, ...]) -> pd.Series:
    exact = [c for c in codes if len(c) == 4]
    prefix = [c for c in codes if len(c) == 3]
    hit = rev.isin(exact) | rev.str[:3].isin(prefix)
    return hit.fillna(False).astype(bool)


@rule(
    "HCPCS-CATEGORY-II",
    needs=("price",),
    message="HCPCS {code} is a CPT Category II tracking code on a line priced {price}. Category "
    "II codes are not paid: price the line at zero or remove the code.",
    worklist=INVALID_CODES,
)
def hcpcs_category_ii(ctx: Context) -> list[Fire]:
    df = ctx.frame
    code = df["coded_hcpcs"]
    # One cent is how hospitals carry a reporting-only code (rules.md, PRICE-PLACEHOLDER).
    cat2 = ctx.active & code.str.fullmatch(r"\d{4}F").fillna(False) & (df["price"] > 0.01)
    col = df["hcpcs_col"].fillna(ctx.lines.first_hcpcs_col)
    return [
        Fire(cat2, column=col, value=code, fields={"code": code, "price": fmt_price(df["price"])})
    ]


_CONFLICTS = [
    (r"(?=.*\b26\b)(?=.*\bTC\b)", "26 with TC"),
    (r"(?=.*\b59\b)(?=.*\bX[ESPU]\b)", "59 with an X{EPSU} modifier"),
    (r"(?=.*\bLT\b)(?=.*\bRT\b)", "LT with RT"),
    (r"(?=.*\b50\b)(?=.*\b(?:LT|RT)\b)", "50 with LT or RT"),
    (r".*?\b(\w{2})\b.*\b\1\b", "the same modifier twice"),
    (r"(?:\S+\s+){4}\S+", "more than 4 modifiers"),
]


def _conflict_reason(mods: pd.Series) -> pd.Series:
    reason = pd.Series("", index=mods.index, dtype="str")
    for pattern, label in _CONFLICTS:
        hit = mods.str.match(pattern).fillna(False)
        reason = reason.mask(hit & reason.eq(""), label).mask(
            hit & reason.ne(""), reason + "; " + label
        )
    return reason


def _modifier_col(df: pd.DataFrame) -> pd.Series:
    return df["modifiers_col"].fillna(df["hcpcs_col"])


@rule(
    "MODIFIER-CONFLICT",
    message="Modifiers '{mods}' cannot go together ({reason}). Keep the one that describes the "
    "service.",
    worklist=INVALID_CODES,
)
def modifier_conflict(ctx: Context) -> list[Fire]:
    df = ctx.frame
    mods = df["coded_modifiers"]
    reason = per_value(mods, _conflict_reason)
    conflict = ctx.active & reason.ne("")
    return [
        Fire(
            conflict,
            column=_modifier_col(df),
            value=mods,
            fields={"mods": mods, "reason": reason},
        )
    ]


@rule(
    "MODIFIER-PCTC-FACILITY",
    needs=("revenue_code",),
    message="Modifier TC/26 on revenue code {rev}, a facility technical line. Hospitals bill the "
    "technical component without TC; 26 belongs on professional-fee lines (096x-098x). Remove "
    "the modifier.",
    worklist=INVALID_CODES,
)
def modifier_pctc_facility(ctx: Context) -> list[Fire]:
    df = ctx.frame
    mods = df["coded_modifiers"]
    pctc = (
        ctx.active
        & mods.str.contains(r"\b(?:TC|26)\b", regex=True).fillna(False)
        & df["revenue_code"].notna()
        & df["family"].ne("professional_fees").fillna(True)
    )
    return [Fire(pctc, column=_modifier_col(df), value=mods, fields={"rev": df["revenue_code"]})]
