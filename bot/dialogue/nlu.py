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
from intents.matcher import Matcher, MatchResult, pinyin_syllables
from intents.phone import parse_phone
from intents.rating import explicit_rating, parse_rating
from intents.timeparse import SHANGHAI, URGENT_NIGHT, URGENT_WINDOW, TimeResult, parse_time, to_int
from intents.understand import SAME_AS_LAST, SLOT_WORDS, Correction, Slots, extract_slots, parse_correction

_SLOT_WORDS = "|".join(words for _slot, words in SLOT_WORDS)

# Commands the dialogue needs beyond the global ones in intents.commands.
GIVE_BACK = re.compile(r"^(?:退单|退回|放弃|不接了)\s*(?:订单)?\s*(?:第)?\s*(\d+)\s*(?:号单|号任务|号|单)?\s*(.*)$")
# 12号我去不了了 / 12号单子我不接了 临时有事: the number first, then that the volunteer cannot go.
GIVE_BACK_AFTER = re.compile(r"^(?:第)?(\d+)\s*(?:号)?\s*(?:单子|订单|任务|单)?\s*(?:我)?(?:临时|突然)?(?:有事)?\s*"
                             r"(?:去不了了?|来不了了?|做不了了?|干不了了?|不接了|不去了|不做了|退了|退掉|退单|要退|放弃)"
                             r"[\s,，。!！]*(.*)$")
# "取消订单" / "订单不要了": the call-off is said of an order, not of the question being asked.
ORDER_WORD = re.compile(r"订单|单子|预约|(?<![菜名])单(?!元)")
# "门牌号是602" / "电话：13912345678": a slot named with its value (no 不对 or 改成 needed).
_LABELLED_VALUE = re.compile(rf"^(?:我的|我家的?|我们家的?)?(?P<slot>{_SLOT_WORDS})\s*(?:应该是|是|为|:|：|写|填)\s*"
                             r"(?P<value>.+)$")
# 帮我妈下单 / 替我爸预约 / 给我老娘下个单 / 帮我家老人约一下: an order for somebody else (the proxy dialogue).
PROXY = re.compile(r"^(?:代点单|代下单|帮家人下单|"
                   r"[帮替给代](?:我|我家|我们家)?(?:的)?(?:老)?(?:妈|爸|娘|爹|母亲|父亲|奶奶|爷爷|外婆|外公|姥姥|姥爷|"
                   r"老人|老人家|家人|婆婆|公公|老伴)"
                   r"(?:下单|点单|预约|下个单子?|点个单子?|下一单|约一下|预约一下|订一下|叫个服务)(?:吧|啊|呀)?)$")
COMPLETE_WITH_HOURS = re.compile(r"^(?:完成|做完了|做完|已完成|完成了)\s*(?:第)?\s*(\d+)\s*"
                                 r"(?:(?:号单|号任务|号|单)[\s,，]*|[\s,，]+)(.+)$")
# 12搞定了 2小时 / 12号完成 用了两个小时: the number first.
COMPLETE_AFTER_WITH_HOURS = re.compile(r"^(?:第)?\s*(\d+)\s*(?:号单|号任务|号|单)?\s*"
                                       r"(?:已经完成了?|完成了|完成|做完了|搞定了|搞定|弄完了|结束了)[\s,，]*(.+)$")
COMPLETE_HOURS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:个)?(?:小时|h|钟头)?\s*$")
# How long a service took, as volunteers say it: 2 / 1.5 / 2小时 / 一个半小时 / 半个钟头 / 1小时20分钟 / 90分钟.
_HOUR_NUM = r"\d+(?:\.\d+)?|[零一二两三四五六七八九十]+"
_SPENT = r"(?:用了|花了|服务了|干了|做了|弄了)?(?:一共|总共|共|大概|大约|差不多|约)?"
HOURS_SAID = re.compile(rf"^{_SPENT}(?P<n>{_HOUR_NUM})?(?P<half>个半|半)?(?:个)?"
                        rf"(?P<unit>小时|钟头|个钟|钟|h)?(?:(?P<m>{_HOUR_NUM})分钟?)?(?:左右|多)?$")
MINUTES_SAID = re.compile(rf"^{_SPENT}(?P<m>{_HOUR_NUM})分钟(?:左右)?$")
# Ratings said in words the scale does not have (outside tester, 2026-12-03): none at all, and lukewarm said alone.
NONE_GIVEN = re.compile(r"^(?:我)?(?:连)?(?:一|1|半)(?:颗|个)?(?:心|星|分)(?:都|也)(?:不给|不想给|不值|没有|不能给)|"
                        r"^(?:零|0)(?:颗|个)?(?:心|星)")
LUKEWARM = re.compile(r"^(?:还行|还可以|还好|一般般|凑合|还凑合|马马虎虎|过得去|还过得去|就那样|中规中矩|还成|将就|"
                      r"还将就|一般化)(?:吧|啊|呀|哈|啦|了|的|嘛|呢)*$")
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


def labelled_value(text: str) -> Correction | None:
    """A slot named with its value ("门牌号是602", "地址：幸福小区5栋"), or None."""
    m = _LABELLED_VALUE.match(text.strip())
    if not m:
        return None
    value = m.group("value").strip(" ，,。.!！")
    slot = next((name for name, words in SLOT_WORDS if re.fullmatch(words, m.group("slot"))), None)
    return Correction(slot, value) if slot and value else None


def _hour_number(token: str | None) -> float | None:
    if not token:
        return None
    if token[0].isdigit():
        return float(token) if len(token) <= 8 else None  # (no service lasts a wall of digits)
    value = to_int(token)
    return float(value) if value is not None else None


def read_hours(text: str) -> float | None:
    """How many hours a volunteer says a service took ("2", "一个半小时", "半个钟头", "1小时20分钟", "90分钟"),
    or None if the text says no such thing."""
    stripped = text.strip().rstrip("。.!！").lower().replace("俩", "两").replace("仨", "三")  # 俩钟头: two hours
    if re.search(r"[\d零一二两三四五六七八九十]\s+[\d零一二两三四五六七八九十]", stripped):
        return None  # "2 20": two numbers, not one length of time
    compact = re.sub(r"\s+", "", stripped)
    minutes = MINUTES_SAID.match(compact)
    if minutes:
        value = _hour_number(minutes.group("m"))
        return round(value / 60, 2) if value is not None else None
    m = HOURS_SAID.match(compact)
    if not m or not (m.group("n") or m.group("half")):
        return None
    if m.group("m") and not m.group("unit"):
        return None  # "2个20分钟": no unit between the numbers
    whole = _hour_number(m.group("n")) if m.group("n") else 0.0
    if whole is None:
        return None
    extra = _hour_number(m.group("m")) if m.group("m") else 0.0
    if extra is None:
        return None
    return round(whole + (0.5 if m.group("half") else 0.0) + extra / 60, 2)


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
    # None: the emergency rules alone. Else asked when the rules see no emergency (bot/services.py: the semantic
    # layer's second opinion, intents.semantic.EmergencyReview); its yes is answered exactly as the rules' yes. When it
    # also has ``dismisses(text) -> bool``, a weak rule hit (intents.emergency.weak_hit) it dismisses is no emergency.
    second_opinion: Callable[[str], Emergency | None] | None = None

    @cached_property
    def matcher(self) -> Matcher:
        """The lexical matcher of the catalogue (the fast path, and what a service matcher is built around)."""
        return Matcher(self.catalogue)

    @cached_property
    def _match(self) -> Callable[[str], MatchResult]:
        inner = self.service_matcher if self.service_matcher is not None else self.matcher
        return lru_cache(maxsize=MEMO_SIZE)(inner.match)

    def with_matcher(self, build: Callable[[Matcher], ServiceMatcher],
                     second_opinion: Callable[[str], Emergency | None] | None = None) -> Understanding:
        """The same understanding matching services with ``build(lexical matcher)`` (and, when given, asking
        ``second_opinion`` about emergencies); the lexical matcher is shared, not built again."""
        made = Understanding(self.catalogue, build(self.matcher), second_opinion or self.second_opinion)
        made.__dict__["matcher"] = self.matcher  # what cached_property would compute: the very same object
        return made

    def match(self, text: str) -> MatchResult:
        if self.service_matcher is not None and pinyin_syllables(text) is not None:
            return self.matcher.match(text)  # "lifa": pinyin alone, read by the lexical matcher's pinyin keys only
        return self._match(text)

    def emergency(self, text: str) -> Emergency | None:
        """Is this message about an emergency happening now (a fall, fire, gas, crime, self-harm, flooding)?
        The rules first; when they see none, the second opinion if there is one, which may also dismiss a weak
        rule hit (one ambiguous cue alone: 摔倒了, 火太大); a strong hit always stands."""
        found = _emergency(text)
        if self.second_opinion is None:
            return found
        if found is None:
            return self.second_opinion(text)
        dismisses: Callable[[str], bool] | None = getattr(self.second_opinion, "dismisses", None)
        return None if dismisses is not None and dismisses(text) else found

    def command(self, text: str) -> Command | None:
        return _command(text)

    def choice(self, text: str) -> int | None:
        return _choice(text)

    def time(self, text: str, now: datetime, urgent_window: timedelta = URGENT_WINDOW,
             urgent_night: tuple[int, int, int] = URGENT_NIGHT) -> TimeResult:
        # "明天"/"下午" are words of the resident's day: read them on Shanghai's calendar, not UTC's
        return parse_time(text, now.astimezone(SHANGHAI), urgent_window, urgent_night)

    def slots(self, text: str, now: datetime, urgent_window: timedelta = URGENT_WINDOW,
              loose_address: bool = False, urgent_night: tuple[int, int, int] = URGENT_NIGHT) -> Slots:
        """Each order slot's own span of a run-on message, and the request without them."""
        return _slots(text, now.astimezone(SHANGHAI), urgent_window, loose_address, urgent_night)

    def correction(self, text: str) -> Correction | None:
        """"地址不对 是…" / "电话换成…" / "不是明天 是后天"; and a slot named with its value ("门牌号是602",
        "电话：139…"), which during an order says what that slot is."""
        return parse_correction(text) or labelled_value(text)

    def phone(self, text: str) -> str | None:
        return parse_phone(text)

    def rating(self, text: str) -> int | None:
        """The hearts the text gives in numbers, hearts or the scale's words ("满意" "一般"); never a guess. Said
        alone, "还行吧" / "还可以" / "马马虎虎" are the middle of the scale (3), "一颗心都不给" is none (0)."""
        plain = re.sub(r"[\s,，。.!！?？~～、]+", "", text)
        if NONE_GIVEN.match(plain):
            return 0
        if LUKEWARM.match(plain):
            return 3
        return explicit_rating(text)

    def rating_guessed(self, text: str) -> bool:
        """Words that describe the service ("修得挺好") without giving a rating: ask for the number."""
        return parse_rating(text) is not None and explicit_rating(text) is None

    def address(self, text: str, loose: bool = False) -> str | None:
        return extract_address(text, loose)

    def merge_address(self, old: str | None, new: str, keep_lower: bool = False) -> str:
        return merge_address(old, new, keep_lower)

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
        """"退单 12 临时有事" / "12号我去不了了": the order given back, and the reason if one was said."""
        m = GIVE_BACK.match(text.strip()) or GIVE_BACK_AFTER.match(text.strip())
        return (read_number(m.group(1)), m.group(2).strip(" ，,：:")) if m else None

    def cancel_order(self, text: str) -> CancelRequest | None:
        """"取消4号订单" (a number) or "那个理发的不要了" (what it was for); a cancel that names neither ("取消订单",
        "不要了 取消吧") is a request with no number and no words: the dialogue finds which open order is meant."""
        found = _cancel_order(text)
        if found is None:
            command = _command(text)
            if command is not None and command.name == "cancel":
                return CancelRequest(what="", marked=bool(ORDER_WORD.search(text)))
        return found

    def complete_with_hours(self, text: str) -> tuple[int, float] | None:
        """"完成 12 2" / "完成12号 1个半小时": the order (a wall of digits: no such order) and the hours it took."""
        m = COMPLETE_WITH_HOURS.match(text.strip()) or COMPLETE_AFTER_WITH_HOURS.match(text.strip())
        hours = read_hours(m.group(2)) if m else None
        return (read_number(m.group(1)), hours) if m and hours is not None else None

    def is_proxy(self, text: str) -> bool:
        return bool(PROXY.match(text.strip()))

    def hours(self, text: str) -> float | None:
        said = read_hours(text)
        if said is not None:
            return said
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
