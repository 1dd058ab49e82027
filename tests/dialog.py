"""(user says → bot replies) dialogue tests through the real webhook and the outbox.

"#N" in what someone says or in an expected reply is the 单号 (ref) of the order whose id is N: orders are named
by random refs in chat (storage.orderrefs), so a script names them by the id the test knows (Chat.refs).

After each message the worker's dispatch queue runs once (jobs.dispatch_waiting), as a worker does within
seconds of the reply: a test sees an order dispatched after "1" without driving the worker itself. A test of what
lies between the reply and the dispatch sets `chat.dispatching = False` and calls `chat.dispatch()`."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer, readable
from bot.devtools.simulator import Account, message_xml
from bot.services import Services
from bot.worker.jobs import dispatch_waiting
from bot.worker.sender import OutboxSender
from storage.models import Order, OutboxMessage

ORDER_BY_ID = re.compile(r"#(\d+)")


def all_orders(services: Services) -> list[Order]:
    """Every order in the test's database, oldest first."""
    with services.sessions() as s:
        return list(s.execute(select(Order).order_by(Order.id)).scalars())


class Chat:
    def __init__(self, client: Any, account: Account, clock: FakeClock, services: Services,
                 fake: FakeWeChatServer) -> None:
        self.client, self.account, self.clock, self.services, self.fake = client, account, clock, services, fake
        self._seen = 0
        self._wanted = 0
        self.transcript: list[str] = []
        self.dispatching = True  # run the worker's dispatch queue after each message

    def _post(self, xml: str, openid: str) -> str | None:
        now = int(self.clock.now().timestamp())
        self.fake.push(xml)  # WeChat knows what the user did: it delivers the message
        req = self.account.sign(xml, now=now, openid=openid)
        resp = self.client.post("/wechat", query_string=req.params, data=req.body)
        assert resp.status_code == 200, resp.data
        reply = self.account.read(resp.data)
        text = None if reply is None else str(reply["Content"])
        self.transcript.append(f"{openid}> {xml[:60]}\nbot> {text}")
        if self.dispatching:
            self.dispatch()
        return text

    def dispatch(self) -> int:
        """Run the worker's dispatch queue once (what it does every few seconds); how many orders it dispatched."""
        return dispatch_waiting(self.services)

    def refs(self, text: str) -> str:
        """The text with each "#N" replaced by the ref of order N (left as it is when there is no order N)."""
        def ref(m: re.Match[str]) -> str:
            with self.services.sessions() as s:
                order = s.get(Order, int(m.group(1)))
            return str(order.ref) if order is not None else m.group(0)
        return ORDER_BY_ID.sub(ref, text)

    def say(self, openid: str, text: str) -> str | None:
        text = self.refs(text)
        xml = message_xml(to="gh_hub", sender=openid, create_time=int(self.clock.now().timestamp()),
                          msg_type="text", Content=text, MsgId=self.account.next_msg_id())
        return self._post(xml, openid)

    def location(self, openid: str, lat: float, lng: float, label: str) -> str | None:
        xml = message_xml(to="gh_hub", sender=openid, create_time=int(self.clock.now().timestamp()),
                          msg_type="location", Location_X=str(lat), Location_Y=str(lng), Scale="15", Label=label,
                          MsgId=self.account.next_msg_id())
        return self._post(xml, openid)

    def wanted(self) -> dict[str, list[str]]:
        """Deliver, then what the bot meant to tell each person (or robot) since the last call: the texts of the
        outbox rows it sent, whatever route carried them (a template says less than the text)."""
        since = self._wanted
        self.deliver()
        with self.services.sessions() as s:
            rows = s.execute(select(OutboxMessage).where(OutboxMessage.id > since, OutboxMessage.status == "sent")
                             .order_by(OutboxMessage.id)).scalars().all()
        got: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            got[("robot:" if row.channel == "wecom_robot" else "") + row.to].append(str(row.payload.get("text", "")))
        return dict(got)

    def deliver(self) -> dict[str, list[str]]:
        """Run the outbox sender; return what each person received since the last call."""
        self.fake.adopt_users(self.services.sessions)  # people the test put in the users table follow the account
        OutboxSender(self.services).drain()
        calls = [c for c in self.fake.calls() if c["result"].get("errcode") == 0 and c["method"] == "POST"]
        new, self._seen = calls[self._seen:], len(calls)
        with self.services.sessions() as s:  # wanted() then tells what comes after this
            self._wanted = max(self._wanted, s.scalar(select(func.max(OutboxMessage.id))) or 0)
        got: dict[str, list[str]] = defaultdict(list)
        for c in new:
            delivered = readable(c)  # a custom message's text, a template's values joined by " | ", a robot's
            if delivered is not None:
                for who in delivered[0]:
                    got[who].append(delivered[1])
        return dict(got)


def verify_dialog(chat: Chat, rows: list[tuple[str, str, str | None]]) -> list[str | None]:
    """Each row: (who, says, a substring the passive reply must contain; None = no passive reply)."""
    replies = []
    for who, says, expect in rows:
        reply = chat.say(who, says)
        expect = chat.refs(expect) if expect is not None else None
        if expect is None:
            assert reply is None, f"{who} said {says!r}: expected no reply, got {reply!r}"
        else:
            assert reply is not None and expect in reply, f"{who} said {says!r}: expected {expect!r} in {reply!r}"
        replies.append(reply)
    return replies
