"""Calendar files on the web app: one event (/events/<id>.ics) and a hub's upcoming events (/events/<hub>.ics)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app
from sqlalchemy import select

from bot.community import events
from bot.services import Services
from storage.models import Hub
from storage.models_events import Event

bp = Blueprint("events", __name__)

FEED_DAYS_BACK = 7  # a calendar app keeps the last week's events instead of seeing them vanish


def _services() -> Services:
    svc: Services = current_app.extensions["leifeng"]
    return svc


def _ics(body: bytes, name: str) -> Response:
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="{name}.ics"', "Cache-Control": "max-age=300"})


# An id from the URL must fit the column (a signed 64-bit integer) and be positive; anything else is no event.
EVENT_ID = "int(min=1, max=9223372036854775807)"


@bp.get(f"/events/<{EVENT_ID}:event_id>.ics")
def one_event(event_id: int) -> Response:
    svc = _services()
    es = events.EventSettings.from_config(svc.config)
    with svc.sessions() as s:
        ev = s.get(Event, event_id)
        if ev is None:
            return Response("not found", status=404, mimetype="text/plain")
        hub_name = s.scalar(select(Hub.name).where(Hub.id == ev.hub_id)) or ""
        return _ics(events.to_ics([ev], es, hub_name, s), f"event-{event_id}")


@bp.get("/events/<slug>.ics")
def hub_feed(slug: str) -> Response:
    svc = _services()
    es = events.EventSettings.from_config(svc.config)
    if len(slug) > 64 or not slug.isprintable():  # before the database: PostgreSQL refuses a NUL in text
        return Response("not found", status=404, mimetype="text/plain")
    with svc.sessions() as s:
        hub = s.execute(select(Hub).where(Hub.slug == slug)).scalar_one_or_none()
        if hub is None:
            return Response("not found", status=404, mimetype="text/plain")
        since = svc.clock.now() - timedelta(days=FEED_DAYS_BACK)
        evs = events.upcoming(s, hub.id, since, limit=200, include_cancelled=True)
        return _ics(events.to_ics(evs, es, hub.name, s), f"{slug}-events")
