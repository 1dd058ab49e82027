"""What each follower has left of this month's four 群发 (broadcasts.mass_left) is one statement however large the
audience (it was the audience in chunks of 1,000 ids: the dashboard's statements grew 25 → 35 from 1× to 100× in
benchmarks/scale.py), and reads the month's rows along ix_mass_send_counts_hub_month, not every month's."""

from __future__ import annotations

from bot.clock import FakeClock
from bot.community import broadcasts
from bot.services import Services
from storage.db import transaction
from storage.models import User
from storage.models_events import MassSendCount
from tests.bot.scale.seeding import counting, seed_hub
from tests.bot.scale.test_plans import _plan


def test_mass_left_is_one_statement_whatever_the_audience(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    month = broadcasts.month_of(now)
    with transaction(svc.sessions) as s:
        hub = seed_hub(s, now, volunteers=5, history=5)
        people = [User(hub_id=hub.hub_id, openid=f"oMass-{i}", roles=[], subscribed=True, created_at=now)
                  for i in range(2500)]
        s.add_all(people)
        s.flush()
        ids = [u.id for u in people]
        s.add_all([MassSendCount(hub_id=hub.hub_id, user_id=uid, month=m, count=c)
                   for uid, m, c in ((ids[0], month, 4), (ids[1], month, 1), (ids[2], "2020-01", 4))])
    for audience in (ids[:3], ids):
        with svc.sessions() as s, counting(svc.engine) as seen:
            left = broadcasts.mass_left(s, hub.hub_id, audience, now)
        assert len(seen) == 1, (len(audience), len(seen))
        assert (left[ids[0]], left[ids[1]], left[ids[2]]) == (0, 3, 4)  # an old month's four do not count
        assert len(left) == len(audience)
    with svc.sessions() as s:
        assert broadcasts.mass_left(s, hub.hub_id, [], now) == {}


def test_the_months_counts_are_read_along_their_index(svc: Services, clock: FakeClock) -> None:
    sql = "SELECT user_id, count FROM mass_send_counts WHERE hub_id = 1 AND month = '2026-11'"
    assert "ix_mass_send_counts_hub_month" in _plan(svc, sql, {})
