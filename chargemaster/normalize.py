"""Lossless repairs of codes and prices, vectorised over a column.

A repair is made only where it cannot be a guess (../shared/docs/rules.md, "Repairs"):
whitespace, NBSP, lower case, a float artefact (``80053.0``), a revenue code that lost its
leading zero, an anesthesia CPT that lost its zeros (00100-01999 only), fixed-width padding
(``'0G0379    '``), a modifier glued to the code. Anything else is left as it is and
judged malformed by the contract. Each function returns the repaired values and why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# The code shapes, defined once here (reference.py re-exports CPT_RE and LEVEL2_RE).
# CPT: Category I (5 digits; immunization administration 0001A-0xxxA, OPPS Addendum B),
# Category II (F), III (T), PLA (U), MAAA (M). HCPCS Level II: A-V letters in use.
CPT_RE = r"\d{5}|\d{4}[AFTUM]"
LEVEL2_RE = r"[ABCDEGHJKLMPQRSTUV]\d{4}"
HCPCS_RE = f"{CPT_RE}|{LEVEL2_RE}"
LOCAL_RE = r"[W-Z]\d{4}"
MODIFIER_RE = r"[A-Z0-9]{2}"
_INVISIBLE = r"[\u00a0\u200b\u200c\u200d\u2060\ufeff]"
# The same class spelled with the characters themselves: pandas hands a pattern without '\u'
# escapes to Arrow's RE2 instead of running Python's re on every cell.
_INVISIBLE_CHARS = "[\u00a0\u200b\u200c\u200d\u2060\ufeff]"
_FLOAT = r"^(\d+)\.0+$"
# Python's \s (the characters str.isspace() accepts), spelled out: RE2's \s is only ASCII
# space, tab and line breaks, so a pattern with \s runs in Python's re cell by cell.
SPACE_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)


# Storage repairs (the export's storage form, no billing meaning): reported once per column and
# kind, each line in the Repairs audit (../shared/docs/rules.md, "Repairs"). Label per kind.
STORAGE_KINDS = {
    "leading_zero": "stored without the leading zero",
    "float": "stored with a float artefact '.0'",
    "spaces": "stored with spaces or invisible characters",
    "lower_case": "stored in lower case",
    "padding": "stored with fixed-width zero padding",
    "bracketed": "stored as its NUBC description with the code in brackets",
}

# A revenue code cell holding the NUBC description with the code in brackets
# ('LABORATORY - GENERAL [0300]'): the code is stated, so taking it is no guess. Only a
# text with a letter, no other bracket and no other bare 3-4 digit number ('0300 [0301]',
# 'LAB 0300 [0301]' and 'LAB [0300] [0301]' stay malformed; '025X' and '10,000' are no codes).
_BRACKETED_REV = (
    r"^(?=[^\[\]]*[A-Za-z])(?![^\[\]]*(?<![\w,])\d{3,4}(?![\w,]))[^\[\]]*\S\s*\[(\d{3,4})\]$"
)


@dataclass
class Repair:
    value: pd.Series  # repaired text, NA where blank
    repaired: pd.Series  # bool: the value differs from the cell, and the result is well-formed
    reason: pd.Series  # text: what was done, "" where nothing
    modifiers: pd.Series | None = None  # modifiers split out of the cell (space-joined), or NA
    # Content repairs change what a claim carries (a modifier split out, an anesthesia code
    # padded): one finding per line. Every other repair is a storage repair.
    content: pd.Series | None = None
    # Storage repairs by kind (keys of STORAGE_KINDS): bool masks, only where ``repaired``.
    storage: dict[str, pd.Series] = field(default_factory=dict)
    placeholder: pd.Series | None = None  # a configured "no code" value, read as blank


def has_words(text: pd.Series, words: tuple[str, ...]) -> pd.Series:
    """True where the text holds one of the words or phrases, whole (not inside a longer word
    or code), in any case."""
    pattern = "|".join(re.escape(w) for w in words)
    # (?<![A-Z0-9])...(?![A-Z0-9]) as a search: the neighbours may be consumed, which RE2
    # (Arrow) runs over the column; lookarounds would send every cell through Python's re.
    hit = text.str.upper().str.contains(rf"(?:^|[^A-Z0-9])(?:{pattern})(?:[^A-Z0-9]|$)", regex=True)
    return hit.fillna(False).astype(bool)


def clean_text(s: pd.Series) -> pd.Series:
    """Strip spaces and invisible characters; blank becomes NA."""
    out = s.astype("str")
    if not _ascii(out):  # only non-ASCII text can hold them
        out = out.str.replace(_INVISIBLE_CHARS, " ", regex=True)
    out = out.str.strip()
    return out.mask(out.eq(""))


def _drop_float(s: pd.Series) -> pd.Series:
    """``s.str.replace(_FLOAT, r"\\1", regex=True)``: a float artefact '450.0' -> '450'.
    Only a text with a '.' can hold one, and a column of codes rarely has any."""
    if not s.str.contains(".", regex=False).any():
        return s.copy()
    return s.str.replace(_FLOAT, r"\1", regex=True)


def _ascii(s: pd.Series) -> bool:
    """True when every value of a text Series is ASCII (NA counts as ASCII)."""
    return bool(pc.all(pc.string_is_ascii(pa.array(s.array)), min_count=0).as_py())


def _reasons(index: pd.Index, steps: list[tuple[pd.Series, str]]) -> pd.Series:
    """Join the labels of the steps that applied to each row: 'trimmed spaces; padded ...'."""
    # Each row's set of steps as a bit pattern, each pattern's text joined once: the same
    # text as appending label by label, without a string operation per row and step.
    code = np.zeros(len(index), dtype=np.int64)
    labels = []
    for mask, label in steps:
        if not mask.index.equals(index):
            mask = mask.reindex(index)
        hit = mask.fillna(False).astype(bool).to_numpy()
        if hit.any():
            code |= hit.astype(np.int64) << len(labels)
            labels.append(label)
    if not labels:
        return pd.Series("", index=index, dtype="str")
    used, inverse = np.unique(code, return_inverse=True)
    texts = ["; ".join(t for k, t in enumerate(labels) if c >> k & 1) for c in used.tolist()]
    joined = pa.array(texts, pa.large_string()).take(pa.array(inverse.astype(np.int64)))
    return pd.Series(joined, index=index, dtype="str")


def _numeric(numeric: pd.Series | None, index: pd.Index) -> pd.Series:
    if numeric is None:
        return pd.Series(False, index=index)
    return numeric.reindex(index, fill_value=False).astype(bool)


def _b(mask: pd.Series) -> pd.Series:
    return mask.fillna(False).astype(bool)


def _storage(repaired: pd.Series, content: pd.Series, kinds: dict[str, pd.Series]) -> dict:
    only = repaired & ~content
    return {k: _b(m) & only for k, m in kinds.items() if (_b(m) & only).any()}


def repair_revenue_code(raw: pd.Series, numeric: pd.Series | None = None) -> Repair:
    text = clean_text(raw)
    trimmed = text.notna() & text.ne(raw)
    code = _extract(text, _BRACKETED_REV, text.str.contains("[", regex=False), expand=False)
    bracketed = code.notna()
    value = text.mask(bracketed, code)
    step = _drop_float(value)
    floaty = (step.ne(value) & value.notna()).fillna(False)
    value = step
    short = value.str.fullmatch(r"\d{3}").fillna(False)
    value = value.mask(short, "0" + value)
    ok = value.str.fullmatch(r"\d{4}").fillna(False)
    stored_number = _numeric(numeric, raw.index)
    # A value the same after repair (a number cell 450 read as '0450' is not) is no repair.
    repaired = _b(ok & value.ne(raw))
    reason = _reasons(
        raw.index,
        [
            (stored_number & repaired, "stored as a number"),
            (trimmed, "removed spaces"),
            (bracketed, "took the code in brackets from the description"),
            (floaty, "removed a float '.0'"),
            (short, "restored the leading zero"),
        ],
    )
    content = pd.Series(False, index=raw.index)
    kinds = {"leading_zero": short, "float": floaty, "spaces": trimmed, "bracketed": bracketed}
    return Repair(value, repaired, reason, None, content, _storage(repaired, content, kinds))


# A revenue cell holding a short all-letters token that many lines share ('CNV' on converted
# legacy records, 'EXP' on exploded-charge parents) in a column of real revenue codes is a
# record marker: the line is not billed under a revenue code of its own. One stray word is a
# typo (malformed); a token repeated on this many lines is a convention of the export.
MARKER_MIN_LINES = 3
MARKER_MIN_CODE_SHARE = 0.9


def revenue_markers(raw: pd.Series) -> pd.Series:
    """True where a revenue cell is a record marker (see MARKER_MIN_LINES)."""
    text = clean_text(raw).str.upper()
    filled = text.notna()
    if not filled.any():
        return pd.Series(False, index=raw.index)
    codes = text.str.fullmatch(r"\d{3,4}(?:\.0+)?").fillna(False)
    if codes.sum() < MARKER_MIN_CODE_SHARE * filled.sum():
        return pd.Series(False, index=raw.index)
    token = text.str.fullmatch(r"[A-Z]{2,4}").fillna(False)
    counts = text[token].value_counts()
    repeated = set(counts[counts >= MARKER_MIN_LINES].index)
    return _b(token & text.isin(repeated))


def _known_modifiers() -> frozenset[str]:
    # Imported here: reference.py itself uses this module's clean_text.
    from .reference import CPT_MODIFIERS, bundled

    return frozenset(bundled().modifiers.index) | CPT_MODIFIERS


def _extract(
    values: pd.Series,
    pattern: str,
    maybe: pd.Series,
    expand: bool = True,
    re2: str | None = None,
):
    """``values.str.extract(pattern)``, run only where ``maybe`` (a condition every match
    meets) holds: pandas runs extract in Python's re cell by cell, and few cells can match.

    ``re2``: the same pattern for Arrow's RE2, whose groups never match empty text, taken
    where it is exactly the same: on ASCII text without line breaks (Python's \\d and \\s
    are wider only beyond ASCII, and its $ also matches before a final newline).
    """
    maybe = _b(maybe)
    sub = values if maybe.all() else values[maybe]
    if re2 is not None and expand and len(sub):
        arr = pa.array(sub.array)
        if _ascii(sub) and not pc.any(pc.match_substring(arr, "\n"), min_count=0).as_py():
            found = pc.extract_regex(arr, re2)
            names = [f.name for f in found.type]
            groups = {}
            for name in names:
                text = pc.struct_field(found, name)
                # RE2 gives a group that took no part in the match as "", pandas as NA
                text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
                groups[name] = pd.Series(text, index=sub.index, dtype="str")
            return pd.DataFrame(groups, index=sub.index).reindex(values.index)
    got = sub.str.extract(pattern, expand=expand)
    return got if sub is values else got.reindex(values.index)


def _all_known(mods: pd.Series, modifiers: frozenset[str]) -> pd.Series:
    """True where every space-separated token of a cell is a known modifier; False where NA.
    Only the cells that hold modifiers (few) are split."""
    out = np.zeros(len(mods), dtype=bool)
    held = np.flatnonzero(mods.notna().to_numpy())
    if held.size:
        cells = mods.iloc[held].tolist()
        out[held] = [all(t in modifiers for t in cell.split(" ")) for cell in cells]
    return pd.Series(out, index=mods.index)


# An all-digit cell of 7 or 9 digits ('5040351') may be a number, not a code with modifiers: it
# is split where its code part is known, or where the column glues modifiers to known codes
# this often (its export's convention: '7302026RT' beside '7103026', 71030 deleted in 2018).
GLUE_CONVENTION_MIN_LINES = 3


def _tight_split_ok(
    value: pd.Series, code: pd.Series, known_code: Callable[[pd.Series], pd.Series]
) -> pd.Series:
    """Where a cell without separators ('71035TC', '7103026') splits into code and modifiers:
    a modifier with a letter makes it no number, so any code shape splits; all digits split
    only a known code, or any code in a column that glues modifiers to known codes."""
    tight = code.notna()
    known = _b(known_code(code).reindex(value.index)) & tight
    if int(known.sum()) >= GLUE_CONVENTION_MIN_LINES:
        return tight
    digits = value[tight].str.fullmatch(r"\d+").reindex(value.index, fill_value=False)
    return tight & (known | ~_b(digits))


def repair_hcpcs(
    raw: pd.Series,
    numeric: pd.Series | None = None,
    placeholders: frozenset[str] = frozenset(),
    modifiers: frozenset[str] | None = None,
    known_code: Callable[[pd.Series], pd.Series] | None = None,
) -> Repair:
    """Repair a code column. ``modifiers``: the known modifiers (default: the bundled CMS list
    and the CPT modifiers); ``known_code``: True where a code is known or cannot be checked
    (an all-digit cell without separators is split only where its code part passes, see
    _tight_split_ok)."""
    if modifiers is None:
        modifiers = _known_modifiers()
    text = clean_text(raw)
    upper = text.str.upper()
    placeholder = upper.isin(placeholders).fillna(False).astype(bool)
    value = upper.mask(placeholder)
    cased = (upper.ne(text) & text.notna()).fillna(False) & ~placeholder
    trimmed = (text.notna() & text.ne(raw)).fillna(False) & ~placeholder
    step = _drop_float(value)
    floaty = (step.ne(value) & value.notna()).fillna(False)
    value = step
    # Fixed-width exports pad codes to 6 characters ('0G0379', '099211'), some with one or two
    # modifiers right behind ('096372GY', '07320050', '0G8994CNGP'): the width makes it
    # unambiguous where every part is a known modifier.
    pattern = rf"^0(?P<code>{HCPCS_RE})(?P<mod>(?:{MODIFIER_RE}){{1,2}})?$"
    fixed = _extract(
        value,
        pattern,
        value.str.startswith("0") & value.str.len().ge(6),  # '0' and 5 characters at least
        re2=pattern,
    )
    fixed_mods = fixed["mod"].str.replace(r"(..)(?=.)", r"\1 ", regex=True)
    fixed_known = _all_known(fixed_mods, modifiers)
    fixed_ok = fixed["code"].notna() & (fixed["mod"].isna() | fixed_known.astype(bool))
    padded = fixed_ok & fixed["mod"].isna()
    padded_mod = fixed_mods.where(fixed_ok)
    value = value.mask(fixed_ok, fixed["code"])
    # Excel drops the zeros of anesthesia codes (00100-01999): 100 -> 00100, never beyond.
    short_digits = value.str.fullmatch(r"\d{3,4}").fillna(False)
    number = pd.to_numeric(value.where(short_digits), errors="coerce")
    anesthesia = short_digits & number.between(100, 1999).fillna(False)
    value = value.mask(anesthesia, value.str.zfill(5))
    # Modifiers glued to the code: with separators ('71046-26', '85025 91', '71046-26-LT') or
    # without ('71101LT', '8352090' = 83520 + 90, '73140TCLT', 'G8978GPCH'; one or two). The
    # code part must have a code's shape (a local one too: 'X4118GO') and every part be a known
    # modifier, else the cell is malformed. The code part then gets its own check (deleted,
    # local, unknown): '97002GP' is a deleted code with GP, not a malformed cell.
    glue = (
        rf"^(?P<code>{HCPCS_RE}|{LOCAL_RE})(?:(?P<sep>(?:[\s\-]+{MODIFIER_RE})+)"
        rf"|(?P<tight>(?:{MODIFIER_RE}){{1,2}}))$"
    )
    parts = _extract(
        value,
        glue,
        value.str.len().ge(7),  # a code and a modifier: 7 characters at least
        re2=glue.replace(r"[\s\-]", rf"[{SPACE_CHARS}\-]"),
    )
    mods = parts["sep"].str.replace(r"[\s\-]+", " ", regex=True).str.strip()
    mods = mods.fillna(parts["tight"].str.replace(r"(..)(?=.)", r"\1 ", regex=True))
    tokens_known = _all_known(mods, modifiers)
    glued = parts["code"].notna() & tokens_known.astype(bool)
    tight = glued & parts["tight"].notna()
    if known_code is not None and tight.any():
        glued &= ~tight | _b(_tight_split_ok(value, parts["code"].where(tight), known_code))
    value = value.mask(glued, parts["code"])
    split = glued | padded_mod.notna()
    mods = mods.where(glued).fillna(padded_mod)
    ok = value.str.fullmatch(f"{HCPCS_RE}|{LOCAL_RE}").fillna(False)
    # What cannot be repaired stays as written (trimmed), for the contract to judge.
    value = value.where(ok | value.isna(), text)
    stored_number = _numeric(numeric, raw.index) & value.notna()
    # A value the same after repair (the number 99281 read as '99281') was not repaired.
    repaired = _b(ok & value.ne(raw))
    content = _b(repaired & (anesthesia | split))
    reason = _reasons(
        raw.index,
        [
            (stored_number & repaired, "stored as a number"),
            (trimmed, "removed spaces"),
            (cased, "upper-cased"),
            (floaty, "removed a float '.0'"),
            (padded | (fixed_ok & split), "removed fixed-width zero padding"),
            (anesthesia, "restored the leading zeros of an anesthesia code"),
            (split, "split the modifier off the code"),
        ],
    )
    kinds = {"float": floaty, "spaces": trimmed, "lower_case": cased, "padding": padded}
    return Repair(
        value,
        repaired,
        reason,
        mods.where(split & ok),
        content,
        _storage(repaired, content, kinds),
        placeholder,
    )


def split_modifiers(raw: pd.Series, numeric: pd.Series | None = None) -> Repair:
    """One modifier cell (possibly delimited) -> space-joined upper-case tokens."""
    text = clean_text(raw)
    step = _drop_float(text)
    floaty = (step.ne(text) & text.notna()).fillna(False)
    upper = step.str.upper()
    cased = (upper.ne(step) & step.notna()).fillna(False)
    tokens = upper.str.replace(r"[\s,;/|\-]+", " ", regex=True).str.strip()
    value = tokens.mask(tokens.eq(""))
    all_ok = value.str.fullmatch(rf"{MODIFIER_RE}(?: {MODIFIER_RE})*").fillna(False)
    trimmed = (text.notna() & text.ne(raw)).fillna(False)
    # A leading '-' ('-RT') is a content repair; delimiters between tokens are the cell's form.
    dash = upper.str.match(r"-").fillna(False)
    repaired = _b(all_ok & (dash | cased | floaty | trimmed))
    content = _b(repaired & dash)
    stored_number = _numeric(numeric, raw.index) & value.notna()
    reason = _reasons(
        raw.index,
        [
            (stored_number & repaired, "stored as a number"),
            (trimmed, "removed spaces"),
            (cased, "upper-cased"),
            (floaty, "removed a float '.0'"),
            (dash, "removed a leading '-'"),
        ],
    )
    kinds = {"float": floaty, "spaces": trimmed, "lower_case": cased}
    return Repair(value, repaired, reason, None, content, _storage(repaired, content, kinds))


def clean_charge_code(raw: pd.Series) -> Repair:
    """A charge code as text, trimmed, with an Excel float '.0' removed; storage repairs only."""
    text = clean_text(raw)
    value = _drop_float(text)
    floaty = (value.ne(text) & text.notna()).fillna(False)
    trimmed = (text.notna() & text.ne(raw)).fillna(False)
    repaired = _b(value.notna() & value.ne(raw))
    reason = _reasons(raw.index, [(trimmed, "removed spaces"), (floaty, "removed a float '.0'")])
    content = pd.Series(False, index=raw.index)
    kinds = {"float": floaty, "spaces": trimmed}
    return Repair(value, repaired, reason, None, content, _storage(repaired, content, kinds))


def parse_price(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(price as float, True where a non-blank cell is not a number). '$1,508.15 ' -> 1508.15."""
    text = clean_text(raw)
    cleaned = text.str.replace(f"[$,{SPACE_CHARS}]", "", regex=True)  # [$,\s]
    negative = cleaned.str.fullmatch(r"\(.*\)").fillna(False)
    cleaned = cleaned.mask(negative, "-" + cleaned.str.strip("()"))
    number = _to_numbers(cleaned)
    # 'inf', 'NaN' or an overflowing exponent are text, not a charge.
    number = number.where(np.isfinite(number))
    bad = text.notna() & number.isna()
    return number.astype("float64"), bad


def _to_numbers(text: pd.Series) -> pd.Series:
    """``pd.to_numeric(text, errors="coerce").astype("float64")``, each distinct text parsed
    once (a chargemaster repeats its prices): the same set of texts, so the same numbers."""
    codes, uniques = pd.factorize(text)
    if len(uniques) == len(text):
        return pd.to_numeric(text, errors="coerce").astype("float64")
    parsed = pd.to_numeric(pd.Series(uniques, dtype=text.dtype), errors="coerce")
    values = parsed.astype("float64").to_numpy()
    out = np.where(codes >= 0, values[np.maximum(codes, 0)] if len(values) else np.nan, np.nan)
    return pd.Series(out, index=text.index, dtype="float64")


def clean_code(raw: pd.Series) -> pd.Series:
    """A charge code as text: trimmed, with an Excel float '.0' removed."""
    return _drop_float(clean_text(raw))
