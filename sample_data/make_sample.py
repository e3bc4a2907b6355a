"""Build the synthetic sample chargemaster, its code map and the findings planted in them.

The sample is clean by construction (unique charge codes, codes that fit their revenue codes,
one price per HCPCS) and then a list of defects is planted line by line. Each plant records
the (file, rule, row, column) it must produce, so ``expected_findings.csv`` is written from
the plan, not from the tool's output: the test that compares the two can fail.

Run from the project root:  python sample_data/make_sample.py
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

HERE = Path(__file__).parent
CDM = HERE / "chargemaster_sample.xlsx"
MAP = HERE / "static_codes.csv"
PRICE_LIST = HERE / "published_price_list.csv"
EXPECTED = HERE / "expected_findings.csv"
CLFS_SAMPLE = HERE / "clfs_2025_q2_excerpt.csv"
# CMS CLFS 2025 Q2 national limits of the sample's lab codes (public CMS data; CPT descriptors
# are left out: AMA copyright). 82247 and 85025 are also priced apart for QW in the real file.
CLFS_RATES = [
    ("80053", "", "00010.56"), ("80053", "QW", "00010.56"), ("82247", "", "00005.02"),
    ("82247", "QW", "00005.02"), ("82947", "", "00003.93"), ("82947", "QW", "00003.93"),
    ("85025", "", "00007.77"), ("85025", "QW", "00007.77"), ("36415", "", "00009.09"),
]  # fmt: skip
# The as-of date each file is checked at: the chargemaster on a fixed day after the bundled
# reference ends; the price list as a quarterly preview before C9060 became effective.
SAMPLE_AS_OF = "2026-11-01"
PRICE_LIST_AS_OF = "2020-07-01"

HEADERS = [
    "Charge Code",
    "Charge Description",
    "Department",
    "Rev Code",
    "CPT/HCPCS",
    "Modifier",
    "Unit Price",
    "Status",
    "Coding Method",
    "GL Account",
]
HEADER_ROW = 4

# (department, revenue code, HCPCS, description, price): a clean, statically coded base.
BASE = [
    ("LAB", "0301", "80053", "COMPREHENSIVE METABOLIC PANEL", 182.00),
    ("LAB", "0305", "85025", "CBC W AUTO DIFF", 62.00),
    ("LAB", "0301", "80048", "BASIC METABOLIC PANEL", 140.00),
    ("LAB", "0301", "84443", "TSH", 121.00),
    ("LAB", "0305", "85610", "PROTHROMBIN TIME", 48.00),
    ("LAB", "0305", "85730", "PTT", 61.00),
    ("LAB", "0300", "81001", "URINALYSIS AUTO W SCOPE", 35.00),
    ("LAB", "0306", "87086", "URINE CULTURE COLONY COUNT", 88.00),
    ("LAB", "0301", "83036", "HEMOGLOBIN A1C", 74.00),
    ("LAB", "0301", "80061", "LIPID PANEL", 96.00),
    ("LAB", "0301", "82947", "GLUCOSE QUANT BLOOD", 28.00),
    ("LAB", "0301", "84132", "POTASSIUM SERUM", 31.00),
    ("LAB", "0301", "82565", "CREATININE BLOOD", 33.00),
    ("LAB", "0301", "84484", "TROPONIN QUANT", 139.00),
    ("LAB", "0306", "87040", "BLOOD CULTURE", 112.00),
    ("LAB", "0300", "36415", "VENIPUNCTURE ROUTINE", 18.00),
    ("LAB", "0302", "86803", "HEPATITIS C AB", 77.00),
    ("LAB", "0302", "86592", "SYPHILIS TEST NON-TREP QUAL", 36.00),
    ("LAB", "0300", "87635", "SARS-COV-2 AMP PROBE", 145.00),
    ("PATHOLOGY", "0312", "88305", "SURG PATH LEVEL IV", 310.00),
    ("PATHOLOGY", "0311", "88142", "CYTOPATH C/V THIN LAYER", 96.00),
    ("RADIOLOGY", "0324", "71046", "XR CHEST 2 VIEWS", 245.00),
    ("RADIOLOGY", "0324", "71045", "XR CHEST 1 VIEW", 190.00),
    ("RADIOLOGY", "0320", "73030", "XR SHOULDER 2+ VIEWS", 260.00),
    ("RADIOLOGY", "0320", "73610", "XR ANKLE 3+ VIEWS", 255.00),
    ("RADIOLOGY", "0320", "72100", "XR LUMBAR SPINE 2-3 VIEWS", 280.00),
    ("RADIOLOGY", "0320", "73560", "XR KNEE 1-2 VIEWS", 230.00),
    ("CT", "0351", "70450", "CT HEAD WO CONTRAST", 1450.00),
    ("CT", "0351", "70460", "CT HEAD W CONTRAST", 1710.00),
    ("CT", "0352", "74177", "CT ABD PELV W CONTRAST", 3120.00),
    ("CT", "0352", "71250", "CT CHEST WO CONTRAST", 1890.00),
    ("MRI", "0611", "70551", "MRI BRAIN WO CONTRAST", 2890.00),
    ("MRI", "0611", "70553", "MRI BRAIN WO W CONTRAST", 4120.00),
    ("MRI", "0612", "72148", "MRI LUMBAR SPINE WO CONTRAST", 2760.00),
    ("ULTRASOUND", "0402", "76700", "US ABDOMEN COMPLETE", 780.00),
    ("ULTRASOUND", "0402", "76856", "US PELVIS COMPLETE", 690.00),
    ("MAMMOGRAPHY", "0403", "77067", "SCREENING MAMMO BILAT", 390.00),
    ("MAMMOGRAPHY", "0401", "77065", "DIAG MAMMO UNILAT", 420.00),
    ("NUCLEAR MEDICINE", "0341", "78452", "MYOCARDIAL PERFUSION SPECT MULT", 3410.00),
    ("CARDIOLOGY", "0730", "93005", "EKG TRACING ONLY", 160.00),
    ("PHARMACY", "0636", "J1885", "KETOROLAC 15 MG INJ", 22.00),
    ("PHARMACY", "0636", "J2405", "ONDANSETRON 1 MG INJ", 14.00),
    ("PHARMACY", "0636", "J1100", "DEXAMETHASONE 1 MG INJ", 9.00),
    ("PHARMACY", "0258", "J7030", "NS 1000 CC INFUSION", 55.00),
    ("OBSERVATION", "0762", "G0378", "OBSERVATION PER HOUR", 104.00),
]

# Lines that need no HCPCS: room and board, supplies, oral drugs.
NO_CODE = (
    [("NURSING", "0120", f"SEMI PRIVATE ROOM {u}", 2344.75) for u in ("2W", "3W", "4E", "5E")]
    + [("NURSING", "0110", f"PRIVATE ROOM {u}", 2890.00) for u in ("2W", "3W", "4E")]
    + [("ICU", "0200", f"ICU ROOM {u}", 6890.00) for u in ("MICU", "SICU", "CVICU")]
    + [("SUPPLY", "0270", f"SUPPLY ITEM {i:03d}", round(5 + i * 1.75, 2)) for i in range(1, 121)]
    + [
        ("PHARMACY", "0250", f"ORAL MED {i:03d} TAB", round(0.5 + i * 0.35, 2))
        for i in range(1, 61)
    ]
)

# Ancillary lines with no code of their own: the code map codes them (HCPCS-ATTACHED).
MAPPED = [
    ("LAB", "0301", "82310", "CALCIUM TOTAL", 29.00),
    ("LAB", "0301", "82040", "ALBUMIN SERUM", 27.00),
    ("LAB", "0301", "84295", "SODIUM SERUM", 27.00),
    ("LAB", "0305", "85027", "CBC AUTOMATED", 48.00),
    ("LAB", "0302", "86140", "C-REACTIVE PROTEIN", 44.00),
    ("LAB", "0306", "87081", "CULTURE SCREEN ONLY", 58.00),
    ("RADIOLOGY", "0320", "73120", "XR HAND 2 VIEWS", 210.00),
    ("RADIOLOGY", "0320", "73630", "XR FOOT 3+ VIEWS", 240.00),
    ("CT", "0352", "74176", "CT ABD PELV WO CONTRAST", 2680.00),
    ("MRI", "0614", "73721", "MRI KNEE WO CONTRAST", 2540.00),
]


PHARMACY = [
    ("KETOROLAC 30 MG INJ", 38.00),
    ("ONDANSETRON 4 MG INJ", 42.00),
    ("CEFAZOLIN 1 GM INJ", 55.00),
    ("HEPARIN 5000 UNIT INJ", 31.00),
    ("ACETAMINOPHEN 500 MG TAB", 4.00),
]


class Plan:
    def __init__(self):
        self.rows: list[list] = []
        self.expected: list[tuple[str, str, int, str]] = []
        self.next_code = 30010001

    def row_number(self) -> int:
        return HEADER_ROW + 1 + len(self.rows)

    def add(self, dept, rev, hcpcs, desc, price, *, mod="", status="A", method="", code=None):
        if code is None:
            code, self.next_code = str(self.next_code), self.next_code + 1
        gl = f"4{rev[-3:] if isinstance(rev, str) and len(rev) >= 3 else '000'}-100"
        self.rows.append([code, desc, dept, rev, hcpcs, mod, price, status, method, gl])
        return self.row_number() - 1, code

    def expect(self, rule: str, row: int, column: str = "", file: str = CDM.name) -> None:
        self.expected.append((file, rule, row, column))


def build() -> Plan:
    p = Plan()
    p.rows.append(["", "** LABORATORY **", "", "", "", "", "", "", "", ""])  # a section row
    base_rows = {}
    for dept, rev, hcpcs, desc, price in BASE:
        row, code = p.add(dept, rev, hcpcs, desc, price)
        base_rows[hcpcs] = (row, code)
    mapped_codes = {}
    for dept, rev, hcpcs, desc, price in MAPPED:
        row, code = p.add(dept, rev, "", desc, price)
        mapped_codes[code] = hcpcs
        p.expect("HCPCS-ATTACHED", row, "CPT/HCPCS")
    p.rows.append([""] * len(HEADERS))  # a blank line inside the data
    for dept, rev, desc, price in NO_CODE:
        p.add(dept, rev, "", desc, price)
    # Soft-coded lines: no HCPCS, and none expected.
    p.add("EMERGENCY", "0450", "", "ED VISIT LEVEL (HIM CODED)", 950.00, method="SOFT")
    p.add("PATHOLOGY", "0310", "", "PATH CONSULT INTRAOP (HIM CODED)", 410.00, method="SOFT")

    # --- planted defects -------------------------------------------------------------
    row, _ = p.add("LAB", "0301", "82550", "CK TOTAL", 45.00, code="")
    p.expect("CHARGE-CODE-MISSING", row, "Charge Code")
    row, _ = p.add("LAB", "0301", "82435", "CHLORIDE BLOOD", 25.00, status="I", code="")
    p.expect("CHARGE-CODE-MISSING", row, "Charge Code")  # applies to inactive lines too
    p.add("LAB", "0301", "8243", "OLD CHLORIDE (INACTIVE)", 25.00, status="INACTIVE")  # no finding
    r1, _ = p.add("LAB", "0301", "82374", "CO2 BICARBONATE", 26.00, code="30019999")
    r2, _ = p.add("LAB", "0301", "82330", "CALCIUM IONIZED", 39.00, code="30019999")
    p.expect("CHARGE-CODE-DUPLICATE", r1, "Charge Code")
    p.expect("CHARGE-CODE-DUPLICATE", r2, "Charge Code")
    row, _ = p.add("LAB", "0301", "83735", "", 30.00)
    p.expect("DESCRIPTION-MISSING", row, "Charge Description")
    row, _ = p.add("LAB", "0301", "84100", "PHOSPHORUS", "TBD")
    p.expect("PRICE-MISSING", row, "Unit Price")
    row, _ = p.add("LAB", "0301", "83690", "LIPASE", None)
    p.expect("PRICE-MISSING", row, "Unit Price")
    row, _ = p.add("SUPPLY", "0270", "", "RETURNED SUPPLY CREDIT", -5.00)
    p.expect("PRICE-NEGATIVE", row, "Unit Price")
    # Zero on a service no other line charges: the charge is given away. (A supply marked
    # 'NO CHARGE', or a line whose code another line charges, is zero by design.)
    row, _ = p.add("LAB", "0306", "87088", "URINE CULTURE ID ADDL", 0)
    p.expect("PRICE-ZERO", row, "Unit Price")
    row, _ = p.add("SUPPLY", "0278", "C1776", "JOINT DEVICE IMPLANT", 99999.99)
    p.expect("PRICE-PLACEHOLDER", row, "Unit Price")
    row, _ = p.add("SUPPLY", "0278", "C1713", "ANCHOR SCREW PLACEHOLDER", 0.01)
    p.expect("PRICE-PLACEHOLDER", row, "Unit Price")
    # Like with like priced differently: one finding per group, on the group's first line.
    p.add("LAB", "0305", "85025", "CBC W/AUTO DIFF", 40.00)
    p.expect("PRICE-INCONSISTENT", base_rows["85025"][0], "Unit Price")
    # Not inconsistent: codes that cover many items (a device C-code, a drug per package) and
    # the same code on another revenue code.
    p.add("SUPPLY", "0278", "C1713", "ANCHOR SUTURE 5.0MM", 480.00)
    p.add("SUPPLY", "0278", "C1713", "PLATE LOCKING 8 HOLE", 5137.20)
    p.add("PHARMACY", "0636", "J1100", "DEXAMETHASONE 10 MG/ML VIAL", 16.00)
    p.add("LAB", "0300", "85025", "CBC W AUTO DIFF OUTREACH", 48.00)
    # Not a placeholder: one cent on reporting-only codes (Category II is also no
    # HCPCS-CATEGORY-II at 0.01, the nominal charge CMS allows for quality data codes).
    p.add("QUALITY", "0940", "G8420", "BMI NORMAL PARAMETERS DOCUMENTED", 0.01)
    p.add("QUALITY", "0940", "1036F", "TOBACCO NON-USER", 0.01)
    row, _ = p.add("NURSING", "", "", "OBSERVATION BED", 1200.00)
    p.expect("REVCODE-MISSING", row, "Rev Code")
    # Storage repairs: one info finding per column and kind, on the header row.
    p.add("LAB", 300, "84550", "URIC ACID", 32.00)  # a number cell: 300 -> 0300
    p.add("RADIOLOGY", "320.0", "73590", "XR TIBIA FIBULA 2 VIEWS", 225.00)
    p.expect("REVCODE-REPAIRED", HEADER_ROW, "Rev Code")  # without the leading zero (2)
    p.expect("REVCODE-REPAIRED", HEADER_ROW, "Rev Code")  # a float artefact (1)
    p.add("LAB", "0301", 84443, "TSH REFLEX FT4", 121.00)  # a number cell that reads the same
    row, _ = p.add("LAB", "03000", "84520", "BUN", 27.00)
    p.expect("REVCODE-MALFORMED", row, "Rev Code")
    row, _ = p.add("LAB", "A300", "84075", "ALKALINE PHOSPHATASE", 30.00)
    p.expect("REVCODE-MALFORMED", row, "Rev Code")
    p.add("SUPPLY", "0278", "c1874", "STENT COATED W DEL SYS", 4100.00)
    p.expect("FORMAT-REPAIRED", HEADER_ROW, "CPT/HCPCS")  # lower case
    p.add("LAB", "0301", "82746.0", "FOLIC ACID SERUM", 68.00)
    p.expect("FORMAT-REPAIRED", HEADER_ROW, "CPT/HCPCS")  # a float artefact
    p.add("OBSERVATION", "0762", "0G0379    ", "DIRECT REFERRAL TO OBS", 272.25)
    p.expect("FORMAT-REPAIRED", HEADER_ROW, "CPT/HCPCS")  # fixed-width padding
    p.expect("FORMAT-REPAIRED", HEADER_ROW, "CPT/HCPCS")  # its trailing spaces
    # Content repairs: one warning per line.
    row, _ = p.add("ANESTHESIA", "0370", "100", "ANESTHESIA SALIVARY GLAND", 800.00)
    p.expect("HCPCS-REPAIRED", row, "CPT/HCPCS")
    row, _ = p.add("RADIOLOGY", "0320", "73502-RT", "XR HIP 2-3 VIEWS RIGHT", 265.00)
    p.expect("HCPCS-REPAIRED", row, "CPT/HCPCS")
    p.expect("MODIFIER-REPAIRED", row, "CPT/HCPCS")
    row, _ = p.add("LAB", "0301", "8352090", "IMMUNOASSAY NONANTIBODY REF LAB", 95.00)
    p.expect("HCPCS-REPAIRED", row, "CPT/HCPCS")  # 83520 + reference-lab modifier 90
    p.expect("MODIFIER-REPAIRED", row, "CPT/HCPCS")
    row, _ = p.add("RADIOLOGY", "0320", "7302050", "XR SHOULDER 1 VIEW BILATERAL", 230.00)
    p.expect("HCPCS-REPAIRED", row, "CPT/HCPCS")  # 73020 + 50
    p.expect("MODIFIER-REPAIRED", row, "CPT/HCPCS")
    p.add("PHARMACY", "0250", "N/A", "ASPIRIN 81 MG CHEW TAB", 0.85)  # a "no code" placeholder
    row, _ = p.add("LAB", "0301", "8502", "HEMOGRAM TRUNCATED CODE", 40.00)
    p.expect("HCPCS-MALFORMED", row, "CPT/HCPCS")
    row, _ = p.add("LAB", "0305", "85025, 85027", "CBC PANEL TWO CODES", 70.00)
    p.expect("HCPCS-MALFORMED", row, "CPT/HCPCS")
    row, _ = p.add("CLINIC", "0510", "99213-Office Visit", "CLINIC VISIT EST", 210.00)
    p.expect("HCPCS-MALFORMED", row, "CPT/HCPCS")
    row, _ = p.add("SUPPLY", "0270", "X3908", "LOCAL SUPPLY CODE", 12.00)
    p.expect("HCPCS-LOCAL", row, "CPT/HCPCS")
    row, _ = p.add("LAB", "0301", "", "VITAMIN D 25 HYDROXY", 150.00)
    p.expect("HCPCS-MISSING", row, "CPT/HCPCS")
    row, _ = p.add("PHARMACY", "0636", "", "PEGFILGRASTIM 0.5 MG INJ", 9800.00)
    p.expect("HCPCS-MISSING", row, "CPT/HCPCS")
    p.expect("HCPCS-SUGGESTED", row, "CPT/HCPCS")  # from the CMS Level II descriptors
    row, _ = p.add("LAB", "0300", "71047", "XR CHEST 3 VIEWS (WRONG REV)", 270.00)
    p.expect("HCPCS-REVCODE-MISMATCH", row, "CPT/HCPCS")
    # Not mismatches: a professional fee and a blood-processing code on their revenue codes.
    p.add("RADIOLOGY PRO", "0972", "73600", "XR ANKLE 2 VIEWS PROF", 45.00, mod="26")
    p.add("BLOOD BANK", "0390", "86927", "PLASMA THAWING", 96.00)
    row, _ = p.add("QUALITY", "0940", "3074F", "SYSTOLIC BP < 130 TRACKING", 25.00)
    p.expect("HCPCS-CATEGORY-II", row, "CPT/HCPCS")
    conflict_row, conflict_code = p.add("LAB", "0305", "85611", "PT SUBSTITUTION", 52.00)
    p.expect("HCPCS-MAP-CONFLICT", conflict_row, "CPT/HCPCS")
    row, _ = p.add("RADIOLOGY", "0320", "73080", "XR ELBOW 3+ VIEWS LEFT", 250.00, mod="-lt")
    p.expect("MODIFIER-REPAIRED", row, "Modifier")
    row, _ = p.add("RADIOLOGY", "0320", "73110", "XR WRIST 3+ VIEWS", 240.00, mod="RTT")
    p.expect("MODIFIER-MALFORMED", row, "Modifier")
    row, _ = p.add("RADIOLOGY", "0320", "73100", "XR WRIST 2 VIEWS", 220.00, mod="LT RT")
    p.expect("MODIFIER-CONFLICT", row, "Modifier")
    row, _ = p.add("RADIOLOGY", "0324", "71048", "XR CHEST 4+ VIEWS", 300.00, mod="26 TC")
    p.expect("MODIFIER-CONFLICT", row, "Modifier")
    p.expect("MODIFIER-PCTC-FACILITY", row, "Modifier")
    row, _ = p.add("RADIOLOGY", "0320", "72040", "XR C-SPINE 2-3 VIEWS", 270.00, mod="TC")
    p.expect("MODIFIER-PCTC-FACILITY", row, "Modifier")
    # Code map problems that leave a line uncoded (so HCPCS-MISSING fires there too).
    dup_row, dup_code = p.add("LAB", "0301", "", "MAGNESIUM SERUM", 34.00)
    p.expect("HCPCS-MISSING", dup_row, "CPT/HCPCS")
    bad_row, bad_code = p.add("PHARMACY", "0636", "", "INFLIXIMAB 10 MG INJ", 1200.00)
    p.expect("HCPCS-MISSING", bad_row, "CPT/HCPCS")
    p.expect("HCPCS-SUGGESTED", bad_row, "CPT/HCPCS")

    # Reference code sets (bundled CMS HCPCS file, UB-04 list), as of SAMPLE_AS_OF.
    row, _ = p.add("LAB", "0301", "G0999", "SPECIAL CHEM PANEL (BAD CODE)", 88.00)
    p.expect("HCPCS-UNKNOWN", row, "CPT/HCPCS")
    row, _ = p.add("MAMMOGRAPHY", "0403", "G0202", "SCREENING MAMMO W CAD (OLD CODE)", 390.00)
    p.expect("HCPCS-DELETED", row, "CPT/HCPCS")
    row, _ = p.add("PHARMACY", "0636", "J3490", "COMPOUNDED DRUG INJ", 75.00)
    p.expect("HCPCS-NOC", row, "CPT/HCPCS")
    row, _ = p.add("LAB", "0308", "84146", "PROLACTIN", 70.00)
    p.expect("REVCODE-UNKNOWN", row, "Rev Code")
    row, _ = p.add("RADIOLOGY", "0320", "73060", "XR HUMERUS 2 VIEWS", 215.00, mod="ZZ")
    p.expect("MODIFIER-UNKNOWN", row, "Modifier")
    row, _ = p.add("PHARMACY", "0636", "J2250", "MIDAZOLAM 1 MG INJ", 11.00, mod="ZA")
    p.expect("MODIFIER-DELETED", row, "Modifier")
    unknown_row, unknown_code = p.add("LAB", "0301", "", "ZINC SERUM", 66.00)
    p.expect("HCPCS-MISSING", unknown_row, "CPT/HCPCS")
    # Descriptions against codes.
    row, _ = p.add("LAB", "0301", "", "LIPID PANEL", 96.00)  # same text as a coded line
    p.expect("HCPCS-MISSING", row, "CPT/HCPCS")
    p.expect("HCPCS-SUGGESTED", row, "CPT/HCPCS")
    row, _ = p.add("MRI", "0610", "C8903", "MRI BREAST BILATERAL W CONTRAST", 3100.00)
    p.expect("DESCRIPTION-CODE-CONFLICT", row, "CPT/HCPCS")  # C8903 is unilateral
    # Priced under the CLFS national limit (5.02): run with --clfs clfs_2025_q2_excerpt.csv.
    row, _ = p.add("LAB", "0301", "82247", "BILIRUBIN TOTAL", 4.50)
    p.expect("PRICE-BELOW-FEE-SCHEDULE", row, "Unit Price")
    for rule in ("REFERENCE-STALE",):  # the bundled HCPCS and modifier releases end 2025-09-30
        p.expect(rule, HEADER_ROW, "")

    p.map_rows = [["Charge Code", "HCPCS", "Modifier"]]

    def map_add(code, hcpcs, mod=""):
        p.map_rows.append([code, hcpcs, mod])
        return len(p.map_rows)  # CSV line number (header is line 1)

    for code, hcpcs in mapped_codes.items():
        map_add(code, hcpcs)
    line = map_add(conflict_code, "85610")
    line = map_add(dup_code, "83735")
    p.expect("MAP-KEY-DUPLICATE", line, "Charge Code", MAP.name)
    line = map_add(dup_code, "83737")
    p.expect("MAP-KEY-DUPLICATE", line, "Charge Code", MAP.name)
    line = map_add(bad_code, "J12345")
    p.expect("MAP-CODE-INVALID", line, "HCPCS", MAP.name)
    line = map_add(unknown_code, "K9999")  # well-formed but never issued: not applied
    p.expect("MAP-CODE-INVALID", line, "HCPCS", MAP.name)
    line = map_add("39999999", "80076")
    p.expect("MAP-UNMATCHED", line, "Charge Code", MAP.name)
    p.expect("COLUMN-UNMAPPED", HEADER_ROW, "GL Account")
    return p


def write_clfs() -> None:
    """The CMS CSV layout: title lines above the header, zero-padded rates, cp1252."""
    with CLFS_SAMPLE.open("w", newline="", encoding="cp1252") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(["2025 Clinical Diagnostic Laboratory Fee Schedule (excerpt)"] + [""] * 8)
        w.writerow(["Rates copied from the CMS 2025 Q2 file; descriptors left out."] + [""] * 8)
        w.writerow(["The sample\u2019s lab codes only."] + [""] * 8)
        w.writerow([""] * 9)
        w.writerow(["YEAR", "HCPCS", "MOD", "EFF_DATE", "INDICATOR", "RATE", "SHORTDESC",
                    "LONGDESC", "EXTENDED LONGDESC"])  # fmt: skip
        for code, mod, rate in CLFS_RATES:
            w.writerow(["2025", code, mod, "20250101", "N", rate, "", "", ""])


def write(p: Plan) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "CDM Export"
    ws.append(["Mercy General Hospital - Chargemaster (SYNTHETIC SAMPLE DATA)"])
    ws.append(["Exported 2026-11-01 from the patient accounting system"])
    ws.append([])
    ws.append(HEADERS)
    for row in p.rows:
        ws.append([None if v in ("", None) else v for v in row])
    # The export's report block under the list: read as skipped rows, not lines (with the
    # title block, the section row and the blank row: over 1% of the rows, LINES-SKIPPED).
    ws.append([])
    ws.append(["Number of charge codes printed:", len(p.rows)])
    ws.append(["Printed by:", "CDM export job"])
    for cell in ws[HEADER_ROW]:
        cell.font = Font(bold=True)
    info = wb.create_sheet("Export Info")
    info.append(["Property", "Value"])
    info.append(["Facility", "Mercy General (synthetic)"])
    # A further part of the same chargemaster, with its own header: SHEET-NOT-READ.
    rx = wb.create_sheet("Pharmacy CDM")
    rx.append(["Charge Code", "Drug Description", "Unit Price"])
    for i, (drug, price) in enumerate(PHARMACY):
        rx.append([str(40010001 + i), drug, price])
    wb.properties.creator = "chargemaster sample generator"
    wb.save(CDM)
    with MAP.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(p.map_rows)
    # 'Item #' is no alias: the values (unique ids) make it the charge code (COLUMN-INFERRED).
    price_list = [
        ["Standard charges (SYNTHETIC SAMPLE)", "", "", "", ""],
        ["Item #", "Procedure Name", "CPT Code", "Revenue Code Description", "Unit Charge"],
        ["5001", "CBC W AUTO DIFF", "85025", "LABORATORY - HEMATOLOGY", "$62"],
        ["5017", "XR CHEST 2 VIEWS", "71046", "RADIOLOGY - DIAGNOSTIC - CHEST X-RAY", "$245"],
        ["5023", "LIPID PANEL", "BLANK", "LABORATORY - CHEMISTRY", "$96"],
        ["5042", "PRIVATE ROOM", "BLANK", "ROOM & BOARD - PRIVATE", "$2,890"],
        ["5068", "FLUOROESTRADIOL F18 PER MCI", "C9060", "NUCLEAR MEDICINE - DIAGNOSTIC", "$1,250"],
    ]
    with PRICE_LIST.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(price_list)
    # The published list has no revenue code, modifiers, status or department.
    expected = list(p.expected)
    pl = PRICE_LIST.name
    for _ in ("revenue code", "modifiers", "status", "department"):
        expected.append((pl, "COLUMN-MISSING", 2, ""))
    expected.append((pl, "COLUMN-INFERRED", 2, "Item #"))
    expected.append((CDM.name, "LINES-SKIPPED", HEADER_ROW, ""))
    expected.append((CDM.name, "SHEET-NOT-READ", HEADER_ROW, ""))
    # The rules that need a column the list lacks (revenue code, modifiers).
    for _rule in (
        "REVCODE-MISSING",
        "REVCODE-REPAIRED",
        "PRICE-INCONSISTENT",
        "REVCODE-MALFORMED",
        "REVCODE-UNKNOWN",
        "HCPCS-REVCODE-MISMATCH",
        "MODIFIER-MALFORMED",
        "MODIFIER-PCTC-FACILITY",
    ):
        expected.append((pl, "RULE-SKIPPED", 2, ""))
    expected.append((pl, "HCPCS-MISSING", 5, "CPT Code"))  # a lab line by its description
    expected.append((pl, "HCPCS-NOT-YET-EFFECTIVE", 7, "CPT Code"))  # C9060: 2020-10-01
    with EXPECTED.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "as_of", "rule", "row", "column"])
        as_of = {CDM.name: SAMPLE_AS_OF, MAP.name: SAMPLE_AS_OF, pl: PRICE_LIST_AS_OF}
        w.writerows(sorted((f, as_of[f], r, row, c) for f, r, row, c in expected))


if __name__ == "__main__":
    plan = build()
    write(plan)
    write_clfs()
    print(f"{CDM.name}: {len(plan.rows)} rows; {len(plan.expected)} planted findings")
