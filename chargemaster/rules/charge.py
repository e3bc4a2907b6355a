"""Charge line rules: charge codes and prices."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..normalize import HCPCS_RE
from .common import fmt_price, in_ranges, is_noc
from .registry import PRICES, Context, Fire, rule

# All-nines prices (99999 ... 999999999999, with or without .99) and one cent are placeholders.
_NINES = {float(10**k - 1) for k in range(5, 13)} | {round(10**k - 0.01, 2) for k in range(5, 13)}


@rule(
    "CHARGE-CODE-MISSING",
    needs=("charge_code",),
    message="Charge code is blank. Give the line its charge code; without one it cannot be "
    "billed or statically coded.",
)
def charge_code_missing(ctx: Context) -> list[Fire]:
    col = ctx.lines.check_source["charge_code"]
    return [Fire(ctx.charge.isna(), column=col, value="")]


@rule(
    "CHARGE-CODE-DUPLICATE",
    needs=("charge_code",),
    message="{what}",
)
def charge_code_duplicate(ctx: Context) -> list[Fire]:
    """Every active line of a charge code shared by different items. Where all the rows of a
    code agree on description, HCPCS, modifiers and revenue code, they are one item listed
    several times (repeated rows, one row per campus or per price billed): one finding, on the
    first row, listing every row and price, since "give each line its own code" would be wrong
    advice there."""
    active, charge, df = ctx.active, ctx.charge, ctx.frame
    dup = active & charge.notna() & charge.where(active).duplicated(keep=False)
    col = ctx.lines.check_source["charge_code"]
    if not dup.any():
        return [Fire(dup, column=col, value=charge, fields={"what": ""})]
    rows = df.loc[dup]
    desc = rows["description"].str.upper().str.replace(r"\s+", " ", regex=True)
    parts = [desc, rows["coded_hcpcs"], rows["coded_modifiers"], rows["revenue_code"]]
    item = parts[0].fillna("")
    for part in parts[1:]:
        item = item + "|" + part.fillna("")
    code = charge[dup]
    one_item = code.map(item.groupby(code).nunique().eq(1))
    counts = code.map(code.value_counts())

    many = dup & ~one_item.reindex(df.index, fill_value=False)
    what = "Charge code '" + charge + "' is on " + counts.astype("str") + " active lines "
    what = what + "with different descriptions or codes. Give each item its own charge code or "
    what = what + "inactivate the extras."
    out = [Fire(many, column=col, value=charge, fields={"what": what})]

    same = code[one_item.astype(bool)]
    if len(same):
        first = same.index.to_series(index=same.index).groupby(same).transform("min")
        at = same.index[same.index == first.to_numpy()]
        price = df["price"].reindex(same.index)
        listed = (
            same.index.to_series(index=same.index)
            .groupby(same)
            .agg(lambda r: _rows_text(sorted(r)))
        )
        shown = fmt_price(price).replace("", "blank")
        distinct = shown.groupby(same).agg(lambda p: _listed(list(dict.fromkeys(p))))
        n_prices = shown.groupby(same).nunique()
        key = charge.reindex(at)
        text = pd.Series(
            [
                _one_item_text(c, int(counts[i]), listed[c], distinct[c], int(n_prices[c]))
                for i, c in zip(at, key, strict=True)
            ],
            index=at,
            dtype="str",
        )
        mask = pd.Series(df.index.isin(at), index=df.index)
        out.append(Fire(mask, column=col, value=charge, fields={"what": text}))
    return out


def _listed(values: list[str], limit: int = 10) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit:,} more" if len(values) > limit else "")


def _one_item_text(code: str, n: int, rows: str, prices: str, n_prices: int) -> str:
    head = f"Charge code '{code}' is on {n} active lines (rows {rows}) with the same description "
    head += "and codes"
    if n_prices == 1:
        return head + f", each priced {prices}: the line is repeated. Delete the extra rows."
    return (
        head + f" at {n_prices} prices ({prices}): one item at several prices. If each price "
        "belongs to a facility, setting or payer, the export needs the column that says so; a "
        "price history (give its effective-date column) or a usage report (one row per price "
        "billed) is not the current chargemaster: keep only the current price."
    )


@rule(
    "PRICE-MISSING",
    needs=("price",),
    message="{what}",
    worklist=PRICES,
)
def price_missing(ctx: Context) -> list[Fire]:
    lines, active = ctx.lines, ctx.active
    out = []
    for col in lines.prices.columns:
        raw = lines.raw[col]
        bad = active & raw.notna() & raw.str.strip().ne("") & lines.prices[col].isna()
        what = "Price '" + raw.fillna("") + "' is not a number. Enter the charge amount (a '$' "
        what = what + "and thousands commas are fine)."
        out.append(Fire(bad, column=col, value=raw, fields={"what": what}))
    blank = active & lines.prices.isna().all(axis=1) & ~ctx.frame["price_text_bad"]
    what = "Price is blank on an active line. Enter the charge amount."
    out.append(Fire(blank, column=lines.prices.columns[0], value="", fields={"what": what}))
    return out


@rule(
    "PRICE-ZERO",
    needs=("price",),
    message="Price is zero on an active line. Enter the charge, or inactivate the line if it is "
    "not billable.",
    worklist=PRICES,
)
def price_zero(ctx: Context) -> list[Fire]:
    numbers = ctx.lines.prices.fillna(np.nan)
    zero = ctx.active & numbers.notna().any(axis=1) & numbers.fillna(0).eq(0).all(axis=1)
    # CMS asks for quality-data codes at $0.00: zero is right on a reporting-only code.
    zero &= ~reporting_only(ctx, ctx.frame["coded_hcpcs"])
    return [Fire(zero, column=ctx.lines.prices.columns[0], value="0")]


def reporting_only(ctx: Context, code: pd.Series) -> pd.Series:
    """Codes that only report (CPT Category II, functional-limitation and quality G-codes, OPPS
    status M/E1/B where Addendum B is loaded): a 0.01 charge on them is normal practice."""
    cfg = ctx.config.price_placeholder
    hit = in_ranges(code, cfg.reporting_only_codes)
    ref = ctx.reference
    if ref is not None and ref.cpt is not None and cfg.reporting_only_status:
        status = ref.cpt["status"].reindex(code.fillna("")).set_axis(code.index)
        hit |= status.isin(cfg.reporting_only_status).fillna(False)
    return hit.astype(bool)


@rule(
    "PRICE-PLACEHOLDER",
    needs=("price",),
    message="Price {price} looks like a placeholder. Enter the real charge.",
    worklist=PRICES,
)
def price_placeholder(ctx: Context) -> list[Fire]:
    code = ctx.frame["coded_hcpcs"]
    # One cent stands in for a real charge only on a line that bills a national code: on an
    # uncoded line it marks a statistical or status line (functional-limitation "current status"
    # rows carried without their G-code), and on a reporting-only code it is CMS's nominal charge.
    billed = code.str.fullmatch(HCPCS_RE).fillna(False).astype(bool)
    spared = reporting_only(ctx, code) | ~billed
    out = []
    for col in ctx.lines.prices.columns:
        price = ctx.lines.prices[col].round(2)
        holder = ctx.active & (price.isin(_NINES) | (price.eq(0.01) & ~spared))
        shown = fmt_price(ctx.lines.prices[col])
        out.append(Fire(holder, column=col, value=shown, fields={"price": shown}))
    return out


def inconsistent_scope(ctx: Context, code: pd.Series) -> pd.Series:
    """True where a code is compared at all: not one that legitimately covers many items."""
    cfg = ctx.config.price_inconsistent
    out = code.notna() & ~in_ranges(code, cfg.exclude_codes)
    if cfg.exclude_local:
        out &= ~code.str.fullmatch(r"[W-Z]\d{4}").fillna(False)
    if cfg.exclude_noc and ctx.reference is not None:
        out &= ~is_noc(code, ctx.reference)
    return out.astype(bool)


@rule(
    "PRICE-INCONSISTENT",
    needs=("hcpcs", "price", "revenue_code"),
    message="{label} on {rev} is priced from {lo} to {hi} across {n} active lines (rows {rows}). "
    "Make the charge uniform or document why it differs.",
    worklist=PRICES,
)
def price_inconsistent(ctx: Context) -> list[Fire]:
    """Like with like: same code, modifiers, revenue code and price column, active facility
    lines; one finding per group, on its first line."""
    df = ctx.frame
    code, mods = df["coded_hcpcs"], df["coded_modifiers"].fillna("")
    rev = df["revenue_code"]
    rev_text = "revenue code " + rev
    facility = df["family"].ne("professional_fees").fillna(True)
    # Without a revenue code a line has nothing to be like: department text is too coarse.
    base = ctx.active & facility & rev.notna() & inconsistent_scope(ctx, code)
    label = code + mods.map(lambda m: f" {m}" if m else "")
    out = []
    for col in ctx.lines.prices.columns:
        price = ctx.lines.prices[col]
        take = base & (price > 0).fillna(False)
        if not take.any():
            continue
        key = (code + "|" + mods + "|" + rev)[take]
        grouped = price[take].groupby(key, sort=False)
        stats = grouped.agg(["min", "max", "size"])
        stats = stats[stats["min"] != stats["max"]]
        if stats.empty:
            continue
        rows = key.index.to_series(index=key.index).groupby(key, sort=False)
        first = rows.min().reindex(stats.index)
        listed = rows.agg(lambda r: _rows_text(sorted(r))).reindex(stats.index)
        at = pd.Index(first.to_numpy())
        mask = pd.Series(df.index.isin(at), index=df.index)

        def on_rows(values: pd.Series, at: pd.Index = at) -> pd.Series:
            return pd.Series(values.to_numpy(), index=at)

        lo, hi = fmt_price(on_rows(stats["min"])), fmt_price(on_rows(stats["max"]))
        out.append(
            Fire(
                mask,
                column=col,
                value=lo + " to " + hi,
                fields={
                    "label": label,
                    "rev": rev_text,
                    "lo": lo,
                    "hi": hi,
                    "n": on_rows(stats["size"]).astype("str"),
                    "rows": on_rows(listed),
                },
            )
        )
    return out


def _rows_text(rows: list[int], limit: int = 10) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit:,} more" if len(rows) > limit else "")
