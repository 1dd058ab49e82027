"""(user says → bot replies) dialogue tests through the real webhook and the outbox."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.simulator import Account, message_xml
from bot.services import Services
from bot.worker.sender import OutboxSender


class Chat:
    def __init__(self, client: Any, account: Account, clock: FakeClock, services: Services,
                 fake: FakeWeChatServer) -> None:
        self.client, self.account, self.clock, self.services, self.fake = client, account, clock, services, fake
        self._seen = 0
        self.transcript: list[str] = []

    def _post(self, xml: str, openid: str) -> str | None:
        now = int(self.clock.now().timestamp())
        req = self.account.sign(xml, now=now, openid=openid)
        resp = self.client.post("/wechat", query_string=req.params, data=req.body)
        assert resp.status_code == 200, resp.data
        reply = self.account.read(resp.data)
        text = None if reply is None else str(reply["Content"])
        self.transcript.append(f"{openid}> {xml[:60]}\nbot> {text}")
        return text

    def say(self, openid: str, text: str) -> str | None:
        xml = message_xml(to="gh_hub", sender=openid, create_time=int(self.clock.now().timestamp()),
                          msg_type="text", Content=text, MsgId=self.account.next_msg_id())
        return self._post(xml, openid)

    def location(self, openid: str, lat: float, lng: float, label: str) -> str | None:
        xml = message_xml(to="gh_hub", sender=openid, create_time=int(self.clock.now().timestamp()),
                          msg_type="location", Location_X=str(lat), Location_Y=str(lng), Scale="15", Label=label,
                          MsgId=self.account.next_msg_id())
        return self._post(xml, openid)

    def deliver(self) -> dict[str, list[str]]:
        """Run the outbox sender; return what each person received since the last call."""
        OutboxSender(self.services).drain()
        calls = [c for c in self.fake.calls() if c["result"].get("errcode") == 0 and c["method"] == "POST"]
        new, self._seen = calls[self._seen:], len(calls)
        got: dict[str, list[str]] = defaultdict(list)
        for c in new:
            body = c["body"] or {}
            if c["path"].endswith("custom/send"):
                got[body["touser"]].append(body["text"]["content"])
            elif c["path"].endswith("template/send"):
                got[body["touser"]].append(body["data"]["keyword1"]["value"])
            elif c["path"].endswith("webhook/send"):
                got["robot:" + c["params"]["key"]].append((body.get("text") or body.get("markdown"))["content"])
        return dict(got)


def verify_dialog(chat: Chat, rows: list[tuple[str, str, str | None]]) -> list[str | None]:
    """Each row: (who, says, a substring the passive reply must contain; None = no passive reply)."""
    replies = []
    for who, says, expect in rows:
        reply = chat.say(who, says)
        if expect is None:
            assert reply is None, f"{who} said {says!r}: expected no reply, got {reply!r}"
        else:
            assert reply is not None and expect in reply, f"{who} said {says!r}: expected {expect!r} in {reply!r}"
        replies.append(reply)
    return replies
