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


# ----- the column writer against xlsxwriter's own, on every shape of chunk ------------------

AWKWARD = [
    " ",
    "\xa0nbsp edged\u3000",
    "a\u2028b",
    'quote " and <tag> & amp',
    "-0",
    "0012",
    "x" * 16_383,  # the longest text written here; one more goes through xlsxwriter
    "y" * 16_384,
    "ctrl\x01char",
    "\ufffe",
    None,
    -0.0,
    0.0,
    0.1 + 0.2,
    1e15,
    123456789012345.67,
    2**53,
    -(2**60),
    1,
    False,
]


def _wide_table(path, fast: bool, monkeypatch, chunk: int) -> list[int]:
    """A table with two link columns, a column empty on every row but its formatted cells,
    mixed columns and no column full on every row, written chunk rows at a time."""
    if not fast:
        monkeypatch.setattr(excel._ColumnXml, "fits", classmethod(lambda cls, v: False))
    monkeypatch.setattr(excel, "CHUNK", chunk)
    book = Book(path, "t")
    given_back: list[int] = []  # the rows the column writer leaves to xlsxwriter
    plain_row = book._write_row
    monkeypatch.setattr(
        book, "_write_row", lambda ws, r, *a: given_back.append(r) or plain_row(ws, r, *a)
    )
    n = len(AWKWARD)
    texts = [v if isinstance(v, str) else None for v in AWKWARD]
    numbers = [v if not isinstance(v, str) else None for v in AWKWARD]
    empty = [None] * n
    codes = [f"C{i:03d} & <{i}>" if i % 4 else None for i in range(n)]
    links = {
        0: [f"internal:'Sheet'!B{i + 2}" for i in range(n)],
        # a text with a quote and a newline in its link, an external link, an over-long one
        3: [
            "internal:'Chargemaster'!A1"
            if i % 5 == 0
            else "https://example.org/x"
            if i == 7
            else "internal:'S'!A" + "9" * 300
            if i == 9
            else f"internal:'Sheet'!A{i + 2}"
            for i in range(n)
        ],
    }
    styles = {
        2: {i: book.fills["info"] for i in range(0, n, 2)},  # formatted empty cells
        1: {3: book.fills["error"], 4: book.named["count"]},
        3: {5: book.fills["warning"]},  # a fill on a linked cell
    }
    padded = [f" P{i} " if i % 5 else f"P{i}" for i in range(n)]  # most texts padded
    padded[3] = None
    styles[5] = {4: book.fills["error"], 5: book.fills["error"]}
    book.table(
        "Sheet",
        ["Code", "Numbers", "Empty", "Texts", "Mixed", "Padded"],
        [codes, numbers, empty, texts, AWKWARD, padded],
        formats={1: "currency"},
        styles=styles,
        links=links,
    )
    book.close()
    monkeypatch.undo()
    return given_back


def test_column_writer_is_xlsxwriter_on_awkward_chunks(tmp_path, monkeypatch):
    for chunk in (3, 7, 50_000):
        given_back = _wide_table(tmp_path / "fast.xlsx", True, monkeypatch, chunk)
        # over-long text, control characters, a non-character, an external and a long link
        assert given_back == [1 + i for i in (7, 8, 9)], chunk
        _wide_table(tmp_path / "slow.xlsx", False, monkeypatch, chunk)
        fast, slow = _normalised(tmp_path / "fast.xlsx"), _normalised(tmp_path / "slow.xlsx")
        assert fast.keys() == slow.keys()
        for name in fast:
            assert fast[name] == slow[name], (chunk, name)
    sheet = fast["xl/worksheets/sheet1.xml"]
    # 15 codes; 10 texts, one of them an external link xlsxwriter writes with a relationship
    assert sheet.count("<hyperlink ") == 15 + 10 and sheet.count('r:id="rId') == 2
    assert 'display="C001 &amp; &lt;1&gt;"' in sheet
    assert 'display="quote &quot; and &lt;tag&gt; &amp; amp"' in sheet
    assert '<c r="B13" s=[' in sheet and "><v>-0</v>" in sheet  # -0.0 as xlsxwriter prints it


def test_links_past_the_sheet_limit_are_counted_not_written(tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "EXCEL_MAX_LINKS", 3)
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(excel._ColumnXml, "fits", classmethod(lambda cls, v: False))
        book = Book(tmp_path / f"l{fast}.xlsx", "t")
        codes = ["a", None, "b", "c", "d", "e"]
        targets = [f"internal:'Sheet'!A{i + 2}" for i in range(6)]
        book.table("Sheet", ["Code"], [codes], links={0: targets})
        book.close()
        assert book.links_dropped == 2  # a missing value takes no link and no place
        ws = load_workbook(tmp_path / f"l{fast}.xlsx")["Sheet"]
        linked = [c.value for (c,) in ws.iter_rows(min_row=2) if c.hyperlink is not None]
        assert linked == ["a", "b", "c"]


def test_clean_column_is_the_plain_clean_of_each_value():
    import pandas as pd

    def plain(series):  # what the report wrote before the column was read at once
        out = []
        if pd.api.types.is_numeric_dtype(series):  # numbers as floats, as before
            series = series.astype("float64")
        for v in series.tolist():
            v = excel.clean(v)
            out.append(excel.clean_text(v) or None if isinstance(v, str) else v)
        return out

    texts = ["a", "", None, "x\x00y", "\ufffe", "é中😀", "L" * 40_000, " s ", "_x0041_", "00123"]
    mixed = [*texts, 1, 2.5, float("nan"), pd.NA, float("inf"), True, -0.0]
    for series in (
        pd.Series(texts, dtype="str"),
        pd.Series(texts, dtype="string"),
        pd.Series(texts, dtype=object),
        pd.Series(mixed, dtype=object),
        pd.Series([None, float("nan")], dtype=object),
        pd.Series([], dtype="str"),
        pd.Series([1.5, float("nan"), 2.0]),
        pd.Series([float("-inf"), 3.0, float("inf"), None]),
        pd.Series([1, 2], dtype="Int64"),
        pd.Series([1, None], dtype="Int64"),
    ):
        got, want = excel.clean_column(series), plain(series)
        assert [type(v) for v in got] == [type(v) for v in want], series.dtype
        assert got == want or str(got) == str(want), series.dtype


def test_int_column_is_as_int_of_the_cleaned_column():
    import pandas as pd

    for series in (
        pd.Series([3.0, None, 12.0]),
        pd.Series([1, 2, 3]),
        pd.Series([1.5, 2.0]),
        pd.Series(["7", " 8", "x", None], dtype=object),
        pd.Series([float("inf"), 1.0]),
        pd.Series([], dtype="float64"),
        pd.Series([2.0**63]),
    ):
        got, want = excel.int_column(series), excel.as_int(excel.clean_column(series))
        assert got == want and [type(v) for v in got] == [type(v) for v in want]


def test_edge_whitespace_found_in_the_joined_column_is_each_texts_own():
    import random

    rng = random.Random(13)
    alphabet = ["a", " ", "\xa0", "\t", "\n", "\u3000", "é", "\x1c"]
    for size in (12, 80):  # many edged texts (text by text) or few (found by offset)
        for _ in range(200):
            weights = [300, 1, 1, 1, 1, 1, 1, 1] if size == 80 else None
            texts = [
                "".join(rng.choices(alphabet, weights, k=rng.randint(0, 4))) for _ in range(size)
            ]
            want = {k for k, t in enumerate(texts) if t and (t[0].isspace() or t[-1].isspace())}
            assert excel._edge_space(texts, "\x00".join(texts)) == want, texts


def test_escape_check_over_the_joined_column_misses_no_text():
    import random

    rng = random.Random(7)
    alphabet = ["a", "_x", "0041", "_", "\x01", "\x1f", "\r", "\t", "\n", "\x7f", "é", "\ufffe"]
    alphabet += ["\uffff", "\u2192", "😀", "\x85", "\x00"]
    for _ in range(300):
        texts = ["".join(rng.choices(alphabet, k=rng.randint(0, 3))) for _ in range(6)]
        want = any(excel._NEEDS_ESCAPE.search(t) for t in texts)
        if excel._may_need_escape("\x00".join(texts), len(texts)) is False:
            assert not want, texts
    assert excel._may_need_escape("\x00".join(["plain", "tab\tand\nnewline", "é→"]), 3) is False
