"""Issue 11, third pass: a lab line's test detects an antibody, an antigen or a nucleic acid,
and a suggested code must detect the same; 'CAP' after a cut drug name may be its salt, not a
capsule. Lines and descriptors are shaped like the real ones (Addendum B short descriptors)."""

import datetime as dt

import pytest

from chargemaster.config import load_config
from chargemaster.pipeline import RunOptions, run
from chargemaster.suggest import (
    Catalog,
    Suggester,
    agent_fits,
    agent_types,
    analyte_fits,
    analytes,
    antigen_methods,
    normalize,
    reference_catalog,
    route_fits,
    route_text,
)
from tests.conftest import REALDATA, needs_shared

AS_OF = dt.date(2026, 5, 1)

LAB = {
    "86706": ["Hep b surface antibody"],
    "87340": ["Hepatitis b surface ag ia"],
    "87516": ["Hepatitis b dna amp probe"],
    "86631": ["Chlamydia antibody"],
    "87270": ["Chylmd trach ag if"],
    "87491": ["Chlmyd trach dna amp probe"],
    "86696": ["Herpes simplex type 2 test"],
    "87273": ["Herpes simplex 2 ag if"],
    "86644": ["Cmv antibody"],
    "87271": ["Cytomegalovirus dfa"],
    "87332": ["Cytomegalovirus ag ia"],
    "86403": ["Particle agglut antbdy scrn"],
    "87327": ["Cryptococcus neoform ag ia"],
    "86664": ["Epstein-barr nuclear antigen"],
    "86225": ["Dna antibody native"],
    "87389": ["Hiv-1 ag w/hiv-1&-2 ab ag ia"],
    "86703": ["Hiv-1/hiv-2 1 result antbdy"],
    "84153": ["Assay of psa total"],
}


def make_suggester(texts: dict[str, list[str]], family: str, local=None) -> Suggester:
    codes = [c for c, ts in texts.items() for _ in ts]
    flat = [t for ts in texts.values() for t in ts]
    catalog = Catalog(codes, flat, [normalize(t) for t in flat], [family] * len(flat))
    return Suggester(catalog, load_config(), local or {})


def codes_for(s: Suggester, desc: str, family: str) -> list[str]:
    return [c for c, _, _ in s.candidates_many([(desc, family)], limit=20)[0]]


@pytest.mark.parametrize(
    "text, kinds",
    [
        ("HEPATITIS B SURFACE AB", {"antibody"}),
        ("HCHG ANTIBODY,CYTOMEGALOVIRUS,IGM", {"antibody"}),
        ("ASO TITER STREPTO. - LAB", {"antibody"}),
        ("Hepatitis b surface ag ia", {"antigen"}),
        ("HSV AG IF", {"antigen"}),
        ("HCHG BMH/CVMC ROTAVIRIS ANTIGEN", {"antigen"}),
        ("CHLAMYDIA DNA PROBE", {"nucleic"}),
        ("HCHG HIV VIRAL LOAD RNA QT - REF", {"nucleic"}),
        ("HCHG MTB MYCOBACTERIUM AMP PROBE", {"nucleic"}),
        ("Chlmyd trach dna amp probe", {"nucleic"}),
        # Direct fluorescent antibody finds the agent: the antibody is the reagent.
        ("Enterovirus antibody dfa", {"antigen"}),
        ("Strep a assay w/optic", {"antigen"}),
        # An antibody to DNA, to a nuclear antigen: the antibody's target is no second kind.
        ("HCHG BMH DNA ANTIBODY DOUBLE STRANDED *R", {"antibody"}),
        ("HCHG CORE ANTI DNA DBL STRAND", {"antibody"}),
        ("Epstein-barr nuclear antigen", set()),
        ("EBV EARLY AG", set()),
        # Agglutination finds either.
        ("CRYPTOCOCCAL AG LATEX", set()),
        ("Particle agglut antbdy scrn", set()),
        ("HIV 1/2 AG/AB COMBO", {"antibody", "antigen"}),
        ("HCHG PROSTATE SPECIFIC ANTIGEN-FREE", {"antigen"}),
        ("Assay of psa total", set()),
        ("HCHG HEMOGLOBIN A1C", set()),
    ],
)
def test_analyte_kind_read_from_descriptions_and_descriptors(text, kinds):
    assert analytes(text) == frozenset(kinds)


def test_a_description_stating_no_kind_or_two_is_not_judged():
    assert analyte_fits("HIV 1/2 AG/AB COMBO", frozenset({"antibody"}))
    assert analyte_fits("HEPATITIS B PANEL", frozenset({"antigen"}))
    assert analyte_fits("HEPATITIS B SURFACE AB", frozenset())  # descriptor states none
    assert not analyte_fits("HEPATITIS B SURFACE AB", frozenset({"antigen"}))
    assert analyte_fits("HEPATITIS B SURFACE AB", frozenset({"antigen", "antibody"}))


@pytest.mark.parametrize(
    "desc, right, ruled_out",
    [
        # The three misses the issue names, and their kin from the real files.
        ("HEPATITIS B SURFACE AB", "86706", {"87340", "87516"}),
        ("HCHG HEP B ANTIGEN - LAB", "87340", {"86706", "87516"}),
        ("HEP B DNA PCR QUANT", "87516", {"86706", "87340"}),
        ("CHLAMYDIA DNA PROBE", "87491", {"86631", "87270"}),
        ("CHLAMYDIA AB IGG", "86631", {"87270", "87491"}),
        ("HERPES SIMPLEX 2 AB IGG", "86696", {"87273"}),
        ("HCHG ANTIBODY,CYTOMEGALOVIRUS (CMV)", "86644", {"87271", "87332"}),
        ("CMV AG EIA", "87332", {"86644"}),
    ],
)
def test_a_code_detecting_another_kind_is_not_offered(desc, right, ruled_out):
    got = codes_for(make_suggester(LAB, "lab"), desc, "lab")
    assert right in got
    assert not ruled_out & set(got), got


def test_codes_stating_no_kind_or_either_kind_stay_offered():
    s = make_suggester(LAB, "lab")
    assert "86403" in codes_for(s, "CRYPTOCOCCAL AG PARTICLE AGGLUT SCRN", "lab")
    assert "86664" in codes_for(s, "EPSTEIN-BARR NUCLEAR ANTIGEN AB IGG", "lab")  # to EBNA
    assert "86225" in codes_for(s, "ANTI-DNA / Q", "lab")
    assert "84153" in codes_for(s, "PROSTATE SPECIFIC ANTIGEN TOTAL", "lab")
    # A combined antigen-antibody line is not judged: both codes stay.
    got = codes_for(s, "HIV 1/2 AG/AB", "lab")
    assert {"87389", "86703"} <= set(got)


def test_a_nearly_identical_local_line_of_another_kind_is_not_offered():
    # 'HEP B SURF AG' is 'HEP B SURF AB' but one letter: 90%+ alike, another test.
    local = {normalize("HEP B SURF AG"): ("87340", "30010001")}
    s = make_suggester(LAB, "lab", local=local)
    got = s.candidates("HEP B SURF AB", "lab")
    assert [c for c, _, r in got if "charge 30010001" in r] == []
    assert "86706" in [c for c, _, _ in got]
    # The same local line still helps a line of its own kind.
    same = s.candidates("HEP B SURF AG.", "lab")
    assert same[0][0] == "87340" and "charge 30010001" in same[0][2]


def test_analyte_kind_decides_the_suggestion_on_a_real_run(check, tmp_path):
    from tests.conftest import line

    add_b = tmp_path / "OPPS_AddendumB_2026_April.csv"
    body = "".join(f"{c},{ts[0]},A\n" for c, ts in LAB.items())
    add_b.write_text("HCPCSCode,ShortDescriptor,StatusIndicator\n" + body)
    rows = [
        line(code="1", rev="0302", hcpcs="", desc="HEPATITIS B SURFACE AB"),
        line(code="2", rev="0306", hcpcs="", desc="CHLAMYDIA DNA PROBE"),
    ]
    _, result = check(rows, addendum_b=add_b, as_of=AS_OF)
    table = result.suggestions
    by_row = {r: table.loc[table["Row"].eq(r), "HCPCS"].tolist() for r in (2, 3)}
    assert by_row[2][0] == "86706" and not {"87340", "87516"} & set(by_row[2])
    assert by_row[3][0] == "87491" and not {"86631", "87270"} & set(by_row[3])


ANTIGEN = {
    "87269": ["Giardia ag if"],
    "87329": ["Giardia ag ia"],
    "87276": ["Influenza a ag if"],
    "87400": ["Influenza a/b each ag ia"],
    "87804": ["Influenza assay w/optic"],
}


@pytest.mark.parametrize(
    "text, methods",
    [
        ("HCHG BMH/CVMC GIARDIA AG, EIA", {"immunoassay"}),
        ("Giardia ag if", {"immunofluorescence"}),
        ("Cytomegalovirus dfa", {"immunofluorescence"}),
        ("INFLUENZA VIRUS A AG OIA", {"optical"}),
        ("Strep a assay w/optic", {"optical"}),
        ("GIARDIA AG", set()),
        # A method is read only where an antigen is found: 'IF' in an antibody line is a word.
        ("HEP C AB W REFLEX IF POS", set()),
        ("Ia infectious agent antibody", set()),
    ],
)
def test_antigen_method_read_only_where_an_antigen_is_found(text, methods):
    assert antigen_methods(text) == frozenset(methods)


@pytest.mark.parametrize(
    "desc, right, ruled_out",
    [
        ("HCHG BMH/CVMC GIARDIA AG, EIA", "87329", {"87269"}),
        ("INFLUENZA A AG EIA", "87400", {"87276", "87804"}),
        ("INFLUENZA VIRUS A AG OIA", "87804", {"87276", "87400"}),
    ],
)
def test_an_antigen_code_of_another_method_is_not_offered(desc, right, ruled_out):
    got = codes_for(make_suggester(ANTIGEN, "lab"), desc, "lab")
    assert right in got and not ruled_out & set(got), got


def test_an_antigen_line_naming_no_method_keeps_every_method():
    got = codes_for(make_suggester(ANTIGEN, "lab"), "GIARDIA AG", "lab")
    assert {"87269", "87329"} <= set(got)


VIRUS = {
    "86701": ["Hiv-1antibody"],
    "86702": ["Hiv-2 antibody"],
    "86703": ["Hiv-1/hiv-2 1 result antbdy"],
    "86704": ["Hep b core antibody total"],
    "86706": ["Hep b surface antibody"],
    "86707": ["Hepatitis be antibody"],
    "86708": ["Hepatitis a antibody"],
    "86790": ["Virus antibody nos"],
    "80074": ["Acute hepatitis panel"],
}


@pytest.mark.parametrize(
    "text, types",
    [
        ("HIV 1/2 AB", {("hiv", "1"), ("hiv", "2")}),
        ("Hiv-1/hiv-2 1 result antbdy", {("hiv", "1"), ("hiv", "2")}),
        ("Hiv-1antibody", {("hiv", "1")}),
        ("HEPATITIS B SURFACE AB", {("hepatitis", "B")}),
        ("Hepatitis be antibody", {("hepatitis", "BE")}),
        ("HEP B E AG", {("hepatitis", "BE")}),
        ("RL-A-HBEAG 20094", {("hepatitis", "BE")}),
        ("HEPATITIS DELTA AGENT AB", {("hepatitis", "D")}),
        ("HCHG CORE HCV AB", {("hepatitis", "C")}),
        ("Herpes simplex type 2 test", {("herpes", "2")}),
        ("HTLV I/II AB", {("htlv", "1"), ("htlv", "2")}),
        ("Acute hepatitis panel", set()),
        ("HEP LOCK FLUSH", set()),  # heparin: no hepatitis type follows
    ],
)
def test_virus_types_read_after_the_name(text, types):
    assert agent_types(text) == frozenset(types)


def test_a_code_naming_other_types_of_the_virus_is_ruled_out():
    assert not agent_fits("HIV 1 AB", frozenset({("hiv", "2")}))
    assert not agent_fits("HIV 1 AB", frozenset({("hiv", "1"), ("hiv", "2")}))
    assert agent_fits("HIV 1 AB", frozenset({("hiv", "1")}))
    assert agent_fits("HIV 1 AB", frozenset())  # a code naming no type
    assert agent_fits("HIV AB", frozenset({("hiv", "2")}))  # a line naming none


@pytest.mark.parametrize(
    "desc, right, ruled_out",
    [
        ("HEPATITIS B SURFACE AB", "86706", {"86707", "86708"}),
        ("HCHG HEPATITIS B CORE AB - LAB", "86704", {"86707", "86708"}),
        ("HIV 1 AB", "86701", {"86702", "86703"}),
        ("HIV 1&2 AB QUAL", "86703", {"86701", "86702"}),
        ("HEPATITIS E VIRUS IGG AB", "86790", {"86707", "86708", "86704", "86706"}),
    ],
)
def test_a_code_for_another_type_of_the_virus_is_not_offered(desc, right, ruled_out):
    got = codes_for(make_suggester(VIRUS, "lab"), desc, "lab")
    assert right in got and not ruled_out & set(got), got


# 'CAP' after a drug name cut short: the descriptor's salt (caproate), not a capsule.

DRUGS = {
    "J1726": ["Makena, 10 mg", "Injection, hydroxyprogesterone caproate, (makena), 10 mg"],
    "J1729": ["Hydroxyprogesterone caproate", "Injection, hydroxyprogesterone caproate, nos"],
    "J7507": ["Tacrolimus, oral, 1 mg", "Tacrolimus, immediate release, oral, 1 mg"],
    "J7525": ["Tacrolimus injection", "Tacrolimus, intravenous, per 5 mg"],
    "J2370": ["Phenylephrine hcl injection", "Injection, phenylephrine hcl, up to 1 mg"],
}


@pytest.mark.parametrize(
    "desc, code, offered",
    [
        ("HYDROXYPROG CAP (MAKENA)10MGIJ", "J1726", True),  # Hahnemann, coded J1726
        ("HYDROXYPROGESTERONE CAP 250MG/ML", "J1729", True),
        ("TACROLIMUS 0.5MG CAPS", "J7507", True),
        ("TACROLIMUS 0.5MG CAPS", "J7525", False),  # a capsule is no injection
        ("Tacrolimus Cap 1 MG,UWRX PROGRAF", "J7525", False),
        ("GUAIFEN/PHENYLEPH CAP:400/30MG", "J2370", False),  # cut name, but 'hcl' follows
    ],
)
def test_cap_is_a_capsule_unless_it_cuts_the_drugs_salt(desc, code, offered):
    s = make_suggester(DRUGS, "drugs")
    assert (code in codes_for(s, desc, "drugs_detailed")) is offered


def test_route_text_drops_only_the_cut_salt():
    makena = tuple(DRUGS["J1726"])
    assert not route_fits("HYDROXYPROG CAP (MAKENA)10MGIJ", frozenset({"injection"}))
    kept = route_text("HYDROXYPROG CAP (MAKENA)10MGIJ", makena)
    assert "CAP" not in kept.split()
    assert route_fits(kept, frozenset({"injection"}))
    # Elsewhere on the line, or after a word naming another drug, CAP stays a capsule.
    assert "CAP" in route_text("PROGESTERONE 100MG CAP", makena).split()
    assert "CAP" in route_text("TACROLIMUS CAP 1 MG", tuple(DRUGS["J7525"])).split()


@pytest.mark.slow
@needs_shared
def test_no_candidate_of_another_kind_on_a_real_chargemaster():
    # Barton Memorial's lab lines, their codes hidden as benchmarks/suggest_accuracy.py does:
    # before the kind was read, 'HCHG ANTIBODY,CYTOMEGALOVIRUS,IGM' got 87332 (antigen) first.
    real = REALDATA
    result = run(
        RunOptions(
            real / "cdm" / "ca_barton_memorial_2018_cdm.xlsx",
            addendum_b=real / "hcpcs" / "OPPS_AddendumB_2026_April_softek.csv",
            as_of=dt.date(2026, 4, 1),
        )
    )
    frame, ref, config = result.lines.frame, result.reference, result.config
    lab = frame[frame["family"].eq("lab") & frame["coded_hcpcs"].notna()]
    lines = [d for d in lab["description"].dropna() if len(analytes(d)) == 1]
    assert len(lines) > 100
    s = Suggester(reference_catalog(ref, config, dt.date(2026, 4, 1)), config, {})
    found = s.candidates_many([(d, "lab") for d in lines])
    wrong = [
        (d, c)
        for d, cands in zip(lines, found, strict=True)
        for c, _, _ in cands
        if s._analytes(c) and not analytes(d) & s._analytes(c)
    ]
    assert wrong == []
    firsts = dict(zip(lines, (f[0][0] if f else None for f in found), strict=True))
    assert firsts["HCHG ANTIBODY,CYTOMEGALOVIRUS,IGM"] in {"86644", "86645"}
