"""Are two report workbooks the same content? Sheet by sheet: the cell values and their types
(read with python-calamine), then every part of the file (sheet XML with each cell's style,
hyperlinks, table parts, conditional formats and panes; the tables; the chart), each style
index replaced by the style it names, since indices follow the order formats are first used.

The Summary's run facts that differ between two runs of the same input ("Run at",
"Run time (s)") are left out. Exit status 0 when the same, 1 with the first differences.

Run:  python benchmarks/compare_reports.py A.xlsx B.xlsx
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from pathlib import Path

# Summary rows whose value is the run's clock, not its content.
RUN_FACTS = ("Run at", "Run time (s)")


def _styles(z: zipfile.ZipFile):
    styles = z.read("xl/styles.xml").decode()

    def items(tag: str, item: str) -> list[str]:
        block = re.search(rf"<{tag}[ >].*?</{tag}>", styles, re.S)
        if block is None:
            return []
        return re.findall(rf"<{item}\b[^>]*?(?:/>|>.*?</{item}>)", block.group(0), re.S)

    parts = {
        "fontId": items("fonts", "font"),
        "fillId": items("fills", "fill"),
        "borderId": items("borders", "border"),
    }
    formats = dict(re.findall(r'<numFmt numFmtId="(\d+)" formatCode="([^"]*)"', styles))
    xfs = items("cellXfs", "xf")
    dxfs = items("dxfs", "dxf")
    memo: dict[str, str] = {}

    def xf(index: str) -> str:
        if index not in memo:
            text = re.sub(
                r'numFmtId="(\d+)"', lambda m: formats.get(m.group(1), m.group(1)), xfs[int(index)]
            )
            for key, values in parts.items():
                text = re.sub(rf'{key}="(\d+)"', lambda m, v=values: v[int(m.group(1))], text)
            memo[index] = text
        return memo[index]

    return xf, dxfs


def normalised_parts(path: Path) -> dict[str, str]:
    """Every part of the workbook but styles and app properties, style indices resolved."""
    z = zipfile.ZipFile(path)
    xf, dxfs = _styles(z)
    out = {}
    for name in z.namelist():
        if name in ("xl/styles.xml", "docProps/app.xml"):
            continue
        text = z.read(name).decode()
        text = re.sub(r' (s|style)="(\d+)"', lambda m: f" {m.group(1)}=[{xf(m.group(2))}]", text)
        text = re.sub(r' dxfId="(\d+)"', lambda m: f" dxf=[{dxfs[int(m.group(1))]}]", text)
        out[name] = text
    return out


def sheet_values(path: Path) -> dict[str, list[list]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    out = {}
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        if name == "Summary":
            rows = [r for r in rows if not (r and r[0] in RUN_FACTS)]
        out[name] = [[(type(v).__name__, v) for v in row] for row in rows]
    return out


def _run_facts_masked(text: str) -> str:
    """The Summary sheet's XML with the run's clock cells emptied."""
    for label in RUN_FACTS:
        text = re.sub(
            rf"(<t>{re.escape(label)}</t></is></c><c [^>]*><(?:v|is)>)(.*?)(</(?:v|is)>)",
            r"\1…\3",
            text,
        )
    return text


def compare(a: Path, b: Path, limit: int = 5) -> list[str]:
    problems: list[str] = []
    va, vb = sheet_values(a), sheet_values(b)
    if list(va) != list(vb):
        problems.append(f"sheets differ: {list(va)} vs {list(vb)}")
    for name in va:
        if name not in vb:
            continue
        ra, rb = va[name], vb[name]
        if len(ra) != len(rb):
            problems.append(f"{name}: {len(ra)} rows vs {len(rb)}")
        for i, (x, y) in enumerate(zip(ra, rb, strict=False)):
            if x != y:
                problems.append(f"{name} row {i + 1}: {x} vs {y}")
                if len(problems) >= limit:
                    return problems
    pa, pb = normalised_parts(a), normalised_parts(b)
    if sorted(pa) != sorted(pb):
        problems.append(f"parts differ: {sorted(set(pa) ^ set(pb))}")
    for name in sorted(set(pa) & set(pb)):
        x, y = pa[name], pb[name]
        if name == "docProps/core.xml":
            continue  # creation time is fixed, the rest (title) compared through values
        if "worksheets/sheet1.xml" in name:
            x, y = _run_facts_masked(x), _run_facts_masked(y)
        if x != y:
            at = next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), None)
            at = min(len(x), len(y)) if at is None else at
            problems.append(
                f"{name} differs at {at}: {x[at - 80 : at + 80]!r} vs {y[at - 80 : at + 80]!r}"
            )
            if len(problems) >= limit:
                return problems
    return problems


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    args = p.parse_args()
    problems = compare(args.a, args.b)
    for line in problems:
        print(line)
    print("same content" if not problems else f"{len(problems)} difference(s) shown")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
