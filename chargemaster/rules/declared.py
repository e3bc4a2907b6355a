"""Rules whose findings another stage produces, declared with their needs and worklist so that
RULE-SKIPPED, COLUMN-MISSING and the report's worklists follow from one place."""

from __future__ import annotations

from .registry import CODE_MAP, INVALID_CODES, MISSING_HCPCS, PRICES, REPAIRS, declare

# The pandera contract (schemas/chargemaster.yaml): one finding per failing cell; '{value}' is
# the cell's value.
CONTRACT = "contract"
declare(
    "DESCRIPTION-MISSING",
    stage=CONTRACT,
    needs=("description",),
    message="Description is blank. Add the charge description the claim shows.",
)
declare(
    "PRICE-NEGATIVE",
    stage=CONTRACT,
    needs=("price",),
    message="Price {value} is below zero. Enter the charge as a positive amount.",
    worklist=PRICES,
)
declare(
    "REVCODE-MALFORMED",
    stage=CONTRACT,
    needs=("revenue_code",),
    message="Revenue code '{value}' is not 4 digits. Correct it to a 4-digit UB-04 revenue code "
    "such as 0300.",
    worklist=INVALID_CODES,
)
declare(
    "HCPCS-MALFORMED",
    stage=CONTRACT,
    needs=("hcpcs",),
    message="HCPCS '{value}' is not a HCPCS/CPT code (5 digits, 4 digits + F/T/U/M, or a letter "
    "+ 4 digits). Put one bare code in the cell.",
    worklist=INVALID_CODES,
)
declare(
    "HCPCS-LOCAL",
    stage=CONTRACT,
    needs=("hcpcs",),
    message="HCPCS '{value}' is a local (Level III) code, not valid on HIPAA claims. Replace it "
    "with the national code.",
    worklist=INVALID_CODES,
)
declare(
    "MODIFIER-MALFORMED",
    stage=CONTRACT,
    needs=("modifiers",),
    message="Modifier '{value}' is not 2 letters or digits. Correct it or remove it.",
    worklist=INVALID_CODES,
)

# Repairs (prepare.py): storage repairs once per column and kind, content repairs per line.
REPAIR = "repair"
declare("REVCODE-REPAIRED", stage=REPAIR, needs=("revenue_code",), worklist=REPAIRS)
declare("FORMAT-REPAIRED", stage=REPAIR, worklist=REPAIRS)
declare("HCPCS-REPAIRED", stage=REPAIR, needs=("hcpcs",), worklist=REPAIRS)
declare("MODIFIER-REPAIRED", stage=REPAIR, worklist=REPAIRS)

# Reference checks (refcheck.py) on the coded HCPCS, modifiers and revenue codes.
REFERENCE = "reference"
for _rid in (
    "HCPCS-UNKNOWN",
    "HCPCS-DELETED",
    "HCPCS-NOT-YET-EFFECTIVE",
    "HCPCS-NOC",
    "MODIFIER-UNKNOWN",
    "MODIFIER-DELETED",
):
    declare(_rid, stage=REFERENCE, worklist=INVALID_CODES)
declare("REVCODE-UNKNOWN", stage=REFERENCE, needs=("revenue_code",), worklist=INVALID_CODES)

# Static coding (codemap.py) matches the code map on the charge code.
STATIC = "static coding"
declare("HCPCS-ATTACHED", stage=STATIC, needs=("charge_code",), worklist=MISSING_HCPCS)
declare("HCPCS-MAP-CONFLICT", stage=STATIC, needs=("charge_code",), worklist=CODE_MAP)

# Fee schedules (feeschedule.py): needs a price; without a loaded schedule it says so itself.
declare("PRICE-BELOW-FEE-SCHEDULE", stage="fee schedule", needs=("price",), worklist=PRICES)
