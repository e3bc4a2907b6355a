"""PRICE-BELOW-FEE-SCHEDULE: fee schedule loaders on excerpts of the real CMS layouts (CPT
descriptors left out: AMA copyright), the comparison's boundaries, modifier-specific rates,
as-of picking, the price column, the CLI and the report."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from chargemaster.config import load_config
from chargemaster.feeschedule import (
    FeeSchedules,
    load_fee_schedules,
    pick,
    price_column,
    read_clfs,
    read_opps_rates,
)
from chargemaster.pipeline import RunOptions, run
from tests.conftest import REALDATA, line, needs_shared, write_csv

RULE = "PRICE-BELOW-FEE-SCHEDULE"
CLFS_HEADER = "YEAR,HCPCS,MOD,EFF_DATE,INDICATOR,RATE,SHORTDESC,LONGDESC,EXTENDED LONGDESC"


def clfs_csv(path, rows, year="2025", title=True):
    """A CLFS file as CMS ships it: title, copyright and note lines (one with a cp1252 quote
    and quoted commas), a blank line, the header on line 5, CRLF, zero-padded rates."""
    lines = []
    if title:
        lines += [
            f"{year} Clinical Diagnostic Laboratory Fee Schedule ,,,,,,,,",
            '"Codes, descriptions and other data: copyright notice here.",,,,,,,,',
            '"The PHE note: codes G2023, G2024 won\u2019t be payable after May 11, 2023.",,,,,,,,',
            ",,,,,,,,",
        ]
    lines.append(CLFS_HEADER)
    for code, mod, eff, ind, rate in rows:
        lines.append(f"{year},{code},{mod},{eff},{ind},{rate},,,")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


# Rates of the CMS 2025 Q2 file; the QW rate of 87880 is made different here to test that a
# modifier priced apart is used (CMS has priced waived tests apart in some releases).
Q2_ROWS = [
    ("0001U", "", "20250101", "N", "00720.00"),
    ("0020M", "", "20250101", "L", "00000.00"),  # local pricing: no national amount
    ("85025", "", "20250101", "N", "00007.77"),
    ("85025", "QW", "20250101", "N", "00007.77"),
    ("87880", "", "20250101", "N", "16.53"),
    ("87880", "QW", "20250101", "N", "00018.00"),
    ("0537U", "", "20250401", "N", "01495.00"),
]


@pytest.fixture
def clfs_q2(tmp_path):
    return clfs_csv(tmp_path / "CLFS_2025_Q2.csv", Q2_ROWS)


def test_clfs_csv_as_cms_ships_it(clfs_q2):
    s = read_clfs(clfs_q2)
    rates = s.rates.set_index(["code", "modifier"])["rate"]
    assert rates[("0001U", "")] == 720.0  # '00720.00'
    assert rates[("87880", "")] == 16.53  # not every rate is padded
    assert rates[("87880", "QW")] == 18.0
    assert rates[("0020M", "")] == 0.0
    assert s.rates.set_index(["code", "modifier"])["status"][("0020M", "")] == "L"
    assert len(s.rates) == 7
    r = s.release
    assert (r.name, r.start, r.valid_through) == (
        "CLFS 2025-Q2",
        dt.date(2025, 4, 1),
        dt.date(2025, 6, 30),
    )
    assert r.count == 7 and r.source == "CLFS_2025_Q2.csv"


def test_clfs_xlsx_copy(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["2026 Clinical Diagnostic Laboratory Fee Schedule"])
    ws.append(["Copyright notice"])
    ws.append(["A note"])
    ws.append([])
    ws.append(CLFS_HEADER.split(","))
    ws.append(["2026", "85025", None, "20260101", "N", "00007.80"])
    ws.append([2026, "80053", "QW", 20260101, "N", 10.6])  # numbers as Excel stores them
    wb.save(tmp_path / "PUF_CLFS_CY2026_Q1V1.xlsx")
    s = read_clfs(tmp_path / "PUF_CLFS_CY2026_Q1V1.xlsx")
    rates = s.rates.set_index(["code", "modifier"])["rate"]
    assert rates.to_dict() == {("85025", ""): 7.8, ("80053", "QW"): 10.6}
    assert (s.release.name, s.release.start) == ("CLFS 2026-Q1", dt.date(2026, 1, 1))


def test_clfs_quarter_from_effective_dates_when_the_name_has_none(tmp_path):
    s = read_clfs(clfs_csv(tmp_path / "lab_fees.csv", Q2_ROWS))
    assert (s.release.start, s.release.valid_through) == (dt.date(2025, 4, 1), dt.date(2025, 6, 30))
    s = read_clfs(clfs_csv(tmp_path / "25CLABQ3.csv", Q2_ROWS))
    assert s.release.start == dt.date(2025, 7, 1)


def test_clfs_without_its_header_is_refused(tmp_path):
    from chargemaster.errors import InputError

    path = tmp_path / "CLFS_2025_Q2.csv"
    path.write_text("HCPCS,PRICE\n85025,7.77\n", encoding="utf-8")
    with pytest.raises(InputError, match="Clinical Laboratory Fee Schedule"):
        read_clfs(path)


def addendum_b_xlsx(path, rows):
    """The CMS workbook: title and copyright lines, the header on line 4 with padded names,
    numbers for rates, a short descriptor column (left blank here)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "2023 January Addendum B"
    ws.append(["OPPS Addendum B.-Final OPPS Payment by HCPCS Code for CY 2023"])
    ws.append(["CPT codes and descriptions only are copyright 2022 American Medical Association."])
    ws.append(["Dental codes copyright American Dental Association."])
    ws.append(
        [
            "HCPCS Code",
            "Short Descriptor",
            " SI",
            "APC ",
            "Relative Weight ",
            "Payment Rate ",
            "National Unadjusted Copayment ",
        ]
    )
    for code, si, rate in rows:
        ws.append([code, None, si, "5521", None, rate, None])
    wb.save(path)
    return path


def test_addendum_b_workbook_rates(tmp_path):
    path = addendum_b_xlsx(
        tmp_path / "OPPS_AddendumB_2023_January.xlsx",
        [
            ("71046", "Q3 ", 88.91),
            ("70450", "S", 106.81),
            ("J1100", "N", None),
            ("A4341\xa0", "N", None),
            ("93306", "S", 558.25),
        ],
    )
    s = read_opps_rates(path)
    rates = s.rates.set_index("code")
    assert rates.loc["71046", "rate"] == 88.91 and rates.loc["71046", "status"] == "Q3"
    assert "A4341" in rates.index  # the NBSP is gone
    assert rates["rate"].isna().sum() == 2
    assert (s.release.name, s.release.start, s.release.count) == (
        "OPPS Addendum B 2023-01",
        dt.date(2023, 1, 1),
        3,  # codes with a rate
    )


def test_addendum_b_csv_with_dollar_text_and_softek_layout(tmp_path):
    path = tmp_path / "addendum_b_2026_april.csv"
    path.write_text(
        'HCPCS Code,Short Descriptor,SI,APC,Payment Rate\n93306,,S,5524,"$1,234.50"\n36415,,Q4,,\n',
        encoding="utf-8",
    )
    rates = read_opps_rates(path).rates.set_index("code")["rate"]
    assert rates["93306"] == 1234.5
    softek = tmp_path / "sample.csv"
    softek.write_bytes(
        b"HCPCSCode,ShortDescriptor,StatusIndicator,PaymentRate,Changed?,Source\r\n"
        b"71046,,Q3,88.91,false,2026-04\r\nG0465\xa0,,N,,false,2026-04\r\n"
    )
    s = read_opps_rates(softek)
    assert s.release.start == dt.date(2026, 4, 1)
    assert s.rates.set_index("code")["rate"].to_dict() == pytest.approx(
        {"71046": 88.91, "G0465": float("nan")}, nan_ok=True
    )


def test_addendum_b_without_rates_prices_nothing(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("HCPCS Code,SI\n71046,Q3\n", encoding="utf-8")
    assert read_opps_rates(path) is None
    assert not load_fee_schedules(None, path).loaded


@pytest.fixture
def fee_check(check, clfs_q2):
    def _run(rows, **options):
        options.setdefault("clfs", (clfs_q2,))
        options.setdefault("as_of", dt.date(2025, 5, 1))
        pairs, result = check(rows, **options)
        f = result.findings
        return f[f["rule"].eq(RULE)], result

    return _run


def test_price_equal_to_the_rate_is_fine_one_cent_below_fires(fee_check):
    found, result = fee_check(
        [
            line(code="1", hcpcs="85025", price="7.77"),
            line(code="2", hcpcs="85025", price="7.76", rev="0300"),
            line(code="3", hcpcs="0001U", price="719.50"),
            line(code="4", hcpcs="0001U", price="720.00", rev="0300"),
        ]
    )
    assert found["row"].tolist() == [3, 4]
    first = found.set_index("row").loc[3]
    assert (first["value"], first["suggested"], first["column"]) == ("7.76", "7.77", "Price")
    assert "priced 7.76" in first["message"] and "rate 7.77" in first["message"]
    assert "0.01 per unit" in first["message"] and "CLFS 2025-Q2 national limit" in first["message"]
    below = result.below_fee
    assert below["row"].tolist() == [4, 3]  # the largest gap first
    assert below["gap"].tolist() == [0.5, 0.01]
    assert result.stats["below_medicare"] == {"lines": 2, "gap_per_unit": 0.51}


def test_modifier_specific_rate(fee_check):
    found, result = fee_check(
        [
            line(code="1", hcpcs="87880", mod="QW", price="17.00"),  # QW rate 18.00: fires
            line(code="2", hcpcs="87880", mod="", price="17.00", rev="0300"),  # 16.53: fine
            line(code="3", hcpcs="87880", mod="91", price="16.00", rev="0306"),  # base 16.53
        ]
    )
    got = found.set_index("row")
    assert got.index.tolist() == [2, 4]
    assert got.loc[2, "suggested"] == "18.00" and "modifier QW" in got.loc[2, "message"]
    assert got.loc[4, "suggested"] == "16.53" and "modifier" not in got.loc[4, "message"]


def test_local_and_inactive_lines_and_unpriced_codes_are_not_compared(fee_check):
    found, _ = fee_check(
        [
            line(code="1", hcpcs="0020M", price="1.00"),  # L: no national amount
            line(code="2", hcpcs="85025", price="1.00", status="I"),  # inactive
            line(code="3", hcpcs="85027", price="1.00"),  # not in the schedule
            line(code="4", hcpcs="85025", price="0"),  # PRICE-ZERO's business
        ]
    )
    assert found.empty


def test_a_line_priced_per_drug_class_is_not_compared_with_the_days_rate(check, tmp_path):
    # 80307 is paid once per day for any number of drug classes: a per-class line is a share of
    # the test. The whole screen, and a one-class test priced as the test, are still compared.
    clfs = clfs_csv(tmp_path / "CLFS_2025_Q2.csv", [("80307", "", "20250101", "N", "00062.14")])
    pairs, result = check(
        [
            line(code="1", desc="DRUG SCRN EA CLASS PN 7", hcpcs="80307", price="9.44"),
            line(code="2", desc="COCAINE EACH CLASS", hcpcs="80307", price="12.00", rev="0300"),
            line(code="3", desc="Drug screen per class", hcpcs="80307", price="8.00", rev="0300"),
            line(code="4", desc="DRUG SCR ANY NBR PER DOS", hcpcs="80307", price="41.00"),
            line(code="5", desc="BENZODIAZEPINES QL", hcpcs="80307", price="55.92", rev="0300"),
            line(code="6", desc="HLA CLASS II HIGH DEF", hcpcs="80307", price="9.00", rev="0300"),
        ],
        clfs=(clfs,),
        as_of=dt.date(2025, 5, 1),
    )
    f = result.findings
    assert f.loc[f["rule"].eq(RULE), "row"].tolist() == [5, 6, 7]


def test_as_of_picks_the_release_in_effect(check, tmp_path):
    q1 = clfs_csv(tmp_path / "CLFS_2025_Q1.csv", [("85025", "", "20250101", "N", "00009.00")])
    q2 = clfs_csv(tmp_path / "CLFS_2025_Q2.csv", [("85025", "", "20250101", "N", "00007.77")])
    rows = [line(hcpcs="85025", price="8.00")]
    cases = {
        dt.date(2025, 2, 1): ("9.00", ""),  # Q1 in effect: fires
        dt.date(2025, 5, 1): (None, ""),  # Q2 in effect: 8.00 >= 7.77
        dt.date(2025, 8, 1): (None, "current only through 2025-06-30"),  # Q2, stale
        dt.date(2024, 6, 1): ("9.00", "effective only from 2025-01-01"),  # Q1, stale
    }
    for as_of, (suggested, stale) in cases.items():
        _, result = check(rows, clfs=(q2, q1), as_of=as_of)
        f = result.findings
        hit = f[f["rule"].eq(RULE)]
        assert hit["suggested"].tolist() == ([suggested] if suggested else []), as_of
        msgs = f[f["rule"].eq("REFERENCE-STALE") & f["value"].str.startswith("CLFS")]["message"]
        assert [stale in m for m in msgs] == ([True] if stale else []), as_of


def test_pick_prefers_the_latest_release_covering_the_date(tmp_path):
    a = read_clfs(clfs_csv(tmp_path / "CLFS_2025_Q1.csv", Q2_ROWS[:1]))
    b = read_clfs(clfs_csv(tmp_path / "CLFS_2025_Q2.csv", Q2_ROWS[:1]))
    assert pick([a, b], dt.date(2025, 3, 31)) == (a, "")
    assert pick([b, a], dt.date(2025, 4, 1)) == (b, "")
    assert pick([], dt.date(2025, 4, 1)) == (None, "")


def test_rule_skipped_when_no_schedule_is_loaded(check):
    _, result = check([line(hcpcs="85025", price="1.00")])
    f = result.findings
    skipped = f[f["rule"].eq("RULE-SKIPPED") & f["value"].eq(RULE)]
    assert len(skipped) == 1 and int(skipped["row"].iloc[0]) == 1
    assert "--clfs" in skipped["message"].iloc[0]
    assert not f["rule"].eq(RULE).any()
    assert result.below_fee is None and result.stats["below_medicare"] is None


def test_opps_rates_compare_separately_paid_procedures_only(check, tmp_path):
    addb = addendum_b_xlsx(
        tmp_path / "OPPS_AddendumB_2026_April.xlsx",
        [
            ("93306", "S", 558.25),  # echo: one service per line
            ("99285", "J2", 608.43),  # ED visit level 5
            ("47562", "J1", 5000.00),  # comprehensive APC: pays the whole encounter
            ("J9035", "K", 40.00),  # a drug, per HCPCS dose unit
            ("71046", "Q3", 88.91),
        ],
    )
    rows = [
        line(code="1", hcpcs="93306", rev="0483", price="500"),
        line(code="2", hcpcs="99285", rev="0450", price="608.43"),
        line(code="3", hcpcs="47562", rev="0360", price="1000"),
        line(code="4", hcpcs="J9035", rev="0636", price="10"),
        line(code="5", hcpcs="71046", rev="0320", mod="26", price="20"),  # professional part
        line(code="6", hcpcs="71046", rev="0972", price="20"),  # a professional fee line
        line(code="7", hcpcs="71046", rev="0320", price="88.90"),
    ]
    _, result = check(rows, addendum_b=addb, as_of=dt.date(2026, 5, 1))
    f = result.findings
    hit = f[f["rule"].eq(RULE)].set_index("row")
    assert hit.index.tolist() == [2]  # Q3 (conditionally packaged) is not compared by default
    assert "OPPS Addendum B 2026-04 payment rate, SI S" in hit.loc[2, "message"]
    cfg = tmp_path / "site.toml"
    cfg.write_text('[fee_schedule]\nstatus = ["S", "Q3"]\n', encoding="utf-8")
    _, result = check(rows, addendum_b=addb, as_of=dt.date(2026, 5, 1), config=cfg)
    f = result.findings
    hit = f[f["rule"].eq(RULE)].set_index("row")
    assert hit.index.tolist() == [2, 8]
    assert hit.loc[8, "suggested"] == "88.91"
    assert result.below_fee["gap"].tolist() == [58.25, 0.01]


def test_outpatient_price_column_by_default_and_by_configuration(check, clfs_q2, tmp_path):
    header = ["Charge Code", "Description", "Rev Code", "HCPCS", "IP Price", "OP Price"]
    rows = [["1", "CBC", "0305", "85025", "5.00", "9.00"]]
    opts = {"clfs": (clfs_q2,), "as_of": dt.date(2025, 5, 1)}
    _, result = check(rows, header=header, **opts)
    assert not result.findings["rule"].eq(RULE).any()  # OP 9.00 >= 7.77
    for setting, fires in (('"inpatient"', True), ('"first"', True), ('"OP Price"', False)):
        cfg = tmp_path / "site.toml"
        cfg.write_text(f"[fee_schedule]\nprice_column = {setting}\n", encoding="utf-8")
        _, result = check(rows, header=header, config=cfg, **opts)
        hit = result.findings[result.findings["rule"].eq(RULE)]
        assert len(hit) == int(fires), setting
        if fires:
            assert hit["column"].iloc[0] == "IP Price"
    cfg.write_text('[fee_schedule]\nprice_column = "Std Charge"\n', encoding="utf-8")
    _, result = check(rows, header=header, config=cfg, **opts)
    f = result.findings
    assert "no price column named 'Std Charge'" in f[f["value"].eq(RULE)]["message"].iloc[0]


def test_price_column_choice():
    assert price_column(["Chrg Amt IP", "Chrg Amt OP"], "outpatient")[0] == "Chrg Amt OP"
    assert price_column([" Inpatient \nPrice ", " Outpatient \nPrice "], "outpatient")[0] == (
        " Outpatient \nPrice "
    )
    assert price_column(["IP Price", "Price"], "outpatient")[0] == "Price"
    assert price_column(["IP Price"], "outpatient")[0] is None
    assert price_column(["Facility Charge", "Pro Fee"], "professional")[0] == "Pro Fee"


def test_margin(check, clfs_q2, tmp_path):
    cfg = tmp_path / "site.toml"
    cfg.write_text("[fee_schedule]\nmargin = 2\n", encoding="utf-8")  # an integer is accepted
    _, result = check(
        [line(hcpcs="85025", price="15.00")], config=cfg, clfs=(clfs_q2,), as_of=dt.date(2025, 5, 1)
    )
    hit = result.findings[result.findings["rule"].eq(RULE)]
    assert hit["suggested"].tolist() == ["15.54"]
    assert "2 × the Medicare rate" in hit["message"].iloc[0]
    assert load_config(cfg).fee_schedule.margin == 2.0
    from chargemaster.errors import ConfigError

    cfg.write_text("[fee_schedule]\nmargin = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="margin"):
        load_config(cfg)


def invoke(*args):
    from chargemaster.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_clfs_repeatable_report_worklist_and_summary(tmp_path):
    q1 = clfs_csv(tmp_path / "CLFS_2025_Q1.csv", [("85025", "", "20250101", "N", "00009.00")])
    q2 = clfs_csv(tmp_path / "CLFS_2025_Q2.csv", Q2_ROWS)
    cdm = write_csv(
        tmp_path / "cdm.csv",
        [
            line(code="1", hcpcs="85025", price="7.00"),
            line(code="2", hcpcs="0001U", price="500", rev="0300"),
            line(code="3", hcpcs="85025", price="9.00", rev="0306"),
        ],
    )
    out = tmp_path / "r.xlsx"
    doc = tmp_path / "s.json"
    result = invoke(
        "run", cdm, "--clfs", q1, "--clfs", q2, "--as-of", "2025-05-01", "-o", out, "--quiet",
        "--summary-json", doc,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    below = json.loads(doc.read_text(encoding="utf-8"))["runs"][0]["below_medicare"]
    assert below == {"lines": 2, "gap_per_unit": 220.77}
    wb = load_workbook(out)
    rows = list(wb["Below Medicare"].iter_rows(values_only=True))
    assert rows[0][:9] == (
        "Row",
        "Charge Code",
        "Description",
        "HCPCS",
        "Modifiers",
        "Price Column",
        "Price",
        "Medicare Rate",
        "Gap per Unit",
    )
    assert [(r[0], r[3], r[6], r[7], r[8]) for r in rows[1:]] == [
        (3, "0001U", 500, 720, 220),
        (2, "85025", 7, 7.77, pytest.approx(0.77)),
    ]
    summary = {r[0]: r[1:3] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Lines priced below Medicare"] == (
        2,
        "total gap per unit $220.77 (sheet Below Medicare)",
    )

    listing = invoke("reference", "--clfs", q1, "--clfs", q2, "--as-of", "2025-05-01")
    assert listing.exit_code == 0
    assert "Fee schedule (CLFS): CLFS 2025-Q1 (1 codes, 2025-01-01 to 2025-03-31" in listing.stdout
    assert "CLFS 2025-Q2 (7 codes, 2025-04-01 to 2025-06-30" in listing.stdout

    bad = invoke("run", cdm, "--clfs", tmp_path / "missing.csv", "-o", out)
    assert bad.exit_code == 2 and "missing.csv: file not found" in bad.output
    assert "Traceback" not in bad.output


def test_no_schedules_object_is_empty():
    assert not FeeSchedules().loaded and FeeSchedules().releases == []


@needs_shared
@pytest.mark.slow
def test_real_schedules_and_a_real_chargemaster():
    hcpcs = REALDATA / "hcpcs"
    fees = load_fee_schedules(
        hcpcs / "CLFS_2025_Q2.csv",
        [
            hcpcs / "OPPS_AddendumB_2023_January.xlsx",
            hcpcs / "OPPS_AddendumB_2026_April_softek.csv",
        ],
    )
    (clfs,) = fees.clfs
    assert (clfs.release.name, clfs.release.count) == ("CLFS 2025-Q2", 2105)
    rates = clfs.rates.set_index(["code", "modifier"])["rate"]
    assert rates[("85025", "")] == 7.77 and rates[("85025", "QW")] == 7.77
    assert [s.release.count for s in fees.opps] == [
        6182,
        7336,
    ]  # incl. 35 vaccine-admin \d{4}A codes
    result = run(
        RunOptions(
            REALDATA / "cdm" / "ca_barton_memorial_2018_cdm.xlsx",
            as_of=dt.date(2026, 4, 1),
            addendum_b=hcpcs / "OPPS_AddendumB_2026_April_softek.csv",
            clfs=(hcpcs / "CLFS_2025_Q2.csv",),
        )
    )
    below = result.below_fee.set_index("row")
    # Hand-checked: row 463, 81220 (CF genotype) at 81.75; CLFS 2025 Q2 national limit 556.60.
    assert below.loc[463, ["hcpcs", "price", "rate"]].tolist() == ["81220", 81.75, 556.6]
    assert len(below) == 105 and round(below["gap"].sum(), 2) == 1234.49


def test_rule_skipped_without_a_price_column(check, clfs_q2):
    _, result = check(
        [["1", "CBC", "85025"]],
        header=["Charge Code", "Description", "HCPCS"],
        clfs=(clfs_q2,),
        as_of=dt.date(2025, 5, 1),
    )
    f = result.findings
    skipped = f[f["rule"].eq("RULE-SKIPPED") & f["value"].eq(RULE)]
    assert skipped["message"].tolist() == [f"{RULE} did not run: it needs a price column."]


def test_addendum_b_folder_gives_one_schedule_per_release(tmp_path):
    folder = tmp_path / "opps"
    folder.mkdir()
    addendum_b_xlsx(folder / "OPPS_AddendumB_2023_January.xlsx", [("93306", "S", 500.0)])
    addendum_b_xlsx(folder / "OPPS_AddendumB_2026_April.xlsx", [("93306", "S", 558.25)])
    (folder / "notes.csv").write_text("not an addendum\n", encoding="utf-8")
    fees = load_fee_schedules(None, folder)
    assert [s.release.name for s in fees.opps] == [
        "OPPS Addendum B 2023-01",
        "OPPS Addendum B 2026-04",
    ]
    chosen, stale = pick(fees.opps, dt.date(2026, 5, 1))
    assert (chosen.rates["rate"].tolist(), stale) == ([558.25], "")
    assert load_fee_schedules(None, folder).opps[0] is fees.opps[0]  # read once per process
