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
    # flooding and harvesting (a volunteer taking and giving back orders to read residents' details)
    max_open_orders_per_user: int = 5  # a resident's orders not yet done, 代点单 included
    give_backs_per_day: int = 2  # a volunteer's 退单 in 24 hours; beyond it staff rearrange the task
    # one person's messages (bot.inbox.ratelimit): beyond these the bot sends one kind note, then stays quiet
    # until the window moves on; generous for real people (an elderly resident's burst of voice messages), not
    # for a script. Emergencies and staff are never limited.
    messages_per_minute: int = 30  # a person talking sends one every few seconds at most; a script, many a second
    messages_per_hour: int = 300
    # emergency bonuses (一呼百应), the one home of both: serving an order of an emergency service, and
    # answering a call-out (the default for `leifeng callout start`; a call-out may name its own)
    emergency_services: tuple[str, ...] = ()
    emergency_bonus_points: int = 20
    callout_bonus_points: int = 5
    # a resident's emergency (intents.emergency): the numbers the bot tells them to call, by kind, over the
    # national defaults (bot.dialogue.safety: 120/119/110/12356; set "gas" to the local gas company's line);
    # the standing team whose group chat is alerted too, and whether the team is called out (一呼百应) at once
    hotlines: Mapping[str, str] = field(default_factory=dict)
    # how long an urgent order ("尽快/越快越好/马上") stays open for a volunteer before it counts as past
    urgent_window_hours: float = 3.0
    # said at night it waits for the morning: from this hour, until this hour, runs to this morning hour
    # (21, 7, 9): "尽快" at 22:20 is "尽快（明早9点前）" (intents.timeparse.urgent_end)
    urgent_night: tuple[int, int, int] = (21, 7, 9)
    emergency_team: str = "emergency"
    emergency_callout: bool = False
    # points may expire (0 = never); banked hours never do
    points_expiry_days: int = 3 * 365
    # star levels by verified hours across hubs (national volunteer-record practice), 1★..5★
    star_hours: tuple[float, ...] = (100.0, 300.0, 600.0, 1000.0, 1500.0)
    # 志愿者骨干: hours in one calendar year in this community
    core_hours_per_year: float = 48.0
    redemption_code_minutes: int = 10
    max_redeem_points: int = 10000  # one redemption at a counter; a typo should not empty an account
    # the hand-over inbox ("人工"): how long both sides of a handed-over conversation are kept; after how many
    # minutes without a staff answer the resident is told once how to reach the office (its phone and hours);
    # the team whose group robot hears of hand-overs (no such team, or no robot key: none)
    handover_keep_days: int = 90
    handover_answer_minutes: int = 30
    office_phone: str = ""
    office_hours: str = ""
    staff_team: str = "staff"
    staff_link_minutes: int = 10  # a staff member's "绑定微信" QR code works this long, once


def hub_settings(raw: Mapping[str, Any] | None) -> HubSettings:
    """Defaults overridden by a hub's stored settings; unknown keys are an error, not ignored."""
    known = {f.name for f in fields(HubSettings)}
    values = dict(raw or {})
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown hub settings: {', '.join(sorted(unknown))}")
    for name in ("support_services", "emergency_services", "star_hours", "urgent_night"):
        if name in values:
            values[name] = tuple(values[name])
    settings = replace(HubSettings(), **values)
    stars = settings.star_hours
    if len(stars) != 5 or any(b <= a for a, b in zip(stars, stars[1:], strict=False)) or stars[0] <= 0:
        raise ConfigError("star_hours must be five increasing positive numbers of hours (1★..5★)")
    night = settings.urgent_night
    if len(night) != 3 or not all(isinstance(h, int) and 0 <= h <= 23 for h in night) \
            or not night[1] <= night[2] < night[0]:
        raise ConfigError("urgent_night must be three hours [from, until, morning] with until <= morning < from")
    if settings.points_expiry_days < 0 or settings.core_hours_per_year <= 0:
        raise ConfigError("points_expiry_days must be >= 0 and core_hours_per_year > 0")
    if settings.handover_keep_days < 1 or settings.handover_answer_minutes < 1 or settings.staff_link_minutes < 1:
        raise ConfigError("handover_keep_days, handover_answer_minutes and staff_link_minutes must be at least 1")
    if settings.messages_per_minute < 1 or settings.messages_per_hour < settings.messages_per_minute:
        raise ConfigError("messages_per_minute must be at least 1 and messages_per_hour at least as many")
    return settings
