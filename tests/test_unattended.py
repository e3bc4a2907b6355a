"""Safe to run at 2 a.m.: bad input, batches, what changed, what the scheduler sees."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from chargemaster.cli import app
from tests.conftest import HEADER, SAMPLE, line, write_csv, write_xlsx

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def fingerprint(folder):
    """Every file's bytes and mtime: a bad run must leave the folder exactly as it was."""
    return {
        p.name: (p.read_bytes() if p.is_file() else sorted(os.listdir(p)), p.stat().st_mtime_ns)
        for p in folder.iterdir()
    }


def the_error(result) -> str:
    errors = [x for x in result.stderr.splitlines() if x.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output
    return errors[0]


def encrypted_xlsx(path, src):
    from msoffcrypto.format.ooxml import OOXMLFile

    with open(src, "rb") as fh, open(path, "wb") as out:
        OOXMLFile(fh).encrypt("secret", out)


def zip_bomb(path):
    """A valid-looking xlsx whose sheet part expands ~1000-fold to 100 MB."""
    buf = io.BytesIO()
    Workbook().save(buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data + b" " * (100 * 1024**2)
            dst.writestr(item, data)


def entity_bomb(path):
    buf = io.BytesIO()
    Workbook().save(buf)
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i else b"&lol;")
            for i in range(1, 10)
        )
        + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<si><t>&lol9;</t></si></sst>"
    )
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/sharedStrings.xml", bomb)


BAD = {
    # name: (how to make it, extra args, message)
    "missing": (None, [], "file not found"),
    "directory": ("dir", [], "no chargemaster files found"),
    "empty.csv": (b"", [], "the file is empty"),
    "zero.xlsx": (b"", [], "the file is empty"),
    "truncated.xlsx": ("truncated", [], "damaged or truncated"),
    "renamed.xlsx": (b"%PDF-1.4 not a workbook", [], "not an Excel workbook"),
    "locked.xlsx": ("encrypted", [], "password-protected"),
    "no_cdm.xlsx": ("no_cdm", [], "no header row found"),
    "sheet.xlsx": ("sample", ["--sheet", "Prices"], "no sheet named 'Prices'"),
    "utf16nobom.csv": ("utf16", [], "unsupported encoding"),
    "shifted.csv": (
        b"Charge Code,Description,Price\n1,CBC, AUTO,62\n",
        [],
        "line 2 has 4 fields but the header (line 1) has 3",
    ),
    "dupes.csv": (
        b"Charge Code,Description,Status,STATUS\n1,CBC,A,A\n",
        [],
        "columns C and D are both named",
    ),
    "badmap.csv": ("ok", ["--code-map", "map_no_hcpcs.csv"], "map_no_hcpcs.csv: no header row"),
    "badconfig.csv": ("ok", ["--config", "unknown_key.toml"], "unknown key 'static_codng'"),
    "unreadable_config.csv": ("ok", ["--config", "binary.toml"], "cannot read config file"),
    "out_missing_dir.csv": ("ok", ["-o", "nowhere/report.xlsx"], "does not exist"),
    "out_not_writable.csv": ("ok", ["-o", "ok.csv/report.xlsx"], "is a file, not a folder"),
    "out_is_input.csv": ("ok", ["-o", "out_is_input.csv"], "overwrite an input file"),
    "bomb.xlsx": ("zip_bomb", [], "zip bomb"),
    "entities.xlsx": ("entity_bomb", [], "entity bomb"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    make, extra, message = BAD[name]
    write_csv(tmp_path / "ok.csv", [line()])
    (tmp_path / "map_no_hcpcs.csv").write_text("Charge Code,Description\n1,CBC\n")
    (tmp_path / "unknown_key.toml").write_text("[static_codng]\nmap_wins = true\n")
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00bad")
    path = tmp_path / name
    if make == "dir":
        path.mkdir()
    elif isinstance(make, bytes):
        path.write_bytes(make)
    elif make == "truncated":
        data = (SAMPLE / "chargemaster_sample.xlsx").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif make == "encrypted":
        encrypted_xlsx(path, SAMPLE / "chargemaster_sample.xlsx")
    elif make == "no_cdm":
        write_xlsx(
            path,
            {
                "Notes": [["Export notes"], ["Nothing here"]],
                "Totals": [["Department", "Total"], ["LAB", 12]],
            },
        )
    elif make == "sample":
        path.write_bytes((SAMPLE / "chargemaster_sample.xlsx").read_bytes())
    elif make == "utf16":
        path.write_bytes("Charge Code,Description,Price\n1,CBC,62\n".encode("utf-16-le"))
    elif make == "ok":
        write_csv(path, [line()])
    elif make == "zip_bomb":
        zip_bomb(path)
    elif make == "entity_bomb":
        entity_bomb(path)
    before = fingerprint(tmp_path)
    started = time.perf_counter()
    result = invoke("run", name, *extra)
    assert result.exit_code == 2, result.output
    error = the_error(result)
    assert message in error
    assert fingerprint(tmp_path) == before  # no report, no temp file, inputs untouched
    assert time.perf_counter() - started < 20  # hostile files are refused, not parsed


def test_utf16_with_bom_is_read(tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes(
        "Charge Code\tDescription\tRev Code\tPrice\n1\tCBC\t0120\t62\n".encode("utf-16")
    )
    result = invoke("run", path, "-o", tmp_path / "r.xlsx")
    assert result.exit_code == 0, result.output


def test_input_is_never_changed(tmp_path):
    cdm = tmp_path / "cdm.xlsx"
    cdm.write_bytes((SAMPLE / "chargemaster_sample.xlsx").read_bytes())
    os.utime(cdm, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    before = (cdm.read_bytes(), cdm.stat().st_mtime_ns)
    result = invoke("run", cdm, "--code-map", SAMPLE / "static_codes.csv")
    assert result.exit_code == 1
    assert (cdm.read_bytes(), cdm.stat().st_mtime_ns) == before


def test_summary_json_has_the_documented_keys(tmp_path):
    cdm = write_csv(tmp_path / "cdm.csv", [line(), line(code="2", rev="30")])
    out = tmp_path / "summary.json"
    result = invoke("run", cdm, "--summary-json", out, "--as-of", "2026-01-01")
    assert result.exit_code == 1
    doc = json.loads(out.read_text())
    assert set(doc) == {"tool", "version", "started_at", "duration_s", "exit_code", "runs"}
    assert doc["exit_code"] == 1
    run = doc["runs"][0]
    assert set(run) == {
        "input",
        "input_sha256",
        "sheet",
        "header_row",
        "lines",
        "active_lines",
        "skipped_rows",
        "skipped_by_kind",
        "columns",
        "statically_coded",
        "as_of",
        "reference",
        "cpt_checked",
        "counts",
        "by_rule",
        "changes",
        "outputs",
        "exit_code",
        "error",
        "seconds",
    }
    import hashlib

    assert run["input_sha256"] == hashlib.sha256(cdm.read_bytes()).hexdigest()
    assert run["counts"]["error"] == 1 and run["by_rule"]["REVCODE-MALFORMED"] == 1
    assert run["outputs"]["report"].endswith("cdm.report.xlsx")
    assert run["reference"][0].startswith("HCPCS Level II")


def test_summary_json_on_failure(tmp_path):
    out = tmp_path / "summary.json"
    result = invoke("run", tmp_path / "missing.csv", "--summary-json", out)
    assert result.exit_code == 2
    run = json.loads(out.read_text())["runs"][0]
    assert run["exit_code"] == 2 and "file not found" in run["error"]


def test_batch_runs_every_facility_and_rolls_up(tmp_path):
    folder = tmp_path / "facilities"
    folder.mkdir()
    write_csv(folder / "north.csv", [line()])
    write_csv(folder / "south.csv", [line(), line(code="2", rev="30", hcpcs="85027", price="48")])
    (folder / "broken.xlsx").write_bytes(b"garbage")
    (folder / "~$north.xlsx").write_bytes(b"lock file")  # Excel's lock file is not an input
    out = tmp_path / "reports"
    out.mkdir()
    result = invoke("run", folder, "-o", out, "--jobs", "2", "--summary-json", tmp_path / "s.json")
    assert result.exit_code == 2  # one input was unusable
    assert "broken.xlsx" in the_error(result)
    assert sorted(p.name for p in out.iterdir()) == [
        "chargemaster_rollup.xlsx",
        "north.report.xlsx",
        "south.report.xlsx",
    ]
    wb = load_workbook(out / "chargemaster_rollup.xlsx")
    rows = list(wb["Facilities"].iter_rows(values_only=True))
    by_input = {os.path.basename(r[0]): r for r in rows[1:]}
    assert by_input["north.csv"][1:3] == ("ok", 0)
    assert by_input["south.csv"][1:3] == ("ok", 1) and by_input["south.csv"][5] == 1
    assert by_input["broken.xlsx"][1:3] == ("failed", 2)
    rules = {
        (os.path.basename(r[0]), r[1])
        for r in wb["Findings by rule"].iter_rows(min_row=2, values_only=True)
    }
    assert ("south.csv", "REVCODE-MALFORMED") in rules
    doc = json.loads((tmp_path / "s.json").read_text())
    assert [os.path.basename(r["input"]) for r in doc["runs"]] == [
        "broken.xlsx",
        "north.csv",
        "south.csv",
    ]


def test_baseline_changes_sheet(tmp_path):
    header = HEADER
    night1 = write_csv(
        tmp_path / "cdm.csv",
        [
            line(),
            line(code="2", hcpcs="85027", price="48"),
            line(code="3", rev="30", hcpcs="80053", price="182"),
        ],
        header,
    )
    invoke("run", night1, "-o", tmp_path / "night1.xlsx")
    night2 = write_csv(
        tmp_path / "cdm.csv",
        [
            line(price="64"),
            line(code="3", hcpcs="80053", price="182"),
            line(code="4", hcpcs="80048", price="140"),
        ],
        header,
    )
    result = invoke(
        "run", night2, "-o", tmp_path / "night2.xlsx", "--baseline", tmp_path / "night1.xlsx"
    )
    assert result.exit_code == 0, result.output
    wb = load_workbook(tmp_path / "night2.xlsx")
    assert "Changes" in wb.sheetnames
    rows = list(wb["Changes"].iter_rows(values_only=True))
    changes = {(r[0], r[1], r[4], r[5], r[6]) for r in rows[1:]}
    assert ("line added", "4", None, None, "CBC W AUTO DIFF") in changes
    assert ("line removed", "2", None, "CBC W AUTO DIFF", None) in changes
    assert ("line changed", "30010001", "Price", "62.00", "64.00") in changes
    assert ("line changed", "3", "Revenue Code", None, "0305") in changes
    resolved = [r for r in rows[1:] if r[0] == "resolved finding"]
    assert [r[7] for r in resolved] == ["REVCODE-MALFORMED"]
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert "1 line added" in summary["Changes since the baseline (sheet Changes)"]


def test_config_init_writes_valid_defaults(tmp_path):
    path = tmp_path / "site.toml"
    assert invoke("config", "--init", path).exit_code == 0
    assert "[static_coding]" in path.read_text()
    assert invoke("config", "--check", path).stdout.strip().endswith("valid")
    again = invoke("config", "--init", path)
    assert again.exit_code == 2 and "already exists" in the_error(again)
    assert "[severity]" in invoke("config", "--init").stdout


def test_log_file_has_timestamps(tmp_path):
    cdm = write_csv(tmp_path / "cdm.csv", [line()])
    log = tmp_path / "run.log"
    invoke("run", cdm, "--log-file", log, "-q")
    text = log.read_text()
    assert "cdm.csv: 1 lines, exit 0" in text
    assert text[:4].isdigit()  # 2026-... timestamp first


@pytest.mark.slow
def test_killed_run_leaves_the_previous_report_intact(tmp_path):
    """Kill -9 while the report is being written: last night's report is untouched."""
    rows = [line(code=str(100000 + i), hcpcs="85025", price=str(62 + i % 7)) for i in range(60000)]
    cdm = write_csv(tmp_path / "big.csv", rows)
    report = tmp_path / "report.xlsx"
    report.write_bytes(b"last night's report")
    proc = subprocess.Popen(
        [sys.executable, "-m", "chargemaster", "run", str(cdm), "-o", str(report), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if list(tmp_path.glob(".report.xlsx.*.tmp.xlsx")):
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before its write could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert report.read_bytes() == b"last night's report"
    # the next night cleans up after the killed run and writes the report
    result = invoke("run", cdm, "-o", report, "-q")
    assert result.exit_code in (0, 1)
    assert not list(tmp_path.glob(".report.xlsx.*"))
    assert load_workbook(report, read_only=True).sheetnames[0] == "Summary"
