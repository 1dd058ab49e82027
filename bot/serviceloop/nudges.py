"""A resident waiting for the volunteer who took their order: "催一下" / "怎么还没来" nudges that volunteer, and
"师傅电话多少" is answered with who comes and a relay.

Privacy: a resident sees the volunteer's name and a masked phone (as the accept notice shows it, listings._who_comes),
never the whole number; the volunteer holding the order has the resident's phone and calls back. So a resident who
asks for the number is offered the relay ("催一下"), and a nudge tells the volunteer to call. At most one nudge per
order per NUDGE_EVERY (an order event "nudge" records each), so repeated 催 does not flood the volunteer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.clock import as_utc
from bot.serviceloop.dispatch import HELD_STATES
from bot.serviceloop.records import Person, tell_volunteer, when_text
from intents.masking import mask_phone
from storage.models import Order, OrderEvent, Volunteer

NUDGE_EVERY = timedelta(minutes=30)
NUDGE_TRIGGER = "nudge"  # the order event of a nudge sent (no state change)
NOT_HELD = "还没有志愿者接下您的订单，我们正在安排，有人接单会马上告诉您。"
RELAY = "为保护志愿者的隐私，这里不显示完整号码；志愿者有您的电话，会和您联系。要我提醒他给您打电话，请回复“催一下”。"


@dataclass(frozen=True)
class Nudge:
    ref: int
    volunteer: str  # the volunteer's name as residents see it
    when: str
    sent: bool  # False: nudged within NUDGE_EVERY already, nothing sent


def held_orders(s: Session, hub_id: int, user: Person) -> list[tuple[Order, Volunteer]]:
    """The sender's orders (placed by them or for them) a volunteer holds now, with that volunteer, oldest first."""
    rows = s.execute(select(Order, Volunteer).join(Volunteer, Volunteer.id == Order.volunteer_id)
                     .where(Order.hub_id == hub_id, Order.state.in_(HELD_STATES),
                            or_(Order.ordered_by_user_id == user.id, Order.resident_user_id == user.id))
                     .order_by(Order.id).limit(5)).all()
    return [(o, v) for o, v in rows]


def _last_nudge(s: Session, order: Order) -> datetime | None:
    at = s.scalar(select(OrderEvent.at).where(OrderEvent.order_id == order.id, OrderEvent.trigger == NUDGE_TRIGGER)
                  .order_by(OrderEvent.id.desc()).limit(1))
    return as_utc(at) if at is not None else None


def nudge(s: Session, *, hub_id: int, user: Person, now: datetime, names: Mapping[str, str]) -> list[Nudge]:
    """Nudge the volunteer of each of the sender's held orders (once per NUDGE_EVERY each); [] when none is held."""
    done: list[Nudge] = []
    for order, vol in held_orders(s, hub_id, user):
        when = when_text(order)
        last = _last_nudge(s, order)
        if last is not None and now - last < NUDGE_EVERY:
            done.append(Nudge(order.ref, vol.name, when, sent=False))
            continue
        service = names.get(order.service_code, order.service_code)
        phone = f"（电话 {order.phone}）" if order.phone else ""
        tell_volunteer(s, order, vol.id, f"居民在催订单{order.ref}（{service}，{when}）：请尽快联系居民{phone}，"
                                         "告诉他您什么时候到。", now)
        s.add(OrderEvent(hub_id=hub_id, order_id=order.id, trigger=NUDGE_TRIGGER, from_state=order.state,
                         to_state=order.state, actor=user.openid or "resident", reason="居民催单", at=now))
        done.append(Nudge(order.ref, vol.name, when, sent=True))
    s.flush()
    return done


def nudge_words(done: Sequence[Nudge]) -> str:
    """What the resident is told after "催一下"."""
    lines = []
    for n in done:
        if n.sent:
            lines.append(f"已经提醒{n.volunteer}了（订单{n.ref}，约的是{n.when}），他会尽快联系您。")
        else:
            lines.append(f"刚才已经提醒过{n.volunteer}了（订单{n.ref}），请再稍等一下。")
    lines.append("着急的话回复“人工”，社区工作人员帮您联系。")
    return "\n".join(lines)


def contact_words(held: Sequence[tuple[Order, Volunteer]]) -> str:
    """"给我王师傅的电话": who holds the order, the phone masked, and the relay offered."""
    lines = [f"订单{o.ref}是{v.name}接的" + (f"，电话 {mask_phone(v.phone)}" if v.phone else "") + "。"
             for o, v in held]
    return "\n".join([*lines, RELAY])
