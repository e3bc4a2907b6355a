"""Column roles from the header name and from the values below it.

Header aliases were tuned to a handful of exports; other hospitals name the same columns
differently (`CHG CAT`, `IVREVCD`, `PROC #`, `Service ID`) or misleadingly (`CATEGORY` holding
revenue codes, `CHARGE #` holding ids). So every column is profiled (share of HCPCS/CPT shapes,
of UB-04 revenue codes, of modifier tokens, of money, identifier shape and uniqueness, free
text), and the assignment combines that with the name:

- an alias match is a strong hint, kept unless the values contradict it (a "price" column of
  8-digit ids is not a price);
- a key role nobody's name claims is given to the column whose values show it best;
- every decision carries its evidence, so the report can say why.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from .fields import REVENUE_FIELDS, FieldSpec, alias_index, normalize_header

# Roles decided from content; the other fields (department, status, dates...) only by name.
KEY_ROLES = ("charge_code", "description", "revenue_code", "hcpcs", "modifiers", "price")
MULTIPLE = {"hcpcs", "modifiers", "price", *REVENUE_FIELDS}
# Minimum content score for a role; below it a name alone does not carry the column.
MINIMUM = {
    "charge_code": 0.5,
    "description": 0.35,
    "revenue_code": 0.5,
    "hcpcs": 0.5,
    "modifiers": 0.6,
    "price": 0.5,
}
# Values needed before content may overrule a name, or give a role no name gives.
OVERRULE_EVIDENCE = 20
CONTENT_EVIDENCE = 10
# Content strong enough to take a column away from a name-only field (CATEGORY -> revenue).
STRONG = 0.85

# Words in a header that hint at a role (weak: content must agree).
HINTS = {
    "charge_code": {
        "code", "cd", "no", "num", "number", "nbr", "id", "item", "cdm", "eap", "mnemonic",
        "procedure", "proc", "service", "svc", "bill", "key",
    },
    "description": {"desc", "description", "descr", "name", "shoppable", "service", "item"},
    "revenue_code": {"rev", "revenue", "ub", "ub04", "cat", "category", "nrv", "rc"},
    "hcpcs": {"cpt", "cpt4", "hcpcs", "hcpc", "proc", "procedure", "code", "mcl", "drg"},
    "modifiers": {"mod", "mods", "modifier", "modifiers"},
    "price": {
        "price", "charge", "chg", "chrg", "amount", "amt", "rate", "fee", "prices", "charges",
        "std",
    },
}  # fmt: skip
# Fused header names ("IVREVCD", "MCLcde") hide their words: look for these inside them.
FUSED = {
    "charge_code": ("num", "nbr", "cdm"),
    "description": ("desc",),
    "revenue_code": ("rev",),
    "hcpcs": ("cpt", "hcpc"),
    "modifiers": ("mod",),
    "price": ("price", "amt", "chg"),
}

_NOT_PRICE = re.compile(r"\b(qty|quantity|count|volume)\b", re.I)
_HCPCS = re.compile(r"(?:\d{5}|[A-V]\d{4}|\d{4}[A-Z])")
_GLUE = re.compile(r"[-\s]*([A-Z0-9]{1,2})")
_MONEY = re.compile(r"\(?-?\$?\s*(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d+)?\)?")
_DATE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}( \d.*)?")
_BRACKET_REV = re.compile(r".*[\[(](\d{3,4})[\])]\s*")
_SPACES = re.compile(r"\s+")
_TOKEN_SPLIT = re.compile(r"[\s,;/-]+")
_DECIMALS = re.compile(r"\.\d*[1-9]")
_MONEY_MARKS = re.compile(r"[$,()\s]")
_DASH_SPACE = re.compile(r"[-\s]")
# A price-flag column often carries its legend in the header ("Zero Price Indicator 1 Statistical
# Codes 2 Volume Tracking ..."): its first words name the role.
_FLAG_HEADER = re.compile(
    r"\s*(zero|no)[\s_-]*(price|charge)[\s_-]*(indicator|ind|flag)\b"
    r"|\s*(man(ual)?|open|variable)[\s_-]*price",
    re.I,
)


@cache
def revenue_codes() -> frozenset[str]:
    """The UB-04 revenue codes (4 digits) bundled in chargemaster/data."""
    with (
        resources.files("chargemaster")
        .joinpath("data/revenue_codes.csv")
        .open(encoding="utf-8") as fh
    ):
        return frozenset(r["code"] for r in csv.DictReader(fh))


@cache
def modifier_codes() -> frozenset[str]:
    """Level II modifiers (bundled CMS list) and the CPT modifiers (26, 50, 59, ...)."""
    from .reference import CPT_MODIFIERS

    with (
        resources.files("chargemaster")
        .joinpath("data/hcpcs_modifiers.csv")
        .open(encoding="utf-8") as fh
    ):
        return frozenset(r["modifier"].upper() for r in csv.DictReader(fh)) | CPT_MODIFIERS


def _bare(value: str) -> str:
    v = value.strip().upper()
    if v.endswith(".0") and v[:-2].isdigit():
        v = v[:-2]
    return v


def hcpcs_shape(value: str) -> float:
    """1 for a bare or letter-glued HCPCS/CPT shape, 0.3 for a digit-glued one, else 0."""
    return _hcpcs_shape(_bare(value))


def _hcpcs_shape(v: str) -> float:
    """hcpcs_shape of a value already through _bare."""
    if len(v) == 6 and v[0] == "0" and _HCPCS.fullmatch(v[1:]):  # zero-padded fixed width
        v = v[1:]
    m = _HCPCS.match(v)
    if not m:
        return 0.0
    rest = v[m.end() :]
    if not rest:
        return 1.0
    parts = _GLUE.findall(rest)
    if "".join(parts) != _DASH_SPACE.sub("", rest) or len(parts) > 3:
        return 0.0
    if any(not p.isdigit() for p in parts):
        return 1.0
    mods = modifier_codes()
    return 0.3 if all(p in mods for p in parts) else 0.0


def revenue_shape(value: str) -> bool:
    """A UB-04 revenue code, 3 or 4 digits (the leading zero may be lost), or one in brackets
    after its name ('LABORATORY - CHEMISTRY [0301]'). Codes under 0100 are totals and PPS
    codes, not chargemaster lines; small numbers there are quantities."""
    return _revenue_shape(_bare(value))


def _revenue_shape(v: str) -> bool:
    """revenue_shape of a value already through _bare."""
    m = _BRACKET_REV.fullmatch(v) if "[" in v or "(" in v else None  # its .* is slow on text
    if m:
        v = m.group(1)
    return v.isdigit() and 3 <= len(v) <= 4 and int(v) >= 100 and v.zfill(4) in revenue_codes()


def money(value: str) -> float | None:
    v = value.strip()
    if not v or _DATE.fullmatch(v):
        return None
    if not _MONEY.fullmatch(v) or not any(map(str.isdigit, v)):
        return None
    try:
        return float(_MONEY_MARKS.sub("", v))
    except ValueError:
        return None


@dataclass
class Profile:
    """What the values of one column look like (over a sample of the rows below the header)."""

    rows: int
    n: int = 0
    distinct: int = 0
    hcpcs: float = 0.0
    level2: int = 0
    revenue: int = 0
    modifiers: int = 0
    letter_modifiers: int = 0
    money: int = 0
    decimals: int = 0
    text: int = 0
    ident: int = 0
    mean_len: float = 0.0
    modal_len_share: float = 0.0
    modal_len: int = 0
    sequence: bool = False
    scores: dict[str, float] = field(default_factory=dict)

    def share(self, count: float) -> float:
        return count / self.n if self.n else 0.0


# Values that stand for "no code" in code columns (Los Robles' 0 on 33,249 rows): not evidence.
PLACEHOLDERS = frozenset(
    {"0", "00", "000", "0000", "00000", "NONE", "N/A", "NA", "BLANK", "NULL", "-"}
)


def profile(values: Sequence[str], rows: int | None = None) -> Profile:
    counts: dict[str, int] = {}
    for v in values:
        if v:
            t = _SPACES.sub(" ", v.strip())
            if t and t.upper() not in PLACEHOLDERS:
                counts[t] = counts.get(t, 0) + 1
    p = Profile(rows=rows if rows is not None else len(values), n=sum(counts.values()))
    if not counts:
        return p
    p.distinct = len(counts)
    mods = modifier_codes()
    lengths: dict[int, int] = {}
    numbers = []
    total_len = 0
    for v, k in counts.items():
        up = v.upper()
        # One bare form serves all three: _bare(v) == _bare(v.upper()), as upper() maps
        # whitespace to itself only and is idempotent (tests/test_speed.py checks both).
        bare = _bare(v)
        shape = _hcpcs_shape(bare)
        p.hcpcs += shape * k
        if shape == 1.0 and up[:1].isalpha():
            p.level2 += k
        if _revenue_shape(bare):
            p.revenue += k
        tokens = [t for t in _TOKEN_SPLIT.split(up) if t]
        if tokens and len(tokens) <= 4 and all(len(t) == 2 and t in mods for t in tokens):
            p.modifiers += k
            if any(not t.isdigit() for t in tokens):
                p.letter_modifiers += k
        number = money(v)
        if number is not None:
            p.money += k
            numbers.append(number)
            if _DECIMALS.search(v):
                p.decimals += k
        letters = sum(map(str.isalpha, v))
        if letters >= 3 and (" " in v or letters >= 6) and number is None:
            p.text += k
        if (
            v.count(" ") <= 2
            and len(v) <= 30
            and any(map(str.isdigit, v))
            and letters <= len(v) / 2
            and not _DATE.fullmatch(v)
        ):
            p.ident += k
        lengths[len(bare)] = lengths.get(len(bare), 0) + k
        total_len += len(v) * k
    p.mean_len = total_len / p.n
    p.modal_len, modal = max(lengths.items(), key=lambda t: t[1])
    p.modal_len_share = modal / p.n
    if p.money == p.n and p.distinct == p.n and p.n >= 5:
        ints = sorted(numbers)
        p.sequence = all(b - a == 1 for a, b in zip(ints, ints[1:], strict=False))
    p.scores = _content_scores(p)
    return p


def _content_scores(p: Profile) -> dict[str, float]:
    n = p.n
    uniq = p.distinct / n
    s: dict[str, float] = {}
    # A code column holds many codes; three values over thousands of rows are a type field.
    s["hcpcs"] = p.share(p.hcpcs) * (0.3 if n >= 50 and p.distinct < min(20, n // 50) else 1.0)
    rev = p.share(p.revenue)
    s["revenue_code"] = rev if p.distinct <= 400 else rev * 0.3
    mod = p.share(p.modifiers)
    s["modifiers"] = mod if p.letter_modifiers or p.distinct > 3 else mod * 0.5
    cash = p.share(p.money)
    # Whole numbers all of one long length are ids, not prices; a few values are flags.
    ids_like = p.decimals == 0 and p.modal_len >= 6 and p.modal_len_share >= 0.9
    few = n >= 20 and p.distinct < min(10, max(3, n // 20))
    s["price"] = cash * (0.2 if ids_like else 1.0) * (0.3 if few else 1.0)
    s["price"] *= 0.5 if s["revenue_code"] > 0.9 and p.decimals == 0 else 1.0
    s["description"] = p.share(p.text) * min(1.0, uniq / 0.2) * min(1.0, p.mean_len / 8)
    ident = p.share(p.ident) * min(1.0, uniq / 0.3)
    ident *= 0.0 if p.sequence else 1.0
    ident *= 0.6 if p.decimals > 0.1 * n else 1.0
    # As a name's check: any identifier will do (charge codes may equal CPT codes).
    s["charge_code_named"] = ident
    ident *= 1.0 - 0.8 * min(1.0, max(0.0, s["hcpcs"] - 0.5) * 2)
    s["charge_code"] = ident
    return s


def evidence(p: Profile, role: str) -> str:
    """The figures behind a role, in words."""
    n = p.n
    if role == "hcpcs":
        return f"{round(p.hcpcs):,} of {n:,} values are HCPCS/CPT codes"
    if role in ("revenue_code", *REVENUE_FIELDS):
        return f"{p.revenue:,} of {n:,} values are UB-04 revenue codes"
    if role == "modifiers":
        return f"{p.modifiers:,} of {n:,} values are modifiers"
    if role == "price":
        return f"{p.money:,} of {n:,} values are amounts"
    if role == "description":
        return f"{p.text:,} of {n:,} values are text, {p.distinct:,} distinct"
    if role == "charge_code":
        if p.sequence:
            return f"the values are a row sequence 1..{n:,}"
        return f"{p.ident:,} of {n:,} values are identifiers, {p.distinct:,} distinct"
    return f"{n:,} values"


def hint_roles(header: str) -> set[str]:
    words = set(re.findall(r"[a-z0-9]+|#", header.lower()))
    fused = normalize_header(header)
    out = {role for role, hints in HINTS.items() if words & hints}
    out |= {role for role, parts in FUSED.items() if any(p in fused for p in parts)}
    if "#" in words:
        out.add("charge_code")
    return out


@dataclass
class Decision:
    column: str
    role: str  # a field name of fields.yaml
    by: str  # "name", "content" or "override"
    evidence: str


@dataclass
class Assignment:
    fields: dict[str, list[str]]  # field -> columns in sheet order
    decisions: list[Decision]
    unmapped: list[str]
    rejected: list[Decision]  # names overruled by the values (for the Columns table)

    def has(self, role: str) -> bool:
        if role == "revenue_code":
            return any(self.fields.get(f) for f in REVENUE_FIELDS)
        return bool(self.fields.get(role))

    def score(self) -> float:
        """How well this reading explains a chargemaster (used to choose header rows/sheets)."""
        weights = {"description": 3, "charge_code": 2, "revenue_code": 2, "hcpcs": 2, "price": 2}
        total = sum(w for r, w in weights.items() if self.has(r))
        total += 1 if self.has("modifiers") else 0
        total += 0.5 * sum(1 for d in self.decisions if d.by == "name")
        return total


def _revenue_field(header: str) -> str:
    words = set(re.findall(r"[a-z]+", header.lower()))
    fused = normalize_header(header)
    if words & {"ip", "inpatient", "inpt"} or fused.startswith("ip"):
        return "revenue_code_ip"
    if words & {"op", "outpatient", "outpt", "opd"} or fused.startswith("op"):
        return "revenue_code_op"
    return "revenue_code"


def assign_roles(
    headers: list[str],
    profiles: dict[str, Profile],
    specs: list[FieldSpec],
    overrides: dict[str, list[str]] | None = None,
    infer: bool = True,
    names: dict[str, str] | None = None,
) -> Assignment:
    """Choose each column's field: overrides, then names the values agree with, then content."""
    index = alias_index(specs)
    known = {s.name for s in specs}
    multiple = {s.name for s in specs if s.multiple}
    fields: dict[str, list[str]] = {}
    decisions: dict[str, Decision] = {}
    rejected: list[Decision] = []
    position = {h: i for i, h in enumerate(headers)}

    def take(col: str, role: str, by: str, why: str) -> None:
        fields.setdefault(role, []).append(col)
        decisions[col] = Decision(col, role, by, why)

    for role, cols in (overrides or {}).items():
        for col in cols:
            take(col, role, "override", "set by --column or [columns] in the configuration")

    # Names first: an alias the values do not contradict.
    named: dict[str, list[tuple[int, int, str]]] = {}
    for col in headers:
        if col in decisions:
            continue
        hit = index.get(normalize_header((names or {}).get(col, col)))
        if not hit:
            continue
        role, priority = hit
        base = "revenue_code" if role in REVENUE_FIELDS else role
        p = profiles.get(col)
        other = _contradicts(p, base) if infer and p is not None and base in MINIMUM else None
        if other is not None:
            rejected.append(
                Decision(col, role, "name", f"values are {other}: {evidence(p, other)}")
            )
            continue
        named.setdefault(role, []).append((priority, position[col], col))
    for role, hits in named.items():
        if role in fields and role not in multiple:
            continue
        chosen = sorted(hits, key=lambda t: t[1]) if role in multiple else [min(hits)]
        for _, _, col in chosen:
            p = profiles.get(col)
            base = "revenue_code" if role in REVENUE_FIELDS else role
            shown = p is not None and p.n and base in MINIMUM
            why = f"header name; {evidence(p, base)}" if shown else "header name"
            take(col, role, "name", why)

    if "price_flag" in known and "price_flag" not in fields:
        for col in headers:
            if col not in decisions and _FLAG_HEADER.match(col):
                take(col, "price_flag", "name", "header name (a price flag and its legend)")
                break
    if infer:
        _by_content(headers, profiles, fields, decisions, take, known)
    for cols in fields.values():
        cols.sort(key=lambda c: position.get(c, 0))
    used = set(decisions)
    unmapped = [h for h in headers if h not in used]
    ordered = sorted(decisions.values(), key=lambda d: position.get(d.column, 0))
    return Assignment(fields, ordered, unmapped, rejected)


def _contradicts(p: Profile, base: str) -> str | None:
    """The key role the values show instead of the named one, if they clearly do.

    Junk under a clear name keeps the name (the rules then flag the junk); only values that
    fit another role (8-digit ids under CHARGE #) overrule it.
    """
    if p.n < OVERRULE_EVIDENCE:
        return None
    check = "charge_code_named" if base == "charge_code" else base
    if p.scores.get(check, 0.0) >= MINIMUM[base]:
        return None
    best = max((r for r in KEY_ROLES if r != base), key=lambda r: p.scores.get(r, 0.0) - MINIMUM[r])
    return best if p.scores.get(best, 0.0) >= MINIMUM[best] + 0.2 else None


def _by_content(headers, profiles, fields, decisions, take, known) -> None:
    def free(col: str, role: str) -> bool:
        d = decisions.get(col)
        if d is None:
            return True
        # A name-only field (CATEGORY -> department) yields to values that clearly show a key role.
        p = profiles.get(col)
        return (
            d.by == "name"
            and role in ("revenue_code", "hcpcs", "modifiers")
            and d.role not in KEY_ROLES
            and d.role not in REVENUE_FIELDS
            and p is not None
            and p.scores.get(role, 0.0) >= STRONG
        )

    def has(role: str) -> bool:
        if role == "revenue_code":
            return any(fields.get(f) for f in REVENUE_FIELDS)
        return bool(fields.get(role))

    def release(col: str) -> None:
        d = decisions.pop(col, None)
        if d is not None:
            fields[d.role].remove(col)
            if not fields[d.role]:
                del fields[d.role]

    candidates = []
    for col in headers:
        p = profiles.get(col)
        if p is None or p.n < 3 or not col.strip() or col.startswith("Column "):
            continue
        hints = hint_roles(col)
        for role in KEY_ROLES:
            if p.n < CONTENT_EVIDENCE and role not in hints:
                continue
            score = p.scores.get(role, 0.0)
            if score < MINIMUM[role]:
                continue
            # A count is no price, whatever else its name says ("Quantity for Charges").
            if role == "price" and _NOT_PRICE.search(col):
                continue
            # Ids and prices look alike in many columns: a name must point at them.
            if role in ("charge_code", "price", "modifiers") and role not in hints:
                continue
            candidates.append((score + (0.25 if role in hints else 0.0), col, role, p))
    candidates.sort(key=lambda t: -t[0])
    for _score, col, role, p in candidates:
        if not free(col, role):
            continue
        single = role in ("charge_code", "description", "revenue_code")
        if single and has(role):
            continue
        if role == "price" and has("price") and _score < 1.0:
            continue
        # Without a name, a column of 5-digit numbers could be ids: Level II codes must show.
        if (
            role == "hcpcs"
            and "hcpcs" not in hint_roles(col)
            and (p.scores["hcpcs"] < 0.7 or p.level2 < 0.02 * p.n)
        ):
            continue
        release(col)
        target = _revenue_field(col) if role == "revenue_code" else role
        if target not in known:
            continue
        take(col, target, "content", evidence(p, role))
