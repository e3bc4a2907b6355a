"""Rules that need reference code sets: unknown, deleted, not-yet-effective and NOC codes,
unknown revenue codes and modifiers, stale references. Lookups are vectorised joins."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from . import findings as F
from .prepare import Lines
from .reference import CPT_MODIFIERS, CPT_RE, LEVEL2_RE, Reference
from .rules.common import is_noc


def code_status(codes: pd.Series, ref: Reference, as_of: dt.date) -> pd.DataFrame:
    """Per code: known (True/False, NA where unchecked), deleted, not_yet, noc, dates, xref,
    descriptor and which release answered."""
    day = pd.Timestamp(as_of)
    level2 = codes.str.fullmatch(LEVEL2_RE).fillna(False)
    cpt = codes.str.fullmatch(CPT_RE).fillna(False)
    l2 = ref.level2.reindex(codes.where(level2).fillna("")).set_axis(codes.index)
    in_l2 = level2 & codes.isin(ref.level2.index)
    if ref.cpt is not None:
        opps = ref.cpt.reindex(codes.fillna("")).set_axis(codes.index)
        in_opps = codes.isin(ref.cpt.index)
        si = opps["status"].fillna("")
        opps_desc = opps["short_description"]
    else:
        in_opps = pd.Series(False, index=codes.index)
        si = pd.Series("", index=codes.index, dtype="str")
        opps_desc = pd.Series(pd.NA, index=codes.index, dtype="str")
    known = pd.Series(pd.NA, index=codes.index, dtype="boolean")
    known = known.mask(level2, in_l2 | in_opps)
    if ref.cpt is not None:
        known = known.mask(cpt, in_opps)
    term = l2["term_date"].where(in_l2)
    added = l2["add_date"].where(in_l2)
    discontinued = in_opps & si.eq("D")
    deleted = (term < day).fillna(False) | discontinued
    not_yet = (added > day).fillna(False)
    descriptor = l2["short_description"].fillna(l2["long_description"]).where(in_l2)
    descriptor = descriptor.fillna(opps_desc.where(in_opps))
    # The CMS NOC list and unlisted CPT codes only, never 'NOS' in a descriptor (issue 11).
    noc = is_noc(codes, ref)
    return pd.DataFrame(
        {
            "known": known,
            "deleted": deleted.astype(bool),
            "discontinued": discontinued.astype(bool),
            "not_yet": not_yet.astype(bool),
            "noc": noc.astype(bool) & (known.fillna(True)),
            "term_date": term,
            "add_date": added,
            "xref": l2["xref"].where(in_l2),
            "descriptor": descriptor,
        },
        index=codes.index,
    )


def modifier_status(mods: pd.Series, ref: Reference, as_of: dt.date) -> pd.DataFrame:
    """One row per (line, modifier token): unknown, deleted, term date."""
    tokens = mods.astype("str").str.split(" ").explode().dropna().astype("str")
    tokens = tokens[tokens.str.fullmatch(r"[A-Z0-9]{2}")]
    known = tokens.isin(ref.modifiers.index) | tokens.isin(CPT_MODIFIERS)
    term = ref.modifiers["term_date"].reindex(tokens).set_axis(tokens.index)
    deleted = (term < pd.Timestamp(as_of)).fillna(False)
    return pd.DataFrame({"modifier": tokens, "unknown": ~known, "deleted": deleted, "term": term})


def _date(s: pd.Series) -> pd.Series:
    return s.dt.strftime("%Y-%m-%d").astype("str")


def stale_releases(ref: Reference, as_of: dt.date) -> list:
    return [r for r in ref.releases if r.valid_through and as_of > r.valid_through]


def reference_findings(
    lines: Lines, ref: Reference, as_of: dt.date, letters: dict[str, str], header_row: int
) -> list[pd.DataFrame]:
    df = lines.frame
    active = df["active"]
    charge = df["charge_code"]
    code = df["coded_hcpcs"]
    col = df["hcpcs_col"]
    status = code_status(code, ref, as_of)
    out = []
    stale = stale_releases(ref, as_of)
    for release in stale:
        out.append(
            F.make(
                "REFERENCE-STALE",
                row=header_row,
                value=release.name,
                message=f"{release.kind} reference '{release.name}' is current only through "
                f"{release.valid_through.isoformat()}, before the as-of date {as_of.isoformat()}: "
                "codes added or deleted since are not known to it. Load the current file "
                "(--hcpcs-file for the CMS HCPCS file, --addendum-b for OPPS Addendum B).",
            )
        )
    names = ", ".join(r.name for r in ref.releases if r.kind.startswith(("HCPCS Level", "CPT")))
    maybe_new = " It may be newer than the reference; load the current file." if stale else ""
    unknown = active & status["known"].eq(False).fillna(False)
    out.append(
        F.make(
            "HCPCS-UNKNOWN",
            unknown,
            column=col,
            value=code,
            charge_code=charge,
            message="HCPCS " + code + f" is not in the loaded code sets ({names}). Check the code "
            "against the current HCPCS/CPT list and correct it." + maybe_new,
        )
    )
    xref = status["xref"]
    when = ("terminated on " + _date(status["term_date"])).fillna(
        "discontinued in OPPS Addendum B (status indicator D)"
    )
    replace = "; CMS cross-references it to " + xref + ". Replace the code with " + xref + "."
    replace = replace.fillna(". Replace it with the current code.")
    out.append(
        F.make(
            "HCPCS-DELETED",
            active & status["deleted"],
            column=col,
            value=code,
            suggested=xref,
            charge_code=charge,
            message="HCPCS " + code + " was " + when + f", before the as-of date {as_of}" + replace,
        )
    )
    out.append(
        F.make(
            "HCPCS-NOT-YET-EFFECTIVE",
            active & status["not_yet"] & ~status["deleted"],
            column=col,
            value=code,
            charge_code=charge,
            message="HCPCS "
            + code
            + " is effective from "
            + _date(status["add_date"])
            + f", after the as-of date {as_of}. Do not bill it before then, or keep the old "
            "code until that date.",
        )
    )
    out.append(
        F.make(
            "HCPCS-NOC",
            active & status["noc"] & ~status["deleted"],
            column=col,
            value=code,
            charge_code=charge,
            message="HCPCS "
            + code
            + " is a not-otherwise-classified or unlisted code ('"
            + status["descriptor"].fillna("")
            + "'): every claim needs a narrative and "
            "Medicare denies it when a specific code exists. Use the specific code if there "
            "is one.",
        )
    )
    # Revenue codes: every well-formed revenue cell, in every revenue column.
    for name, source in lines.check_source.items():
        if not name.startswith("revenue_code__"):
            continue
        rev = lines.check[name]
        bad = active & rev.str.fullmatch(r"\d{4}").fillna(False) & ~rev.isin(ref.revenue)
        out.append(
            F.make(
                "REVCODE-UNKNOWN",
                bad,
                column=source,
                letter=letters.get(source),
                value=rev,
                charge_code=charge,
                message="Revenue code " + rev + " is not a UB-04 revenue code. Use a valid "
                "NUBC revenue code for the service.",
            )
        )
    mods = modifier_status(df["coded_modifiers"].where(active), ref, as_of)
    mod_col = df["modifiers_col"].fillna(df["hcpcs_col"])
    for rule, mask, text in (
        (
            "MODIFIER-UNKNOWN",
            mods["unknown"],
            " is not a HCPCS Level II or CPT modifier. Correct it or remove it.",
        ),
        (
            "MODIFIER-DELETED",
            mods["deleted"] & ~mods["unknown"],
            f" was terminated before the as-of date {as_of}. Remove it or use its replacement.",
        ),
    ):
        hits = mods[mask]
        if hits.empty:
            continue
        idx = hits.index
        out.append(
            F.make(
                rule,
                pd.Series(True, index=idx),
                column=pd.Series(mod_col.reindex(idx).to_numpy(), index=idx),
                value=pd.Series(hits["modifier"].to_numpy(), index=idx),
                charge_code=pd.Series(charge.reindex(idx).to_numpy(), index=idx),
                message=pd.Series(("Modifier " + hits["modifier"] + text).to_numpy(), index=idx),
            )
        )
    return out


def map_code_problems(
    codes: pd.Series, mods: pd.Series, ref: Reference, as_of: dt.date
) -> pd.Series:
    """Why a code map entry may not be applied (unknown or deleted code or modifier), or NA."""
    status = code_status(codes, ref, as_of)
    reason = pd.Series(pd.NA, index=codes.index, dtype="str")
    reason = reason.mask(
        status["known"].eq(False).fillna(False), "'" + codes + "' is not in the loaded code sets"
    )
    reason = reason.mask(status["deleted"], "'" + codes + "' is deleted as of " + as_of.isoformat())
    m = modifier_status(mods, ref, as_of)
    bad = m[m["unknown"] | m["deleted"]]
    if len(bad):
        text = ("modifier '" + bad["modifier"] + "' is unknown or deleted").groupby(level=0).first()
        reason = reason.fillna(text.reindex(codes.index))
    return reason
