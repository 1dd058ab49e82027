"""`leifeng demo`: app + worker + fake WeChat on SQLite with sample data, then a chat or a script."""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from werkzeug.serving import make_server

from bot.app import create_app
from bot.config import load_config
from bot.devtools.chat import HttpTransport, describe_push, run_terminal_chat
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.devtools.seed import VOLUNTEERS, seed_demo_hub
from bot.services import Services, build_services
from bot.worker.process import Worker
from storage.db import transaction, upgrade
from storage.models import DISPATCH_WAITING_SQL, Hub, Order, OutboxMessage, Team

RESIDENT = "oDemoResident01"
BARBER, BARBER2 = VOLUNTEERS[0].openid, VOLUNTEERS[1].openid


@dataclass(frozen=True)
class ScriptStep:
    who: str
    says: str  # "{order}" is the 单号 of the order the script placed (random: read from the reply)
    expect: str  # the passive reply must contain this ("" = no passive reply expected)
    note: str = ""


SCRIPT: tuple[ScriptStep, ...] = (
    ScriptStep(RESIDENT, "/sub", "感谢关注", "居民关注公众号，看到菜单"),
    ScriptStep(RESIDENT, "/voice", "没有听清楚", "一条没识别出来的语音：友好地请她再说一遍"),
    ScriptStep(RESIDENT, "/voice 麻烦尽快来给我老伴理个发，地址幸福小区3栋2单元501", "联系电话",
               "点单：一句语音里说了服务、时间（尽快）和地址，只再问电话"),
    ScriptStep(RESIDENT, "13812345678", "请核对"),
    ScriptStep(RESIDENT, "1", "已提交", "确认后自动派单：理发队的志愿者收到任务，群里也发了"),
    ScriptStep(BARBER, "接单 {order}", "接单成功", "接单：第一个回复的志愿者接到，看到完整地址和电话"),
    ScriptStep(BARBER2, "接单 {order}", "已被接走", "晚一步的志愿者被礼貌告知"),
    ScriptStep(BARBER, "完成 {order} 1.5", "最多记0.5小时", "报的时长超过接单以来的时间：说清楚最多能记多少"),
    ScriptStep(BARBER, "完成 {order} 0.5", "辛苦了", "志愿者报告完成和时长；居民被请去评价"),
    ScriptStep(RESIDENT, "五颗心", "谢谢您的评价", "评单：五颗心"),
    ScriptStep(RESIDENT, "张师傅手艺真好", "收到您的留言"),
    ScriptStep(BARBER, "积分", "积分", "志愿者查积分：0.5 小时 × 10 × 1.5 倍"),
    ScriptStep(RESIDENT, "我的订单", "没有进行中的订单"),
    ScriptStep(RESIDENT, "人工", "转接", "转人工：工作人员收到通知"),
)


def seed(services: Services) -> bool:
    """Seed the demo hub; False when the database already has it (a `--db` file used before): it is reused."""
    with transaction(services.sessions) as s:
        hub_id = s.scalar(select(Hub.id).where(Hub.slug == "default"))
        if s.scalar(select(func.count()).select_from(Team).where(Team.hub_id == hub_id)):
            return False
        hub = seed_demo_hub(s, services.clock.now(), hub_name="白莲街道雷锋超市")
        s.execute(select(Team).where(Team.hub_id == hub.id, Team.code == "haircut")).scalar_one().robot_key = \
            "DEMO-HAIRCUT-ROBOT"
    services.hubs.forget()
    return True


def wait_outbox_empty(services: Services, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with services.sessions() as s:  # no order waits for the worker's dispatch (first: its messages come with it)
            left = s.scalar(select(func.count()).select_from(Order).where(text(DISPATCH_WAITING_SQL)))
            left = left or s.scalar(select(func.count()).select_from(OutboxMessage)
                                    .where(OutboxMessage.status.in_(["pending", "sending"])))
        if not left:
            return
        time.sleep(0.1)


def run_demo(*, interactive: bool, db_path: str | None = None) -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("bot").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    workdir = Path(tempfile.mkdtemp(prefix="leifeng-demo-"))
    url = f"sqlite:///{db_path or workdir / 'demo.db'}"
    upgrade(url)
    fake = FakeWeChatServer().start()
    # the webhook's port is known before the app exists, so the links the demo shows (.ics files) name it
    apps: list[Any] = []
    server = make_server("127.0.0.1", 0, lambda environ, start: apps[0](environ, start), threaded=True)
    # development: the demo's made-up token and the published secret key are fine on loopback
    config = load_config({"env": "development", "database_url": url, "wechat_api_base_url": fake.url,
                          "wecom_robot_base_url": fake.url,
                          "wechat_token": "demo-token", "wechat_appid": "wxdemo0000000001",
                          "wechat_secret": "demo-secret", "wechat_notice_template_id": "TPL_DEMO_NOTICE",
                          "wechat_aes_key": "", "dispatch_every_seconds": 0.2,
                          "public_url": f"http://127.0.0.1:{server.server_port}",
                          # no WeChat waits on the demo's loopback call: a reply that is slow on a loaded machine is
                          # still the passive reply (the scripted run checks it), not an outbox message
                          "reply_budget_seconds": 120.0}, environ={})
    services = build_services(config)
    if not seed(services):
        print(f"数据库 {url} 里已有演示社区，直接接着用（不再重复放示例数据）。")
    fake.adopt_users(services.sessions)  # the sample volunteers and staff follow the account
    apps.append(create_app(services=services))
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
    order = ""  # the 单号 the resident's "已提交" reply names
    for n, step in enumerate(SCRIPT, 1):
        if step.note:
            print(f"\n# {n}. {step.note}")
        says = step.says.replace("{order}", order)
        print(f"{step.who}> {says}")
        reply = transport.send(step.who, says)
        print(f"机器人> {reply}" if reply else "机器人> (没有被动回复)")
        placed = re.search(r"订单(\d+)已提交", reply or "")
        order = placed.group(1) if placed else order
        wait_outbox_empty(services)
        for call in transport.pushed():
            print("  " + describe_push(call))
        if step.expect and (reply is None or step.expect not in reply):
            print(f"!! 期望回复包含“{step.expect}”")
            failures += 1
    print(f"\n演示结束：{len(SCRIPT)} 轮，{failures} 轮不符合预期。")
    return 1 if failures else 0
