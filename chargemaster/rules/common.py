"""Helpers shared by the checks: code ranges, code families, price text."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from ..config import CodeFamily
from ..reference import CPT_RE, UNLISTED, isin, per_value


def fmt_price(p: pd.Series) -> pd.Series:
    """'1,234.50' for each price, '' where blank."""
    if p.dtype != np.float64:
        return p.map(_price_text).astype("str")
    # Formatted once per distinct price (a chargemaster repeats its prices), told apart by
    # their bits: -0.0 and 0.0 print differently.
    bits = np.ascontiguousarray(p.to_numpy()).view(np.int64)
    codes, uniques = pd.factorize(bits)
    texts = np.array([_price_text(v) for v in uniques.view(np.float64).tolist()], dtype=object)
    return pd.Series(texts[codes], index=p.index, dtype="str")


def _price_text(v) -> str:
    return f"{v:,.2f}" if v == v else ""


def in_ranges(code: pd.Series, ranges: tuple[str, ...]) -> pd.Series:
    """Codes inside any 'LO-HI' range of the same shape (digits vs letters in place)."""
    return per_value(code, lambda values: _in_ranges(values, ranges))


@lru_cache(maxsize=256)
def _shapes(ranges: tuple[str, ...]) -> dict[str, list[tuple[str, str]]]:
    by_shape: dict[str, list[tuple[str, str]]] = {}
    for rng in ranges:
        lo, _, hi = rng.partition("-")
        hi = hi or lo
        shape = "".join(r"\d" if ch.isdigit() else re.escape(ch) for ch in lo)
        shape = re.sub(r"(\\d)+", lambda m: rf"\d{{{len(m.group(0)) // 2}}}", shape)
        by_shape.setdefault(shape, []).append((lo, hi))
    return by_shape


def _in_ranges(code: pd.Series, ranges: tuple[str, ...]) -> pd.Series:
    # One regex pass per shape (47 ranges share 14 shapes), then the bounds compared in numpy
    # on the codes of that shape: ASCII codes order the same as text either way.
    hit = np.zeros(len(code), dtype=bool)
    for shape, bounds in _shapes(tuple(ranges)).items():
        same = code.str.fullmatch(shape).fillna(False).to_numpy(dtype=bool)
        if not same.any():
            continue
        values = code.to_numpy(dtype=object)[same].astype(str)
        inside = np.zeros(len(values), dtype=bool)
        for lo, hi in bounds:
            inside |= (values >= lo) & (values <= hi)
        hit[np.flatnonzero(same)[inside]] = True
    return pd.Series(hit, index=code.index)


def code_family(code: pd.Series, families: tuple[CodeFamily, ...]) -> pd.Series:
    """Each code's family: the first configured family whose ranges hold it, else NA."""
    return per_value(code, lambda values: _code_family(values, families))


def _code_family(code: pd.Series, families: tuple[CodeFamily, ...]) -> pd.Series:
    out = pd.Series(pd.NA, index=code.index, dtype="str")
    for fam in families:
        out = out.mask(out.isna() & _in_ranges(code, fam.codes), fam.name)
    return out


def why_family(df: pd.DataFrame) -> pd.Series:
    """What put the line in its family: its revenue code, else its department text."""
    text = ("revenue code " + df["revenue_code"]).fillna(
        ("department '" + df["department"] + "'").where(df["revenue_code"].isna())
    )
    text = text.fillna("revenue description '" + df["revenue_description"] + "'")
    return text.fillna("")


def is_noc(code: pd.Series, reference) -> pd.Series:
    """A code on the CMS NOC list, or an unlisted CPT code (its descriptor says 'unlisted').
    Never from 'NOS' in a descriptor: '83520 Immunoassay NOS' names an analyte method and
    anesthesia '00840 ... NOS' a body region; both are specific codes."""
    return per_value(code, lambda values: _is_noc(values, reference))


def _is_noc(code: pd.Series, reference) -> pd.Series:
    hit = isin(code, reference.noc)
    if reference.cpt is not None:
        desc = reference.cpt["short_description"].reindex(code.fillna("")).set_axis(code.index)
        unlisted = desc.str.contains(UNLISTED, regex=True).fillna(False)  # reference.py
        hit |= unlisted & code.str.fullmatch(CPT_RE).fillna(False)
    return hit.fillna(False).astype(bool)
