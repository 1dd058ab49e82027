"""``leifeng match``: run the intent matcher on text from the command line or stdin."""

from __future__ import annotations

import json
import sys

import click

from intents.catalogue import CatalogueError, load_catalogue
from intents.emergency import detect_emergency
from intents.matcher import Matcher, MatchResult


def _line(text: str, result: MatchResult, as_json: bool) -> str:
    """The matcher's answer, and whether the text is an emergency (which the bot answers before any matching)."""
    found = detect_emergency(text)
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
    matcher = Matcher(catalogue)
    if text != "-":
        click.echo(_line(text, matcher.match(text), as_json))
        return
    for raw in sys.stdin:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        click.echo(_line(line, matcher.match(line), as_json))
