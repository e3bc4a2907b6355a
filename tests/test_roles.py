"""Column roles by content, rows that are not lines, sheet parts and files that are not a
chargemaster: one small fixture per trap class of real exports (issue 10)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from chargemaster import check, read_chargemaster
from chargemaster.errors import InputError
from chargemaster.fields import field_specs
from chargemaster.pipeline import RunOptions, run
from chargemaster.reader import read_table
from chargemaster.roles import hcpcs_shape, profile, revenue_shape
from tests.conftest import write_csv, write_xlsx

SPECS = field_specs("chargemaster")
CODES = ["85025", "80053", "71046", "G0378", "J1885", "93005", "80061", "36415", "A4550", "70450"]
REVS = ["0305", "0301", "0324", "0762", "0636", "0730", "0301", "0300", "0270", "0351"]
WORDS = ["CBC", "PANEL", "XRAY CHEST", "OBSERVATION", "KETOROLAC", "EKG", "LIPID", "VENIPUNCT"]


def items(n: int = 40) -> list[dict]:
    """n lines of a plausible chargemaster: unique 8-digit ids, codes, revenue codes, prices."""
    out = []
    for i in range(n):
        out.append(
            {
                "id": str(30010001 + i * 7),
                "desc": f"HC {WORDS[i % len(WORDS)]} {i} UNIT",
                "rev": REVS[i % len(REVS)].lstrip("0"),  # leading zero lost, as in real exports
                "code": CODES[i % len(CODES)],
                "price": f"{12.5 + i * 3.25:.2f}",
            }
        )
    return out


def as_rows(lines: list[dict], order=("id", "desc", "rev", "code", "price")) -> list[list]:
    return [[line[k] for k in order] for line in lines]


# --- profiles -------------------------------------------------------------------------------


def test_shapes_of_codes_and_revenue_codes():
    assert hcpcs_shape("85025") == 1.0 and hcpcs_shape("G0379") == 1.0
    assert hcpcs_shape("0G0379    ") == 1.0  # fixed-width, zero-padded
    assert hcpcs_shape("73140TCLT") == 1.0  # two letter modifiers glued
    assert hcpcs_shape("8352090") == 0.3  # a digit modifier glued: could be an id
    assert hcpcs_shape("30010001") == 0.0  # an 8-digit id
    assert revenue_shape("300") and revenue_shape("0450")
    assert revenue_shape("LABORATORY - CHEMISTRY [0301]")
    assert not revenue_shape("60")  # a quantity, not a revenue code
    assert not revenue_shape("1654.25")


def test_profile_scores_say_what_a_column_holds():
    lines = items()
    ids = profile([x["id"] for x in lines])
    assert ids.scores["charge_code"] > 0.9 and ids.scores["price"] < 0.5
    revs = profile([x["rev"] for x in lines])
    assert revs.scores["revenue_code"] == 1.0
    seq = profile([str(i) for i in range(1, 41)])
    assert seq.sequence and seq.scores["charge_code"] == 0.0  # a row number, not a charge code


# --- roles ----------------------------------------------------------------------------------


def test_roles_by_content_when_no_name_is_known(tmp_path):
    head = ["BILL ITEM ID", "PROCEDURE (CDM) DESCRIPTION", "CHG CAT", "MCLcde", "STD AMOUNT"]
    path = write_csv(tmp_path / "c.csv", as_rows(items()), head)
    t = read_table(path, SPECS)
    assert t.header_row == 1 and len(t.data) == 40
    assert t.fields == {
        "charge_code": ["BILL ITEM ID"],
        "description": ["PROCEDURE (CDM) DESCRIPTION"],
        "revenue_code": ["CHG CAT"],
        "hcpcs": ["MCLcde"],
        "price": ["STD AMOUNT"],
    }
    by = {d.column: d.by for d in t.roles}
    assert by["CHG CAT"] == "content" and by["MCLcde"] == "content"
    assert next(d.evidence for d in t.roles if d.column == "CHG CAT") == (
        "40 of 40 values are UB-04 revenue codes"
    )


def test_misleading_names_lose_to_the_values(tmp_path):
    # 'CHARGE #' is a price alias by name but holds 8-digit ids; 'CATEGORY' (a department
    # alias) holds revenue codes.
    head = ["CHARGE #", "DESCRIPTION", "CATEGORY", "CPT", "PRICE"]
    path = write_csv(tmp_path / "m.csv", as_rows(items()), head)
    t = read_table(path, SPECS)
    assert t.fields["charge_code"] == ["CHARGE #"]
    assert t.fields["price"] == ["PRICE"]
    assert t.fields["revenue_code"] == ["CATEGORY"]
    assert "department" not in t.fields
    assert [d.column for d in t.rejected] == ["CHARGE #"]


def test_content_and_names_read_the_same_lines(tmp_path):
    lines = items()
    named = write_csv(
        tmp_path / "named.csv",
        as_rows(lines),
        ["Charge Code", "Description", "Rev Code", "HCPCS", "Price"],
    )
    cryptic = write_csv(
        tmp_path / "cryptic.csv", as_rows(lines), ["IVNUM", "IVDESC", "IVREVCD", "IVCPTCD", "IVP1"]
    )
    # IVP1 gives no hint at all: the override names it, as a user would
    a = run(RunOptions(named, as_of=dt.date(2026, 1, 1)))
    b = run(RunOptions(cryptic, as_of=dt.date(2026, 1, 1), columns={"price": ("IVP1",)}))
    cols = ["charge_code", "description", "revenue_code", "hcpcs", "price"]
    pd.testing.assert_frame_equal(a.lines.frame[cols], b.lines.frame[cols])
    rules_a = a.findings["rule"].value_counts().drop(["COLUMN-INFERRED"], errors="ignore")
    rules_b = b.findings["rule"].value_counts().drop(["COLUMN-INFERRED"], errors="ignore")
    assert rules_a.sort_index().to_dict() == rules_b.sort_index().to_dict()
    inferred = b.findings[b.findings["rule"].eq("COLUMN-INFERRED")]
    assert sorted(inferred["column"]) == ["IVCPTCD", "IVDESC", "IVNUM", "IVREVCD"]
    assert "40 of 40 values are UB-04 revenue codes" in " ".join(inferred["message"])
    columns = {c["header"]: c for c in b.stats["columns"]}
    assert columns["IVP1"]["decided_by"] == "override" and columns["IVP1"]["role"] == "price"
    assert columns["IVREVCD"]["decided_by"] == "content"


def test_override_names_a_column_that_must_exist(tmp_path):
    path = write_csv(tmp_path / "o.csv", as_rows(items()), ["A1", "B1", "C1", "D1", "E1"])
    with pytest.raises(InputError, match="--column price=NOPE: no column named 'NOPE'"):
        read_table(path, SPECS, columns={"price": ["NOPE"], "description": ["B1"]})
    with pytest.raises(InputError, match="unknown role 'cost'"):
        read_table(path, SPECS, columns={"cost": ["E1"]})


def test_the_header_row_is_found_without_any_alias(tmp_path):
    rows = [["MERCY GENERAL"], ["Price list as of 2026-01-01"], [], ["ITEM KEY", "TEXT", "AMT"]]
    rows += [[x["id"], x["desc"], x["price"]] for x in items()]
    t = read_table(write_xlsx(tmp_path / "h.xlsx", {"Prices": rows}), SPECS)
    assert t.header_row == 4 and len(t.data) == 40
    assert t.fields == {"charge_code": ["ITEM KEY"], "description": ["TEXT"], "price": ["AMT"]}


# --- rows that are not lines ----------------------------------------------------------------


def test_lines_without_codes_are_kept_and_section_rows_listed(tmp_path):
    lines = items(30)
    rows = [["Charge Code", "Description", "Rev Code", "HCPCS", "Price"], ["LABORATORY"]]
    for i, x in enumerate(lines):
        if i == 15:
            rows.append(["RADIOLOGY"])  # a section row: one cell
        code = x["code"] if i % 3 else ""  # a third of the lines carry no code
        rows.append([x["id"], x["desc"], "" if i % 5 == 0 else x["rev"], code, x["price"]])
    rows.append(["", "PACKAGE VISIT, NO CODE", "", "", "0"])  # description + one more cell
    t = read_table(write_xlsx(tmp_path / "s.xlsx", {"CDM": rows}), SPECS)
    assert len(t.data) == 31
    assert t.skipped == {"title or section rows": 2}
    assert t.skipped_rows[["row", "text"]].values.tolist() == [[2, "LABORATORY"], [18, "RADIOLOGY"]]


def test_report_block_after_the_last_line(tmp_path):
    rows = [["Charge Code", "Description", "Revenue Code", "Rate"]]
    rows += [[x["id"], x["desc"], x["rev"], x["price"]] for x in items(25)]
    rows += [
        [],
        ["Number of Charge Code Printed:", "", "1946"],
        ["Price As Of :", "10/01/18"],
        ["Selection:", "ALL"],
        ["MatrixCare Report", "User: jdoe", "Run Date: 10/02/18", "Page -1 of 1"],
    ]
    path = write_xlsx(tmp_path / "f.xlsx", {"CDM": rows})
    t = read_table(path, SPECS)
    assert len(t.data) == 25
    assert t.skipped == {"report block after the last line": 4, "blank rows": 1}


def test_lines_skipped_fires_above_twenty_rows(tmp_path):
    rows = [["Charge Code", "Description", "Rev Code", "Price"]]
    for x in items(30):
        rows += [[x["id"], x["desc"], x["rev"], x["price"]], []]  # a blank row after each line
    path = write_xlsx(tmp_path / "b.xlsx", {"CDM": rows})
    result = run(RunOptions(path, as_of=dt.date(2026, 1, 1)))
    found = result.findings[result.findings["rule"].eq("LINES-SKIPPED")]
    assert len(found) == 1 and found["severity"].iloc[0] == "warning"
    assert "29 of 59 rows below the header were not read" in found["message"].iloc[0]
    assert result.stats["skipped_detail"] == {"blank rows": 29}


# --- sheets ---------------------------------------------------------------------------------


def _sheet(head, lines, keys):
    return [["Covenant Hospital"], [], head, *([x[k] for k in keys] for x in lines)]


def test_sheet_parts_are_named_and_year_copies_are_not(tmp_path):
    lines = items(30)
    drugs = [dict(x, desc=f"KETOROLAC {i} MG INJ") for i, x in enumerate(items(12))]
    sheets = {
        "Disclaimer": [["Prices are estimates"]],
        "Procedures": _sheet(
            ["CHARGE CODE", "DESCRIPTION", "PRICE"], lines, ["id", "desc", "price"]
        ),
        "Pharmacy": _sheet(["CHARGE CODE", "DRUG NAME", "PRICE"], drugs, ["id", "desc", "price"]),
        "Top 25 Outpatient": _sheet(
            ["CPT Code", "Description", "Charges"],
            [dict(x, desc=f"OUTPATIENT SERVICE {i}") for i, x in enumerate(items(20))],
            ["code", "desc", "price"],
        ),
        "Procedures 2017": _sheet(
            ["CHARGE CODE", "DESCRIPTION", "PRICE"], lines[:25], ["id", "desc", "price"]
        ),
    }
    path = write_xlsx(tmp_path / "parts.xlsx", sheets)
    t = read_table(path, SPECS)
    assert (t.sheet, t.header_row, len(t.data)) == ("Procedures", 3, 30)
    # the 2017 copy repeats the lines; a top-25 list is a statistics form
    assert [p.grid.sheet for p in t.parts] == ["Pharmacy"]
    result = run(RunOptions(path, as_of=dt.date(2026, 1, 1)))
    found = result.findings[result.findings["rule"].eq("SHEET-NOT-READ")]
    assert found["value"].tolist() == ["Pharmacy"]
    assert "about 12 lines" in found["message"].iloc[0]
    assert len(read_table(path, SPECS, sheet="Pharmacy").data) == 12


# --- not a chargemaster ---------------------------------------------------------------------


def test_a_summary_form_is_refused(tmp_path):
    rows = [
        ["Hospital Name: Mercy"],
        [],
        ["Evaluation & Management Services", "2018 CPT Code", "Average Charge"],
        *(
            [f"Office visit, level {i} of {j}", f"992{i}{j}", 100 + i * j]
            for i in range(1, 4)
            for j in range(1, 6)
        ),
    ]
    path = write_xlsx(tmp_path / "ab1045.xlsx", {"AB 1045 Form": rows})
    with pytest.raises(
        InputError, match="not a chargemaster line list: sheet 'AB 1045 Form' row 3"
    ):
        read_table(path, SPECS)


def test_a_print_report_is_refused(tmp_path):
    head = ["CHARGE NUMBER", "DESCRIPTION", "PRICE", "REV", "CPT"]
    rows = []
    for page in range(1, 5):
        rows += [["DEL AMO HOSPITAL", "PAGE", str(page)], head]
        rows += [[x["id"], x["desc"], x["price"], x["rev"], x["code"]] for x in items(10)]
    with pytest.raises(InputError, match=r"printed report .*\(4 page headers, 3 'PAGE n' lines\)"):
        read_table(write_xlsx(tmp_path / "print.xlsx", {"Sheet1": rows}), SPECS)


def test_a_narrative_is_refused(tmp_path):
    rows = [["", "Percentage change in gross revenue"], [], ["", "Gross revenue 2017", 1000]]
    with pytest.raises(InputError, match="no header row found.*not a chargemaster line list"):
        read_table(write_xlsx(tmp_path / "pct.xlsx", {"Sheet1": rows}), SPECS)


# --- the library API ------------------------------------------------------------------------


def test_api_reads_a_file_and_checks_a_dataframe(tmp_path):
    lines = items(12)
    path = write_csv(tmp_path / "api.csv", as_rows(lines), ["ID", "NAME", "REV", "CPT", "FEE"])
    table = read_chargemaster(path)
    assert table.fields["charge_code"] == ["ID"] and len(table.data) == 12
    frame = pd.DataFrame(as_rows(lines), columns=["Item", "Text", "RC", "Code", "Amount"])
    mapping = {
        "charge_code": "Item",
        "description": "Text",
        "revenue_code": "RC",
        "price": "Amount",
    }
    result = check(frame, mapping | {"hcpcs": "Code"}, as_of=dt.date(2026, 1, 1))
    assert result.lines.frame.index.tolist() == list(range(2, 14))  # rows as if on a sheet
    assert result.lines.frame.loc[2, "revenue_code"] == "0305"
    assert result.lines.frame.loc[2, "hcpcs"] == "85025"
    same = check(path, as_of=dt.date(2026, 1, 1))
    cols = ["charge_code", "revenue_code", "hcpcs", "price"]
    assert (same.lines.frame[cols].to_numpy() == result.lines.frame[cols].to_numpy()).all()
