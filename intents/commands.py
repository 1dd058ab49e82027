"""Global commands (帮助, 取消, 接单 N, 积分 ...) and numbered menu choices ("1", "第一个", "选3")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from intents.normalise import default_normaliser

_NUM = r"([0-9零〇一二两三四五六七八九十百]+)"
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}

# Politeness and fillers around a command: 请帮我查一下我的积分吧 → 我的积分.
_PREFIX = re.compile(r"^(?:请问|请|麻烦你?|劳驾|帮我|给我|我要|我想要|我想|我需要|查看|看看|看一下|查一下|查询|查)+")
_SUFFIX = re.compile(r"(?:一下|吧|呢|啊|呀|吗|嘛|哦|了吗|谢谢|谢谢你|好吗|可以吗|行吗)+$")

# Whole-message commands: the cleaned text must be exactly one of these.
EXACT: dict[str, tuple[str, ...]] = {
    "help": ("帮助", "菜单", "功能", "help", "menu", "?", "主菜单", "功能菜单", "菜单栏", "有什么功能", "有哪些功能",
             "怎么用", "使用说明", "说明", "你能做什么", "能做什么", "你会做什么", "指令", "命令"),
    "cancel": ("取消", "不要了", "算了", "不用了", "不需要了", "撤销", "撤单", "退出", "不约了", "不弄了",
               "不办了", "不了", "cancel"),
    "my_orders": ("我的订单", "订单", "查订单", "订单查询", "我的预约", "预约记录", "我的单", "我下的单",
                  "我点的单", "订单状态", "进度", "我的服务"),
    "my_tasks": ("我的任务", "任务", "查任务", "任务列表", "我接的单", "我的接单", "接的单"),
    "points": ("积分", "我的积分", "查积分", "积分查询", "还有多少积分", "有多少积分", "积分余额", "几分了",
               "我有多少积分", "积分多少"),
    "redeem": ("兑换", "积分兑换", "兑奖", "换礼品", "兑换礼品", "兑换商品", "积分换东西", "用积分换东西"),
    "register_volunteer": ("注册", "志愿者注册", "注册志愿者"),
    "subscribe_events": ("订阅", "订阅活动", "订阅活动提醒", "活动提醒", "提醒我", "订阅提醒", "开启提醒"),
    "unsubscribe": ("退订", "取消订阅", "不要提醒", "别提醒了", "不要再提醒", "关闭提醒", "取消提醒",
                    "不再提醒", "别发了", "不要再发了"),
    "human": ("人工", "转人工", "人工服务", "客服", "找客服", "联系客服", "人工客服", "真人", "工作人员",
              "找工作人员", "找人工"),
    "events": ("活动", "最近活动", "近期活动", "活动安排", "有什么活动", "最近有什么活动", "活动通知", "活动预告",
               "雷锋一条街", "这周活动", "本周活动", "下次活动"),
    "passbook": ("存折", "我的存折", "服务存折", "志愿存折", "时间银行", "我的时间银行", "我的时长", "查时长",
                 "服务时长", "我的服务时长", "我的时间"),
}
# Commands recognised inside a longer message; each is specific enough not to occur in a request.
CONTAINED: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("unsubscribe", re.compile(r"取消订阅|退订|取消(?:活动)?提醒|不要再?(?:给我)?发(?:消息|通知|提醒)")),
    ("cancel", re.compile(r"取消|撤销(?:订单|预约)?|撤单")),
    ("human", re.compile(r"转人工|人工(?!智能)|找客服|联系客服|人工客服")),
    (
        "register_volunteer",
        re.compile(r"(?:当|做|成为|注册|报名|加入|申请)(?:一名|一个|个)?(?:志愿者|义工)|志愿者注册"),
    ),
    ("subscribe_events", re.compile(r"订阅(?:活动|提醒|通知)?")),
    ("redeem", re.compile(r"积分兑换|兑换(?:积分|礼品|商品|东西)|用积分换")),
    ("points", re.compile(r"(?:我的|查|查询|还有多少|有多少)积分|积分(?:还有)?多少")),
    ("my_orders", re.compile(r"我的订单|查订单|我的预约|订单(?:到哪|进度|状态)")),
    ("my_tasks", re.compile(r"我的任务|查任务|我接的单")),
    ("passbook", re.compile(r"我的存折|服务存折|时间银行")),
    ("events", re.compile(r"雷锋一条街|(?:最近|近期|这周|本周|下周)有(?:什么|啥)活动")),
)
# Commands that take a task number: 接单 12 / 我接 123 / 完成 12 / 12 做完了.
_TASK_SUFFIX = r"(?:号|单|号单|号任务)?"
ACCEPT = re.compile(rf"^(?:我来接|我接单|我要接|接单|抢单|我接|接)\s*(?:第|号)?\s*{_NUM}?\s*{_TASK_SUFFIX}$")
_DONE = r"(?:已经完成|已完成|完成了|完成|做完了|做完|搞定了|搞定|服务完成|完工|结束)"
COMPLETE_BEFORE = re.compile(rf"^{_DONE}\s*(?:第)?\s*{_NUM}?\s*{_TASK_SUFFIX}$")
COMPLETE_AFTER = re.compile(rf"^(?:第)?\s*{_NUM}\s*{_TASK_SUFFIX}\s*{_DONE}$")
CHOICE = re.compile(rf"^(?:选|选择|要|就|我选|我要)?\s*(?:第)?\s*{_NUM}\s*(?:个|项|号|条)?$")


@dataclass(frozen=True, slots=True)
class Command:
    """A global command and its number argument (a task or item number), if any."""

    name: str
    arg: int | None = None


def _to_int(token: str | None) -> int | None:
    if not token:
        return None
    if token.isdigit():
        return int(token)
    if all(ch in _CN_DIGITS for ch in token) and len(token) > 1:
        return int("".join(str(_CN_DIGITS[ch]) for ch in token))  # 一二三 as digits
    total, current = 0, 0
    for ch in token:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def _clean(text: str) -> str:
    normaliser = default_normaliser()
    folded = normaliser.rewrite_dialect(normaliser.fold(text))
    compact = re.sub(r"[\s,.!?;:，。！？；：、~～…'\"“”‘’()（）\[\]【】]+", "", folded)
    compact = re.sub(r"[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]+", "", compact)
    return compact


def parse_command(text: str) -> Command | None:
    """The global command ``text`` gives, or None if it is anything else (e.g. a service request)."""
    if text.strip() in ("?", "？"):
        return Command("help")
    raw = _clean(text)
    if not raw:
        return None
    core = _SUFFIX.sub("", _PREFIX.sub("", raw)) or raw
    for candidate in (raw, core):
        for name, phrases in EXACT.items():
            if candidate in phrases:
                return Command(name)
    for candidate in (raw, core):
        match = ACCEPT.match(candidate)
        if match:
            return Command("accept", _to_int(match.group(1)))
        match = COMPLETE_BEFORE.match(candidate) or COMPLETE_AFTER.match(candidate)
        if match:
            return Command("complete", _to_int(match.group(1)))
    for name, pattern in CONTAINED:
        if pattern.search(raw):
            return Command(name)
    return None


def parse_choice(text: str, count: int | None = None) -> int | None:
    """The number a resident picked from the last menu ("1", "１", "一", "第一个", "选3"), 1-based.

    With ``count`` (how many options the menu had), numbers outside 1..count give None.
    """
    raw = _SUFFIX.sub("", _clean(text))
    match = CHOICE.match(raw)
    if not match:
        return None
    value = _to_int(match.group(1))
    if value is None or value < 1 or (count is not None and value > count):
        return None
    return value
