"""The report workbook, opened the way finance opens it, and the coded chargemaster."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from chargemaster import excel
from chargemaster.catalog import FINDING_HEADERS
from chargemaster.coded import write_coded
from chargemaster.pipeline import RunOptions, run
from chargemaster.reader import cell_text, read_grids
from chargemaster.report import INVALID_CODE_RULES, WORK_HEADERS, write_report
from tests.conftest import REALDATA, SAMPLE, line, needs_shared, write_csv

AS_OF = dt.date(2026, 11, 1)
WORKLISTS = [
    "Missing HCPCS",
    "Invalid codes",
    "Rev-HCPCS mismatch",
    "Prices",
    "Repairs",
    "Code map",
    "Suggestions",
    "Static coding applied",
    "Soft-coded",
]


def severity_fills(ws) -> dict[str, tuple[str, str]]:
    """The conditional formats that fill a column by its severity: value -> (range, colour)."""
    out = {}
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            if rule.type == "cellIs" and rule.operator == "equal":
                out[rule.formula[0].strip('"')] = (str(cf.sqref), rule.dxf.fill.bgColor.rgb[-6:])
    return out


FILL = {"error": "F8CBAD", "warning": "FFE699", "info": "DDEBF7"}


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    result = run(
        RunOptions(
            SAMPLE / "chargemaster_sample.xlsx", code_map=SAMPLE / "static_codes.csv", as_of=AS_OF
        )
    )
    path = write_report(result, folder / "report.xlsx")
    return result, path, load_workbook(path)


def test_sheet_order(sample_report):
    _, _, wb = sample_report
    # the sample's title block, section row and blank row are listed last
    assert wb.sheetnames == [
        "Summary",
        "Issues",
        *WORKLISTS,
        "Chargemaster",
        "Rules",
        "Skipped rows",
    ]


def test_issues_is_a_linked_excel_table(sample_report):
    result, _, wb = sample_report
    ws = wb["Issues"]
    n = len(result.findings)
    assert [c.value for c in ws[1]] == [*FINDING_HEADERS, *WORK_HEADERS]
    assert ws.max_row == n + 1
    (table,) = ws.tables.values()
    assert table.ref == f"A1:L{n + 1}"
    assert ws.freeze_panes == "A2"
    # Severity is filled by its value through conditional formats over the whole column.
    assert severity_fills(ws) == {k: (f"A2:A{n + 1}", v) for k, v in FILL.items()}
    assert {c.value for c in ws["A"][1:]} <= set(FILL)
    cm = wb["Chargemaster"]
    for row in ws.iter_rows(min_row=2):
        rule, cell = row[1].value, row[3]
        if cell.value is None or "!" in cell.value:  # file-level, or a cell of the code map
            assert cell.hyperlink is None
            continue
        sheet, ref = cell.hyperlink.location.split("!")
        assert sheet == "'Chargemaster'"
        target = cm[ref]
        if target.row == 1:  # a column finding points at the column's header
            assert target.value == row[4].value
            continue
        assert cm.cell(target.row, 1).value == row[2].value  # the same source row
        assert cm.cell(1, target.column).value == row[4].value  # the same column
        if rule in ("REVCODE-MALFORMED", "HCPCS-MALFORMED", "PRICE-NEGATIVE"):
            assert str(target.value) in str(row[6].value)  # the offending value is there


def test_chargemaster_highlights_and_severity(sample_report):
    result, _, wb = sample_report
    cm = wb["Chargemaster"]
    header = [c.value for c in cm[1]]
    rows = {r[0].value: r for r in cm.iter_rows(min_row=2)}
    f = result.findings.set_index("rule")
    row = int(f.loc["REVCODE-MALFORMED", "row"].iloc[0])
    cells = dict(zip(header, rows[row], strict=True))
    assert cells["Rev Code"].fill.fgColor.rgb.endswith("F8CBAD")
    assert cells["Severity"].value == "error"
    letter = get_column_letter(header.index("Severity") + 1)
    assert severity_fills(cm)["error"] == (f"{letter}2:{letter}{cm.max_row}", FILL["error"])
    assert cells["Charge Description"].fill.fgColor.rgb in ("00000000", None)
    assert cells["Rev Code"].data_type == "s"
    (table,) = cm.tables.values()
    assert table.ref.startswith("A1:")


def test_worklists_hold_their_findings(sample_report):
    result, _, wb = sample_report
    counts = result.findings["rule"].value_counts()
    assert wb["Missing HCPCS"].max_row - 1 == counts["HCPCS-MISSING"]
    assert wb["Rev-HCPCS mismatch"].max_row - 1 == counts["HCPCS-REVCODE-MISMATCH"]
    prices = sum(v for k, v in counts.items() if k.startswith("PRICE-"))
    assert wb["Prices"].max_row - 1 == prices
    assert wb["Static coding applied"].max_row - 1 == result.stats["statically_coded"]
    assert wb["Soft-coded"].max_row - 1 == int(result.lines.frame["soft"].sum())
    suggestions = list(wb["Suggestions"].iter_rows(values_only=True))
    assert list(suggestions[0]) == [
        "Row",
        "Charge Code",
        "Description",
        "Rank",
        "HCPCS",
        "Score",
        "Reason",
        *WORK_HEADERS,
    ]
    assert len(suggestions) - 1 == len(result.suggestions) > 0
    assert all(isinstance(r[0], int) and 1 <= r[3] <= 3 and 0 < r[5] <= 1 for r in suggestions[1:])
    for name in WORKLISTS:
        ws = wb[name]
        assert len(ws.tables) == 1 and ws.freeze_panes == "A2"
        assert not ws.merged_cells.ranges


def test_invalid_codes_and_repairs_list_each_line_once(sample_report):
    result, _, wb = sample_report
    f, frame = result.findings, result.lines.frame
    invalid = f[f["rule"].isin(INVALID_CODE_RULES) & f["row"].isin(frame.index)]
    rows = list(wb["Invalid codes"].iter_rows(values_only=True))
    assert list(rows[0]) == [
        "Severity", "Rules", "Row", "Charge Code", "Description", "Revenue Code", "HCPCS",
        "Modifiers", "Suggested", *WORK_HEADERS,
    ]  # fmt: skip
    by_row = {r[2]: r for r in rows[1:]}
    assert len(by_row) == len(rows) - 1 == invalid["row"].nunique() > 0
    rank = {"error": 0, "warning": 1, "info": 2}
    for row, part in invalid.groupby("row"):
        got = by_row[int(row)]
        assert set(got[1].split()) == set(part["rule"])
        assert got[0] == min(part["severity"], key=rank.get)
        line = frame.loc[row]
        assert got[4] == line["description"]
        for j, coded, header in ((5, "revenue_code", "Rev Code"), (6, "coded_hcpcs", "CPT/HCPCS")):
            # the line's code as coded, else (unreadable) the value its finding names
            named = part.loc[part["column"].eq(header) & part["value"].fillna("").ne(""), "value"]
            expected = line[coded] if isinstance(line[coded], str) else None
            assert got[j] == (expected or (named.iloc[0] if len(named) else None)), got
    assert by_row[277][5] == "03000" and by_row[278][5] == "A300"  # malformed, as written
    letter = severity_fills(wb["Invalid codes"])["warning"][0]
    assert letter == f"A2:A{len(rows)}"
    repairs = list(wb["Repairs"].iter_rows(values_only=True))[1:]
    audit = result.lines.repairs
    assert [r[1] for r in repairs] == sorted(audit["row"].unique())
    texts = {r[1]: r[3] for r in repairs}
    for row, column, value, repaired, rule in zip(
        audit["row"],
        audit["column"],
        audit["value"],
        audit["suggested"],
        audit["rule"],
        strict=True,
    ):
        split = rule == "MODIFIER-REPAIRED" and value == repaired  # out of the code cell
        shown = f" + {repaired}" if split else f"{column}: {value} → {repaired}"
        assert shown in texts[row], (row, texts[row])


def test_summary_headline_chart_and_numbers_that_check(sample_report):
    result, _, wb = sample_report
    ws = wb["Summary"]
    values = {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r[0]}
    f = result.findings
    assert values["Lines checked"] == len(result.lines.frame)
    assert values["Errors"] == int(f["severity"].eq("error").sum())
    assert values["Total (rows of Issues)"] == wb["Issues"].max_row - 1
    assert 0 < values["Ancillary lines with a valid static code"] <= 1
    assert values["Input SHA-256"] == result.stats["input_sha256"]
    assert values["As-of date"] == "2026-11-01"
    rule_rows = {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r[0] in set(f["rule"])}
    assert rule_rows == {k: int(v) for k, v in f["rule"].value_counts().items()}
    assert len(ws._charts) == 1
    families = [r[0] for r in ws.iter_rows(values_only=True)]
    assert "Findings by revenue-code family" in families and "lab" in families


def test_same_input_same_report(tmp_path):
    opts = RunOptions(
        SAMPLE / "chargemaster_sample.xlsx", code_map=SAMPLE / "static_codes.csv", as_of=AS_OF
    )
    books = [load_workbook(write_report(run(opts), tmp_path / f"r{i}.xlsx")) for i in (1, 2)]
    assert books[0].sheetnames == books[1].sheetnames
    assert books[0].properties.created == books[1].properties.created
    for name in books[0].sheetnames:
        a = [r for r in books[0][name].iter_rows(values_only=True)]
        b = [r for r in books[1][name].iter_rows(values_only=True)]
        if name == "Summary":  # run time and timestamp differ, nothing else
            a = [r for r in a if r[0] not in ("Run time (s)", "Run at")]
            b = [r for r in b if r[0] not in ("Run time (s)", "Run at")]
        assert a == b, name


def test_sheets_continue_past_the_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "EXCEL_MAX_ROWS", 21)
    rows = [line(code=str(i), rev="30", price=str(60 + i)) for i in range(45)]
    result = run(RunOptions(write_csv(tmp_path / "c.csv", rows), as_of=AS_OF))
    wb = load_workbook(write_report(result, tmp_path / "r.xlsx"))
    assert {"Chargemaster", "Chargemaster (2)", "Chargemaster (3)"} <= set(wb.sheetnames)
    written = sum(wb[n].max_row - 1 for n in wb.sheetnames if n.startswith("Chargemaster"))
    assert written == 45
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert "Chargemaster (2)" in summary["Sheets continued past Excel's row limit"]
    issues = [
        r for n in wb.sheetnames if n.startswith("Issues") for r in wb[n].iter_rows(min_row=2)
    ]
    assert len(issues) == len(result.findings)
    last = [r for r in issues if r[2].value == 46][0]  # line 45 lands on the third sheet
    assert last[3].hyperlink.location == "'Chargemaster (3)'!D6"  # Rev Code, after Row


def _soffice():
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    return exe


@pytest.mark.slow
def test_libreoffice_opens_the_report(sample_report, tmp_path):
    exe = _soffice()
    result, path, _ = sample_report
    # Each sheet to its own CSV (LibreOffice 7.2+ filter option: sheet -1 = all sheets).
    proc = subprocess.run(
        [
            exe,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    issues = list(csv.reader((tmp_path / "report-Issues.csv").open(encoding="utf-8")))
    assert (
        issues[0] == [*FINDING_HEADERS, *WORK_HEADERS] and len(issues) == len(result.findings) + 1
    )
    cdm = list(csv.reader((tmp_path / "report-Chargemaster.csv").open(encoding="utf-8")))
    assert len(cdm) == len(result.lines.frame) + 1
    assert "0300" in {c for r in cdm for c in r}  # a repaired revenue code, leading zero kept


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_coded_output_changes_only_code_cells(tmp_path, suffix):
    result = run(
        RunOptions(
            SAMPLE / "chargemaster_sample.xlsx", code_map=SAMPLE / "static_codes.csv", as_of=AS_OF
        )
    )
    out = write_coded(result, tmp_path / f"coded{suffix}")
    source = next(
        g for g in read_grids(SAMPLE / "chargemaster_sample.xlsx") if g.sheet == "CDM Export"
    ).rows[3:]
    written = read_grids(out)[0].rows
    assert [cell_text(v) for v in written[0]] == [cell_text(v) for v in source[0]]
    assert len(written) == len(source)
    header = [cell_text(v) for v in source[0]]
    frame = result.lines.frame
    changed = {}
    for i, (before, after) in enumerate(zip(source[1:], written[1:], strict=True)):
        row = 5 + i
        for j, name in enumerate(header):
            a = cell_text(before[j]) if j < len(before) else ""
            b = cell_text(after[j]) if j < len(after) else ""
            if a != b:
                changed[(row, name)] = (a, b)
            elif suffix == ".xlsx" and j < len(before):  # numbers stay numbers, text text
                assert isinstance(after[j], str) == isinstance(before[j], str) or before[j] == ""
    assert {name for _, name in changed} <= {"Rev Code", "CPT/HCPCS", "Modifier"}
    attached = frame.index[frame["code_source"].eq("code map")]
    for row in attached:
        assert changed[(row, "CPT/HCPCS")] == ("", frame.loc[row, "coded_hcpcs"])
    by_value = {v[0]: v[1] for v in changed.values()}
    assert by_value["300"] == "0300" and by_value["320.0"] == "0320"
    assert by_value["c1874"] == "C1874" and by_value["0G0379    "] == "G0379"
    assert by_value["73502-RT"] == "73502" and by_value["-lt"] == "LT"
    assert "8502" not in by_value  # malformed codes are never guessed at


@needs_shared
@pytest.mark.slow
def test_coded_output_of_a_real_export(tmp_path):
    path = REALDATA / "cdm" / "ca_los_robles_2018_cdm.xlsx"
    result = run(RunOptions(path, as_of=AS_OF))
    out = write_coded(result, tmp_path / "coded.csv")
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert len(rows) == 1 + 1 + 37703  # header, the blank line under it, every line
    by_code = {r[1]: r for r in rows[2:]}
    assert by_code["24433"][3] == "0762" and by_code["24433"][5] == "G0379"
    assert by_code["24433"][2] == "DIRECT REFERRAL TO OBS  "  # untouched, padding and all


# ----- issue 12: the workbook as a place to work ---------------------------------------------


@pytest.fixture(scope="module")
def no_map_report(tmp_path_factory):
    """The sample without a code map: the code-map worklists are empty."""
    folder = tmp_path_factory.mktemp("nomap")
    result = run(RunOptions(SAMPLE / "chargemaster_sample.xlsx", as_of=AS_OF))
    path = write_report(result, folder / "report.xlsx")
    return result, path, load_workbook(path)


def test_empty_worklists_keep_their_header_row(no_map_report):
    _, _, wb = no_map_report
    empty = [n for n in wb.sheetnames if n != "Summary" and wb[n].max_row == 1]
    assert {"Code map", "Static coding applied"} <= set(empty)
    for name in wb.sheetnames[1:]:
        ws = wb[name]
        (table,) = ws.tables.values()
        headers = [c.value for c in ws[1]]
        assert all(headers), (name, headers)  # every column of the table has its header cell
        first, last = table.ref.split(":")
        assert first == "A1" and int("".join(ch for ch in last if ch.isdigit())) >= 2
        assert [c.name for c in table.tableColumns] == headers


@pytest.mark.slow
def test_libreoffice_opens_every_sheet_with_its_header(no_map_report, tmp_path):
    exe = _soffice()
    _, path, wb = no_map_report
    proc = subprocess.run(
        [
            exe,
            "--headless",
            "--norestore",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    for name in wb.sheetnames[1:]:
        rows = list(csv.reader((tmp_path / f"report-{name}.csv").open(encoding="utf-8")))
        assert rows and rows[0] == [c.value for c in wb[name][1]], name


def test_prices_are_currency_and_counts_have_separators(sample_report):
    result, _, wb = sample_report
    cm = wb["Chargemaster"]
    header = [c.value for c in cm[1]]
    price = header.index("Unit Price") + 1
    cells = [cm.cell(r, price) for r in range(2, cm.max_row + 1)]
    numbers = [c for c in cells if isinstance(c.value, (int, float))]
    assert numbers and all(
        "$" in c.number_format and "#,##0.00" in c.number_format for c in numbers
    )
    for name in ("Missing HCPCS", "Prices"):
        ws = wb[name]
        col = [c.value for c in ws[1]].index("Price") + 1
        values = [ws.cell(r, col) for r in range(2, ws.max_row + 1)]
        assert any(isinstance(c.value, (int, float)) for c in values)
        assert all("$" in c.number_format for c in values if isinstance(c.value, (int, float)))
    issues = wb["Issues"]
    negative = [r for r in issues.iter_rows(min_row=2) if r[1].value == "PRICE-NEGATIVE"]
    assert negative and negative[0][6].value == -5 and "$" in negative[0][6].number_format
    summary = wb["Summary"]
    counts = [r[1] for r in summary.iter_rows() if r[0].value in ("Lines checked", "Errors")]
    assert all(c.number_format == "#,##0" for c in counts)


def test_fix_first_sorts_by_money_and_links_to_the_worklist(sample_report):
    result, _, wb = sample_report
    ws = wb["Summary"]
    rows = list(ws.iter_rows())
    start = next(i for i, r in enumerate(rows) if r[0].value == "Fix first")
    assert [c.value for c in rows[start + 1][:6]] == [
        "Rule",
        "Severity",
        "Lines affected",
        "Dollars",
        "Findings",
        "Work in",
    ]
    table = []
    for r in rows[start + 2 :]:
        if r[0].value is None:
            break
        table.append(r)
    severities = [r[1].value for r in table]
    assert severities == sorted(severities, key=["error", "warning"].index)  # errors first
    f = result.findings
    frame = result.lines.frame
    prices = result.lines.prices["Unit Price"]
    for sev in ("error", "warning"):
        dollars = [r[3].value for r in table if r[1].value == sev]
        assert dollars == sorted(dollars, reverse=True)
    by_rule = {r[0].value: r for r in table}
    missing = by_rule["HCPCS-MISSING"]
    lines = set(f.loc[f["rule"].eq("HCPCS-MISSING"), "row"].astype(int))
    assert missing[2].value == len(lines)
    assert missing[3].value == pytest.approx(float(prices.reindex(sorted(lines)).sum()))
    assert "$" in missing[3].number_format
    assert missing[5].hyperlink.location == "'Missing HCPCS'!A1"
    assert by_rule["CHARGE-CODE-DUPLICATE"][5].hyperlink.location == "'Issues'!A1"
    assert set(by_rule) == set(f.loc[f["severity"].isin(["error", "warning"]), "rule"])
    assert len(frame) > 0


def test_worklists_link_each_line_to_the_chargemaster(sample_report):
    _, _, wb = sample_report
    cm = wb["Chargemaster"]
    for name in ("Missing HCPCS", "Invalid codes", "Prices", "Repairs", "Soft-coded"):
        ws = wb[name]
        header = [c.value for c in ws[1]]
        row_col, code_col = header.index("Row"), header.index("Charge Code")
        linked = 0
        for r in ws.iter_rows(min_row=2):
            link = r[code_col].hyperlink
            if r[code_col].value is None:
                continue
            sheet, ref = link.location.split("!")
            assert sheet == "'Chargemaster'"
            assert cm[ref].row and cm.cell(cm[ref].row, 1).value == r[row_col].value
            linked += 1
        assert linked == ws.max_row - 1 > 0, name


def test_issues_and_worklists_have_work_columns(sample_report):
    _, _, wb = sample_report
    for name in ["Issues", *WORKLISTS]:
        assert [c.value for c in wb[name][1]][-3:] == WORK_HEADERS, name


def test_rules_sheet_says_which_rules_did_not_run(tmp_path):
    header = ["Charge Code", "Description", "HCPCS", "Price"]  # no revenue code column
    path = write_csv(tmp_path / "c.csv", [["1", "CBC", "85025", "62"]], header)
    result = run(RunOptions(path, as_of=AS_OF))
    wb = load_workbook(write_report(result, tmp_path / "r.xlsx"))
    status = {r[0]: r[4] for r in wb["Rules"].iter_rows(min_row=2, values_only=True)}
    assert status["REVCODE-MISSING"].startswith("did not run: ")
    assert "revenue code" in status["REVCODE-MISSING"]
    assert status["CHARGE-CODE-DUPLICATE"] == "active"


def test_findings_without_a_family_are_grouped_by_revenue_code(tmp_path):
    rows = [
        # A negative price fires on any line (a zero on an uncoded line no longer does).
        line(code="1", rev="0990", hcpcs="", price="-5"),  # no configured family
        line(code="2", rev="0991", hcpcs="", price="-5"),
        line(code="3", rev="", hcpcs="", price="-5"),
        line(code="4", rev="0305", hcpcs="85025", price="0"),
    ]
    result = run(RunOptions(write_csv(tmp_path / "c.csv", rows), as_of=AS_OF))
    wb = load_workbook(write_report(result, tmp_path / "r.xlsx"))
    labels = [r[0] for r in wb["Summary"].iter_rows(values_only=True)]
    start = labels.index("Findings by revenue-code family")
    block = labels[start + 2 : labels.index(None, start)]
    assert "(no family)" not in block
    assert "rev 099x (no family)" in block and "(no revenue code)" in block and "lab" in block


def test_input_headers_named_like_report_columns_are_kept_apart(tmp_path):
    header = ["Charge Code", "Descr\x01iption", "Row", "Severity", "Rules", "Price"]
    path = write_csv(tmp_path / "c.csv", [["1", "CBC", "a", "b", "c", "62"]], header)
    result = run(RunOptions(path, as_of=AS_OF))
    wb = load_workbook(write_report(result, tmp_path / "r.xlsx"))  # the XML parses
    headers = [c.value for c in wb["Chargemaster"][1]]
    assert headers[:6] == ["Row", "Charge Code", "Description", "Row (input)", "Severity (input)"][
        :5
    ] + ["Rules (input)"]
    assert len({h.lower() for h in headers}) == len(headers)
    row = [c.value for c in wb["Chargemaster"][2]]
    assert row[3:6] == ["a", "b", "c"]


def test_infinite_prices_are_written_as_written(tmp_path):
    rows = [line(code="1", price="inf"), line(code="2", price="1e999"), line(code="3")]
    result = run(RunOptions(write_csv(tmp_path / "c.csv", rows), as_of=AS_OF))
    wb = load_workbook(write_report(result, tmp_path / "r.xlsx"))
    cm = wb["Chargemaster"]
    price = [c.value for c in cm[1]].index("Price")
    assert [r[price] for r in cm.iter_rows(min_row=2, values_only=True)] == ["inf", "1e999", 62]


def test_coded_output_is_written_from_the_bytes_that_were_checked(tmp_path):
    path = write_csv(tmp_path / "c.csv", [line(code="1", rev="300"), line(code="2", rev="301")])
    result = run(RunOptions(path, as_of=AS_OF))
    write_csv(path, [line(code="X9", desc="ANOTHER FILE", rev="450", hcpcs="99283")] * 2)
    out = write_coded(result, tmp_path / "coded.csv")
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert [r[0] for r in rows[1:]] == ["1", "2"]
    assert [r[2] for r in rows[1:]] == ["0300", "0301"]


def test_coded_csv_is_safe_to_open_and_keeps_the_input_dialect(tmp_path):
    path = tmp_path / "c.csv"
    body = [
        ";".join(["Charge Code", "Description", "Rev Code", "HCPCS", "Modifier", "Price"]),
        ";".join(["1", "=cmd|' /C calc'!A0", "300", "85025", "", "-5"]),
        ";".join(["2", "CAFÉ @SUM(A1)", "0305", "85027", "", "12,50"]),
        ";".join(["3", "+1 HEMOGRAM", "0305", "85025", "", "3"]),
    ]
    path.write_bytes(("\r\n".join(body) + "\r\n").encode("cp1252"))
    result = run(RunOptions(path, as_of=AS_OF))
    out = write_coded(result, tmp_path / "coded.csv")
    raw = out.read_bytes()
    assert raw.count(b"\r\n") == 4 and b"\n" not in raw.replace(b"\r\n", b"")
    text = raw.decode("cp1252")
    rows = [r.split(";") for r in text.splitlines()]
    assert rows[1][1] == "'=cmd|' /C calc'!A0" and rows[3][1] == "'+1 HEMOGRAM"
    assert rows[2][1] == "CAFÉ @SUM(A1)"  # only a leading character is dangerous
    assert rows[1][5] == "-5"  # a number is not a formula
    assert rows[1][2] == "0300"


def test_oversize_cells_and_columns_are_reported(tmp_path, monkeypatch):
    from chargemaster import batch

    long = "X" * (excel.MAX_CELL_CHARS + 10)
    path = write_csv(tmp_path / "c.csv", [line(desc=long), line(code="2")])
    result = run(RunOptions(path, as_of=AS_OF))
    found = batch.oversize_findings(result)
    assert [(f["rule"], f["row"], f["column"]) for f in found] == [
        ("CELL-OVERSIZE", 2, "Description")
    ]
    monkeypatch.setattr(batch, "EXCEL_MAX_COLS", 10)  # 7 columns + Row + 6 coded > 10
    found = batch.oversize_findings(result)
    assert found[-1]["value"] == "4 columns" and "Price" in found[-1]["message"]


def test_debug_times_every_sheet_and_the_terminal_time_is_the_whole_run(tmp_path):
    import os
    import re
    import sys
    from pathlib import Path

    path = write_csv(tmp_path / "c.csv", [line(code="1", rev="300"), line(code="1", price="0")])
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-m", "chargemaster", "run", str(path), "-o", str(tmp_path / "r.xlsx")]
        + ["--as-of", "2026-11-01", "--debug"],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    timed = dict(re.findall(r"DEBUG (stage .+|write .+): ([\d.]+) s$", proc.stderr, re.M))
    written = {k.removeprefix("write ") for k in timed if k.startswith("write ")}
    wb = load_workbook(tmp_path / "r.xlsx")
    assert set(wb.sheetnames) <= written  # every sheet of the workbook, Summary included
    assert "(XML assembled and zipped)" in written and "stage read" in timed
    whole = float(re.search(r"run: ([\d.]+) s from process start", proc.stderr).group(1))
    printed = float(re.search(r"checked in ([\d.]+)s", proc.stdout).group(1))
    # The printed time covers every stage and every sheet, and the start-up before them.
    assert abs(printed - whole) <= 0.051  # the same number, logged to 0.01 and printed to 0.1
    assert whole >= sum(map(float, timed.values())) - 0.01


def test_several_inputs_print_the_time_of_the_whole_run(tmp_path):
    import re

    from typer.testing import CliRunner

    from chargemaster.cli import app

    for name in ("north", "south"):
        write_csv(tmp_path / f"{name}.csv", [line(code="1", rev="300")])
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(
        app, ["run", str(tmp_path / "north.csv"), str(tmp_path / "south.csv"), "-o", str(out)]
    )
    each = [float(s) for s in re.findall(r"checked in ([\d.]+)s", result.stdout)]
    whole = re.search(r"^2 inputs in ([\d.]+)s\.$", result.stdout, re.M)
    assert len(each) == 2 and whole, result.stdout
    assert float(whole.group(1)) >= max(each)


def test_repair_lines_by_column_match_the_repair_by_repair_reading():
    import pandas as pd

    from chargemaster.catalog import RULES
    from chargemaster.report import _repair_lines_one_by_one, repair_lines

    rep = pd.DataFrame(
        {
            "rule": ["REVCODE-REPAIRED", "HCPCS-REPAIRED", "MODIFIER-REPAIRED", "FORMAT-REPAIRED"]
            + ["REVCODE-REPAIRED", "MODIFIER-REPAIRED"],
            "row": [7, 5, 5, 9, 9, 12],
            "column": ["Rev", "CPT", "CPT", "CPT", "Rev", "CPT"],
            "charge_code": ["A7", "A5", "A5", "A9", "A9", "A12"],
            "value": ["300", "73502-RT", "RT", "71046.0", "320", "26"],
            "suggested": ["0300", "73502", "RT", "71046", "0320", "26"],
        }
    )
    lines = repair_lines(rep)
    assert lines.astype(str).equals(_repair_lines_one_by_one(rep).astype(str))
    assert lines["row"].tolist() == [5, 7, 9, 12]
    assert lines["repairs"].tolist() == [
        "CPT: 73502-RT → 73502 + RT",
        "Rev: 300 → 0300",
        "CPT: 71046.0 → 71046; Rev: 320 → 0320",
        "CPT: modifier 26 split out",
    ]
    in_catalog_order = sorted(["REVCODE-REPAIRED", "FORMAT-REPAIRED"], key=list(RULES).index)
    assert lines["rules"].tolist() == [
        "HCPCS-REPAIRED MODIFIER-REPAIRED",
        "REVCODE-REPAIRED",
        " ".join(in_catalog_order),
        "MODIFIER-REPAIRED",
    ]
    assert lines["charge_code"].tolist() == ["A5", "A7", "A9", "A12"]
