"""The rule catalog: every rule id the report may carry.

The ids are a contract with the people who filter and pivot the report night after night
(see ../shared/docs/rules.md): never rename or reuse one. Severity belongs to the id and
may be overridden per id in the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: Severity
    group: str
    title: str
    # Empty when the rule runs today; otherwise what it waits for (shown by `chargemaster rules`).
    pending: str = ""


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741

RULES: dict[str, Rule] = {
    r.id: r
    for r in [
        Rule("COLUMN-MISSING", W, "input", "Expected column not found"),
        Rule("COLUMN-UNMAPPED", I, "input", "Column matches no known field"),
        Rule("RULE-SKIPPED", I, "input", "Rule could not run"),
        Rule(
            "COLUMN-INFERRED",
            I,
            "input",
            "Column role decided from its content",
        ),
        Rule(
            "LINES-SKIPPED",
            W,
            "input",
            "Rows below the header not read as lines",
        ),
        Rule(
            "SHEET-NOT-READ",
            W,
            "input",
            "Another sheet looks like part of the chargemaster",
        ),
        Rule("CELL-OVERSIZE", W, "input", "Value cannot be written whole"),
        Rule(
            "BASELINE-MISMATCH",
            W,
            "input",
            "Baseline report from another input, reference or date",
        ),
        Rule(
            "REFERENCE-STALE",
            W,
            "input",
            "Reference code set older than the as-of date",
        ),
        Rule("CHARGE-CODE-MISSING", E, "charge line", "Blank charge code"),
        Rule("CHARGE-CODE-DUPLICATE", E, "charge line", "Charge code on more than one active line"),
        Rule("DESCRIPTION-MISSING", E, "charge line", "Blank description"),
        Rule("PRICE-MISSING", E, "charge line", "Blank or non-numeric price"),
        Rule("PRICE-NEGATIVE", E, "charge line", "Price below zero"),
        Rule("PRICE-ZERO", W, "charge line", "Price of zero"),
        Rule("PRICE-PLACEHOLDER", W, "charge line", "Placeholder price (all nines or 0.01)"),
        Rule(
            "PRICE-INCONSISTENT",
            W,
            "charge line",
            "Like lines (code, modifiers, revenue code) at different prices",
        ),
        Rule(
            "PRICE-BELOW-FEE-SCHEDULE",
            W,
            "charge line",
            "Price below the Medicare rate",
        ),
        Rule("REVCODE-MISSING", E, "revenue code", "Blank revenue code"),
        Rule(
            "REVCODE-REPAIRED", I, "revenue code", "Revenue codes repaired to 4 digits (per column)"
        ),
        Rule("REVCODE-MALFORMED", E, "revenue code", "Revenue code not 4 digits"),
        Rule("REVCODE-UNKNOWN", E, "revenue code", "Not a UB-04 revenue code"),
        Rule("HCPCS-REPAIRED", W, "hcpcs", "HCPCS code repaired"),
        Rule("FORMAT-REPAIRED", I, "hcpcs", "Codes stored in another form, repaired (per column)"),
        Rule("HCPCS-MALFORMED", E, "hcpcs", "Not a HCPCS/CPT code shape"),
        Rule("HCPCS-LOCAL", W, "hcpcs", "Local (Level III style) code"),
        Rule("HCPCS-UNKNOWN", E, "hcpcs", "Code not in the reference code sets"),
        Rule("HCPCS-DELETED", E, "hcpcs", "Code terminated before the as-of date"),
        Rule("HCPCS-NOT-YET-EFFECTIVE", W, "hcpcs", "Code not effective yet"),
        Rule("HCPCS-MISSING", E, "hcpcs", "Statically coded ancillary line without HCPCS"),
        Rule("HCPCS-REVCODE-MISMATCH", W, "hcpcs", "Code family does not fit the revenue code"),
        Rule("HCPCS-CATEGORY-II", W, "hcpcs", "CPT Category II tracking code on a priced line"),
        Rule("HCPCS-NOC", W, "hcpcs", "Not-otherwise-classified code statically coded"),
        Rule("HCPCS-ATTACHED", I, "hcpcs", "HCPCS attached from the code map"),
        Rule("HCPCS-MAP-CONFLICT", W, "hcpcs", "Line's HCPCS differs from the code map"),
        Rule("MODIFIER-REPAIRED", W, "modifier", "Modifier repaired"),
        Rule("MODIFIER-MALFORMED", E, "modifier", "Modifier not 2 letters/digits"),
        Rule("MODIFIER-UNKNOWN", E, "modifier", "Modifier not in the reference lists"),
        Rule(
            "MODIFIER-DELETED",
            E,
            "modifier",
            "Modifier terminated before the as-of date",
        ),
        Rule("MODIFIER-CONFLICT", E, "modifier", "Modifiers that cannot go together"),
        Rule("MODIFIER-PCTC-FACILITY", W, "modifier", "TC or 26 on a facility technical line"),
        Rule(
            "DESCRIPTION-CODE-CONFLICT",
            W,
            "description",
            "Description contradicts the code's descriptor",
        ),
        Rule(
            "HCPCS-SUGGESTED",
            I,
            "description",
            "Candidate codes for an uncoded ancillary line",
        ),
        Rule("MAP-KEY-DUPLICATE", E, "code map", "Code map gives one charge code two codes"),
        Rule("MAP-CODE-INVALID", E, "code map", "Code map entry has an invalid code"),
        Rule("MAP-UNMATCHED", I, "code map", "Code map entry matches no chargemaster line"),
    ]
}

FINDING_COLUMNS = [
    "severity",
    "rule",
    "row",
    "cell",
    "column",
    "charge_code",
    "value",
    "suggested",
    "message",
]

# Headers in the report, in FINDING_COLUMNS order.
FINDING_HEADERS = [
    "Severity",
    "Rule",
    "Row",
    "Cell",
    "Column",
    "Charge Code",
    "Value",
    "Suggested",
    "Message",
]


def severity_of(rule_id: str, overrides: dict[str, str] | None = None) -> Severity:
    if overrides and rule_id in overrides:
        return Severity(overrides[rule_id])
    return RULES[rule_id].severity
