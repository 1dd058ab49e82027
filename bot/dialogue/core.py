"""The dialogue's vocabulary, pure: its states, what a step returns, the kept slots and shared helpers.

Every other dialogue module builds on this one; it imports nothing of the bot.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from bot.dialogue.messages import Incoming
from intents.phone import wrong_length
from intents.timeparse import URGENT_NIGHT, URGENT_WINDOW, TimeResult
from intents.understand import Slots


class State(StrEnum):
    """Every dialogue state. Values are the strings stored in conversations.state (names equal values)."""

    IDLE = "IDLE"
    HUMAN = "HUMAN"  # handed over to staff: the bot stays quiet except for 菜单/取消
    # ordering and rating (ordering.py)
    ORDER_SERVICE = "ORDER_SERVICE"
    ORDER_DETAILS = "ORDER_DETAILS"
    ORDER_TIME = "ORDER_TIME"
    ORDER_ADDRESS = "ORDER_ADDRESS"
    ORDER_PHONE = "ORDER_PHONE"
    ORDER_CONFIRM = "ORDER_CONFIRM"
    ORDER_EDIT = "ORDER_EDIT"
    ORDER_SWITCH = "ORDER_SWITCH"  # another service named mid-order ("我要理发"): this one changed, both, or neither
    PROXY_NAME = "PROXY_NAME"
    PROXY_PHONE = "PROXY_PHONE"
    CANCEL_PICK = "CANCEL_PICK"  # which open order to cancel ("那个理发的不要了"): no order is being made
    # changing an order already submitted (changing.py): which order, what to change it to, and the confirmation
    CHANGE_PICK = "CHANGE_PICK"
    CHANGE_ASK = "CHANGE_ASK"
    CHANGE_CONFIRM = "CHANGE_CONFIRM"
    RATE = "RATE"
    RATE_COMMENT = "RATE_COMMENT"
    VOL_HOURS = "VOL_HOURS"
    VOL_GIVEBACK = "VOL_GIVEBACK"
    VOL_ACCEPT = "VOL_ACCEPT"  # a bare 接单: which of the orders listed (or "是接这单吗？") is taken (volunteering.py)
    # volunteer registration (registration.py)
    REG_NAME = "REG_NAME"
    REG_GENDER = "REG_GENDER"
    REG_BIRTH = "REG_BIRTH"
    REG_ID = "REG_ID"
    REG_GUARDIAN_NAME = "REG_GUARDIAN_NAME"
    REG_GUARDIAN_PHONE = "REG_GUARDIAN_PHONE"
    REG_GUARDIAN_CONSENT = "REG_GUARDIAN_CONSENT"
    REG_SKILLS = "REG_SKILLS"
    REG_TIMES = "REG_TIMES"
    REG_PHONE = "REG_PHONE"
    REG_TEAM = "REG_TEAM"
    REG_CONSENT = "REG_CONSENT"
    REG_CONFIRM = "REG_CONFIRM"
    REG_EDIT = "REG_EDIT"
    # volunteers' own chat (volunteering.py)
    PROFILE_MENU = "PROFILE_MENU"
    PROFILE_SKILLS = "PROFILE_SKILLS"
    PROFILE_TIMES = "PROFILE_TIMES"
    PROFILE_PHONE = "PROFILE_PHONE"
    PROFILE_TEAM = "PROFILE_TEAM"
    REDEEM_AMOUNT = "REDEEM_AMOUNT"
    REDEEM_CONFIRM = "REDEEM_CONFIRM"
    MERCHANT_POINTS = "MERCHANT_POINTS"

    @classmethod
    def of(cls, stored: str | None) -> State | None:
        """The state a stored string names, or None for a state this version of the code does not know."""
        try:
            return cls(stored) if stored is not None else None
        except ValueError:
            return None


# Names equal values, so the stored string reads as the name in the code (StrEnum members hash as their strings).
assert all(member.name == member.value for member in State), "State names must equal their values"



@dataclass(frozen=True)
class Out:
    """A message for the outbox (someone other than the sender, or anything not needed at once)."""

    to: str
    text: str
    channel: str = "wechat"
    key: str | None = None  # idempotency key: the same key is never queued twice


@dataclass(frozen=True)
class Effect:
    """A change to the sender's own record that the edge applies in the same transaction."""

    name: str  # subscribed | unsubscribed | template_result
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    """A request to the domain (orders, volunteers...), performed by the edge; its text is the reply."""

    name: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OpenOrder:
    """One of the sender's open orders as the edge read it: enough to say which one is meant and to cancel it."""

    id: int  # the number the sender sees and types (the order's ref, 单号)
    service: str  # the catalogue code
    when: str = ""  # how its time reads ("11月24日(周二) 09:00")
    # what a change starts from ("不是明天 是后天" keeps its hour, "是6号楼不是3号楼" its estate), if the edge read it
    time_kind: str | None = None
    start: str | None = None  # ISO datetimes
    end: str | None = None
    address: str | None = None
    state: str | None = None  # its lifecycle state ("accepted": a volunteer holds it), if the edge read it


@dataclass(frozen=True)
class TeamChoice:
    """One of the hub's own standing teams, offered in volunteer registration."""

    code: str
    name: str
    services: tuple[str, ...] = ()  # the catalogue codes the team serves


@dataclass(frozen=True)
class Context:
    hub_name: str
    now: datetime
    nlu: Any = None  # bot.dialogue.nlu.Understanding (pure)
    roles: frozenset[str] = frozenset()
    phone_on_file: str | None = None
    timeout: timedelta = timedelta(minutes=30)
    hotlines: Mapping[str, str] = field(default_factory=dict)  # the hub's emergency numbers (bot.dialogue.safety)
    # What the edge may read for the dialogue; left at None it is not known, and the dialogue asks the domain instead.
    urgent_window: timedelta = URGENT_WINDOW  # how long "尽快" lasts (the hub's setting)
    # the night when "尽快" waits for the morning: (from hour, until hour, morning hour) (the hub's setting)
    urgent_night: tuple[int, int, int] = URGENT_NIGHT
    last_address: str | None = None  # saved address (handler._saved_address): offered, "跟上回一样"
    open_orders: tuple[OpenOrder, ...] | None = None  # the sender's open orders ("那个理发的不要了")
    my_tasks: tuple[OpenOrder, ...] | None = None  # a volunteer's accepted tasks ("到了 修好了", "明天去不了了")
    offered_tasks: tuple[OpenOrder, ...] | None = None  # the open orders offered to this volunteer (a bare 接单)
    teams: tuple[TeamChoice, ...] | None = None  # the hub's own teams (registration); None: the catalogue's
    office_hours: str = ""  # HubSettings.office_hours: 人工 out of hours says when staff answer
    office_phone: str = ""  # HubSettings.office_phone: "社区电话多少" is answered with it
    order_ratings: Mapping[int, int] | None = None  # the hearts already given to the order "评价 N" names, if any
    # the order "评价 N" names when it is none of the sender's (the edge found no such order of theirs): not offered
    # for rating, nor kept as the conversation's order (out10)
    orders_not_mine: frozenset[int] = frozenset()
    unrated_orders: tuple[int, ...] | None = None  # the sender's orders done and waiting for their rating ("评价 5")

    def read_time(self, text: str) -> TimeResult:
        """The time ``text`` says, at ``now``, with the hub's own 尽快 (its window by day, its night)."""
        return self.nlu.time(text, self.now, self.urgent_window, self.urgent_night)  # type: ignore[no-any-return]

    def read_slots(self, text: str, loose_address: bool = False) -> Slots:
        """Each order slot's own span of ``text`` (time, address, phone), read as :meth:`read_time` reads times."""
        return self.nlu.slots(text, self.now, self.urgent_window, loose_address,  # type: ignore[no-any-return]
                              self.urgent_night)


LABEL_CHARS = 120  # a location's place name: longer than any WeChat sends; a longer one is cut, not echoed whole


@dataclass(frozen=True)
class Result:
    state: str
    slots: Mapping[str, Any]
    reply: str | None
    outbox: tuple[Out, ...] = ()
    effects: tuple[Effect, ...] = ()
    actions: tuple[Action, ...] = ()


MENU_ITEMS: tuple[tuple[str, str], ...] = (
    ("1", "我要找志愿者帮忙（点单）"),
    ("2", "我的订单"),
    ("3", "注册志愿者"),
    ("4", "雷锋一条街活动"),
    ("5", "积分查询"),
    ("0", "人工服务"),
)
MENU_ACTIONS: Mapping[str, str] = {"2": "my_orders", "3": "register_volunteer", "4": "events", "5": "points"}

CLICK_KEYS: Mapping[str, str] = {
    "MENU_ORDER": "1", "MENU_MY_ORDERS": "2", "MENU_VOLUNTEER": "3",
    "MENU_EVENTS": "4", "MENU_POINTS": "5", "MENU_HUMAN": "0", "MENU_HELP": "菜单",
}

Handler = Callable[[str, Mapping[str, Any], Incoming, Context], Result]


def menu_lines() -> str:
    """The resident menu's numbered lines ("1 我要点单" ...), one a line: after any "请回复数字"."""
    return "\n".join(f"{n} {label}" for n, label in MENU_ITEMS)


def menu_text(hub_name: str) -> str:
    lines = [f"欢迎来到{hub_name}！请回复数字：", menu_lines()]
    lines.append("也可以直接说您需要什么，比如“明天上午来帮我修水管”。")
    return "\n".join(lines)


# A volunteer's own menu: what to say for each thing, in words (the numbers stay the resident menu's).
VOLUNTEER_ROLE = "volunteer"  # an approved volunteer (bot.people.volunteers.ROLE_FOR); applicants see the resident menu
VOLUNTEER_MENU_ITEMS: tuple[tuple[str, str], ...] = (
    ("有什么任务", "看看现在适合您接的订单"),
    ("接单 12", "接下12号订单"),
    ("我的任务", "您接下的订单"),
    ("完成 12 2", "12号订单做完了，服务了2小时"),
    ("退单 12", "接了去不了，把订单退回去"),
    ("积分", "积分、服务时长和星级"),
    ("活动", "雷锋一条街活动"),
    ("我的资料", "查看或修改您的资料"),
)


def volunteer_menu_text(hub_name: str) -> str:
    lines = [f"志愿者您好，欢迎来到{hub_name}！直接回复这些字就行："]
    lines += [f"“{say}”：{what}" for say, what in VOLUNTEER_MENU_ITEMS]
    lines.append("您自己需要帮忙也可以：回复 1 点单，2 我的订单，0 人工服务。")
    return "\n".join(lines)


def is_volunteer(ctx: Context) -> bool:
    """An approved volunteer (not an applicant, nor suspended): the one who takes tasks."""
    return VOLUNTEER_ROLE in ctx.roles


def menu_for(ctx: Context) -> str:
    """The menu this person sees: a volunteer's own, or the resident menu."""
    return volunteer_menu_text(ctx.hub_name) if is_volunteer(ctx) else menu_text(ctx.hub_name)


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().strip("。.!！~")


def result(state: str, slots: Mapping[str, Any], reply: str | None, **kw: Any) -> Result:
    return Result(state=state, slots=slots, reply=reply, **kw)


# Emergency call-out (一呼百应): bot/community/callouts.py sets slots["callout"] for every member called.
CALLOUT_SLOT = "callout"
CALLOUT_ANSWERS = ("到", "收到", "1")
LOCATION_SLOT = "location"
AFTER_EMERGENCY_SLOT = "after_emergency"  # the last emergency's kind, when, and how many follow-ups (safety.py)
# Slots that outlive a finished dialogue: the last location, a call-out waiting for this person's answer, a
# recent emergency (what is said next gets a caring answer) and the last orders submitted (the same one twice).
# This is the only definition: idle(), dialogue expiry, the order sweep and every scan end a dialogue through kept().
SUBMITTED_SLOT = "submitted"  # the last few orders this person submitted in chat (service, time): the same twice?
LAST_RATING_SLOT = "last_rating"  # the rating just given in chat (order, hearts, when): corrected soon after (ordering)
KEEP_SLOTS: frozenset[str] = frozenset({LOCATION_SLOT, CALLOUT_SLOT, AFTER_EMERGENCY_SLOT, SUBMITTED_SLOT,
                                        LAST_RATING_SLOT})


def kept(slots: Mapping[str, Any] | None) -> dict[str, Any]:
    """What is left of ``slots`` when a dialogue ends."""
    return {k: v for k, v in (slots or {}).items() if k in KEEP_SLOTS}


def idle(reply: str | None, slots: Mapping[str, Any] | None = None, **kw: Any) -> Result:
    return Result(state=State.IDLE, slots=kept(slots), reply=reply, **kw)


# A state's handler; None declines the message (it is then handled as in the idle state).
StateHandler = Callable[[str, Mapping[str, Any], Incoming, "Context", str], "Result | None"]

MAX_RETRIES = 2


def said_yes(text: str, ctx: Context) -> bool:
    """"1", or yes in any of the ways people say it (对 确认 / 嗯嗯 / 好的呀 / 没问题 / 要得 / 中)."""
    return text.strip() == "1" or bool(ctx.nlu.yes_no(text) == "yes")


def said_no(text: str, ctx: Context) -> bool:
    return bool(ctx.nlu.yes_no(text) == "no")


def retry(state: str, slots: Mapping[str, Any], ctx: Context, question: str) -> Result:
    """Ask again; after MAX_RETRIES misses offer staff instead of asking a third time."""
    misses = int(slots.get("misses", 0)) + 1
    slots = {**slots, "misses": misses}
    if misses > MAX_RETRIES:
        # still the question (a right answer is still taken: no dead end), and the way to a person
        return result(state, slots, f"看来不太顺利。{question}\n"
                      "也可以回复“人工”请社区工作人员帮您，或回复“取消”重新开始。")
    return result(state, slots, "没太明白。" + question)


def wrong_phone_words(text: str) -> str | None:
    """What to say of a number too short or too long to be a phone ("1381234": 7 digits), or None."""
    digits = wrong_length(text)
    if digits is None:
        return None
    n = len(digits)
    if n > 11:
        return (f"这个号码有{n}位，位数多了。手机号是11位，座机请带上区号（比如 021-12345678），"
                "请再发一次，比如 13800138000。")
    if digits.startswith("1"):
        return f"电话号码只有{n}位，少了{11 - n}位。手机号是11位，请再说一遍，比如 13800138000。"
    return f"这个号码只有{n}位，少了几位。手机号是11位，座机请带上区号（比如 021-12345678），请再说一遍。"


def ask_phone_again(state: str, slots: Mapping[str, Any], ctx: Context, text: str, question: str) -> Result:
    """A phone question answered with no phone: how many digits were missing or too many when a number was said
    (every state that asks a phone says it the same way), else ``retry`` with the question."""
    words = wrong_phone_words(text)
    if words is None:
        return retry(state, slots, ctx, question)
    misses = int(slots.get("misses", 0)) + 1
    if misses > MAX_RETRIES:
        words += "\n也可以回复“人工”请社区工作人员帮您，或回复“取消”重新开始。"
    return result(state, {**slots, "misses": misses}, words)


V = TypeVar("V")


def merge_tables(what: str, *tables: Mapping[str, V]) -> dict[str, V]:
    """One table from several (the flows' states, the rooms' actions); a name in two of them is an error."""
    merged: dict[str, V] = {}
    for table in tables:
        clash = set(merged) & set(table)
        if clash:
            raise ValueError(f"{what} defined twice: {sorted(clash)}")
        merged.update(table)
    return merged
