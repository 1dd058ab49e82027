"""Emergencies residents reported in chat: listed until a staff member marks each one handled (who and when).

Community staff (and admins) see everything on file and mark incidents handled; the leader of the hub's emergency
team sees the list with the name and phone masked and the address coarse, as a volunteer would; nobody else sees
it. The rows and the change come from bot.community.incidents, which writes the audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, g, redirect, render_template, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from bot.admin.auth import Staff
from bot.admin.context import ID, bp, hub_id, now, reading, rejected, run_change, safe_next, staff
from bot.admin.forms import ActionForm
from bot.community import incidents
from bot.community.teamchat import team_by_code
from bot.serviceloop.orders import settings_for
from intents.masking import coarse_address, mask_name, mask_phone

FULL_ROLES = ("admin", "staff")  # everything on file, and the 已处理 button
FULL, MASKED = "full", "masked"
HANDLED_SHOWN = 20


@dataclass(frozen=True)
class IncidentPanel:
    """What the dashboard shows: how many are open, and the latest of them as the signed-in person may see them."""

    open_count: int
    rows: tuple[dict[str, Any], ...]
    can_handle: bool


def view_level(s: Session, me: Staff, hub: int) -> str | None:
    """FULL, MASKED, or None when this person may not see the hub's incidents."""
    if me.role in FULL_ROLES:
        return FULL
    if me.role == "leader" and me.team_id is not None:
        code = settings_for(s, hub).emergency_team
        team = team_by_code(s, hub, code) if code else None
        if team is not None and team.id == me.team_id:
            return MASKED
    return None


def _alerts_text(alerts: incidents.Alerts) -> str:
    if not alerts.to_staff and not alerts.to_group:
        return "没有发出提醒（没有值班人员和队伍群）"
    parts = [f"值班人员{alerts.to_staff}条"] if alerts.to_staff else []
    parts += [f"队伍群{alerts.to_group}条"] if alerts.to_group else []
    progress = [f"已送达{alerts.sent}"] + ([f"待发送{alerts.waiting}"] if alerts.waiting else [])
    progress += [f"未送达{alerts.failed}，请电话联系"] if alerts.failed else []
    return "、".join(parts) + "（" + "，".join(progress) + "）"


def _shown(row: incidents.IncidentRow, level: str) -> dict[str, Any]:
    full = level == FULL
    return {"id": row.id, "kind": row.kind, "kind_words": row.kind_words,
            "text": row.text if full else None,
            "name": (row.name or "未登记") if full else mask_name(row.name),
            "phone": (row.phone or "未登记") if full else mask_phone(row.phone),
            "address": (row.address or "未登记（请电话询问）") if full else coarse_address(row.address),
            "created_at": row.created_at, "alerts": _alerts_text(row.alerts), "failed": row.alerts.failed,
            "handled_by": (row.handled_by or "").removeprefix("web:"), "handled_at": row.handled_at,
            "note": row.note or ""}


def dashboard_incidents(s: Session, me: Staff, hub: int, limit: int = 5) -> IncidentPanel | None:
    """For the dashboard: the open count and the latest open incidents, masked for the viewer's role (None when the
    viewer may not see incidents). Render it with ``{% include "admin/_incidents_panel.html" %}`` and ``panel``."""
    level = view_level(s, me, hub)
    if level is None:
        return None
    rows = incidents.listing(s, hub, status="open", limit=limit)
    return IncidentPanel(open_count=incidents.open_count(s, hub), rows=tuple(_shown(r, level) for r in rows),
                         can_handle=level == FULL)


@bp.context_processor
def _incidents_nav() -> dict[str, Any]:
    """The nav link: None when the person may not see incidents, else how many are open."""
    me = g.get("staff")
    if me is None:
        return {"incidents_nav": None}
    with reading() as s:
        if view_level(s, me, hub_id()) is None:
            return {"incidents_nav": None}
        return {"incidents_nav": incidents.open_count(s, hub_id())}


@bp.get("/incidents")
def incidents_page() -> str:
    me = staff()
    with reading() as s:
        level = view_level(s, me, hub_id())
        if level is None:
            abort(403)
        open_rows = [_shown(r, level) for r in incidents.listing(s, hub_id(), status="open", limit=200)]
        handled = [_shown(r, level) for r in incidents.listing(s, hub_id(), status="handled", limit=HANDLED_SHOWN)]
    return render_template("admin/incidents.html", open_rows=open_rows, handled=handled, can_handle=level == FULL)


@bp.post(f"/incidents/<{ID}:incident_id>/handled")
def incident_handled(incident_id: int) -> Response:
    me = staff()
    if me.role not in FULL_ROLES:
        abort(403)
    back = safe_next(request.form.get("next") or "/admin/incidents")
    if rejected(ActionForm()):  # the note is optional free text: the domain strips it and keeps 500 characters
        return redirect(back)

    def change(s: Session) -> str:
        done = incidents.mark_handled(s, hub_id=hub_id(), incident_id=incident_id, actor=me.actor, now=now(),
                                      note=request.form.get("note"))
        return f"紧急事件{done.id}已标记为已处理（{me.display_name}）。"
    return run_change(change, back)
