"""代客下单: staff take an order for a resident who phoned the office or walked in (bot.serviceloop.orders).

Who the order belongs to. A resident of the hub already known by the phone given (users.phone) owns the order,
as if they had ordered in the chat: they get every notice through the outbox and rate in WeChat. Anyone else has
no WeChat account the hub knows, and the model needs a user behind every order (orders.ordered_by_user_id). Rather
than inventing a user per resident (each would need a fake openid, and a resident who later follows the account
would be two people), the order is ordered by the hub's office: one users row per hub (records.office_user, openid
"office:<hub>", which no real openid can be, never subscribed, no roles), with the resident's name and phone on the
order as for 代点单. Ordering by the staff member's own linked user was rejected: staff need not have linked WeChat,
and the resident's notices would reach the staff member's phone as if they were the resident's. The office row is
never messaged (records.reachable: tell_resident and ask_rating skip it); staff tell the resident by phone and
record the hearts they give on the order's page (pages_orders.order_phone_rating). The history names the staff
member with "工作人员代下单".
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin.context import audit, bp, changing, hub_id, nlu, now, plain_error, reading, requires, staff
from bot.admin.forms import IntakeForm
from bot.clock import SHANGHAI
from bot.dialogue.nlu import Understanding
from bot.errors import LeifengError
from bot.serviceloop import orders
from intents.phone import parse_phone_answer
from intents.timeparse import TimeResult, is_past, parse_time, spoken
from storage.models import Order, User
from storage.sealed import phone_lookup

SUGGESTIONS = 3  # the matcher's top services shown for what the resident said


def _suggestions(understanding: Understanding, description: str) -> list[tuple[str, str]]:
    """The services the matcher finds in the resident's words, best first (the chat's matcher, this hub's)."""
    if not description.strip():
        return []
    found = understanding.match(description)
    codes = [code for code, _score in found.candidates]
    if found.service and found.service not in codes:
        codes.insert(0, found.service)
    shown = [code for code in dict.fromkeys(codes) if code in understanding.catalogue][:SUGGESTIONS]
    return [(code, understanding.service_name(code)) for code in shown]


def _time(text: str) -> TimeResult:
    return parse_time(text, now().astimezone(SHANGHAI))


def _time_refusal(result: TimeResult) -> str | None:
    if not result.is_clear:
        return "没看懂时间，请写成“明天下午三点”“周六上午”或“尽快”。"
    if is_past(result, now()):
        return "这个时间已经过了，请换一个以后的时间。"
    return None


def _page(form: IntakeForm, status: int = 200) -> tuple[str, int]:
    description = form.description.data or ""
    when = (form.when.data or "").strip()
    with reading() as s:
        understanding = nlu(s)
        suggested = _suggestions(understanding, description)
        catalogue = [(sv.code, sv.name) for sv in understanding.catalogue]
    parsed = None
    if when:
        result = _time(when)
        refusal = _time_refusal(result)
        parsed = {"ok": refusal is None, "words": refusal or spoken(result, now())}
    chosen = form.service.data or (suggested[0][0] if suggested else "")
    return render_template("admin/intake.html", form=form, suggested=suggested, catalogue=catalogue,
                           chosen=chosen, parsed=parsed), status


@bp.get("/orders/new")
@requires("orders.act")
def intake_form() -> tuple[str, int]:
    """The form; with what was typed so far (the 看看 button) it shows the suggested services and the time read."""
    return _page(IntakeForm(formdata=request.args if request.args else None))


def _refusals(form: IntakeForm, understanding: Understanding) -> list[str]:
    problems = []
    if parse_phone_answer(form.phone.data or "") is None:
        problems.append("电话号码不对，请核对一下（手机号11位，座机8位或带区号）。")
    if (form.service.data or "") not in understanding.catalogue:
        problems.append("请从列表里选一项服务。")
    refusal = _time_refusal(_time(form.when.data or ""))
    if refusal:
        problems.append(refusal)
    return problems


def _details(form: IntakeForm) -> str | None:
    said = (form.description.data or "").strip()
    notes = (form.notes.data or "").strip()
    return "；".join(part for part in (said, f"备注：{notes}" if notes else "") if part) or None


@bp.post("/orders/new")
@requires("orders.act")
def intake_submit() -> Any:
    form = IntakeForm()
    if not form.validate_on_submit():
        for name, errors in form.errors.items():
            label = getattr(getattr(form, name, None), "label", None)
            for error in errors:
                flash(f"{label.text if label else name}：{error}", "error")
        return _page(form, 400)
    problems: list[str] = []
    order_id, ref, known = 0, 0, False
    try:
        with changing() as s:
            understanding = nlu(s)
            problems = _refusals(form, understanding)
            if not problems:
                order = _take(s, form, understanding)
                audit(s, "order_intake", f"order:{order.id}", service=order.service_code,
                      known_resident=order.resident_user_id is not None)
                order_id, ref, known = order.id, order.ref, order.resident_user_id is not None
    except LeifengError as exc:
        problems = [plain_error(exc)]
    if problems:
        for problem in problems:
            flash(problem, "error")
        return _page(form, 400)
    told = "已在微信通知居民。" if known else "居民没有微信，进展请电话告诉居民。"
    flash(f"订单{ref}已代居民下单，正在派给志愿者。{told}", "ok")
    return redirect(url_for("admin.order_page", order_id=order_id))


def _take(s: Session, form: IntakeForm, understanding: Understanding) -> Order:
    phone = parse_phone_answer(form.phone.data or "")
    name = (form.name.data or "").strip()
    result = _time(form.when.data or "")
    code = form.service.data or ""
    service = orders.ServiceInfo(code, understanding.service_name(code))
    data: dict[str, Any] = {"details": _details(form), "address": (form.address.data or "").strip(),
                            "phone": phone, "time_kind": result.kind,
                            "start": result.start.isoformat() if result.start else None,
                            "end": result.end.isoformat() if result.end else None}
    resident = s.execute(select(User).where(User.hub_id == hub_id(), phone_lookup(s, User.phone_hash, phone))
                         .order_by(User.id)
                         ).scalars().first()
    at = now()
    if resident is not None and orders.reachable(resident):
        order = orders.submit_order(s, hub_id=hub_id(), user=resident, data=data, service=service, now=at,
                                    taken_by=staff().actor)
        order.resident_name = order.resident_name or name
        orders.notify(s, hub_id(), resident.openid,
                      f"社区工作人员已为您预约了{service.name}（订单{order.ref}），时间：{orders.when_text(order)}。"
                      "有问题回复“人工”。", at, key=f"taken:{order.id}")
        return order
    office = orders.office_user(s, hub_id(), at)
    return orders.submit_order(s, hub_id=hub_id(), user=office, data={**data, "for": {"name": name, "phone": phone}},
                               service=service, now=at, taken_by=staff().actor)

