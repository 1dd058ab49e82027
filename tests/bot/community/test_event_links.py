"""The calendar (.ics) link shown to people uses the configured public address (LEIFENG_PUBLIC_URL), never a
loopback address outside development."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.community import events
from bot.config import load_config
from storage.models_events import Event


def _ev() -> Event:
    return Event(id=7, hub_id=1, title="雷锋一条街", place="社区广场", teams=[], services=[], note=None,
                 starts_at=datetime(2026, 12, 12, 1, 0, tzinfo=UTC), ends_at=datetime(2026, 12, 12, 4, 0, tzinfo=UTC),
                 status="scheduled")


def test_the_link_uses_the_configured_public_address() -> None:
    cfg = replace(load_config(environ={}), public_url="https://leifeng.example.cn/")
    es = events.EventSettings.from_config(cfg)
    assert events.ics_url(es, _ev()) == "https://leifeng.example.cn/events/7.ics"
    assert "加入日历：https://leifeng.example.cn/events/7.ics" in events.describe(None, _ev(), es)  # type: ignore[arg-type]


def test_a_loopback_address_is_never_shown_outside_development() -> None:
    es = events.EventSettings.from_config(load_config(environ={}))  # production, the default 127.0.0.1:8000
    text = events.describe(None, _ev(), es)  # type: ignore[arg-type]
    assert "127.0.0.1" not in text and "加入日历" not in text
    assert events.shown_public_url("http://localhost:8000", development=True) == "http://localhost:8000"
