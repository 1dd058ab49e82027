"""Volunteers (applications, profiles, suspend/dismiss), teams, merchants, staff accounts and the audit log."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from bot.admin import auth, paging, search, words
from bot.admin.context import (
    ID,
    audit,
    bp,
    hub_id,
    nlu,
    now,
    reading,
    rejected,
    requires,
    run_change,
    staff,
    whole_number,
)
from bot.admin.forms import ActionForm, DismissForm, ReasonForm, StaffForm
from bot.admin.scope import may_see_volunteer, team_volunteer_ids
from bot.clock import SHANGHAI
from bot.people import points, stars, timebank, volunteers
from bot.serviceloop.orders import settings_for
from intents.masking import mask_phone
from storage.models import (
    AuditLog,
    Hub,
    Membership,
    MembershipEvent,
    PointsEntry,
    ServiceRecord,
    Team,
    Volunteer,
)
from storage.models_admin import StaffAccount

STATUS_WORDS = volunteers.STATUS_WORDS
PAGE_SIZE = 50  # volunteers per page of the list
# the staff's buttons: target status -> (label, needs a reason)
MOVES = {"approved": ("通过审核", False), "rejected": ("不通过", True), "active": ("恢复服务", False),
         "suspended": ("暂停服务", True)}


def _hours_by_volunteer(s: Session, ids: list[int]) -> dict[int, float]:
    """Verified hours per person across every hub (hours and star levels follow the person)."""
    if not ids:
        return {}
    return {vid: float(h) for vid, h in s.execute(
        select(ServiceRecord.volunteer_id, func.coalesce(func.sum(ServiceRecord.hours), 0))
        .where(ServiceRecord.volunteer_id.in_(ids)).group_by(ServiceRecord.volunteer_id))}


def _points_by_volunteer(s: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return {vid: int(p) for vid, p in s.execute(
        select(PointsEntry.volunteer_id, func.coalesce(func.sum(PointsEntry.points), 0))
        .where(PointsEntry.hub_id == hub_id(), PointsEntry.volunteer_id.in_(ids)).group_by(PointsEntry.volunteer_id))}


@bp.get("/volunteers")
@requires("volunteers.view")
def volunteers_list() -> str:
    me = staff()
    status = request.args.get("status") or ""
    team = request.args.get("team") or ""
    q = (request.args.get("q") or "").strip()
    with reading() as s:
        cond: list[Any] = [Membership.hub_id == hub_id()]
        if me.role == "merchant":
            cond.append(Membership.status.in_(volunteers.ACTIVE_STATUSES))
        elif status in STATUS_WORDS:
            cond.append(Membership.status == status)
        if me.role == "leader":
            cond.append(Volunteer.id.in_(team_volunteer_ids(s, hub_id(), me.team_id or 0) or {0}))
        elif (team_id := whole_number(team)) is not None:
            cond.append(Volunteer.id.in_(team_volunteer_ids(s, hub_id(), team_id) or {0}))
        # a phone number is that phone (not for a merchant, who never sees phones), another number a volunteer's id
        # (none when it fits no id), anything else part of a name
        by_phone = search.phone_condition(s, Volunteer.phone_hash, q) if q and me.role != "merchant" else None
        if by_phone is not None:
            cond.append(by_phone)
        elif q:
            number = whole_number(q)
            if q.isascii() and q.isdigit():
                cond.append(Volunteer.id == number if number is not None else false())
            else:
                cond.append(Volunteer.name.contains(q.replace("\x00", "")))
        # applications first, then everyone else, each by id: pages by key along
        # ix_memberships_hub_status_volunteer and uq_memberships_hub_volunteer (no OFFSET, no sort of the hub)
        page = paging.keyset(s, select(Membership, Volunteer).join(Volunteer, Volunteer.id == Membership.volunteer_id)
                             .where(*cond), Membership.volunteer_id, lambda row: int(row[0].volunteer_id),
                             size=PAGE_SIZE, after=request.args.get("after"), before=request.args.get("before"),
                             segments=(Membership.status == "applied", Membership.status != "applied"))
        rows = page.rows
        ids = [v.id for _, v in rows]
        hours, pts = _hours_by_volunteer(s, ids), _points_by_volunteer(s, ids)
        thresholds = settings_for(s, hub_id()).star_hours
        team_names = {t.id: t.name for t in s.execute(select(Team).where(Team.hub_id == hub_id())).scalars()}
        items = [{"id": v.id, "name": v.name, "gender": v.gender or "", "status": m.status,
                  "status_word": STATUS_WORDS.get(m.status, m.status),
                  "id_masked": (v.id_number_masked or "未登记") if me.can("volunteers.ids") else None,
                  "phone": mask_phone(v.phone) if me.role != "merchant" else None,
                  "team": team_names.get(m.team_id or 0, ""), "hours": hours.get(v.id, 0.0),
                  "stars": stars.star_level(hours.get(v.id, 0.0), thresholds), "points": pts.get(v.id, 0)}
                 for m, v in rows]
        teams = [] if me.role in ("leader", "merchant") else sorted(team_names.items())
    return render_template("admin/volunteers.html", items=items, statuses=STATUS_WORDS, teams=teams,
                           pager=paging.links(page, "admin.volunteers_list", request.args),
                           f={"status": status, "team": team, "q": q})


@bp.get(f"/volunteers/<{ID}:volunteer_id>")
@requires("volunteers.view")
def volunteer_page(volunteer_id: int) -> str:
    me = staff()
    with reading() as s:
        if not may_see_volunteer(s, me, hub_id(), volunteer_id):
            abort(404)
        vol = s.get(Volunteer, volunteer_id)
        member = s.execute(select(Membership).where(Membership.hub_id == hub_id(),
                                                    Membership.volunteer_id == volunteer_id)).scalar_one()
        assert vol is not None
        understanding = nlu(s)
        settings = settings_for(s, hub_id())
        hours = volunteers.total_hours(s, vol.id)
        standing = stars.standing(hours, settings.star_hours)
        teams = [t.name for t in volunteers.teams_of(s, hub_id(), vol.id)]
        history = s.execute(select(MembershipEvent).where(MembershipEvent.membership_id == member.id)
                            .order_by(MembershipEvent.id)).scalars().all()
        records = s.execute(select(ServiceRecord).where(ServiceRecord.volunteer_id == vol.id,
                                                        ServiceRecord.hub_id == hub_id())
                            .order_by(ServiceRecord.service_date.desc()).limit(20)).scalars().all()
        ledger = s.execute(select(PointsEntry).where(PointsEntry.volunteer_id == vol.id,
                                                     PointsEntry.hub_id == hub_id())
                           .order_by(PointsEntry.id.desc()).limit(20)).scalars().all()
        full = me.role in ("admin", "staff")
        p = {"id": vol.id, "name": vol.name, "gender": vol.gender or "未填",
             "age": volunteers.age_of(vol, now().astimezone(SHANGHAI).date()) if vol.birth_date else None,
             "id_masked": (vol.id_number_masked or "未登记") if me.can("volunteers.ids") else None,
             "phone": (vol.phone if full else mask_phone(vol.phone)) if me.role != "merchant" else None,
             "skills": "、".join(understanding.service_name(c) for c in vol.skills or []) or "未填",
             "availability": volunteers.availability_text(vol.availability or []),
             "guardian": (vol.guardian or {}).get("name") if full else None,
             "teams": "、".join(teams) or "未加入", "status": member.status,
             "status_word": STATUS_WORDS.get(member.status, member.status), "reason": member.status_reason or "",
             "hours": hours, "stars": standing.level, "star_label": standing.label,
             "to_next": standing.hours_to_next, "points": points.balance(s, hub_id(), vol.id),
             "bank": timebank.hours_text(timebank.balance(s, timebank.Account(hub_id(), volunteer_id=vol.id))),
             "created_at": member.created_at}
        who = words.actor_names(s, hub_id(), [e.actor for e in history])
        hist = [{"at": e.at, "from": STATUS_WORDS.get(e.from_status or "", "—"),
                 "to": STATUS_WORDS.get(e.to_status, "—"), "reason": e.reason or "", "actor": who[e.actor]}
                for e in history] if me.role != "merchant" else []
        recs = [{"date": r.service_date, "service": understanding.service_name(r.service_code), "hours": r.hours,
                 "rating": r.rating, "order_id": r.order_id} for r in records] if me.role != "merchant" else []
        pts = [{"at": e.at, "kind": words.POINT_KINDS.get(e.kind, "其他"), "points": e.points, "reason": e.reason}
               for e in ledger]
    moves = []
    if me.can("volunteers.act"):
        # 恢复服务 is for a suspended volunteer; an approved one becomes active by serving, not by a button
        moves = [(to, label, needs) for to, (label, needs) in MOVES.items()
                 if (member.status, to) in volunteers.TRANSITIONS and (to != "active" or member.status == "suspended")]
    can_dismiss = me.can("volunteers.act") and (member.status, "dismissed") in volunteers.TRANSITIONS
    return render_template("admin/volunteer.html", p=p, history=hist, records=recs, ledger=pts, moves=moves,
                           can_dismiss=can_dismiss, dismiss_form=DismissForm(),
                           dismissal_reasons=volunteers.DISMISSAL_REASONS)


def _hub_name(s: Session) -> str:
    return s.scalar(select(Hub.name).where(Hub.id == hub_id())) or "本站"


def _status_change(volunteer_id: int, to: str, reason: str | None, reason_code: str | None = None) -> Any:
    def change(s: Session) -> str:
        member = s.execute(select(Membership).where(Membership.hub_id == hub_id(),
                                                    Membership.volunteer_id == volunteer_id)).scalar_one_or_none()
        if member is None:
            abort(404)
        before = member.status
        volunteers.change_status(s, member, to, actor=staff().actor, now=now(), reason=reason,
                                 reason_code=reason_code, hub_name=_hub_name(s))
        audit(s, "volunteer_status", f"volunteer:{volunteer_id}", before=before, to=to, reason=member.status_reason,
              reason_code=reason_code)
        return f"志愿者{volunteer_id}：{STATUS_WORDS.get(to, to)}。"
    return run_change(change, url_for("admin.volunteer_page", volunteer_id=volunteer_id))


@bp.post(f"/volunteers/<{ID}:volunteer_id>/status/<to>")
@requires("volunteers.act")
def volunteer_status(volunteer_id: int, to: str) -> Any:
    if to not in MOVES:
        abort(404)
    needs_reason = MOVES[to][1]
    form = ReasonForm() if needs_reason else ActionForm()
    if rejected(form):
        return redirect(url_for("admin.volunteer_page", volunteer_id=volunteer_id))
    reason = (form.reason.data or "").strip() if isinstance(form, ReasonForm) else None
    return _status_change(volunteer_id, to, reason)


@bp.post(f"/volunteers/<{ID}:volunteer_id>/dismiss")
@requires("volunteers.act")
def volunteer_dismiss(volunteer_id: int) -> Any:
    form = DismissForm()
    if rejected(form):
        return redirect(url_for("admin.volunteer_page", volunteer_id=volunteer_id))
    return _status_change(volunteer_id, "dismissed", (form.reason.data or "").strip(), form.reason_code.data)


# -- staff accounts and the audit log -------------------------------------------------------------


@bp.get("/staff")
@requires("staff.manage")
def staff_list() -> str:
    with reading() as s:
        rows = s.execute(select(StaffAccount, Hub.slug).join(Hub, Hub.id == StaffAccount.hub_id)
                         .order_by(StaffAccount.id)).all()
        items = [{"id": a.id, "username": a.username, "name": a.display_name or "", "role": a.role,
                  "hub": slug, "active": a.active, "last_login_at": a.last_login_at,
                  "wechat_linked": a.wechat_user_id is not None} for a, slug in rows]
    return render_template("admin/staff.html", items=items, form=StaffForm(), action_form=ActionForm())


@bp.post("/staff")
@requires("staff.manage")
def staff_create() -> Any:
    form = StaffForm()
    if rejected(form):
        return redirect(url_for("admin.staff_list"))

    def change(s: Session) -> str:
        slug = s.scalar(select(Hub.slug).where(Hub.id == hub_id())) or ""
        account = auth.create_account(s, username=form.username.data or "", password=form.password.data or "",
                                      role=form.role.data or "", hub_slug=slug, now=now(), actor=staff().actor,
                                      display_name=form.display_name.data, team_code=form.team_code.data or None,
                                      merchant_code=form.merchant_code.data or None)
        return f"账号 {account.username} 已创建。"
    return run_change(change, url_for("admin.staff_list"))


@bp.post(f"/staff/<{ID}:account_id>/<any(enable, disable):what>")
@requires("staff.manage")
def staff_toggle(account_id: int, what: str) -> Any:
    form = ActionForm()
    if rejected(form):
        return redirect(url_for("admin.staff_list"))

    def change(s: Session) -> str:
        account = s.get(StaffAccount, account_id)
        if account is None:
            abort(404)
        if account.id == staff().id:
            raise auth.StaffError("不能停用自己的账号。")
        auth.set_active(s, account, what == "enable", actor=staff().actor, now=now())
        return f"账号 {account.username} 已{'启用' if what == 'enable' else '停用'}。"
    return run_change(change, url_for("admin.staff_list"))


@bp.get("/audit")
@requires("audit")
def audit_log() -> str:
    with reading() as s:
        rows = s.execute(select(AuditLog).where(AuditLog.hub_id == hub_id()).order_by(AuditLog.id.desc())
                         .limit(200)).scalars().all()
        who = words.actor_names(s, hub_id(), [a.actor for a in rows])
        mentioned = {v for a in rows for k, v in (a.detail or {}).items() if k == "volunteer_id" and isinstance(v, int)}
        volunteer_names = dict(s.execute(select(Volunteer.id, Volunteer.name).where(Volunteer.id.in_(mentioned))).all()
                               ) if mentioned else {}
        understanding = nlu(s)

        def volunteer_name(vid: int) -> str:
            return f"{volunteer_names.get(vid, '')}（{vid}）"
        items = [{"at": a.at, "actor": who[a.actor], "action": words.action_in_words(a.action),
                  "subject": words.subject_in_words(a.subject),
                  "detail": words.details_in_words(a.detail, volunteer_name=volunteer_name,
                                                   service_name=understanding.service_name),
                  "error": str((a.detail or {}).get("error") or "")}
                 for a in rows]
    return render_template("admin/audit.html", items=items)

