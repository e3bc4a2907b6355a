"""Reference code sets: the CMS HCPCS file (xlsx and fixed-width txt), OPPS Addendum B, code
lists, the bundled default; and the rules they enable, with dates on both sides of each edge."""

import datetime as dt

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
