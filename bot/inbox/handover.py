"""The hand-over inbox: a resident handed over to staff ("人工"), both sides of the conversation, staff replies
through the outbox, one note when nobody answers, hand-back to the bot, and staff who link their WeChat.

While a resident is handed over the bot keeps every message they send for staff (up to their message-rate limits,
bot/inbox/ratelimit.py) and answers none, except an
emergency (answered first, as everywhere), "菜单"/"取消", which the hand-over reply offers as the way back, and
asking for a person again ("人工", "在吗 有人吗"), which gets a short "已经帮您转给工作人员了" at most once in ten
minutes (an elder is never left in silence).
The message handler (bot/inbox/handler.py) asks `decide` what a message means for a hand-over, then `keep`
records it in its own write transaction; the console (bot/admin/pages_inbox.py) reads and replies here.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from statistics import median
from typing import Any, cast
from urllib.parse import quote

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session
from wechatpy.exceptions import WeChatException

from bot.clock import as_utc
from bot.community.teamchat import post_to_team, team_by_code
from bot.dialogue import followups
from bot.dialogue import step as dialogue
from bot.dialogue.core import Result, State
from bot.dialogue.messages import Incoming
from bot.errors import LeifengError
from bot.hubsettings import HubSettings
from bot.outbox import Notice, enqueue
from bot.serviceloop.records import notify_staff, settings_for
from bot.services import Services
from intents.masking import mask_name
from storage.conversations import change_conversation
from storage.db import delete_in_batches, transaction
from storage.models import (
    AuditLog,
    ConversationMessage,
    Handover,
    Hub,
    OutboxMessage,
    ProcessedMessage,
    User,
)
from storage.models_admin import StaffAccount, StaffLinkScene

RECENT_TURNS = 6  # turns before the hand-over that staff see with it
RECENT_TURNS_WITHIN = timedelta(hours=2)
RECENT_TURNS_KEEP = timedelta(days=1)  # what people wrote is kept on the dedupe rows this long, for those turns
PRUNE_BATCH = 1000
TEXT_MOST = 2000  # characters of one kept message
REPLY_MOST = 500  # characters of one staff reply (WeChat's text limit is 2048 bytes)
STAFF_SCENE_PREFIX = "stafflink_"
SHOW_QR_URL = "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket="  # where WeChat shows a code's picture
LINKABLE_ROLES = ("admin", "staff")  # leaders and merchants would read every resident's notices: not linked
STAFF_ROLE = "staff"
BACK_TO_BOT = "工作人员这边先帮您处理到这里。小助手回来了，有事直接说，或回复“菜单”。"


class HandoverError(LeifengError):
    """A hand-over or staff-link request that cannot be done; the message is plain Chinese."""


# -- what a message means for a hand-over (pure) ----------------------------------------------------------------


class Kind(StrEnum):
    NONE = "none"  # nothing to do with a hand-over
    OPEN = "open"  # this message asked for a person
    HOLD = "hold"  # a resident's message while handed over: kept for staff, the bot stays quiet
    EMERGENCY = "emergency"  # an emergency while handed over: answered and alerted; the hand-over stays
    LEAVE = "leave"  # the resident went back to the bot (菜单/取消), or unfollowed


@dataclass(frozen=True)
class Decision:
    kind: Kind
    result: Result  # what the handler writes and answers instead of the dialogue's result


LEAVING_COMMANDS = frozenset({"help", "cancel"})


def decide(before: str, slots: Mapping[str, Any], inc: Incoming, result: Result, nlu: Any) -> Decision:
    """The dialogue's result for this message, as the hand-over changes it."""
    if before != State.HUMAN:
        return Decision(Kind.OPEN if result.state == State.HUMAN else Kind.NONE, result)
    if inc.kind == "event" and inc.event != "click":  # a follow, scan or location report: not a message to staff
        if inc.event == "unsubscribe" or result.state != State.HUMAN:
            return Decision(Kind.LEAVE, result)
        return Decision(Kind.NONE, result)
    if any(action.name == "emergency" for action in result.actions):
        return Decision(Kind.EMERGENCY, replace(result, state=State.HUMAN))
    text = dialogue.text_of(inc)
    command = nlu.command(text) if text else None
    if command is not None and command.name in LEAVING_COMMANDS:
        return Decision(Kind.LEAVE, result)
    if text and followups.asks_after_person(text, nlu):  # "人工" / "在吗 有人吗" again: a short word, now and then
        said = _still_waiting(slots, inc)
        if said is not None:
            return Decision(Kind.HOLD, Result(state=State.HUMAN, slots={**slots, ASKED_AGAIN_SLOT: inc.create_time},
                                              reply=said))
    if text and result.reply and (followups.asks_office_phone(text) or followups.asks_office_hours(text)):
        # "社区电话多少" while waiting (out9): the number answered at once, the message kept for staff as any other
        return Decision(Kind.HOLD, Result(state=State.HUMAN, slots=dict(slots), reply=result.reply))
    return Decision(Kind.HOLD, Result(state=State.HUMAN, slots=dict(slots), reply=None))


ASKED_AGAIN_SLOT = "handover_asked_again_at"  # when the resident was last told "已经帮您转给工作人员了"
ASKED_AGAIN_EVERY = timedelta(minutes=10)
ASKED_AGAIN_REPLY = "已经帮您转给工作人员了，请稍候。有急事请直接打电话求助。"


def _still_waiting(slots: Mapping[str, Any], inc: Incoming) -> str | None:
    """The answer to asking for a person again while handed over: at most once in ASKED_AGAIN_EVERY."""
    last = slots.get(ASKED_AGAIN_SLOT)
    if isinstance(last, int) and inc.create_time - last < ASKED_AGAIN_EVERY.total_seconds():
        return None
    return ASKED_AGAIN_REPLY


def inbound_text(inc: Incoming) -> str:
    """What the resident sent, as staff read it in the transcript."""
    if inc.kind in ("text", "voice"):
        return (inc.text or "").strip() or ("[语音，没有识别出文字]" if inc.kind == "voice" else "[空消息]")
    if inc.kind == "event" and inc.event == "click":
        return f"[点了菜单：{dialogue.text_of(inc)}]"
    if inc.kind == "location":
        return f"[发送了位置：{inc.label or '未注明'}]"
    if inc.kind == "link":
        return f"[发送了链接：{inc.title or inc.url or ''}]"
    return {"image": "[发送了图片]", "video": "[发送了视频]"}.get(inc.kind, "[发送了一条消息]")


# -- keeping a message (in the handler's write transaction) ----------------------------------------------------


def open_handover_of(s: Session, user_id: int) -> Handover | None:
    return s.execute(select(Handover).where(Handover.user_id == user_id, Handover.closed_at.is_(None))
                     ).scalar_one_or_none()


def _add(s: Session, h: Handover, direction: str, author: str, text: str, at: datetime,
         staff_name: str | None = None, outbox_id: int | None = None) -> ConversationMessage:
    row = ConversationMessage(hub_id=h.hub_id, user_id=h.user_id, handover_id=h.id, direction=direction,
                              author=author, staff_name=staff_name, text=text[:TEXT_MOST], outbox_id=outbox_id, at=at)
    s.add(row)
    return row


def _open(s: Session, hub_id: int, user_id: int, openid: str, key: str, now: datetime) -> tuple[Handover, bool]:
    """The resident's open hand-over, or a new one with the last turns before it (True: new)."""
    found = open_handover_of(s, user_id)
    if found is not None:
        return found, False
    # No savepoint: two messages of one resident both opening one are ordered by the conversation row's version
    # check first (the handler writes it before this); the partial unique index is the backstop.
    h = Handover(hub_id=hub_id, user_id=user_id, opened_at=now, waiting_since=now, last_message_at=now)
    s.add(h)
    s.flush()
    turns = s.execute(select(ProcessedMessage.text, ProcessedMessage.reply, ProcessedMessage.received_at)
                      .where(ProcessedMessage.hub_id == hub_id, ProcessedMessage.openid == openid,
                             ProcessedMessage.dedupe_key != key,
                             ProcessedMessage.received_at >= now - RECENT_TURNS_WITHIN)
                      .order_by(ProcessedMessage.id.desc()).limit(RECENT_TURNS)).all()
    for text, reply, at in reversed(turns):
        if text:
            _add(s, h, "in", "resident", text, at)
        if reply:
            _add(s, h, "out", "bot", reply, at)
    return h, True


def _tell_staff(s: Session, h: Handover, settings: HubSettings, nickname: str | None, what: str, key: str,
                now: datetime, *, wechat: bool) -> None:
    """Staff hear of a resident waiting: on WeChat (linked staff) and in the staff team's group chat, where the
    whole group reads it (the name masked, never a phone or an address)."""
    where = "，请到管理后台“人工”里回复。"
    if wechat:
        notify_staff(s, h.hub_id, f"{nickname or '一位居民'}{what}{where}", now, key=key)
    team = team_by_code(s, h.hub_id, settings.staff_team)
    if team is not None:
        post_to_team(s, team, f"居民{mask_name(nickname) if nickname else ''}{what}{where}", now=now,
                     key=f"{key}:robot")


def keep(s: Session, decision: Decision, *, hub_id: int, user_id: int, openid: str, nickname: str | None,
         inc: Incoming, reply: str | None, settings: HubSettings, now: datetime) -> None:
    """Record what this message did to the resident's hand-over."""
    kind = decision.kind
    if kind is Kind.NONE:
        return
    if kind is Kind.OPEN:
        h, new = _open(s, hub_id, user_id, openid, inc.dedupe_key, now)
        if new:  # linked staff hear of it from the dialogue's own hand-over action; the group chat here
            _tell_staff(s, h, settings, nickname, "请求人工服务", f"human:h{h.id}:open", now, wechat=False)
    else:
        h = open_handover_of(s, user_id) or _open(s, hub_id, user_id, openid, inc.dedupe_key, now)[0]
    if not (inc.kind == "event" and inc.event != "click"):
        _add(s, h, "in", "resident", inbound_text(inc), now)
    if reply:
        _add(s, h, "out", "bot", reply, now)
    h.last_message_at = now
    if kind is Kind.LEAVE:
        h.closed_at, h.closed_by, h.waiting_since = now, "resident", None
        return
    if h.waiting_since is None:  # staff had answered everything: this one waits again, and staff hear of it
        h.waiting_since = now
        _tell_staff(s, h, settings, nickname, "又发来消息", f"human:h{h.id}:{int(now.timestamp())}", now,
                    wechat=True)


# -- staff linking their WeChat -------------------------------------------------------------------------------


def is_staff_scene(scene: str | None) -> bool:
    return bool(scene) and str(scene).startswith(STAFF_SCENE_PREFIX)


def _audit(s: Session, hub_id: int, actor: str, action: str, subject: str, now: datetime, **detail: Any) -> None:
    s.add(AuditLog(hub_id=hub_id, actor=actor, action=action, subject=subject, detail=detail, at=now))


def new_scene(s: Session, account: StaffAccount, *, hub_id: int, actor: str, now: datetime) -> StaffLinkScene:
    """A fresh single-use scene for the account (its QR code is made by the caller, which has the WeChat client)."""
    if not account.active:
        raise HandoverError("这个账号已停用，不能绑定微信。")
    if account.role not in LINKABLE_ROLES:
        raise HandoverError("只有系统管理员和社区工作人员的账号能绑定微信接收工作提醒。")
    minutes = settings_for(s, hub_id).staff_link_minutes
    row = StaffLinkScene(scene=STAFF_SCENE_PREFIX + secrets.token_hex(16), hub_id=hub_id,
                         staff_account_id=account.id, created_by=actor, created_at=now,
                         expires_at=now + timedelta(minutes=minutes))
    s.add(row)
    s.flush()
    _audit(s, hub_id, actor, "staff_link_code", f"staff:{account.id}", now, username=account.username)
    return row


@dataclass(frozen=True)
class LinkCode:
    scene: str
    ticket: str
    expires_at: datetime

    @property
    def picture_url(self) -> str:
        return SHOW_QR_URL + quote(self.ticket)


def make_link_code(services: Services, account_id: int, *, actor: str) -> LinkCode:
    """A temporary QR code for the account's hub that links whoever scans it to the account (once, for
    HubSettings.staff_link_minutes). The scene is committed before WeChat is asked, the ticket after."""
    now = services.clock.now()
    with transaction(services.sessions) as s:
        account = s.get(StaffAccount, account_id)
        if account is None:
            raise HandoverError("没有这个账号。")
        row = new_scene(s, account, hub_id=account.hub_id, actor=actor, now=now)
        scene, hub_id, expires_at = row.scene, row.hub_id, as_utc(row.expires_at)
    body = {"action_name": "QR_STR_SCENE", "expire_seconds": max(60, int((expires_at - now).total_seconds())),
            "action_info": {"scene": {"scene_str": scene}}}
    try:
        answer = services.client_for(services.hubs.by_id(hub_id)).qrcode.create(body)
    except (LeifengError, WeChatException, OSError) as exc:
        raise HandoverError(f"微信没能生成二维码，请稍后再试（{exc}）。") from exc
    ticket = str(answer.get("ticket") or "")
    if not ticket:
        raise HandoverError("微信没能生成二维码，请稍后再试。")
    with transaction(services.sessions) as s:
        s.execute(update(StaffLinkScene).where(StaffLinkScene.scene == scene).values(ticket=ticket[:200]))
    return LinkCode(scene, ticket, expires_at)


def current_code(s: Session, account_id: int, now: datetime) -> LinkCode | None:
    """The account's newest link code that still works (made, not used, not expired)."""
    row = s.execute(select(StaffLinkScene).where(StaffLinkScene.staff_account_id == account_id,
                                                 StaffLinkScene.used_at.is_(None), StaffLinkScene.ticket.is_not(None))
                    .order_by(StaffLinkScene.id.desc()).limit(1)).scalar_one_or_none()
    if row is None or row.ticket is None or as_utc(row.expires_at) <= now:
        return None
    return LinkCode(row.scene, row.ticket, as_utc(row.expires_at))


def _still_linked_elsewhere(s: Session, user_id: int, account_id: int) -> bool:
    return s.execute(select(StaffAccount.id).where(StaffAccount.wechat_user_id == user_id,
                                                   StaffAccount.id != account_id,
                                                   StaffAccount.active.is_(True))).first() is not None


def _drop_role(s: Session, user_id: int, account_id: int) -> None:
    user = s.get(User, user_id)
    if user is not None and not _still_linked_elsewhere(s, user_id, account_id):
        user.roles = [r for r in (user.roles or []) if r != STAFF_ROLE]


def link(s: Session, account: StaffAccount, user: User, *, actor: str, now: datetime) -> None:
    """Link a WeChat user of the account's hub to the account and give them the staff role there."""
    if account.role not in LINKABLE_ROLES:
        raise HandoverError("只有系统管理员和社区工作人员的账号能绑定微信接收工作提醒。")
    if account.wechat_user_id is not None and account.wechat_user_id != user.id:
        _drop_role(s, account.wechat_user_id, account.id)
    account.wechat_user_id = user.id
    if STAFF_ROLE not in (user.roles or []):
        user.roles = [*(user.roles or []), STAFF_ROLE]
    _audit(s, user.hub_id, actor, "staff_link", f"staff:{account.id}", now, username=account.username,
           user=user.id)


def unlink(s: Session, account: StaffAccount, *, actor: str, now: datetime) -> bool:
    """Unlink the account's WeChat; the user keeps the staff role only while another account links them."""
    if account.wechat_user_id is None:
        return False
    user_id = account.wechat_user_id
    account.wechat_user_id = None
    s.flush()
    _drop_role(s, user_id, account.id)
    _audit(s, account.hub_id, actor, "staff_unlink", f"staff:{account.id}", now, username=account.username,
           user=user_id)
    return True


def link_by_scene(s: Session, *, hub_id: int, user_id: int, scene: str, now: datetime) -> str:
    """A staff-link QR code scanned: link the scanner once, within its time. The answer is the chat reply."""
    row = s.execute(select(StaffLinkScene).where(StaffLinkScene.scene == scene)).scalar_one_or_none()
    if row is None or row.hub_id != hub_id:
        return "这个绑定二维码无效，请在管理后台重新生成。"
    if row.used_at is not None:
        return "这个绑定二维码已经用过了。要重新绑定，请在管理后台再生成一个。"
    if as_utc(row.expires_at) <= now:
        return "这个绑定二维码已过期，请在管理后台重新生成。"
    claimed = s.execute(update(StaffLinkScene).where(StaffLinkScene.id == row.id, StaffLinkScene.used_at.is_(None))
                        .values(used_at=now).execution_options(synchronize_session=False))
    if cast(CursorResult[Any], claimed).rowcount != 1:  # a second scan at the same moment: the first one won
        return "这个绑定二维码已经用过了。要重新绑定，请在管理后台再生成一个。"
    account = s.get(StaffAccount, row.staff_account_id)
    user = s.get(User, user_id)
    if account is None or not account.active or user is None:
        return "这个账号已停用，没有绑定。"
    link(s, account, user, actor=f"wechat:{user.openid}", now=now)
    return (f"绑定成功！这个微信已关联后台账号 {account.username}，以后会收到工作提醒"
            "（新报名、无人接单、居民找人工等）。")


# -- the console: the inbox, replies, hand-back ---------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    handover_id: int
    user_id: int
    name: str | None
    phone: str | None
    opened_at: datetime
    waiting_since: datetime | None
    last_message_at: datetime
    last_text: str


def inbox(s: Session, hub_id: int, *, user_ids: list[int] | None = None) -> list[Waiting]:
    """Open hand-overs of the hub, longest waiting first (then those where staff answered last, oldest first);
    with `user_ids`, only those residents'."""
    q = (select(Handover, User.nickname, User.phone).join(User, User.id == Handover.user_id)
         .where(Handover.hub_id == hub_id, Handover.closed_at.is_(None)))
    if user_ids is not None:
        q = q.where(Handover.user_id.in_(user_ids or [0]))
    rows = s.execute(q.order_by(Handover.waiting_since.is_(None), Handover.waiting_since, Handover.last_message_at,
                                Handover.id).limit(500)).all()
    last: dict[int, str] = {}
    ids = [h.id for h, _, _ in rows]
    if ids:
        newest = (select(func.max(ConversationMessage.id)).where(ConversationMessage.handover_id.in_(ids),
                                                                 ConversationMessage.direction == "in")
                  .group_by(ConversationMessage.handover_id))
        for hid, text in s.execute(select(ConversationMessage.handover_id, ConversationMessage.text)
                                   .where(ConversationMessage.id.in_(newest))):
            last[int(hid or 0)] = text
    return [Waiting(h.id, h.user_id, nickname, phone, h.opened_at, h.waiting_since, h.last_message_at,
                    last.get(h.id, "")) for h, nickname, phone in rows]


def waiting_count(s: Session, hub_id: int, *, user_ids: list[int] | None = None) -> int:
    """Open hand-overs with a resident message staff have not answered (the console's badge)."""
    q = select(func.count()).select_from(Handover).where(Handover.hub_id == hub_id, Handover.closed_at.is_(None),
                                                         Handover.waiting_since.is_not(None))
    if user_ids is not None:
        q = q.where(Handover.user_id.in_(user_ids or [0]))
    return int(s.scalar(q) or 0)


@dataclass(frozen=True)
class Figures:
    waiting: int  # residents waiting for a staff answer now
    answered: int  # hand-overs of the period that staff answered
    median_answer_minutes: float | None  # from the hand-over to staff's first reply; None when none was answered


def dashboard_figures(s: Session, hub_id: int, now: datetime, days: int = 30) -> Figures:
    """For the dashboard: how many wait now, and the median time to a first staff answer over the last days."""
    since = now - timedelta(days=days)
    rows = s.execute(select(Handover.opened_at, Handover.first_answer_at)
                     .where(Handover.hub_id == hub_id, Handover.opened_at >= since,
                            Handover.first_answer_at.is_not(None))).all()
    minutes = [(as_utc(answered) - as_utc(opened)).total_seconds() / 60 for opened, answered in rows if answered]
    return Figures(waiting_count(s, hub_id), len(minutes), round(median(minutes), 1) if minutes else None)


@dataclass(frozen=True)
class Line:
    id: int
    direction: str
    author: str
    staff_name: str | None
    text: str
    at: datetime
    delivery: str | None  # a reply's delivery state (OutboxMessage.status), None for what the bot answered at once
    reasons: tuple[str, ...]


def transcript(s: Session, hub_id: int, user_id: int, limit: int = 200) -> list[Line]:
    """The resident's kept messages, both sides, oldest first (the newest `limit`)."""
    rows = s.execute(select(ConversationMessage, OutboxMessage.status, OutboxMessage.payload)
                     .outerjoin(OutboxMessage, OutboxMessage.id == ConversationMessage.outbox_id)
                     .where(ConversationMessage.hub_id == hub_id, ConversationMessage.user_id == user_id)
                     .order_by(ConversationMessage.id.desc()).limit(limit)).all()
    return [Line(m.id, m.direction, m.author, m.staff_name, m.text, m.at, status,
                 tuple((payload or {}).get("reasons", ()))) for m, status, payload in reversed(rows)]


def handover_of(s: Session, hub_id: int, handover_id: int) -> Handover | None:
    h = s.get(Handover, handover_id)
    return h if h is not None and h.hub_id == hub_id else None


def _open_one(s: Session, hub_id: int, handover_id: int) -> tuple[Handover, User]:
    h = handover_of(s, hub_id, handover_id)
    if h is None:
        raise HandoverError("没有这个会话。")
    if h.closed_at is not None:
        raise HandoverError("这个会话已经交还机器人了。")
    user = s.get(User, h.user_id)
    assert user is not None  # a foreign key
    return h, user


def reply(s: Session, *, hub_id: int, handover_id: int, text: str, staff_name: str, actor: str,
          now: datetime) -> ConversationMessage:
    """A staff answer to the resident, through the outbox (which keeps WeChat's limits); kept in the transcript."""
    text = text.strip()
    if not text:
        raise HandoverError("回复不能是空的。")
    if len(text) > REPLY_MOST:
        raise HandoverError(f"回复太长了，请分几次发（每次最多{REPLY_MOST}个字）。")
    h, user = _open_one(s, hub_id, handover_id)
    row = _add(s, h, "out", "staff", text, now, staff_name=staff_name)
    s.flush()
    key = f"handover-reply:{row.id}"
    enqueue(s, hub_id=hub_id, to=user.openid, text=text, now=now, idempotency_key=key, notice=Notice.REPLY)
    row.outbox_id = s.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))
    h.first_answer_at = h.first_answer_at or now
    h.waiting_since, h.last_message_at = None, now
    _audit(s, hub_id, actor, "handover_reply", f"user:{user.id}", now, handover=h.id)
    return row


def hand_back(s: Session, *, hub_id: int, handover_id: int, actor: str, now: datetime) -> None:
    """Close the hand-over and let the bot answer again; the resident is told."""
    h, user = _open_one(s, hub_id, handover_id)
    h.closed_at, h.closed_by, h.waiting_since = now, actor, None
    change_conversation(s, hub_id=hub_id, user_id=user.id, now=now, create=False,
                        edit=lambda state, slots: (State.IDLE, slots) if state == State.HUMAN else None)
    key = f"handover-back:{h.id}"
    enqueue(s, hub_id=hub_id, to=user.openid, text=BACK_TO_BOT, now=now, idempotency_key=key, notice=Notice.REPLY)
    _add(s, h, "out", "bot", BACK_TO_BOT, now,
         outbox_id=s.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)))
    _audit(s, hub_id, actor, "handover_back", f"user:{user.id}", now, handover=h.id)


# -- the worker's jobs ------------------------------------------------------------------------------------------


def unanswered_note(settings: HubSettings) -> str:
    """The one honest note to a resident nobody answered: what happened, and how to reach a person now."""
    phone = settings.office_phone
    office = f"急事请打社区办公室电话 {phone}" if phone else "急事请直接到社区办公室找工作人员"
    hours = f"（{settings.office_hours}）" if settings.office_hours else ""
    return f"对不起，社区工作人员暂时没能回复您。您说的话都记下了，工作人员看到会回复您。{office}{hours}。"


def note_unanswered(services: Services, now: datetime | None = None) -> int:
    """Tell each resident waiting longer than the hub's handover_answer_minutes, once per hand-over."""
    now = now or services.clock.now()
    sent = 0
    with services.sessions() as s:
        hubs = list(s.scalars(select(Handover.hub_id).where(Handover.closed_at.is_(None),
                                                            Handover.note_sent_at.is_(None),
                                                            Handover.waiting_since.is_not(None)).distinct()))
    for hub_id in hubs:
        with transaction(services.sessions) as s:
            settings = settings_for(s, hub_id)
            due = s.execute(select(Handover, User.openid).join(User, User.id == Handover.user_id)
                            .where(Handover.hub_id == hub_id, Handover.closed_at.is_(None),
                                   Handover.note_sent_at.is_(None),
                                   Handover.waiting_since <= now - timedelta(minutes=settings.handover_answer_minutes))
                            .with_for_update(of=Handover, skip_locked=True)).all()
            note = unanswered_note(settings)
            for h, openid in due:
                key = f"handover-note:{h.id}"
                enqueue(s, hub_id=hub_id, to=openid, text=note, now=now, idempotency_key=key, notice=Notice.REPLY)
                _add(s, h, "out", "bot", note, now,
                     outbox_id=s.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)))
                h.note_sent_at = now
                sent += 1
    return sent


def prune(services: Services, now: datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete kept messages older than each hub's handover_keep_days (and closed hand-overs left empty), and
    forget what people wrote on dedupe rows older than RECENT_TURNS_KEEP; `batch` rows per transaction."""
    now = now or services.clock.now()
    with services.sessions() as s:
        keep_days = {hub_id: settings_for(s, hub_id).handover_keep_days for hub_id in s.scalars(select(Hub.id))}
    total = 0
    for hub_id, days in keep_days.items():
        cutoff = now - timedelta(days=days)
        total += delete_in_batches(services.sessions, ConversationMessage.id, ConversationMessage.hub_id == hub_id,
                                   ConversationMessage.at < cutoff, batch=batch)
        with transaction(services.sessions) as s:
            left = select(ConversationMessage.id).where(ConversationMessage.handover_id == Handover.id).exists()
            s.execute(delete(Handover).where(Handover.hub_id == hub_id, Handover.closed_at < cutoff, ~left)
                      .execution_options(synchronize_session=False))
    forget = now - RECENT_TURNS_KEEP
    while True:
        with transaction(services.sessions) as s:
            ids = (select(ProcessedMessage.id).where(ProcessedMessage.received_at < forget,
                                                     ProcessedMessage.text.is_not(None))
                   .order_by(ProcessedMessage.id).limit(batch).scalar_subquery())
            done = s.execute(update(ProcessedMessage).where(ProcessedMessage.id.in_(ids)).values(text=None)
                             .execution_options(synchronize_session=False))
            cleared = int(cast(CursorResult[Any], done).rowcount)
        if cleared < batch:
            break
    return total
