"""Time chargemaster against a naive baseline and the floor, on generated chargemasters.

For each size and format, medians of --repeat fresh processes on this machine:
  tool      `chargemaster run` end to end (process start to exit), with peak memory;
  baseline  benchmarks/naive.py: openpyxl read -> the same checks -> DataFrame.to_excel;
  floor     benchmarks/floor.py: the fastest read (fastexcel / pyarrow) + xlsxwriter
            constant-memory write of the very cells the tool wrote, nothing in between.
Prints seconds and peak MB for each and the ratios tool/baseline and tool/floor.

Run:  python benchmarks/bench.py                 # 10k and 100k, xlsx and csv
      python benchmarks/bench.py --sizes 1000000 --formats csv --no-baseline
Needs the [bench] extra (fastexcel) and GNU time (/usr/bin/time).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "out"


def timed(cmd: list[str], ok=(0,)) -> tuple[float, float, str]:
    """(wall seconds, peak MB, stdout) of one fresh process."""
    proc = subprocess.run(["/usr/bin/time", "-f", "%e %M", *cmd], capture_output=True, text=True)
    last = proc.stderr.strip().splitlines()[-1]
    if proc.returncode not in ok:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    wall, kb = last.split()[-2:]
    return float(wall), int(kb) / 1024, proc.stdout.strip()


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--formats", default="xlsx,csv")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-baseline", action="store_true")
    args = p.parse_args()
    py = sys.executable
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        cdm_base = OUT / f"cdm_{n}"
        if not (OUT / f"codemap_{n}.csv").exists():
            subprocess.run([py, str(HERE / "generate.py"), str(n)], check=True)
        for fmt in args.formats.split(","):
            cdm = cdm_base.with_suffix(f".{fmt}")
            code_map = OUT / f"codemap_{n}.csv"
            report = OUT / f"tool_{n}_{fmt}.xlsx"
            tool = []
            for _ in range(args.repeat):
                wall, mb, _ = timed(
                    [
                        py,
                        "-m",
                        "chargemaster",
                        "run",
                        str(cdm),
                        "--code-map",
                        str(code_map),
                        "-o",
                        str(report),
                        "-q",
                        "--as-of",
                        "2026-11-01",
                    ],
                    ok=(0, 1),
                )
                tool.append({"s": wall, "mb": mb})
            floor = []
            for _ in range(args.repeat):
                _, mb, out = timed(
                    [
                        py,
                        str(HERE / "floor.py"),
                        str(cdm),
                        str(report),
                        str(OUT / f"floor_{n}_{fmt}.xlsx"),
                    ]
                )
                read_s, write_s = map(float, out.split())
                floor.append({"s": read_s + write_s, "mb": mb})
            base = []
            if not args.no_baseline:
                for _ in range(args.repeat):
                    wall, mb, _ = timed(
                        [
                            py,
                            str(HERE / "naive.py"),
                            str(cdm),
                            str(code_map),
                            str(OUT / f"naive_{n}_{fmt}.xlsx"),
                        ]
                    )
                    base.append({"s": wall, "mb": mb})
            row = {
                "lines": n,
                "format": fmt,
                "tool_s": median(tool, "s"),
                "tool_mb": median(tool, "mb"),
                "floor_s": median(floor, "s"),
                "floor_mb": median(floor, "mb"),
            }
            if base:
                row |= {"base_s": median(base, "s"), "base_mb": median(base, "mb")}
            rows.append(row)
            print(format_row(row), flush=True)
    print()
    print(table(rows))


def format_row(r: dict) -> str:
    base = (
        f"baseline {r['base_s']:.1f} s {r['base_mb']:.0f} MB, tool/baseline "
        f"{r['tool_s'] / r['base_s']:.2f}; "
        if "base_s" in r
        else ""
    )
    return (
        f"{r['lines']:>9,} {r['format']}: tool {r['tool_s']:.1f} s {r['tool_mb']:.0f} MB; "
        f"{base}floor {r['floor_s']:.1f} s, tool/floor {r['tool_s'] / r['floor_s']:.2f}"
    )


def table(rows: list[dict]) -> str:
    lines = [
        "| lines | format | tool s | tool peak MB | baseline s | baseline peak MB | floor s "
        "| tool/baseline | tool/floor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        has_base = "base_s" in r
        base_s = f"{r['base_s']:.1f}" if has_base else "n/a"
        base_mb = f"{r['base_mb']:.0f}" if has_base else "n/a"
        ratio = f"{r['tool_s'] / r['base_s']:.2f}" if has_base else "n/a"
        lines.append(
            f"| {r['lines']:,} | {r['format']} | {r['tool_s']:.1f} | {r['tool_mb']:.0f} | "
            f"{base_s} | {base_mb} | {r['floor_s']:.1f} | {ratio} | "
            f"{r['tool_s'] / r['floor_s']:.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
