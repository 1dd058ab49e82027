"""`leifeng demo`: app + worker + fake WeChat on SQLite with sample data, then a chat or a script."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from werkzeug.serving import make_server

from bot.app import create_app
from bot.chat import HttpTransport, describe_push, run_terminal_chat
from bot.config import load_config
from bot.fake_wechat import FakeWeChatServer
from bot.services import Services, build_services
from bot.worker import Worker
from storage.db import transaction, upgrade
from storage.models import Hub, OutboxMessage, User

RESIDENT = "oDemoResident01"
STAFF = "oDemoStaff01"


@dataclass(frozen=True)
class ScriptStep:
    who: str
    says: str
    expect: str  # the passive reply must contain this ("" = no passive reply expected)
    note: str = ""


SCRIPT: tuple[ScriptStep, ...] = (
    ScriptStep(RESIDENT, "/sub", "感谢关注", "居民关注公众号"),
    ScriptStep(RESIDENT, "菜单", "请回复数字"),
    ScriptStep(RESIDENT, "/voice", "没有听清楚", "一条没识别出来的语音"),
    ScriptStep(RESIDENT, "/loc 24.3123 109.4287 白莲街道宝莲社区", "宝莲社区", "发送位置"),
    ScriptStep(RESIDENT, "人工", "转接", "转人工：工作人员收到通知"),
)


def seed(services: Services) -> None:
    now = services.clock.now()
    with transaction(services.sessions) as s:
        hub = s.execute(select(Hub).where(Hub.slug == "default")).scalar_one()
        hub.name = "白莲街道雷锋超市"
        s.add(User(hub_id=hub.id, openid=STAFF, roles=["staff"], nickname="社区工作人员小李", subscribed=True,
                   last_inbound_at=now, created_at=now))
    services.hubs.forget()


def wait_outbox_empty(services: Services, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with services.sessions() as s:
            left = s.scalar(select(func.count()).select_from(OutboxMessage)
                            .where(OutboxMessage.status.in_(["pending", "sending"])))
        if not left:
            return
        time.sleep(0.1)


def run_demo(*, interactive: bool, db_path: str | None = None) -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("bot").setLevel(logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="leifeng-demo-"))
    url = f"sqlite:///{db_path or workdir / 'demo.db'}"
    upgrade(url)
    fake = FakeWeChatServer().start()
    config = load_config({"database_url": url, "wechat_api_base_url": fake.url, "wecom_robot_base_url": fake.url,
                          "wechat_token": "demo-token", "wechat_appid": "wxdemo0000000001",
                          "wechat_secret": "demo-secret", "wechat_notice_template_id": "TPL_DEMO_NOTICE",
                          "wechat_aes_key": ""}, environ={})
    services = build_services(config)
    seed(services)
    server = make_server("127.0.0.1", 0, create_app(services=services), threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    worker = Worker(services, interval=0.2)
    worker.start()
    webhook = f"http://127.0.0.1:{server.server_port}/wechat"
    transport = HttpTransport(webhook, config, fake.url)
    print(f"演示已启动：webhook {webhook}，假微信接口 {fake.url}，数据库 {url}")
    try:
        if interactive:
            run_terminal_chat(transport, RESIDENT)
            return 0
        return play_script(services, transport)
    finally:
        worker.stop()
        server.shutdown()
        fake.stop()
        services.close()


def play_script(services: Services, transport: HttpTransport) -> int:
    failures = 0
    for n, step in enumerate(SCRIPT, 1):
        if step.note:
            print(f"\n# {n}. {step.note}")
        print(f"{step.who}> {step.says}")
        reply = transport.send(step.who, step.says)
        print(f"机器人> {reply}" if reply else "机器人> (没有被动回复)")
        wait_outbox_empty(services)
        for call in transport.pushed():
            print("  " + describe_push(call))
        if step.expect and (reply is None or step.expect not in reply):
            print(f"!! 期望回复包含“{step.expect}”")
            failures += 1
    print(f"\n演示结束：{len(SCRIPT)} 轮，{failures} 轮不符合预期。")
    return 1 if failures else 0
