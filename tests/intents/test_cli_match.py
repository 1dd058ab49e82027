"""The ``leifeng match`` command."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli.match import match


def test_json_for_one_text() -> None:
    result = CliRunner().invoke(match, ["想预约礼发", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["service"] == "haircut"
    assert data["decision"] == "accept"
    assert 0 <= data["score"] <= 1
    assert data["candidates"][0][0] == "haircut"
    assert "礼发" not in result.output  # the text itself is not echoed in JSON mode


def test_json_lines_from_stdin() -> None:
    result = CliRunner().invoke(match, ["--json", "-"], input="配诊\n你好\n\n家里灯泡坏了\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["service"] for r in rows] == ["escort", None, "repair"]
    assert rows[1] == {"service": None, "decision": "not_service", "score": 0.0, "candidates": [], "emergency": None}


def test_readable_output_keeps_chinese() -> None:
    result = CliRunner().invoke(match, ["我家马桶堵了"])
    assert result.exit_code == 0
    assert "repair" in result.output and "我家马桶堵了" in result.output and "accept" in result.output


def test_hub_catalogue_option(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(
        '[[service]]\ncode = "kites"\nname = "风筝制作"\ndescription = "d"\nteam = "t"\nat_home = false\n'
        'duration_minutes = 30\nminors_ok = true\nkeywords = ["风筝"]\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(match, ["想做风筝", "--json", "--catalogue", str(path)])
    assert json.loads(result.output)["service"] == "kites"
    bad = tmp_path / "bad.toml"
    bad.write_text("[[service]]\ncode = 1\n", encoding="utf-8")
    result = CliRunner().invoke(match, ["x", "--catalogue", str(bad)])
    assert result.exit_code != 0
    assert "missing field" in result.output
