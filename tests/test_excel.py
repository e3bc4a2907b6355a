"""The shared Excel layer: the fast table rows write what xlsxwriter itself would write."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

from openpyxl import load_workbook

from chargemaster import excel
from chargemaster.excel import Book

VALUES = [
    "A & B <c> \"q\" 'x'",
    " leading",
    "trailing ",
    "tab\tin\rcarriage",
    "new\nline\n",
    "x_x0041_y",  # a literal escape sequence must stay literal
    "=1+1",
    "00123",
    "",  # an empty text cell: xlsxwriter's write_row writes nothing, write_string an empty one
    "é中😀",
    "L" * 20_000,  # past half of Excel's cell limit: xlsxwriter's own length check
    None,
    0,
    -5,
    1234567.891,
    1e16,
    2**53 + 1,
    True,
    dt.datetime(2026, 11, 1, 8, 30),
    dt.date(2026, 1, 2),
]


def _normalised(path) -> dict[str, str]:
    """Every part of the workbook, each style index replaced by the style it names (the
    indices follow the order formats are first used in, which may differ)."""
    z = zipfile.ZipFile(path)
    styles = z.read("xl/styles.xml").decode()

    def items(tag: str, item: str) -> list[str]:
        block = re.search(rf"<{tag}[ >].*?</{tag}>", styles, re.S).group(0)
        return re.findall(rf"<{item}\b[^>]*?(?:/>|>.*?</{item}>)", block, re.S)

    parts = {
        "fontId": items("fonts", "font"),
        "fillId": items("fills", "fill"),
        "borderId": items("borders", "border"),
    }
    formats = dict(re.findall(r'<numFmt numFmtId="(\d+)" formatCode="([^"]*)"', styles))
    xfs = items("cellXfs", "xf")

    def xf(index: str) -> str:
        number = re.compile(r'numFmtId="(\d+)"')
        text = number.sub(lambda m: formats.get(m.group(1), m.group(1)), xfs[int(index)])
        for key, values in parts.items():
            text = re.sub(rf'{key}="(\d+)"', lambda m, v=values: v[int(m.group(1))], text)
        return text

    out = {}
    for name in z.namelist():
        if name in ("xl/styles.xml", "docProps/app.xml"):
            continue
        text = z.read(name).decode()
        out[name] = re.sub(
            r' (s|style)="(\d+)"',
            lambda m: f" {m.group(1)}=[{xf(m.group(2))}]",
            text,
        )
    return out


def _write(path, fast: bool, monkeypatch) -> list[str]:
    if not fast:
        monkeypatch.setattr(excel._ColumnXml, "fits", classmethod(lambda cls, v: False))
    book = Book(path, "t")
    n = len(VALUES)
    columns = [VALUES, list(reversed(VALUES)), [float(i) for i in range(n)], VALUES[::1]]
    styles = {
        # a fill, over a currency column too
        0: {i: book.fills["error"] for i in range(0, n, 3)},
        2: {i: book.fills["warning"] for i in range(0, n, 3)},
        1: {4: book.named["currency"]},
    }
    links = {3: [f"internal:'Sheet'!A{i + 2}" if i % 2 == 0 else None for i in range(n)]}
    used = book.table(
        "Sheet",
        ["Text", "Back", "Price", "Linked"],
        columns,
        formats={2: "currency"},
        styles=styles,
        links=links,
        severity=0,
    )
    book.close()
    monkeypatch.undo()
    return used


def test_fast_rows_are_the_xml_xlsxwriter_writes(tmp_path, monkeypatch):
    _write(tmp_path / "fast.xlsx", True, monkeypatch)
    _write(tmp_path / "slow.xlsx", False, monkeypatch)
    fast, slow = _normalised(tmp_path / "fast.xlsx"), _normalised(tmp_path / "slow.xlsx")
    assert fast.keys() == slow.keys()
    for name in fast:
        assert fast[name] == slow[name], name
    ws = load_workbook(tmp_path / "fast.xlsx")["Sheet"]
    rows = list(ws.iter_rows(min_row=2))
    # calamine reads the _xHHHH_ escapes back (openpyxl leaves them as written).
    from python_calamine import CalamineWorkbook

    read = CalamineWorkbook.from_path(str(tmp_path / "fast.xlsx")).get_sheet_by_name("Sheet")
    assert [r[0] for r in read.to_python()[1:11]] == VALUES[:10]
    assert rows[6][0].data_type == "s" and rows[7][0].value == "00123"
    assert rows[0][3].hyperlink.location == "'Sheet'!A2" and rows[1][3].hyperlink is None
    assert rows[0][2].fill.fgColor.rgb.endswith("FFE699") and "$" in rows[0][2].number_format


def test_fast_rows_continue_past_the_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "EXCEL_MAX_ROWS", 8)
    book = Book(tmp_path / "r.xlsx", "t")
    used = book.table("Long", ["N", "T"], [list(range(20)), [f"t{i}" for i in range(20)]])
    book.close()
    assert used == ["Long", "Long (2)", "Long (3)"]
    wb = load_workbook(tmp_path / "r.xlsx")
    got = [r for n in used for r in wb[n].iter_rows(min_row=2, values_only=True)]
    assert got == [(i, f"t{i}") for i in range(20)]
    assert [wb[n].tables[next(iter(wb[n].tables))].ref for n in used] == ["A1:B8", "A1:B8", "A1:B7"]


def test_fast_rows_only_on_the_xlsxwriter_releases_they_were_written_for():
    import xlsxwriter

    # The installed release is one of them (pyproject caps it), so the comparison above is real.
    assert excel._ColumnXml.fits(xlsxwriter.__version__)
    assert excel._ColumnXml.fits("3.3.9") and not excel._ColumnXml.fits("3.4.0")
    assert not excel._ColumnXml.fits("4.0.0") and not excel._ColumnXml.fits("3.1.9")
