"""The service loop's pure rules: who is offered an order first, and what the sweep does to an order."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from bot.hubsettings import HubSettings
from bot.serviceloop.dispatch import Candidate, rank
from bot.serviceloop.orders import Move, decide

RULES = HubSettings()


def _candidate(vid: int, recent: int, km: float | None) -> Candidate:
    vol: Any = SimpleNamespace(id=vid)
    return Candidate(volunteer=vol, membership=SimpleNamespace(), user=None, recent_tasks=recent,  # type: ignore[arg-type]
                     distance_km=km)


def test_the_fairest_first_then_the_nearest_then_the_longest_standing() -> None:
    found = [_candidate(3, 2, 0.5), _candidate(1, 0, None), _candidate(2, 0, 1.2), _candidate(4, 0, 1.2)]
    assert [c.volunteer.id for c in rank(found)] == [2, 4, 1, 3]


def test_unaccepted_orders_widen_then_escalate_then_expire() -> None:
    widen = timedelta(minutes=RULES.widen_after_minutes)
    assert decide("dispatched", dispatch_round=1, waited=widen - timedelta(seconds=1), appointment_passed=False,
                  settings=RULES) is Move.WAIT
    assert decide("dispatched", dispatch_round=1, waited=widen, appointment_passed=False, settings=RULES) is Move.WIDEN
    later = timedelta(minutes=RULES.escalate_after_minutes - RULES.widen_after_minutes)
    assert decide("dispatched", dispatch_round=2, waited=later, appointment_passed=False,
                  settings=RULES) is Move.ESCALATE
    assert decide("dispatched", dispatch_round=3, waited=timedelta(days=1), appointment_passed=False,
                  settings=RULES) is Move.WAIT  # staff have it
    assert decide("dispatched", dispatch_round=1, waited=timedelta(0), appointment_passed=True,
                  settings=RULES) is Move.EXPIRE
    assert decide("submitted", dispatch_round=0, waited=timedelta(0), appointment_passed=True,
                  settings=RULES) is Move.EXPIRE


def test_unrated_orders_are_reminded_then_closed_and_others_left_alone() -> None:
    remind, close = timedelta(hours=RULES.rating_reminder_hours), timedelta(hours=RULES.close_unrated_hours)
    assert decide("completed", dispatch_round=1, waited=remind, appointment_passed=True, settings=RULES) is Move.REMIND
    assert decide("completed", dispatch_round=1, waited=close, appointment_passed=True, settings=RULES) is Move.CLOSE
    for state in ("accepted", "supported", "rated", "cancelled", "expired", "closed"):
        assert decide(state, dispatch_round=1, waited=timedelta(days=9), appointment_passed=True,
                      settings=RULES) is Move.WAIT
