"""Property: whatever lands in the cells, the run never crashes and no line is lost."""

from __future__ import annotations

import csv
import datetime as dt

import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from chargemaster.errors import InputError
from chargemaster.pipeline import RunOptions, run
from chargemaster.report import write_report

HEADER = [
    "Charge Code",
    "Description",
    "Department",
    "Rev Code",
    "HCPCS",
    "Modifier",
    "Mod2",
    "Price",
    "Status",
    "Coding Method",
    "Effective Date",
    "Delete Date",
]

text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
cells = st.one_of(
    st.none(),
    text,
    st.sampled_from(
        [
            "=1+1",
            '=HYPERLINK("http://x")',
            "+12",
            "-5",
            "@SUM(A1)",
            "0300",
            "80053.0",
            "0G0379    ",
            "71046-26",
            "$1,508.15 ",
            "N/A",
            "BLANK",
            "0",
            "99999.99",
            "TC 26",
            "-rt",
            "I",
            "SOFT",
            "\x01\x02\x1f",
            "\u00a0",
        ]
    ),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)),
    st.booleans(),
    st.just("LONG DESCRIPTION " * 2500),  # past Excel's 32,767 characters per cell
)
rows = st.lists(st.lists(cells, min_size=len(HEADER), max_size=len(HEADER)), min_size=1, max_size=8)


def write_xlsx(path, data):
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("CDM")
    ws.write_row(0, 0, HEADER)
    for r, row in enumerate(data, start=1):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, float) and v != v:
                ws.write_string(r, c, "nan")
            elif isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()))
            else:
                ws.write(r, c, v)  # strings starting with '=' become real formula cells
    book.close()


def write_text(path, data):
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows([["" if v is None else str(v) for v in row] for row in data])


@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=rows, as_xlsx=st.booleans())
def test_random_cells_never_crash_and_no_line_is_lost(tmp_path, data, as_xlsx):
    path = tmp_path / ("cdm.xlsx" if as_xlsx else "cdm.csv")
    (write_xlsx if as_xlsx else write_text)(path, data)
    try:
        result = run(RunOptions(path, as_of=dt.date(2026, 1, 1)))
    except InputError as exc:  # only a file with no line at all may be refused
        assert "has no chargemaster lines" in str(exc)
        return
    out = write_report(result, tmp_path / "report.xlsx")
    wb = load_workbook(out, read_only=True)
    written = [r[0] for r in wb["Chargemaster"].iter_rows(min_row=2, values_only=True)]
    wb.close()
    assert written == list(result.lines.frame.index)
    # every data row is either a checked line or a counted non-item row
    last_filled = max((i for i, row in enumerate(data) if any(_filled(v) for v in row)), default=-1)
    assert len(written) + result.stats["skipped_rows"] == last_filled + 1
    assert set(result.findings["severity"]) <= {"error", "warning", "info"}


def _filled(v) -> bool:
    if v is None:
        return False
    if isinstance(v, str):
        return bool(v.strip()) and not (v.startswith("=") and len(v) > 1)
    return True
