"""`leifeng orders ...`: staff watch and override the service loop from the terminal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from sqlalchemy import select

from bot.config import load_config
from bot.errors import LeifengError
from bot.serviceloop import orders
from bot.serviceloop.lifecycle import OrderState
from bot.services import Services, build_services
from storage.db import transaction
from storage.models import Order, OrderEvent, Volunteer


def _services() -> Services:
    return build_services(load_config())


def _hub_id(svc: Services, slug: str) -> int:
    return svc.hubs.by_slug(slug).hub_id


def _service(svc: Services, code: str) -> orders.ServiceInfo:
    return orders.ServiceInfo(code, svc.nlu.service_name(code))


def _named(order: Order) -> str:
    """The order as the CLI names it: its id (what the commands take) and the 单号 people see."""
    return f"订单{order.id}（单号{order.ref}）"


def _staff_action(slug: str, order_id: int, run: Callable[[Any, Services, int, orders.ServiceInfo], str]) -> None:
    svc = _services()
    hub_id = _hub_id(svc, slug)
    try:
        with transaction(svc.sessions) as s:
            order = orders._get_order(s, hub_id, order_id)
            click.echo(run(s, svc, hub_id, _service(svc, order.service_code)))
    except LeifengError as exc:  # refusals (unknown order, illegal move) are one plain line
        raise click.ClickException(str(exc)) from exc


hub_option = click.option("--hub", "slug", default="default", show_default=True, help="Hub slug.")
# An id typed on the command line must fit the id columns (signed 64-bit, positive): anything else is one
# plain line from click, not a database error.
ID = click.IntRange(1, 2**63 - 1)


@click.group("orders")
def orders_cli() -> None:
    """Orders: list, inspect, dispatch by hand, support, cancel, review."""


@orders_cli.command("list")
@hub_option
@click.option("--state", type=click.Choice([s.value for s in OrderState]), default=None)
@click.option("--service", default=None, help="Service code, e.g. haircut.")
@click.option("--flagged", is_flag=True, help="Only orders with a low rating waiting for review.")
def list_orders(slug: str, state: str | None, service: str | None, flagged: bool) -> None:
    """List orders, newest first."""
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
            click.echo(f"{o.id}\t单号{o.ref}\t{o.state}\t{svc.nlu.service_name(o.service_code)}\t{orders.when_text(o)}\t"
                       f"{(vol.name if vol else '-')}\t{'待核查' if o.flagged else ''}")
    if not rows:
        click.echo("no orders")


@orders_cli.command("show")
@hub_option
@click.argument("order_id", type=ID)
def show(slug: str, order_id: int) -> None:
    """One order with its whole history."""
    svc = _services()
    hub_id = _hub_id(svc, slug)
    with svc.sessions() as s:
        try:
            o = orders._get_order(s, hub_id, order_id)
        except orders.OrderError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{_named(o)} {svc.nlu.service_name(o.service_code)} [{o.state}] {orders.when_text(o)}")
        click.echo(f"地址：{o.address}  电话：{o.phone}  内容：{o.details}")
        if o.rating is not None:
            click.echo(f"评价：{o.rating}颗心 {o.comment or ''}")
        for e in s.execute(select(OrderEvent).where(OrderEvent.order_id == o.id).order_by(OrderEvent.id)).scalars():
            click.echo(f"  {e.at:%Y-%m-%d %H:%M} {e.trigger}: {e.from_state or '-'} -> {e.to_state} by {e.actor}"
                       f"{' (' + e.reason + ')' if e.reason else ''}")


@orders_cli.command("assign")
@hub_option
@click.argument("order_id", type=ID)
@click.option("--volunteer", "volunteer_id", type=ID, required=True, help="Volunteer id.")
@click.option("--actor", default="staff", show_default=True)
def assign_cmd(slug: str, order_id: int, volunteer_id: int, actor: str) -> None:
    """Dispatch or reassign an order to a volunteer by hand."""
    def run(s: Any, svc: Services, hub_id: int, info: orders.ServiceInfo) -> str:
        o = orders.assign(s, hub_id=hub_id, order_id=order_id, volunteer_id=volunteer_id, actor=actor,
                          now=svc.clock.now(), service=info)
        return f"{_named(o)}已派给志愿者{volunteer_id}"
    _staff_action(slug, order_id, run)


@orders_cli.command("support")
@hub_option
@click.argument("order_id", type=ID)
@click.option("--note", required=True, help="What the community provides (venue, materials, a staff member).")
@click.option("--actor", default="staff", show_default=True)
def support_cmd(slug: str, order_id: int, note: str, actor: str) -> None:
    """Confirm community support (配套) for an accepted order."""
    def run(s: Any, svc: Services, hub_id: int, info: orders.ServiceInfo) -> str:
        o = orders.confirm_support(s, hub_id=hub_id, order_id=order_id, note=note, actor=actor,
                                   now=svc.clock.now(), service=info)
        return f"{_named(o)}配套已确认：{note}"
    _staff_action(slug, order_id, run)


@orders_cli.command("cancel")
@hub_option
@click.argument("order_id", type=ID)
@click.option("--reason", required=True)
@click.option("--actor", default="staff", show_default=True)
def cancel_cmd(slug: str, order_id: int, reason: str, actor: str) -> None:
    """Cancel an order with a reason (the resident and volunteer are told)."""
    def run(s: Any, svc: Services, hub_id: int, info: orders.ServiceInfo) -> str:
        o = orders.cancel(s, hub_id=hub_id, order_id=order_id, actor=actor, reason=reason, now=svc.clock.now())
        return f"{_named(o)}已取消"
    _staff_action(slug, order_id, run)


@orders_cli.command("confirm")
@hub_option
@click.argument("order_id", type=ID)
@click.option("--actor", default="staff", show_default=True)
def confirm_cmd(slug: str, order_id: int, actor: str) -> None:
    """Confirm a reported completion on the resident's behalf (hours verified, no rating)."""
    def run(s: Any, svc: Services, hub_id: int, info: orders.ServiceInfo) -> str:
        o = orders.staff_confirm(s, hub_id=hub_id, order_id=order_id, actor=actor, now=svc.clock.now(),
                                 service=info)
        return f"{_named(o)}已确认完成"
    _staff_action(slug, order_id, run)


@orders_cli.command("review")
@hub_option
@click.argument("order_id", type=ID)
@click.option("--note", required=True, help="What the follow-up found.")
@click.option("--actor", default="staff", show_default=True)
def review_cmd(slug: str, order_id: int, note: str, actor: str) -> None:
    """Close a low-rated order after the follow-up visit."""
    def run(s: Any, svc: Services, hub_id: int, info: orders.ServiceInfo) -> str:
        o = orders.review(s, hub_id=hub_id, order_id=order_id, actor=actor, note=note, now=svc.clock.now())
        return f"{_named(o)}已核查并结束"
    _staff_action(slug, order_id, run)


@orders_cli.command("sweep")
def sweep_cmd() -> None:
    """Run the dispatch/expiry/rating sweep once (the worker does this every minute)."""
    from bot.worker.jobs import sweep_orders

    st = sweep_orders(_services())
    click.echo(f"widened {st.widened}, escalated {st.escalated}, expired {st.expired}, reminded {st.reminded}, "
               f"closed {st.closed}")



