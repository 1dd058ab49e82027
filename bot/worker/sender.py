"""The outbox sender: claims due rows, plans each person's delivery by the platform's rules, sends, and records the
outcome (the worker's only sender).

Routes. A row to someone on the official account goes by the best route WeChat allows them now
(bot.outbox_rules.routes): a customer-service message while their quota lasts (5 within 48 h of their message,
3 within a minute of a follow, scan or click; the last slots kept for what matters most), else, on a 认证服务号, a
category template built from the notice's facts when it is a service notice they asked for, else a 订阅通知 when
they accepted that notice's template (one notice per one-time acceptance), else for a volunteer the WeCom app or
their team's group robot, else it ends `undelivered` (staff should tell them by phone) or `skipped` (shown to staff,
not worth a call) with its reasons: never a silent dead row. Several messages due to one person at once share one
customer-service message. A 群发 row sends a broadcast's draft to its part of the followers.

Delivery guarantees. A row is claimed by a conditional UPDATE (pending -> sending, with a lease);
only one worker's UPDATE matches, so two workers never send the same row concurrently. A worker that
crashes after WeChat accepted a message but before it marked the row `sent` leaves the row `sending`;
when the lease expires another worker sends it again. Each send thread has at most one send in flight, so a
crash causes at most one duplicate per send thread (`outbox_send_threads`; none for templates and 群发: their
client_msg_id / clientmsgid make WeChat drop the repeat; benchmarks/faults.py measures it), and every
claim counts as an attempt, so a row is never sent more than `outbox_max_attempts` times in all; then it is
`dead` with the last error. A lease is far longer than one send (the HTTP timeout), so a slow but live worker is
not overtaken.
"""

from __future__ import annotations

import html
import logging
import struct
import uuid
import zlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session
from wechatpy.exceptions import WeChatClientException

from bot.channels.sendlimits import RATE_LIMITED, CustomerServiceSlots, Deferred, RateLimiter, robot_reserve
from bot.channels.wechat_client import post_robot
from bot.channels.wecom_api import WeComClient
from bot.errors import WeChatAPIError, hide_query
from bot.outbox import (
    ROBOT_MAX_MARKDOWN_BYTES,
    ROBOT_MAX_TEXT_BYTES,
    UNDELIVERED,
    is_wecom,
    truncate_bytes,
    userid_of,
)
from bot.outbox_rules import (
    NOT_FOLLOWING,
    RULES,
    WINDOW_CLOSED,
    Facts,
    Reach,
    Route,
    may_take_slot,
    merge_texts,
    mergeable,
    nudge,
    routes,
    template_data,
)
from bot.worker import delivery, tagsend
from storage import subscriptions
from storage.db import transaction
from storage.models import AuditLog, OutboxMessage, User
from storage.models_events import Broadcast, BroadcastRecipient, MassSendCount, WeChatMedia

log = logging.getLogger(__name__)

# An outbox row's channel -> the route that delivers it. A WeCom member's openid ("wecom:<userid>") on the
# "wechat" channel goes by the WeCom app: staff and the domain address people, not platforms.
ROUTES: dict[str, str] = {
    "wechat": "wechat",  # the official account (customer-service, template, 群发)
    "wecom_robot": "robot",  # a team's group-robot webhook
    "wecom": "wecom",  # the WeCom app: a member
    "wecom_appchat": "wecom",  # the WeCom app: an app group chat
}

MASS = "mass"  # the kind of an official-account row that is one part of a broadcast's 群发
OUT_OF_WINDOW, OVER_THE_COUNT = 45015, 45047
NOT_FOLLOWER, REFUSES, BAD_TEMPLATE, BAD_VALUE, NO_MASS_QUOTA = 43004, 43101, 40037, 47003, 45028
TEMPLATE_REJECTED = "template_rejected"  # WeChat refused the template itself (40037/47003): a configuration to fix
REFUSES_TEMPLATES = "refuses_templates"
NOT_SUBSCRIBED = "not_subscribed"  # no 订阅通知 left to send (another worker spent the last one)
SUBSCRIBE_REFUSED = "subscribe_refused"  # WeChat says they turned the 订阅通知 off (43101)
MASS_QUOTA = "mass_quota"


def route(channel: str, to: str) -> str | None:
    """Which route delivers a row (pure); None for a channel nobody knows."""
    if channel == "wechat" and is_wecom(to):
        return "wecom"
    return ROUTES.get(channel)


class PermanentSendError(Exception):
    """Sending this row can never succeed (an unknown channel, a broadcast that is gone...)."""


class Unreachable(Exception):  # noqa: N818 - an outcome, not an error: no route could carry the row
    """No route can carry this row: it ends `status` (undelivered | skipped) with the reasons."""

    def __init__(self, status: str, reasons: Iterable[str], phone: str | None = None) -> None:
        self.status = status
        self.reasons = tuple(dict.fromkeys(reasons))
        self.phone = phone
        super().__init__(f"not delivered: {', '.join(self.reasons) or 'no route'}")


@dataclass
class SendStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    undelivered: int = 0  # undelivered or skipped: shown to staff
    merged: int = 0  # rows that went inside another row's message
    via: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, other: SendStats) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retried += other.retried
        self.dead += other.dead
        self.undelivered += other.undelivered
        self.merged += other.merged
        for k, v in other.via.items():
            self.via[k] = self.via.get(k, 0) + v
        self.errors += other.errors

    def count(self, via: str) -> None:
        self.sent += 1
        self.via[via] = self.via.get(via, 0) + 1


# Rows whose payload says {"once": true} are sent at most once: the sender marks them `sent_via = ATTEMPTING`
# just before the API call, and a row found still marked so after a worker died mid-send is dead-lettered
# ("outcome unknown") instead of being sent a second time.
ATTEMPTING = "attempting"


class OutboxSender:
    def __init__(self, services: Any, owner: str | None = None, limiter: Any = None) -> None:

        self.svc = services
        self.owner = owner or f"worker-{uuid.uuid4().hex[:8]}"
        cfg = services.config
        # a per-second cap (with backoff on 45009/45011) on WeChat API sends
        self.limiter = limiter or RateLimiter(cfg.wechat_send_per_second, cfg.wechat_rate_backoff_seconds,
                                              clock=services.clock)
        self.slots = CustomerServiceSlots(services.sessions)
        self.tz = ZoneInfo(cfg.timezone)
        self._wecom: Any = None

    # -- claiming -------------------------------------------------------------------------
    def claim(self, limit: int | None = None) -> list[int]:
        cfg = self.svc.config
        now = self.svc.clock.now()
        abandoned = and_(OutboxMessage.status == "sending", OutboxMessage.lease_until < now)
        due = or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                  and_(abandoned, OutboxMessage.attempts < cfg.outbox_max_attempts))
        claimed: list[int] = []
        with transaction(self.svc.sessions) as s:
            # A row whose every attempt ended with its worker gone may have reached WeChat each time: it is
            # not sent again (that is the bound on duplicates), but marked dead for staff to look at.
            spent = s.execute(select(OutboxMessage.id, OutboxMessage.hub_id).where(
                abandoned, OutboxMessage.attempts >= cfg.outbox_max_attempts)).all()
            for row_id, hub_id in spent:
                error = (f"outcome unknown: the worker stopped while sending it, {cfg.outbox_max_attempts} "
                         "times; not sent again")
                res = s.execute(update(OutboxMessage).where(OutboxMessage.id == row_id, abandoned)
                                .values(status="dead", lease_owner=None, lease_until=None, last_error=error)
                                .execution_options(synchronize_session=False))
                if res.rowcount == 1:  # type: ignore[attr-defined]
                    s.add(AuditLog(hub_id=hub_id, actor=self.owner, action="outbox_dead",
                                   subject=f"outbox:{row_id}", detail={"error": error}, at=now))
            query = (select(OutboxMessage.id).where(due)
                     .order_by(OutboxMessage.priority.desc(), OutboxMessage.id).limit(limit or cfg.outbox_batch_size))
            if s.bind is not None and s.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            for (row_id,) in s.execute(query).all():
                res = s.execute(
                    update(OutboxMessage).where(OutboxMessage.id == row_id, due)
                    .values(status="sending", lease_owner=self.owner,
                            lease_until=now + timedelta(seconds=cfg.outbox_lease_seconds),
                            attempts=OutboxMessage.attempts + 1)
                    .execution_options(synchronize_session=False))
                if res.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(row_id)
        return claimed

    def _load(self, ids: list[int]) -> list[OutboxMessage]:
        with self.svc.sessions() as s:
            by_id = {r.id: r for r in s.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).scalars()}
            s.expunge_all()
        return [by_id[i] for i in ids if i in by_id]

    # -- sending --------------------------------------------------------------------------
    def run_once(self) -> SendStats:
        stats = SendStats()
        rows = self._load(self.claim())
        stats.claimed = len(rows)
        groups = together(rows)
        threads = max(1, int(self.svc.config.outbox_send_threads))
        if threads == 1 or len(groups) < 2:
            for group in groups:
                self._deliver_group(group, stats)
            return stats
        # several sends in flight (the WeChat API is a network round trip away); one person's rows stay in one
        # thread (their quota is spent in order), the per-second cap is shared, each thread counts into its own stats

        def one(group: list[OutboxMessage]) -> SendStats:
            own = SendStats()
            self._deliver_group(group, own)
            return own

        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"{self.owner}-send") as pool:
            for own in pool.map(one, groups):
                stats.add(own)
        return stats

    def drain(self, max_rounds: int = 20) -> SendStats:
        total = SendStats()
        for _ in range(max_rounds):
            stats = self.run_once()
            if not stats.claimed:
                break
            total.add(stats)
        return total

    def _deliver_group(self, rows: list[OutboxMessage], stats: SendStats) -> None:
        """One recipient's rows due at once (in claim order: priority first). What must go alone (an emergency, a
        群发 part, a robot post) goes first; the rest to a person on the official account share as few
        customer-service messages as fit, one slot each; whatever cannot go that way goes row by row."""
        shared = [r for r in rows if _mergeable(r)]
        for row in rows:
            if row not in shared:
                self._deliver(row, stats)
        if len(shared) < 2:
            for row in shared:
                self._deliver(row, stats)
            return
        for chunk in merge_texts(str(r.payload.get("text", "")) for r in shared):
            part = [shared[i] for i in chunk]
            if len(part) == 1 or not self._send_merged(part, stats):
                for row in part:
                    self._deliver(row, stats)

    def _send_merged(self, rows: list[OutboxMessage], stats: SendStats) -> bool:
        """Several rows in one customer-service message, if the person has a slot for the best of them: True when
        that settled the rows (sent, or to be tried again), False when they should go one by one."""
        first = rows[0]
        priority = max(r.priority for r in rows)
        try:
            self._check_pause()
            who = self._person(first)
            if not who.follows:
                return False
            text = "\n\n".join(str(r.payload.get("text", "")) for r in rows)
            if not self._try_custom(first, who, priority, text):
                return False
        except Deferred:
            return False  # the rows are held back one by one
        except (WeChatClientException, WeChatAPIError, requests.RequestException) as exc:
            for row in rows:  # it may have reached WeChat: all of them try again later, together or not
                self._failed(row, exc, stats)
            return True
        self._finish(first, "sent", via="custom")
        stats.count("custom")
        for row in rows[1:]:
            self._finish(row, "sent", via="merged")
            stats.count("merged")
            stats.merged += 1
        return True

    def _deliver(self, row: OutboxMessage, stats: SendStats) -> None:
        if row.payload.get("once"):
            if row.sent_via == ATTEMPTING:
                self._finish(row, "dead", error="outcome unknown: a worker stopped while sending it; "
                             "not sent again (broadcasts go at most once)")
                stats.dead += 1
                return
            self._mark(row, ATTEMPTING)
        try:
            via = self.send(row)
        except Deferred as exc:  # held back by a rate limit: not an attempt
            self._finish(row, "pending", error=str(exc), retry_at=exc.until, refund=True)
            stats.retried += 1
        except Unreachable as exc:
            self._unreached(row, exc)
            stats.undelivered += 1
        except PermanentSendError as exc:
            self._finish(row, "dead", error=str(exc))
            stats.dead += 1
            stats.errors.append(str(exc))
        except (WeChatClientException, WeChatAPIError, requests.RequestException) as exc:
            self._failed(row, exc, stats)
        else:
            self._finish(row, "sent", via=via)
            stats.count(via)

    def _failed(self, row: OutboxMessage, exc: Exception, stats: SendStats) -> None:
        """A send that failed for a reason that may pass: again later (exponential backoff), or dead at the last try."""
        error = _describe(exc)
        if row.attempts >= self.svc.config.outbox_max_attempts:
            self._finish(row, "dead", error=error)
            stats.dead += 1
        else:
            delay = min(5 * 2 ** (row.attempts - 1), 3600)
            self._finish(row, "pending", error=error, retry_in=delay)
            stats.retried += 1
        stats.errors.append(error)

    def send(self, row: OutboxMessage) -> str:
        """Deliver one row by its route (ROUTES); returns how it went out (custom | template | subscribe | mass |
        robot | wecom | appchat); raises Unreachable when nothing can carry it."""
        text = str(row.payload.get("text", ""))
        way = route(row.channel, row.to)
        if way is None:
            raise PermanentSendError(f"unknown channel {row.channel!r}")
        if way == "robot":
            return self._send_robot(row, text)
        if way == "wecom":
            return self._send_wecom(row, text)
        if row.kind == MASS:
            return self._send_mass(row)
        return self._send_wechat(row, text)

    # -- the official account: customer-service message, template, or another route -------------------------------
    def _person(self, row: OutboxMessage) -> delivery.Person:
        with self.svc.sessions() as s:
            return delivery.person(s, row.hub_id, row.to, self.svc.clock.now(),
                                   wecom_enabled=bool(self.svc.config.wecom_corpid))

    def _send_wechat(self, row: OutboxMessage, text: str) -> str:
        self._check_pause()
        account = self.svc.hubs.by_id(row.hub_id)
        now = self.svc.clock.now()
        with self.svc.sessions() as s:
            what = delivery.classified(row)
            who = delivery.person(s, row.hub_id, row.to, now, wecom_enabled=bool(self.svc.config.wecom_corpid))
            names = {svc.code: svc.name for svc in self.svc.nlu_for(s, row.hub_id).catalogue}
            about = delivery.facts(s, row, what, self.tz, names)
            # templates and 订阅通知 only on a 认证服务号, and only for a service notice the person asked for
            service_notice = RULES[what.kind].template and \
                subscriptions.account_kind(s, row.hub_id) == subscriptions.SERVICE
            spec = delivery.templates(s, account).for_notice(what.kind) if service_notice else None
            data = template_data(spec.fields, about) if spec is not None else None
            optin = self._optin(s, row, what.kind.value, about) if service_notice else None
        if not who.known:  # never wrote to us (a merchant's counter staff): WeChat knows whether they follow
            who = replace(who, follows=self._follows(row))
        left = self.slots.left(row.hub_id, row.to, who.granted, now) if who.follows else 0
        reach = Reach(follows=who.follows, quota_left=left, template=data is not None, volunteer=who.volunteer,
                      wecom=bool(who.wecom_openid), robot=bool(who.robot_key), subscribe=optin is not None)
        plan, why = routes(what.kind, row.priority, reach)
        reasons = list(why)
        for way in plan:
            if way is Route.CUSTOM:
                body = self._with_qrcode(row, text) if row.kind == "qrcode_link" else text
                if self._try_custom(row, who, row.priority, body):
                    return "custom"
                reasons.append(WINDOW_CLOSED)
            elif way is Route.TEMPLATE:
                assert spec is not None and data is not None
                refused = self._try_template(row, spec.template_id, data)
                if refused is None:
                    return "template"
                reasons.append(refused)
            elif way is Route.SUBSCRIBE:
                assert optin is not None
                refused = self._try_subscribe(row, optin)
                if refused is None:
                    return "subscribe"
                reasons.append(refused)
            elif way is Route.WECOM:
                assert who.wecom_openid is not None
                self._wecom_client().send_to_user(userid_of(who.wecom_openid), text)
                return "wecom"
            elif way is Route.ROBOT:
                return self._robot_for(row, who, nudge(about, who.name))
            else:
                raise Unreachable(way.value, reasons, who.phone)
        raise AssertionError("routes() always ends with UNDELIVERED or SKIPPED")  # pragma: no cover

    def _follows(self, row: OutboxMessage) -> bool:
        client = self.svc.client_for(self.svc.hubs.by_id(row.hub_id))
        try:
            return bool(client.user.get(row.to).get("subscribe"))
        except WeChatClientException as exc:
            if exc.errcode is None:
                raise  # no answer: try again later
            return False  # 40003 and the like: not an openid of this account

    def _try_custom(self, row: OutboxMessage, who: delivery.Person, priority: int, text: str) -> bool:
        """Take a slot of the person's quota and send; False when no slot may be taken or WeChat refused it as
        out of window / over the count (then no slot is left until they act again)."""
        now = self.svc.clock.now()
        client = self.svc.client_for(self.svc.hubs.by_id(row.hub_id))
        client.access_token  # noqa: B018 - a token first: a failed token request must not cost the person a slot
        if self.slots.take(row.hub_id, row.to, who.granted, now,
                           may=lambda left: may_take_slot(priority, left)) is None:
            return False
        try:
            self.limiter.acquire()
            client.send_text(row.to, text)
        except WeChatClientException as exc:
            self._rate_limited(exc)
            if exc.errcode in (OUT_OF_WINDOW, OVER_THE_COUNT):
                log.info("outbox %s: %s from WeChat for %s: no slot left", row.id, exc.errcode, row.to)
                self.slots.spend(row.hub_id, row.to, now)
                return False
            if exc.errcode is not None or getattr(exc, "response", None) is not None:
                # refused for another reason, or an HTTP error instead of WeChat's answer: not delivered
                self.slots.release(row.hub_id, row.to, now)
            raise  # a timeout or a broken connection: maybe delivered, the slot stays spent
        return True

    def _try_template(self, row: OutboxMessage, template_id: str, data: dict[str, Any]) -> str | None:
        """Send the template; None when sent, else why WeChat refused it for this person (another route then)."""
        client = self.svc.client_for(self.svc.hubs.by_id(row.hub_id))
        try:
            self.limiter.acquire()
            client.send_template(row.to, template_id, data, client_msg_id=f"outbox-{row.id}",
                                 url=row.payload.get("url"))
        except WeChatClientException as exc:
            self._rate_limited(exc)
            if exc.errcode == REFUSES:
                return REFUSES_TEMPLATES
            why = _template_refused(row, "template", template_id, exc)
            if why is None:
                raise
            return why
        return None

    def _optin(self, s: Session, row: OutboxMessage, notice: str, about: Facts) -> OptIn | None:
        """The 订阅通知 this person accepted for this kind of notice, with a notice left and fields that fit."""
        tpl = subscriptions.subscribe_template(s, row.hub_id, notice)
        if tpl is None or not subscriptions.may_notify(s, row.hub_id, row.to, tpl.template_id,
                                                       long_term=tpl.long_term):
            return None
        data = template_data(dict(tpl.fields), about)
        return OptIn(tpl.template_id, bool(tpl.long_term), data) if data is not None else None

    def _try_subscribe(self, row: OutboxMessage, optin: OptIn) -> str | None:
        """Spend one of the person's 订阅通知 and send it; None when sent, else why not (another route then)."""
        now = self.svc.clock.now()
        with transaction(self.svc.sessions) as s:
            if not subscriptions.take_notice(s, row.hub_id, row.to, optin.template_id, long_term=optin.long_term,
                                             now=now):
                return NOT_SUBSCRIBED
        client = self.svc.client_for(self.svc.hubs.by_id(row.hub_id))
        try:
            self.limiter.acquire()
            client.send_subscribe(row.to, optin.template_id, optin.data, url=row.payload.get("url"))
        except WeChatClientException as exc:
            self._rate_limited(exc)
            if exc.errcode is None:
                raise  # no answer: it may have arrived, the notice stays spent
            with transaction(self.svc.sessions) as s:
                if exc.errcode == REFUSES:
                    subscriptions.refused(s, row.hub_id, row.to, optin.template_id, now)
                else:  # refused for a reason of ours or a limit: the notice is still the person's
                    subscriptions.give_back(s, row.hub_id, row.to, optin.template_id, now)
            if exc.errcode == REFUSES:
                return SUBSCRIBE_REFUSED
            why = _template_refused(row, "订阅通知", optin.template_id, exc)
            if why is None:
                raise
            return why
        return None

    def _with_qrcode(self, row: OutboxMessage, text: str) -> str:
        """A temporary parameterised QR code (payload "scene", "expire_seconds") appended as a link: the
        WeChat API call belongs here, not in the 5-second webhook."""

        client = self.svc.client_for(self.svc.hubs.by_id(row.hub_id))
        body = {"action_name": "QR_STR_SCENE", "expire_seconds": int(row.payload.get("expire_seconds", 600)),
                "action_info": {"scene": {"scene_str": str(row.payload["scene"])}}}
        res = client.qrcode.create(body)
        return f"{text}\nhttps://mp.weixin.qq.com/cgi-bin/showqrcode?ticket={quote(str(res['ticket']))}"

    def _robot_for(self, row: OutboxMessage, who: delivery.Person, line: str) -> str:
        """A volunteer out of reach on WeChat: a nudge in their team's group chat, mentioning them by phone (no
        detail: the whole team reads it)."""
        assert who.robot_key is not None
        until = robot_reserve(self.svc.sessions, who.robot_key, self.svc.clock.now(), self.svc.config.robot_per_minute)
        if until is not None:
            raise Deferred(until, "robot limit: about 20 messages a minute")
        body = {"msgtype": "text", "text": {"content": truncate_bytes(line, ROBOT_MAX_TEXT_BYTES),
                                            "mentioned_mobile_list": [who.phone] if who.phone else []}}
        post_robot(self.svc.config.wecom_robot_base_url, who.robot_key, body, self.svc.config.http_timeout_seconds)
        return "robot"

    # -- 群发: a broadcast's draft to its part of the followers --------------------------------------------------
    def _send_mass(self, row: OutboxMessage) -> str:
        self._check_pause()
        broadcast_id = int(row.payload["broadcast"])
        with self.svc.sessions() as s:
            bc = s.get(Broadcast, broadcast_id)
            if bc is None:
                raise PermanentSendError(f"broadcast {broadcast_id} is gone")
            people = s.execute(select(User.id, User.openid).join(BroadcastRecipient,
                                                                  BroadcastRecipient.user_id == User.id)
                               .where(BroadcastRecipient.outbox_id == row.id)).all()
            title, text, media_id = str(row.payload.get("title") or ""), bc.text, bc.media_id
        account = self.svc.hubs.by_id(row.hub_id)
        client = self.svc.client_for(account)
        if media_id is None:
            media_id = client.add_draft([{"title": title or _title(text), "content": _article(text),
                                          "author": account.name[:16], "thumb_media_id": self._cover(row, client),
                                          "need_open_comment": 0}])
            with transaction(self.svc.sessions) as s:
                s.execute(update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.media_id.is_(None))
                          .values(media_id=media_id))
                media_id = s.scalar(select(Broadcast.media_id).where(Broadcast.id == broadcast_id)) or media_id
        clientmsgid = f"leifeng-{row.hub_id}-outbox-{row.id}"
        try:
            self.limiter.acquire()
            if row.payload.get("tag"):  # by the segment's tag (a 订阅号's only segment; a 服务号's one-person one)
                tagsend.send(self.svc.sessions, client, row, media_id, clientmsgid=clientmsgid,
                             now=self.svc.clock.now())
            else:
                client.mass_send([o for _, o in people], media_id, clientmsgid=clientmsgid)
        except tagsend.NotTagged as exc:
            raise Unreachable(exc.status, exc.reasons) from exc
        except WeChatClientException as exc:
            self._rate_limited(exc)
            if exc.errcode == NO_MASS_QUOTA:  # someone in this part had no 群发 left (one sent from the console?)
                raise Unreachable(UNDELIVERED, [MASS_QUOTA]) from exc
            raise
        return MASS  # each follower's month is counted with the row marked sent (_finish), once whatever retries

    def _cover(self, row: OutboxMessage, client: Any) -> str:
        """The hub's permanent cover image for 群发 articles, uploaded once."""
        with self.svc.sessions() as s:
            media = s.get(WeChatMedia, (row.hub_id, "cover"))
            if media is not None:
                return str(media.media_id)
        media_id = client.upload_image("cover.png", cover_png())
        with transaction(self.svc.sessions) as s:
            if s.get(WeChatMedia, (row.hub_id, "cover")) is None:
                s.add(WeChatMedia(hub_id=row.hub_id, purpose="cover", media_id=media_id,
                                  created_at=self.svc.clock.now()))
        return str(media_id)

    # -- limits, WeCom robots and the WeCom app ---------------------------------------------
    def _check_pause(self) -> None:

        left = self.limiter.paused_for()
        if left > 0:  # backing off after 45009/45011: hold this row back without spending an attempt
            raise Deferred(self.svc.clock.now() + timedelta(seconds=left), "backing off after a rate-limit error")

    def _rate_limited(self, exc: WeChatClientException) -> None:
        """45009/45011: pause every WeChat send (doubling while it repeats); the row itself is retried."""

        if exc.errcode in RATE_LIMITED:
            pause = self.limiter.backoff()
            log.warning("WeChat says too many (errcode %s): pausing sends for %.0f s", exc.errcode, pause)

    def _send_robot(self, row: OutboxMessage, text: str) -> str:

        cfg = self.svc.config
        until = robot_reserve(self.svc.sessions, row.to, self.svc.clock.now(), cfg.robot_per_minute)
        if until is not None:
            raise Deferred(until, "robot limit: about 20 messages a minute")
        if row.kind == "markdown":
            body: dict[str, Any] = {"msgtype": "markdown",
                                    "markdown": {"content": truncate_bytes(text, ROBOT_MAX_MARKDOWN_BYTES)}}
        else:
            body = {"msgtype": "text", "text": {"content": truncate_bytes(text, ROBOT_MAX_TEXT_BYTES),
                                                "mentioned_list": row.payload.get("mention", []),
                                                "mentioned_mobile_list": row.payload.get("mention_mobile", [])}}
        post_robot(cfg.wecom_robot_base_url, row.to, body, cfg.http_timeout_seconds)
        return "robot"

    def _wecom_client(self) -> Any:
        if self._wecom is None:
            self._wecom = WeComClient(self.svc.config, self.svc.tokens)
        return self._wecom

    def _send_wecom(self, row: OutboxMessage, text: str) -> str:

        kind = "markdown" if row.kind == "markdown" else "text"
        if row.channel == "wecom_appchat":
            self._wecom_client().send_to_chat(row.to, text, kind)
            return "appchat"
        self._wecom_client().send_to_user(userid_of(row.to), text, kind)
        return "wecom"

    # -- outcomes ---------------------------------------------------------------------------
    def _mark(self, row: OutboxMessage, via: str) -> None:
        with transaction(self.svc.sessions) as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.lease_owner == self.owner)
                      .values(sent_via=via).execution_options(synchronize_session=False))

    def _unreached(self, row: OutboxMessage, exc: Unreachable) -> None:
        payload = {**(row.payload or {}), "reasons": list(exc.reasons)}
        if exc.phone:
            payload["phone"] = exc.phone
        self._finish(row, exc.status, error=str(exc), payload=payload)

    def _finish(self, row: OutboxMessage, status: str, *, via: str | None = None, error: str | None = None,
                retry_in: float = 0.0, retry_at: datetime | None = None, refund: bool = False,
                payload: dict[str, Any] | None = None) -> None:
        now = self.svc.clock.now()
        values: dict[str, Any] = {"status": status, "lease_owner": None, "lease_until": None}
        if via:
            values.update(sent_via=via, sent_at=now, last_error=None)
            if via not in ("robot", "merged"):
                self.limiter.succeeded()
        elif status != "dead":
            values["sent_via"] = None  # clears ATTEMPTING: the try ended with a known outcome
        if error:
            values["last_error"] = error[:2000]
        if status == "pending":
            values["next_attempt_at"] = retry_at or now + timedelta(seconds=retry_in)
        if refund:
            values["attempts"] = OutboxMessage.attempts - 1
        if payload is not None:
            values["payload"] = payload
        with transaction(self.svc.sessions) as s:
            res = s.execute(update(OutboxMessage)
                            .where(OutboxMessage.id == row.id, OutboxMessage.lease_owner == self.owner)
                            .values(**values).execution_options(synchronize_session=False))
            if res.rowcount != 1:  # type: ignore[attr-defined]
                log.warning("outbox %s: lease lost before marking %s (another worker took over)", row.id, status)
            if via == MASS and res.rowcount == 1:  # type: ignore[attr-defined]
                count_mass(s, row, now)
            if status in ("dead", UNDELIVERED):
                action = "outbox_dead" if status == "dead" else "outbox_undelivered"
                s.add(AuditLog(hub_id=row.hub_id, actor=self.owner, action=action,
                               subject=f"outbox:{row.id}", detail={"error": error or ""}, at=now))


@dataclass(frozen=True)
class OptIn:
    """A 订阅通知 the sender may use for one row: the template, whether it is long-term, its filled data."""

    template_id: str
    long_term: bool
    data: dict[str, dict[str, str]]


def together(rows: list[OutboxMessage]) -> list[list[OutboxMessage]]:
    """The claimed rows by recipient (one hub's openid, robot key...), in claim order."""
    groups: dict[tuple[int, str, str], list[OutboxMessage]] = {}
    for row in rows:
        groups.setdefault((row.hub_id, row.channel, row.to), []).append(row)
    return list(groups.values())


def _mergeable(row: OutboxMessage) -> bool:
    if row.channel != "wechat" or row.kind != "text" or is_wecom(row.to) or row.payload.get("once"):
        return False
    return mergeable(delivery.classified(row).kind)


def count_mass(s: Session, row: OutboxMessage, now: datetime) -> None:
    """One more 群发 this month (Beijing's, as WeChat counts) for each follower of this part."""
    month = (now + timedelta(hours=8)).strftime("%Y-%m")
    user_ids = list(s.scalars(select(BroadcastRecipient.user_id).where(BroadcastRecipient.outbox_id == row.id)))
    have: dict[int, MassSendCount] = {}
    for i in range(0, len(user_ids), 1000):
        have.update({c.user_id: c for c in s.execute(select(MassSendCount).where(
            MassSendCount.hub_id == row.hub_id, MassSendCount.month == month,
            MassSendCount.user_id.in_(user_ids[i:i + 1000]))).scalars()})
    for uid in user_ids:
        if uid in have:
            have[uid].count += 1
        else:
            s.add(MassSendCount(hub_id=row.hub_id, user_id=uid, month=month, count=1))


def _title(text: str) -> str:
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "社区通知")
    return first if len(first) <= 32 else first[:31] + "…"


def _article(text: str) -> str:
    return "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())


def cover_png(width: int = 900, height: int = 383, rgb: tuple[int, int, int] = (200, 16, 46)) -> bytes:
    """A plain cover image (雷锋 red) for 群发 articles, drawn here so the deployment needs no image file."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height, 9)) + chunk(b"IEND", b""))


def _template_refused(row: OutboxMessage, kind: str, template_id: str, exc: WeChatClientException) -> str | None:
    """Why WeChat refused a template message or a 订阅通知 (`kind`) whatever the person chose: not a follower, or
    a template id or value it does not take (logged: the configuration is wrong). None for any other refusal."""
    if exc.errcode == NOT_FOLLOWER:
        return NOT_FOLLOWING
    if exc.errcode in (BAD_TEMPLATE, BAD_VALUE):
        log.warning("outbox %s: WeChat refused %s %s (%s): check its id and fields (README)",
                    row.id, kind, template_id, _describe(exc))
        return TEMPLATE_REJECTED
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, WeChatClientException) and exc.errcode is None:  # no WeChat answer: HTTP or network
        status = getattr(getattr(exc, "response", None), "status_code", None)
        cause = exc.__cause__ or exc.__context__
        what = f"HTTP {status}" if status else f"{type(cause).__name__}: {cause}" if cause else str(exc.errmsg)
        return hide_query(f"request failed: {what}")
    if isinstance(exc, WeChatClientException | WeChatAPIError):
        return hide_query(f"errcode {exc.errcode}: {exc.errmsg}")
    return hide_query(f"{exc.__class__.__name__}: {exc}")

