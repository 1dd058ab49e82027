"""One pass over a message: command, menu choice, service, time, address and phone at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from intents.address import extract_address
from intents.commands import Command, parse_choice, parse_command
from intents.matcher import Matcher, MatchResult
from intents.phone import parse_phone
from intents.timeparse import TimeResult, parse_time


@dataclass(frozen=True, slots=True)
class Understanding:
    """Everything one message says that the dialogue can use to fill its slots up-front."""

    text: str
    command: Command | None
    choice: int | None
    match: MatchResult
    time: TimeResult
    address: str | None
    phone: str | None


def understand(matcher: Matcher, text: str, now: datetime, menu_size: int | None = None) -> Understanding:
    """Parse ``text`` once for every slot. ``menu_size`` is how many options the last menu had."""
    command = parse_command(text)
    choice = parse_choice(text, menu_size) if menu_size else None
    phone = parse_phone(text)
    address = extract_address(text)
    time = parse_time(text, now)
    # Match the service on what is left once the address and time are taken out, so that a street
    # name (修理厂路) or a time word cannot pose as a service.
    rest = text
    for part in (address, time.text):
        if part and part in rest:
            rest = rest.replace(part, " ")
    match = matcher.match(rest)
    return Understanding(text, command, choice, match, time, address, phone)
