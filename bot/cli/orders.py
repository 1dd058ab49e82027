"""`leifeng orders ...`: staff watch and override the service loop from the terminal.

Every command names an order by its 单号 (the ref residents, volunteers and the console show, e.g. 159422), as
`orders list` prints it. The table id is not taken: ids count up from 1 while refs are random, so a number could be
one order's id and another's 单号; the 单号 alone is never ambiguous. Words are the console's (bot/admin/words.py,
the lifecycle's STAFF_WORDS for states) and times are Beijing time, as on the console and in the ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin.words import actor_names, trigger_in_words
from bot.clock import as_utc
from bot.config import load_config
from bot.errors import LeifengError
from bot.serviceloop import orders
from bot.serviceloop.lifecycle import STAFF_WORDS, OrderState
from bot.services import Services, build_services
from intents.timeparse import SHANGHAI
from storage.db import transaction
from storage.models import AuditLog, Order, OrderEvent, Volunteer
from storage.orderrefs import is_ref


def _services() -> Services:
    return build_services(load_config())


def _hub_id(svc: Services, slug: str) -> int:
    return svc.hubs.by_slug(slug).hub_id


def _service(svc: Services, code: str) -> orders.ServiceInfo:
    return orders.ServiceInfo(code, svc.nlu.service_name(code))


def state_words(state: str | None) -> str:
    """An order state as the console says it ("正在联系志愿者", not "dispatched")."""
    if not state:
        return "—"
    try:
        return STAFF_WORDS[OrderState(state)]
    except ValueError:
        return "其他"


def local(at: datetime | None) -> str:
    """A stored time (UTC) as Beijing time, as the console and the ledger show it."""
    return as_utc(at).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else ""


def plain(exc: LeifengError) -> str:
    """A domain refusal in plain Chinese (an illegal move says so in words; its message is for logs)."""
    return str(getattr(exc, "plain", None) or exc)


def order_by_ref(s: Session, hub_id: int, ref: int) -> Order:
    """The hub's order with this 单号, or one plain line saying there is none."""
    order = orders.find_by_ref(s, hub_id, ref) if is_ref(ref) else None
    if order is None:
        raise click.ClickException(f"没有找到单号{ref}的订单，请核对单号（leifeng orders list 列出的“单号”）。")
    return order


def _named(order: Order) -> str:
    return f"订单{order.ref}"


def _staff_action(slug: str, ref: int, run: Callable[[Any, Services, int, Order, orders.ServiceInfo], str], *,
                  action: str, actor: str, **detail: Any) -> None:
    """A staff move on one order from the command line, in the audit log as the console's (out11: none were)."""
    svc = _services()
    hub_id = _hub_id(svc, slug)
    try:
        with transaction(svc.sessions) as s:
            order = order_by_ref(s, hub_id, ref)
            said = run(s, svc, hub_id, order, _service(svc, order.service_code))
            s.add(AuditLog(hub_id=hub_id, actor=actor, action=action, subject=f"order:{order.id}",
                           detail={**detail, "ref": order.ref, "via": "cli"}, at=svc.clock.now()))
            click.echo(said)
    except LeifengError as exc:  # refusals (unknown order, illegal move) are one plain line
        raise click.ClickException(plain(exc)) from exc


hub_option = click.option("--hub", "slug", default="default", show_default=True, help="Hub slug.")
# An id typed on the command line must fit the id columns (signed 64-bit, positive): anything else is one
# plain line from click, not a database error.
ID = click.IntRange(1, 2**63 - 1)
REF = ID  # a 单号: checked against the hub's orders (order_by_ref)


@click.group("orders")
def orders_cli() -> None:
    """Orders: list, inspect, dispatch by hand, support, cancel, review."""


@orders_cli.command("list")
@hub_option
@click.option("--state", type=click.Choice([s.value for s in OrderState]), default=None,
              help="Only orders in this state (submitted, dispatched, accepted, ...).")
@click.option("--service", default=None, help="Service code, e.g. haircut.")
@click.option("--flagged", is_flag=True, help="Only orders with a low rating waiting for review.")
def list_orders(slug: str, state: str | None, service: str | None, flagged: bool) -> None:
    """List orders, newest first: 单号, state, service, time, volunteer."""
    svc = _services()
    hub_id = _hub_id(svc, slug)
    with svc.sessions() as s:
        q = select(Order).where(Order.hub_id == hub_id).order_by(Order.id.desc()).limit(200)
        if state:
            q = q.where(Order.state == state)
        if service:
            q = q.where(Order.service_code == service)
        if flagged:
            q = q.where(Order.flagged.is_(True))
        rows = s.execute(q).scalars().all()
        for o in rows:
            vol = s.get(Volunteer, o.volunteer_id) if o.volunteer_id else None
            click.echo(f"单号{o.ref}\t{state_words(o.state)}\t{svc.nlu.service_name(o.service_code)}\t"
                       f"{orders.when_text(o)}\t{(vol.name if vol else '未派')}\t{'待核查' if o.flagged else ''}")
    if not rows:
        click.echo("没有订单")


@orders_cli.command("show")
@hub_option
@click.argument("ref", type=REF)
def show(slug: str, ref: int) -> None:
    """One order (by its 单号) with its whole history."""
    svc = _services()
    hub_id = _hub_id(svc, slug)
    with svc.sessions() as s:
        o = order_by_ref(s, hub_id, ref)
        click.echo(f"{_named(o)} {svc.nlu.service_name(o.service_code)}【{state_words(o.state)}】{orders.when_text(o)}")
        click.echo(f"地址：{o.address or '待确认'}  电话：{o.phone or '未留'}  内容：{o.details or ''}")
        if o.rating is not None:
            click.echo(f"评价：{o.rating}颗心 {o.comment or ''}")
        events = s.execute(select(OrderEvent).where(OrderEvent.order_id == o.id)
                           .order_by(OrderEvent.id)).scalars().all()
        names = actor_names(s, hub_id, {e.actor for e in events if e.actor})
        for e in events:
            moved = f"{state_words(e.from_state)} → {state_words(e.to_state)}" if e.from_state != e.to_state else \
                state_words(e.to_state)
            who = names.get(e.actor, "未知") if e.actor else "系统"
            click.echo(f"  {local(e.at)} {trigger_in_words(e.trigger)}：{moved}，{who}"
                       f"{'（' + e.reason + '）' if e.reason else ''}")


@orders_cli.command("assign")
@hub_option
@click.argument("ref", type=REF)
@click.option("--volunteer", "volunteer_id", type=ID, required=True, help="Volunteer id (leifeng volunteers list).")
@click.option("--actor", default="staff", show_default=True)
def assign_cmd(slug: str, ref: int, volunteer_id: int, actor: str) -> None:
    """Dispatch or reassign an order (by its 单号) to a volunteer by hand."""
    def run(s: Any, svc: Services, hub_id: int, order: Order, info: orders.ServiceInfo) -> str:
        o = orders.assign(s, hub_id=hub_id, order_id=order.id, volunteer_id=volunteer_id, actor=actor,
                          now=svc.clock.now(), service=info)
        vol = s.get(Volunteer, volunteer_id)
        return f"{_named(o)}已派给志愿者{vol.name if vol else volunteer_id}"
    _staff_action(slug, ref, run, action="order_assign", actor=actor, volunteer_id=volunteer_id)


@orders_cli.command("support")
@hub_option
@click.argument("ref", type=REF)
@click.option("--note", required=True, help="What the community provides (venue, materials, a staff member).")
@click.option("--actor", default="staff", show_default=True)
def support_cmd(slug: str, ref: int, note: str, actor: str) -> None:
    """Confirm community support (配套) for an accepted order (by its 单号)."""
    def run(s: Any, svc: Services, hub_id: int, order: Order, info: orders.ServiceInfo) -> str:
        o = orders.confirm_support(s, hub_id=hub_id, order_id=order.id, note=note, actor=actor,
                                   now=svc.clock.now(), service=info)
        return f"{_named(o)}配套已确认：{note}"
    _staff_action(slug, ref, run, action="order_support", actor=actor, note=note)


@orders_cli.command("cancel")
@hub_option
@click.argument("ref", type=REF)
@click.option("--reason", required=True)
@click.option("--actor", default="staff", show_default=True)
def cancel_cmd(slug: str, ref: int, reason: str, actor: str) -> None:
    """Cancel an order (by its 单号) with a reason (the resident and volunteer are told)."""
    def run(s: Any, svc: Services, hub_id: int, order: Order, info: orders.ServiceInfo) -> str:
        o = orders.cancel(s, hub_id=hub_id, order_id=order.id, actor=actor, reason=reason, now=svc.clock.now())
        return f"{_named(o)}已取消"
    _staff_action(slug, ref, run, action="order_cancel", actor=actor, reason=reason)


@orders_cli.command("confirm")
@hub_option
@click.argument("ref", type=REF)
@click.option("--actor", default="staff", show_default=True)
def confirm_cmd(slug: str, ref: int, actor: str) -> None:
    """Confirm a reported completion (by the order's 单号) on the resident's behalf (hours verified, no rating)."""
    def run(s: Any, svc: Services, hub_id: int, order: Order, info: orders.ServiceInfo) -> str:
        o = orders.staff_confirm(s, hub_id=hub_id, order_id=order.id, actor=actor, now=svc.clock.now(),
                                 service=info)
        return f"{_named(o)}已确认完成"
    _staff_action(slug, ref, run, action="order_confirm", actor=actor)


@orders_cli.command("review")
@hub_option
@click.argument("ref", type=REF)
@click.option("--note", required=True, help="What the follow-up found.")
@click.option("--actor", default="staff", show_default=True)
def review_cmd(slug: str, ref: int, note: str, actor: str) -> None:
    """Close a low-rated order (by its 单号) after the follow-up visit."""
    def run(s: Any, svc: Services, hub_id: int, order: Order, info: orders.ServiceInfo) -> str:
        o = orders.review(s, hub_id=hub_id, order_id=order.id, actor=actor, note=note, now=svc.clock.now())
        return f"{_named(o)}已核查并结束"
    _staff_action(slug, ref, run, action="order_review", actor=actor, note=note)


@orders_cli.command("sweep")
def sweep_cmd() -> None:
    """Run the dispatch/expiry/rating sweep once (the worker does this every minute)."""
    from bot.worker.jobs import sweep_orders

    st = sweep_orders(_services())
    click.echo(f"扩大派单{st.widened}单，转工作人员{st.escalated}单，过期{st.expired}单，提醒评价{st.reminded}单，"
               f"结束{st.closed}单")
