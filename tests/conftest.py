"""Shared fixtures: small files built per test, paths to the sample and to ../shared."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from hypothesis import is_hypothesis_test, settings
from openpyxl import Workbook

from chargemaster.pipeline import RunOptions, run

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"
REALDATA = SHARED / "realdata"

needs_shared = pytest.mark.skipif(
    not (REALDATA / "cdm").is_dir(), reason="../shared/realdata is not present in this checkout"
)

# Hypothesis: a handful of examples in the default run, full strength in the slow run (CI runs
# both). HYPOTHESIS_PROFILE=full|fast overrides.
settings.register_profile("fast", max_examples=10, deadline=None)
settings.register_profile("full", max_examples=100, deadline=None)


def _slow_run(config) -> bool:
    return (config.getoption("markexpr", "") or "").strip() == "slow"


def pytest_configure(config):
    settings.load_profile(
        os.environ.get("HYPOTHESIS_PROFILE") or ("full" if _slow_run(config) else "fast")
    )


@pytest.hookimpl(tryfirst=True)  # before -m deselects: `pytest -m slow` keeps property tests
def pytest_collection_modifyitems(config, items):
    if _slow_run(config):
        for item in items:
            if is_hypothesis_test(getattr(item, "obj", None)):
                item.add_marker(pytest.mark.slow)


HEADER = ["Charge Code", "Description", "Rev Code", "HCPCS", "Modifier", "Price", "Status"]


def write_csv(path: Path, rows: list[list], header: list[str] | None = HEADER, **kw) -> Path:
    with path.open("w", newline="", encoding=kw.get("encoding", "utf-8")) as fh:
        writer = csv.writer(fh, delimiter=kw.get("delimiter", ","))
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def line(
    code="30010001",
    desc="CBC W AUTO DIFF",
    rev="0305",
    hcpcs="85025",
    mod="",
    price="62",
    status="A",
):
    return [code, desc, rev, hcpcs, mod, price, status]


@pytest.fixture
def check(tmp_path):
    """Run the pipeline on CSV lines; returns the findings as (rule, row) pairs and the result."""

    def _check(rows, header=HEADER, code_map=None, **options):
        path = write_csv(tmp_path / "cdm.csv", rows, header)
        map_path = None
        if code_map is not None:
            map_path = write_csv(tmp_path / "map.csv", code_map, ["Charge Code", "HCPCS", "Mod"])
        result = run(RunOptions(path, code_map=map_path, **options))
        pairs = {
            (r, int(w) if w is not None else None)
            for r, w in zip(result.findings["rule"], result.findings["row"], strict=True)
        }
        return pairs, result

    return _check
