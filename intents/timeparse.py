"""Appointment times in Chinese (明天下午三点半, 下周六上午, 3.15, 九点到十一点, 一个钟头以后, 尽快) from now."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import cn2an

from intents.normalise import default_normaliser

# The residents' calendar: every local date and clock time in the project is read on it (one home).
SHANGHAI = ZoneInfo("Asia/Shanghai")

TimeKind = Literal["point", "span", "asap", "unclear"]

# "尽快" is an urgent order: dispatched at once, and its appointment lasts this long from the moment it was said
# (so it never reads as "past" while volunteers can still come). The edge may pass a hub's own window.
URGENT_WINDOW = timedelta(hours=3)
# Said at night (from 21:00, before 07:00), it cannot mean a volunteer at the door within those hours: its window
# runs to 09:00 the next morning (this morning, after midnight), and the resident is told so ("尽快（明早9点前）").
# (from hour, until hour, the morning hour the window runs to)
URGENT_NIGHT: tuple[int, int, int] = (21, 7, 9)
# A time whose remaining part is shorter than this has, for booking a volunteer, passed.
MIN_LEFT = timedelta(hours=1)
ROUND_TO = 5  # minutes: "一个钟头以后" at 10:03 is 11:05, not 11:03

_NUM = r"[0-9零〇一二两三四五六七八九十]{1,3}"
ASAP_PATTERN = re.compile(r"越快越好|越早越好|尽快|尽早|随时|马上|立刻|立即|赶紧|赶快|现在就|今天就要|"
                          r"(?<!不)(?<!不着)(?<!不用)急|(?:过|等|待)一?会儿?|一会儿?就|快点|快些|快一点|越快越好|"
                          r"什么时候都(?:行|可以|方便)")
# Said alone, these answer "when?" with "now": 现在 / 等下 / 一会儿 (inside a longer message they are no time:
# 我现在一个人住, 等下我问问我女儿).
ASAP_ALONE = re.compile(r"^(?:就)?(?:现在|等下|等一下|一会儿?|这会儿?)(?:吧|啊|呀|哈|就行|就来|来|过来|就可以)?$")
# 一个钟头以后 / 过两个小时 / 半小时后 / 再过二十分钟 / 一个半钟头之后 / 两个多小时以后 / 两三个钟头后 / 1.5小时后:
# a time counted from now (a bare "两个小时" is how long, not when, so it needs 过 before or 后 after it). 多 ("more
# than") and a pair of numbers (两三, 一两) are a span; 来 and 左右 ("about") a point. 钟头 typed as 种头 / 中头.
RELATIVE_PATTERN = re.compile(
    rf"(?P<pre>再过|过|等)?\s*(?<![\d.])(?P<n>半|个把|\d+\.\d+|{_NUM})\s*(?P<half>个半|个|半)?\s*(?P<more>多|来)?\s*"
    r"(?P<unit>小时|钟头|种头|中头|钟投|个钟|钟|分钟|刻钟)\s*(?:左右|上下|的样子)?\s*(?P<post>以后|之后|后)?")
# 两三 / 一两 / 三四十: two numbers said together, "two or three".
_PAIR = re.compile(r"^([一两二三四五六七八九])([两二三四五六七八九])(十?)$")
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
    # Cantonese 听日 / 听朝 / 听晚 (明天, 明早, 明晚): before 今日, which 听日 does not contain but reads past
    ("听日", 1, None),
    ("听朝", 1, "早上"),
    ("听晚", 1, "晚上"),
    # Wu and southern speech: 后日 (后天), 明朝 / 今朝 (明天 / 今天)
    ("后日", 2, None),
    ("过两天", 2, None),
    ("明朝", 1, None),
    ("今朝", 0, None),
)
SELF_CORRECTION = re.compile(r"[吧啊呀]*[\s,，。!！]*(?:哦|噢|喔|啊|呃)?[\s,，]*"
                             r"(?:不对不对|不对|说错了|不是不是|(?<=[哦噢])不(?!对))"
                             r"[\s,，。!！吧]*")
# 周末 / 这周末 / 下周末: that week's Saturday (on a Sunday, 周末 is today); the resident confirms the day shown.
WEEKEND_PATTERN = re.compile(r"(下个?|这个?|本)?(?:周末|星期末)")
WEEKDAY_PATTERN = re.compile(r"(下下个?|下个?|这个?|本)?(?:星期|周)([一二三四五六日天1-7])")
WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "7": 6}
MONTH_DAY_PATTERN = re.compile(
    rf"(?:(\d{{4}})年)?({_NUM})月({_NUM})[日号]?|(?<![\d.:])(\d{{1,2}})[./](\d{{1,2}})(?![\d.:])"
)
# 下个月3号 / 这个月20号: a day of next (or this) month.
MONTH_OF_PATTERN = re.compile(rf"(下下个?|下个?|这个?|本)月({_NUM})[号日]")
# 月底 / 月末 / 下个月底: the last day of that month.
MONTH_END = re.compile(r"(下下个?|下个?|这个?|本)?月(?:底|末)")
# Holidays on a fixed day of the solar calendar (the lunar ones are asked: _vague_day).
FIXED_HOLIDAYS: dict[str, tuple[int, int]] = {
    "元旦": (1, 1), "新年": (1, 1), "妇女节": (3, 8), "三八节": (3, 8), "劳动节": (5, 1), "儿童节": (6, 1),
    "建党节": (7, 1), "建军节": (8, 1), "教师节": (9, 10), "国庆节": (10, 1), "国庆": (10, 1), "平安夜": (12, 24),
    "圣诞节": (12, 25), "圣诞": (12, 25),
}
HOLIDAYS = re.compile("|".join(sorted(FIXED_HOLIDAYS, key=len, reverse=True)))
# 15号 on its own is a day of the month, but 幸福路15号 / 3号楼 are addresses.
DAY_ONLY_PATTERN = re.compile(rf"(?<![月\d路街巷道弄村区栋楼室幢组排院队里])({_NUM})[号日](?![子楼院线栋单室])")
# Parts of the day and the span each stands for when no clock time is given.
PARTS_OF_DAY: dict[str, tuple[int, int]] = {
    "凌晨": (0, 6),
    "早上": (7, 9),
    "早晨": (7, 9),
    "清早": (6, 9),
    "一早": (7, 9),
    "大清早": (6, 9),
    "早饭后": (8, 10),
    "上午": (8, 12),
    "头晌": (8, 12),  # northern dialect: 头晌 / 前半晌 = 上午, 后半晌 = 下午
    "前半晌": (8, 12),
    "上半晌": (8, 12),
    "上半天": (8, 12),
    "上昼": (8, 12),
    "头午": (8, 12),
    "前晌": (8, 12),
    "中午": (11, 13),
    "晌午": (11, 13),
    "中午头": (11, 13),
    "午饭后": (13, 15),
    "午觉后": (14, 16),
    "午睡后": (14, 16),
    "下午": (13, 18),
    "下昼": (13, 18),
    "后晌": (13, 18),
    "后半晌": (13, 18),
    "下半晌": (13, 18),
    "下半天": (13, 18),
    "下晌": (13, 18),
    "晚饭前": (16, 18),
    "傍晚": (17, 19),
    "擦黑": (17, 19),
    "晚上": (18, 22),
    "晚饭后": (19, 21),
    "夜里": (21, 24),
}
# 下午早点 / 上午晚些: the first or the last two hours of that part of the day.
PART_EARLY = re.compile(r"\s*(?:稍微|稍)?(?:早点|早些|早一点|早一些|早一会儿?)")
PART_LATE = re.compile(r"\s*(?:稍微|稍)?(?:晚点|晚些|晚一点|晚一些|晚一会儿?)")
PART_EDGE = timedelta(hours=2)
_PART = "|".join(sorted(PARTS_OF_DAY, key=len, reverse=True))
CLOCK_PATTERN = re.compile(
    rf"(?:({_PART}))?\s*(?:(\d{{1,2}})\s*[:：]\s*(\d{{2}})|({_NUM})\s*[点时](?:\s*(半|一刻|三刻|({_NUM})分?))?)"
)
APPROX_AFTER = re.compile(r"\s*(?:钟)?(?:左右|前后|上下|的样子|来钟|多钟|多)")
SPAN_JOINER = re.compile(r"^\s*(?:到|至|~|～|-|—|－)\s*")
# 2到4点 / 9-11点: the first number borrows the 点 of the second.
BARE_RANGE = re.compile(rf"({_NUM})\s*(到|至|~|～|-|—|－)\s*(?=({_NUM})\s*[点时])")
# 快一点 / 早一点 mean "a bit quicker", not one o'clock.
NOT_A_CLOCK_BEFORE = frozenset("快早晚多少慢好大小有差轻重高低近远一")
AFTERNOON_PARTS = frozenset({"下午", "下昼", "后晌", "下晌", "傍晚", "擦黑", "晚上", "夜里", "晚饭前", "晚饭后",
                             "午饭后",
                             "午觉后", "午睡后"})
NOON_PARTS = frozenset({"中午", "晌午", "中午头"})
# The parts of a day offered instead of a time that has passed: the rest of the part we are in, or the next.
OFFER_PARTS: tuple[str, ...] = ("上午", "下午", "晚上")


@dataclass(frozen=True, slots=True)
class TimeResult:
    """A parsed appointment time: a point, a span, "as soon as possible" or unclear (ask again)."""

    kind: TimeKind
    start: datetime | None = None
    end: datetime | None = None
    text: str = ""  # the part of the message that said it
    # Where it was said, as (start, end) offsets in prepare(message): what the dialogue takes out of the request.
    spans: tuple[tuple[int, int], ...] = ()
    dated: bool = False  # a day was said (明天, 周六, 3月5日): a correction without one keeps the old day
    # An unclear time the parser can say more about: the question to ask instead of the generic one ("下周几？",
    # "昨天已经过去了…", the middle of the night). Empty when there is nothing better to ask.
    question: str = ""
    # An unclear time that cannot be booked as said but has a near one that can (a time counted from now that falls in
    # the night: the next morning): that one, to offer; its own ``question`` says why the time said was not taken.
    instead: TimeResult | None = None

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


# 俩 / 仨 ("two" / "three" of something) before a unit of time: 过俩钟头 is 过两钟头. One character for one, so the
# spans of the prepared text still line up with what was said.
SPOKEN_COUNTS = re.compile(r"[俩仨](?=\s*(?:个|小时|钟头|钟|点|半|刻|分钟|礼拜|星期|天|周))")


# 午 typed as its homophone (下五三点, 明天上五, 中伍): only where a part of the day can stand, before a clock time or
# the end of what was said (下五楼 is a floor).
NOON_TYPO = re.compile(r"(?<=[上下中])[五伍舞武]"
                       r"(?=$|[\s,，。.!！?？吧啊呀]|[0-9零一二两三四五六七八九十]{1,3}\s*[点时:：])")


# Day words typed by pinyin with the wrong character (明添 / 明填 / 名天 are 明天; 后添 后天; 今添 今天; 下里拜 下礼拜):
# rewritten one character for one before the dialect table, so 下里拜三 reads as 下星期三. 田 is left alone (金田小区),
# and so is 候 (时候天亮).
DAY_TYPOS: dict[str, str] = {
    **{w: "明天" for w in ("明添", "明填", "明甜", "明舔", "名天", "名添", "鸣天", "铭天", "茗天", "明夭")},
    **{w: "今天" for w in ("今添", "今填", "今甜", "金天", "金添", "斤天", "今夭")},
    **{w: "后天" for w in ("后添", "后填", "后甜", "厚天", "厚添", "后夭")},
    **{w: "礼拜" for w in ("里拜", "理拜", "力拜", "立拜", "李拜", "礼败", "礼摆", "礼百", "里败")},
    **{w: "星期" for w in ("星其", "星棋", "猩期", "星旗")},
    **{w: "下周" for w in ("下州", "下洲", "下舟")},
}
_DAY_TYPO = re.compile("|".join(sorted(DAY_TYPOS, key=len, reverse=True)))


def fix_day_typos(text: str) -> str:
    """明添上午 -> 明天上午, 下里拜三 -> 下礼拜三: the pinyin typos of day words, one character for one."""
    return _DAY_TYPO.sub(lambda m: DAY_TYPOS[m.group(0)], text)


def prepare(text: str) -> str:
    """The text as the parser reads it (width-folded, simplified, dialect rewritten): TimeResult.spans index it."""
    normaliser = default_normaliser()
    folded = normaliser.rewrite_dialect(fix_day_typos(normaliser.fold(text)))
    folded = SPOKEN_COUNTS.sub(lambda m: "两" if m.group(0) == "俩" else "三", folded)
    folded = NOON_TYPO.sub("午", folded)
    return BARE_RANGE.sub(lambda m: f"{m.group(1)}点{m.group(2)}", folded)


# "滴滴答答一晚上睡不着" / "忙了一整天" / "一宿没睡": how long something lasted, not when to come (周一晚上, 初一上午,
# 十一下午 are days with their part, kept; "一上午都在家" says when she is in, kept).
DURATION = re.compile(r"(?<![周期拜初\d零〇一二两三四五六七八九十])"
                      r"(?:(?:一整|整整|整)个?(?:晚上|上午|下午|夜里|白天|宿|夜|晚|天)|一个?(?:晚上|上午|下午(?!饭)|夜里|白天|宿|夜|晚(?!点|些|一)))"
                      r"(?!都?(?:在家|在|有空|有时间|行|可以|方便|能来|没事))")  # 明天一上午都在家: when she is in
_HIDDEN = "\x00"  # a duration's characters, hidden from the parser (the same length: spans still index the text)


def hide_durations(folded: str) -> str:
    """The prepared text with its durations ("一晚上", "一整天") hidden from the appointment parser."""
    return DURATION.sub(lambda m: _HIDDEN * len(m.group(0)), folded)


def parse_time(text: str, now: datetime, urgent_window: timedelta = URGENT_WINDOW,
               urgent_night: tuple[int, int, int] = URGENT_NIGHT) -> TimeResult:
    """Read an appointment time from ``text``; ``now`` must be timezone-aware (read on the Shanghai calendar, whatever
    its zone: "今天" at 00:30 in Shanghai is that day, not the day before in UTC).

    Today's spans start no earlier than now ("今天" is today from now on); a time named for today that has passed
    is returned as said (the dialogue offers the nearest future ones: future_options); "尽快" is an urgent span
    from now for ``urgent_window``, at night (``urgent_night``) to the next morning (:func:`urgent_end`).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(SHANGHAI)
    folded = hide_durations(prepare(text))
    # "今天下午吧 哦不对 明天上午": what is said after taking it back is the time
    taken_back = list(SELF_CORRECTION.finditer(folded))
    if taken_back and taken_back[-1].end() < len(folded):
        cut = taken_back[-1].end()
        after = parse_time(folded[cut:], now, urgent_window, urgent_night)
        if after.is_clear:
            before = parse_time(folded[:taken_back[-1].start()], now, urgent_window, urgent_night)
            taken = [*before.spans, taken_back[-1].span(), *((a + cut, b + cut) for a, b in after.spans)]
            return replace(after, spans=_merged(taken))
    relative = _relative(folded, now)
    if relative is not None:
        return _by_night(relative, now)
    spans: list[tuple[int, int]] = []
    day, implied_part = _find_day(folded, now.date(), spans)
    if day is None:
        vague = _vague_day(folded)
        if vague is not None:
            return vague
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
        if part is not None and first.part is None:
            spans.append(_where(folded, part))
        said = _said(folded, spans)
        if end_clock is not None:
            end_hour = _adjust_hour(end_clock.hour, end_clock.part or start_part)
            end = _at(start.date(), end_hour, end_clock.minute, now)
            if end <= start and end_hour < 12:
                end += timedelta(hours=12)
            if end > start:
                return TimeResult("span", start, end, said, _merged(spans), explicit_day)
        return TimeResult("point", start, start, said, _merged(spans), explicit_day)
    asap = ASAP_PATTERN.search(folded) or ASAP_ALONE.match(re.sub(r"[\s,.!?，。！？~～]+", "", folded))
    if asap and part is None and (day is None or day == now.date()):
        # every way it was said (快点 … 越快越好) is taken out of the request, not the first only
        spans.extend([m.span() for m in ASAP_PATTERN.finditer(folded)] or [asap.span()])
        return TimeResult("asap", now, urgent_end(now, urgent_window, urgent_night), _said(folded, spans),
                          _merged(spans))
    if part is not None:
        lo, hi = PARTS_OF_DAY[part]
        where = _where(folded, part)
        spans.append(where)
        start_h, end_h = timedelta(hours=lo), timedelta(hours=hi)
        early, late = PART_EARLY.match(folded, where[1]), PART_LATE.match(folded, where[1])
        if early:
            end_h = min(end_h, start_h + PART_EDGE)
            spans.append(early.span())
        elif late:
            start_h = max(start_h, end_h - PART_EDGE)
            spans.append(late.span())
        base = day or now.date()
        start = _at(base, 0, 0, now) + start_h
        end = _at(base, 0, 0, now) + end_h
        if day is None and end - now < MIN_LEFT:
            start, end = start + timedelta(days=1), end + timedelta(days=1)
        return TimeResult("span", _from_now(start, end, now), end, _said(folded, spans), _merged(spans),
                          day is not None)
    if day is not None:
        start = _at(day, 0, 0, now)
        end = start + timedelta(days=1)
        return TimeResult("span", _from_now(start, end, now), end, _said(folded, spans), _merged(spans), True)
    if asap:
        return TimeResult("asap", now, urgent_end(now, urgent_window, urgent_night), asap.group(0), (asap.span(),))
    return TimeResult("unclear")


# -- a visit that repeats (每周三, 每天中午送饭): the first one is booked, the repeat is told to staff ----------------

_DAY_CHAR = r"[一二三四五六日天1-7]"
# on named weekdays: 每周三, 每个星期二和星期四, 每周一到周五 (read on prepare(text), where 礼拜 is 星期)
_REPEAT_WEEKDAYS = re.compile(rf"每(?:个)?(?:星期|周)({_DAY_CHAR}"
                              rf"(?:(?:[、,，和跟及与/]|到|至)?(?:星期|周)?{_DAY_CHAR})*)")
_REPEAT_FORTNIGHTLY = re.compile(r"每隔一(?:个)?(?:星期|周)|隔(?:一)?(?:个)?(?:星期|周)|每两(?:个)?(?:星期|周)")
_REPEAT_WEEKLY = re.compile(r"每(?:个)?(?:星期|周)(末)?")
# every day or month only where it says when to come or what to do (我每天都一个人在家 describes, it books nothing)
_REPEAT_DAILY = re.compile(r"(每天|天天|每日|每个?月|隔(?:一)?天|每隔一天)(?=(?:都|的|要|能|给|就|请|让)?"
                           r"(?:早上|上午|中午|下午|晚上|傍晚|晌午|\d|[一二两三四五六七八九十]{1,3}点|来|送|帮|上门|过来|"
                           r"陪|打扫|做|理发|剪|量|按|换|收拾|买|跑))")


def repeat_said(text: str) -> tuple[str, tuple[int, int]] | None:
    """A visit said to repeat, in plain words ("每周三", "每周二和周四", "每天", "隔一天", "每两周", "每月"), and
    where it was said (offsets in ``text``, a prepare()d text); None when the text books one visit. The parser reads the
    first visit's day from the same words (每周三 -> the next Wednesday)."""
    m = _REPEAT_WEEKDAYS.search(text)
    if m:
        return "每周" + m.group(1).replace("星期", "周").replace("天", "日"), m.span()
    m = _REPEAT_FORTNIGHTLY.search(text)
    if m:
        return "每两周", m.span()
    m = _REPEAT_WEEKLY.search(text)
    if m:
        return ("每个周末" if m.group(1) else "每周"), m.span()
    m = _REPEAT_DAILY.search(text)
    if m:
        said = m.group(1)
        return ("每月" if "月" in said else "隔一天" if "隔" in said else "每天"), m.span()
    return None


def urgent_end(now: datetime, window: timedelta = URGENT_WINDOW,
               night: tuple[int, int, int] = URGENT_NIGHT) -> datetime:
    """Until when an urgent order said at ``now`` waits for a volunteer: ``window`` from now; said at night, at least
    to the morning hour of ``night`` (after midnight this morning's, else tomorrow's)."""
    local = now.astimezone(SHANGHAI)
    end = now + window
    if not at_night(now, night):
        return end
    day = local.date() + timedelta(days=0 if local.hour < night[1] else 1)
    return max(end, _at(day, night[2], 0, local))


def at_night(now: datetime, night: tuple[int, int, int] = URGENT_NIGHT) -> bool:
    """Whether ``now`` is in the hours when an urgent order waits for the morning."""
    hour = now.astimezone(SHANGHAI).hour
    return hour >= night[0] or hour < night[1]


# Day words that give no day the parser can book, each with the question to ask instead (never a wrong day):
# a day gone by, a week or a month without its day, a holiday of the lunar calendar, a day word not understood.
PAST_DAY = re.compile(r"大前天|前天|前日|昨天|昨日|昨儿|昨晚|上(?:个)?(?:周|星期)[一二三四五六日天1-7末]?|上个?月|去年")
VAGUE_WEEK = re.compile(r"(下下个?|下个?|这个?|本)(?:周|星期)(?![末一二三四五六日天1-7])")
VAGUE_MONTH = re.compile(r"(下下个?|下个?|这个?|本)月(?:初|中|中旬|上旬|下旬)?(?![底末0-9零〇一二两三四五六七八九十])")
VAGUE_SOON = re.compile(r"过几天|过些天|过些日子|过段时间|过一阵|改天|改日|回头再|这几天|近几天|最近几天")
LUNAR_HOLIDAYS = re.compile(r"春节|过年|大年(?:初[一二三四五六七八九十]|三十)|除夕|正月|元宵|端午|中秋|重阳|清明|"
                            r"腊八|小年|七夕")
# 明x上午 / 后x下午: a day word typed so that it reads as none (明添 and its like are fixed in DAY_TYPOS first)
UNKNOWN_DAY = re.compile(rf"(?:^|[^\u4e00-\u9fff]|[我要想请就那在])[明后今大](?![天日早晚朝儿白确显亮年面来边头])"
                         rf"[\u4e00-\u9fff](?=\s*(?:{_PART}|{_NUM}\s*[点时]))")
NIGHT = (22, 6)  # a time counted from now in these hours is the middle of the night: a daytime one is asked for


def _vague_day(text: str) -> TimeResult | None:
    """An unclear time with the question its day words call for, or None when they call for none."""
    compact = re.sub(r"[\s,.!?，。！？~～、吧啊呀]+", "", text)
    past = PAST_DAY.search(text)
    # "昨天下午" / "昨天" said as the time; a story of yesterday in a longer message is not a time ("上周修过一次")
    if past and (len(compact) <= 10 or _PART_OR_CLOCK.match(text, past.end())):
        return TimeResult("unclear", text=past.group(0), spans=(past.span(),),
                          question=f"{past.group(0)}已经过去了。请说一个以后的时间，比如“明天上午”“周六下午三点”。")
    week = VAGUE_WEEK.search(text)
    if week:
        said = week.group(0).replace("星期", "周")
        return TimeResult("unclear", text=week.group(0), spans=(week.span(),),
                          question=f"{said}几？比如“{said}三上午”“{said}五下午三点”。")
    month = VAGUE_MONTH.search(text)
    if month:
        said = month.group(1).rstrip("个") + "个月" if month.group(1).startswith("下") else "这个月"
        return TimeResult("unclear", text=month.group(0), spans=(month.span(),),
                          question=f"{said}几号？比如“{said}5号上午”。")
    soon = VAGUE_SOON.search(text)
    if soon:
        return TimeResult("unclear", text=soon.group(0), spans=(soon.span(),),
                          question="具体哪一天呢？比如“后天上午”“周五下午”，或者“越快越好”。")
    lunar = LUNAR_HOLIDAYS.search(text)
    if lunar:
        return TimeResult("unclear", text=lunar.group(0), spans=(lunar.span(),),
                          question=f"{lunar.group(0)}是哪一天？请说日期，比如“2月16日上午”。")
    unknown = UNKNOWN_DAY.search(text)
    if unknown:
        return TimeResult("unclear", text=unknown.group(0), spans=(unknown.span(),),
                          question="没看懂是哪一天。请再说一下，比如“明天上午”“后天下午三点”。")
    return None


_PART_OR_CLOCK = re.compile(rf"\s*(?:{_PART}|{_NUM}\s*[点时]|[:：])")


def _by_night(result: TimeResult, now: datetime) -> TimeResult:
    """A time counted from now ("一个钟头以后") that falls in the middle of the night: a daytime one is asked for, and
    the morning (today's after midnight, else tomorrow's) offered instead."""
    assert result.start is not None
    hour = result.start.astimezone(SHANGHAI).hour
    if not (hour >= NIGHT[0] or hour < NIGHT[1]):
        return result
    local_now = now.astimezone(SHANGHAI)
    after_midnight = local_now.hour < NIGHT[1]
    day = "今天" if after_midnight else "明天"
    clock = _clock_words(result.start.astimezone(SHANGHAI))
    why = f"{result.text or '那时'}就是{clock}了，正是半夜，志愿者一般白天上门。"
    lo, hi = PARTS_OF_DAY["上午"]
    morning = _at(local_now.date() + timedelta(days=0 if after_midnight else 1), 0, 0, local_now)
    instead = TimeResult("span", morning + timedelta(hours=lo), morning + timedelta(hours=hi), f"{day}上午",
                         dated=True, question=why)
    return replace(result, kind="unclear", start=None, end=None, instead=instead,
                   question=f"{why}约{day}上午好吗？请回复一个白天的时间，比如“{day}上午九点”。")


def _ceil(moment: datetime) -> datetime:
    """The next whole ROUND_TO minutes (seconds dropped): the time a person would say."""
    moment = moment.replace(second=0, microsecond=0) + (timedelta(minutes=1) if moment.second or moment.microsecond
                                                        else timedelta())
    return moment + timedelta(minutes=-moment.minute % ROUND_TO)


def _from_now(start: datetime, end: datetime, now: datetime) -> datetime:
    """A span under way starts now (rounded): the part of it that is left."""
    return min(_ceil(now), end) if start < now < end else start


def _relative(text: str, now: datetime) -> TimeResult | None:
    for match in RELATIVE_PATTERN.finditer(text):
        if not (match.group("pre") or match.group("post")):
            continue
        unit, half = match.group("unit"), match.group("half") or ""
        if unit == "钟" and half not in ("个", "个半"):
            continue  # 三点钟 is a clock time
        amounts = _amounts(match.group("n"))
        if amounts is None:
            continue
        low, high = amounts
        if "半" in half:
            low, high = low + 0.5, high + 0.5
        hours = unit in ("小时", "钟头", "种头", "中头", "钟投", "个钟", "钟")
        step = timedelta(hours=1) if hours else timedelta(minutes=15) if unit == "刻钟" else timedelta(minutes=1)
        first, last = step * low, step * high
        if match.group("more") == "多":  # 两个多小时: two hours and some; 十多分钟: ten and some; 半个多小时: under one
            last = first + (timedelta(minutes=30) if low < 1 and hours else
                            step if hours or unit == "刻钟" else timedelta(minutes=10 if low >= 10 else 5))
        if not timedelta(minutes=1) <= first <= last <= timedelta(hours=12):
            continue
        if last - first < MIN_LEFT:  # 十多分钟 / 三四十分钟: from its first minute (a span so short would read as past)
            last = first
        start, end = _ceil(now + first), _ceil(now + last)
        said = match.group(0).strip()
        if start == end:
            return TimeResult("point", start, start, said, (match.span(),), dated=True)
        return TimeResult("span", start, end, said, (match.span(),), dated=True)
    return None


def _amounts(n_text: str) -> tuple[float, float] | None:
    """How many of the unit a count says, as (at least, at most): 两 (2, 2), 两三 (2, 3), 三四十 (30, 40), 1.5, 半."""
    if n_text == "半":
        return 0.5, 0.5
    if n_text == "个把":  # 个把小时: about an hour
        return 1.0, 1.0
    if re.fullmatch(r"\d+\.\d+", n_text):
        return float(n_text), float(n_text)
    pair = _PAIR.match(n_text)
    if pair:
        low, high = to_int(pair.group(1)), to_int(pair.group(2))
        if low is not None and high is not None and high == low + 1:
            scale = 10 if pair.group(3) else 1
            return float(low * scale), float(high * scale)
    value = to_int(n_text)
    return None if value is None else (float(value), float(value))


def _merged(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    return tuple(sorted({s for s in spans if s[1] > s[0]}))


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
    match = WEEKEND_PATTERN.search(text)
    if match:
        spans.append(match.span())
        saturday = today - timedelta(days=today.weekday()) + timedelta(days=5)
        if (match.group(1) or "").startswith("下"):
            return saturday + timedelta(days=7), None
        return (today if today.weekday() == 6 else saturday), None
    match = MONTH_END.search(text)
    if match:  # 月底 / 下个月底: the month's last day (the resident confirms the day shown, as for 周末)
        ahead = 2 if (match.group(1) or "").startswith("下下") else 1 if (match.group(1) or "").startswith("下") else 0
        month_index = today.month - 1 + ahead + 1  # the first of the month after, less a day
        spans.append(match.span())
        return date(today.year + month_index // 12, month_index % 12 + 1, 1) - timedelta(days=1), None
    match = HOLIDAYS.search(text)
    if match:
        found_holiday = _next_date(today, *FIXED_HOLIDAYS[match.group(0)], None)
        if found_holiday is not None:
            spans.append(match.span())
            return found_holiday, None
    match = MONTH_OF_PATTERN.search(text)
    if match:
        ahead = 2 if match.group(1).startswith("下下") else 1 if match.group(1).startswith("下") else 0
        day_n = to_int(match.group(2))
        month_index = today.month - 1 + ahead
        try:
            found_day = date(today.year + month_index // 12, month_index % 12 + 1, day_n or 0)
        except ValueError:
            found_day = None
        if found_day is not None:
            spans.append(match.span())
            return found_day, None
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
            # 十点左右 / 三点来钟 / 两点多: the words that make it approximate are part of what was said
            approx = APPROX_AFTER.match(text, match.end())
            end = approx.end() if approx else match.end()
            clocks.append(_Clock(hour % 24 if hour != 24 else 0, minute, part, match.start(), end))
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
    if part in NOON_PARTS and hour < 4:
        return hour + 12
    if part is None and 1 <= hour <= 6:
        return hour + 12  # nobody books a volunteer for three in the morning
    return hour


WEEKDAY_NAMES = "一二三四五六日"


def when_text(kind: str | None, start: datetime | None, end: datetime | None = None) -> str:
    """How an appointment reads to people, on the Shanghai calendar: "11月24日(周二) 09:00-11:00", "尽快（13:00前）"."""
    if kind == "asap" or start is None:
        if kind != "asap" or end is None:
            return "尽快"
        urgent_end_at = end.astimezone(SHANGHAI)
        if start is not None and (urgent_end_at.date() != start.astimezone(SHANGHAI).date() or at_night(start)):
            # said at night: volunteers come in the morning, and the day is named (the text is read later too)
            return f"尽快（{urgent_end_at.month}月{urgent_end_at.day}日{_clock_words(urgent_end_at)}前）"
        return f"尽快（{urgent_end_at:%H:%M}前）"
    local = start.astimezone(SHANGHAI)
    day = f"{local.month}月{local.day}日(周{WEEKDAY_NAMES[local.weekday()]})"
    local_end = end.astimezone(SHANGHAI) if end is not None else None
    if local_end is not None and local_end.time() == time(0) and local_end > local:
        # a day, or what is left of today: its end is midnight, which reads badly as "-00:00"
        return f"{day} 全天" if local.time() == time(0) else f"{day} {local:%H:%M}以后"
    text = f"{day} {local:%H:%M}"
    if local_end is not None and local_end != local:  # a point in time ("明天下午三点") reads as one clock time
        text += f"-{local_end:%H:%M}"
    return text


# -- times that have passed ------------------------------------------------------------------------------


def is_past(result: TimeResult, now: datetime, min_left: timedelta = MIN_LEFT) -> bool:
    """Too late to book: a point before now, or a span with less than ``min_left`` of it left (asap never is)."""
    if result.kind in ("asap", "unclear") or result.start is None:
        return False
    if result.kind == "point" or result.end is None or result.end == result.start:
        return result.start < now
    return result.end - max(result.start, now) < min_left


def future_options(result: TimeResult, now: datetime) -> tuple[TimeResult, ...]:
    """The nearest sensible future times for one that has passed: the rest of today (the part of the day we are
    in, or the next one), and the same time on the next day it makes sense (tomorrow, or a week on)."""
    if result.start is None or not is_past(result, now):
        return ()
    local_now = now.astimezone(SHANGHAI)
    start = result.start.astimezone(SHANGHAI)
    options: list[TimeResult] = []
    for part in OFFER_PARTS:
        lo, hi = PARTS_OF_DAY[part]
        day0 = _at(local_now.date(), 0, 0, local_now)
        span = TimeResult("span", _from_now(day0 + timedelta(hours=lo), day0 + timedelta(hours=hi), local_now),
                          day0 + timedelta(hours=hi), f"今天{part}")
        if span.start is not None and span.end is not None and span.end - max(span.start, local_now) >= MIN_LEFT:
            options.append(span)
            break
    days = 1 if start.date() >= local_now.date() - timedelta(days=1) else 7
    while True:  # the same clock time (or part of the day) on the next day that is not past
        later = _shifted(result, days)
        if not is_past(later, now):
            break
        days += 1 if days < 7 else 7
    options.append(later)
    return tuple(options)


def _shifted(result: TimeResult, days: int) -> TimeResult:
    """The same time ``days`` later; a span clipped to "now" gets its whole part of the day (or day) back."""
    assert result.start is not None
    shift = timedelta(days=days)
    start = result.start.astimezone(SHANGHAI)
    if result.kind == "span" and result.end is not None:
        part = _find_part(result.text)
        if part is not None and not _find_clocks(result.text):
            start = start.replace(hour=PARTS_OF_DAY[part][0], minute=0)
        elif not _find_clocks(result.text):
            start = start.replace(hour=0, minute=0)
    end = result.end + shift if result.end is not None else None
    return TimeResult(result.kind, start + shift, end, result.text, dated=True)


def day_only(result: TimeResult) -> bool:
    """Only a day was said (后天, 周六, 3月5日): no part of the day, no clock time (and no time counted from now)."""
    return (result.kind == "span" and result.dated and _find_part(result.text) is None
            and not _find_clocks(result.text) and not _counted_from_now(result.text))


def _counted_from_now(text: str) -> bool:
    return any(m.group("pre") or m.group("post") for m in RELATIVE_PATTERN.finditer(text))


def on_day(result: TimeResult, day: date, now: datetime) -> TimeResult:
    """The same clock time or part of the day on another day: "改成下午" for an order on Thursday is Thursday's
    afternoon, the whole of it (a part said this morning was cut to what was left of today); on today, what is left."""
    if result.start is None or result.kind not in ("point", "span"):
        return result
    start = result.start.astimezone(SHANGHAI)
    part = _find_part(result.text) if result.kind == "span" and not _find_clocks(result.text) else None
    if part is not None:
        start = start.replace(hour=PARTS_OF_DAY[part][0], minute=0)
    shift = datetime.combine(day, time(0), tzinfo=SHANGHAI) - datetime.combine(start.date(), time(0), tzinfo=SHANGHAI)
    end = result.end + shift if result.end is not None else None
    moved_start = start + shift
    if result.kind == "span" and end is not None:
        moved_start = _from_now(moved_start, end, now)
    return TimeResult(result.kind, moved_start, end, result.text, result.spans, True)


def spoken(result: TimeResult, now: datetime) -> str:
    """A time as a person says it, relative to now: "今天下午", "明天上午9点", "11月28日(周六)下午3点半"."""
    if result.kind == "asap" or result.start is None:
        return "尽快"
    local_now = now.astimezone(SHANGHAI)
    start = result.start.astimezone(SHANGHAI)
    end = result.end.astimezone(SHANGHAI) if result.end is not None else None
    offset = (start.date() - local_now.date()).days
    day = ({0: "今天", 1: "明天", 2: "后天"}.get(offset)
           or f"{start.month}月{start.day}日(周{WEEKDAY_NAMES[start.weekday()]})")
    if result.kind == "point" or end is None or end == start:
        return day + _clock_words(start)
    if end - start >= timedelta(hours=23) or (start.time() == time(0) and end.time() == time(0)):
        return day
    if end.time() == time(0) and not _find_part(result.text):
        return f"{day}（{_clock_words(start)}以后）"
    for part in OFFER_PARTS + tuple(PARTS_OF_DAY):
        lo, hi = PARTS_OF_DAY[part]
        if end.hour == hi % 24 and end.minute == 0 and lo <= start.hour < hi:
            if start.hour == lo and start.minute == 0:
                return day + part
            return f"{day}{part}（{end:%H:%M}前）"
    return f"{day}{_clock_words(start)}到{_clock_words(end)}"


def urgent_spoken(start: datetime | None, end: datetime | None, now: datetime,
                  night: tuple[int, int, int] = URGENT_NIGHT) -> str:
    """An urgent order's window as the resident is told it at ``now``: "尽快（13:00前）", and said at night
    "尽快（明早9点前）" (after midnight "尽快（今天上午9点前）")."""
    if end is None:
        return "尽快"
    local_now, local_end = now.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
    if start is None or not at_night(start, night):
        return f"尽快（{local_end:%H:%M}前）"
    offset = (local_end.date() - local_now.date()).days
    clock = _clock_words(local_end)
    if offset == 1 and local_end.hour < 12:
        return f"尽快（明早{clock.removeprefix('上午')}前）"
    day = {0: "今天", 1: "明天"}.get(offset) or f"{local_end.month}月{local_end.day}日"
    return f"尽快（{day}{clock}前）"


def _clock_words(moment: datetime) -> str:
    hour, minute = moment.hour, moment.minute
    if hour < 6:
        part, h = "凌晨", hour
    elif hour < 12:
        part, h = "上午", hour
    elif hour < 13:
        part, h = "中午", hour
    elif hour < 18:
        part, h = "下午", hour - 12
    else:
        part, h = "晚上", hour - 12
    tail = "" if minute == 0 else ("半" if minute == 30 else f"{minute}分")
    return f"{part}{h}点{tail}"
