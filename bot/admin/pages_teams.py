"""Service teams (people, leader, group robot) and partner merchants (redemption settings), kept by staff."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.admin.context import ID, audit, bp, hub_id, nlu, now, reading, rejected, requires, run_change, staff
from bot.admin.forms import ActionForm
from bot.admin.forms_teams import (
    LeaderForm,
    MemberForm,
    MerchantEditForm,
    MerchantForm,
    RobotKeyForm,
    ServicesField,
    TeamEditForm,
    TeamForm,
)
from bot.admin.scope import team_volunteer_ids
from bot.community import teamchat
from bot.people import merchants as merchant_book
from bot.people import volunteers
from intents.masking import mask_phone
from storage.models import Membership, Merchant, PointsEntry, Team, User, Volunteer
from storage.sealed import phone_lookup


def _service_choices() -> list[tuple[str, str]]:
    with reading() as s:
        return [(service.code, service.name) for service in nlu(s).catalogue]


def _offer_services(field: ServicesField, choices: list[tuple[str, str]]) -> None:
    field.choices = choices


def _service_names(s: Session, codes: list[Any] | None) -> str:
    understanding = nlu(s)
    return "、".join(understanding.service_name(c) for c in codes or [])


# -- teams ----------------------------------------------------------------------------------------


def _visible_team(s: Session, team_id: int) -> Team:
    """A team of this hub the signed-in person may see (a leader: only their own); anything else is a 404."""
    team = s.execute(select(Team).where(Team.id == team_id, Team.hub_id == hub_id())).scalar_one_or_none()
    if team is None or (staff().role == "leader" and team.id != staff().team_id):
        abort(404)
    return team


@bp.get("/teams")
@requires("teams.view")
def teams_list() -> str:
    with reading() as s:
        q = select(Team).where(Team.hub_id == hub_id()).order_by(Team.id)
        if staff().role == "leader":
            q = q.where(Team.id == staff().team_id)
        items = []
        for t in s.execute(q).scalars():
            leader = s.get(Volunteer, t.leader_volunteer_id) if t.leader_volunteer_id else None
            items.append({"id": t.id, "code": t.code, "name": t.name, "leader": leader.name if leader else "",
                          "services": _service_names(s, t.services),
                          "members": len(team_volunteer_ids(s, hub_id(), t.id)), "emergency": t.emergency,
                          "robot": bool(t.robot_key)})
    form = TeamForm()
    _offer_services(form.services, _service_choices())
    return render_template("admin/teams.html", items=items, form=form)


@bp.post("/teams")
@requires("teams.edit")
def team_create() -> Any:
    form = TeamForm()
    _offer_services(form.services, _service_choices())
    if rejected(form):
        return redirect(url_for("admin.teams_list"))

    def change(s: Session) -> str:
        team = teamchat.add_team(s, hub_id=hub_id(), code=form.code.data or "", name=form.name.data or "",
                                 services=form.services.data or [], emergency=bool(form.emergency.data), now=now())
        audit(s, "team_create", f"team:{team.id}", code=team.code, name=team.name, services=team.services,
              emergency=team.emergency)
        return f"服务队“{team.name}”已建好，可以添加队员了。"
    return run_change(change, url_for("admin.teams_list"))


@bp.get(f"/teams/<{ID}:team_id>")
@requires("teams.view")
def team_page(team_id: int) -> str:
    me = staff()
    with reading() as s:
        team = _visible_team(s, team_id)
        ids = team_volunteer_ids(s, hub_id(), team.id)
        rows = s.execute(select(Volunteer, Membership.status)
                         .join(Membership, Membership.volunteer_id == Volunteer.id)
                         .where(Membership.hub_id == hub_id(), Volunteer.id.in_(ids or {0}))
                         .order_by(Volunteer.id)).all()
        members = [{"id": v.id, "name": v.name, "status_word": volunteers.STATUS_WORDS.get(status, status),
                    "leader": v.id == team.leader_volunteer_id} for v, status in rows]
        candidates = [(v.id, v.name) for v in s.execute(
            select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id)
            .where(Membership.hub_id == hub_id(), Membership.status.in_(volunteers.ACTIVE_STATUSES))
            .order_by(Volunteer.id).limit(1000)).scalars()]
        t = {"id": team.id, "code": team.code, "name": team.name, "emergency": team.emergency,
             "services": _service_names(s, team.services), "robot": teamchat.masked_robot_key(team.robot_key),
             "has_robot": bool(team.robot_key), "leader_id": team.leader_volunteer_id}
        saved = {"name": team.name, "services": list(team.services or []), "emergency": team.emergency}
    edit = TeamEditForm(data=saved)
    _offer_services(edit.services, _service_choices())
    in_team = {m["id"] for m in members}
    return render_template("admin/team.html", t=t, members=members, edit=edit,
                           joinable=[c for c in candidates if c[0] not in in_team], candidates=candidates,
                           member_form=MemberForm(), leader_form=LeaderForm(), robot_form=RobotKeyForm(),
                           action_form=ActionForm(), can_edit=me.can("teams.edit"),
                           can_manage=me.can("teams.members"))


def _team_change(team_id: int, act: Callable[[Session, Team], str]) -> Any:
    """Run a change on a visible team of this hub and go back to its page."""
    def change(s: Session) -> str:
        return act(s, _visible_team(s, team_id))
    return run_change(change, url_for("admin.team_page", team_id=team_id))


@bp.post(f"/teams/<{ID}:team_id>")
@requires("teams.edit")
def team_update(team_id: int) -> Any:
    form = TeamEditForm()
    _offer_services(form.services, _service_choices())
    if rejected(form):
        return redirect(url_for("admin.team_page", team_id=team_id))

    def act(s: Session, team: Team) -> str:
        before = {"name": team.name, "services": list(team.services or []), "emergency": team.emergency}
        teamchat.update_team(team, name=form.name.data or "", services=form.services.data or [],
                             emergency=bool(form.emergency.data))
        audit(s, "team_update", f"team:{team.id}", before=before, name=team.name, services=team.services,
              emergency=team.emergency)
        return f"{team.name}已保存。"
    return _team_change(team_id, act)


@bp.post(f"/teams/<{ID}:team_id>/leader")
@requires("teams.edit")
def team_leader(team_id: int) -> Any:
    form = LeaderForm()
    if rejected(form):
        return redirect(url_for("admin.team_page", team_id=team_id))

    def act(s: Session, team: Team) -> str:
        before = team.leader_volunteer_id
        leader = teamchat.set_leader(s, team, form.volunteer_id.data, now=now())
        audit(s, "team_leader", f"team:{team.id}", before=before, volunteer_id=leader.id if leader else None)
        return f"{leader.name}现在是{team.name}的队长。" if leader else f"{team.name}暂时没有队长了。"
    return _team_change(team_id, act)


@bp.post(f"/teams/<{ID}:team_id>/members")
@requires("teams.members")
def team_member_add(team_id: int) -> Any:
    form = MemberForm()
    if rejected(form):
        return redirect(url_for("admin.team_page", team_id=team_id))

    def act(s: Session, team: Team) -> str:
        vol = teamchat.add_member(s, team, form.volunteer_id.data or 0, now=now())
        audit(s, "team_join", f"team:{team.id}", volunteer_id=vol.id)
        return f"{vol.name}已加入{team.name}。"
    return _team_change(team_id, act)


@bp.post(f"/teams/<{ID}:team_id>/members/<{ID}:volunteer_id>/remove")
@requires("teams.members")
def team_member_remove(team_id: int, volunteer_id: int) -> Any:
    if rejected(ActionForm()):
        return redirect(url_for("admin.team_page", team_id=team_id))

    def act(s: Session, team: Team) -> str:
        vol = teamchat.remove_member(s, team, volunteer_id)
        audit(s, "team_leave", f"team:{team.id}", volunteer_id=vol.id)
        return f"{vol.name}已离开{team.name}。"
    return _team_change(team_id, act)


@bp.post(f"/teams/<{ID}:team_id>/robot")
@requires("teams.edit")
def team_robot(team_id: int) -> Any:
    form = RobotKeyForm()
    if rejected(form):
        return redirect(url_for("admin.team_page", team_id=team_id))
    if not form.clear.data and not (form.robot_key.data or "").strip():
        flash("请粘贴群机器人的key，或勾选“取消群机器人”。", "error")
        return redirect(url_for("admin.team_page", team_id=team_id))

    def act(s: Session, team: Team) -> str:
        before = teamchat.masked_robot_key(team.robot_key)
        teamchat.set_robot_key(team, None if form.clear.data else form.robot_key.data)
        shown = teamchat.masked_robot_key(team.robot_key)
        audit(s, "team_robot", f"team:{team.id}", before=before, after=shown)  # never the key itself
        return f"{team.name}的群机器人：{shown}。"
    return _team_change(team_id, act)


# -- merchants ------------------------------------------------------------------------------------


def _visible_merchant(s: Session, merchant_id: int) -> Merchant:
    """A merchant of this hub the signed-in person may see (a merchant account: only its own), else a 404."""
    merchant = s.execute(select(Merchant).where(Merchant.id == merchant_id,
                                                Merchant.hub_id == hub_id())).scalar_one_or_none()
    if merchant is None or (staff().role == "merchant" and merchant.id != staff().merchant_id):
        abort(404)
    return merchant


@bp.get("/merchants")
@requires("merchants.view")
def merchants_list() -> str:
    me = staff()
    with reading() as s:
        q = select(Merchant).where(Merchant.hub_id == hub_id()).order_by(Merchant.id)
        if me.role == "merchant":
            q = q.where(Merchant.id == me.merchant_id)
        shops = s.execute(q).scalars().all()
        redeemed = dict(s.execute(select(PointsEntry.merchant_id, func.coalesce(func.sum(-PointsEntry.points), 0))
                                  .where(PointsEntry.hub_id == hub_id(), PointsEntry.kind == "redeem")
                                  .group_by(PointsEntry.merchant_id)).all())
        items = [{"id": m.id, "code": m.code, "name": m.name, "address": m.address or "", "phone": m.phone or "",
                  "service_point": m.service_point, "accepts": m.accepts_redemptions, "active": m.active,
                  "services": _service_names(s, m.services), "redeemed": int(redeemed.get(m.id, 0))}
                 for m in shops]
        recent = []
        if me.role == "merchant":
            rows = s.execute(select(PointsEntry, Volunteer.name)
                             .join(Volunteer, Volunteer.id == PointsEntry.volunteer_id)
                             .where(PointsEntry.hub_id == hub_id(), PointsEntry.merchant_id == me.merchant_id)
                             .order_by(PointsEntry.id.desc()).limit(50)).all()
            recent = [{"at": e.at, "name": name, "points": -e.points, "reason": e.reason} for e, name in rows]
    form = MerchantForm()
    _offer_services(form.services, _service_choices())
    return render_template("admin/merchants.html", items=items, recent=recent, form=form)


def _merchant_fields(form: MerchantEditForm) -> dict[str, Any]:
    def typed(text: str | None) -> str | None:
        return (text or "").strip() or None
    return {"name": (form.name.data or "").strip(), "address": typed(form.address.data),
            "phone": typed(form.phone.data), "service_point": bool(form.service_point.data),
            "services": form.services.data or [], "accepts_redemptions": bool(form.accepts_redemptions.data),
            "staff_openid": typed(form.staff_openid.data), "shows_qr": bool(form.shows_qr.data)}


def _counter_person(s: Session, fields: dict[str, Any]) -> dict[str, Any]:
    """The counter person given by phone: the openid of the one user of this hub with that phone on file (they have
    written to the account); an openid as it is. Staff know a phone, not an openid (out9)."""
    given = fields.get("staff_openid")
    digits = re.sub(r"\D", "", given or "")
    if not given or not re.fullmatch(r"1\d{10}", digits) or digits != given:
        return fields
    found = s.scalars(select(User.openid).where(User.hub_id == hub_id(), phone_lookup(s, User.phone_hash, digits))
                      .limit(2)).all()
    if len(found) != 1:
        raise merchant_book.MerchantError(
            f"没有找到留了手机号{mask_phone(digits)}的公众号用户：请让核销人先给公众号发一条消息，"
            "下单或报名时留下这个手机号，再来这里填。" if not found else
            f"手机号{mask_phone(digits)}对应了不止一个公众号用户，请直接填核销人的openid。")
    return {**fields, "staff_openid": found[0]}


def _merchant_record(m: Merchant) -> dict[str, Any]:
    """What the audit log keeps of a merchant's settings (the counter person only as set or not)."""
    return {"name": m.name, "address": m.address, "phone": m.phone, "service_point": m.service_point,
            "services": list(m.services or []), "accepts_redemptions": m.accepts_redemptions,
            "shows_qr": m.shows_qr, "counter_staff": bool(m.staff_openid)}


@bp.post("/merchants")
@requires("merchants.edit")
def merchant_create() -> Any:
    form = MerchantForm()
    _offer_services(form.services, _service_choices())
    if rejected(form):
        return redirect(url_for("admin.merchants_list"))

    def change(s: Session) -> str:
        m = merchant_book.add_merchant(s, hub_id=hub_id(), code=form.code.data or "", now=now(),
                                       **_counter_person(s, _merchant_fields(form)))
        audit(s, "merchant_create", f"merchant:{m.id}", code=m.code, **_merchant_record(m))
        return f"商户“{m.name}”已添加。"
    return run_change(change, url_for("admin.merchants_list"))


@bp.get(f"/merchants/<{ID}:merchant_id>")
@requires("merchants.view")
def merchant_page(merchant_id: int) -> str:
    with reading() as s:
        m = _visible_merchant(s, merchant_id)
        shown = {"id": m.id, "code": m.code, "name": m.name, "address": m.address or "", "phone": m.phone or "",
                 "service_point": m.service_point, "accepts": m.accepts_redemptions, "active": m.active,
                 "services": _service_names(s, m.services), "counter_staff": bool(m.staff_openid),
                 "scene": f"{merchant_book.SCAN_PREFIX}{m.id}", "shows_qr": m.shows_qr}
        saved = {"name": m.name, "address": m.address or "", "phone": m.phone or "",
                 "service_point": m.service_point, "services": list(m.services or []),
                 "accepts_redemptions": m.accepts_redemptions, "staff_openid": m.staff_openid or "",
                 "shows_qr": m.shows_qr}
    edit = MerchantEditForm(data=saved)
    _offer_services(edit.services, _service_choices())
    return render_template("admin/merchant.html", m=shown, edit=edit, action_form=ActionForm(),
                           can_edit=staff().can("merchants.edit"))


@bp.post(f"/merchants/<{ID}:merchant_id>")
@requires("merchants.edit")
def merchant_update(merchant_id: int) -> Any:
    form = MerchantEditForm()
    _offer_services(form.services, _service_choices())
    back = url_for("admin.merchant_page", merchant_id=merchant_id)
    if rejected(form):
        return redirect(back)

    def change(s: Session) -> str:
        m = _visible_merchant(s, merchant_id)
        before = _merchant_record(m)
        merchant_book.update_merchant(m, **_counter_person(s, _merchant_fields(form)))
        audit(s, "merchant_update", f"merchant:{m.id}", before=before, **_merchant_record(m))
        return f"{m.name}已保存。"
    return run_change(change, back)


@bp.post(f"/merchants/<{ID}:merchant_id>/<any(enable, disable):what>")
@requires("merchants.edit")
def merchant_toggle(merchant_id: int, what: str) -> Any:
    back = url_for("admin.merchant_page", merchant_id=merchant_id)
    if rejected(ActionForm()):
        return redirect(back)

    def change(s: Session) -> str:
        m = _visible_merchant(s, merchant_id)
        merchant_book.set_merchant_active(m, what == "enable")
        audit(s, "merchant_enable" if m.active else "merchant_disable", f"merchant:{m.id}", code=m.code)
        return f"{m.name}已恢复合作。" if m.active else f"{m.name}已停用：不再接受积分兑换。"
    return run_change(change, back)
