"""Orders board and an order's page: dispatch/reassign, 配套, cancel, confirm, review (bot.serviceloop.orders)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session

from bot.admin import catalogue as catalogue_store
from bot.admin import paging, words
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
from bot.admin.forms import (
    CODE,
    ActionForm,
    AssignForm,
    HoursForm,
    NoteForm,
    PhoneRatingForm,
    ReasonForm,
    ServiceChoiceForm,
)
from bot.admin.scope import orders_filter, team_condition, team_volunteer_ids
from bot.clock import SHANGHAI
from bot.people.volunteers import ACTIVE_STATUSES
from bot.serviceloop import ledger, orders
from bot.serviceloop.dispatch import available
from bot.serviceloop.lifecycle import STAFF_WORDS
from intents.masking import coarse_address, mask_phone, scrub
from intents.phone import parse_phone
from storage.models import Handover, Membership, Order, OrderEvent, OrderOffer, Team, TeamMember, User, Volunteer
from storage.orderrefs import is_ref
from storage.sealed import phone_lookup

PAGE_SIZE = 50
PHONE_RATING = "staff_phone"  # a rating staff recorded from what the resident said by phone
STATE_WORDS = {st.value: word for st, word in STAFF_WORDS.items()}


# a day filter outside the years the ledger covers is no filter (and 9999-12-31 has no next day)
FIRST_DAY, LAST_DAY = date(ledger.FIRST_YEAR, 1, 1), date(ledger.LAST_YEAR, 12, 31)


def _day(text: str | None) -> date | None:
    try:
        day = date.fromisoformat(text) if text and text.isascii() else None
    except ValueError:
        return None
    return day if day and FIRST_DAY <= day <= LAST_DAY else None


def _handed_over(s: Session, order_list: list[Order]) -> set[int]:
    """The orders whose resident (or whoever ordered) is talking to staff right now."""
    users = {u for o in order_list for u in (o.ordered_by_user_id, o.resident_user_id) if u}
    if not users:
        return set()
    talking = set(s.scalars(select(Handover.user_id).where(Handover.user_id.in_(users),
                                                           Handover.closed_at.is_(None))))
    return {o.id for o in order_list if {o.ordered_by_user_id, o.resident_user_id} & talking}


def _scoped_order(s: Session, order_id: int) -> Order:
    order = s.execute(select(Order).where(Order.id == order_id, *orders_filter(s, staff(), hub_id()))
                      ).scalar_one_or_none()
    if order is None:
        abort(404)
    return order


@bp.get("/orders")
@requires("orders.view")
def orders_board() -> str:
    args = request.args
    state, service, team = args.get("state") or "", args.get("service") or "", args.get("team") or ""
    start, end = _day(args.get("from")), _day(args.get("to"))
    flagged = args.get("flagged") == "1"
    query = (args.get("q") or "").strip()[:50]
    with reading() as s:
        understanding = nlu(s)
        conds = orders_filter(s, staff(), hub_id())
        if state in STATE_WORDS:
            conds.append(Order.state == state)
        if service:  # a code that no service can have matches nothing (and a NUL never reaches PostgreSQL)
            conds.append(Order.service_code == service if re.fullmatch(CODE, service) else false())
        team_id = whole_number(team)
        if team_id is not None:
            conds.append(team_condition(s, hub_id(), team_id))
        if start:
            conds.append(Order.created_at >= datetime.combine(start, time(), SHANGHAI))
        if end:
            conds.append(Order.created_at < datetime.combine(end + timedelta(days=1), time(), SHANGHAI))
        if flagged:
            conds.append(Order.flagged == true())  # along ix_orders_hub_flagged
        if query:  # a 单号 finds that order, a phone number that phone exactly; anything else is part of a name
            phone = parse_phone(query)
            found = (phone_lookup(s, Order.phone_hash, phone) if phone
                     else Order.resident_name.contains(query, autoescape=True))
            ref = int(query) if query.isascii() and query.isdigit() and len(query) <= 10 else 0
            conds.append(or_(Order.ref == ref, found) if is_ref(ref) else found)
        # newest first, by key along ix_orders_hub_id (no OFFSET: the last page costs what the first does)
        total = paging.capped_count(s, select(Order.id).where(*conds))
        page = paging.keyset(s, select(Order, Volunteer.name).outerjoin(Volunteer, Volunteer.id == Order.volunteer_id)
                             .where(*conds), Order.id, lambda row: int(row[0].id), size=PAGE_SIZE, descending=True,
                             after=args.get("after"), before=args.get("before"))
        rows = page.rows
        handed = _handed_over(s, [o for o, _name in rows])
        teams = s.execute(select(Team).where(Team.hub_id == hub_id()).order_by(Team.id)).scalars().all()
        if staff().role == "leader":
            teams = [t for t in teams if t.id == staff().team_id]
        items = [{"id": o.id, "ref": o.ref, "state": o.state, "state_word": STATE_WORDS.get(o.state, o.state),
                  "service": understanding.service_name(o.service_code), "when": orders.when_text(o),
                  "created_at": o.created_at, "volunteer": name or "", "flagged": o.flagged, "rating": o.rating,
                  "needs_support": o.needs_support, "urgent": o.time_kind == "asap", "handed_over": o.id in handed}
                 for o, name in rows]
        services_list = [(sv.code, sv.name) for sv in understanding.catalogue]
        team_list = [(t.id, t.name) for t in teams]
    return render_template("admin/orders.html", items=items, total=total, cap=paging.COUNT_CAP,
                           pager=paging.links(page, "admin.orders_board", args), states=STATE_WORDS,
                           services=services_list, teams=team_list,
                           can_intake=staff().can("orders.act"),
                           f={"state": state, "service": service, "team": team, "from": args.get("from", ""),
                              "to": args.get("to", ""), "flagged": flagged, "q": query})


@bp.get(f"/orders/<{ID}:order_id>")
@requires("orders.view")
def order_page(order_id: int) -> str:
    me = staff()
    with reading() as s:
        understanding = nlu(s)
        o = _scoped_order(s, order_id)
        events = s.execute(select(OrderEvent).where(OrderEvent.order_id == o.id).order_by(OrderEvent.id)
                           ).scalars().all()
        offers = s.execute(select(OrderOffer, Volunteer.name).join(Volunteer, Volunteer.id == OrderOffer.volunteer_id)
                           .where(OrderOffer.order_id == o.id).order_by(OrderOffer.round, OrderOffer.id)).all()
        volunteer = s.get(Volunteer, o.volunteer_id) if o.volunteer_id else None
        orderer = s.get(User, o.ordered_by_user_id)
        without_wechat = orderer is not None and not orders.reachable(orderer)
        search = (request.args.get("who") or "").strip()[:50]
        choices = _assignable(s, o, search)
        full = me.role in ("admin", "staff")  # a leader sees what a volunteer sees before accepting
        info = {"id": o.id, "ref": o.ref, "state": o.state, "state_word": STATE_WORDS.get(o.state, o.state),
                "service": understanding.service_name(o.service_code), "service_code": o.service_code,
                "when": orders.when_text(o),
                "details": o.details if full else scrub(o.details, o.address, o.phone),
                "resident": o.resident_name or "",
                "phone": o.phone if full else mask_phone(o.phone),
                "address": o.address if full else coarse_address(o.address),
                "volunteer": volunteer.name if volunteer else "", "volunteer_id": o.volunteer_id,
                "needs_support": o.needs_support, "support_note": o.support_note, "hours": o.hours,
                "rating": o.rating, "comment": o.comment, "flagged": o.flagged, "created_at": o.created_at,
                "dispatch_round": o.dispatch_round, "urgent": o.time_kind == "asap",
                "handed_over": bool(_handed_over(s, [o]))}
        who = words.actor_names(s, hub_id(), [e.actor for e in events])
        history = [{"at": e.at, "trigger": words.trigger_in_words(e.trigger),
                    "from": STATE_WORDS.get(e.from_state, "—"), "to": STATE_WORDS.get(e.to_state, "—"),
                    "actor": who[e.actor], "reason": words.reason_in_words(e.reason, understanding.service_name)}
                   for e in events]
        learned = [{"id": e.id, "text": e.text, "service": understanding.service_name(e.service_code)}
                   for e in catalogue_store.learned_from_order(s, hub_id(), o.id)]
        service_choices = [(svc.code, svc.name) for svc in understanding.catalogue]
        offer_rows = [{"round": of.round, "volunteer": name, "volunteer_id": of.volunteer_id,
                       "outcome": words.OFFER_OUTCOMES.get(of.outcome or "", ""), "at": of.at} for of, name in offers]
    st = o.state
    can_act = me.can("orders.act")
    actions = {
        "assign": me.can("orders.assign") and st in ("submitted", "dispatched", "accepted", "supported"),
        "support": can_act and st == "accepted",
        "cancel": can_act and st in ("submitted", "dispatched", "accepted", "supported"),
        "confirm": can_act and st == "completed",
        "complete": can_act and st in ("accepted", "supported"),
        "service": can_act and st in ("submitted", "dispatched"),
        "review": can_act and info["flagged"],
        "phone_rate": can_act and st == "completed" and without_wechat,
    }
    return render_template("admin/order.html", o=info, history=history, offers=offer_rows, choices=choices,
                           actions=actions, assign_form=AssignForm(), note_form=NoteForm(), reason_form=ReasonForm(),
                           search=search, listed=(SUGGESTED, OTHERS),
                           action_form=ActionForm(), hours_form=HoursForm(), phone_rating_form=PhoneRatingForm(),
                           service_form=ServiceChoiceForm(), service_choices=service_choices, learned=learned)


def fit_warnings(vol: Volunteer, order: Order, covering: bool) -> list[str]:
    """Why a volunteer does not fit the order: no skill for it (and not in a team that covers it), or not free
    at its time (bot.serviceloop.dispatch.available, the rule dispatch uses)."""
    hints = []
    if not covering and order.service_code not in (vol.skills or []):
        hints.append("技能不符")
    if not available(vol, order):
        hints.append("这个时间没空")
    return hints


SUGGESTED = 20  # the order page lists the best this many of the domain's ranked candidates
OTHERS = 20  # and this many other members (the first by id, or those the search finds)


def _assignable(s: Session, order: Order, search: str = "") -> list[dict[str, Any]]:
    """Volunteers the person may dispatch to: the best SUGGESTED of the domain's ranked candidates, then up to
    OTHERS more of the hub's members (those `search` finds by name or id, else the first by id), those who fit
    first, each with what does not fit (nothing is preselected: the person chooses). Bounded whatever the hub's
    size: a few statements and at most SUGGESTED + OTHERS rows."""
    allowed = team_volunteer_ids(s, hub_id(), staff().team_id or 0) if staff().role == "leader" else None
    ranked = [c.volunteer for c in orders.candidates(s, order, now(), limit=SUGGESTED)
              if allowed is None or c.volunteer.id in allowed]
    conds: list[Any] = [Membership.hub_id == hub_id(), Membership.status.in_(ACTIVE_STATUSES)]
    if ranked:
        conds.append(Membership.volunteer_id.not_in([v.id for v in ranked]))
    if allowed is not None:
        conds.append(Membership.volunteer_id.in_(allowed or {0}))
    if search:  # a number is a volunteer's id, anything else part of a name
        number = whole_number(search)
        conds.append(Membership.volunteer_id == number if number is not None
                     else Volunteer.name.contains(search, autoescape=True))
    others = s.execute(select(Volunteer, Membership.team_id).join(Membership, Membership.volunteer_id == Volunteer.id)
                       .where(*conds).order_by(Membership.volunteer_id).limit(OTHERS)).all()
    team_of = {v.id: team_id for v, team_id in others}
    covering_teams = {t.id for t in s.execute(select(Team).where(Team.hub_id == hub_id())).scalars()
                      if order.service_code in (t.services or [])}
    shown = [v.id for v in ranked] + list(team_of)
    in_covering = set(s.scalars(select(TeamMember.volunteer_id).where(
        TeamMember.hub_id == hub_id(), TeamMember.team_id.in_(covering_teams), TeamMember.volunteer_id.in_(shown)))
                      ) if covering_teams and shown else set()
    if ranked:
        team_of.update({vid: team_id for vid, team_id in s.execute(select(Membership.volunteer_id, Membership.team_id)
                        .where(Membership.hub_id == hub_id(), Membership.volunteer_id.in_([v.id for v in ranked])))})

    def hint(vol: Volunteer) -> str:
        return "、".join(fit_warnings(vol, order, team_of.get(vol.id) in covering_teams or vol.id in in_covering))
    rest = sorted(((vol, hint(vol)) for vol, _team in others), key=lambda c: (bool(c[1]), c[0].id))
    return ([{"id": vol.id, "name": vol.name, "suggested": True, "hint": hint(vol)} for vol in ranked]
            + [{"id": vol.id, "name": vol.name, "suggested": False, "hint": h} for vol, h in rest])


@dataclass(frozen=True)
class Done:
    """What an order page action did: the message shown, and what its audit row records beside the order."""
    message: str
    detail: dict[str, Any] = field(default_factory=dict)


FormT = TypeVar("FormT", bound=FlaskForm)
OrderAction = Callable[[Session, Order, orders.ServiceInfo, FormT], Done]


def order_action(verb: str, permission: str, form_type: type[FormT], before: Callable[[FormT], None] | None = None
                 ) -> Callable[[OrderAction[FormT]], Callable[[int], Any]]:
    """The order page's POST route /orders/<id>/<verb>, named after the action: the form is checked (a rejected one
    goes back to the page with its errors), then `before` (a check that may abort), then in one transaction the
    action on the order in the person's scope. The domain refuses by raising (its words are shown and nothing is
    recorded); what the action did is audited under the route's name and its message shown."""
    def register(act: OrderAction[FormT]) -> Callable[[int], Any]:
        endpoint = act.__name__

        @bp.post(f"/orders/<{ID}:order_id>/{verb}", endpoint=endpoint)
        @requires(permission)
        @wraps(act)
        def route(order_id: int) -> Any:
            back = url_for("admin.order_page", order_id=order_id)
            form = form_type()
            if rejected(form):
                return redirect(back)
            if before is not None:
                before(form)

            def change(s: Session) -> str:
                order = _scoped_order(s, order_id)
                info = orders.ServiceInfo(order.service_code, nlu(s).service_name(order.service_code))
                done = act(s, order, info, form)
                audit(s, endpoint, f"order:{order_id}", **done.detail)
                return done.message
            return run_change(change, back)
        return route
    return register


def _leader_assigns_in_team(form: AssignForm) -> None:
    """A team leader dispatches only to their team's volunteers (refused before the order is looked up)."""
    if staff().role == "leader":
        with reading() as s:
            if int(form.volunteer_id.data or 0) not in team_volunteer_ids(s, hub_id(), staff().team_id or 0):
                abort(403)


@order_action("assign", "orders.assign", AssignForm, before=_leader_assigns_in_team)
def order_assign(s: Session, order: Order, info: orders.ServiceInfo, form: AssignForm) -> Done:
    volunteer_id = int(form.volunteer_id.data or 0)
    orders.assign(s, hub_id=hub_id(), order_id=order.id, volunteer_id=volunteer_id, actor=staff().actor, now=now(),
                  service=info)
    vol = s.get(Volunteer, volunteer_id)  # the name staff chose, not the table's id (out10)
    return Done(f"订单{order.ref}已派给志愿者{vol.name if vol is not None else volunteer_id}。",
                {"volunteer_id": volunteer_id})


@order_action("support", "orders.act", NoteForm)
def order_support(s: Session, order: Order, info: orders.ServiceInfo, form: NoteForm) -> Done:
    note = (form.note.data or "").strip()
    orders.confirm_support(s, hub_id=hub_id(), order_id=order.id, note=note, actor=staff().actor, now=now(),
                           service=info)
    return Done(f"订单{order.ref}配套已确认。", {"note": note})


@order_action("cancel", "orders.act", ReasonForm)
def order_cancel(s: Session, order: Order, info: orders.ServiceInfo, form: ReasonForm) -> Done:
    reason = (form.reason.data or "").strip()
    orders.cancel(s, hub_id=hub_id(), order_id=order.id, actor=staff().actor, reason=reason, now=now())
    return Done(f"订单{order.ref}已取消。", {"reason": reason})


@order_action("service", "orders.act", ServiceChoiceForm)
def order_service(s: Session, order: Order, info: orders.ServiceInfo, form: ServiceChoiceForm) -> Done:
    """Correct the service the matcher chose; the resident's words become an example of the right one for this
    hub (used from the next message on; the order page offers the undo)."""
    code = form.service.data or ""
    understanding = nlu(s)
    if code not in understanding.catalogue:
        raise orders.OrderError("没有这项服务，请从列表里选。")
    name = understanding.service_name(code)
    orders.change_service(s, hub_id=hub_id(), order_id=order.id, service=orders.ServiceInfo(code, name),
                          actor=staff().actor, now=now())
    learned = catalogue_store.learn_from_correction(s, hub_id(), order.id, code, catalogue=understanding.catalogue,
                                                    actor=staff().actor, now=now())
    taught = f"居民的话已记为“{name}”的说法（可在本页撤销）。" if learned is not None else ""
    return Done(f"订单{order.ref}已改为{name}，重新派单。{taught}", {"service": code})


@order_action("complete", "orders.act", HoursForm)
def order_complete(s: Session, order: Order, info: orders.ServiceInfo, form: HoursForm) -> Done:
    """Record a finished service for the volunteer (an early finish too: their own 完成 waits for the time)."""
    hours = float(form.hours.data or 0)
    orders.staff_complete(s, hub_id=hub_id(), order_id=order.id, hours=hours, actor=staff().actor, now=now(),
                          service=info)
    return Done(f"订单{order.ref}已登记完成（{hours:g}小时），已请居民评价。", {"hours": hours})


@order_action("confirm", "orders.act", ActionForm)
def order_confirm(s: Session, order: Order, info: orders.ServiceInfo, form: ActionForm) -> Done:
    orders.staff_confirm(s, hub_id=hub_id(), order_id=order.id, actor=staff().actor, now=now(), service=info)
    return Done(f"订单{order.ref}已确认完成，时长已记入台账。")


@order_action("review", "orders.act", NoteForm)
def order_review(s: Session, order: Order, info: orders.ServiceInfo, form: NoteForm) -> Done:
    note = (form.note.data or "").strip()
    orders.review(s, hub_id=hub_id(), order_id=order.id, actor=staff().actor, note=note, now=now())
    return Done(f"订单{order.ref}已核查并结束。", {"note": note})


@order_action("phone-rating", "orders.act", PhoneRatingForm)
def order_phone_rating(s: Session, order: Order, info: orders.ServiceInfo, form: PhoneRatingForm) -> Done:
    """The hearts and words a resident without WeChat gave staff by phone, recorded as the resident's rating
    (orders.rate, marked verified_by "staff_phone"); only for an order the office took for them."""
    hearts = int(form.hearts.data or 0)
    comment = (form.comment.data or "").strip()
    office = s.get(User, order.ordered_by_user_id)
    if office is None or orders.reachable(office):
        raise orders.OrderError(f"订单{order.ref}的居民有微信，请让居民自己在微信里评价。")
    orders.rate(s, hub_id=hub_id(), user=office, order_id=order.id, hearts=hearts, now=now(), service=info,
                verified_by=PHONE_RATING, actor=staff().actor)
    if comment:
        orders.add_comment(s, hub_id=hub_id(), user=office, order_id=order.id, comment=comment, now=now(),
                           actor=staff().actor)
    return Done(f"已登记订单{order.ref}居民的电话评价：{hearts}颗心。", {"hearts": hearts})
