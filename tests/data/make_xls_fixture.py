"""Build tests/data/report_style.xls, a small legacy BIFF workbook shaped like the HealthSouth
export (title block, header on row 5, every number a float, a second summary sheet).

Committed as a binary fixture; rebuilding needs the xlwt package, which the tests do not:
    pip install xlwt && python tests/data/make_xls_fixture.py
"""

import datetime as dt
from pathlib import Path

import xlwt

book = xlwt.Workbook()
summary = book.add_sheet("SUMMARY")
summary.write(0, 0, "HP2010B CHARGE MASTER REPORT")
summary.write(5, 0, "DESCRIPTION")
summary.write(5, 1, "OCCURS")
summary.write(6, 0, "CBC W AUTO DIFF")
summary.write(6, 1, 1.0)
cdm = book.add_sheet("HP2010B")
cdm.write(0, 0, "HP2010B CHARGE MASTER REPORT")
cdm.write(1, 0, "HOSPITAL: 030190-00  DATE: 2018-06-30")
cdm.write(2, 0, "GENERATED: Thu Sep 27 15:02:36 2018")
headers = [
    "FACILITY",
    "DEPT",
    "CHARGE CODE",
    "DESCRIPTION",
    "IP REV CODE",
    "OP REV CODE",
    "PRICE",
    "EFFECIVE DATE",
    "CPT",
    "MODIFIERS",
    "DELETE DATE",
]
for c, h in enumerate(headers):
    cdm.write(4, c, h)
date = xlwt.easyxf(num_format_str="YYYY-MM-DD")
rows = [
    [
        "030190-00",
        171.0,
        17115000.0,
        "CRANIAL CERVICAL ORTHOSIS",
        274.0,
        274.0,
        3321.0,
        "L0112",
        "",
    ],
    ["030190-00", 300.0, 30000001.0, "CBC W AUTO DIFF", 305.0, 305.0, 62.0, "85025", ""],
    ["030190-00", 300.0, 30000002.0, "CMP", 301.0, 301.0, 182.0, "", ""],
    ["030190-00", 320.0, 30000003.0, "XR SHOULDER", 320.0, 320.0, 260.0, "73030", 50.0],
    ["030190-00", 320.0, 30000004.0, "XR CHEST OLD", 324.0, 324.0, 245.0, "71020", ""],
]
for r, values in enumerate(rows, start=5):
    for c, v in enumerate(values[:7]):
        cdm.write(r, c, v)
    cdm.write(r, 7, dt.date(2016, 10, 1), date)
    cdm.write(r, 8, values[7])
    cdm.write(r, 9, values[8])
cdm.write(9, 10, dt.date(2018, 1, 1), date)  # the last line was deleted in 2018
book.save(str(Path(__file__).with_name("report_style.xls")))
