"""Issue 11, fresh sample s4 (benchmarks/labels/draws/s4.csv): glued modifiers on deleted and
local codes.

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
