"""Issue 11, second pass: the classes of line behind the wrong and debatable first suggestions
and conflicts of the fresh sample s4. Each test uses a line shaped like the real ones."""

import datetime as dt

import pytest

from chargemaster.config import load_config
from chargemaster.suggest import (
    Catalog,
    Suggester,
    catch_all,
    key_terms,
    normalize,
    route_fits,
    routes,
    tokens,
)
from tests.conftest import line

AS_OF = dt.date(2026, 5, 1)


def make_suggester(texts: dict[str, list[str]], family: str, local=None) -> Suggester:
    codes = [c for c, ts in texts.items() for _ in ts]
    flat = [t for ts in texts.values() for t in ts]
    catalog = Catalog(codes, flat, [normalize(t) for t in flat], [family] * len(flat))
    return Suggester(catalog, load_config(), local or {})


def codes_for(s: Suggester, desc: str, family: str) -> list[str]:
    return [c for c, _, _ in s.candidates(desc, family)]


def addendum(tmp_path, codes: dict[str, str]):
    path = tmp_path / "OPPS_AddendumB_2026_April.csv"
    body = "".join(f"{c},{d},Q3\n" for c, d in codes.items())
    path.write_text("HCPCSCode,ShortDescriptor,StatusIndicator\n" + body)
    return path


def rule_rows(result, rule):
    f = result.findings
    return f[f["rule"].eq(rule)]


# 1. Catch-all lines


@pytest.mark.parametrize(
    "desc, unlisted",
    [
        ("MISC LAB", ""),
        ("HCHG MISC LAB #2", ""),
        ("SUPPLY NOS", ""),
        ("MISCELLANEOUS", ""),
        ("OTHER", ""),
        ("MISC XRAY PROCEDURE", "76499"),
        ("UNLISTED US PROC", "76999"),
        ("MISC CT", "76497"),
        ("MISC CHEMISTRY", "84999"),
        ("MISC RADIOLOGY", ""),  # radiology has an unlisted code per modality, not one
        ("MISC PATH CONSULT", None),  # names a service
        ("CBC W AUTO DIFF", None),
        ("XR CHEST 2V", None),
    ],
)
def test_catch_all_lines_and_their_section(desc, unlisted):
    assert catch_all(normalize(desc)) == unlisted


def test_catch_all_line_shows_no_specific_code_in_issues(check, tmp_path):
    add_b = addendum(
        tmp_path,
        {
            "89240": "Unlisted misc path test",
            "74445": "X-ray exam of penis",
            "76499": "Unlisted dx radiographic px",
        },
    )
    rows = [
        line(code="1", rev="0300", hcpcs="", desc="MISC LAB"),
        line(code="2", rev="0320", hcpcs="", desc="MISC XRAY PROCEDURE"),
    ]
    pairs, result = check(rows, addendum_b=add_b, as_of=AS_OF)
    table = result.suggestions
    # 'MISC LAB' fits no one code: it is coded at charge entry, so it needs no static code and
    # gets no candidates; the x-ray line shows only the unlisted x-ray code.
    assert table.loc[table["Row"].eq(2)].empty
    missing = rule_rows(result, "HCPCS-MISSING").set_index("row")
    assert list(missing.index) == [3]
    assert missing.loc[3, "suggested"] == "76499 (1.00)"
    shown = rule_rows(result, "HCPCS-SUGGESTED").set_index("row")
    assert list(shown.index) == [3] and shown.loc[3, "suggested"] == "76499"
    assert "74445" not in shown.loc[3, "message"]


# 2. Several body regions in one imaging line

CT = {
    "72193": ["Ct pelvis w/dye"],
    "74177": ["Ct abd & pelv w/contrast"],
    "74176": ["Ct abd & pelvis w/o contrast"],
    "71260": ["Ct thorax dx c+"],
}


def test_a_code_for_some_of_the_regions_named_is_not_offered():
    s = make_suggester(CT, "radiology")
    got = codes_for(s, "CT CHEST ABDOMEN PELVIS W CONTRAST", "ct")
    assert not {"72193", "74177", "71260"} & set(got)  # billed 71260 + 74177: no single code
    assert codes_for(s, "CT ABDOMEN PELVIS W CONTRAST", "ct")[0] == "74177"
    assert codes_for(s, "CT PELVIS W CONTRAST", "ct")[0] == "72193"


def test_a_local_line_for_fewer_regions_is_not_offered_either():
    local = {normalize("CT ABDOMEN PELVIS W CONTRAST"): ("74177", "35012345")}
    s = make_suggester(CT, "radiology", local)
    assert "74177" not in codes_for(s, "CT CHEST ABDOMEN PELVIS W CONTRAST", "ct")


def test_regions_included_or_left_out_need_no_code_of_their_own():
    s = make_suggester(
        {"73502": ["X-ray exam hip uni 2-3 views"], "71275": ["Ct angiography chest"]},
        "radiology",
    )
    assert codes_for(s, "XR HIP UNI W/WO PELVIS 2-3 VW", "radiology")[:1] == ["73502"]
    assert codes_for(s, "CT ANGIO, CHEST (NON-CORON), INCL IMG PROC", "ct")[:1] == ["71275"]


def test_renal_and_bladder_ultrasound_is_one_retroperitoneal_exam():
    s = make_suggester({"76770": ["Us exam abdo back wall comp retroperitoneal"]}, "radiology")
    assert codes_for(s, "US RENAL BLADDER COMPLETE", "imaging")[:1] == ["76770"]


def test_conflict_still_names_the_code_for_the_regions_the_line_code_covers(check, tmp_path):
    add_b = addendum(tmp_path, {c: t[0] for c, t in CT.items()})
    rows = [line(rev="0352", hcpcs="74176", desc="CT CHEST ABD PELVIS W/CONT")]
    _, result = check(rows, addendum_b=add_b, as_of=AS_OF)
    found = rule_rows(result, "DESCRIPTION-CODE-CONFLICT")
    assert found["suggested"].tolist() == ["74177"]


# 3. Drug routes

DRUGS = {
    "J0132": ["Acetylcysteine injection", "Injection, acetylcysteine, 100 mg"],
    "J2001": ["Lidocaine injection", "Injection, lidocaine hcl for intravenous infusion, 10 mg"],
    "J2405": ["Ondansetron hcl injection", "Injection, ondansetron hydrochloride, per 1 mg"],
    "Q0162": ["Ondansetron oral", "Ondansetron 1 mg, oral, fda approved prescription anti-emetic"],
}


@pytest.mark.parametrize(
    "desc, code, offered",
    [
        ("ACETYLCYSTEINE INH SOL", "J0132", False),  # inhalation solution is J7608
        ("ACETYLCYSTEINE 20% NEB 4ML", "J0132", False),
        ("Acetylcysteine INJ 6g/30ml", "J0132", True),
        ("LIDOCAINE LOCAL 1-2CC INJ", "J2001", False),  # infiltration, not IV infusion
        ("LIDOCAINE 2% JELLY 5ML", "J2001", False),
        ("LIDOCAINE 100MG/5ML IV SYRINGE", "J2001", True),
        ("ONDANSETRON 4MG TAB", "J2405", False),
        ("ONDANSETRON 4MG TAB", "Q0162", True),
        ("ONDANSETRON 4MG/2ML INJ", "Q0162", False),
        ("ONDANSETRON 4MG/2ML INJ", "J2405", True),
    ],
)
def test_a_route_the_descriptor_contradicts_disqualifies_the_drug_code(desc, code, offered):
    s = make_suggester(DRUGS, "drugs")
    assert (code in codes_for(s, desc, "drugs_detailed")) is offered


def test_routes_read_from_shorthand():
    assert routes("ACETYLCYSTEINE INH SOL") == {"inhalation"}
    assert routes("Injection, lidocaine hcl for intravenous infusion, 10 mg") == {
        "injection",
        "intravenous",
    }
    # 'INH' is also isoniazid: a line stating two routes is not judged.
    assert route_fits("INH 300MG TAB", frozenset({"injection"}))
    assert route_fits("CEFTRIAXONE 1GM", frozenset({"injection"}))  # no route stated


# 4. Conflicts


def terms(text):
    return key_terms(tokens(text), text)


@pytest.mark.parametrize(
    "desc", ["MRI ORBIT FACE NECK WO &", "CT HEAD W/O &", "MRI BRAIN WO&", "CT SINUS NO & *"]
)
def test_with_or_without_cut_after_an_ampersand_is_with_and_without(desc):
    assert terms(desc).contrast == "with and without"


def test_no_conflict_on_a_description_cut_at_the_field_width(check, tmp_path):
    add_b = addendum(
        tmp_path,
        {"70543": "Mri orbt/fac/nck w/o &w/dye", "70540": "Mri orbit/face/neck w/o dye"},
    )
    rows = [line(rev="0610", hcpcs="70543", desc="MRI ORBIT FACE NECK WO &")]
    _, result = check(rows, addendum_b=add_b, as_of=AS_OF)
    assert rule_rows(result, "DESCRIPTION-CODE-CONFLICT").empty


RIBS = {
    "71100": "X-ray exam ribs uni 2 views",
    "71110": "X-ray exam ribs bil 3 views",
    "71046": "X-ray exam chest 2 views",
    "77067": "Scr mammo bi incl cad",
    "77065": "Dx mammo incl cad uni",
}
NO_MODIFIER_COLUMN = ["Charge Code", "Description", "Rev Code", "HCPCS", "Price", "Status"]


def without_modifier(row):
    return row[:4] + row[5:]


def test_side_a_modifier_settles_is_no_conflict_where_modifiers_cannot_be_seen(check, tmp_path):
    add_b = addendum(tmp_path, RIBS)
    rows = [
        line(code="1", rev="0320", hcpcs="71100", desc="RIBS BILAT 2 VIEWS"),
        line(code="2", rev="0401", hcpcs="77067", desc="MAMMO SCREENING UNILATERAL RT W CAD"),
        # Another term still conflicts: reported whatever the modifier.
        line(code="3", rev="0401", hcpcs="77067", desc="MAMMO DIAGNOSTIC UNILATERAL LT"),
    ]
    _, result = check(
        [without_modifier(r) for r in rows],
        header=NO_MODIFIER_COLUMN,
        addendum_b=add_b,
        as_of=AS_OF,
    )
    found = rule_rows(result, "DESCRIPTION-CODE-CONFLICT")
    assert found["row"].tolist() == [4]
    assert "screening" in found.iloc[0]["message"]
    # With a modifier column, a line without 50 / 52 is missing it: reported.
    _, result = check(rows, addendum_b=add_b, as_of=AS_OF)
    found = rule_rows(result, "DESCRIPTION-CODE-CONFLICT").set_index("row")
    assert sorted(found.index) == [2, 3, 4]
    assert "side: bilateral vs unilateral" in found.loc[2, "message"]


def test_a_rib_series_is_not_a_chest_x_ray(check, tmp_path):
    add_b = addendum(tmp_path, RIBS)
    rows = [line(rev="0320", hcpcs="71100", desc="RIBS BILAT 2 VIEWS")]
    _, result = check(rows, addendum_b=add_b, as_of=AS_OF)
    found = rule_rows(result, "DESCRIPTION-CODE-CONFLICT")
    assert len(found) == 1 and found.iloc[0]["suggested"] is None  # never 71046 (chest)
    assert terms("RIBS BILAT 2 VIEWS").body == {"RIBS"}
