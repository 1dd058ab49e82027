"""City-scale benchmark (issue 19): seed PostgreSQL at 1×, 10×, 100× and time the real code paths.

1× = 150 hubs, 4,950 volunteers, 10,050 residents, 20,000 orders (~114k order events, 60k offers),
100,000 processed messages, 40,000 outbox rows; 10× and 100× multiply everything but the hubs (100× = 499,950
volunteers, 1,000,050 residents, 2,000,000 orders, ~11.4 M order events, 6 M offers, 10 M processed messages,
4 M outbox rows). Hub 1 has a heavy resident (a fifth of the hub's orders: 2,667 at 100×) and a heavy volunteer.
The data is in steady state: orders two years back, the live ones (dispatched, accepted, completed) in the last
three days, the reminders of completed orders already sent; nothing is overdue for the sweep.

Seeding is INSERT … SELECT over generate_series, in the database (no rows through Python), into a database of its
own per scale: <database-url>_1x, _10x, _100x (created if missing; the schema is dropped and migrated first). A
database that already holds the scale is reused unless --reseed. The test suite's databases are refused.

Each operation runs --runs times (median, min–max, after one untimed warm-up run) and its SQL statements are
counted (a before_cursor_execute listener, plus the statements storage.hot runs straight on the cursor). Domain
operations run in a transaction that is rolled back; webhook requests (safe mode, signed and encrypted like
WeChat, through the Flask test client in this process) and the 150-hub sweep commit, as in production.
Figures go to --results (JSON, merged across invocations) and the table with growth factors is printed.

    python benchmarks/scale.py --scales 1,10 [--runs 7] [--database-url URL] [--reseed] [--explain] [--only TEXT]
    python benchmarks/scale.py --scales 100 --runs 5 --explain
    python benchmarks/scale.py --table            # print the table of what --results holds
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, delete, event, make_url, select, text, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bot.admin import auth  # noqa: E402
from bot.app import create_app  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.community import broadcasts  # noqa: E402
from bot.config import DEV_SECRET_KEY, Config, load_config  # noqa: E402
from bot.devtools.simulator import Account  # noqa: E402
from bot.dialogue.nlu import load_understanding  # noqa: E402
from bot.serviceloop import listings, orders  # noqa: E402
from bot.services import Services, build_services  # noqa: E402
from bot.worker import jobs, retention  # noqa: E402
from storage import hot  # noqa: E402
from storage.db import make_engine, transaction, upgrade  # noqa: E402
from storage.models import Conversation, Hub, Order, OrderOffer, OutboxMessage, User  # noqa: E402
from storage.sealed import ContactSealer  # noqa: E402

HUBS = 150
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Monday
TOKEN, APPID = "bench-token", "wx0123456789abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
STAFF_USER, STAFF_PASSWORD = "benchstaff", "Bench-password-2026!"
REFUSED = {"leifeng_test", "test"}  # the test suite's databases
# the orders' communities (orders.community, migration 0023), the last a look-alike of the first
COMMUNITIES = "ARRAY['幸福小区', '阳光花园', '和平新村', '新幸福小区']"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/leifeng_scale"
DEFAULT_RESULTS = Path("/tmp/leifeng-scale-results.json")


# ------------------------------------------------------------------------------------------------ seeding


@dataclass(frozen=True)
class Size:
    scale: int
    vols_per_hub: int
    residents_per_hub: int
    orders: int
    processed: int
    outbox: int

    @classmethod
    def of(cls, scale: int) -> Size:
        return cls(scale, round(5000 * scale / HUBS), round(10000 * scale / HUBS), 20000 * scale, 100000 * scale,
                   40000 * scale)

    @property
    def volunteers(self) -> int:
        return self.vols_per_hub * HUBS

    @property
    def residents(self) -> int:
        return self.residents_per_hub * HUBS


def seed_statements(z: Size, codes: list[str]) -> list[tuple[str, str]]:
    """(label, SQL) in order. Ids are explicit and arithmetic: volunteer j of hub h is (h-1) + 150·j + 1, resident r
    of hub h is user (h-1) + 150·r + 1, a volunteer's user is residents + volunteer id, staff come after them."""
    h_, vh, rh, o_ = HUBS, z.vols_per_hub, z.residents_per_hub, z.orders
    ru = z.residents  # volunteer users start after the residents
    su = ru + z.volunteers  # then two staff per hub
    # replies, outbox payloads and slots are encrypted at rest (migration 0022) with the app's key (build: the
    # development one): each seeded value is one token of it, as the app would have written it
    seal = ContactSealer(DEV_SECRET_KEY).seal
    hello, progress, remind, no_slots = (seal(v) for v in (
        "您好，有什么可以帮您？", json.dumps({"text": "您的订单有新进展。"}, ensure_ascii=False),
        json.dumps({"text": "提醒：请给服务打分"}, ensure_ascii=False), "{}"))
    now = f"timestamptz '{NOW.isoformat()}'"
    arr = "ARRAY[" + ",".join(f"'{c}'" for c in codes) + "]"
    nc = len(codes)
    return [
        ("hubs", f"""
INSERT INTO hubs (id, slug, name, settings, created_at)
SELECT h, 'hub-' || h, '雷锋超市' || h, '{{}}'::json, {now} - interval '900 days' FROM generate_series(2, {h_}) h"""),
        ("teams", f"""
INSERT INTO teams (id, hub_id, code, name, services, robot_key, emergency, created_at)
SELECT (h - 1) * 8 + t + 1, h, 'team-' || t, '志愿服务队' || t,
       json_build_array(({arr})[1 + (t * 3) % {nc}], ({arr})[1 + (t * 3 + 1) % {nc}], ({arr})[1 + (t * 3 + 2) % {nc}]),
       CASE WHEN t % 2 = 0 THEN 'robot-' || h || '-' || t END, false, {now} - interval '900 days'
FROM generate_series(1, {h_}) h, generate_series(0, 7) t"""),
        ("volunteers", f"""
INSERT INTO volunteers (id, name, phone, gender, birth_date, skills, availability, latitude, longitude, created_at)
SELECT i, '志愿者' || i, '139' || lpad(i::text, 8, '0'), CASE WHEN i % 2 = 0 THEN '男' ELSE '女' END,
       CASE WHEN j % 20 = 7 THEN timestamptz '2011-05-01 00:00+08'
            ELSE timestamptz '1950-03-01 00:00+08' + (j % 50) * interval '1 year' END,
       json_build_array(({arr})[1 + (j * 7) % {nc}], ({arr})[1 + (j * 11 + 3) % {nc}]),
       CASE WHEN j % 2 = 0 THEN '[]'::json
            ELSE json_build_array(json_build_object('weekday', j % 7, 'period', 'am'),
                                  json_build_object('weekday', (j + 3) % 7, 'period', 'all'),
                                  json_build_object('weekday', (j + 5) % 7, 'period', 'pm')) END,
       31.0 + h * 0.01 + (j % 97) * 0.0003, 121.0 + h * 0.01 + (j % 89) * 0.0003, {now} - interval '800 days'
FROM (SELECT i, (i - 1) % {h_} + 1 AS h, (i - 1) / {h_} AS j FROM generate_series(1, {z.volunteers}) i) v"""),
        ("users (residents)", f"""
INSERT INTO users (id, hub_id, openid, roles, subscribed, phone, last_inbound_at, created_at)
SELECT u, h, 'r-' || h || '-' || r, '[]'::json, true, '138' || lpad(u::text, 8, '0'),
       {now} - ((u * 37) % 2000) * interval '1 hour', {now} - interval '800 days'
FROM (SELECT u, (u - 1) % {h_} + 1 AS h, (u - 1) / {h_} AS r FROM generate_series(1, {ru}) u) x"""),
        ("users (volunteers)", f"""
INSERT INTO users (id, hub_id, openid, roles, subscribed, phone, volunteer_id, last_inbound_at, created_at)
SELECT {ru} + i, (i - 1) % {h_} + 1, 'v-' || i, '["volunteer"]'::json, true, '139' || lpad(i::text, 8, '0'), i,
       {now} - interval '20 hours', {now} - interval '800 days'
FROM generate_series(1, {z.volunteers}) i"""),
        ("users (staff)", f"""
INSERT INTO users (id, hub_id, openid, roles, subscribed, last_inbound_at, created_at)
SELECT {su} + (h - 1) * 2 + n, h, 'staff-' || h || '-' || n, '["staff"]'::json, true, {now} - interval '2 hours',
       {now} - interval '800 days'
FROM generate_series(1, {h_}) h, generate_series(1, 2) n"""),
        ("memberships", f"""
INSERT INTO memberships (id, hub_id, volunteer_id, user_id, team_id, status, max_open_tasks, source, created_at,
                         updated_at)
SELECT i, h, i, {ru} + i, CASE WHEN j % 10 < 7 THEN (h - 1) * 8 + j % 8 + 1 END,
       CASE j % 20 WHEN 19 THEN 'applied' WHEN 18 THEN 'suspended' WHEN 17 THEN 'approved' ELSE 'active' END,
       3, 'chat', {now} - (j % 700) * interval '1 day', {now} - (j % 700) * interval '1 day'
FROM (SELECT i, (i - 1) % {h_} + 1 AS h, (i - 1) / {h_} AS j FROM generate_series(1, {z.volunteers}) i) v"""),
        ("team_members", """
INSERT INTO team_members (hub_id, team_id, volunteer_id, joined_at)
SELECT hub_id, team_id, volunteer_id, created_at FROM memberships WHERE team_id IS NOT NULL"""),
        ("orders", f"""
INSERT INTO orders (id, hub_id, state, service_code, details, resident_user_id, ordered_by_user_id, phone, address,
                    latitude, longitude, time_kind, start_at, end_at, volunteer_id, dispatch_round, dispatched_at,
                    accepted_at, needs_support, hours, completed_at, verified_by, rating, flagged, paid_with_hours,
                    created_at, updated_at, ref, community)
SELECT o, h, st, ({arr})[1 + o % {nc}], '请帮忙', uid, uid, '138' || lpad(uid::text, 8, '0'),
       ({COMMUNITIES})[1 + uid / {h_} % 4] || (o % 50) || '栋', 31.0 + h * 0.01, 121.0 + h * 0.01, 'point',
       CASE WHEN st IN ('dispatched', 'accepted', 'supported') THEN {now} + (1 + o % 4) * interval '1 day'
            ELSE created + interval '30 minutes' END,
       CASE WHEN st IN ('dispatched', 'accepted', 'supported') THEN {now} + (1 + o % 4) * interval '1 day'
                                                                        + interval '2 hours'
            ELSE created + interval '150 minutes' END,
       CASE WHEN st IN ('accepted', 'supported', 'completed', 'closed', 'rated') THEN vid END,
       CASE WHEN st = 'dispatched' THEN 3 ELSE 1 END, created + interval '1 minute',
       CASE WHEN st IN ('accepted', 'supported', 'completed', 'closed', 'rated') THEN created + interval '20 minutes'
       END, false,
       CASE WHEN st IN ('completed', 'closed', 'rated') THEN 1 + o % 3 END,
       CASE WHEN st IN ('completed', 'closed', 'rated') THEN created + interval '3 hours' END,
       CASE WHEN st IN ('closed', 'rated') THEN 'resident' END,
       CASE WHEN st = 'rated' THEN 1 WHEN st = 'closed' THEN 3 + o % 3 END, st = 'rated', false,
       created, created + interval '3 hours', 100000 + o,  -- the 单号: unique per hub (migration 0016)
       ({COMMUNITIES})[1 + uid / {h_} % 4]  -- the resident's community (migration 0023), as community_of reads it
FROM (
  SELECT o, h, q, created, uid, vid,
         CASE WHEN age_days < 3 THEN
                CASE WHEN o % 20 < 3 THEN 'dispatched' WHEN o % 20 < 7 THEN 'accepted' WHEN o % 20 = 7 THEN 'supported'
                     WHEN o % 20 < 12 AND age_days < 2.8 THEN 'completed' ELSE 'closed' END
              WHEN o % 20 = 0 THEN 'cancelled' WHEN o % 20 = 1 THEN 'expired'
              WHEN o % 100 = 2 THEN 'rated' ELSE 'closed' END AS st
  FROM (
    SELECT o, h, q, age_days, {now} - interval '1 hour' - age_days * interval '1 day' AS created,
           (h - 1) + {h_} * (CASE WHEN h = 1 AND q % 5 = 0 THEN 0 ELSE 1 + (q * 7 + 3) % ({rh} - 1) END) + 1 AS uid,
           (h - 1) + {h_} * (CASE WHEN h = 1 AND q % 5 = 1 THEN 0 ELSE 1 + (q * 13 + 5) % ({vh} - 1) END) + 1 AS vid
    FROM (SELECT o, (o - 1) % {h_} + 1 AS h, (o - 1) / {h_} AS q, ({o_} - o) * 730.0 / {o_} AS age_days
          FROM generate_series(1, {o_}) o) a
  ) b
) c"""),
        ("order_events", """
INSERT INTO order_events (hub_id, order_id, trigger, from_state, to_state, actor, at)
SELECT o.hub_id, o.id, p.trig[g], coalesce(p.st[g - 1], ''), p.st[g], 'auto',
       o.created_at + (g - 1) * interval '20 minutes'
FROM orders o
JOIN LATERAL (SELECT CASE o.state
    WHEN 'closed' THEN ARRAY['submit', 'dispatch', 'accept', 'complete', 'rate', 'close']
    WHEN 'rated' THEN ARRAY['submit', 'dispatch', 'accept', 'complete', 'rate']
    WHEN 'cancelled' THEN ARRAY['submit', 'dispatch', 'cancel']
    WHEN 'expired' THEN ARRAY['submit', 'dispatch', 'expire']
    WHEN 'dispatched' THEN ARRAY['submit', 'dispatch', 'escalate']
    WHEN 'accepted' THEN ARRAY['submit', 'dispatch', 'accept']
    WHEN 'supported' THEN ARRAY['submit', 'dispatch', 'accept', 'support']
    ELSE ARRAY['submit', 'dispatch', 'accept', 'complete'] END AS trig,
  CASE o.state
    WHEN 'closed' THEN ARRAY['submitted', 'dispatched', 'accepted', 'completed', 'rated', 'closed']
    WHEN 'rated' THEN ARRAY['submitted', 'dispatched', 'accepted', 'completed', 'rated']
    WHEN 'cancelled' THEN ARRAY['submitted', 'dispatched', 'cancelled']
    WHEN 'expired' THEN ARRAY['submitted', 'dispatched', 'expired']
    WHEN 'dispatched' THEN ARRAY['submitted', 'dispatched', 'dispatched']
    WHEN 'accepted' THEN ARRAY['submitted', 'dispatched', 'accepted']
    WHEN 'supported' THEN ARRAY['submitted', 'dispatched', 'accepted', 'supported']
    ELSE ARRAY['submitted', 'dispatched', 'accepted', 'completed'] END AS st) p ON true
CROSS JOIN LATERAL generate_series(1, array_length(p.trig, 1)) g"""),
        ("order_offers", f"""
INSERT INTO order_offers (hub_id, order_id, volunteer_id, round, outcome, at)
SELECT o.hub_id, o.id, (o.hub_id - 1) + {h_} * ((jb + g) % {vh}) + 1, 1,
       CASE WHEN o.volunteer_id IS NULL THEN CASE WHEN o.state = 'dispatched' THEN NULL ELSE 'lost' END
            WHEN g = 0 THEN 'accepted' ELSE 'lost' END,
       o.created_at + interval '1 minute'
FROM (SELECT id, hub_id, state, volunteer_id, created_at,
             coalesce((volunteer_id - hub_id) / {h_}, (id * 13) % {vh}) AS jb FROM orders) o,
     generate_series(0, 2) g"""),
        ("service_records", """
INSERT INTO service_records (hub_id, order_id, volunteer_id, service_code, resident_label, content, started_at,
                             ended_at, service_date, hours, rating, verified_by, created_at)
SELECT hub_id, id, volunteer_id, service_code, '居民' || resident_user_id, details, start_at, completed_at, start_at,
       hours, rating, 'resident', completed_at
FROM orders WHERE state IN ('closed', 'rated') AND volunteer_id IS NOT NULL"""),
        ("points_entries", """
INSERT INTO points_entries (hub_id, volunteer_id, kind, points, reason, order_id, idempotency_key, at)
SELECT hub_id, volunteer_id, 'earn', (hours * 10)::int, '订单' || order_id || '服务积分', order_id,
       'bench-earn:' || order_id, created_at
FROM service_records"""),
        ("processed_messages", f"""
INSERT INTO processed_messages (id, hub_id, dedupe_key, openid, msg_type, reply, received_at)
SELECT p, (p - 1) % {h_} + 1, 'bench:' || p, 'r-' || ((p - 1) % {h_} + 1) || '-' || ((p * 7) % {rh}), 'text',
       '{hello}', {now} - ({z.processed} - p) * (interval '730 days' / {z.processed})
FROM generate_series(1, {z.processed}) p"""),
        ("outbox", f"""
INSERT INTO outbox (id, hub_id, channel, "to", kind, payload, idempotency_key, status, attempts, next_attempt_at,
                    sent_via, created_at, sent_at, priority)
SELECT x, (x - 1) % {h_} + 1, 'wechat', 'r-' || ((x - 1) % {h_} + 1) || '-' || ((x * 11) % {rh}), 'text',
       '{progress}', 'bench-outbox:' || x, 'sent', 1,
       {now} - ({z.outbox} - x) * (interval '730 days' / {z.outbox}), 'custom',
       {now} - ({z.outbox} - x) * (interval '730 days' / {z.outbox}),
       {now} - ({z.outbox} - x) * (interval '730 days' / {z.outbox}) + interval '2 seconds', 0
FROM generate_series(1, {z.outbox}) x"""),
        ("outbox id sequence", "SELECT setval(pg_get_serial_sequence('outbox', 'id'), (SELECT max(id) FROM outbox))"),
        ("outbox (rating reminders sent)", f"""
INSERT INTO outbox (hub_id, channel, "to", kind, payload, idempotency_key, status, attempts, next_attempt_at,
                    sent_via, created_at, sent_at, priority)
SELECT o.hub_id, 'wechat', u.openid, 'text', '{remind}', 'rate-ask:' || o.id || ':1',
       'sent', 1, o.completed_at + interval '24 hours', 'custom', o.completed_at + interval '24 hours',
       o.completed_at + interval '24 hours', 0
FROM orders o JOIN users u ON u.id = o.ordered_by_user_id
WHERE o.state = 'completed' AND o.completed_at <= {now} - interval '24 hours'"""),
        ("conversations", f"""
INSERT INTO conversations (id, hub_id, user_id, state, slots, updated_at, version)
SELECT u, (u - 1) % {h_} + 1, u, CASE WHEN u % 200 = 0 THEN 'ORDER_TIME' ELSE 'IDLE' END, '{no_slots}',
       CASE WHEN u % 200 = 0 THEN {now} - (u % 20) * interval '1 minute'
            ELSE {now} - ((u * 37) % 2000) * interval '1 hour' END, 1
FROM generate_series(1, {ru}) u"""),
        # phones and addresses are Fernet-encrypted at rest (migration 0017, with the app's key): the seed's plain
        # ones would not open, so the seed has none (no measured path needs them)
        ("contacts (none: sealed at rest)", "UPDATE users SET phone = NULL WHERE phone IS NOT NULL"),
        ("", "UPDATE volunteers SET phone = NULL, guardian = NULL WHERE phone IS NOT NULL OR guardian IS NOT NULL"),
        ("", "UPDATE orders SET phone = NULL, address = NULL"),
    ]


SEQUENCES = ("hubs", "teams", "volunteers", "users", "memberships", "team_members", "orders", "order_events",
             "order_offers", "service_records", "points_entries", "processed_messages", "outbox", "conversations")


def database_url(base: str, scale: int) -> str:
    url = make_url(base)
    name = f"{url.database}_{scale}x"
    if url.database in REFUSED or name in REFUSED:
        raise SystemExit(f"refusing to use {url.database}: the test suite owns it")
    return url.set(database=name).render_as_string(hide_password=False)


def ensure_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
            if found.first() is None:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def seeded_scale(url: str) -> int | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT scale FROM bench_seed")).scalar()
    except Exception:  # noqa: BLE001 - no table yet: not seeded
        return None
    finally:
        engine.dispose()


def seed(url: str, z: Size, codes: list[str]) -> float:
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(url)
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL synchronous_commit = off"))
            conn.execute(text("SET LOCAL statement_timeout = 0"))
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # no per-row foreign-key triggers
            conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
            # secondary indexes are dropped for the load and built again after it (much faster in bulk)
            secondary = conn.execute(text(
                "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = 'public' AND NOT EXISTS ("
                "SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)")).all()
            for name, _definition in secondary:
                conn.execute(text(f'DROP INDEX "{name}"'))
            for label, sql in seed_statements(z, codes):
                t0 = time.perf_counter()
                cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                cursor.execute(sql)  # no parameters: '%' is the modulo operator
                n = cursor.rowcount
                print(f"    {label:32s} {n:>11,} rows {time.perf_counter() - t0:7.1f} s", flush=True)
            t0 = time.perf_counter()
            for _name, definition in secondary:
                conn.execute(text(definition))
            print(f"    {'secondary indexes':32s} {len(secondary):>11,} built {time.perf_counter() - t0:6.1f} s",
                  flush=True)
            for table in SEQUENCES:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
            conn.execute(text("CREATE TABLE bench_seed (scale integer, seeded_at timestamptz, seconds float)"))
            conn.execute(text("INSERT INTO bench_seed VALUES (:k, now(), :t)"),
                         {"k": z.scale, "t": time.perf_counter() - started})
        t0 = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SET statement_timeout = 0"))
            conn.execute(text("VACUUM ANALYZE"))
        print(f"    {'VACUUM ANALYZE':32s} {'':>16} {time.perf_counter() - t0:7.1f} s", flush=True)
    finally:
        engine.dispose()
    return time.perf_counter() - started


# ------------------------------------------------------------------------------------------------ measuring


@dataclass
class Counter:
    n: int = 0
    on: bool = False
    sql: list[tuple[str, Any]] = field(default_factory=list)
    keep: bool = False


COUNTER = Counter()
_real_hot_run = hot.Hot.run


def _counted_hot_run(self: hot.Hot, conn: Any, params: Any) -> hot.Result:
    if COUNTER.on:
        COUNTER.n += 1
    return _real_hot_run(self, conn, params)


hot.Hot.run = _counted_hot_run  # type: ignore[method-assign]  # statements run straight on the cursor count too


def _listen(engine: Any) -> None:
    def seen(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        if COUNTER.on:
            COUNTER.n += 1
            if COUNTER.keep:
                COUNTER.sql.append((statement, params))

    event.listen(engine, "before_cursor_execute", seen)


@contextmanager
def measured(into: list[tuple[float, int]]) -> Iterator[None]:
    COUNTER.n, COUNTER.on = 0, True
    t0 = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - t0
        COUNTER.on = False
        into.append((elapsed * 1000, COUNTER.n))


@dataclass
class Bench:
    services: Services
    client: Any
    staff: Any
    account: Account
    size: Size
    codes: list[str]
    seq: int = 0
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    # MsgIds and new residents unique across invocations on the same database (a repeated MsgId is a retry)
    run: int = field(default_factory=lambda: int(time.time() * 1000))

    # -- helpers ----------------------------------------------------------------------------------------

    def next(self) -> int:
        self.seq += 1
        return self.seq

    def say(self, openid: str, content: str) -> str:
        now = int(self.services.clock.now().timestamp())
        req = self.account.text(openid, content, now=now, msg_id=str(self.run * 1000 + self.next()))
        resp = self.client.post("/wechat", query_string=req.params, data=req.body)
        assert resp.status_code == 200, resp.status_code
        reply = self.account.read(resp.data)
        return str(reply["Content"]) if reply else ""

    def record(self, name: str, samples: list[tuple[float, int]]) -> None:
        ms = [t for t, _ in samples]
        stmts = sorted({n for _, n in samples})
        self.results[name] = {"median": statistics.median(ms), "min": min(ms), "max": max(ms), "runs": len(ms),
                              "statements": stmts[0] if len(stmts) == 1 else f"{stmts[0]}-{stmts[-1]}"}
        print(f"  {name:48s} {statistics.median(ms):9.1f} ms  ({min(ms):.1f}–{max(ms):.1f})  "
              f"{self.results[name]['statements']} statements", flush=True)

    def domain(self, name: str, runs: int, op: Callable[[Session, Any], Any],
               setup: Callable[[Session], Any] | None = None) -> None:
        """op(s, setup(s)) in a transaction rolled back afterwards; one untimed warm-up run first."""
        samples: list[tuple[float, int]] = []
        for i in range(runs + 1):
            with self.services.sessions() as s:
                prepared = setup(s) if setup else None
                s.flush()
                timed: list[tuple[float, int]] = []
                with measured(timed):
                    op(s, prepared)
                    s.flush()
                s.rollback()
            if i:
                samples += timed
        self.record(name, samples)

    def repeat(self, name: str, runs: int, op: Callable[[Any], Any], setup: Callable[[], Any] | None = None) -> None:
        samples: list[tuple[float, int]] = []
        for i in range(runs + 1):
            prepared = setup() if setup else None
            timed: list[tuple[float, int]] = []
            with measured(timed):
                op(prepared)
            if i:
                samples += timed
        self.record(name, samples)

    # -- the data the operations use ----------------------------------------------------------------------

    def new_order(self, s: Session, hub_id: int = 1, code: str = "haircut") -> Order:
        resident = s.scalars(select(User).where(User.hub_id == hub_id, User.openid == f"r-{hub_id}-5")).one()
        order = Order(hub_id=hub_id, state="submitted", service_code=code, details="请帮忙理发",
                      ordered_by_user_id=resident.id, resident_user_id=resident.id, phone="13812345678",
                      address="幸福小区1栋101", latitude=31.01, longitude=121.01, time_kind="point",
                      start_at=NOW + timedelta(days=1, hours=5), created_at=NOW, updated_at=NOW)
        s.add(order)
        s.flush()
        return order

    def due_work(self, s: Session, hub_id: int) -> None:
        """What a busy minute leaves due in a hub: widen, escalate, expire, remind, close, an idle dialogue."""
        resident = s.scalars(select(User).where(User.hub_id == hub_id, User.openid == f"r-{hub_id}-9")).one()
        vol = s.scalars(select(User.volunteer_id).where(User.hub_id == hub_id, User.volunteer_id.is_not(None))
                        .limit(1)).one()
        base = {"hub_id": hub_id, "service_code": "haircut", "ordered_by_user_id": resident.id,
                "resident_user_id": resident.id, "time_kind": "point", "updated_at": NOW, "details": "请帮忙"}
        ahead = NOW + timedelta(days=2)
        s.add_all([
            Order(**base, state="dispatched", dispatch_round=1, start_at=ahead,
                  dispatched_at=NOW - timedelta(minutes=16), created_at=NOW - timedelta(minutes=16)),
            Order(**base, state="dispatched", dispatch_round=2, start_at=ahead,
                  dispatched_at=NOW - timedelta(minutes=16), created_at=NOW - timedelta(minutes=32)),
            Order(**base, state="dispatched", dispatch_round=3, start_at=NOW - timedelta(hours=3),
                  end_at=NOW - timedelta(minutes=1), dispatched_at=NOW - timedelta(hours=5),
                  created_at=NOW - timedelta(hours=6)),
            Order(**base, state="completed", volunteer_id=vol, dispatch_round=1, hours=1.0,
                  start_at=NOW - timedelta(hours=27), accepted_at=NOW - timedelta(hours=28),
                  completed_at=NOW - timedelta(hours=24, minutes=1), created_at=NOW - timedelta(hours=30)),
            Order(**base, state="completed", volunteer_id=vol, dispatch_round=1, hours=1.0,
                  start_at=NOW - timedelta(hours=75), accepted_at=NOW - timedelta(hours=76),
                  completed_at=NOW - timedelta(hours=72, minutes=1), created_at=NOW - timedelta(hours=78)),
        ])
        talker = s.scalars(select(User.id).where(User.hub_id == hub_id, User.openid == f"r-{hub_id}-11")).one()
        conv = s.scalars(select(Conversation).where(Conversation.user_id == talker)).one()
        conv.state, conv.updated_at = "ORDER_TIME", NOW - timedelta(minutes=31)
        s.flush()


def build(url: str, z: Size) -> Bench:
    settings = {"database_url": url, "wechat_token": TOKEN, "wechat_appid": APPID,
                "wechat_aes_key": AES_KEY, "wechat_secret": "bench-secret", "wechat_api_base_url": "http://127.0.0.1:9",
                "db_statement_timeout_seconds": 300.0, "log_level": "WARNING"}
    settings["env"] = "development"  # the published development secrets above
    known = {f.name for f in fields(Config)}  # the settings this version of the app has
    settings = {k: v for k, v in settings.items() if k in known}
    services = build_services(load_config(settings, environ={}), FakeClock(NOW + timedelta(seconds=5)))
    _listen(services.engine)
    with transaction(services.sessions) as s:
        if s.execute(text("SELECT 1 FROM staff_accounts WHERE username = :u"), {"u": STAFF_USER}).first() is None:
            auth.create_account(s, username=STAFF_USER, password=STAFF_PASSWORD, role="staff", hub_slug="default",
                                now=NOW, actor="bench")
    app = create_app(services=services)
    staff = app.test_client()
    page = staff.get("/admin/login")
    token = page.get_data(as_text=True).split('name="csrf_token"')[1].split('value="')[1].split('"')[0]
    resp = staff.post("/admin/login", data={"csrf_token": token, "username": STAFF_USER, "password": STAFF_PASSWORD})
    assert resp.status_code == 302, resp.status_code
    codes = [svc.code for svc in services.nlu.catalogue]
    return Bench(services, app.test_client(), staff, Account(token=TOKEN, appid=APPID, aes_key=AES_KEY), z, codes)


def sealed_addresses(b: Bench, hub_id: int) -> int:
    """Give the hub's orders their addresses, encrypted with the app's key as the app writes them (the seed has
    none: its SQL cannot seal): "<community><n>栋", the community the seed gave each. Commits; returns how many."""
    with transaction(b.services.sessions) as s:
        rows = s.execute(text("SELECT id, community FROM orders WHERE hub_id = :h AND address IS NULL "
                              "AND community IS NOT NULL"), {"h": hub_id}).all()
        for i in range(0, len(rows), 1000):
            s.execute(update(Order), [{"id": oid, "address": f"{community}{oid % 50}栋"}
                                      for oid, community in rows[i:i + 1000]])
    return len(rows)


def tidy(b: Bench) -> None:
    """Close what earlier webhook runs left open (their new residents' orders): a volunteer who accepted one would
    keep it against their open-task limit, and the hub's candidates would shrink from run to run."""
    with transaction(b.services.sessions) as s:
        s.execute(text("UPDATE orders SET state = 'closed' WHERE state IN ('submitted', 'dispatched', 'accepted', "
                       "'supported', 'completed') AND ordered_by_user_id IN "
                       "(SELECT id FROM users WHERE openid LIKE 'bench-new-%')"))


def run_operations(b: Bench, runs: int, only: str | None) -> None:
    names = {c: orders.ServiceInfo(c, b.services.nlu.service_name(c)) for c in b.codes}
    haircut = names["haircut"]
    s_data = {"service": "haircut", "details": "理发", "time_kind": "point",
              "start": (NOW + timedelta(days=1, hours=5)).isoformat(), "address": "幸福小区1栋101",
              "phone": "13812345678", "lat": 31.01, "lng": 121.01}

    def want(name: str) -> bool:
        return only is None or only in name

    if want("candidates"):
        b.domain("dispatch: candidates(limit=3) hub 1", runs,
                 lambda s, o: orders.candidates(s, o, NOW, limit=3), lambda s: b.new_order(s))
        b.domain("dispatch: candidates() all, hub 1 (console list)", runs,
                 lambda s, o: orders.candidates(s, o, NOW), lambda s: b.new_order(s))

    def submit(s: Session, _: Any) -> Order:
        resident = s.scalars(select(User).where(User.hub_id == 1, User.openid == "r-1-5")).one()
        return orders.submit_order(s, hub_id=1, user=resident, data=s_data, service=haircut, now=NOW)

    if want("submit"):
        b.domain("dispatch: submit_order+dispatch hub 1", runs, submit)

    def accept_setup(s: Session) -> tuple[User, int]:
        order = submit(s, None)
        vid = s.scalars(select(OrderOffer.volunteer_id).where(OrderOffer.order_id == order.id)
                        .order_by(OrderOffer.id)).first()
        assert vid is not None, "nobody was offered the order: the hub has no free volunteer for it"
        volunteer = s.scalars(select(User).where(User.hub_id == 1, User.volunteer_id == vid)).one()
        return volunteer, order.id

    def accept(s: Session, prep: tuple[User, int]) -> None:
        volunteer, order_id = prep
        volunteer = s.merge(volunteer)
        assert orders.accept(s, hub_id=1, user=volunteer, order_id=order_id, now=NOW, service=haircut).volunteer_id

    if want("accept"):
        b.domain("accept: 接单 (domain) hub 1", runs, accept, accept_setup)

    heavy_resident = "r-1-0"
    heavy_volunteer = "v-1"

    def user(s: Session, openid: str) -> User:
        return s.scalars(select(User).where(User.hub_id == 1, User.openid == openid)).one()

    if want("我的订单"):
        b.domain("reply: 我的订单 (heavy resident)", runs,
                 lambda s, u: listings.open_orders_text(s, 1, u, {}, NOW), lambda s: user(s, heavy_resident))
    if want("我的任务"):
        b.domain("reply: 我的任务 (heavy volunteer)", runs,
                 lambda s, u: listings.tasks_text(s, 1, u, {}, NOW), lambda s: user(s, heavy_volunteer))
    if want("sweep"):
        b.domain("sweep hub 1, nothing due", runs, lambda s, _: orders.sweep(s, 1, NOW, names))
        b.domain("sweep hub 1, 5 orders + 1 dialogue due", runs, lambda s, _: orders.sweep(s, 1, NOW, names),
                 lambda s: b.due_work(s, 1))

        def city_due() -> None:
            with transaction(b.services.sessions) as s:
                for hub in range(1, HUBS + 1, HUBS // 10):
                    b.due_work(s, hub)

        def sweep_every_hub(_: Any) -> None:
            """The sweep as jobs.sweep_orders ran it before due_hubs: every hub, one transaction each."""
            with b.services.sessions() as s:
                hubs = list(s.scalars(select(Hub.id).order_by(Hub.id)))
            for hub_id in hubs:
                with transaction(b.services.sessions) as s:
                    orders.sweep(s, hub_id, b.services.clock.now(), names)

        b.repeat("sweep 150 hubs (jobs.sweep_orders), nothing due", runs, lambda _: jobs.sweep_orders(b.services))
        b.repeat("sweep 150 hubs (jobs.sweep_orders), 10 hubs with 5 orders + 1 dialogue due", runs,
                 lambda _: jobs.sweep_orders(b.services), city_due)
        b.repeat("sweep every hub in turn (as before due_hubs), nothing due", runs, sweep_every_hub)
        b.repeat("sweep every hub in turn, 10 hubs with work due", runs, sweep_every_hub, city_due)
    if want("report"):
        period = jobs.Period("2026年11月", datetime(2026, 10, 31, 16, tzinfo=UTC),
                             datetime(2026, 11, 30, 16, tzinfo=UTC))
        b.domain("report_text 2026-11 × 150 hubs (monthly report job)", max(3, runs // 2),
                 lambda s, _: [jobs.report_text(s, hub, period) for hub in range(1, HUBS + 1)])
    if want("webhook"):
        tidy(b)
        b.repeat("webhook: 你好 (resident)", runs, lambda _: b.say("r-1-3", "你好"))
        b.repeat("webhook: 我的订单 (heavy resident)", runs, lambda _: b.say(heavy_resident, "我的订单"))
        b.repeat("webhook: 积分 (heavy volunteer)", runs, lambda _: b.say(heavy_volunteer, "积分"))

        def confirm_setup() -> str:
            openid = f"bench-new-{b.run}-{b.next()}"
            assert "请核对" in b.say(openid, "明天下午理发 幸福小区1栋1号 13812345678")
            return openid

        def confirm(openid: str) -> None:
            reply = b.say(openid, "1")
            assert "已提交" in reply, reply

        b.repeat("webhook: confirm '1' (submit; dispatch in the worker)", runs, confirm, confirm_setup)

        def dispatch_setup() -> None:
            jobs.dispatch_waiting(b.services)  # what earlier runs left waiting is not timed
            confirm(confirm_setup())

        b.repeat("worker: dispatch_waiting, one new order", runs, lambda _: jobs.dispatch_waiting(b.services),
                 dispatch_setup)

        def take_setup() -> tuple[str, int]:
            openid = confirm_setup()
            confirm(openid)
            jobs.dispatch_waiting(b.services)  # the worker's pass that offers it
            with b.services.sessions() as s:
                order_id, ref = s.execute(select(Order.id, Order.ref).join(User, User.id == Order.ordered_by_user_id)
                                          .where(User.openid == openid)).one()
                vid = s.scalars(select(OrderOffer.volunteer_id).where(OrderOffer.order_id == order_id)
                                .order_by(OrderOffer.id)).first()
                assert vid is not None, "nobody was offered the order"
                vol = s.scalars(select(User.openid).where(User.hub_id == 1, User.volunteer_id == vid)).one()
            return vol, ref  # the 单号 people type, not the id

        def take(prep: tuple[str, int]) -> None:
            reply = b.say(prep[0], f"接单 {prep[1]}")
            assert "接单成功" in reply, reply

        b.repeat("webhook: 接单 N", runs, take, take_setup)
        tidy(b)
    if want("console"):
        with b.services.sessions() as s:
            last = s.scalar(select(Order.id).where(Order.hub_id == 1, Order.state == "closed")
                            .order_by(Order.id.desc()).limit(1))
            middle = s.scalar(select(Order.id).where(Order.hub_id == 1).order_by(Order.id)
                              .offset(s.scalar(text("SELECT count(*) / 2 FROM orders WHERE hub_id = 1"))).limit(1))

        def page(path: str) -> Callable[[Any], None]:
            def get(_: Any) -> None:
                resp = b.staff.get(path)
                assert resp.status_code == 200, (path, resp.status_code)
            return get

        # the orders board and the volunteers list page by key (bot.admin.paging): before=end is the last page
        for label, path in (("console: /admin/dashboard", "/admin/dashboard"),
                            ("console: /admin/orders", "/admin/orders"),
                            ("console: /admin/orders, the last page (before=end)", "/admin/orders?before=end"),
                            ("console: /admin/orders, a page in the middle (after=)",
                             f"/admin/orders?after={middle}&state=closed"),
                            ("console: /admin/orders/<id>", f"/admin/orders/{last}"),
                            ("console: /admin/orders/<id>?who=志愿者 (volunteer search)",
                             f"/admin/orders/{last}?who=志愿者"),
                            ("console: /admin/volunteers", "/admin/volunteers"),
                            ("console: /admin/volunteers, the last page (before=end)", "/admin/volunteers?before=end"),
                            ("console: /admin/ledger?month=2026-11", "/admin/ledger?month=2026-11")):
            b.repeat(label, runs, page(path))
    if want("retention"):
        outbox = retention.cuts(b.services, NOW)[0]

        def one_batch(s: Session, _: Any) -> None:  # rolled back: the seed keeps its rows
            s.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(retention.batch_select(
                outbox, b.services.config.retention_batch).scalar_subquery())).execution_options(
                    synchronize_session=False))

        b.domain("retention: one delete batch (1,000 finished outbox rows, rolled back)", runs, one_batch)
        b.repeat("retention: a run with nothing past its cut-off (3 tables)", runs,
                 lambda _: retention.prune(b.services, NOW - timedelta(days=800)))
    if want("claim"):
        def waiting(s: Session) -> int:  # 50 orders waiting in 50 hubs, the newest for 尽快
            made = [b.new_order(s, hub_id=h) for h in range(1, 51)]
            made[-1].time_kind, made[-1].start_at = "asap", None
            s.flush()
            return made[-1].id

        b.domain("dispatch: claim_waiting, 50 waiting (the newest urgent)", runs,
                 lambda s, _: orders.claim_waiting(s, NOW), waiting)
    if want("broadcast"):
        # a 群发 to a community of hub 1: its residents are the orders' (the addresses sealed, as the app stores them)
        print(f"  hub 1: {sealed_addresses(b, 1):,} order addresses sealed for the broadcast rows", flush=True)
        segment = "community:幸福小区"
        b.domain("broadcast: community segment (recipients), hub 1", runs,
                 lambda s, _: broadcasts.recipients(s, 1, segment, NOW))
        made: list[int] = []

        def bc_setup() -> int:
            made.append(broadcasts.create(b.services.sessions, hub_id=1, segment=segment, text=f"停水通知 {b.next()}",
                                          now=NOW, actor="bench", force=True))
            return made[-1]

        b.repeat("broadcast: enqueue community:幸福小区, hub 1", runs,
                 lambda bid: broadcasts.enqueue_all(b.services.sessions, bid, NOW), bc_setup)
        with transaction(b.services.sessions) as s:  # what the runs queued goes again: nothing is to send it
            for bid in made:
                s.execute(text("DELETE FROM broadcast_recipients WHERE broadcast_id = :b"), {"b": bid})
                s.execute(text("DELETE FROM outbox WHERE idempotency_key LIKE :k"), {"k": f"bc:{bid}:%"})
                s.execute(text("DELETE FROM audit_log WHERE subject = :s"), {"s": f"broadcast:{bid}"})
                s.execute(text("DELETE FROM broadcasts WHERE id = :b"), {"b": bid})


def explain(b: Bench) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of dispatch's ranked query and the sweep's due-orders query, hub 1."""
    with b.services.sessions() as s:
        order = b.new_order(s)
        COUNTER.keep, COUNTER.on, COUNTER.sql = True, True, []
        orders.candidates(s, order, NOW, limit=3)
        orders.sweep(s, 1, NOW, {})
        orders.due_hubs(s, NOW)
        COUNTER.keep, COUNTER.on = False, False
        wanted = {"candidates": "FROM memberships", "due orders": "UNION ALL", "due dialogues": "NOT IN ('IDLE'",
                  "due hubs": "sweep_cuts"}
        for label, needle in wanted.items():
            sql, params = next((q, p) for q, p in COUNTER.sql if needle in q and (label != "due orders" or
                                                                                   "sweep_cuts" not in q))
            plan = s.connection().exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).all()
            print(f"  -- EXPLAIN {label}")
            for (line,) in plan:
                print(f"     {line}")
        s.rollback()
        # the worker's claim (urgent first) with 50 orders waiting, and a community's 群发 segment
        waiting = [b.new_order(s, hub_id=h) for h in range(1, 51)]
        waiting[-1].time_kind, waiting[-1].start_at = "asap", None
        s.flush()
        COUNTER.keep, COUNTER.on, COUNTER.sql = True, True, []
        claimed = orders.claim_waiting(s, NOW)
        broadcasts.recipients(s, 1, "community:幸福小区")
        COUNTER.keep, COUNTER.on = False, False
        assert claimed is not None and claimed.id == waiting[-1].id, "the urgent order is claimed first"
        for label, needle in (("claim_waiting (urgent first)", "FOR UPDATE"), ("community segment", "UNION")):
            sql, params = next((q, p) for q, p in COUNTER.sql if needle in q)
            print(f"  -- EXPLAIN {label}")
            for (line,) in s.connection().exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).all():
                print(f"     {line}")
        s.rollback()
        stmt = retention.batch_select(retention.cuts(b.services, NOW)[0], b.services.config.retention_batch)
        sql = str(stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
        print("  -- EXPLAIN retention: the ids of one outbox delete batch")
        for (line,) in s.connection().exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").all():
            print(f"     {line}")
        s.rollback()


def retention_run(b: Bench) -> None:
    """One real nightly retention run (bot.worker.retention.prune at the seed's now; it commits, so the seed
    loses its finished outbox rows older than outbox_keep_days, at most retention_max_batches batches of them)."""
    with b.services.sessions() as s:
        before = s.scalar(text("SELECT count(*) FROM outbox")) or 0
    timed: list[tuple[float, int]] = []
    with measured(timed):
        deleted = retention.prune(b.services, NOW)
    b.record("retention: a nightly run at the seed's now (commits)", timed)
    print(f"  retention run: {deleted} of {before:,} outbox rows in {timed[0][0]:,.0f} ms, "
          f"{timed[0][1]} statements", flush=True)


# ------------------------------------------------------------------------------------------------ the table


def table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    scales = sorted(results, key=int)
    if not scales:
        return "(no results yet)"
    ops: list[str] = []
    for k in scales:
        ops += [op for op in results[k] if op not in ops]
    head = ["operation", *[f"{k}× median (min–max) ms" for k in scales]]
    base = scales[0]
    head += [f"{k}×/{base}×" for k in scales[1:]] + ["SQL statements " + " / ".join(f"{k}×" for k in scales)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for op in ops:
        cells = [op]
        for k in scales:
            r = results[k].get(op)
            cells.append(f"{r['median']:,.1f} ({r['min']:,.0f}–{r['max']:,.0f})" if r else "—")
        for k in scales[1:]:
            a, r = results[base].get(op), results[k].get(op)
            cells.append(f"{r['median'] / a['median']:.1f}×" if a and r and a["median"] > 0 else "—")
        cells.append(" / ".join(str(results[k][op]["statements"]) if op in results[k] else "—" for k in scales))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=DEFAULT_URL, help="base URL; the scale is appended to its name")
    ap.add_argument("--scales", default="1,10", help="comma-separated multiples of 1× (1, 10, 100)")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--reseed", action="store_true", help="seed again even if the database holds the scale")
    ap.add_argument("--seed-only", action="store_true")
    ap.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the dispatch and sweep queries")
    ap.add_argument("--only", help="only the operations whose name contains this")
    ap.add_argument("--retention-run", action="store_true",
                    help="last, one real retention run (deletes the seed's old outbox rows: reseed to repeat it)")
    ap.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    ap.add_argument("--table", action="store_true", help="print the table of --results and exit")
    args = ap.parse_args()
    stored: dict[str, Any] = json.loads(args.results.read_text()) if args.results.exists() else {}
    if args.table:
        print(table(stored))
        return
    for scale in (int(k) for k in args.scales.split(",")):
        z = Size.of(scale)
        url = database_url(args.database_url, scale)
        print(f"== {scale}×: {HUBS} hubs, {z.volunteers:,} volunteers, {z.residents:,} residents, {z.orders:,} orders, "
              f"{z.processed:,} processed messages, {z.outbox:,} outbox rows  ({make_url(url).database})", flush=True)
        ensure_database(url)
        if args.reseed or seeded_scale(url) != scale:
            codes = [svc.code for svc in load_understanding(None).catalogue]
            print(f"  seeding ({len(codes)} services)…", flush=True)
            print(f"  seeded in {seed(url, z, codes):.0f} s", flush=True)
        if args.seed_only:
            continue
        b = build(url, z)
        try:
            run_operations(b, args.runs, args.only)
            if args.explain:
                explain(b)
            if args.retention_run:
                retention_run(b)
        finally:
            b.services.close()
        stored.setdefault(str(scale), {}).update(b.results)
        args.results.write_text(json.dumps(stored, ensure_ascii=False, indent=1))
    print()
    print(table(stored))


if __name__ == "__main__":
    main()
