"""Time-expression table shared by the parser tests and the evaluation of other parsers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Wednesday 18 March 2026, 10:00 in Shanghai.
NOW = datetime(2026, 3, 18, 10, 0, tzinfo=SHANGHAI)


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# (text, kind, start, end): for a point, start == end; for asap (urgent), start == NOW and end is NOW + the urgent
# window (3 hours by default); today's spans start no earlier than NOW ("今天" is today from now on).
CASES: list[tuple[str, str, datetime | None, datetime | None]] = [
    ("今天", "span", NOW, at(3, 19)),
    ("明天", "span", at(3, 19), at(3, 20)),
    ("后天", "span", at(3, 20), at(3, 21)),
    ("大后天", "span", at(3, 21), at(3, 22)),
    ("明儿", "span", at(3, 19), at(3, 20)),
    ("明早", "span", at(3, 19, 7), at(3, 19, 9)),
    ("明晚", "span", at(3, 19, 18), at(3, 19, 22)),
    ("明晚8点", "point", at(3, 19, 20), at(3, 19, 20)),
    ("下周六", "span", at(3, 28), at(3, 29)),
    ("下礼拜三", "span", at(3, 25), at(3, 26)),
    ("星期6", "span", at(3, 21), at(3, 22)),
    ("周五下午", "span", at(3, 20, 13), at(3, 20, 18)),
    ("3月15日", "span", at(3, 15, year=2027), at(3, 16, year=2027)),
    ("3.15", "span", at(3, 15, year=2027), at(3, 16, year=2027)),
    ("3月20号上午", "span", at(3, 20, 8), at(3, 20, 12)),
    ("4.2", "span", at(4, 2), at(4, 3)),
    ("明天上午", "span", at(3, 19, 8), at(3, 19, 12)),
    ("明天下午", "span", at(3, 19, 13), at(3, 19, 18)),
    ("明天晚上", "span", at(3, 19, 18), at(3, 19, 22)),
    ("明天中午", "span", at(3, 19, 11), at(3, 19, 13)),
    ("明天下午三点", "point", at(3, 19, 15), at(3, 19, 15)),
    ("明天三点半", "point", at(3, 19, 15, 30), at(3, 19, 15, 30)),
    ("后天9点半", "point", at(3, 20, 9, 30), at(3, 20, 9, 30)),
    ("明天15:00", "point", at(3, 19, 15), at(3, 19, 15)),
    ("今天下午两点", "point", at(3, 18, 14), at(3, 18, 14)),
    ("三点半", "point", at(3, 18, 15, 30), at(3, 18, 15, 30)),
    ("9点半", "point", at(3, 19, 9, 30), at(3, 19, 9, 30)),
    ("15:00", "point", at(3, 18, 15), at(3, 18, 15)),
    ("中午12点", "point", at(3, 18, 12), at(3, 18, 12)),
    ("晚上七点", "point", at(3, 18, 19), at(3, 18, 19)),
    ("十点一刻", "point", at(3, 18, 10, 15), at(3, 18, 10, 15)),
    ("上午九点到十一点", "span", at(3, 19, 9), at(3, 19, 11)),
    ("明天上午九点到十一点", "span", at(3, 19, 9), at(3, 19, 11)),
    ("下周六下午2点-4点", "span", at(3, 28, 14), at(3, 28, 16)),
    ("下午2-4点", "span", at(3, 18, 14), at(3, 18, 16)),
    ("越快越好", "asap", NOW, at(3, 18, 13)),
    ("尽快", "asap", NOW, at(3, 18, 13)),
    ("随时都行", "asap", NOW, at(3, 18, 13)),
    ("麻烦明天下午三点来一趟", "point", at(3, 19, 15), at(3, 19, 15)),
    ("明天下午三点来给我老伴理个发，地址幸福小区3栋2单元501", "point", at(3, 19, 15), at(3, 19, 15)),
    ("不知道", "unclear", None, None),
    ("快一点来", "asap", NOW, at(3, 18, 13)),  # "come quickly": urgent, and never one o'clock
    ("幸福路15号", "unclear", None, None),
]
