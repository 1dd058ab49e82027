"""What every chat action is given: the message's transaction, the sender and the hub's language understanding."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from bot.dialogue.nlu import Understanding
from bot.serviceloop import orders
from storage.models import User


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

    @cached_property
    def user(self) -> User:
        """The sender's row, loaded in the message's transaction the first time an action needs it."""
        return self.s.get_one(User, self.user_id)

    def service(self, code: str) -> orders.ServiceInfo:
        return orders.ServiceInfo(code, self.nlu.service_name(code))

    def names(self) -> Mapping[str, str]:
        return {svc.code: svc.name for svc in self.nlu.catalogue}


# An action: its context and the dialogue's data in, the reply text out.
Run = Callable[[ActionContext, Mapping[str, Any]], str]


MAX_ORDER_ID = 2**63 - 1  # the id column is a signed 64-bit integer


def order_number(data: Mapping[str, Any]) -> int:
    """The order number the person typed; one that no order can have (0, or too big for the id column) is
    answered as no such order, in their words, before the database is asked."""
    value = data.get("order")
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ORDER_ID:
        return value
    raise orders.OrderError(f"没有编号为 {shown(value)} 的订单，请核对编号。" if value is not None
                            else "请带上订单编号，回复“我的订单”或“我的任务”查看编号。")


def shown(value: Any) -> str:
    """The number as typed, cut short: a wall of digits is not repeated back."""
    try:
        text = str(value)
    except ValueError:  # an int longer than Python will print
        return "这个"
    return text if len(text) <= 20 else text[:20] + "…"
