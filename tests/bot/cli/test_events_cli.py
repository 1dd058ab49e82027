"""`leifeng events|broadcast|callout|wecom` end to end through click, against a migrated SQLite file."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.clock import SHANGHAI, FakeClock
from tests.bot.cli.conftest import demo_hub_cli


@pytest.fixture
def run(db_url: str, clock: FakeClock) -> Any:
    return demo_hub_cli(db_url, clock, catch_exceptions=False)


def test_events_commands(run: Any) -> None:
    res = run("events", "generate", "--months", "2", "--teams", "haircut,repair")
    assert res.exit_code == 0 and "SAT 2,4 09:00-11:30" in res.output
    made = [line for line in res.output.splitlines() if "\t" in line]
    assert len(made) >= 3
    assert "新建 0 场" in run("events", "generate", "--months", "2").output
    assert "队伍:爱心理发队、便民维修队" in run("events", "list").output  # names, not codes (out10)
    res = run("events", "add", "--start", "2026-12-03 14:00", "--end", "2026-12-03 16:00", "--place", "社区活动室",
              "--title", "防诈骗讲座")
    assert res.exit_code == 0 and "12月3日(周四) 14:00-16:00" in res.output
    event_id = res.output.split()[1]
    assert "改到 12月4日" in run("events", "move", event_id, "--start", "2026-12-04 14:00").output
    assert "已取消" in run("events", "cancel", event_id, "--reason", "讲师有事").output
    res = run("events", "cancel", event_id)
    assert res.exit_code == 1 and "已经取消过了" in res.output
    res = run("events", "add", "--start", "tomorrow", "--end", "x")
    assert res.exit_code != 0 and "格式" in res.output
    res = run("events", "generate", "--rule", "SAT 9 09:00-10:00")
    assert res.exit_code == 1 and "1-5 or L" in res.output


def test_broadcast_and_callout_commands(run: Any) -> None:
    res = run("broadcast", "send", "--segment", "team:haircut", "--text", "理发队周六集合")
    assert res.exit_code == 0 and "2 人待发送" in res.output
    assert "待发送 2" in run("broadcast", "status", "1").output
    assert "群发 1" in run("broadcast", "status").output
    res = run("broadcast", "send", "--segment", "team:haircut", "--text", "理发队周六集合")
    assert res.exit_code == 1 and "--force" in res.output
    res = run("broadcast", "send", "--segment", "nobody", "--text", "x")
    assert res.exit_code == 1 and "看不懂的范围" in res.output
    res = run("callout", "start", "--team", "emergency", "--message", "救援", "--place", "东河闸口")
    assert res.exit_code == 0 and "召集 1 已发出：2 人" in res.output
    res = run("callout", "status", "1")
    assert "0/2 人响应" in res.output and "✗ 王师傅" in res.output
    assert "已结束" in run("callout", "close", "1").output
    res = run("wecom", "link", "--userid", "zhangsf", "--volunteer", "1")
    assert res.exit_code == 0 and "已关联志愿者 1" in res.output
    assert run("wecom", "link", "--userid", "x", "--volunteer", "999").exit_code == 1
    assert "CHAT1" in run("wecom", "team-chat", "--team", "emergency", "--chatid", "CHAT1").output


def test_staff_mistakes_are_pointed_out(run: Any) -> None:
    """Outside tester out10: a past event and a broadcast to a 小区 nobody lives in were accepted without a word.
    (The command runs on the system's clock: the days are counted from today.)"""
    today = datetime.now(SHANGHAI)
    past = (today - timedelta(days=3)).strftime("%Y-%m-%d")
    res = run("events", "add", "--start", f"{past} 09:00", "--end", f"{past} 10:00", "--title", "写错的日子")
    assert res.exit_code == 0 and "已添加" in res.output and "时间已经过去了" in res.output, res.output
    soon = (today + timedelta(days=3)).strftime("%Y-%m-%d")
    res = run("events", "add", "--start", f"{soon} 09:00", "--end", f"{soon} 10:00", "--title", "讲座")
    assert "时间已经过去了" not in res.output
    res = run("broadcast", "send", "--segment", "community:幸福小去", "--text", "周六有活动")
    assert res.exit_code == 0 and "一个人也没有找到" in res.output, res.output
