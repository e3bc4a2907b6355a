"""Precision of every error and warning rule, measured on hand-labelled findings.

Runs the tool over the real chargemasters (../shared/realdata/cdm and its corpus/; a file the
tool refuses, exit 2, is skipped and listed) with every OPPS Addendum B release in
../shared/realdata/hcpcs and, per file, the as-of date of its CDM year (a 2018 file is checked
as of 2018-07-01). Then, per rule, it samples findings (fixed seed, spread over the files in
turn so that one big file cannot fill a rule's sample) into benchmarks/labels/<rule>.csv
(hcpcs_unknown.csv for HCPCS-UNKNOWN) with the columns
file,row,rule,value,suggested,label,reason. A person fills `label` (right, wrong or debatable)
and a one-line `reason` from the source cell and the CMS code set. Labels already in a file are
kept (matched on file,row,rule,value) and never rewritten.

Printed: per rule, the labelled findings that still fire (n), right/wrong/debatable and the
precision, debatable counting half; labels whose finding no longer fires are counted as
"gone" (the rule changed: re-check them, never edit them to make a number).

    python benchmarks/precision.py                 # run, sample up to 20 per rule, report
    python benchmarks/precision.py --per-rule 30   # a larger sample
    python benchmarks/precision.py --report-only   # precision from the labels, no new sample
    python benchmarks/precision.py --report-only --cache DIR   # only labels firing in that run
    python benchmarks/precision.py --noise noise.csv   # also findings per 1,000 lines

`--context DIR` writes, per rule, the sampled findings with the line's description, codes,
price and message: what a labeller reads beside the source file.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import re
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's chargemaster, not an installed one

from chargemaster.catalog import RULES  # noqa: E402
from chargemaster.errors import ChargemasterError  # noqa: E402
from chargemaster.pipeline import RunOptions, run  # noqa: E402

REAL = ROOT.parent / "shared" / "realdata"
LABELS = ROOT / "benchmarks" / "labels"
# One file per fresh draw (file,row,rule,value): which labels were drawn when, so that a
# figure can be re-checked on findings nobody had looked at when the rule was tuned.
DRAWS = LABELS / "draws"
COLUMNS = ["file", "row", "rule", "value", "suggested", "label", "reason"]
KEY = ["file", "row", "rule", "value"]
SEED = 20261127
SUFFIXES = {".xlsx", ".xls", ".xlsm", ".csv", ".txt"}
# Sampled and labelled by their own benchmarks (suggest_accuracy.py, fee_gap.py), same columns.
SAMPLED_ELSEWHERE = {"DESCRIPTION-CODE-CONFLICT", "HCPCS-SUGGESTED", "PRICE-BELOW-FEE-SCHEDULE"}
# These runs load no CLFS, so most of its labelled findings cannot fire here: a count of those
# that do would not be its precision. fee_gap.py --labels measures it in fee-schedule runs.
MEASURED_ELSEWHERE = {"PRICE-BELOW-FEE-SCHEDULE": "python benchmarks/fee_gap.py --labels"}


def label_path(rule: str) -> Path:
    """benchmarks/labels/hcpcs_unknown.csv for HCPCS-UNKNOWN."""
    return LABELS / f"{rule.lower().replace('-', '_')}.csv"


def inputs() -> list[Path]:
    files = []
    for folder in (REAL / "cdm", REAL / "cdm" / "corpus"):
        files += sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES)
    return files


def as_of_for(path: Path) -> dt.date:
    """The middle of the CDM's year: the year the file name gives (every file here has one)."""
    match = re.search(r"_(20\d\d)_", path.name)
    if not match:
        raise SystemExit(f"error: {path.name}: no year in the name to set --as-of from")
    return dt.date(int(match.group(1)), 7, 1)


def run_all(addendum_b, cache: Path | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Findings of every file that reads (with the line's context) and per-file line counts."""
    if cache is not None and (cache / "findings.pkl").exists():
        return pd.read_pickle(cache / "findings.pkl"), pd.read_pickle(cache / "files.pkl")
    found, files = [], []
    for path in inputs():
        name = path.relative_to(REAL / "cdm").as_posix()
        t0 = time.perf_counter()
        try:
            result = run(RunOptions(path, addendum_b=addendum_b, as_of=as_of_for(path)))
        except ChargemasterError as exc:
            print(f"skip {name}: exit 2: {exc}", file=sys.stderr)
            files.append({"file": name, "lines": 0, "skipped": str(exc)[:200]})
            continue
        frame = result.lines.frame
        f = result.findings.copy()
        f["file"] = name
        ctx = frame.reindex(pd.to_numeric(f["row"], errors="coerce"))
        for col in ("description", "revenue_code", "coded_hcpcs", "coded_modifiers", "price"):
            f[f"line_{col}"] = ctx[col].to_numpy() if col in ctx else None
        found.append(f)
        files.append({"file": name, "lines": len(frame), "skipped": ""})
        print(
            f"{name}: {len(frame):,} lines, {len(f):,} findings, {time.perf_counter() - t0:.1f}s",
            file=sys.stderr,
        )
    out = pd.concat(found, ignore_index=True)
    files = pd.DataFrame(files)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        out.to_pickle(cache / "findings.pkl")
        files.to_pickle(cache / "files.pkl")
    return out, files


def text(v) -> str:
    return "" if v is None or (isinstance(v, float) and v != v) or v is pd.NA else str(v)


def keyed(frame: pd.DataFrame) -> pd.Series:
    """'file|row|rule|value', the identity a label is matched on."""
    keys = [
        f"{text(f)}|{text(r).removesuffix('.0')}|{text(u)}|{text(v)}"
        for f, r, u, v in zip(
            frame["file"], frame["row"], frame["rule"], frame["value"], strict=True
        )
    ]
    return pd.Series(keys, index=frame.index, dtype="object")


def read_labels(rule: str) -> pd.DataFrame:
    path = label_path(rule)
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    return pd.read_csv(path, dtype="str", keep_default_na=False)


def sample(findings: pd.DataFrame, rule: str, n: int, have: set[str]) -> pd.DataFrame:
    """Up to n findings of a rule, taking one per file in turn (files and findings in a
    seeded random order), skipping those already labelled."""
    rng = random.Random(f"{SEED}:{rule}")
    hits = findings[findings["rule"].eq(rule)].copy()
    hits["key"] = keyed(hits)
    hits = hits[~hits["key"].duplicated()]
    live_labelled = int(hits["key"].isin(have).sum())
    want = n - live_labelled
    if want <= 0:
        return hits.iloc[:0]
    hits = hits[~hits["key"].isin(have)]
    queues, files = _file_queues(hits, rng)
    return hits.loc[_round_robin(queues, files, want)]


def _file_queues(hits: pd.DataFrame, rng: random.Random) -> tuple[dict, list]:
    """Each file's findings in a seeded order, and the files in a seeded order."""
    queues = {}
    for file, group in hits.groupby("file", sort=True):
        order = list(group.index)
        rng.shuffle(order)
        queues[file] = order
    files = sorted(queues)
    rng.shuffle(files)
    return queues, files


def _round_robin(queues: dict, files: list, n: int) -> list:
    """Up to n findings, one per file in turn, so that no file fills the sample."""
    picked = []
    while len(picked) < n and any(queues.values()):
        for file in files:
            if queues[file] and len(picked) < n:
                picked.append(queues[file].pop(0))
    return picked


def fresh_sample(findings: pd.DataFrame, rule: str, n: int, have: set[str]) -> pd.DataFrame:
    """n findings of a rule nobody has labelled, whatever the labels already there: one per
    file in turn, the files with the fewest labels of the rule first (seeded order within
    each count), so that neither the biggest file nor the files labelled before fill it."""
    rng = random.Random(f"{SEED}:fresh:{rule}")
    hits = findings[findings["rule"].eq(rule)].copy()
    hits["key"] = keyed(hits)
    # suggest_accuracy.py names corpus files without their folder: the same finding.
    seen = {k.removeprefix("corpus/") for k in have}
    known = hits["key"].str.removeprefix("corpus/").isin(seen)
    labelled = hits[known].groupby("file").size()
    hits = hits[~known & ~hits["key"].duplicated()]
    queues, files = _file_queues(hits, rng)
    files.sort(key=lambda f: int(labelled.get(f, 0)))
    return hits.loc[_round_robin(queues, files, n)]


def write_fresh(
    findings: pd.DataFrame, n: int, draw: str, context: Path | None, only: list[str] | None
) -> None:
    """Append, per error and warning rule (or the rules in `only`), n findings not yet labelled
    to its label file (empty label) and their keys to labels/draws/<draw>.csv."""
    rules = [
        r
        for r in sorted(findings["rule"].unique())
        if RULES[r].severity.value in ("error", "warning") and r not in MEASURED_ELSEWHERE
    ]
    if only:
        rules = [r for r in rules if r in only]
    DRAWS.mkdir(parents=True, exist_ok=True)
    drawn = []
    for rule in rules:
        old = read_labels(rule)
        new = fresh_sample(findings, rule, n, set(keyed(old)) if len(old) else set())
        print(f"{rule}: {len(new)} fresh", file=sys.stderr)
        if new.empty:
            continue
        rows = new.assign(label="", reason="")
        rows["row"] = rows["row"].map(lambda r: text(r).removesuffix(".0"))
        rows = rows[COLUMNS].map(text)
        merged = pd.concat([old, rows], ignore_index=True) if len(old) else rows
        merged.to_csv(label_path(rule), index=False, quoting=csv.QUOTE_MINIMAL)
        drawn.append(rows[KEY])
        if context is not None:
            write_context(findings, rule, set(keyed(rows)), context)
    if drawn:
        out = DRAWS / f"{draw}.csv"
        frame = pd.concat(drawn, ignore_index=True)
        if out.exists():
            frame = pd.concat([pd.read_csv(out, dtype="str", keep_default_na=False), frame])
        frame.drop_duplicates().to_csv(out, index=False)


def write_context(findings: pd.DataFrame, rule: str, keys: set[str], context: Path) -> None:
    context.mkdir(parents=True, exist_ok=True)  # named by rule id
    hits = findings[findings["rule"].eq(rule)]
    hits = hits[keyed(hits).isin(keys)]
    cols = [
        "file",
        "row",
        "rule",
        "value",
        "suggested",
        "line_description",
        "line_revenue_code",
        "line_coded_hcpcs",
        "line_coded_modifiers",
        "line_price",
        "column",
        "message",
    ]
    hits[cols].to_csv(context / f"{rule}.csv", index=False)


def write_samples(
    findings: pd.DataFrame, files: pd.DataFrame, n: int, n_loud: int, context: Path | None
) -> None:
    """Per rule, n findings spread over the files; and, where a warning rule fires on more
    than 100 of 1,000 lines of a file (the issue's flood line), n_loud more from that file, so
    that its precision there is measured too."""
    LABELS.mkdir(parents=True, exist_ok=True)
    rules = [
        r
        for r in sorted(findings["rule"].unique())
        if RULES[r].severity.value in ("error", "warning") and r not in SAMPLED_ELSEWHERE
    ]
    loud = noise(findings, files)
    loud = loud[loud["per_1000"].gt(100) & loud["severity"].eq("warning")]
    live = set(keyed(findings))
    for rule in rules:
        old = read_labels(rule)
        if len(old):  # a sampled row nobody labelled, whose finding is gone, is dropped
            old = old[old["label"].ne("") | keyed(old).isin(live)]
        have = set(keyed(old)) if len(old) else set()
        new = sample(findings, rule, n, have)
        for file in loud.loc[loud["rule"].eq(rule), "file"]:
            taken = have | set(keyed(new))
            in_file = findings[findings["file"].eq(file)]
            labelled = int(keyed(in_file[in_file["rule"].eq(rule)]).isin(taken).sum())
            extra = sample(in_file, rule, n_loud, taken) if labelled < n_loud else None
            if extra is not None and len(extra):
                new = pd.concat([new, extra.iloc[: n_loud - labelled]])
        rows = new.assign(label="", reason="")
        rows["row"] = rows["row"].map(lambda r: text(r).removesuffix(".0"))
        rows = rows[COLUMNS].map(text)
        merged = pd.concat([old, rows], ignore_index=True) if len(old) else rows
        if len(merged):
            merged.to_csv(label_path(rule), index=False, quoting=csv.QUOTE_MINIMAL)
        if context is not None:
            write_context(findings, rule, set(keyed(merged)), context)


def report(
    findings: pd.DataFrame | None, keep: set[str] | None = None, drop: set[str] | None = None
) -> pd.DataFrame:
    """Precision per rule from the label files; with findings, only labels still firing. A
    rule these runs do not exercise (a fee schedule not loaded here) keeps all its labels and
    shows no "gone" count. `keep` / `drop` restrict the labels to / away from a set of keys
    (a draw)."""
    live = set(keyed(findings)) if findings is not None else None
    ran = set(findings["rule"]) if findings is not None else set()
    rows = []
    for path in sorted(LABELS.glob("*.csv")):
        labels = pd.read_csv(path, dtype="str", keep_default_na=False)
        if labels.empty or "label" not in labels:
            continue
        labels = labels[labels["label"].isin(["right", "wrong", "debatable"])]
        if keep is not None and len(labels):
            labels = labels[keyed(labels).isin(keep).to_numpy()]
        if drop is not None and len(labels):
            labels = labels[~keyed(labels).isin(drop).to_numpy()]
        gone = None
        measured = not (set(labels["rule"]) & (set(MEASURED_ELSEWHERE) - ran))
        if live is not None and len(labels) and measured:
            fires = keyed(labels).isin(live).to_numpy()
            gone = int((~fires).sum())
            # Every finding labelled is gone: the rule no longer fires (the suggestions' labels
            # are keyed on their own, see SAMPLED_ELSEWHERE).
            if not fires.any() and not set(labels["rule"]) & SAMPLED_ELSEWHERE:
                rows.append(_silent(labels, gone))
            labels = labels[fires]
        for rule, group in labels.groupby("rule"):
            counts = group["label"].value_counts()
            right, wrong, deb = (int(counts.get(k, 0)) for k in ("right", "wrong", "debatable"))
            n = right + wrong + deb
            rows.append(
                {
                    "rule": rule,
                    "severity": RULES[rule].severity.value if rule in RULES else "",
                    "n": n,
                    "right": right,
                    "wrong": wrong,
                    "debatable": deb,
                    "precision": round((right + deb / 2) / n, 3) if n else None,
                    "files": group["file"].nunique(),
                    "gone": gone,
                }
            )
    return pd.DataFrame(rows)


def _silent(labels: pd.DataFrame, gone: int) -> dict:
    """The row of a rule none of whose labelled findings fires any more."""
    rule = labels["rule"].iloc[0]
    severity = RULES[rule].severity.value if rule in RULES else ""
    zero = {"n": 0, "right": 0, "wrong": 0, "debatable": 0, "precision": None, "files": 0}
    return {"rule": rule, "severity": severity, **zero, "gone": gone}


def draw_keys(draw: str | None) -> tuple[str, set[str]] | None:
    """The keys of a draw (labels/draws/<draw>.csv; default the last by name)."""
    paths = sorted(DRAWS.glob("*.csv")) if DRAWS.exists() else []
    if draw is not None:
        paths = [p for p in paths if p.stem == draw]
    if not paths:
        return None
    frame = pd.read_csv(paths[-1], dtype="str", keep_default_na=False)
    return paths[-1].stem, set(keyed(frame)) if len(frame) else set()


def split_table(findings: pd.DataFrame | None, draw: str | None) -> pd.DataFrame | None:
    """Per rule: the labels drawn before (old), those of the draw (fresh), and both, each as
    n right/wrong/debatable precision; debatable counts half."""
    keys = draw_keys(draw)
    if keys is None:
        return None
    name, fresh = keys
    parts = {"old": report(findings, drop=fresh), name: report(findings, keep=fresh)}
    parts["combined"] = report(findings)
    out = None
    for part, table in parts.items():
        if table.empty:
            continue
        table = table.set_index("rule")
        cell = (
            table["n"].astype(str)
            + " "
            + table["right"].astype(str)
            + "/"
            + table["wrong"].astype(str)
            + "/"
            + table["debatable"].astype(str)
            + " "
            + table["precision"].map(lambda p: f"{p:.2f}")
        ).rename(f"{part}: n r/w/d prec")
        out = cell.to_frame() if out is None else out.join(cell, how="outer")
    return out.fillna("-").reset_index() if out is not None else None


def loud_precision(findings: pd.DataFrame, files: pd.DataFrame) -> pd.DataFrame:
    """Warning rules above 100 findings per 1,000 lines of a file, with the precision of the
    labels from that file."""
    loud = noise(findings, files)
    loud = loud[loud["per_1000"].gt(100) & loud["severity"].eq("warning")]
    rows = []
    for rule, file, per_1000 in zip(loud["rule"], loud["file"], loud["per_1000"], strict=True):
        labels = read_labels(rule)
        labels = labels[labels["file"].eq(file) & labels["label"].ne("")]
        counts = labels["label"].value_counts()
        n = len(labels)
        score = (counts.get("right", 0) + counts.get("debatable", 0) / 2) / n if n else None
        rows.append(
            {
                "rule": rule,
                "file": file,
                "per_1000": per_1000,
                "n": n,
                "precision": round(score, 3) if n else None,
            }
        )
    return pd.DataFrame(rows)


def noise(findings: pd.DataFrame, files: pd.DataFrame) -> pd.DataFrame:
    """Findings per 1,000 lines, per rule and file (error and warning rules)."""
    lines = files.set_index("file")["lines"]
    counts = findings.groupby(["file", "rule"]).size().rename("findings").reset_index()
    counts["lines"] = counts["file"].map(lines)
    counts["per_1000"] = (1000 * counts["findings"] / counts["lines"]).round(1)
    counts["severity"] = counts["rule"].map(lambda r: RULES[r].severity.value)
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-rule", type=int, default=20, help="sample size per rule")
    ap.add_argument(
        "--per-loud-file",
        type=int,
        default=10,
        help="labels per file where a warning rule fires on over 100 per 1,000 lines",
    )
    ap.add_argument("--report-only", action="store_true", help="no run, no new sample")
    ap.add_argument(
        "--fresh",
        type=int,
        help="draw this many findings per rule that nobody has labelled, whatever is labelled",
    )
    ap.add_argument("--rule", action="append", help="with --fresh: only this rule (repeat)")
    ap.add_argument(
        "--draw",
        help="name of the fresh draw (labels/draws/NAME.csv); the report splits old / NAME",
    )
    ap.add_argument("--cache", type=Path, help="keep (or reuse) the run's findings here")
    ap.add_argument("--context", type=Path, help="write the sampled lines' context here")
    ap.add_argument("--noise", type=Path, help="write findings per 1,000 lines here (CSV)")
    ap.add_argument(
        "--addendum-b",
        type=Path,
        action="append",
        help="Addendum B releases [default: every one in ../shared/realdata/hcpcs]",
    )
    args = ap.parse_args(argv)
    findings = None
    if args.report_only and args.cache is not None and (args.cache / "findings.pkl").exists():
        # A cached run: count only the labels whose finding still fires, as a full run does.
        findings = pd.read_pickle(args.cache / "findings.pkl")
        table = report(findings)
        table = table[~table["rule"].isin(MEASURED_ELSEWHERE)]
    elif args.report_only:
        print("every label, firing or not (--cache DIR of a run counts only those that fire)")
        table = report(None)
    else:
        addendum_b = tuple(args.addendum_b or (REAL / "hcpcs",))
        findings, files = run_all(addendum_b, args.cache)
        skipped = files[files["skipped"].ne("")]
        print(f"{len(files) - len(skipped)} files read, {len(skipped)} skipped (exit 2)")
        if args.fresh:
            if not args.draw:
                raise SystemExit("error: --fresh needs --draw NAME")
            write_fresh(findings, args.fresh, args.draw, args.context, args.rule)
        else:
            write_samples(findings, files, args.per_rule, args.per_loud_file, args.context)
        if args.noise is not None:
            noise(findings, files).to_csv(args.noise, index=False)
        table = report(findings)
        for rule, how in MEASURED_ELSEWHERE.items():
            if len(table) and table["rule"].eq(rule).any():
                table = table[table["rule"].ne(rule)]
                print(f"{rule}: measured with a fee schedule loaded: {how}")
        loud = loud_precision(findings, files)
        if len(loud):
            print("warning rules above 100 per 1,000 lines of a file:")
            print(loud.to_string(index=False))
    if table.empty:
        print("no labels yet")
        return 0
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        print(table.to_string(index=False))
    n = int(table["n"].sum())
    score = (table["right"].sum() + table["debatable"].sum() / 2) / n if n else 0
    print(f"labelled findings: {n}; overall precision {score:.3f}")
    split = split_table(findings, args.draw)
    if split is not None:
        table_rules = set(table["rule"])
        split = split[split["rule"].isin(table_rules)]
        print("\nold labels / fresh draw / combined (n right/wrong/debatable precision):")
        with pd.option_context("display.width", 160, "display.max_rows", 200):
            print(split.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
