"""PRICE-INCONSISTENT compares like with like (issue 11): lines under one code that bill another
code in a second code column, name other specimens or another lab method, or state another
contrast state are other items, not one item priced twice.

Rows: the header is CSV line 1, so the first line is row 2.
"""

import datetime as dt
import types

import pandas as pd
import pytest

from chargemaster.config import load_config
from chargemaster.errors import ConfigError
from chargemaster.rules import charge as C
from tests.conftest import line

RULE = "PRICE-INCONSISTENT"

# Addendum B short descriptors as CMS writes them (April 2026), for the codes used here.
ADDENDUM_B_ROWS = [
    ("71555", "Mri angio chest w or w/o dye", "B"),
    ("70551", "Mri brain stem w/o dye", "Q3"),
    ("93306", "Tte w/doppler complete", "S"),
    ("81025", "Urine pregnancy test", "Q4"),
    ("82139", "Amino acids quan 6 or more", "Q4"),
    ("82247", "Bilirubin total", "Q4"),
    ("82570", "Assay of urine creatinine", "Q4"),
    ("82270", "Occult blood feces", "A"),
    ("84403", "Assay of total testosterone", "Q4"),
    ("87522", "Hepatitis c revrs trnscrpj", "Q4"),
    ("80307", "Drug test prsmv chem anlyzr", "Q4"),
    ("82465", "Assay bld/serum cholesterol", "Q4"),
    ("72040", "X-ray exam neck spine 2-3 vw", "Q1"),
    ("74182", "Mri abdomen w/dye", "Q3"),
    ("84166", "Protein e-phoresis/urine/csf", "Q4"),
]


def addendum_b(tmp_path):
    path = tmp_path / "OPPS_AddendumB_2026_April_softek.csv"
    rows = ["HCPCSCode,ShortDescriptor,StatusIndicator,PaymentRate,Changed?,Source"]
    rows += [f'"{c}","{d}","{s}",,false,"2026-04"' for c, d, s in ADDENDUM_B_ROWS]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def found(result) -> dict[int, str]:
    f = result.findings
    hits = f[f["rule"].eq(RULE)]
    return dict(zip(hits["row"].astype(int), hits["message"], strict=True))


def checked(check, tmp_path, rows, **options):
    _, result = check(rows, addendum_b=addendum_b(tmp_path), as_of=dt.date(2026, 7, 1), **options)
    return found(result)


# 1. Every code column.

CPT_AND_HCPCS = ["CHG CODE", "DESCRIPTION", "CATEGORY", "CPT", "HCPCS", "PRICE"]


def test_a_second_code_column_with_other_codes_splits_the_group(check):
    # Redwood: 90471 in the CPT column, the Medicare code in the HCPCS column.
    rows = [
        ["C101100565", "ADMIN VAC INFLUENZA", "771", "90471", "G0008", "152"],
        ["C101100566", "ADMIN VAC PNEUMOCOCCAL", "771", "90471", "G0009", "131"],
        ["C101100567", "ADMIN VAC HEPATITIS B", "771", "90471", "G0010", "114"],
        ["C405100010", "ADMIN VAC INFLUENZA NS", "771", "90471", "G0008", "152"],
    ]
    _, result = check(rows, header=CPT_AND_HCPCS)
    assert found(result) == {}
    # A second column that is blank or repeats the code does not split: those two are like.
    rows.append(["C101100496", "ADMIN IMMUN VAC INIT", "771", "90471", "", "170"])
    rows.append(["C364100001", "ADMIN IMMUN VAC INIT", "771", "90471", "90471", "148"])
    rows.append(["C405100011", "ADMIN VAC INFLUENZA", "771", "90471", "G0008", "160"])
    _, result = check(rows, header=CPT_AND_HCPCS)
    got = found(result)
    assert sorted(got) == [2, 6]
    assert got[2].startswith("90471 (G0008) on revenue code 0771 is priced from 152.00 to 160.00")
    assert "(rows 2, 8)" in got[2]
    assert got[6].startswith("90471 on revenue code 0771 is priced from 148.00 to 170.00")


def test_other_codes_are_a_set_whatever_column_holds_them():
    lines = types.SimpleNamespace(
        check_source={"hcpcs__0": "CPT", "hcpcs__1": "HCPCS", "hcpcs__2": "ALT"},
        coded={
            "CPT": pd.Series(["90471", "90471", "90471", "90471"], dtype="str"),
            "HCPCS": pd.Series(["G0008", None, "90471", "G0009"], dtype="str"),
            "ALT": pd.Series([None, "G0008", "NOTACODE", "G0008"], dtype="str"),
        },
    )
    ctx = types.SimpleNamespace(lines=lines)
    code = pd.Series(["90471"] * 4, dtype="str")
    assert C._other_codes(ctx, code).tolist() == [" (G0008)", " (G0008)", "", " (G0008, G0009)"]


# 2. Specimen and 3. method.


def lab_terms(texts, codes):
    """The specimen and method key of each text under its code (no reference: descriptors
    unread)."""
    ctx = types.SimpleNamespace(config=load_config(), reference=None, as_of=dt.date(2026, 7, 1))
    desc = pd.Series(texts, dtype="str")
    return C._lab_terms(ctx, desc, pd.Series(codes, dtype="str")).tolist()


def test_specimens_are_read_whole_word_under_one_canonical_name():
    texts = [
        "CREAT UR",
        "CREATININE URINE",
        "NTX UR RAND-QNI",
        "URIC ACID",  # UR inside a word is no specimen
        "AMINO ACIDS QNT UR/BLD",
        "DRUG SCRN 9  MECONIUM-QNI",
        "CHLORIDE CSF",
        "PROTEIN SPINAL FLUID",
        "SODIUM FECES",
        "ZINC  RBC WHL BLOOD-QNI",
    ]
    codes = ["82570", "82570", "82523", "84550", "82139", "80307"]
    codes += ["82438", "84157", "84302", "84630"]
    assert lab_terms(texts, codes) == [
        " urine",
        " urine",
        " urine",
        "",
        " urine+blood",
        " meconium",
        " csf",
        " csf",
        " stool",
        " whole blood",
    ]


def test_a_specimen_named_on_one_line_only_keys_it_apart(tmp_path):
    # Hahnemann 5990: 'MANGANESE' is the whole-blood test beside 'MANGANESE PLASMA'.
    texts = ["BILIRUBIN TOT BLD", "BILIRUBIN TOT", "MANGANESE PLASMA", "MANGANESE"]
    codes = ["82247", "82247", "83785", "83785"]
    assert lab_terms(texts, codes) == [" blood", "", " plasma", ""]
    # A site can name the specimens its lines leave out when they mean the usual one.
    site = tmp_path / "site.toml"
    site.write_text('[price_inconsistent]\ndefault_specimens = ["blood"]\n', encoding="utf-8")
    ctx = types.SimpleNamespace(config=load_config(site), reference=None, as_of=dt.date(2026, 7, 1))
    got = C._lab_terms(ctx, pd.Series(texts, dtype="str"), pd.Series(codes, dtype="str"))
    assert got.tolist() == ["", "", " plasma", ""]


def test_specimen_words_key_lab_codes_only():
    # SER is a series and UR a fragment outside the lab: radiology and therapy lines are not read.
    texts = ["XR C SPINE 2V SER", "PT EVAL UR CLINIC", "CREAT UR"]
    assert lab_terms(texts, ["72040", "97161", "82570"]) == ["", "", " urine"]


def test_what_the_code_descriptor_names_is_every_line_s(check, tmp_path):
    # 81025 is a urine pregnancy test: 'PREGNANCY TEST URINE' is the test 'PREGNANCY TEST' is
    # (Jerold Phelps 1022-1024); 82270 is occult blood in feces.
    rows = [
        line(code="1", desc="PREGNANCY TEST", rev="0300", hcpcs="81025", price="75.30"),
        line(code="2", desc="PREGNANCY TEST URINE", rev="0300", hcpcs="81025", price="94.10"),
        line(code="3", desc="OCCULT BLOOD", rev="0300", hcpcs="82270", price="48.00"),
        line(code="4", desc="OCCULT BLOOD, STOOL", rev="0300", hcpcs="82270", price="344.50"),
    ]
    got = checked(check, tmp_path, rows)
    assert sorted(got) == [2, 4]
    assert got[2].startswith("81025 urine on revenue code 0300 is priced from 75.30 to 94.10")
    assert got[4].startswith("82270 blood+stool on revenue code 0300 is priced from 48.00")
    # Without the descriptors (no Addendum B) only the stated specimens key: both pairs split.
    _, result = check(rows)
    assert found(result) == {}


def test_methods_key_a_lab_code_unless_the_code_fixes_the_technique():
    texts = [
        "Testosterone, Total, LC/MS/MS Q",
        "TESTOSTERONE LC-MS/MS",
        "EGFR PCR-CLA",
        "EGFR-HTL",
        "NEUTROPHIL AB IGG ELISA",
        "HCV RNA QUANT R-T PCR /Q",  # 87522 is by nucleic acid amplification anyway
        "AMPHETAMINE CONF GC/MS",  # a definitive drug test is by mass spectrometry anyway
    ]
    codes = ["84403", "84403", "81235", "81235", "86021", "87522", "80324"]
    assert lab_terms(texts, codes) == [
        " LC-MS/MS",
        " LC-MS/MS",
        " PCR",
        "",
        " immunoassay",
        "",
        "",
    ]


def test_lab_lines_of_other_specimens_or_methods_are_not_compared(check, tmp_path):
    rows = [
        # Hahnemann 6327/6328: urine and blood amino acids against urine only.
        line(code="1", desc="AMINO ACIDS QNT UR/BLD", rev="0300", hcpcs="82139", price="755.46"),
        line(code="2", desc="AMINO ACIDS QNT URINE", rev="0300", hcpcs="82139", price="604.17"),
        # Chomp 4065/4077: meconium drug screen against a urine one.
        line(code="3", desc="DRUG SCRN 9  MECONIUM-QNI", rev="0300", hcpcs="80307", price="125.93"),
        line(code="4", desc="ETHYL GLUCUR UR-QNI", rev="0300", hcpcs="80307", price="57.90"),
        # Jerold Phelps 1228/1229: testosterone by immunoassay and by LC/MS/MS, both sent out.
        line(code="5", desc="Testosterone, Total, Males (adult), Q", rev="0301", hcpcs="84403"),
        line(code="6", desc="Testosterone, Total, LC/MS/MS Q", rev="0301", hcpcs="84403"),
    ]
    rows[4][4:6] = ["90", "7.90"]
    rows[5][4:6] = ["90", "8.85"]
    assert checked(check, tmp_path, rows) == {}


def test_lab_lines_naming_the_same_specimen_any_spelling_are_still_compared(check, tmp_path):
    rows = [
        line(code="1", desc="CREATININE UR", rev="0300", hcpcs="82570", price="15.00"),
        line(code="2", desc="CREATININE URINE", rev="0300", hcpcs="82570", price="63.00"),
        line(code="3", desc="BILIRUBIN TOT BLD", rev="0300", hcpcs="82247", price="45.00"),
        line(code="4", desc="BILIRUBIN TOT BLOOD", rev="0300", hcpcs="82247", price="20.00"),
        line(code="5", desc="HCV RNA QUANT / Q", rev="0300", hcpcs="87522", price="62.90"),
        line(code="6", desc="HCV RNA QUANT PCR /Q", rev="0300", hcpcs="87522", price="83.20"),
    ]
    got = checked(check, tmp_path, rows)
    assert sorted(got) == [2, 4, 6]
    assert got[2].startswith("82570 urine on revenue code 0300 is priced from 15.00 to 63.00")
    assert got[4].startswith("82247 blood on revenue code 0300 is priced from 20.00 to 45.00")
    assert got[6].startswith("87522 on revenue code 0300 is priced from 62.90 to 83.20")


def test_a_specimen_the_line_names_is_its_own_whatever_the_descriptor_allows(check, tmp_path):
    # Orange County 1645: 84166 covers urine or CSF; the CSF and the urine test are two tests.
    rows = [
        line(code="1", desc="PROTEIN ELECTRO CSF", rev="0300", hcpcs="84166", price="110"),
        line(code="2", desc="PROTEIN ELECTRO URINE", rev="0300", hcpcs="84166", price="180"),
    ]
    assert checked(check, tmp_path, rows) == {}
    # A line naming none takes the descriptor's: it is compared with one naming them all.
    rows[0] = line(code="1", desc="PROTEIN ELECTRO UR/CSF", rev="0300", hcpcs="84166", price="110")
    rows.append(line(code="3", desc="PROTEIN ELECTRO", rev="0300", hcpcs="84166", price="120"))
    got = checked(check, tmp_path, rows)
    assert sorted(got) == [2]
    assert got[2].startswith("84166 urine+csf on revenue code 0300 is priced from 110.00 to 120.00")


# 4. Contrast state.


def test_contrast_states_under_a_code_covering_any_are_not_compared(check, tmp_path):
    rows = [
        # Redwood 1972/1973: MRA chest with contrast, and without-then-with.
        line(code="1", desc="MRA CHEST W CONTRAST", rev="0618", hcpcs="71555", price="3670"),
        line(code="2", desc="MRA CHEST WO W CONTRAST", rev="0618", hcpcs="71555", price="3864"),
        line(code="3", desc="MRA CHEST W/O CONT", rev="0618", hcpcs="71555", price="3500"),
        # Redwood 1586/1587: echo, and echo with contrast, under 93306.
        line(code="4", desc="ECHO TTE W DOPPLER COMPLETE", rev="0483", hcpcs="93306", price="2754"),
        line(
            code="5", desc="ECHO TTE W DOPPLER COMP W CON", rev="0483", hcpcs="93306", price="3177"
        ),
    ]
    assert checked(check, tmp_path, rows) == {}
    rows.append(
        line(code="6", desc="MRA CHEST W & WO CONT", rev="0618", hcpcs="71555", price="3900")
    )
    got = checked(check, tmp_path, rows)
    assert sorted(got) == [3]
    assert got[3].startswith(
        "71555 with and without contrast on revenue code 0618 is priced from 3,864.00 to 3,900.00"
    )


def test_a_code_naming_one_contrast_state_keeps_its_lines_together(check, tmp_path):
    # 70551 is without contrast: a line saying so and one saying nothing are one exam.
    rows = [
        line(code="1", desc="MRI BRAIN WO CONTRAST", rev="0610", hcpcs="70551", price="2100"),
        line(code="2", desc="MRI BRAIN", rev="0610", hcpcs="70551", price="2400"),
    ]
    got = checked(check, tmp_path, rows)
    assert sorted(got) == [2]
    assert got[2].startswith("70551 on revenue code 0610 is priced from 2,100.00 to 2,400.00")


def test_another_contrast_state_under_a_one_state_code_is_another_exam(check, tmp_path):
    # Stanislaus 8392: 'MRI PITUITARY' without, with, and with-and-without contrast, all coded
    # 74182 ('Mri abdomen w/dye'), priced on the file's contrast tiers: the code is wrong
    # (DESCRIPTION-CODE-CONFLICT), not the price. The line stating the code's own state, and
    # one stating none, are still its exam.
    rows = [
        line(code="1", desc="MRI PITUITARY WO CONTRAST", rev="0610", hcpcs="74182", price="2205"),
        line(code="2", desc="MRI PITUITARY W CONTRAST", rev="0610", hcpcs="74182", price="2310"),
        line(code="3", desc="MRI PITUITARY WWO CONTRAST", rev="0610", hcpcs="74182", price="4218"),
    ]
    assert checked(check, tmp_path, rows) == {}
    rows.append(line(code="4", desc="MRI PITUITARY", rev="0610", hcpcs="74182", price="2400"))
    got = checked(check, tmp_path, rows)
    assert sorted(got) == [3]
    assert got[3].startswith("74182 on revenue code 0610 is priced from 2,310.00 to 2,400.00")


def test_a_send_out_department_keeps_its_lines_apart(check):
    # Orange County: arsenic 150 under account 'LAB - FAC DEF', 17.59 under 'LAB SEND-OUTS'.
    header = ["CDM #", "CDM Description", "Account Name", "Rev Code", "Price", "CPT"]
    rows = [
        ["6940051", "ARSENIC QUANTITATIVE", "LAB - FAC DEF", "300", "150", "82175"],
        ["7002175", "ARSENIC QUANTITATIVE", "LAB SEND-OUTS", "300", "17.59", "82175"],
    ]
    _, result = check(rows, header=header)
    assert result.lines.frame["department"].tolist() == ["LAB - FAC DEF", "LAB SEND-OUTS"]
    skipped = result.findings[result.findings["rule"].eq("RULE-SKIPPED")]
    assert not skipped["message"].str.contains(RULE).any()
    assert found(result) == {}
    rows.append(["6940052", "ARSENIC QUANTITATIVE", "LAB - FAC DEF", "300", "160", "82175"])
    _, result = check(rows, header=header)
    assert sorted(found(result)) == [2]


def test_the_file_s_own_inpatient_and_outpatient_prices_are_not_a_discrepancy(check):
    # Chomp: item 2770112 prices 97112 at 215 inpatient, 172 outpatient; two more items carry
    # one price each, 215 and 172: the inpatient and outpatient builds (the file's cost centre
    # column left out here, so that only the prices tell).
    header = ["ITEM", "DESCRIPTION", "TYPE", "DEF/IP PRICE", "OP PRICE", "CPT", "REV"]
    rows = [
        ["2770112", "NEUROMUSCULAR REEDUCATION", "CHARGES", "215", "172", "97112", "420"],
        ["2779112", "NEUROMUSCULAR REEDUCATION", "CHARGES", "215", "", "97112", "420"],
        ["2790112", "NEUROMUSCULAR REEDUCATION", "CHARGES", "172", "", "97112", "420"],
    ]
    _, result = check(rows, header=header)
    assert found(result) == {}
    rows.append(["2791112", "NEUROMUSCULAR REEDUCATION", "CHARGES", "190", "", "97112", "420"])
    _, result = check(rows, header=header)
    assert sorted(found(result)) == [3]


def test_a_code_no_loaded_release_lists_keys_by_the_stated_contrast(check, tmp_path):
    # Hahnemann 2278: 77058 (deleted in 2019, before the oldest release loaded here) without
    # contrast at one price, without-then-with at another: two exams, not one at two prices.
    rows = [
        line(code="1", desc="MRI BREAST UNI WO/ CM", rev="0610", hcpcs="77058", price="6124"),
        line(code="2", desc="MRI BREAST UNI WO/W CM", rev="0610", hcpcs="77058", price="7554"),
        line(code="3", desc="MRI BREAST UNI WO/W CM", rev="0610", hcpcs="77058", price="7600"),
    ]
    assert sorted(checked(check, tmp_path, rows)) == [3]
    _, result = check(rows)  # without Addendum B no descriptor says the code names one state
    assert sorted(found(result)) == [3]


# 5. Send-out brands.


def test_cardio_iq_lines_are_quest_send_outs(check, tmp_path):
    # Orange County 1333-1336: in-house cholesterol at 103, Quest's 'CARDIO IQ' build apart.
    rows = [
        line(code="4102465", desc="CHOLESTEROL TOTAL", rev="0300", hcpcs="82465", price="103"),
        line(code="4152465", desc="CHOLESTEROL TOTAL", rev="0300", hcpcs="82465", price="103"),
        line(
            code="6940063", desc="CARDIO IQ CHOLESTEROL", rev="0300", hcpcs="82465", price="76.75"
        ),
    ]
    assert checked(check, tmp_path, rows) == {}
    rows.append(
        line(code="7002465", desc="CARDIO IQ CHOLESTEROL", rev="0300", hcpcs="82465", price="16.67")
    )
    got = checked(check, tmp_path, rows)
    assert sorted(got) == [4]
    assert got[4].startswith(
        "82465 send-out blood+serum on revenue code 0300 is priced from 16.67 to 76.75"
    )


# Found on the fresh draw (s5): a professional-component line, a glued secondary prefix, a code
# for many analytes.


def test_professional_and_secondary_lines_are_not_like_the_global_one(check):
    rows = [
        # Eastern Plumas 1211/1588: the reading alone ('-PC', a professional department).
        line(code="1", desc="RIBS BILATERAL 4 VIEWS", rev="0320", hcpcs="71111", price="435"),
        line(code="2", desc="RIBS BILATERAL 4 VIEWS-PC", rev="0320", hcpcs="71111", price="128"),
        line(code="3", desc="ECG WITH REPORT PRO FEE", rev="0730", hcpcs="93000", price="40"),
        line(code="4", desc="ECG WITH REPORT", rev="0730", hcpcs="93000", price="120"),
        # Stanislaus 7292/8331: a secondary procedure at half, 'SEC' glued to the modality.
        line(code="5", desc="SECMR ANGIO LOW JOINT WWO CONTRAST RIGHT", rev="0616", hcpcs="73725"),
        line(code="6", desc="MR ANGIO LOW JOINT WWO CONTRAST RIGHT", rev="0616", hcpcs="73725"),
    ]
    rows[4][5], rows[5][5] = "1081.50", "2163.00"
    _, result = check(rows)
    assert found(result) == {}
    rows.append(line(code="7", desc="CHEST 2 VIEWS-PC", rev="0320", hcpcs="71046", price="89"))
    rows.append(line(code="8", desc="CHEST 2 VIEWS PC", rev="0320", hcpcs="71046", price="95"))
    _, result = check(rows)
    got = found(result)
    assert sorted(got) == [8]
    assert got[8].startswith("71046 PC on revenue code 0320 is priced from 89.00 to 95.00")


def test_modifier_50_as_the_description_s_last_word_is_bilateral(check):
    # Sutter 6414-6416: no modifier column; the bilateral line carries '50' at the end.
    header = ["ID", "SERVICE_SETTING", "DESCRIPTION", "CPT", "REVENUE_CODE", "Gross Charge"]
    rows = [
        ["OP-1", "OUTPATIENT", "HCHG VENOGRAM EXTREMITY INJECTION LT", "36005", "0361", "1339"],
        ["OP-2", "OUTPATIENT", "HCHG VENOGRAM EXTREMITY INJECTION RT", "36005", "0361", "1339"],
        ["OP-3", "OUTPATIENT", "HCHG VENOGRAM EXTREMITY INJECTION 50", "36005", "0361", "2008"],
        # A 50 that is not the last word is a number ('50 GRAM'), not the modifier.
        ["OP-4", "OUTPATIENT", "HCHG GLUCOSE PRENATAL 50 GRAM SCREEN", "82950", "0301", "60"],
        ["OP-5", "OUTPATIENT", "HCHG GLUCOSE PRENATAL 50 GRAM SCREEN", "82950", "0301", "70"],
    ]
    _, result = check(rows, header=header)
    got = found(result)
    assert sorted(got) == [5]
    assert got[5].startswith("82950 (outpatient) on revenue code 0301 is priced from 60.00")


def test_stated_levels_and_reduced_services_are_tiers_not_slips(check):
    rows = [
        # Sutter: clinic visit levels, all G0463, priced by level.
        line(code="1", desc="HCHG CLINIC LEVEL 1", rev="0510", hcpcs="G0463", price="351"),
        line(code="2", desc="HCHG CLINIC LEVEL 2", rev="0510", hcpcs="G0463", price="407"),
        line(code="3", desc="E&M EST PATIENT LVL IV", rev="0510", hcpcs="G0463", price="771"),
        # Redwood 1725: the reduced wrist series (modifier 52) below the full one.
        line(code="4", desc="XR WRIST 2 VIEWS LT", rev="0320", hcpcs="73100", price="801"),
        line(code="5", desc="XR WRIST 2 VIEWS LT REDUCED", rev="0320", hcpcs="73100", price="546"),
    ]
    _, result = check(rows)
    assert found(result) == {}
    rows.append(
        line(code="6", desc="E&M EST PATIENT LVL IV OP", rev="0510", hcpcs="G0463", price="780")
    )
    _, result = check(rows)
    got = found(result)
    assert sorted(got) == [4]
    assert got[4].startswith("G0463 level 4 on revenue code 0510 is priced from 771.00 to 780.00")


def test_a_chromatography_code_for_many_analytes_is_not_compared(check):
    # Orange County 1337/1338: porphyrins and caffeine, both 82491.
    rows = [
        line(code="1", desc="PORPHYRINS, TOTAL PLASMA", rev="0300", hcpcs="82491", price="78"),
        line(code="2", desc="CAFFEINE QUANT", rev="0300", hcpcs="82491", price="26"),
    ]
    _, result = check(rows)
    assert found(result) == {}


# 6. Only lines that describe the same item.


def test_only_lines_describing_the_same_item_are_compared(check):
    rows = [
        # Chomp 3669: two analytes under one drug-class code; Chomp 4372: BRAF and a RAS/RAF
        # panel under 81210; Stanislaus 6269: a renal doppler under the abdominal ultrasound code.
        line(code="1", desc="ACETAMINOPHEN", rev="0301", hcpcs="80329", price="339"),
        line(code="2", desc="SALICYLATE, QUANTITATIVE", rev="0301", hcpcs="80329", price="180"),
        line(code="3", desc="BRAF-CLA", rev="0310", hcpcs="81210", price="200"),
        line(code="4", desc="RAS/RAF-CLA", rev="0310", hcpcs="81210", price="1300"),
        line(code="5", desc="US ABDOMEN COMPLETE", rev="0402", hcpcs="76700", price="649"),
        line(code="6", desc="US ARTERIAL DOPPLER RENAL", rev="0402", hcpcs="76700", price="927"),
        # Sutter 2999: a word more names another build (the core lab's); Los Robles 33375: two
        # influenza A antigen lines at 415.75 and 57.00, influenza B apart.
        line(code="7", desc="HCHG CORE CHOLESTEROL", rev="0301", hcpcs="82465", price="40"),
        line(code="8", desc="HCHG CHOLESTEROL", rev="0301", hcpcs="82465", price="55"),
        line(code="9", desc="INFLUENZA A AG EIA", rev="0306", hcpcs="87400", price="415.75"),
        line(code="10", desc="INFLUENZA A AG EIA", rev="0306", hcpcs="87400", price="57.00"),
        line(code="11", desc="INFLUENZA B AG EIA", rev="0306", hcpcs="87400", price="66.00"),
        # A side named in words is the same exam: left and right alike.
        line(code="12", desc="XR ANKLE 3V LT", rev="0320", hcpcs="73610", price="623"),
        line(code="13", desc="XR ANKLE 3 VIEWS RIGHT", rev="0320", hcpcs="73610", price="700"),
    ]
    _, result = check(rows)
    got = found(result)
    assert sorted(got) == [10, 13]
    assert got[10].startswith("87400 on revenue code 0306 is priced from 57.00 to 415.75 across 2")
    assert "(rows 10, 11)" in got[10]


# Configuration.


def test_specimen_and_method_tables_are_configurable(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text(
        '[price_inconsistent.methods]\nflow = ["FLOW CYTOMETRY", "FLOW"]\n', encoding="utf-8"
    )
    ctx = types.SimpleNamespace(config=load_config(site), reference=None, as_of=dt.date(2026, 7, 1))
    desc = pd.Series(["CD4 COUNT FLOW", "TESTOSTERONE LC/MS/MS"], dtype="str")
    got = C._lab_terms(ctx, desc, pd.Series(["86359", "84403"], dtype="str")).tolist()
    assert got == [" flow", ""]  # the user's table replaces the methods wholly


def test_a_usual_specimen_the_table_does_not_define_is_a_config_error(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('[price_inconsistent]\ndefault_specimens = ["blod"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="default_specimens names blod"):
        load_config(site)


# Departments and half-price pairs.

DEPT_HEADER = ["Charge Code", "Description", "Dept", "Revenue Code", "HCPCS", "Price"]
# Los Robles prices the items its departments 728 and 795 share lower in 795, all 122 of them:
# each department's price list.
TIERED = [
    ("BASIC METABOLIC PANEL", "80048", "212", "48"),
    ("CBC W AUTO DIFF", "85025", "162", "31"),
    ("PROTHROMBIN TIME", "85610", "98", "20"),
]


def in_departments(check, rows, header=DEPT_HEADER):
    """The PRICE-INCONSISTENT findings, row -> message, of these lines under this header."""
    _, result = check(rows, header=header)
    return found(result)


def two_departments(pairs=TIERED):
    rows = []
    for n, (desc, code, high, low) in enumerate(pairs):
        rows.append([f"7{n:03}", desc, "728", "0300", code, high])
        rows.append([f"9{n:03}", desc, "795", "0300", code, low])
    return rows


def test_one_item_in_two_departments_is_two_builds(check):
    assert in_departments(check, two_departments()) == {}


def test_one_item_twice_in_one_department_is_reported_with_it(check):
    rows = two_departments()
    rows.append(["9100", "CBC W AUTO DIFF", "795", "0300", "85025", "36"])  # 795: 31 and 36
    got = in_departments(check, rows)
    assert sorted(got) == [5]
    assert got[5].startswith("85025 in department 795 on revenue code 0300 is priced from 31.00 to")
    assert "36.00 across 2 active lines (rows 5, 8)" in got[5]


def test_without_a_department_column_the_whole_file_is_one_department(check):
    rows = [
        [code, desc, rev, hcpcs, price] for code, desc, _, rev, hcpcs, price in two_departments()
    ]
    header = ["Charge Code", "Description", "Revenue Code", "HCPCS", "Price"]
    assert sorted(in_departments(check, rows, header)) == [2, 4, 6]


def test_department_names_are_read_whatever_their_spacing_and_case(check):
    rows = [
        ["1", "CBC W AUTO DIFF", "Main  Lab", "0300", "85025", "31"],
        ["2", "CBC W AUTO DIFF", "MAIN LAB ", "0300", "85025", "36"],
    ]
    got = in_departments(check, rows)
    assert list(got) == [2]
    assert got[2].startswith("85025 in department MAIN LAB on revenue code 0300")


def test_a_column_with_a_value_per_line_is_no_department(check):
    # A charge code under a 'CC' header: every line its own 'department' would never compare.
    rows = [
        [f"1{n:05}", "CBC W AUTO DIFF", f"1{n:05}", "0300", "85025", str(40 + n % 2)]
        for n in range(20)
    ]
    got = in_departments(check, rows)
    assert list(got) == [2]
    assert "across 20 active lines" in got[2]


def test_a_cost_centre_column_headed_cc_is_the_department(check):
    # Chomp: inpatient therapy cost centre 4779 over its outpatient twin 4790 on every item.
    header = ["ITEM", "DESCRIPTION", "CC", "TYPE", "DEF/IP PRICE", "CPT", "REV"]
    items = [
        ("OT EVAL LOW CMPLX", "97165", "353", "282"),
        ("OT EVAL MOD CMPLX", "97166", "424", "339"),
        ("OT EVAL HIGH CMPLX", "97167", "494", "395"),
        ("OT MANUAL THERAPY", "97140", "205", "163"),
        ("OT THERAPEUTIC EXERCISE", "97110", "205", "164"),
    ]
    rows = []
    for n, (desc, code, ip, op) in enumerate(items):
        rows.append([f"27{n}", desc, "4779", "CHARGES", ip, code, "434"])
        rows.append([f"29{n}", desc, "4790", "CHARGES", op, code, "434"])
    _, result = check(rows, header=header)
    assert result.lines.frame["department"].head(2).tolist() == ["4779", "4790"]
    assert found(result) == {}


def test_two_prices_one_exactly_half_the_other_are_tiers(check, tmp_path):
    # Stanislaus 6667: 64405 at 1,623 and 811.50, the file's secondary-procedure price.
    def nerve_block(code, price):
        return line(
            code=code, desc="INJ GREATER OCCIPITAL NERVE", rev="0360", hcpcs="64405", price=price
        )

    rows = [nerve_block("502205", "1623.00"), nerve_block("502514", "811.50")]
    _, result = check(rows)
    assert found(result) == {}
    _, result = check([rows[0], nerve_block("502514", "811.49")])  # a cent off half: a slip
    assert sorted(found(result)) == [2]
    _, result = check([*rows, nerve_block("502515", "1000.00")])  # a third price: a slip
    assert sorted(found(result)) == [2]
    site = tmp_path / "site.toml"
    site.write_text("[price_inconsistent]\nhalf_price_tier = false\n", encoding="utf-8")
    _, result = check(rows, config=site)
    assert sorted(found(result)) == [2]


def test_the_half_price_setting_is_checked(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('[price_inconsistent]\nhalf_price_tier = "yes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="half_price_tier' must be a bool"):
        load_config(site)
