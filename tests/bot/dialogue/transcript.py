"""Drive the pure dialogue step directly: no Flask, no database. (user says, the reply must contain ...) rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from bot.dialogue import step
from bot.dialogue.core import Action, Context, Result, State
from bot.dialogue.messages import Incoming
from bot.dialogue.nlu import Understanding, load_understanding

# Monday 2026-11-23 10:00 in Shanghai
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@lru_cache(maxsize=1)
def understanding() -> Understanding:
    return load_understanding()


def text(body: str, openid: str = "o-resident", at: datetime = START) -> Incoming:
    return Incoming(kind="text", openid=openid, account="gh_hub", create_time=int(at.timestamp()), msg_id="1",
                    text=body)


@dataclass
class Transcript:
    """One person's conversation with the pure step: state and slots carried from turn to turn."""

    roles: frozenset[str] = frozenset()
    now: datetime = START
    state: str = State.IDLE
    slots: dict[str, Any] = field(default_factory=dict)
    phone_on_file: str | None = None
    hotlines: dict[str, str] = field(default_factory=dict)
    results: list[Result] = field(default_factory=list)

    def context(self) -> Context:
        return Context(hub_name="阳光社区雷锋超市", now=self.now, nlu=understanding(), roles=self.roles,
                       phone_on_file=self.phone_on_file, hotlines=self.hotlines)

    def say(self, body: str) -> Result:
        res = step.step(self.state, self.slots, text(body, at=self.now), self.context())
        self.state, self.slots = res.state, dict(res.slots)
        self.results.append(res)
        return res

    def wait(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def actions(self) -> list[Action]:
        return [a for r in self.results for a in r.actions]


def verify_dialog(t: Transcript, rows: Sequence[tuple[str, str | None]]) -> list[Result]:
    """Each row: what the user says, and a text the reply must contain ("" = any reply; None = no reply)."""
    out = []
    for said, expected in rows:
        res = t.say(said)
        if expected is None:
            assert res.reply is None, f"{said!r} -> {res.reply!r}, expected no reply"
        else:
            assert res.reply is not None and expected in res.reply, f"{said!r} -> {res.reply!r}, expected {expected!r}"
        out.append(res)
    return out
