"""Findings are rows of one table: every rule adds rows, the report shows them."""

from __future__ import annotations

import pandas as pd

from .catalog import FINDING_COLUMNS, RULES

# Internal columns: FINDING_COLUMNS with 'column' as the header the user wrote; 'letter' is the
# spreadsheet column letter used to build the A1 cell reference.
_COLUMNS = [c for c in FINDING_COLUMNS if c not in ("severity", "cell")] + ["letter"]


def empty() -> pd.DataFrame:
    # A copy of one template: a run asks for an empty part a dozen times, and building the
    # frame costs ten times the copy.
    return _EMPTY.copy()


_EMPTY = pd.DataFrame({c: pd.Series([], dtype="object") for c in _COLUMNS})


def make(
    rule: str,
    mask: pd.Series | None = None,
    *,
    message: str | pd.Series,
    value: str | pd.Series | None = None,
    column: str | pd.Series | None = None,
    letter: str | pd.Series | None = None,
    charge_code: pd.Series | None = None,
    suggested: str | pd.Series | None = None,
    row: int | None = None,
) -> pd.DataFrame:
    """Rows of findings for ``rule``: one per True in ``mask`` (aligned on source rows),
    or a single file-level finding when no mask is given."""
    assert rule in RULES, rule
    if mask is None:
        data = {
            "rule": [rule],
            "row": [row],
            "column": [column],
            "charge_code": [None],
            "value": [value],
            "suggested": [suggested],
            "message": [message],
            "letter": [letter],
        }
        return pd.DataFrame(data, columns=_COLUMNS)
    mask = mask.fillna(False).astype(bool)
    idx = mask.index[mask.to_numpy()]
    if len(idx) == 0:
        return empty()

    def pick(v):
        if isinstance(v, pd.Series):
            v = v.loc[mask.to_numpy()] if v.index.equals(mask.index) else v.reindex(idx)
            return v.astype("object").where(lambda s: s.notna(), None).to_numpy()
        return [v] * len(idx)

    frame = pd.DataFrame(
        {
            "rule": rule,
            "row": idx.to_numpy(),
            "column": pick(column),
            "charge_code": pick(charge_code),
            "value": pick(value),
            "suggested": pick(suggested),
            "message": pick(message),
            "letter": pick(letter),
        },
        columns=_COLUMNS,
    )
    return frame


def combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty()
    return pd.concat(parts, ignore_index=True)
