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
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from .errors import InputError
from .fields import normalize_header
from .normalize import clean_text
from .reader import Grid, cell_text, read_grids

# CPT modifiers are AMA content and not in any CMS file: the list is written out here
# (../shared/realdata/hcpcs/MANIFEST.md lists them), with the Category II modifiers 1P-8P.
_CPT_MODIFIER_LIST = (
    "22 23 24 25 26 27 32 33 47 50 51 52 53 54 55 56 57 58 59 62 63 66 73 74 76 77 78 79 80 81 "
    "82 90 91 92 93 95 96 97 99 1P 2P 3P 8P"
)
CPT_MODIFIERS = frozenset(_CPT_MODIFIER_LIST.split())  # noqa: SIM905
# Descriptor words that mark a not-otherwise-classified or unlisted code.
NOC_WORDS = re.compile(
    r"\b(?:not otherwise classified|not otherwise specified|unlisted|noc|nos)\b", re.I
)
LEVEL2_RE = r"[ABCDEGHJKLMPQRSTUV]\d{4}"
CPT_RE = r"\d{5}|\d{4}[FTUM]"
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}


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
class Reference:
    level2: (
        pd.DataFrame
    )  # index code: add_date, term_date, xref, short_description, long_description
    modifiers: pd.DataFrame  # index modifier: add_date, term_date, long_description
    revenue: frozenset[str]
    noc: frozenset[str]
    cpt: pd.DataFrame | None = None  # index code: status (OPPS SI), short_description
    releases: list[Release] = field(default_factory=list)

    @property
    def checks_cpt(self) -> bool:
        return self.cpt is not None


def quarter_end(start: dt.date) -> dt.date:
    month = start.month + 3
    year = start.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return dt.date(year, month, 1) - dt.timedelta(days=1)


def release_from_name(path: Path) -> dt.date | None:
    """'HCPC2020_OCT_ANWEB.xlsx' -> 2020-10-01; 'AddendumB_2023_January' -> 2023-01-01."""
    name = path.stem.upper()
    match = re.search(r"(20\d\d)[ _-]*([A-Z]{3})", name) or re.search(
        r"([A-Z]{3})[A-Z]*[ _-]*(20\d\d)", name
    )
    if not match:
        return None
    a, b = match.groups()
    year, month = (a, b) if a.isdigit() else (b, a)
    if month == "CON":  # the annual "CONTR" file describes January
        month = "JAN"
    if month not in _MONTHS:
        return None
    return dt.date(int(year), _MONTHS[month], 1)


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


def read_addendum_b(path: Path) -> tuple[pd.DataFrame, Release]:
    """OPPS Addendum B (CMS workbook or CSV): code -> status indicator, short descriptor."""
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
    out = out[out["code"].str.fullmatch(rf"{CPT_RE}|{LEVEL2_RE}|\d{{4}}A").fillna(False)]
    out = out.drop_duplicates("code").set_index("code")
    start = release_from_name(path)
    source_col = _pick(frame, "source").dropna()
    if start is None and source_col.str.fullmatch(r"20\d\d-\d\d").any():
        year, month = source_col[source_col.str.fullmatch(r"20\d\d-\d\d")].iloc[0].split("-")
        start = dt.date(int(year), int(month), 1)
    end = quarter_end(start) if start else None
    name = f"OPPS Addendum B {start:%Y-%m}" if start else "OPPS Addendum B"
    return out, Release("CPT and HCPCS (OPPS Addendum B)", name, path.name, len(out), start, end)


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
        for col in ("add_date", "term_date", "eff_date"):
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


def load_reference(
    hcpcs_file: Path | None = None,
    addendum_b: Path | None = None,
    cpt_list: Path | None = None,
) -> Reference:
    """The bundled reference, with any user files replacing or adding their part."""
    ref = bundled()
    if hcpcs_file is not None:
        level2, mods, rel_codes, rel_mods = read_cms_hcpcs(hcpcs_file)
        ref.level2, ref.modifiers = level2, mods
        ref.releases = [r for r in ref.releases if r.kind not in (rel_codes.kind, rel_mods.kind)]
        ref.releases[:0] = [rel_codes, rel_mods]
    for loader, path in ((read_addendum_b, addendum_b), (read_code_list, cpt_list)):
        if path is None:
            continue
        frame, release = loader(path)
        ref.cpt = (
            frame
            if ref.cpt is None
            else pd.concat([ref.cpt, frame[~frame.index.isin(ref.cpt.index)]])
        )
        ref.releases.append(release)
    return ref
