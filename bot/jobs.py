"""Scheduled jobs run by the worker. Each is idempotent: running it twice does nothing twice."""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot import orders
from bot.services import Services
from storage.db import transaction
from storage.models import Hub

log = logging.getLogger(__name__)


def sweep_orders(services: Services) -> orders.SweepStats:
    """Widen, escalate, expire, remind and close orders in every hub (one transaction per hub)."""
    names = {svc.code: orders.ServiceInfo(svc.code, svc.name) for svc in services.nlu.catalogue}
    total = orders.SweepStats()
    with services.sessions() as s:
        hub_ids = list(s.scalars(select(Hub.id).order_by(Hub.id)))
    for hub_id in hub_ids:
        with transaction(services.sessions) as s:
            st = orders.sweep(s, hub_id, services.clock.now(), names)
        for field in ("widened", "escalated", "expired", "reminded", "closed", "dialogues_expired"):
            setattr(total, field, getattr(total, field) + getattr(st, field))
    if any(vars(total).values()):
        log.info("order sweep: %s", vars(total))
    return total
