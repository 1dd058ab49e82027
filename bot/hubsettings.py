"""Per-hub rules (dispatch, timeouts, points): defaults here, overridden by hubs.settings in the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from bot.errors import ConfigError


@dataclass(frozen=True)
class HubSettings:
    dispatch_first_n: int = 3  # volunteers notified in the first round
    dispatch_widen_n: int = 10  # more volunteers notified when nobody accepted
    widen_after_minutes: int = 15
    escalate_after_minutes: int = 30
    dialogue_timeout_minutes: int = 30
    rating_reminder_hours: int = 24
    close_unrated_hours: int = 72
    low_rating_threshold: int = 2  # ratings at or below this are reviewed by staff
    # services whose orders need community support (配套: venue, materials, a staff member)
    support_services: tuple[str, ...] = ("culture", "science", "policy", "skills", "safety")
    points_per_hour: float = 10.0
    heart_multipliers: Mapping[str, float] = field(default_factory=lambda: {
        "0": 0.0, "1": 0.5, "2": 0.8, "3": 1.0, "4": 1.2, "5": 1.5})
    unrated_multiplier: float = 1.0
    max_points_per_order: int = 100
    max_hours_per_order: float = 12.0


def hub_settings(raw: Mapping[str, Any] | None) -> HubSettings:
    """Defaults overridden by a hub's stored settings; unknown keys are an error, not ignored."""
    known = {f.name for f in fields(HubSettings)}
    values = dict(raw or {})
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown hub settings: {', '.join(sorted(unknown))}")
    if "support_services" in values:
        values["support_services"] = tuple(values["support_services"])
    return replace(HubSettings(), **values)
