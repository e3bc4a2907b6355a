"""Read CDM shorthand, propose codes for uncoded ancillary lines (HCPCS-SUGGESTED), and catch
descriptions that contradict their code's descriptor (DESCRIPTION-CODE-CONFLICT).

Descriptions are normalised through the documented table ``abbreviations.toml``; matching
uses rapidfuzz. Suggestions are never applied: they go to the Suggested column and the
Suggestions sheet for an analyst to accept into the code map.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from . import findings as F
from .config import Config
from .prepare import Lines
from .refcheck import code_status
from .reference import Reference
from .rules import code_family

MAX_CANDIDATES = 3


def _SCORE(query: str, descriptor: str) -> float:  # noqa: N802
    """Similarity in [0, 0.9] of a description and a reference descriptor: shared words, word
    order, and partial words (CDM shorthand like METHYLPRE). Weights chosen on
    benchmarks/suggest_accuracy.py."""
    return (
        (
            fuzz.token_set_ratio(query, descriptor) * 0.4
            + fuzz.token_sort_ratio(query, descriptor) * 0.3
            + fuzz.partial_token_sort_ratio(query, descriptor) * 0.3
        )
        / 100
        * 0.9
    )


_SHORTLIST_SCORER = fuzz.token_set_ratio


MIN_SCORE = 0.35  # below this a candidate is noise (benchmarks/suggest_accuracy.py)
_SHORTLIST = 15


@cache
def _table() -> tuple[re.Pattern, dict[str, str], dict[str, str], frozenset[str]]:
    raw = tomllib.loads(
        resources.files("chargemaster").joinpath("abbreviations.toml").read_text("utf-8")
    )
    phrases = {k.upper(): v for k, v in raw["phrases"].items()}
    parts = []
    for p in sorted(phrases, key=len, reverse=True):
        tail = r"(?![A-Z0-9])" if p[-1].isalnum() else ""
        parts.append(rf"(?<![A-Z0-9]){re.escape(p)}{tail}")
    pattern = re.compile("|".join(parts))
    words = {k.upper(): v.upper() for k, v in raw["words"].items()}
    return pattern, phrases, words, frozenset(w.upper() for w in raw["noise"]["words"])


def tokens(text: str) -> list[str]:
    """The words of a description after the abbreviation table: 'CT HD W/O' -> CT HEAD WITHOUT."""
    pattern, phrases, words, noise = _table()
    upper = pattern.sub(lambda m: phrases[m.group(0)], str(text).upper())
    out: list[str] = []
    for word in re.findall(r"[A-Z0-9]+", upper):
        views = re.fullmatch(r"(\d+)(?:V|VW|VWS|VIEW|VIEWS)", word)
        if views:
            out += [views.group(1), "VIEW"]
            continue
        for w in words.get(word, word).split():
            if w not in noise:
                out.append(w)
    return out


@lru_cache(maxsize=500_000)
def normalize(text: str) -> str:
    # Cached: reference descriptors are normalised once per process, not once per run.
    return " ".join(tokens(text))


@dataclass(frozen=True)
class Terms:
    contrast: str | None
    side: str | None
    views: tuple[int, int | None] | None  # (fewest, most; None: no upper bound)
    purpose: str | None  # screening / diagnostic
    extent: str | None  # complete / limited
    # Angiography descriptors abbreviate "with or without contrast" (MRA) and "with contrast,
    # including noncontrast images" (CTA) as "w/o & w/dye": their contrast term is no guide.
    angio: bool = False


_VIEWS = re.compile(
    r"(\d+)\s*(?:(-|/|TO|OR)\s*(\d+|>|MORE)|(\+|OR MORE|PLUS))?\s*(?:V|VW|VWS|VIEW|VIEWS)\b"
)


def key_terms(words: list[str], text: str = "") -> Terms:
    """The terms that change the code: contrast, side, views, screening, complete.

    ``text`` (the description as written) lets '2-3 VIEWS' and '4/5VWS' read as ranges.
    """
    have = set(words)
    contrast = None
    if "CONTRAST" in have and "WITHORWITHOUT" not in have:
        seen = set()
        for i, w in enumerate(words):
            if w == "CONTRAST":  # the words right before it say with or without
                seen |= set(words[max(0, i - 2) : i]) & {"WITH", "WITHOUT"}
        if "FOLLOWEDBY" in have or {"WITH", "WITHOUT"} <= seen:
            contrast = "with and without"
        elif seen:
            contrast = seen.pop().lower()
    side = next(
        (s.lower() for s in ("BILATERAL", "UNILATERAL", "LEFT", "RIGHT") if s in have), None
    )
    views = None
    match = _VIEWS.search(text.upper()) if text else None
    if match:
        low = int(match.group(1))
        if match.group(3):
            high = None if match.group(3) in (">", "MORE") else int(match.group(3))
        else:
            high = None if match.group(4) else low
        if "MIN" in text.upper():
            high = None
        views = (low, high)
    else:
        for i, w in enumerate(words):
            if w == "VIEW" and i and words[i - 1].isdigit():
                n = int(words[i - 1])
                views = (n, None if have & {"MINIMUM", "MORE", "PLUS"} else n)
                break
    purpose = "screening" if "SCREENING" in have else "diagnostic" if "DIAGNOSTIC" in have else None
    extent = "complete" if "COMPLETE" in have else "limited" if "LIMITED" in have else None
    angio = bool(have & {"MRA", "CTA", "ANGIO", "ANGIOGRAPHY", "ANGIOGRAPH", "ANGIOGPHY"})
    return Terms(contrast, side, views, purpose, extent, angio)


def _views_text(v: tuple[int, int | None]) -> str:
    low, high = v
    return f"{low}+" if high is None else (f"{low}" if low == high else f"{low}-{high}")


def conflicts(a: Terms, b: Terms) -> list[str]:
    """The key terms on which description a and descriptor b disagree."""
    out = []
    if a.contrast and b.contrast and a.contrast != b.contrast and not (a.angio or b.angio):
        out.append(f"contrast: {a.contrast} vs {b.contrast}")
    if (
        a.side
        and b.side
        and a.side != b.side
        and not (
            {a.side, b.side} <= {"unilateral", "left", "right"} and "unilateral" in {a.side, b.side}
        )
    ):
        out.append(f"side: {a.side} vs {b.side}")
    if a.views and b.views:
        (la, ha), (lb, hb) = a.views, b.views
        disjoint = (ha is not None and ha < lb) or (hb is not None and hb < la)
        if disjoint:
            out.append(f"views: {_views_text(a.views)} vs {_views_text(b.views)}")
    if a.purpose and b.purpose and a.purpose != b.purpose:
        out.append(f"{a.purpose} vs {b.purpose}")
    if a.extent and b.extent and a.extent != b.extent:
        out.append(f"{a.extent} vs {b.extent}")
    return out


@dataclass
class Catalog:
    """Reference descriptors to match against: one row per (code, descriptor text)."""

    codes: list[str]
    texts: list[str]  # as published
    normal: list[str]
    family: list[str | None]


def reference_catalog(ref: Reference, config: Config, as_of: dt.date) -> Catalog:
    rows = []
    level2 = ref.level2
    for col in ("short_description", "long_description"):
        text = level2[col].dropna()
        rows.append(pd.DataFrame({"code": text.index, "text": text.to_numpy()}))
    if ref.cpt is not None:
        text = ref.cpt["short_description"].dropna()
        rows.append(pd.DataFrame({"code": text.index, "text": text.to_numpy()}))
    table = pd.concat(rows, ignore_index=True).astype("str").drop_duplicates()
    status = code_status(table["code"], ref, as_of)
    usable = status["known"].fillna(True) & ~status["deleted"] & ~status["not_yet"]
    table = table[usable.to_numpy()]
    family = code_family(table["code"], config.code_families)
    return Catalog(
        table["code"].tolist(),
        table["text"].tolist(),
        [normalize(t) for t in table["text"]],
        [None if pd.isna(f) else f for f in family],
    )


def _allowed(line_family: str | None, config: Config) -> set[str | None]:
    """Code families that fit a line's revenue family (None: codes outside every family)."""
    fits = {f.name for f in config.code_families if line_family in f.revenue_families}
    return fits or {None} | {f.name for f in config.code_families}


@dataclass
class Suggester:
    catalog: Catalog
    config: Config
    # Same chargemaster: normalised description -> (code, charge code) of coded lines.
    local: dict[str, tuple[str, str]]

    def __post_init__(self) -> None:
        self._local_keys = list(self.local)
        codes = pd.Series(sorted({c for c, _ in self.local.values()}), dtype="str")
        fams = code_family(codes, self.config.code_families)
        self._local_family = {
            c: (None if pd.isna(f) else f) for c, f in zip(codes, fams, strict=True)
        }
        self._pools: dict[frozenset, tuple[list[int], list[str]]] = {}
        self._catalog_terms: dict[int, Terms] = {}

    def _terms(self, i: int) -> Terms:
        cached = self._catalog_terms.get(i)
        if cached is None:
            text = self.catalog.texts[i]
            cached = self._catalog_terms[i] = key_terms(self.catalog.normal[i].split(), text)
        return cached

    def _pool(self, allowed: set[str | None]) -> tuple[list[int], list[str]]:
        key = frozenset(allowed)
        if key not in self._pools:
            idx = [i for i, f in enumerate(self.catalog.family) if f in allowed]
            self._pools[key] = (idx, [self.catalog.normal[i] for i in idx])
        return self._pools[key]

    def candidates(self, description: str, family: str | None) -> list[tuple[str, float, str]]:
        return self.candidates_many([(description, family)])[0]

    def candidates_many(
        self, items: list[tuple[str, str | None]]
    ) -> list[list[tuple[str, float, str]]]:
        """Up to MAX_CANDIDATES (code, score, reason) per (description, family), best first.

        The fuzzy search runs as one rapidfuzz cdist per family pool over all the distinct
        descriptions, on every core; only the shortlist is rescored in Python.
        """
        queries = []
        for description, family in items:
            words = tokens(description)
            allowed = frozenset(_allowed(family, self.config))
            queries.append((" ".join(words), key_terms(words, description), allowed))
        shortlist: dict[tuple[str, frozenset], list[int]] = {}
        for allowed in {q[2] for q in queries}:
            pool, choices = self._pool(set(allowed))
            texts = sorted({q[0] for q in queries if q[2] == allowed and q[0]})
            if not pool or not texts:
                continue
            for start in range(0, len(texts), 2000):
                chunk = texts[start : start + 2000]
                scores = process.cdist(
                    chunk,
                    choices,
                    scorer=_SHORTLIST_SCORER,
                    dtype=np.uint8,
                    workers=-1,
                    score_cutoff=50,
                )
                k = min(_SHORTLIST, scores.shape[1])
                top = np.argpartition(-scores.astype(np.int16), k - 1, axis=1)[:, :k]
                for text, idx, row in zip(chunk, top, scores, strict=True):
                    shortlist[(text, allowed)] = [pool[j] for j in idx if row[j] > 0]
        near = self._near_local({q[0] for q in queries if q[0]})
        return [self._rank(q, shortlist.get((q[0], q[2]), []), near.get(q[0], [])) for q in queries]

    def _near_local(self, texts: set[str]) -> dict[str, list[tuple[str, float]]]:
        """Same-chargemaster descriptions within 90% of each text."""
        out: dict[str, list[tuple[str, float]]] = {}
        if not self._local_keys or not texts:
            return out
        ordered = sorted(texts)
        for start in range(0, len(ordered), 1000):
            chunk = ordered[start : start + 1000]
            scores = process.cdist(
                chunk,
                self._local_keys,
                scorer=fuzz.ratio,
                dtype=np.uint8,
                workers=-1,
                score_cutoff=90,
            )
            for text, row in zip(chunk, scores, strict=True):
                hits = np.flatnonzero(row)
                best = hits[np.argsort(-row[hits])][:3]
                out[text] = [(self._local_keys[j], float(row[j])) for j in best]
        return out

    def _rank(self, query, shortlist: list[int], near: list[tuple[str, float]]):
        text, terms, allowed = query
        if not text:
            return []
        found: dict[str, tuple[float, str]] = {}
        exact = self.local.get(text)
        if exact and self._local_family.get(exact[0]) in allowed:
            found[exact[0]] = (1.0, f"same description as charge {exact[1]} coded {exact[0]}")
        for other, score in near:
            code, charge = self.local[other]
            if code not in found and self._local_family.get(code) in allowed:
                found[code] = (
                    score / 100 * 0.95,
                    f"nearly the same description as charge {charge} coded {code}",
                )
        for i in shortlist:
            code, normal = self.catalog.codes[i], self.catalog.normal[i]
            if conflicts(terms, self._terms(i)):
                continue
            score = _SCORE(text, normal)
            if code not in found or ("descriptor" in found[code][1] and found[code][0] < score):
                found[code] = (score, f"matches reference descriptor '{self.catalog.texts[i]}'")
        ranked = sorted(found.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return [(c, round(s, 2), r) for c, (s, r) in ranked if s >= MIN_SCORE][:MAX_CANDIDATES]


def local_index(coded: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Normalised description -> (code, charge code) of coded lines; the first line wins."""
    local: dict[str, tuple[str, str]] = {}
    charges = coded["charge_code"].fillna("(no charge code)")
    for desc, code, charge in zip(coded["description"], coded["coded_hcpcs"], charges, strict=True):
        local.setdefault(normalize(desc), (code, charge))
    local.pop("", None)
    return local


def build_suggester(
    lines: Lines, ref: Reference, config: Config, as_of: dt.date, bad_rows: set[int]
) -> Suggester:
    frame = lines.frame
    coded = frame[
        frame["coded_hcpcs"].notna()
        & frame["description"].notna()
        & ~frame.index.isin(list(bad_rows))
    ]
    return Suggester(reference_catalog(ref, config, as_of), config, local_index(coded))


def suggest_findings(
    lines: Lines, found: pd.DataFrame, ref: Reference, config: Config, as_of: dt.date
) -> tuple[pd.DataFrame, list[pd.DataFrame], pd.DataFrame]:
    """(findings with the Suggested column filled, new findings, the Suggestions table)."""
    frame = lines.frame
    bad = set(
        found.loc[
            found["rule"].isin(
                ["HCPCS-MALFORMED", "HCPCS-UNKNOWN", "HCPCS-DELETED", "HCPCS-LOCAL"]
            ),
            "row",
        ].dropna()
    )
    suggester = build_suggester(lines, ref, config, as_of, {int(r) for r in bad})
    out: list[pd.DataFrame] = []
    missing = found["rule"].eq("HCPCS-MISSING")
    rows = found.loc[missing, "row"].astype(int).tolist()
    table_rows = []
    items = []
    for row in rows:
        desc, fam = frame.at[row, "description"], frame.at[row, "family"]
        items.append((row, desc, None if pd.isna(fam) else fam))
    items = [it for it in items if not pd.isna(it[1])]
    results = suggester.candidates_many([(d, f) for _, d, f in items])
    suggested = {}
    for (row, desc, _), cands in zip(items, results, strict=True):
        if not cands:
            continue
        suggested[row] = "; ".join(f"{c} ({s:.2f})" for c, s, _ in cands)
        for rank, (code, score, reason) in enumerate(cands, start=1):
            table_rows.append([row, frame.at[row, "charge_code"], desc, rank, code, score, reason])
    found = found.copy()
    found.loc[missing, "suggested"] = found.loc[missing, "row"].astype(int).map(suggested)
    if suggested:
        idx = pd.Index(list(suggested), name="row")
        text = pd.Series(suggested, index=idx)
        out.append(
            F.make(
                "HCPCS-SUGGESTED",
                pd.Series(True, index=idx),
                column=frame["hcpcs_col"],
                value=text,
                suggested=text.str.split(" ").str[0],
                charge_code=frame["charge_code"],
                message="Candidate codes " + text + " (see the Suggestions sheet for reasons). "
                "Nothing was applied: confirm one and add it to the code map.",
            )
        )
    out.append(_conflicts(lines, suggester, ref, as_of))
    table = pd.DataFrame(
        table_rows,
        columns=["Row", "Charge Code", "Description", "Rank", "HCPCS", "Score", "Reason"],
    )
    return found, out, table


def _conflicts(lines: Lines, suggester: Suggester, ref: Reference, as_of: dt.date) -> pd.DataFrame:
    """DESCRIPTION-CODE-CONFLICT: description vs the code's official descriptor."""
    frame = lines.frame
    active = frame[frame["active"] & frame["coded_hcpcs"].notna() & frame["description"].notna()]
    if active.empty:
        return F.empty()
    status = code_status(active["coded_hcpcs"], ref, as_of)
    # No descriptor known (CPT without Addendum B): nothing to compare.
    pairs = pd.DataFrame({"desc": active["description"], "text": status["descriptor"]}).dropna()
    unique = pairs.drop_duplicates()
    why = {
        (d, t): "; ".join(conflicts(key_terms(tokens(d), d), key_terms(tokens(t), t)))
        for d, t in zip(unique["desc"], unique["text"], strict=True)
    }
    pairs["why"] = [why[(d, t)] for d, t in zip(pairs["desc"], pairs["text"], strict=True)]
    pairs = pairs[pairs["why"].ne("")]
    if pairs.empty:
        return F.empty()
    idx = pairs.index
    families = frame["family"].reindex(idx)
    found = suggester.candidates_many(
        [(d, None if pd.isna(f) else f) for d, f in zip(pairs["desc"], families, strict=True)]
    )
    own = frame["coded_hcpcs"].reindex(idx)
    fix = pd.Series(
        [
            next((c for c, _, _ in cands if c != o), None)
            for cands, o in zip(found, own, strict=True)
        ],
        index=idx,
        dtype="str",
    )
    text, why = pairs["text"], pairs["why"]
    code, desc = frame["coded_hcpcs"].reindex(idx), frame["description"].reindex(idx)
    advice = ("; " + fix + " fits the description").fillna("")
    return F.make(
        "DESCRIPTION-CODE-CONFLICT",
        pd.Series(True, index=idx),
        column=frame["hcpcs_col"],
        value=code,
        suggested=fix,
        charge_code=frame["charge_code"],
        message="Description '"
        + desc
        + "' contradicts the descriptor of "
        + code
        + " ('"
        + text
        + "') on "
        + why
        + advice
        + ". Correct the code or the description.",
    )
