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
    # A blank or zero price on a code another line charges is a variant billable from there.
    ("PRICE-MISSING", line(price=""), line(hcpcs="85027", price="62")),
    ("PRICE-NEGATIVE", line(price="-5"), line(price="125.00")),
    ("PRICE-ZERO", line(price="0"), line(hcpcs="85027", price="125.00")),
    ("PRICE-PLACEHOLDER", line(price="99999.99"), line(price="999.99")),
    ("PRICE-PLACEHOLDER", line(price="999999999"), line(price="9999")),
    ("PRICE-PLACEHOLDER", line(price="0.01"), line(price="0.10")),
    ("REVCODE-MISSING", line(rev=""), line()),
    ("REVCODE-MALFORMED", line(rev="30"), line(rev="0300")),
    ("REVCODE-MALFORMED", line(rev="03000"), line(rev="0300")),
    ("REVCODE-MALFORMED", line(rev="A300"), line(rev="0300")),
    ("HCPCS-REPAIRED", line(rev="0370", hcpcs="100"), line(rev="0370", hcpcs="00100")),
    ("HCPCS-REPAIRED", line(hcpcs="8352090"), line(hcpcs="83520", mod="90")),
    ("MODIFIER-REPAIRED", line(hcpcs="8352090"), line(hcpcs="83520", mod="90")),
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


def test_inactive_lines_only_get_all_lines_rules(check):
    pairs, _ = check([line(code="", hcpcs="8502", price="TBD", rev="30", status="I")])
    assert rules_at(pairs, 2) == {"CHARGE-CODE-MISSING"}


def test_soft_coded_line_needs_no_hcpcs(check):
    header = HEADER + ["Coding Method"]
    pairs, _ = check([line(hcpcs="") + ["SOFT"], line(code="2", hcpcs="") + ["STATIC"]], header)
    assert ("HCPCS-MISSING", 2) not in pairs
    assert ("HCPCS-MISSING", 3) in pairs


def test_a_catch_all_line_needs_no_static_code(check):
    # Hahnemann 'MISC LAB' and 'MISCELLANEOUS' on 0343, Orange County 'XRAY THER MISC': coded at
    # charge entry by design. A line naming a service beside the catch-all word still fires, and
    # so does one whose section has an unlisted code.
    rows = [
        line(code="1", desc="MISC LAB", rev="0300", hcpcs="", price="0"),
        line(code="2", desc="XRAY THER MISC", rev="0333", hcpcs="", price="0"),
        line(code="3", desc="MISCELLANEOUS", rev="0343", hcpcs="", price="0"),
        line(code="4", desc="MISC PATHOLOGY CONSULT", rev="0310", hcpcs="", price="90"),
        line(code="5", desc="CBC W AUTO DIFF", rev="0305", hcpcs="", price="62"),
        # one code fits: the section's unlisted code (76499), which the suggestions offer
        line(code="6", desc="MISC XRAY PROCEDURE", rev="0320", hcpcs="", price="100"),
    ]
    pairs, _ = check(rows)
    assert sorted(r for rule, r in pairs if rule == "HCPCS-MISSING") == [5, 6, 7]


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


# --- issue 11: findings an analyst can trust; issue 10 item 6: glued codes --------------------

# One case of each pattern runs by default; the others with the slow tests (-m slow).
SLOW = pytest.mark.slow

ADDENDUM_B = [
    ["HCPCS Code", "Short Descriptor", "SI"],
    ["83520", "Immunoassay quant nos nonab", "Q4"],
    ["00840", "Anes iper px lower abd nos", "N"],
    ["84999", "Unlisted chemistry procedure", "Q4"],
    ["88399", "Unlisted surgical path px", "Q1"],
    ["79999", "Rp therapy unlisted px", "S"],
    ["85025", "Complete cbc w/auto diff wbc", "Q4"],
    ["73020", "X-ray exam of shoulder", "Q1"],
    ["73140", "X-ray exam of finger(s)", "Q1"],
    ["73600", "X-ray exam of ankle", "Q1"],
    ["71046", "X-ray exam chest 2 views", "Q1"],
    ["88291", "Cyto/molecular report", "B"],
    ["86927", "Plasma fresh frozen", "N"],
    ["99281", "Emr dpt vst mayx req phy/qhp", "J2"],
    ["G8978", "Mobility current status", "M"],
    ["99499", "Unlisted e&m service", "B"],
]


@pytest.fixture
def addendum_b(tmp_path):
    from tests.conftest import write_csv

    return write_csv(tmp_path / "OPPS_AddendumB_2026_April.csv", ADDENDUM_B[1:], ADDENDUM_B[0])


def of_rule(result, rule):
    return result.findings[result.findings["rule"].eq(rule)]


def test_storage_repairs_are_one_info_finding_per_column_and_kind(check):
    # An export that stores 3-digit revenue codes: REVCODE-REPAIRED was on 100% of lines.
    rows = [line(code=str(i), rev="300", hcpcs="85025", price="62") for i in range(1, 6)]
    rows.append(line(code="6", rev="0301", hcpcs="c1874", price="4100"))
    rows.append(line(code="7", rev="0301", hcpcs="82746.0", price="68"))
    _, result = check(rows)
    rev = of_rule(result, "REVCODE-REPAIRED")
    assert len(rev) == 1
    f = rev.iloc[0]
    assert (f["severity"], f["row"], f["column"]) == ("info", 1, "Rev Code")
    assert f["message"] == (
        "5 revenue codes in column Rev Code were stored without their leading zero "
        "(300 → 0300); the coded output restores them. Fix the export to keep 4 digits."
    )
    fmt = of_rule(result, "FORMAT-REPAIRED").sort_values("value")
    assert fmt["value"].tolist() == [
        "stored in lower case",
        "stored with a float artefact '.0'",
    ]
    assert set(fmt["row"]) == {1} and set(fmt["severity"]) == {"info"}
    assert (
        "1 HCPCS codes in column HCPCS were in lower case (c1874 → C1874)"
        in (fmt["message"].iloc[0])
    )
    assert not of_rule(result, "HCPCS-REPAIRED").shape[0]
    # The Repairs audit keeps every repaired cell.
    audit = result.lines.repairs
    assert sorted(audit["row"].tolist()) == [2, 3, 4, 5, 6, 7, 8]
    assert audit.set_index("row").loc[7, ["value", "suggested", "cell"]].tolist() == [
        "c1874",
        "C1874",
        "D7",
    ]


def test_codes_stored_as_numbers_that_read_the_same_are_not_repairs(tmp_path):
    from chargemaster.pipeline import RunOptions, run
    from tests.conftest import write_xlsx

    path = write_xlsx(
        tmp_path / "cdm.xlsx",
        {"CDM": [HEADER, [4501, "ED VISIT LEVEL 1", 450, 99281, "", 310, "A"]]},
    )
    result = run(RunOptions(path))
    rules = set(result.findings["rule"])
    assert "HCPCS-REPAIRED" not in rules and "FORMAT-REPAIRED" not in rules
    rev = of_rule(result, "REVCODE-REPAIRED")
    assert rev["message"].str.contains("450 → 0450").tolist() == [True]
    assert result.lines.frame.loc[2, "coded_hcpcs"] == "99281"


@pytest.mark.parametrize(
    "cell, code, mods",
    [
        ("8352090", "83520", "90"),  # reference-lab modifier glued on, digits only
        pytest.param("7302050", "73020", "50", marks=SLOW),
        pytest.param("73140TCLT", "73140", "TC LT", marks=SLOW),
        pytest.param("G8978GPCH", "G8978", "GP CH", marks=SLOW),
    ],
)
def test_glued_codes_are_split_into_code_and_modifiers(check, addendum_b, cell, code, mods):
    pairs, result = check([line(rev="0320", hcpcs=cell, price="88")], addendum_b=addendum_b)
    frame = result.lines.frame
    assert (frame.loc[2, "coded_hcpcs"], frame.loc[2, "coded_modifiers"]) == (code, mods)
    assert {("HCPCS-REPAIRED", 2), ("MODIFIER-REPAIRED", 2)} <= pairs
    assert ("HCPCS-MALFORMED", 2) not in pairs
    repaired = of_rule(result, "HCPCS-REPAIRED").iloc[0]
    assert (repaired["severity"], repaired["value"], repaired["suggested"]) == (
        "warning",
        cell,
        code,
    )


@pytest.mark.parametrize("cell", ["8502791", "5070001", "73030ZZ", "99213-Office Visit"])
def test_glued_values_that_are_not_a_known_code_and_modifiers_are_malformed(
    check, addendum_b, cell
):
    # 85027 is not in this Addendum B; "01" and "ZZ" are no modifiers.
    pairs, result = check([line(hcpcs=cell)], addendum_b=addendum_b)
    assert ("HCPCS-MALFORMED", 2) in pairs
    assert result.lines.frame.loc[2, "coded_hcpcs"] == cell


def test_no_code_placeholders_are_blank_and_counted(check):
    rows = [
        line(code="1", rev="0250", hcpcs="0", desc="ASPIRIN 81 MG TAB"),
        line(code="2", rev="0250", hcpcs="NONE", desc="ACETAMINOPHEN 325 MG TAB"),
        line(code="3", rev="0250", hcpcs="N/A", desc="DOCUSATE 100 MG CAP"),
        line(code="4", rev="0250", hcpcs="", desc="SENNA 8.6 MG TAB"),
    ]
    pairs, result = check(rows)
    assert result.lines.frame["coded_hcpcs"].isna().all()
    assert result.stats["code_placeholders"] == {"HCPCS": 3}
    assert not {r for r, _ in pairs} & {"HCPCS-MALFORMED", "HCPCS-REPAIRED", "FORMAT-REPAIRED"}


@pytest.mark.parametrize(
    "rev, hcpcs, mod",
    [
        ("0960", "73600", "26"),  # professional fee: radiology interpretation
        pytest.param("0971", "88291", "", marks=SLOW),  # professional fee: lab
        # blood processing: thawing fresh frozen plasma
        pytest.param("0390", "86927", "", marks=SLOW),
        pytest.param("0380", "86850", "", marks=SLOW),  # blood: antibody screen
        ("0390", "86644", ""),  # blood processing: a unit screened for CMV (Orange County)
        pytest.param("0923", "88142", "", marks=SLOW),  # other diagnostic: pap smear
    ],
)
def test_revcode_mismatch_spares_pro_fee_and_blood_revenue_codes(check, rev, hcpcs, mod):
    pairs, _ = check([line(rev=rev, hcpcs=hcpcs, mod=mod)])
    assert ("HCPCS-REVCODE-MISMATCH", 2) not in pairs


def test_revcode_mismatch_still_fires_off_family(check):
    pairs, result = check([line(rev="0300", hcpcs="71046"), line(code="2", rev="0390")])
    assert ("HCPCS-REVCODE-MISMATCH", 2) in pairs
    assert ("HCPCS-REVCODE-MISMATCH", 3) in pairs  # 85025 CBC is no blood-bank code
    pairs, _ = check([line(rev="0390", hcpcs="86644"), line(code="2", rev="0450", hcpcs="86644")])
    assert ("HCPCS-REVCODE-MISMATCH", 3) in pairs  # a donor screen is still lab or blood only
    msg = of_rule(result, "HCPCS-REVCODE-MISMATCH")["message"].iloc[0]
    assert msg.startswith("HCPCS 71046 is a radiology code but revenue code 0300")


def test_price_inconsistent_is_one_finding_per_group_of_like_lines(check):
    rows = [
        line(code="1", price="40"),
        line(code="2", price="62"),
        line(code="3", price="55"),
        line(code="4", price="62", mod="91"),  # other modifiers
        line(code="5", price="70", rev="0300"),  # other revenue code
        line(code="6", price="30", rev="0971"),  # a professional fee is not a facility line
        line(code="7", price="99", status="I"),  # inactive
    ]
    pairs, result = check(rows)
    found = of_rule(result, "PRICE-INCONSISTENT")
    assert found["row"].tolist() == [2]
    assert found["message"].iloc[0] == (
        "85025 on revenue code 0305 is priced from 40.00 to 62.00 across 3 active lines "
        "(rows 2, 3, 4). Make the charge uniform or document why it differs."
    )
    assert found["value"].iloc[0] == "40.00 to 62.00"


@pytest.mark.parametrize(
    "rev, hcpcs",
    [
        ("0278", "C1713"),  # device C-code: one code, thousands of implants
        pytest.param("0636", "J3490", marks=SLOW),  # unclassified drug (NOC)
        # a drug billed per item against a per-unit code
        pytest.param("0636", "J1100", marks=SLOW),
        pytest.param("0272", "A4649", marks=SLOW),  # surgical supply, miscellaneous
        pytest.param("0300", "Z7610", marks=SLOW),  # Medi-Cal local placeholder
        pytest.param("0300", "84999", marks=SLOW),  # unlisted lab (CMS NOC list / unlisted CPT)
    ],
)
def test_price_inconsistent_leaves_codes_that_cover_many_items_alone(check, addendum_b, rev, hcpcs):
    rows = [
        line(code=str(i), rev=rev, hcpcs=hcpcs, price=p) for i, p in ((1, "4.80"), (2, "51372"))
    ]
    pairs, _ = check(rows, addendum_b=addendum_b)
    assert not any(r == "PRICE-INCONSISTENT" for r, _ in pairs)


@pytest.mark.parametrize(
    "hcpcs, rev, spared",
    [
        ("3074F", "0940", True),  # CPT Category II
        pytest.param("G8978", "0940", True, marks=SLOW),  # functional limitation G-code
        pytest.param("G9191", "0940", True, marks=SLOW),  # quality G-code
        pytest.param("99499", "0450", True, marks=SLOW),  # OPPS status indicator B
        pytest.param("85025", "0305", False, marks=SLOW),
        pytest.param("", "0270", True, marks=SLOW),  # uncoded: a statistical or status line
    ],
)
def test_price_placeholder_spares_one_cent_on_reporting_only_codes(
    check, addendum_b, hcpcs, rev, spared
):
    pairs, _ = check([line(rev=rev, hcpcs=hcpcs, price="0.01")], addendum_b=addendum_b)
    assert (("PRICE-PLACEHOLDER", 2) in pairs) is not spared
    assert ("HCPCS-CATEGORY-II", 2) not in pairs  # 0.01 is how a reporting code is carried


@pytest.mark.parametrize(
    "rev, hcpcs, noc",
    [
        ("0301", "83520", False),  # "Immunoassay NOS" names a method, not a NOC code
        pytest.param("0370", "00840", False, marks=SLOW),  # anesthesia "... NOS" is a body region
        pytest.param("0636", "J3490", True, marks=SLOW),  # CMS NOC list
        # unlisted CPT: "Unlisted chemistry procedure"
        pytest.param("0301", "84999", True, marks=SLOW),
        pytest.param("0312", "88399", True, marks=SLOW),  # unlisted CPT (Addendum B descriptor)
        pytest.param("0333", "79999", True, marks=SLOW),  # 'Rp therapy unlisted px'
    ],
)
def test_hcpcs_noc_only_from_the_noc_list_and_unlisted_cpt(check, addendum_b, rev, hcpcs, noc):
    pairs, _ = check([line(rev=rev, hcpcs=hcpcs)], addendum_b=addendum_b)
    assert (("HCPCS-NOC", 2) in pairs) is noc


def test_rule_skipped_follows_from_the_declared_needs(check):
    from chargemaster.rules import REGISTRY, needing

    _, result = check([["CBC W AUTO DIFF", "85025"]], header=["Description", "CPT"])
    skipped = set(of_rule(result, "RULE-SKIPPED")["value"])
    expected = {rid for rid, spec in REGISTRY.items() if {"price", "charge_code"} & set(spec.needs)}
    expected |= {rid for rid, spec in REGISTRY.items() if "revenue_code" in spec.needs}
    expected |= {rid for rid, spec in REGISTRY.items() if "modifiers" in spec.needs}
    assert skipped == expected
    assert {"PRICE-ZERO", "PRICE-INCONSISTENT", "CHARGE-CODE-DUPLICATE"} <= skipped
    missing = of_rule(result, "COLUMN-MISSING").set_index("value")["message"]
    assert ", ".join(needing("price")) in missing["price"]
    # No rule that was skipped fired anyway.
    assert not set(result.findings["rule"]) & (skipped - {"RULE-SKIPPED"})


def test_every_line_rule_of_the_catalog_is_declared():
    from chargemaster.catalog import RULES
    from chargemaster.rules import REGISTRY

    # Rules about the input and run or the code map, the suggestions stage's two rules, and
    # rules waiting for another issue are not line rules.
    others = {"DESCRIPTION-CODE-CONFLICT", "HCPCS-SUGGESTED"}
    line_rules = {
        rid
        for rid, r in RULES.items()
        if not r.pending and r.group not in ("input", "code map") and rid not in others
    }
    assert {"PRICE-INCONSISTENT", "HCPCS-REVCODE-MISMATCH", "FORMAT-REPAIRED"} <= line_rules
    assert line_rules <= set(REGISTRY)
    for rid, spec in REGISTRY.items():
        assert spec.check is not None or spec.stage != "rules", rid


def test_message_templates_fill_per_line():
    import pandas as pd

    from chargemaster.rules.registry import render

    idx = pd.Index([2, 5])
    out = render(
        "HCPCS {code} on {rev}.", {"code": pd.Series(["71046", "85025"], idx), "rev": "0300"}, idx
    )
    assert out.tolist() == ["HCPCS 71046 on 0300.", "HCPCS 85025 on 0300."]


# Precision fixes from the hand-labelled findings (benchmarks/labels): each case is a real-shaped
# line that a label called wrong.
@pytest.mark.parametrize(
    ("row", "rule"),
    [
        # Functional-limitation status line carried without its G-code (Fairchild, Covenant).
        (
            line(desc="PT MOBILITY CURR STATUS 0", rev="0420", hcpcs="", price="0.01"),
            "PRICE-PLACEHOLDER",
        ),
        # Quality-reporting G-code at $0.00, as CMS asks (Barton G8917).
        (line(desc="QUALITY CODE", rev="0300", hcpcs="G8917", price="0"), "PRICE-ZERO"),
        # Aortography S&I billed in the cardiac cath lab (CHOMP 75625 on 0481).
        (
            line(desc="AORTOGRAM S&I", rev="0481", hcpcs="75625", price="900"),
            "HCPCS-REVCODE-MISMATCH",
        ),
    ],
)
def test_labelled_wrong_findings_do_not_fire(check, row, rule):
    pairs, _ = check([row])
    assert (rule, 2) not in pairs


def test_a_billed_code_at_one_cent_is_still_a_placeholder(check):
    pairs, _ = check([line(rev="0320", hcpcs="71046", price="0.01")])
    assert ("PRICE-PLACEHOLDER", 2) in pairs


def test_vascular_s_and_i_on_a_lab_revenue_code_is_still_a_mismatch(check):
    pairs, _ = check([line(rev="0300", hcpcs="75625", price="900")])
    assert ("HCPCS-REVCODE-MISMATCH", 2) in pairs


def test_evaluation_and_management_levels_are_not_compared_on_price(check):
    rows = [
        line(code="1", desc="DRESSING CHANGE", rev="0510", hcpcs="99211", price="162"),
        line(code="2", desc="DRAIN REMOVAL", rev="0510", hcpcs="99211", price="240"),
        line(code="3", desc="XR CHEST 2V", rev="0320", hcpcs="71046", price="100"),
        line(code="4", desc="XR CHEST 2V", rev="0320", hcpcs="71046", price="150"),
    ]
    pairs, _ = check(rows)
    assert ("PRICE-INCONSISTENT", 2) not in pairs
    assert ("PRICE-INCONSISTENT", 4) in pairs


def test_a_line_retired_in_its_description_is_inactive_when_the_status_says_nothing(check):
    rows = [
        line(code="1", desc="CBC DO NOT USE", hcpcs="85025", price="0", status=""),
        line(code="2", desc="CBC INACTIVE", hcpcs="85025", price="0", status="A"),
        line(code="3", desc="CBC INACTIVATED BY LAB", hcpcs="85025", price="0", status=""),
    ]
    pairs, _ = check(rows)
    assert ("PRICE-ZERO", 2) not in pairs  # retired by its text, no status given
    assert ("PRICE-ZERO", 3) in pairs  # the status cell says active: it wins
    assert ("PRICE-ZERO", 4) in pairs  # whole words only: 'INACTIVATED' is no marker
