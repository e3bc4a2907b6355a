"""Decisions taken from the fresh hand-labelled sample (benchmarks/labels/draws/s4.csv), and the
fresh draw of benchmarks/precision.py itself.

Rows: the header is CSV line 1, so the first line is row 2.
"""

import pandas as pd

from benchmarks import precision
from tests.conftest import REALDATA, line, needs_shared

ADDENDUM_B = REALDATA / "hcpcs" / "OPPS_AddendumB_2026_April_softek.csv"


def fired(pairs, rule):
    return sorted(row for r, row in pairs if r == rule)


# PRICE-ZERO on codes Medicare never pays on their own. OPPS packages status-N codes into the
# payment of the service they go with, and computes that payment from the charges hospitals put
# on their claims for the packaged lines (charges reduced to cost by the hospital's
# cost-to-charge ratios: 42 CFR 419.2(b), the yearly OPPS rules); the cost report apportions
# cost by charges and IRF outliers are charges times that ratio (42 CFR 412.624(e)(5)); a price
# transparency file needs a positive gross charge for every item. So packaged is not free: a
# zero there still hides a cost and stays a warning. Codes that only report (status M, E1, B;
# Category II; quality and functional-limitation G-codes) are the ones spared.


@needs_shared
def test_zero_on_a_packaged_or_bundled_service_still_fires(check):
    # Hahnemann 'EXERCISE-OBS' 99078 (SI N) and Redwood hot/cold packs 97010 (SI A, bundled
    # under the physician fee schedule), both at 0.00 with no other line charging the code.
    rows = [
        line(code="5515", desc="EXERCISE-OBS", rev="0762", hcpcs="99078", price="0"),
        line(code="2514", desc="HOT/COLD PACK", rev="0420", hcpcs="97010", price="0"),
        line(code="2515", desc="THER EXERCISE 15 MIN", rev="0420", hcpcs="97110", price="95"),
        line(code="5516", desc="OBSERVATION PER HOUR", rev="0762", hcpcs="G0378", price="52"),
    ]
    pairs, result = check(rows, addendum_b=ADDENDUM_B)
    status = result.reference.cpt["status"]
    assert status["99078"] == "N" and status["97010"] == "A"
    assert fired(pairs, "PRICE-ZERO") == [2, 3]


@needs_shared
def test_zero_on_a_reporting_only_code_does_not_fire(check):
    # Category II (SI E1 in April 2026) and a functional-limitation G-code at zero: reported,
    # never charged.
    rows = [
        line(code="1", desc="BP SYSTOLIC <130", rev="0510", hcpcs="3074F", price="0"),
        line(code="2", desc="MOBILITY CURRENT STATUS", rev="0420", hcpcs="G8978", price="0"),
        line(code="3", desc="THER EXERCISE 15 MIN", rev="0420", hcpcs="97110", price="95"),
    ]
    pairs, result = check(rows, addendum_b=ADDENDUM_B)
    assert result.reference.cpt["status"]["3074F"] == "E1"
    assert fired(pairs, "PRICE-ZERO") == []


# The fresh draw: findings nobody has labelled, spread over files, fewest-labelled files first.


def findings(per_file: dict[str, int], rule: str = "PRICE-ZERO") -> pd.DataFrame:
    rows = [
        {"file": f, "row": 10 + k, "rule": rule, "value": "0"}
        for f, n in per_file.items()
        for k in range(n)
    ]
    return pd.DataFrame(rows)


def test_fresh_draw_skips_labelled_findings_and_spreads_over_files():
    found = findings({"big.xlsx": 40, "corpus/small.csv": 3, "other.xls": 2})
    have = {"big.xlsx|10|PRICE-ZERO|0", "big.xlsx|11|PRICE-ZERO|0"}
    # A corpus file labelled under its bare name (suggest_accuracy.py writes it so) is labelled.
    have.add("small.csv|10|PRICE-ZERO|0")
    picked = precision.fresh_sample(found, "PRICE-ZERO", 6, have)
    keys = set(precision.keyed(picked))
    assert not keys & have
    assert "corpus/small.csv|10|PRICE-ZERO|0" not in keys
    per_file = picked["file"].value_counts().to_dict()
    # Round robin: the biggest file cannot fill the draw; the two small ones give all they have.
    assert per_file == {"big.xlsx": 2, "corpus/small.csv": 2, "other.xls": 2}


def test_fresh_draw_starts_with_the_files_labelled_least():
    found = findings({"a.csv": 5, "b.csv": 5, "c.csv": 5})
    have = {f"a.csv|{10 + k}|PRICE-ZERO|0" for k in range(2)} | {"b.csv|10|PRICE-ZERO|0"}
    picked = precision.fresh_sample(found, "PRICE-ZERO", 2, have)
    assert sorted(picked["file"]) == ["b.csv", "c.csv"]
    assert list(picked["file"])[0] == "c.csv"


def test_the_report_splits_a_draw_from_the_older_labels(tmp_path, monkeypatch):
    labels = tmp_path / "labels"
    (labels / "draws").mkdir(parents=True)
    cols = ",".join(precision.COLUMNS)
    (labels / "price_zero.csv").write_text(
        f"{cols}\n"
        "a.csv,2,PRICE-ZERO,0,,right,old\n"
        "a.csv,3,PRICE-ZERO,0,,debatable,old\n"
        "b.csv,2,PRICE-ZERO,0,,wrong,fresh\n"
        "b.csv,3,PRICE-ZERO,0,,right,fresh\n"
    )
    (labels / "draws" / "s9.csv").write_text(
        "file,row,rule,value\nb.csv,2,PRICE-ZERO,0\nb.csv,3,PRICE-ZERO,0\n"
    )
    monkeypatch.setattr(precision, "LABELS", labels)
    monkeypatch.setattr(precision, "DRAWS", labels / "draws")
    table = precision.split_table(None, None).set_index("rule")
    row = table.loc["PRICE-ZERO"]
    assert row["old: n r/w/d prec"] == "2 1/0/1 0.75"
    assert row["s9: n r/w/d prec"] == "2 1/1/0 0.50"
    assert row["combined: n r/w/d prec"] == "4 2/1/1 0.62"


def test_no_draw_file_means_no_split(tmp_path, monkeypatch):
    monkeypatch.setattr(precision, "DRAWS", tmp_path / "draws")
    assert precision.split_table(None, None) is None
    assert precision.split_table(None, "s4") is None
