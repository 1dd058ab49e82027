"""现场服务登记: staff record the walk-in services of a street event in bulk, many rows at once (volunteer, service,
hours, residents served, names if given) into the ledger like any completed order (bot.serviceloop.walkins).
Lines with errors are refused in Chinese with everything typed kept; empty lines are skipped; a batch submitted
twice is recorded once (the form's token)."""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from bot.admin.context import ID, audit, bp, changing, hub_id, nlu, now, plain_error, reading, rejected, requires
from bot.admin.context import staff as signed_in
from bot.admin.forms import ActionForm
from bot.clock import SHANGHAI, as_utc
from bot.errors import LeifengError
from bot.serviceloop import orders, walkins
from storage.models import Volunteer
from storage.models_events import Event

ROWS = 10  # empty lines on the form
MOST_ROWS = 60  # lines one submission may hold


def _event(s: Session, event_id: int) -> Event:
    event = s.execute(select(Event).where(Event.id == event_id, Event.hub_id == hub_id())).scalar_one_or_none()
    if event is None:
        abort(404)
    return event


def _raw_rows() -> list[walkins.RawRow]:
    form = request.form
    lines = form.get("rows") or ""
    count = min(int(lines) if lines.isdigit() and len(lines) < 4 else ROWS, MOST_ROWS)
    return [walkins.RawRow(volunteer=form.get(f"volunteer_{i}", ""), service=form.get(f"service_{i}", ""),
                           hours=form.get(f"hours_{i}", ""), served=form.get(f"served_{i}", ""),
                           names=form.get(f"names_{i}", "")) for i in range(count)]


def _page(event_id: int, raw: list[walkins.RawRow] | None = None, errors: list[str] | None = None,
          token: str | None = None, lines: int = ROWS) -> str:
    with reading() as s:
        event = _event(s, event_id)
        people = walkins.hub_volunteers(s, hub_id())
        understanding = nlu(s)
        offered = [code for code in (event.services or []) if code in understanding.catalogue]
        services = [(code, understanding.service_name(code)) for code in offered] + sorted(
            ((sv.code, sv.name) for sv in understanding.catalogue if sv.code not in offered), key=lambda x: x[1])
        done = walkins.recorded_orders(s, event)
        names = {vid: name for vid, name in s.execute(select(Volunteer.id, Volunteer.name).where(
            Volunteer.id.in_({o.volunteer_id for o in done if o.volunteer_id} or {0})))}
        recorded = [{"id": o.id, "ref": o.ref, "volunteer": names.get(o.volunteer_id or 0, ""),
                     "service": understanding.service_name(o.service_code), "hours": o.hours,
                     "details": o.details or ""} for o in done]
        facts = {"id": event.id, "title": event.title, "place": event.place, "status": event.status,
                 "when": f"{as_utc(event.starts_at).astimezone(SHANGHAI):%Y-%m-%d %H:%M}–"
                         f"{as_utc(event.ends_at).astimezone(SHANGHAI):%H:%M}",
                 "started": as_utc(event.starts_at) <= now()}
    rows = raw or []
    count = min(max(len(rows), lines), MOST_ROWS)
    rows = rows + [walkins.RawRow()] * (count - len(rows))
    return render_template("admin/walkins.html", e=facts, people=sorted(people.items(), key=lambda p: p[1]),
                           services=services, rows=rows, errors=errors or [], token=token or secrets.token_hex(16),
                           form=ActionForm(), recorded=recorded, total_hours=sum(r["hours"] or 0 for r in recorded),
                           most_rows=MOST_ROWS)


@bp.get(f"/events/<{ID}:event_id>/walkins")
@requires("events")
def walkins_page(event_id: int) -> str:
    lines = request.args.get("rows") or ""
    return _page(event_id, lines=int(lines) if lines.isdigit() and len(lines) < 4 else ROWS)


@bp.post(f"/events/<{ID}:event_id>/walkins")
@requires("events")
def walkins_record(event_id: int) -> Response | tuple[str, int]:
    back = url_for("admin.walkins_page", event_id=event_id)
    if rejected(ActionForm()):
        return redirect(back)
    raw = _raw_rows()
    token = request.form.get("token", "")
    with reading() as s:
        _event(s, event_id)
        people = walkins.hub_volunteers(s, hub_id())
        understanding = nlu(s)
        services = {sv.code: sv.name for sv in understanding.catalogue}
        most = orders.settings_for(s, hub_id()).max_hours_per_order
    rows, errors = walkins.read_rows(raw, volunteers=people, services=services, most_hours=most)
    if errors:  # nothing is recorded; what was typed stays on the form
        return _page(event_id, raw, errors, token if walkins.TOKEN.fullmatch(token) else None), 400
    try:
        with changing() as s:
            event = _event(s, event_id)
            made = walkins.record(s, event=event, rows=rows, token=token, actor=signed_in().actor, now=now())
            audit(s, "walkin_record", f"event:{event_id}", rows=len(made),
                  hours=round(sum(r.hours for r in rows), 2), count=sum(r.served for r in rows))
    except LeifengError as exc:
        flash(plain_error(exc), "error")
        return redirect(back)
    flash(f"已登记{len(made)}条现场服务，共{sum(r.hours for r in rows):g}小时、{sum(r.served for r in rows)}人次，"
          f"已计入台账和积分。", "ok")
    return redirect(back)
