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
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from . import findings as F
from .config import Config
from .prepare import Lines
from .refcheck import code_status
from .reference import Reference, isin, per_value
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
# Issues (the Suggested column, HCPCS-SUGGESTED, the code a conflict names) shows a candidate
# only from this score up; below it, candidates stay on the Suggestions sheet. Calibrated at
# large n (python benchmarks/suggest_accuracy.py --calibrate): on 16,328 real lines whose valid
# code was hidden (10 files), the first candidate Issues may show was that exact code 0.871 of
# the time from 0.80 up (n=5,172; mean of files 0.841), against 0.745 from 0.70. Exact match
# is a floor (a neighbouring code counts wrong). The 0.70 once set on 38 hand labels held 0.62
# on a fresh hand-labelled sample.
SHOW_SCORE = 0.80
AGREE_BONUS = 0.06  # per key term a descriptor states in agreement with the description
BRAND_PENALTY = 0.1  # a brand-specific drug code ('midazolam (seizalam)') for a generic line
_SHORTLIST = 15


@cache
def _raw() -> dict:
    return tomllib.loads(
        resources.files("chargemaster").joinpath("abbreviations.toml").read_text("utf-8")
    )


@cache
def _table() -> tuple[re.Pattern, dict[str, str], dict[str, str], frozenset[str]]:
    raw = _raw()
    phrases = {k.upper(): v for k, v in raw["phrases"].items()}
    # Longest phrase first, each starting a word. The alternatives are grouped by their first
    # character behind one shared look-behind: the same matches as one look-behind per
    # alternative tried at every position, about 50 times faster (re tries 84 phrases less).
    groups: dict[str, list[str]] = {}
    for p in sorted(phrases, key=len, reverse=True):
        tail = r"(?![A-Z0-9])" if p[-1].isalnum() else ""
        groups.setdefault(p[0], []).append(re.escape(p[1:]) + tail)
    pattern = re.compile(
        r"(?<![A-Z0-9])(?:"
        + "|".join(f"{re.escape(c)}(?:{'|'.join(rest)})" for c, rest in groups.items())
        + ")"
    )
    words = {k.upper(): v.upper() for k, v in raw["words"].items()}
    return pattern, phrases, words, frozenset(w.upper() for w in raw["noise"]["words"])


@cache
def _body_table() -> dict[str, frozenset[str]]:
    return {k.upper(): frozenset(v) for k, v in _raw()["body"].items()}


def tokens(text: str) -> list[str]:
    """The words of a description after the abbreviation table: 'CT HD W/O' -> CT HEAD WITHOUT."""
    return list(_tokens(str(text)))


_WORD = re.compile(r"[A-Z0-9]+")
_N_VIEWS = re.compile(r"(\d+)(?:V|VW|VWS|VIEW|VIEWS)")


# Cached: a chargemaster repeats its descriptions and the reference its descriptors.
@lru_cache(maxsize=500_000)
def _tokens(text: str) -> tuple[str, ...]:
    pattern, phrases, _, _ = _table()
    upper = pattern.sub(lambda m: phrases[m.group(0)], str(text).upper())
    out: list[str] = []
    for word in _WORD.findall(upper):
        out.extend(_word_tokens(word))
    return tuple(out)


@lru_cache(maxsize=200_000)
def _word_tokens(word: str) -> tuple[str, ...]:
    """The tokens one word of a description becomes ('4VWS' -> 4 VIEW; noise words none)."""
    _, _, words, noise = _table()
    views = _N_VIEWS.fullmatch(word) if word[0].isdigit() else None
    if views:
        return (views.group(1), "VIEW")
    return tuple(w for w in words.get(word, word).split() if w not in noise)


@lru_cache(maxsize=500_000)
def normalize(text: str) -> str:
    # Cached: reference descriptors are normalised once per process, not once per run.
    return " ".join(_tokens(str(text)))


@lru_cache(maxsize=200_000)
def _word_text(word: str) -> str:
    return " ".join(_word_tokens(word))


# Joins the texts of normalize_many: a character no description or descriptor holds (checked;
# a text holding it is normalised on its own), neither a letter, a digit nor a space.
_SEP = "\x00"
_WORD_OR_SEP = re.compile(r"[A-Z0-9]+|\x00")


def normalize_many(texts: list[str]) -> list[str]:
    """normalize of each text (the same strings), for tens of thousands at once: the
    abbreviation table is applied in one pass over the texts joined, the words found in one
    more, and each distinct word is looked up once. A phrase never spans two texts: the
    separator is not a letter or a digit, so a phrase's word-boundary checks see at it what
    they see at a text's end."""
    texts = [str(t) for t in texts]
    distinct = [t for t in dict.fromkeys(texts) if _SEP not in t]
    pattern, phrases, words, noise = _table()
    table = {_SEP: _SEP}
    done: dict[str, str] = {}
    # A chunk at a time: the words of a million lines at once would be millions of strings.
    for start in range(0, len(distinct), _CHUNK):
        chunk = distinct[start : start + _CHUNK]
        upper = pattern.sub(lambda m: phrases[m.group(0)], _SEP.join(chunk).upper())
        found = _WORD_OR_SEP.findall(upper)
        # Most words stand for themselves: only a word of the table, a noise word or one
        # starting with a digit ('2V') is read by _word_text.
        for w in dict.fromkeys(found):
            if w not in table:
                plain = w not in words and w not in noise and not w[0].isdigit()
                table[w] = w if plain else _word_text(w)
        joined = " ".join(filter(None, map(table.__getitem__, found)))
        parts = [part.strip() for part in joined.split(_SEP)]
        done.update(zip(chunk, parts, strict=True))
    return [done[t] if t in done else normalize(t) for t in texts]


_CHUNK = 20_000


@lru_cache(maxsize=200_000)
def text_terms(text: str) -> Terms:
    """key_terms of a description or descriptor as written (Terms is immutable: cached)."""
    return key_terms(tokens(text), text)


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
    body: frozenset[str] = frozenset()  # regions named (abbreviations.toml [body])
    modality: str | None = None  # XRAY, CT, CTA, MRI, MRA, ULTRASOUND, NM, PET
    joint: str | None = None  # extremity MRI/CT: joint / other than joint


_VIEWS = re.compile(
    r"(<\s*|LESS THAN\s+|LESS\s+|FEWER THAN\s+)?(\d+)\s*"
    r"(?:(-|/|TO|OR)\s*(\d+|>|MORE)|(\+|OR MORE|PLUS))?\s*(?:V|VW|VWS|VIEW|VIEWS)(\+|\b)"
)

# Spine levels as CDMs and Addendum B write them ("neck spine" is cervical, "chest spine"
# thoracic); a bare "spine" covers every level.
_SPINE = [
    (re.compile(r"\b(?:NECK SPINE|C SPINE|CERVICAL|CERVICOTHORACIC)\b"), "CSPINE"),
    (
        re.compile(
            r"\b(?:CHEST SPINE|T SPINE|THORAC SPINE|THORACIC|THORACOLMB|THORACOLUMBAR"
            r"|CERVICOTHORACIC)\b"
        ),
        "TSPINE",
    ),
    (
        re.compile(
            r"\b(?:L SPINE|LUMBAR|LUMBOSACRAL|L S SPINE|L 2 SPINE|THORACOLMB|THORACOLUMBAR|LUMB)\b"
        ),
        "LSPINE",
    ),
]
_SPINE_HINTS = ("SPINE", "CERVIC", "THORAC", "LUMB")
_ALL_SPINE = frozenset({"CSPINE", "TSPINE", "LSPINE"})
_UPPER = frozenset({"SHOULDER", "HUMERUS", "ELBOW", "FOREARM", "WRIST", "HAND"})
_LOWER = frozenset({"HIP", "FEMUR", "KNEE", "LEG", "ANKLE", "FOOT", "HEEL"})
_MODALITY = {
    "XRAY": "XRAY",
    "FLUORO": "XRAY",
    "CT": "CT",
    "CTA": "CTA",
    "MRI": "MRI",
    "MRA": "MRA",
    "ULTRASOUND": "ULTRASOUND",
    "DOPPLER": "ULTRASOUND",
    "DUPLEX": "ULTRASOUND",
    "NM": "NM",
    "NUCLEAR": "NM",
    "SPECT": "NM",
    "PET": "PET",
    "MAMMO": "MAMMO",
    "TOMOSYNTHESIS": "DBT",
}


def body_parts(words: list[str]) -> frozenset[str]:
    """The body regions a text names: 'MRI LOW EX NO JT' -> every lower-extremity region."""
    text = " ".join(words)
    levels = set()
    # Every spine pattern holds one of these: most texts skip the six regex passes.
    if any(k in text for k in _SPINE_HINTS):
        for pattern, level in _SPINE:
            if pattern.search(text):
                levels.add(level)
        for pattern, _ in _SPINE:
            text = pattern.sub(" ", text)
    rest = text.split()
    table = _body_table()
    found: set[str] = set()
    for w in rest:
        found |= table.get(w, frozenset())
    if levels:
        found |= levels
    elif {"SPINE", "SPINAL", "SPI"} & set(rest):
        found |= _ALL_SPINE
    if "EXTREMITY" in rest:
        upper, lower = "UPPER" in rest, "LOWER" in rest
        if upper or not lower:
            found |= _UPPER
        if lower or not upper:
            found |= _LOWER
    return frozenset(found)


def _modality(words: list[str], angio: bool) -> str | None:
    seen = {_MODALITY[w] for w in words if w in _MODALITY}
    if len(seen) != 1:  # none, or a guided procedure naming two: no single modality
        return None
    mode = seen.pop()
    if angio and mode in ("CT", "MRI"):
        mode = "CTA" if mode == "CT" else "MRA"
    return mode


def key_terms(words: list[str], text: str = "") -> Terms:
    """The terms that change the code: contrast, side, views, screening, complete, body part,
    modality.

    ``text`` (the description as written) lets '2-3 VIEWS', '4/5VWS' and '<4VIEWS' read as
    ranges.
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
    sides = {s.lower() for s in ("BILATERAL", "UNILATERAL", "LEFT", "RIGHT") if s in have}
    # "uni/bi" (either) or "LT/RT" (either) states no side; "BILAT" wins over a stray "LT".
    if sides in ({"bilateral", "unilateral"}, {"left", "right"}) or not sides:
        side = None
    else:
        side = next(s for s in ("bilateral", "unilateral", "left", "right") if s in sides)
    views = None
    match = _VIEWS.search(text.upper()) if text else None
    if match:
        low = int(match.group(2))
        if match.group(1):  # "<4 views": fewer than four
            low, high = 1, low - 1
        elif match.group(4):
            high = None if match.group(4) in (">", "MORE") else int(match.group(4))
        else:
            high = None if match.group(5) or match.group(6) else low
        if "MIN" in text.upper():
            high = None
        views = (low, high)
    else:
        for i, w in enumerate(words):
            if w == "VIEW" and i and words[i - 1].isdigit():
                n = int(words[i - 1])
                views = (n, None if have & {"MINIMUM", "MORE", "PLUS"} else n)
                break
    mode = _modality(words, False)
    # A description cut after 'W' or 'W/' ('...MAXILLOFACIAL AREA,W/*') may have said W/O.
    cut = bool(re.search(r"(?<![A-Z0-9])W/?[\s*]*$", str(text).upper()))
    if contrast is None and mode in ("CT", "MRI") and _CUT_BOTH.search(str(text).upper()):
        contrast = "with and without"
    if contrast is None and mode in ("CT", "MRI") and "WITHORWITHOUT" not in have and not cut:
        # 'MRI BRAIN W WO', 'CT HEAD WO': on CT and MRI a bare with/without is contrast.
        # Only a trailing with/without: 'W/STRESS IMG', 'W 3D' are not contrast.
        tail = []
        for w in reversed(words):
            if w in ("LEFT", "RIGHT", "BILATERAL") and not tail:
                continue  # 'CT-LOWER EXTREMITY W/O-RIGHT'
            if w not in ("WITH", "WITHOUT"):
                break
            tail.append(w)
        if len(set(tail)) == 2:
            contrast = "with and without"
        elif len(tail) == 1:
            contrast = tail[0].lower()
    # A descriptor naming both ('Screening, diagnostic ... mammography') states no purpose.
    purposes = have & {"SCREENING", "DIAGNOSTIC"}
    purpose = purposes.pop().lower() if len(purposes) == 1 else None
    extent = "complete" if "COMPLETE" in have else "limited" if "LIMITED" in have else None
    angio = bool(have & {"MRA", "CTA", "ANGIO", "ANGIOGRAPHY", "ANGIOGRAPH", "ANGIOGPHY"})
    joint = "nonjoint" if "NONJOINT" in have or "NO JOINT" in " ".join(words) else None
    joint = joint or ("joint" if "JOINT" in have else None)
    return Terms(
        contrast,
        side,
        views,
        purpose,
        extent,
        angio,
        body_parts(words),
        _modality(words, angio),
        joint,
    )


# 'MRI ORBIT FACE NECK WO &': 'WO & W' cut at the export's field width. A with/without
# followed by '&' and nothing else can only have gone on to name the other one.
_CUT_BOTH = re.compile(r"(?<![A-Z0-9])(?:W/?O|W O|WOUT|W/OUT|NO|W/?)\s*&[\s*]*$")


def _views_text(v: tuple[int, int | None]) -> str:
    low, high = v
    return f"{low}+" if high is None else (f"{low}" if low == high else f"{low}-{high}")


def conflicts(a: Terms, b: Terms, body: bool = False, modality: bool = False) -> list[str]:
    """The key terms on which description a and descriptor b disagree. Only terms that both
    state are compared: a short descriptor is abbreviated, so what it omits proves nothing."""
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
    if body and a.body and b.body and not (a.body & b.body):
        out.append(f"body part: {_regions(a.body)} vs {_regions(b.body)}")
    if modality and a.modality and b.modality and a.modality != b.modality:
        out.append(f"{a.modality} vs {b.modality}")
    if body and a.joint and b.joint and a.joint != b.joint:
        out.append(f"{a.joint} vs {b.joint}")
    return out


def agreements(a: Terms, b: Terms) -> int:
    """How many of contrast, side, views, purpose and extent both texts state (and, having
    passed ``conflicts``, agree on): 'SHOULDER 2V+' prefers 'shoulder 2/>' to 'shoulder'."""
    return sum(
        bool(x and y)
        for x, y in (
            (a.contrast, b.contrast),
            (a.side, b.side),
            (a.views, b.views),
            (a.purpose, b.purpose),
            (a.extent, b.extent),
        )
    )


def _regions(parts: frozenset[str]) -> str:
    if parts == _ALL_SPINE:
        return "spine"
    if parts == _UPPER:
        return "upper extremity"
    if parts == _LOWER:
        return "lower extremity"
    return "/".join(sorted(p.lower() for p in parts))


def fits(a: Terms, b: Terms, strict: bool = False) -> bool:
    """Whether descriptor b may be named for description a: it agrees on every key term that
    both state, and on body part and modality, which an imaging descriptor always states.
    ``strict`` (a code named to replace another): b must name a body part a names."""
    if conflicts(a, b, body=True, modality=True):
        return False
    return not (a.body and (strict or b.modality) and not b.body)


@cache
def _not_drug() -> frozenset[str]:
    return frozenset(w.upper() for w in _raw()["drugs"]["not_drug"])


@lru_cache(maxsize=100_000)
def drug_names(descriptor: str) -> frozenset[str]:
    """The drug a Level II descriptor names: its first drug word and any brand in brackets
    ('Injection, ketorolac tromethamine, per 15 mg' -> KETOROLAC)."""
    upper = str(descriptor).upper()
    names = set(re.findall(r"\(([A-Z][A-Z-]{3,})", upper))
    first = next((w for w in re.findall(r"[A-Z]{4,}", upper) if w not in _not_drug()), None)
    if first:
        names.add(first)
    return frozenset(n.split("-")[0] for n in names if n not in _not_drug())


@lru_cache(maxsize=100_000)
def drug_detail(descriptor: str) -> tuple[frozenset[str], frozenset[str], str | None]:
    """What else a drug descriptor's first clause requires: the other drugs of a combination
    ('meropenem and vaborbactam'), the variant ('interferon beta-1a' -> 1A), and a brand in
    brackets ('midazolam (seizalam)')."""
    upper = re.sub(r"^\s*(INJECTION|INJ)\.?,?\s*", "", str(descriptor).upper())
    clause = upper.split(",")[0]
    others = set()
    for part in re.split(r"\bAND\b|/|&", clause)[1:]:
        word = next((w for w in re.findall(r"[A-Z]{4,}", part) if w not in _not_drug()), None)
        if word:
            others.add(word)
    variants = frozenset(re.findall(r"(?<![A-Z0-9])\d[A-Z](?![A-Z0-9])", clause))
    brand = re.search(r"\(([A-Z][A-Z-]{3,})\)", upper)
    return frozenset(others), variants, brand.group(1) if brand else None


def drug_fits(description: str, descriptor: str, names: frozenset[str]) -> bool:
    """The description names the drug, every drug of a combination, and no other variant."""
    if not names_drug(description, names):
        return False
    others, variants, _ = drug_detail(descriptor)
    if any(not names_drug(description, frozenset({o})) for o in others):
        return False
    said = set(re.findall(r"(?<![A-Z0-9])\d[A-Z](?![A-Z0-9])", str(description).upper()))
    return not (variants and said and not (variants & said))


def names_drug(description: str, names: frozenset[str]) -> bool:
    """Whether a description names one of the drugs (CDM shorthand cuts names: METHYLPRED)."""
    if not names:
        return False
    for w in re.findall(r"[A-Z]{4,}", str(description).upper()):
        for n in names:
            if w == n:
                return True
            # A cut word names a drug from 5 letters on ('SULF' is no drug name).
            k = min(len(n), len(w), 6)
            if k >= 5 and n[:k] == w[:k]:
                return True
    return False


@cache
def _route_table() -> dict[str, frozenset[str]]:
    return {k: frozenset(w.upper() for w in v) for k, v in _raw()["routes"].items()}


_LETTERS = re.compile(r"[A-Z]+")
# Routes a drug is given by; local infiltration counts as an injection here.
_MAIN_ROUTES = ("inhalation", "oral", "topical", "injection")


@lru_cache(maxsize=100_000)
def routes(text: str) -> frozenset[str]:
    """The routes of administration a description or descriptor states (abbreviations.toml
    [routes]): 'ACETYLCYSTEINE INH SOL' -> inhalation; 'Injection, lidocaine hcl for
    intravenous infusion' -> injection, intravenous."""
    words = set(_LETTERS.findall(str(text).upper()))
    found = {r for r, ws in _route_table().items() if not words.isdisjoint(ws)}
    if "local" in found:
        found.add("injection")
    return frozenset(found)


def route_fits(description: str, stated: frozenset[str]) -> bool:
    """Whether a drug code whose descriptors state the routes ``stated`` may be the code of a
    line given by the route its description states. Level II drug codes are route-specific
    (J0132 acetylcysteine injection vs J7608 inhalation solution); a description stating no
    route, or two ('INH 300 MG TAB': isoniazid, not inhaled), is not judged."""
    said = routes(description)
    main = said.intersection(_MAIN_ROUTES)
    code = stated.intersection(_MAIN_ROUTES)
    if len(main) != 1 or not code:
        return True
    if not main & code:
        return False
    # Local or topical lidocaine is not 'lidocaine for intravenous infusion' (J2001).
    return not (said & {"local", "topical"} and "intravenous" in stated)


@lru_cache(maxsize=100_000)
def _drug_pairs(descriptor: str) -> frozenset[tuple[str, str]]:
    """Each word of a descriptor with the word after it: the drug and its salt or second name
    ('hydroxyprogesterone caproate')."""
    words = _LETTERS.findall(str(descriptor).upper())
    return frozenset(zip(words, words[1:], strict=False))


@lru_cache(maxsize=100_000)
def route_text(description: str, descriptors: tuple[str, ...]) -> str:
    """The description without the route words that, for a code with these descriptors, cut the
    word after its drug's name: 'HYDROXYPROG CAP (MAKENA)' is hydroxyprogesterone caproate
    (J1726, an injection), not a capsule. Only right after a word naming the drug and only
    where the descriptor spells a longer word there that is no route word itself: elsewhere
    'CAP' is a capsule ('PHENYLEPH CAP', 'TACROLIMUS 0.5MG CAPS')."""
    route_words = frozenset().union(*_route_table().values())
    words = _LETTERS.findall(str(description).upper())
    if route_words.isdisjoint(words[1:]):
        return description
    pairs = frozenset().union(*map(_drug_pairs, descriptors))
    kept = words[:1]
    for prev, w in zip(words, words[1:], strict=False):
        cut = w in route_words and any(
            len(salt) > len(w)
            and salt.startswith(w)
            and salt not in route_words
            and names_drug(prev, frozenset({drug}))
            for drug, salt in pairs
        )
        if not cut:
            kept.append(w)
    return " ".join(kept)


_ANALYTE_KINDS = ("antibody", "antigen", "nucleic")


@cache
def _analyte_table() -> tuple[dict[str, str], tuple[str, ...], frozenset[str], frozenset[str]]:
    raw = _raw()["analytes"]
    kind = {w.upper(): k for k in _ANALYTE_KINDS for w in raw[k]}
    upper = [w.upper() for w in raw["either"]], [w.upper() for w in raw["reagent"]]
    return kind, tuple(t.upper() for t in raw["targets"]), frozenset(upper[0]), frozenset(upper[1])


@lru_cache(maxsize=100_000)
def analytes(text: str) -> frozenset[str]:
    """What a laboratory description or descriptor says its test detects (abbreviations.toml
    [analytes]): 'HEPATITIS B SURFACE AB' -> antibody, 'Hepatitis b surface ag ia' -> antigen,
    'Chlmyd trach dna amp probe' -> nucleic; none for a text naming no kind or agglutination."""
    kind, targets, either, reagent = _analyte_table()
    joined = " " + " ".join(_WORD.findall(str(text).upper())) + " "
    for phrase in targets:
        joined = joined.replace(f" {phrase} ", " ")
    words = joined.split()
    present = set(words)
    if not present.isdisjoint(either):
        return frozenset()
    if not present.isdisjoint(reagent):
        return frozenset({"antigen"})
    found = set()
    for i, w in enumerate(words):
        k = kind.get(w)
        if k is None:
            continue
        after = words[i + 1] if i + 1 < len(words) else ""
        if k == "nucleic" and (kind.get(after) == "antibody" or words[i - 1 : i] == ["ANTI"]):
            continue  # 'DNA ANTIBODY', 'ANTI-DNA': the antibody's target ('HIV AG/AB' is both)
        found.add(k)
    for phrase, k in kind.items():
        if " " in phrase and f" {phrase} " in joined:
            found.add(k)  # 'VIRAL LOAD'
    return frozenset(found)


@cache
def _method_table() -> dict[str, str]:
    raw = _raw()["analytes"]["methods"]
    return {w.upper(): method for method, words in raw.items() for w in words}


@lru_cache(maxsize=100_000)
def antigen_methods(text: str) -> frozenset[str]:
    """How a text that finds an antigen says it is found (abbreviations.toml
    [analytes.methods]): 'GIARDIA AG, EIA' -> immunoassay, 'Giardia ag if' ->
    immunofluorescence; none for a text finding no antigen or naming no method."""
    if analytes(text) != {"antigen"}:
        return frozenset()
    table = _method_table()
    return frozenset(table[w] for w in _WORD.findall(str(text).upper()) if w in table)


def method_fits(description: str, stated: frozenset[str]) -> bool:
    """Whether an antigen code whose descriptors state the methods ``stated`` may be the code of
    a line finding an antigen by the one method its description states."""
    said = antigen_methods(description)
    return len(said) != 1 or not stated or bool(said & stated)


@cache
def _agent_table() -> dict[str, tuple[list[list[str]], frozenset[str], dict, dict]]:
    """Per virus: its names (as word lists), the words that may stand between name and type,
    the types (as word tuples, longest first) and the words naming virus and type at once."""
    out = {}
    for agent, spec in _raw()["agents"].items():
        names = sorted((n.upper().split() for n in spec["names"]), key=len, reverse=True)
        up = {tuple(k.upper().split()): v for k, v in spec["types"].items()}
        up = dict(sorted(up.items(), key=lambda kv: -len(kv[0])))  # 'B E' before 'B'
        words = {k.upper(): v for k, v in spec["words"].items()}
        out[agent] = (names, frozenset(w.upper() for w in spec["skip"]), up, words)
    return out


_LETTERS_OR_DIGITS = re.compile(r"[A-Z]+|[0-9]+")


@lru_cache(maxsize=100_000)
def agent_types(text: str) -> frozenset[tuple[str, str]]:
    """The (virus, type) pairs a text names (abbreviations.toml [agents]): 'HIV 1/2 AB' ->
    (hiv, 1), (hiv, 2); 'Hep b surface antibody' -> (hepatitis, B); 'HBSAG' -> (hepatitis, B)."""
    words = _LETTERS_OR_DIGITS.findall(str(text).upper())
    found = set()
    for agent, (names, skip, types, own) in _agent_table().items():
        i = 0
        while i < len(words):
            if words[i] in own:
                found.add((agent, own[words[i]]))
                i += 1
                continue
            name = next((n for n in names if words[i : i + len(n)] == n), None)
            if name is None:
                i += 1
                continue
            i += len(name)
            while i < len(words):
                if words[i] in skip:
                    i += 1
                    continue
                typed = next((t for t in types if tuple(words[i : i + len(t)]) == t), None)
                if typed is None:
                    break
                found.add((agent, types[typed]))
                i += len(typed)
    return frozenset(found)


def agent_fits(description: str, stated: frozenset[tuple[str, str]]) -> bool:
    """Whether a code whose descriptors name the virus types ``stated`` may be the code of a
    line: for each virus the line names types of, the code names the same types or none
    ('HIV 1 AB' is not 86702 "Hiv-2 antibody" nor 86703 "Hiv-1/hiv-2 1 result antbdy")."""
    said = agent_types(description)
    for agent in {a for a, _ in said}:
        theirs = {t for a, t in stated if a == agent}
        if theirs and theirs != {t for a, t in said if a == agent}:
            return False
    return True


def analyte_fits(description: str, stated: frozenset[str]) -> bool:
    """Whether a code whose descriptors state the kinds ``stated`` (antibody, antigen, nucleic
    acid) may be the code of a line whose description states a kind: 'CHLAMYDIA DNA PROBE' is
    not 86631 "Chlamydia antibody". A description stating no kind, or two ('HIV AG/AB COMBO'),
    is not judged; nor is a code whose descriptors state none ("Assay of psa total")."""
    said = analytes(description)
    return len(said) != 1 or not stated or bool(said & stated)


def region_groups(words: list[str]) -> tuple[frozenset[str], ...]:
    """The body regions a text names as its subjects, one set per body word (abbreviations.toml
    [body]): 'CT CHEST ABDOMEN PELVIS' -> CHEST, ABDOMEN, PELVIS. A region named after 'with'
    or 'without' is part of the exam, not another one ('XR HIP UNI W/WO PELVIS' is 73502,
    which includes the pelvis; 'RIBS BI W/CXR' is 71111)."""
    table = _body_table()
    groups, included = [], False
    for i, w in enumerate(words):
        if i and words[i - 1] == "NON":
            continue  # 'CT ANGIO CHEST (NON-CORON)': the region the exam leaves out
        if w in ("WITH", "WITHOUT"):
            included = True
        elif w == "CONTRAST":
            included = False  # 'W CONTRAST': the with was the contrast's
        elif w in table:
            if not included:
                groups.append(table[w])
            included = False
    return tuple(dict.fromkeys(groups))


def covers(groups: tuple[frozenset[str], ...], body: frozenset[str]) -> bool:
    """Whether a descriptor naming ``body`` covers every region a line names: a line naming
    several ('CT CHEST ABDOMEN PELVIS', billed 71260 + 74177) is not coded by a code for some
    of them (72193, pelvis)."""
    return len(groups) < 2 or all(not g.isdisjoint(body) for g in groups)


@cache
def _catchall_table() -> tuple[frozenset[str], frozenset[str], dict[str, str]]:
    raw = _raw()["catchall"]
    return (
        frozenset(w.upper() for w in raw["words"]),
        frozenset(w.upper() for w in raw["sections"]),
        {k.upper(): v for k, v in raw["unlisted"].items()},
    )


@lru_cache(maxsize=100_000)
def catch_all(text: str) -> str | None:
    """For a normalised description that names nothing but a catch-all word and at most a
    section ('MISC LAB', 'MISC XRAY', 'SUPPLY NOS', 'OTHER'): the unlisted code of its section
    ('MISC XRAY' -> 76499), or '' when none can be derived. None for any other line."""
    catch, sections, unlisted = _catchall_table()
    words = [w for w in text.split() if not w.isdigit()]
    if not words or catch.isdisjoint(words):
        return None
    named = {w for w in words if w not in catch}
    if not named <= sections | set(unlisted):
        return None  # names a service ('MISC PATHOLOGY CONSULT' is still a consult)
    codes = {unlisted[w] for w in named if w in unlisted}
    return codes.pop() if len(codes) == 1 and named <= set(unlisted) else ""


def shows(description: str, code: str) -> bool:
    """Whether Issues may show ``code`` for a line: a catch-all line shows only the unlisted
    code of the section it names, never a specific service."""
    unlisted = catch_all(normalize(description))
    return unlisted is None or code == unlisted


# A code written in the description ('88342 IMMUNOCYTOCHEM PANEL'): CPT, Category II/III,
# PLA or Level II shape.
_WRITTEN = re.compile(r"(?<![A-Z0-9.])(\d{4}[0-9AFTUM]|[A-V]\d{4})(?![A-Z0-9.])")


@dataclass
class Catalog:
    """Reference descriptors to match against: one row per (code, descriptor text)."""

    codes: list[str]
    texts: list[str]  # as published
    normal: list[str]
    family: list[str | None]
    # What Suggesters derive from the catalog alone (pools, key terms, drug names): kept with
    # it, so a cached catalog brings them along.
    derived: dict = field(default_factory=dict, repr=False)


# Catalogs built, per reference code sets, code families and as-of date. A batch, the API and
# the tests check many files against the same reference; each run used to rebuild it. Keyed by
# the identity of the reference's frames (load_reference returns the same frames for the same
# files) and held with them, so an id is never reused while its entry lives.
_CATALOGS: dict[tuple, tuple[tuple, Catalog]] = {}
_CATALOGS_MAX = 8


def reference_catalog(ref: Reference, config: Config, as_of: dt.date) -> Catalog:
    held = (ref.level2, ref.cpt, ref.history, ref.noc, ref.cpt_list)
    key = (*map(id, held), config.code_families, as_of)
    hit = _CATALOGS.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], held, strict=True)):
        return hit[1]
    catalog = _build_catalog(ref, config, as_of)
    if len(_CATALOGS) >= _CATALOGS_MAX:
        _CATALOGS.pop(next(iter(_CATALOGS)))
    _CATALOGS[key] = (held, catalog)
    return catalog


def _build_catalog(ref: Reference, config: Config, as_of: dt.date) -> Catalog:
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
    # Reporting-only codes are never a charge line's code: Category II (####F) and what OPPS
    # marks "not billable to the MAC" (status M: quality G- and M-codes such as G9899).
    usable &= ~table["code"].str.fullmatch(r"\d{4}F").to_numpy()
    if ref.cpt is not None:
        si = ref.cpt["status"].reindex(table["code"]).fillna("").to_numpy()
        usable &= si != "M"
    table = table[usable.to_numpy()]
    family = code_family(table["code"], config.code_families)
    return Catalog(
        table["code"].tolist(),
        table["text"].tolist(),
        normalize_many(table["text"].tolist()),
        [None if pd.isna(f) else f for f in family],
    )


# The revenue code says which room did the exam, so which modalities its code cannot name.
_CROSS = frozenset({"CT", "CTA", "MRI", "MRA"})
_NOT_MODALITY = {
    "radiology": _CROSS | {"ULTRASOUND", "NM", "PET"},
    "ct": frozenset({"MRI", "MRA", "XRAY", "ULTRASOUND", "NM", "PET", "MAMMO", "DBT"}),
    "mri": frozenset({"CT", "CTA", "XRAY", "ULTRASOUND", "NM", "PET", "MAMMO", "DBT"}),
    "imaging": _CROSS | {"XRAY"},
    "nuclear_medicine": _CROSS | {"XRAY", "ULTRASOUND", "MAMMO", "DBT"},
}


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
            c: (None if pd.isna(f) else f)
            for c, f in zip(codes.tolist(), fams.tolist(), strict=True)
        }
        derived = self.catalog.derived
        self._pools: dict[frozenset, tuple[list[int], list[str]]] = derived.setdefault("pools", {})
        self._pool_codes: dict[frozenset, set[str]] = derived.setdefault("pool_codes", {})
        self._catalog_terms: dict[int, Terms] = derived.setdefault("terms", {})
        if "rows" not in derived:
            rows: dict[str, list[int]] = {}
            for i, code in enumerate(self.catalog.codes):
                rows.setdefault(code, []).append(i)
            derived["rows"] = rows
        self._rows: dict[str, list[int]] = derived["rows"]
        self._drugs: dict[str, frozenset[str]] = derived.setdefault("drugs", {})

    def _terms(self, i: int) -> Terms:
        cached = self._catalog_terms.get(i)
        if cached is None:
            text = self.catalog.texts[i]
            cached = self._catalog_terms[i] = key_terms(self.catalog.normal[i].split(), text)
        return cached

    def family_of(self, code: str) -> str | None:
        rows = self._rows.get(code)
        return self.catalog.family[rows[0]] if rows else None

    def code_texts(self, code: str) -> list[str]:
        return [self.catalog.normal[i] for i in self._rows.get(code, [])]

    def code_terms(self, code: str) -> list[Terms]:
        """Key terms of each published descriptor of a code (none when not in the catalog)."""
        return [self._terms(i) for i in self._rows.get(code, [])]

    def _drug_names(self, code: str) -> frozenset[str]:
        names = self._drugs.get(code)
        if names is None:
            names = frozenset().union(
                *(drug_names(self.catalog.texts[i]) for i in self._rows.get(code, []))
            )
            self._drugs[code] = names
        return names

    def _routes(self, code: str) -> frozenset[str]:
        """The routes every published descriptor of a code states, together."""
        stated = self.catalog.derived.setdefault("routes", {})
        if code not in stated:
            texts = (self.catalog.texts[i] for i in self._rows.get(code, []))
            stated[code] = frozenset().union(*map(routes, texts))
        return stated[code]

    def _route_text(self, description: str, code: str) -> str:
        """The description as its routes are read for a code (see route_text)."""
        texts = tuple(self.catalog.texts[i] for i in self._rows.get(code, []))
        return route_text(description, texts)

    def _methods(self, code: str) -> frozenset[str]:
        """The antigen methods the published descriptors of a code state, together."""
        stated = self.catalog.derived.setdefault("methods", {})
        if code not in stated:
            texts = (self.catalog.texts[i] for i in self._rows.get(code, []))
            stated[code] = frozenset().union(*map(antigen_methods, texts))
        return stated[code]

    def _agents(self, code: str) -> frozenset[tuple[str, str]]:
        """The virus types the published descriptors of a code name, together."""
        stated = self.catalog.derived.setdefault("agents", {})
        if code not in stated:
            texts = (self.catalog.texts[i] for i in self._rows.get(code, []))
            stated[code] = frozenset().union(*map(agent_types, texts))
        return stated[code]

    def _analytes(self, code: str) -> frozenset[str]:
        """What the published descriptors of a code say its test detects, together."""
        stated = self.catalog.derived.setdefault("analytes", {})
        if code not in stated:
            texts = (self.catalog.texts[i] for i in self._rows.get(code, []))
            stated[code] = frozenset().union(*map(analytes, texts))
        return stated[code]

    def _pool(self, allowed: set[str | None]) -> tuple[list[int], list[str]]:
        key = frozenset(allowed)
        if key not in self._pools:
            idx = [i for i, f in enumerate(self.catalog.family) if f in allowed]
            self._pools[key] = (idx, [self.catalog.normal[i] for i in idx])
            self._pool_codes[key] = {self.catalog.codes[i] for i in idx}
        return self._pools[key]

    def candidates(self, description: str, family: str | None) -> list[tuple[str, float, str]]:
        return self.candidates_many([(description, family)])[0]

    def candidates_many(
        self, items: list[tuple[str, str | None]], limit: int = MAX_CANDIDATES, whole: bool = True
    ) -> list[list[tuple[str, float, str]]]:
        """Up to MAX_CANDIDATES (code, score, reason) per (description, family), best first.
        ``whole``: an imaging code must cover every body region the description names (off
        where a conflict names the code closest to the line's own).

        The fuzzy search runs as one rapidfuzz cdist per family pool over all the distinct
        descriptions, on every core; only the shortlist is rescored in Python.
        """
        queries = []
        for description, family in items:
            words = tokens(description)
            allowed = frozenset(_allowed(family, self.config))
            queries.append(
                (
                    " ".join(words),
                    text_terms(description),
                    allowed,
                    str(description),
                    family,
                )
            )
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
        return [
            self._rank(q, shortlist.get((q[0], q[2]), []), near.get(q[0], []), whole)[:limit]
            for q in queries
        ]

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

    def _rank(self, query, shortlist: list[int], near: list[tuple[str, float]], whole=True):
        text, terms, allowed, raw, family = query
        barred = _NOT_MODALITY.get(family, frozenset())
        if not text:
            return []
        found: dict[str, tuple[float, str]] = {}
        self._pool(set(allowed))
        pool_codes = self._pool_codes[frozenset(allowed)]
        written = [c for c in _WRITTEN.findall(raw.upper()) if c in pool_codes]
        for code in written[:1]:
            found[code] = (1.0, f"code {code} is written in the description")
        unlisted = catch_all(text)
        if unlisted and unlisted in pool_codes and unlisted not in found:
            found[unlisted] = (1.0, "a catch-all line: the unlisted code of the section it names")
        groups = region_groups(text.split()) if whole else ()
        exact = self.local.get(text)
        if exact and exact[0] not in found and self._local_family.get(exact[0]) in allowed:
            found[exact[0]] = (1.0, f"same description as charge {exact[1]} coded {exact[0]}")
        for other, score in near:
            code, charge = self.local[other]
            if (
                code not in found
                and self._local_family.get(code) in allowed
                and not conflicts(terms, key_terms(other.split()), body=True, modality=True)
                and covers(groups, body_parts(other.split()))
                # 'HEP B SURF AG' is 'HEP B SURF AB' but one letter: another test
                and analyte_fits(raw, analytes(other))
                and agent_fits(raw, agent_types(other))
            ):
                found[code] = (
                    score / 100 * 0.95,
                    f"nearly the same description as charge {charge} coded {code}",
                )
        for i in shortlist:
            code, normal = self.catalog.codes[i], self.catalog.normal[i]
            # An imaging code (radiology family) names its body part: it must name the line's.
            if not fits(terms, self._terms(i), strict=self.catalog.family[i] == "radiology"):
                continue
            if self._terms(i).modality in barred:
                continue  # an MRI code for an x-ray room line (0320), a CT code on 0610
            if self.catalog.family[i] == "radiology" and not covers(groups, self._terms(i).body):
                continue  # pelvis alone for 'CT CHEST ABDOMEN PELVIS'
            score = _SCORE(text, normal)
            if self.catalog.family[i] == "drugs":
                # A drug code must name the line's drug, whatever else matches.
                if not drug_fits(raw, self.catalog.texts[i], self._drug_names(code)):
                    continue
                if not route_fits(self._route_text(raw, code), self._routes(code)):
                    continue  # injection J0132 for an inhalation solution
                brand = drug_detail(self.catalog.texts[i])[2]
                if brand and not names_drug(raw, frozenset({brand})):
                    score -= BRAND_PENALTY  # a brand's own code, for a line naming no brand
            else:
                if not analyte_fits(raw, self._analytes(code)):
                    continue  # the antigen code 87340 for 'HEPATITIS B SURFACE AB'
                if not method_fits(raw, self._methods(code)):
                    continue  # immunofluorescence 87269 for 'GIARDIA AG, EIA'
                if not agent_fits(raw, self._agents(code)):
                    continue  # hepatitis A 86708 for 'HEPATITIS B SURFACE AB'
                score += AGREE_BONUS * agreements(terms, self._terms(i))
            if code not in found or ("descriptor" in found[code][1] and found[code][0] < score):
                found[code] = (score, f"matches reference descriptor '{self.catalog.texts[i]}'")
        ranked = sorted(found.items(), key=lambda kv: (kv[0] not in written, -kv[1][0], kv[0]))
        return [(c, round(s, 2), r) for c, (s, r) in ranked if s >= MIN_SCORE][:_SHORTLIST]


def local_index(coded: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Normalised description -> (code, charge code) of coded lines; the first line wins."""
    local: dict[str, tuple[str, str]] = {}
    charges = coded["charge_code"].fillna("(no charge code)").tolist()
    descs, codes = coded["description"].tolist(), coded["coded_hcpcs"].tolist()  # one conversion
    for key, code, charge in zip(normalize_many(descs), codes, charges, strict=True):
        local.setdefault(key, (code, charge))
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
    # Built on first use: a file with no uncoded ancillary line to suggest for and no
    # description conflicting with its code's descriptor needs neither catalog nor local index.
    suggester = cache(lambda: build_suggester(lines, ref, config, as_of, {int(r) for r in bad}))
    out: list[pd.DataFrame] = []
    missing = found["rule"].eq("HCPCS-MISSING")
    rows = found.loc[missing, "row"].astype(int).tolist()
    table_rows = []
    items = []
    for row in rows:
        desc, fam = frame.at[row, "description"], frame.at[row, "family"]
        items.append((row, desc, None if pd.isna(fam) else fam))
    items = [it for it in items if not pd.isna(it[1])]
    results = suggester().candidates_many([(d, f) for _, d, f in items]) if items else []
    suggested = {}
    for (row, desc, _), cands in zip(items, results, strict=True):
        if not cands:
            continue
        # Issues shows candidates only when the first is trustworthy (SHOW_SCORE); the
        # Suggestions sheet keeps every candidate for the analyst.
        # A catch-all line shows only its section's unlisted code (see shows).
        shown = [c for c in cands if shows(desc, c[0])]
        if shown and shown[0][1] >= SHOW_SCORE:
            suggested[row] = "; ".join(f"{c} ({s:.2f})" for c, s, _ in shown)
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
    out.append(_conflicts(lines, suggester, ref, as_of, config))
    table = pd.DataFrame(
        table_rows,
        columns=["Row", "Charge Code", "Description", "Rank", "HCPCS", "Score", "Reason"],
    )
    return found, out, table


def _descriptors(codes: pd.Series, ref: Reference, as_of: dt.date) -> pd.Series:
    """The official descriptor of each code: for Level II the long one (not abbreviated),
    else Addendum B's short descriptor; NA when none is known."""
    return per_value(codes, lambda values: _code_descriptors(values, ref, as_of))


def _code_descriptors(codes: pd.Series, ref: Reference, as_of: dt.date) -> pd.Series:
    status = code_status(codes, ref, as_of)
    long = ref.level2["long_description"]
    in_l2 = isin(codes, long.index) & codes.str.fullmatch(r"[A-Z]\d{4}").fillna(False)
    text = pd.Series(long.reindex(codes.where(in_l2).fillna("")).to_numpy(), index=codes.index)
    return text.where(in_l2).fillna(status["descriptor"])


def _states_compared(text) -> bool:
    """Whether a descriptor states a term _conflict_reasons compares. Only terms both texts
    state are compared (conflicts without body and modality): a descriptor stating none of
    them conflicts with no description, which then need not be read (most lines)."""
    if not isinstance(text, str):
        return False
    b = text_terms(text)
    return bool(b.contrast or b.side or b.views or b.purpose or b.extent)


# A word without which key_terms states none of contrast, side, purpose and extent (views
# also come from _VIEWS on the text as written).
_TERM_WORDS = frozenset(
    {"CONTRAST", "WITH", "WITHOUT", "BILATERAL", "UNILATERAL", "LEFT", "RIGHT", "VIEW"}
    | {"SCREENING", "DIAGNOSTIC", "COMPLETE", "LIMITED"}
)


def _states_compared_many(texts: pd.Series) -> pd.Series:
    """_states_compared of each text; key terms are read only for texts holding a word (or a
    view count) they could come from, found for all texts at once by normalize_many."""
    values = texts.tolist()
    known = [t for t in values if isinstance(t, str)]
    words = dict(zip(known, normalize_many(known), strict=True))
    out = [
        isinstance(t, str)
        and bool(not _TERM_WORDS.isdisjoint(words[t].split()) or (t and _VIEWS.search(t.upper())))
        and _states_compared(t)
        for t in values
    ]
    return pd.Series(out, index=texts.index, dtype=bool)


# The modifiers of a line in a file without a modifier column (none split off the code either).
_UNSEEN = "(no modifier column)"
# Side conflicts a modifier settles: a unilateral code billed for both sides (-50), a bilateral
# code reduced to one side (-52, unilateral screening mammography on 77067).
_SIDE_BY_MODIFIER = frozenset(
    f"side: {a} vs {b}"
    for one in ("unilateral", "left", "right")
    for a, b in (("bilateral", one), (one, "bilateral"))
)


def _conflict_reasons(desc: str, text: str, modifiers: str) -> list[str]:
    if not _states_compared(text):
        return []
    a, b = text_terms(desc), text_terms(text)
    # Body part is not compared with the line's own code: hand-checked on the real files it was
    # wrong far more often than right (aortogram vs abdomen, skull vs orbit/ear/fossa, internal
    # mammary artery vs chest). It still decides which code may be named instead.
    why = conflicts(a, b)
    mods = set(re.findall(r"[A-Z0-9]{2}", modifiers.upper()))
    keep = []
    for w in why:
        if modifiers == _UNSEEN and w in _SIDE_BY_MODIFIER:
            # Modifier 50 or 52 settles it, and this file cannot show modifiers: the line may
            # well be billed 69210-50 or 77067-52. What cannot be seen proves nothing.
            continue
        if w.startswith(("screening", "diagnostic")) and not b.modality:
            # Outside imaging 'diagnostic' names the service, not a purpose: 'Diagnostic
            # colonoscopy' (45378 is billed for screening too, with modifier 33), 'Psych
            # diagnostic evaluation'.
            continue
        if w == "side: bilateral vs unilateral" and "50" in mods:
            continue  # a unilateral code billed bilaterally with modifier 50
        if w == "side: unilateral vs bilateral" and "52" in mods:
            continue  # a bilateral code reduced to one side with modifier 52
        keep.append(w)
    return keep


# Addendum B abbreviates "without, followed by with contrast" as "w/dye" on some codes (75561
# cardiac MRI, 74262 CT colonography): a description saying with-and-without against such a
# descriptor is a conflict only when another code says with-and-without explicitly.
_NEEDS_ALTERNATIVE = "contrast: with and without vs with"
# A code named instead of the line's own must be the same exam corrected on the conflicting
# term: its descriptor shares most words with the own code's (token-set similarity, 0-100).
# 73718 vs 73720 scores 100, 71271 vs 71250 67; ear-wax removal vs middle-ear OCT 44.
SAME_EXAM = 60


def _conflicts(
    lines: Lines,
    make_suggester: Callable[[], Suggester],
    ref: Reference,
    as_of: dt.date,
    config: Config,
) -> pd.DataFrame:
    """DESCRIPTION-CODE-CONFLICT: description vs the code's official descriptor."""
    frame = lines.frame
    active = frame[frame["active"] & frame["coded_hcpcs"].notna() & frame["description"].notna()]
    if active.empty:
        return F.empty()
    codes = active["coded_hcpcs"].astype("str")
    text = _descriptors(codes, ref, as_of)
    # No descriptor known (CPT without Addendum B), or one stating none of the terms compared
    # (see _conflict_reasons): nothing to compare. Most lines go here, before any is read.
    compared = per_value(text, _states_compared_many)
    if not compared.any():
        return F.empty()
    active, codes, text = active[compared], codes[compared], text[compared]
    mods = (
        active["modifiers"].fillna("").astype("str")
        if "modifiers" in active
        else pd.Series("", index=active.index)
    )
    if "modifiers_col" in active:
        # No modifier column and none split off the code cell: modifiers cannot be seen.
        mods = mods.mask(active["modifiers_col"].isna() & mods.eq(""), _UNSEEN)
    fam = code_family(codes, config.code_families)
    pairs = pd.DataFrame(
        {
            "desc": active["description"],
            "text": text,
            "code": codes,
            "family": fam.astype("object").where(fam.notna(), None),
            "mods": mods,
        }
    ).dropna(subset=["desc", "text"])
    keys = list(zip(pairs["desc"], pairs["text"], pairs["family"], pairs["mods"], strict=True))
    why = {k: _conflict_reasons(k[0], k[1], k[3]) for k in dict.fromkeys(keys)}
    pairs["why"] = [why[k] for k in keys]
    pairs = pairs[pairs["why"].map(bool)]
    if pairs.empty:
        return F.empty()
    families = frame["family"].reindex(pairs.index)
    suggester = make_suggester()
    found = suggester.candidates_many(
        [(d, None if pd.isna(f) else f) for d, f in zip(pairs["desc"], families, strict=True)],
        limit=10,
        whole=False,
    )
    fixes, keep = [], []
    for (desc, own, own_fam, why, text), cands in zip(
        pairs[["desc", "code", "family", "why", "text"]].itertuples(index=False),
        found,
        strict=True,
    ):
        terms = text_terms(desc)
        own_terms = text_terms(text)
        # What the description leaves out, the code it carries says: the code named instead is
        # the same exam of the same body part, corrected on the conflicting term.
        # A vague body part ('middle spine': every level) is narrowed by the code's own.
        body = terms.body & own_terms.body or terms.body or own_terms.body
        terms = replace(terms, body=body, modality=terms.modality or own_terms.modality)
        own_text = normalize(text)
        fix = None
        options = []
        for code, score, _ in cands:
            if code == own or suggester.family_of(code) != own_fam:
                continue
            if (
                max(
                    (fuzz.token_set_ratio(own_text, t) for t in suggester.code_texts(code)),
                    default=0,
                )
                < SAME_EXAM
            ):
                continue  # another service altogether (ear wax removal -> middle-ear OCT)
            fitting = [t for t in suggester.code_terms(code) if fits(terms, t, strict=True)]
            if fitting:
                cover = max(len(t.body & terms.body) for t in fitting)
                options.append((-cover, -score, code, fitting))
        if options:
            # The code covering most of the body parts named ('CT CHEST ABD PELVIS' on an
            # abdomen-pelvis code: abdomen-pelvis, not pelvis alone), then the best match.
            cover, score, code, fitting = min(options, key=lambda o: o[:3])
            fix = (code, -score, fitting)
        keep.append(
            why != [_NEEDS_ALTERNATIVE]
            or (fix is not None and any(t.contrast == "with and without" for t in fix[2]))
        )
        fixes.append(fix[0] if fix and fix[1] >= SHOW_SCORE else None)
    pairs["fix"] = fixes
    pairs = pairs[keep]
    if pairs.empty:
        return F.empty()
    idx = pairs.index
    fix = pairs["fix"].astype("str").where(pairs["fix"].notna())
    text, code, desc = pairs["text"], pairs["code"], pairs["desc"]
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
        + pairs["why"].str.join("; ")
        + advice
        + ". Correct the code or the description.",
    )
