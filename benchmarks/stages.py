"""Where one run spends its time: the pipeline's stages, then the report, sheet by sheet.

`--debug` times the checking stages but not the writing, which is most of the run. This runs
the pipeline in-process (its own stage timings), then writes the report while a sampling
thread (every 20 ms) looks at the main thread's stack and charges each sample to the
report-module function directly under the writer's entry point (a sheet's builder such as
`issues_sheet`, or `_put_sheet: <sheet name>` while a built sheet is written), or to the
workbook's `close` (xlsxwriter assembling the XML and zipping). Sampling instead of cProfile:
profiling every call would inflate exactly the per-cell Python loops being measured.
Then prints the rows of every sheet the report holds.

Run:  python benchmarks/stages.py CDM [--code-map MAP] [--as-of 2026-11-01]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chargemaster.pipeline import RunOptions, run  # noqa: E402
from chargemaster.report import write_report  # noqa: E402


def sample_writer(fn, interval: float = 0.02) -> tuple[float, Counter]:
    """(seconds, samples per writer function) of fn()."""
    main = threading.main_thread().ident
    counts: Counter = Counter()
    done = threading.Event()

    def where() -> str:
        frame = sys._current_frames().get(main)
        chain = []
        closing = False
        while frame is not None:
            code = frame.f_code
            name = Path(code.co_filename)
            if name.parent.name == "chargemaster" and name.stem.startswith("report"):
                label = code.co_name
                sheet = frame.f_locals.get("sheet") if label == "_put_sheet" else None
                if sheet is not None:  # the writing of one built sheet: name it
                    label = f"{label}: {getattr(sheet, 'name', sheet)}"
                chain.append(label)
            elif "xlsxwriter" in code.co_filename and code.co_name == "close":
                closing = True
            frame = frame.f_back
        if closing:
            return "close: XML + zip"
        chain.reverse()  # outermost first: write_report, atomic write, _write, the sheet
        inner = [c for c in chain if c not in {"write_report", "_write", "<lambda>"}]
        return inner[0] if inner else "other"

    def loop() -> None:
        while not done.wait(interval):
            counts[where()] += 1

    sampler = threading.Thread(target=loop, daemon=True)
    sampler.start()
    t = time.perf_counter()
    try:
        fn()
    finally:
        seconds = time.perf_counter() - t
        done.set()
        sampler.join()
    return seconds, counts


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
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.xlsx"
        c1 = time.process_time()
        write_s, counts = sample_writer(lambda: write_report(result, out))
        write_cpu = time.process_time() - c1
        total = sum(counts.values()) or 1
        for name, n in counts.most_common():
            print(f"| write: {name} | {write_s * n / total:.2f} |")
        print(f"| **writing the report** (CPU {write_cpu:.1f} s) | **{write_s:.2f}** |")
        print(f"\nfindings: {len(result.findings):,}; report sheets (rows incl. header):")
        for name, rows in sheet_rows(out):
            print(f"  {name}: {rows:,}")


if __name__ == "__main__":
    main()
