"""Points rules, the append-only ledger (earn, redeem, adjust, reverse, expire), star levels at each
threshold and 志愿者骨干, with the volunteer told through the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.errors import ConfigError
from bot.hubsettings import HubSettings, hub_settings
from bot.people import points, stars, volunteers
from storage.db import transaction
from storage.models import Hub, Membership, OutboxMessage, PointsEntry, TimeBankEntry
from tests.bot.people.volunteer_fixtures import completed_order, default_hub, make_volunteer

RULES = HubSettings()


@pytest.mark.parametrize(("hours", "hearts", "expected"), [
    (2, 5, 30), (2, 4, 24), (2, 3, 20), (2, 2, 16), (2, 1, 10), (2, 0, 0), (2, None, 20), (20, 5, 100),
])
def test_points_from_hours_and_hearts(hours: float, hearts: int | None, expected: int) -> None:
    assert points.points_for(hours, hearts, RULES) == expected


def test_emergency_bonus_but_not_for_zero_hearts() -> None:
    assert points.points_for(1, 3, RULES, emergency=True) == 10 + RULES.emergency_bonus_points
    assert points.points_for(1, 0, RULES, emergency=True) == 0


def test_star_thresholds_are_configuration() -> None:
    custom = hub_settings({"star_hours": [10, 20, 30, 40, 50], "core_hours_per_year": 24})
    assert stars.star_level(25, custom.star_hours) == 2 and custom.core_hours_per_year == 24
    with pytest.raises(ConfigError):
        hub_settings({"star_hours": [10, 5, 30, 40, 50]})


@pytest.mark.parametrize(("hours", "level", "to_next"), [
    (0, 0, 100), (99.5, 0, 0.5), (100, 1, 200), (299, 1, 1), (300, 2, 300), (600, 3, 400), (999, 3, 1),
    (1000, 4, 500), (1499, 4, 1), (1500, 5, None), (4000, 5, None),
])
def test_standing_at_each_threshold(hours: float, level: int, to_next: float | None) -> None:
    st = stars.standing(hours, RULES.star_hours)
    assert st.level == level and st.hours_to_next == to_next


def stars_sent(s: Any, openid: str, kinds: tuple[str, ...] = ("star:", "core:")) -> list[str]:
    return [o.idempotency_key for o in s.execute(select(OutboxMessage).where(OutboxMessage.to == openid)
                                                  .order_by(OutboxMessage.id)).scalars()
            if (o.idempotency_key or "").startswith(kinds)]


def test_star_levels_reached_one_by_one_are_announced_once(services: Any, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(services.sessions) as s:
        vol, member, user = make_volunteer(s, now)
        for i, hours in enumerate((99, 1, 199, 1, 299, 1, 399, 1, 499, 1)):
            completed_order(s, vol, user, now - timedelta(days=400 + i), hours)
        keys = stars_sent(s, user.openid, ("star:",))
        assert keys == [f"star:{vol.id}:{n}" for n in range(1, 6)]
        texts = [o.payload["text"] for o in s.execute(select(OutboxMessage).where(
            OutboxMessage.idempotency_key.like("star:%")).order_by(OutboxMessage.id)).scalars()]
        assert "100小时" in texts[0] and "1星级" in texts[0] and "5星级" in texts[4] and "1500小时" in texts[4]
        assert volunteers.total_hours(s, vol.id) == 1500


def test_a_jump_over_two_levels_announces_both(services: Any, clock: FakeClock) -> None:
    with transaction(services.sessions) as s:
        vol, member, user = make_volunteer(s, clock.now())
        completed_order(s, vol, user, clock.now() - timedelta(days=400), 350)
        assert stars_sent(s, user.openid, ("star:",)) == [f"star:{vol.id}:1", f"star:{vol.id}:2"]


def test_core_volunteer_at_48_hours_this_year_in_this_community(services: Any, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(services.sessions) as s:
        vol, member, user = make_volunteer(s, now)
        completed_order(s, vol, user, now - timedelta(days=400), 40)  # last year: does not count
        completed_order(s, vol, user, now - timedelta(days=30), 47)
        assert stars_sent(s, user.openid) == []
        text = points.points_text(s, member.hub_id, vol.id, RULES, now)
        assert "2026年在本社区服务 47 小时" in text and "满48小时成为志愿者骨干" in text
        completed_order(s, vol, user, now - timedelta(days=1), 1)
        completed_order(s, vol, user, now, 2)
        assert stars_sent(s, user.openid) == [f"core:{member.hub_id}:{vol.id}:2026"]
        assert "已是志愿者骨干" in points.points_text(s, member.hub_id, vol.id, RULES, now)


def test_first_service_makes_an_approved_volunteer_active_and_fills_the_time_bank(services: Any,
                                                                                 clock: FakeClock) -> None:
    with transaction(services.sessions) as s:
        vol, member, user = make_volunteer(s, clock.now(), status="approved")
        order = completed_order(s, vol, user, clock.now(), 1.5, rating=4)
        assert s.get(Membership, member.id).status == "active"
        entry = s.execute(select(PointsEntry).where(PointsEntry.order_id == order.id)).scalar_one()
        assert entry.kind == "earn" and entry.points == 18 and "1.5小时" in entry.reason
        bank = s.execute(select(TimeBankEntry).where(TimeBankEntry.order_id == order.id)).scalar_one()
        assert bank.kind == "deposit" and bank.minutes == 90


def test_points_text_shows_balance_hours_level_progress_and_entries(services: Any, clock: FakeClock) -> None:
    with transaction(services.sessions) as s:
        vol, member, user = make_volunteer(s, clock.now())
        completed_order(s, vol, user, clock.now() - timedelta(days=500), 120, rating=None)
        text = points.points_text(s, member.hub_id, vol.id, RULES, clock.now())
    assert "积分余额：100 分" in text and "累计服务：120 小时" in text and "1星级" in text
    assert "再服务 180 小时可升为2星级" in text and "服务获得 +100" in text


def test_adjust_reverse_and_never_below_zero(services: Any, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(services.sessions) as s:
        vol, member, user = make_volunteer(s, now)
        hub_id = member.hub_id
        order = completed_order(s, vol, user, now, 2, rating=5)  # 30
        points.adjust(s, hub_id=hub_id, volunteer_id=vol.id, points=5, reason="活动表现好", actor="staff1", now=now)
        with pytest.raises(points.PointsError):
            points.adjust(s, hub_id=hub_id, volunteer_id=vol.id, points=-36, reason="多扣", actor="staff1", now=now)
        with pytest.raises(points.PointsError):
            points.adjust(s, hub_id=hub_id, volunteer_id=vol.id, points=3, reason=" ", actor="staff1", now=now)
        points.redeem(s, hub_id=hub_id, volunteer_id=vol.id, points=25, reason="兑换", now=now, actor="m")
        with pytest.raises(points.PointsError):
            points.redeem(s, hub_id=hub_id, volunteer_id=vol.id, points=11, reason="兑换", now=now, actor="m")
        rev = points.reverse_order(s, hub_id=hub_id, order_id=order.id, reason="服务未发生", actor="staff1", now=now)
        assert rev.points == -10 and "已用掉20分" in rev.reason  # only what is left can be taken back
        with pytest.raises(points.PointsError):
            points.reverse_order(s, hub_id=hub_id, order_id=order.id, reason="again", actor="staff1", now=now)
        assert points.balance(s, hub_id, vol.id) == 0
        kinds = [e.kind for e in s.execute(select(PointsEntry).order_by(PointsEntry.id)).scalars()]
        assert kinds == ["earn", "adjust", "redeem", "reverse"]


def test_points_expire_first_in_first_out_and_only_once(services: Any, clock: FakeClock) -> None:
    now = clock.now()
    rules = hub_settings({"points_expiry_days": 365})
    with transaction(services.sessions) as s:
        vol, member, user = make_volunteer(s, now)
        hub_id = member.hub_id
        completed_order(s, vol, user, now - timedelta(days=400), 4, rating=3)  # 40, old
        completed_order(s, vol, user, now - timedelta(days=10), 3, rating=3)  # 30, recent
        points.redeem(s, hub_id=hub_id, volunteer_id=vol.id, points=15, reason="兑换", now=now - timedelta(days=5),
                      actor="m")
        assert points.expire_points(s, hub_id, vol.id, now, rules) == 25  # 40 old, 15 of them spent
        assert points.expire_points(s, hub_id, vol.id, now, rules) == 0
        assert points.balance(s, hub_id, vol.id) == 30
        never = hub_settings({"points_expiry_days": 0})
        assert points.expire_points(s, hub_id, vol.id, now + timedelta(days=3000), never) == 0
        # hours never expire
        assert volunteers.total_hours(s, vol.id) == 7


def test_hub_settings_override_the_point_rules(services: Any, clock: FakeClock) -> None:
    with transaction(services.sessions) as s:
        hub = default_hub(s)
        hub.settings = {"points_per_hour": 20, "emergency_services": ["repair"], "emergency_bonus_points": 7}
    with transaction(services.sessions) as s:
        vol, member, user = make_volunteer(s, clock.now())
        order = completed_order(s, vol, user, clock.now(), 1, rating=3)
        entry = s.execute(select(PointsEntry).where(PointsEntry.order_id == order.id)).scalar_one()
        assert entry.points == 27 and "应急出动" in entry.reason
        assert s.get(Hub, hub.id).settings["points_per_hour"] == 20


def test_the_worker_job_expires_points_in_every_hub_once(services: Any, clock: FakeClock) -> None:
    from bot.worker import jobs
    from storage.models import Hub

    now = clock.now()
    with transaction(services.sessions) as s:
        s.execute(select(Hub).where(Hub.id == 1)).scalar_one().settings = {"points_expiry_days": 365}
        vol, member, user = make_volunteer(s, now)
        completed_order(s, vol, user, now - timedelta(days=400), 4, rating=3)  # 40 points, old
        completed_order(s, vol, user, now - timedelta(days=10), 3, rating=3)  # 30 points, recent
    assert "points_expire" in {spec.id for spec in jobs.schedule(services)}
    assert jobs.expire_points(services, now) == 40
    assert jobs.expire_points(services, now) == 0
    with services.sessions() as s:
        assert points.balance(s, 1, vol.id) == 30
