"""Static coding from the code map."""

from tests.conftest import line


def test_code_map_attaches_to_ancillary_lines_without_a_code(check):
    pairs, result = check(
        [line(hcpcs=""), line(code="2", rev="0120", desc="ROOM", hcpcs="")],
        code_map=[["30010001", "85025", ""], ["2", "99999", ""]],
    )
    frame = result.lines.frame
    assert frame.loc[2, "coded_hcpcs"] == "85025"
    assert frame.loc[2, "code_source"] == "code map"
    assert ("HCPCS-ATTACHED", 2) in pairs and ("HCPCS-MISSING", 2) not in pairs
    assert pd_isna(frame.loc[3, "coded_hcpcs"])  # room and board is not statically coded
    assert result.stats["statically_coded"] == 1


def pd_isna(v):
    import pandas as pd

    return pd.isna(v)


def test_code_map_attaches_modifiers_too(check):
    _, result = check(
        [line(rev="0320", hcpcs="", desc="XR SHOULDER RT")], code_map=[["30010001", "73030", "RT"]]
    )
    assert result.lines.frame.loc[2, "coded_modifiers"] == "RT"


def test_conflict_keeps_the_line_code_unless_the_map_wins(check, tmp_path):
    pairs, result = check([line(hcpcs="85027")], code_map=[["30010001", "85025", ""]])
    assert ("HCPCS-MAP-CONFLICT", 2) in pairs
    assert result.lines.frame.loc[2, "coded_hcpcs"] == "85027"
    cfg = tmp_path / "c.toml"
    cfg.write_text("[static_coding]\nmap_wins = true\n")
    _, result = check([line(hcpcs="85027")], code_map=[["30010001", "85025", ""]], config=cfg)
    assert result.lines.frame.loc[2, "coded_hcpcs"] == "85025"


def test_duplicate_keys_are_not_applied(check):
    pairs, result = check(
        [line(hcpcs="")], code_map=[["30010001", "85025", ""], ["30010001", "85027", ""]]
    )
    assert {("MAP-KEY-DUPLICATE", 2), ("MAP-KEY-DUPLICATE", 3), ("HCPCS-MISSING", 2)} <= pairs
    cells = set(result.findings.loc[result.findings["rule"].eq("MAP-KEY-DUPLICATE"), "cell"])
    assert cells == {"map.csv!A2", "map.csv!A3"}


def test_same_entry_twice_is_not_a_duplicate(check):
    pairs, _ = check([line(hcpcs="")], code_map=[["30010001", "85025", ""]] * 2)
    assert not any(r == "MAP-KEY-DUPLICATE" for r, _ in pairs)


def test_invalid_map_code_is_not_applied(check):
    pairs, result = check([line(hcpcs="")], code_map=[["30010001", "J12345", ""]])
    assert ("MAP-CODE-INVALID", 2) in pairs and ("HCPCS-MISSING", 2) in pairs
    pairs, _ = check([line(hcpcs="")], code_map=[["30010001", "85025", "RTT"]])
    assert ("MAP-CODE-INVALID", 2) in pairs


def test_unmatched_map_entry(check):
    pairs, _ = check([line()], code_map=[["39999999", "80076", ""]])
    assert ("MAP-UNMATCHED", 2) in pairs


def test_map_repairs_excel_mangled_codes(check):
    _, result = check([line(hcpcs="")], code_map=[["30010001.0", "85025.0", ""]])
    assert result.lines.frame.loc[2, "coded_hcpcs"] == "85025"


def test_soft_coded_lines_are_not_coded_by_the_map(check):
    from tests.conftest import HEADER

    _, result = check(
        [line(hcpcs="") + ["SOFT"]],
        header=HEADER + ["Coding Method"],
        code_map=[["30010001", "85025", ""]],
    )
    assert pd_isna(result.lines.frame.loc[2, "coded_hcpcs"])


def test_without_charge_code_column_static_coding_is_skipped(check):
    pairs, result = check(
        [["CBC", "0305", "", "62"]],
        header=["Description", "Rev Code", "CPT", "Price"],
        code_map=[["30010001", "85025", ""]],
    )
    skipped = result.findings[result.findings["rule"].eq("RULE-SKIPPED")]["value"].tolist()
    assert "static coding" in skipped
