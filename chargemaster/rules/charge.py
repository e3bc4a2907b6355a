"""Charge line rules: charge codes and prices."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..normalize import HCPCS_RE
from ..normalize import has_words as _has_words
from ..reference import isin
from .common import fmt_price, in_ranges, is_noc, per_value
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
        listed = same.index.to_series(index=same.index).groupby(same).agg(_rows_text)
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
    cols = charge_columns(ctx)
    out = []
    for col in cols:
        raw = lines.raw[col]
        bad = active & raw.notna() & raw.str.strip().ne("") & lines.prices[col].isna()
        # A range or 'Time based' says how the line is priced at charge entry, as a price-flag
        # column does: the file explains it, it is not a missing price.
        if bad.any():  # read only the few cells that are not numbers
            method = _pricing_method(raw[bad], ctx.config.price.pricing_method_texts)
            bad &= ~method.reindex(bad.index, fill_value=False)
        if bad.any():
            out.append(_text_prices(raw, bad, col))
    # Blank only where no price column of the line holds anything: a price in another column
    # (OP blank, IP set; a cash price beside a blank gross charge) is not a missing price.
    prices = lines.prices
    bad_text = pd.Series(False, index=prices.index)
    for col in prices.columns:
        raw = lines.raw[col]
        bad_text |= raw.notna() & raw.str.strip().ne("") & prices[col].isna()
    blank = active & prices.isna().all(axis=1) & ~bad_text
    alone, grouped = _own_or_group(ctx, blank & ~by_design(ctx), blank)
    what = (
        "Price is blank on an active line that bills "
        + ctx.frame["coded_hcpcs"].fillna("")
        + ", and no line charges that code. Enter the charge amount."
    )
    out.append(Fire(alone, column=cols[0], value="", fields={"what": what}))
    out.append(_group_fire(ctx, grouped, blank, cols[0], "blank", "have no price"))
    return out


# A published price range ('$138-11136', '100 - 250'): the charge varies with the service.
_RANGE = re.compile(r"\$?\s*\d[\d,]*(?:\.\d+)?\s*(?:-|to)\s*\$?\s*\d[\d,]*(?:\.\d+)?", re.I)


def _pricing_method(raw: pd.Series, words: tuple[str, ...]) -> pd.Series:
    """True where a price cell states how the price is set rather than a price: a range of
    charges ('$138-11136') or a method ('Time based', 'Varies', 'Per minute')."""
    text = raw.str.strip()
    out = text.str.fullmatch(_RANGE).fillna(False).astype(bool)
    if words:
        out |= _has_words(text, words)
    return out


def _text_prices(raw: pd.Series, bad: pd.Series, col: str) -> Fire:
    """Text that is not a number: one finding per kind of text in a column (the same word on
    many lines), on its first line, with the count and the rows."""
    text = raw[bad].str.strip()
    kind = text.str.upper()
    rows = kind.index.to_series(index=kind.index).groupby(kind, sort=False)
    first = rows.min()
    at = pd.Index(first.to_numpy())
    n = rows.size().set_axis(at)
    listed = rows.agg(_rows_text).set_axis(at)
    shown = raw.reindex(at).str.strip()
    one = "Price '" + shown + "' is not a number. Enter the charge amount (a '$' and thousands "
    one = one + "commas are fine)."
    many = (
        "Price '"
        + shown
        + "' is not a number on "
        + n.map("{:,}".format)
        + " active lines (rows "
        + listed
        + "). Enter each line's charge amount."
    )
    what = one.where(n.eq(1), many)
    mask = pd.Series(raw.index.isin(at), index=raw.index)
    return Fire(mask, column=col, value=shown, fields={"what": what})


@rule(
    "PRICE-ZERO",
    needs=("price",),
    message="{what}",
    worklist=PRICES,
)
def price_zero(ctx: Context) -> list[Fire]:
    cols = charge_columns(ctx)
    # Zero in every price column: a price in another column (LAB FEE beside a zero CHARGE) is
    # where the line is priced.
    numbers = ctx.lines.prices.fillna(np.nan)
    zero = ctx.active & numbers.notna().any(axis=1) & numbers.fillna(0).eq(0).all(axis=1)
    alone, grouped = _own_or_group(ctx, zero & ~by_design(ctx), zero)
    what = (
        "Price is zero on an active line that bills "
        + ctx.frame["coded_hcpcs"].fillna("")
        + ", and no line charges that code: the service is given away. Enter the charge, or "
        "inactivate the line if it is not billable."
    )
    return [
        Fire(alone, column=cols[0], value="0", fields={"what": what}),
        _group_fire(ctx, grouped, zero, cols[0], "zero", "are priced at zero"),
    ]


def charge_columns(ctx: Context) -> list[str]:
    """The price columns the price rules judge: a price transparency file's payer rates and
    derived prices (negotiated, cash) are not the chargemaster's charge."""
    cols = list(ctx.lines.prices.columns)
    words = ctx.config.price.payer_columns
    if not words:
        return cols
    payer = re.compile(r"(?<![A-Z0-9])(?:" + "|".join(map(re.escape, words)) + r")(?![A-Z0-9])")
    kept = [c for c in cols if not payer.search(str(c).upper())]
    return kept or cols


# A reporting-only G-code written in the description ('0G9168CMGN', 'G8991 MOBILITY GOAL').
_DESC_GCODE = re.compile(r"(?<![A-Z])(G\d{4})(?!\d)")


def by_design(ctx: Context) -> pd.Series:
    """Lines whose zero or blank price the file itself explains: a price-flag column (priced at
    charge entry, statistical), a description saying no charge, or a reporting-only code on the
    line or in its description."""
    # Three price rules ask for it on the same lines: work it out once per run.
    known = getattr(ctx, "_price_by_design", None)
    if known is not None:
        return known
    df, cfg = ctx.frame, ctx.config.price
    flag = df["price_flag"].str.strip().str.upper()
    out = (flag.notna() & flag.ne("") & ~flag.isin(cfg.flag_off_values)).fillna(False)
    if cfg.no_charge_descriptions:
        out |= _has_words(df["description"], cfg.no_charge_descriptions)
    out |= reporting_only(ctx, df["coded_hcpcs"])
    out |= reporting_only(ctx, _written_gcodes(df["description"]).astype("str"))
    out |= in_ranges(df["coded_hcpcs"], ctx.config.price_placeholder.token_charge_codes)
    out |= df["revenue_code"].isin(cfg.no_bill_revenue_codes).fillna(False)
    ctx._price_by_design = out.astype(bool)
    return ctx._price_by_design


def _written_gcodes(description: pd.Series) -> pd.Series:
    """The G-code a description names, else NA."""
    upper = description.str.upper()
    # Python's re (the look-behind) only on the descriptions holding a G and four digits; the
    # digits as ASCII or any non-ASCII character (Python's \d takes every Unicode digit), so
    # Arrow's RE2 finds them even in a file holding accents.
    maybe = upper.str.contains(r"G(?:[0-9]|[^\x00-\x7f]){4}", regex=True)
    return upper.where(maybe.fillna(False).astype(bool)).str.extract(_DESC_GCODE, expand=False)


def _policy_group(ctx: Context) -> pd.Series:
    """The group whose pricing policy a line shares: its revenue-code family (025x), else its
    department, else the whole file ('')."""
    known = getattr(ctx, "_price_policy_group", None)
    if known is not None:  # asked six times a run (PRICE-MISSING, PRICE-ZERO)
        return known
    df = ctx.frame
    rev = "revenue codes " + df["revenue_code"].str[:3] + "x"
    dept = "department " + df["department"]
    ctx._price_policy_group = rev.fillna(dept).fillna("").astype("str")
    return ctx._price_policy_group


def _own_or_group(ctx: Context, hit: pd.Series, price: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Split lines with a zero/blank price into those that are a finding of their own (a
    service code no line charges, in a group where that price is not the norm) and those of a
    group where it is the norm (one finding per group). The rest, uncoded lines and items
    (drugs, supplies, devices) outside such a group, are not reported: the file does not show
    they are billed at all, and most are open-priced, purchased or statistical lines. ``price``
    is every active line with that price (the norm counts the lines the file explains too),
    ``hit`` those that may be findings; a group whose price the file mostly explains (a price
    flag, 'NO CHARGE') has documented its policy and is not reported."""
    cfg = ctx.config.price
    key = _policy_group(ctx)
    size, service, coded = _service_lines(ctx)
    count = price.groupby(key).transform("sum")
    norm = (size >= cfg.group_min_lines) & (count >= cfg.group_share * size)
    norm |= _every_coded_line(ctx, price)
    alone = hit & service & ~norm
    unexplained = hit.groupby(key).transform("sum")
    norm &= unexplained * 2 >= count
    return alone.astype(bool), (hit & norm).astype(bool)


def _every_coded_line(ctx: Context, price: pd.Series) -> pd.Series:
    """True on the lines of a group where every active line that bills a service code (at
    least group_min_coded of them) has this price: a rehabilitation hospital charging therapy
    by uncoded time lines keeps its CPT lines at zero. Slips are scattered; a whole group's
    coded lines at zero is its pricing, stated once like a group that is mostly at zero."""
    key = _policy_group(ctx)
    coded = _service_lines(ctx)[2]
    n_coded = coded.groupby(key).transform("sum")
    n_priced = (coded & price).groupby(key).transform("sum")
    return ((n_coded >= ctx.config.price.group_min_coded) & n_priced.eq(n_coded)).astype(bool)


def _service_lines(ctx: Context) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(active lines in the line's policy group, whether the line bills a service code no
    line charges, whether it is an active line billing a service code): the same for
    PRICE-MISSING and PRICE-ZERO, worked out once per run."""
    known = getattr(ctx, "_price_service_lines", None)
    if known is not None:
        return known
    cfg = ctx.config.price
    size = ctx.active.groupby(_policy_group(ctx)).transform("sum")
    code = ctx.frame["coded_hcpcs"]
    service = code.str.fullmatch(HCPCS_RE).fillna(False).astype(bool)
    service &= ~in_ranges(code, cfg.item_codes)
    coded = (ctx.active & service).astype(bool)
    if ctx.reference is not None:  # an unlisted or NOC code is priced when it is used
        service &= ~is_noc(code, ctx.reference)
    service &= _current(ctx, code)
    # A code charged on another line is billable from there: the unpriced line is a variant
    # (employee health, intra-operative, add-on, research), so only a code no line charges is
    # a charge given away.
    charged = ctx.active & (ctx.lines.prices.fillna(0) > 0).any(axis=1)
    # Compared as factor numbers: the same codes, without building a set of texts.
    ids, _ = pd.factorize(code.array)
    billed = np.unique(ids[charged.to_numpy(dtype=bool) & (ids >= 0)])
    service &= ~pd.Series(np.isin(ids, billed), index=code.index)
    ctx._price_service_lines = (size, service, coded)
    return ctx._price_service_lines


def _current(ctx: Context, code: pd.Series) -> pd.Series:
    """False for a code the loaded reference shows is not billable on the as-of date (unknown,
    deleted): the code is the line's finding (HCPCS-UNKNOWN, HCPCS-DELETED), and a line kept
    under a dead code is mostly a retired one whose zero price says so."""
    return per_value(code, lambda values: _current_codes(ctx, values))


def _current_codes(ctx: Context, code: pd.Series) -> pd.Series:
    ref = ctx.reference
    ok = pd.Series(True, index=code.index)
    if ref is None or ref.cpt is None:
        return ok
    cpt = code.str.fullmatch(r"\d{4}[0-9A-Z]").fillna(False).astype(bool)
    known = isin(code, ref.cpt.index)
    if ref.history is not None:
        state = ref.history.state(ctx.as_of)
        dead = state["deleted"] | state["discontinued"]
        known &= ~code.map(dead.astype(bool)).astype("boolean").fillna(False).astype(bool)
    level2 = code.str.fullmatch(r"[A-Z]\d{4}").fillna(False).astype(bool)
    return (ok & ~(cpt & ~known) & ~(level2 & ~isin(code, ref.level2.index))).astype(bool)


def _group_fire(
    ctx: Context, grouped: pd.Series, price: pd.Series, col: str, value: str, verb: str
) -> Fire:
    """One finding per group whose pricing policy the zero or blank price is, on its first
    line: how many lines, out of how many, and their rows."""
    key = _policy_group(ctx)[grouped]
    if key.empty:
        return Fire(grouped, column=col, value=value, fields={"what": ""})
    sizes = ctx.active.groupby(_policy_group(ctx)).sum()
    alike = price.groupby(_policy_group(ctx)).sum()
    rows = key.index.to_series(index=key.index).groupby(key, sort=False)
    first = rows.min()
    at = pd.Index(first.to_numpy())
    n = rows.size().set_axis(at)
    size = sizes.reindex(first.index).set_axis(at)
    total = alike.reindex(first.index).set_axis(at)
    listed = rows.agg(_rows_text).set_axis(at)
    df = ctx.frame
    unkeyed = df["revenue_code"].isna().all() and df["department"].isna().all()
    whole = "in this file" if unkeyed else "without a revenue code or department"
    where = pd.Series(first.index, index=at).map(lambda k: f"on {k}" if k else whole)
    counts = total.map("{:,}".format) + " of the " + size.map("{:,}".format) + " active lines "
    # Lines the file explains (a price flag, 'NO CHARGE') are counted, not listed.
    explained = (total - n).map(lambda k: f"; {k:,} of them explained in the file" if k else "")
    every = _every_coded_line(ctx, price).reindex(at).to_numpy()
    small = size.lt(ctx.config.price.group_min_lines) | total.lt(
        ctx.config.price.group_share * size
    )
    coded = pd.Series(", and they are every line of the group that bills a HCPCS code", index=at)
    explained = explained + coded.where(every & small.to_numpy(), "")
    what = (
        counts + where + " " + verb + explained + " (rows " + listed + "). That is the pricing "
        "of the group, not a slip: confirm they are charged elsewhere (at dispense, in a per "
        "diem, in another price column) and document it, or enter the charges."
    )
    mask = pd.Series(ctx.frame.index.isin(at), index=ctx.frame.index)
    shown = value + " on " + n.map("{:,}".format) + " lines"
    return Fire(mask, column=col, value=shown, fields={"what": what})


def reporting_only(ctx: Context, code: pd.Series) -> pd.Series:
    """Codes that only report (CPT Category II, functional-limitation and quality G-codes, OPPS
    status M/E1/B where Addendum B is loaded): a 0.01 charge on them is normal practice."""
    return per_value(code, lambda values: _reporting_only_codes(ctx, values))


def _reporting_only_codes(ctx: Context, code: pd.Series) -> pd.Series:
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
    # rows carried without their G-code), on a reporting-only code it is CMS's nominal charge,
    # and on a product supplied free (a vaccine from a state program, any drug given at no
    # cost) it is the token charge CMS asks for.
    billed = code.str.fullmatch(HCPCS_RE).fillna(False).astype(bool)
    cfg = ctx.config.price_placeholder
    token = in_ranges(code, cfg.token_charge_codes) | in_ranges(code, cfg.no_cost_drug_codes)
    spared = reporting_only(ctx, code) | ~billed | token | by_design(ctx)
    out = []
    for col in charge_columns(ctx):
        with np.errstate(over="ignore"):  # a price near the float limit rounds to inf: no
            price = ctx.lines.prices[col].round(2)  # placeholder either way
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
    """Like with like: same code, modifiers, revenue code, department and price column, active
    facility lines; one finding per group, on its first line."""
    df = ctx.frame
    facility = df["family"].ne("professional_fees").fillna(True)
    # Without a revenue code a line has nothing to be like: department text is too coarse.
    base = ctx.active & facility & df["revenue_code"].notna()
    base &= inconsistent_scope(ctx, df["coded_hcpcs"])
    # Only the lines compared are read (a group's label and key come from its own lines).
    df = df[base.to_numpy()]
    code, mods = df["coded_hcpcs"], df["coded_modifiers"].fillna("")
    rev = df["revenue_code"]
    rev_text = "revenue code " + rev
    # Like with like also means the same setting (inpatient and outpatient rows of one item)
    # and the same side: a bilateral exam described in words costs more than a one-sided one.
    setting = df["setting"].str.strip().str.upper().fillna("")
    words = ctx.config.price_inconsistent.bilateral_words
    bilateral = _has_words(df["description"], words) if words else pd.Series(False, index=df.index)
    ends = ctx.config.price_inconsistent.bilateral_suffixes
    if ends:  # the modifier written as the description's last word
        last = rf"[ \-](?:{'|'.join(re.escape(w) for w in ends)})\s*$"
        upper = df["description"].str.upper()
        bilateral |= upper.str.contains(last, regex=True).fillna(False).astype(bool)
    side = pd.Series(np.where(bilateral, " bilateral", ""), index=df.index, dtype="str")
    sent = ctx.config.price_inconsistent.send_out_words
    if sent:
        sends = _has_words(df["description"], sent)
        side = side + pd.Series(np.where(sends, " send-out", ""), index=df.index, dtype="str")
    # A description that states a duration ('30 MIN', '1 HR') prices that session length: a
    # 60-minute group session is not like a 15-minute one under the same per-session code.
    side = side + _spans(df["description"])
    side = side + _service_terms(df["description"], ctx.config.price_inconsistent)
    side = side + _levels(df["description"])
    # Another build of the test (specimen, method) or of the exam (contrast) under one code.
    side = side + _lab_terms(ctx, df["description"], code)
    side = side + _contrast(ctx, df["description"], code)
    place = per_value(setting, lambda s: s.map(lambda v: f" ({v.lower()})" if v else ""))
    # Like with like within one department (cost centre, GL account): each prices from its own
    # costs, so one item under two of them is two builds (an inpatient unit and its outpatient
    # twin, an in-house lab and a reference lab's account, a technical series and the
    # professional one). On the labels, groups within one department were right 29 times in
    # 30, groups across departments 20 times in 43 with 16 debatable.
    dept = df["department"].str.replace(r"\s+", " ", regex=True).str.strip().str.upper()
    dept = dept.fillna("")
    # A column holding a value per line is no department (a charge code under a 'CC' header):
    # keyed, it would keep every line apart and silence the rule. Departments group lines.
    named = dept[dept.ne("")]
    if len(named) >= 20 and named.nunique() > 0.9 * len(named):
        dept = pd.Series("", index=df.index, dtype="str")
    unit = per_value(dept, lambda s: s.map(lambda d: f" in department {d}" if d else ""))
    others = _other_codes(ctx, code)
    label = code + others + per_value(mods, lambda s: s.map(lambda m: f" {m}" if m else ""))
    label = label + side + place + unit
    like = code + "|" + others + "|" + mods + "|" + rev + "|" + setting + "|" + side + "|" + dept
    like = like + "|" + _priced_settings(ctx, df.index)
    keyed = _keyed_words(ctx)
    pairs = _setting_pairs(ctx)
    cfg = ctx.config.price_inconsistent
    out = []
    for col in charge_columns(ctx):
        price = ctx.lines.prices[col].reindex(df.index)
        take = (price > 0).fillna(False)
        if not take.any():
            continue
        key = like[take]
        stats = _differing(price[take], key)
        if stats.empty:
            continue
        # Within a group, only lines that describe the same item are compared: the same
        # words once abbreviations are read ('XR ANKLE 3V LT', 'XR ANKLE 3 VIEWS RIGHT').
        # Other words name another item or build under the code ('ACETAMINOPHEN' and
        # 'SALICYLATE' under one drug-class code; 'BRAF' and 'RAS/RAF').
        key = key[key.isin(stats.index)]
        key = key + "#" + _same_items(df["description"].reindex(key.index), keyed)
        stats = _differing(price[key.index], key)
        if pairs:
            stats = stats[~_setting_pair(pairs, price[key.index], key, code).reindex(stats.index)]
        if cfg.half_price_tier:  # two prices only: a third between them is a slip
            half = stats["max"].round(2).eq((stats["min"] * 2).round(2))
            cents = price[key.index].round(2).groupby(key, sort=False).nunique()
            two = cents.reindex(stats.index).eq(2)
            stats = stats[~(half & two)]
        if stats.empty:
            continue
        # Rows are listed only for the groups whose prices differ.
        key = key[key.isin(stats.index)]
        rows = key.index.to_series(index=key.index).groupby(key, sort=False)
        first = rows.min().reindex(stats.index)
        listed = rows.agg(_rows_text).reindex(stats.index)
        at = pd.Index(first.to_numpy())
        mask = pd.Series(ctx.frame.index.isin(at), index=ctx.frame.index)

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


def _setting_pairs(ctx: Context) -> dict[str, list[frozenset[float]]]:
    """Per code, the sets of setting prices its lines carry where a line fills two or more
    setting price columns ('DEF/IP PRICE' 215, 'OP PRICE' 172 on 97112); empty without such
    columns."""
    cols = _setting_columns(ctx)
    if len(cols) < 2:
        return {}
    prices = ctx.lines.prices[cols]
    both = ((prices > 0).sum(axis=1) >= 2).to_numpy(dtype=bool)
    # A code repeats its price pair on many lines: each distinct pair is read once.
    found = prices[both].assign(_code=ctx.frame["coded_hcpcs"][both]).dropna(subset="_code")
    pairs: dict[str, list[frozenset[float]]] = {}
    for row in found.drop_duplicates().itertuples(index=False):
        pairs.setdefault(row[-1], []).append(frozenset(v for v in row[:-1] if v > 0))
    return pairs


def _setting_pair(
    pairs: dict[str, list[frozenset[float]]], price: pd.Series, key: pd.Series, code: pd.Series
) -> pd.Series:
    """Per group, whether its prices are the setting prices another line of the same code
    carries: where a line prices 97112 at 215 inpatient and 172 outpatient, a cost centre's
    97112 at 215 and another's at 172 are the inpatient and outpatient builds (Chomp's therapy
    cost centres), not two prices of one item."""
    seen = price.groupby(key, sort=False).agg(frozenset)
    of = code.reindex(key.index).groupby(key, sort=False).first().reindex(seen.index)
    return pd.Series(
        [any(s <= p for p in pairs.get(c, ())) for s, c in zip(seen, of, strict=True)],
        index=seen.index,
    )


def _differing(price: pd.Series, key: pd.Series) -> pd.DataFrame:
    """min, max and size of the price per key, for the keys whose prices differ."""
    stats = price.groupby(key, sort=False).agg(["min", "max", "size"])
    return stats[stats["min"] != stats["max"]]


# A side named in words: a left and a right exam are priced alike (bilateral is keyed apart).
# The words of a stated duration, which the key reads whole ('> 6 HRS', 'OVER 6 HOURS'), and of
# a contrast state, which the key or the code itself states ('MRI BRAIN WO CONTRAST' on 70551).
_SIDES = ("LT", "RT", "LEFT", "RIGHT")
_STATED_CONTRAST = ("W", "WO", "WITH", "WITHOUT", "CONTRAST", "CONT", "CON", "DYE")
_DURATION_WORDS = (
    "MIN",
    "MINS",
    "MINUTE",
    "MINUTES",
    "HR",
    "HRS",
    "HOUR",
    "HOURS",
    "OVER",
    "UNDER",
    "UP",
    "TO",
    "LESS",
    "MORE",
    "GREATER",
    "THAN",
)


def _keyed_words(ctx: Context) -> frozenset[str]:
    """Words the group key already reads (specimens, methods, sides, send-out and service
    words): left out when descriptions are compared, so that 'BILIRUBIN TOT BLD' and
    'BILIRUBIN TOT' name the same item."""
    from ..suggest import normalize

    cfg = ctx.config.price_inconsistent
    texts = [*cfg.bilateral_words, *cfg.send_out_words, *cfg.service_words, *_SIDES]
    texts += _DURATION_WORDS + _STATED_CONTRAST
    for table in (cfg.specimens, cfg.methods):
        texts += [spelling for _, spellings in table for spelling in spellings]
    words = set()
    for text in texts:
        words |= set(re.findall(r"[A-Z0-9]+", text.upper()))
        words |= set(re.findall(r"[A-Z0-9]+", normalize(text).upper()))
    return frozenset(words)


def _same_items(description: pd.Series, keyed: frozenset[str]) -> pd.Series:
    """Per line, the item its description names: its words once the abbreviations are read,
    leaving out the words the key reads, in order. A word more on one side names another
    build ('LACTATION CLINIC VISIT LEVEL 4' against 'CLINIC LEVEL 4', 'MEM HEMOGLOBIN' against
    'HEMOGLOBIN', 'CARDIO IQ PANEL, TRIGLYCERIDES' against 'TRIGLYCERIDES'), as often as a
    wording of the same one: on the labelled groups where one description held the other's
    words and more, 10 were right and 8 not."""
    return per_value(description, lambda s: s.map(lambda d: " ".join(sorted(_words(d) - keyed))))


def _words(description) -> frozenset[str]:
    """The words of a description as the suggester reads them (abbreviations spelled out,
    noise words dropped), keeping single letters: influenza A is not influenza B."""
    if not isinstance(description, str):
        return frozenset()
    from ..suggest import normalize

    letters = {w for w in re.findall(r"[A-Z0-9]+", description.upper()) if len(w) == 1}
    return frozenset(re.findall(r"[A-Z0-9]+", normalize(description).upper())) | letters


# A duration read whole: a range ('4-6 HRS') or a bound ('> 6 HRS', '<=2 HRS', 'OVER 60 MIN',
# '6+ HRS') is its own tier, not the number it ends with ('4-6 HRS' and '> 6 HRS' are two tiers
# of a transfusion priced apart, not two '6 hr' lines).
_DURATION = re.compile(
    r"(?<![\d.])(?P<cmp>(?:[<>]=?|=[<>]|(?<![A-Z])(?:OVER|UNDER|UP\s+TO|LESS\s+THAN"
    r"|MORE\s+THAN|GREATER\s+THAN))\s*)?(?P<lo>\d+(?:\.\d+)?\s*(?:-|TO)\s*)?"
    r"(?P<n>\d+(?:\.\d+)?)\s*(?P<plus>\+)?\s*-?\s*(?P<unit>MINUTES|MINS|MIN|HOURS|HRS|HR|HOUR)\b"
)
_BOUND = {"OVER": ">", "MORE THAN": ">", "GREATER THAN": ">", "UNDER": "<", "LESS THAN": "<"}
_BOUND |= {"UP TO": "<=", "=<": "<=", "=>": ">="}


def _spans(description: pd.Series) -> pd.Series:
    """' 30 min', ' 1 hr 30 min' for each duration a description states, else ''."""
    upper = description.str.upper()
    # Every duration names MIN, HR or HOUR: Python's re runs only on those descriptions.
    maybe = upper.str.contains("MIN|HR|HOUR", regex=True).fillna(False).astype(bool)
    found = upper[maybe].str.findall(_DURATION)
    span = found.map(lambda f: _span_text(f) if isinstance(f, list) else "")
    return span.astype("str").reindex(description.index, fill_value="")


def _span_text(found: list[tuple[str, str, str, str, str]]) -> str:
    out = ""
    for cmp, lo, n, plus, unit in found:
        bound = " ".join(cmp.split())
        bound = _BOUND.get(bound, bound)
        low = re.sub(r"\s*(?:-|TO)\s*$", "-", lo)
        out += f" {bound}{low}{n}{plus} {'min' if unit.startswith('MIN') else 'hr'}"
    return out


def _service_terms(description: pd.Series, cfg) -> pd.Series:
    """' TELEMETRY' where a description names a component that makes another service under
    the same code (configured words, whole words), else ''."""
    words = cfg.service_words
    if not words:
        return pd.Series("", index=description.index, dtype="str")
    pattern = "|".join(re.escape(w) for w in words)
    upper = description.str.upper()
    # Python's re (for the word bounds) runs only where Arrow finds one of the words at all.
    maybe = upper.str.contains(pattern, regex=True).fillna(False).astype(bool)
    found = upper[maybe].str.findall(rf"(?<![A-Z0-9])(?:{pattern})(?![A-Z0-9])")
    terms = found.map(lambda f: "".join(f" {w}" for w in f) if isinstance(f, list) else "")
    return terms.astype("str").reindex(description.index, fill_value="")


# A stated level ('CLINIC LEVEL 3', 'E&M EST PATIENT LVL IV'): one code billed at tiered charges.
_LEVEL = re.compile(r"(?<![A-Z0-9])(?:LEVEL|LVL)\s*-?\s*(\d|IV|V|I{1,3})(?![A-Z0-9])")
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5"}


def _levels(description: pd.Series) -> pd.Series:
    """' level 3' for each level a description states, else '': a hospital keeps tiered visit
    charges (clinic levels 1 to 5) under the one code OPPS pays for every level (G0463), and a
    tier is not like another."""
    upper = description.str.upper()
    # Every level names LEVEL or LVL: Python's re runs only on those descriptions.
    maybe = upper.str.contains("LEVEL|LVL", regex=True).fillna(False).astype(bool)
    if not maybe.any():
        return pd.Series("", index=description.index, dtype="str")

    def stated(texts: pd.Series) -> pd.Series:
        return texts.map(lambda t: "".join(f" level {_ROMAN.get(n, n)}" for n in _LEVEL.findall(t)))

    found = per_value(upper[maybe], stated)
    return found.astype("str").reindex(description.index, fill_value="")


def _other_codes(ctx: Context, code: pd.Series) -> pd.Series:
    """' (G0008)' where the line's other code columns hold codes other than its coded one, else
    '': an export with a CPT and a HCPCS column bills Medicare the second (90471 with G0008,
    G0009 or G0010 for the flu, pneumococcal and hepatitis B administrations, priced apart),
    so lines under one code whose second codes differ are different items. A second column
    repeating the code, or blank, says nothing."""
    lines = ctx.lines
    cols = [c for k, c in lines.check_source.items() if k.startswith("hcpcs__")]
    none = pd.Series("", index=code.index, dtype="str")
    if len(cols) < 2:
        return none
    parts = []
    for col in cols:
        value = lines.coded[col].reindex(code.index)
        other = value.str.fullmatch(HCPCS_RE).fillna(False) & value.ne(code).fillna(True)
        parts.append(value.where(other.astype(bool)).fillna(""))
    joined = parts[0].str.cat(parts[1:], sep=" ") if len(parts) > 1 else parts[0]
    return per_value(joined, lambda s: s.map(_codes_text)).astype("str")


def _codes_text(joined: str) -> str:
    codes = sorted(set(joined.split()))
    return f" ({', '.join(codes)})" if codes else ""


def _lab_terms(ctx: Context, description: pd.Series, code: pd.Series) -> pd.Series:
    """' urine+blood LC-MS/MS' for the specimens and the methods a lab line names, or else its
    code's descriptor names (each set in the configured order, every spelling as its canonical
    name), else ''."""
    cfg = ctx.config.price_inconsistent
    out = pd.Series("", index=description.index, dtype="str")
    lab = in_ranges(code, cfg.specimen_codes).to_numpy(dtype=bool)
    if not lab.any():
        return out
    text, code = description[lab], code[lab]
    descriptor = _descriptors(ctx, code)
    fixed = in_ranges(code, cfg.method_fixed_codes).to_numpy(dtype=bool)
    alternatives = descriptor.str.contains(r"/|\bOR\b", case=False, regex=True)
    alternatives = alternatives.fillna(False).to_numpy(dtype=bool)
    for table, ignored in ((cfg.specimens, None), (cfg.methods, fixed)):
        if not table:
            continue
        # Each canonical name a bit: a set of names is one number, the union an OR. What the
        # descriptor names is every line's ('Occult blood feces'), unless it names choices
        # ('Protein e-phoresis/urine/csf'): then a line naming one is that one, not the other.
        own, said = _named(text, table), _named(descriptor, table)
        choices = ((said & (said - 1)) != 0) & alternatives  # two names or more
        names = np.where(choices & (own != 0), own, own | said)
        if ignored is not None:
            names[ignored] = 0
        else:  # the specimens the site calls usual (default_specimens), named alone: none
            usual = sum(1 << k for k, (n, _) in enumerate(table) if n in cfg.default_specimens)
            names[(names & ~usual) == 0] = 0
        bits = pd.Series(names, index=text.index)
        keyed = bits[bits > 0]
        if not keyed.empty:
            key = per_value(keyed, lambda b, t=table: b.map(lambda m: _names_text(m, t)))
            out.loc[keyed.index] += key.astype("str")
    return out


def _named(text: pd.Series, table: tuple[tuple[str, tuple[str, ...]], ...]) -> np.ndarray:
    """Per text, the canonical entries of the table it names (whole words, any case), as bits
    (entry k is 1 << k)."""
    out = np.zeros(len(text), dtype=np.int64)
    spelling = {w: k for k, (_, words) in enumerate(table) for w in words}
    maybe = _has_words(text, tuple(spelling)).to_numpy(dtype=bool)
    if maybe.any():
        # Python's re (for the word bounds) runs only on the texts Arrow found a word in, once
        # per distinct text.
        ordered = sorted(spelling, key=len, reverse=True)  # 'UR' must not win over 'URINE'
        found = re.compile(
            r"(?<![A-Z0-9])(" + "|".join(re.escape(w) for w in ordered) + r")(?![A-Z0-9])"
        )

        def bits(texts: pd.Series) -> pd.Series:
            return texts.str.upper().map(
                lambda t: sum({1 << spelling[w] for w in found.findall(t)})
            )

        out[maybe] = per_value(text[maybe], bits).to_numpy(dtype=np.int64)
    return out


def _names_text(bits: int, table: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    return " " + "+".join(n for k, (n, _) in enumerate(table) if bits >> k & 1)


def _descriptors(ctx: Context, code: pd.Series) -> pd.Series:
    """Each code's short descriptor, from Addendum B where loaded, else the HCPCS file ('' where
    none is known)."""
    return per_value(code, lambda values: _code_descriptors(ctx, values))


def _code_descriptors(ctx: Context, code: pd.Series) -> pd.Series:
    ref = ctx.reference
    out = pd.Series("", index=code.index, dtype="str")
    if ref is None:
        return out
    key = code.fillna("")
    for table in (ref.cpt, ref.level2):
        if table is None or "short_description" not in table:
            continue
        said = table["short_description"].reindex(key).set_axis(code.index)
        out = out.mask(out.eq("") & said.notna(), said)
    return out.fillna("").astype("str")


# A word without which suggest.key_terms reads no contrast state.
_CONTRAST_WORDS = frozenset({"CONTRAST", "WITH", "WITHOUT"})


def _contrast(ctx: Context, description: pd.Series, code: pd.Series) -> pd.Series:
    """' with contrast', ' without contrast', ' with and without contrast' where the line's
    code is an imaging one whose descriptor covers any contrast state (71555 'Mri angio chest
    w or w/o dye', CT angiography, echocardiography) or that no loaded release describes, and
    its description states one, else ''.
    Under a code that names one state the lines are one exam: a description stating another
    is a coding conflict, not another price. Read by suggest's key terms, every spelling it
    knows."""
    out = pd.Series("", index=description.index, dtype="str")
    imaging = in_ranges(code, ctx.config.price_inconsistent.contrast_codes).to_numpy(dtype=bool)
    if ctx.reference is None or not imaging.any():
        return out
    said = _descriptors(ctx, code[imaging])
    open_ = per_value(said, lambda d: d.map(_no_contrast_state)).astype(bool).to_numpy(dtype=bool)
    text = description[imaging].dropna()
    state = per_value(text, _contrast_states).reindex(said.index, fill_value="")
    # Under a code naming one state, a line stating another is another exam miscoded
    # (DESCRIPTION-CODE-CONFLICT names it), not another price of the code's exam: 'MRI
    # PITUITARY W', 'WO' and 'WWO' all on 74182 follow the file's contrast tiers.
    own = per_value(said, _contrast_states)
    other = (said.ne("") & state.ne("") & state.ne(own)).to_numpy(dtype=bool)
    state = state.where(open_ | other, "")
    return out.add(state.reindex(out.index, fill_value=""), fill_value="").astype("str")


def _no_contrast_state(descriptor: str) -> bool:
    """True where the descriptor states no contrast state, or there is none to read: a code
    the loaded releases do not list (77058 'MRI BREAST UNI WO/ CM' and 'WO/W CM', deleted
    before the oldest release) cannot be said to name one state, so the stated ones key."""
    from ..suggest import text_terms

    return not descriptor or text_terms(descriptor).contrast is None


def _contrast_states(text: pd.Series) -> pd.Series:
    from ..suggest import normalize_many, text_terms

    # Key terms are read only for the texts normalize_many finds a contrast word in.
    values = text.tolist()
    words = normalize_many([str(t) for t in values])
    out = [
        f" {text_terms(t).contrast} contrast"
        if not _CONTRAST_WORDS.isdisjoint(w.split()) and text_terms(t).contrast
        else ""
        for t, w in zip(values, words, strict=True)
    ]
    return pd.Series(out, index=text.index, dtype="str")


# Header words of a price column for one setting (the words feeschedule.py reads).
_SETTING_WORDS = {"ip", "inpatient", "inpt", "ipd", "op", "outpatient", "outpt", "opd", "opt"}


def _setting_columns(ctx: Context) -> list[str]:
    """The charge columns whose header names a setting ('DEF/IP PRICE', 'OP PRICE')."""
    return [
        c
        for c in charge_columns(ctx)
        if set(re.split(r"[^a-z0-9]+", str(c).lower())) & _SETTING_WORDS
    ]


def _priced_settings(ctx: Context, index: pd.Index) -> pd.Series:
    """Which setting price columns ('DEF/IP PRICE', 'OP PRICE') each line fills. Where an export
    gives a default price and an outpatient one only on some lines, the first column of a line
    with both is its inpatient price and of a line with one its only price: not like with like,
    so lines are compared only with lines priced for the same settings."""
    cols = _setting_columns(ctx)
    if len(cols) < 2:
        return pd.Series("", index=index, dtype="str")
    out = pd.Series("", index=index, dtype="str")
    for k, c in enumerate(cols):
        filled = (ctx.lines.prices[c].reindex(index) > 0).fillna(False).to_numpy()
        out = out + np.where(filled, str(k), "")
    return out


def _rows_text(rows, limit: int = 10) -> str:
    """The rows in order, the first ``limit`` of them named."""
    rows = sorted(rows)
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit:,} more" if len(rows) > limit else "")
