"""The seven real chargemasters of ../shared/realdata/cdm (skipped without ../shared).

Header rows and item counts are the ones MANIFEST.md gives.
"""

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from chargemaster.cli import app
from tests.conftest import REALDATA, needs_shared

pytestmark = [needs_shared, pytest.mark.slow]

CASES = [
    # file, sheet, header row, item lines, non-item rows
    ("ca_barton_memorial_2018_cdm.xlsx", "Sheet1", 1, 2493, 0),
    ("ca_los_robles_2018_cdm.xlsx", "Sheet1", 7, 37703, 1),
    # its 131 cost-center rows have no revenue code, HCPCS, price or charge code: section rows
    ("pa_hahnemann_2018_cdm.xlsx", "All CDM Items", 9, 7498, 131),
    ("ca_healthsouth_modesto_2018_cdm.xls", "HP2010B", 5, 7083, 0),
    ("ca_uc_davis_2019_cdm.csv", "", 1, 13528, 0),
    ("tx_md_anderson_2018_hospital_charges.csv", "", 4, 2375, 1),
]


@pytest.mark.parametrize(
    "name, sheet, header_row, items, skipped", CASES, ids=[c[0] for c in CASES]
)
def test_real_chargemaster_end_to_end(tmp_path, name, sheet, header_row, items, skipped):
    out = tmp_path / "report.xlsx"
    result = CliRunner().invoke(
        app, ["run", str(REALDATA / "cdm" / name), "-o", str(out), "--as-of", "2019-01-01"]
    )
    assert result.exit_code in (0, 1), result.output
    wb = load_workbook(out, read_only=True)
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Sheet"] == (sheet or "(text file)")
    assert summary["Header row"] == header_row
    assert summary["Lines read"] == items
    assert summary["Non-item rows skipped"] == skipped
    rows = sum(1 for _ in wb["Chargemaster"].iter_rows(min_row=2, values_only=True))
    assert rows == items


def test_print_report_gets_a_clear_error(tmp_path):
    # Outputs are checked before the input is read (issue 12): the output folder must exist.
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(REALDATA / "cdm" / "ca_del_amo_2018_cdm_print_report.xls"),
            "-o",
            str(tmp_path / "never.xlsx"),
        ],
    )
    assert result.exit_code == 2
    assert not (tmp_path / "never.xlsx").exists()
    assert "printed report pasted into a spreadsheet (54 page headers" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_the_corpus_reads_37_of_37(capsys):
    """benchmarks/corpus.py over the 7 + 30 real files: every verdict right."""
    from benchmarks.corpus import run as corpus_run

    assert corpus_run(REALDATA.parent, markdown=False) == 0
    assert "37/37 right" in capsys.readouterr().out


def test_los_robles_codes_are_repaired_not_guessed():
    from chargemaster.pipeline import RunOptions, run

    result = run(RunOptions(REALDATA / "cdm" / "ca_los_robles_2018_cdm.xlsx"))
    frame = result.lines.frame
    # '0G0379    ' -> G0379; the 0 placeholder of Chrg HCPCS Proc is no code
    row = frame.index[frame["charge_code"].eq("24433")][0]
    assert frame.loc[row, "coded_hcpcs"] == "G0379"
    assert frame.loc[row, "revenue_code"] == "0762"
    assert not frame["coded_hcpcs"].eq("0").any()
    assert frame["revenue_code"].str.fullmatch(r"\d{4}").all()


NAMED_DELETED = {
    "77058",
    "77059",
    "74241",
    "74245",
    "74247",
    "99201",
    "99218",
    "11100",
    "11101",
    "76001",
}


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_deleted_codes_are_flagged_wherever_they_appear(name):
    """MANIFEST.md's deleted codes: HCPCS-DELETED or HCPCS-UNKNOWN on every active line."""
    import datetime as dt

    from chargemaster.pipeline import RunOptions, run

    result = run(
        RunOptions(
            REALDATA / "cdm" / name,
            as_of=dt.date(2026, 4, 1),
            addendum_b=REALDATA / "hcpcs" / "OPPS_AddendumB_2026_April_softek.csv",
        )
    )
    frame, found = result.lines.frame, result.findings
    lines = set(frame.index[frame["coded_hcpcs"].isin(NAMED_DELETED) & frame["active"]])
    flagged = set(found.loc[found["rule"].isin(["HCPCS-DELETED", "HCPCS-UNKNOWN"]), "row"])
    assert lines and lines <= flagged
