"""Street events exist from the first start: the worker generates the rule's events when it starts leading, not
only in the nightly job, so "活动" on a fresh install answers with the coming dates. Running it again makes none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.community import events
from bot.worker.process import Worker
from storage.db import transaction
from storage.models_events import Event
from tests.dialog import Chat

R = "oFreshInstall"


def _count(services: Any) -> int:
    with services.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Event)) or 0)


def test_a_fresh_install_has_the_coming_events_once_the_worker_starts(chat: Chat, services: Any,
                                                                      clock: FakeClock) -> None:
    assert _count(services) == 0 and "还没有安排" in (chat.say(R, "活动") or "")
    worker = Worker(services, owner="first-start")
    try:
        assert worker.tick() and worker.leading
        made = _count(services)
        assert made == 5  # 2nd and 4th Saturdays over the next 62 days: 11-28, 12-12, 12-26, 1-9, 1-23
        reply = chat.say(R, "活动") or ""
        assert "11月28日(周六) 09:00-11:30" in reply and "12月12日" in reply
        assert worker.catch_up() == 0  # idempotent: running it again creates nothing
    finally:
        worker.stop()
    with transaction(services.sessions) as s:  # staff cancel one; a restart must not bring it back
        first = s.execute(select(Event).order_by(Event.starts_at)).scalars().first()
        assert first is not None
        events.cancel(s, 1, first.id, reason="下雨", now=clock.now(),
                      es=events.EventSettings.from_config(services.config))
    again = Worker(services, owner="restarted")
    try:
        assert again.tick()
        assert _count(services) == made
        with services.sessions() as s:
            assert s.execute(select(Event.status).where(Event.id == first.id)).scalar_one() == "cancelled"
    finally:
        again.stop()

