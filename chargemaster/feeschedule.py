"""Medicare fee schedules and PRICE-BELOW-FEE-SCHEDULE: lines priced under what Medicare pays.

Two schedules, compared with their own code families (../shared/docs/domain.md sections 5.1
and 5.2):

- the Clinical Laboratory Fee Schedule (CLFS, ``--clfs``): the national limitation amount per
  lab test, per modifier where CMS prices one apart (``QW``). Medicare pays a lab test at the
  lesser of the charge and this amount, so a lower charge is money given away on every claim.
- OPPS Addendum B (``--addendum-b``): the national payment rate of a code whose status indicator
  says it is paid per service on its own (configuration ``fee_schedule.status``: S, T, V, X, J2).
  Drugs, biologicals and skin substitutes (K, G, S1), blood (R) and brachytherapy sources (U)
  are paid per HCPCS unit (1 mg, 1 sq cm, one seed), which a chargemaster line rarely prices one
  for one; comprehensive APCs (J1) pay a whole encounter, not the line; conditionally packaged
  codes (Q1-Q3) are paid only when billed without the procedures that package them. They are
  left out by default.

Each file is one release; several CLFS files (several years or quarters) may be loaded and the
as-of date picks the one in effect (REFERENCE-STALE when none is).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

from . import findings as F
from .config import Config
from .errors import InputError
from .normalize import clean_text
from .prepare import Lines
from .reader import read_grids
from .reference import (
    CPT_RE,
    LEVEL2_RE,
    Release,
    _frame,
    _header_index,
    _pick,
    addendum_b_files,
    per_value,
    quarter_end,
)
from .reference import release_from_name as _month_release

RULE = "PRICE-BELOW-FEE-SCHEDULE"
CLFS = "Fee schedule (CLFS)"
OPPS = "Fee schedule (OPPS Addendum B)"
_CODE = re.compile(rf"{CPT_RE}|{LEVEL2_RE}")
# Header words that tell what a price column is for (split on anything not a letter or digit).
_PRICE_KINDS = {
    "outpatient": {"op", "outpatient", "outpt", "opd", "opt"},
    "inpatient": {"ip", "inpatient", "inpt", "ipd"},
    "professional": {"professional", "prof", "pro", "pf", "physician"},
    "facility": {"facility", "technical", "hospital", "fac", "tech"},
}
# A line priced per drug class ('DRUG SCRN EA CLASS PN 7', 'COCAINE EACH CLASS') is one class of a
# drug test, while Medicare pays the test per day for all classes: 80305-80307 (presumptive, "any
# number of drug classes ... per date of service") and G0480-G0483 (definitive, "per day; 1-7 drug
# class(es)" ..., HCPCS Level II long descriptors, HCPC2025_JUL). Its price is a share of the
# test's, not the test's: comparing it with the day's rate was wrong on every labelled one.
_PER_CLASS = re.compile(r"\b(?:EA|EACH|PER)\s*(?:DRUG\s+)?CLASS(?:ES)?\b", re.IGNORECASE)
_OPPOSITE = {
    "outpatient": "inpatient",
    "inpatient": "outpatient",
    "facility": "professional",
    "professional": "facility",
}


@dataclass(frozen=True)
class Schedule:
    """One release of one fee schedule: a rate per code, and per code and modifier."""

    release: Release
    # columns: code, modifier ('' = any), rate (float), status (CLFS indicator or OPPS SI)
    rates: pd.DataFrame

    @property
    def label(self) -> str:
        return self.release.name


@dataclass
class FeeSchedules:
    clfs: list[Schedule] = field(default_factory=list)
    opps: list[Schedule] = field(default_factory=list)

    @property
    def loaded(self) -> bool:
        return bool(self.clfs or self.opps)

    @property
    def releases(self) -> list[Release]:
        return [s.release for s in (*self.clfs, *self.opps)]


def money(values: pd.Series) -> pd.Series:
    """Rates as CMS writes them: numbers, zero-padded text ('00720.00'), '$1,234.50'."""
    text = clean_text(values).str.replace(r"[$,\s]", "", regex=True)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _codes(values: pd.Series) -> pd.Series:
    return clean_text(values).str.upper()


def _quarter_from_name(path: Path) -> dt.date | None:
    """'CLFS_2025_Q2.csv', 'PUF_CLFS_CY2026_Q2V1.csv', '25CLABQ2.csv' -> its quarter's first day."""
    name = path.stem.upper()
    match = re.search(r"(20\d\d)\D{0,8}?Q([1-4])", name) or re.search(
        r"(?<!\d)(\d\d)\s*CLAB\s*Q([1-4])", name
    )
    if not match:
        return None
    year = int(match.group(1))
    year = year + 2000 if year < 100 else year
    return dt.date(year, 3 * int(match.group(2)) - 2, 1)


def _first_grid_frame(path: Path, wanted: set[str], what: str) -> pd.DataFrame:
    for grid in read_grids(path):
        h = _header_index(grid, wanted)
        if h is not None:
            return _frame(grid, h)
    raise InputError(f"{path}: not {what} (no header row with {', '.join(sorted(wanted))})")


def read_clfs(path: Path) -> Schedule:
    """The CMS CLFS file as shipped: CSV (title lines above the header, cp1252, zero-padded
    rates) or its xlsx copy. Header YEAR, HCPCS, MOD, EFF_DATE, INDICATOR, RATE, ..."""
    path = Path(path)
    frame = _first_grid_frame(path, {"hcpcs", "rate"}, "a CMS Clinical Laboratory Fee Schedule")
    out = pd.DataFrame(
        {
            "code": _codes(frame["hcpcs"]),
            "modifier": _codes(_pick(frame, "mod", "modifier")).fillna(""),
            "rate": money(frame["rate"]),
            "status": _codes(_pick(frame, "indicator")).fillna(""),
        }
    )
    out = out[out["code"].str.fullmatch(_CODE.pattern).fillna(False)]
    if out.empty:
        raise InputError(f"{path}: no lab codes under the CLFS header (HCPCS, RATE)")
    out = out.drop_duplicates(["code", "modifier"]).reset_index(drop=True)
    start = _quarter_from_name(path)
    if start is None:  # the latest effective date in the file marks its quarter
        eff = pd.to_datetime(
            clean_text(_pick(frame, "effdate")), format="%Y%m%d", errors="coerce"
        ).max()
        if pd.notna(eff):
            start = dt.date(eff.year, 3 * ((eff.month - 1) // 3) + 1, 1)
    if start is None:
        years = clean_text(_pick(frame, "year")).dropna()
        if years.str.fullmatch(r"20\d\d").any():
            start = dt.date(int(years[years.str.fullmatch(r"20\d\d")].max()), 1, 1)
    end = quarter_end(start) if start else None
    name = f"CLFS {start.year}-Q{(start.month - 1) // 3 + 1}" if start else f"CLFS {path.stem}"
    return Schedule(Release(CLFS, name, path.name, len(out), start, end), out)


def read_opps_rates(path: Path) -> Schedule | None:
    """Payment rates of OPPS Addendum B: the CMS workbook (numbers) or a CSV ('$1,234.50' text
    or plain decimals), with the status indicator of each code. None for a file without a
    payment rate column (a code list: it still checks codes, it prices nothing)."""
    path = Path(path)
    frame = _first_grid_frame(path, {"hcpcscode"}, "an OPPS Addendum B file")
    rate_col = next((c for c in frame.columns if c.startswith("paymentrate")), None)
    if rate_col is None:
        return None
    out = pd.DataFrame(
        {
            "code": _codes(frame["hcpcscode"]),
            "modifier": "",
            "rate": money(frame[rate_col]),
            "status": _codes(_pick(frame, "si", "statusindicator")).fillna(""),
        }
    )
    out = out[out["code"].str.fullmatch(_CODE.pattern).fillna(False)]
    out = out.drop_duplicates("code").reset_index(drop=True)
    start = _month_release(path)
    source = clean_text(_pick(frame, "source")).dropna()
    dated = source[source.str.fullmatch(r"20\d\d-\d\d")]
    if start is None and len(dated):
        year, month = dated.iloc[0].split("-")
        start = dt.date(int(year), int(month), 1)
    end = quarter_end(start) if start else None
    name = f"OPPS Addendum B {start:%Y-%m}" if start else f"OPPS Addendum B {path.stem}"
    priced = int(out["rate"].gt(0).sum())
    return Schedule(Release(OPPS, name, path.name, priced, start, end), out)


def _paths(value: Path | Sequence[Path] | None) -> list[Path]:
    if value is None:
        return []
    if isinstance(value, (str, Path)):
        return [Path(value)]
    return [Path(p) for p in value]


def load_fee_schedules(
    clfs: Path | Sequence[Path] | None = None, addendum_b: Path | Sequence[Path] | None = None
) -> FeeSchedules:
    """Every CLFS file given, and the payment rates of every Addendum B file given (a folder
    gives its Addendum B files, as for the code sets)."""
    opps = [_cached(read_opps_rates, p) for p in addendum_b_files(addendum_b)]
    clfs_schedules = [_cached(read_clfs, p) for p in _paths(clfs)]
    return FeeSchedules(clfs_schedules, [s for s in opps if s is not None])


def _cached(reader, path: Path):
    """Read once per process per file version: a batch compares many chargemasters with the
    same schedules."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        return reader(path)  # the reader words the error
    return _read_version(reader, path.resolve(), st.st_mtime_ns, st.st_size)


@cache
def _read_version(reader, path: Path, _mtime: int, _size: int):
    return reader(path)


def pick(schedules: Iterable[Schedule], as_of: dt.date) -> tuple[Schedule | None, str]:
    """The release in effect on ``as_of``; failing that the nearest one, with why it is stale
    ('' when in effect)."""
    items = [s for s in schedules if s.release.start is not None]
    undated = [s for s in schedules if s.release.start is None]
    current = [s for s in items if s.release.start <= as_of <= s.release.valid_through]
    if current:
        return max(current, key=lambda s: s.release.start), ""
    before = [s for s in items if s.release.start <= as_of]
    if before:
        s = max(before, key=lambda s: s.release.start)
        return s, f"current only through {s.release.valid_through.isoformat()}"
    if items:
        s = min(items, key=lambda s: s.release.start)
        return s, f"effective only from {s.release.start.isoformat()}"
    if undated:  # no date in the name or content: used as given, its period unknown
        return undated[-1], ""
    return None, ""


def price_column(headers: Sequence[str], wanted: str) -> tuple[str | None, str]:
    """The price column to compare: (header or None for 'the line's first price', why)."""
    if not headers:
        return None, "no price column"
    if wanted == "first":
        return None, "the line's first price"
    if wanted not in _PRICE_KINDS:  # a header named in the configuration
        norm = {re.sub(r"[^a-z0-9]", "", h.lower()): h for h in headers}
        hit = norm.get(re.sub(r"[^a-z0-9]", "", wanted.lower()))
        return hit, f"column '{hit}'" if hit else f"no price column named '{wanted}'"

    def kinds(header: str) -> set[str]:
        words = set(re.split(r"[^a-z0-9]+", header.lower()))
        return {k for k, ws in _PRICE_KINDS.items() if words & ws}

    for h in headers:
        if wanted in kinds(h):
            return h, f"column '{h}' ({wanted})"
    neutral = [h for h in headers if _OPPOSITE[wanted] not in kinds(h)]
    if neutral:
        return neutral[0], f"column '{neutral[0]}' (no {wanted} column)"
    return None, f"no {wanted} price column"


def _lookup(schedule: Schedule, code: pd.Series, mods: pd.Series) -> pd.DataFrame:
    """Rate per line: the code-and-modifier rate where the schedule prices one of the line's
    modifiers apart, else the code's own rate; with the status and the modifier that priced it."""
    rates = schedule.rates
    base = rates[rates["modifier"].eq("")].set_index("code")
    out = pd.DataFrame(
        {
            "rate": code.map(base["rate"]).astype("float64"),
            "status": code.map(base["status"]).astype("str"),
            "modifier": pd.Series(pd.NA, index=code.index, dtype="str"),
        }
    )
    apart = rates[rates["modifier"].ne("")]
    if len(apart) and mods.notna().any():
        keyed = apart.set_index(apart["code"] + "|" + apart["modifier"])
        tokens = mods.dropna().str.split(" ").explode().dropna().astype("str")
        keys = code.reindex(tokens.index) + "|" + tokens
        chosen = tokens[keys.isin(keyed.index).fillna(False).to_numpy()]
        chosen = chosen[~chosen.index.duplicated()]  # the first modifier priced apart wins
        if len(chosen):
            k = (code.loc[chosen.index] + "|" + chosen).to_numpy()
            out.loc[chosen.index, "rate"] = keyed["rate"].reindex(k).to_numpy()
            out.loc[chosen.index, "status"] = keyed["status"].reindex(k).to_numpy()
            out.loc[chosen.index, "modifier"] = chosen.to_numpy()
    return out


def _per_class(description: pd.Series) -> pd.Series:
    """Descriptions priced per drug class ('EA CLASS'), not per unit of the code."""
    # Python's re (\b, IGNORECASE) runs only on descriptions holding the letters of 'class' in
    # any case (Arrow's RE2 finds them; 'ſ' is an 's' to IGNORECASE): no other can match.
    maybe = description.str.contains(r"(?i)cla[sſ][sſ]", regex=True).fillna(False).astype(bool)
    return description.where(maybe).fillna("").str.contains(_PER_CLASS).astype(bool)


def _cents(x: pd.Series) -> pd.Series:
    return (x * 100).round().astype("Int64")


def _fmt(x: pd.Series) -> pd.Series:
    return x.map(lambda v: f"{v:,.2f}" if v == v else "").astype("str")


EMPTY_BELOW = [
    "row",
    "charge_code",
    "description",
    "hcpcs",
    "modifiers",
    "price_column",
    "price",
    "rate",
    "gap",
    "source",
]


def fee_findings(
    lines: Lines,
    schedules: FeeSchedules,
    config: Config,
    as_of: dt.date,
    header_row: int,
) -> tuple[list[pd.DataFrame], pd.DataFrame | None]:
    """(findings, the lines below Medicare with price, rate, gap and source for the report;
    None when no fee schedule is loaded)."""
    below = pd.DataFrame({c: pd.Series([], dtype="object") for c in EMPTY_BELOW})
    headers = list(lines.prices.columns)
    if not headers:  # the registry's RULE-SKIPPED says it needs a price column
        return [], None
    if not schedules.loaded:
        return [
            F.make(
                "RULE-SKIPPED",
                row=header_row,
                value=RULE,
                message=f"{RULE} did not run: no fee schedule is loaded. Load the CMS Clinical "
                "Laboratory Fee Schedule (--clfs) and/or OPPS Addendum B (--addendum-b) to "
                "compare prices with what Medicare pays.",
            )
        ], None
    df = lines.frame
    fee = config.fee_schedule
    column, why = price_column(headers, fee.price_column)
    if column is None and fee.price_column not in ("first", *_PRICE_KINDS):
        return [
            F.make(
                "RULE-SKIPPED",
                row=header_row,
                value=RULE,
                message=f"{RULE} did not run: {why}. Set fee_schedule.price_column in the "
                f"configuration to one of the price columns ({', '.join(headers)}).",
            )
        ], below
    if column is None:
        price, price_col = df["price"], df["price_col"]
    else:
        price = lines.prices[column]
        price_col = pd.Series(column, index=df.index, dtype="str")

    out: list[pd.DataFrame] = []
    picked: list[tuple[str, Schedule]] = []
    for kind, items in (("CLFS", schedules.clfs), ("OPPS", schedules.opps)):
        schedule, stale = pick(items, as_of)
        if schedule is None:
            continue
        picked.append((kind, schedule))
        if stale and kind == "CLFS":  # Addendum B staleness is the code-set check's to report
            out.append(
                F.make(
                    "REFERENCE-STALE",
                    row=header_row,
                    value=schedule.label,
                    message=f"Fee schedule '{schedule.label}' ({schedule.release.source}) is "
                    f"{stale}, not in effect on the as-of date {as_of.isoformat()}: lab prices "
                    "are compared with its rates, which may differ from the rates in effect. "
                    "Load the CLFS file of that quarter (--clfs, repeatable).",
                )
            )

    code = df["coded_hcpcs"]
    mods = df["coded_modifiers"]
    skip = set(fee.skip_modifiers)
    skip_mod = per_value(
        mods, lambda m: m.fillna("").str.split(" ").map(lambda ts: bool(set(ts) & skip))
    ).astype(bool)
    eligible = (
        df["active"]
        & code.notna()
        & price.gt(0).fillna(False)
        & ~df["family"].isin(list(fee.skip_families)).fillna(False)
        & ~skip_mod
        & ~_per_class(df["description"])
    )
    rate = pd.Series(float("nan"), index=df.index)
    source = pd.Series(pd.NA, index=df.index, dtype="str")
    priced_mod = pd.Series(pd.NA, index=df.index, dtype="str")
    for kind, schedule in picked:
        hit = _lookup(schedule, code.where(eligible), mods)
        if kind == "CLFS":
            # 'L' rows are priced by the local contractor and carry no national amount.
            usable = hit["rate"].gt(0) & hit["status"].ne("L")
            where = usable & rate.isna()
            text = schedule.label + " national limit"
            src = pd.Series(text, index=df.index, dtype="str")
            src = src.mask(hit["modifier"].notna(), text + ", modifier " + hit["modifier"])
        else:
            usable = hit["rate"].gt(0) & hit["status"].isin(list(fee.status))
            where = usable & rate.isna()
            src = schedule.label + " payment rate, SI " + hit["status"]
        rate = rate.mask(where, hit["rate"])
        source = source.mask(where, src)
        priced_mod = priced_mod.mask(where, hit["modifier"])
    target = rate * fee.margin
    fires = eligible & rate.notna() & (_cents(price) < _cents(target)).fillna(False)
    gap = (target - price).round(2)
    what = (
        "the Medicare rate"
        if fee.margin == 1.0
        else f"{fee.margin:g} × the Medicare rate (fee_schedule.margin)"
    )
    # The texts are made for the lines that fire only (F.make takes them from there).
    on = fires.to_numpy()
    label = code[on] + mods[on].map(lambda m: f" {m}" if isinstance(m, str) and m else "")
    shown, floor = _fmt(price[on]), _fmt(target[on])
    out.append(
        F.make(
            RULE,
            fires,
            column=price_col,
            value=shown,
            suggested=floor,
            charge_code=df["charge_code"],
            message="HCPCS "
            + label
            + " is priced "
            + shown
            + " (column '"
            + price_col[on].fillna("")
            + f"'), below {what} "
            + floor
            + " ("
            + source[on]
            + "): "
            + _fmt(gap[on])
            + " per unit is given away. Raise the charge to at least "
            + floor
            + ", or check that the line bills one unit of the code.",
        )
    )
    hits = df.index[fires.to_numpy()]
    below = pd.DataFrame(
        {
            "row": hits,
            "charge_code": df.loc[hits, "charge_code"].to_numpy(),
            "description": df.loc[hits, "description"].to_numpy(),
            "hcpcs": code[hits].to_numpy(),
            "modifiers": mods[hits].to_numpy(),
            "price_column": price_col[hits].to_numpy(),
            "price": price[hits].to_numpy(),
            "rate": target[hits].round(2).to_numpy(),
            "gap": gap[hits].to_numpy(),
            "source": source[hits].to_numpy(),
        }
    )
    below = below.sort_values(["gap", "row"], ascending=[False, True], kind="stable")
    return out, below.reset_index(drop=True)
