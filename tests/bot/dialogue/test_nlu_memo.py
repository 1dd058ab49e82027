"""The Understanding keeps the answers for recent texts: same answers, parsed once."""

from __future__ import annotations

from bot.dialogue import nlu
from bot.dialogue.nlu import load_understanding
from intents.catalogue import load_catalogue
from intents.commands import parse_choice, parse_command
from intents.matcher import Matcher


def test_memoised_answers_equal_fresh_parses() -> None:
    u = load_understanding(None)
    fresh = Matcher(load_catalogue(None))
    for text in ("帮我理发", "家里水管漏水了", "菜单", "人工", "接单 12", "3", "三", "你好", "帮我理发"):
        assert u.match(text) == fresh.match(text)
        assert u.command(text) == parse_command(text)
        assert u.choice(text) == parse_choice(text)


def test_a_repeated_text_is_not_parsed_again() -> None:
    u = load_understanding(None)
    u.match("想修一下自行车")
    hits = u._match.cache_info().hits
    u.match("想修一下自行车")
    assert u._match.cache_info().hits == hits + 1
    before = nlu._command.cache_info().hits
    u.command("菜单")
    u.command("菜单")
    assert nlu._command.cache_info().hits >= before + 1


def test_each_catalogue_has_its_own_memo() -> None:
    a = load_understanding(None)
    b = nlu.Understanding(load_catalogue(None))
    assert a._match is not b._match
