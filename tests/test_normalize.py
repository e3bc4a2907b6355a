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
    ],
)
def test_revenue_code_repairs(raw, value, repaired):
    assert one(repair_revenue_code, raw)[:2] == (value, repaired)


def test_revenue_code_stored_as_number_is_reported():
    rep = repair_revenue_code(pd.Series(["0450"], dtype="str"), pd.Series([True]))
    assert rep.repaired.tolist() == [True]
    assert "stored as a number" in rep.reason.iloc[0]


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
        ("A4341\u00a0", "A4341", True, None),
        ("0001U", "0001U", False, None),
        ("85025", "85025", False, None),
        ("J1100", "J1100", False, None),
        ("8502", "8502", False, None),
        ("J12345", "J12345", False, None),
        ("85025, 85027", "85025, 85027", False, None),
        ("99213-Office Visit", "99213-Office Visit", False, None),
        ("8502591", "8502591", False, None),  # 85025 + 91 or a 7-digit number: ambiguous
        ("5070001", "5070001", False, None),
        ("X3908", "X3908", False, None),
    ],
)
def test_hcpcs_repairs(raw, value, repaired, mods):
    assert one(repair_hcpcs, raw) == (value, repaired, mods)


@pytest.mark.parametrize("raw", ["0", "BLANK", "blank", " N/A "])
def test_hcpcs_placeholders_mean_no_code(raw):
    value, repaired, _ = one(repair_hcpcs, raw, placeholders=frozenset({"0", "BLANK", "N/A"}))
    assert (value, repaired) == (None, False)


def test_hcpcs_numeric_cell_is_reported_even_when_digits_survive():
    rep = repair_hcpcs(pd.Series(["99211"], dtype="str"), pd.Series([True]))
    assert rep.value.tolist() == ["99211"] and rep.repaired.tolist() == [True]


@pytest.mark.parametrize(
    "raw, value, repaired",
    [
        ("-rt", "RT", True),
        ("26 TC", "26 TC", False),
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
