"""The speed-ups keep the answers: cached and vectorised paths against the plain ones."""

from __future__ import annotations

import datetime as dt
import random
import re

import pandas as pd
import pytest

from chargemaster import reference as R
from chargemaster import suggest as S
from chargemaster.config import load_config
from chargemaster.reader import _count_filled, cell_text
from chargemaster.reference import bundled, isin, load_reference
from chargemaster.rules.common import in_ranges

CODES = pd.Series(
    ["A0021", "J1100", None, "99213", "", pd.NA, "a0021", " J1100", "0001A"], dtype="str"
)


@pytest.mark.parametrize(
    "members",
    [
        bundled().level2.index,
        bundled().modifiers.index,
        frozenset({"99213", "0001A"}),
        ["A0021", 5, None],  # only text members count, as in pandas; NA is never a member
        frozenset(),
        pd.Index([], dtype="str"),
    ],
)
def test_isin_answers_as_pandas_does(members):
    expected = CODES.isin([m for m in members if isinstance(m, str)])
    got = isin(CODES, members)
    assert got.dtype == bool
    assert got.tolist() == expected.tolist()
    assert got.index.equals(CODES.index)
    # Object-dtype values take pandas' own path.
    objects = CODES.astype("object")
    assert isin(objects, members).tolist() == expected.tolist()


def test_isin_builds_a_value_set_once_per_set():
    members = frozenset({"A0021", "J1100"})
    isin(CODES, members)
    key = next(k for k, v in R._MEMBER_SETS.items() if v[0] is members)
    first = R._MEMBER_SETS[key][1]
    assert isin(CODES, members).tolist() == [True, True] + [False] * 7
    assert R._MEMBER_SETS[key][1] is first


def test_catalog_is_built_once_per_reference_and_date():
    config = load_config(None)
    day = dt.date(2026, 11, 1)
    one = S.reference_catalog(load_reference(), config, day)
    again = S.reference_catalog(load_reference(), config, day)
    assert again is one  # a second run reuses it
    other = S.reference_catalog(load_reference(), config, dt.date(2019, 1, 1))
    assert other is not one
    fresh = S._build_catalog(load_reference(), config, day)
    assert (fresh.codes, fresh.texts, fresh.normal, fresh.family) == (
        one.codes,
        one.texts,
        one.normal,
        one.family,
    )
    assert len(one.codes) > 10_000


def test_filled_counts_match_cell_text():
    values = ["", " ", "\u00a0", "\u3000x", "a", None, 0.0, float("nan"), 3, True, False]
    values += [dt.date(2020, 1, 1), dt.datetime(2020, 1, 1, 8), "\t\n", 1.5, -0.0]
    rng = random.Random(7)
    for _ in range(500):
        row = rng.choices(values, k=rng.randint(0, 9))
        assert _count_filled(row) == sum(1 for v in row if cell_text(v).strip()), row


def _in_ranges_one_by_one(code: pd.Series, ranges) -> pd.Series:
    hit = pd.Series(False, index=code.index)
    for rng in ranges:
        lo, _, hi = rng.partition("-")
        hi = hi or lo
        shape = "".join(r"\d" if ch.isdigit() else re.escape(ch) for ch in lo)
        shape = re.sub(r"(\\d)+", lambda m: rf"\d{{{len(m.group(0)) // 2}}}", shape)
        same = code.str.fullmatch(shape).fillna(False)
        hit |= same & (code >= lo).fillna(False) & (code <= hi).fillna(False)
    return hit.astype(bool)


def test_in_ranges_grouped_by_shape_matches_range_by_range():
    config = load_config(None)
    codes = list(bundled().level2.index[::7]) + [f"{i:05d}" for i in range(0, 100_000, 97)]
    codes += ["0001A", "0591T", "99213", "", None, "J", "J11000", "G0008"]
    code = pd.Series(codes, dtype="str")
    tables = [config.price_inconsistent.exclude_codes, *(f.codes for f in config.code_families)]
    for ranges in tables:
        expected = _in_ranges_one_by_one(code, ranges)
        assert in_ranges(code, ranges).tolist() == expected.tolist()
    assert in_ranges(code, ("99201-99215",)).sum() == sum(
        1 for c in codes if c and re.fullmatch(r"\d{5}", c) and "99201" <= c <= "99215"
    )


def test_abbreviation_pattern_matches_one_look_behind_per_phrase():
    pattern, phrases, _, _ = S._table()
    plain = []
    for p in sorted(phrases, key=len, reverse=True):
        tail = r"(?![A-Z0-9])" if p[-1].isalnum() else ""
        plain.append(rf"(?<![A-Z0-9]){re.escape(p)}{tail}")
    simple = re.compile("|".join(plain))
    texts = [t.upper() for t in bundled().level2["long_description"].dropna().iloc[::10]]
    texts += ["CT HD W/O CONTRAST", "MRI BRAIN W WO", "XR CHEST 2V", "US ABD LTD", "W/"]
    for text in texts:
        assert pattern.sub("|", text) == simple.sub("|", text), text
        assert [m.span() for m in pattern.finditer(text)] == [
            m.span() for m in simple.finditer(text)
        ]
