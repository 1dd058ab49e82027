"""The order steps' statements built once (storage.hot, cached selects): what they write and decide is what the
per-call ORM statements wrote and decided. The rating and its close as one move (records.transitions), the fit of
one volunteer (dispatch.fits) against the ranked candidates, the outbox's batch insert (sealed payloads, long
batches), a ledger row, points and banked hours written at most once, the sender's openid read with the order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from bot.clock import FakeClock, as_utc
from bot.outbox import HOT_BATCH, Message, enqueue_many
from bot.people.points import volunteer_here
from bot.serviceloop import orders
from bot.serviceloop.dispatch import fits
from bot.serviceloop.records import PER_MESSAGE, ConcurrentChangeError, Step, openid_by_id, transitions
from bot.services import Services
from storage.db import transaction
from storage.models import (
    Membership,
    Order,
    OrderEvent,
    OutboxMessage,
    PointsEntry,
    ServiceRecord,
    Team,
    TimeBankEntry,
    User,
    Volunteer,
)
from storage.sealed import phone_lookup
from tests.bot.scale.seeding import HAIRCUT, counting, seed_hub

SERVICE = orders.ServiceInfo(HAIRCUT, "义务理发")


def _completed(svc: Services, clock: FakeClock, *, hours: float = 2.0) -> tuple[int, int, int]:
    """A hub and an order its first volunteer took and completed: (hub id, order id, volunteer id)."""
    now = clock.now()
    with transaction(svc.sessions) as s:
        hub = seed_hub(s, now, volunteers=6, history=3)
        resident = s.get_one(User, hub.resident_id)
        order = orders.submit_order(s, hub_id=hub.hub_id, user=resident, service=SERVICE, now=now, data={
            "service": HAIRCUT, "details": "理发", "time_kind": "asap", "address": "幸福小区1栋101"})
        volunteer = s.execute(select(User).where(User.openid == hub.volunteer_openids[0])).scalar_one()
        orders.accept(s, hub_id=hub.hub_id, user=volunteer, order_id=order.id, now=now, service=SERVICE)
        orders.complete(s, hub_id=hub.hub_id, user=volunteer, order_id=order.id, hours=hours, now=now,
                        service=SERVICE)
        assert volunteer.volunteer_id is not None
        return hub.hub_id, order.id, volunteer.volunteer_id


def test_a_rating_and_its_close_are_one_move_with_both_events(svc: Services, clock: FakeClock) -> None:
    hub_id, order_id, volunteer_id = _completed(svc, clock)
    clock.advance(minutes=5)
    with transaction(svc.sessions) as s:
        resident = s.get_one(Order, order_id).ordered_by_user_id
        rater = s.get_one(User, resident)
        with counting(svc.engine) as counted:
            order = orders.rate(s, hub_id=hub_id, user=rater, order_id=order_id, hearts=5, now=clock.now(),
                                service=SERVICE)
        assert len(counted.matching("UPDATE orders")) == 1 and len(counted.matching("INSERT INTO order_events")) == 1
        # the object the caller holds is the row as written (RETURNING refreshed it)
        assert (order.state, order.rating, order.flagged, order.verified_by) == ("closed", 5, False, "resident")
    with svc.sessions() as s:
        events = s.execute(select(OrderEvent).where(OrderEvent.order_id == order_id)
                           .order_by(OrderEvent.id)).scalars().all()
        assert [(e.trigger, e.from_state, e.to_state, e.actor) for e in events[-2:]] == [
            ("rate", "completed", "rated", rater.openid), ("close", "rated", "closed", "auto")]
        assert events[-1].reason == "已评价" and events[-2].reason is None
        stored = s.get_one(Order, order_id)
        assert (stored.state, stored.rating, as_utc(stored.updated_at)) == ("closed", 5, clock.now())
        # the ledger row, the points and the banked hours: once each
        assert s.scalar(select(ServiceRecord.hours).where(ServiceRecord.order_id == order_id)) == 2.0
        assert len(s.scalars(select(PointsEntry).where(PointsEntry.order_id == order_id)).all()) == 1
        deposit = s.execute(select(TimeBankEntry).where(TimeBankEntry.order_id == order_id)).scalar_one()
        assert (deposit.kind, deposit.minutes, deposit.volunteer_id) == ("deposit", 120, volunteer_id)
        notices = [m.payload["text"] for m in s.scalars(select(OutboxMessage).where(OutboxMessage.to.like("oVol-%")))]
        assert any("居民评价：❤❤❤❤❤" in t for t in notices), notices


def test_a_new_order_is_one_insert_with_what_the_orm_hooks_gave_it(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(svc.sessions) as s:
        hub = seed_hub(s, now, volunteers=3, history=2)
        resident = s.get_one(User, hub.resident_id)
        with counting(svc.engine) as counted:
            order = orders.submit_order(s, hub_id=hub.hub_id, user=resident, service=SERVICE, now=now,
                                        dispatch_now=False, open_orders=0, data={
                                            "service": HAIRCUT, "details": "理发 身份证110101199003071234",
                                            "time_kind": "asap", "address": "幸福小区1栋101",
                                            "phone": "138 1234 5678", "lat": 31.2, "lng": 121.4})
        assert len(counted.matching("INSERT INTO orders")) == 1
        assert not counted.matching("SELECT orders.id, orders.hub_id")  # nothing read back
        held = {c.key: getattr(order, c.key) for c in Order.__table__.c}
        order_id = order.id
        assert not s.dirty and order in s
    with svc.sessions() as s:
        stored = s.get_one(Order, order_id)
        fresh = {c.key: getattr(stored, c.key) for c in Order.__table__.c}
        for key in ("start_at", "end_at", "created_at", "updated_at", "accepted_at", "dispatched_at", "completed_at"):
            held[key], fresh[key] = (None if v is None else as_utc(v) for v in (held[key], fresh[key]))
        assert held == fresh
        assert (stored.state, stored.urgent, stored.community, stored.dispatch_round, stored.flagged) == (
            "submitted", True, "幸福小区", 0, False)
        assert "110101199003071234" not in (stored.details or "") and stored.ref is not None
        found = s.scalars(select(Order.id).where(phone_lookup(s, Order.phone_hash, "13812345678"))).all()
        assert found == [order_id]
        raw = s.execute(text("SELECT phone, address FROM orders WHERE id = :id"), {"id": order_id}).one()
        assert "13812345678" not in raw[0] and "幸福小区" not in raw[1]  # sealed at rest
        events = s.scalars(select(OrderEvent.trigger).where(OrderEvent.order_id == order_id)).all()
        assert events == ["submit"]


def test_a_low_rating_waits_for_staff(svc: Services, clock: FakeClock) -> None:
    hub_id, order_id, _ = _completed(svc, clock)
    with transaction(svc.sessions) as s:
        rater = s.get_one(User, s.get_one(Order, order_id).ordered_by_user_id)
        order = orders.rate(s, hub_id=hub_id, user=rater, order_id=order_id, hearts=1, now=clock.now(),
                            service=SERVICE)
        assert (order.state, order.flagged) == ("rated", True)
    with svc.sessions() as s:
        triggers = s.scalars(select(OrderEvent.trigger).where(OrderEvent.order_id == order_id)
                             .order_by(OrderEvent.id)).all()
        assert triggers[-1] == "rate" and "close" not in triggers


def test_a_move_lost_to_a_concurrent_change_writes_nothing(svc: Services, clock: FakeClock) -> None:
    hub_id, order_id, _ = _completed(svc, clock)
    with transaction(svc.sessions) as s:
        order = s.get_one(Order, order_id)
        events = len(s.scalars(select(OrderEvent.id).where(OrderEvent.order_id == order_id)).all())
        s.execute(update(Order).where(Order.id == order_id).values(state="cancelled")
                  .execution_options(synchronize_session=False))  # someone else, meanwhile
        with pytest.raises(ConcurrentChangeError):
            transitions(s, order, [Step("rate", "oX", None, {"rating": 4}), Step("close", "auto")], now=clock.now())
        assert len(s.scalars(select(OrderEvent.id).where(OrderEvent.order_id == order_id)).all()) == events


def test_one_volunteers_fit_is_what_the_ranked_candidates_say(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    with transaction(svc.sessions) as s:
        hub = seed_hub(s, now, volunteers=12, history=6)
        # a minor (fits by their own skills only), a volunteer at their task limit, one offered the order already
        vols = list(hub.volunteer_ids)
        minor = s.get_one(Volunteer, vols[1])  # in the team, without the skill
        minor.birth_date = now - timedelta(days=365 * 15)
        full = s.execute(select(Membership).where(Membership.volunteer_id == vols[2])).scalar_one()
        full.max_open_tasks = 0
        # a team that does not cover the service: its member (skilled in repair only) does not fit
        repair = Team(hub_id=hub.hub_id, code="repair-fit", name="维修队", services=["repair"], created_at=now)
        s.add(repair)
        s.flush()
        s.execute(update(Membership).where(Membership.volunteer_id == vols[4]).values(team_id=repair.id))
        for start, lat in ((None, None), (now + timedelta(days=1, hours=3), 31.21)):
            order = Order(hub_id=hub.hub_id, state="submitted", service_code=HAIRCUT,
                          ordered_by_user_id=hub.resident_id, time_kind="asap" if start is None else "point",
                          start_at=start, latitude=lat, longitude=None if lat is None else 121.41, created_at=now,
                          updated_at=now)
            s.add(order)
            s.flush()
            ranked = {c.volunteer.id for c in orders.candidates(s, order, now)}
            assert vols[1] not in ranked and vols[2] not in ranked and vols[4] not in ranked and vols[5] in ranked
            for vid in vols:
                assert fits(s, order, now, vid) == (vid in ranked) == bool(
                    orders.candidates(s, order, now, volunteer_id=vid)), vid
            with counting(svc.engine) as one:
                fits(s, order, now, vols[1])
            assert len(one) == 1, one.statements  # the service's teams are a subquery of the one statement


def test_the_outbox_batch_is_sealed_and_any_length(svc: Services, clock: FakeClock) -> None:
    now = clock.now()
    batch = [Message(f"o{i}", f"地址：幸福小区{i}栋 电话13812345678", idempotency_key=f"k:{i}")
             for i in range(HOT_BATCH + 3)]
    with transaction(svc.sessions) as s:
        assert enqueue_many(s, hub_id=1, now=now, messages=batch[:3]) == batch[:3]  # built once for 3 rows
        assert enqueue_many(s, hub_id=1, now=now, messages=batch) == batch[3:]  # longer than HOT_BATCH
    with svc.sessions() as s:
        raw = s.execute(text("SELECT payload FROM outbox")).scalars().all()
        assert len(raw) == len(batch) and not any("13812345678" in str(p) or "幸福小区" in str(p) for p in raw)
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [r.payload["text"] for r in rows] == [m.text for m in batch]
        assert {(r.status, r.channel, r.attempts) for r in rows} == {("pending", "wechat", 0)}


def test_who_ordered_is_read_with_the_order_and_the_volunteer_once(svc: Services, clock: FakeClock) -> None:
    hub_id, order_id, volunteer_id = _completed(svc, clock)
    with svc.sessions() as s:
        order = s.get_one(Order, order_id)
        ref, orderer = order.ref, order.ordered_by_user_id
        openid = s.get_one(User, orderer).openid
    with svc.sessions() as s:
        s.info[PER_MESSAGE] = {}
        found = orders.find_by_ref(s, hub_id, ref)
        assert found is not None and found.id == order_id
        with counting(svc.engine) as counted:
            assert openid_by_id(s, orderer) == openid
        assert len(counted) == 0  # came with the order
    with svc.sessions() as s:
        assert openid_by_id(s, orderer) == openid and openid_by_id(s, 10**9) is None
        here = volunteer_here(s, hub_id, volunteer_id)
        member = s.execute(select(Membership).where(Membership.hub_id == hub_id,
                                                    Membership.volunteer_id == volunteer_id)).scalar_one()
        user = s.get_one(User, member.user_id)
        assert (here.member_id, here.status, here.openid) == (member.id, member.status, user.openid)
        assert volunteer_here(s, hub_id, 10**9) == type(here)(None, None, None)
