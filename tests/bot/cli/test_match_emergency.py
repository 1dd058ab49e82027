"""``leifeng match --json`` says whether a text is an emergency (the field outside checks read)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bot.cli.match import match


def test_the_json_has_an_emergency_field() -> None:
    texts = "我妈摔倒了起不来\n煤气泄漏了怎么办\n想学急救\n明天帮我理发\n"
    out = CliRunner().invoke(match, ["--json", "-"], input=texts)
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert [r["emergency"] for r in rows] == ["medical", "gas", None, None]
    assert rows[3]["service"] == "haircut"
