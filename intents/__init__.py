"""Understanding residents: emergencies first, then the catalogue, matcher and parsers for commands, time, phone,
rating and address."""

from __future__ import annotations

from intents.address import Address, address_from_location, extract_address
from intents.catalogue import Catalogue, CatalogueError, Service, load_catalogue
from intents.commands import Command, parse_choice, parse_command
from intents.emergency import KINDS as EMERGENCY_KINDS
from intents.emergency import Emergency, detect_emergency
from intents.masking import mask_phone
from intents.matcher import Matcher, MatchResult
from intents.normalise import Normaliser, normalise
from intents.phone import parse_phone
from intents.rating import parse_rating
from intents.timeparse import TimeResult, parse_time
from intents.understand import Understanding, understand

__all__ = [
    "Address",
    "Catalogue",
    "CatalogueError",
    "Command",
    "EMERGENCY_KINDS",
    "Emergency",
    "MatchResult",
    "Matcher",
    "Normaliser",
    "Service",
    "TimeResult",
    "Understanding",
    "address_from_location",
    "detect_emergency",
    "extract_address",
    "load_catalogue",
    "mask_phone",
    "normalise",
    "parse_choice",
    "parse_command",
    "parse_phone",
    "parse_rating",
    "parse_time",
    "understand",
]
