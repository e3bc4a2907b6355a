"""The nightly run as straight-line code: read -> repair -> contract -> static coding -> rules.

``run`` is the library entry point a notebook user calls; the CLI is a thin layer over it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from . import __version__, safety
from . import findings as F
from .catalog import FINDING_COLUMNS, RULES, Severity
from .codemap import CodeMap, apply_code_map, read_code_map
from .config import Config, load_config
from .errors import InputError
from .feeschedule import fee_findings, load_fee_schedules
from .fields import LINE_COLUMNS, REVENUE_FIELDS, field_specs
from .prepare import Lines, prepare
from .reader import Table, columns_table, read_table, reading_findings
from .refcheck import reference_findings
from .reference import Reference, load_reference
from .rules import run_rules
from .schema import contract_findings
from .suggest import suggest_findings

log = logging.getLogger("chargemaster")


@dataclass(frozen=True)
class RunOptions:
    chargemaster: Path
    code_map: Path | None = None
    config: Path | None = None
    sheet: str | None = None
    header_row: int | None = None
    as_of: dt.date | None = None
    hcpcs_file: Path | None = None  # a CMS alpha-numeric HCPCS file replacing the bundled one
    # OPPS Addendum B: CPT codes become checkable; several releases (or a folder) date them.
    addendum_b: Path | tuple[Path, ...] | None = None
    cpt_list: Path | None = None  # a plain list of valid CPT codes
    # role -> header names (--column ROLE=HEADER); win over [columns] of the configuration
    columns: dict[str, tuple[str, ...]] | None = None
    clfs: tuple[Path, ...] = ()  # CMS lab fee schedules, one per release (PRICE-BELOW-FEE-SCHEDULE)


@dataclass
class Result:
    options: RunOptions
    config: Config
    table: Table
    lines: Lines
    code_map: CodeMap | None
    reference: Reference
    findings: pd.DataFrame  # FINDING_COLUMNS, sorted by severity then row
    as_of: dt.date
    stats: dict = field(default_factory=dict)
    changes: pd.DataFrame | None = None  # set when compared with a baseline report
    suggestions: pd.DataFrame | None = None  # candidate codes for uncoded lines, ranked
    source: bytes | None = None  # the input's bytes as read and checked (for --coded-output)
    notes: dict | None = None  # analysts' Status/Owner/Comment carried from the baseline
    below_fee: pd.DataFrame | None = None  # lines priced below Medicare: price, rate, gap, source

    def count(self, severity: Severity) -> int:
        return int(self.findings["severity"].eq(severity.value).sum())

    def exit_code(self, fail_on: str = "error") -> int:
        """0 clean, 1 findings at or above ``fail_on`` ('error', 'warning' or 'never')."""
        if fail_on == "never":
            return 0
        levels = {"error": ["error"], "warning": ["error", "warning"]}[fail_on]
        return int(self.findings["severity"].isin(levels).any())


def run(options: RunOptions, progress: Callable[[str], None] | None = None) -> Result:
    """Check one chargemaster; never writes anything."""
    started = time.perf_counter()
    step = progress or (lambda _msg: None)
    timings: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        timings[name] = round(time.perf_counter() - t0, 3)
        log.debug("stage %s: %.3f s", name, timings[name])
        return time.perf_counter()

    t, c = time.perf_counter(), time.process_time()
    config = load_config(options.config)
    step(f"Reading {options.chargemaster}")
    table = read_input(options, config)
    t = lap("read", t)
    read_cpu = round(time.process_time() - c, 3)
    result = check_table(table, options, config, step, started, timings)
    result.stats["cpu_timings"] = {"read": read_cpu, **result.stats["cpu_timings"]}
    return result


def read_input(options: RunOptions, config: Config) -> Table:
    """The chargemaster of ``options`` as a Table of its lines; unusable input raises."""
    specs = field_specs("chargemaster", config.aliases)
    columns = {**config.columns, **(options.columns or {})}
    # Read the input once: the checks, the hash and the coded output all use these bytes.
    source = safety.pin(options.chargemaster)
    try:
        table = read_table(
            options.chargemaster,
            specs,
            options.sheet,
            options.header_row,
            columns={k: list(v) for k, v in columns.items()} or None,
            placeholders=config.hcpcs_placeholders,
        )
    finally:
        safety.unpin(options.chargemaster)
    table.source = source  # kept with the table it was read into (see check_table)
    if not table.fields.get("description"):
        raise InputError(
            f"{options.chargemaster}: no description column in the header row "
            f"{table.header_row} (headers seen: {', '.join(table.headers)})"
        )
    if table.data.empty:  # a scheduler must not take an empty export for a clean night
        where = f"sheet '{table.sheet}' " if table.sheet else ""
        raise InputError(
            f"{options.chargemaster}: {where}has no chargemaster lines under the header row "
            f"{table.header_row}: is the export empty or cut short?"
        )
    return table


def check_table(
    table: Table,
    options: RunOptions,
    config: Config,
    step: Callable[[str], None] | None = None,
    started: float | None = None,
    timings: dict[str, float] | None = None,
) -> Result:
    """Every check on a table already read (from a file, or from a DataFrame by the API)."""
    step = step or (lambda _msg: None)
    started = started if started is not None else time.perf_counter()
    timings = timings if timings is not None else {}
    as_of = options.as_of or dt.date.today()
    source = getattr(table, "source", None)  # None for a table built from a DataFrame
    # CPU seconds per stage beside the wall seconds: on a shared machine wall time includes
    # waiting for a core (benchmarks compare CPU).
    cpu: dict[str, float] = {}
    c = time.process_time()

    def lap(name: str, t0: float) -> float:
        nonlocal c
        timings[name] = round(time.perf_counter() - t0, 3)
        cpu[name] = round(time.process_time() - c, 3)
        c = time.process_time()
        log.debug("stage %s: %.3f s", name, timings[name])
        return time.perf_counter()

    t = time.perf_counter()
    step("Loading reference code sets")
    reference = load_reference(options.hcpcs_file, options.addendum_b, options.cpt_list)
    fees = load_fee_schedules(options.clfs, options.addendum_b)
    t = lap("reference", t)
    step(f"Checking {len(table.data):,} lines")
    lines = prepare(table, config, as_of, reference)
    t = lap("repair", t)
    active_rows = lines.frame.index[lines.frame["active"]]
    parts = [lines.findings, *reading_findings(table)]
    parts.append(
        contract_findings(
            lines.check.loc[active_rows],
            lines.check_source,
            table.letters,
            lines.frame["charge_code"],
        )
    )
    t = lap("contract", t)
    code_map = None
    if options.code_map is not None:
        step(f"Reading code map {options.code_map}")
        code_map = read_code_map(options.code_map, config, reference, as_of)
        parts.append(code_map.findings)
    has = {f for f, cols in table.fields.items() if cols}
    if has & set(REVENUE_FIELDS):
        has.add("revenue_code")
    if code_map is not None and "charge_code" not in has:
        parts.append(
            F.make(
                "RULE-SKIPPED",
                message="Static coding did not run: the chargemaster has no charge code column "
                "to match the code map on.",
                value="static coding",
                row=table.header_row,
            )
        )
        code_map_applied = None
    else:
        code_map_applied = code_map
    parts.extend(apply_code_map(lines.frame, code_map_applied, config))
    undeclared = set(LINE_COLUMNS) ^ set(lines.frame.columns)
    if undeclared:  # the line table is declared once (fields.LINE_COLUMNS): a stage drifted
        raise RuntimeError(f"line table columns differ from LINE_COLUMNS: {sorted(undeclared)}")
    t = lap("static coding", t)
    parts.extend(run_rules(lines, config, has, reference, as_of, table.header_row))
    parts.extend(reference_findings(lines, reference, as_of, table.letters, table.header_row))
    fee_parts, below_fee = fee_findings(lines, fees, config, as_of, table.header_row)
    parts.extend(fee_parts)
    t = lap("rules", t)
    step("Suggesting codes")
    combined, more, suggestions = suggest_findings(
        lines, F.combine(parts), reference, config, as_of
    )
    t = lap("suggestions", t)
    found = finalize(F.combine([combined, *more]), table, lines, config)
    # Arrow's allocator keeps the pages the checks freed (about 280 MB on 1M lines); the report
    # is written with Python objects, which cannot reuse them: hand them back before writing.
    pa.default_memory_pool().release_unused()
    lap("collect", t)
    frame = lines.frame
    stats = {
        "input": str(options.chargemaster),
        "input_sha256": safety.sha256(source)
        if source is not None
        else (sha256_of(options.chargemaster) if Path(options.chargemaster).is_file() else ""),
        "sheet": table.sheet,
        "header_row": table.header_row,
        "lines": len(frame),
        "active_lines": int(frame["active"].sum()),
        "skipped_rows": int(sum(table.skipped.values())),
        "skipped_detail": dict(table.skipped),
        "columns": columns_table(table),
        "other_parts": [p.grid.sheet for p in table.parts],
        # Code cells holding a configured "no code" placeholder ('0', 'NONE'), read as blank.
        "code_placeholders": dict(lines.placeholders),
        # Lines made inactive by a revenue-code marker or as older price-history rows, by reason.
        "retired_lines": dict(lines.retired),
        "ancillary_lines": int((frame["ancillary"] & frame["active"]).sum()),
        "statically_coded": int(frame["code_source"].eq("code map").sum()),
        "code_map": str(options.code_map) if options.code_map else "",
        "code_map_entries": len(code_map.entries) if code_map is not None else 0,
        "as_of": as_of.isoformat(),
        "reference": [r.describe() for r in [*reference.releases, *fees.releases]],
        "below_medicare": None
        if below_fee is None
        else {"lines": len(below_fee), "gap_per_unit": round(float(below_fee["gap"].sum()), 2)},
        "cpt_checked": reference.checks_cpt,
        "config": config.source,
        "version": __version__,
        "timings": timings,
        "cpu_timings": cpu,
        "seconds": round(time.perf_counter() - started, 3),
    }
    return Result(
        options,
        config,
        table,
        lines,
        code_map,
        reference,
        found,
        as_of,
        stats,
        suggestions=suggestions,
        source=source,
        below_fee=below_fee,
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def finalize(found: pd.DataFrame, table: Table, lines: Lines, config: Config) -> pd.DataFrame:
    """Severity (with overrides), A1 cell, charge code; sorted by severity, row, rule."""
    if found.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in FINDING_COLUMNS})
    found = found.copy()
    letter = found["letter"].where(found["letter"].notna(), found["column"].map(table.letters))
    row = pd.to_numeric(found["row"], errors="coerce").astype("Int64")
    cell = letter.astype("object").where(letter.notna() & row.notna(), None)
    found["cell"] = [
        f"{c}{r}" if c is not None else None
        for c, r in zip(cell, row.astype("object"), strict=True)
    ]
    found["row"] = row
    severity = {rid: config.severity.get(rid, r.severity.value) for rid, r in RULES.items()}
    found["severity"] = found["rule"].map(severity)
    rank = found["severity"].map({"error": 0, "warning": 1, "info": 2})
    # Code map findings (their cell names the map file) come after the chargemaster's own.
    in_map = found["cell"].fillna("").str.contains("!", regex=False)
    order = (
        pd.DataFrame({"rank": rank, "map": in_map, "row": row.fillna(0), "rule": found["rule"]})
        .sort_values(["rank", "map", "row", "rule"], kind="stable")
        .index
    )
    found = found.loc[order, FINDING_COLUMNS].reset_index(drop=True)
    text = [c for c in FINDING_COLUMNS if c != "row"]
    found[text] = found[text].astype("object").where(found[text].notna(), None)
    return found
