"""The command line: parse, call the library, report, choose the exit code.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it (the report is still
written); 2 unusable input, configuration or usage (for a batch: any input unusable).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
import warnings
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .batch import (
    ROLLUP_NAME,
    default_output,
    expand_inputs,
    overall_exit,
    plan_jobs,
    run_jobs,
    write_rollup,
    write_summary_json,
)
from .catalog import RULES
from .config import DEFAULTS_TEXT, load_config
from .errors import ChargemasterError
from .feeschedule import load_fee_schedules
from .output import check_outputs
from .pipeline import RunOptions
from .refcheck import stale_releases
from .reference import load_reference

app = typer.Typer(
    help="Validate and statically code a hospital chargemaster; write an Excel report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: rich markup would swallow "[default: ...]" in the option help.
    rich_markup_mode=None,
)
err = Console(stderr=True, highlight=False)
log = logging.getLogger("chargemaster")


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    never = "never"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chargemaster {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """chargemaster: nightly checks and static coding for a hospital chargemaster."""


def _date(text: str | None, option: str = "--as-of") -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _fail(f"{option} '{text}' is not a date like 2026-01-01") from None


def _plural(n: int, word: str) -> str:
    if word == "info":
        return f"{n:,} info"
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _fail(message: str) -> typer.Exit:
    log.error("%s", message)
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _setup_logging(quiet: bool, debug: bool, log_file: Path | None) -> None:
    """Timestamped logs on stderr for the scheduler; on a terminal only warnings (the progress
    display says the rest); --log-file gets everything."""
    log.handlers.clear()
    # Python warnings (from pandas, openpyxl, ...) go through the log, never raw to stderr.
    logging.captureWarnings(True)
    py_warnings = logging.getLogger("py.warnings")
    py_warnings.handlers.clear()
    py_warnings.propagate = False
    if quiet and not debug:
        warnings.simplefilter("ignore")
        os.environ["PYTHONWARNINGS"] = "ignore"  # the worker processes too
    log.setLevel(logging.DEBUG)
    log.propagate = False
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    console = logging.StreamHandler(sys.stderr)
    if debug:
        console.setLevel(logging.DEBUG)
    elif quiet or err.is_terminal:
        console.setLevel(logging.CRITICAL + 1)  # errors are printed as one plain line
    else:
        console.setLevel(logging.INFO)
    console.setFormatter(fmt)
    # Errors reach stderr as one plain "error: ..." line each (see _fail and run_command).
    console.addFilter(lambda record: record.levelno < logging.ERROR)
    log.addHandler(console)
    py_warnings.addHandler(console)
    if log_file is not None:
        try:
            handler = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            raise _fail(f"{log_file}: cannot open the log file ({exc.strerror})") from None
        handler.setLevel(logging.DEBUG if debug else logging.INFO)
        handler.setFormatter(fmt)
        log.addHandler(handler)
        py_warnings.addHandler(handler)


@app.command("run")
def run_command(
    chargemasters: Annotated[
        list[Path],
        typer.Argument(help="Chargemaster files (.xlsx, .xls, .csv) or folders of them."),
    ],
    code_map: Annotated[
        Path | None,
        typer.Option("--code-map", help="Static code map: charge code -> HCPCS [default: none]."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Report path (.xlsx), or a folder; with several inputs, the folder for their "
            "reports [default: <input>.report.xlsx beside each input].",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Site TOML config [default: the built-in defaults]."),
    ] = None,
    sheet: Annotated[
        list[str] | None,
        typer.Option(
            "--sheet",
            help="Sheet to read; repeat it, or 'all', to read every part of the chargemaster "
            "(one report per sheet) [default: found automatically].",
        ),
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(
            "--column",
            help="ROLE=HEADER: the column of a role (charge_code, description, revenue_code, "
            "hcpcs, modifiers, price, ...), whatever names or values say. Repeatable.",
        ),
    ] = None,
    header_row: Annotated[
        int | None,
        typer.Option("--header-row", help="1-based header row [default: found automatically]."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Validity date, YYYY-MM-DD [default: today].")
    ] = None,
    hcpcs_file: Annotated[
        Path | None,
        typer.Option("--hcpcs-file", help="CMS alpha-numeric HCPCS file (.xlsx or .txt)."),
    ] = None,
    addendum_b: Annotated[
        list[Path] | None,
        typer.Option(
            "--addendum-b",
            help="OPPS Addendum B (.xlsx or .csv): check CPT codes too. Repeat it, or name a "
            "folder, to load several releases and date CPT codes by them.",
        ),
    ] = None,
    cpt_list: Annotated[
        Path | None,
        typer.Option("--cpt-list", help="A plain list of valid CPT codes (first column)."),
    ] = None,
    clfs: Annotated[
        list[Path] | None,
        typer.Option(
            "--clfs",
            help="CMS Clinical Laboratory Fee Schedule (.csv or .xlsx), repeatable for several "
            "releases: lab prices below it are flagged.",
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="Last night's report (a folder of them with several "
            "inputs): adds a Changes sheet and carries Status/Owner/Comment forward; a missing "
            "one (the first night) is a warning.",
        ),
    ] = None,
    coded_output: Annotated[
        Path | None,
        typer.Option(
            "--coded-output",
            help="Write the chargemaster back in its own layout with "
            "repaired and attached codes (.xlsx or .csv).",
        ),
    ] = None,
    summary_json: Annotated[
        Path | None,
        typer.Option("--summary-json", help="Write a JSON summary for schedulers [default: none]."),
    ] = None,
    rollup: Annotated[
        Path | None,
        typer.Option(
            "--rollup",
            help=f"Roll-up workbook with several inputs [default: {ROLLUP_NAME} in the -o folder].",
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", help=f"Parallel runs [default: {os.cpu_count() or 1}, the cores]."),
    ] = None,
    log_file: Annotated[
        Path | None, typer.Option("--log-file", help="Also log here (appended).")
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Severity that makes the exit code 1.")
    ] = FailOn.error,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and timings.")] = False,
) -> None:
    """Check chargemasters and write a report workbook for each.

    Example: chargemaster run cdm.xlsx --code-map static_codes.xlsx -o report.xlsx
    """
    global _COMMAND_START
    started = _COMMAND_START = time.time()
    _setup_logging(quiet, debug, None)
    if jobs is not None and jobs < 1:
        raise _fail(f"--jobs {jobs}: give 1 or more parallel runs")
    if header_row is not None and header_row < 1:
        raise _fail(f"--header-row {header_row}: rows are numbered from 1")
    day = _date(as_of)
    inputs = expand_inputs(chargemasters)
    if not inputs:
        raise _fail(f"{', '.join(map(str, chargemasters))}: no chargemaster files found")
    many = len(inputs) > 1 or chargemasters[0].is_dir()
    if many and output is not None and not output.is_dir():
        raise _fail(f"{output}: with several inputs, -o must be an existing folder")
    if many and baseline is not None and not baseline.is_dir():
        raise _fail(f"{baseline}: with several inputs, --baseline must be a folder of reports")
    if many and coded_output is not None:
        raise _fail("--coded-output takes a single chargemaster, not several")
    sheets = list(sheet or [])
    several_sheets = len(sheets) > 1 or any(s.lower() == "all" for s in sheets)
    if several_sheets and coded_output is not None:
        raise _fail("--coded-output takes a single sheet, not several")
    if several_sheets and output is not None and not output.is_dir():
        raise _fail(f"{output}: with several sheets, -o must be an existing folder")
    if not many and not several_sheets and output is not None and output.is_dir():
        output = output / default_output(inputs[0]).name
    if coded_output is not None and coded_output.suffix.lower() not in (".xlsx", ".csv"):
        raise _fail(f"{coded_output}: the coded output must end in .xlsx or .csv")
    if rollup is not None and rollup.suffix.lower() != ".xlsx":
        raise _fail(f"{rollup}: the roll-up is an Excel workbook: give it a name ending in .xlsx")
    try:  # a bad configuration is one error, not one per input
        load_config(config)
    except ChargemasterError as exc:
        raise _fail(str(exc)) from None
    base = RunOptions(
        inputs[0],
        code_map,
        config,
        sheets[0] if len(sheets) == 1 and not several_sheets else None,
        header_row,
        day,
        hcpcs_file,
        tuple(addendum_b or ()) or None,
        cpt_list,
        columns=_columns(column or []),
        clfs=tuple(clfs or ()),
    )
    if several_sheets:
        try:
            job_list = plan_sheet_jobs(inputs, sheets, base, output, fail_on.value, debug)
        except ChargemasterError as exc:
            raise _fail(str(exc)) from None
        many = True
    else:
        job_list = plan_jobs(inputs, base, output, baseline, fail_on.value, debug, coded_output)
    if many and len({j.output for j in job_list}) < len(job_list):
        raise _fail("two inputs would write the same report name; give them distinct names")
    references = [hcpcs_file, cpt_list, *(addendum_b or []), *(clfs or [])]
    protect = [*inputs, *(p for p in (code_map, config, *references) if p)]
    job_list = [replace(j, protect=tuple(protect)) for j in job_list]
    rollup_path = (rollup or (output or inputs[0].parent) / ROLLUP_NAME) if many else None
    outputs: dict[str, Path | None] = {
        f"report of {j.options.chargemaster.name}": j.output for j in job_list
    }
    outputs |= {"coded output": coded_output, "summary JSON": summary_json, "roll-up": rollup_path}
    try:  # every output is checked before anything is written
        check_outputs(outputs, protect)
        if log_file is not None:
            check_outputs({"log file": log_file, **outputs}, protect)
    except ChargemasterError as exc:
        raise _fail(str(exc)) from None
    if not many and output is not None and output.suffix.lower() != ".xlsx":
        raise _fail(f"{output}: the report is an Excel workbook: give -o a name ending in .xlsx")
    _setup_logging(quiet, debug, log_file)
    show = not quiet and err.is_terminal
    try:
        if show:
            with err.status(f"Checking {_plural(len(inputs), 'file')}"):
                summaries = _execute(job_list, jobs, debug)
        else:
            summaries = _execute(job_list, jobs, debug)
        code = overall_exit(summaries)
        if many:
            write_rollup(rollup_path, summaries, protect)
        if summary_json is not None:
            # As a process, the run began when the interpreter did (imports included).
            began = time.time() - process_seconds() if _AS_PROCESS else started
            write_summary_json(summary_json, summaries, began, protect)
    except ChargemasterError as exc:
        raise _fail(str(exc)) from None
    for s in summaries:
        if s["error"]:
            typer.echo(f"error: {s['error']}", err=True)
    whole = process_seconds() if _AS_PROCESS else time.time() - started
    logging.getLogger("chargemaster").debug("run: %.2f s from process start to finish", whole)
    if not quiet:
        if len(summaries) == 1 and not summaries[0]["error"]:  # one run: its time is the whole
            summaries[0] = {**summaries[0], "seconds": whole}
        _print_summaries(summaries, rollup_path)
        if len(summaries) > 1:
            typer.echo(f"{len(summaries)} inputs in {whole:.1f}s.")
    raise typer.Exit(code)


_COMMAND_START = time.time()
_AS_PROCESS = False  # run through main(): the process is this run (not a test or a library)


def process_seconds() -> float:
    """Wall seconds since this process started (interpreter start and imports included, which
    a timer started in a command misses), from /proc on Linux; elsewhere since the command
    line was parsed."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            fields = fh.read().rpartition(")")[2].split()
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return max(uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError):
        return time.time() - _COMMAND_START


def _columns(pairs: list[str]) -> dict[str, tuple[str, ...]] | None:
    """--column ROLE=HEADER, repeated: role -> header names."""
    out: dict[str, tuple[str, ...]] = {}
    for pair in pairs:
        role, sep, header = pair.partition("=")
        if not sep or not role.strip() or not header.strip():
            raise _fail(f"--column {pair}: write it as ROLE=HEADER, e.g. --column price='STD AMT'")
        out[role.strip()] = (*out.get(role.strip(), ()), header.strip())
    return out or None


def plan_sheet_jobs(inputs, sheets, base, output, fail_on, debug):
    """One job per sheet part of each input: the named sheets, or with 'all' the chosen sheet
    and every sheet that looks like a further part of the same chargemaster."""
    from dataclasses import replace

    from .batch import Job
    from .fields import field_specs
    from .reader import sheet_parts

    specs = field_specs("chargemaster", load_config(base.config).aliases)
    job_list = []
    for path in inputs:
        names = sheet_parts(path, specs) if any(s.lower() == "all" for s in sheets) else sheets
        for name in names:
            safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip()) or "sheet"
            target = (output or path.parent) / f"{path.stem}.{safe}.report.xlsx"
            opts = replace(base, chargemaster=path, sheet=name)
            job_list.append(Job(opts, target, None, fail_on, debug, None))
    return job_list


def _execute(job_list, workers, debug) -> list[dict[str, Any]]:
    return run_jobs(job_list, 1 if debug else workers)


def _print_summaries(summaries: list[dict[str, Any]], rollup_path: Path | None) -> None:
    out = Console(highlight=False)
    ok = [s for s in summaries if not s["error"]]
    if out.is_terminal and ok:
        # Narrow columns only (fits 80 columns); the paths follow, one per line.
        table = Table(title="chargemaster", show_lines=False)
        for col in ("Input", "Lines", "Skipped", "Errors", "Warnings", "Info", "Coded", "Seconds"):
            table.add_column(col, justify="left" if col == "Input" else "right", overflow="fold")
        for s in ok:
            c = s["counts"]
            table.add_row(
                Path(s["input"]).name,
                f"{s['lines']:,}",
                f"{s['skipped_rows']:,}",
                f"{c['error']:,}",
                f"{c['warning']:,}",
                f"{c['info']:,}",
                f"{s['statically_coded']:,}",
                f"{s['seconds']:.1f}",
            )
        out.print(table)
        if len(ok) == 1:
            top = sorted(ok[0]["by_rule"].items(), key=lambda kv: -kv[1])[:8]
            rules = Table(title="Findings by rule")
            for col in ("Rule", "Severity", "Count"):
                rules.add_column(col, justify="right" if col == "Count" else "left")
            for rule, n in top:
                rules.add_row(rule, RULES[rule].severity.value, f"{n:,}")
            out.print(rules)
    for s in ok:
        c = s["counts"]
        if not out.is_terminal:
            typer.echo(
                f"{s['input']}: {_plural(s['lines'], 'line')} checked in {s['seconds']:.1f}s: "
                f"{_plural(c['error'], 'error')}, {_plural(c['warning'], 'warning')}, "
                f"{_plural(c['info'], 'info')}; "
                f"{_plural(s['statically_coded'], 'line')} statically coded."
            )
        if s.get("skipped_rows") and not out.is_terminal:
            kinds = ", ".join(f"{v:,} {k}" for k, v in s["skipped_by_kind"].items())
            typer.echo(f"Rows not read as lines: {s['skipped_rows']:,} ({kinds}).")
        typer.echo(f"Report: {s['outputs']['report']}")
        if s["outputs"].get("coded"):
            typer.echo(f"Coded chargemaster: {s['outputs']['coded']}")
    if rollup_path is not None:
        typer.echo(f"Roll-up: {rollup_path}")


@app.command("reference")
def reference_command(
    hcpcs_file: Annotated[
        Path | None,
        typer.Option(
            "--hcpcs-file",
            help="CMS alpha-numeric HCPCS file (.xlsx or .txt) [default: the bundled one].",
        ),
    ] = None,
    addendum_b: Annotated[
        list[Path] | None,
        typer.Option(
            "--addendum-b",
            help="OPPS Addendum B releases (repeat it, or a folder) [default: none].",
        ),
    ] = None,
    cpt_list: Annotated[
        Path | None,
        typer.Option("--cpt-list", help="A plain list of valid CPT codes [default: none]."),
    ] = None,
    clfs: Annotated[
        list[Path] | None,
        typer.Option("--clfs", help="CMS Clinical Laboratory Fee Schedule(s) [default: none]."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Date to judge staleness, YYYY-MM-DD [default: today]."),
    ] = None,
) -> None:
    """Show the reference code sets a run would use: releases, date ranges, counts.

    Example: chargemaster reference --hcpcs-file HCPC2027_JAN_ANWEB.xlsx
    """
    _setup_logging(True, False, None)  # an error is one "error: ..." line, not two
    day = _date(as_of) or dt.date.today()
    try:
        ref = load_reference(hcpcs_file, addendum_b, cpt_list)
        fees = load_fee_schedules(clfs, addendum_b)
    except ChargemasterError as exc:
        raise _fail(str(exc)) from None
    stale = {r.name for r in stale_releases(ref, day)}
    for release in ref.releases:
        flag = ""
        if release.name in stale:
            flag = (
                f"  STALE: starts after {day}"
                if day < release.start
                else f"  STALE: current through {release.valid_through}, before {day}"
            )
        typer.echo(release.describe() + flag)
    for release in fees.releases:
        late = release.valid_through and day > release.valid_through
        typer.echo(
            release.describe()
            + (f"  STALE: current through {release.valid_through}, before {day}" if late else "")
        )
    if ref.history is not None and len(ref.history.releases) > 1:
        now = ref.history.in_force(day)
        typer.echo(
            f"CPT dating: {len(ref.history.releases)} Addendum B releases; in force on {day}: "
            + (now.name if now else "none (the as-of date is before the oldest)")
        )
    if not ref.checks_cpt:
        typer.echo("CPT: checked by shape only (load --addendum-b or --cpt-list to check codes)")
    if not fees.loaded:
        typer.echo("Fee schedules: none (load --clfs and/or --addendum-b to compare prices)")


@app.command("config")
def config_command(
    init: Annotated[
        bool, typer.Option("--init", help="Write the default configuration, every key documented.")
    ] = False,
    path: Annotated[Path | None, typer.Argument(help="Where to write [default: stdout].")] = None,
    check: Annotated[
        Path | None, typer.Option("--check", help="Validate a configuration file.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the default configuration, or check one.

    Example: chargemaster config --init site.toml
    """
    if check is not None:
        try:
            load_config(check)
        except ChargemasterError as exc:
            raise _fail(str(exc)) from None
        typer.echo(f"{check}: valid")
        return
    if not init:
        raise typer.BadParameter("use --init [PATH] or --check PATH")
    if path is None:
        typer.echo(DEFAULTS_TEXT, nl=False)
        return
    if path.exists() and not force:
        raise _fail(f"{path}: already exists (use --force to overwrite)")
    try:
        path.write_text(DEFAULTS_TEXT, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"{path}: cannot write ({exc.strerror})") from None
    typer.echo(f"Wrote {path}")


@app.command("rules")
def rules_command() -> None:
    """Print the rule catalog: id, severity, title.

    Example: chargemaster rules
    """
    for rule in RULES.values():
        note = f"  (not yet: needs {rule.pending})" if rule.pending else ""
        typer.echo(f"{rule.id:<26} {rule.severity.value:<8} {rule.title}{note}")


def main() -> None:
    """The console entry point: a usage error is one line on stderr and exit 2, like the rest."""
    global _AS_PROCESS
    _AS_PROCESS = True
    try:
        code = app(standalone_mode=False)
    except _UsageError as exc:
        typer.echo(
            f"error: {exc.format_message()} (see chargemaster {_command()} --help)", err=True
        )
        sys.exit(2)
    except typer.Abort:
        typer.echo("error: interrupted", err=True)
        sys.exit(130)
    sys.exit(code or 0)


# typer vendors click: its usage errors are the base class of typer.BadParameter.
_UsageError = typer.BadParameter.__mro__[1]


def _command() -> str:
    words = [a for a in sys.argv[1:2] if not a.startswith("-")]
    return words[0] if words else ""
