"""Helpers for the scale tests: a statement counter, and a hub of any size seeded the way the app writes it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from storage import hot
from storage.models import Conversation, Hub, Membership, Order, OrderOffer, Team, User, Volunteer

HAIRCUT = "haircut"


@dataclass
class Counter:
    statements: list[tuple[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)

    def matching(self, needle: str) -> list[tuple[str, Any]]:
        return [(sql, params) for sql, params in self.statements if needle in sql]


@contextmanager
def counting(engine: Engine) -> Iterator[Counter]:
    """Every statement the engine's connections send (before_cursor_execute; an executemany is one), with its
    parameters, and the statements storage.hot runs straight on a DBAPI cursor of the engine (its SQL and the
    parameters as given): a statement moved to storage.hot is still counted."""
    counter = Counter()

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        counter.statements.append((statement, parameters))

    real_run = hot.Hot.run

    def run(self: hot.Hot, conn: Any, params: Any) -> hot.Result:
        if conn.engine is engine:
            counter.statements.append((self.plan(conn.dialect).sql, params))
        return real_run(self, conn, params)

    event.listen(engine, "before_cursor_execute", seen)
    hot.Hot.run = run  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        hot.Hot.run = real_run  # type: ignore[method-assign]
        event.remove(engine, "before_cursor_execute", seen)


@dataclass(frozen=True)
class SeededHub:
    hub_id: int
    team_id: int
    resident_id: int
    volunteer_openids: tuple[str, ...]
    volunteer_ids: tuple[int, ...]


def seed_hub(s: Session, now: datetime, *, volunteers: int, history: int, slug: str = "default",
             seed: int = 19) -> SeededHub:
    """A hub with a haircut team of `volunteers` (every third one by skill only, not in the team), a staff member,
    a resident, and `history` finished orders (closed, rated, some cancelled) accepted by its volunteers over the
    last 60 days — the data that must not change what a chat reply or the sweep costs."""
    rnd = random.Random(seed)
    hub = s.execute(select(Hub).where(Hub.slug == slug)).scalar_one_or_none()
    if hub is None:
        hub = Hub(slug=slug, name=f"{slug}雷锋超市", settings={}, created_at=now)
        s.add(hub)
        s.flush()
    hub.settings = {**(hub.settings or {}), "dispatch_first_n": 3, "dispatch_widen_n": 3}
    team = Team(hub_id=hub.id, code=f"haircut-{slug}", name="爱心理发队", services=[HAIRCUT], robot_key=f"robot-{slug}",
                created_at=now)
    s.add(team)
    s.add(User(hub_id=hub.id, openid=f"oStaff-{slug}", roles=["staff"], subscribed=True, created_at=now))
    resident = User(hub_id=hub.id, openid=f"oResident-{slug}", roles=[], subscribed=True, phone="13812345678",
                    created_at=now)
    s.add(resident)
    s.flush()
    vols = [Volunteer(name=f"志愿者{i}", phone=f"139{i:08d}", skills=[HAIRCUT] if i % 3 == 0 else ["repair"],
                      availability=[] if i % 2 else [{"weekday": d, "period": "all"} for d in range(7)],
                      latitude=31.2 + rnd.random() / 50, longitude=121.4 + rnd.random() / 50, created_at=now)
            for i in range(volunteers)]
    s.add_all(vols)
    s.flush()
    users = [User(hub_id=hub.id, openid=f"oVol-{slug}-{i:04d}", roles=["volunteer"], subscribed=True,
                  volunteer_id=v.id, last_inbound_at=now, created_at=now) for i, v in enumerate(vols)]
    s.add_all(users)
    s.flush()
    s.add_all([Membership(hub_id=hub.id, volunteer_id=v.id, user_id=u.id, team_id=None if i % 3 == 0 else team.id,
                          status="active", max_open_tasks=3, created_at=now, updated_at=now)
               for i, (v, u) in enumerate(zip(vols, users, strict=True))])
    past = []
    for i in range(history):
        vol = vols[rnd.randrange(len(vols))]
        at = now - timedelta(days=rnd.uniform(1, 60))
        state = ("closed", "rated", "cancelled")[i % 3]
        past.append(Order(hub_id=hub.id, state=state, service_code=HAIRCUT, ordered_by_user_id=resident.id,
                          resident_user_id=resident.id, time_kind="point", start_at=at, end_at=at + timedelta(hours=1),
                          volunteer_id=vol.id if state != "cancelled" else None, dispatch_round=1,
                          dispatched_at=at - timedelta(hours=2), accepted_at=at - timedelta(hours=1),
                          hours=1.0, completed_at=at + timedelta(hours=1), rating=5, created_at=at - timedelta(hours=3),
                          updated_at=at + timedelta(hours=1)))
    s.add_all(past)
    s.flush()
    s.add_all([OrderOffer(hub_id=hub.id, order_id=o.id, volunteer_id=vols[(k + j) % len(vols)].id, round=1,
                          at=o.created_at, outcome="lost") for k, o in enumerate(past) for j in range(2)])
    # residents who talked to the bot long ago and are idle now: the dialogue sweep must not read them
    for i in range(history):
        idle = User(hub_id=hub.id, openid=f"oIdle-{slug}-{i:04d}", roles=[], subscribed=True, created_at=now)
        s.add(idle)
        s.flush()
        s.add(Conversation(hub_id=hub.id, user_id=idle.id, state="IDLE" if i % 4 else "RATE", slots={},
                           updated_at=now - timedelta(days=rnd.uniform(1, 90))))
    s.flush()
    return SeededHub(hub.id, team.id, resident.id, tuple(u.openid for u in users), tuple(v.id for v in vols))
