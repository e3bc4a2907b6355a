"""Load the pandera contracts in ``schemas/`` and turn their failures into findings.

pandera silently ignores unknown YAML keys (a typo'd check would just vanish), so the loader
lints keys first; and every check must name its rule id in ``error:``.
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml
from pandera.extensions import register_check_method
from pandera.io import pandas_io

from . import findings as F
from .catalog import RULES
from .errors import ConfigError
from .fields import schemas_dir
from .rules import REGISTRY

_TOP_KEYS = {
    "schema_type",
    "version",
    "name",
    "strict",
    "coerce",
    "columns",
    "title",
    "description",
    "ordered",
    "unique",
    "checks",
    "index",
    "metadata",
}
_COLUMN_KEYS = {
    "title",
    "description",
    "dtype",
    "nullable",
    "required",
    "regex",
    "checks",
    "unique",
    "coerce",
}
_CHECK_KEYS = {"value", "options"}
_OPTION_KEYS = {"check_name", "error", "ignore_na", "raise_warning", "n_failure_cases"}


@cache
def _register() -> None:
    @register_check_method(statistics=["value"])
    def notnull_text(pandas_obj: pd.Series, *, value: bool) -> pd.Series:
        """Present and not only spaces (a cell of spaces is as blank as an empty one)."""
        filled = pandas_obj.notna() & pandas_obj.astype("str").str.strip().ne("")
        return filled if value else ~filled


def lint(raw: dict, where: str) -> None:
    """Reject keys pandera would silently ignore, and checks without a known rule id."""
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown top-level keys {sorted(unknown)}")
    for name, column in (raw.get("columns") or {}).items():
        unknown = set(column) - _COLUMN_KEYS
        if unknown:
            raise ConfigError(f"{where}: column '{name}': unknown keys {sorted(unknown)}")
        for check in column.get("checks") or []:
            if set(check) - _CHECK_KEYS or set(check.get("options", {})) - _OPTION_KEYS:
                raise ConfigError(f"{where}: column '{name}': unknown keys in check {check}")
            rule = str(check.get("options", {}).get("error", "")).split(":")[0]
            if rule not in RULES:
                raise ConfigError(
                    f"{where}: column '{name}': check error must start with a rule id, got {rule!r}"
                )


@cache
def load_schema(name: str) -> pa.DataFrameSchema:
    """``schemas/<name>.yaml`` as a pandera DataFrameSchema."""
    _register()
    path = schemas_dir() / f"{name}.yaml"
    return load_schema_file(path)


def load_schema_file(path: Path) -> pa.DataFrameSchema:
    _register()
    try:
        text = Path(path).read_text("utf-8")
        raw = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read schema ({exc})") from None
    lint(raw, str(path))
    try:
        return pandas_io.from_yaml(text)
    except Exception as exc:
        raise ConfigError(f"{path}: pandera cannot load the schema ({exc})") from None


def failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """pandera's lazy failure cases: columns rule, column, value, row."""
    cols = ["rule", "column", "value", "row"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["index"].notna()]
        rule = fc["check"].astype("str").str.split(":").str[0]
        known = rule.isin(list(RULES))
        unexpected = fc[~known]
        if len(unexpected):  # a contract or frame-building bug, never the user's data
            raise RuntimeError(f"unexpected contract failures:\n{unexpected.head()}") from None
        return pd.DataFrame(
            {
                "rule": rule[known].to_numpy(),
                "column": fc.loc[known, "column"].to_numpy(),
                "value": fc.loc[known, "failure_case"].to_numpy(),
                "row": fc.loc[known, "index"].astype("int64").to_numpy(),
            }
        )
    return pd.DataFrame({c: [] for c in cols})


def contract_findings(
    frame: pd.DataFrame, source: dict[str, str], letters: dict[str, str], charge: pd.Series
) -> pd.DataFrame:
    """Validate the canonical check frame; one finding per failing cell."""
    fc = failures(load_schema("chargemaster"), frame)
    if fc.empty:
        return F.empty()
    # A malformed local-looking value ('X39080') fails both checks: malformed wins.
    key = fc["column"].astype("str") + "@" + fc["row"].astype("str")
    malformed = set(key[fc["rule"].eq("HCPCS-MALFORMED")])
    fc = fc[~(fc["rule"].eq("HCPCS-LOCAL") & key.isin(malformed))]
    col = fc["column"].map(lambda c: source.get(c, c))
    value = fc["value"].astype("object").map(_fmt)
    rows = fc["row"].to_numpy()
    frame = pd.DataFrame(
        {
            "rule": fc["rule"].to_numpy(),
            "row": rows,
            "column": col.to_numpy(),
            "charge_code": charge.reindex(rows).astype("object").to_numpy(),
            "value": value.to_numpy(),
            "suggested": None,
            "message": [
                REGISTRY[r].message.replace("{value}", str(v))
                for r, v in zip(fc["rule"], value, strict=True)
            ],
            "letter": col.map(letters).to_numpy(),
        }
    )
    return frame


def _fmt(value: object) -> object:
    if isinstance(value, float):
        return None if value != value else f"{value:g}"
    return value
