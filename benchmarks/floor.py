"""The floor: read the input once and write cells once, nothing in between.

Two floors, one per question:
  input   (2 arguments) read the chargemaster as the tool does (python_calamine `to_python` for a
          workbook, the csv module for delimited text), then write those same cells once with
          xlsxwriter in constant-memory mode. The cost of touching every input cell twice: the
          issue 13 floor, the one tool/floor is measured against.
  report  (3 arguments) the fastest read of the input (fastexcel / pyarrow) plus an xlsxwriter
          constant-memory write of the cells of a report the tool already produced (loading
          that report is not timed). It grows with what the tool writes, so it answers "how
          fast could this report be written", not "how much report is too much".
Prints "read_s write_s".

Run:  python benchmarks/floor.py CDM OUT.xlsx
      python benchmarks/floor.py CDM TOOL_REPORT.xlsx OUT.xlsx
"""

import csv
import io
import sys
import time
from pathlib import Path

import xlsxwriter
from python_calamine import CalamineWorkbook


def read_input(cdm: Path) -> list[tuple[str, list[list]]]:
    if cdm.suffix.lower() in {".csv", ".txt", ".tsv"}:
        text = cdm.read_bytes().decode("utf-8-sig")
        return [("CDM", list(csv.reader(io.StringIO(text, newline=""))))]
    book = CalamineWorkbook.from_path(str(cdm))
    return [
        (name, book.get_sheet_by_name(name).to_python(skip_empty_area=False))
        for name in book.sheet_names
    ]


def read_fastest(cdm: Path) -> None:
    if cdm.suffix == ".csv":
        import pyarrow.csv as pacsv

        skip_ragged = pacsv.ParseOptions(invalid_row_handler=lambda row: "skip")
        pacsv.read_csv(
            cdm,
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=skip_ragged,
        )
    else:
        import fastexcel

        reader = fastexcel.read_excel(str(cdm))
        for name in reader.sheet_names:
            reader.load_sheet_by_name(name, header_row=None).to_arrow()


def write(out: Path, sheets: list[tuple[str, list[list]]]) -> None:
    wb = xlsxwriter.Workbook(
        str(out),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    for name, rows in sheets:
        ws = wb.add_worksheet(name[:31])
        for r, row in enumerate(rows):
            ws.write_row(r, 0, row)
    wb.close()


def main() -> None:
    args = [Path(a) for a in sys.argv[1:]]
    if len(args) == 2:
        cdm, out = args
        t = time.perf_counter()
        sheets = read_input(cdm)
        read_s = time.perf_counter() - t
    elif len(args) == 3:
        cdm, report, out = args
        book = CalamineWorkbook.from_path(str(report))
        sheets = [(n, book.get_sheet_by_name(n).to_python()) for n in book.sheet_names]
        t = time.perf_counter()
        read_fastest(cdm)
        read_s = time.perf_counter() - t
    else:
        raise SystemExit(__doc__)
    t = time.perf_counter()
    write(out, sheets)
    write_s = time.perf_counter() - t
    print(f"{read_s:.2f} {write_s:.2f}")


if __name__ == "__main__":
    main()
