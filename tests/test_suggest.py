"""Reading CDM shorthand, comparing key terms, ranking suggestions, catching contradictions."""

import datetime as dt

import pytest

from chargemaster.config import load_config
from chargemaster.suggest import Catalog, Suggester, conflicts, key_terms, normalize, tokens
from tests.conftest import line


@pytest.mark.parametrize(
    "text, words",
    [
        ("CT HD W/O CONT", "CT HEAD WITHOUT CONTRAST"),
        ("Ct head/brain w/dye", "CT HEAD BRAIN WITH CONTRAST"),
        ("MRI BRAIN W/WO", "MRI BRAIN WITH WITHOUT"),
        ("Mri lwr extremity w/o&w/dye", "MRI LOWER EXTREMITY WITH WITHOUT CONTRAST"),
        ("XR CHEST 2V", "XRAY CHEST 2 VIEW"),
        ("X-ray exam chest 2 views", "XRAY CHEST 2 VIEW"),
        ("US ABD PELV LTD", "ULTRASOUND ABDOMEN PELVIS LIMITED"),
        ("MAMMO SCRN BILAT", "MAMMO SCREENING BILATERAL"),
        ("HCHG ED VISIT LVL 3 EA", "ED VISIT LEVEL 3 EACH"),
        ("Dx mammo incl cad uni", "MAMMO DIAGNOSTIC CAD UNILATERAL"),
    ],
)
def test_abbreviation_table(text, words):
    got = normalize(text)
    assert sorted(got.split()) == sorted(words.split()), got


def terms(text):
    return key_terms(tokens(text), text)


@pytest.mark.parametrize(
    "a, b, term",
    [
        ("CT HEAD W CONTRAST", "Ct head/brain w/o dye", "contrast"),
        ("CT HEAD WO CONTRAST", "Ct head/brain w/dye", "contrast"),
        ("CT HEAD W/WO CONTRAST", "Ct head/brain w/dye", "contrast"),
        ("CT HEAD W CONTRAST", "Ct head/brain w/o & w/dye", "contrast"),
        ("XR KNEE LT", "X-ray knee right", "side"),
        ("XR KNEE RT", "X-ray knee left", "side"),
        ("MAMMO BILAT", "Dx mammo incl cad uni", "side"),
        ("MAMMO UNILAT", "Mammo bilateral", "side"),
        ("XR CHEST 1V", "X-ray exam chest 2 views", "views"),
        ("XR CHEST 3V", "X-ray exam chest 2 views", "views"),
        ("XR SPINE 1 VIEW", "X-ray exam spine 2-3 vw", "views"),
        ("SCREENING MAMMO", "Dx mammo incl cad bi", "screening"),
        ("DIAG MAMMO", "Scr mammo bi incl cad", "screening"),
        ("US ABDOMEN LIMITED", "Us exam abdom complete", "limited"),
        ("US ABDOMEN COMPLETE", "Us exam abdom limited", "complete"),
    ],
)
def test_key_term_conflicts_both_ways(a, b, term):
    assert any(term in c for c in conflicts(terms(a), terms(b)))
    assert any(term in c for c in conflicts(terms(b), terms(a)))


@pytest.mark.parametrize(
    "a, b",
    [
        ("CT HEAD W CONTRAST", "Ct head/brain w/dye"),
        ("MRA ABD W CONT", "Mra abd w or w/o cntrst"),  # "with or without": either
        ("CT ABD W&WO CONT", "Ct abd wo cntrst flwd cntrst"),  # followed by = with and without
        ("XR SPINE 2 VIEWS", "X-ray exam spine 2-3 vw"),
        ("XR FOOT 4 VIEWS", "X-ray foot 3+ views"),
        ("XR KNEE LT", "X-ray knee unilateral"),
        ("CBC W AUTO DIFF", "Complete cbc w/auto diff wbc"),
    ],
)
def test_no_conflict_when_terms_agree(a, b):
    assert conflicts(terms(a), terms(b)) == []


def suggester(local=None):
    catalog = Catalog(
        codes=["70450", "70460", "70470", "85025", "J1885"],
        texts=[
            "Ct head/brain w/o dye",
            "Ct head/brain w/dye",
            "Ct head/brain w/o & w/dye",
            "Complete cbc w/auto diff wbc",
            "Injection, ketorolac tromethamine, per 15 mg",
        ],
        normal=[],
        family=["radiology", "radiology", "radiology", "lab", "drugs"],
    )
    catalog.normal = [normalize(t) for t in catalog.texts]
    return Suggester(catalog, load_config(), local or {})


def test_ranking_respects_key_terms_family_and_local_lines():
    s = suggester()
    codes = [c for c, _, _ in s.candidates("CT HEAD W CONTRAST", "ct")]
    assert codes[0] == "70460" and "70450" not in codes  # without contrast contradicts
    assert [c for c, _, _ in s.candidates("CT HEAD W/WO CONT", "ct")][0] == "70470"
    assert all(c != "85025" for c, _, _ in s.candidates("CT HEAD", "ct"))  # lab code off CT
    cands = s.candidates("HCHG CBC W AUTO DIFF", "lab")
    assert cands[0][0] == "85025" and 0 < cands[0][1] <= 1
    assert cands[0][2].startswith("matches reference descriptor 'Complete cbc")
    local = suggester({normalize("KETOROLAC 15MG INJ"): ("J1885", "30010041")})
    code, score, reason = local.candidates("ketorolac 15mg inj", "drugs_detailed")[0]
    assert (code, score) == ("J1885", 1.0) and "charge 30010041" in reason
    assert s.candidates("", "lab") == []


def test_contradiction_found_with_addendum_b_only(check, tmp_path):
    lines = [line(rev="0351", hcpcs="70450", desc="CT HEAD W CONTRAST")]
    pairs, _ = check(lines, as_of=dt.date(2026, 5, 1))
    assert not any(r == "DESCRIPTION-CODE-CONFLICT" for r, _ in pairs)  # no CPT descriptor
    add_b = tmp_path / "OPPS_AddendumB_2026_April.csv"
    add_b.write_text(
        "HCPCSCode,ShortDescriptor,StatusIndicator\n70450,Ct head/brain w/o dye,Q3\n"
        "70460,Ct head/brain w/dye,Q3\n"
    )
    pairs, result = check(lines, as_of=dt.date(2026, 5, 1), addendum_b=add_b)
    f = result.findings.set_index("rule").loc["DESCRIPTION-CODE-CONFLICT"]
    assert f["suggested"] == "70460"
    assert "'CT HEAD W CONTRAST'" in f["message"] and "'Ct head/brain w/o dye'" in f["message"]


def test_suggestions_fill_the_missing_hcpcs_finding(check, tmp_path):
    add_b = tmp_path / "OPPS_AddendumB_2026_April.csv"
    add_b.write_text(
        "HCPCSCode,ShortDescriptor,StatusIndicator\n85025,Complete cbc w/auto diff "
        "wbc,Q4\n85027,Complete cbc automated,Q4\n"
    )
    pairs, result = check(
        [line(hcpcs="", desc="HCHG CBC W AUTO DIFF")], addendum_b=add_b, as_of=dt.date(2026, 5, 1)
    )
    missing = result.findings.set_index("rule").loc["HCPCS-MISSING"]
    assert missing["suggested"].startswith("85025 (")
    assert ("HCPCS-SUGGESTED", 2) in pairs
    table = result.suggestions
    assert list(table.columns) == [
        "Row",
        "Charge Code",
        "Description",
        "Rank",
        "HCPCS",
        "Score",
        "Reason",
    ]
    assert table.iloc[0][["Row", "Rank", "HCPCS"]].tolist() == [2, 1, "85025"]
    assert result.lines.frame.loc[2, "coded_hcpcs"] is None or str(
        result.lines.frame.loc[2, "coded_hcpcs"]
    ) in ("nan", "<NA>")  # never applied


# Issue 11: findings an analyst can trust. Lines below are shaped like real CDM lines.

WITHOUT_SPELLINGS = ["W O", "WO", "W/O", "W/OUT", "WITHOUT", "NO"]
BOTH_SPELLINGS = [
    "W WO",
    "W/WO",
    "W & WO",
    "WWO",
    "W/ & W/O",
    "WITH AND WITHOUT",
    "NO/WITH",
    "N&W/",
    "W/W/O",
]


@pytest.mark.parametrize("spelling", WITHOUT_SPELLINGS)
def test_every_spelling_of_without(spelling):
    assert terms(f"MRI BRAIN {spelling} DYE").contrast == "without"
    assert terms(f"CT HEAD {spelling} CONT").contrast == "without"


@pytest.mark.parametrize("spelling", BOTH_SPELLINGS)
def test_every_spelling_of_with_and_without(spelling):
    assert terms(f"MRI BRAIN {spelling} CONTRAST").contrast == "with and without"


@pytest.mark.parametrize(
    "text",
    [
        "CT ABD WO CONT FLW CONT",
        "Ct abd wo cntrst flwd cntrst",
        "CT HEAD WO CONTRAST FOLLOWED BY CONTRAST",
    ],
)
def test_followed_by_means_with_and_without(text):
    assert terms(text).contrast == "with and without"


def test_bare_with_without_on_ct_and_mri_is_contrast():
    assert terms("MRI BRAIN W WO").contrast == "with and without"
    assert terms("CT HEAD WO").contrast == "without"
    assert terms("XR CHEST W LATERAL").contrast is None  # not CT/MRI: no contrast meant


IMAGING = {
    "70450": "Ct head/brain w/o dye",
    "70460": "Ct head/brain w/dye",
    "70470": "Ct head/brain w/o & w/dye",
    "70544": "Mr angiography head w/o dye",
    "70551": "Mri brain stem w/o dye",
    "70553": "Mri brain stem w/o & w/dye",
    "70559": "Mri brain stem w/o & w/dye",
    "70100": "X-ray exam of jaw <4views",
    "70110": "X-ray exam of jaw 4/> views",
    "71047": "X-ray exam chest 3 views",
    "71110": "X-ray exam ribs bil 3 views",
    "73521": "X-ray exam hips bi 2 views",
    "75557": "Cardiac mri for morph",
    "75561": "Cardiac mri for morph w/dye",
    "76641": "Ultrasound breast complete",
    "76706": "Us abdl aorta screen aaa",
    "76775": "Us exam abdo back wall lim",
    "77067": "Scr mammo bi incl cad",
    "88342": "Immunohisto antb 1st stain",
    "88360": "Tumor immunohistochem/manual",
}


def imaging_suggester(extra=None):
    texts = dict(IMAGING, **(extra or {}))
    catalog = Catalog(
        codes=list(texts),
        texts=list(texts.values()),
        normal=[normalize(t) for t in texts.values()],
        family=["lab" if c.startswith("88") else "radiology" for c in texts],
    )
    return Suggester(catalog, load_config(), {})


def codes_for(s, desc, family):
    return [c for c, _, _ in s.candidates(desc, family)]


def test_without_read_as_without_in_suggestions():
    s = imaging_suggester()
    got = codes_for(s, "MRI BRAIN W O DYE", "mri")
    assert got[0] == "70551" and "70544" not in got  # an MRA is not an MRI
    got = codes_for(s, "CT HEAD W O CONT", "ct")
    assert got[0] == "70450" and "70460" not in got


def test_a_range_of_views_fits_a_range():
    assert terms("X-ray exam of jaw <4views").views == (1, 3)
    assert conflicts(terms("MANDIBLE 1-3 VIEW"), terms("X-ray exam of jaw <4views")) == []
    assert conflicts(terms("MANDIBLE 3 VIEWS"), terms("X-ray exam of jaw <4views")) == []
    assert conflicts(terms("MANDIBLE 4 VIEWS"), terms("X-ray exam of jaw <4views"))
    assert conflicts(terms("XR SPINE 2-3 VIEWS"), terms("X-ray exam neck spine 2-3 vw")) == []


@pytest.mark.parametrize(
    "desc, family, wrong",
    [
        ("MANDIBLE LTD/3VW MAX", "radiology", "71047"),  # jaw is not chest
        ("HCHG CARDIAC MRI W/W/O CONTRAST", "mri", "70559"),  # heart is not brain
        ("US AORTA COMPLETE", "imaging", "76641"),  # aorta is not breast
        ("RIBS 2 VIEWS BILATERAL", "radiology", "73521"),  # ribs are not hips
    ],
)
def test_no_candidate_for_another_body_part(desc, family, wrong):
    assert wrong not in codes_for(imaging_suggester(), desc, family)


def test_body_parts_read_from_shorthand():
    assert terms("MRI LOW EX NO JT N&W CONT").body >= {"KNEE", "FOOT"}
    assert "HAND" not in terms("MRI LOW EX NO JT N&W CONT").body
    assert terms("Mri chest spine w/o & w/dye").body == {"TSPINE"}  # chest spine: thoracic
    assert terms("MRI CERVICAL NO/WITH CONT").body == {"CSPINE"}
    assert terms("X-ray exam of spine 1 view").body == {"CSPINE", "TSPINE", "LSPINE"}


def test_either_side_states_no_side():
    assert terms("Icg angiography i&r uni/bi").side is None
    assert terms("XR KNEE LT/RT").side is None
    assert terms("MAMMO SCRN BILAT").side == "bilateral"


def test_drug_code_must_name_the_drug():
    s = imaging_suggester()
    catalog = Catalog(
        codes=["J9370", "J1885"],
        texts=["Vincristine sulfate, 1 mg", "Injection, ketorolac tromethamine, per 15 mg"],
        normal=[],
        family=["drugs", "drugs"],
    )
    catalog.normal = [normalize(t) for t in catalog.texts]
    s = Suggester(catalog, load_config(), {})
    assert codes_for(s, "ZINC SULFATE 220MG CAP", "drugs_detailed") == []
    assert codes_for(s, "VINCRISTINE SULF 1MG INJ", "drugs_detailed")[0] == "J9370"
    assert codes_for(s, "KETOROLAC 30MG INJ", "drugs_detailed") == ["J1885"]


def test_code_written_in_the_description_comes_first():
    s = imaging_suggester()
    cands = s.candidates("88342 Immunocytochem Panel", "lab")
    assert cands[0][0] == "88342" and "written in the description" in cands[0][2]
    # A number that is no code of the line's family is not taken for one.
    assert codes_for(s, "70450 IMMUNOCYTOCHEM PANEL", "lab")[:1] != ["70450"]


def addendum(tmp_path, codes):
    path = tmp_path / "OPPS_AddendumB_2026_April.csv"
    body = "".join(f"{c},{d},Q3\n" for c, d in codes.items())
    path.write_text("HCPCSCode,ShortDescriptor,StatusIndicator\n" + body)
    return path


def conflict_rows(result):
    f = result.findings
    return f[f["rule"].eq("DESCRIPTION-CODE-CONFLICT")]


@pytest.mark.parametrize(
    "desc, rev, code",
    [
        ("MRI BRAIN W O DYE", "0610", "70551"),
        ("CT HEAD W O CONT", "0351", "70450"),
        ("HCHG CARDIAC MRI W/W/O CONTRAST & *", "0610", "75561"),  # w/dye abbreviates w/o then w
        ("MANDIBLE 1-3 VIEW", "0320", "70100"),
        ("CT HEAD-NO/WITH CONTRAST", "0351", "70470"),
        ("HC COLON SCRN-HIGH RISK", "0750", "45378"),  # 'Diagnostic colonoscopy': not a purpose
    ],
)
def test_no_conflict_on_real_shaped_lines(check, tmp_path, desc, rev, code):
    add_b = addendum(tmp_path, dict(IMAGING, **{"45378": "Diagnostic colonoscopy"}))
    _, result = check(
        [line(rev=rev, hcpcs=code, desc=desc)], addendum_b=add_b, as_of=dt.date(2026, 5, 1)
    )
    assert conflict_rows(result).empty


def test_conflict_names_no_code_for_another_body_part(check, tmp_path):
    add_b = addendum(tmp_path, IMAGING)
    _, result = check(
        [line(rev="0320", hcpcs="71110", desc="RIBS 2 VIEWS BILATERAL")],
        addendum_b=add_b,
        as_of=dt.date(2026, 5, 1),
    )
    found = conflict_rows(result)
    assert len(found) == 1 and "views: 2 vs 3" in found.iloc[0]["message"]
    assert found.iloc[0]["suggested"] is None  # 73521 (hips) agrees on views, not body part


def test_bilateral_with_modifier_50_is_no_side_conflict(check, tmp_path):
    add_b = addendum(tmp_path, {"69210": "Remove impacted ear wax uni"})
    rows = [
        line(rev="0510", hcpcs="69210", desc="RMVL IMPACTED CERUMEN BILATERAL", mod="50"),
        line(code="2", rev="0510", hcpcs="69210", desc="RMVL IMPACTED CERUMEN BILATERAL"),
    ]
    _, result = check(rows, addendum_b=add_b, as_of=dt.date(2026, 5, 1))
    assert conflict_rows(result)["row"].tolist() == [3]


def test_level_two_code_added_after_the_as_of_date_is_never_offered(check):
    rows = [line(rev="0636", hcpcs="", desc="CETIRIZINE HCL 0.5MG INJ")]
    _, old = check(rows, as_of=dt.date(2018, 7, 1))
    assert "J1201" not in old.suggestions["HCPCS"].tolist()
    _, new = check(rows, as_of=dt.date(2021, 1, 1))
    assert new.suggestions["HCPCS"].tolist()[:1] == ["J1201"]


def test_issues_show_only_candidates_at_the_measured_score(check, tmp_path, monkeypatch):
    import chargemaster.suggest as sg

    add_b = addendum(tmp_path, {"85025": "Complete cbc w/auto diff wbc"})
    rows = [line(hcpcs="", desc="HCHG CBC W AUTO DIFF")]
    monkeypatch.setattr(sg, "SHOW_SCORE", 0.99)
    pairs, result = check(rows, addendum_b=add_b, as_of=dt.date(2026, 5, 1))
    assert result.suggestions["HCPCS"].tolist() == ["85025"]  # kept on the Suggestions sheet
    assert not any(r == "HCPCS-SUGGESTED" for r, _ in pairs)
    assert result.findings.set_index("rule").loc["HCPCS-MISSING", "suggested"] is None
    monkeypatch.setattr(sg, "SHOW_SCORE", 0.1)
    pairs, result = check(rows, addendum_b=add_b, as_of=dt.date(2026, 5, 1))
    assert ("HCPCS-SUGGESTED", 2) in pairs


def test_cpt_code_newer_than_the_as_of_date_is_never_offered(check, tmp_path):
    # 71271 (low-dose CT lung screening) came in 2021; with the 2020 and 2022 releases loaded,
    # a run while the 2020 release is in force must not offer it, a run in 2022 may.
    old, new = tmp_path / "AddendumB_2020_January.csv", tmp_path / "AddendumB_2022_January.csv"
    head = "HCPCSCode,ShortDescriptor,StatusIndicator\n"
    old.write_text(head + "71250,Ct thorax dx c-,Q3\n")
    new.write_text(head + "71250,Ct thorax dx c-,Q3\n71271,Ct thorax lung cancer scr c-,Q3\n")
    rows = [line(rev="0352", hcpcs="", desc="CT THORAX LUNG CANCER SCREENING")]
    _, before = check(rows, addendum_b=(old, new), as_of=dt.date(2020, 2, 1))
    assert "71271" not in before.suggestions["HCPCS"].tolist()
    _, after = check(rows, addendum_b=(old, new), as_of=dt.date(2022, 2, 1))
    assert after.suggestions["HCPCS"].tolist()[:1] == ["71271"]
