"""How far the suggestions and DESCRIPTION-CODE-CONFLICT can be trusted, on real chargemasters.

Three modes (REAL defaults to ../shared/realdata beside the checkout):

  python benchmarks/suggest_accuracy.py [REAL]            top-1 / top-3 accuracy
  python benchmarks/suggest_accuracy.py --sample [REAL]   refresh the label files' samples
  python benchmarks/suggest_accuracy.py --labels          precision from the labels, threshold
      [--cache DIR]                                       ... and of what Issues shows now
  python benchmarks/suggest_accuracy.py --recheck [REAL]  which labelled suggestions are still made
  python benchmarks/suggest_accuracy.py --calibrate [REAL]  precision against the score cut

Accuracy: for each real chargemaster in REAL/cdm (with OPPS Addendum B April 2026 loaded), hide
the code of every active ancillary line that carries a valid one, suggest, and count how often
the hidden code is the first candidate (top-1) or among the three (top-3): overall and for lab,
radiology and Level II lines; plus the time per 1,000 lines.

Sample: run the tool on the real files and a few of the corpus, and draw (fixed seed, stratified
by file; suggestions also by score band) DESCRIPTION-CODE-CONFLICT findings and the first
candidate of uncoded lines into benchmarks/labels/description_code_conflict.csv and
hcpcs_suggested.csv. Labels already given to the same finding with the same suggestion are
kept; a finding whose suggestion changed gets an empty label, to be judged again by hand.

Labels: precision per rule (debatable counts half) and, for the first candidate, precision
against score, which sets suggest.SHOW_SCORE.
"""

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import pandas as pd

# Measure the checkout this file lives in, not whichever chargemaster is installed.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chargemaster import suggest  # noqa: E402
from chargemaster.config import load_config  # noqa: E402
from chargemaster.pipeline import RunOptions, run  # noqa: E402
from chargemaster.refcheck import code_status  # noqa: E402
from chargemaster.rules import code_family  # noqa: E402
from chargemaster.suggest import Suggester, local_index, reference_catalog  # noqa: E402

AS_OF = dt.date(2026, 4, 1)
FILES = [
    "ca_barton_memorial_2018_cdm.xlsx",
    "ca_los_robles_2018_cdm.xlsx",
    "pa_hahnemann_2018_cdm.xlsx",
    "ca_healthsouth_modesto_2018_cdm.xls",
    "ca_uc_davis_2019_cdm.csv",
    "tx_md_anderson_2018_hospital_charges.csv",
]
# Corpus files the tool reads that have uncoded ancillary lines or coded imaging lines.
CORPUS = [
    "ca_chomp_monterey_2018_cdm_all.xlsx",
    "ca_redwood_memorial_2018_cdm_all.xlsx",
    "ca_barlow_respiratory_2018_cdm.xls",
    "ca_eastern_plumas_2018_cdm.xls",
    "ca_jerold_phelps_2018_cdm.xls",
    "ca_colorado_river_2018_cdm.csv",
    "ca_sutter_lakeside_2022_standard_charges.csv",
    "ca_usc_norris_2018_cdm_all.xlsx",
]
LABELS = ROOT / "benchmarks" / "labels"
CONFLICT_LABELS = LABELS / "description_code_conflict.csv"
SUGGEST_LABELS = LABELS / "hcpcs_suggested.csv"
COLUMNS = ["file", "row", "rule", "value", "suggested", "label", "reason"]
SEED = 11
# Score bands and how many first candidates to draw per file from each, so that precision can
# be read against score (more from the top band, where the threshold is expected).
BANDS = [(0.0, 0.6, 2), (0.6, 0.75, 2), (0.75, 1.01, 8)]
CONFLICTS_PER_FILE = 12


def issues_first(description: str, cands: list[tuple[str, float, str]]) -> str | None:
    """The first candidate the report's Issues sheet would show for a line, or None: the
    report's gate (suggest_findings): among the candidates a catch-all line may show
    (suggest.shows), the first, when it scores suggest.SHOW_SCORE or more."""
    shown = [c for c in cands if suggest.shows(description, c[0])]
    return shown[0][0] if shown and shown[0][1] >= suggest.SHOW_SCORE else None


def trials(real: Path, paths: list[Path]) -> pd.DataFrame:
    """Per line with a hidden valid code: the suggestions' top-1 / top-3 hits and the first
    candidate Issues would show at any score (``first_score``) and whether it is the code."""
    addendum_b = real / "hcpcs" / "OPPS_AddendumB_2026_April_softek.csv"
    totals = []
    for path in paths:
        name = path.name
        result = run(RunOptions(path, addendum_b=addendum_b, as_of=AS_OF))
        frame, ref, config = result.lines.frame, result.reference, result.config
        code = frame["coded_hcpcs"]
        status = code_status(code, ref, AS_OF)
        valid = status["known"].fillna(False).astype(bool) & ~status["deleted"]
        hidden = (
            frame["active"]
            & frame["ancillary"]
            & code.notna()
            & valid
            & frame["description"].notna()
        )
        known = frame[~hidden & code.notna() & valid & frame["description"].notna()]
        suggester = Suggester(reference_catalog(ref, config, AS_OF), config, local_index(known))
        rows = frame[hidden]
        started = time.perf_counter()
        items = [
            (d, None if pd.isna(f) else f)
            for d, f in zip(rows["description"], rows["family"], strict=True)
        ]
        results = suggester.candidates_many(items)
        for desc, truth, cands in zip(
            rows["description"], rows["coded_hcpcs"], results, strict=True
        ):
            codes = [c for c, _, _ in cands]
            first = issues_first(desc, cands)
            gated = [c for c in cands if suggest.shows(desc, c[0])][:1]
            totals.append(
                {
                    "file": name,
                    "truth": truth,
                    "top1": codes[:1] == [truth],
                    "top3": truth in codes,
                    "shown": first is not None,
                    "shown_right": first == truth,
                    "first_score": gated[0][1] if gated else None,
                    "first_right": bool(gated) and gated[0][0] == truth,
                }
            )
        seconds = time.perf_counter() - started
        n = len(rows)
        print(f"{name}: {n:,} lines, {seconds / max(n, 1) * 1000:.2f} s per 1,000 lines")

    return pd.DataFrame(totals)


def accuracy(real: Path) -> None:
    df = trials(real, [real / "cdm" / name for name in FILES])
    families = load_config(None).code_families
    df["kind"] = code_family(df["truth"].astype("str"), families).fillna("other")
    df.loc[df["truth"].str.fullmatch(r"[A-Z]\d{4}"), "kind"] = "level II"

    def line(label, part):
        return (
            f"{label:<10} n={len(part):>6,}  top-1 {part['top1'].mean():.3f}  "
            f"top-3 {part['top3'].mean():.3f}"
        )

    print(line("overall", df))
    for kind in ("lab", "radiology", "level II", "drugs", "other"):
        part = df[df["kind"].eq(kind)]
        if len(part):
            print(line(kind, part))
    # Precision of the first candidate Issues would show, by exact match with the hidden code:
    # strict (a neighbouring code, e.g. the 2-view x-ray for a 3-view line, counts wrong), so a
    # floor for the hand-labelled precision of HCPCS-SUGGESTED.
    print("first candidate shown in Issues (exact match with the hidden code):")
    for kind in ("overall", "lab", "radiology", "level II", "drugs", "other"):
        part = df if kind == "overall" else df[df["kind"].eq(kind)]
        shown = part[part["shown"]]
        if len(shown):
            print(
                f"  {kind:<10} n={len(shown):>6,} of {len(part):>6,} lines  "
                f"precision {shown['shown_right'].mean():.3f}"
            )
    # A pooled figure can hide one file where the suggestions fail: the worst file is the one
    # a hospital never seen here is most likely to resemble.
    print("per file (worst top-3 first):")
    rows = []
    for name, part in df.groupby("file"):
        shown = part[part["shown"]]
        precision = f"{shown['shown_right'].mean():.3f}" if len(shown) else "-"
        top1, top3 = part["top1"].mean(), part["top3"].mean()
        rows.append((top3, name, len(part), top1, len(shown), precision))
    for top3, name, n, top1, n_shown, precision in sorted(rows):
        print(
            f"  {name:<42} n={n:>6,}  top-1 {top1:.3f}  top-3 {top3:.3f}  "
            f"shown n={n_shown:>5,} precision {precision}"
        )


def calibrate(real: Path) -> None:
    """Exact-match precision of the first candidate Issues would show, against the score cut,
    over the real files and the corpus files with coded ancillary lines: pooled, the mean of
    the files and the worst file. It sets suggest.SHOW_SCORE (a floor: see accuracy)."""
    paths = [real / "cdm" / f for f in FILES] + [real / "cdm" / "corpus" / f for f in CORPUS]
    df = trials(real, paths).dropna(subset=["first_score"])
    print(f"lines with a hidden code and a candidate Issues may show: {len(df):,}")
    print(f"suggest.SHOW_SCORE = {suggest.SHOW_SCORE}")
    print("cut    shown  precision  mean of files  worst file  files under 0.8")
    for cut in (0.60, 0.65, 0.70, 0.72, 0.74, 0.76, 0.78, 0.80, 0.82, 0.85, 0.90):
        part = df[df["first_score"].ge(cut)]
        per_file = part.groupby("file")["first_right"].mean()
        print(
            f"{cut:.2f} {len(part):>8,}  {part['first_right'].mean():>9.3f}  "
            f"{per_file.mean():>13.3f}  {per_file.min():>10.3f}  "
            f"{int(per_file.lt(0.8).sum()):>3} of {len(per_file)}"
        )


def _merge(new: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Keep a label already given to the same finding with the same suggestion."""
    key = ["file", "row", "rule", "value", "suggested"]
    if path.exists():
        old = pd.read_csv(path, dtype="str", keep_default_na=False)
        new = new.drop(columns=["label", "reason"]).merge(
            old[[*key, "label", "reason"]], on=key, how="left"
        )
    return new.fillna({"label": "", "reason": ""})[COLUMNS]


def sample(real: Path) -> None:
    addendum_b = real / "hcpcs" / "OPPS_AddendumB_2026_April_softek.csv"
    paths = [real / "cdm" / f for f in FILES] + [real / "cdm" / "corpus" / f for f in CORPUS]
    conflicts, firsts, review = [], [], []
    for path in paths:
        result = run(RunOptions(path, addendum_b=addendum_b, as_of=AS_OF))
        frame, found = result.lines.frame, result.findings
        dcc = found[found["rule"].eq("DESCRIPTION-CODE-CONFLICT")]
        dcc = dcc.sample(min(len(dcc), CONFLICTS_PER_FILE), random_state=SEED)
        for f in dcc.itertuples():
            conflicts.append([path.name, f.row, f.rule, f.value, f.suggested or "", "", ""])
            review.append(f"C {path.name} {f.row}: {f.message}")
        table = result.suggestions
        first = table[table["Rank"].eq(1)]
        for low, high, per_band in BANDS:
            band = first[first["Score"].ge(low) & first["Score"].lt(high)]
            for s in band.sample(min(len(band), per_band), random_state=SEED).itertuples():
                firsts.append(
                    [
                        path.name,
                        s.Row,
                        "HCPCS-SUGGESTED",
                        s.Description,
                        f"{s.HCPCS} ({s.Score:.2f})",
                        "",
                        "",
                    ]  # fmt: skip
                )
                rev = frame.at[s.Row, "revenue_code"] if "revenue_code" in frame else None
                review.append(
                    f"S {path.name} {s.Row} rev={rev} fam={frame.at[s.Row, 'family']}: "
                    f"{s.Description!r} -> {s.HCPCS} ({s.Score:.2f}) {s.Reason}"
                )
    LABELS.mkdir(parents=True, exist_ok=True)
    for rows, path in ((conflicts, CONFLICT_LABELS), (firsts, SUGGEST_LABELS)):
        out = _merge(pd.DataFrame(rows, columns=COLUMNS).astype("str"), path)
        out.to_csv(path, index=False)
        print(f"{path.relative_to(ROOT)}: {len(out)} rows, {out['label'].eq('').sum()} to label")
    print("\n".join(review))


def recheck(real: Path) -> None:
    """Which labelled first candidates the current code still makes (same code and score, same
    run as --sample), and the precision of those shown in Issues: a label on a suggestion that
    is no longer made measures nothing."""
    addendum_b = real / "hcpcs" / "OPPS_AddendumB_2026_April_softek.csv"
    labels = pd.read_csv(SUGGEST_LABELS, dtype="str", keep_default_na=False)
    labels = labels[labels["label"].ne("")]
    # Only the --sample runs (as of AS_OF, one Addendum B): the fresh draws (labels/draws) come
    # from precision.py's runs (as of the CDM year, every release) and are measured there.
    drawn = set()
    for draw in (LABELS / "draws").glob("*.csv"):
        keys = pd.read_csv(draw, dtype="str", keep_default_na=False)
        drawn |= set(keys[["file", "row", "rule"]].itertuples(index=False, name=None))
    cells = labels[["file", "row", "rule"]].itertuples(index=False, name=None)
    labels = labels[[k not in drawn for k in cells]]
    now = []
    for name, group in labels.groupby("file"):
        path = real / "cdm" / name
        if not path.exists():
            path = real / "cdm" / "corpus" / name
        result = run(RunOptions(path, addendum_b=addendum_b, as_of=AS_OF))
        first = result.suggestions[result.suggestions["Rank"].eq(1)].set_index("Row")
        for row in group["row"]:
            r = int(row)
            hit = first.loc[r] if r in first.index else None
            now.append("" if hit is None else f"{hit['HCPCS']} ({hit['Score']:.2f})")
    labels = labels.sort_values("file", kind="stable").assign(now=now)
    kept = labels[labels["now"].eq(labels["suggested"])]
    print(f"labelled first candidates still made: {len(kept)} of {len(labels)}")
    score = kept["suggested"].str.extract(r"\(([\d.]+)\)")[0].astype(float)
    shown = kept[score.ge(suggest.SHOW_SCORE)]
    if len(shown):
        p = _precision(shown["label"])
        print(f"  of them shown in Issues: n={len(shown)}, precision {p:.3f}")
    else:
        print("  none of them shown in Issues")


def _precision(labels: pd.Series) -> float:
    points = labels.map({"right": 1.0, "debatable": 0.5, "wrong": 0.0})
    return float(points.mean())


def precision() -> None:
    for path in (CONFLICT_LABELS, SUGGEST_LABELS):
        df = pd.read_csv(path, dtype="str", keep_default_na=False)
        done = df[df["label"].ne("")]
        print(
            f"{path.name}: n={len(done)} labelled of {len(df)}, precision "
            f"{_precision(done['label']):.3f} (right {done['label'].eq('right').sum()}, "
            f"debatable {done['label'].eq('debatable').sum()}, "
            f"wrong {done['label'].eq('wrong').sum()})"
        )
    conflicts = pd.read_csv(CONFLICT_LABELS, dtype="str", keep_default_na=False)
    named = conflicts[conflicts["suggested"].ne("") & conflicts["label"].ne("")]
    if len(named):
        print(
            f"  conflicts naming a code: n={len(named)}, precision {_precision(named['label']):.3f}"
        )
    df = pd.read_csv(SUGGEST_LABELS, dtype="str", keep_default_na=False)
    df = df[df["label"].ne("")]
    df["score"] = df["suggested"].str.extract(r"\(([\d.]+)\)")[0].astype(float)
    print("first candidate: precision at and above each score (shown in Issues from there)")
    best = None
    for t in sorted(df["score"].unique()):
        above = df[df["score"].ge(t)]
        p = _precision(above["label"])
        print(f"  score >= {t:.2f}: n={len(above):>3}  precision {p:.3f}")
        if best is None and p >= 0.8:
            best = t
    print(f"lowest score where the first candidate is right at least 8 times in 10: {best}")
    print(f"suggest.SHOW_SCORE = {suggest.SHOW_SCORE}")
    shown = df[df["score"].ge(suggest.SHOW_SCORE)]
    print(f"shown in Issues: n={len(shown)}, precision {_precision(shown['label']):.3f}")
    # Fresh draws (labels/draws/<name>.csv, written by precision.py --fresh or by hand): the
    # figure on findings nobody had looked at when the threshold was set.
    for draw in sorted((LABELS / "draws").glob("*.csv")):
        keys = pd.read_csv(draw, dtype="str", keep_default_na=False)
        keys = set(keys[["file", "row", "rule", "value"]].itertuples(index=False, name=None))
        for name, frame in (("suggestions", shown), ("conflicts", conflicts)):
            frame = frame[frame["label"].ne("")]
            cells = frame[["file", "row", "rule", "value"]].itertuples(index=False, name=None)
            fresh = pd.Series([k in keys for k in cells], index=frame.index, dtype=bool)
            parts = {"old": frame[~fresh], draw.stem: frame[fresh], "combined": frame}
            print(
                f"  {name} shown, old / {draw.stem} / combined: "
                + "; ".join(
                    f"{k} n={len(v)} {_precision(v['label']):.3f}" if len(v) else f"{k} n=0"
                    for k, v in parts.items()
                )
            )


def shown_now(cache: Path) -> None:
    """Precision of the first candidates Issues shows now, in a precision.py run (--cache DIR):
    only labels given to the same line with the same first candidate count, so a
    label on a suggestion the code no longer makes measures nothing. Each label goes to the
    last draw holding its key (a line whose suggestion changed is labelled again in a later
    draw); labels in no draw are 'old'."""
    found = pd.read_pickle(cache / "findings.pkl")
    found = found[found["rule"].eq("HCPCS-SUGGESTED")]
    # The first candidate's code, not its score: the label judges the code.
    now = {
        (f.removeprefix("corpus/"), str(r), v.split(" ")[0])
        for f, r, v in zip(found["file"], found["row"], found["value"], strict=True)
    }
    labels = pd.read_csv(SUGGEST_LABELS, dtype="str", keep_default_na=False)
    labels = labels[labels["label"].ne("")]
    code = labels["suggested"].str.split(" ").str[0]
    cells = zip(labels["file"].str.removeprefix("corpus/"), labels["row"], code, strict=True)
    labels = labels[[k in now for k in cells]]
    labels = labels[~labels.assign(code=code).duplicated(["file", "row", "code"], keep="last")]
    owner = pd.Series("old", index=labels.index)
    for draw in sorted((LABELS / "draws").glob("*.csv")):
        keys = pd.read_csv(draw, dtype="str", keep_default_na=False)
        keys = set(keys[["file", "row", "rule", "value"]].itertuples(index=False, name=None))
        cells = labels[["file", "row", "rule", "value"]].itertuples(index=False, name=None)
        owner[[k in keys for k in cells]] = draw.stem
    print(f"first candidates shown in Issues now: {len(found)}, labelled {len(labels)}")
    for name in [*dict.fromkeys(owner), "combined"]:
        part = labels if name == "combined" else labels[owner.eq(name)]
        counts = part["label"].value_counts()
        r, w, d = (int(counts.get(k, 0)) for k in ("right", "wrong", "debatable"))
        print(f"  {name}: n={len(part)} {r}/{w}/{d} precision {_precision(part['label']):.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("real", nargs="?", type=Path, default=ROOT.parent / "shared/realdata")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--sample", action="store_true")
    mode.add_argument("--labels", action="store_true")
    mode.add_argument("--recheck", action="store_true")
    mode.add_argument("--calibrate", action="store_true", help="precision against the score cut")
    parser.add_argument(
        "--cache",
        type=Path,
        help="with --labels: a precision.py --cache DIR, to measure what Issues shows now",
    )
    args = parser.parse_args()
    if args.sample:
        sample(args.real)
    elif args.recheck:
        recheck(args.real)
    elif args.calibrate:
        calibrate(args.real)
    elif args.labels:
        precision()
        if args.cache is not None:
            shown_now(args.cache)
    else:
        accuracy(args.real)
