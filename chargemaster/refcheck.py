"""Rules that need reference code sets: unknown, deleted, not-yet-effective and NOC codes,
unknown revenue codes and modifiers, stale references. Lookups are vectorised joins."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from . import findings as F
from .prepare import Lines
from .reference import (
    ADDENDUM_B_KIND,
    CPT_MODIFIERS,
    CPT_RE,
    LEVEL2_RE,
    UNLISTED,
    Reference,
    Release,
    isin,
    per_value,
)


def code_status(codes: pd.Series, ref: Reference, as_of: dt.date) -> pd.DataFrame:
    """Per code: known (True/False, NA where unchecked or where the references cannot tell),
    deleted, not_yet, noc, dates, xref, descriptor, and the words saying how it was deleted or
    why it is not effective yet.

    Level II codes are dated by the CMS HCPCS file (add and termination dates); where it has
    no date, and for CPT, by the Addendum B releases loaded (CodeHistory)."""
    return per_value(codes, lambda values: _code_status(values, ref, as_of))


def _code_status(codes: pd.Series, ref: Reference, as_of: dt.date) -> pd.DataFrame:
    day = pd.Timestamp(as_of)
    level2 = codes.str.fullmatch(LEVEL2_RE).fillna(False)
    cpt = codes.str.fullmatch(CPT_RE).fillna(False)
    l2 = ref.level2.reindex(codes.where(level2).fillna("")).set_axis(codes.index)
    in_l2 = level2 & isin(codes, ref.level2.index)
    key = codes.fillna("")
    if ref.history is not None:
        hist = ref.history.state(as_of).reindex(key).set_axis(codes.index)
        if ref.history.in_force(as_of) is not None:  # in no release, one of them current
            hist["known"] = hist["known"].astype("boolean").fillna(False)
    else:
        hist = pd.DataFrame(
            {
                "known": pd.Series(pd.NA, index=codes.index, dtype="boolean"),
                "deleted": False,
                "not_yet": False,
                "discontinued": False,
                "deleted_how": None,
                "not_yet_how": None,
            },
            index=codes.index,
        )
    hist_known = hist["known"].astype("boolean")
    shaped = level2 | cpt  # other shapes are HCPCS-MALFORMED, never dated
    hist["deleted"] = hist["deleted"].where(shaped, False)
    hist["not_yet"] = hist["not_yet"].where(shaped, False)
    in_list = isin(codes, ref.cpt_list) if ref.cpt_list else pd.Series(False, index=codes.index)
    if ref.cpt is not None:
        opps = ref.cpt.reindex(key).set_axis(codes.index)
        in_opps = isin(codes, ref.cpt.index)
        opps_desc = opps["short_description"]
    else:
        in_opps = pd.Series(False, index=codes.index)
        opps_desc = pd.Series(pd.NA, index=codes.index, dtype="str")
    # Dental D-codes (CDT) are not in the CMS HCPCS file: like CPT, only Addendum B or a code
    # list can tell whether one exists (D1515 was a code in 2018, the file just lacks it).
    dental = level2 & codes.str.startswith("D").fillna(False)
    outside_file = cpt | dental
    known = pd.Series(pd.NA, index=codes.index, dtype="boolean")
    known = known.mask(level2 & ~dental, in_l2 | hist_known.fillna(False) | in_list)
    if ref.history is not None:
        known = known.mask(outside_file, hist_known | in_list)
    elif ref.cpt is not None:
        known = known.mask(outside_file, in_list)
    term = l2["term_date"].where(in_l2)
    added = l2["add_date"].where(in_l2)
    # The HCPCS file's own dates win for Level II: Addendum B lists only the codes OPPS
    # uses, so a Level II code's absence from a release is evidence only where the file is
    # silent.
    hist_deleted = hist["deleted"].fillna(False).astype(bool) & ~(level2 & term.notna())
    hist_new = hist["not_yet"].fillna(False).astype(bool) & ~(level2 & added.notna())
    by_date = (term < day).fillna(False)
    deleted = by_date | hist_deleted
    not_yet = (added > day).fillna(False) | hist_new
    if "absent_through" in l2:
        # Codes added after the dated HCPCS file: not effective while that file lacked them.
        absent = l2["absent_through"].where(in_l2 & added.isna())
        absent_new = (absent >= day).fillna(False)
        not_yet |= absent_new
    else:
        absent, absent_new = None, pd.Series(False, index=codes.index)
    deleted_how = ("terminated on " + _date(term)).where(by_date)
    deleted_how = deleted_how.fillna(hist["deleted_how"].where(hist_deleted))
    not_yet_how = ("effective from " + _date(added)).where((added > day).fillna(False))
    not_yet_how = not_yet_how.fillna(hist["not_yet_how"].where(hist_new))
    if absent is not None:
        not_yet_how = not_yet_how.fillna(
            ("not in the CMS HCPCS file of " + _date(absent) + " (added since)").where(absent_new)
        )
    descriptor = l2["short_description"].fillna(l2["long_description"]).where(in_l2)
    descriptor = descriptor.fillna(opps_desc.where(in_opps))
    noc = isin(codes, ref.noc) | descriptor.where(cpt).str.contains(UNLISTED, regex=True).fillna(
        False
    )
    return pd.DataFrame(
        {
            "known": known,
            "deleted": deleted.astype(bool),
            "discontinued": hist["discontinued"].fillna(False).astype(bool),
            "not_yet": (not_yet & ~deleted).astype(bool),
            "noc": noc.astype(bool) & (known.fillna(True)),
            "term_date": term,
            "add_date": added,
            "xref": l2["xref"].where(in_l2),
            "descriptor": descriptor,
            "deleted_how": deleted_how.astype("object"),
            "not_yet_how": not_yet_how.astype("object"),
        },
        index=codes.index,
    )


def modifier_status(mods: pd.Series, ref: Reference, as_of: dt.date) -> pd.DataFrame:
    """One row per (line, modifier token): unknown, deleted, term date."""
    tokens = mods.astype("str").str.split(" ").explode().dropna().astype("str")
    tokens = tokens[tokens.str.fullmatch(r"[A-Z0-9]{2}")]
    known = isin(tokens, ref.modifiers.index) | isin(tokens, CPT_MODIFIERS)
    term = ref.modifiers["term_date"].reindex(tokens).set_axis(tokens.index)
    deleted = (term < pd.Timestamp(as_of)).fillna(False)
    return pd.DataFrame({"modifier": tokens, "unknown": ~known, "deleted": deleted, "term": term})


def _date(s: pd.Series) -> pd.Series:
    return s.dt.strftime("%Y-%m-%d").astype("str")


def stale_releases(ref: Reference, as_of: dt.date) -> list[Release]:
    return [r for r, _ in stale_notes(ref, as_of)]


def stale_notes(ref: Reference, as_of: dt.date) -> list[tuple[Release, str]]:
    """Releases that do not describe the as-of date, each with what that means. A dated code
    set (the CMS HCPCS file) is stale only after it; Addendum B releases are a history, judged
    by the one in force on the as-of date, or by the oldest when the date precedes them all."""
    notes = []
    load = (
        "Load the current file (--hcpcs-file for the CMS HCPCS file, --addendum-b for OPPS "
        "Addendum B)."
    )
    for r in ref.releases:
        if r.kind == ADDENDUM_B_KIND or not r.valid_through or as_of <= r.valid_through:
            continue
        notes.append(
            (
                r,
                f"{r.kind} reference '{r.name}' is current only through "
                f"{r.valid_through.isoformat()}, before the as-of date {as_of.isoformat()}: "
                f"codes added or deleted since are not known to it. {load}",
            )
        )
    history = ref.history
    if history is None:
        return notes
    now = history.in_force(as_of)
    if now is None:
        oldest = history.releases[0]
        notes.append(
            (
                oldest,
                f"The oldest OPPS Addendum B loaded, '{oldest.name}', starts "
                f"{oldest.start.isoformat()}, after the as-of date {as_of.isoformat()}: codes "
                "added since cannot be told from codes that existed then, so a CPT code in no "
                "release is not called unknown and a code first listed in it is not called "
                "new. Load the Addendum B of the as-of quarter too (--addendum-b, repeatable).",
            )
        )
    elif as_of > now.valid_through:
        later = [r for r in history.releases if r.start > as_of]
        gap = (
            f"the next release loaded is '{later[0].name}', so codes added or deleted between "
            "them are dated only to that span"
            if later
            else "codes added or deleted since are not known to it"
        )
        notes.append(
            (
                now,
                f"{now.kind} reference '{now.name}' is current only through "
                f"{now.valid_through.isoformat()}, before the as-of date {as_of.isoformat()}; "
                f"{gap}. Load the Addendum B of the as-of quarter (--addendum-b, repeatable).",
            )
        )
    return notes


def _code_set_names(ref: Reference) -> str:
    """'CMS HCPCS 2025-07 ..., OPPS Addendum B 2019-01 to 2026-04 (6 releases)'."""
    names = [r.name for r in ref.releases if r.kind.startswith(("HCPCS Level", "CPT"))]
    if ref.history is not None and len(ref.history.releases) > 1:
        hist = ref.history.releases
        names = [n for n in names if n not in {r.name for r in hist}]
        names.append(
            f"OPPS Addendum B {hist[0].start:%Y-%m} to {hist[-1].start:%Y-%m} "
            f"({len(hist)} releases)"
        )
    return ", ".join(names)


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
    for release, text in stale_notes(ref, as_of):
        out.append(F.make("REFERENCE-STALE", row=header_row, value=release.name, message=text))
    names = _code_set_names(ref)
    # "May be newer" only where no release loaded reaches the as-of date: an as-of date before
    # the references never makes an unlisted code newer than them.
    ends = [r.valid_through for r in ref.releases if r.kind == ADDENDUM_B_KIND]
    cpt_after = bool(ends) and as_of > max(ends)
    l2_ends = ends + [r.valid_through for r in ref.releases if r.kind == "HCPCS Level II"]
    l2_after = bool(l2_ends) and all(e is not None and as_of > e for e in l2_ends)
    # Dental D-codes are dated by Addendum B alone, like CPT (see code_status).
    is_cpt = code.str.fullmatch(CPT_RE).fillna(False) | code.str.fullmatch(r"D\d{4}").fillna(False)
    maybe_new = pd.Series("", index=code.index, dtype="str")
    newer = " It may be newer than the reference; load the current file."
    maybe_new = maybe_new.mask(is_cpt & cpt_after, newer).mask(~is_cpt & l2_after, newer)
    unknown = active & status["known"].eq(False).fillna(False)
    # Messages are built on the lines a rule fires on only (F.make takes them from there).
    on = code[unknown]
    if ref.history is not None:
        # The releases list every valid code, so an unlisted one was not valid on the oldest
        # release's first day: deleted before it, or never a code; say so (11100, deleted by
        # CPT 2019, is in none of the releases from January 2019 on).
        oldest = ref.history.releases[0].start.isoformat()
        maybe_new = maybe_new.mask(
            is_cpt & maybe_new.eq(""),
            f" No release loaded lists it: it was not a valid code on {oldest} (deleted before "
            "then, or never a code).",
        )
    out.append(
        F.make(
            "HCPCS-UNKNOWN",
            unknown,
            column=col,
            value=code,
            charge_code=charge,
            message="HCPCS " + on + f" is not in the loaded code sets ({names}). Check the code "
            "against the current HCPCS/CPT list and correct it." + maybe_new[unknown],
        )
    )
    deleted = active & status["deleted"]
    on = status[deleted]
    xref = on["xref"]
    replace = "; CMS cross-references it to " + xref + ". Replace the code with " + xref + "."
    replace = replace.fillna(". Replace it with the current code.")
    out.append(
        F.make(
            "HCPCS-DELETED",
            deleted,
            column=col,
            value=code,
            suggested=status["xref"],
            charge_code=charge,
            message="HCPCS "
            + code[deleted]
            + " was "
            + on["deleted_how"].astype("str")
            + f", before the as-of date {as_of}"
            + replace,
        )
    )
    not_yet = active & status["not_yet"] & ~status["deleted"]
    out.append(
        F.make(
            "HCPCS-NOT-YET-EFFECTIVE",
            not_yet,
            column=col,
            value=code,
            charge_code=charge,
            message="HCPCS "
            + code[not_yet]
            + " is "
            + status.loc[not_yet, "not_yet_how"].astype("str")
            + f", not yet effective on the as-of date {as_of}. Do not bill it before then, or "
            "keep the old code until that date.",
        )
    )
    noc = active & status["noc"] & ~status["deleted"]
    out.append(
        F.make(
            "HCPCS-NOC",
            noc,
            column=col,
            value=code,
            charge_code=charge,
            message="HCPCS "
            + code[noc]
            + " is a not-otherwise-classified or unlisted code ('"
            + status.loc[noc, "descriptor"].fillna("")
            + "'): every claim needs a narrative and "
            "Medicare denies it when a specific code exists. Use the specific code if there "
            "is one.",
        )
    )
    # Revenue codes: every well-formed revenue cell, in every revenue column.
    rev_names = [n for n in lines.check_source if n.startswith("revenue_code__")]
    known = {n: isin(lines.check[n], ref.revenue) for n in rev_names}
    # One revenue column per setting (IPREV, OPREV): '0000' in one of them beside a valid code
    # in another is the export's "none for this setting" (room and board is inpatient only),
    # not a code on a claim. Alone, 0000 is still no UB-04 code (NUBC defines none).
    other_valid = {
        n: pd.concat(
            [known[m] for m in rev_names if m != n] or [pd.Series(False, index=df.index)], axis=1
        ).any(axis=1)
        for n in rev_names
    }
    # Nor is '0000' on a line that bills nothing (no HCPCS, no price above zero: a statistical
    # line such as nursing hours): like a blank revenue code there (REVCODE-MISSING), it says
    # the line never reaches a claim.
    priced = lines.prices.gt(0).any(axis=1) if len(lines.prices.columns) else False
    unbilled = code.isna() & ~priced
    for name in rev_names:
        source = lines.check_source[name]
        rev = lines.check[name]
        bad = active & rev.str.fullmatch(r"\d{4}").fillna(False) & ~known[name]
        bad &= ~(rev.eq("0000").fillna(False) & (other_valid[name] | unbilled))
        out.append(
            F.make(
                "REVCODE-UNKNOWN",
                bad,
                column=source,
                letter=letters.get(source),
                value=rev,
                charge_code=charge,
                message="Revenue code " + rev[bad] + " is not a UB-04 revenue code. Use a valid "
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
