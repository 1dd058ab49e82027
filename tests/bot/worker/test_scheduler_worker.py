"""The worker's scheduler: one leader among several workers, a persistent job store, jobs that survive restarts."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import text

from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.worker import jobs
from bot.worker.process import Worker
from bot.worker.schedlock import LeaderLock
from tests.conftest import make_services


def _jobs_table(services: Any) -> dict[str, float]:
    with services.engine.connect() as conn:
        return dict(conn.execute(text("SELECT id, next_run_time FROM apscheduler_jobs")).all())


def test_exactly_one_worker_leads_the_other_waits_and_takes_over(any_db_url: str, clock: FakeClock,
                                                                 fake_wechat: FakeWeChatServer,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    a = make_services(any_db_url, clock, fake_wechat, scheduler_lock_seconds=30)
    b = make_services(any_db_url, clock, fake_wechat, scheduler_lock_seconds=30)  # another process
    w1, w2 = Worker(a, owner="worker-one"), Worker(b, owner="worker-two")
    try:
        with caplog.at_level(logging.INFO, logger="bot.worker.process"):
            assert w1.tick() is True and w1.leading and w1.scheduler is not None
            assert w2.tick() is False and not w2.leading and w2.scheduler is None
            assert w2.tick() is False
        waiting = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
        assert len(waiting) == 1 and "worker-two" in waiting[0] and "worker-one" in waiting[0]  # said once
        clock.advance(seconds=20)
        assert w1.tick() is True  # renewed: good for another 30 s
        clock.advance(seconds=25)
        assert w2.tick() is False
        clock.advance(seconds=10)  # worker one stopped renewing 35 s ago: the lock expired
        assert w2.tick() is True and w2.leading
        assert w1.tick() is False and not w1.leading and w1.scheduler is None  # stands down, says so
        assert any("lost the scheduler lock" in r.getMessage() for r in caplog.records)
    finally:
        w1.stop()
        w2.stop()
        a.close()
        b.close()


def test_stopping_releases_the_lock_at_once(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    svc = make_services(db_url, clock, fake_wechat)
    w1, w2 = Worker(svc, owner="w1"), Worker(svc, owner="w2")
    try:
        assert w1.tick() and not w2.tick()
        w1.stop()
        assert w2.tick()  # no waiting for the expiry after a clean stop
    finally:
        w2.stop()
        svc.close()


def test_lock_row_semantics(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    svc = make_services(db_url, clock, fake_wechat)
    try:
        one = LeaderLock(svc.sessions, clock, "one", ttl_seconds=10)
        two = LeaderLock(svc.sessions, clock, "two", ttl_seconds=10)
        assert one.acquire() and not two.acquire()
        assert two.holder is not None and two.holder.owner == "one"
        clock.advance(seconds=10)
        assert two.acquire() and not one.acquire()
        two.release()
        assert one.acquire()
    finally:
        svc.close()


def test_jobs_persist_across_restarts_with_their_next_run_times(db_url: str, clock: FakeClock,
                                                               fake_wechat: FakeWeChatServer) -> None:
    svc = make_services(db_url, clock, fake_wechat)
    w = Worker(svc, owner="first")
    assert w.tick()
    assert w.scheduler is not None
    ids = {j.id for j in w.scheduler.get_jobs()}
    assert ids == {spec.id for spec in jobs.schedule(svc)}
    assert {"orders_sweep", "reminders", "events_generate", "daily_digest", "monthly_report", "quarterly_honours",
            "points_expire", "processed_messages_prune", "handover_unanswered", "handover_prune"} <= ids
    assert "outbox" not in ids and "dispatch" not in ids  # every worker's own loops (Worker.local), not persisted
    assert all(j.func_ref == "bot.worker.jobs:run_job" for j in w.scheduler.get_jobs(jobstore="default"))
    before = _jobs_table(svc)
    assert set(before) == ids
    w.stop()
    svc.close()
    # a new process on the same database keeps the stored schedule (its next run times) instead of resetting it
    svc2 = make_services(db_url, clock, fake_wechat)
    w2 = Worker(svc2, owner="second")
    try:
        assert w2.tick()
        assert w2.scheduler is not None
        assert _jobs_table(svc2) == before
        assert {w2.ensure_jobs(w2.scheduler)[k] for k in before} == {"kept"}
    finally:
        w2.stop()
        svc2.close()


def test_changed_schedule_replaces_the_stored_job(db_url: str, clock: FakeClock, fake_wechat: FakeWeChatServer) -> None:
    svc = make_services(db_url, clock, fake_wechat)
    w = Worker(svc, owner="first")
    assert w.tick()
    w.stop()
    svc.close()
    svc2 = make_services(db_url, clock, fake_wechat, daily_digest_time="07:45")
    w2 = Worker(svc2, owner="second")
    try:
        assert w2.tick()
        assert w2.scheduler is not None
        job = w2.scheduler.get_job("daily_digest")
        assert "hour='7', minute='45'" in str(job.trigger)
        assert w2.ensure_jobs(w2.scheduler)["daily_digest"] == "kept"
    finally:
        w2.stop()
        svc2.close()


def test_persisted_job_entry_point_runs_the_bound_services(db_url: str, clock: FakeClock,
                                                          fake_wechat: FakeWeChatServer) -> None:
    svc = make_services(db_url, clock, fake_wechat)
    try:
        jobs.bind(svc)
        jobs.run_job("events_generate")  # what APScheduler calls, by its stored text reference
        with svc.sessions() as s:
            assert s.execute(text("SELECT count(*) FROM events")).scalar() == 5
        jobs.run_job("no_such_job")  # an id from an older version is logged and skipped, not a crash
    finally:
        jobs._BOUND.clear()
        svc.close()


def test_jobs_stored_under_the_old_module_path_keep_their_next_run_times(tmp_path: Any) -> None:
    """The jobs module moved (bot/jobs.py -> bot/worker/jobs.py): migration 0007 rewrites the stored references."""
    import pickle
    from datetime import UTC, datetime

    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.triggers.interval import IntervalTrigger

    from storage.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0006")
    next_run = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    state = {"version": 1, "id": "sweep", "func": "bot.jobs:run_job", "trigger": IntervalTrigger(minutes=1),
             "executor": "default", "args": ("sweep",), "kwargs": {}, "name": "sweep", "misfire_grace_time": 60,
             "coalesce": True, "max_instances": 1, "next_run_time": next_run}
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO apscheduler_jobs (id, next_run_time, job_state) VALUES (:i, :t, :s)"),
                     {"i": "sweep", "t": next_run.timestamp(), "s": pickle.dumps(state)})
    upgrade(url)
    store = SQLAlchemyJobStore(engine=engine)
    store.start(None, "default")  # type: ignore[arg-type]
    [job] = store.get_all_jobs()
    assert job.func_ref == "bot.worker.jobs:run_job" and job.func is jobs.run_job
    assert job.next_run_time == next_run
    engine.dispose()
