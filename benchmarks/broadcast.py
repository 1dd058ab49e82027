"""Broadcast benchmark: a big broadcast against the fake WeChat server, with the worker killed halfway.

What it does:
  1. a fresh database (SQLite file in a temp dir, or --database-url, which is reset and migrated), one hub,
     --recipients followers (90 % inside the 48-hour window, 10 % outside it: those go as template messages);
  2. queues one broadcast to all of them with bot.community.broadcasts (the code `leifeng broadcast send` runs) and
     times it;
  3. starts the real worker (`leifeng worker`, a subprocess) with LEIFENG_WECHAT_SEND_PER_SECOND=--cap and
     LEIFENG_OUTBOX_SEND_THREADS=--threads against
     the fake WeChat server (in this process, on loopback), measures the send rate it achieves;
  4. SIGKILLs the worker when about half is sent (no clean shutdown, rows mid-flight), starts a new one, and
     waits until every row is sent or dead;
  5. counts, from what the fake server received: deliveries per person (duplicates must be 0), people who
     got nothing, and rows dead-lettered (a row the killed worker was sending when it died is marked "outcome
     unknown" and not resent: broadcasts go at most once).

It prints figures and asserts nothing.

    python benchmarks/broadcast.py [--recipients 100000] [--cap 500] [--threads 8] [--database-url URL]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

from bot.community import broadcasts  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.devtools.fake_wechat import FakeWeChatServer  # noqa: E402
from bot.services import build_services  # noqa: E402
from storage.db import make_engine, upgrade  # noqa: E402
from storage.models import OutboxMessage, User  # noqa: E402


def reset(url: str) -> None:
    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)


def env_for(url: str, fake: FakeWeChatServer, cap: float, threads: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEIFENG_")}
    env.update({
        "LEIFENG_ENV": "development",  # a local benchmark: the published development secrets are fine here
        "LEIFENG_DATABASE_URL": url, "LEIFENG_WECHAT_API_BASE_URL": fake.url,
        "LEIFENG_WECOM_ROBOT_BASE_URL": fake.url, "LEIFENG_WECHAT_APPID": "wxbench000000001",
        "LEIFENG_WECHAT_SECRET": "bench", "LEIFENG_WECHAT_NOTICE_TEMPLATE_ID": "TPL_BENCH",
        "LEIFENG_WECHAT_SEND_PER_SECOND": str(cap), "LEIFENG_OUTBOX_LEASE_SECONDS": "5",
        "LEIFENG_SCHEDULER_LOCK_SECONDS": "5", "LEIFENG_OUTBOX_BATCH_SIZE": "100",
        "LEIFENG_OUTBOX_SEND_THREADS": str(threads),
    })
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen([sys.executable, "-c", "from bot.cli.main import main; main()", "worker",
                             "--interval", "0.2"],
                            env=env, stdout=out, stderr=out, cwd=ROOT)


def delivered(fake: FakeWeChatServer) -> list[str]:
    with fake.state.lock:
        return [c["body"]["touser"] for c in fake.state.calls
                if c["method"] == "POST" and c["path"].endswith(("custom/send", "template/send"))
                and c["result"].get("errcode") == 0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipients", type=int, default=100_000)
    ap.add_argument("--cap", type=float, default=500.0, help="LEIFENG_WECHAT_SEND_PER_SECOND for the worker")
    ap.add_argument("--threads", type=int, default=8, help="LEIFENG_OUTBOX_SEND_THREADS for the worker")
    ap.add_argument("--database-url", default="")
    ap.add_argument("--kill-at", type=float, default=0.5, help="kill the worker when this share is sent")
    args = ap.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake server's access log

    tmp = Path(tempfile.mkdtemp(prefix="leifeng-bc-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    reset(url)
    fake = FakeWeChatServer().start()
    env = env_for(url, fake, args.cap, args.threads)
    cfg = load_config({k[len("LEIFENG_"):].lower(): v for k, v in env.items() if k.startswith("LEIFENG_")},
                      environ={})
    svc = build_services(cfg)
    now = datetime.now(UTC)
    n = args.recipients
    print(f"broadcast benchmark: {n} recipients, cap {args.cap:g}/s, {args.threads} send threads, database {url}",
          flush=True)

    t0 = time.perf_counter()
    with svc.engine.begin() as conn:
        hub_id = conn.execute(text("SELECT id FROM hubs WHERE slug = 'default'")).scalar_one()
        for start in range(0, n, 10_000):
            conn.execute(insert(User), [
                {"hub_id": hub_id, "openid": f"oBench{i:07d}", "roles": [], "subscribed": True,
                 "last_inbound_at": now if i % 10 else now - timedelta(days=3), "created_at": now}
                for i in range(start, min(n, start + 10_000))])
    print(f"  seeded {n} followers in {time.perf_counter() - t0:.1f} s", flush=True)

    t0 = time.perf_counter()
    bid = broadcasts.create(svc.sessions, hub_id=hub_id, segment="all-subscribers",
                            text="雷锋超市通知：本周六活动照常举行。", now=now)
    queued, skipped = broadcasts.enqueue_all(svc.sessions, bid, now)
    enqueue_s = time.perf_counter() - t0
    print(f"  enqueue: {queued} queued, {skipped} skipped in {enqueue_s:.1f} s ({queued / enqueue_s:,.0f} rows/s)",
          flush=True)

    log = tmp / "worker.log"
    worker = start_worker(env, log)
    t_start = time.perf_counter()
    samples: list[tuple[float, int]] = []
    killed_at = None
    while True:
        time.sleep(0.5)
        got = len(delivered(fake))
        samples.append((time.perf_counter() - t_start, got))
        if got >= n * args.kill_at:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            killed_at = (time.perf_counter() - t_start, got)
            break
        if worker.poll() is not None:
            print(f"  worker exited early (code {worker.returncode}); see {log}")
            return
    # steady rate: between 10 % and the kill, ignoring start-up
    first = next((t, c) for t, c in samples if c >= n * 0.1)
    rate = (killed_at[1] - first[1]) / max(1e-9, killed_at[0] - first[0])
    print(f"  phase 1: killed the worker (SIGKILL) after {killed_at[1]} deliveries at {killed_at[0]:.1f} s; "
          f"steady send rate {rate:,.0f}/s vs cap {args.cap:g}/s ({rate / args.cap:.0%})", flush=True)

    t_restart = time.perf_counter()
    worker = start_worker(env, log)
    while True:
        time.sleep(1.0)
        with svc.sessions() as s:
            left = s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status.in_(["pending", "sending"]))) or 0
        if left == 0:
            break
        if worker.poll() is not None:
            print(f"  restarted worker exited early (code {worker.returncode}); see {log}")
            return
    restart_s = time.perf_counter() - t_restart
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()

    per_person = Counter(delivered(fake))
    duplicates = sum(c - 1 for c in per_person.values() if c > 1)
    with svc.sessions() as s:
        p = broadcasts.progress(s, bid)
        dead_errors = broadcasts.describe_errors(p)
    missing = queued - len(per_person)
    print(f"  phase 2: restarted worker finished the rest in {restart_s:.1f} s "
          f"(includes waiting for the dead worker's lock and leases to expire, 5 s each)", flush=True)
    print(f"  result: delivered to {len(per_person)} people; duplicates {duplicates}; got nothing {missing}; "
          f"status sent {p.sent} / failed {p.failed} / skipped {p.skipped} / pending {p.pending}; "
          f"via {dict(p.via)}")
    for line in dead_errors:
        print("  dead:" + line)
    fake.stop()
    svc.close()


if __name__ == "__main__":
    main()
