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
