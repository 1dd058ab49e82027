"""The terminal chat: play a WeChat user against a webhook over real HTTP (signed, maybe encrypted)."""

from __future__ import annotations

import time
from typing import Any

import requests

from bot.config import Config
from bot.devtools.fake_wechat import readable
from bot.devtools.simulator import Account, SignedRequest, message_xml

HELP = """在这里像微信用户一样打字。特殊指令：
  /voice 文字        发一条带语音识别结果的语音
  /voice             发一条没有识别结果的语音
  /loc 纬度 经度 地名  发送位置
  /sub [场景]         关注公众号（可带二维码场景）
  /click KEY          点菜单（如 MENU_ORDER）
  /as OPENID          换一个用户身份
  /quit               退出"""


class HttpTransport:
    """Posts signed WeChat XML to a webhook URL; reads what the fake server pushed to the user."""

    def __init__(self, url: str, config: Config, fake_url: str | None = None, timeout: float = 10.0) -> None:
        self.url = url
        self.fake_url = fake_url.rstrip("/") if fake_url else None
        self.timeout = timeout
        self.account = Account(token=config.wechat_token, appid=config.wechat_appid, aes_key=config.wechat_aes_key)
        self._seen = 0

    def _post(self, req: SignedRequest, xml: str) -> str | None:
        if self.fake_url:  # WeChat knows what the user did: it delivers the message (the fake's rules need it)
            requests.post(self.fake_url + "/__push__", data=xml.encode("utf-8"), timeout=self.timeout)
        res = requests.post(self.url, params=req.params, data=req.body, timeout=self.timeout,
                            headers={"Content-Type": "text/xml"})
        if res.status_code != 200:
            return f"[HTTP {res.status_code}] {res.text.strip()}"
        reply = self.account.read(res.content)
        return None if reply is None else str(reply.get("Content", ""))

    def send(self, openid: str, line: str) -> str | None:
        now = int(time.time())
        acct = self.account
        to, msg_id = acct.original_id, acct.next_msg_id()
        if line.startswith("/voice"):
            words = line[len("/voice"):].strip() or None
            xml = message_xml(to=to, sender=openid, create_time=now, msg_type="voice", MediaId="m1",
                              Format="amr", Recognition=words, MsgId=msg_id)
        elif line.startswith("/loc"):
            parts = line.split(maxsplit=3)
            if len(parts) < 3:
                return "用法：/loc 纬度 经度 地名"
            xml = message_xml(to=to, sender=openid, create_time=now, msg_type="location", Location_X=parts[1],
                              Location_Y=parts[2], Scale="16", Label=parts[3] if len(parts) > 3 else "", MsgId=msg_id)
        elif line.startswith("/sub"):
            scene = line[len("/sub"):].strip()
            xml = message_xml(to=to, sender=openid, create_time=now, msg_type="event", Event="subscribe",
                              EventKey=f"qrscene_{scene}" if scene else None)
        elif line.startswith("/click"):
            xml = message_xml(to=to, sender=openid, create_time=now, msg_type="event", Event="CLICK",
                              EventKey=line[len("/click"):].strip() or "MENU_HELP")
        else:
            xml = message_xml(to=to, sender=openid, create_time=now, msg_type="text", Content=line, MsgId=msg_id)
        return self._post(acct.sign(xml, now=now, openid=openid), xml)

    def pushed(self) -> list[dict[str, Any]]:
        """Messages the fake WeChat server received since the last call (outbox deliveries)."""
        if not self.fake_url:
            return []
        calls = requests.get(self.fake_url + "/__sent__", timeout=self.timeout).json()
        sends = [c for c in calls if readable(c) is not None]
        new, self._seen = sends[self._seen:], len(sends)
        return new


def describe_push(call: dict[str, Any]) -> str:
    body = call.get("body") or {}
    if call["path"].endswith("webhook/send"):
        content = (body.get("text") or body.get("markdown") or {}).get("content", "")
        return f"[群机器人] {content}"
    if call["path"].endswith("template/send"):
        return f"[模板消息 → {body.get('touser')}] {(readable(call) or ([], ''))[1]}"
    return f"[客服消息 → {body.get('touser')}] {body.get('text', {}).get('content', '')}"


def run_terminal_chat(transport: HttpTransport, openid: str, settle: float = 1.5) -> None:
    print(HELP)
    who = openid
    while True:
        try:
            line = input(f"{who}> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if not line:
            continue
        if line == "/quit":
            return
        if line.startswith("/as "):
            who = line[4:].strip() or who
            continue
        try:
            reply = transport.send(who, line)
        except requests.RequestException as exc:
            print(f"(连不上 webhook：{exc})")
            continue
        print(f"机器人> {reply}" if reply else "机器人> (没有被动回复)")
        time.sleep(settle if transport.fake_url else 0)
        pushed = transport.pushed()
        mine = [c for c in pushed if (c.get("body") or {}).get("touser") == who]
        for call in mine:
            print("  " + describe_push(call))
        if len(pushed) > len(mine):  # to staff, volunteers, group robots: "/as <openid>" to be one of them
            print(f"  (另有 {len(pushed) - len(mine)} 条消息发给了别人)")
