"""Appointment times in Chinese (明天下午三点半, 下周六上午, 3.15, 九点到十一点, 尽快) relative to ``now``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import cn2an

from intents.normalise import default_normaliser

# The residents' calendar: every local date and clock time in the project is read on it (one home).
SHANGHAI = ZoneInfo("Asia/Shanghai")

TimeKind = Literal["point", "span", "asap", "unclear"]

_NUM = r"[0-9零〇一二两三四五六七八九十]{1,3}"
ASAP_PATTERN = re.compile(r"越快越好|越早越好|尽快|尽早|随时|马上|立刻|立即|赶紧|赶快|现在就|今天就要|急")
RELATIVE_DAYS: tuple[tuple[str, int, str | None], ...] = (
    # (word, days from today, part of day it implies); longest first
    ("大后天", 3, None),
    ("后天", 2, None),
    ("明天", 1, None),
    ("明日", 1, None),
    ("明早", 1, "早上"),
    ("明晚", 1, "晚上"),
    ("今天", 0, None),
    ("今日", 0, None),
    ("今早", 0, "早上"),
    ("今晚", 0, "晚上"),
)
WEEKDAY_PATTERN = re.compile(r"(下下个?|下个?|这个?|本)?(?:星期|周)([一二三四五六日天1-7])")
WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "7": 6}
MONTH_DAY_PATTERN = re.compile(
    rf"(?:(\d{{4}})年)?({_NUM})月({_NUM})[日号]?|(?<![\d.:])(\d{{1,2}})[./](\d{{1,2}})(?![\d.:])"
)
# 15号 on its own is a day of the month, but 幸福路15号 / 3号楼 are addresses.
DAY_ONLY_PATTERN = re.compile(rf"(?<![月\d路街巷道弄村区栋楼室幢])({_NUM})[号日](?![子楼院线栋单室])")
# Parts of the day and the span each stands for when no clock time is given.
PARTS_OF_DAY: dict[str, tuple[int, int]] = {
    "凌晨": (0, 6),
    "早上": (7, 9),
    "早晨": (7, 9),
    "清早": (6, 9),
    "一早": (7, 9),
    "上午": (8, 12),
    "中午": (11, 13),
    "午饭后": (13, 15),
    "下午": (13, 18),
    "傍晚": (17, 19),
    "晚上": (18, 22),
    "晚饭后": (19, 21),
    "夜里": (21, 24),
}
_PART = "|".join(sorted(PARTS_OF_DAY, key=len, reverse=True))
CLOCK_PATTERN = re.compile(
    rf"(?:({_PART}))?\s*(?:(\d{{1,2}})\s*[:：]\s*(\d{{2}})|({_NUM})\s*[点时](?:\s*(半|一刻|三刻|({_NUM})分?))?)"
)
SPAN_JOINER = re.compile(r"^\s*(?:到|至|~|～|-|—|－)\s*")
# 2到4点 / 9-11点: the first number borrows the 点 of the second.
BARE_RANGE = re.compile(rf"({_NUM})\s*(到|至|~|～|-|—|－)\s*(?=({_NUM})\s*[点时])")
# 快一点 / 早一点 mean "a bit quicker", not one o'clock.
NOT_A_CLOCK_BEFORE = frozenset("快早晚多少慢好大小有差轻重高低近远一")
AFTERNOON_PARTS = frozenset({"下午", "傍晚", "晚上", "夜里", "晚饭后", "午饭后"})


@dataclass(frozen=True, slots=True)
class TimeResult:
    """A parsed appointment time: a point, a span, "as soon as possible" or unclear (ask again)."""

    kind: TimeKind
    start: datetime | None = None
    end: datetime | None = None
    text: str = ""  # the part of the message that said it

    @property
    def is_clear(self) -> bool:
        return self.kind != "unclear"


@dataclass(frozen=True, slots=True)
class _Clock:
    hour: int
    minute: int
    part: str | None
    start: int
    end: int


def to_int(token: str) -> int | None:
    """'15', '十五', '两', '〇九' → int; None if it is not a number."""
    if token.isdigit():
        return int(token)
    try:
        value = cn2an.cn2an(token.replace("两", "二").replace("〇", "零"), "smart")
    except (ValueError, KeyError, TypeError):
        return None
    return int(value) if isinstance(value, (int, float)) and float(value).is_integer() else None


def parse_time(text: str, now: datetime) -> TimeResult:
    """Read an appointment time from ``text``; ``now`` must be timezone-aware (Asia/Shanghai)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    normaliser = default_normaliser()
    folded = normaliser.rewrite_dialect(normaliser.fold(text))
    folded = BARE_RANGE.sub(lambda m: f"{m.group(1)}点{m.group(2)}", folded)
    spans: list[tuple[int, int]] = []
    day, implied_part = _find_day(folded, now.date(), spans)
    clocks = _find_clocks(folded)
    part = implied_part or _find_part(folded)
    if clocks:
        first = clocks[0]
        start_part = first.part or part
        hour = _adjust_hour(first.hour, start_part)
        end_clock = _span_end(folded, first, clocks)
        explicit_day = day is not None
        base = day or now.date()
        start = _at(base, hour, first.minute, now)
        if not explicit_day and start < now:
            start += timedelta(days=1)
        spans.append((first.start, (end_clock or first).end))
        said = _said(folded, spans)
        if end_clock is not None:
            end_hour = _adjust_hour(end_clock.hour, end_clock.part or start_part)
            end = _at(start.date(), end_hour, end_clock.minute, now)
            if end <= start and end_hour < 12:
                end += timedelta(hours=12)
            if end > start:
                return TimeResult("span", start, end, said)
        return TimeResult("point", start, start, said)
    if part is not None:
        lo, hi = PARTS_OF_DAY[part]
        base = day or now.date()
        start = _at(base, lo, 0, now)
        end = _at(base, 0, 0, now) + timedelta(hours=hi)
        if day is None and end <= now:
            start, end = start + timedelta(days=1), end + timedelta(days=1)
        spans.append(_where(folded, part))
        return TimeResult("span", max(start, now) if day is None else start, end, _said(folded, spans))
    if day is not None:
        start = _at(day, 0, 0, now)
        return TimeResult("span", start, start + timedelta(days=1), _said(folded, spans))
    asap = ASAP_PATTERN.search(folded)
    if asap:
        return TimeResult("asap", now, None, asap.group(0))
    return TimeResult("unclear")


def _at(day: date, hour: int, minute: int, now: datetime) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=now.tzinfo) + timedelta(hours=hour, minutes=minute)


def _where(text: str, word: str) -> tuple[int, int]:
    i = text.find(word)
    return (i, i + len(word)) if i >= 0 else (0, 0)


def _said(text: str, spans: list[tuple[int, int]]) -> str:
    spans = [s for s in spans if s[1] > s[0]]
    if not spans:
        return ""
    return text[min(a for a, _ in spans) : max(b for _, b in spans)].strip()


def _find_day(text: str, today: date, spans: list[tuple[int, int]]) -> tuple[date | None, str | None]:
    for word, offset, part in RELATIVE_DAYS:
        i = text.find(word)
        if i >= 0:
            spans.append((i, i + len(word)))
            return today + timedelta(days=offset), part
    match = WEEKDAY_PATTERN.search(text)
    if match:
        spans.append(match.span())
        prefix = match.group(1) or ""
        weekday = WEEKDAYS.get(match.group(2), None)
        if weekday is None:
            weekday = int(match.group(2)) - 1
        monday = today - timedelta(days=today.weekday())
        if prefix.startswith("下下"):
            return monday + timedelta(days=14 + weekday), None
        if prefix.startswith("下"):
            return monday + timedelta(days=7 + weekday), None
        if prefix:  # 这周/本周: this week's, even if it has passed (the dialogue will ask)
            return monday + timedelta(days=weekday), None
        ahead = (weekday - today.weekday()) % 7
        return today + timedelta(days=ahead), None
    match = MONTH_DAY_PATTERN.search(text)
    if match:
        if match.group(2):
            year_s, month_s, day_s = match.group(1), match.group(2), match.group(3)
        else:
            year_s, month_s, day_s = None, match.group(4), match.group(5)
        month, day_n = to_int(month_s), to_int(day_s)
        if month is not None and day_n is not None:
            found = _next_date(today, month, day_n, int(year_s) if year_s else None)
            if found is not None:
                spans.append(match.span())
                return found, None
    match = DAY_ONLY_PATTERN.search(text)
    if match:
        day_n = to_int(match.group(1))
        if day_n is not None and 1 <= day_n <= 31:
            for months_ahead in range(0, 3):
                month = (today.month - 1 + months_ahead) % 12 + 1
                year = today.year + (today.month - 1 + months_ahead) // 12
                try:
                    candidate = date(year, month, day_n)
                except ValueError:
                    continue
                if candidate >= today:
                    spans.append(match.span())
                    return candidate, None
    return None, None


def _next_date(today: date, month: int, day_n: int, year: int | None) -> date | None:
    """The date with this month and day; without a year, the next one that is not in the past."""
    if year is not None:
        try:
            return date(year, month, day_n)
        except ValueError:
            return None
    for candidate_year in (today.year, today.year + 1, today.year + 2, today.year + 3, today.year + 4):
        try:
            candidate = date(candidate_year, month, day_n)
        except ValueError:
            continue  # 2月29日 outside a leap year, or 13月
        if candidate >= today:
            return candidate
    return None


def _find_part(text: str) -> str | None:
    best: tuple[int, str] | None = None
    for part in PARTS_OF_DAY:
        i = text.find(part)
        if i >= 0 and (best is None or i < best[0] or (i == best[0] and len(part) > len(best[1]))):
            best = (i, part)
    return best[1] if best else None


def _find_clocks(text: str) -> list[_Clock]:
    clocks = []
    for match in CLOCK_PATTERN.finditer(text):
        part = match.group(1)
        if (
            part is None
            and match.group(4) == "一"
            and not match.group(5)
            and match.start() > 0
            and text[match.start() - 1] in NOT_A_CLOCK_BEFORE
        ):
            continue
        if match.group(2) is not None:
            hour, minute = int(match.group(2)), int(match.group(3))
        else:
            hour_value = to_int(match.group(4))
            if hour_value is None:
                continue
            hour = hour_value
            extra = match.group(5)
            if extra == "半":
                minute = 30
            elif extra == "一刻":
                minute = 15
            elif extra == "三刻":
                minute = 45
            elif match.group(6):
                minute = to_int(match.group(6)) or 0
            else:
                minute = 0
        if 0 <= hour <= 24 and 0 <= minute < 60:
            clocks.append(_Clock(hour % 24 if hour != 24 else 0, minute, part, match.start(), match.end()))
    return clocks


def _span_end(text: str, first: _Clock, clocks: list[_Clock]) -> _Clock | None:
    """The second clock time of 九点到十一点 / 2点-4点, if the text joins two."""
    for clock in clocks[1:]:
        between = text[first.end : clock.start]
        if SPAN_JOINER.match(between) and len(between.strip()) <= 2:
            return clock
        # 下午2-4点: the first number has no 点
    return None


def _adjust_hour(hour: int, part: str | None) -> int:
    """12-hour clock to 24-hour using the part of the day (or appointment habits without one)."""
    if part in AFTERNOON_PARTS and hour < 12:
        return hour + 12
    if part == "中午" and hour < 4:
        return hour + 12
    if part is None and 1 <= hour <= 6:
        return hour + 12  # nobody books a volunteer for three in the morning
    return hour


WEEKDAY_NAMES = "一二三四五六日"


def when_text(kind: str | None, start: datetime | None, end: datetime | None = None) -> str:
    """How an appointment reads to people, on the Shanghai calendar: "11月24日(周二) 09:00-11:00", or "尽快"."""
    if kind == "asap" or start is None:
        return "尽快"
    local = start.astimezone(SHANGHAI)
    text = f"{local.month}月{local.day}日(周{WEEKDAY_NAMES[local.weekday()]}) {local:%H:%M}"
    if end is not None:
        text += f"-{end.astimezone(SHANGHAI):%H:%M}"
    return text
