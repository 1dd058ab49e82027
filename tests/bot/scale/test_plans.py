"""The hot statements of dispatch and the sweep have indexes to use (issue 19), on PostgreSQL and SQLite: each
statement is captured as the code sends it and explained. On PostgreSQL sequential scans are switched off for
the EXPLAIN, so on a small test table the plan shows which index the statement can use (benchmarks/scale.py
records the plans the planner picks by itself at 10× and 100×)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import create_engine, text

from bot.clock import FakeClock
from bot.serviceloop import orders
from bot.services import Services
from storage.db import transaction
from storage.models import DIALOGUE_WAITING_SQL, Conversation, Order, PointsEntry, ServiceRecord
from tests.bot.scale.seeding import HAIRCUT, counting, seed_hub
from tests.conftest import make_services

TABLES = "('orders', 'conversations', 'service_records', 'points_entries')"


def _plan(svc: Services, sql: str, params: Any) -> str:
    with svc.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # the planner's statistics for this schema's tables only, without the app's 3 s statement limit: a
            # whole-database ANALYZE on a busy machine can take longer, and timing is not what this test checks
            conn.exec_driver_sql("SET statement_timeout = 0")
            tables = conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            conn.exec_driver_sql("ANALYZE " + ", ".join(f'"{name}"' for (name,) in tables))
            conn.exec_driver_sql("SET enable_seqscan = off")
            rows = conn.exec_driver_sql(f"EXPLAIN {sql}", params).all()
            conn.rollback()
            return "\n".join(r[0] for r in rows)
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
        return "\n".join(str(r[-1]) for r in rows)


def _captured(svc: Services, clock: FakeClock) -> dict[str, tuple[str, Any]]:
    now = clock.now()
    with transaction(svc.sessions) as s:
        hub = seed_hub(s, now, volunteers=40, history=200)
    with transaction(svc.sessions) as s:
        order = Order(hub_id=hub.hub_id, state="submitted", service_code=HAIRCUT, ordered_by_user_id=hub.resident_id,
                      time_kind="point", start_at=now + timedelta(days=1), latitude=31.21, longitude=121.41,
                      created_at=now, updated_at=now)
        s.add(order)
        s.flush()
        with counting(svc.engine) as seen:
            orders.candidates(s, order, now, limit=3)
            orders.sweep(s, hub.hub_id, now, {})
    (ranked,) = seen.matching("FROM memberships")
    (due,) = seen.matching("UNION ALL")
    (dialogues,) = seen.matching(DIALOGUE_WAITING_SQL)
    return {"candidates": ranked, "due orders": due, "due dialogues": dialogues}


def test_dispatch_and_the_sweep_use_their_indexes(any_db_url: str, clock: FakeClock) -> None:
    svc = make_services(any_db_url, clock)
    try:
        statements = _captured(svc, clock)
        plans = {name: _plan(svc, sql, params) for name, (sql, params) in statements.items()}
        for name, plan in plans.items():
            print(f"-- {name}\n{plan}")
        pg = svc.engine.dialect.name == "postgresql"
        # a volunteer's open and recent tasks: counted from the index, not from the city's orders
        assert "ix_orders_volunteer_state_accepted" in plans["candidates"]
        assert "ix_orders_hub_state_" in plans["due orders"]  # by hub, state and due time
        assert "ix_conversations_waiting" in plans["due dialogues"]  # the partial index: mid-dialogue only
        for name, plan in plans.items():
            for table in ("orders", "order_offers", "memberships", "conversations", "outbox", "users"):
                if pg:
                    assert f"Seq Scan on {table}" not in plan, (name, plan)
                else:  # SQLite: "SCAN t" is a full scan, "SEARCH t USING ..." an index
                    assert not any(line.startswith(f"SCAN {table}") for line in plan.splitlines()), (name, plan)
    finally:
        svc.close()


def test_the_dialogue_index_and_the_sweep_name_the_same_states() -> None:
    stored = {state.strip(" '") for state in DIALOGUE_WAITING_SQL.split("(")[1].rstrip(")").split(",")}
    assert stored == {str(state) for state in orders.WAITING_STATES_EXEMPT}


def test_the_migrated_schema_has_the_models_indexes(any_db_url: str) -> None:
    """Migration 0011 creates the indexes storage.models declares (names read from the database's catalogue)."""
    engine = create_engine(any_db_url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                sql = f"SELECT indexname FROM pg_indexes WHERE tablename IN {TABLES}"
            else:
                sql = f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN {TABLES}"
            names = set(conn.execute(text(sql)).scalars())
    finally:
        engine.dispose()
    declared = {i.name for table in (Order.__table__, Conversation.__table__, ServiceRecord.__table__,
                                     PointsEntry.__table__) for i in table.indexes}
    assert declared <= names, declared - names
    assert {"ix_orders_volunteer_state_accepted", "ix_orders_hub_state_ends", "ix_conversations_waiting",
            "ix_points_hub_at", "ix_service_records_hub_date"} <= declared
