"""Street events calendar (雷锋一条街) and broadcasts: compose, choose a segment, preview, send, progress.

Everything goes through the community's domain (bot.community.events, bot.community.broadcasts), which
writes its own audit rows.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin import words
from bot.admin.context import (
    ID,
    audit,
    bp,
    hub_id,
    now,
    reading,
    rejected,
    requires,
    run_change,
    services,
    staff,
)
from bot.admin.forms import ActionForm, BroadcastForm, EventForm, MoveEventForm, ReasonForm
from bot.clock import SHANGHAI, as_utc
from bot.community import broadcasts, eventrule, events
from bot.errors import LeifengError
from bot.serviceloop import ledger
from storage.models import Team
from storage.models_events import Broadcast, Event

MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})")


def _settings() -> events.EventSettings:
    return events.EventSettings.from_config(services().config)


def _month(text: str | None) -> date:
    """The month asked for (2026-11), or this month when the text is not a month of the calendar's years."""
    m = MONTH.fullmatch(text or "")
    if m and ledger.FIRST_YEAR <= int(m.group(1)) <= ledger.LAST_YEAR and 1 <= int(m.group(2)) <= 12:
        return date(int(m.group(1)), int(m.group(2)), 1)
    return now().astimezone(SHANGHAI).date().replace(day=1)


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, SHANGHAI)


@bp.get("/events")
@requires("events")
def events_page() -> str:
    first = _month(request.args.get("month"))
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    es = _settings()
    with reading() as s:
        rows = s.execute(select(Event).where(Event.hub_id == hub_id(), Event.starts_at >= _at(first, time()),
                                             Event.starts_at < _at(last + timedelta(days=1), time()))
                         .order_by(Event.starts_at, Event.id)).scalars().all()
        teams = [(t.code, t.name) for t in s.execute(select(Team).where(Team.hub_id == hub_id())
                                                     .order_by(Team.id)).scalars()]
        items = [{"id": ev.id, "title": ev.title, "when": events.event_when(ev, es.tz), "place": ev.place,
                  "day": as_utc(ev.starts_at).astimezone(SHANGHAI).date(), "status": ev.status,
                  "reason": ev.cancel_reason or "", "teams": "、".join(ev.teams or []), "source": ev.source,
                  "start": f"{as_utc(ev.starts_at).astimezone(SHANGHAI):%H:%M}",
                  "end": f"{as_utc(ev.ends_at).astimezone(SHANGHAI):%H:%M}"} for ev in rows]
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    by_day: dict[date, list[dict[str, Any]]] = {}
    for item in items:
        by_day.setdefault(item["day"], []).append(item)  # type: ignore[arg-type]
    prev_month = (first - timedelta(days=1)).replace(day=1)
    next_month = last + timedelta(days=1)
    return render_template("admin/events.html", items=items, weeks=weeks, by_day=by_day, month=first,
                           prev_month=f"{prev_month:%Y-%m}", next_month=f"{next_month:%Y-%m}", teams=teams,
                           rule=_rule_words(services().config.street_event_rule), form=EventForm(),
                           move_form=MoveEventForm(), reason_form=ReasonForm(), action_form=ActionForm())


def _rule_words(text: str) -> str:
    """The configured rule as people say it; a rule that cannot be read says so (generation refuses it too)."""
    try:
        return eventrule.rule_in_words(eventrule.parse_rule(text))
    except eventrule.RuleError:
        return "规则写得不对，请检查配置"


def _back(month: date | None = None) -> str:
    return url_for("admin.events_page", month=f"{(month or _month(request.form.get('month'))):%Y-%m}")


@bp.post("/events/generate")
@requires("events")
def events_generate() -> Any:
    form = ActionForm()
    first = _month(request.form.get("month"))
    if rejected(form):
        return redirect(_back(first))
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])

    def change(s: Session) -> str:
        made = events.generate(s, hub_id(), _settings(), first, last, now())
        audit(s, "event_generate", f"events:{first:%Y-%m}", made=len(made))
        return f"按规则生成了{len(made)}场活动。" if made else "这个月按规则的活动都已经有了。"
    return run_change(change, _back(first))


@bp.post("/events")
@requires("events")
def events_add() -> Any:
    form = EventForm()
    if rejected(form):
        return redirect(_back())
    day = form.day.data
    assert day is not None and form.start.data is not None and form.end.data is not None

    def change(s: Session) -> str:
        ev = events.add(s, hub_id(), title=form.title.data or "", starts_at=_at(day, form.start.data),
                        ends_at=_at(day, form.end.data), place=form.place.data or "",
                        teams=request.form.getlist("teams"), services=[], now=now(), actor=staff().actor,
                        note=form.note.data or None)
        past = "注意：这个活动的时间已经过去了，居民不会收到提醒。" if as_utc(ev.ends_at) <= now() else ""
        return f"活动已添加（编号{ev.id}）。{past}"
    return run_change(change, _back(day.replace(day=1)))


@bp.post(f"/events/<{ID}:event_id>/move")
@requires("events")
def events_move(event_id: int) -> Any:
    form = MoveEventForm()
    if rejected(form):
        return redirect(_back())
    day = form.day.data
    assert day is not None and form.start.data is not None and form.end.data is not None

    def change(s: Session) -> str:
        events.move(s, hub_id(), event_id, starts_at=_at(day, form.start.data), ends_at=_at(day, form.end.data),
                    now=now(), es=_settings(), place=form.place.data or None, actor=staff().actor)
        return f"活动{event_id}已改期，订阅的居民和参加的队伍会收到通知。"
    return run_change(change, _back(day.replace(day=1)))


@bp.post(f"/events/<{ID}:event_id>/cancel")
@requires("events")
def events_cancel(event_id: int) -> Any:
    form = ReasonForm()
    if rejected(form):
        return redirect(_back())

    def change(s: Session) -> str:
        _ev, told = events.cancel(s, hub_id(), event_id, reason=(form.reason.data or "").strip(), now=now(),
                                  es=_settings(), actor=staff().actor)
        return f"活动{event_id}已取消，已通知{told}人。"
    return run_change(change, _back())


# -- broadcasts ---------------------------------------------------------------------------------


SEGMENT_WORDS = {"all-subscribers": "全部关注的居民（已退订活动提醒的除外）", "team": "一支服务队",
                 "community": "一个小区"}


def _segment(form: BroadcastForm) -> str:
    kind = form.kind.data or ""
    return kind if kind == "all-subscribers" else f"{kind}:{(form.arg.data or '').strip()}"


def _progress_rows(s: Session, ids: list[int]) -> list[dict[str, Any]]:
    out = []
    progress = [broadcasts.progress(s, bid) for bid in ids]
    who = words.actor_names(s, hub_id(), [p.broadcast.created_by or "" for p in progress])
    for p in progress:
        bid = p.broadcast.id
        total = max(1, p.sent + p.failed + p.pending)
        out.append({"id": bid, "segment": p.segment_words, "text": p.broadcast.text, "line": p.line(),
                    "done": p.done, "percent": round(100 * (p.sent + p.failed) / total), "sent": p.sent,
                    "failed": p.failed, "unknown": p.unknown, "pending": p.pending, "skipped": p.skipped,
                    "by": who.get(p.broadcast.created_by or "", ""),
                    "at": p.broadcast.created_at, "errors": broadcasts.describe_errors(p)})
    return out


@bp.get("/broadcasts")
@requires("events")
def broadcasts_page() -> str:
    with reading() as s:
        rows = _progress_rows(s, broadcasts.recent(s, hub_id(), limit=20))
        teams = [(t.code, t.name) for t in s.execute(select(Team).where(Team.hub_id == hub_id())
                                                     .order_by(Team.id)).scalars()]
    return render_template("admin/broadcasts.html", rows=rows, form=BroadcastForm(), teams=teams,
                           segments=SEGMENT_WORDS)


@bp.post("/broadcasts/preview")
@requires("events")
def broadcasts_preview() -> Any:
    form = BroadcastForm()
    if rejected(form):
        return redirect(url_for("admin.broadcasts_page"))
    segment = _segment(form)
    try:
        with reading() as s:
            people = broadcasts.recipients(s, hub_id(), segment)
            kind, _, code = segment.partition(":")
            team = s.scalar(select(Team.name).where(Team.hub_id == hub_id(), Team.code == code)) \
                if kind == "team" else None
    except LeifengError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.broadcasts_page"))
    skipped: dict[str, int] = {}
    for r in people:
        if r.skip:
            why = broadcasts.SKIP_WORDS.get(r.skip, r.skip)
            skipped[why] = skipped.get(why, 0) + 1
    return render_template("admin/broadcast_preview.html", form=form, segment=broadcasts.segment_words(segment, team),
                           total=len(people),
                           sending=sum(1 for r in people if not r.skip), skipped=skipped,
                           text=(form.text.data or "").strip())


@bp.post("/broadcasts/send")
@requires("events")
def broadcasts_send() -> Any:
    form = BroadcastForm()
    if rejected(form):
        return redirect(url_for("admin.broadcasts_page"))
    svc = services()
    try:  # both open their own transactions (queueing is chunked): no session is open here
        bid = broadcasts.create(svc.sessions, hub_id=hub_id(), segment=_segment(form), text=form.text.data or "",
                                now=now(), actor=staff().actor, force=bool(form.force.data))
        queued, skipped = broadcasts.enqueue_all(svc.sessions, bid, now())
    except LeifengError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.broadcasts_page"))
    flash(f"群发{bid}已排队：{queued}人，跳过{skipped}人。", "ok")
    return redirect(url_for("admin.broadcast_page", broadcast_id=bid))


@bp.get(f"/broadcasts/<{ID}:broadcast_id>")
@requires("events")
def broadcast_page(broadcast_id: int) -> str:
    with reading() as s:
        bc = s.get(Broadcast, broadcast_id)
        if bc is None or bc.hub_id != hub_id():
            abort(404)
        (row,) = _progress_rows(s, [broadcast_id])
    return render_template("admin/broadcast.html", b=row)
