"""Incidents as staff see them: what is on file about the resident, how far the alerts got, one handler only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.community import incidents
from bot.devtools.seed import seed_demo_hub
from bot.serviceloop.orders import settings_for
from storage.db import transaction
from storage.models import OutboxMessage, Team, User
from storage.models_events import Incident
from tests.conftest import make_services


@pytest.fixture
def on_each_db(any_db_url: str, clock: Any, fake_wechat: Any) -> Iterator[Any]:
    """Services on SQLite, and on PostgreSQL as well when TEST_DATABASE_URL is set."""
    svc = make_services(any_db_url, clock, fake_wechat)
    yield svc
    svc.close()


def _seed(services: Any) -> int:
    now = services.clock.now()
    with transaction(services.sessions) as s:
        made = seed_demo_hub(s, now)
        s.execute(update(Team).where(Team.hub_id == made.id, Team.code == "emergency")
                  .values(robot_key="robot-emergency"))
        s.add(User(hub_id=made.id, openid="oLonely", roles=[], phone="13900001111", subscribed=True,
                   last_inbound_at=now, created_at=now))
        return made.id


@pytest.fixture
def hub(services: Any) -> int:
    return _seed(services)


def _report(services: Any, hub: int, words: str, kind: str) -> int:
    with transaction(services.sessions) as s:
        user = s.execute(select(User).where(User.openid == "oLonely")).scalar_one()
        return incidents.report(s, hub_id=hub, user=user, kind=kind, text=words, cue=None, now=services.clock.now(),
                                settings=settings_for(s, hub)).id


def test_listing_shows_the_resident_on_file_and_the_alerts_progress(services: Any, hub: int) -> None:
    first = _report(services, hub, "老伴叫不醒了", "medical")
    with transaction(services.sessions) as s:  # the staff message went out; the group post died
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like(f"incident:{first}:%")))
        for row in rows:
            row.status = "sent" if row.channel == "wechat" else "dead"
    second = _report(services, hub, "楼道里好大的烟", "fire")
    with services.sessions() as s:
        listed = incidents.listing(s, hub)
        assert incidents.open_count(s, hub) == 2
    assert [r.id for r in listed] == [second, first]  # newest first
    older = listed[1]
    assert (older.kind_words, older.name, older.phone, older.address) == ("急症（摔倒/昏迷/胸痛等）", None,
                                                                          "13900001111", None)
    assert older.alerts == incidents.Alerts(to_staff=1, to_group=1, sent=1, waiting=0, failed=1)
    assert listed[0].alerts == incidents.Alerts(to_staff=1, to_group=1, sent=0, waiting=2, failed=0)


def test_two_staff_closing_at_once_one_wins_the_other_is_told(on_each_db: Any, clock: Any) -> None:
    services = on_each_db
    hub = _seed(services)
    made = _report(services, hub, "有人在撬我家门", "crime")
    with services.sessions() as late:
        seen = late.get(Incident, made)  # the second person loaded the page while it was still open
        assert seen is not None and seen.status == "open"
        late.commit()  # its copy stays as it was read (SQLite: and the other writer may go)
        with transaction(services.sessions) as s:
            incidents.mark_handled(s, hub_id=hub, incident_id=made, actor="web:xiaoli", now=clock.now(), note="已报警")
        with pytest.raises(incidents.IncidentError, match="已经由 web:xiaoli 处理过了"):
            incidents.mark_handled(late, hub_id=hub, incident_id=made, actor="web:laozhang", now=clock.now())
        late.rollback()
    with services.sessions() as s:
        done = s.get(Incident, made)
        assert done is not None and (done.handled_by, done.note) == ("web:xiaoli", "已报警")
        assert incidents.open_count(s, hub) == 0 and incidents.listing(s, hub, status="handled")[0].id == made
