"""Fault benchmark: the worker (a real `leifeng worker` subprocess) is killed with SIGKILL mid-send, N times, against
the fake WeChat server, with several send threads; what did people receive?

What it does:
  1. a fresh database (SQLite file in a temp dir, or --database-url, which is reset and migrated), one hub with
     --people followers who wrote lately, each with one ordinary chat message queued (sent at least once: a row
     the dead worker was sending is sent again), and a team of --team volunteers, to whom one team announcement is
     queued through bot.community.broadcasts (a message each, sent at most once: "once" rows);
  2. the fake WeChat server (in this process, on loopback) takes --latency seconds to answer every send, as the
     real one does across the network, so at any moment up to --threads sends are in flight;
  3. starts the worker with LEIFENG_OUTBOX_SEND_THREADS=--threads, and SIGKILLs it each time another share of
     the messages has arrived (--kills times in all), then starts a new one (which waits for the dead one's
     scheduler lock and leases to expire, 5 s each);
  4. after each kill, once the sends that were in flight have landed, notes which rows the dead worker held
     (status `sending`) and which of them WeChat had already received;
  5. when everything is settled, counts per crash, from what the fake server received: duplicates (a person got
     their ordinary message twice), losses (a row shown as sent, or still to send, that nobody received: must be
     0), and unknowns (announcement rows whose outcome nobody can know: the worker died between marking them and
     hearing back; shown apart from failures in `leifeng broadcast status`), with how many of those did arrive.

It prints figures and asserts nothing. The bound the sender promises: a crash duplicates at most one message per
send thread (each thread has at most one send in flight), never an announcement (those are "outcome unknown"
instead), never a template or a 群发 (WeChat drops the repeat by its client_msg_id / clientmsgid).

    python benchmarks/faults.py [--kills 3] [--threads 8] [--people 400] [--team 200] [--latency 0.05]
                                [--database-url URL]
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from benchmarks.broadcast import env_for, reset, start_worker  # noqa: E402
from bot.community import broadcasts  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.devtools.fake_wechat import FakeWeChatServer  # noqa: E402
from bot.outbox import enqueue  # noqa: E402
from bot.services import Services, build_services  # noqa: E402
from bot.worker.sender import ATTEMPTING  # noqa: E402
from storage.db import transaction  # noqa: E402
from storage.models import Membership, OutboxMessage, Team, User, Volunteer  # noqa: E402

CUSTOM = "/cgi-bin/message/custom/send"
CHAT_TEXT = "雷锋超市提醒您：明天上午社区卫生站有免费量血压，带上医保卡就行。"
TEAM_TEXT = "理发队通知：本周六早上八点半在雷锋超市门口集合，记得带工具。"


@dataclass
class Crash:
    """What the dead worker left: rows it held, which of them WeChat had received, which were marked "attempting"."""

    held: set[int] = field(default_factory=set)
    arrived: set[int] = field(default_factory=set)
    attempting: set[int] = field(default_factory=set)


def seed(svc: Services, people: int, team_size: int, now: datetime) -> tuple[int, dict[int, str]]:
    """Followers with a chat message each, and a team; returns (broadcast id, outbox row id -> openid)."""
    with transaction(svc.sessions) as s:
        hub_id = int(s.execute(text("SELECT id FROM hubs WHERE slug = 'default'")).scalar_one())
        for i in range(people):
            openid = f"oFaultRes{i:05d}"
            s.add(User(hub_id=hub_id, openid=openid, roles=[], subscribed=True, last_inbound_at=now, created_at=now))
            enqueue(s, hub_id=hub_id, to=openid, text=CHAT_TEXT, now=now, idempotency_key=f"fault:chat:{i}")
        team = Team(hub_id=hub_id, code="haircut", name="理发队", services=["haircut"], created_at=now)
        s.add(team)
        s.flush()
        for i in range(team_size):
            user = User(hub_id=hub_id, openid=f"oFaultVol{i:05d}", roles=["volunteer"], subscribed=True,
                        last_inbound_at=now, created_at=now)
            vol = Volunteer(name=f"志愿者{i}", skills=["haircut"], availability=[], created_at=now)
            s.add_all([user, vol])
            s.flush()
            user.volunteer_id = vol.id
            s.add(Membership(hub_id=hub_id, volunteer_id=vol.id, user_id=user.id, team_id=team.id, status="active",
                             created_at=now, updated_at=now))
    bid = broadcasts.create(svc.sessions, hub_id=hub_id, segment="team:haircut", text=TEAM_TEXT, now=now,
                            actor="faults")
    broadcasts.enqueue_all(svc.sessions, bid, now)
    with svc.sessions() as s:
        rows = dict(s.execute(select(OutboxMessage.id, OutboxMessage.to)
                              .where(OutboxMessage.channel == "wechat")).all())
    return bid, {int(k): str(v) for k, v in rows.items()}


def arrivals(fake: FakeWeChatServer) -> Counter[str]:
    """Customer-service messages WeChat accepted, per person."""
    return Counter(str(c["body"]["touser"]) for c in fake.calls(CUSTOM) if c["result"].get("errcode") == 0)


def held_rows(svc: Services) -> tuple[set[int], set[int]]:
    with svc.sessions() as s:
        rows = s.execute(select(OutboxMessage.id, OutboxMessage.sent_via)
                         .where(OutboxMessage.status == "sending")).all()
    return {int(i) for i, _ in rows}, {int(i) for i, via in rows if via == ATTEMPTING}


def unsettled(svc: Services) -> int:
    with svc.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status.in_(["pending", "sending"]))) or 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--threads", type=int, default=8, help="LEIFENG_OUTBOX_SEND_THREADS for the worker")
    ap.add_argument("--people", type=int, default=400, help="followers with an ordinary chat message each")
    ap.add_argument("--team", type=int, default=200, help="team members who get the team announcement")
    ap.add_argument("--latency", type=float, default=0.05, help="seconds the fake WeChat takes to answer a send")
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake server's access log

    tmp = Path(tempfile.mkdtemp(prefix="leifeng-faults-"))
    url = args.database_url or f"sqlite:///{tmp / 'faults.db'}"
    reset(url)
    fake = FakeWeChatServer().start()
    env = env_for(url, fake, 0, args.threads)  # no per-second cap: the latency alone paces the sends
    cfg = load_config({k[len("LEIFENG_"):].lower(): v for k, v in env.items() if k.startswith("LEIFENG_")},
                      environ={})
    svc = build_services(cfg)
    now = datetime.now(UTC)
    bid, row_to = seed(svc, args.people, args.team, now)
    fake.adopt_users(svc.sessions)  # they follow, and wrote just now: 5 customer-service messages each
    fake.fail(CUSTOM, delay=args.latency, times=10**9)  # a delay, then the normal answer
    total = len(row_to)
    print(f"fault benchmark: {args.people} chat messages + {args.team} announcement copies, {args.threads} send "
          f"threads, {args.kills} kills, {args.latency * 1000:.0f} ms per send, database {url}", flush=True)

    log = tmp / "worker.log"
    crashes: list[Crash] = []
    for k in range(1, args.kills + 1):
        target = total * k // (args.kills + 1)
        worker = start_worker(env, log)
        while sum(arrivals(fake).values()) < target:
            if worker.poll() is not None:
                print(f"  worker exited early (code {worker.returncode}); see {log}")
                return
            time.sleep(0.005)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        time.sleep(args.latency * 4 + 0.5)  # the sends that were in flight land (or not) at WeChat
        got = arrivals(fake)
        held, attempting = held_rows(svc)
        crashes.append(Crash(held, {r for r in held if got[row_to[r]]}, attempting))
        print(f"  kill {k}: after {sum(got.values())} arrivals; the dead worker held {len(held)} rows, "
              f"{len(crashes[-1].arrived)} of them already at WeChat", flush=True)

    worker = start_worker(env, log)
    t0 = time.perf_counter()
    while unsettled(svc):
        if worker.poll() is not None:
            print(f"  last worker exited early (code {worker.returncode}); see {log}")
            return
        time.sleep(0.5)
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
    print(f"  the last worker settled the rest in {time.perf_counter() - t0:.1f} s", flush=True)

    got = arrivals(fake)
    with svc.sessions() as s:
        final = {int(i): (str(st), via) for i, st, via in s.execute(
            select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.sent_via).where(
                OutboxMessage.channel == "wechat")).all()}
        p = broadcasts.progress(s, bid)
    announcement = {r for r in row_to if row_to[r].startswith("oFaultVol")}
    unknown_rows = {r for r, (st, via) in final.items() if st == "dead" and via == ATTEMPTING}
    for k, crash in enumerate(crashes, 1):
        dups = sum(1 for r in crash.arrived - announcement if got[row_to[r]] > 1)
        unknown = crash.attempting & unknown_rows
        print(f"  crash {k}: duplicates {dups} (bound: {args.threads}, one per send thread); "
              f"unknowns {len(unknown)} ({sum(1 for r in unknown if got[row_to[r]])} of them had arrived)")
    duplicates = sum(n - 1 for n in got.values() if n > 1)
    silent = [r for r, (st, _) in final.items() if st != "dead" and not got[row_to[r]]]
    unknown_lost = sum(1 for r in unknown_rows if not got[row_to[r]])
    print(f"  total: {total} rows; duplicates {duplicates} ({duplicates / max(1, len(crashes)):.1f} per crash, "
          f"announcements {sum(1 for r in announcement if got[row_to[r]] > 1)}); losses {len(silent)} "
          f"(shown sent or pending yet never received); unknowns {len(unknown_rows)} ({unknown_lost} never arrived)")
    print(f"  broadcast status: {p.line()}")
    fake.stop()
    svc.close()


if __name__ == "__main__":
    main()
