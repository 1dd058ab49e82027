"""What every chat action is given: the message's transaction, the sender and the hub's language understanding."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from bot.dialogue.nlu import Understanding
from bot.serviceloop import orders
from storage.models import Order, User
from storage.orderrefs import is_ref


@dataclass(frozen=True)
class ActionContext:
    s: Session
    hub_id: int
    user_id: int
    openid: str
    now: datetime
    nlu: Understanding
    secret_key: str = ""  # LEIFENG_SECRET_KEY: ID numbers are encrypted and hashed with keys derived from it
    nickname: str | None = None  # as read with the message: enough for a notice; decisions load `user`
    # Run each action in a savepoint of its own (a refusal undoes only that action)? Without (the handler's first
    # try), a refusal raises registry.Refused and the handler undoes the message's whole write and does it again
    # with savepoints: the common case, nothing refused, saves two statements per action.
    savepoints: bool = True
    # Rows this message's action read and asks for again by primary key (s.get), held here: the session's identity
    # map holds its objects weakly. The orders it named (order_number: found by ref, then get_order by id), the
    # volunteer of a 接单.
    named: list[Any] = field(default_factory=list, compare=False, repr=False)
    # The actions of this message the domain refused (with savepoints: the second try): a note the dialogue made
    # for an action's success ("要不要再约一个？" after a submit) is not shown when that action was refused.
    refused: list[str] = field(default_factory=list, compare=False, repr=False)
    # An action whose words replace the dialogue's own reply (the next question no longer applies): the ID number
    # already registered ends the registration, so the skills question asked with it is not shown (stash_id).
    instead_of_reply: list[str] = field(default_factory=list, compare=False, repr=False)

    @cached_property
    def user(self) -> User:
        """The sender's row, loaded in the message's transaction the first time an action needs it."""
        return self.s.get_one(User, self.user_id)

    @property
    def sender(self) -> Sender:
        """Who sent the message, as far as the message itself says (no row read): for the steps that need only the
        id and openid (bot.serviceloop.records.Person)."""
        return Sender(self.user_id, self.openid)

    def held(self, user: User) -> None:
        """`user` is the sender's row, read by an action with something else in the same statement: `user` returns
        it instead of reading it again."""
        assert user.id == self.user_id
        self.__dict__["user"] = user  # what cached_property stores (the dataclass is frozen, its __dict__ is not)

    def service(self, code: str) -> orders.ServiceInfo:
        return orders.ServiceInfo(code, self.nlu.service_name(code))

    def names(self) -> Mapping[str, str]:
        return {svc.code: svc.name for svc in self.nlu.catalogue}


@dataclass(frozen=True)
class Sender:
    """The sender's id and openid (bot.serviceloop.records.Person)."""

    id: int
    openid: str


# An action: its context and the dialogue's data in, the reply text out.
Run = Callable[[ActionContext, Mapping[str, Any]], str]


MAX_ORDER_ID = 2**63 - 1  # the id columns are signed 64-bit integers: no row has a bigger id


class NotRead:
    """order_number's `found` when the caller did not read the order: order_number reads it."""


NOT_READ = NotRead()


def _typed(value: Any) -> Any:
    """The order number as the dialogue gave it, a text of digits as the int it spells."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        return int(value)
    return value


def ref_of(data: Mapping[str, Any]) -> int | None:
    """The ref (单号) the person named, when what they typed can be one (else None: order_number says why)."""
    value = _typed(data.get("order"))
    return value if isinstance(value, int) and not isinstance(value, bool) and is_ref(value) else None


def order_number(ac: ActionContext, data: Mapping[str, Any], with_volunteer: bool = False,
                 found: Order | None | NotRead = NOT_READ) -> int:
    """The order the person named, by the number they see and type (its ref, 单号) in their hub: the order's id,
    for the domain. Every chat command that names an order comes through here; orders are never found by id in the
    chat (ids are sequential: "接单 12", "接单 13"… would walk through them). A number that names no order of the
    hub — a guess, an order's id, one no ref can be (asked of nobody) — gets the same words, whatever it is.
    `with_volunteer`: the order's volunteer's membership is read with it (orders.find_by_ref). `found`: the order
    with the ref `ref_of(data)` as the caller read it with something else (records.by_ref_join), None for none."""
    value = data.get("order")
    if value is None:
        raise orders.OrderError("请带上订单编号，回复“我的订单”或“我的任务”查看编号。")
    value = _typed(value)
    number = ref_of(data)
    order = None if number is None else found if not isinstance(found, NotRead) else \
        orders.find_by_ref(ac.s, ac.hub_id, number, with_volunteer)
    if order is None:
        raise orders.OrderError(f"没有编号为 {shown(value)} 的订单，请核对编号。")
    ac.named.append(order)
    return order.id


def shown(value: Any) -> str:
    """The number as typed, cut short: a wall of digits is not repeated back."""
    try:
        text = str(value)
    except ValueError:  # an int longer than Python will print
        return "这个"
    return text if len(text) <= 20 else text[:20] + "…"
