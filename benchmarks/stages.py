"""Where one run spends its CPU: the pipeline's stages, then the report, sheet by sheet.

Runs the pipeline in-process, then writes the report with the report's own per-sheet timer
(`chargemaster.report.CLOCK`, the one `--debug` prints) switched to CPU time, so a busy
machine does not inflate the numbers: each sheet is built (its columns computed) and written,
then the workbook is closed (XML assembled and zipped). The checking stages are wall seconds
(the pipeline times them so); their CPU total is given beside them. Then prints the rows of
every sheet the report holds.

Run:  python benchmarks/stages.py CDM [--code-map MAP] [--as-of 2026-11-01]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chargemaster import report  # noqa: E402
from chargemaster.pipeline import RunOptions, run  # noqa: E402


def sheet_rows(path: Path) -> list[tuple[str, int]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    return [(n, book.get_sheet_by_name(n).total_height) for n in book.sheet_names]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("chargemaster", type=Path)
    p.add_argument("--code-map", type=Path)
    p.add_argument("--as-of", default="2026-11-01")
    args = p.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    options = RunOptions(
        args.chargemaster, code_map=args.code_map, as_of=dt.date.fromisoformat(args.as_of)
    )
    result = run(options)
    check_s, check_cpu = time.perf_counter() - t0, time.process_time() - c0
    print("| stage | seconds |\n|---|---|")
    for name, seconds in result.stats["timings"].items():
        print(f"| {name} | {seconds:.2f} |")
    print(f"| **checking, all stages** (CPU {check_cpu:.1f} s) | **{check_s:.2f}** |")
    report.CLOCK = time.process_time
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.xlsx"
        c1 = time.process_time()
        report.write_report(result, out)
        write_cpu = time.process_time() - c1
        for name, seconds in result.stats["timings"].items():
            if name.startswith("write "):
                print(f"| {name} (CPU) | {seconds:.2f} |")
        print(f"| **writing the report** (CPU) | **{write_cpu:.2f}** |")
        print(f"\nfindings: {len(result.findings):,}; report sheets (rows incl. header):")
        for name, rows in sheet_rows(out):
            print(f"  {name}: {rows:,}")


if __name__ == "__main__":
    main()
