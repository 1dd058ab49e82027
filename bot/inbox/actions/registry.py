"""Every chat action by name, and perform(): run one inside the message's transaction."""

from __future__ import annotations

from bot.dialogue.core import Action, merge_tables
from bot.inbox.actions import events, listings, orders, volunteers
from bot.inbox.actions.context import ActionContext, Run
from bot.serviceloop import orders as order_service
from bot.serviceloop.lifecycle import IllegalTransitionError

ACTIONS: dict[str, Run] = merge_tables("chat actions", orders.ACTIONS, listings.ACTIONS, volunteers.ACTIONS,
                                       events.ACTIONS)


# Actions that only read, or only add outbox rows, and refuse nothing: they cannot leave half their work
# behind, so they skip the savepoint (two statements; two round trips on PostgreSQL). Anything unexpected
# they raise still rolls back the whole message.
NO_PARTIAL_WORK = frozenset({"human_handover", "my_orders", "my_tasks", "open_tasks", "note"})

# What a refusal raises: the domain's plain-Chinese errors and an illegal lifecycle move.
REFUSALS = (order_service.OrderError, IllegalTransitionError, *volunteers.REFUSALS)


class Refused(Exception):
    """An action refused while running without a savepoint (`ActionContext.savepoints` False): whatever it wrote
    before refusing is still in the transaction, so the caller must roll the whole write back and do it again with
    savepoints (bot.inbox.handler does)."""


def perform(ac: ActionContext, action: Action) -> str:
    """Run one action; a domain refusal becomes a plain-Chinese reply, anything else propagates. Without savepoints
    a refusal raises Refused instead."""
    run = ACTIONS.get(action.name)
    if run is None:
        raise KeyError(f"no handler for dialogue action {action.name!r}")
    if action.name in NO_PARTIAL_WORK:
        return run(ac, action.data)
    if not ac.savepoints:
        try:
            return run(ac, action.data)
        except REFUSALS as exc:
            raise Refused(action.name) from exc
    try:
        with ac.s.begin_nested():  # a refused action leaves nothing behind, the message is still recorded
            return run(ac, action.data)
    except order_service.OrderError as exc:
        ac.refused.append(action.name)
        return str(exc)
    except IllegalTransitionError as exc:  # the lifecycle's own text is for logs; the person gets plain words
        ac.refused.append(action.name)
        return exc.plain
