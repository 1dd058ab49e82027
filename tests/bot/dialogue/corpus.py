"""A transcript corpus: short conversations (user says -> what the reply must contain or mean), run through the pure
step. Checks look at meaning where they can (the state, the actions, the order's slots), at words where the words are
the point ("不客气").

`python -m tests.bot.dialogue.corpus_report` prints the pass rate of the tuned corpus and of the held-out part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

from bot.dialogue import core
from bot.dialogue.core import Context, Result, State
from intents.timeparse import SHANGHAI
from tests.bot.dialogue.transcript import START, Transcript

# A check: (this turn's result, the transcript after it) -> what is wrong, or None.
Check = Callable[[Result, "CorpusTranscript"], "str | None"]


@dataclass
class CorpusTranscript(Transcript):
    """A transcript whose context can carry what the edge provides beyond today's fields (last address, orders...)."""

    extra: Mapping[str, Any] = field(default_factory=dict)

    def context(self) -> Context:
        ctx = super().context()
        if not self.extra:
            return ctx
        known = {f.name for f in fields(Context)}
        missing = set(self.extra) - known
        if missing:
            raise TypeError(f"Context has no field(s) {sorted(missing)}")
        return replace(ctx, **{k: _context_value(k, v) for k, v in self.extra.items()})


def _context_value(name: str, value: Any) -> Any:
    """Plain data in the corpus, the dialogue's own types in the context."""
    if name in ("open_orders", "my_tasks", "offered_tasks"):
        return tuple(core.OpenOrder(**o) if isinstance(o, Mapping) else o for o in value)
    if name == "teams":
        return tuple(core.TeamChoice(**t) if isinstance(t, Mapping) else t for t in value)
    return value


@dataclass(frozen=True)
class Conv:
    """One short conversation: the turns, who is talking, and when (Monday 2026-11-23 in Shanghai, at `at`)."""

    name: str
    turns: Sequence[tuple[Any, ...]]  # (says, *checks)
    roles: frozenset[str] = frozenset()
    phone: str | None = None
    at: str = "10:00"
    state: str = State.IDLE
    slots: Mapping[str, Any] = field(default_factory=dict)
    ctx: Mapping[str, Any] = field(default_factory=dict)


def conv(name: str, *turns: tuple[Any, ...], **kw: Any) -> Conv:
    return Conv(name, turns, **kw)


def run(c: Conv) -> list[str]:
    """Play one conversation; every failed check, as text (empty: it passed)."""
    hour, minute = (int(x) for x in c.at.split(":"))
    now = START + timedelta(hours=hour - 10, minutes=minute)
    t = CorpusTranscript(roles=c.roles, now=now, state=c.state, slots=dict(c.slots), phone_on_file=c.phone,
                         extra=dict(c.ctx))
    problems: list[str] = []
    for turn in c.turns:
        said, checks = turn[0], turn[1:]
        try:
            res = t.say(said)
        except Exception as exc:  # a crash is a failed conversation, not a broken corpus run
            return [*problems, f"{said!r} raised {type(exc).__name__}: {exc}"]
        for check in checks:
            wrong = check(res, t)
            if wrong:
                problems.append(f"{said!r} -> {res.reply!r} [{res.state}; "
                                f"{[(a.name, dict(a.data)) for a in res.actions]}]: {wrong}")
    return problems


def actions_asked(convs: Iterable[Conv]) -> set[str]:
    """The names of every action the conversations' turns ask the edge for (each must have a domain handler: an
    action the edge does not know is a crash in the webhook)."""
    asked: set[str] = set()
    for c in convs:
        t = CorpusTranscript(roles=c.roles, state=c.state, slots=dict(c.slots), phone_on_file=c.phone,
                             extra=dict(c.ctx))
        for turn in c.turns:
            asked |= {a.name for a in t.say(turn[0]).actions}
    return asked


def pass_rate(convs: Iterable[Conv]) -> tuple[int, int, dict[str, list[str]]]:
    passed, total, failures = 0, 0, {}
    for c in convs:
        total += 1
        problems = run(c)
        if problems:
            failures[c.name] = problems
        else:
            passed += 1
    return passed, total, failures


# -- checks ---------------------------------------------------------------------------------------


def says(*words: str) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        missing = [w for w in words if w not in (res.reply or "")]
        return f"reply lacks {missing}" if missing else None
    return check


def says_any(*words: str) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        return None if any(w in (res.reply or "") for w in words) else f"reply has none of {list(words)}"
    return check


def never(*words: str) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        found = [w for w in words if w in (res.reply or "")]
        return f"reply has {found}" if found else None
    return check


def silent(res: Result, t: CorpusTranscript) -> str | None:
    return None if res.reply is None else "expected no reply of the dialogue's own"


def state(*states: str) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        return None if res.state in states else f"state {res.state}, expected one of {list(states)}"
    return check


ORDER_STATES = frozenset(s for s in State if s.name.startswith(("ORDER_", "PROXY_")))


def not_ordering(res: Result, t: CorpusTranscript) -> str | None:
    """No order dialogue was started or kept going, and nothing was submitted."""
    if res.state in ORDER_STATES:
        return f"an order dialogue is under way ({res.state})"
    if any(a.name == "submit_order" for a in res.actions):
        return "an order was submitted"
    return None


def act(name: str, **data: Any) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        for a in res.actions:
            if a.name == name and all(a.data.get(k) == v for k, v in data.items()):
                return None
        return f"no action {name} {data}"
    return check


def no_act(*names: str) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        bad = [a.name for a in res.actions if not names or a.name in names]
        return f"unexpected actions {bad}" if bad else None
    return check


def _draft(res: Result, t: CorpusTranscript) -> Mapping[str, Any]:
    for a in res.actions:
        if a.name == "submit_order":
            return a.data
    return dict(t.slots.get("draft") or {})


def draft(**values: Any) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        d = _draft(res, t)
        wrong = {k: d.get(k) for k, v in values.items() if d.get(k) != v}
        return f"order has {wrong}, expected {values}" if wrong else None
    return check


def draft_has(key: str, *words: str) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        value = str(_draft(res, t).get(key) or "")
        missing = [w for w in words if w not in value]
        return f"order {key}={value!r} lacks {missing}" if missing else None
    return check


def draft_lacks(key: str, *words: str) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        value = str(_draft(res, t).get(key) or "")
        found = [w for w in words if w in value]
        return f"order {key}={value!r} has {found}" if found else None
    return check


def _start(res: Result, t: CorpusTranscript) -> datetime | None:
    start = _draft(res, t).get("start")
    return datetime.fromisoformat(str(start)).astimezone(SHANGHAI) if start else None


def when(day: int, hours: tuple[int, int] | None = None, minute: int | None = None) -> Check:
    """The order starts `day` days after the conversation's day, at an hour in `hours` (inclusive)."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        start = _start(res, t)
        if start is None:
            return f"no start time in the order {dict(_draft(res, t))}"
        today = t.now.astimezone(SHANGHAI).date()
        if start.date() != today + timedelta(days=day):
            return f"starts {start:%m-%d %H:%M}, expected day +{day}"
        if hours is not None and not hours[0] <= start.hour <= hours[1]:
            return f"starts {start:%H:%M}, expected an hour in {hours}"
        if minute is not None and start.minute != minute:
            return f"starts {start:%H:%M}, expected minute {minute}"
        return None
    return check


def future(res: Result, t: CorpusTranscript) -> str | None:
    """The order has a time, and it does not lie in the past."""
    d = _draft(res, t)
    if not d.get("time_kind"):
        return "the order has no time"
    end = d.get("end") or d.get("start")
    if end and datetime.fromisoformat(str(end)) < t.now:
        return f"the order's time {d.get('start')}..{d.get('end')} is past"
    return None


def urgent(res: Result, t: CorpusTranscript) -> str | None:
    """An urgent order with a window that lasts at least an hour from now."""
    d = _draft(res, t)
    if d.get("time_kind") != "asap":
        return f"time_kind {d.get('time_kind')!r}, expected asap"
    end = d.get("end")
    if not end or datetime.fromisoformat(str(end)) < t.now + timedelta(hours=1):
        return f"the urgent window ends {end!r}, expected at least an hour from now"
    return None


def reg(**values: Any) -> Check:
    def check(res: Result, t: CorpusTranscript) -> str | None:
        r = dict(t.slots.get("reg") or {})
        wrong = {k: r.get(k) for k, v in values.items() if r.get(k) != v}
        return f"registration has {wrong}, expected {values}" if wrong else None
    return check


PERIOD_WORDS = {"上午": "am", "下午": "pm", "晚上": "eve", "全天": "all"}


def avail(days: str, period: str, *more: tuple[str, str]) -> Check:
    """The availability is exactly these weekdays (一..日) and parts of the day (上午/下午/晚上/全天)."""
    wanted = {("一二三四五六日".index(d), PERIOD_WORDS[p]) for ds, p in ((days, period), *more) for d in ds}

    def check(res: Result, t: CorpusTranscript) -> str | None:
        r = dict(t.slots.get("reg") or {})
        if "availability" not in r:
            return "no availability kept"
        got = {(int(s["weekday"]), str(s["period"])) for s in r["availability"]}
        return None if got == wanted else f"availability {sorted(got)}, expected {sorted(wanted)}"
    return check


def no_avail(res: Result, t: CorpusTranscript) -> str | None:
    r = dict(t.slots.get("reg") or {})
    return f"availability kept: {r.get('availability')}" if "availability" in r else None


# -- set-ups ------------------------------------------------------------------------------------------

# A registration that has reached the availability question.
REG_AT_TIMES: Mapping[str, Any] = {
    "reg": {"source": "chat", "name": "李红梅", "gender": "女", "age_said": 56, "birth": "1970-05-06",
            "id_gender": "女", "id_masked": "110***********1234", "skills": ["haircut"]},
    "id_enc": "x", "id_hash": "y",
}
# An order that only needs confirming: haircut tomorrow 09:00 at 幸福小区3栋, 13800138000.
TO_CONFIRM = ("明天上午九点来幸福小区3栋帮我理发 电话13800138000",)


# -- combinators the held-out parts share (each part was written blind and names them its own way) ----------------


def any_of(*checks: Check) -> Check:
    """At least one of these holds (where the design allows more than one good answer)."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        wrongs = [c(res, t) for c in checks]
        return None if any(w is None for w in wrongs) else " / ".join(str(w) for w in wrongs)
    return check


def all_of(*checks: Check) -> Check:
    """All of these hold (to put inside `any_of`)."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        wrongs = [w for w in (c(res, t) for c in checks) if w]
        return "; ".join(wrongs) if wrongs else None
    return check


def answered(res: Result, t: CorpusTranscript) -> str | None:
    """The person gets a reply (a message is never left unanswered)."""
    return None if (res.reply or "").strip() else "no reply"


def in_an_order(res: Result, t: CorpusTranscript) -> str | None:
    """An order dialogue (one's own or for someone else) is under way."""
    return None if res.state in ORDER_STATES else f"state {res.state}, expected an order dialogue"
