"""The messy shapes of real exports (../shared/realdata/cdm/MANIFEST.md), on small fixtures."""

import datetime as dt

import pytest

from chargemaster.errors import InputError
from chargemaster.fields import field_specs, map_headers, normalize_header
from chargemaster.reader import cell_text, column_letter, read_table
from tests.conftest import DATA, write_csv, write_xlsx

SPECS = field_specs("chargemaster")
HEAD = [
    "Chrg Dept",
    "Chrg Code",
    "Chrg Bill Desc",
    "Chrg Rev Code",
    "Chrg HCPCS Proc",
    "Chrg CPT Code",
    "Chrg Amt IP",
    "Chrg Amt OP",
]


def test_title_block_and_blank_line_after_header(tmp_path):
    rows = [
        ["Los Robles Hospital"],
        ["Chargemaster Detail"],
        [],
        [],
        HEAD,
        [],
        [604, 24431, "SEMI PRIVATE ROOM       ", 120, 0, "          ", 2344.75, 0],
        [604, 24433, "DIRECT REFERRAL TO OBS  ", 762, 0, "0G0379    ", 272.25, 272.25],
    ]
    t = read_table(write_xlsx(tmp_path / "a.xlsx", {"Sheet1": rows}), SPECS)
    assert (t.sheet, t.header_row) == ("Sheet1", 5)
    assert t.data.index.tolist() == [7, 8]
    assert t.skipped == {"blank rows": 1}
    assert t.fields["hcpcs"] == ["Chrg HCPCS Proc", "Chrg CPT Code"]
    assert t.fields["price"] == ["Chrg Amt IP", "Chrg Amt OP"]
    # numbers come back as their digits, and are remembered as numbers
    assert t.data.loc[7, "Chrg Code"] == "24431" and t.data.loc[7, "Chrg Rev Code"] == "120"
    assert bool(t.numeric["Chrg Rev Code"].loc[7]) is True
    assert t.data.loc[8, "Chrg CPT Code"] == "0G0379    "


def test_the_sheet_holding_the_chargemaster_is_chosen(tmp_path):
    sheets = {
        "Export Info": [["Property Name", "Property Value"], ["CDM", "PA - Hospital"]],
        "All CDM Items": [
            ["Disclaimer: prices are..."],
            [],
            [],
            [
                "FAC",
                "DEPT",
                "TECHNICAL DESCRIPTION",
                "IPREV",
                "OPREV",
                "HCPCS",
                "MOD",
                "TOTAL CHARGE",
                "STATUS",
            ],
            ["DIH", 200, "3010 MED/SURG ICU"],  # a section row
            ["DIH", 200, "SEMI-PRIVATE ROOM", "0120", "0000", "", "", 7868, "Active"],
            ["DIH", 300, "CBC", "0305", "0305", "85025", "", 62, "Active"],
        ],
        "Simple View": [["Hospital", "TECHNICAL DESCRIPTION", "TOTAL CHARGE"], ["H", "CBC", 62]],
    }
    t = read_table(write_xlsx(tmp_path / "h.xlsx", sheets), SPECS)
    assert (t.sheet, t.header_row) == ("All CDM Items", 4)
    # no revenue code, HCPCS or price: a section row, counted and listed, not lost in silence
    assert t.data.index.tolist() == [6, 7]
    assert t.skipped == {"section rows without codes or price": 1}
    assert t.fields["revenue_code_ip"] == ["IPREV"] and t.fields["revenue_code_op"] == ["OPREV"]
    assert t.data.loc[6, "IPREV"] == "0120"  # text stays text


def test_sheet_and_header_row_overrides(tmp_path):
    path = write_xlsx(
        tmp_path / "o.xlsx", {"A": [["x"]], "B": [["t"], ["Description", "Price"], ["CBC", 62]]}
    )
    t = read_table(path, SPECS, sheet="B", header_row=2)
    assert (t.sheet, t.header_row, len(t.data)) == ("B", 2, 1)
    with pytest.raises(InputError, match=r"no sheet named 'C' \(sheets: 'A', 'B'\)"):
        read_table(path, SPECS, sheet="C")


def test_header_with_newlines_and_spaces_csv_crlf(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(
        b'Category,Charge Code,Charge Description,CPT/HCPCS Code," Inpatient \r\nPrice "\r\n'
        b'Other,761000875,HC FINE NEEDLE ASPIRATION,10021,"$485.00 "\r\n'
    )
    t = read_table(path, SPECS)
    assert t.headers[-1] == "Inpatient Price"
    assert t.fields["price"] == ["Inpatient Price"]
    assert t.data.loc[2, "Charge Code"] == "761000875"


def test_title_rows_footer_and_placeholder_csv(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(
        '"The Cancer Center\nHospital Charge List",,,,\nPricing as of December 2018.,,,,\n'
        '"DISCLAIMER: informational only",,,,\n'
        "List ID,Revenue Code Description,CPT Code,Procedure Name,Unit Charge\n"
        '1,LABORATORY - CHEMISTRY,BLANK,HC PANEL,"$1,856"\n'
        ",,,FY2019_PriceTransparency_FINAL,\n",
        encoding="utf-8",
    )
    t = read_table(path, SPECS)
    assert t.header_row == 4
    assert t.data.index.tolist() == [5]
    assert t.skipped == {"report block after the last line": 1}
    assert t.skipped_rows.to_dict("records") == [
        {
            "row": 6,
            "kind": "report block after the last line",
            "text": "FY2019_PriceTransparency_FINAL",
        }
    ]
    assert t.fields["revenue_description"] == ["Revenue Code Description"]


@pytest.mark.parametrize("delimiter", [",", "\t", "|", ";"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_delimiters_and_encodings(tmp_path, delimiter, encoding):
    path = write_csv(
        tmp_path / "e.txt",
        [["1", "CAFÉ AU LAIT SUPPLEMENT — 5½ OZ", "0250", "", "12.50"]],
        ["Charge Code", "Description", "Rev Code", "HCPCS", "Price"],
        delimiter=delimiter,
        encoding=encoding,
    )
    t = read_table(path, SPECS)
    assert t.headers[0] == "Charge Code"  # no BOM left on the first header
    assert t.data.loc[2, "Description"] == "CAFÉ AU LAIT SUPPLEMENT — 5½ OZ"
    assert t.delimiter == delimiter


def test_short_csv_rows_are_padded_long_ones_refused(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("Charge Code,Description,Price\n1,CBC\n2,CMP,182,\n", encoding="utf-8")
    t = read_table(path, SPECS)
    assert t.headers == ["Charge Code", "Description", "Price", "Column D"]
    assert t.data["Price"].isna().tolist() == [True, False]
    path.write_text("Charge Code,Description,Price\n1,CBC\n2,CMP, LIPID,182\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 3 has 4 fields but the header \\(line 1\\) has 3"):
        read_table(path, SPECS)


def test_repeated_page_headers_are_not_items(tmp_path):
    head = ["Charge Code", "Description", "Rev Code", "Price"]
    rows = [["PAGE 1"], head, ["1", "CBC", "0305", 62], ["PAGE 2"], head, ["2", "CMP", "0301", 182]]
    t = read_table(write_xlsx(tmp_path / "p.xlsx", {"S": rows}), SPECS)
    assert t.data.index.tolist() == [3, 6]
    assert t.skipped == {"repeated header rows": 1, "title or section rows": 1}


def test_legacy_xls_floats_become_digits():
    t = read_table(DATA / "report_style.xls", SPECS)
    assert (t.sheet, t.header_row, len(t.data)) == ("HP2010B", 5, 5)
    assert t.data.loc[6, "CHARGE CODE"] == "17115000"
    assert t.data.loc[6, "IP REV CODE"] == "274"
    assert t.data.loc[9, "MODIFIERS"] == "50"
    assert t.data.loc[6, "EFFECIVE DATE"] == "2016-10-01"
    assert t.fields["effective_date"] == ["EFFECIVE DATE"]


def test_no_header_names_closest_rows(tmp_path):
    rows = [
        ["CHARGE   CHARGE", "UNIT", "REV", "CPT"],
        ["NUMBER   DESCRIPTION", "PRICE", "CNTR", "CODE"],
        ["000081-0 DISCHARGE", 0, 1, ""],
    ]
    with pytest.raises(InputError, match="no header row found.*sheet 'S': 3 non-blank rows"):
        read_table(write_xlsx(tmp_path / "x.xlsx", {"S": rows}), SPECS)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.csv", None, "file not found"),
        ("empty.csv", b"", "empty"),
        ("data.pdf", b"%PDF", "unsupported file type"),
        ("bad.xlsx", b"this is not a workbook", "not an Excel workbook"),
    ],
)
def test_unreadable_inputs(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_table(path, SPECS)


def test_header_normalisation_and_priority():
    assert normalize_header(" Inpatient \nPrice ") == "inpatientprice"
    assert normalize_header("CHRG_REV-CODE") == "chrgrevcode"
    fields, unmapped = map_headers(
        ["TECHNICAL DESCRIPTION", "BILLING DESCRIPTION", "Mod1", "Mod2"], SPECS
    )
    assert fields["description"] == ["TECHNICAL DESCRIPTION"]
    assert fields["modifiers"] == ["Mod1", "Mod2"]
    assert unmapped == ["BILLING DESCRIPTION"]


@pytest.mark.parametrize(
    "header", ["CC", "Cost Ctr", "DEPT_NO", "Dept #", "Chg Dept", "Cost Center Code", "GL Dept"]
)
def test_cost_centre_and_department_number_headers_are_the_department(header):
    # PRICE-INCONSISTENT compares within one department: a department column left unread
    # would compare an inpatient cost centre with its outpatient twin (Chomp's 'CC').
    fields, _ = map_headers(["ITEM", "DESCRIPTION", header, "CPT", "REV", "PRICE"], SPECS)
    assert fields["department"] == [header]


def test_the_department_name_wins_over_its_number():
    fields, unmapped = map_headers(["Dept No", "Department", "Dept Desc", "Price"], SPECS)
    assert fields["department"] == ["Department"]
    assert unmapped == ["Dept No", "Dept Desc"]


def test_cell_text_and_letters():
    assert [cell_text(v) for v in (300.0, 80053.0, 1508.15, 17115000, True, None)] == [
        "300",
        "80053",
        "1508.15",
        "17115000",
        "TRUE",
        "",
    ]
    assert cell_text(dt.datetime(2020, 3, 8)) == "2020-03-08"
    assert [column_letter(i) for i in (0, 25, 26, 701)] == ["A", "Z", "AA", "ZZ"]


def test_section_rows_without_codes_or_price_are_skipped(tmp_path):
    head = ["FAC", "DEPT", "DESCRIPTION", "REV CODE", "HCPCS", "PRICE", "COST CENTER"]
    rows = [
        head,
        ["DIH", 200, "3010 MED/SURG ICU", "", "", "", "3010"],  # a section row
        ["DIH", 200, "ICU ROOM", "0200", "", 4500, "3010"],
        ["DIH", 200, "DELIVERY PACKAGE", "", "", 1200, "3010"],  # package: price, no code
        ["DIH", 201, "3015 ICU/CCU COMBINED", "", "N/A", "", "3015"],  # placeholder is no code
        ["DIH", 201, "CCU ROOM", "0210", "", "", "3015"],  # a code, no price: a line
    ]
    t = read_table(write_xlsx(tmp_path / "s.xlsx", {"CDM": rows}), SPECS)
    assert t.data.index.tolist() == [3, 4, 6]
    assert t.skipped == {"section rows without codes or price": 2}
    assert t.skipped_rows["row"].tolist() == [2, 5]
    assert t.skipped_rows["text"].iloc[0] == "DIH | 200 | 3010 MED/SURG ICU | 3010"


def test_a_row_with_a_charge_code_is_a_line_not_a_section(tmp_path):
    head = ["CHARGE CODE", "DEPT", "DESCRIPTION", "CPT", "PRICE"]
    rows = [
        head,
        ["", "200", "3010 MED/SURG ICU", "", ""],  # no charge code: a section row
        ["1001", "200", "LAB SUPPLY", "", ""],  # a charge code only: a line
        ["1002", "200", "ICU ROOM", "", 4500],
    ]
    t = read_table(write_xlsx(tmp_path / "c.xlsx", {"CDM": rows}), SPECS)
    assert t.data.index.tolist() == [3, 4]
    assert t.skipped == {"section rows without codes or price": 1}
    # a file with a single value role (a price) has no section rows: nothing tells them apart
    rows = [["DESCRIPTION", "DEPT", "PRICE"], ["ROOM", "200", 10], ["3010 ICU", "200", ""]]
    t = read_table(write_xlsx(tmp_path / "p.xlsx", {"CDM": rows}), SPECS)
    assert t.data.index.tolist() == [2, 3] and t.skipped == {}
