"""benchmarks/suggest_accuracy.py measures the first candidate Issues shows; its gate must be
the report's own, or the figure measures something the analyst never sees."""

import datetime as dt

from benchmarks.suggest_accuracy import issues_first
from chargemaster import suggest
from tests.conftest import line

AS_OF = dt.date(2026, 5, 1)

CODES = {
    "73560": "X-ray exam of knee 1 or 2",
    "73562": "X-ray exam of knee 3",
    "74445": "X-ray exam of penis",
    "71046": "X-ray exam chest 2 views",
}


def test_issues_first_is_the_reports_gate(tmp_path, check, monkeypatch):
    # A release without 76499 (the unlisted x-ray code): the catch-all 'MISC XRAY PROCEDURE'
    # then ranks the penis x-ray first, at a score Issues would show, as on a real file in
    # draw s4; the report shows nothing for it, and so must the benchmark. The cut is lowered
    # so that the score alone would let it through: only the catch-all gate stops it.
    monkeypatch.setattr(suggest, "SHOW_SCORE", 0.6)
    add_b = tmp_path / "OPPS_AddendumB_2026_April.csv"
    body = "".join(f"{c},{d},Q1\n" for c, d in CODES.items())
    add_b.write_text("HCPCSCode,ShortDescriptor,StatusIndicator\n" + body)
    rows = [
        line(code="1", rev="0320", hcpcs="", desc="MISC XRAY PROCEDURE"),
        line(code="2", rev="0320", hcpcs="", desc="XR KNEE 1 OR 2 VIEWS"),
        line(code="3", rev="0320", hcpcs="", desc="XR CHEST 2 VIEWS"),
    ]
    _, result = check(rows, addendum_b=add_b, as_of=AS_OF)
    table = result.suggestions.sort_values(["Row", "Rank"])
    found = result.findings
    issues = found[found["rule"].eq("HCPCS-SUGGESTED")].set_index("row")["suggested"]
    frame = result.lines.frame
    ours = {}
    for row in frame.index:
        part = table[table["Row"].eq(row)]
        cands = list(zip(part["HCPCS"], part["Score"], part["Reason"], strict=True))
        ours[row] = issues_first(frame.at[row, "description"], cands)
    report = {row: issues.get(row) for row in frame.index}
    assert ours == report
    catch = table[table["Description"].eq("MISC XRAY PROCEDURE")].iloc[0]
    assert (catch["HCPCS"], catch["Score"] >= suggest.SHOW_SCORE) == ("74445", True)
    assert sorted(v for v in ours.values() if v) == ["71046", "73560"]
