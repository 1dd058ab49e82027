"""Typed incoming messages: plain data, shared by the edge and the pure dialogue core."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Incoming:
    """One message or event from a user, in the terms the dialogue needs."""

    kind: str  # text | voice | location | image | link | video | event | unknown
    openid: str
    account: str
    create_time: int
    msg_id: str | None = None
    text: str | None = None  # text content, or the voice transcript
    event: str | None = None  # subscribe | unsubscribe | scan | click | view | location | ...
    event_key: str | None = None
    scene: str | None = None  # parameterised QR code scene (subscribe with qrscene_, or SCAN)
    latitude: float | None = None
    longitude: float | None = None
    label: str | None = None
    url: str | None = None
    title: str | None = None
    media_id: str | None = None
    raw_type: str = ""

    @property
    def dedupe_key(self) -> str:
        """WeChat retries carry the same MsgId; events have none, so FromUserName+CreateTime, the event and its
        EventKey (two menu clicks in one second are two events; a retry repeats the key). The sender is in
        both: a stored reply is only ever handed back to the user it was written for."""
        if self.msg_id:
            return f"msg:{self.openid}:{self.msg_id}"
        key = self.event_key or ""
        if len(key) > 40:  # a VIEW event's key is a whole URL: its digest keeps the column's 200 characters
            key = "#" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:39]
        return f"evt:{self.openid}:{self.create_time}:{self.event or self.raw_type}:{key}"
