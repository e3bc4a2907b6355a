"""The read and repair fast paths give what the plain code gives (issue 13).

Each fast path is checked against the plain form it replaced, kept here as the reference, on
awkward values: None/NaN, empty strings, unicode spaces and letters, leading zeros, codes
stored as numbers, Excel-mangled numbers, line breaks.
"""

from __future__ import annotations

import datetime as dt
import random
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chargemaster import normalize as N
from chargemaster import prepare as P
from chargemaster import reader as R
from chargemaster import roles as RO
from chargemaster.fields import normalize_header
from chargemaster.safety import _REF, cell_refs, column_number

# Values a cell of an export can hold, as calamine or the csv module hand them over.
CELLS = [
    None, "", " ", "\u00a0", "abc", " A0021 ", "0450", "00123", "99213.0", "é", "ﬁ",
    "J1100\u200b", "x\ny", "\t", 450.0, 0.0, -0.0, 123.6, 1e15, 1e16, 99999999999999.0,
    float("nan"), float("inf"), -float("inf"), 1.5e-07, 450, -3, 10**20, True, False,
    dt.date(2026, 11, 1), dt.datetime(2026, 11, 1, 8, 30), dt.datetime(2026, 11, 1),
]  # fmt: skip
TEXTS = [
    None, "", " ", "a", "A0021", " a0021 ", "0G0379", "0G0379GY", "0C1713", "71046-26",
    "71046 26 LT", "8352090", "99213\u00a0", "\u200bJ1100", "\ufeff0450", "J1100\u3000",
    "x\x0by", "\x1c99213\x1d", "\u202f", "é", "Ⅻ", "٣٤٥", "99213\n", "$1,508.15 ", "(12.50)",
    "LAB [0300]", "LABORATORY - GENERAL [0301]", "0300 [0301]", "CNV", "k", "\u212a",
]  # fmt: skip
text_values = st.one_of(st.sampled_from(TEXTS), st.text(max_size=12), st.none())


# --- used range ------------------------------------------------------------------------


def plain_refs(data: bytes):
    found = _REF.findall(data)
    if not found:
        return None
    cols = [column_number(c.decode()) for c, _ in found]
    rows = [int(r) for _, r in found]
    far = max((c for c, _ in found), key=lambda c: column_number(c.decode())).decode()
    return min(cols), max(cols), min(rows), max(rows), far


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b'r="A1"',
        b'<c r="A1"/><c r="XFD1048576"/>',
        b'<row r="5"><c r="B5" t="s"><v>1</v></c><c r="AA5"/></row>',
        b'<c r="ABCD1"/><c r="A12345678"/><c r="A1x"/><c xr="B2"/><c _r="C3"/>',
        b'<c r="A0"/><c r="ZZZ9999999"/>',
        b'x r="B7"',  # a reference in the last bytes
        b"<dimension ref=\"A1:H9\"/><mergeCell ref='A1:B2'/>",
    ],
)
def test_cell_refs_span_the_references_the_regex_finds(data):
    assert cell_refs(data) == plain_refs(data)


def test_cell_refs_on_random_fragments():
    rng = random.Random(13)
    for _ in range(3000):
        parts = []
        for _ in range(rng.randint(0, 5)):
            letters = bytes(rng.choice(b"ABZQ") for _ in range(rng.randint(0, 5)))
            digits = bytes(rng.choice(b"0123456789") for _ in range(rng.randint(0, 9)))
            parts.append(
                rng.choice([b"<c ", b" ", b"xr", b"_", b"", b"\n", b"9"])
                + b'r="'
                + letters
                + digits
                + rng.choice([b'"', b"", b"x", b'" '])
            )
        data = b"".join(parts)
        assert cell_refs(data) == plain_refs(data), data


def test_cell_refs_on_a_long_sheet_part():
    rows = "".join(
        f'<row r="{r}"><c r="A{r}"/><c r="{c}{r}"/></row>'
        for r, c in zip(range(1, 3000, 7), ["B", "AB", "C", "XFD"] * 200, strict=False)
    )
    data = rows.encode()
    assert cell_refs(data) == plain_refs(data)


# --- cells to text ---------------------------------------------------------------------


def test_column_text_is_cell_text_with_the_number_cells():
    values = CELLS * 3
    text, numbers = R.column_text(values)
    assert text == [R.cell_text(v) for v in values]
    expected = [type(v) in (int, float) for v in values]
    assert numbers is not None and numbers.tolist() == expected


def test_column_text_of_text_cells_is_the_cells():
    values = ["a", "", " 0450 "]
    assert R.column_text(values) == (values, None)
    assert R.column_text([]) == ([], None)


@given(st.lists(st.one_of(st.floats(), st.integers(-(10**18), 10**18), st.text(max_size=5))))
def test_column_text_on_any_numbers(values):
    text, numbers = R.column_text(values)
    assert text == [R.cell_text(v) for v in values]
    if numbers is not None:
        assert numbers.tolist() == [type(v) in (int, float) for v in values]
    else:
        assert not any(type(v) in (int, float) for v in values)


def test_trim_keeps_narrow_sheets_and_cuts_padding():
    narrow = [["a", "b", ""], ["c", "", ""]]
    assert R._trim(narrow) is narrow
    wide = [["a", "b"] + [""] * 300, ["c"] + [None] * 301]
    assert R._trim(wide) == [["a", "b"], ["c", None]]


# --- header and rows -------------------------------------------------------------------


@given(st.lists(text_values, min_size=1, max_size=20), st.sampled_from(["code", "cpt4", "a1"]))
def test_repeated_header_cells_as_normalize_header_reads_them(cells, norm):
    values = pd.Series([c if c is not None else "" for c in cells], dtype="str")
    plain = values.str.lower().str.replace(r"[^a-z0-9]", "", regex=True).eq(norm)
    assert R._normalizes_to(values, norm).tolist() == plain.astype(int).tolist()


def test_repeated_header_on_spelled_variants():
    values = pd.Series(["Charge Code", "CHARGE_CODE", "charge\ncode", "Chargé Code", "x"])
    got = R._normalizes_to(values, normalize_header("Charge Code")).tolist()
    assert got == [1, 1, 1, 0, 0]


@pytest.mark.parametrize("keep", [[True, False, True, True], [False] * 4, [True] * 4])
def test_item_lines_are_the_rows_kept_with_blanks_as_na(keep):
    text = {"a": ["", "x", " ", "é"], "b": ["0450", "", "", "\u00a0"]}
    index = pd.RangeIndex(5, 9, name="row")
    frame = pd.DataFrame(text, index=index, dtype="str")
    item = pd.Series(keep, index=index)
    arrays = {k: R.pa.array(v, R.pa.large_string()) for k, v in text.items()}
    got = R._item_lines(arrays, item, index)
    pd.testing.assert_frame_equal(got, frame[item].replace("", pd.NA))


def test_a_candidate_counts_its_lines_when_asked(tmp_path):
    rows = [["Code", "Description", "Price"], ["1", "A", 2.0], ["", "title", ""], [3, "B", ""]]
    grid = R.Grid("S", rows)
    cand = R.candidate_at(grid, 0, _specs())
    assert cand._lines is None
    assert cand.lines == 2 == sum(1 for r in rows[1:] if R._count_filled(r) >= 2)


def _specs():
    from chargemaster.config import load_config
    from chargemaster.fields import field_specs

    return field_specs("chargemaster", load_config(None).aliases)


# --- role profiles ---------------------------------------------------------------------


def test_bare_of_a_value_is_bare_of_its_upper_case():
    # profile() bares each value once; _bare(v) == _bare(v.upper()) needs upper() to keep
    # whitespace whitespace (and only it) and to be idempotent, over every code point.
    for i in range(0x110000):
        c = chr(i)
        up = c.upper()
        assert c.isspace() == any(x.isspace() for x in up) and up.upper() == up, hex(i)
        assert not c.isspace() or up == c, hex(i)


def plain_profile_counts(values):
    """The tallies of roles.profile as it was: each check on its own, per distinct value."""
    counts: dict[str, int] = {}
    for x in values:
        t = RO._SPACES.sub(" ", x.strip()) if x else ""
        if t and t.upper() not in RO.PLACEHOLDERS:
            counts[t] = counts.get(t, 0) + 1
    out = {"hcpcs": 0.0, "level2": 0, "revenue": 0, "money": 0, "decimals": 0, "text": 0}
    out["ident"] = 0
    lengths: dict[int, int] = {}
    for v, k in counts.items():
        up = v.upper()
        out["hcpcs"] += RO.hcpcs_shape(up) * k
        out["level2"] += k * (up[:1].isalpha() and RO.hcpcs_shape(up) == 1.0)
        out["revenue"] += k * RO.revenue_shape(up)
        number = RO.money(v)
        out["money"] += k * (number is not None)
        out["decimals"] += k * (number is not None and bool(re.search(r"\.\d*[1-9]", v)))
        letters = sum(c.isalpha() for c in v)
        out["text"] += k * (letters >= 3 and (" " in v or letters >= 6) and number is None)
        out["ident"] += k * (
            v.count(" ") <= 2
            and len(v) <= 30
            and any(c.isdigit() for c in v)
            and letters <= len(v) / 2
            and not RO._DATE.fullmatch(v)
        )
        bare = RO._bare(v)
        lengths[len(bare)] = lengths.get(len(bare), 0) + k
    return out, lengths


@given(st.lists(st.one_of(st.sampled_from(TEXTS[1:]), st.text(max_size=10)), max_size=30))
def test_profile_tallies_as_each_check_alone(values):
    p = RO.profile(values)
    expected, lengths = plain_profile_counts(values)
    got = {k: getattr(p, k) for k in expected}
    assert got == pytest.approx(expected)
    if p.n:
        assert p.modal_len_share == max(lengths.values()) / p.n


@pytest.mark.parametrize(
    "value", ["LAB (0300)", "[0301]", "X [450]", "0450", "450.0", "ROOM [0110] ", "(99)"]
)
def test_revenue_shape_with_and_without_brackets(value):
    m = RO._BRACKET_REV.fullmatch(RO._bare(value))
    v = m.group(1) if m else RO._bare(value)
    plain = v.isdigit() and 3 <= len(v) <= 4 and int(v) >= 100 and v.zfill(4) in RO.revenue_codes()
    assert RO.revenue_shape(value) == plain


# --- repair ----------------------------------------------------------------------------


def series(values, dtype="str"):
    return pd.Series(values, dtype=dtype, index=pd.RangeIndex(2, 2 + len(values), name="row"))


def plain_clean_text(s):
    out = s.astype("str").str.replace(N._INVISIBLE, " ", regex=True).str.strip()
    return out.mask(out.eq(""))


@pytest.mark.parametrize("dtype", ["str", "object"])
def test_clean_text_as_python_re_cleans(dtype):
    s = series(TEXTS, dtype)
    pd.testing.assert_series_equal(N.clean_text(s), plain_clean_text(s))
    ascii_only = series(["a ", None, " 0450"], dtype)
    pd.testing.assert_series_equal(N.clean_text(ascii_only), plain_clean_text(ascii_only))


@given(st.lists(text_values, max_size=20))
def test_clean_text_on_any_text(values):
    s = series(values)
    pd.testing.assert_series_equal(N.clean_text(s), plain_clean_text(s))


def test_space_chars_are_pythons_whitespace():
    spaces = re.compile(f"[{N.SPACE_CHARS}]")
    for i in range(0x110000):
        assert bool(spaces.match(chr(i))) == bool(re.match(r"\s", chr(i))), hex(i)


def plain_parse_price(raw):
    text = plain_clean_text(raw)
    cleaned = text.str.replace(r"[$,\s]", "", regex=True)
    negative = cleaned.str.fullmatch(r"\(.*\)").fillna(False)
    cleaned = cleaned.mask(negative, "-" + cleaned.str.strip("()"))
    number = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    number = number.where(np.isfinite(number))
    return number.astype("float64"), text.notna() & number.isna()


def test_parse_price_as_with_python_whitespace():
    values = ["$1,508.15 ", "1\u2003508", "(12.50)", "1 2", "12\x1c", "inf", "", None, "٣"]
    got, want = N.parse_price(series(values)), plain_parse_price(series(values))
    pd.testing.assert_series_equal(got[0], want[0])
    pd.testing.assert_series_equal(got[1], want[1])


def plain_reasons(index, steps):
    out = pd.Series("", index=index, dtype="str")
    for mask, label in steps:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            continue
        out = out.mask(mask & out.ne(""), out + "; " + label).mask(mask & out.eq(""), label)
    return out


def test_reasons_join_the_steps_in_order():
    rng = np.random.default_rng(7)
    index = pd.RangeIndex(2, 302, name="row")
    steps = []
    for k in range(6):
        values = rng.choice([True, False, None], size=300, p=[0.3, 0.6, 0.1])
        dtype = "boolean" if k % 2 else "object"
        steps.append((pd.Series(values, index=index, dtype=dtype), f"step {k}"))
    steps.append((pd.Series(False, index=index), "never"))
    pd.testing.assert_series_equal(N._reasons(index, steps), plain_reasons(index, steps))
    pd.testing.assert_series_equal(N._reasons(index, []), plain_reasons(index, []))


GLUE = (
    rf"^(?P<code>{N.HCPCS_RE})(?:(?P<sep>(?:[\s\-]+{N.MODIFIER_RE})+)"
    rf"|(?P<tight>(?:{N.MODIFIER_RE}){{1,2}}))$"
)
FIXED = rf"^0(?P<code>{N.HCPCS_RE})(?P<mod>(?:{N.MODIFIER_RE}){{1,2}})?$"


@pytest.mark.parametrize(
    "values",
    [
        ["71046-26", "71046 26 LT", "8352090", "99213", None, "G8978GPCH", "71046\x0b26"],
        ["71046-26", "٣٤٥٦٧-26", "99213"],  # non-ASCII digits: Python's \d takes them
        ["71046-26\n", "71046-26"],  # a final newline: Python's $ matches before it
        [None, None],
        [],
    ],
)
def test_extract_by_re2_as_by_python(values):
    s = series([v.upper() if v else v for v in values])
    re2 = GLUE.replace(r"[\s\-]", rf"[{N.SPACE_CHARS}\-]")
    got = N._extract(s, GLUE, s.str.len().ge(7), re2=re2)
    pd.testing.assert_frame_equal(got, s.str.extract(GLUE))
    fixed = N._extract(s, FIXED, s.str.startswith("0") & s.str.len().ge(6), re2=FIXED)
    pd.testing.assert_frame_equal(fixed, s.str.extract(FIXED))


CODE_CELLS = st.from_regex(r"0?[A-Z0-9]{5}[ -]?[A-Z0-9]{0,4}")


@given(st.lists(st.one_of(st.sampled_from(TEXTS), CODE_CELLS)))
def test_extract_on_any_code_cells(values):
    s = series([v.upper() if v else v for v in values])
    got = N._extract(s, FIXED, s.str.startswith("0") & s.str.len().ge(6), re2=FIXED)
    pd.testing.assert_frame_equal(got, s.str.extract(FIXED))
    bracket = N._extract(s, N._BRACKETED_REV, s.str.contains("[", regex=False), expand=False)
    pd.testing.assert_series_equal(bracket, s.str.extract(N._BRACKETED_REV, expand=False))


def test_all_known_as_token_by_token():
    mods = frozenset({"26", "LT", "GY"})
    s = series(["26", "26 LT", "26 XX", None, "", "LT GY 26"])
    plain = s.fillna("").str.split(" ").map(lambda ts: bool(ts) and all(t in mods for t in ts))
    assert N._all_known(s, mods).tolist() == plain.astype(bool).tolist()


def test_first_pairs_as_drop_duplicates():
    rng = random.Random(3)
    for size, kinds in [(0, 1), (5, 2), (2500, 1), (2500, 2), (2500, 50), (3000, 3)]:
        raw = [rng.choice([f"r{i}" for i in range(kinds)] + [None]) for _ in range(size)]
        value = [None if r is None else r.upper() for r in raw]
        a, b = series(raw), series(value)
        plain = pd.DataFrame({"raw": a, "value": b}).drop_duplicates().head(3)
        pd.testing.assert_frame_equal(P._first_pairs(a, b, 3), plain)


def plain_has_words(text, words):
    pattern = "|".join(re.escape(w) for w in words)
    hit = text.str.upper().str.contains(rf"(?<![A-Z0-9])(?:{pattern})(?![A-Z0-9])", regex=True)
    return hit.fillna(False).astype(bool)


@given(st.lists(text_values | st.sampled_from(["DO NOT USE", "xdelete", "DEL.", "old-del"])))
def test_has_words_as_with_lookarounds(values):
    words = ("DELETE", "DO NOT USE", "DEL.", "Z#1")
    s = series(values)
    pd.testing.assert_series_equal(P._has_words(s, words), plain_has_words(s, words))


def _grid_rows(n: int, seed: int) -> list[list]:
    rng = random.Random(seed)
    rows = [["Charge Code", "Description", "Rev Code", "HCPCS", "Price", "Tier 3"]]
    for i in range(n):
        row = [
            rng.choice([f"{100000 + i}", float(100000 + i), ""]),
            rng.choice(["CT HEAD W/O", "LAB PANEL", "", "  ", "ROOM [0110]"]),
            rng.choice([450.0, "0450", "301", "", None]),
            rng.choice(["99213", "a0021", " J1100", "", "71046-26", 80053.0]),
            rng.choice([12.5, "$1,508.15", "", 0.0]),
            rng.choice([1.0] + [""] * 400),  # a sparse column
        ]
        rows.append(row[: rng.choice([6, 6, 6, 4, 2])])  # some short rows
    return rows + [["", " ", None]] * 3  # blank rows at the end


@pytest.mark.parametrize("n,seed", [(40, 1), (400, 2), (7000, 3)])
def test_full_candidate_from_texts_as_from_cells(n, seed):
    rows = _grid_rows(n, seed)
    grid = R.Grid("S", rows)
    last = len(rows)
    while not any(R.cell_text(v).strip() for v in rows[last - 1]):
        last -= 1
    body = rows[1:last]
    width = max(len(rows[0]), *map(len, body))
    texts = [R.column_text([r[j] if j < len(r) else "" for r in body])[0] for j in range(width)]
    plain = R.candidate_at(grid, 0, _specs(), full=True)
    fast = R.candidate_at(grid, 0, _specs(), full=True, texts=texts)
    assert fast.assignment == plain.assignment
    assert fast.headers == plain.headers


def test_full_candidate_falls_back_when_blank_rows_are_wider():
    rows = _grid_rows(300, 4)
    rows.append(["", "", "", "", "", "", "", " "])  # wider than every line
    grid = R.Grid("S", rows)
    body = rows[1:-4]
    texts = [R.column_text([r[j] if j < len(r) else "" for r in body])[0] for j in range(6)]
    plain = R.candidate_at(grid, 0, _specs(), full=True)
    fast = R.candidate_at(grid, 0, _specs(), full=True, texts=texts)
    assert fast.assignment == plain.assignment and fast.headers == plain.headers
