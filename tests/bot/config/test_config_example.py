"""`.env.example` lists every setting the app reads."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from bot.config import PREFIX, Config, load_config, production_problems

EXAMPLE = Path(__file__).resolve().parents[3] / ".env.example"


def _listed() -> dict[str, str]:
    text = EXAMPLE.read_text(encoding="utf-8")
    return dict(re.findall(rf"^({PREFIX}[A-Z0-9_]+)=(.*)$", text, re.M))


def test_every_setting_is_in_the_example_and_nothing_else() -> None:
    settings = {PREFIX + f.name.upper() for f in dataclasses.fields(Config) if f.name != "extra"}
    listed = set(_listed())
    assert settings - listed == set(), "settings missing from .env.example"
    assert listed - settings == set(), ".env.example names settings the app does not read"


def test_the_example_loads_as_it_stands() -> None:
    """Copied to .env unchanged, the file is a valid configuration (every value parses)."""
    config = load_config({}, environ=_listed())
    assert config.database_url == "sqlite:///leifeng.db"


def test_the_example_unchanged_is_refused_in_production() -> None:
    """Its token and key are placeholders: the app starts only once both are replaced by real ones."""
    config = load_config({}, environ=_listed())
    assert config.env == "production"
    assert [problem.split(" ")[0] for problem in production_problems(config)] == ["LEIFENG_WECHAT_TOKEN",
                                                                                   "LEIFENG_SECRET_KEY"]
