"""The contracts in schemas/ and the rule catalog stay consistent with each other and the docs."""

import re

import pytest
import yaml

from chargemaster.catalog import RULES
from chargemaster.config import load_config
from chargemaster.errors import ConfigError
from chargemaster.fields import schemas_dir
from chargemaster.schema import lint, load_schema, load_schema_file
from tests.conftest import ROOT, SHARED


@pytest.mark.parametrize("name", ["chargemaster", "code_map"])
def test_schemas_load_and_every_check_names_a_rule(name):
    schema = load_schema(name)
    raw = yaml.safe_load((schemas_dir() / f"{name}.yaml").read_text())
    for column in raw["columns"].values():
        for check in column.get("checks", []):
            assert check["options"]["error"].split(":")[0] in RULES
    assert schema.columns


def test_lint_rejects_keys_pandera_would_ignore(tmp_path):
    raw = yaml.safe_load((schemas_dir() / "chargemaster.yaml").read_text())
    raw["columns"]["description"]["severity"] = "error"
    with pytest.raises(ConfigError, match="unknown keys"):
        lint(raw, "x")
    raw["columns"]["description"].pop("severity")
    raw["columns"]["description"]["checks"][0]["options"]["error"] = "NOT-A-RULE: x"
    with pytest.raises(ConfigError, match="rule id"):
        lint(raw, "x")
    path = tmp_path / "s.yaml"
    path.write_text("columns: {a: {greater_than_or_equl_to: 0}}\n")
    with pytest.raises(ConfigError, match="unknown keys"):
        load_schema_file(path)


def test_catalog_matches_the_shared_rule_catalog():
    rules_md = SHARED / "docs" / "rules.md"
    if not rules_md.exists():
        pytest.skip("../shared/docs/rules.md is not present")
    text = rules_md.read_text()
    documented = dict(re.findall(r"^\| ([A-Z][A-Z0-9-]+) \| (error|warning|info) \|", text, re.M))
    assert documented == {k: r.severity.value for k, r in RULES.items()}


def test_every_rule_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    for rule_id in RULES:
        assert f"| `{rule_id}` |" in readme, rule_id


def test_config_rejects_unknown_keys_and_bad_values(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[static_coding]\nmap_winz = true\n")
    with pytest.raises(ConfigError, match="static_coding.map_winz"):
        load_config(cfg)
    cfg.write_text('[severity]\n"PRICE-ZERO" = "fatal"\n')
    with pytest.raises(ConfigError, match="error, warning or info"):
        load_config(cfg)
    cfg.write_text('[families]\nlab = ["30"]\n')
    with pytest.raises(ConfigError, match="3-digit prefix"):
        load_config(cfg)
    cfg.write_text("[static_coding]\nmap_wins = 1\n")
    with pytest.raises(ConfigError, match="must be a bool"):
        load_config(cfg)
    cfg.write_text("not toml [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(cfg)


def test_defaults_document_every_key():
    config = load_config()
    assert "lab" in config.ancillary_families and config.map_wins is False
    assert config.attach_to == "ancillary"


def test_contract_rules_are_declared_in_the_registry_with_their_message():
    from chargemaster.rules import REGISTRY

    raw = yaml.safe_load((schemas_dir() / "chargemaster.yaml").read_text())
    ids = {
        check["options"]["error"].split(":")[0]
        for column in raw["columns"].values()
        for check in column.get("checks", [])
    }
    assert ids
    for rule_id in ids:
        spec = REGISTRY[rule_id]
        assert spec.stage == "contract" and spec.message.endswith("."), rule_id
        # The rule is skipped exactly when the column its contract checks is missing.
        assert spec.needs, rule_id


def test_config_code_families_carry_their_source():
    config = load_config()
    names = [f.name for f in config.code_families]
    # A code takes the first family that holds it: the narrow families come before lab and
    # radiology, whose ranges hold them.
    for narrow, broad in (
        ("blood_bank", "lab"),
        ("donor_screening", "lab"),
        ("specimen_collection", "lab"),
        ("imaging_guidance", "radiology"),
        ("imaging_rendering", "radiology"),
        ("breath_test", "radiology"),
        ("vascular_imaging", "radiology"),
    ):
        assert names.index(narrow) < names.index(broad), narrow
    assert all(f.source for f in config.code_families)
    assert all("professional_fees" in f.revenue_families for f in config.code_families)
