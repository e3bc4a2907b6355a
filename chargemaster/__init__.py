"""chargemaster: validate and statically code a hospital chargemaster, report to Excel.

The library API (the command line is a thin layer over it)::

    from chargemaster import read_chargemaster, check, RunOptions, Result

    table = read_chargemaster("cdm.xlsx")            # lines, column roles, skipped rows
    result = check("cdm.xlsx", as_of=date(2026, 4, 1))
    result = check(df, {"charge_code": "Item", "price": "Std Amt"})   # a DataFrame
"""

from __future__ import annotations

__version__ = "0.1.0"

from collections.abc import Mapping  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from .pipeline import Result, RunOptions  # noqa: E402
from .reader import Table  # noqa: E402

__all__ = ["Result", "RunOptions", "Table", "check", "read_chargemaster"]


def _roles(mapping: Mapping[str, Any] | None) -> dict[str, list[str]] | None:
    if not mapping:
        return None
    return {k: [v] if isinstance(v, str) else list(v) for k, v in mapping.items()}


def read_chargemaster(
    path: str | Path,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    columns: Mapping[str, str | list[str]] | None = None,
    config: str | Path | None = None,
) -> Table:
    """Read a chargemaster file: its lines as text (index = source row), the role of each
    column and why (``table.roles``), and every row not read as a line (``skipped_rows``)."""
    from .config import load_config
    from .fields import field_specs
    from .pipeline import read_input

    cfg = load_config(Path(config) if config else None)
    options = RunOptions(
        Path(path),
        sheet=sheet,
        header_row=header_row,
        columns={k: tuple(v) for k, v in (_roles(columns) or {}).items()} or None,
    )
    field_specs("chargemaster", cfg.aliases)  # a bad [aliases] table fails here, not later
    return read_input(options, cfg)


def check(
    source: str | Path | Any,
    mapping: Mapping[str, str | list[str]] | None = None,
    **options: Any,
) -> Result:
    """Run every check on a chargemaster file, or on a pandas DataFrame.

    ``mapping`` gives roles by column name (``{"charge_code": "Item", "price": ["IP", "OP"]}``);
    unmapped columns are decided by their names and content as in a file. ``options`` are the
    fields of RunOptions (code_map, config, as_of, addendum_b, ...).
    """
    import pandas as pd

    from .config import load_config
    from .errors import InputError
    from .fields import field_specs
    from .pipeline import check_table, run
    from .reader import table_from_frame

    roles = _roles(mapping)
    if isinstance(source, pd.DataFrame):
        opts = RunOptions(Path("<DataFrame>"), **options)
        cfg = load_config(opts.config)
        table = table_from_frame(source, field_specs("chargemaster", cfg.aliases), roles)
        if not table.fields.get("description"):
            raise InputError("<DataFrame>: no description column (map one: {'description': ...})")
        return check_table(table, opts, cfg)
    columns = {k: tuple(v) for k, v in (roles or {}).items()} or None
    return run(RunOptions(Path(source), columns=columns, **options))
