"""The outbox sender: claims due rows, sends each by its channel and records the outcome (the worker's only sender).

Delivery guarantees. A row is claimed by a conditional UPDATE (pending -> sending, with a lease);
only one worker's UPDATE matches, so two workers never send the same row concurrently. A worker that
crashes after WeChat accepted a message but before it marked the row `sent` leaves the row `sending`;
when the lease expires another worker sends it again. So a crash causes at most one duplicate per
crash, and every claim counts as an attempt, so a row is never sent more than `outbox_max_attempts`
times in all; then it is `dead` with the last error. A lease is far longer than one send (the HTTP
timeout), so a slow but live worker is not overtaken.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests
from sqlalchemy import and_, or_, select, update
from wechatpy.exceptions import WeChatClientException

from bot.channels.sendlimits import RATE_LIMITED, Deferred, RateLimiter, robot_reserve
from bot.channels.wechat_client import post_robot
from bot.channels.wecom_api import WeComClient
from bot.clock import as_utc
from bot.errors import WeChatAPIError, hide_query
from bot.outbox import (
    OUT_OF_WINDOW,
    ROBOT_MAX_MARKDOWN_BYTES,
    ROBOT_MAX_TEXT_BYTES,
    WINDOW,
    is_wecom,
    truncate_bytes,
    userid_of,
)
from storage.db import transaction
from storage.models import AuditLog, OutboxMessage, User

log = logging.getLogger(__name__)

# An outbox row's channel -> the route that delivers it. A WeCom member's openid ("wecom:<userid>") on the
# "wechat" channel goes by the WeCom app: staff and the domain address people, not platforms.
ROUTES: dict[str, str] = {
    "wechat": "wechat",  # the official account (customer-service message, else template)
    "wecom_robot": "robot",  # a team's group-robot webhook
    "wecom": "wecom",  # the WeCom app: a member
    "wecom_appchat": "wecom",  # the WeCom app: an app group chat
}


def route(channel: str, to: str) -> str | None:
    """Which route delivers a row (pure); None for a channel nobody knows."""
    if channel == "wechat" and is_wecom(to):
        return "wecom"
    return ROUTES.get(channel)


class PermanentSendError(Exception):
    """Sending this row can never succeed (unknown user, no template configured...)."""


@dataclass
class SendStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


# Rows whose payload says {"once": true} (broadcasts) are sent at most once: the sender marks them
# `sent_via = ATTEMPTING` just before the API call, and a row found still marked so after a worker died
# mid-send is dead-lettered ("outcome unknown") instead of being sent a second time.
ATTEMPTING = "attempting"


class OutboxSender:
    def __init__(self, services: Any, owner: str | None = None, limiter: Any = None) -> None:

        self.svc = services
        self.owner = owner or f"worker-{uuid.uuid4().hex[:8]}"
        cfg = services.config
        # a per-second cap (with backoff on 45047/45009) on WeChat API sends
        self.limiter = limiter or RateLimiter(cfg.wechat_send_per_second, cfg.wechat_rate_backoff_seconds,
                                              clock=services.clock)
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

    # -- sending --------------------------------------------------------------------------
    def run_once(self) -> SendStats:
        stats = SendStats()
        claimed = self.claim()
        threads = max(1, int(self.svc.config.outbox_send_threads))
        if threads == 1 or len(claimed) < 2:
            for row_id in claimed:
                stats.claimed += 1
                self._deliver(row_id, stats)
            return stats
        # several sends in flight (the WeChat API is a network round trip away); rows are independent,
        # the per-second cap is shared, and each thread counts into its own stats, merged below
        from concurrent.futures import ThreadPoolExecutor

        def one(row_id: int) -> SendStats:
            own = SendStats(claimed=1)
            self._deliver(row_id, own)
            return own

        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"{self.owner}-send") as pool:
            for own in pool.map(one, claimed):
                stats.claimed += own.claimed
                stats.sent += own.sent
                stats.retried += own.retried
                stats.dead += own.dead
                stats.errors += own.errors
        return stats

    def drain(self, max_rounds: int = 20) -> SendStats:
        total = SendStats()
        for _ in range(max_rounds):
            stats = self.run_once()
            if not stats.claimed:
                break
            total.claimed += stats.claimed
            total.sent += stats.sent
            total.retried += stats.retried
            total.dead += stats.dead
            total.errors += stats.errors
        return total

    def _deliver(self, row_id: int, stats: SendStats) -> None:
        with self.svc.sessions() as s:
            row = s.get(OutboxMessage, row_id)
            assert row is not None
            user = None
            if row.channel == "wechat":
                user = s.execute(select(User).where(User.hub_id == row.hub_id,
                                                    User.openid == row.to)).scalar_one_or_none()
            last_inbound = as_utc(user.last_inbound_at) if user and user.last_inbound_at else None
            s.expunge(row)

        if row.payload.get("once"):
            if row.sent_via == ATTEMPTING:
                self._finish(row, "dead", error="outcome unknown: a worker stopped while sending it; "
                             "not sent again (broadcasts go at most once)")
                stats.dead += 1
                return
            self._mark(row, ATTEMPTING)
        try:
            via = self.send(row, last_inbound)
        except Deferred as exc:  # held back by a rate limit: not an attempt
            self._finish(row, "pending", error=str(exc), retry_at=exc.until, refund=True)
            stats.retried += 1
        except PermanentSendError as exc:
            self._finish(row, "dead", error=str(exc))
            stats.dead += 1
            stats.errors.append(str(exc))
        except (WeChatClientException, WeChatAPIError, requests.RequestException) as exc:
            error = _describe(exc)
            if row.attempts >= self.svc.config.outbox_max_attempts:
                self._finish(row, "dead", error=error)
                stats.dead += 1
            else:
                delay = min(5 * 2 ** (row.attempts - 1), 3600)
                self._finish(row, "pending", error=error, retry_in=delay)
                stats.retried += 1
            stats.errors.append(error)
        else:
            self._finish(row, "sent", via=via)
            stats.sent += 1

    def send(self, row: OutboxMessage, last_inbound: datetime | None) -> str:
        """Deliver one row by its route (ROUTES); returns how it went out (custom | template | robot | wecom)."""
        text = str(row.payload.get("text", ""))
        way = route(row.channel, row.to)
        if way is None:
            raise PermanentSendError(f"unknown channel {row.channel!r}")
        if way == "robot":
            return self._send_robot(row, text)
        if way == "wecom":
            return self._send_wecom(row, text)
        return self._send_wechat(row, text, last_inbound)

    def _send_wechat(self, row: OutboxMessage, text: str, last_inbound: datetime | None) -> str:
        """The official account: a customer-service message inside the 48-hour window, else the notice template."""
        self._check_pause()
        account = self.svc.hubs.by_id(row.hub_id)
        client = self.svc.client_for(account)
        now = self.svc.clock.now()
        if row.kind == "qrcode_link":
            text = self._with_qrcode(client, row, text)
        if last_inbound is not None and now - last_inbound < WINDOW:
            try:
                self.limiter.acquire()
                client.message.send_text(row.to, text)
                return "custom"
            except WeChatClientException as exc:
                self._rate_limited(exc)
                if exc.errcode != OUT_OF_WINDOW:
                    raise
                log.info("outbox %s: 45015 (outside the 48 h window), using the template", row.id)
        return self._send_template(client, account.template_id, row, text)

    def _with_qrcode(self, client: Any, row: OutboxMessage, text: str) -> str:
        """A temporary parameterised QR code (payload "scene", "expire_seconds") appended as a link: the
        WeChat API call belongs here, not in the 5-second webhook."""

        body = {"action_name": "QR_STR_SCENE", "expire_seconds": int(row.payload.get("expire_seconds", 600)),
                "action_info": {"scene": {"scene_str": str(row.payload["scene"])}}}
        res = client.qrcode.create(body)
        return f"{text}\nhttps://mp.weixin.qq.com/cgi-bin/showqrcode?ticket={quote(str(res['ticket']))}"

    # -- limits, WeCom robots and the WeCom app ---------------------------------------------
    def _check_pause(self) -> None:

        left = self.limiter.paused_for()
        if left > 0:  # backing off after 45047/45009: hold this row back without spending an attempt
            raise Deferred(self.svc.clock.now() + timedelta(seconds=left), "backing off after a rate-limit error")

    def _rate_limited(self, exc: WeChatClientException) -> None:
        """45047/45009: pause every WeChat send (doubling while it repeats); the row itself is retried."""

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

    def _send_wecom(self, row: OutboxMessage, text: str) -> str:

        if self._wecom is None:
            self._wecom = WeComClient(self.svc.config, self.svc.tokens)
        kind = "markdown" if row.kind == "markdown" else "text"
        if row.channel == "wecom_appchat":
            self._wecom.send_to_chat(row.to, text, kind)
            return "appchat"
        self._wecom.send_to_user(userid_of(row.to), text, kind)
        return "wecom"

    def _send_template(self, client: Any, template_id: str, row: OutboxMessage, text: str) -> str:
        if not template_id:
            raise PermanentSendError("user is outside the 48-hour window and no notice template is configured "
                                     "(set LEIFENG_WECHAT_NOTICE_TEMPLATE_ID)")
        data = row.payload.get("template_data") or {
            "first": {"value": "雷锋超市通知"},
            "keyword1": {"value": text[:200]},
            "remark": {"value": "如有疑问，请回复“人工”。"},
        }
        try:
            self.limiter.acquire()
            client.message.send_template(row.to, template_id, data, url=row.payload.get("url"))
        except WeChatClientException as exc:
            self._rate_limited(exc)
            if exc.errcode in (40003, 43004, 40037):  # bad openid, unsubscribed, bad template
                raise PermanentSendError(_describe(exc)) from exc
            raise
        return "template"

    def _mark(self, row: OutboxMessage, via: str) -> None:
        with transaction(self.svc.sessions) as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.lease_owner == self.owner)
                      .values(sent_via=via).execution_options(synchronize_session=False))

    def _finish(self, row: OutboxMessage, status: str, *, via: str | None = None, error: str | None = None,
                retry_in: float = 0.0, retry_at: datetime | None = None, refund: bool = False) -> None:
        now = self.svc.clock.now()
        values: dict[str, Any] = {"status": status, "lease_owner": None, "lease_until": None}
        if via:
            values.update(sent_via=via, sent_at=now, last_error=None)
            if via != "robot":
                self.limiter.succeeded()
        elif status != "dead":
            values["sent_via"] = None  # clears ATTEMPTING: the try ended with a known outcome
        if error:
            values["last_error"] = error[:2000]
        if status == "pending":
            values["next_attempt_at"] = retry_at or now + timedelta(seconds=retry_in)
        if refund:
            values["attempts"] = OutboxMessage.attempts - 1
        with transaction(self.svc.sessions) as s:
            res = s.execute(update(OutboxMessage)
                            .where(OutboxMessage.id == row.id, OutboxMessage.lease_owner == self.owner)
                            .values(**values).execution_options(synchronize_session=False))
            if res.rowcount != 1:  # type: ignore[attr-defined]
                log.warning("outbox %s: lease lost before marking %s (another worker took over)", row.id, status)
            if status == "dead":
                s.add(AuditLog(hub_id=row.hub_id, actor=self.owner, action="outbox_dead",
                               subject=f"outbox:{row.id}", detail={"error": error or ""}, at=now))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, WeChatClientException) and exc.errcode is None:  # no WeChat answer: HTTP or network
        status = getattr(getattr(exc, "response", None), "status_code", None)
        cause = exc.__cause__ or exc.__context__
        what = f"HTTP {status}" if status else f"{type(cause).__name__}: {cause}" if cause else str(exc.errmsg)
        return hide_query(f"request failed: {what}")
    if isinstance(exc, WeChatClientException | WeChatAPIError):
        return hide_query(f"errcode {exc.errcode}: {exc.errmsg}")
    return hide_query(f"{exc.__class__.__name__}: {exc}")
