"""Line and cross-line rules, each a vectorised mask over the canonical lines.

Per-cell shape rules live in the pandera contract (schemas/chargemaster.yaml); what needs
several columns, several lines or the configuration lives here. Every rule but
CHARGE-CODE-MISSING looks at active lines only (../shared/docs/rules.md).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import findings as F
from .config import CodeFamily, Config
from .prepare import Lines

# All-nines prices (99999 ... 999999999999, with or without .99) and one cent are placeholders.
_PLACEHOLDER_PRICES = (
    {float(10**k - 1) for k in range(5, 13)}
    | {round(10**k - 0.01, 2) for k in range(5, 13)}
    | {0.01}
)


def _fmt_price(p: pd.Series) -> pd.Series:
    return p.map(lambda v: f"{v:,.2f}" if v == v else "").astype("str")


def run_rules(lines: Lines, config: Config, has: set[str]) -> list[pd.DataFrame]:
    """All rules of this module; ``has`` names the canonical fields the file provides."""
    df = lines.frame
    active = df["active"]
    charge = df["charge_code"]
    out: list[pd.DataFrame] = []
    add = out.append

    if "charge_code" in has:
        add(
            F.make(
                "CHARGE-CODE-MISSING",
                charge.isna(),
                column=lines.check_source["charge_code"],
                value="",
                message="Charge code is blank. Give the line its charge code; without one it "
                "cannot be billed or statically coded.",
            )
        )
        dup = active & charge.notna() & charge.where(active).duplicated(keep=False)
        counts = charge[dup].map(charge[dup].value_counts())
        add(
            F.make(
                "CHARGE-CODE-DUPLICATE",
                dup,
                column=lines.check_source["charge_code"],
                value=charge,
                charge_code=charge,
                message="Charge code '"
                + charge
                + "' is on "
                + counts.astype("str")
                + " active lines. Give each line its own charge code or inactivate the extras.",
            )
        )

    if "price" in has:
        out.extend(_price_rules(lines, active, charge))
    if "revenue_code" in has:
        missing = active & df["revenue_code"].isna() & _all_blank(lines, "revenue_code__")
        add(
            F.make(
                "REVCODE-MISSING",
                missing,
                column=df["revenue_col"],
                value="",
                charge_code=charge,
                message="Revenue code is blank on an active line. Enter the 4-digit UB-04 "
                "revenue code.",
            )
        )
    out.extend(_hcpcs_rules(lines, config, active, charge))
    out.extend(_modifier_rules(df, active, charge))
    return out


def _all_blank(lines: Lines, prefix: str) -> pd.Series:
    cols = [c for c in lines.check.columns if c.startswith(prefix)]
    if not cols:
        return pd.Series(True, index=lines.frame.index)
    return lines.check[cols].isna().all(axis=1)


def _price_rules(lines: Lines, active: pd.Series, charge: pd.Series) -> list[pd.DataFrame]:
    df, prices = lines.frame, lines.prices
    first = prices.columns[0]
    out = []
    for col in prices.columns:
        raw = lines.raw[col]
        bad = active & raw.notna() & raw.str.strip().ne("") & prices[col].isna()
        out.append(
            F.make(
                "PRICE-MISSING",
                bad,
                column=col,
                value=raw,
                charge_code=charge,
                message="Price '" + raw.fillna("") + "' is not a number. Enter the charge "
                "amount (a '$' and thousands commas are fine).",
            )
        )
    blank = active & prices.isna().all(axis=1) & ~df["price_text_bad"]
    out.append(
        F.make(
            "PRICE-MISSING",
            blank,
            column=first,
            value="",
            charge_code=charge,
            message="Price is blank on an active line. Enter the charge amount.",
        )
    )
    numbers = prices.fillna(np.nan)
    zero = active & numbers.notna().any(axis=1) & numbers.fillna(0).eq(0).all(axis=1)
    out.append(
        F.make(
            "PRICE-ZERO",
            zero,
            column=first,
            value="0",
            charge_code=charge,
            message="Price is zero on an active line. Enter the charge, or inactivate the line "
            "if it is not billable.",
        )
    )
    for col in prices.columns:
        holder = active & prices[col].round(2).isin(_PLACEHOLDER_PRICES)
        out.append(
            F.make(
                "PRICE-PLACEHOLDER",
                holder,
                column=col,
                value=_fmt_price(prices[col]),
                charge_code=charge,
                message="Price " + _fmt_price(prices[col]) + " looks like a placeholder. Enter "
                "the real charge.",
            )
        )
    code, mods, price = df["coded_hcpcs"], df["coded_modifiers"].fillna(""), df["price"]
    priced = active & code.notna() & (price > 0)
    if priced.any():
        key = code.where(priced) + "|" + mods
        grouped = price[priced].groupby(key[priced])
        lo, hi, n = grouped.transform("min"), grouped.transform("max"), grouped.transform("size")
        differ = (lo != hi).reindex(df.index, fill_value=False)
        label = code + mods.map(lambda m: f" {m}" if m else "")
        out.append(
            F.make(
                "PRICE-INCONSISTENT",
                differ,
                column=df["price_col"],
                value=_fmt_price(price),
                charge_code=charge,
                message=label
                + " is priced from "
                + _fmt_price(lo.reindex(df.index))
                + " to "
                + _fmt_price(hi.reindex(df.index))
                + " across "
                + n.reindex(df.index).astype("Int64").astype("str")
                + " active lines. Make the charge uniform or document "
                "why it differs.",
            )
        )
    return out


def _why_family(df: pd.DataFrame) -> pd.Series:
    """What put the line in its family: its revenue code, else its department text."""
    text = ("revenue code " + df["revenue_code"]).fillna(
        ("department '" + df["department"] + "'").where(df["revenue_code"].isna())
    )
    text = text.fillna("revenue description '" + df["revenue_description"] + "'")
    return text.fillna("")


def _in_ranges(code: pd.Series, ranges: tuple[str, ...]) -> pd.Series:
    """Codes inside any 'LO-HI' range of the same shape (digits vs letters in place)."""
    hit = pd.Series(False, index=code.index)
    for rng in ranges:
        lo, _, hi = rng.partition("-")
        hi = hi or lo
        shape = "".join(r"\d" if ch.isdigit() else re.escape(ch) for ch in lo)
        shape = re.sub(r"(\\d)+", lambda m: rf"\d{{{len(m.group(0)) // 2}}}", shape)
        same = code.str.fullmatch(shape).fillna(False)
        hit |= same & (code >= lo).fillna(False) & (code <= hi).fillna(False)
    return hit


def code_family(code: pd.Series, families: tuple[CodeFamily, ...]) -> pd.Series:
    out = pd.Series(pd.NA, index=code.index, dtype="str")
    for fam in families:
        out = out.mask(out.isna() & _in_ranges(code, fam.codes), fam.name)
    return out


def _hcpcs_rules(
    lines: Lines, config: Config, active: pd.Series, charge: pd.Series
) -> list[pd.DataFrame]:
    df = lines.frame
    code = df["coded_hcpcs"]
    col = df["hcpcs_col"].fillna(lines.first_hcpcs_col)
    out = []
    missing = active & df["requires_hcpcs"] & ~df["soft"] & code.isna()
    out.append(
        F.make(
            "HCPCS-MISSING",
            missing,
            column=col,
            value="",
            charge_code=charge,
            message="Active "
            + df["family"].fillna("").str.replace("_", " ")
            + " line ("
            + _why_family(df)
            + ") has no HCPCS; it must be statically coded. Add the code to "
            "the line or to the code map, or mark the line soft-coded.",
        )
    )
    fam = code_family(code, config.code_families)
    allowed = {f.name: set(f.revenue_families) for f in config.code_families}
    rev_fam = df["family"]
    fits = pd.Series(True, index=df.index)
    for name, fams in allowed.items():
        fits &= ~(fam.eq(name).fillna(False) & ~rev_fam.isin(list(fams)).fillna(False))
    mismatch = active & fam.notna() & df["revenue_code"].notna() & ~fits
    out.append(
        F.make(
            "HCPCS-REVCODE-MISMATCH",
            mismatch,
            column=col,
            value=code,
            charge_code=charge,
            message="HCPCS "
            + code
            + " is a "
            + fam.fillna("")
            + " code but revenue code "
            + df["revenue_code"].fillna("")
            + " is not a "
            + fam.fillna("")
            + " revenue code. Correct the revenue code or the HCPCS.",
        )
    )
    cat2 = active & code.str.fullmatch(r"\d{4}F").fillna(False) & (df["price"] > 0)
    out.append(
        F.make(
            "HCPCS-CATEGORY-II",
            cat2,
            column=col,
            value=code,
            charge_code=charge,
            message="HCPCS "
            + code
            + " is a CPT Category II tracking code on a line priced "
            + _fmt_price(df["price"])
            + ". Category II codes are not paid: price the line at "
            "zero or remove the code.",
        )
    )
    return out


_CONFLICTS = [
    (r"(?=.*\b26\b)(?=.*\bTC\b)", "26 with TC"),
    (r"(?=.*\b59\b)(?=.*\bX[ESPU]\b)", "59 with an X{EPSU} modifier"),
    (r"(?=.*\bLT\b)(?=.*\bRT\b)", "LT with RT"),
    (r"(?=.*\b50\b)(?=.*\b(?:LT|RT)\b)", "50 with LT or RT"),
    (r".*?\b(\w{2})\b.*\b\1\b", "the same modifier twice"),
    (r"(?:\S+\s+){4}\S+", "more than 4 modifiers"),
]


def _modifier_rules(df: pd.DataFrame, active: pd.Series, charge: pd.Series) -> list:
    mods = df["coded_modifiers"]
    col = df["modifiers_col"].fillna(df["hcpcs_col"])
    reason = pd.Series("", index=df.index, dtype="str")
    for pattern, label in _CONFLICTS:
        hit = mods.str.match(pattern).fillna(False)
        reason = reason.mask(hit & reason.eq(""), label).mask(
            hit & reason.ne(""), reason + "; " + label
        )
    conflict = active & reason.ne("")
    pctc = (
        active
        & mods.str.contains(r"\b(?:TC|26)\b", regex=True).fillna(False)
        & df["revenue_code"].notna()
        & df["family"].ne("professional_fees").fillna(True)
    )
    return [
        F.make(
            "MODIFIER-CONFLICT",
            conflict,
            column=col,
            value=mods,
            charge_code=charge,
            message="Modifiers '"
            + mods
            + "' cannot go together ("
            + reason
            + "). Keep the one that describes the service.",
        ),
        F.make(
            "MODIFIER-PCTC-FACILITY",
            pctc,
            column=col,
            value=mods,
            charge_code=charge,
            message="Modifier TC/26 on revenue code " + df["revenue_code"] + ", a facility "
            "technical line. Hospitals bill the technical component without TC; 26 belongs on "
            "professional-fee lines (096x-098x). Remove the modifier.",
        ),
    ]
