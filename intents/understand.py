"""One pass over a message: command, menu choice, service, time, address and phone at once; what each slot of an
order took from a run-on message (and what is left of the request); and corrections that name a slot."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from intents.address import find_address
from intents.commands import Command, parse_choice, parse_command
from intents.idcard import hide_numbers
from intents.matcher import Matcher, MatchResult
from intents.phone import find_phone
from intents.timeparse import URGENT_NIGHT, URGENT_WINDOW, TimeResult, parse_time, prepare, repeat_said


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


# -- slots of a run-on message ----------------------------------------------------------------------

# "跟上回一样" / "还是老地方" / "地址和上次一样": the address of the last order (the edge knows it).
SAME_AS_LAST = re.compile(r"(?:跟|和|同|与)?(?:上回|上次|上一次|以前|之前|原来|老)(?:的|那个)?(?:一样|那样|地址|地方)|"
                          r"老地方|老样子|地址不变|还是(?:那个|原来的?|上次的?)(?:地址|地方)")
# The words that introduce a slot, taken out with it so that "我住在" or "电话是" is not left in the request.
_BEFORE_ADDRESS = re.compile(r"(?:我们家|我家|俺家|我|家)?(?:就)?(?:住在|住|家在|在)?\s*$")
_BEFORE_PHONE = re.compile(r"(?:我的|我|联系|的|家里|我家|俺家)?(?:电话号码|联系电话|手机号码|手机号|固定电话|座机|"
                           r"固话|电话|手机|号码|联系方式)?"
                           r"(?:是|为|:|：)?\s*$")
_BEFORE_TIME = re.compile(r"(?:时间|时候)(?:是|在|定在)?\s*$")
# Openings and fillers a request starts or ends with, and punctuation runs: no part of what is asked.
_OPENING = re.compile(r"^(?:[\s,，.。!！?？、~]|喂|你好|您好|嗯|呃|哎|唉|啊|那个|就是|我说|是这样的?)+")
_CLOSING = re.compile(r"(?:[\s,，.。!！?？、~]|吧|啊|呀|呢|哈|哦|嘛|了吧|就是|然后|谢谢你?们?|麻烦了|拜托了)+$")
_SEPARATORS = re.compile(r"[\s,，、;；]*[,，;；、]+[\s,，、;；]*|\s{2,}")


@dataclass(frozen=True, slots=True)
class Slots:
    """What one message says for each slot of an order, and the request without those phrases."""

    time: TimeResult
    address: str | None
    phone: str | None
    rest: str  # the request as said, without the time, address and phone (and the words introducing them)
    same_address_as_last: bool = False
    repeat: str = ""  # a visit said to repeat, in plain words (timeparse.repeat_said: "每周三"); "" for one visit


def extract_slots(text: str, now: datetime, urgent_window: timedelta = URGENT_WINDOW,
                  loose_address: bool = False, urgent_night: tuple[int, int, int] = URGENT_NIGHT) -> Slots:
    """Each slot's own span of ``text``: the address is the address, not the time words around it."""
    prepared = hide_numbers(prepare(text))  # an ID or bank-card number is no phone, and no part of the request
    chars = list(prepared)
    phone = find_phone(prepared)
    if phone is not None:
        _blank(chars, _back(prepared, phone[1], _BEFORE_PHONE), phone[2])
    repeat = repeat_said("".join(chars))
    time = parse_time("".join(chars), now, urgent_window, urgent_night)
    for start, end in time.spans:
        _blank(chars, _back("".join(chars), start, _BEFORE_TIME), end)
    if repeat is not None:  # "每周三": the 每 with the day, not a leftover 每 in the request
        _blank(chars, *repeat[1])
    left = "".join(chars)
    same = SAME_AS_LAST.search(left)
    if same:
        _blank(chars, same.start(), same.end())
        left = "".join(chars)
    found = find_address(left, loose_address)
    if found is not None:
        _blank(chars, _back(left, found.start, _BEFORE_ADDRESS), found.end)
    return Slots(time, found.text if found else None, phone[0] if phone else None, _rest("".join(chars)),
                 same is not None, repeat[0] if repeat else "")


_TAKEN = "\x00"  # a character taken out with a slot: the words either side of it join up again


def _blank(chars: list[str], start: int, end: int) -> None:
    for i in range(max(start, 0), min(end, len(chars))):
        chars[i] = _TAKEN


def _back(text: str, start: int, before: re.Pattern[str]) -> int:
    """The start of a slot moved back over the words that introduce it."""
    m = before.search(text[:start])
    return m.start() if m else start


# What a slot taken out leaves at its edges: "我是[幸福小区5栋]的老张" -> 我是老张, "我是[…]的 我家…" -> 我家…;
# fillers and a dangling 来 just before it ("马桶不下水了嗯来[明天上午]"), fillers just after it ("[明天] 那个就是…").
_T = re.escape(_TAKEN)
_WHOSE = re.compile(rf"(?:^|(?<=[\s，,。]))(?:(?:我们|我|俺)(?:是|住)?)?({_T}+)的(?=[\s，,。]|$)")
_IAM = re.compile(rf"(我是)({_T}+)的(?=[\u4e00-\u9fff])")
_FILLER_BEFORE = re.compile(rf"(?<=[\u4e00-\u9fff])(?:嗯|呃|啊|哦|那个|就是|然后)+(?:来|过来|去)?[\s，,]*(?={_T})")
_FILLER_AFTER = re.compile(rf"(?<={_T})[\s，,]*(?:(?:嗯|呃|啊|哦|那个|就是|然后)[\s，,]*)+(?=[\u4e00-\u9fff])")


# A self-corrected time's leftovers at the end ("…给弄弄 今天 不 [下午三点]"): time words and 不 alone in a clause.
_DANGLING = re.compile(r"[\s，,]+(?:(?:今天|明天|后天|今儿|明儿|上午|下午|晚上|早上|中午|不是|不对|不|哦|啊|是)"
                       r"[\s，,]*)+$")


def _rest(text: str) -> str:
    text = _IAM.sub(r"\1\2", _WHOSE.sub(r"\1", text))
    text = _FILLER_AFTER.sub("", _FILLER_BEFORE.sub("", text))
    text = re.sub(rf"\s*{_TAKEN}+\s*", lambda m: " " if m.group(0).strip(_TAKEN) else "", text)
    text = _SEPARATORS.sub("，", _DANGLING.sub("", text.strip()))
    text = _CLOSING.sub("", _OPENING.sub("", text))
    return re.sub(r"\s+", " ", text).strip(" ，")


def understand(matcher: Matcher, text: str, now: datetime, menu_size: int | None = None) -> Understanding:
    """Parse ``text`` once for every slot. ``menu_size`` is how many options the last menu had."""
    command = parse_command(text)
    choice = parse_choice(text, menu_size) if menu_size else None
    slots = extract_slots(text, now)
    # Match the service on what is left once the address and time are taken out, so that a street
    # name (修理厂路) or a time word cannot pose as a service.
    match = matcher.match(slots.rest or text)
    return Understanding(text, command, choice, match, slots.time, slots.address, slots.phone)


# -- corrections ----------------------------------------------------------------------------------------

SLOT_WORDS: tuple[tuple[str, str], ...] = (
    ("address", r"地址|住址|门牌号?|楼号|住的地方|地方"),
    ("phone", r"电话号码|联系电话|手机号码|手机号|电话|手机|号码|联系方式"),
    ("time", r"时间|日子|日期|几点|时候|钟点"),
    ("details", r"内容|要求|具体要做的|具体"),
    ("service", r"服务项目|服务|项目"),
)
_SLOT = "|".join(words for _slot, words in SLOT_WORDS)
# Saying that something was wrong, or what it should become.
_WRONG = r"不对|错了|写错了|说错了|搞错了|弄错了|记错了|有误|不是这个|不是那个|不太对"
_CHANGE = (r"改成|改为|改到|改在|换成|换到|换为|调到|挪到|推迟到|推到|提前到|延后到|应该是|应该|重新说|改一下|换一下|"
           r"变成")
# 改地址 / 换个电话: a bare 改 or 换 is a correction only before the slot it names (改革路 is a street).
_CHANGE_SLOT = rf"(?:改|换)(?:个|一个|一下)?(?={_SLOT})"
CORRECTION_MARK = re.compile(rf"{_WRONG}|{_CHANGE}|{_CHANGE_SLOT}|不是.+?是|"
                             r"(?:不行|不方便|没空|有事)[\s,，]*(?:改|换)")
_LEADING_WORDS = re.compile(rf"^(?:[\s,，.。:：!！]|{_WRONG}|{_CHANGE}|{_CHANGE_SLOT}|{_SLOT}|我的|那个|这个|的|是|为|"
                            r"哦|噢|哎|唉|呃|嗯|啊|呀|其实|麻烦|帮我|给我|请|把)+")
_TRAILING_WORDS = re.compile(r"(?:[\s,，.。!！]|才对|才是对的|就对了|吧|啊|呀|呢|哦|哈|嘛|了|谢谢)+$")
_NOT_BUT = re.compile(r"^(?:不对[\s,，]*)?不是(?P<old>.+?)[\s,，]*(?:而)?是(?P<new>.+)$")
_X_WRONG = re.compile(rf"^(?P<old>.+?)(?:{_WRONG}|不行|不方便|没空|有事)[\s,，]*(?:应该是|应该|是|{_CHANGE}|改|换)"
                      r"(?P<new>.+)$")


@dataclass(frozen=True, slots=True)
class Correction:
    """A correction: the slot it names (None: not named, read the value), the new value as said, the old one."""

    slot: str | None
    value: str
    old: str = ""


def parse_correction(text: str) -> Correction | None:
    """"地址不对 是…" / "电话换成…" / "时间改到后天上午" / "不是明天 是后天"; None for what is no correction."""
    folded = prepare(text).strip()
    if not CORRECTION_MARK.search(folded):
        return None
    slot = _named_slot(folded)
    old = ""
    m = _NOT_BUT.match(folded) or _X_WRONG.match(folded)
    if m and not re.fullmatch(rf"(?:{_SLOT}|{_WRONG}|[\s,，])*", m.group("old")):
        old, body = _strip(m.group("old")), m.group("new")
    else:
        body = folded
    value = _strip(body)
    if not value:
        return Correction(slot, "", old) if slot else None
    return Correction(slot, value, old)


def _named_slot(text: str) -> str | None:
    for slot, words in SLOT_WORDS:
        if re.search(words, text):
            return slot
    return None


def _strip(text: str) -> str:
    return _TRAILING_WORDS.sub("", _LEADING_WORDS.sub("", text.strip())).strip()
