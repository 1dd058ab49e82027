"""The dialogue's view of language understanding: one object over the pure `intents` package."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Protocol

from intents.address import extract_address, merge_address
from intents.catalogue import Catalogue, Service, catalogue_from_mapping, load_catalogue
from intents.commands import (
    CancelRequest,
    Command,
    is_cancel,
    parse_cancel_order,
    parse_choice,
    parse_command,
    parse_small_talk,
    parse_yes_no,
    read_number,
)
from intents.emergency import Emergency, detect_emergency
from intents.matcher import Matcher, MatchResult
from intents.phone import parse_phone
from intents.rating import parse_rating
from intents.timeparse import SHANGHAI, URGENT_WINDOW, TimeResult, parse_time
from intents.understand import SAME_AS_LAST, Correction, Slots, extract_slots, parse_correction

# Commands the dialogue needs beyond the global ones in intents.commands.
GIVE_BACK = re.compile(r"^(?:退单|退回|放弃|不接了)\s*(?:订单)?\s*(\d+)\s*(.*)$")
PROXY = re.compile(r"^(?:代点单|代下单|帮家人下单|"
                   r"[帮替给](?:我)?(?:妈|爸|母亲|父亲|奶奶|爷爷|外婆|外公|老人|家人)(?:下单|点单|预约))$")
COMPLETE_WITH_HOURS = re.compile(r"^(?:完成|做完了|做完|已完成|完成了)\s*(?:第)?\s*(\d+)\s*(?:号|单)?[\s,，]+"
                                 r"(\d+(?:\.\d+)?)\s*(?:个)?(?:小时|h|钟头)?$")
COMPLETE_HOURS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:个)?(?:小时|h|钟头)?\s*$")
NO_WORDS = frozenset({"不用了", "不用", "没有", "没了", "没有了", "算了", "不说了", "无", "没", "没有了谢谢", "没事",
                      "没事了", "就这些", "就这样", "没什么", "没啥"})

# Residents send the same few texts over and over ("菜单", "1", "人工", "你好"); the parsers below are pure
# functions of the text (and of the catalogue, which an Understanding never changes), so each process keeps
# the answers for the most recent distinct texts instead of parsing them again on every message.
MEMO_SIZE = 4096
_command = lru_cache(maxsize=MEMO_SIZE)(parse_command)
_choice = lru_cache(maxsize=MEMO_SIZE)(parse_choice)
_yes_no = lru_cache(maxsize=MEMO_SIZE)(parse_yes_no)
_cancel_order = lru_cache(maxsize=MEMO_SIZE)(parse_cancel_order)
_small_talk = lru_cache(maxsize=MEMO_SIZE)(parse_small_talk)
# One message's slots are read a few times in one step (to match the service, then to fill the draft): same text,
# same moment. A small memo is enough; another moment is another key.
_slots = lru_cache(maxsize=256)(extract_slots)


class ServiceMatcher(Protocol):
    """Which service a text asks for (accept / clarify / not a service): the lexical matcher itself, or a matcher
    built around it by whoever builds the Understanding (bot/services.py: intents.semantic.HybridMatcher, which
    asks a sentence-embedding model only when the lexical matcher is unsure)."""

    def match(self, text: str) -> MatchResult: ...


@dataclass(frozen=True)
class Understanding:
    catalogue: Catalogue
    # None: the lexical matcher alone. Built outside and handed in (the dialogue loads no model).
    service_matcher: ServiceMatcher | None = None

    @cached_property
    def matcher(self) -> Matcher:
        """The lexical matcher of the catalogue (the fast path, and what a service matcher is built around)."""
        return Matcher(self.catalogue)

    @cached_property
    def _match(self) -> Callable[[str], MatchResult]:
        inner = self.service_matcher if self.service_matcher is not None else self.matcher
        return lru_cache(maxsize=MEMO_SIZE)(inner.match)

    def with_matcher(self, build: Callable[[Matcher], ServiceMatcher]) -> Understanding:
        """The same understanding matching services with ``build(lexical matcher)``; the lexical matcher is shared,
        not built again."""
        made = Understanding(self.catalogue, build(self.matcher))
        made.__dict__["matcher"] = self.matcher  # what cached_property would compute: the very same object
        return made

    def match(self, text: str) -> MatchResult:
        return self._match(text)

    def emergency(self, text: str) -> Emergency | None:
        """Is this message about an emergency happening now (a fall, fire, gas, crime, self-harm, flooding)?"""
        return _emergency(text)

    def command(self, text: str) -> Command | None:
        return _command(text)

    def choice(self, text: str) -> int | None:
        return _choice(text)

    def time(self, text: str, now: datetime, urgent_window: timedelta = URGENT_WINDOW) -> TimeResult:
        # "明天"/"下午" are words of the resident's day: read them on Shanghai's calendar, not UTC's
        return parse_time(text, now.astimezone(SHANGHAI), urgent_window)

    def slots(self, text: str, now: datetime, urgent_window: timedelta = URGENT_WINDOW,
              loose_address: bool = False) -> Slots:
        """Each order slot's own span of a run-on message, and the request without them."""
        return _slots(text, now.astimezone(SHANGHAI), urgent_window, loose_address)

    def correction(self, text: str) -> Correction | None:
        return parse_correction(text)

    def phone(self, text: str) -> str | None:
        return parse_phone(text)

    def rating(self, text: str) -> int | None:
        return parse_rating(text)

    def address(self, text: str, loose: bool = False) -> str | None:
        return extract_address(text, loose)

    def merge_address(self, old: str | None, new: str) -> str:
        return merge_address(old, new)

    def same_address_as_last(self, text: str) -> bool:
        return bool(SAME_AS_LAST.search(text))

    def yes_no(self, text: str) -> str | None:
        """"yes", "no" or None, however it is said."""
        return _yes_no(text)

    def small_talk(self, text: str) -> str | None:
        """thanks / who / greeting / bye / ack, for a message that is only that."""
        return _small_talk(text)

    def service(self, code: str) -> Service:
        return self.catalogue.get(code)

    def service_name(self, code: str) -> str:
        return self.catalogue.get(code).name if code in self.catalogue else code

    def give_back(self, text: str) -> tuple[int, str] | None:
        m = GIVE_BACK.match(text.strip())
        return (read_number(m.group(1)), m.group(2).strip(" ，,：:")) if m else None

    def cancel_order(self, text: str) -> CancelRequest | None:
        """"取消4号订单" (a number) or "那个理发的不要了" (what it was for)."""
        return _cancel_order(text)

    def complete_with_hours(self, text: str) -> tuple[int, float] | None:
        m = COMPLETE_WITH_HOURS.match(text.strip())
        return (read_number(m.group(1)), float(m.group(2))) if m else None  # (a wall of digits: no such order)

    def is_proxy(self, text: str) -> bool:
        return bool(PROXY.match(text.strip()))

    def hours(self, text: str) -> float | None:
        m = COMPLETE_HOURS.search(text.strip())
        if m:
            return float(m.group(1))
        value = parse_choice(text)  # "两个小时" / "三" as a number word
        return float(value) if value is not None else None

    def is_no(self, text: str) -> bool:
        """Nothing to add ("不用了", "没有了 谢谢", "算了"): the answer to "anything else?"."""
        return text.strip("。.!！ ") in NO_WORDS or _yes_no(text) == "no" or is_cancel(text)


_emergency = lru_cache(maxsize=MEMO_SIZE)(detect_emergency)


@lru_cache(maxsize=64)
def load_understanding(path: str | Path | None = None) -> Understanding:
    """One Understanding per catalogue file per process: it is immutable, and building the matcher
    (jieba's dictionary) costs about a second, so every app and worker in the process shares it."""
    return Understanding(load_catalogue(path))


# -- per-hub catalogues -----------------------------------------------------------------
# Hub staff edit their catalogue in /admin; each save is a new numbered row in catalogue_versions, and
# rows are never changed or deleted. Services.nlu_for(session, hub_id) asks the database for the hub's
# newest version number and takes the Understanding for (database, hub, version) from this cache,
# building it from the stored data only the first time. A new version is a new key, so every process
# uses it from its next message on, without a restart. A hub that never saved a version keeps using
# Services.nlu (the deployment's catalogue file).
_HUB_CACHE: OrderedDict[tuple[str, int, int], Understanding] = OrderedDict()
_HUB_CACHE_SIZE = 64
_HUB_LOCK = threading.Lock()


def forget_hub_understandings() -> None:
    """Drop every cached hub catalogue. Stored versions never change, so a running bot has no need of this; a
    database dropped and made again under the same URL (the test suite's PostgreSQL) reuses version numbers."""
    with _HUB_LOCK:
        _HUB_CACHE.clear()


def hub_understanding(database: str, hub_id: int, version: int, load: Callable[[], Mapping[str, Any]]) -> Understanding:
    """The Understanding for one stored catalogue version of one database; `load` returns its data when not cached."""
    key = (database, hub_id, version)
    with _HUB_LOCK:
        hit = _HUB_CACHE.get(key)
        if hit is not None:
            _HUB_CACHE.move_to_end(key)
            return hit
    built = Understanding(catalogue_from_mapping(load(), source=f"hub {hub_id} catalogue v{version}"))
    with _HUB_LOCK:
        found = _HUB_CACHE.setdefault(key, built)
        while len(_HUB_CACHE) > _HUB_CACHE_SIZE:
            _HUB_CACHE.popitem(last=False)
    return found
