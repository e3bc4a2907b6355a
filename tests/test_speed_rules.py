"""The fast paths of the rules and suggestion stages give what the plain ones give (issue 13):
each check worked out once per distinct value, word searches run by Arrow, texts normalised
in one pass, descriptors that state nothing comparable skipped."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from chargemaster import suggest as S
from chargemaster.config import load_config
from chargemaster.refcheck import _code_status, code_status
from chargemaster.reference import bundled, load_reference, per_value
from chargemaster.rules import charge as C
from chargemaster.rules import codes as K
from chargemaster.rules.common import (
    _code_family,
    _in_ranges,
    _is_noc,
    code_family,
    fmt_price,
    in_ranges,
    is_noc,
)

# Codes as they arrive: blanks, NA of every kind, leading zeros, lower case, unicode digits and
# letters, Excel-mangled numbers, a code cut short or run long.
AWKWARD = [
    "A0021",
    "J1100",
    None,
    "99213",
    "",
    "0001A",
    "a0021",
    " J1100",
    "00100",
    "0100",
    "7.1045E+4",
    "71045.0",
    "G0008",
    "G9168",
    "٩٩٢١٣",  # Arabic-Indic digits: \d in Python, not in RE2
    "Ｊ1100",
    "J11000",
    "J",
    "74177",
    "70450",
    "1111F",
    "99213",
    "A0021",
    None,
    "",
]


def _series(values, dtype="str"):
    return pd.Series(values, index=range(10, 10 + len(values)), dtype=dtype)


def test_per_value_gives_what_the_function_gives_on_the_whole_column():
    def shape(s: pd.Series) -> pd.Series:
        return s.str.fullmatch(r"[A-Z]\d{4}").fillna(False).astype(bool)

    def text(s: pd.Series) -> pd.Series:
        return ("<" + s + ">").fillna("blank")

    def frame(s: pd.Series) -> pd.DataFrame:
        return pd.DataFrame({"len": s.str.len(), "upper": s.str.upper()}, index=s.index)

    for dtype in ("str", "object"):
        code = _series(AWKWARD, dtype)
        for fn in (shape, text, frame):
            got, expected = per_value(code, fn), fn(code)
            assert type(got) is type(expected)
            if isinstance(got, pd.DataFrame):
                pd.testing.assert_frame_equal(got, expected)
            else:
                pd.testing.assert_series_equal(got, expected)
    empty = _series([])
    assert per_value(empty, shape).tolist() == []


def test_per_value_on_codes_stored_as_numbers_and_mixed_na():
    # Codes held as ints and floats (a column read without text types) and both NA kinds.
    code = pd.Series([1100, "01100", 1100.0, None, np.nan, "A0021", 71045], dtype="object")
    for ranges in (("01000-01999",), ("A0021-A0999", "70010-76499")):
        assert in_ranges(code, ranges).tolist() == _in_ranges(code, ranges).tolist()

    # Values equal as Python objects (1100 and 1100.0) are one value: the checks are text
    # operations, where neither is text.
    def upper(s: pd.Series) -> pd.Series:
        return s.str.upper()

    assert per_value(code, upper).tolist() == upper(code).tolist()
    assert per_value(code, upper).tolist()[1] == "01100"


@pytest.mark.parametrize("dtype", ["str", "object"])
def test_in_ranges_and_families_per_code_match_the_whole_column(dtype):
    config = load_config(None)
    codes = list(bundled().level2.index[::11]) + [f"{i:05d}" for i in range(0, 100_000, 131)]
    code = _series(codes + AWKWARD, dtype)
    tables = [
        config.price_inconsistent.exclude_codes,
        config.price.item_codes,
        config.price_placeholder.token_charge_codes,
        config.price_placeholder.reporting_only_codes,
        *(f.codes for f in config.code_families),
    ]
    for ranges in tables:
        assert in_ranges(code, ranges).equals(_in_ranges(code, ranges))
    families = config.code_families
    got, expected = code_family(code, families), _code_family(code, families)
    pd.testing.assert_series_equal(got, expected)
    assert got.notna().any()


def test_noc_and_code_status_per_code_match_the_whole_column():
    ref = bundled()
    codes = list(ref.level2.index[::23]) + list(ref.noc)[:20] + AWKWARD
    code = _series(codes)
    assert is_noc(code, ref).equals(_is_noc(code, ref))
    assert is_noc(code, ref).any()
    for day in (dt.date(2019, 1, 1), dt.date(2026, 11, 1)):
        got, expected = code_status(code, ref, day), _code_status(code, ref, day)
        pd.testing.assert_frame_equal(got, expected)
    assert code_status(_series([]), ref, dt.date(2026, 11, 1)).empty


def test_descriptors_per_code_match_the_whole_column():
    ref = load_reference()
    code = _series(list(ref.level2.index[::97]) + AWKWARD)
    day = dt.date(2026, 11, 1)
    got = S._descriptors(code, ref, day)
    pd.testing.assert_series_equal(got, S._code_descriptors(code, ref, day))
    assert got.notna().sum() > 10


def _fmt_plain(p: pd.Series) -> pd.Series:
    return p.map(lambda v: f"{v:,.2f}" if v == v else "").astype("str")


def test_prices_formatted_once_per_price_print_as_each_would():
    values = [0.0, -0.0, np.nan, 1234.5, 1e12, -3.333, 0.005, 0.015, np.inf, -np.inf, 0.01]
    values += [99999.99, 1.0, 2.675, 1e-9, float("nan"), 5e15]
    p = pd.Series(values * 3, index=range(100, 100 + 3 * len(values)))
    got = fmt_price(p)
    pd.testing.assert_series_equal(got, _fmt_plain(p))
    assert got.tolist()[:3] == ["0.00", "-0.00", ""]
    rng = np.random.default_rng(5)
    many = pd.Series(rng.choice(np.round(rng.uniform(0, 9000, 500), 2), 5000))
    pd.testing.assert_series_equal(fmt_price(many), _fmt_plain(many))
    pd.testing.assert_series_equal(fmt_price(p.iloc[:0]), _fmt_plain(p.iloc[:0]))
    ints = pd.Series([1, 2, 1500], dtype="int64")  # not float: the plain path
    pd.testing.assert_series_equal(fmt_price(ints), _fmt_plain(ints))


def _has_words_plain(text: pd.Series, words) -> pd.Series:
    pattern = "|".join(re.escape(w) for w in words)
    hit = text.str.upper().str.contains(rf"(?<![A-Z0-9])(?:{pattern})(?![A-Z0-9])", regex=True)
    return hit.fillna(False).astype(bool)


TEXTS = [
    "XR KNEE BILAT",
    "BILATERAL",
    "bilat knee",
    "BILATX",
    "XBILAT",
    "KNEE-BILAT-",
    "KNEE\nBILAT",
    "BILAT\n",
    "NO CHARGE",
    "NO  CHARGE",
    "N/C ITEM",
    "ÉBILAT",
    "BILATÉ",
    "2BILAT",
    "BILAT2",
    "SEND OUT",
    "SEND-OUT TEST",
    "REF LAB",
    "",
    None,
    "ß STRASSE",
    "ｂｉｌａｔ",
    "(BILAT)",
    "NOCHARGE",
]


@pytest.mark.parametrize(
    "words",
    [
        ("BILAT", "BILATERAL"),
        ("NO CHARGE", "N/C", "NOCHARGE"),
        ("SEND OUT", "SEND-OUT", "REF LAB"),
        ("(BILAT)",),
        ("BILAT\n",),
    ],
)
def test_word_search_by_arrow_finds_the_lines_the_look_around_found(words):
    for dtype in ("str", "object"):
        text = _series(TEXTS, dtype)
        assert C._has_words(text, words).tolist() == _has_words_plain(text, words).tolist()
    ascii_only = _series([t for t in TEXTS if t is None or t.isascii()])
    assert C._has_words(ascii_only, words).equals(_has_words_plain(ascii_only, words))


def test_configured_words_find_the_same_lines_on_real_descriptions():
    config = load_config(None)
    texts = bundled().level2["long_description"].dropna().str.upper().iloc[::3]
    text = pd.Series(texts.to_numpy(), dtype="str")
    for words in (
        config.price_inconsistent.bilateral_words,
        config.price_inconsistent.send_out_words,
        config.price.no_charge_descriptions,
    ):
        if words:
            got = C._has_words(text, words)
            assert got.equals(_has_words_plain(text, words))


def test_durations_read_only_where_a_unit_is_named():
    texts = [
        "THERAPY 30 MIN",
        "GROUP 1 HR 30 MIN",
        "OBS 2HRS",
        "INFUSION 1.5 HOURS",
        "PT EA 15MINUTES",
        "TIME-15 MIN",
        "MINOR PROC",
        "HR MONITOR",
        "3-HOUR GTT",
        "٣ MIN",  # Arabic-Indic digit
        "",
        None,
        "15 min",
        "CT HEAD",
    ]
    for dtype in ("str", "object"):
        desc = _series(texts, dtype)
        spans = desc.str.upper().str.findall(C._DURATION)
        plain = spans.map(lambda f: C._span_text(f) if isinstance(f, list) else "")
        got = C._spans(desc)
        assert got.tolist() == plain.tolist()
        assert got.index.equals(desc.index)
    assert C._spans(_series(texts)).tolist()[:3] == [" 30 min", " 1 hr 30 min", " 2 hr"]


def test_modifier_conflicts_per_value_match_the_whole_column():
    mods = _series(["26 TC", "59 XS", "LT RT", "50 LT", "RT RT", "22 59 76 77 91", "", None])
    mods = pd.concat([mods, mods], ignore_index=True)
    got = per_value(mods, K._conflict_reason)
    assert got.equals(K._conflict_reason(mods))
    assert got.iloc[0] == "26 with TC" and got.iloc[6] == ""


def test_normalize_many_gives_each_text_normalize():
    texts = list(bundled().level2["short_description"].dropna().iloc[::5])
    texts += list(bundled().level2["long_description"].dropna().iloc[::9])
    texts += [
        "CT HD W/O",
        "MRI BRAIN W WO",
        "XR CHEST 2V",
        "US ABD LTD",
        "W/",
        "",
        " ",
        "ß straße",
        "ﬁ ligature",
        "İ",
        "µg 5 mg",
        "２V",
        "4VWS",
        "CT HD W/O\x00X",  # the separator itself: normalised on its own
        "a\x1fb",
        "tab\there",
        "new\nline",
        "W OR W/O",
        "FLWD BY",
        "CT HD W/O",
        12345,
    ]
    got = S.normalize_many(texts)
    assert got == [S.normalize(t) for t in texts]
    assert got[len(got) - 21] == S.normalize("CT HD W/O") != ""
    assert S.normalize_many([]) == []
    old = S._CHUNK
    try:
        S._CHUNK = 7  # chunk edges fall inside the list
        assert S.normalize_many(texts) == got
    finally:
        S._CHUNK = old


def _conflict_reasons_plain(desc: str, text: str, modifiers: str) -> list[str]:
    """_conflict_reasons without the early return."""
    a, b = S.text_terms(desc), S.text_terms(text)
    mods = set(re.findall(r"[A-Z0-9]{2}", modifiers.upper()))
    keep = []
    for w in S.conflicts(a, b):
        if w.startswith(("screening", "diagnostic")) and not b.modality:
            continue
        if w == "side: bilateral vs unilateral" and "50" in mods:
            continue
        if w == "side: unilateral vs bilateral" and "52" in mods:
            continue
        keep.append(w)
    return keep


def test_descriptors_stating_nothing_compared_conflict_with_nothing():
    ref = bundled()
    descriptors = list(ref.level2["long_description"].dropna().iloc[::40])
    descriptors += ["Ct head/brain w/o dye", "Mri brain stem w/o & w/dye", "X-ray exam knee 3"]
    descriptors += ["Screening mammography bilateral", "Us exam abdom complete", "Blood count"]
    descriptions = [
        "CT HEAD W CONTRAST",
        "MRI BRAIN WO",
        "XR KNEE 2V LT",
        "US ABD LTD",
        "MAMMO DIAG BILAT",
        "CBC W AUTO DIFF",
        "INJ KETOROLAC 15MG",
        "",
    ]
    stated = 0
    for text in descriptors:
        stated += S._states_compared(text)
        for desc in descriptions:
            for mods in ("", "50", "52 LT"):
                assert S._conflict_reasons(desc, text, mods) == _conflict_reasons_plain(
                    desc, text, mods
                )
    assert 0 < stated < len(descriptors)
    assert not S._states_compared(None) and not S._states_compared(float("nan"))


def test_g_codes_read_from_descriptions_only_where_one_can_be():
    texts = _series(["0G9168CMGN", "G8991 MOBILITY GOAL", "XG1234", "G12345", "g8991", "", None])
    texts = pd.concat([texts, _series(["G٨٩٩١ GOAL", "BG0008"])], ignore_index=True)
    upper = texts.str.upper()
    plain = upper.str.extract(C._DESC_GCODE, expand=False)
    assert C._written_gcodes(texts).fillna("<na>").tolist() == plain.fillna("<na>").tolist()
    assert plain.iloc[:2].tolist() == ["G9168", "G8991"]
    assert plain.iloc[7] == "G٨٩٩١"  # Python's \d: a Unicode digit


def _addendum_b(tmp_path, name: str, rows: list[tuple[str, str, str]]):
    path = tmp_path / name
    body = "".join(f"{c},{d},{s}\n" for c, d, s in rows)
    path.write_text("HCPCSCode,ShortDescriptor,StatusIndicator\n" + body)
    return path


def test_current_and_reporting_only_per_code_match_the_whole_column(tmp_path):
    from chargemaster.rules.registry import Context

    old = _addendum_b(
        tmp_path,
        "OPPS_AddendumB_2025_January.csv",
        [("99213", "Office visit", "V"), ("11100", "Biopsy skin", "T"), ("0001F", "Qual", "M")],
    )
    new = _addendum_b(
        tmp_path,
        "OPPS_AddendumB_2026_April.csv",
        [("99213", "Office visit", "V"), ("0001F", "Qual", "M"), ("G0008", "Flu admin", "B")],
    )
    ref = load_reference(addendum_b=[old, new])
    code = _series(AWKWARD + ["11100", "0001F", "G0008", "99213", "A0021"])
    config = load_config(None)
    for day in (dt.date(2025, 2, 1), dt.date(2026, 5, 1)):
        ctx = Context(None, config, ref, day, set())
        assert C._current(ctx, code).equals(C._current_codes(ctx, code))
        assert C.reporting_only(ctx, code).equals(C._reporting_only_codes(ctx, code))
    ctx = Context(None, config, ref, dt.date(2026, 5, 1), set())
    current = dict(zip(code, C._current(ctx, code), strict=True))
    assert current["99213"] and not current["11100"]  # dropped from the later release
    assert C.reporting_only(ctx, code)[code.eq("0001F").to_numpy()].all()


def test_per_class_descriptions_found_only_where_the_letters_are():
    from chargemaster.feeschedule import _PER_CLASS, _per_class

    texts = [
        "DRUG SCREEN EA CLASS",
        "drug screen per drug class",
        "DRUG SCR PER CLASSES",
        "EACH  CLASS",
        "EACLASS",
        "PER CLAſS",  # long s: an 's' to re.IGNORECASE
        "CLASS EA",
        "MIDDLE CLASS",
        "",
        None,
        "PER\nCLASS",
        "ÉACH CLASS",
    ]
    for dtype in ("str", "object"):
        desc = _series(texts, dtype)
        plain = desc.fillna("").str.contains(_PER_CLASS).astype(bool)
        assert _per_class(desc).tolist() == plain.tolist()
    assert _per_class(_series(texts)).tolist()[:8] == [True] * 6 + [False, False]


def test_descriptors_read_for_key_terms_only_where_a_term_word_is():
    ref = bundled()
    texts = list(ref.level2["long_description"].dropna().iloc[::3])
    texts += list(ref.level2["short_description"].dropna().iloc[::3])
    texts += ["Ct head/brain w/o dye", "Mri brain stem w/o & w/dye", "X-ray exam knee 3"]
    texts += ["XR CHEST 2V", "Shoulder 2/>", "MRI BRAIN W WO", "CT ABD W", "US BREAST LT LTD"]
    texts += ["<4VIEWS", "MAMMO SCREEN", "", None, "CT HEAD WO-RIGHT", "Knee 1 or 2 views"]
    series = _series(texts, "object")
    expected = [S._states_compared(t) for t in texts]
    assert S._states_compared_many(series).tolist() == expected
    assert 100 < sum(expected) < len(texts) - 100


def test_revenue_code_lists_per_value_match_the_whole_column():
    rev = _series(["0320", "0321", "320", "0350", "0610", "", None, "03200", "0٣20", "0320"])
    for codes in (("032", "0350"), ("0610",), ()):
        assert K._in_revenue_codes(rev, codes).equals(K._revenue_codes_in(rev, codes))
    assert K._in_revenue_codes(rev, ("032",)).tolist()[:3] == [True, True, False]


def test_no_catalog_or_local_index_when_nothing_needs_them(check, monkeypatch):
    from tests.conftest import line

    def refuse(*args, **kwargs):
        raise AssertionError("the suggester was built for a file with nothing to suggest")

    monkeypatch.setattr(S, "build_suggester", refuse)
    rows = [line(), line(code="30010002", desc="BASIC METABOLIC PANEL", hcpcs="80048")]
    pairs, result = check(rows)
    assert result.suggestions is not None and result.suggestions.empty
    assert not {r for r, _ in pairs} & {"HCPCS-SUGGESTED", "DESCRIPTION-CODE-CONFLICT"}
    # A line to suggest for builds it.
    with pytest.raises(AssertionError, match="nothing to suggest"):
        check([line(hcpcs="", desc="CBC W AUTO DIFF")])


def test_configured_words_with_any_punctuation_search_the_same():
    # A word in the configuration may hold any punctuation: its escape must mean the same to
    # Arrow's RE2 as to Python's re (an escape RE2 refused would stop the run).
    import string

    texts = [f"A{c}B" for c in string.punctuation + " \t"] + ["XA&B", "A&BX", "A&B.", None, ""]
    text = _series(texts)
    for c in string.punctuation + " \t":
        words = (f"A{c}B", "NO CHARGE")
        assert C._has_words(text, words).tolist() == _has_words_plain(text, words).tolist(), c
    assert C._has_words(text, ("A&B",)).tolist().count(True) == 2
