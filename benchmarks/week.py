"""A simulated week of one hub through the strict fake WeChat: what the bot wanted to say, what was delivered and by
which route, what WeChat refused (the target is none), what reached nobody and was shown to staff, and how much of
each follower's monthly 群发 quota was used.

What it does (one process, a fake clock, every message through the real webhook, outbox and worker jobs):
  1. a fresh SQLite database (or --database-url, reset and migrated), the sample hub (teams, staff, merchants),
     --volunteers volunteers in its teams (skills from their team's services; each last wrote to the account at a
     random time in the past ten days), --residents followers (a quarter opted in to event reminders), four of
     the nine teams with a WeCom group robot, the hub's single notice template configured;
  2. --days days from Monday 08:00: --orders-per-day orders placed by residents in chat between 08:00 and 20:00
     (one sentence, the phone, "1"); a volunteer who received the offer (by any route) accepts within the hour
     ("接单 N", which opens their own quota), reports "完成 N 1.5" after the appointment, and 70 % of residents
     who were asked rate within a day; every 10 simulated minutes the worker's jobs run (order sweep, reminders,
     the daily digest) and the outbox is drained;
  3. two street events (the rule's Saturday and one added by staff), each announced as a 群发 and reminded to
     subscribers and the teams taking part; one staff broadcast to all subscribers;
  4. counts, from the outbox and from what the fake server saw: messages wanted by kind, delivered by route,
     merged, undelivered (staff should phone) and shown (not worth a call), refused calls by errcode, the most
     customer-service messages one person got after one of their messages, and the 群发 quota used per follower.

It prints figures and asserts nothing.

    python benchmarks/week.py [--volunteers 300] [--residents 600] [--orders-per-day 50] [--days 7] [--seed 1]
    python benchmarks/week.py --no-template      # a hub without its template: robots, and the staff's phone list
    python benchmarks/week.py --subscription     # a hub on a 订阅号: no templates, one 群发 a day, each by a tag
                                                 # (the events announced on different days, and a team 群发 too)
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.community import broadcasts, events  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.devtools.fake_wechat import FakeWeChatServer  # noqa: E402
from bot.devtools.seed import TEAMS, seed_demo_hub  # noqa: E402
from bot.devtools.simulator import Account, message_xml  # noqa: E402
from bot.services import Services, build_services  # noqa: E402
from bot.worker import jobs  # noqa: E402
from bot.worker.sender import OutboxSender  # noqa: E402
from storage import subscriptions  # noqa: E402
from storage.db import make_engine, transaction, upgrade  # noqa: E402
from storage.models import Membership, Order, OrderOffer, OutboxMessage, Team, User, Volunteer  # noqa: E402
from storage.models_events import EventSubscription, MassSendCount  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)  # a Monday; the 4th Saturday of the month falls in the week
STEP = timedelta(minutes=10)
ROBOT_TEAMS = ("repair", "haircut", "medical", "care")
ORDERS = (  # what residents ask for, in words the matcher takes in one go: (service, sentence with {t} and {a})
    ("haircut", "{t}来给我老伴理个发，地址{a}"), ("repair", "{t}来帮我修一下水龙头，地址{a}"),
    ("escort", "{t}陪我去医院看病，地址{a}"), ("errands", "{t}帮我买点菜送上门，地址{a}"),
    ("companionship", "{t}想找人来陪陪我说说话，地址{a}"), ("digital", "{t}来教我用智能手机，地址{a}"),
    ("housekeeping", "{t}来帮我打扫一下卫生，地址{a}"),
)
WHEN = ("明天上午十点", "明天下午三点", "后天上午九点", "后天下午两点")


@dataclass
class World:
    services: Services
    fake: FakeWeChatServer
    clock: FakeClock
    client: Any
    account: Account
    rng: random.Random
    residents: list[str]
    pending: list[tuple[datetime, int, str, tuple[Any, ...]]] = field(default_factory=list)  # a heap of actions
    seq: int = 0
    said: int = 0
    orders_tried: int = 0
    orders_placed: int = 0

    def say(self, openid: str, words: str) -> str:
        now = int(self.clock.now().timestamp())
        self.seq += 1
        xml = message_xml(to="gh_hub", sender=openid, create_time=now, msg_type="text", Content=words,
                          MsgId=str(10**9 + self.seq))
        self.fake.push(xml)  # WeChat knows what the user did: it delivers the message
        req = self.account.sign(xml, now=now, openid=openid)
        resp = self.client.post("/wechat", query_string=req.params, data=req.body)
        self.said += 1
        reply = self.account.read(resp.data)
        return "" if reply is None else str(reply.get("Content", ""))

    def later(self, at: datetime, what: str, *args: Any) -> None:
        import heapq

        self.seq += 1
        heapq.heappush(self.pending, (at, self.seq, what, args))


def reset(url: str) -> None:
    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)


def build(args: argparse.Namespace) -> World:
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='leifeng-week-')) / 'week.db'}"
    reset(url)
    clock = FakeClock(START.astimezone(UTC))
    fake = FakeWeChatServer(clock=clock).start()
    config = load_config({"env": "development", "database_url": url, "wechat_api_base_url": fake.url,
                          "wecom_robot_base_url": fake.url, "wechat_token": "week-token",
                          "wechat_appid": "wxweek0000000001", "wechat_secret": "week-secret",
                          "wechat_notice_template_id": "" if args.no_template else "TPL_WEEK_NOTICE",
                          "wechat_send_per_second": 0,
                          "outbox_batch_size": 500}, environ={})
    services = build_services(config, clock, worker=True)
    rng = random.Random(args.seed)
    now = clock.now()
    if args.subscription:
        fake.rules.account = "subscription"
    with transaction(services.sessions) as s:
        seed_demo_hub(s, now, hub_name="白莲街道雷锋超市")
        if args.subscription:
            subscriptions.set_account_kind(s, 1, subscriptions.SUBSCRIPTION, now)
        teams = {t.code: t for t in s.scalars(select(Team))}
        for code in ROBOT_TEAMS:
            teams[code].robot_key = f"ROBOT-{code.upper()}"
        services_of = {code: list(svcs) for code, _, svcs in TEAMS if svcs}
        for i in range(args.volunteers - 5):
            code = rng.choice(sorted(services_of))
            skills = rng.sample(services_of[code], k=min(len(services_of[code]), rng.randint(1, 3)))
            vol = Volunteer(name=f"志愿者{i:03d}", phone=f"137{i:08d}", skills=skills, availability=[], created_at=now)
            s.add(vol)
            s.flush()
            wrote = now - timedelta(minutes=rng.randint(0, 10 * 24 * 60))
            user = User(hub_id=1, openid=f"oWeekVol{i:04d}", roles=["volunteer"], nickname=vol.name, phone=vol.phone,
                        volunteer_id=vol.id, subscribed=True, last_inbound_at=wrote, created_at=now)
            s.add(user)
            s.flush()
            s.add(Membership(hub_id=1, volunteer_id=vol.id, user_id=user.id, team_id=teams[code].id,
                             status="active", max_open_tasks=3, created_at=now, updated_at=now))
        residents = []
        for i in range(args.residents):
            openid = f"oWeekRes{i:04d}"
            wrote = now - timedelta(days=rng.randint(1, 60)) if rng.random() < 0.8 else None
            user = User(hub_id=1, openid=openid, roles=[], subscribed=True, last_inbound_at=wrote, created_at=now)
            s.add(user)
            s.flush()
            residents.append(openid)
            if rng.random() < 0.25:
                s.add(EventSubscription(hub_id=1, user_id=user.id, subscribed=True, source="bench", updated_at=now))
    services.hubs.forget()
    fake.adopt_users(services.sessions)
    account = Account(token=config.wechat_token, appid=config.wechat_appid)
    return World(services, fake, clock, create_app(services=services).test_client(), account, rng, residents)


def place_order(w: World) -> None:
    who = w.rng.choice(w.residents)
    service, sentence = w.rng.choice(ORDERS)
    words = sentence.format(t=w.rng.choice(WHEN), a=f"幸福小区{w.rng.randint(1, 12)}栋{w.rng.randint(1, 4)}单元"
                                                    f"{w.rng.randint(1, 6)}0{w.rng.randint(1, 4)}")
    w.orders_tried += 1
    reply = w.say(who, words)
    for _ in range(4):
        if "已提交" in reply:
            w.orders_placed += 1
            return
        if "核对" in reply:
            reply = w.say(who, "1")
        elif "电话" in reply:
            reply = w.say(who, f"138{w.rng.randint(10**7, 10**8 - 1)}")
        else:
            w.say(who, "取消")
            return


def received_offers(w: World) -> None:
    """Volunteers who got an offer (by any route) and have not acted yet: one of each order accepts soon."""
    with w.services.sessions() as s:
        waiting = s.execute(select(Order.id).where(Order.state == "dispatched")).scalars().all()
        for order_id in waiting:
            if any(a[0] == "accept" and a[3][0] == order_id for a in w.pending):
                continue
            offered = s.execute(select(OrderOffer.volunteer_id).where(OrderOffer.order_id == order_id)).scalars().all()
            keys = {f"offer:{order_id}:{v}": v for v in offered}
            got = [keys[k] for k in s.execute(select(OutboxMessage.idempotency_key).where(
                OutboxMessage.idempotency_key.in_(list(keys)), OutboxMessage.status == "sent")).scalars()]
            if got and w.rng.random() < 0.9:
                vol = w.rng.choice(got)
                openid = s.scalar(select(User.openid).where(User.volunteer_id == vol, User.hub_id == 1))
                w.later(w.clock.now() + timedelta(minutes=w.rng.randint(5, 60)), "accept", order_id, openid)


def ref_of(w: World, order_id: int) -> int:
    """The 单号 people see and type (storage.orderrefs), not the row's id."""
    with w.services.sessions() as s:
        return int(s.scalar(select(Order.ref).where(Order.id == order_id)) or order_id)


def act(w: World, what: str, args: tuple[Any, ...]) -> None:
    if what == "accept":
        order_id, openid = args
        if "接单成功" in w.say(openid, f"接单 {ref_of(w, order_id)}"):
            with w.services.sessions() as s:
                start = s.scalar(select(Order.start_at).where(Order.id == order_id))
            done = (start.replace(tzinfo=UTC) if start else w.clock.now()) + timedelta(hours=1)
            w.later(max(done, w.clock.now() + timedelta(minutes=30)), "complete", order_id, openid)
    elif what == "complete":
        order_id, openid = args
        w.say(openid, f"完成 {ref_of(w, order_id)} 1.5")
        with w.services.sessions() as s:
            rater = s.scalar(select(User.openid).join(Order, Order.ordered_by_user_id == User.id)
                             .where(Order.id == order_id))
        if rater and w.rng.random() < 0.7:
            w.later(w.clock.now() + timedelta(minutes=w.rng.randint(10, 24 * 60)), "rate", order_id, rater)
    elif what == "rate":
        order_id, rater = args
        with w.services.sessions() as s:
            asked = s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.idempotency_key.like(f"rate-ask:{order_id}:%"), OutboxMessage.status == "sent"))
        if asked:  # only someone who was asked can answer
            w.say(rater, w.rng.choice(["5", "五颗心", "满意", "4"]))


def simulate(w: World, args: argparse.Namespace) -> dict[str, Any]:
    import heapq

    es = events.EventSettings.from_config(w.services.config)
    svc = w.services
    end = w.clock.now() + timedelta(days=args.days)
    with transaction(svc.sessions) as s:
        rule_events = events.generate(s, 1, es, START.date(), START.date() + timedelta(days=args.days), w.clock.now(),
                                      teams=["culture", "care"])
        extra = events.add(s, 1, title="社区义诊活动", starts_at=(START + timedelta(days=2, hours=6)).astimezone(UTC),
                           ends_at=(START + timedelta(days=2, hours=8)).astimezone(UTC), place="社区卫生站",
                           teams=["medical"], services=["health"], now=w.clock.now(), actor="bench")
        event_ids = [e.id for e in rule_events] + [extra.id]
    # what staff announce, and when: the events at once on a 服务号; on a 订阅号 (one 群发 a day) a day apart, and
    # a team's announcement as well, which goes by the team's tag there (a message each on a 服务号)
    text = "本周六上午雷锋超市门前广场有便民服务，欢迎大家来。"
    plan = [(w.clock.now() + (timedelta(days=i) if args.subscription else timedelta(0)), "event", str(eid))
            for i, eid in enumerate(event_ids)] + [(START + timedelta(days=3, hours=2), "all-subscribers", text)]
    if args.subscription:
        plan.append((START + timedelta(days=4, hours=2), "team:repair", "维修队周六上午在广场集合，带好工具。"))
    plan.sort(key=lambda item: item[0])
    broadcast_ids: list[int] = []
    schedule = sorted(START + timedelta(days=d, minutes=w.rng.randint(0, 12 * 60))
                      for d in range(args.days) for _ in range(args.orders_per_day))
    sender = OutboxSender(svc, owner="week")
    stats: Counter[str] = Counter()
    while w.clock.now() < end:
        now = w.clock.now()
        while schedule and schedule[0].astimezone(UTC) <= now:
            schedule.pop(0)
            place_order(w)
        while w.pending and w.pending[0][0] <= now:
            _, _, what, a = heapq.heappop(w.pending)
            act(w, what, a)
        while plan and plan[0][0].astimezone(UTC) <= now:
            _, segment, what = plan.pop(0)
            if segment == "event":
                bid = broadcasts.announce_event(svc.sessions, hub_id=1, event_id=int(what), now=now, es=es)
            else:
                bid = broadcasts.create(svc.sessions, hub_id=1, segment=segment, text=what, now=now, actor="bench")
                broadcasts.enqueue_all(svc.sessions, bid, now)
            broadcast_ids.append(bid)
        jobs.dispatch_waiting(svc)  # the worker dispatches new orders (the dispatch queue)
        jobs.sweep_orders(svc)
        jobs.reminders(svc)
        jobs.daily_digest(svc)
        done = sender.drain(max_rounds=50)
        stats.update({k: v for k, v in vars(done).items() if isinstance(v, int)})
        received_offers(w)
        w.clock.advance(seconds=STEP.total_seconds())
    return {"stats": stats, "broadcasts": broadcast_ids}


def report(w: World, result: dict[str, Any], seconds: float, args: argparse.Namespace) -> None:
    svc = w.services
    with svc.sessions() as s:
        rows = s.execute(select(OutboxMessage.channel, OutboxMessage.kind, OutboxMessage.status,
                                OutboxMessage.sent_via, OutboxMessage.payload)).all()
        orders = Counter(dict(s.execute(select(Order.state, func.count()).group_by(Order.state)).all()))
        mass = [int(n) for n in s.scalars(select(MassSendCount.count))]
        followers = s.scalar(select(func.count()).select_from(User).where(User.subscribed.is_(True))) or 0
    wanted: Counter[str] = Counter()
    via: Counter[str] = Counter()
    unreached: dict[str, Counter[str]] = defaultdict(Counter)
    status: Counter[str] = Counter()
    people = 0
    for channel, kind, st, sent_via, payload in rows:
        notice = str((payload or {}).get("notice", "?")) if channel == "wechat" else channel
        n = int((payload or {}).get("people", 1)) if kind == "mass" else 1
        people += n
        wanted[notice] += n
        status[st] += n
        if st == "sent":
            via[sent_via or "?"] += n
        elif st in ("undelivered", "skipped"):
            unreached[st][notice] += n
    refused = Counter(c["result"]["errcode"] for c in w.fake.refused())
    rejected_tokens = sum(1 for c in w.fake.calls() if c["result"].get("errcode") == 40001)
    most_custom = max_custom_per_window(w)
    print(f"week benchmark: {args.days} days, {args.volunteers} volunteers, {args.residents} residents, "
          f"{args.orders_per_day} orders a day, {'no template' if args.no_template else 'one notice template'}, "
          f"{'订阅号' if args.subscription else '认证服务号'}, "
          f"seed {args.seed}; {seconds:.0f} s wall clock, "
          f"{w.said} messages to the webhook")
    print(f"  orders: tried {w.orders_tried}, placed {w.orders_placed}; by state {dict(sorted(orders.items()))}")
    print(f"  messages wanted (per person; a 群发 part counts its people): {people}")
    for notice, n in wanted.most_common():
        print(f"    {notice:<15} {n}")
    print(f"  outcome: {dict(sorted(status.items()))}")
    print(f"  delivered by route: {dict(via.most_common())} (merged = inside another message to the same person)")
    for st in ("undelivered", "skipped"):
        print(f"  {st} ({'staff should phone' if st == 'undelivered' else 'shown to staff'}): "
              f"{sum(unreached[st].values())} {dict(unreached[st].most_common())}")
    print(f"  refused calls (target 0): {sum(refused.values())} {dict(refused)}; tokens refused (40001): "
          f"{rejected_tokens}; token requests: {len(w.fake.calls('/cgi-bin/stable_token'))} stable, "
          f"{len(w.fake.calls('/cgi-bin/token'))} classic")
    print(f"  most customer-service messages one person got since their latest message: {most_custom} (WeChat allows 5;"
          " a 6th would have been refused above)")
    spread = Counter(mass)
    calls = len(w.fake.calls("/cgi-bin/message/mass/send"))
    by_tag = len(w.fake.calls("/cgi-bin/message/mass/sendall"))
    tagging = sum(len(w.fake.calls(f"/cgi-bin/tags/{p}")) for p in ("create", "members/batchtagging",
                                                                    "members/batchuntagging"))
    print(f"  群发: {calls} by openid list and {by_tag} by tag for {len(result['broadcasts'])} broadcasts "
          f"({tagging} tag calls); per follower this month: {dict(sorted(spread.items()))} of 4 "
          f"({followers} followers)")


def max_custom_per_window(w: World) -> int:
    """From the fake's own record: the most customer-service messages accepted for one person since their latest
    message or event."""
    worst = 0
    with w.fake.state.lock:
        for p in w.fake.state.people.values():
            for action in (p.message_at, p.event_at):
                if action is not None:
                    worst = max(worst, sum(1 for _, n in p.custom_sent if n > action[1]))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volunteers", type=int, default=300)
    parser.add_argument("--residents", type=int, default=600)
    parser.add_argument("--orders-per-day", type=int, default=50)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-template", action="store_true", help="run the hub without a notice template")
    parser.add_argument("--subscription", action="store_true",
                        help="run the hub on a 公众号/订阅号 (no templates, one 群发 a day, 群发 by tag)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    started = time.monotonic()
    w = build(args)
    logging.getLogger("bot").setLevel(logging.WARNING)
    try:
        result = simulate(w, args)
        report(w, result, time.monotonic() - started, args)
    finally:
        w.fake.stop()
        w.services.close()


if __name__ == "__main__":
    main()
