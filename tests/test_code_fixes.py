"""Issue 11, fresh sample s4 (benchmarks/labels/draws/s4.csv): glued modifiers on deleted and
local codes, and PRICE-INCONSISTENT groups that were not like with like.

Rows: the header is CSV line 1, so the first line is row 2.
"""

import datetime as dt

import pandas as pd
import pytest

from chargemaster.normalize import repair_hcpcs
from tests.conftest import REALDATA, line, needs_shared

ADDENDUM_B = REALDATA / "hcpcs" / "OPPS_AddendumB_2026_April_softek.csv"


def fired(pairs, rule):
    return sorted(row for r, row in pairs if r == rule)


def values(result, rule):
    f = result.findings
    hits = f[f["rule"].eq(rule)]
    return dict(zip(hits["row"], hits["value"], strict=True))


def messages(result, rule):
    f = result.findings
    hits = f[f["rule"].eq(rule)]
    return dict(zip(hits["row"], hits["message"], strict=True))


# 1. A modifier glued to a code the reference does not list (deleted before it, or local) is
# split off: the code part gets its own check, the modifier is repaired as on a current code.

# A reference that knows only current codes: 97002, 71035, 76645 (deleted 2015-2018) are absent.
CURRENT = {"97110", "73030", "73140", "71046", "85025", "83520"}


def reference_like(codes: pd.Series) -> pd.Series:
    """The glue test prepare.py builds: local codes pass, CPT only when listed."""
    return codes.isin(CURRENT) & codes.notna()


@pytest.mark.parametrize(
    "raw, value, mods",
    [
        ("97002GP", "97002", "GP"),  # Orange County r3879, deleted 2017
        ("97003GO", "97003", "GO"),  # USC Norris r5242
        ("71035TC", "71035", "TC"),  # Stanislaus r4719
        ("76645TC", "76645", "TC"),  # Stanislaus r4235
        ("X4118GO", "X4118", "GO"),  # Orange County r5149, a Medi-Cal local code
        ("73500TCRT", "73500", "TC RT"),
        ("X4303-GN", "X4303", "GN"),
    ],
)
def test_a_modifier_glued_to_a_code_no_release_lists_is_split(raw, value, mods):
    rep = repair_hcpcs(pd.Series([raw], dtype="str"), known_code=reference_like)
    assert rep.value.tolist() == [value]
    assert rep.modifiers.tolist() == [mods]
    assert rep.repaired.tolist() == [True]
    assert rep.content.tolist() == [True]


@pytest.mark.parametrize(
    "raw",
    [
        "0001U",  # a PLA code: 'U' and its digits are the code, five characters never split
        "0031A",
        "97762G",  # a cut modifier: 6 characters are no code and modifier
        "5040351",  # Barton: a 7-digit internal number, 51 a modifier but 50403 no known code
        "5070001",
        "97002ZZ",  # ZZ is no modifier
        "9700GP",
    ],
)
def test_a_cell_that_is_no_code_and_modifier_stays_as_written(raw):
    rep = repair_hcpcs(pd.Series([raw], dtype="str"), known_code=reference_like)
    assert rep.value.tolist() == [raw]
    assert rep.repaired.tolist() == [False]


def test_all_digit_cells_split_an_unlisted_code_only_where_the_column_glues_known_codes():
    # Colorado River glues 26 to its radiology codes: '7302026RT' and '7314026RT' beside
    # '7103026' (71030, deleted 2018). One such cell among plain codes stays malformed.
    alone = pd.Series(["85025", "7103026", "71046"], dtype="str")
    rep = repair_hcpcs(alone, known_code=reference_like)
    assert rep.value.tolist() == ["85025", "7103026", "71046"]
    glued = pd.Series(["7303026RT", "7314026RT", "7104626", "7103026", "5040351"], dtype="str")
    rep = repair_hcpcs(glued, known_code=reference_like)
    assert rep.value.tolist() == ["73030", "73140", "71046", "71030", "50403"]
    assert rep.modifiers.tolist() == ["26 RT", "26 RT", "26", "26", "51"]


@needs_shared
def test_glued_deleted_and_local_codes_give_their_own_findings_not_malformed(check):
    rows = [
        line(code="1", desc="PT EVAL", rev="0420", hcpcs="97002GP", price="150"),
        line(code="2", desc="OT EVAL LOCAL", rev="0430", hcpcs="X4118GO", price="90"),
        line(code="3", desc="CHEST 2V", rev="0324", hcpcs="71046", price="200"),
        line(code="4", desc="INTERNAL NO", rev="0300", hcpcs="5040351", price="10"),
    ]
    pairs, result = check(rows, addendum_b=ADDENDUM_B, as_of=dt.date(2026, 7, 1))
    assert fired(pairs, "HCPCS-MALFORMED") == [5]
    assert fired(pairs, "HCPCS-REPAIRED") == [2, 3]
    assert values(result, "MODIFIER-REPAIRED") == {2: "GP", 3: "GO"}
    assert values(result, "HCPCS-LOCAL") == {3: "X4118"}
    # 97002 (deleted 2017) is in no release loaded: its own finding says so.
    assert values(result, "HCPCS-UNKNOWN") == {2: "97002"}


# 2. PRICE-INCONSISTENT: like with like.


def transfusion(code, desc, price):
    return line(code=code, desc=desc, rev="0391", hcpcs="36430", price=price)


def observation(code, desc, price):
    return line(code=code, desc=desc, rev="0762", hcpcs="G0378", price=price)


def test_duration_ranges_and_bounds_are_read_whole(check):
    # Sutter 36430: '<=2', '2-4', '4-6' and '> 6 HRS' are four tiers, not '2, 4, 6, 6 hr'.
    rows = [
        transfusion("1", "HCHG BLOOD TRANSFUSION <=2 HRS", "682"),
        transfusion("2", "HCHG BLOOD TRANSFUSION 2-4 HRS", "1364"),
        transfusion("3", "HCHG BLOOD TRANSFUSION 4-6 HRS", "2046"),
        transfusion("4", "HCHG BLOOD TRANSFUSION > 6 HRS", "2728"),
        transfusion("5", "HCHG BLOOD TRANSFUSION 2 HRS", "700"),
    ]
    pairs, _ = check(rows)
    assert fired(pairs, "PRICE-INCONSISTENT") == []
    rows.append(transfusion("6", "HCHG BLOOD TRANSFUSION OVER 6 HOURS", "2500"))
    pairs, result = check(rows)
    assert fired(pairs, "PRICE-INCONSISTENT") == [5]
    assert messages(result, "PRICE-INCONSISTENT")[5].startswith(
        "36430 >6 hr on revenue code 0391 is priced from 2,500.00 to 2,728.00 across 2 active lines"
    )


def test_a_service_qualifier_makes_another_service(check):
    # Eastern Plumas G0378: observation per hour at 52, with telemetry at 65.
    rows = [
        observation("3140001", "OBSERVATION PER HOUR", "52"),
        observation("3140002", "OBSERV TELEMETRY PER HR", "65"),
    ]
    pairs, _ = check(rows)
    assert fired(pairs, "PRICE-INCONSISTENT") == []
    # Each kind is still compared with its own kind.
    rows.append(observation("3140003", "OBSERV TELEMETRY PER HR", "70"))
    rows.append(observation("3140004", "OBSERVATION PER HR", "60"))
    pairs, result = check(rows)
    assert fired(pairs, "PRICE-INCONSISTENT") == [2, 3]
    text = messages(result, "PRICE-INCONSISTENT")
    assert "from 52.00 to 60.00 across 2 active lines (rows 2, 5)" in text[2]
    assert text[3].startswith("G0378 TELEMETRY on revenue code 0762 is priced from 65.00 to 70.00")


def fluoro(code, desc, price):
    return line(code=code, desc=desc, rev="0320", hcpcs="77002", price=price)


def test_a_secondary_procedure_line_is_its_own_pricing_tier(check):
    # Stanislaus: 'SEC' lines at half the primary line's price (338 of 343 codes).
    rows = [
        fluoro("3100118", "FLUORO GUIDANCE NEEDLE PLACEMENT", "455"),
        fluoro("3190240", "SEC FLUORO GUIDANCE NEEDLE PLACEMENT", "227.50"),
    ]
    pairs, _ = check(rows)
    assert fired(pairs, "PRICE-INCONSISTENT") == []
    rows.append(fluoro("3190241", "SEC FLUORO GUIDANCE NEEDLE PLACEMENT", "250"))
    pairs, result = check(rows)
    assert fired(pairs, "PRICE-INCONSISTENT") == [3]
    assert messages(result, "PRICE-INCONSISTENT")[3].startswith("77002 SEC on revenue code 0320")


CHOMP = ["ITEM", "DESCRIPTION", "CC", "TYPE", "DEF/IP PRICE", "OP PRICE", "CPT", "REV"]


def test_a_line_priced_per_setting_is_compared_with_lines_priced_the_same_way(check):
    # Chomp 93308: row 2 has an inpatient 1,518 and an outpatient 526; row 3 one price, 526.
    rows = [
        ["2883007", "ECHO 2D LIMITED/FOLLOW-UP", "4591", "CHARGES", "1518", "526", "93308", "480"],
        ["2895016", "ECHO 2D LIMITED/FOLLOW-UP", "4591", "CHARGES", "526", "", "93308", "480"],
    ]
    pairs, _ = check(rows, header=CHOMP)
    assert fired(pairs, "PRICE-INCONSISTENT") == []
    # Like with like still fires (all in one cost centre): two one-price lines, and two
    # per-setting lines' OP prices.
    rows += [
        ["2895017", "ECHO 2D LIMITED/FOLLOW-UP", "4591", "CHARGES", "600", "", "93308", "480"],
        ["2883008", "ECHO 2D LIMITED/FOLLOW-UP", "4591", "CHARGES", "1518", "560", "93308", "480"],
    ]
    pairs, result = check(rows, header=CHOMP)
    f = result.findings[result.findings["rule"].eq("PRICE-INCONSISTENT")]
    got = sorted(zip(f["row"], f["column"], f["value"], strict=True))
    assert got == [(2, "OP PRICE", "526.00 to 560.00"), (3, "DEF/IP PRICE", "526.00 to 600.00")]
