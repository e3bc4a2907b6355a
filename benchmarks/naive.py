"""The baseline: the same job written the obvious way.

pandas.read_excel(engine="openpyxl", dtype=str) (read_csv for CSV) -> the same checks (this
package's, fed the rows pandas read) -> every report sheet written with DataFrame.to_excel
through openpyxl. Prints the seconds it took; peak memory is measured from outside.

Run:  python benchmarks/naive.py CDM CODE_MAP OUT.xlsx
"""

import datetime as dt
import sys
import time
from pathlib import Path

import pandas as pd

from chargemaster import reader
from chargemaster.pipeline import RunOptions, run

started = time.perf_counter()
cdm, code_map, out = (Path(a) for a in sys.argv[1:4])
if cdm.suffix == ".csv":
    # Title rows are shorter than the table: give pandas room for the widest row.
    frame = pd.read_csv(cdm, dtype=str, header=None, keep_default_na=False, names=range(64))
    frame = frame.loc[:, frame.ne("").any()]
else:
    frame = pd.read_excel(cdm, engine="openpyxl", dtype=str, header=None, keep_default_na=False)
rows = frame.fillna("").to_numpy().tolist()
real_read = reader.read_grids
reader.read_grids = lambda p: [reader.Grid("CDM", rows)] if Path(p) == cdm else real_read(p)
result = run(RunOptions(cdm, code_map=code_map, as_of=dt.date(2026, 11, 1)))
frame = result.lines.frame
with pd.ExcelWriter(out, engine="openpyxl") as xl:
    pd.DataFrame(
        {"fact": list(result.stats), "value": [str(v) for v in result.stats.values()]}
    ).to_excel(xl, sheet_name="Summary", index=False)
    result.findings.to_excel(xl, sheet_name="Issues", index=False)
    for name, rules in (("Repairs", "-REPAIRED"), ("Prices", "PRICE-")):
        sel = result.findings[result.findings["rule"].str.contains(rules)]
        sel.to_excel(xl, sheet_name=name, index=False)
    data = result.table.data.copy()
    for col in ("coded_hcpcs", "coded_modifiers", "revenue_code", "code_source"):
        data[col] = frame[col]
    data.to_excel(xl, sheet_name="Chargemaster")
print(f"{time.perf_counter() - started:.2f}")
