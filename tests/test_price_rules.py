"""The price rules on real-shaped lines: each case is a class of line the hand labels
(benchmarks/labels/price_*.csv) found on the real chargemasters.

Rows: the header is CSV line 1, so the first line is row 2.
"""

from tests.conftest import HEADER, line


def fired(pairs, rule):
    return sorted(row for r, row in pairs if r == rule)


def messages(result, rule):
    f = result.findings
    hits = f[f["rule"].eq(rule)]
    return dict(zip(hits["row"], hits["message"], strict=True))


def pharmacy(n, start=1, price="0.00"):
    """Drug lines on 0250 (Orange County: 3,217 of 3,273 pharmacy lines at 0.00)."""
    return [
        line(code=f"6{start + k:06d}", desc=f"DRUG {k} 10MG TAB", rev="0250", hcpcs="", price=price)
        for k in range(n)
    ]


# 1. Zero as the pricing of a group, not a line's error.


def test_zero_priced_pharmacy_family_gives_one_finding_for_the_group(check):
    rows = pharmacy(25) + pharmacy(3, start=100, price="12.50")
    rows.append(line(code="3001", desc="CBC", rev="0305", hcpcs="85025", price="40"))
    pairs, result = check(rows)
    assert fired(pairs, "PRICE-ZERO") == [2]
    text = messages(result, "PRICE-ZERO")[2]
    assert "25 of the 28 active lines on revenue codes 025x are priced at zero" in text
    assert "(rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 15 more)" in text
    value = result.findings.loc[result.findings["rule"].eq("PRICE-ZERO"), "value"]
    assert value.tolist() == ["zero on 25 lines"]


def test_a_service_no_line_charges_fires_on_its_own_line(check):
    # Colorado River: 29075 short arm cast at 0, the only line billing 29075.
    rows = [
        line(code="1", desc="APPL SHORT ARM CAST", rev="0450", hcpcs="29075", price="0"),
        line(code="2", desc="ER LEVEL 3", rev="0450", hcpcs="99283", price="640"),
    ]
    pairs, result = check(rows)
    assert fired(pairs, "PRICE-ZERO") == [2]
    assert "bills 29075, and no line charges that code" in messages(result, "PRICE-ZERO")[2]


def test_a_zero_variant_of_a_code_charged_elsewhere_is_not_a_finding(check):
    # Chomp 'XR CHEST/1 VIEW INTRAOP' at 0 beside the charged chest x-ray.
    rows = [
        line(code="1", desc="XR CHEST 1 VIEW", rev="0324", hcpcs="71045", price="310"),
        line(code="2", desc="XR CHEST/1 VIEW INTRAOP", rev="0324", hcpcs="71045", price="0"),
    ]
    pairs, _ = check(rows)
    assert fired(pairs, "PRICE-ZERO") == []


def test_uncoded_lines_and_items_at_zero_outside_a_zero_group_are_not_findings(check):
    # Barlow 'PURCHASED SERVICE-LAB CHEM', Hahnemann implant C1776: priced from the invoice.
    rows = [
        line(code="1", desc="PURCHASED SERVICE-LAB CHEM", rev="0301", hcpcs="", price="0"),
        line(code="2", desc="SHLDR PRM REV EXACT CAP", rev="0278", hcpcs="C1776", price="0"),
        line(code="3", desc="GLUCOSE", rev="0301", hcpcs="82947", price="25"),
        line(code="4", desc="SCREW BONE", rev="0278", hcpcs="C1713", price="800"),
    ]
    pairs, _ = check(rows)
    assert fired(pairs, "PRICE-ZERO") == []


def test_a_blank_price_on_a_service_is_missing_and_a_blank_group_is_one_finding(check):
    rows = pharmacy(22, price="")
    rows.append(line(code="9", desc="EMG 2 EXTREMITIES", rev="0922", hcpcs="95861", price=""))
    pairs, result = check(rows)
    assert fired(pairs, "PRICE-MISSING") == [2, 24]
    assert (
        "22 of the 22 active lines on revenue codes 025x have no price"
        in (messages(result, "PRICE-MISSING")[2])
    )
    assert messages(result, "PRICE-MISSING")[24].startswith("Price is blank")


def test_a_group_whose_every_coded_line_is_at_zero_is_one_finding(check):
    # HealthSouth (a rehabilitation hospital): respiratory 041x charges by uncoded time lines
    # and keeps its four coded lines (G0237-G0239, G0424) at zero; 046x has six coded lines,
    # all at zero. One finding per group. A single coded line at zero beside a priced one is
    # still the line's own finding, and two coded lines are too few to show a pattern.
    rows = [
        line(code="1", desc="RT INDIVIDUAL 15 MIN", rev="0410", hcpcs="", price="4.40"),
        line(code="2", desc="RT GROUP 15 MIN", rev="0410", hcpcs="", price="3.10"),
        line(code="3", desc="THER PROC-STRENGTH/END 15 MIN", rev="0410", hcpcs="G0237", price="0"),
        line(code="4", desc="THER PROC-IMPROVE RESP FUNC 15", rev="0410", hcpcs="G0238", price="0"),
        line(code="5", desc="PULMONARY REHAB W/EXER 15 MIN", rev="0410", hcpcs="G0424", price="0"),
        line(code="6", desc="MEASURE BLOOD OXYGEN LEVEL", rev="0460", hcpcs="94760", price="0"),
        line(code="7", desc="EVALUATE PATIENT USE OF INHALE", rev="0460", hcpcs="94664", price="0"),
        line(code="8", desc="REAGENT STRIP/BLOOD GLUCOSE PO", rev="0300", hcpcs="82948", price="0"),
        line(code="9", desc="CBC W AUTO DIFF", rev="0305", hcpcs="85025", price="62"),
    ]
    pairs, result = check(rows)
    assert fired(pairs, "PRICE-ZERO") == [4, 7, 8, 9]
    text = messages(result, "PRICE-ZERO")
    assert text[4].startswith(
        "3 of the 5 active lines on revenue codes 041x are priced at zero, and they are every "
        "line of the group that bills a HCPCS code (rows 4, 5, 6)."
    )
    assert text[7].startswith("Price is zero on an active line that bills 94760")  # 2 of 2
    assert text[9].startswith("Price is zero on an active line that bills 82948")


# 2. The file says the zero is by design: a price-flag column, another price column.

FLAG_HEADER = [*HEADER, "MAN PRICE"]


def test_man_price_y_spares_the_zero_and_n_does_not(check):
    # HealthSouth: MAN PRICE = Y on 4,378 lines, priced at charge entry.
    rows = [
        [*line(code="1", desc="PT EVAL", rev="0420", hcpcs="97161", price="0"), "Y"],
        [*line(code="2", desc="OT EVAL", rev="0430", hcpcs="97165", price="0"), "N"],
    ]
    pairs, result = check(rows, header=FLAG_HEADER)
    assert fired(pairs, "PRICE-ZERO") == [3]
    decided = {d.column: d.role for d in result.table.roles}
    assert decided["MAN PRICE"] == "price_flag"


def test_a_zero_price_indicator_with_its_legend_in_the_header_is_read(check):
    # California Hospital: the legend is part of the header; 3 = price entered at charge time.
    header = [
        "CDM Number",
        "Billing Description (25 char)",
        "999 Price (Default)",
        "Zero Price Indicator 1 Statistical Codes 2 Volume Tracking non-chargable items "
        "3 Misc. codes w/price overriden at time of entry.",
        "CPT",
    ]
    rows = [
        ["1001", "MISC SUPPLY OR", "0", "3", "99070"],
        ["1002", "EMPLOYEE MEAL", "0", "2", "99199"],
        ["1003", "OFFICE VISIT LVL 2", "0", "", "99212"],
        ["1004", "OFFICE VISIT LVL 3", "140", "", "99213"],
    ]
    # Four lines are too few for the price column to show by its values: name it.
    pairs, result = check(rows, header=header, columns={"price": (header[2],)})
    assert fired(pairs, "PRICE-ZERO") == [4]
    assert result.table.fields["price_flag"] == [header[3]]


def test_a_price_in_another_column_is_not_a_missing_price(check):
    # Chomp: OP PRICE blank, DEF/IP PRICE set.
    header = ["ITEM", "DESCRIPTION", "REV", "CPT", "DEF/IP PRICE", "OP PRICE"]
    rows = [
        ["1", "ROOM SEMI PRIVATE", "0120", "", "2500", ""],
        ["2", "EMG 2 EXTREMITIES", "0922", "95861", "", ""],
    ]
    pairs, _ = check(rows, header=header)
    assert fired(pairs, "PRICE-MISSING") == [3]


# 3. Statistical and no-charge lines written only in the description.


def test_no_charge_words_and_written_g_codes_spare_zero_and_one_cent(check):
    rows = [
        line(code="1", desc="EXAM NO CHARGE", rev="0510", hcpcs="99211", price="0"),
        line(code="2", desc="PTS OWN MEDICATION", rev="0250", hcpcs="99070", price="0"),
        line(code="3", desc="IP PT MISSED THER-ON HOLD", rev="0420", hcpcs="97110", price="0"),
        line(code="4", desc="0G9168CMGN", rev="0440", hcpcs="", price="0.01"),
        line(code="5", desc="PT CARRY OBJ GOAL STATUS", rev="0420", hcpcs="97530", price="0.01"),
        line(code="6", desc="LEFT WITHOUT BEING SEEN", rev="0450", hcpcs="99281", price="0"),
        line(code="7", desc="ECULIZUMAB 10MG COMPASSN", rev="0636", hcpcs="J1300", price="0.01"),
        line(code="8", desc="THER EXERCISE 15 MIN", rev="0420", hcpcs="97110", price="0.01"),
    ]
    pairs, _ = check(rows)
    assert fired(pairs, "PRICE-ZERO") == []
    assert fired(pairs, "PRICE-PLACEHOLDER") == [9]


def test_a_line_on_revenue_code_0000_is_statistical(check):
    # Hahnemann: 'NURSING CARE/HR' lines on 0000 at zero.
    rows = [line(code="1", desc="ER VISIT LVL 0", rev="0000", hcpcs="99281", price="0")]
    pairs, _ = check(rows)
    assert fired(pairs, "PRICE-ZERO") == []


# 4. Retired lines the status column does not show.


def test_retire_markers_in_the_charge_code_make_a_line_inactive(check):
    # JEK: 'ZZZ -' and 'INACTIVE ~' item numbers, no status column.
    header = ["Item Number", "Description", "Rev Code", "HCPCS", "Price"]
    rows = [
        ["ZZZ - 4417", "SPEECH THERAPY EVAL", "0440", "92521", "0"],
        ["INACTIVE ~ 92507", "SPEECH TREATMENT", "0440", "92507", "0"],
        ["ZZZTOP1", "SWALLOW EVAL", "0440", "92610", "0"],
    ]
    pairs, result = check(rows, header=header)
    assert result.lines.frame["active"].tolist() == [False, False, True]
    assert fired(pairs, "PRICE-ZERO") == [4]  # 'ZZZTOP1': the marker is a whole word only


# 5. Non-numeric prices published by design: one finding per column and text.


def test_text_prices_give_one_finding_per_text(check):
    rows = [
        line(code="1", desc="OR LEVEL 1", rev="0360", hcpcs="", price="TBD"),
        line(code="2", desc="OR LEVEL 2", rev="0360", hcpcs="", price="tbd "),
        line(code="3", desc="CBC", rev="0305", hcpcs="85025", price="N/A"),
    ]
    pairs, result = check(rows)
    assert fired(pairs, "PRICE-MISSING") == [2, 4]
    text = messages(result, "PRICE-MISSING")
    assert "'TBD' is not a number on 2 active lines (rows 2, 3)" in text[2]
    assert text[4].startswith("Price 'N/A' is not a number. Enter the charge amount")


def test_a_price_cell_stating_how_the_line_is_priced_is_not_a_missing_price(check):
    # Northside publishes 'Time based' for recovery room time, MD Anderson a range of charges
    # ('$138-11136') for extended recovery (1-12 hours): the file says how the charge is set,
    # as a price-flag column does. A word inside a longer one is not the method ('VARIESX').
    rows = [
        line(code="1", desc="ROOM EXTENDED RECOVERY", rev="0710", hcpcs="", price="Time based"),
        line(
            code="2",
            desc="HC EXTENDED RECOVERY (1HR-12HRS)",
            rev="0710",
            hcpcs="",
            price="$138-11136",
        ),
        line(code="3", desc="OR TIME", rev="0360", hcpcs="", price="100 - 250"),
        line(code="4", desc="IMPLANT", rev="0278", hcpcs="", price="Cost plus 20%"),
        line(code="5", desc="OR TIME ADDL", rev="0360", hcpcs="", price="VARIESX"),
    ]
    pairs, result = check(rows)
    assert fired(pairs, "PRICE-MISSING") == [6]
    assert not {"PRICE-ZERO", "REVCODE-MISSING"} & {r for r, _ in pairs}


def test_pricing_method_texts_come_from_the_configuration(check, tmp_path):
    config = tmp_path / "cfg.toml"
    config.write_text('[price]\npricing_method_texts = ["SEE CONTRACT"]\n', encoding="utf-8")
    rows = [
        line(code="1", desc="ROOM EXTENDED RECOVERY", rev="0710", hcpcs="", price="Time based"),
        line(code="2", desc="SITTER", rev="0230", hcpcs="", price="see contract"),
        line(code="3", desc="OR TIME", rev="0360", hcpcs="", price="$100-$250"),
    ]
    pairs, _ = check(rows, config=config)
    assert fired(pairs, "PRICE-MISSING") == [2]  # ranges always say how; the words are set


# 6. One cent on products supplied free is the token charge CMS asks for.


def test_one_cent_on_free_covid_products_and_vaccines_is_a_token_charge(check):
    rows = [
        line(code="1", desc="COVID-19 MRNA 100MCG/0.5ML SUSP", rev="0250", hcpcs="91301"),
        line(code="2", desc="SOTROVIMAB 500MG/8ML SOLN", rev="0636", hcpcs="Q0247"),
        line(code="3", desc="PNEUMOCOCCAL CONJ VACCINE", rev="0250", hcpcs="90670"),
        line(code="4", desc="IMMUN ADMIN;SINGLE", rev="0521", hcpcs="90471"),
        line(code="5", desc="PM SC PRELIFE", rev="0275", hcpcs="C2620"),
    ]
    rows = [[*r[:5], "0.01", r[6]] for r in rows]
    pairs, _ = check(rows)
    assert fired(pairs, "PRICE-PLACEHOLDER") == [5, 6]


def test_one_cent_on_a_drug_is_the_no_cost_token_charge_and_zero_still_fires(check):
    # Pub. 100-04 ch. 32 sec. 67.2: a drug provided at no cost is billed with a token charge
    # under $1.01 (Norris 'TRASTUZUMAB PER 10MG:CC', UW Health Acthar J0800, Hahnemann's
    # sponsor-supplied F-18 flortaucipir on A4641). Devices and services at 0.01 still fire.
    rows = [
        line(code="1", desc="TRASTUZUMAB PER 10MG:CC", rev="0636", hcpcs="J9355", price="0.01"),
        line(
            code="2",
            desc="CORTICOTROPIN INJ GEL 80 UNIT/ML",
            rev="0636",
            hcpcs="J0800",
            price="0.01",
        ),
        line(code="3", desc="F-18 FLORTAUCIPIR DOSE", rev="0343", hcpcs="A4641", price="0.01"),
        line(code="4", desc="PM SC PRELIFE", rev="0275", hcpcs="C2620", price="0.01"),
        line(code="5", desc="CHEMO IV <=1H INIT", rev="0260", hcpcs="96413", price="0.01"),
        line(code="6", desc="TRASTUZUMAB PER 10MG", rev="0636", hcpcs="J9355", price="999999"),
    ]
    pairs, _ = check(rows)
    assert fired(pairs, "PRICE-PLACEHOLDER") == [5, 6, 7]


# 7. PRICE-INCONSISTENT compares like with like.


def test_inpatient_and_outpatient_rows_are_compared_apart(check):
    # Sutter: each item once per SERVICE_SETTING, priced differently by design.
    header = ["ID", "SERVICE_SETTING", "DESCRIPTION", "CPT", "REVENUE_CODE", "Gross Charge"]
    rows = [
        ["IP-1", "INPATIENT", "TSH", "84443", "0301", "84.00"],
        ["OP-1", "OUTPATIENT", "TSH", "84443", "0301", "70.00"],
        ["IP-2", "INPATIENT", "TSH REFLEX", "84443", "0301", "84.00"],
        ["OP-2", "OUTPATIENT", "TSH", "84443", "0301", "75.00"],
    ]
    pairs, result = check(rows, header=header)
    assert fired(pairs, "PRICE-INCONSISTENT") == [3]
    assert messages(result, "PRICE-INCONSISTENT")[3].startswith(
        "84443 (outpatient) on revenue code 0301 is priced from 70.00 to 75.00 across 2"
    )


def test_bilateral_and_send_out_lines_are_not_like_one_sided_and_in_house_ones(check):
    rows = [
        line(code="1", desc="XR ANKLE 3V LT", rev="0320", hcpcs="73610", price="623"),
        line(code="2", desc="XR ANKLE 3V RT", rev="0320", hcpcs="73610", price="623"),
        line(code="3", desc="XR ANKLE 3V BILAT", rev="0320", hcpcs="73610", price="935"),
        line(code="4", desc="ALK PHOS", rev="0301", hcpcs="84075", price="133.84"),
        line(code="5", desc="ALK PHOS - REF", rev="0301", hcpcs="84075", price="34.34"),
    ]
    pairs, _ = check(rows)
    assert fired(pairs, "PRICE-INCONSISTENT") == []
    rows.append(
        line(code="6", desc="XR ANKLE 3 VIEWS RIGHT", rev="0320", hcpcs="73610", price="700")
    )
    pairs, _ = check(rows)
    assert fired(pairs, "PRICE-INCONSISTENT") == [2]


def test_payer_rate_columns_are_not_compared_as_charges(check):
    # Sutter: both TSH lines gross 271.00; the spread is in 'Minimum Negotiated Price'.
    header = [
        "ID",
        "DESCRIPTION",
        "CPT",
        "REVENUE_CODE",
        "Gross Charge",
        "Minimum Negotiated Price",
    ]
    rows = [
        ["1", "TSH", "84443", "0301", "271.00", "16.80"],
        ["2", "TSH 3RD GEN", "84443", "0301", "271.00", "216.80"],
        ["3", "FREE T4", "84439", "0301", "0.01", "0.01"],
    ]
    pairs, result = check(rows, header=header)
    assert fired(pairs, "PRICE-INCONSISTENT") == []
    placeholder = result.findings[result.findings["rule"].eq("PRICE-PLACEHOLDER")]
    assert placeholder["column"].tolist() == ["Gross Charge"]


def test_sessions_of_different_stated_lengths_are_not_compared(check):
    # UH Avon: 97150 group therapy, 15/30/45 minutes at 80.10, 60 minutes at 118.05.
    rows = [
        line(
            code="1", desc="THER PROCEDURE-GROUP 30 MIN", rev="0433", hcpcs="97150", price="80.10"
        ),
        line(
            code="2", desc="THER PROCEDURE-GROUP 60 MIN", rev="0433", hcpcs="97150", price="118.05"
        ),
        line(
            code="3", desc="THER PROCEDURE-GROUP 30 MIN OP", rev="0433", hcpcs="97150", price="95"
        ),
    ]
    pairs, result = check(rows)
    assert fired(pairs, "PRICE-INCONSISTENT") == [2]
    assert messages(result, "PRICE-INCONSISTENT")[2].startswith(
        "97150 30 min on revenue code 0433 is priced from 80.10 to 95.00 across 2 active lines"
    )
