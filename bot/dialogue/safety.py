"""What the bot says first when a message is about an emergency (pure): the number to call now and one or two
safety steps, short and plain. Recognising the emergency is intents.emergency's job; alerting staff is the
community's (bot/community/incidents.py), through the "emergency" action this module asks for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.dialogue.core import Action, Result, idle
from intents.emergency import Emergency

# The numbers to call by kind; a hub overrides them in its settings ("hotlines"), e.g. the local gas company.
DEFAULT_HOTLINES: Mapping[str, str] = {
    "medical": "120",
    "fire": "119",
    "gas": "119",
    "crime": "110",
    "self_harm": "12356",
    "water": "119",
}
STAFF_TOLD = "已经通知社区值班人员，会尽快联系您。"


def hotline(kind: str, hotlines: Mapping[str, str] | None) -> str:
    return (hotlines or {}).get(kind) or DEFAULT_HOTLINES[kind]


def emergency_reply(kind: str, hotlines: Mapping[str, str] | None = None) -> str:
    """The passive reply: call this number now, then these steps. Never a menu, never an appointment time."""
    number = hotline(kind, hotlines)
    if kind == "medical":
        return (f"这可能是急症，请马上拨打 {number} 急救电话！\n"
                "说清地址和病人情况。摔倒或昏迷的人不要随意搬动，侧躺保持呼吸通畅。\n" + STAFF_TOLD)
    if kind == "fire":
        return (f"着火了请马上拨打 {number}！\n"
                "先带家人离开，用湿毛巾捂住口鼻、弯腰走楼梯，不要坐电梯，不要回去拿东西。\n" + STAFF_TOLD)
    if kind == "gas":
        return ("闻到燃气味：不要开关电灯电器、不要点火，马上开窗，关掉燃气阀门，"
                f"到室外再打电话：燃气抢修 {number}。\n" + STAFF_TOLD)
    if kind == "crime":
        return (f"请先保证自己安全，马上拨打 {number} 报警！\n"
                "躲到安全的地方、锁好门，不要和对方硬碰硬。\n" + STAFF_TOLD)
    if kind == "self_harm":
        return ("听到您这样说，我们很担心您，您不是一个人。\n"
                f"请现在就拨打心理援助热线 {number}（24小时有人接），有危险请马上打 120 或 110。\n"
                "社区工作人员会马上联系您，愿意的话也可以一直跟我说。")
    if kind == "water":
        return ("请先到高处或安全的地方，远离电源插座，能关总水阀就关上。\n"
                f"有人被困或水很深，请马上拨打 {number}。\n" + STAFF_TOLD)
    raise ValueError(f"unknown emergency kind {kind!r}")


def answer(found: Emergency, slots: Mapping[str, Any], text: str, hotlines: Mapping[str, str] | None) -> Result:
    """End whatever dialogue was under way (kept slots stay), answer at once and ask the domain to alert staff."""
    return idle(emergency_reply(found.kind, hotlines), slots,
                actions=(Action("emergency", {"kind": found.kind, "cue": found.cue, "text": text[:500]}),))
