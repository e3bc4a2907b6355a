"""Revenue-code, duplicate and mismatch rules on real-shaped lines (issue 11).

Rows: the header is CSV line 1, so the first line is row 2.
"""

import datetime as dt

import pandas as pd
import pytest
from openpyxl import load_workbook

from chargemaster.config import load_config
from chargemaster.errors import ConfigError
from chargemaster.normalize import revenue_markers
from chargemaster.report import write_report
from tests.conftest import line


def of_rule(result, rule):
    f = result.findings
    return f[f["rule"].eq(rule)]


def rows_of(result, rule):
    return sorted(int(r) for r in of_rule(result, rule)["row"])


# --- REVCODE-MISSING ------------------------------------------------------------------------


def test_revcode_missing_spares_unbilled_statistical_lines(check):
    rows = [
        # zero-priced statistical / no-charge lines without a code (Chomp: 'NO CHARGE PROCEDURE')
        line(code="1", desc="NO CHARGE PROCEDURE", rev="", hcpcs="", price="0"),
        line(code="2", desc="UNCHARGED HOURS FOR CDU", rev="", hcpcs="", price=""),
        # a billed lab line without its revenue code (Chomp: apolipoprotein at 191.00)
        line(code="3", desc="APOLIPOPROTEIN, EACH", rev="", hcpcs="", price="191.00"),
        # a coded line at zero still reaches a claim with its HCPCS (Hahnemann: CPR 92950)
        line(code="4", desc="CPR", rev="", hcpcs="92950", price="0"),
    ]
    pairs, result = check(rows)
    assert rows_of(result, "REVCODE-MISSING") == [4, 5]
    msgs = of_rule(result, "REVCODE-MISSING").set_index("row")["message"]
    assert msgs[4] == (
        "Revenue code is blank on an active line priced 191.00. Enter the 4-digit UB-04 "
        "revenue code."
    )
    assert "with HCPCS 92950" in msgs[5]
    # the price rules leave them alone too: 'NO CHARGE' says the zero is by design, and an
    # uncoded blank line outside a blank-priced group does not show it is billed (price rules)
    assert ("PRICE-ZERO", 2) not in pairs and ("PRICE-MISSING", 3) not in pairs
    assert ("PRICE-ZERO", 5) in pairs  # the coded CPR line at zero is still named


def test_revcode_missing_spares_a_rate_only_payer_columns_give(check):
    # Sutter Lakeside's price transparency file: 'Per Day Rate for all Inpatient Services' has
    # no revenue code, no gross charge and $5,129 in the payer columns: a contract's per diem,
    # not a chargemaster line. A gross charge without a revenue code still fires.
    header = [
        "ID",
        "DESCRIPTION",
        "CPT",
        "REVENUE_CODE",
        "Gross Charge",
        "Discounted Cash Price",
        "Aetna HMO/PPO Negotiated",
    ]
    rows = [
        ["IP_ALL_PERDIEM", "Per Day Rate for all Inpatient Services", "", "", "", "", "$5,129.00"],
        ["IP_RX-1", "BUPIVACAINE PF 0.25% SOLN", "S0020", "0250", "$75.00", "$60.00", "$60.75"],
        ["IP_LAB-1", "APOLIPOPROTEIN, EACH", "", "", "$191.00", "$152.80", "$150.00"],
    ]
    pairs, result = check(rows, header=header)
    assert rows_of(result, "REVCODE-MISSING") == [4]


def test_revenue_code_zero_is_a_counted_placeholder_not_malformed_or_missing(check):
    rows = [
        line(code="1", desc="CARDIAC REHAB PHASE 3 SELF PAY", rev="0", hcpcs="", price="25"),
        line(code="2", desc="1:1 SITTER COUNTY CONTRACT", rev=" 0 ", hcpcs="", price="40"),
        line(code="3", desc="CBC W AUTO DIFF", rev="0305", hcpcs="85025", price="62"),
    ]
    pairs, result = check(rows)
    rules = {r for r, _ in pairs}
    assert not rules & {"REVCODE-MALFORMED", "REVCODE-MISSING", "REVCODE-UNKNOWN"}
    assert result.stats["code_placeholders"]["Rev Code"] == 2
    assert result.lines.frame.loc[[2, 3], "revenue_code"].isna().all()
    assert result.lines.frame.loc[[2, 3], "active"].all()  # still active lines


def test_revenue_code_0000_stays_unknown(check):
    pairs, _ = check([line(rev="0000")])
    assert ("REVCODE-UNKNOWN", 2) in pairs


def test_0000_beside_a_valid_code_of_another_setting_is_none_for_that_setting(check):
    # Hahnemann: IPREV 0120 / OPREV 0000 on an inpatient-only room; both 0000 on a statistical
    # line that bills nothing (nursing hours at zero, no HCPCS: like a blank revenue code there,
    # no finding); a valid code in neither column of a billed line still fires in each.
    header = ["Charge Code", "Description", "IPREV", "OPREV", "HCPCS", "Price"]
    rows = [
        ["3084", "SEMI-PRIVATE ROOM", "0120", "0000", "", "1450.00"],
        ["5000", "NURSING CARE/HR", "0000", "0000", "", "0"],
        ["5001", "OBSERVATION PER HR", "0000", "0762", "G0378", "95.00"],
        ["5002", "LAB OTHER", "0308", "0000", "", "90.00"],
        ["5003", "SITTER PER HR", "0000", "0000", "", "25.00"],
        ["5004", "CPR", "0000", "0000", "92950", "0"],
    ]
    pairs, result = check(rows, header=header)
    f = result.findings
    unknown = f[f["rule"].eq("REVCODE-UNKNOWN")]
    assert sorted(zip(unknown["row"], unknown["column"], unknown["value"], strict=True)) == [
        (5, "IPREV", "0308"),
        (5, "OPREV", "0000"),
        (6, "IPREV", "0000"),
        (6, "OPREV", "0000"),
        (7, "IPREV", "0000"),
        (7, "OPREV", "0000"),
    ]


# --- REVCODE-MALFORMED: record markers --------------------------------------------------------


def test_repeated_letter_marker_in_revenue_cell_retires_the_line(check):
    # Orange County: 'CNV' on converted legacy records (no price), 'EXP' on exploded-charge
    # parents at 0.00, in a column of real revenue codes.
    rows = [line(code=str(100 + k), rev="0300", hcpcs="85025") for k in range(90)]
    rows += [line(code=f"9{k}", desc="*BED HOLD", rev="CNV", hcpcs="", price="") for k in range(3)]
    rows += [line(code=f"8{k}", desc="EXPLODED", rev="exp", hcpcs="", price="0") for k in range(3)]
    rows += [line(code="77", desc="24 HR URINE PROTEIN", rev="URN", hcpcs="84156")]
    pairs, result = check(rows)
    frame = result.lines.frame
    assert not frame.loc[92:97, "active"].any()
    assert frame.loc[98, "active"]
    assert rows_of(result, "REVCODE-MALFORMED") == [98]  # one stray word stays malformed
    assert not {w for r, w in pairs if r in ("PRICE-MISSING", "PRICE-ZERO")} & set(range(92, 98))
    assert result.stats["retired_lines"] == {"revenue code marker": 6}
    assert result.lines.coded["Rev Code"][92] == "CNV"  # the coded output keeps the marker


def test_revenue_markers_need_a_column_of_real_codes():
    codes = pd.Series(["0300"] * 27 + ["CNV"] * 3)
    assert revenue_markers(codes).sum() == 3
    # a column of department words is a mapping problem, never a marker column
    words = pd.Series(["LAB"] * 10 + ["RAD"] * 10 + ["0300"] * 10)
    assert not revenue_markers(words).any()
    assert not revenue_markers(pd.Series(["0300"] * 27 + ["CNV"] * 2)).any()
    assert not revenue_markers(pd.Series([None, None], dtype="str")).any()


# --- CHARGE-CODE-DUPLICATE -------------------------------------------------------------------

DATED = ["Charge Code", "Description", "Rev Code", "HCPCS", "Price", "Effective Date"]


def test_price_history_rows_are_inactive_and_not_duplicates(check):
    # Fairchild: one service per effective date (2000, 2016, 2017), a future price too.
    rows = [
        ["4301", "NEUTROPHIL CYTOPLASMIC AB", "0302", "86021", "12.16", "01/01/2000"],
        ["4301", "NEUTROPHIL CYTOPLASMIC AB", "0302", "86021", "12.16", "01/01/2016"],
        ["4301", "NEUTROPHIL CYTOPLASMIC AB", "0302", "86021", "13.00", "01/01/2017"],
        ["4301", "NEUTROPHIL CYTOPLASMIC AB", "0302", "86021", "14.00", "01/01/2019"],
        ["6454", "US UPPER EXTREMITY RT", "0402", "76882", "727.00", "03/02/2018"],
        ["5000", "SAME DAY TWICE", "0302", "86021", "5.00", "01/01/2017"],
        ["5000", "SAME DAY TWICE", "0302", "86021", "6.00", "01/01/2017"],
    ]
    pairs, result = check(rows, header=DATED, as_of=dt.date(2018, 7, 1))
    active = result.lines.frame["active"]
    assert list(active[active].index) == [4, 6, 7, 8]  # the 2017 row is the one in force
    assert result.stats["retired_lines"] == {"older price-history row": 3}
    assert rows_of(result, "CHARGE-CODE-DUPLICATE") == [7]  # one date, two prices: one item
    # once the 2019 price is in force it is the current row
    _, later = check(rows, header=DATED, as_of=dt.date(2019, 7, 1))
    assert later.lines.frame.loc[5, "active"] and not later.lines.frame.loc[4, "active"]


def test_the_summary_says_how_many_lines_this_run_made_inactive(check, tmp_path):
    rows = [
        ["4301", "NEUTROPHIL CYTOPLASMIC AB", "0302", "86021", "12.16", "01/01/2016"],
        ["4301", "NEUTROPHIL CYTOPLASMIC AB", "0302", "86021", "13.00", "01/01/2017"],
    ]
    _, result = check(rows, header=DATED, as_of=dt.date(2018, 7, 1))
    ws = load_workbook(write_report(result, tmp_path / "r.xlsx"))["Summary"]
    facts = {r[0].value: r[1].value for r in ws.iter_rows(min_col=1, max_col=2) if r[0].value}
    assert facts["Active lines"] == 1
    assert facts["  made inactive by this run"] == "1 older price-history row"


def test_an_unnamed_column_of_dates_dates_the_price_history(check):
    # Eastern Plumas: a date column with no header name beside Charge and Units.
    header = ["Charge Code", "Description", "Rev Code", "HCPCS", "", "Charge", "Units"]
    rows = [[f"1{k:03d}", f"ITEM {k}", "0300", "85025", "2016-07-01", "10", "3"] for k in range(9)]
    rows += [
        ["02950", "CROWN BUILDUP INCLUDE PINS", "0999", "D2950", "2016-01-01", "251", "-1"],
        ["02950", "CROWN BUILDUP INCLUDE PINS", "0999", "D2950", "2016-07-01", "264", "8"],
    ]
    pairs, result = check(rows, header=header, as_of=dt.date(2018, 7, 1))
    assert not result.lines.frame.loc[11, "active"] and result.lines.frame.loc[12, "active"]
    assert not any(r == "CHARGE-CODE-DUPLICATE" for r, _ in pairs)
    # a named date column that is not an effective date dates nothing
    header[4] = "Last Update"
    pairs, result = check(rows, header=header, as_of=dt.date(2018, 7, 1))
    assert result.lines.frame["active"].all()
    assert ("CHARGE-CODE-DUPLICATE", 11) in pairs


def test_one_item_at_several_prices_is_one_finding_on_its_first_row(check):
    rows = [
        # Northside: a system list, one row per campus price, no facility column
        line(code="7022131", desc="HC CT HEAD WO", rev="0350", hcpcs="70450", price="374"),
        line(code="7022131", desc="HC CT HEAD  WO", rev="0350", hcpcs="70450", price="376"),
        line(code="7022131", desc="hc ct head wo", rev="0350", hcpcs="70450", price="383"),
        # an exact repeated row
        line(code="113046", desc="PFO OCCLUDER", rev="0278", hcpcs="C1817", price="33270"),
        line(code="113046", desc="PFO OCCLUDER", rev="0278", hcpcs="C1817", price="33270"),
        # one code on two different items: every line
        line(code="6112006", desc="ICU ROOM", rev="0200", hcpcs="", price="4000"),
        line(code="6112006", desc="PRIVATE BMT ROOM", rev="0110", hcpcs="", price="3000"),
    ]
    _, result = check(rows)
    found = of_rule(result, "CHARGE-CODE-DUPLICATE").set_index("row")
    assert sorted(found.index) == [2, 5, 7, 8]
    assert found.loc[2, "message"].startswith(
        "Charge code '7022131' is on 3 active lines (rows 2, 3, 4) with the same description "
        "and codes at 3 prices (374.00, 376.00, 383.00): one item at several prices."
    )
    assert "facility, setting or payer" in found.loc[2, "message"]
    assert found.loc[5, "message"] == (
        "Charge code '113046' is on 2 active lines (rows 5, 6) with the same description and "
        "codes, each priced 33,270.00: the line is repeated. Delete the extra rows."
    )
    assert "different descriptions or codes" in found.loc[7, "message"]
    assert found.loc[7, "value"] == "6112006"


# --- HCPCS-REVCODE-MISMATCH ------------------------------------------------------------------


@pytest.mark.parametrize(
    "rev, hcpcs",
    [
        ("0481", "76930"),  # echo-guided pericardiocentesis in the cath lab (Chomp)
        ("0481", "76937"),  # US guidance for vascular access in the cath lab
        ("0481", "75625"),  # aortography S&I in the cath lab
        ("0360", "76942"),  # US needle guidance on an OR aspiration line (Orange County)
        ("0490", "77002"),  # fluoroscopic guidance in ambulatory surgery
        ("0761", "76942"),  # guidance in the treatment room
        ("0360", "75956"),  # endovascular repair S&I in the hybrid OR
        ("0450", "P9612"),  # catheter specimen collected in the ER (Barton)
        ("0761", "P9612"),  # ... in the treatment room (Orange County)
        ("0510", "P9615"),  # ... in the clinic
        ("0480", "76376"),  # 3D rendering of an echo in cardiology (Chomp)
        ("0300", "78267"),  # C-14 urea breath test kit in the lab (HealthSouth)
        ("0300", "78268"),  # C-14 breath analysis in the lab
        ("0341", "78268"),  # ... or in nuclear medicine
        ("0450", "36415"),  # venipuncture in the ER: in no family
        ("0510", "G0471"),  # venipuncture in the clinic: in no family
    ],
)
def test_mismatch_spares_codes_billed_by_the_performing_room(check, rev, hcpcs):
    pairs, _ = check([line(rev=rev, hcpcs=hcpcs, desc="PROCEDURE LINE")])
    assert ("HCPCS-REVCODE-MISMATCH", 2) not in pairs


@pytest.mark.parametrize(
    "rev, hcpcs, fam",
    [
        ("0450", "76942", "imaging guidance"),  # ER: guidance belongs on imaging (Redwood)
        ("0510", "77003", "imaging guidance"),  # clinic: fluoroscopic guidance (HealthSouth)
        ("0510", "72295", "radiology"),  # discography S&I in a clinic
        ("0510", "85610", "lab"),  # PT/INR in a clinic is still a lab test
        ("0250", "P9612", "specimen collection"),  # pharmacy is no place for a collection
        ("0250", "78267", "breath test"),
        ("0360", "71046", "radiology"),  # a chest x-ray is no guidance code
    ],
)
def test_mismatch_still_fires_where_the_room_does_not_fit(check, rev, hcpcs, fam):
    _, result = check([line(rev=rev, hcpcs=hcpcs, desc="PROCEDURE LINE")])
    found = of_rule(result, "HCPCS-REVCODE-MISMATCH")
    assert list(found["row"].astype(int)) == [2]
    assert found["message"].iloc[0].startswith(f"HCPCS {hcpcs} is a {fam} code")


def test_code_family_revenue_codes_are_validated(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(
        '[code_families.lab]\ncodes = ["80047-89398"]\nrevenue_families = ["lab"]\n'
        'revenue_codes = ["45"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="revenue_codes: '45'"):
        load_config(cfg)
    families = {f.name: f for f in load_config().code_families}
    for name in ("imaging_guidance", "breath_test", "specimen_collection"):
        assert families[name].source  # every pairing names its public source
    assert "036" in families["imaging_guidance"].revenue_codes


# --- DESCRIPTION-CODE-CONFLICT: "either side" ------------------------------------------------


@pytest.mark.parametrize(
    "text, side",
    [
        ("REM IMPACT CERUMEN UN/BIL", None),  # Jerold Phelps: one ear or both
        ("REM IMPAC CERUM/UNL/BILAT", None),
        ("Iliac and/or femoral artery angiography, non-selective, bilateral or ipsilateral", None),
        ("REM IMPACT CERUMEN UNI", "unilateral"),
        ("MAM SCREEN WITH CAD UNI LT", "unilateral"),
        ("XR RIBS BIL 3 VIEWS", "bilateral"),
    ],
)
def test_either_side_states_no_side(text, side):
    from chargemaster.suggest import key_terms, tokens

    assert key_terms(tokens(text), text).side == side
