"""A table written by a forked child is the table written here, byte for byte; a child that
fails is replaced by the sequential write; no temporary file outlives the workbook."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile

import pytest
import xlsxwriter.workbook
import xlsxwriter.worksheet
from xlsxwriter.exceptions import FileCreateError

from chargemaster import excel
from chargemaster.excel import Book
from chargemaster.pipeline import RunOptions, run
from chargemaster.report import write_report
from tests.conftest import REALDATA, line, needs_shared, write_csv

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and hasattr(os, "fork")), reason="fork: Linux only"
)
AS_OF = dt.date(2026, 11, 1)
AWKWARD = [
    "A & B <c> \"q\" 'x'",
    " leading",
    "trailing ",
    "new\nline\n",
    "x_x0041_y",  # written by xlsxwriter itself (escaped)
    "=1+1",
    "00123",
    "",
    "é中😀",
    None,
    0,
    -5,
    1234567.891,
    2**53 + 1,
    True,
]


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _table(path, parallel: bool, monkeypatch, rows: int = 600, unindexed: bool = False):
    """A workbook with a sheet before and after the table; the table (awkward values, fills on
    a currency column, links) written in a child when ``parallel``. Returns (book, child)."""
    monkeypatch.setattr(excel, "PARALLEL_MIN_ROWS", 0 if parallel else 10**9)
    book = Book(path, "t")
    text = [AWKWARD[i % len(AWKWARD)] for i in range(rows)]
    prices = [float(i) * 1.25 if i % 7 else f"n/a {i}" for i in range(rows)]
    codes = [f"{i:05d}" if i % 5 else i for i in range(rows)]
    codes[4] = dt.datetime(2026, 11, 1, 8, 30)  # not a link: written as a date
    links = {0: [f"internal:'Before'!A{i + 2}" if i % 3 == 0 else None for i in range(rows)]}
    styles = {2: {i: book.fills["error" if i % 2 else "warning"] for i in range(0, rows, 11)}}
    args = dict(formats={2: "currency"}, styles=styles, links=links, severity=1)
    headers = ["Code", "Text", "Price"]
    columns = [codes, text, prices]
    book.index_formats(args["formats"], {} if unindexed else styles, links)
    child = book.table_in_child("Lines", headers, columns, **args)
    assert (child is not None) == parallel
    book.table("Before", ["N"], [list(range(rows))])
    if child is not None:
        used = book.join_child(child)
    else:
        used = book.table("Lines", headers, columns, **args)
    book.table("After", ["N"], [list(range(5))])
    book.close()
    assert used == ["Lines"]
    return book


@pytest.fixture
def waited(monkeypatch):
    """What each joined child gave back (its state, or None when it failed)."""
    seen: list = []
    plain = excel._Child.wait

    def wait(self):
        state = plain(self)
        seen.append(state)
        return state

    monkeypatch.setattr(excel._Child, "wait", wait)
    return seen


def test_child_table_is_the_same_file(tmp_path, monkeypatch, waited):
    _table(tmp_path / "seq.xlsx", False, monkeypatch)
    _table(tmp_path / "par.xlsx", True, monkeypatch)
    assert len(waited) == 1 and waited[0] is not None  # the child's rows were used
    assert waited[0]["hlink_count"] + len(waited[0]["hyperlinks"]) > 0
    seq, par = _parts(tmp_path / "seq.xlsx"), _parts(tmp_path / "par.xlsx")
    assert seq.keys() == par.keys()
    for name in seq:
        assert seq[name] == par[name], name
    sheet = par["xl/worksheets/sheet2.xml"].decode()
    assert sheet.count('<row r="1">') == 1  # the header row written once
    assert '<row r="601">' in sheet and '<hyperlink ref="A2"' in sheet


def test_a_format_first_used_in_the_child_makes_the_parent_write(tmp_path, monkeypatch, waited):
    # The fills on the currency column not indexed before the fork: the child would number
    # them where the parent never sees it, so it refuses (exit 3) and the parent writes.
    _table(tmp_path / "seq.xlsx", False, monkeypatch, unindexed=True)
    _table(tmp_path / "par.xlsx", True, monkeypatch, unindexed=True)
    assert waited == [None]
    assert _parts(tmp_path / "seq.xlsx") == _parts(tmp_path / "par.xlsx")


@pytest.mark.parametrize("how", ["raises", "killed", "garbled"])
def test_a_failed_child_is_replaced_by_the_sequential_write(tmp_path, monkeypatch, waited, how):
    _table(tmp_path / "seq.xlsx", False, monkeypatch)

    def fail(self, name, plan, pipe):
        if how == "raises":
            raise RuntimeError("child broke")
        if how == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        os.write(pipe, b"not a pickle")
        return 0

    monkeypatch.setattr(Book, "_child_rows", fail)
    _table(tmp_path / "par.xlsx", True, monkeypatch)
    assert waited == [None]
    assert _parts(tmp_path / "seq.xlsx") == _parts(tmp_path / "par.xlsx")


def test_no_temporary_file_is_left_and_os_is_restored(tmp_path, monkeypatch):
    book = _table(tmp_path / "par.xlsx", True, monkeypatch)
    assert not os.path.exists(book.tmpdir)
    assert xlsxwriter.workbook.os is os and xlsxwriter.worksheet.os is os
    # A failure while zipping: the files already handed to the deleter and those not yet
    # zipped all go with the folder.
    book = Book(tmp_path / "fail.xlsx", "t")
    book.table("A", ["N"], [list(range(1000))])
    book.table("B", ["N"], [list(range(1000))])
    plain_write = zipfile.ZipFile.write
    calls = []

    def write(self, filename, *args, **kw):
        calls.append(filename)
        if len(calls) == 3:
            raise OSError("disk full")
        return plain_write(self, filename, *args, **kw)

    monkeypatch.setattr(zipfile.ZipFile, "write", write)
    with pytest.raises(FileCreateError, match="disk full"):  # xlsxwriter wraps OSError
        book.close()
    assert len(calls) == 3 and not os.path.exists(book.tmpdir)
    assert xlsxwriter.workbook.os is os and xlsxwriter.worksheet.os is os


def _lines(n: int) -> list[list[str]]:
    rows = []
    for i in range(n):
        hcpcs = ["85025", "J9999", "", "8502", "99999"][i % 5]
        price = ["62", "0", "1,234.50", "abc", ""][i % 5]
        rows.append(line(code=f"{30010001 + i}", hcpcs=hcpcs, price=price, rev="0305"))
    return rows


def test_report_written_both_ways_is_the_same(tmp_path, monkeypatch, waited):
    result = run(RunOptions(write_csv(tmp_path / "cdm.csv", _lines(400)), as_of=AS_OF))
    monkeypatch.setattr(excel, "PARALLEL_MIN_ROWS", 10**9)
    write_report(result, tmp_path / "seq.xlsx")
    monkeypatch.setattr(excel, "PARALLEL_MIN_ROWS", 0)
    write_report(result, tmp_path / "par.xlsx")
    assert len(waited) == 1 and waited[0] is not None
    seq, par = _parts(tmp_path / "seq.xlsx"), _parts(tmp_path / "par.xlsx")
    assert seq.keys() == par.keys()
    # sheet1 is the Summary: its run time differs between two writes
    assert [n for n in seq if seq[n] != par[n]] in ([], ["xl/worksheets/sheet1.xml"])
    assert b"Chargemaster" in par["xl/workbook.xml"]


def test_a_failed_report_leaves_no_child_and_no_temporary_file(tmp_path, monkeypatch):
    result = run(RunOptions(write_csv(tmp_path / "cdm.csv", _lines(50)), as_of=AS_OF))
    monkeypatch.setattr(excel, "PARALLEL_MIN_ROWS", 0)
    folders = []
    plain_init = Book.__post_init__

    def init(self):
        plain_init(self)
        folders.append(self.tmpdir)

    def broken(book, sheet):
        raise RuntimeError("sheet broke")

    monkeypatch.setattr(Book, "__post_init__", init)
    monkeypatch.setattr("chargemaster.report._put_sheet", broken)
    with pytest.raises(RuntimeError, match="sheet broke"):
        write_report(result, tmp_path / "r.xlsx")
    assert folders and not os.path.exists(folders[0])
    with pytest.raises(ChildProcessError):  # the child was reaped
        os.waitpid(-1, os.WNOHANG)


def test_parallel_is_off_where_it_cannot_pay_or_be_safe(tmp_path, monkeypatch):
    book = Book(tmp_path / "x.xlsx", "t")
    assert book.parallel_allowed(excel.PARALLEL_MIN_ROWS)
    assert not book.parallel_allowed(excel.PARALLEL_MIN_ROWS - 1)  # too few rows
    assert not book.parallel_allowed(excel.EXCEL_MAX_ROWS)  # split past the row limit
    monkeypatch.setattr(excel.multiprocessing, "parent_process", lambda: object())
    assert not book.parallel_allowed(excel.PARALLEL_MIN_ROWS)  # inside a batch worker
    book.close()
    book = Book(tmp_path / "y.xlsx", "t", constant_memory=False)
    assert not book.parallel_allowed(10**5)
    folder = book.tmpdir
    del book  # never closed: its temporary folder goes with it
    assert not os.path.exists(folder)


@pytest.mark.slow
@needs_shared
@pytest.mark.parametrize("name", ["ca_los_robles_2018_cdm.xlsx", "ca_uc_davis_2019_cdm.csv"])
def test_real_report_both_ways(tmp_path, monkeypatch, waited, name):
    result = run(RunOptions(REALDATA / "cdm" / name, as_of=AS_OF))
    monkeypatch.setattr(excel, "PARALLEL_MIN_ROWS", 10**9)
    write_report(result, tmp_path / "seq.xlsx")
    monkeypatch.setattr(excel, "PARALLEL_MIN_ROWS", 0)
    write_report(result, tmp_path / "par.xlsx")
    assert len(waited) == 1 and waited[0] is not None
    seq, par = _parts(tmp_path / "seq.xlsx"), _parts(tmp_path / "par.xlsx")
    assert [n for n in seq if seq[n] != par[n]] in ([], ["xl/worksheets/sheet1.xml"])


def test_the_folder_of_a_killed_run_is_removed_by_the_next(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = tmp_path / f"chargemaster-xlsx-{dead.stdout.strip()}-abc"
    stale.mkdir()
    (stale / "tmprows").write_text("<row/>")
    # The same dead process id, changed an hour ago: maybe a live run of another PID namespace
    # sharing this folder (a container), so it stays until it has not changed for a day.
    recent = tmp_path / f"chargemaster-xlsx-{dead.stdout.strip()}-ghi"
    recent.mkdir()
    alive = tmp_path / f"chargemaster-xlsx-{os.getppid()}-def"  # a running process's
    alive.mkdir()
    other = tmp_path / "chargemaster-xlsx-notapid"
    other.mkdir()
    two_days_ago = time.time() - 2 * 24 * 3600
    for folder in (stale, alive, other):
        os.utime(folder, (two_days_ago, two_days_ago))
    hour_ago = time.time() - 3600
    os.utime(recent, (hour_ago, hour_ago))
    book = Book(tmp_path / "r.xlsx", "t")
    assert not stale.exists() and alive.exists() and other.exists() and recent.exists()
    assert os.path.dirname(book.tmpdir) == str(tmp_path)
    book.close()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([alive.name, other.name, recent.name, "r.xlsx"])
