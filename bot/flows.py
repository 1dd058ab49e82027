"""Every dialogue state's handler, gathered from the flows (ordering, registration, ...)."""

from __future__ import annotations

from bot import order_flow, registration, volunteer_flow
from bot.order_flow import StateHandler

# Each flow module exports STATE_HANDLERS; state names must not collide (checked below).
FLOW_TABLES: tuple[dict[str, StateHandler], ...] = (
    order_flow.STATE_HANDLERS,
    registration.STATE_HANDLERS,
    volunteer_flow.STATE_HANDLERS,
)


def _merge(tables: tuple[dict[str, StateHandler], ...]) -> dict[str, StateHandler]:
    merged: dict[str, StateHandler] = {}
    for table in tables:
        clash = set(merged) & set(table)
        if clash:
            raise ValueError(f"dialogue states defined twice: {sorted(clash)}")
        merged.update(table)
    return merged


STATE_HANDLERS: dict[str, StateHandler] = _merge(FLOW_TABLES)
