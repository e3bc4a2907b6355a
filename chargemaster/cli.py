"""The command line: parse, call the library, print a summary, choose the exit code.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it (the report is still
written); 2 unusable input, configuration or usage.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from . import __version__
from .catalog import RULES, Severity
from .errors import ChargemasterError
from .pipeline import RunOptions, run
from .reference import load_reference
from .report import default_output, write_report

app = typer.Typer(
    help="Validate and statically code a hospital chargemaster; write an Excel report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
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


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a date like 2026-01-01") from None


@app.command("run")
def run_command(
    chargemaster: Annotated[Path, typer.Argument(help="The chargemaster (.xlsx, .xls, .csv).")],
    code_map: Annotated[
        Path | None, typer.Option("--code-map", help="Static code map: charge code -> HCPCS.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Report path [default: <input>.report.xlsx]."),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Site TOML config.")] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Sheet to read.")] = None,
    header_row: Annotated[
        int | None, typer.Option("--header-row", min=1, help="1-based header row.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Validity date, YYYY-MM-DD [default: today].")
    ] = None,
    hcpcs_file: Annotated[
        Path | None,
        typer.Option(
            "--hcpcs-file",
            help="CMS alpha-numeric HCPCS file (.xlsx or .txt) to use instead of the bundled one.",
        ),
    ] = None,
    addendum_b: Annotated[
        Path | None,
        typer.Option("--addendum-b", help="OPPS Addendum B (.xlsx or .csv): check CPT codes too."),
    ] = None,
    cpt_list: Annotated[
        Path | None,
        typer.Option("--cpt-list", help="A plain list of valid CPT codes (first column)."),
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Severity that makes the exit code 1.")
    ] = FailOn.error,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and timings.")] = False,
) -> None:
    """Check a chargemaster and write the report workbook.

    Example: chargemaster run cdm.xlsx --code-map static_codes.xlsx -o report.xlsx
    """
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    options = RunOptions(
        chargemaster,
        code_map,
        config,
        sheet,
        header_row,
        _date(as_of),
        hcpcs_file,
        addendum_b,
        cpt_list,
    )
    target = output or default_output(chargemaster)
    show = not quiet and err.is_terminal
    try:
        if show:
            with err.status("Starting") as status:
                result = run(options, progress=lambda m: status.update(m))
                status.update(f"Writing {target}")
                write_report(result, target)
        else:
            result = run(options)
            write_report(result, target)
    except ChargemasterError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:  # a bug of ours: say so in one line unless debugging
        if debug:
            raise
        typer.echo(
            f"error: unexpected failure ({type(exc).__name__}: {exc}); rerun with --debug",
            err=True,
        )
        raise typer.Exit(2) from None
    code = result.exit_code(fail_on.value)
    if not quiet:
        s = result.stats
        typer.echo(
            f"{s['lines']:,} lines checked in {s['seconds']:.1f}s: "
            f"{result.count(Severity.ERROR):,} errors, {result.count(Severity.WARNING):,} "
            f"warnings, {result.count(Severity.INFO):,} info; "
            f"{s['statically_coded']:,} lines statically coded."
        )
        typer.echo(f"Report: {target}")
    raise typer.Exit(code)


@app.command("rules")
def rules_command() -> None:
    """Print the rule catalog: id, severity, title.

    Example: chargemaster rules
    """
    for rule in RULES.values():
        note = f"  (not yet: needs {rule.pending})" if rule.pending else ""
        typer.echo(f"{rule.id:<26} {rule.severity.value:<8} {rule.title}{note}")


@app.command("reference")
def reference_command(
    hcpcs_file: Annotated[Path | None, typer.Option("--hcpcs-file")] = None,
    addendum_b: Annotated[Path | None, typer.Option("--addendum-b")] = None,
    cpt_list: Annotated[Path | None, typer.Option("--cpt-list")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of")] = None,
) -> None:
    """Show the reference code sets a run would use: releases, date ranges, counts.

    Example: chargemaster reference --hcpcs-file HCPC2027_JAN_ANWEB.xlsx
    """
    day = _date(as_of) or dt.date.today()
    try:
        ref = load_reference(hcpcs_file, addendum_b, cpt_list)
    except ChargemasterError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for release in ref.releases:
        stale = (
            f"  STALE: current through {release.valid_through}, before {day}"
            if release.valid_through and day > release.valid_through
            else ""
        )
        typer.echo(release.describe() + stale)
    if not ref.checks_cpt:
        typer.echo("CPT: checked by shape only (load --addendum-b or --cpt-list to check codes)")


def main() -> None:
    app()
