"""Safe to run at 2 a.m.: bad input, batches, what changed, what the scheduler sees."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
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

    def content(p):
        if p.is_symlink():
            return os.readlink(p)
        if p.is_fifo():
            return "fifo"
        return p.read_bytes() if p.is_file() else sorted(os.listdir(p))

    return {p.name: (content(p), p.lstat().st_mtime_ns) for p in folder.iterdir()}


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
        "below_medicare",
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
    assert ("line changed", "30010001", "Price", 62, 64) in changes  # numbers, in currency
    assert ("line changed", "3", "Revenue Code", None, "0305") in changes
    resolved = [r for r in rows[1:] if r[0] == "resolved finding"]
    assert [r[7] for r in resolved] == ["REVCODE-MALFORMED"]
    assert {type(r[2]) for r in rows[1:] if r[2] is not None} == {int}  # Row: numbers only
    assert {type(r[3]) for r in rows[1:] if r[3] is not None} == {int}
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


# ----- issue 12: outputs that never hurt anything ---------------------------------------------


def test_outputs_follow_the_umask_and_keep_the_mode_they_replace(tmp_path):
    cdm = write_csv(tmp_path / "cdm.csv", [line()])
    old = os.umask(0o022)
    try:
        result = invoke(
            "run", cdm, "-o", tmp_path / "r.xlsx", "--summary-json", tmp_path / "s.json",
            "--coded-output", tmp_path / "coded.csv",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        for name in ("r.xlsx", "s.json", "coded.csv"):
            assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name
        os.chmod(tmp_path / "r.xlsx", 0o664)  # last night's report, group-writable
        assert invoke("run", cdm, "-o", tmp_path / "r.xlsx").exit_code == 0
        assert (tmp_path / "r.xlsx").stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(old)


OUTPUT_CLASHES = {
    "report over the config": (["-o", "site.toml"], "site.toml"),
    "coded over a reference file": (["--coded-output", "cpt.csv"], "overwrite an input"),
    "json over the report": (["-o", "r.xlsx", "--summary-json", "r.xlsx"], "both as the"),
    "coded over the report": (["-o", "r.xlsx", "--coded-output", "r.xlsx"], "both as the"),
    "log file is the input": (["--log-file", "ok.csv"], "overwrite an input"),
    "report is a device": (["-o", "pipe.xlsx"], "not a regular file"),
    "report links to a device": (["-o", "null.xlsx"], "not a regular file"),
    "coded output .txt": (["--coded-output", "x.txt"], "must end in .xlsx or .csv"),
    "json in a missing folder": (["--summary-json", "missing/dir/s.json"], "does not exist"),
    "report as csv": (["-o", "report.csv"], "give -o a name ending in .xlsx"),
    "roll-up as csv": (["--rollup", "r.csv"], "ending in .xlsx"),
    "report name too long": (["-o", "r" * 250 + ".xlsx"], "too long"),
}


@pytest.mark.parametrize("name", list(OUTPUT_CLASHES))
def test_outputs_are_refused_before_anything_is_written(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    args, message = OUTPUT_CLASHES[name]
    write_csv(tmp_path / "ok.csv", [line()])
    (tmp_path / "site.toml").write_text("[severity]\n")
    (tmp_path / "cpt.csv").write_text("85025\n")
    # A named pipe stands for a device: a buggy run replaces it here, never /dev/null itself.
    os.mkfifo(tmp_path / "pipe.xlsx")
    (tmp_path / "null.xlsx").symlink_to(tmp_path / "pipe.xlsx")
    if "--rollup" in args:
        write_csv(tmp_path / "two.csv", [line()])
        args = ["two.csv", *args]
    before = fingerprint(tmp_path)
    result = invoke("run", "ok.csv", "--config", "site.toml", "--cpt-list", "cpt.csv", *args)
    assert result.exit_code == 2, result.output
    assert message in the_error(result)
    assert fingerprint(tmp_path) == before  # nothing written, nothing replaced
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe.xlsx").st_mode)


def test_config_error_is_printed_once_for_several_inputs(tmp_path):
    a = write_csv(tmp_path / "a.csv", [line()])
    b = write_csv(tmp_path / "b.csv", [line()])
    (tmp_path / "bad.toml").write_text("[static_codin]\nmap_wins = true\n")
    result = invoke("run", a, b, "--config", tmp_path / "bad.toml", "--jobs", 1)
    assert result.exit_code == 2
    assert "unknown key 'static_codin'" in the_error(result)


def test_missing_baseline_on_the_first_night_is_a_warning(tmp_path):
    cdm = write_csv(tmp_path / "cdm.csv", [line()])
    result = invoke(
        "run", cdm, "-o", tmp_path / "r.xlsx", "--baseline", tmp_path / "nothing_yet.xlsx"
    )
    assert result.exit_code == 0, result.output
    assert "no baseline report yet" in result.stderr
    wb = load_workbook(tmp_path / "r.xlsx")
    assert "Changes" not in wb.sheetnames
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert "not found" in summary["Baseline"]


def _changes(path):
    rows = list(load_workbook(path)["Changes"].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_baseline_pairs_duplicate_charge_codes_by_content(tmp_path):
    first = line(code="5", desc="CT HEAD WO CONTRAST", rev="0350", hcpcs="70450", price="900")
    second = line(code="5", desc="CT HEAD W CONTRAST", rev="0350", hcpcs="70460", price="1100")
    write_csv(tmp_path / "cdm.csv", [line(), first, second])
    invoke("run", tmp_path / "cdm.csv", "-o", tmp_path / "n1.xlsx")
    write_csv(tmp_path / "cdm.csv", [line(), second])  # the first of the two is deleted
    result = invoke(
        "run", tmp_path / "cdm.csv", "-o", tmp_path / "n2.xlsx", "--baseline", tmp_path / "n1.xlsx"
    )
    assert result.exit_code in (0, 1), result.output
    lines = [c for c in _changes(tmp_path / "n2.xlsx") if c["Change"].startswith("line")]
    assert [(c["Change"], c["Charge Code"], c["Before"]) for c in lines] == [
        ("line removed", "5", "CT HEAD WO CONTRAST")
    ]


def test_analysts_notes_are_carried_to_the_same_finding(tmp_path):
    rows = [line(), line(code="2", rev="30", price="48"), line(code="3", hcpcs="", price="20")]
    write_csv(tmp_path / "cdm.csv", rows)
    invoke("run", tmp_path / "cdm.csv", "-o", tmp_path / "n1.xlsx")
    wb = load_workbook(tmp_path / "n1.xlsx")
    issues = wb["Issues"]
    header = [c.value for c in issues[1]]
    noted = {}
    for r in issues.iter_rows(min_row=2):
        rule = r[header.index("Rule")].value
        if rule in ("REVCODE-MALFORMED", "HCPCS-MISSING") and rule not in noted:
            r[header.index("Status")].value = "in progress"
            r[header.index("Owner")].value = "maria"
            r[header.index("Comment")].value = f"asked coding about {rule}"
            noted[rule] = r[header.index("Charge Code")].value
    ws = wb["Missing HCPCS"]
    h = [c.value for c in ws[1]]
    ws.cell(2, h.index("Comment") + 1).value = "waiting for the lab"
    wb.save(tmp_path / "n1.xlsx")
    assert set(noted) == {"REVCODE-MALFORMED", "HCPCS-MISSING"}
    # Tonight: a new line first (rows shift), the revenue code fixed, the HCPCS still missing.
    rows2 = [line(code="9", price="7"), line(), line(code="2", price="48"), rows[2]]
    write_csv(tmp_path / "cdm.csv", rows2)
    invoke(
        "run", tmp_path / "cdm.csv", "-o", tmp_path / "n2.xlsx", "--baseline", tmp_path / "n1.xlsx"
    )
    wb2 = load_workbook(tmp_path / "n2.xlsx")
    rows_now = list(wb2["Issues"].iter_rows(values_only=True))
    by_rule = {r[1]: dict(zip(rows_now[0], r, strict=True)) for r in rows_now[1:]}
    missing = by_rule["HCPCS-MISSING"]
    assert (missing["Row"], missing["Status"], missing["Owner"]) == (5, "in progress", "maria")
    assert missing["Comment"] == "asked coding about HCPCS-MISSING"
    assert all(r[9] is None for r in rows_now[1:] if r[1] != "HCPCS-MISSING")
    ws2 = wb2["Missing HCPCS"]
    assert [c.value for c in ws2[2]][-1] == "waiting for the lab"
    resolved = [c for c in _changes(tmp_path / "n2.xlsx") if c["Change"] == "resolved finding"]
    assert [(c["Rule"], c["Status"], c["Comment"]) for c in resolved] == [
        ("REVCODE-MALFORMED", "in progress", "asked coding about REVCODE-MALFORMED")
    ]


def test_baseline_from_another_input_or_date_is_flagged(tmp_path):
    write_csv(tmp_path / "north.csv", [line()])
    other = ["Item", "Item Description", "Rev Code", "CPT", "Charge"]
    write_csv(tmp_path / "south.csv", [["7", "XR CHEST", "0320", "71046", "120"]], other)
    invoke("run", tmp_path / "south.csv", "-o", tmp_path / "south.xlsx")
    invoke("run", tmp_path / "north.csv", "-o", tmp_path / "n1.xlsx", "--as-of", "2026-03-15")
    result = invoke(
        "run", tmp_path / "north.csv", "-o", tmp_path / "r.xlsx", "--baseline",
        tmp_path / "south.xlsx", "--summary-json", tmp_path / "s.json",
    )  # fmt: skip
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["runs"][0]["by_rule"].get("BASELINE-MISMATCH") == 1, result.output
    issues = list(load_workbook(tmp_path / "r.xlsx")["Issues"].iter_rows(values_only=True))
    message = next(r[8] for r in issues if r[1] == "BASELINE-MISMATCH")
    assert "another input (south.csv" in message
    # Same file, checked across a quarter start: the dates are named.
    invoke(
        "run", tmp_path / "north.csv", "-o", tmp_path / "r2.xlsx", "--as-of", "2026-04-02",
        "--baseline", tmp_path / "n1.xlsx", "--summary-json", tmp_path / "s2.json",
    )  # fmt: skip
    doc = json.loads((tmp_path / "s2.json").read_text())
    assert doc["runs"][0]["by_rule"].get("BASELINE-MISMATCH") == 1
    # Same file, same quarter: nothing to say.
    invoke(
        "run", tmp_path / "north.csv", "-o", tmp_path / "r3.xlsx", "--as-of", "2026-03-20",
        "--baseline", tmp_path / "n1.xlsx", "--summary-json", tmp_path / "s3.json",
    )  # fmt: skip
    doc = json.loads((tmp_path / "s3.json").read_text())
    assert "BASELINE-MISMATCH" not in doc["runs"][0]["by_rule"]


# ----- input that must not be misread, or hurt the process -----------------------------------


def test_csv_unclosed_quote_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes(
        b"Charge Code,Description,Rev Code,HCPCS,Price\n"
        b'1,CBC,0305,85025,62\n2,"BMP,0305,80048,40\n3,CMP,0305,80053,50\n4,TSH,0305,84443,70\n'
    )
    result = invoke("run", path, "-o", tmp_path / "r.xlsx")
    assert result.exit_code == 2
    assert "line 3: a quote opened in this record is not closed" in the_error(result)
    assert not (tmp_path / "r.xlsx").exists()


def test_csv_with_one_cp1252_line_keeps_its_utf8_lines(tmp_path):
    path = tmp_path / "mixed.csv"
    head = "Charge Code,Description,Rev Code,HCPCS,Price\n"
    path.write_bytes(
        (head + "1,CAFÉ AU LAIT SPOTS EXAM,0305,85025,62\n").encode("utf-8")
        + "2,NAÏVE T-CELL PANEL,0305,86359,40\n".encode("cp1252")
        + "3,RÖNTGEN CHEST,0320,71046,50\n".encode()
    )
    from chargemaster.pipeline import RunOptions, run

    result = run(RunOptions(path))
    assert result.lines.frame["description"].tolist() == [
        "CAFÉ AU LAIT SPOTS EXAM",
        "NAÏVE T-CELL PANEL",
        "RÖNTGEN CHEST",
    ]


def test_decimal_comma_in_a_semicolon_file_is_read_as_a_decimal(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_bytes(
        b"Charge Code;Description;Rev Code;HCPCS;Price\n"
        b"1;CBC;0305;85025;10,50\n2;BMP;0305;80048;1.234,75\n"
    )
    from chargemaster.pipeline import RunOptions, run

    result = run(RunOptions(path))
    prices = result.lines.prices["Price"].tolist()
    assert prices == [10.5, 1234.75]


def far_cell_xlsx(path):
    """A 5 KB workbook whose only stray cell sits at XFD1048576."""
    buf = io.BytesIO()
    wb = Workbook()
    ws = wb.active
    ws.append(["Charge Code", "Description", "Price"])
    ws.append(["1", "CBC", 62])
    ws["XFD1048576"] = "x"
    wb.save(buf)
    path.write_bytes(buf.getvalue())
    return path


def test_a_stray_far_cell_is_refused_not_allocated(tmp_path):
    path = far_cell_xlsx(tmp_path / "far.xlsx")
    assert path.stat().st_size < 10_000
    started = time.perf_counter()
    result = invoke("run", path, "--summary-json", tmp_path / "s.json")
    assert result.exit_code == 2
    assert "XFD" in the_error(result) and "1,048,576" in the_error(result)
    assert json.loads((tmp_path / "s.json").read_text())["runs"][0]["exit_code"] == 2
    assert time.perf_counter() - started < 20


@pytest.mark.slow
def test_a_worker_that_dies_fails_its_input_and_the_others_finish(tmp_path, monkeypatch):
    from chargemaster import batch

    real_run = batch.run

    def run_or_die(options):
        if options.chargemaster.name == "dies.csv":
            os.kill(os.getpid(), signal.SIGKILL)
        return real_run(options)

    monkeypatch.setattr(batch, "run", run_or_die)  # the forked workers inherit it
    for name in ("a.csv", "dies.csv", "b.csv"):
        write_csv(tmp_path / name, [line()])
    result = invoke("run", tmp_path, "--jobs", 2, "--summary-json", tmp_path / "s.json")
    assert result.exit_code == 2
    assert "dies.csv: the run of this file was killed" in the_error(result)
    doc = json.loads((tmp_path / "s.json").read_text())
    assert [(os.path.basename(r["input"]), r["exit_code"]) for r in doc["runs"]] == [
        ("a.csv", 0),
        ("b.csv", 0),
        ("dies.csv", 2),
    ]
    assert (tmp_path / "a.report.xlsx").exists() and (tmp_path / "b.report.xlsx").exists()
    assert (tmp_path / "chargemaster_rollup.xlsx").exists()


@pytest.mark.parametrize("suffix", [".ods", ".xlsb"])
def test_every_zip_workbook_gets_the_bomb_checks(tmp_path, suffix):
    path = tmp_path / f"bomb{suffix}"
    zip_bomb(path)
    started = time.perf_counter()
    result = invoke("run", path)
    assert result.exit_code == 2 and "zip bomb" in the_error(result)
    assert time.perf_counter() - started < 20


@pytest.mark.slow
def test_a_header_with_200000_empty_columns_is_read_quickly(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(
        b"Charge Code,Description,Rev Code,HCPCS,Price" + b"," * 200_000 + b"\n"
        b"1,CBC,0305,85025,62\n"
    )
    started = time.perf_counter()
    result = invoke("run", path, "-o", tmp_path / "r.xlsx")
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - started < 30
    header = [c.value for c in load_workbook(tmp_path / "r.xlsx")["Chargemaster"][1]]
    assert header[:6] == ["Row", "Charge Code", "Description", "Rev Code", "HCPCS", "Price"]


@pytest.mark.slow
def test_a_code_map_key_with_30000_codes_runs_in_bounded_memory(tmp_path):
    cdm = write_csv(tmp_path / "cdm.csv", [line()])
    rows = [["30010001", f"{80000 + i % 20000:05d}", ""] for i in range(30000)]
    code_map = write_csv(tmp_path / "map.csv", rows, ["Charge Code", "HCPCS", "Mod"])
    from chargemaster.pipeline import RunOptions, run

    started = time.perf_counter()
    result = run(RunOptions(cdm, code_map=code_map))
    dup = result.findings[result.findings["rule"].eq("MAP-KEY-DUPLICATE")]
    assert len(dup) == 30000
    assert dup["message"].str.len().max() < 400 and "and 19,990 more" in dup["message"].iloc[0]
    assert time.perf_counter() - started < 60


# ----- ordinary environment problems: one line, exit 2 ---------------------------------------


def test_an_unreadable_input_is_one_line(tmp_path, monkeypatch):
    from pathlib import Path

    cdm = write_csv(tmp_path / "cdm.csv", [line()])
    real = Path.read_bytes

    def denied(self):
        if self.name == "cdm.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    result = invoke("run", cdm, "-o", tmp_path / "r.xlsx")
    assert result.exit_code == 2
    assert "cdm.csv: cannot read the file (Permission denied)" in the_error(result)


def test_a_full_disk_is_one_line(tmp_path, monkeypatch):
    import errno

    import xlsxwriter.workbook

    def full(self, *a, **k):
        raise xlsxwriter.exceptions.FileCreateError(
            OSError(errno.ENOSPC, "No space left on device")
        )

    monkeypatch.setattr(xlsxwriter.workbook.Workbook, "_store_workbook", full)
    cdm = write_csv(tmp_path / "cdm.csv", [line()])
    result = invoke("run", cdm, "-o", tmp_path / "r.xlsx")
    assert result.exit_code == 2
    assert "r.xlsx: cannot write (No space left on device)" in the_error(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdm.csv"]


def test_an_input_deleted_mid_run_is_one_line(tmp_path, monkeypatch):
    from chargemaster import batch

    cdm = write_csv(tmp_path / "cdm.csv", [line()])
    real_write = batch.write_report

    def delete_then_write(result, path, protect=()):
        os.unlink(cdm)
        raise FileNotFoundError(2, "No such file or directory", str(cdm))

    monkeypatch.setattr(batch, "write_report", delete_then_write)
    result = invoke("run", cdm, "-o", tmp_path / "r.xlsx")
    assert result.exit_code == 2
    error = the_error(result)
    assert "cdm.csv: No such file or directory" in error and "unexpected" not in error
    assert real_write is not None


def test_baseline_from_another_reference_set_is_flagged(tmp_path):
    cdm = write_csv(tmp_path / "cdm.csv", [line(), line(code="2", hcpcs="99213", price="90")])
    (tmp_path / "cpt.csv").write_text("CPT\n99213\n85025\n")
    invoke("run", cdm, "-o", tmp_path / "n1.xlsx", "--as-of", "2026-03-15")
    invoke(
        "run", cdm, "-o", tmp_path / "n2.xlsx", "--as-of", "2026-03-16", "--cpt-list",
        tmp_path / "cpt.csv", "--baseline", tmp_path / "n1.xlsx",
    )  # fmt: skip
    issues = list(load_workbook(tmp_path / "n2.xlsx")["Issues"].iter_rows(values_only=True))
    messages = [r[8] for r in issues if r[1] == "BASELINE-MISMATCH"]
    assert len(messages) == 1 and "other reference code sets" in messages[0]
    assert "cpt.csv" in messages[0]
