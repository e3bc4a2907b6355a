"""The report workbook, opened the way finance opens it, and the coded chargemaster."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess

import pytest
from openpyxl import load_workbook

from chargemaster import report as report_module
from chargemaster.catalog import FINDING_HEADERS
from chargemaster.coded import write_coded
from chargemaster.pipeline import RunOptions, run
from chargemaster.reader import cell_text, read_grids
from chargemaster.report import write_report
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
    assert [c.value for c in ws[1]] == FINDING_HEADERS
    assert ws.max_row == n + 1
    (table,) = ws.tables.values()
    assert table.ref == f"A1:I{n + 1}"
    assert ws.freeze_panes == "A2"
    cm = wb["Chargemaster"]
    for row in ws.iter_rows(min_row=2):
        severity, rule, cell = row[0], row[1].value, row[3]
        assert severity.fill.fgColor.rgb.endswith(
            {"error": "F8CBAD", "warning": "FFE699", "info": "DDEBF7"}[severity.value]
        )
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
    ]
    assert len(suggestions) - 1 == len(result.suggestions) > 0
    assert all(isinstance(r[0], int) and 1 <= r[3] <= 3 and 0 < r[5] <= 1 for r in suggestions[1:])
    for name in WORKLISTS:
        ws = wb[name]
        assert len(ws.tables) == 1 and ws.freeze_panes == "A2"
        assert not ws.merged_cells.ranges


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
    monkeypatch.setattr(report_module, "EXCEL_MAX_ROWS", 21)
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
    assert issues[0] == FINDING_HEADERS and len(issues) == len(result.findings) + 1
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
