"""Every page of the console, gathered: importing a page module puts its routes on the blueprint."""

from __future__ import annotations

from bot.admin import (
    pages_catalogue,
    pages_delivery,
    pages_events,
    pages_inbox,
    pages_incidents,
    pages_intake,
    pages_orders,
    pages_people,
    pages_reports,
    pages_residents,
    pages_teams,
    pages_walkins,
)
from bot.admin.context import bp

PAGES = (pages_catalogue, pages_delivery, pages_events, pages_inbox, pages_incidents, pages_intake, pages_orders,
         pages_people, pages_reports, pages_residents, pages_teams, pages_walkins)

__all__ = ["PAGES", "bp"]
