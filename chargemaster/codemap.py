"""Static coding: the team's code map (charge code -> HCPCS [+ modifiers]) applied to lines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import findings as F
from .config import Config
from .errors import InputError
from .fields import field_specs
from .normalize import clean_code, repair_hcpcs, split_modifiers
from .reader import Table, read_table
from .refcheck import map_code_problems
from .reference import Reference
from .schema import failures, load_schema


@dataclass
class CodeMap:
    table: Table
    # One row per usable entry, indexed by charge code: hcpcs, modifiers, row (source row).
    entries: pd.DataFrame
    findings: pd.DataFrame  # MAP-* findings, rows and cells of the code map file


def read_code_map(
    path: Path, config: Config, ref: Reference | None = None, as_of: dt.date | None = None
) -> CodeMap:
    specs = field_specs("code_map")
    table = read_table(
        path, specs, required=("charge_code", "hcpcs"), item_fields=("charge_code", "hcpcs")
    )
    df = table.data
    code_col, hcpcs_col = table.col("charge_code"), table.col("hcpcs")
    if code_col is None or hcpcs_col is None:  # --header-row can point anywhere
        raise InputError(f"{path}: the code map needs a charge code and a HCPCS column")
    charge = clean_code(df[code_col])
    rep = repair_hcpcs(df[hcpcs_col], table.numeric.get(hcpcs_col), config.hcpcs_placeholders)
    mods = rep.modifiers.copy()
    check = {"hcpcs": rep.value}
    sources = {"hcpcs": hcpcs_col}
    for k, col in enumerate(table.fields.get("modifiers", [])):
        m = split_modifiers(df[col], table.numeric.get(col)).value
        mods = (mods.fillna("") + " " + m.fillna("")).str.strip()
        mods = mods.mask(mods.eq(""))
        tokens = (
            m.str.split(" ", n=4, expand=True) if m.notna().any() else pd.DataFrame(index=df.index)
        )
        for j in tokens.columns:
            check[f"modifier__{k}{j}"] = tokens[j].astype("str")
            sources[f"modifier__{k}{j}"] = col
    fc = failures(load_schema("code_map"), pd.DataFrame(check, index=df.index))
    where = f"{Path(path).name}!"
    # Why each entry is not applied: failed shape checks, no code, failed reference checks.
    shape = pd.DataFrame(
        {
            "row": fc["row"].to_numpy(),
            "column": fc["column"].map(lambda c: sources.get(c, c)).to_numpy(),
            "value": fc["value"].astype("str").to_numpy(),
        }
    )
    shape["why"] = (
        "has '" + shape["value"] + "' in '" + shape["column"] + "', which is not a valid code"
    )
    blank_rows = df.index[rep.value.isna() & charge.notna()]
    blank = pd.DataFrame(
        {"row": blank_rows, "column": hcpcs_col, "value": "", "why": "has no HCPCS"}
    )
    parts = [shape, blank]
    if ref is not None:  # a code the map attaches must itself pass the reference checks
        shaped = rep.value.where(~rep.value.index.isin(shape["row"]))
        problems = map_code_problems(shaped, mods, ref, as_of or dt.date.today()).dropna()
        parts.append(
            pd.DataFrame(
                {
                    "row": problems.index,
                    "column": hcpcs_col,
                    "value": rep.value.reindex(problems.index).astype("str").to_numpy(),
                    "why": ": " + problems.to_numpy(),
                }
            )
        )
    invalid = pd.concat([p for p in parts if len(p)] or [blank], ignore_index=True)
    bad_rows = set(invalid["row"])
    found = []
    if len(invalid):
        idx = pd.Index(invalid["row"].astype("int64"), name="row")
        codes = charge.reindex(idx)
        message = (
            "Code map entry for charge code '"
            + codes.fillna("")
            + "' "
            + invalid["why"].set_axis(idx)
        ).str.replace("' : ", "': ", regex=False)
        found.append(
            F.make(
                "MAP-CODE-INVALID",
                pd.Series(True, index=idx),
                column=invalid["column"].set_axis(idx),
                letter=where + invalid["column"].map(table.letters).set_axis(idx),
                value=invalid["value"].set_axis(idx),
                charge_code=codes,
                message=message + "; the entry is not applied. Correct the code map.",
            )
        )
    entries = pd.DataFrame({"charge_code": charge, "hcpcs": rep.value, "modifiers": mods})
    entries["row"] = entries.index
    usable = entries[~entries.index.isin(bad_rows) & entries["hcpcs"].notna()]
    usable = usable[usable["charge_code"].notna()]
    distinct = usable.drop_duplicates(["charge_code", "hcpcs", "modifiers"])
    dup_keys = distinct["charge_code"][distinct["charge_code"].duplicated()].unique()
    dups = usable[usable["charge_code"].isin(dup_keys)]
    if len(dups):
        # At most ten codes named: one key with 30,000 codes would repeat them all per row.
        listing = dups.groupby("charge_code")["hcpcs"].agg(_first_codes)
        found.append(
            F.make(
                "MAP-KEY-DUPLICATE",
                pd.Series(True, index=dups.index),
                column=code_col,
                letter=where + table.letters[code_col],
                value=dups["charge_code"],
                charge_code=dups["charge_code"],
                message="The code map gives charge code '"
                + dups["charge_code"]
                + "' different codes ("
                + dups["charge_code"].map(listing)
                + "); none is applied. Keep one entry per charge code.",
            )
        )
    good = distinct[~distinct["charge_code"].isin(dup_keys)].set_index("charge_code")
    return CodeMap(table, good, F.combine(found))


def apply_code_map(frame: pd.DataFrame, code_map: CodeMap | None, config: Config) -> list:
    """Fill coded_hcpcs / coded_modifiers / code_source in ``frame``; return findings."""
    hcpcs = frame["hcpcs"]
    repaired = frame["hcpcs_repaired"]
    frame["coded_hcpcs"] = hcpcs
    frame["coded_modifiers"] = frame["modifiers"]
    source = pd.Series("", index=frame.index, dtype="str")
    source = source.mask(hcpcs.notna(), "existing").mask(hcpcs.notna() & repaired, "repaired")
    frame["code_source"] = source
    if code_map is None:
        return []
    charge = frame["charge_code"]
    map_code = charge.map(code_map.entries["hcpcs"]).astype("str")
    map_mods = charge.map(code_map.entries["modifiers"]).astype("str")
    eligible = ~frame["soft"]
    if config.attach_to == "ancillary":
        eligible &= frame["ancillary"]
    attach = eligible & hcpcs.isna() & map_code.notna()
    conflict = hcpcs.notna() & map_code.notna() & hcpcs.ne(map_code)
    take = attach | (conflict & config.map_wins)
    frame["coded_hcpcs"] = hcpcs.mask(take, map_code)
    frame["coded_modifiers"] = frame["modifiers"].mask(take, map_mods)
    frame["code_source"] = source.mask(take, "code map")
    active = frame["active"]
    where = code_map.table.path.name
    mods_text = (" with modifiers " + map_mods).fillna("")
    out = [
        F.make(
            "HCPCS-ATTACHED",
            attach & active,
            column=frame["hcpcs_col"],
            value=map_code,
            suggested=map_code,
            charge_code=charge,
            message="HCPCS "
            + map_code
            + mods_text
            + " was attached from the code map ("
            + where
            + "). No action needed; the coded output carries it.",
        ),
        F.make(
            "HCPCS-MAP-CONFLICT",
            conflict & active,
            column=frame["hcpcs_col"],
            value=hcpcs,
            suggested=map_code,
            charge_code=charge,
            message="The line's HCPCS "
            + hcpcs
            + " differs from the code map's "
            + map_code
            + " ("
            + where
            + "); "
            + ("the map's code was applied" if config.map_wins else "the line keeps its own code")
            + ". Decide which is right and correct the other.",
        ),
    ]
    known = set(charge.dropna())
    entries = code_map.entries
    unmatched = entries[~entries.index.isin(known)]
    if len(unmatched):
        col = code_map.table.col("charge_code")
        letter = f"{where}!{code_map.table.letters[col]}"
        codes = pd.Series(unmatched.index.to_numpy(), index=unmatched["row"].to_numpy())
        out.append(
            F.make(
                "MAP-UNMATCHED",
                pd.Series(True, index=codes.index),
                column=col,
                letter=letter,
                value=codes,
                charge_code=codes,
                message="Code map entry for charge code '"
                + codes
                + "' matches no chargemaster line. Remove it or check the charge code.",
            )
        )
    return out


def _first_codes(codes: pd.Series, limit: int = 10) -> str:
    distinct = sorted(set(codes))
    more = f" and {len(distinct) - limit:,} more" if len(distinct) > limit else ""
    return ", ".join(distinct[:limit]) + more
