"""Canonical fields and their header aliases (the contract in ``schemas/fields.yaml``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from .errors import ConfigError

# Fields that identify a chargemaster table; a header row must name a description and at
# least one of these to count as the chargemaster's header.
IDENTIFYING = ("charge_code", "revenue_code", "hcpcs", "price")
# Several revenue-code fields feed one logical revenue code, in this order of preference:
# the outpatient code decides HCPCS questions (OPPS claims), then a generic one, then inpatient.
REVENUE_FIELDS = ("revenue_code_op", "revenue_code", "revenue_code_ip")

# The line table (Result.lines.frame): one row per chargemaster line, index = source row.
# Declared here once; the pipeline checks every run against it.
LINE_COLUMNS: dict[str, str] = {
    "charge_code": "the charge code, cleaned",
    "description": "the description, cleaned",
    "department": "department, if a column gives it",
    "status": "status as written",
    "coding_method": "coding method (hard/soft), if a column gives it",
    "revenue_description": "revenue-code description, if a column gives it",
    "price_flag": "price-flag cell as written (manual/open price, zero price indicator), if any",
    "setting": "service setting (inpatient/outpatient, location), if a column gives it",
    "revenue_code": "the line's 4-digit revenue code (first usable revenue column)",
    "revenue_col": "the column the revenue code came from",
    "hcpcs": "the line's HCPCS/CPT code, repaired (first non-blank code column)",
    "hcpcs_col": "the column the code came from (or the first code column)",
    "hcpcs_repaired": "True when the code was repaired",
    "modifiers": "modifiers, space-separated (modifier columns, then split from the code)",
    "modifiers_col": "the column the modifiers came from",
    "price": "the line's price (first numeric price column)",
    "price_col": "the column the price came from",
    "price_text_bad": "True when a price cell is text that is not a number",
    "active": "False for inactive status or a past end date",
    "family": "revenue-code family (lab, radiology, ...)",
    "soft": "True for soft-coded lines (coded at charge entry)",
    "ancillary": "True for a family static coding applies to",
    "requires_hcpcs": "True for a family that must carry a HCPCS code",
    "coded_hcpcs": "the code after static coding",
    "coded_modifiers": "the modifiers after static coding",
    "code_source": "where the coded HCPCS came from (chargemaster or code map)",
}


def schemas_dir() -> Path:
    """``schemas/`` of an installed wheel (inside the package) or of a source checkout."""
    packaged = Path(__file__).parent / "schemas"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "schemas"


def normalize_header(text: object) -> str:
    """Case, spaces, newlines and punctuation do not matter in a header."""
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    multiple: bool
    aliases: tuple[str, ...]


@cache
def _contract() -> dict:
    path = schemas_dir() / "fields.yaml"
    try:
        return yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:  # a broken install, not a user error
        raise ConfigError(f"{path}: cannot load the field contract ({exc})") from None


def field_specs(kind: str, extra: dict[str, tuple[str, ...]] | None = None) -> list[FieldSpec]:
    """The fields of ``kind`` ("chargemaster" or "code_map"), user aliases first."""
    specs = []
    table = _contract()[kind]
    for name, spec in table.items():
        unknown = set(spec) - {"aliases", "multiple"}
        if unknown:
            raise ConfigError(f"fields.yaml: {kind}.{name}: unknown keys {sorted(unknown)}")
        aliases = tuple((extra or {}).get(name, ())) + tuple(spec["aliases"])
        specs.append(FieldSpec(name, bool(spec.get("multiple", False)), aliases))
    if extra:
        unknown = set(extra) - set(table)
        if unknown and kind == "chargemaster":
            raise ConfigError(f"config: aliases: unknown field(s) {sorted(unknown)}")
    return specs


def alias_index(specs: list[FieldSpec]) -> dict[str, tuple[str, int]]:
    """normalized alias -> (field, priority); the first field to claim an alias keeps it."""
    index: dict[str, tuple[str, int]] = {}
    for spec in specs:
        for priority, alias in enumerate(spec.aliases):
            index.setdefault(normalize_header(alias), (spec.name, priority))
    return index


def map_headers(
    headers: list[str], specs: list[FieldSpec]
) -> tuple[dict[str, list[str]], list[str]]:
    """Assign columns to fields. Returns (field -> columns in sheet order, unmapped columns).

    A single-column field takes the column with the earliest alias; other columns that match
    it stay unmapped, so they are reported and carried through untouched.
    """
    index = alias_index(specs)
    multiple = {s.name for s in specs if s.multiple}
    candidates: dict[str, list[tuple[int, int, str]]] = {}
    for position, header in enumerate(headers):
        hit = index.get(normalize_header(header))
        if hit:
            candidates.setdefault(hit[0], []).append((hit[1], position, header))
    fields: dict[str, list[str]] = {}
    for name, hits in candidates.items():
        if name in multiple:
            fields[name] = [h for _, _, h in sorted(hits, key=lambda t: t[1])]
        else:
            fields[name] = [min(hits)[2]]
    used = {c for cols in fields.values() for c in cols}
    return fields, [h for h in headers if h not in used]
