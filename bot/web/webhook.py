"""The official-account webhook: verify, decrypt, parse, dedupe, answer within WeChat's 5 seconds."""

from __future__ import annotations

import hashlib
import hmac
import logging
import struct
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature
from werkzeug.exceptions import RequestEntityTooLarge

from bot.channels.inbound import (
    encrypted_payload,
    message_from_dict,
    parse_xml,
    record_subscribe_choices,
    to_incoming,
)
from bot.dialogue.messages import Incoming
from bot.errors import BadMessageError, SignatureError, UnknownHubError
from bot.hubs import HubAccount
from bot.inbox.handler import BUSY_REPLY, handle_incoming
from bot.services import Services
from bot.web import badsig
from storage.db import raising_unavailable
from storage.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)

bp = Blueprint("wechat", __name__)


def services() -> Services:
    svc: Services = current_app.extensions["leifeng"]
    return svc


def _plain(body: str, status: int) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def check_timestamp(svc: Services, timestamp: str) -> None:
    """Replay window against the injected clock (WeChat and WeCom sign the same timestamp)."""
    try:
        ts = int(timestamp)
    except ValueError as exc:
        raise SignatureError("missing or bad timestamp") from exc
    if abs(svc.clock.now().timestamp() - ts) > svc.config.signature_window_seconds:
        raise SignatureError("timestamp outside the replay window")


def install_error_handlers(blueprint: Blueprint, channel: str) -> None:
    """403 for bad signatures, 400 for unreadable bodies, 503 while the database is unavailable: a log line each,
    never a 500. An address that failed the signature check too often is answered 429 at once, before anything is
    read or checked, until its cool-down ends (bot/web/badsig.py)."""

    @blueprint.before_request
    def _cooling_down() -> Response | None:
        cfg = services().config
        if not badsig.limiter(cfg).cooling_down(badsig.client_key(channel)):
            return None
        resp = _plain("too many requests", 429)
        resp.headers["Retry-After"] = str(max(1, round(cfg.signature_cooldown_seconds)))
        return resp

    @blueprint.errorhandler(SignatureError)
    def _forbidden(exc: SignatureError) -> Response:
        badsig.limiter(services().config).failed(badsig.client_key(channel))
        log.warning("%s: rejected %s %s: %s", channel, request.method, request.path, exc)
        return _plain("forbidden", 403)

    @blueprint.errorhandler(BadMessageError)
    def _bad(exc: BadMessageError) -> Response:
        log.warning("%s: bad message on %s: %s", channel, request.path, exc)
        return _plain("bad request", 400)

    @blueprint.errorhandler(DatabaseUnavailableError)
    def _unavailable(exc: DatabaseUnavailableError) -> Response:
        # Nothing of the message was kept (or all of it, and the retry finds it processed): an error status makes
        # WeChat send it again, where a 200 (even "busy") would drop it for good.
        log.warning("%s: %s %s answered 503: %s", channel, request.method, request.path, exc)
        resp = _plain("service unavailable", 503)
        resp.headers["Retry-After"] = "1"
        return resp


def answer(svc: Services, account: HubAccount, inc: Incoming, channel: str) -> str | None:
    """The passive reply to one message (handle_incoming), at the edge's last line of defence: the database down or
    too slow raises DatabaseUnavailableError (a 503, so the platform retries); anything else is logged and answered
    kindly, never with a 500 that would make it retry a message that may have half acted."""
    try:
        with raising_unavailable():
            return handle_incoming(svc, account, inc)
    except DatabaseUnavailableError:
        raise
    except Exception:
        log.exception("%s: failed to handle %s from %s", channel, inc.dedupe_key, inc.openid)
        return BUSY_REPLY


def _verify(svc: Services, account: HubAccount, args: Any, *, body_can_vouch: bool = False) -> None:
    """Check the timestamp and the URL's `signature`. body_can_vouch: a POST to a hub in safe mode, whose body
    decode() will only accept encrypted and verified by msg_signature over the ciphertext; there a missing
    `signature` is allowed (Tencent's own samples send only msg_signature)."""
    timestamp = args.get("timestamp", "")
    nonce = args.get("nonce", "")
    check_timestamp(svc, timestamp)
    signature = args.get("signature")
    if signature is None and body_can_vouch and account.crypto is not None:
        return
    try:
        check_signature(account.token, signature or "", timestamp, nonce)
    except InvalidSignatureException as exc:
        raise SignatureError("bad signature") from exc


def _account(slug: str | None) -> HubAccount:
    with raising_unavailable():  # (the hub is read from the database once its cached copy is old)
        return services().hubs.by_slug(slug)


install_error_handlers(bp, "wechat")


@bp.errorhandler(UnknownHubError)
def _no_hub(exc: UnknownHubError) -> Response:
    log.warning("%s", exc)
    return _plain("not found", 404)


@bp.get("/wechat")
@bp.get("/wechat/<slug>")
def verify(slug: str | None = None) -> Response:
    """URL verification: WeChat sends echostr and expects it back if the signature is ours."""
    svc = services()
    account = _account(slug)
    _verify(svc, account, request.args)
    signed(svc, "wechat")
    return _plain(request.args.get("echostr", ""), 200)


def signed(svc: Services, channel: str) -> None:
    """The request passed every signature check: its address's failures are forgotten (bot/web/badsig.py)."""
    badsig.limiter(svc.config).passed(badsig.client_key(channel))


def decode(svc: Services, account: HubAccount, body: bytes, args: Any) -> tuple[dict[str, Any], bool]:
    """Body -> message dict; returns (fields, encrypted).

    A hub with an EncodingAESKey is in safe mode (compatible mode included): only the encrypted payload,
    verified by its msg_signature, is used. The URL's `signature` covers only token, timestamp and nonce,
    never the body, and the URL shows up in access logs: a plaintext body beside it proves nothing. The
    payload is found and its msg_signature checked before any XML parser reads the body."""
    crypto = account.crypto
    if crypto is None:  # plaintext mode: the URL's signature was checked before the body was read
        if args.get("encrypt_type", "raw").lower() == "aes":
            raise BadMessageError("encrypted message but no EncodingAESKey configured for this hub")
        fields = parse_xml(body)
        if "Encrypt" in fields:
            raise BadMessageError("encrypted message but no EncodingAESKey configured for this hub")
        return fields, False
    encrypt = encrypted_payload(body)
    if encrypt is None:
        raise SignatureError("safe mode: a message without an encrypted payload (and its msg_signature)")
    check_msg_signature(account.token, args, encrypt)
    plain = decrypt_or_refuse(lambda: crypto.decrypt_message(
        {"Encrypt": encrypt}, args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", "")),
        InvalidAppIdException, "AppId")
    return parse_xml(plain), True


def check_msg_signature(token: str, args: Any, encrypt: str) -> None:
    """msg_signature = sha1 of the sorted token, timestamp, nonce and ciphertext (WeChat and WeCom alike),
    compared in constant time."""
    parts = sorted([token, str(args.get("timestamp", "")), str(args.get("nonce", "")), encrypt])
    expected = hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()
    given = str(args.get("msg_signature", "")).encode("utf-8", "replace")  # bytes: compare_digest refuses non-ASCII str
    if not hmac.compare_digest(expected.encode("ascii"), given):
        raise SignatureError("bad msg_signature")


def read_body(svc: Services) -> bytes:
    """The request body, at most max_body_bytes. With a Content-Length over it Werkzeug answers 413 itself; a
    chunked body (no Content-Length) Werkzeug would cut at the limit without a word, so it is read here."""
    if request.content_length is not None:
        return request.get_data(cache=False)
    limit = svc.config.max_body_bytes
    data = request.environ["wsgi.input"].read(limit + 1)
    if len(data) > limit:
        raise RequestEntityTooLarge()
    return bytes(data)


# What wechatpy's decryption raises on a ciphertext that is correctly signed but not a valid payload (bad
# base64 or padding, a length field pointing past the end, bytes that are not UTF-8): a 400, not a 500.
UNREADABLE = (ValueError, TypeError, KeyError, UnicodeDecodeError, IndexError, struct.error)


def decrypt_or_refuse(decrypt: Callable[[], str], wrong_id: type[Exception], id_name: str) -> str:
    """Run a wechatpy decrypt; a bad msg_signature is a 403, a payload for another account or an unreadable
    one a 400 (WeChat and WeCom differ only in the exception for the wrong AppId / CorpID)."""
    try:
        return decrypt()
    except InvalidSignatureException as exc:
        raise SignatureError("bad msg_signature") from exc
    except wrong_id as exc:
        raise BadMessageError(f"the encrypted payload is for another {id_name}") from exc
    except UNREADABLE as exc:
        raise BadMessageError(f"cannot decrypt: {exc.__class__.__name__}") from exc


def render_reply(svc: Services, account: HubAccount, inc: Incoming, text: str | None, encrypted: bool,
                 args: Any) -> Response:
    if not text:
        return _plain("success", 200)
    xml = TextReply(source=inc.account, target=inc.openid, content=text,
                    time=int(svc.clock.now().timestamp())).render()
    if encrypted and account.crypto is not None:
        xml = account.crypto.encrypt_message(xml, args.get("nonce", ""), args.get("timestamp"))
    return Response(xml, status=200, mimetype="application/xml")


@bp.post("/wechat")
@bp.post("/wechat/<slug>")
def receive(slug: str | None = None) -> Response:
    svc = services()
    account = _account(slug)
    _verify(svc, account, request.args, body_can_vouch=True)
    body = read_body(svc)
    fields, encrypted = decode(svc, account, body, request.args)
    signed(svc, "wechat")
    with raising_unavailable():  # 订阅通知 choices: the person's notice quota, kept before the message is answered
        record_subscribe_choices(svc.sessions, account.hub_id, fields, svc.clock.now())
    inc = to_incoming(message_from_dict(fields), fields)
    reply = answer(svc, account, inc, "wechat")
    return render_reply(svc, account, inc, reply, encrypted, request.args)
