"""The rule registry: each rule declares its id, the fields and reference sets it needs, its
message template and its worklist, and (for the rules of this package) a check that returns the
lines it fires on.

RULE-SKIPPED and the rule list in a COLUMN-MISSING message follow from the declarations: a rule
whose field or reference set is missing does not run and says so. Rules produced by another
stage (the pandera contract, the repairs, the reference checks, static coding, suggestions) are
declared here too (``stage``), so their needs and worklist live in the same place; their stage
produces the findings. The catalog (ids, severities, titles) stays one table in catalog.py.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from .. import findings as F
from ..catalog import RULES

if TYPE_CHECKING:
    from ..config import Config
    from ..prepare import Lines
    from ..reference import Reference

# Canonical fields a rule may need, with the label a message uses for each.
FIELDS = {
    "charge_code": "charge code",
    "description": "description",
    "revenue_code": "revenue code",
    "hcpcs": "HCPCS/CPT",
    "modifiers": "modifiers",
    "price": "price",
    "status": "status",
    "department": "department",
}
# Reference sets a rule may need beyond the bundled ones (Level II, modifiers, UB-04, NOC).
REFERENCES = {"cpt": "CPT reference (--addendum-b or --cpt-list)"}

# Worklist sheets of the report.
INVALID_CODES = "Invalid codes"
PRICES = "Prices"
REPAIRS = "Repairs"
MISSING_HCPCS = "Missing HCPCS"
MISMATCH = "Rev-HCPCS mismatch"
CODE_MAP = "Code map"
SUGGESTIONS = "Suggestions"


@dataclass
class Context:
    """What a check sees: the canonical lines, the configuration and the reference sets."""

    lines: Lines
    config: Config
    reference: Reference | None
    as_of: dt.date
    has: set[str]
    header_row: int | None = None

    @property
    def frame(self) -> pd.DataFrame:
        return self.lines.frame

    @property
    def active(self) -> pd.Series:
        return self.lines.frame["active"]

    @property
    def charge(self) -> pd.Series:
        return self.lines.frame["charge_code"]


@dataclass
class Fire:
    """The lines a check fires on (``mask`` over source rows), the cell each finding names and
    the values its message template is filled with."""

    mask: pd.Series
    column: str | pd.Series | None = None
    value: str | pd.Series | None = None
    suggested: str | pd.Series | None = None
    fields: dict[str, str | pd.Series] = field(default_factory=dict)


Check = Callable[[Context], list[Fire]]


@dataclass(frozen=True)
class RuleSpec:
    id: str
    needs: tuple[str, ...] = ()  # canonical fields (keys of FIELDS)
    refs: tuple[str, ...] = ()  # reference sets (keys of REFERENCES)
    message: str = ""  # template: '{name}' is filled from the Fire's fields
    worklist: str = ""  # the report sheet that lists its findings besides Issues
    check: Check | None = None
    stage: str = "rules"  # who produces the findings when ``check`` is None

    def missing(self, ctx: Context) -> list[str]:
        fields = [FIELDS[f] + " column" for f in self.needs if f not in ctx.has]
        refs = [REFERENCES[r] for r in self.refs if not _has_reference(ctx, r)]
        return fields + refs


REGISTRY: dict[str, RuleSpec] = {}


def register(spec: RuleSpec) -> RuleSpec:
    if spec.id not in RULES:
        raise ValueError(f"{spec.id} is not in the rule catalog")
    if spec.id in REGISTRY:
        raise ValueError(f"{spec.id} is registered twice")
    unknown = set(spec.needs) - set(FIELDS) | set(spec.refs) - set(REFERENCES)
    if unknown:
        raise ValueError(f"{spec.id}: unknown needs {sorted(unknown)}")
    REGISTRY[spec.id] = spec
    return spec


def rule(
    id: str,
    *,
    needs: tuple[str, ...] = (),
    refs: tuple[str, ...] = (),
    message: str,
    worklist: str = "",
) -> Callable[[Check], Check]:
    """Decorator: register the check function as rule ``id``."""

    def wrap(fn: Check) -> Check:
        register(RuleSpec(id, needs, refs, message, worklist, fn))
        return fn

    return wrap


def declare(id: str, *, stage: str, needs=(), refs=(), message: str = "", worklist: str = ""):
    """A rule whose findings another stage produces."""
    register(RuleSpec(id, tuple(needs), tuple(refs), message, worklist, None, stage))


def _has_reference(ctx: Context, name: str) -> bool:
    if name == "cpt":
        return ctx.reference is not None and ctx.reference.cpt is not None
    return False


_FIELD = re.compile(r"\{(\w+)\}")


def render(template: str, fields: dict[str, str | pd.Series], index: pd.Index) -> pd.Series:
    """Fill '{name}' from fields, vectorised: each value is text or a Series over ``index``."""
    out = pd.Series("", index=index, dtype="str")
    pos = 0
    for m in _FIELD.finditer(template):
        out = out + template[pos : m.start()]
        value = fields[m.group(1)]
        if isinstance(value, pd.Series):
            out = out + value.reindex(index).astype("str").fillna("")
        else:
            out = out + str(value)
        pos = m.end()
    return out + template[pos:]


def needing(field_name: str) -> list[str]:
    """Ids of the rules that cannot run without ``field_name``, in catalog order."""
    return [rid for rid in RULES if rid in REGISTRY and field_name in REGISTRY[rid].needs]


def worklist_rules(sheet: str) -> list[str]:
    return [rid for rid in RULES if rid in REGISTRY and REGISTRY[rid].worklist == sheet]


def skipped(ctx: Context) -> list[pd.DataFrame]:
    """RULE-SKIPPED for every declared rule whose field or reference set is missing."""
    out = []
    for rid in RULES:
        spec = REGISTRY.get(rid)
        if spec is None:
            continue
        missing = spec.missing(ctx)
        if missing:
            out.append(
                F.make(
                    "RULE-SKIPPED",
                    message=f"{rid} did not run: it needs a {' and a '.join(missing)}.",
                    value=rid,
                    row=ctx.header_row,
                )
            )
    return out


def run_checks(ctx: Context) -> list[pd.DataFrame]:
    """Every registered check whose needs are met, in catalog order, as findings."""
    out = []
    for rid in RULES:
        spec = REGISTRY.get(rid)
        if spec is None or spec.check is None or spec.missing(ctx):
            continue
        for fire in spec.check(ctx):
            index = fire.mask.index[fire.mask.fillna(False).astype(bool).to_numpy()]
            if not len(index):
                continue  # no findings: F.make would return an empty part, which combine drops
            message = render(spec.message, fire.fields, index)
            out.append(
                F.make(
                    rid,
                    fire.mask,
                    column=fire.column,
                    value=fire.value,
                    suggested=fire.suggested,
                    charge_code=ctx.charge,
                    message=message,
                )
            )
    return out
