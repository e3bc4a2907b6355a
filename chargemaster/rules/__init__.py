"""The rules as a registry (see registry.py): importing the package registers every rule."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from . import charge, codes, declared  # noqa: F401  (registers the rules)
from .common import code_family, in_ranges, is_noc
from .registry import REGISTRY, Context, Fire, RuleSpec, needing, run_checks, skipped
from .registry import worklist_rules as worklist_rules

__all__ = [
    "REGISTRY",
    "Context",
    "Fire",
    "RuleSpec",
    "code_family",
    "in_ranges",
    "is_noc",
    "needing",
    "run_rules",
    "worklist_rules",
]


def run_rules(
    lines,
    config,
    has: set[str],
    reference=None,
    as_of: dt.date | None = None,
    header_row: int | None = None,
) -> list[pd.DataFrame]:
    """Findings of every registered check whose needs are met, and RULE-SKIPPED for every
    declared rule whose needs are not."""
    ctx = Context(lines, config, reference, as_of or dt.date.today(), set(has), header_row)
    return skipped(ctx) + run_checks(ctx)
