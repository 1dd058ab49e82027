"""What the bot says first when a message is about an emergency (pure): the number to call now and one or two
safety steps, short and plain. Recognising the emergency is intents.emergency's job; alerting staff is the
community's (bot/community/incidents.py), through the "emergency" action this module asks for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.dialogue.core import AFTER_EMERGENCY_SLOT, Action, Result, idle
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


# After an emergency answer, the next few messages are most likely about it ("那现在咋办啊", "火灭了 吓死我了",
# "我儿子也不来看我"): they get a caring answer that repeats the number and says staff were told, not a catch-all
# or an order form. Commands (我的订单, 人工...) still work as always.
FOLLOW_UPS = 3
FOLLOW_UP_FOR = timedelta(minutes=30)
DRAFT_KEPT = "draft"  # in the after-emergency slot: the order that was being made when the alarm came

# "没事了 是锅糊了 虚惊一场" / "搞错了" / "误会": the alarm called off by the person who raised it.
_CALLED_OFF = re.compile(r"虚惊一场|虚惊|搞错了|弄错了|误报|报错了|按错了|点错了|说错了|是误会|误会了|误会一场|"
                         r"^(?:哦|噢|嗯|好)?\s*没事(?:了|儿了|啦)|没事了|没事儿了|没什么事了|不要紧了|没有事了|"
                         r"不是(?:着火|火灾|急病|急症|漏气)")
CALLED_OFF_REPLY = ("没事就好，您没事我们就放心了！我已经告诉社区值班人员，这次是虚惊一场，"
                    "他们可能还会打电话跟您确认一下。")


def called_off(text: str) -> bool:
    """The person says the emergency was a false alarm ("没事了 是锅糊了 虚惊一场", "搞错了")."""
    return bool(_CALLED_OFF.search(text))


def recent(slots: Mapping[str, Any], now: datetime) -> Mapping[str, Any] | None:
    """The last emergency's record while it is still recent (a few messages, half an hour), else None."""
    after = slots.get(AFTER_EMERGENCY_SLOT)
    return after if _still_about_it(after, now) and isinstance(after, Mapping) else None


def kept_draft(slots: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
    """The order that was being made when the alarm came (within half an hour of it), or None."""
    after = slots.get(AFTER_EMERGENCY_SLOT)
    if not isinstance(after, Mapping):
        return None
    draft = after.get(DRAFT_KEPT)
    try:
        fresh = now - datetime.fromisoformat(str(after.get("at"))) <= FOLLOW_UP_FOR
    except (TypeError, ValueError):
        fresh = False
    return dict(draft) if fresh and isinstance(draft, Mapping) and draft.get("service") else None


def without_kept_draft(slots: Mapping[str, Any]) -> dict[str, Any]:
    """The slots with the kept order taken out of the emergency's record (it was taken up again or dropped)."""
    after = slots.get(AFTER_EMERGENCY_SLOT)
    if not isinstance(after, Mapping) or DRAFT_KEPT not in after:
        return dict(slots)
    return {**slots, AFTER_EMERGENCY_SLOT: {k: v for k, v in after.items() if k != DRAFT_KEPT}}


def call_off(slots: Mapping[str, Any], text: str) -> tuple[dict[str, Any], Action]:
    """The slots once the alarm is called off (no more caring follow-ups; a kept order stays), and the action that
    tells staff."""
    after = dict(slots.get(AFTER_EMERGENCY_SLOT) or {})
    kind = after.get("kind")
    after["left"] = 0
    return ({**slots, AFTER_EMERGENCY_SLOT: after},
            Action("emergency_called_off", {"kind": kind, "text": text[:500]}))


def answer(found: Emergency, slots: Mapping[str, Any], text: str, hotlines: Mapping[str, str] | None,
           now: datetime | None = None) -> Result:
    """End whatever dialogue was under way (kept slots stay), answer at once and ask the domain to alert staff,
    with the phone and address of the order being made, if it had them (the staff alert's numbers to call)."""
    draft = slots.get("draft") or {}
    data = {"kind": found.kind, "cue": found.cue, "text": text[:500],
            **{k: str(draft[k]) for k in ("phone", "address") if draft.get(k)}}
    after: dict[str, Any] = {"kind": found.kind, "left": FOLLOW_UPS, "at": now.isoformat() if now else ""}
    earlier = slots.get(AFTER_EMERGENCY_SLOT)
    if isinstance(draft, Mapping) and draft.get("service"):
        after[DRAFT_KEPT] = dict(draft)  # the order being made before the alarm: kept, offered once it is over
    elif isinstance(earlier, Mapping) and earlier.get(DRAFT_KEPT):
        after[DRAFT_KEPT] = dict(earlier[DRAFT_KEPT])
    return idle(emergency_reply(found.kind, hotlines), {**slots, AFTER_EMERGENCY_SLOT: after},
                actions=(Action("emergency", data),))


def _still_about_it(after: Any, now: datetime) -> bool:
    if not isinstance(after, Mapping) or int(after.get("left") or 0) <= 0 or after.get("kind") not in DEFAULT_HOTLINES:
        return False
    try:
        return now - datetime.fromisoformat(str(after.get("at"))) <= FOLLOW_UP_FOR
    except (TypeError, ValueError):
        return False


def follow_up_reply(kind: str, hotlines: Mapping[str, str] | None = None) -> str:
    """A caring answer to what someone says right after an emergency: the number again, staff were told."""
    number = hotline(kind, hotlines)
    if kind == "self_harm":
        return ("我在听，谢谢您愿意跟我说这些。您不是一个人，社区工作人员已经知道了，会尽快来联系您、陪陪您。\n"
                f"心里难受的时候，随时可以拨打心理援助热线 {number}（24小时有人接）；有危险请马上打 120 或 110。\n"
                "想说什么都可以接着跟我说。")
    steps = {
        "medical": f"如果还没打 {number}，请现在就打，说清地址和病人情况；等救护车时陪在旁边，不要随意搬动病人。",
        "fire": f"人安全最要紧。如果还有明火或烟，请马上打 {number}，不要回去拿东西。",
        "gas": f"先别开关电器、别点火，开着窗在室外等；燃气抢修电话 {number}。",
        "crime": f"先保证自己安全，锁好门；有危险马上打 {number}。",
        "water": f"先远离插座和电器，到安全的地方；有人被困请马上打 {number}。",
    }[kind]
    return (f"您别着急，我们在。{steps}\n社区值班人员已经知道了，会尽快联系您。\n"
            "等安顿下来，需要志愿者上门帮忙的话，直接跟我说就行。")


def follow_up(slots: Mapping[str, Any], now: datetime, hotlines: Mapping[str, str] | None,
              text: str = "", order_name: str | None = None) -> Result | None:
    """The caring answer while the last emergency is still recent (a few messages, half an hour), and the words
    passed on to staff; else None. ``order_name``: the service of the order kept from before the alarm."""
    after = slots.get(AFTER_EMERGENCY_SLOT)
    if not _still_about_it(after, now):
        return None
    assert isinstance(after, Mapping)
    left = {**after, "left": int(after.get("left") or 0) - 1}
    reply = follow_up_reply(str(after["kind"]), hotlines)
    if order_name and after.get("kind") != "self_harm":
        reply += f"\n刚才在下的【{order_name}】订单还给您留着，要接着下请回复“继续”。"
    return idle(reply, {**slots, AFTER_EMERGENCY_SLOT: left},
                actions=(Action("emergency_followup", {"kind": after["kind"], "text": text[:500]}),))
