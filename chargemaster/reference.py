"""Reference code sets: HCPCS Level II and modifiers (CMS alpha-numeric HCPCS file), CPT via
OPPS Addendum B or a plain code list, UB-04 revenue codes, and the CMS NOC list.

The package bundles a Level II + modifier reference built from public-domain CMS files (see
``data/README.md``); a user points at a newer CMS file with ``--hcpcs-file``. CPT descriptors
are the AMA's and are never bundled: a user loads Addendum B or a licensed list.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputError
from .fields import normalize_header
from .normalize import CPT_RE, LEVEL2_RE, clean_text
from .reader import Grid, cell_text, read_grids

# CPT modifiers are AMA content and not in any CMS file: the list is written out here
# (../shared/realdata/hcpcs/MANIFEST.md lists them), with the Category II modifiers 1P-8P.
_CPT_MODIFIER_LIST = (
    "22 23 24 25 26 27 32 33 47 50 51 52 53 54 55 56 57 58 59 62 63 66 73 74 76 77 78 79 80 81 "
    "82 90 91 92 93 95 96 97 99 1P 2P 3P 8P"
)
CPT_MODIFIERS = frozenset(_CPT_MODIFIER_LIST.split())  # noqa: SIM905
# An unlisted CPT code as its Addendum B short descriptor names it ('Unlisted ct procedure',
# 'Unlistd px skn...', 'Unl ther/prop/diag inj/inf', 'Rp therapy unlisted px'). Not "NOS":
# 'Immunoassay quant nos nonab' (83520) and the anesthesia "... nos" codes are specific codes
# (rules.md, HCPCS-NOC). Not 86486 'Skin test unlisted antign ea', a code for a named test.
UNLISTED = re.compile(r"^(?:unlisted|unlistd|unlstd|unl)\b|\bunlisted (?:px|procedure)\b", re.I)
ADDENDUM_B_KIND = "CPT and HCPCS (OPPS Addendum B)"
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}


# Value sets of isin(), as Arrow arrays, keyed by the set object's id. The entry holds the set
# itself, so the id cannot be reused by another object while the entry lives.
_MEMBER_SETS: dict[tuple[int, pa.DataType], tuple[object, pa.Array]] = {}
_MEMBER_SETS_MAX = 64


def per_value(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn`` (an elementwise check of a column, giving a Series or a DataFrame over it) worked
    out once per distinct value and spread back over the lines: a chargemaster repeats its
    codes (100,000 lines carry some 8,000). NA is one of the values, so ``fn`` answers for it
    as it would on the whole column. Values equal as Python objects (1100 and 1100.0 in an
    object column) are one value: meant for text checks, where neither is text."""
    codes, uniques = pd.factorize(values.array, use_na_sentinel=False)
    return fn(pd.Series(uniques, dtype=values.dtype)).take(codes).set_axis(values.index)


def isin(values: pd.Series, members) -> pd.Series:
    """``values.isin(members)`` for a reference set (frozenset, Index, list of codes).

    pandas' Arrow string isin converts every member to an Arrow scalar on every call (some
    20,000 CPT codes, a dozen calls a run); here the member array is built once per set and the
    lookup is one Arrow kernel. Only text members count, as in pandas; NA is never a member.
    """
    array = values.array
    if not isinstance(array, pd.arrays.ArrowStringArray):
        return values.isin(members)
    chunked = array.__arrow_array__()
    key = (id(members), chunked.type)
    hit = _MEMBER_SETS.get(key)
    if hit is None or hit[0] is not members:
        if isinstance(members, pd.Index) and isinstance(members.array, pd.arrays.ArrowStringArray):
            texts = members.array.__arrow_array__().combine_chunks().drop_null()
            texts = texts.cast(chunked.type) if texts.type != chunked.type else texts
        else:
            texts = [m for m in members if isinstance(m, str)]
        if len(_MEMBER_SETS) >= _MEMBER_SETS_MAX:
            _MEMBER_SETS.pop(next(iter(_MEMBER_SETS)))
        texts = texts if isinstance(texts, pa.Array) else pa.array(texts, type=chunked.type)
        hit = _MEMBER_SETS[key] = (members, texts)
    if not len(hit[1]):
        return pd.Series(False, index=values.index)
    found = pc.is_in(chunked, value_set=hit[1]).to_numpy(zero_copy_only=False)
    return pd.Series(found.astype(bool), index=values.index)


@dataclass(frozen=True)
class Release:
    kind: str  # what it answers: "HCPCS Level II", "CPT (OPPS Addendum B)", ...
    name: str
    source: str
    count: int
    start: dt.date | None = None  # first day of the quarter it describes
    valid_through: dt.date | None = None  # last day it is current (REFERENCE-STALE after)

    def describe(self) -> str:
        span = ""
        if self.start:
            span = f", {self.start.isoformat()} to {self.valid_through.isoformat()}"
        return f"{self.kind}: {self.name} ({self.count:,} codes{span}; {self.source})"


@dataclass
class CodeHistory:
    """Which codes each OPPS Addendum B release lists, oldest release first. Each release lists
    every code valid on its effective date, so a code's life is read from the releases it is in:
    dropped from a later release (or listed there with status indicator D) means deleted by
    then; first listed in a later release that an earlier one lacks means added in between."""

    releases: list[Release]  # sorted by start
    codes: pd.Index
    present: np.ndarray  # codes x releases: listed with a status other than D
    discontinued: np.ndarray  # listed with status indicator D
    _states: dict = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, frames: list[tuple[pd.DataFrame, Release]]) -> CodeHistory:
        frames = sorted(frames, key=lambda fr: fr[1].start)
        codes = pd.Index(sorted(set().union(*(f.index for f, _ in frames))))
        status = np.column_stack(
            [f["status"].reindex(codes).fillna("~").to_numpy(dtype=str) for f, _ in frames]
        )
        listed = status != "~"
        d = status == "D"
        return cls([r for _, r in frames], codes, listed & ~d, d)

    def state(self, as_of: dt.date) -> pd.DataFrame:
        """Per code, on the as-of date: known (NA: the releases cannot tell), deleted and
        not_yet, with the words that say which releases show it."""
        if as_of not in self._states:
            self._states[as_of] = self._state(as_of)
        return self._states[as_of]

    def _state(self, as_of: dt.date) -> pd.DataFrame:
        present, disc = self.present, self.discontinued
        n_codes, n = present.shape
        names = np.array([r.name for r in self.releases], dtype=object)
        starts = [r.start for r in self.releases]
        through = [r.valid_through for r in self.releases]
        k = sum(s <= as_of for s in starts)  # releases on or before the as-of date
        cols = np.arange(n)
        listed = present | disc
        # Last release on or before the as-of date that lists the code as valid (-1: none).
        upto = present[:, :k]
        last = np.where(upto.any(1), (upto * (cols[:k] + 1)).max(1, initial=0) - 1, -1)
        now = present[:, k - 1] if k else np.zeros(n_codes, bool)
        d_upto = disc[:, :k].any(1)
        deleted = ~now & ((last >= 0) | d_upto)
        first_d = np.where(disc.any(1), np.argmax(disc, 1), -1)
        drop = np.where(last >= 0, last + 1, first_d)
        # First release after the as-of date that lists the code; added in between when the
        # release before it (the last to lack it) was still current on the as-of date.
        after = listed[:, k:]
        first = (
            np.where(after.any(1), np.argmax(after, 1) + k, -1) if k < n else np.full(n_codes, -1)
        )
        first_is_valid = present[np.arange(n_codes), np.maximum(first, 0)]
        lacking = first - 1
        lacking_current = np.array([through[i] >= as_of if i >= 0 else False for i in range(n)])
        not_yet = (
            (last < 0)
            & ~d_upto
            & (first >= 0)
            & first_is_valid
            & (lacking >= 0)
            & lacking_current[np.maximum(lacking, 0)]
        )
        known = pd.array(listed.any(1), dtype="boolean")
        if k == 0:  # before the oldest release: an unlisted code may have existed then
            known[~listed.any(1)] = pd.NA
        how_deleted = np.full(n_codes, None, dtype=object)
        for i in np.flatnonzero(deleted):
            j = drop[i]
            if disc[i, j]:
                how_deleted[i] = f"listed as discontinued (status indicator D) in {names[j]}"
            else:
                how_deleted[i] = (
                    f"listed in {names[last[i]]} and dropped from {names[j]} "
                    f"(deleted by {starts[j].isoformat()})"
                )
        how_new = np.full(n_codes, None, dtype=object)
        for i in np.flatnonzero(not_yet):
            how_new[i] = (
                f"first listed in {names[first[i]]} (not in {names[lacking[i]]}, current "
                f"through {through[lacking[i]].isoformat()})"
            )
        return pd.DataFrame(
            {
                "known": known,
                "deleted": deleted,
                "not_yet": not_yet,
                "discontinued": disc[:, k - 1] if k else np.zeros(n_codes, bool),
                "deleted_how": how_deleted,
                "not_yet_how": how_new,
            },
            index=self.codes,
        )

    def in_force(self, as_of: dt.date) -> Release | None:
        """The latest release on or before the as-of date."""
        before = [r for r in self.releases if r.start <= as_of]
        return before[-1] if before else None


@dataclass
class Reference:
    level2: (
        pd.DataFrame
    )  # index code: add_date, term_date, xref, short_description, long_description
    modifiers: pd.DataFrame  # index modifier: add_date, term_date, long_description
    revenue: frozenset[str]
    noc: frozenset[str]
    cpt: pd.DataFrame | None = None  # index code: status (OPPS SI), short_description
    releases: list[Release] = field(default_factory=list)
    history: CodeHistory | None = None  # the Addendum B releases, for CPT dating
    cpt_list: frozenset[str] = frozenset()  # codes of an undated --cpt-list

    @property
    def checks_cpt(self) -> bool:
        return self.cpt is not None


def quarter_end(start: dt.date) -> dt.date:
    month = start.month + 3
    year = start.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return dt.date(year, month, 1) - dt.timedelta(days=1)


def release_from_name(path: Path) -> dt.date | None:
    """'HCPC2020_OCT_ANWEB.xlsx' -> 2020-10-01; 'AddendumB_2023_January' -> 2023-01-01;
    'january_2019_opps_web_addendum_b.12312018.xlsx' -> 2019-01-01 (the first year and month
    that sit next to each other; other words and the posting date are skipped)."""
    return _year_month(path.stem.upper())


def _year_month(text: str) -> dt.date | None:
    found = []
    for pattern, year_first in (
        (r"(20\d\d)[ _.-]*([A-Z]{3})", True),
        (r"([A-Z]{3})[A-Z]*[ _.-]*(20\d\d)", False),
    ):
        for match in re.finditer(pattern, text):
            a, b = match.groups()
            year, month = (a, b) if year_first else (b, a)
            if month == "CON":  # the annual "CONTR" HCPCS file describes January
                month = "JAN"
            if month in _MONTHS:
                found.append((match.start(), dt.date(int(year), _MONTHS[month], 1)))
    return min(found)[1] if found else None


def _dates(s: pd.Series) -> pd.Series:
    text = clean_text(s).str.replace(r"\.0$", "", regex=True)
    return pd.to_datetime(text, format="%Y%m%d", errors="coerce")


def _header_index(grid: Grid, wanted: set[str], scan: int = 25) -> int | None:
    for r, row in enumerate(grid.rows[:scan]):
        names = {normalize_header(cell_text(v)) for v in row}
        if wanted <= names:
            return r
    return None


def _frame(grid: Grid, header: int) -> pd.DataFrame:
    names = [normalize_header(cell_text(v)) for v in grid.rows[header]]
    body = grid.rows[header + 1 :]
    data = {
        n: [cell_text(r[j]) if j < len(r) else "" for r in body]
        for j, n in enumerate(names)
        if n and n not in ()
    }
    return pd.DataFrame(data, dtype="str")


def _pick(frame: pd.DataFrame, *names: str) -> pd.Series:
    for n in names:
        if n in frame.columns:
            return frame[n]
    return pd.Series("", index=frame.index, dtype="str")


def read_cms_hcpcs(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, Release, Release]:
    """The CMS alpha-numeric HCPCS file (.xlsx/.xls with a moving header, or fixed-width .txt):
    (level II codes, modifiers, and their releases)."""
    path = Path(path)
    if path.suffix.lower() == ".txt":
        frame = _read_fixed_width(path)
    else:
        grids = read_grids(path)
        for grid in grids:
            h = _header_index(grid, {"recid"})
            if h is not None:
                frame = _frame(grid, h)
                break
        else:
            raise InputError(f"{path}: not a CMS HCPCS file (no header with HCPC and RECID)")
    code = _pick(frame, "hcpc", "hcpcs", "hcpcscd", "hcpcscode")
    recid = clean_text(_pick(frame, "recid")).str.replace(r"\.0$", "", regex=True)
    out = pd.DataFrame(
        {
            "code": clean_text(code).str.upper(),
            "recid": recid,
            "long_description": clean_text(_pick(frame, "longdescription", "longdesc")),
            "short_description": clean_text(_pick(frame, "shortdescription", "shortdesc")),
            "xref": clean_text(_pick(frame, "xref1")),
            "add_date": _dates(_pick(frame, "adddt", "adddate", "codeaddeddate")),
            "eff_date": _dates(_pick(frame, "acteffdt", "actioneffectivedate")),
            "term_date": _dates(_pick(frame, "termdt", "termdate", "terminationdate")),
        }
    )
    out = out[out["code"].notna() & out["recid"].isin(["3", "4", "7", "8"])]
    # Continuation lines (RECID 4/8) extend the long description of the line before them.
    first = out["recid"].isin(["3", "7"])
    group = first.cumsum()
    more = (
        out[~first].groupby(group[~first])["long_description"].agg(lambda s: " ".join(s.dropna()))
    )
    heads = out[first].copy()
    extra = group[first].map(more).astype("str")
    heads["long_description"] = (
        heads["long_description"].fillna("") + (" " + extra).fillna("")
    ).str.strip()
    level2 = heads[heads["recid"].eq("3") & heads["code"].str.fullmatch(r"[A-Z]\d{4}")]
    mods = heads[heads["recid"].eq("7") & heads["code"].str.fullmatch(r"[A-Z0-9]{2}")]
    level2 = level2.drop_duplicates("code").set_index("code").drop(columns="recid")
    mods = mods.drop_duplicates("code").set_index("code").drop(columns=["recid", "xref"])
    if level2.empty:
        raise InputError(f"{path}: no HCPCS procedure codes (RECID 3) found")
    start = release_from_name(path)
    latest = level2["eff_date"].max()
    if start is None and pd.notna(latest):
        start = latest.date().replace(day=1)
    end = quarter_end(start) if start else None
    label = f"CMS HCPCS {start:%Y-%m}" if start else "CMS HCPCS"
    return (
        level2,
        mods,
        Release("HCPCS Level II", label, path.name, len(level2), start, end),
        Release("HCPCS modifiers", label, path.name, len(mods), start, end),
    )


def _read_fixed_width(path: Path) -> pd.DataFrame:
    """320-byte records, cp1252 (CMS record layout, ../shared/docs/domain.md section 4.2)."""
    text = path.read_bytes().decode("cp1252", errors="replace")
    rows = []
    for line in text.splitlines():
        if len(line) < 11 or line[10] not in "3478":
            continue  # the disclaimer lines before the data
        if not re.fullmatch(r"[A-Z0-9 ]{5}", line[0:5]):
            continue
        padded = line.ljust(320)
        rows.append(
            {
                "hcpc": padded[0:5],
                "recid": padded[10],
                "longdescription": padded[11:91],
                "shortdescription": padded[91:119],
                "xref1": padded[204:209],
                "adddt": padded[268:276],
                "acteffdt": padded[276:284],
                "termdt": padded[284:292],
            }
        )
    if not rows:
        raise InputError(f"{path}: not a CMS HCPCS fixed-width file (no 320-byte records)")
    return pd.DataFrame(rows, dtype="str")


_MONTH_WORDS = (
    r"(JANUARY|FEBRUARY|MARCH|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|OCTOBER|NOVEMBER|DECEMBER)"
)


def _title_date(grid: Grid, header: int) -> tuple[dt.date | None, int | None]:
    """The quarter a CMS title row names ('Addendum B - April 2019 ...'), else the calendar
    year it names ('... for CY 2019'), from the rows above the header."""
    text = " ".join(cell_text(v) for row in grid.rows[:header] for v in row).upper()
    match = re.search(r"\b" + _MONTH_WORDS + r"[ ,]*(20\d\d)", text)
    if match:
        return dt.date(int(match.group(2)), _MONTHS[match.group(1)[:3]], 1), None
    match = re.search(r"\bCY[ -]*(20\d\d)\b", text)
    return None, int(match.group(1)) if match else None


def read_addendum_b(path: Path) -> tuple[pd.DataFrame, Release]:
    """OPPS Addendum B (CMS workbook or CSV): code -> status indicator, short descriptor.

    The release date comes from the title rows (a month and year), else the file name, else
    softek's 'Source' column, else the title's calendar year (the January release); a file
    that gives none is refused, since CPT dating needs every release placed in time."""
    path = Path(path)
    for grid in read_grids(path):
        h = _header_index(grid, {"hcpcscode"})
        if h is not None:
            frame = _frame(grid, h)
            break
    else:
        raise InputError(f"{path}: not an OPPS Addendum B file (no 'HCPCS Code' header)")
    codes = clean_text(frame["hcpcscode"]).str.upper()
    out = pd.DataFrame(
        {
            "code": codes,
            "status": clean_text(_pick(frame, "si", "statusindicator")).str.upper(),
            "short_description": clean_text(_pick(frame, "shortdescriptor", "shortdescription")),
        }
    )
    out = out[out["code"].str.fullmatch(rf"{CPT_RE}|{LEVEL2_RE}").fillna(False)]
    out = out.drop_duplicates("code").set_index("code")
    start, calendar_year = _title_date(grid, h)
    start = start or release_from_name(path)
    source_col = clean_text(_pick(frame, "source")).dropna()
    if start is None and source_col.str.fullmatch(r"20\d\d-\d\d").any():
        year, month = source_col[source_col.str.fullmatch(r"20\d\d-\d\d")].iloc[0].split("-")
        start = dt.date(int(year), int(month), 1)
    if start is None and calendar_year is not None:
        start = dt.date(calendar_year, 1, 1)
    if start is None:
        raise InputError(
            f"{path}: cannot tell which quarter this OPPS Addendum B describes (no month and "
            "year in its title rows or file name); rename it with both, e.g. "
            "'OPPS_AddendumB_2026_April.csv'"
        )
    return out, Release(
        ADDENDUM_B_KIND,
        f"OPPS Addendum B {start:%Y-%m}",
        path.name,
        len(out),
        start,
        quarter_end(start),
    )


def read_code_list(path: Path) -> tuple[pd.DataFrame, Release]:
    """A plain list of valid codes: the first column of a text file or sheet, header optional."""
    path = Path(path)
    grid = read_grids(path)[0]
    values = pd.Series([cell_text(r[0]) for r in grid.rows if r], dtype="str")
    codes = clean_text(values).str.upper()
    codes = codes[codes.str.fullmatch(rf"{CPT_RE}|{LEVEL2_RE}").fillna(False)].drop_duplicates()
    if codes.empty:
        raise InputError(f"{path}: no CPT/HCPCS codes in the first column")
    out = pd.DataFrame({"status": "", "short_description": pd.NA}, index=pd.Index(codes))
    return out, Release("CPT (code list)", path.stem, path.name, len(out))


def _data(name: str):
    return resources.files("chargemaster").joinpath("data", name)


def bundled() -> Reference:
    """The reference shipped with the package (built by scripts/build_reference.py); loaded
    once per process, each caller getting its own release list to extend."""
    ref = _bundled()
    return Reference(ref.level2, ref.modifiers, ref.revenue, ref.noc, None, list(ref.releases))


@cache
def _bundled() -> Reference:
    meta = json.loads(_data("release.json").read_text("utf-8"))

    def read(name: str, index: str) -> pd.DataFrame:
        with _data(name).open("rb") as fh:
            frame = pd.read_csv(
                fh,
                dtype="str",
                keep_default_na=False,
                na_values=[""],
                compression="gzip" if name.endswith(".gz") else None,
            )
        for col in ("add_date", "term_date", "eff_date", "absent_through"):
            if col in frame:
                frame[col] = pd.to_datetime(frame[col], format="%Y-%m-%d", errors="coerce")
        return frame.set_index(index)

    level2 = read("hcpcs_level2.csv.gz", "code")
    mods = read("hcpcs_modifiers.csv", "modifier")
    revenue = read("revenue_codes.csv", "code")
    noc = read("hcpcs_noc.csv", "code")
    releases = []
    for key, frame in (("hcpcs", level2), ("modifiers", mods), ("revenue", revenue), ("noc", noc)):
        m = meta[key]
        start = dt.date.fromisoformat(m["start"]) if m.get("start") else None
        end = dt.date.fromisoformat(m["valid_through"]) if m.get("valid_through") else None
        releases.append(Release(m["kind"], m["name"], m["source"], len(frame), start, end))
    return Reference(
        level2, mods, frozenset(revenue.index), frozenset(noc.index), releases=releases
    )


def addendum_b_files(paths: Path | Sequence[Path] | None) -> list[Path]:
    """The Addendum B files named: files as given, folders expanded to the spreadsheets in
    them whose name says Addendum B ('addendum', 'addb')."""
    if paths is None:
        return []
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            out.append(path)
            continue
        found = sorted(
            f
            for f in path.iterdir()
            if f.suffix.lower() in (".xlsx", ".xls", ".xlsm", ".csv", ".txt")
            and re.search(r"addendum|addb", f.name, re.I)
            and not f.name.startswith("~$")
        )
        if not found:
            raise InputError(
                f"{path}: no OPPS Addendum B files in this folder (file names must contain "
                "'Addendum' or 'AddB')"
            )
        out.extend(found)
    return out


def _cached_addendum_b(path: Path) -> tuple[pd.DataFrame, Release]:
    """Read once per process per file version: a batch checks many chargemasters against the
    same releases."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        return read_addendum_b(path)  # the reader words the error
    return _read_addendum_b_version(path.resolve(), st.st_mtime_ns, st.st_size)


@cache
def _read_addendum_b_version(path: Path, _mtime: int, _size: int):
    return read_addendum_b(path)


# The history and CPT table of a list of releases, per list of (cached) release frames: the
# same files give the same objects run after run, so what is derived from them (the history's
# per-date states, the suggestion catalog, isin's value sets) is built once per process. Held
# with the frames, so an id is never reused while its entry lives.
_COMBINED: dict[tuple[int, ...], tuple[list, CodeHistory, pd.DataFrame]] = {}
_COMBINED_MAX = 8


def _combined(frames: list[tuple[pd.DataFrame, Release]]) -> tuple[CodeHistory, pd.DataFrame]:
    key = tuple(id(f) for f, _ in frames)
    hit = _COMBINED.get(key)
    if hit is not None and all(a is b for (a, _), (b, _) in zip(hit[0], frames, strict=True)):
        return hit[1], hit[2]
    history = CodeHistory.build(frames)
    # Descriptors and status indicators from the newest release that lists each code.
    cpt = pd.concat([f for f, _ in reversed(frames)])
    cpt = cpt[~cpt.index.duplicated()]
    if len(_COMBINED) >= _COMBINED_MAX:
        _COMBINED.pop(next(iter(_COMBINED)))
    _COMBINED[key] = (list(frames), history, cpt)
    return history, cpt


def load_reference(
    hcpcs_file: Path | None = None,
    addendum_b: Path | Sequence[Path] | None = None,
    cpt_list: Path | None = None,
) -> Reference:
    """The bundled reference, with any user files replacing or adding their part. Several
    Addendum B releases (or a folder of them) date CPT codes: see CodeHistory."""
    ref = bundled()
    if hcpcs_file is not None:
        level2, mods, rel_codes, rel_mods = read_cms_hcpcs(hcpcs_file)
        ref.level2, ref.modifiers = level2, mods
        ref.releases = [r for r in ref.releases if r.kind not in (rel_codes.kind, rel_mods.kind)]
        ref.releases[:0] = [rel_codes, rel_mods]
    frames = [_cached_addendum_b(path) for path in addendum_b_files(addendum_b)]
    seen: dict[dt.date, str] = {}
    for _, release in frames:
        if release.start in seen:
            raise InputError(
                f"{release.source}: describes the same quarter ({release.start:%Y-%m}) as "
                f"{seen[release.start]}; load one file per release"
            )
        seen[release.start] = release.source
    if frames:
        frames.sort(key=lambda fr: fr[1].start)
        ref.history, ref.cpt = _combined(frames)
        ref.releases.extend(r for _, r in frames)
    if cpt_list is not None:
        frame, release = read_code_list(cpt_list)
        ref.cpt = (
            frame
            if ref.cpt is None
            else pd.concat([ref.cpt, frame[~frame.index.isin(ref.cpt.index)]])
        )
        ref.cpt_list = frozenset(frame.index)
        ref.releases.append(release)
    return ref
