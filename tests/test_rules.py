"""One failing and one passing case per rule, run through the whole pipeline on tiny CSVs.

Rows: the header is CSV line 1, so the first line is row 2.
"""

import pytest

from tests.conftest import HEADER, line


def rules_at(pairs, row):
    return {r for r, w in pairs if w == row}


CASES = [
    # (rule, bad line, good line)
    ("CHARGE-CODE-MISSING", line(code=""), line()),
    ("DESCRIPTION-MISSING", line(desc="  "), line()),
    ("PRICE-MISSING", line(price="TBD"), line(price="$1,508.15 ")),
    ("PRICE-MISSING", line(price=""), line(price="62")),
    ("PRICE-NEGATIVE", line(price="-5"), line(price="125.00")),
    ("PRICE-ZERO", line(price="0"), line(price="125.00")),
    ("PRICE-PLACEHOLDER", line(price="99999.99"), line(price="999.99")),
    ("PRICE-PLACEHOLDER", line(price="999999999"), line(price="9999")),
    ("PRICE-PLACEHOLDER", line(price="0.01"), line(price="0.10")),
    ("REVCODE-MISSING", line(rev=""), line()),
    ("REVCODE-REPAIRED", line(rev="305"), line(rev="0305")),
    ("REVCODE-REPAIRED", line(rev="305.0"), line(rev="0305")),
    ("REVCODE-MALFORMED", line(rev="30"), line(rev="0300")),
    ("REVCODE-MALFORMED", line(rev="03000"), line(rev="0300")),
    ("REVCODE-MALFORMED", line(rev="A300"), line(rev="0300")),
    ("HCPCS-REPAIRED", line(hcpcs="85025.0"), line(hcpcs="85025")),
    ("HCPCS-REPAIRED", line(rev="0278", hcpcs="c1874"), line(rev="0278", hcpcs="C1874")),
    ("HCPCS-MALFORMED", line(hcpcs="8502"), line(hcpcs="85025")),
    ("HCPCS-MALFORMED", line(hcpcs="J12345"), line(rev="0636", hcpcs="J1100")),
    ("HCPCS-MALFORMED", line(hcpcs="0001X"), line(hcpcs="0001U")),
    ("HCPCS-MALFORMED", line(hcpcs="85025, 85027"), line(hcpcs="85027")),
    (
        "HCPCS-MALFORMED",
        line(rev="0510", hcpcs="99213-Office Visit"),
        line(rev="0510", hcpcs="99213"),
    ),
    ("HCPCS-LOCAL", line(rev="0270", hcpcs="X3908"), line(rev="0270", hcpcs="A4206")),
    ("HCPCS-MISSING", line(hcpcs=""), line(hcpcs="85025")),
    ("HCPCS-MISSING", line(rev="0636", hcpcs="BLANK"), line(rev="0636", hcpcs="J1885")),
    ("HCPCS-REVCODE-MISMATCH", line(rev="0300", hcpcs="71046"), line(rev="0324", hcpcs="71046")),
    ("HCPCS-REVCODE-MISMATCH", line(rev="0320", hcpcs="0001U"), line(rev="0300", hcpcs="0001U")),
    ("HCPCS-REVCODE-MISMATCH", line(rev="0278", hcpcs="J1100"), line(rev="0636", hcpcs="J1100")),
    (
        "HCPCS-CATEGORY-II",
        line(rev="0940", hcpcs="3074F", price="25"),
        line(rev="0940", hcpcs="3074F", price="0"),
    ),
    (
        "MODIFIER-REPAIRED",
        line(rev="0320", hcpcs="73030", mod="-rt"),
        line(rev="0320", hcpcs="73030", mod="RT"),
    ),
    ("MODIFIER-REPAIRED", line(rev="0320", hcpcs="73030RT"), line(rev="0320", hcpcs="73030")),
    ("MODIFIER-MALFORMED", line(mod="5"), line(mod="91")),
    ("MODIFIER-MALFORMED", line(mod="RTT"), line(mod="QW")),
    (
        "MODIFIER-CONFLICT",
        line(rev="0972", hcpcs="71046", mod="26 TC"),
        line(rev="0972", hcpcs="71046", mod="26"),
    ),
    ("MODIFIER-CONFLICT", line(mod="59 XU"), line(mod="XU")),
    (
        "MODIFIER-CONFLICT",
        line(rev="0320", hcpcs="73030", mod="LT RT"),
        line(rev="0320", hcpcs="73030", mod="RT"),
    ),
    (
        "MODIFIER-CONFLICT",
        line(rev="0320", hcpcs="73030", mod="50 RT"),
        line(rev="0320", hcpcs="73030", mod="50"),
    ),
    ("MODIFIER-CONFLICT", line(mod="91 91"), line(mod="91")),
    ("MODIFIER-CONFLICT", line(mod="QW 91 90 GA GY"), line(mod="QW 91 90 GA")),
    (
        "MODIFIER-PCTC-FACILITY",
        line(rev="0324", hcpcs="71046", mod="TC"),
        line(rev="0972", hcpcs="71046", mod="26"),
    ),
]


@pytest.mark.parametrize("rule, bad, good", CASES, ids=[c[0] for c in CASES])
def test_rule_fires_on_bad_and_not_on_good(check, rule, bad, good):
    good = list(good)
    good[0] = "30010002"
    pairs, _ = check([bad, good])
    assert rule in rules_at(pairs, 2)
    assert rule not in rules_at(pairs, 3)


def test_duplicate_charge_codes_flag_every_active_line(check):
    pairs, _ = check([line(), line(hcpcs="85027", price="48"), line(code="3", status="I")])
    assert {("CHARGE-CODE-DUPLICATE", 2), ("CHARGE-CODE-DUPLICATE", 3)} <= pairs
    pairs, _ = check([line(), line(status="INACTIVE")])
    assert not any(r == "CHARGE-CODE-DUPLICATE" for r, _ in pairs)


def test_price_inconsistent_flags_each_line_with_min_and_max(check):
    pairs, result = check(
        [line(price="40"), line(code="2", price="62"), line(code="3", price="62", mod="91")]
    )
    assert {("PRICE-INCONSISTENT", 2), ("PRICE-INCONSISTENT", 3)} <= pairs
    assert ("PRICE-INCONSISTENT", 4) not in pairs  # different modifiers
    msg = result.findings.loc[result.findings["rule"].eq("PRICE-INCONSISTENT"), "message"].iloc[0]
    assert "40.00" in msg and "62.00" in msg


def test_inactive_lines_only_get_all_lines_rules(check):
    pairs, _ = check([line(code="", hcpcs="8502", price="TBD", rev="30", status="I")])
    assert rules_at(pairs, 2) == {"CHARGE-CODE-MISSING"}


def test_soft_coded_line_needs_no_hcpcs(check):
    header = HEADER + ["Coding Method"]
    pairs, _ = check([line(hcpcs="") + ["SOFT"], line(code="2", hcpcs="") + ["STATIC"]], header)
    assert ("HCPCS-MISSING", 2) not in pairs
    assert ("HCPCS-MISSING", 3) in pairs


def test_soft_coded_department_from_config(check, tmp_path):
    cfg = tmp_path / "site.toml"
    cfg.write_text('[static_coding]\nsoft_coded_departments = ["lab"]\n')
    header = HEADER + ["Department"]
    pairs, _ = check([line(hcpcs="") + ["LAB"]], header, config=cfg)
    assert ("HCPCS-MISSING", 2) not in pairs


def test_department_decides_family_without_revenue_code(check):
    header = ["Charge Code", "Description", "CPT Code", "Price", "Department"]
    pairs, _ = check(
        [
            ["1", "VITAMIN D", "", "150", "LABORATORY - CHEMISTRY"],
            ["2", "ROOM", "", "900", "ROOM AND BOARD"],
        ],
        header,
    )
    assert ("HCPCS-MISSING", 2) in pairs and ("HCPCS-MISSING", 3) not in pairs


def test_severity_override_from_config(check, tmp_path):
    cfg = tmp_path / "site.toml"
    cfg.write_text('[severity]\n"PRICE-ZERO" = "info"\n')
    _, result = check([line(price="0")], config=cfg)
    zero = result.findings[result.findings["rule"].eq("PRICE-ZERO")]
    assert zero["severity"].tolist() == ["info"]


def test_findings_point_at_their_cell(check):
    _, result = check([line(), line(code="2", rev="30", hcpcs="85027", price="48")])
    f = result.findings.set_index("rule").loc["REVCODE-MALFORMED"]
    assert (f["row"], f["cell"], f["column"], f["value"]) == (3, "C3", "Rev Code", "30")


def test_missing_columns_are_reported_and_rules_skipped(check):
    pairs, result = check([["CBC", "85025", "62"]], header=["Description", "CPT", "Price"])
    missing = result.findings[result.findings["rule"].eq("COLUMN-MISSING")]["value"].tolist()
    assert set(missing) == {"charge code", "revenue code", "modifiers", "status", "department"}
    skipped = set(result.findings[result.findings["rule"].eq("RULE-SKIPPED")]["value"])
    assert {"CHARGE-CODE-MISSING", "REVCODE-MISSING"} <= skipped


def test_unmapped_column_is_reported(check):
    pairs, result = check([line() + ["x"]], header=HEADER + ["GL Account"])
    assert ("COLUMN-UNMAPPED", 1) in pairs
