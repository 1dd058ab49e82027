"""The WeCom (企业微信) app channel: the /wecom callback (URL verification, encrypted messages and replies).

Volunteers who live in WeCom talk to the same dialogue engine as on the official account. A WeCom
member's userid becomes the openid "wecom:<userid>" in the hub named by LEIFENG_WECOM_HUB, so it can
never clash with an official-account openid; staff link that user to a volunteer record
(`leifeng wecom link`), after which "接单 N" from WeCom works exactly as from WeChat.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply

from bot.channels.inbound import encrypted_payload, message_from_dict, parse_xml, to_incoming
from bot.channels.wecom_api import is_wecom, openid_for, userid_of  # noqa: F401  (re-exported for callers)
from bot.config import Config
from bot.dialogue.messages import Incoming
from bot.errors import BadMessageError, LeifengError, SignatureError
from bot.hubs import HubAccount
from bot.services import Services
from bot.web.webhook import (
    UNREADABLE,
    answer,
    check_msg_signature,
    check_timestamp,
    decrypt_or_refuse,
    install_error_handlers,
    read_body,
    signed,
)
from storage.db import raising_unavailable
from storage.models import AuditLog, Membership, User, Volunteer

log = logging.getLogger(__name__)

bp = Blueprint("wecom", __name__)


# -- inbound ------------------------------------------------------------------------------------


def _services() -> Services:
    svc: Services = current_app.extensions["leifeng"]
    return svc


def wecom_account(svc: Services) -> HubAccount:
    """The hub WeCom serves, with the WeCom app's credentials in place of the official account's."""
    cfg = svc.config
    hub = svc.hubs.by_slug(cfg.wecom_hub)
    return replace(hub, appid=cfg.wecom_corpid, token=cfg.wecom_token, aes_key=cfg.wecom_aes_key,
                   secret=cfg.wecom_secret, template_id="")


def _crypto(cfg: Config) -> WeChatCrypto:
    return WeChatCrypto(cfg.wecom_token, cfg.wecom_aes_key, cfg.wecom_corpid)


def _plain(body: str, status: int) -> Response:
    return Response(body, status=status, mimetype="text/plain")


install_error_handlers(bp, "wecom")


def _configured(svc: Services) -> bool:
    cfg = svc.config
    return bool(cfg.wecom_corpid and cfg.wecom_token and cfg.wecom_aes_key)


@bp.get("/wecom")
def verify() -> Response:
    """URL verification: WeCom sends an encrypted echostr; we answer it decrypted if the signature is ours."""
    svc = _services()
    if not _configured(svc):
        return _plain("not found", 404)
    args = request.args
    check_timestamp(svc, args.get("timestamp", ""))
    try:
        echo = _crypto(svc.config).check_signature(args.get("msg_signature", ""), args.get("timestamp", ""),
                                                   args.get("nonce", ""), args.get("echostr", ""))
    except InvalidSignatureException as exc:
        raise SignatureError("bad msg_signature") from exc
    except InvalidCorpIdException as exc:
        raise BadMessageError("echostr is for another CorpID") from exc
    except UNREADABLE as exc:
        raise BadMessageError(f"cannot decrypt echostr: {exc.__class__.__name__}") from exc
    signed(svc, "wecom")
    return _plain(echo if isinstance(echo, str) else echo.decode("utf-8"), 200)


def decode(svc: Services, body: bytes, args: Any) -> dict[str, Any]:
    """Body -> the decrypted message fields (WeCom callbacks are always encrypted). The payload is found and
    its msg_signature checked before any XML parser reads what was sent."""
    encrypt = encrypted_payload(body)
    if encrypt is None:
        raise BadMessageError("a WeCom callback without <Encrypt>")
    check_msg_signature(svc.config.wecom_token, args, encrypt)
    plain = decrypt_or_refuse(lambda: _crypto(svc.config).decrypt_message(
        {"Encrypt": encrypt}, args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", "")),
        InvalidCorpIdException, "CorpID")
    return parse_xml(plain)


def to_wecom_incoming(fields: dict[str, Any]) -> Incoming:
    """The dialogue's Incoming, with the WeCom userid namespaced (openid and dedupe key)."""
    inc = to_incoming(message_from_dict(fields), fields)
    if inc.kind == "unknown" and str(fields.get("MsgType", "")).lower() == "event":
        # WeCom's own events (enter_agent when someone opens the app, batch jobs...) are not questions:
        # the dialogue answers them with silence, not "I don't understand"
        inc = replace(inc, kind="event", event=str(fields.get("Event", "")).lower() or "unknown")
    return replace(inc, openid=openid_for(inc.openid), msg_id=f"wecom:{inc.msg_id}" if inc.msg_id else None)


@bp.post("/wecom")
def receive() -> Response:
    svc = _services()
    if not _configured(svc):
        return _plain("not found", 404)
    args = request.args
    check_timestamp(svc, args.get("timestamp", ""))
    fields = decode(svc, read_body(svc), args)
    signed(svc, "wecom")
    inc = to_wecom_incoming(fields)
    with raising_unavailable():
        account = wecom_account(svc)
    reply = answer(svc, account, inc, "wecom")  # as on /wechat: a 503 while the database is down, never a 500
    if not reply:
        return _plain("", 200)
    xml = TextReply(source=inc.account, target=userid_of(inc.openid), content=reply,
                    time=int(svc.clock.now().timestamp())).render()
    encrypted = _crypto(svc.config).encrypt_message(xml, args.get("nonce", ""), args.get("timestamp"))
    return Response(encrypted, status=200, mimetype="application/xml")


# -- linking a WeCom member to a volunteer --------------------------------------------------------


class LinkError(LeifengError):
    """The WeCom user cannot be linked (no such volunteer, not a member of the hub...)."""


def link_user(s: Session, *, hub_id: int, userid: str, volunteer_id: int, now: datetime,
              notify_here: bool = False, actor: str = "cli") -> User:
    """Make WeCom member `userid` act as volunteer `volunteer_id` in the hub.

    With notify_here the volunteer's notices (task offers...) go to WeCom instead of the official account.
    """
    if s.get(Volunteer, volunteer_id) is None:
        raise LinkError(f"没有编号为 {volunteer_id} 的志愿者")
    member = s.execute(select(Membership).where(Membership.hub_id == hub_id,
                                                Membership.volunteer_id == volunteer_id)).scalar_one_or_none()
    if member is None:
        raise LinkError(f"志愿者 {volunteer_id} 不是本站成员")
    openid = openid_for(userid)
    user = s.execute(select(User).where(User.hub_id == hub_id, User.openid == openid)).scalar_one_or_none()
    if user is None:
        user = User(hub_id=hub_id, openid=openid, roles=[], subscribed=True, created_at=now)
        s.add(user)
    user.volunteer_id = volunteer_id
    user.roles = sorted({*(user.roles or []), "volunteer"})
    s.flush()
    if notify_here:
        member.user_id = user.id
    s.add(AuditLog(hub_id=hub_id, actor=actor, action="wecom_link", subject=f"user:{user.id}",
                   detail={"userid": userid, "volunteer": volunteer_id, "notify_here": notify_here}, at=now))
    return user
