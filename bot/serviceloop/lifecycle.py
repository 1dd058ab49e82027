"""The order lifecycle as a transition table (pure; checked when imported)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.errors import LeifengError


class OrderState(StrEnum):
    SUBMITTED = "submitted"  # 点单
    DISPATCHED = "dispatched"  # 派单
    ACCEPTED = "accepted"  # 接单
    SUPPORTED = "supported"  # 配套
    COMPLETED = "completed"  # the volunteer reported it done; awaiting the resident
    RATED = "rated"  # 评单
    CLOSED = "closed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


S = OrderState
OPEN_STATES = frozenset({S.SUBMITTED, S.DISPATCHED, S.ACCEPTED, S.SUPPORTED, S.COMPLETED})
FINAL_STATES = frozenset({S.CLOSED, S.CANCELLED, S.EXPIRED})

PLAIN_WORDS: dict[OrderState, str] = {
    S.SUBMITTED: "已提交，正在安排",
    S.DISPATCHED: "正在联系志愿者",
    S.ACCEPTED: "志愿者已接单",
    S.SUPPORTED: "志愿者已接单，社区已配套",
    S.COMPLETED: "服务已完成，等您评价",
    S.RATED: "已评价",
    S.CLOSED: "已结束",
    S.CANCELLED: "已取消",
    S.EXPIRED: "已过期",
}
# the same states as staff read them (the console, the CLI): whose rating is awaited is the resident's
STAFF_WORDS: dict[OrderState, str] = {**PLAIN_WORDS, S.COMPLETED: "服务已完成，等居民评价"}


@dataclass(frozen=True)
class Transition:
    trigger: str
    sources: frozenset[OrderState]
    dest: OrderState


TRANSITIONS: tuple[Transition, ...] = (
    Transition("dispatch", frozenset({S.SUBMITTED, S.DISPATCHED}), S.DISPATCHED),
    Transition("accept", frozenset({S.SUBMITTED, S.DISPATCHED}), S.ACCEPTED),
    Transition("give_back", frozenset({S.ACCEPTED, S.SUPPORTED}), S.SUBMITTED),
    # offered but not taken, and changed (the resident asked for another service): back in the dispatch queue
    Transition("requeue", frozenset({S.DISPATCHED}), S.SUBMITTED),
    Transition("support", frozenset({S.ACCEPTED}), S.SUPPORTED),
    Transition("complete", frozenset({S.ACCEPTED, S.SUPPORTED}), S.COMPLETED),
    Transition("rate", frozenset({S.COMPLETED}), S.RATED),
    Transition("close", frozenset({S.COMPLETED, S.RATED}), S.CLOSED),
    Transition("cancel", frozenset({S.SUBMITTED, S.DISPATCHED, S.ACCEPTED, S.SUPPORTED}), S.CANCELLED),
    Transition("expire", frozenset({S.SUBMITTED, S.DISPATCHED}), S.EXPIRED),
)


class IllegalTransitionError(LeifengError):
    def __init__(self, trigger: str, state: str) -> None:
        super().__init__(f"cannot {trigger} an order that is {state} ({PLAIN_WORDS.get(OrderState(state), state)})")
        self.trigger = trigger
        self.state = state

    @property
    def plain(self) -> str:
        """For the person (the message above is for logs): what the order is now, and that this cannot be done."""
        return f"订单现在“{PLAIN_WORDS.get(OrderState(self.state), self.state)}”，不能这样操作。"


def _index(rows: tuple[Transition, ...]) -> dict[tuple[str, OrderState], OrderState]:
    table: dict[tuple[str, OrderState], OrderState] = {}
    for row in rows:
        for src in row.sources:
            if (row.trigger, src) in table:
                raise ValueError(f"duplicate transition {row.trigger} from {src}")
            table[(row.trigger, src)] = row.dest
    reachable = {S.SUBMITTED} | {dest for dest in table.values()}
    missing = set(OrderState) - reachable
    if missing:
        raise ValueError(f"unreachable order states: {sorted(missing)}")
    return table


TABLE = _index(TRANSITIONS)
TRIGGERS = frozenset(t.trigger for t in TRANSITIONS)


def next_state(state: str, trigger: str) -> OrderState:
    """The state after `trigger`, or IllegalTransitionError with a readable reason."""
    if trigger not in TRIGGERS:
        raise IllegalTransitionError(trigger, state)
    try:
        return TABLE[(trigger, OrderState(state))]
    except (KeyError, ValueError):
        raise IllegalTransitionError(trigger, state) from None


def sources(trigger: str) -> frozenset[OrderState]:
    return frozenset(src for (trig, src) in TABLE if trig == trigger)
