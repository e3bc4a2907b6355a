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
