"""The street-event day rule, pure: "SAT 2,4 09:00-11:30" -> the dates and times it produces in a span."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = {"MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4, "SAT": 5, "SUN": 6}
LAST = -1
_RULE = re.compile(r"^\s*(?P<day>[A-Za-z]{3})\s+(?P<weeks>[0-9Ll,\s]+?)\s+"
                   r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$")


class RuleError(ValueError):
    """A rule string that cannot be understood."""


@dataclass(frozen=True)
class EventRule:
    weekday: int = 5  # Monday = 0 ... Saturday = 5
    weeks: tuple[int, ...] = (2, 4)  # which of that weekday in the month: 1-5, or LAST
    start: time = time(9, 0)
    end: time = time(11, 30)

    def __str__(self) -> str:
        day = next(k for k, v in WEEKDAYS.items() if v == self.weekday)
        weeks = ",".join("L" if w == LAST else str(w) for w in self.weeks)
        return f"{day} {weeks} {self.start:%H:%M}-{self.end:%H:%M}"


def _hm(text: str) -> time:
    hours, minutes = (int(x) for x in text.split(":"))
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise RuleError(f"not a time of day: {text}")
    return time(hours, minutes)


def parse_rule(text: str) -> EventRule:
    """'SAT 2,4 09:00-11:30' (weekday, nth weekdays of the month with L = last, start-end)."""
    m = _RULE.match(text)
    if m is None:
        raise RuleError(f"cannot read the event rule {text!r}; expected like 'SAT 2,4 09:00-11:30'")
    day = m["day"].upper()
    if day not in WEEKDAYS:
        raise RuleError(f"unknown weekday {m['day']!r}; use one of {', '.join(WEEKDAYS)}")
    weeks: list[int] = []
    for part in (p.strip() for p in m["weeks"].split(",") if p.strip()):
        if part.upper() == "L":
            weeks.append(LAST)
        elif part.isdigit() and 1 <= int(part) <= 5:
            weeks.append(int(part))
        else:
            raise RuleError(f"week {part!r} must be 1-5 or L")
    start, end = _hm(m["start"]), _hm(m["end"])
    if end <= start:
        raise RuleError("the event must end after it starts")
    return EventRule(WEEKDAYS[day], tuple(dict.fromkeys(weeks)), start, end)


WEEKDAY_WORDS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def rule_in_words(rule: EventRule) -> str:
    """The rule as people say it: "每月第2、4个周六 09:00–11:30" (the last one: "最后一个周六")."""
    day = WEEKDAY_WORDS[rule.weekday]
    nth = [str(w) for w in rule.weeks if w != LAST]
    parts = [f"第{'、'.join(nth)}个{day}"] if nth else []
    if LAST in rule.weeks:
        parts.append(f"最后一个{day}")
    return f"每月{'和'.join(parts)} {rule.start:%H:%M}–{rule.end:%H:%M}"


def nth_weekdays(year: int, month: int, weekday: int) -> list[date]:
    """Every `weekday` in the month, in order (four or five of them)."""
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    days_in_month = calendar.monthrange(year, month)[1]
    return [first + timedelta(days=d) for d in range(offset, days_in_month, 7)]


def dates_in_month(rule: EventRule, year: int, month: int) -> list[date]:
    days = nth_weekdays(year, month, rule.weekday)
    picked = {days[-1] if w == LAST else days[w - 1] for w in rule.weeks if w == LAST or w <= len(days)}
    return sorted(picked)  # a 5th weekday only exists in some months; "2,4" never needs it


def occurrences(rule: EventRule, first: date, last: date, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """(start, end) as aware local datetimes for every rule date in [first, last], across months and years."""
    out: list[tuple[datetime, datetime]] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        for day in dates_in_month(rule, year, month):
            if first <= day <= last:
                out.append((datetime.combine(day, rule.start, tz), datetime.combine(day, rule.end, tz)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def at_local(day: date, hm: str, tz: ZoneInfo) -> datetime:
    """A local time of day on a date, e.g. the 18:00 reminder the day before."""
    return datetime.combine(day, _hm(hm), tz)
