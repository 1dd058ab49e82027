"""Build real signed (and, in safe mode, encrypted) WeChat requests, the way WeChat's servers do."""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from wechatpy.crypto import WeChatCrypto

from bot.channels.inbound import parse_xml


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(*, to: str, sender: str, create_time: int, msg_type: str, **fields: Any) -> str:
    parts = [f"<ToUserName>{_cdata(to)}</ToUserName>", f"<FromUserName>{_cdata(sender)}</FromUserName>",
             f"<CreateTime>{create_time}</CreateTime>", f"<MsgType>{_cdata(msg_type)}</MsgType>"]
    for name, value in fields.items():
        if value is None:
            continue
        text = _cdata(value) if isinstance(value, str) else escape(str(value))
        parts.append(f"<{name}>{text}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def signature(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, *extra])).encode()).hexdigest()


@dataclass(frozen=True)
class SignedRequest:
    params: dict[str, str]
    body: bytes


def sign(xml: str, *, token: str, timestamp: int, nonce: str | None = None, aes_key: str = "",
         appid: str = "", openid: str = "") -> SignedRequest:
    """Sign like WeChat; with an AES key, encrypt like safe mode (msg_signature over the ciphertext)."""
    nonce = nonce or str(secrets.randbelow(10**9))
    ts = str(timestamp)
    params = {"signature": signature(token, ts, nonce), "timestamp": ts, "nonce": nonce}
    if openid:
        params["openid"] = openid
    if not aes_key:
        return SignedRequest(params, xml.encode("utf-8"))
    crypto = WeChatCrypto(token, aes_key, appid)
    encrypted = crypto.encrypt_message(xml, nonce, ts)
    fields = parse_xml(encrypted)
    outer = message_xml_encrypted(fields["Encrypt"], to=_to_of(xml))
    params.update(encrypt_type="aes", msg_signature=fields["MsgSignature"])
    return SignedRequest(params, outer.encode("utf-8"))


def _to_of(xml: str) -> str:
    return str(parse_xml(xml).get("ToUserName", ""))


def message_xml_encrypted(encrypt: str, *, to: str) -> str:
    return f"<xml><ToUserName>{_cdata(to)}</ToUserName><Encrypt>{_cdata(encrypt)}</Encrypt></xml>"


def read_reply(body: bytes | str, *, token: str = "", aes_key: str = "", appid: str = "",
               params: dict[str, str] | None = None) -> dict[str, Any] | None:
    """Decode the webhook's answer: None for "success"/empty, else the reply's fields."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if text.strip() in ("", "success"):
        return None
    fields = parse_xml(text)
    if "Encrypt" in fields and aes_key:
        crypto = WeChatCrypto(token, aes_key, appid)
        plain = crypto.decrypt_message(text, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])
        return parse_xml(plain)
    return fields


@dataclass
class Account:
    """What the simulated WeChat server knows about one official account."""

    token: str
    appid: str
    aes_key: str = ""
    original_id: str = "gh_leifeng_demo"
    path: str = "/wechat"
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(int(time.time() * 1000)))

    def next_msg_id(self) -> str:
        return str(next(self._ids))

    def text(self, openid: str, content: str, *, now: int, msg_id: str | None = None) -> SignedRequest:
        xml = message_xml(to=self.original_id, sender=openid, create_time=now, msg_type="text",
                          Content=content, MsgId=msg_id or self.next_msg_id())
        return self.sign(xml, now=now, openid=openid)

    def event(self, openid: str, event: str, *, now: int, key: str | None = None) -> SignedRequest:
        xml = message_xml(to=self.original_id, sender=openid, create_time=now, msg_type="event",
                          Event=event, EventKey=key)
        return self.sign(xml, now=now, openid=openid)

    def sign(self, xml: str, *, now: int, openid: str = "") -> SignedRequest:
        return sign(xml, token=self.token, timestamp=now, aes_key=self.aes_key, appid=self.appid, openid=openid)

    def read(self, body: bytes | str) -> dict[str, Any] | None:
        return read_reply(body, token=self.token, aes_key=self.aes_key, appid=self.appid)
