"""Parse what WeChat posts into typed values, once, at the edge (hardened XML, wechatpy's registry)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError
from sqlalchemy.orm import Session, sessionmaker
from wechatpy.events import EVENT_TYPES
from wechatpy.messages import MESSAGE_TYPES, BaseMessage, UnknownMessage

from bot.dialogue.messages import Incoming
from bot.errors import BadMessageError
from storage import subscriptions
from storage.db import transaction

REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")
CREATE_TIME = re.compile(r"[0-9]{1,12}")  # ASCII digits (str.isdigit takes "²"), a plausible length
FIELD_LIMITS = {"FromUserName": 64, "ToUserName": 64, "MsgId": 64, "MsgType": 32, "Event": 32}
TEXT_FIELDS = REQUIRED + ("Content", "Recognition", "Format", "MediaId", "ThumbMediaId", "PicUrl", "Label",
                          "Location_X", "Location_Y", "Scale", "Url", "Title", "Description", "MsgId", "Event",
                          "EventKey", "Ticket", "Latitude", "Longitude", "Precision", "Status")


# What WeChat and WeCom ever send: the deepest is a menu photo event, <xml><SendPicsInfo><PicList><item>
# <PicMd5Sum> (5 levels); a callback has a few dozen elements. Anything beyond is refused while it is read.
MAX_DEPTH = 8
MAX_ELEMENTS = 256
# The encrypted payload of a safe-mode / WeCom callback: base64, in CDATA or not. Found without an XML parser, so
# its msg_signature is checked before a parser sees anything a stranger sent.
ENCRYPT = re.compile(rb"<Encrypt>\s*(?:<!\[CDATA\[([A-Za-z0-9+/=]+)\]\]>|([A-Za-z0-9+/=]+))\s*</Encrypt>")


class _BoundedTree:
    """An ElementTree builder that stops the parse at the first element deeper or further than MAX_DEPTH /
    MAX_ELEMENTS, before the tree (and the recursion that reads it) can grow."""

    def __init__(self) -> None:
        self._tree = TreeBuilder()
        self._depth = 0
        self._count = 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self._depth += 1
        self._count += 1
        if self._depth > MAX_DEPTH:
            raise BadMessageError(f"XML nested deeper than {MAX_DEPTH} levels")
        if self._count > MAX_ELEMENTS:
            raise BadMessageError(f"XML with more than {MAX_ELEMENTS} elements")
        return self._tree.start(tag, attrs)

    def end(self, tag: str) -> Element:
        self._depth -= 1
        return self._tree.end(tag)

    def data(self, text: str) -> None:
        self._tree.data(text)

    def close(self) -> Element:
        return self._tree.close()


def _element_to_dict(elem: Element) -> dict[str, Any]:
    """Children by tag; a tag that repeats (the <List> items of a 订阅通知 event) becomes a list of them."""
    out: dict[str, Any] = {}
    for child in elem:
        value = _element_to_dict(child) if len(child) else (child.text or "")
        if child.tag not in out:
            out[child.tag] = value
        elif isinstance(out[child.tag], list):
            out[child.tag].append(value)
        else:
            out[child.tag] = [out[child.tag], value]
    return out


def parse_xml(body: bytes | str) -> dict[str, Any]:
    """Parse a flat WeChat XML document; DTDs, entities and external references are refused, and so is a
    document deeper or larger than WeChat sends (MAX_DEPTH, MAX_ELEMENTS)."""
    try:
        parser = DefusedXMLParser(target=_BoundedTree(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
        parser.feed(body)
        root = parser.close()
    except (ParseError, DefusedXmlException, ValueError, LookupError) as exc:  # LookupError: encoding="bogus"
        raise BadMessageError(f"unreadable XML: {exc.__class__.__name__}") from exc
    if root.tag != "xml":
        raise BadMessageError("the root element is not <xml>")
    return _element_to_dict(root)


def encrypted_payload(body: bytes) -> str | None:
    """The one <Encrypt> value of an encrypted callback, read without parsing the body (None: none, or several)."""
    found: list[tuple[bytes, bytes]] = ENCRYPT.findall(body)
    if len(found) != 1:
        return None
    in_cdata, bare = found[0]
    return (in_cdata or bare).decode("ascii")


def message_from_dict(data: dict[str, Any]) -> BaseMessage:
    """The same registry lookup as wechatpy.parse_message, fed from our hardened parser."""
    missing = [k for k in REQUIRED if not data.get(k)]
    if missing:
        raise BadMessageError(f"missing fields: {', '.join(missing)}")
    nested = [k for k in TEXT_FIELDS if k in data and not isinstance(data[k], str)]
    if nested:  # fields the bot reads as text; WeChat never puts elements in them (menu events may elsewhere)
        raise BadMessageError(f"elements inside text fields: {', '.join(nested)}")
    too_long = [k for k, most in FIELD_LIMITS.items() if len(str(data.get(k) or "")) > most]
    if too_long:  # longer than any WeChat/WeCom value, and than the columns that keep them
        raise BadMessageError(f"fields too long: {', '.join(too_long)}")
    if not CREATE_TIME.fullmatch(data["CreateTime"].strip()):
        raise BadMessageError("CreateTime is not a whole number of seconds")
    data = dict(data)
    msg_type = str(data["MsgType"]).lower()
    if msg_type == "event":
        event = str(data.get("Event", "")).lower()
        key = str(data.get("EventKey") or "")
        if event == "subscribe" and key.startswith("qrscene_"):
            event = "subscribe_scan"
            data["Event"] = event
            data["EventKey"] = key[len("qrscene_"):]
        cls = EVENT_TYPES.get(event, UnknownMessage)
    else:
        cls = MESSAGE_TYPES.get(msg_type, UnknownMessage)
    try:
        return cls(data)
    except (TypeError, ValueError) as exc:
        raise BadMessageError(f"bad field in {msg_type} message: {exc}") from exc


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def to_incoming(msg: BaseMessage, data: dict[str, Any]) -> Incoming:
    base: dict[str, Any] = {
        "openid": msg.source,
        "account": msg.target,
        "create_time": int(data.get("CreateTime") or 0),
        "msg_id": str(data["MsgId"]) if data.get("MsgId") else None,
        "raw_type": str(data.get("MsgType", "")).lower(),
    }
    mtype = getattr(msg, "type", "unknown")
    if mtype == "text":
        return Incoming(kind="text", text=msg.content or "", **base)
    if mtype == "voice":
        recognition = (msg.recognition or "").strip() or None
        return Incoming(kind="voice", text=recognition, media_id=msg.media_id, **base)
    if mtype == "location":
        return Incoming(kind="location", latitude=_float(data.get("Location_X")),
                        longitude=_float(data.get("Location_Y")), label=msg.label or None, **base)
    if mtype in ("image", "video", "shortvideo"):
        return Incoming(kind="image" if mtype == "image" else "video", media_id=data.get("MediaId"),
                        url=data.get("PicUrl"), **base)
    if mtype == "link":
        return Incoming(kind="link", url=msg.url, title=msg.title, **base)
    if base["raw_type"] == "event":  # every event is an event, those wechatpy does not know too (订阅通知's)
        event = str(getattr(msg, "event", "") or data.get("Event", "")).lower()
        key = data.get("EventKey") or None
        scene = None
        if event == "subscribe_scan":
            key = key.removeprefix("qrscene_") if key else key
            event, scene = "subscribe", key
        elif event == "scan":
            scene = key
        if event == "location":
            return Incoming(kind="event", event=event, latitude=_float(data.get("Latitude")),
                            longitude=_float(data.get("Longitude")), **base)
        if event == "templatesendjobfinish":
            key = data.get("Status")
        return Incoming(kind="event", event=event, event_key=key, scene=scene, **base)
    return Incoming(kind="unknown", **base)


# -- 订阅通知: what a user accepted or refused (wechatpy 1.8.18 does not parse these events) -------------------------

SUBSCRIBE_EVENTS = {"subscribe_msg_popup_event": "SubscribeMsgPopupEvent",
                    "subscribe_msg_change_event": "SubscribeMsgChangeEvent",
                    "subscribe_msg_sent_event": "SubscribeMsgSentEvent"}
ACCEPT, REJECT = "accept", "reject"
USER_BLOCKED = "failed:user block"  # a sent event's ErrorStatus when the user refuses the notices


@dataclass(frozen=True)
class SubscribeChoice:
    """One template of a 订阅通知 event: the user accepted it (one more notice may be sent), or refused it."""

    template_id: str
    status: str  # accept | reject


def subscribe_choices(data: dict[str, Any]) -> tuple[SubscribeChoice, ...]:
    """The choices in a subscribe_msg_popup_event / subscribe_msg_change_event (each <List>: TemplateId and
    SubscribeStatusString accept|reject), and a subscribe_msg_sent_event whose ErrorStatus says the user blocked
    the notice (a refusal). Anything else, a sent notice's success included: nothing."""
    event = str(data.get("Event") or "").lower()
    if str(data.get("MsgType") or "").lower() != "event" or event not in SUBSCRIBE_EVENTS:
        return ()
    block = data.get(SUBSCRIBE_EVENTS[event])
    items = block.get("List") if isinstance(block, dict) else None
    out: list[SubscribeChoice] = []
    for item in items if isinstance(items, list) else [items]:
        if not isinstance(item, dict):
            continue
        template_id = str(item.get("TemplateId") or "").strip()
        if not template_id or len(template_id) > 128:
            continue
        if event == "subscribe_msg_sent_event":
            status = REJECT if str(item.get("ErrorStatus") or "").strip().lower() == USER_BLOCKED else ""
        else:
            status = str(item.get("SubscribeStatusString") or "").strip().lower()
        if status in (ACCEPT, REJECT):
            out.append(SubscribeChoice(template_id, status))
    return tuple(out)


def record_subscribe_choices(sessions: sessionmaker[Session], hub_id: int, data: dict[str, Any],
                             now: datetime) -> int:
    """Keep what a 订阅通知 event says the user accepted or refused (the person's notice quota, which the sender
    spends), in its own short transaction; WeChat's retry of the event changes nothing. Returns the choices kept."""
    choices = subscribe_choices(data)
    if not choices:
        return 0
    with transaction(sessions) as s:
        return subscriptions.record_choices(s, hub_id, str(data["FromUserName"]), int(str(data["CreateTime"]).strip()),
                                            [(c.template_id, c.status) for c in choices], now)
