import pandas as pd
import pytest

from chargemaster.normalize import parse_price, repair_hcpcs, repair_revenue_code, split_modifiers


def one(fn, value, **kw):
    rep = fn(pd.Series([value], dtype="str"), **kw)
    mods = rep.modifiers.iloc[0] if rep.modifiers is not None else None
    v = rep.value.iloc[0]
    return (
        (None if pd.isna(v) else v),
        bool(rep.repaired.iloc[0]),
        (None if pd.isna(mods) else mods),
    )


@pytest.mark.parametrize(
    "raw, value, repaired",
    [
        ("300", "0300", True),
        ("300.0", "0300", True),
        (" 0120 ", "0120", True),
        ("0300", "0300", False),
        ("30", "30", False),  # malformed, never guessed
        ("03000", "03000", False),
        ("A300", "A300", False),
        ("", None, False),
        # The NUBC description with the code in brackets: the code is stated, not guessed.
        ("SPECIALTY ROOM - TREATMENT/OBSERVATION ROOM [0761]", "0761", True),
        ("LABORATORY - GENERAL [0300]", "0300", True),
        ("LABORATORY - GENERAL [300]", "0300", True),
        ("EPO, LESS THAN 10,000 UNITS [0634]", "0634", True),
        ("0300 [0301]", "0300 [0301]", False),  # two codes: malformed
        ("LAB 0300 [0301]", "LAB 0300 [0301]", False),
        ("LAB [0300] [0301]", "LAB [0300] [0301]", False),
        ("LAB [0300] EXTRA", "LAB [0300] EXTRA", False),
        ("[0300]", "[0300]", False),
        ("LAB [03000]", "LAB [03000]", False),
    ],
)
def test_revenue_code_repairs(raw, value, repaired):
    assert one(repair_revenue_code, raw)[:2] == (value, repaired)


def test_revenue_code_stored_as_number_is_reported_only_when_it_changes():
    rep = repair_revenue_code(pd.Series(["450", "0450"], dtype="str"), pd.Series([True, True]))
    assert rep.value.tolist() == ["0450", "0450"]
    assert rep.repaired.tolist() == [True, False]
    assert "stored as a number" in rep.reason.iloc[0] and rep.reason.iloc[1] == ""
    assert set(rep.storage) == {"leading_zero"} and rep.storage["leading_zero"].tolist() == [
        True,
        False,
    ]


@pytest.mark.parametrize(
    "raw, value, repaired, mods",
    [
        ("c1874", "C1874", True, None),
        ("0G0379    ", "G0379", True, None),
        ("099211    ", "99211", True, None),
        ("80053.0", "80053", True, None),
        ("100", "00100", True, None),  # anesthesia 00100-01999 only
        ("1999", "01999", True, None),
        ("2000", "2000", False, None),  # padding would not give an anesthesia code
        ("853", "00853", True, None),
        ("71046-26", "71046", True, "26"),
        ("71101LT", "71101", True, "LT"),
        ("85025 91", "85025", True, "91"),
        ("71046-26-LT", "71046", True, "26 LT"),
        ("096372GY", "96372", True, "GY"),
        ("07320050", "73200", True, "50"),
        ("0G8994CNGP", "G8994", True, "CN GP"),  # fixed width, two modifiers
        ("A4341\u00a0", "A4341", True, None),
        ("0001U", "0001U", False, None),
        ("85025", "85025", False, None),
        ("J1100", "J1100", False, None),
        ("8502", "8502", False, None),
        ("J12345", "J12345", False, None),
        ("85025, 85027", "85025, 85027", False, None),
        ("99213-Office Visit", "99213-Office Visit", False, None),
        # Glued without a separator: split where every part is a known modifier (rules.md).
        ("8502591", "85025", True, "91"),
        ("8352090", "83520", True, "90"),
        ("7302050", "73020", True, "50"),
        ("73140TCLT", "73140", True, "TC LT"),
        ("G8978GPCH", "G8978", True, "GP CH"),
        ("5070001", "5070001", False, None),  # '01' is no modifier: a 7-digit number
        ("73030ZZ", "73030ZZ", False, None),
        ("85025-ZZ", "85025-ZZ", False, None),
        ("7314TCLT", "7314TCLT", False, None),
        ("X3908", "X3908", False, None),
    ],
)
def test_hcpcs_repairs(raw, value, repaired, mods):
    assert one(repair_hcpcs, raw) == (value, repaired, mods)


@pytest.mark.parametrize("raw", ["0", "BLANK", "blank", " N/A "])
def test_hcpcs_placeholders_mean_no_code(raw):
    value, repaired, _ = one(repair_hcpcs, raw, placeholders=frozenset({"0", "BLANK", "N/A"}))
    assert (value, repaired) == (None, False)


def test_hcpcs_placeholders_are_counted():
    raw = pd.Series(["0", "NONE", "85025", None, "n/a"], dtype="str")
    rep = repair_hcpcs(raw, placeholders=frozenset({"0", "NONE", "N/A"}))
    assert rep.placeholder.tolist() == [True, True, False, False, True]
    assert rep.value.isna().tolist() == [True, True, False, True, True]


def test_a_code_stored_as_a_number_that_reads_the_same_is_no_repair():
    # issue 11: "'99281' was repaired to '99281'" 4,429 times on one file.
    rep = repair_hcpcs(pd.Series(["99281", "80053.0"], dtype="str"), pd.Series([True, True]))
    assert rep.value.tolist() == ["99281", "80053"]
    assert rep.repaired.tolist() == [False, True]
    assert rep.storage["float"].tolist() == [False, True]


def test_storage_and_content_repairs_are_told_apart():
    raw = pd.Series(["c1874", "0G0379    ", "100", "71046-26", "8352090", "J1100 "], dtype="str")
    rep = repair_hcpcs(raw)
    assert rep.value.tolist() == ["C1874", "G0379", "00100", "71046", "83520", "J1100"]
    assert rep.content.tolist() == [False, False, True, True, True, False]
    assert rep.storage["lower_case"].tolist() == [True, False, False, False, False, False]
    assert rep.storage["padding"].tolist() == [False, True, False, False, False, False]
    assert rep.storage["spaces"].tolist() == [False, True, False, False, False, True]


def test_glued_code_part_must_be_known_when_a_reference_has_it():
    known = lambda codes: codes.isin({"83520"})  # noqa: E731
    rep = repair_hcpcs(pd.Series(["8352090", "8502591"], dtype="str"), known_code=known)
    assert rep.value.tolist() == ["83520", "8502591"]
    assert rep.modifiers.fillna("").tolist() == ["90", ""]


@pytest.mark.parametrize(
    "raw, value, repaired",
    [
        ("-rt", "RT", True),
        ("26 TC", "26 TC", False),
        ("26-TC", "26 TC", False),  # a delimiter, not a repair
        ("26,tc", "26 TC", True),
        ("GO", "GO", False),
        ("50.0", "50", True),
        ("RTT", "RTT", False),
        ("5", "5", False),
    ],
)
def test_modifier_split(raw, value, repaired):
    assert one(split_modifiers, raw)[:2] == (value, repaired)


def test_price_parsing():
    values, bad = parse_price(
        pd.Series(["$1,508.15 ", "TBD", "(5.00)", "-5", "", None, "$1,856"], dtype="str")
    )
    assert values.fillna(-999).tolist() == [1508.15, -999, -5.0, -5.0, -999, -999, 1856.0]
    assert bad.tolist() == [False, True, False, False, False, False, False]
    values, bad = parse_price(pd.Series(["inf", "-Infinity", "1e999", "NaN"], dtype="str"))
    assert values.isna().all() and bad.all()


def test_bracketed_revenue_code_is_a_storage_repair():
    raw = pd.Series(["LABORATORY - GENERAL [0300]", "0300 [0301]", "0450"], dtype="str")
    rep = repair_revenue_code(raw)
    assert rep.value.tolist() == ["0300", "0300 [0301]", "0450"]
    assert rep.repaired.tolist() == [True, False, False]
    assert not rep.content.any()
    assert set(rep.storage) == {"bracketed"}
    assert rep.storage["bracketed"].tolist() == [True, False, False]
    assert "brackets" in rep.reason.iloc[0]


@pytest.mark.parametrize("code", ["0001A", "0012A", "0031A", "0082A"])
def test_cpt_immunization_administration_codes_are_well_formed(code):
    # CPT Category I vaccine administration codes, four digits + A (OPPS Addendum B).
    assert one(repair_hcpcs, code) == (code, False, None)
    assert one(repair_hcpcs, code.lower()) == (code, True, None)


def test_four_digits_and_another_letter_stay_malformed():
    rep = repair_hcpcs(pd.Series(["0001X"], dtype="str"))
    assert rep.value.tolist() == ["0001X"] and not rep.repaired.any()
