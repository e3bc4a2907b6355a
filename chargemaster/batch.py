"""Runs as the scheduler sees them: one job per chargemaster, a JSON-able summary per job,
several jobs in parallel, a roll-up workbook with one row per facility."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__
from .catalog import FINDING_COLUMNS, RULES
from .changes import compare, mismatch_findings, read_baseline
from .coded import write_coded
from .errors import ChargemasterError
from .excel import EXCEL_MAX_COLS, MAX_CELL_CHARS, Book
from .output import atomic_write
from .pipeline import Result, RunOptions, run
from .reader import CSV_SUFFIXES, EXCEL_SUFFIXES
from .report import default_output, write_report

log = logging.getLogger("chargemaster")


@dataclass(frozen=True)
class Job:
    options: RunOptions
    output: Path
    baseline: Path | None = None
    fail_on: str = "error"
    debug: bool = False
    coded_output: Path | None = None  # let unexpected errors raise (with their traceback)
    protect: tuple[Path, ...] = ()  # inputs no output may replace (config, reference files)


def summary_of(result: Result, report: Path, exit_code: int) -> dict[str, Any]:
    """The stable, documented summary of one run (README, "Summary JSON")."""
    s = result.stats
    f = result.findings
    changes = None
    if result.changes is not None:
        changes = {k: int(v) for k, v in result.changes["Change"].value_counts().items()}
    return {
        "input": s["input"],
        "input_sha256": s["input_sha256"],
        "sheet": s["sheet"],
        "header_row": s["header_row"],
        "lines": s["lines"],
        "active_lines": s["active_lines"],
        "skipped_rows": s["skipped_rows"],
        "skipped_by_kind": s.get("skipped_detail", {}),
        "columns": s.get("columns", []),
        "statically_coded": s["statically_coded"],
        "as_of": s["as_of"],
        "reference": s["reference"],
        "cpt_checked": s["cpt_checked"],
        # Lines priced below the Medicare rate (a fee schedule was loaded), else null.
        "below_medicare": s.get("below_medicare"),
        "counts": {sev: int(f["severity"].eq(sev).sum()) for sev in ("error", "warning", "info")},
        "by_rule": {k: int(v) for k, v in f["rule"].value_counts().sort_index().items()},
        "changes": changes,
        "outputs": {"report": str(report)},
        "exit_code": exit_code,
        "error": None,
        "seconds": s["seconds"],
    }


def failure_summary(job: Job, message: str) -> dict[str, Any]:
    """The same keys as summary_of, empty but for the input, exit code 2 and the message."""
    keys = (
        "input_sha256",
        "sheet",
        "header_row",
        "lines",
        "active_lines",
        "skipped_rows",
        "skipped_by_kind",
        "columns",
        "statically_coded",
        "as_of",
        "cpt_checked",
        "below_medicare",
        "counts",
        "by_rule",
        "changes",
        "seconds",
    )
    return dict.fromkeys(keys) | {
        "input": str(job.options.chargemaster),
        "reference": [],
        "outputs": {"report": None, "coded": None},
        "exit_code": 2,
        "error": message,
    }


def _add_findings(result: Result, rows: list[dict[str, Any]]) -> None:
    """Findings found after the run (baseline, what a workbook cannot hold), in their place."""
    if not rows:
        return
    sev = result.config.severity
    extra = pd.DataFrame(
        [
            {c: r.get(c) for c in FINDING_COLUMNS}
            | {"severity": sev.get(r["rule"], RULES[r["rule"]].severity.value)}
            for r in rows
        ],
        columns=FINDING_COLUMNS,
    ).astype("object")
    found = pd.concat([result.findings.astype({"row": "object"}), extra], ignore_index=True)
    rank = found["severity"].map({"error": 0, "warning": 1, "info": 2})
    found = found.iloc[rank.argsort(kind="stable")].reset_index(drop=True)
    found["row"] = pd.to_numeric(found["row"], errors="coerce").astype("Int64")
    result.findings = found


def oversize_findings(result: Result) -> list[dict[str, Any]]:
    """CELL-OVERSIZE: text longer than an Excel cell holds, columns past the last one (XFD)."""
    table = result.table
    out: list[dict[str, Any]] = []
    for name in table.headers:
        lengths = table.data[name].str.len()
        long = lengths[lengths.gt(MAX_CELL_CHARS).fillna(False)]
        for row, n in long.head(1000).items():
            out.append(
                {
                    "rule": "CELL-OVERSIZE",
                    "row": int(row),
                    "cell": f"{table.letters.get(name, '')}{row}",
                    "column": name,
                    "charge_code": result.lines.frame["charge_code"].get(row),
                    "value": f"{int(n):,} characters",
                    "message": f"The value has {int(n):,} characters; an Excel cell holds "
                    f"{MAX_CELL_CHARS:,}, so the report shows the first {MAX_CELL_CHARS - 1:,} "
                    "and an ellipsis. The input and the coded CSV keep it whole.",
                }
            )
    room = EXCEL_MAX_COLS - 1 - 6  # Row first, the coded columns last
    past = table.headers[room:]
    if past:
        out.append(
            {
                "rule": "CELL-OVERSIZE",
                "row": table.header_row,
                "value": f"{len(past):,} columns",
                "message": f"The chargemaster has {len(table.headers):,} columns; the report's "
                f"Chargemaster sheet holds the first {room:,} (Excel stops at column XFD). "
                f"Not shown: {', '.join(past[:5])}{' ...' if len(past) > 5 else ''}.",
            }
        )
    return out


def _os_message(job: Job, exc: OSError) -> str:
    """An environment problem as one line: the file, what happened, what to do."""
    name = exc.filename or job.options.chargemaster
    reason = exc.strerror or str(exc)
    hint = {
        errno.EACCES: "check the file's permissions",
        errno.EPERM: "check the file's permissions",
        errno.ENOENT: "was it moved or deleted during the run?",
        errno.ENOSPC: "free some disk space and run again",
        errno.ENAMETOOLONG: "use a shorter path",
        errno.EROFS: "write the outputs to another folder",
    }.get(exc.errno, "check the path and run again")
    return f"{name}: {reason}; {hint}"


def execute(job: Job) -> dict[str, Any]:
    """Run one job to its report; a user's bad input becomes an exit-2 summary, not a raise."""
    started = time.perf_counter()
    try:
        result = run(job.options)
        extra = oversize_findings(result)
        if job.baseline is not None and not Path(job.baseline).exists():
            log.warning(
                "%s: no baseline report yet (the first night?): no Changes sheet this time",
                job.baseline,
            )
            result.stats["baseline"] = f"{job.baseline} (not found: no comparison this time)"
        elif job.baseline is not None:
            base = read_baseline(job.baseline, result.config.aliases)
            result.changes = compare(result, base)
            result.notes = base.notes
            result.stats["baseline"] = str(job.baseline)
            extra += mismatch_findings(result, base)
        _add_findings(result, extra)
        write_report(result, job.output, job.protect)
        if job.coded_output is not None:
            t0 = time.perf_counter()
            write_coded(result, job.coded_output, job.protect)
            log.debug("write coded output: %.3f s", time.perf_counter() - t0)
        code = result.exit_code(job.fail_on)
        log.info(
            "%s: %d lines, exit %d, report %s",
            job.options.chargemaster,
            result.stats["lines"],
            code,
            job.output,
        )
        summary = summary_of(result, job.output, code)
        summary["outputs"]["coded"] = str(job.coded_output) if job.coded_output else None
        summary["seconds"] = round(time.perf_counter() - started, 3)  # writing included
        return summary
    except ChargemasterError as exc:
        log.error("%s", exc)
        return failure_summary(job, str(exc))
    except OSError as exc:  # permissions, a file deleted mid-run, a full disk
        if job.debug:
            raise
        message = _os_message(job, exc)
        log.error("%s", message)
        return failure_summary(job, message)
    except Exception as exc:  # a bug of ours must not stop the other facilities
        if job.debug:
            raise
        log.debug("unexpected failure on %s", job.options.chargemaster, exc_info=True)
        return failure_summary(
            job,
            f"{job.options.chargemaster}: unexpected failure ({type(exc).__name__}: {exc}); "
            "rerun with --debug and report it",
        )


def expand_inputs(paths: list[Path]) -> list[Path]:
    """Files as given; a folder gives its spreadsheets (not reports, not Excel lock files)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            for child in sorted(p.iterdir()):
                suffix = child.suffix.lower()
                if (
                    child.is_file()
                    and suffix in EXCEL_SUFFIXES | CSV_SUFFIXES
                    and not child.name.startswith(("~$", "."))
                    and not child.name.endswith(".report.xlsx")
                    and child.name != ROLLUP_NAME
                ):
                    out.append(child)
        else:
            out.append(p)
    return out


ROLLUP_NAME = "chargemaster_rollup.xlsx"


def plan_jobs(
    inputs: list[Path],
    base: RunOptions,
    output: Path | None,
    baseline: Path | None,
    fail_on: str,
    debug: bool = False,
    coded_output: Path | None = None,
) -> list[Job]:
    """Single input: ``output`` is the report file. Several: ``output`` is a folder."""
    jobs = []
    many = len(inputs) > 1
    for path in inputs:
        if many:
            folder = output if output is not None else path.parent
            target = folder / default_output(path).name
            prior = baseline / default_output(path).name if baseline is not None else None
            if prior is not None and not prior.exists():
                prior = None  # a facility new since last night has nothing to compare
        else:
            target = output or default_output(path)
            prior = baseline
        coded = coded_output if not many else None
        jobs.append(Job(replace(base, chargemaster=path), target, prior, fail_on, debug, coded))
    return jobs


def run_jobs(jobs: list[Job], workers: int | None = None) -> list[dict[str, Any]]:
    """Every job, in parallel over the machine's cores when there are several; input order.

    A worker process that dies (killed, out of memory) breaks the pool: the jobs it left
    unfinished are run again one per fresh process, so the one that kills its process is
    marked failed and the others finish.
    """
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    if workers == 1:
        return [execute(j) for j in jobs]
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(execute, j): i for i, j in enumerate(jobs)}
        for future, i in futures.items():
            with contextlib.suppress(BrokenProcessPool):  # rerun alone below
                results[i] = future.result()
    for i, job in enumerate(jobs):
        if results[i] is None:
            results[i] = _isolated(job)
    return [r for r in results if r is not None]


def _isolated(job: Job) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1) as pool:
        try:
            return pool.submit(execute, job).result()
        except BrokenProcessPool:
            message = (
                f"{job.options.chargemaster}: the run of this file was killed (out of memory, or "
                "stopped by the system); the other inputs were checked. Check the file, or run "
                "it alone"
            )
            log.error("%s", message)
            return failure_summary(job, message)


def overall_exit(summaries: list[dict[str, Any]]) -> int:
    codes = [s["exit_code"] for s in summaries]
    return 2 if 2 in codes else max(codes, default=0)


def write_summary_json(
    path: Path, summaries: list[dict[str, Any]], started: float, protect: list[Path]
) -> None:
    doc = {
        "tool": "chargemaster",
        "version": __version__,
        "started_at": dt.datetime.fromtimestamp(started).astimezone().isoformat(timespec="seconds"),
        "duration_s": round(time.time() - started, 3),
        "exit_code": overall_exit(summaries),
        "runs": summaries,
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), protect)


ROLLUP_HEADERS = [
    "Input",
    "Status",
    "Exit Code",
    "Lines",
    "Active Lines",
    "Errors",
    "Warnings",
    "Info",
    "Statically Coded",
    "Report",
    "Input SHA-256",
    "Error",
    "Rows Skipped",
    "Skipped By Kind",
]


def write_rollup(path: Path, summaries: list[dict[str, Any]], protect: list[Path]) -> Path:
    """One row per facility, and its findings by rule (long format, pivot-ready)."""

    def write(tmp: Path) -> None:
        book = Book(tmp, "Chargemaster roll-up", constant_memory=True)
        rows = []
        for s in summaries:
            counts = s["counts"] or {}
            rows.append(
                [
                    s["input"],
                    "failed" if s["error"] else "ok",
                    s["exit_code"],
                    s["lines"],
                    s["active_lines"],
                    counts.get("error"),
                    counts.get("warning"),
                    counts.get("info"),
                    s["statically_coded"],
                    s["outputs"]["report"],
                    s["input_sha256"],
                    s["error"],
                    s["skipped_rows"],
                    ", ".join(f"{v} {k}" for k, v in (s.get("skipped_by_kind") or {}).items()),
                ],
            )
        columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[]] * len(ROLLUP_HEADERS)
        widths = [50, 8, 9, 10, 12, 10, 10, 10, 16, 40, 40, 60, 12, 40][: len(ROLLUP_HEADERS)]
        counts = dict.fromkeys(range(3, 9), "count")
        book.table("Facilities", ROLLUP_HEADERS, columns, widths=widths, formats=counts)
        by_rule = [
            [s["input"], rule, RULES[rule].severity.value, n]
            for s in summaries
            for rule, n in (s["by_rule"] or {}).items()
        ]
        columns = [list(c) for c in zip(*by_rule, strict=True)] if by_rule else [[]] * 4
        book.table(
            "Findings by rule",
            ["Input", "Rule", "Severity", "Count"],
            columns,
            widths=[50, 26, 10, 10],
            formats={3: "count"},
        )
        book.close()

    return atomic_write(path, write, protect)
