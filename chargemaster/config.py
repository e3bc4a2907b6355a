"""Site configuration: revenue-code families, static-coding policy, severities, aliases.

The defaults live in ``defaults.toml`` beside this module, which is also the documentation of
every key. A user file is merged over them table by table and checked strictly: an unknown key
or a value of the wrong type is an error that names the key, never a silent fallback.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .catalog import RULES, Severity
from .errors import ConfigError

DEFAULTS_TEXT = resources.files("chargemaster").joinpath("defaults.toml").read_text("utf-8")

# Tables whose keys are the user's own names (families, code families, rule ids, fields).
_OPEN_TABLES = {
    "families",
    "department_families",
    "code_families",
    "severity",
    "aliases",
    "columns",
}


@dataclass(frozen=True, slots=True)
class CodeFamily:
    name: str
    codes: tuple[str, ...]
    revenue_families: tuple[str, ...]
    source: str = ""  # the public source of the pairing
    # Revenue codes (3-digit prefixes or 4-digit codes) that fit besides the families: rooms
    # outside every family (OR 036x, treatment room 076x) where a family's codes are billed by
    # the department that performs them. Not families, so suggestions are not narrowed by them.
    revenue_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PricePlaceholder:
    reporting_only_codes: tuple[str, ...]  # code ranges where 0.01 is normal
    reporting_only_status: tuple[str, ...]  # OPPS status indicators, where Addendum B is loaded
    token_charge_codes: tuple[str, ...] = ()  # free products billed at a token charge
    no_cost_drug_codes: tuple[str, ...] = ()  # drugs whose 0.01 is the no-cost token charge


@dataclass(frozen=True, slots=True)
class PriceInconsistent:
    exclude_codes: tuple[str, ...]  # code ranges that cover many items at many prices
    exclude_noc: bool
    exclude_local: bool
    bilateral_words: tuple[str, ...] = ()
    send_out_words: tuple[str, ...] = ()
    service_words: tuple[str, ...] = ()  # a component that makes another service: TELEMETRY
    # Lab codes whose lines are told apart by the specimens and methods they name, and those
    # words: (canonical name, its spellings), in the order a group's label shows them.
    specimen_codes: tuple[str, ...] = ()
    specimens: tuple[tuple[str, tuple[str, ...]], ...] = ()
    methods: tuple[tuple[str, tuple[str, ...]], ...] = ()
    default_specimens: tuple[str, ...] = ()  # named alone, keyed as none named: blood, serum
    method_fixed_codes: tuple[str, ...] = ()  # codes whose descriptor fixes the technique
    contrast_codes: tuple[str, ...] = ()  # imaging codes, told apart by the contrast stated
    bilateral_suffixes: tuple[str, ...] = ()  # modifier 50 as a description's last word
    half_price_tier: bool = True  # two prices, one exactly half the other: a designed tier


@dataclass(frozen=True, slots=True)
class PriceConfig:
    """[price] in defaults.toml: when a zero or blank price is a line's finding or a group's."""

    no_charge_descriptions: tuple[str, ...] = ()
    group_share: float = 0.5
    group_min_lines: int = 20
    group_min_coded: int = 3  # a group whose every coded line (>= this many) is at zero
    flag_off_values: frozenset[str] = frozenset()
    payer_columns: tuple[str, ...] = ()
    item_codes: tuple[str, ...] = ()  # drugs, supplies, devices: zero reported per group
    no_bill_revenue_codes: tuple[str, ...] = ()  # statistical lines: zero/blank by design
    pricing_method_texts: tuple[str, ...] = ()  # 'Time based' in a price cell: priced at entry


@dataclass(frozen=True, slots=True)
class FeeScheduleConfig:
    """PRICE-BELOW-FEE-SCHEDULE settings ([fee_schedule] in defaults.toml)."""

    price_column: str = "outpatient"
    margin: float = 1.0
    status: tuple[str, ...] = ("S", "T", "V", "X", "J2")
    skip_modifiers: tuple[str, ...] = ("26", "52", "53", "73", "74")
    skip_families: tuple[str, ...] = ("professional_fees", "pharmacy", "drugs_detailed")


@dataclass(frozen=True)
class Config:
    families: dict[str, tuple[str, ...]]
    ancillary_families: tuple[str, ...]
    requires_hcpcs: tuple[str, ...]
    soft_coded_departments: tuple[str, ...]
    map_wins: bool
    attach_to: str
    department_families: dict[str, tuple[str, ...]]
    code_families: tuple[CodeFamily, ...]
    inactive_status: frozenset[str]
    inactive_descriptions: tuple[str, ...]
    soft_coding_values: frozenset[str]
    hcpcs_placeholders: frozenset[str]
    severity: dict[str, str]
    aliases: dict[str, tuple[str, ...]]
    source: str = "built-in defaults"
    # role -> header names, set by hand: they win over header names and content
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    price_placeholder: PricePlaceholder = PricePlaceholder((), ())
    price_inconsistent: PriceInconsistent = PriceInconsistent((), False, False)
    fee_schedule: FeeScheduleConfig = FeeScheduleConfig()
    price: PriceConfig = PriceConfig()
    inactive_codes: tuple[str, ...] = ()  # retire markers in charge/revenue code cells
    # Revenue code cell values that state "no revenue code" ('0'), read as blank.
    revenue_placeholders: frozenset[str] = frozenset()


def load_config(path: Path | None = None) -> Config:
    """The defaults, with the user's TOML file merged over them when given."""
    raw = tomllib.loads(DEFAULTS_TEXT)
    source = "built-in defaults"
    if path is not None:
        try:
            user = tomllib.loads(Path(path).read_text("utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config file ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        _merge(raw, user, str(path))
        source = str(path)
    return _build(raw, source)


def _merge(base: dict[str, Any], user: dict[str, Any], where: str) -> None:
    for table, value in user.items():
        if table not in base:
            known = ", ".join(sorted(base))
            raise ConfigError(f"{where}: unknown key '{table}' (known tables: {known})")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: '{table}' must be a table, like [{table}]")
        if table in _OPEN_TABLES:
            base[table].update(value)
            continue
        for key, item in value.items():
            if key not in base[table]:
                known = ", ".join(sorted(base[table]))
                raise ConfigError(f"{where}: unknown key '{table}.{key}' (known: {known})")
            whole = isinstance(item, int) and not isinstance(item, bool)
            if type(item) is not type(base[table][key]) and not (
                whole and isinstance(base[table][key], float)  # margin = 1 means 1.0
            ):
                expected = type(base[table][key]).__name__
                raise ConfigError(f"{where}: '{table}.{key}' must be a {expected}")
            base[table][key] = item


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"config: '{key}' must be a list of strings")
    return tuple(value)


def _build(raw: dict[str, Any], source: str) -> Config:
    families = {k: _strings(v, f"families.{k}") for k, v in raw["families"].items()}
    for name, prefixes in families.items():
        for p in prefixes:
            if not (p.isdigit() and len(p) in (3, 4)):
                raise ConfigError(
                    f"config: families.{name}: '{p}' is not a 3-digit prefix or 4-digit code"
                )
    sc = raw["static_coding"]
    for key in ("ancillary_families", "requires_hcpcs"):
        for fam in _strings(sc[key], f"static_coding.{key}"):
            if fam not in families:
                raise ConfigError(f"config: static_coding.{key} names unknown family '{fam}'")
    if sc["attach_to"] not in ("ancillary", "all"):
        raise ConfigError("config: static_coding.attach_to must be 'ancillary' or 'all'")
    code_families = []
    for name, spec in raw["code_families"].items():
        if (
            not isinstance(spec, dict)
            or not {"codes", "revenue_families"} <= set(spec)
            or set(spec) - {"codes", "revenue_families", "revenue_codes", "source"}
        ):
            raise ConfigError(
                f"config: code_families.{name} needs 'codes' and 'revenue_families' "
                "(and optionally 'revenue_codes' and 'source')"
            )
        revs = _strings(spec["revenue_families"], f"code_families.{name}.revenue_families")
        for fam in revs:
            if fam not in families:
                raise ConfigError(f"config: code_families.{name} names unknown family '{fam}'")
        codes = _strings(spec["codes"], f"code_families.{name}.codes")
        _ranges(codes, f"code_families.{name}")
        rev_codes = _strings(spec.get("revenue_codes", []), f"code_families.{name}.revenue_codes")
        for p in rev_codes:
            if not (p.isdigit() and len(p) in (3, 4)):
                raise ConfigError(
                    f"config: code_families.{name}.revenue_codes: '{p}' is not a 3-digit prefix "
                    "or 4-digit code"
                )
        code_families.append(CodeFamily(name, codes, revs, str(spec.get("source", "")), rev_codes))
    severity = {}
    for rule_id, sev in raw["severity"].items():
        if rule_id not in RULES:
            raise ConfigError(f"config: severity: unknown rule id '{rule_id}'")
        if sev not in {s.value for s in Severity}:
            raise ConfigError(f"config: severity.{rule_id} must be error, warning or info")
        severity[rule_id] = sev
    fee = _fee_schedule(raw["fee_schedule"], families)
    price = _price(raw["price"])
    upper = lambda xs, key: frozenset(s.strip().upper() for s in _strings(xs, key))  # noqa: E731
    return Config(
        families=families,
        ancillary_families=tuple(sc["ancillary_families"]),
        requires_hcpcs=tuple(sc["requires_hcpcs"]),
        soft_coded_departments=tuple(
            s.strip().upper() for s in _strings(sc["soft_coded_departments"], "soft_coded")
        ),
        map_wins=sc["map_wins"],
        attach_to=sc["attach_to"],
        department_families={
            k: tuple(w.upper() for w in _strings(v, f"department_families.{k}"))
            for k, v in raw["department_families"].items()
        },
        code_families=tuple(code_families),
        inactive_status=upper(raw["status"]["inactive"], "status.inactive"),
        inactive_descriptions=tuple(
            sorted(upper(raw["status"]["inactive_descriptions"], "status.inactive_descriptions"))
        ),
        soft_coding_values=upper(raw["coding_method"]["soft"], "coding_method.soft"),
        hcpcs_placeholders=upper(raw["hcpcs"]["placeholders"], "hcpcs.placeholders"),
        revenue_placeholders=upper(
            raw["revenue_code"]["placeholders"], "revenue_code.placeholders"
        ),
        severity=severity,
        aliases={k: _strings(v, f"aliases.{k}") for k, v in raw["aliases"].items()},
        source=source,
        price_placeholder=PricePlaceholder(
            _range_list(raw, "price_placeholder", "reporting_only_codes"),
            tuple(
                s.strip().upper()
                for s in _strings(
                    raw["price_placeholder"]["reporting_only_status"], "reporting_only_status"
                )
            ),
            _range_list(raw, "price_placeholder", "token_charge_codes"),
            _range_list(raw, "price_placeholder", "no_cost_drug_codes"),
        ),
        price_inconsistent=PriceInconsistent(
            _range_list(raw, "price_inconsistent", "exclude_codes"),
            raw["price_inconsistent"]["exclude_noc"],
            raw["price_inconsistent"]["exclude_local"],
            tuple(
                sorted(
                    upper(raw["price_inconsistent"]["bilateral_words"], "bilateral_words"),
                    key=lambda w: (-len(w), w),
                )
            ),
            tuple(sorted(upper(raw["price_inconsistent"]["send_out_words"], "send_out_words"))),
            tuple(sorted(upper(raw["price_inconsistent"]["service_words"], "service_words"))),
            _range_list(raw, "price_inconsistent", "specimen_codes"),
            _named_words(raw["price_inconsistent"], "specimens"),
            _named_words(raw["price_inconsistent"], "methods"),
            _usual_specimens(raw["price_inconsistent"]),
            _range_list(raw, "price_inconsistent", "method_fixed_codes"),
            _range_list(raw, "price_inconsistent", "contrast_codes"),
            tuple(
                sorted(upper(raw["price_inconsistent"]["bilateral_suffixes"], "bilateral_suffixes"))
            ),
            raw["price_inconsistent"]["half_price_tier"],
        ),
        fee_schedule=fee,
        price=price,
        inactive_codes=tuple(
            sorted(upper(raw["status"]["inactive_codes"], "status.inactive_codes"))
        ),
        columns=_columns(raw.get("columns", {})),
    )


def _named_words(raw: dict[str, Any], key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """[price_inconsistent.KEY]: canonical name = [spellings], as (name, SPELLINGS) pairs."""
    table = raw[key]
    if not isinstance(table, dict):
        raise ConfigError(f"config: price_inconsistent.{key} must be a table of name = [words]")
    # A set of names is kept as bits of one 64-bit number (rules/charge.py).
    if len(table) > 62:
        raise ConfigError(f"config: price_inconsistent.{key} holds more than 62 names")
    return tuple(
        (str(name), tuple(w.strip().upper() for w in _strings(words, f"{key}.{name}")))
        for name, words in table.items()
    )


def _usual_specimens(raw: dict[str, Any]) -> tuple[str, ...]:
    names = _strings(raw["default_specimens"], "default_specimens")
    unknown = sorted(set(names) - set(raw["specimens"]))
    if unknown:
        raise ConfigError(
            f"config: price_inconsistent.default_specimens names {', '.join(unknown)}, which "
            "[price_inconsistent.specimens] does not define"
        )
    return names


def _fee_schedule(raw: dict[str, Any], families: dict[str, tuple[str, ...]]) -> FeeScheduleConfig:
    margin = raw["margin"]
    if not isinstance(margin, (int, float)) or isinstance(margin, bool) or margin <= 0:
        raise ConfigError("config: fee_schedule.margin must be a number above 0, like 1.0")
    column = raw["price_column"]
    if not isinstance(column, str) or not column.strip():
        raise ConfigError(
            "config: fee_schedule.price_column must be outpatient, inpatient, facility, "
            "professional, first or a price column's header"
        )
    skip = _strings(raw["skip_families"], "fee_schedule.skip_families")
    for fam in skip:
        if fam not in families:
            raise ConfigError(f"config: fee_schedule.skip_families names unknown family '{fam}'")
    return FeeScheduleConfig(
        price_column=column.strip(),
        margin=float(margin),
        status=tuple(s.strip().upper() for s in _strings(raw["status"], "fee_schedule.status")),
        skip_modifiers=tuple(
            s.strip().upper()
            for s in _strings(raw["skip_modifiers"], "fee_schedule.skip_modifiers")
        ),
        skip_families=skip,
    )


def _price(raw: dict[str, Any]) -> PriceConfig:
    share = raw["group_share"]
    if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 < share <= 1:
        raise ConfigError("config: price.group_share must be a number above 0 and up to 1")
    lines, coded = raw["group_min_lines"], raw["group_min_coded"]
    for key, value in (("group_min_lines", lines), ("group_min_coded", coded)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"config: price.{key} must be a whole number of at least 1")

    def upper(key: str) -> tuple[str, ...]:
        return tuple(s.strip().upper() for s in _strings(raw[key], f"price.{key}"))

    return PriceConfig(
        no_charge_descriptions=upper("no_charge_descriptions"),
        group_share=float(share),
        group_min_lines=lines,
        group_min_coded=coded,
        flag_off_values=frozenset(upper("flag_off_values")),
        payer_columns=upper("payer_columns"),
        item_codes=_ranges(upper("item_codes"), "price.item_codes"),
        no_bill_revenue_codes=upper("no_bill_revenue_codes"),
        pricing_method_texts=upper("pricing_method_texts"),
    )


def _range_list(raw: dict[str, Any], table: str, key: str) -> tuple[str, ...]:
    """The code ranges of [table] key, checked."""
    return _ranges(_strings(raw[table][key], key), f"{table}.{key}")


def _ranges(codes: tuple[str, ...], key: str) -> tuple[str, ...]:
    """'LO-HI' code ranges of 5 characters each ('80047-89398', '0001F-9999F', 'J0000-J9999')."""
    for rng in codes:
        lo, _, hi = rng.partition("-")
        if len(lo) != 5 or (hi and len(hi) != 5):
            raise ConfigError(f"config: {key}: bad range '{rng}'")
    return codes


def _columns(raw: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """[columns] role = "HEADER" (or a list): the column of a role, whatever names or values say."""
    from .fields import field_specs

    known = {s.name for s in field_specs("chargemaster")}
    out = {}
    for role, value in raw.items():
        if role not in known:
            raise ConfigError(
                f"config: columns: unknown role '{role}' (roles: {', '.join(sorted(known))})"
            )
        out[role] = (value,) if isinstance(value, str) else _strings(value, f"columns.{role}")
    return out
