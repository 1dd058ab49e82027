"""``leifeng match``: run the intent matcher on text from the command line or stdin."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Protocol

import click

from intents.catalogue import CatalogueError, load_catalogue
from intents.emergency import Emergency, detect_emergency
from intents.matcher import Matcher, MatchResult


def _line(text: str, result: MatchResult, as_json: bool, found: Emergency | None) -> str:
    """The matcher's answer, and whether the text is an emergency (which the bot answers before any matching):
    ``found`` by the rules, or the rules then the semantic second opinion, as the bot's web workers decide."""
    if as_json:
        return json.dumps({**result.as_dict(), "emergency": found.kind if found else None}, ensure_ascii=False)
    others = ", ".join(f"{code} {score:.2f}" for code, score in result.candidates[1:])
    shown = result.service or "-"
    tail = f"  (also: {others})" if others else ""
    alarm = f"EMERGENCY {found.kind}: " if found else ""
    return f"{alarm}{result.decision:<11} {shown:<14} {result.score:.2f}  {text}{tail}"


@click.command("match")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per text.")
@click.option(
    "--catalogue",
    "catalogue_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A hub's catalogue TOML instead of the default one.",
)
def match(text: str, as_json: bool, catalogue_path: str | None) -> None:
    """Match TEXT against the service catalogue; TEXT '-' reads one text per line from stdin."""
    try:
        catalogue = load_catalogue(catalogue_path)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from exc
    matcher, emergency = _matcher(Matcher(catalogue))
    if text != "-":
        found = emergency(text)  # first, as the bot asks: the service matcher then reuses the message's embedding
        click.echo(_line(text, matcher.match(text), as_json, found))
        return
    for raw in sys.stdin:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        found = emergency(line)
        click.echo(_line(line, matcher.match(line), as_json, found))


class _Matching(Protocol):
    def match(self, text: str) -> MatchResult: ...


def _matcher(lexical: Matcher) -> tuple[_Matching, Callable[[str], Emergency | None]]:
    """What the bot's web workers answer with: the hybrid matcher (intents/semantic.py) and the emergency rules
    followed by the semantic second opinion when the semantic matcher is configured (LEIFENG_SEMANTIC_MATCHER, on by
    default) and its model loads, else the lexical matcher and the emergency rules alone."""
    from bot.config import load_config

    if not load_config().semantic_matcher:
        return lexical, detect_emergency
    from bot.services import semantic_layer

    layer = semantic_layer()
    if layer is None:
        return lexical, detect_emergency
    return layer.hybrid(lexical), layer.emergency
