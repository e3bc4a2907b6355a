"""Reference code sets: the CMS HCPCS file (xlsx and fixed-width txt), OPPS Addendum B, code
lists, the bundled default; and the rules they enable, with dates on both sides of each edge."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from chargemaster.errors import InputError
from chargemaster.refcheck import code_status
from chargemaster.reference import (
    bundled,
    load_reference,
    quarter_end,
    read_addendum_b,
    read_cms_hcpcs,
    read_code_list,
    release_from_name,
)
from tests.conftest import REALDATA, line, needs_shared

COLS = [
    "HCPC",
    "SEQNUM",
    "RECID",
    "LONG DESCRIPTION",
    "SHORT DESCRIPTION",
    "XREF1",
    "ADD DT",
    "ACT EFF DT",
    "TERM DT",
    "ACTION CD",
]


def cms_xlsx(path, header_at=11):
    """A CMS-shaped workbook: note rows, blank rows, the header on `header_at`, text dates."""
    wb = Workbook()
    ws = wb.active
    ws.title = "A"
    ws.append(["Note regarding coverage and payment indicators"])
    for _ in range(header_at - 2):
        ws.append([])
    ws.append(COLS)
    rows = [
        [
            "   A1",
            "0010",
            "7",
            "Dressing for one wound",
            "Dressing for one wound",
            "",
            "20020701",
            "20020701",
            "",
            "N",
        ],
        [
            "   ZA",
            "0010",
            7.0,
            "Novartis/sandoz",
            "Novartis/sandoz",
            "",
            "20150701",
            "20150701",
            "20180331",
            "N",
        ],
        [
            "G0202",
            "0010",
            "3",
            "Screening mammography, bilateral",
            "Scr mammo bi incl cad",
            "77067",
            "20010401",
            "20180101",
            "20171231",
            "N",
        ],
        [
            "G0503",
            "0010",
            "3",
            "Subsequent psychiatric collaborative care",
            "Subseq psych",
            "",
            "20170101",
            "20170101",
            "",
            "N",
        ],
        ["G0503", "0020", "4", "management, first 60 minutes", "", "", "", "", "", ""],
        [
            "C9060",
            "0010",
            "3",
            "Fluoroestradiol f18, diagnostic, 1 mci",
            "Fluoroestradiol f18",
            "",
            "20201001",
            "20201001",
            "",
            "A",
        ],
        [
            "J3490",
            "0010",
            "3",
            "Unclassified drugs",
            "Drugs unclassified injection",
            "",
            "19840101",
            "19840101",
            "",
            "N",
        ],
    ]
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_cms_xlsx_with_moving_header(tmp_path):
    level2, mods, rel, rel_mods = read_cms_hcpcs(cms_xlsx(tmp_path / "HCPC2020_OCT_ANWEB.xlsx"))
    assert sorted(level2.index) == ["C9060", "G0202", "G0503", "J3490"]
    assert sorted(mods.index) == ["A1", "ZA"]  # 3 leading blanks gone, RECID 7.0 read as 7
    assert level2.loc["G0202", "term_date"] == pd.Timestamp("2017-12-31")
    assert level2.loc["G0202", "xref"] == "77067"
    assert level2.loc["G0503", "long_description"].endswith("management, first 60 minutes")
    assert mods.loc["ZA", "term_date"] == pd.Timestamp("2018-03-31")
    assert (rel.start, rel.valid_through) == (dt.date(2020, 10, 1), dt.date(2020, 12, 31))
    level2_row1, *_ = read_cms_hcpcs(cms_xlsx(tmp_path / "other.xlsx", header_at=1))
    assert len(level2_row1) == 4
    assert rel_mods.count == 2


def fixed_width(code, recid, long, short="", xref="", add="", eff="", term="", action="N"):
    rec = [" "] * 320
    for pos, value in (
        (0, code),
        (5, "00100"),
        (10, recid),
        (11, long),
        (91, short),
        (204, xref),
        (268, add),
        (276, eff),
        (284, term),
        (292, action),
    ):
        rec[pos : pos + len(value)] = value
    return "".join(rec)


def test_cms_fixed_width_txt(tmp_path):
    lines = [
        "HCPCS 2020 disclaimer line",
        "CPT only copyright 2019 American Medical Association",
        fixed_width("   TC", "7", "Technical component", add="19900101"),
        fixed_width(
            "G0202",
            "3",
            "Screening mammography, bilateral (2-view",
            "Scr mammo",
            "77067",
            "20010401",
            "20180101",
            "20171231",
        ),
        fixed_width("G0202", "4", "study of each breast)\u00a0"),
        fixed_width(
            "J1885",
            "3",
            "Injection, ketorolac tromethamine, per 15 mg",
            "Ketorolac inj",
            add="19930101",
        ),
    ]
    path = tmp_path / "HCPC2020_OCT_ANWEB.txt"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    level2, mods, rel, _ = read_cms_hcpcs(path)
    assert sorted(level2.index) == ["G0202", "J1885"] and list(mods.index) == ["TC"]
    assert level2.loc["G0202", "long_description"] == (
        "Screening mammography, bilateral (2-view study of each breast)"
    )
    assert level2.loc["G0202", "term_date"] == pd.Timestamp("2017-12-31")
    assert pd.isna(level2.loc["J1885", "term_date"])
    assert rel.start == dt.date(2020, 10, 1)


def test_addendum_b_workbook_and_csv(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["", "Addendum B.- OPPS Payment by HCPCS Code"])
    ws.append(["", "CPT codes and descriptions only are copyright 2022 AMA"])
    ws.append([])
    ws.append(["HCPCS Code", "Short Descriptor", " SI", "APC ", "Payment Rate"])
    ws.append(["85025", "Complete cbc w/auto diff wbc", "Q4", "", ""])
    ws.append(["77059", "Mri both breasts", "D", "", ""])
    ws.append(["A4341\u00a0", "Cath indw foley 3 way", "N", "", ""])
    wb.save(tmp_path / "2023_January_Web_Addendum_B.xlsx")
    frame, rel = read_addendum_b(tmp_path / "2023_January_Web_Addendum_B.xlsx")
    assert sorted(frame.index) == ["77059", "85025", "A4341"]
    assert frame.loc["77059", "status"] == "D"
    assert rel.start == dt.date(2023, 1, 1)
    csv_path = tmp_path / "sample.csv"
    csv_path.write_bytes(
        b"HCPCSCode,ShortDescriptor,StatusIndicator,PaymentRate,Changed?,Source\r\n"
        b'"G0465\xa0","Autologous prp for ulcers","N",,false,"2026-04"\r\n'
        b'"80053","Comprehen metabolic panel","Q4",,false,"2026-04"\r\n'
    )
    frame, rel = read_addendum_b(csv_path)
    assert sorted(frame.index) == ["80053", "G0465"]
    assert rel.start == dt.date(2026, 4, 1) and rel.valid_through == dt.date(2026, 6, 30)


def test_code_list_and_bad_files(tmp_path):
    path = tmp_path / "cpt.txt"
    path.write_text("code\n85025\n80053 \n\nnot a code\n")
    frame, _ = read_code_list(path)
    assert sorted(frame.index) == ["80053", "85025"]
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not an OPPS Addendum B"):
        read_addendum_b(tmp_path / "x.csv")
    with pytest.raises(InputError, match="not a CMS HCPCS file"):
        read_cms_hcpcs(tmp_path / "x.csv")


def test_release_names():
    from pathlib import Path

    assert release_from_name(Path("HCPC2020_OCT_ANWEB.xlsx")) == dt.date(2020, 10, 1)
    assert release_from_name(Path("HCPC2021_APR_CONTR_ANWEB.xlsx")) == dt.date(2021, 4, 1)
    assert release_from_name(Path("HCPC2019_CONTR_ANWEB.txt")) == dt.date(2019, 1, 1)
    assert release_from_name(Path("OPPS_AddendumB_2026_April.csv")) == dt.date(2026, 4, 1)
    assert release_from_name(Path("codes.csv")) is None
    assert quarter_end(dt.date(2025, 10, 1)) == dt.date(2025, 12, 31)


def test_bundled_reference():
    ref = bundled()
    assert len(ref.level2) > 8000 and "J1885" in ref.level2.index
    assert ref.level2.loc["G0202", "xref"] == "77067"
    assert {"TC", "QW", "GN"} <= set(ref.modifiers.index)
    assert "0300" in ref.revenue and "0308" not in ref.revenue
    assert "J3490" in ref.noc
    assert not ref.checks_cpt


STATUS_CASES = [
    # code, as-of, known, deleted, not_yet
    ("G0202", "2017-12-31", True, False, False),  # the termination date is its last valid day
    ("G0202", "2018-01-01", True, True, False),
    ("C9060", "2020-09-30", True, False, True),  # added the day after
    ("C9060", "2020-10-01", True, False, False),
    ("G0999", "2026-01-01", False, False, False),
    # Added after the dated October 2020 file (no add date): not effective before it...
    ("G2211", "2019-07-01", True, False, True),
    ("G2211", "2024-01-01", True, False, False),  # ...and undatable after it
    ("85025", "2026-01-01", None, False, False),  # CPT: unchecked without Addendum B
]


@pytest.mark.parametrize("code, as_of, known, deleted, not_yet", STATUS_CASES)
def test_code_status_dates(code, as_of, known, deleted, not_yet):
    s = code_status(pd.Series([code], dtype="str"), bundled(), dt.date.fromisoformat(as_of))
    got = s.iloc[0]
    assert (None if pd.isna(got["known"]) else bool(got["known"])) == known
    assert (bool(got["deleted"]), bool(got["not_yet"])) == (deleted, not_yet)


def rules(pairs, row=2):
    return {r for r, w in pairs if w == row}


@pytest.mark.parametrize(
    "as_of, expected",
    [("2017-12-31", set()), ("2018-01-01", {"HCPCS-DELETED"})],
)
def test_deleted_code_boundary_and_replacement(check, as_of, expected):
    pairs, result = check([line(rev="0403", hcpcs="G0202")], as_of=dt.date.fromisoformat(as_of))
    assert rules(pairs) & {"HCPCS-DELETED"} == expected
    if expected:
        f = result.findings.set_index("rule").loc["HCPCS-DELETED"]
        assert f["suggested"] == "77067" and "77067" in f["message"]


@pytest.mark.parametrize("as_of, fires", [("2020-09-30", True), ("2020-10-01", False)])
def test_not_yet_effective_boundary(check, as_of, fires):
    pairs, _ = check([line(rev="0343", hcpcs="C9060")], as_of=dt.date.fromisoformat(as_of))
    assert ("HCPCS-NOT-YET-EFFECTIVE" in rules(pairs)) is fires


@pytest.mark.parametrize("as_of, fires", [("2018-03-31", False), ("2018-04-01", True)])
def test_modifier_deleted_boundary(check, as_of, fires):
    pairs, _ = check(
        [line(rev="0636", hcpcs="J1885", mod="ZA")], as_of=dt.date.fromisoformat(as_of)
    )
    assert ("MODIFIER-DELETED" in rules(pairs)) is fires


@pytest.mark.parametrize("as_of, fires", [("2025-09-30", False), ("2025-10-01", True)])
def test_reference_stale_boundary(check, as_of, fires):
    pairs, _ = check([line()], as_of=dt.date.fromisoformat(as_of))
    assert any(r == "REFERENCE-STALE" for r, _ in pairs) is fires


@pytest.mark.parametrize(
    "rule, bad, good",
    [
        ("HCPCS-UNKNOWN", line(rev="0301", hcpcs="G0999"), line(rev="0301", hcpcs="G0103")),
        ("HCPCS-NOC", line(rev="0636", hcpcs="J3490"), line(rev="0636", hcpcs="J1885")),
        ("REVCODE-UNKNOWN", line(rev="0308"), line(rev="0305")),
        ("REVCODE-UNKNOWN", line(rev="0000"), line(rev="0300")),
        ("MODIFIER-UNKNOWN", line(mod="ZZ"), line(mod="QW")),
        ("MODIFIER-UNKNOWN", line(mod="0Q"), line(mod="91")),
    ],
)
def test_reference_rules(check, rule, bad, good):
    good = list(good)
    good[0] = "2"
    pairs, _ = check([bad, good], as_of=dt.date(2024, 1, 1))
    assert rule in rules(pairs, 2) and rule not in rules(pairs, 3)


def test_cpt_checked_only_with_addendum_b(check, tmp_path):
    pairs, result = check(
        [line(rev="0610", hcpcs="77059"), line(code="2", hcpcs="85025")], as_of=dt.date(2026, 4, 1)
    )
    assert "HCPCS-UNKNOWN" not in rules(pairs) and not result.stats["cpt_checked"]
    add_b = tmp_path / "OPPS_AddendumB_2026_April.csv"
    add_b.write_text("HCPCSCode,ShortDescriptor,StatusIndicator\n85025,Cbc,Q4\n76001,Fluoro,D\n")
    pairs, result = check(
        [
            line(rev="0610", hcpcs="77059"),
            line(code="2", hcpcs="85025"),
            line(code="3", rev="0320", hcpcs="76001"),
        ],
        as_of=dt.date(2026, 4, 1),
        addendum_b=add_b,
    )
    assert "HCPCS-UNKNOWN" in rules(pairs, 2) and not rules(pairs, 3) & {"HCPCS-UNKNOWN"}
    assert "HCPCS-DELETED" in rules(pairs, 4)  # status indicator D
    assert result.stats["cpt_checked"]


def test_map_codes_must_pass_reference_checks(check):
    pairs, result = check(
        [line(hcpcs=""), line(code="2", rev="0403", hcpcs="")],
        code_map=[["30010001", "G0999", ""], ["2", "G0202", ""]],
        as_of=dt.date(2026, 1, 1),
    )
    assert {("MAP-CODE-INVALID", 2), ("MAP-CODE-INVALID", 3)} <= pairs
    assert result.stats["statically_coded"] == 0


def test_user_hcpcs_file_replaces_the_bundled_release(tmp_path):
    ref = load_reference(hcpcs_file=cms_xlsx(tmp_path / "HCPC2027_JAN_ANWEB.xlsx"))
    assert ref.releases[0].name == "CMS HCPCS 2027-01"
    assert "J1885" not in ref.level2.index  # only the file's codes now


@needs_shared
@pytest.mark.slow
def test_real_cms_files():
    level2, mods, rel, _ = read_cms_hcpcs(REALDATA / "hcpcs" / "HCPC2020_OCT_ANWEB.xlsx")
    assert (len(level2), len(mods)) == (6825, 371)
    assert int(level2["term_date"].notna().sum()) == 619
    assert level2["term_date"].min() == pd.Timestamp("2014-06-30")
    assert "management" in level2.loc["G0503", "long_description"]
    assert rel.start == dt.date(2020, 10, 1)
    level2, mods, *_ = read_cms_hcpcs(REALDATA / "hcpcs" / "HCPC2025_JUL_ANWEB_v3_reduced.xlsx")
    assert (len(level2), len(mods)) == (8387, 383)
    frame, rel = read_addendum_b(REALDATA / "hcpcs" / "OPPS_AddendumB_2026_April_softek.csv")
    assert len(frame) == 19059 and {"A4341", "G0465"} <= set(frame.index)
    assert rel.start == dt.date(2026, 4, 1)
    frame, rel = read_addendum_b(REALDATA / "hcpcs" / "OPPS_AddendumB_2023_January.xlsx")
    assert len(frame) == 17559 and rel.start == dt.date(2023, 1, 1)


# --- CPT dating from several OPPS Addendum B releases (issue 11, pattern 8) ---------------


def addendum_csv(folder, name, rows, header=("HCPCSCode", "ShortDescriptor", "StatusIndicator")):
    """A small Addendum B in softek's CSV shape, named so that its quarter is known."""
    path = folder / name
    body = [",".join(header)] + [",".join(r) for r in rows]
    path.write_text("\n".join(body) + "\n", encoding="latin-1")
    return path


@pytest.fixture
def releases(tmp_path):
    """Three January releases: 74245 dropped in 2020, 11100 discontinued (D) in 2020,
    99218 dropped in 2021, 0591T new in 2021, 70551 always there."""
    folder = tmp_path / "addb"
    folder.mkdir()
    common = [
        ("70551", "Mri brain stem w/o dye", "Q3"),
        ("85025", "Complete cbc w/auto diff wbc", "Q4"),
    ]
    addendum_csv(
        folder,
        "OPPS_AddendumB_2019_January.csv",
        [
            *common,
            ("74245", "X-ray upper gi&small intest", "S"),
            ("11100", "Biopsy skin lesion", "T"),
            ("99218", "Initial observation care", "B"),
        ],
    )
    addendum_csv(
        folder,
        "OPPS_AddendumB_2020_January.csv",
        [*common, ("11100", "Biopsy skin lesion", "D"), ("99218", "Initial observation care", "B")],
    )
    addendum_csv(
        folder,
        "OPPS_AddendumB_2021_January.csv",
        [*common, ("0591T", "Hlth&well coaching indiv 1st", "E1")],
    )
    return folder


def statuses(ref, codes, as_of):
    s = code_status(pd.Series(codes, dtype="str"), ref, dt.date.fromisoformat(as_of))
    return s.set_axis(codes)


def test_history_dates_deleted_and_new_codes(releases):
    ref = load_reference(addendum_b=releases)
    assert [r.name for r in ref.history.releases] == [
        "OPPS Addendum B 2019-01",
        "OPPS Addendum B 2020-01",
        "OPPS Addendum B 2021-01",
    ]
    s = statuses(ref, ["74245", "11100", "99218", "0591T", "70551", "72148"], "2021-06-01")
    assert s["deleted"].tolist() == [True, True, True, False, False, False]
    assert s.loc["74245", "deleted_how"] == (
        "listed in OPPS Addendum B 2019-01 and dropped from OPPS Addendum B 2020-01 "
        "(deleted by 2020-01-01)"
    )
    assert "status indicator D" in s.loc["11100", "deleted_how"]
    assert "OPPS Addendum B 2020-01" in s.loc["11100", "deleted_how"]
    assert "dropped from OPPS Addendum B 2021-01" in s.loc["99218", "deleted_how"]
    # 72148 is in no release while one is in force: unknown.
    assert s["known"].tolist() == [True, True, True, True, True, False]
    # The day before the dropping release, the code was still valid.
    s = statuses(ref, ["74245", "99218", "0591T"], "2019-12-31")
    assert not s["deleted"].any()
    assert s.loc["0591T", "not_yet"]  # 2020-01 lacks it and is current... from 2020-01-01
    assert "first listed in OPPS Addendum B 2021-01" in s.loc["0591T", "not_yet_how"]


def test_history_before_the_oldest_release_cannot_tell(releases):
    ref = load_reference(addendum_b=releases)
    s = statuses(ref, ["11100", "72148", "0591T", "70551"], "2018-07-01")
    # 72148 is in no release: it may have been deleted before 2019 or never existed.
    assert pd.isna(s.loc["72148", "known"])
    assert not s["deleted"].any()
    # 0591T is absent from 2019-01 and 2020-01, both after 2018-07-01: not effective then.
    assert s["not_yet"].tolist() == [False, False, True, False]


def test_history_gap_between_releases_is_not_a_finding(tmp_path):
    folder = tmp_path / "two"
    folder.mkdir()
    addendum_csv(folder, "OPPS_AddendumB_2019_January.csv", [("70551", "Mri", "Q3")])
    addendum_csv(
        folder,
        "OPPS_AddendumB_2023_January.csv",
        [("70551", "Mri", "Q3"), ("0591T", "Coach", "E1")],
    )
    ref = load_reference(addendum_b=folder)
    # Added some time in 2019-04..2023-01: on 2021-06-01 the releases cannot tell.
    assert not statuses(ref, ["0591T"], "2021-06-01")["not_yet"].any()
    assert statuses(ref, ["0591T"], "2019-02-01")["not_yet"].all()


def line_2018(code, desc, rev, row_code="30010025"):
    return line(code=row_code, desc=desc, rev=rev, hcpcs=code, price="310.00")


def test_deleted_cpt_named_with_the_release_that_dropped_it(check, releases):
    """Pattern 8: a deleted CPT code is HCPCS-DELETED, not HCPCS-UNKNOWN."""
    rows = [
        line_2018("74245", "UGI W/SMALL BOWEL", "0320"),
        line_2018("11100", "BIOPSY SKIN SINGLE LESION", "0360", "2"),
        line_2018("70551", "MRI BRAIN W/O CONTRAST", "0610", "3"),
        line_2018("97003", "HC OT EVALUATION", "0430", "4"),  # deleted by CPT 2017
    ]
    pairs, result = check(rows, as_of=dt.date(2021, 2, 1), addendum_b=releases)
    unknown = result.findings.set_index(["rule", "row"]).loc[("HCPCS-UNKNOWN", 5), "message"]
    assert "it was not a valid code on 2019-01-01 (deleted before then" in unknown
    assert "HCPCS-DELETED" in rules(pairs, 2) and "HCPCS-UNKNOWN" not in rules(pairs, 2)
    assert "HCPCS-DELETED" in rules(pairs, 3) and "HCPCS-UNKNOWN" not in rules(pairs, 3)
    assert not rules(pairs, 4) & {"HCPCS-DELETED", "HCPCS-UNKNOWN"}
    msg = result.findings.set_index(["rule", "row"]).loc[("HCPCS-DELETED", 2), "message"]
    assert "dropped from OPPS Addendum B 2020-01" in msg and "2021-02-01" in msg


def test_2018_as_of_with_only_a_2026_release(check, tmp_path):
    """Pattern 8: a 2018 file checked against April 2026 only: codes valid in 2018 and gone
    by 2026 are not unknown, and nothing says 'may be newer'; REFERENCE-STALE says why."""
    add_b = addendum_csv(tmp_path, "OPPS_AddendumB_2026_April.csv", [("70551", "Mri", "Q3")])
    rows = [line_2018("74245", "UGI W/SMALL BOWEL", "0320"), line_2018("G0999", "X", "0320", "2")]
    pairs, result = check(rows, as_of=dt.date(2018, 7, 1), addendum_b=add_b)
    assert "HCPCS-UNKNOWN" not in rules(pairs, 2)
    assert "HCPCS-UNKNOWN" in rules(pairs, 3)  # Level II: the dated CMS file can tell
    found = result.findings
    assert not found["message"].str.contains("may be newer").any()
    stale = found[found["rule"].eq("REFERENCE-STALE")]
    assert stale["message"].str.contains("after the as-of date 2018-07-01").any()
    # The same line as of 2026-05-01: unknown (April 2026 is in force and lacks it).
    pairs, result = check(rows, as_of=dt.date(2026, 5, 1), addendum_b=add_b)
    assert "HCPCS-UNKNOWN" in rules(pairs, 2)
    # After the last release's quarter it may be newer than the file.
    _, result = check(rows, as_of=dt.date(2026, 9, 1), addendum_b=add_b)
    unknown = result.findings[result.findings["rule"].eq("HCPCS-UNKNOWN")]
    assert unknown["message"].str.contains("may be newer").all()


def test_not_yet_effective_cpt(check, releases):
    rows = [line_2018("0591T", "HEALTH COACHING 30 MIN", "0940")]
    pairs, result = check(rows, as_of=dt.date(2020, 2, 1), addendum_b=releases)
    assert "HCPCS-NOT-YET-EFFECTIVE" in rules(pairs) and "HCPCS-UNKNOWN" not in rules(pairs)
    msg = result.findings.set_index("rule").loc["HCPCS-NOT-YET-EFFECTIVE", "message"]
    assert "first listed in OPPS Addendum B 2021-01" in msg
    pairs, _ = check(rows, as_of=dt.date(2021, 2, 1), addendum_b=releases)
    assert "HCPCS-NOT-YET-EFFECTIVE" not in rules(pairs)


def test_release_dates_from_title_name_or_source(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["", "Addendum B.- OPPS Payment by HCPCS Code for CY 2019 - April 2019"])
    ws.append(["HCPCS Code", "Short Descriptor", "SI"])
    ws.append(["85025", "Complete cbc", "Q4"])
    wb.save(tmp_path / "addb.xlsx")  # no date in the name: the title's month and year
    assert read_addendum_b(tmp_path / "addb.xlsx")[1].start == dt.date(2019, 4, 1)
    ws.cell(1, 2).value = "Addendum B.-Final OPPS Payment by HCPCS Code for CY 2020"
    wb.save(tmp_path / "addb.xlsx")  # only a calendar year: its January release
    assert read_addendum_b(tmp_path / "addb.xlsx")[1].start == dt.date(2020, 1, 1)
    wb.save(tmp_path / "2021_july_web_addendum_b.xlsx")  # the name's month wins over "CY"
    assert read_addendum_b(tmp_path / "2021_july_web_addendum_b.xlsx")[1].start == dt.date(
        2021, 7, 1
    )
    names = {
        "january_2019_opps_web_addendum_b.12312018.xlsx": dt.date(2019, 1, 1),
        "January_2022_Web_Addendum_B.01.10.22.xlsx": dt.date(2022, 1, 1),
        "2020_january_web_addendum_b.12312019.xlsx": dt.date(2020, 1, 1),
    }
    for name, day in names.items():
        assert release_from_name(Path(name)) == day
    undated = addendum_csv(tmp_path, "addendum.csv", [("85025", "Cbc", "Q4")])
    with pytest.raises(InputError, match="cannot tell which quarter"):
        read_addendum_b(undated)


def test_two_files_of_one_quarter_and_empty_folder(tmp_path):
    a = addendum_csv(tmp_path, "OPPS_AddendumB_2026_April.csv", [("85025", "Cbc", "Q4")])
    b = addendum_csv(tmp_path, "AddB_Apr_2026.csv", [("85025", "Cbc", "Q4")])
    with pytest.raises(InputError, match="same quarter"):
        load_reference(addendum_b=[a, b])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no OPPS Addendum B files"):
        load_reference(addendum_b=empty)


@pytest.mark.parametrize(
    "code, desc, noc",
    [
        ("84999", "Unlisted chemistry procedure", True),
        ("96379", "Unl ther/prop/diag inj/inf", True),
        ("79999", "Rp therapy unlisted px", True),
        ("83520", "Immunoassay quant nos nonab", False),  # pattern 7: "NOS" is not NOC
        ("00840", "Anes iper px lower abd nos", False),
        ("86486", "Skin test unlisted antign ea", False),
        ("J3490", "Drugs unclassified injection", True),  # the CMS NOC list
    ],
)
def test_noc_from_the_cms_list_and_unlisted_cpt_only(tmp_path, code, desc, noc):
    add_b = addendum_csv(tmp_path, "OPPS_AddendumB_2026_April.csv", [(code, desc, "Q4")])
    s = statuses(load_reference(addendum_b=add_b), [code], "2026-05-01")
    assert bool(s.loc[code, "noc"]) is noc


def test_reference_command_lists_every_release(releases):
    from tests.test_cli import invoke

    out = invoke("reference", "--addendum-b", releases, "--as-of", "2020-06-01").stdout
    for year, count in (("2019", 5), ("2020", 4), ("2021", 3)):
        assert f"OPPS Addendum B {year}-01 ({count} codes, {year}-01-01 to {year}-03-31" in out
    assert "in force on 2020-06-01: OPPS Addendum B 2020-01" in out
    one = releases / "OPPS_AddendumB_2019_January.csv"
    two = releases / "OPPS_AddendumB_2021_January.csv"
    out = invoke("reference", "--addendum-b", one, "--addendum-b", two, "--as-of", "2018-07-01")
    assert "2 Addendum B releases" in out.stdout and "STALE: starts after 2018-07-01" in out.stdout


@needs_shared
@pytest.mark.slow
def test_real_addendum_b_history():
    hcpcs = REALDATA / "hcpcs"
    ref = load_reference(addendum_b=hcpcs)
    assert [r.start.isoformat() for r in ref.history.releases] == [
        "2019-01-01",
        "2020-01-01",
        "2021-01-01",
        "2022-01-01",
        "2023-01-01",
        "2026-04-01",
    ]
    s = statuses(ref, ["74241", "74245", "99218", "99201", "70551"], "2026-04-01")
    assert s["deleted"].tolist() == [True, True, True, True, False]
    assert "dropped from OPPS Addendum B 2020-01" in s.loc["74241", "deleted_how"]
    assert "dropped from OPPS Addendum B 2023-01" in s.loc["99218", "deleted_how"]
    assert "dropped from OPPS Addendum B 2021-01" in s.loc["99201", "deleted_how"]
    # As of 2018-07-01 they were all valid: nothing deleted, nothing unknown.
    s = statuses(ref, ["74241", "74245", "99218", "99201", "11100", "77059"], "2018-07-01")
    assert not s["deleted"].any() and not s["known"].eq(False).any()


def test_run_takes_addendum_b_repeated_or_a_folder(tmp_path, releases):
    """The --addendum-b plumbing: repeated on `run`, or a folder; the summary names each."""
    import json

    from tests.conftest import write_csv
    from tests.test_cli import invoke

    cdm = write_csv(tmp_path / "cdm.csv", [line_2018("74245", "UGI W/SMALL BOWEL", "0320")])
    one = releases / "OPPS_AddendumB_2019_January.csv"
    two = releases / "OPPS_AddendumB_2020_January.csv"
    for args in (["--addendum-b", one, "--addendum-b", two], ["--addendum-b", releases]):
        out = tmp_path / "summary.json"
        result = invoke(
            "run",
            cdm,
            *args,
            "--as-of",
            "2020-02-01",
            "--summary-json",
            out,
            "-o",
            tmp_path / "r.xlsx",
        )
        assert result.exit_code == 1, result.output
        run = json.loads(out.read_text())["runs"][0]
        assert run["by_rule"].get("HCPCS-DELETED") == 1
        named = [r for r in run["reference"] if "OPPS Addendum B" in r]
        assert len(named) == (2 if len(args) == 4 else 3)


def test_dental_codes_are_not_unknown_for_lack_of_a_dental_code_set(check, tmp_path):
    """The CMS HCPCS file has no D-codes (CDT): a 2018 dental line is unknown only when an
    Addendum B in force lacks it, never because the bundled Level II file does."""
    rows = [
        line_2018("D1515", "FIXED SPACE MAINT BILAT", "0520"),
        line_2018("D9940", "OCCLUSAL GUARD", "0520", "2"),
    ]
    pairs, _ = check(rows, as_of=dt.date(2018, 7, 1))
    assert not {r for r, _ in pairs} & {"HCPCS-UNKNOWN", "HCPCS-DELETED"}
    add_b = addendum_csv(
        tmp_path, "OPPS_AddendumB_2019_January.csv", [("D1515", "Space maint", "E1")]
    )
    pairs, _ = check(rows, as_of=dt.date(2018, 7, 1), addendum_b=add_b)
    assert not {r for r, _ in pairs} & {"HCPCS-UNKNOWN"}  # before the release: cannot tell
    pairs, _ = check(rows, as_of=dt.date(2019, 2, 1), addendum_b=add_b)
    assert "HCPCS-UNKNOWN" in rules(pairs, 3) and "HCPCS-UNKNOWN" not in rules(pairs, 2)
