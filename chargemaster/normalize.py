"""Lossless repairs of codes and prices, vectorised over a column.

A repair is made only where it cannot be a guess (../shared/docs/rules.md, "Repairs"):
whitespace, NBSP, lower case, a float artefact (``80053.0``), a revenue code that lost its
leading zero, an anesthesia CPT that lost its zeros (00100-01999 only), fixed-width padding
(``'0G0379    '``), a modifier glued to the code. Anything else is left as it is and
judged malformed by the contract. Each function returns the repaired values and why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# CPT Category I, Category II/III, PLA, MAAA; HCPCS Level II (A-V letters in use).
HCPCS_RE = r"\d{5}|\d{4}[FTUM]|[ABCDEGHJKLMPQRSTUV]\d{4}"
LOCAL_RE = r"[W-Z]\d{4}"
MODIFIER_RE = r"[A-Z0-9]{2}"
_INVISIBLE = r"[\u00a0\u200b\u200c\u200d\u2060\ufeff]"
_FLOAT = r"^(\d+)\.0+$"


@dataclass
class Repair:
    value: pd.Series  # repaired text, NA where blank
    repaired: pd.Series  # bool: the value differs from the cell, and the result is well-formed
    reason: pd.Series  # text: what was done, "" where nothing
    modifiers: pd.Series | None = None  # modifiers split out of the cell (space-joined), or NA


def clean_text(s: pd.Series) -> pd.Series:
    """Strip spaces and invisible characters; blank becomes NA."""
    out = s.astype("str").str.replace(_INVISIBLE, " ", regex=True).str.strip()
    return out.mask(out.eq(""))


def _reasons(index: pd.Index, steps: list[tuple[pd.Series, str]]) -> pd.Series:
    """Join the labels of the steps that applied to each row: 'trimmed spaces; padded ...'."""
    out = pd.Series("", index=index, dtype="str")
    for mask, label in steps:
        mask = mask.fillna(False).astype(bool)
        out = out.mask(mask & out.ne(""), out + "; " + label).mask(mask & out.eq(""), label)
    return out


def _numeric(numeric: pd.Series | None, index: pd.Index) -> pd.Series:
    if numeric is None:
        return pd.Series(False, index=index)
    return numeric.reindex(index, fill_value=False).astype(bool)


def repair_revenue_code(raw: pd.Series, numeric: pd.Series | None = None) -> Repair:
    text = clean_text(raw)
    trimmed = text.notna() & text.ne(raw)
    value = text.str.replace(_FLOAT, r"\1", regex=True)
    floaty = (value.ne(text) & text.notna()).fillna(False)
    short = value.str.fullmatch(r"\d{3}").fillna(False)
    value = value.mask(short, "0" + value)
    ok = value.str.fullmatch(r"\d{4}").fillna(False)
    stored_number = _numeric(numeric, raw.index)
    reason = _reasons(
        raw.index,
        [
            (stored_number, "stored as a number"),
            (trimmed, "removed spaces"),
            (floaty, "removed a float '.0'"),
            (short, "restored the leading zero"),
        ],
    )
    repaired = ok & (stored_number | trimmed | floaty | short)
    return Repair(value, repaired, reason)


def repair_hcpcs(
    raw: pd.Series, numeric: pd.Series | None = None, placeholders: frozenset[str] = frozenset()
) -> Repair:
    text = clean_text(raw)
    upper = text.str.upper()
    placeholder = upper.isin(placeholders)
    value = upper.mask(placeholder)
    cased = (upper.ne(text) & text.notna()).fillna(False) & ~placeholder
    trimmed = (text.notna() & text.ne(raw)).fillna(False) & ~placeholder
    step = value.str.replace(_FLOAT, r"\1", regex=True)
    floaty = (step.ne(value) & value.notna()).fillna(False)
    value = step
    # Fixed-width exports pad codes to 6 characters ('0G0379', '099211'), some with a
    # 2-character modifier right behind ('096372GY', '07320050'): the width makes it unambiguous.
    fixed = value.str.extract(rf"^0(?P<code>{HCPCS_RE})(?P<mod>{MODIFIER_RE})?$")
    padded = fixed["code"].notna()
    value = value.mask(padded, fixed["code"])
    padded_mod = fixed["mod"].where(padded)
    # Excel drops the zeros of anesthesia codes (00100-01999): 100 -> 00100, never beyond.
    short_digits = value.str.fullmatch(r"\d{3,4}").fillna(False)
    number = pd.to_numeric(value.where(short_digits), errors="coerce")
    anesthesia = short_digits & number.between(100, 1999).fillna(False)
    value = value.mask(anesthesia, value.str.zfill(5))
    # A modifier glued to the code: '71046-26', '85025 91', '71101LT', '71046-26-LT'.
    parts = value.str.extract(
        rf"^(?P<code>{HCPCS_RE})(?:(?P<sep>(?:[\s\-]+{MODIFIER_RE})+)"
        r"|(?P<tight>[A-Z][A-Z0-9]|\d[A-Z]))$"
    )
    glued = parts["code"].notna() & (parts["sep"].notna() | parts["tight"].notna())
    mods = parts["sep"].str.replace(r"[\s\-]+", " ", regex=True).str.strip()
    mods = mods.fillna(parts["tight"])
    value = value.mask(glued, parts["code"])
    glued |= padded_mod.notna()
    mods = mods.fillna(padded_mod)
    ok = value.str.fullmatch(f"{HCPCS_RE}|{LOCAL_RE}").fillna(False)
    # What cannot be repaired stays as written (trimmed), for the contract to judge.
    value = value.where(ok | value.isna(), text)
    stored_number = _numeric(numeric, raw.index) & value.notna()
    reason = _reasons(
        raw.index,
        [
            (stored_number, "stored as a number"),
            (trimmed, "removed spaces"),
            (cased, "upper-cased"),
            (floaty, "removed a float '.0'"),
            (padded, "removed fixed-width zero padding"),
            (anesthesia, "restored the leading zeros of an anesthesia code"),
            (glued, "split the modifier off the code"),
        ],
    )
    repaired = ok & (stored_number | trimmed | cased | floaty | padded | anesthesia | glued)
    return Repair(value, repaired, reason, mods.where(glued & ok))


def split_modifiers(raw: pd.Series, numeric: pd.Series | None = None) -> Repair:
    """One modifier cell (possibly delimited) -> space-joined upper-case tokens."""
    text = clean_text(raw)
    step = text.str.replace(_FLOAT, r"\1", regex=True)
    tokens = step.str.upper().str.replace(r"[\s,;/|\-]+", " ", regex=True).str.strip()
    value = tokens.mask(tokens.eq(""))
    # Already tidy: upper-case 2-character tokens with plain delimiters.
    tidy = text.str.fullmatch(rf"{MODIFIER_RE}(?:[,;| /]+{MODIFIER_RE})*").fillna(False)
    all_ok = value.str.fullmatch(rf"{MODIFIER_RE}(?: {MODIFIER_RE})*").fillna(False)
    stored_number = _numeric(numeric, raw.index) & value.notna()
    changed = text.notna() & ~tidy
    reason = pd.Series(
        np.where(stored_number, "stored as a number", np.where(changed, "cleaned", "")),
        index=raw.index,
        dtype="str",
    )
    return Repair(value, all_ok & (changed | stored_number), reason)


def parse_price(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(price as float, True where a non-blank cell is not a number). '$1,508.15 ' -> 1508.15."""
    text = clean_text(raw)
    cleaned = text.str.replace(r"[$,\s]", "", regex=True)
    negative = cleaned.str.fullmatch(r"\(.*\)").fillna(False)
    cleaned = cleaned.mask(negative, "-" + cleaned.str.strip("()"))
    number = pd.to_numeric(cleaned, errors="coerce")
    bad = text.notna() & number.isna()
    return number.astype("float64"), bad


def clean_code(raw: pd.Series) -> pd.Series:
    """A charge code as text: trimmed, with an Excel float '.0' removed."""
    return clean_text(raw).str.replace(_FLOAT, r"\1", regex=True)
