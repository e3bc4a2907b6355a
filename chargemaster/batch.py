"""Runs as the scheduler sees them: one job per chargemaster, a JSON-able summary per job,
several jobs in parallel, a roll-up workbook with one row per facility."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import xlsxwriter

from . import __version__
from .catalog import RULES
from .changes import compare, read_baseline
from .coded import write_coded
from .errors import ChargemasterError
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


def execute(job: Job) -> dict[str, Any]:
    """Run one job to its report; a user's bad input becomes an exit-2 summary, not a raise."""
    try:
        result = run(job.options)
        if job.baseline is not None:
            base = read_baseline(job.baseline, result.config.aliases)
            result.changes = compare(result, base)
        write_report(result, job.output)
        if job.coded_output is not None:
            write_coded(result, job.coded_output)
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
        return summary
    except ChargemasterError as exc:
        log.error("%s", exc)
        return failure_summary(job, str(exc))
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
    """Every job, in parallel over the machine's cores when there are several; input order."""
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    if workers == 1:
        return [execute(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(execute, jobs))


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
        book = xlsxwriter.Workbook(
            str(tmp),
            {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
        )
        book.set_properties(
            {
                "title": "Chargemaster roll-up",
                "author": "chargemaster",
                "created": dt.datetime(2000, 1, 1),
            }
        )
        bold = book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
        ws = book.add_worksheet("Facilities")
        ws.write_row(0, 0, ROLLUP_HEADERS, bold)
        for r, s in enumerate(summaries, start=1):
            counts = s["counts"] or {}
            ws.write_row(
                r,
                0,
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
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, len(summaries), len(ROLLUP_HEADERS) - 1)
        ws.set_column(0, 0, 50)
        ws.set_column(9, 11, 40)
        by_rule = book.add_worksheet("Findings by rule")
        by_rule.write_row(0, 0, ["Input", "Rule", "Severity", "Count"], bold)
        r = 1
        for s in summaries:
            for rule, n in (s["by_rule"] or {}).items():
                by_rule.write_row(r, 0, [s["input"], rule, RULES[rule].severity.value, n])
                r += 1
        by_rule.freeze_panes(1, 0)
        by_rule.autofilter(0, 0, max(r - 1, 0), 3)
        by_rule.set_column(0, 0, 50)
        by_rule.set_column(1, 1, 26)
        book.close()

    return atomic_write(path, write, protect)
