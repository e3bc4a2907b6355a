"""Time chargemaster against its floor (and a naive baseline) on real-shaped or generated input.

--shape real (the default, issue 13): benchmarks/realshaped.py stacks the real exports of
../shared/realdata/cdm into 100,000 lines (xlsx) and 1,000,000 lines (csv), no code map.
  tool      `python -m chargemaster run` end to end (process start to exit, full report),
            with peak memory (GNU time's maximum resident set);
  floor     benchmarks/floor.py, input mode: read the input as the tool does (calamine /
            csv) and write its cells once with xlsxwriter constant-memory; read + write seconds.
--shape synthetic: benchmarks/generate.py lines with a code map, 10k and 100k, xlsx and csv;
  the floor there is floor.py's report mode (fastest read + the tool's own output cells), and
  the naive baseline (benchmarks/naive.py: openpyxl read -> the same checks -> to_excel) runs.
Medians of --repeat fresh processes. Prints seconds and peak MB and tool/floor (tool/baseline).

Run:  python benchmarks/bench.py                                  # real-shaped 100k xlsx + 1M csv
      python benchmarks/bench.py --cases 100000:xlsx --repeat 3
      python benchmarks/bench.py --shape synthetic --sizes 1000000 --formats csv --no-baseline
Needs GNU time (/usr/bin/time); the synthetic floor needs the [bench] extra (fastexcel).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "out"


TIMEOUT = 3600.0
# On a shared machine wall time includes waiting for a core; CPU seconds (user + system) of the
# process do not, and the tool and the floor each run on one core. Both are reported.
LAST_CPU = 0.0


def timed(cmd: list[str], ok=(0,)) -> tuple[float, float, str]:
    """(wall seconds, peak MB, stdout) of one fresh process; its CPU seconds in LAST_CPU."""
    global LAST_CPU
    try:
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%e %U %S %M", *cmd],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(f"timed out after {TIMEOUT:.0f} s: {' '.join(cmd)}") from None
    last = proc.stderr.strip().splitlines()[-1]
    if proc.returncode not in ok:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    wall, user, system, kb = last.split()[-4:]
    LAST_CPU = float(user) + float(system)
    return float(wall), int(kb) / 1024, proc.stdout.strip()


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def main() -> None:
    global TIMEOUT
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shape", choices=["real", "synthetic"], default="real")
    p.add_argument("--cases", default="100000:xlsx,1000000:csv", help="real: lines:format,...")
    p.add_argument("--sizes", default="10000,100000", help="synthetic")
    p.add_argument("--formats", default="xlsx,csv", help="synthetic")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per process")
    args = p.parse_args()
    TIMEOUT = args.timeout
    if args.shape == "real":
        real(args)
    else:
        synthetic(args)


def real(args) -> None:
    sys.path.insert(0, str(HERE))
    from realshaped import build

    py = sys.executable
    rows = []
    for case in args.cases.split(","):
        n_text, fmt = case.split(":")
        n = int(n_text)
        cdm = build(n, OUT / f"real_{n}.{fmt}")
        report = OUT / f"tool_real_{n}_{fmt}.xlsx"
        tool, floor = [], []
        for _ in range(args.repeat):  # interleaved: a noisy neighbour hits both alike
            wall, mb, _ = timed(
                [py, "-m", "chargemaster", "run", str(cdm), "-o", str(report), "-q"]
                + ["--as-of", "2026-11-01"],
                ok=(0, 1),
            )
            tool.append({"s": wall, "mb": mb, "cpu": LAST_CPU})
            fwall, fmb, out = timed([py, str(HERE / "floor.py"), str(cdm), str(OUT / "floor.xlsx")])
            read_s, write_s = map(float, out.split())
            floor.append({"s": read_s + write_s, "mb": fmb, "cpu": LAST_CPU})
            print(
                f"  {n:,} {fmt}: tool {wall:.1f} s (cpu {tool[-1]['cpu']:.1f}) {mb:.0f} MB; "
                f"floor {read_s:.1f} + {write_s:.1f} s (process {fwall:.1f}, cpu {LAST_CPU:.1f}) "
                f"{fmb:.0f} MB; load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        row = {
            "lines": n,
            "format": fmt,
            "tool_s": median(tool, "s"),
            "tool_mb": median(tool, "mb"),
            "floor_s": median(floor, "s"),
            "floor_mb": median(floor, "mb"),
            "tool_cpu": median(tool, "cpu"),
            "floor_cpu": median(floor, "cpu"),
        }
        rows.append(row)
        print(format_row(row), flush=True)
    print()
    print(table(rows, baseline=False))


def synthetic(args) -> None:
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


def table(rows: list[dict], baseline: bool = True) -> str:
    if not baseline:
        lines = [
            "| lines | format | tool s | tool CPU s | tool peak MB | floor s | floor CPU s "
            "| floor peak MB | tool/floor (wall) | tool/floor (CPU) |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['lines']:,} | {r['format']} | {r['tool_s']:.1f} | {r['tool_cpu']:.1f} | "
                f"{r['tool_mb']:.0f} | {r['floor_s']:.1f} | {r['floor_cpu']:.1f} | "
                f"{r['floor_mb']:.0f} | {r['tool_s'] / r['floor_s']:.2f} | "
                f"{r['tool_cpu'] / r['floor_cpu']:.2f} |"
            )
        return "\n".join(lines)
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
