"""The floor: the fastest read of the input plus the fastest write of the same output cells.

Reads the input with fastexcel (calamine, into Arrow) or pyarrow's CSV reader; then writes the
cells of a report the tool already produced, sheet by sheet, with xlsxwriter's write_row in
constant-memory mode. Only the read and the write are timed (loading the report's cells is
not). Prints "read_s write_s".

Run:  python benchmarks/floor.py CDM TOOL_REPORT.xlsx OUT.xlsx
"""

import sys
import time
from pathlib import Path

import xlsxwriter
from python_calamine import CalamineWorkbook

cdm, report, out = (Path(a) for a in sys.argv[1:4])
book = CalamineWorkbook.from_path(str(report))
sheets = [(name, book.get_sheet_by_name(name).to_python()) for name in book.sheet_names]

t = time.perf_counter()
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
read_s = time.perf_counter() - t

t = time.perf_counter()
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
    ws = wb.add_worksheet(name)
    for r, row in enumerate(rows):
        ws.write_row(r, 0, row)
wb.close()
write_s = time.perf_counter() - t
print(f"{read_s:.2f} {write_s:.2f}")
