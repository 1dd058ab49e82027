"""Global commands (帮助, 取消, 接单 N, 积分 ...), numbered menu choices ("1", "第一个", "选3"), yes and no in the
ways people say them (对 确认, 嗯嗯, 要得, 算了不要了), cancelling an order by number or by what it was for, and
small talk."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from intents.normalise import default_normaliser

_NUM = r"([0-9零〇一二两三四五六七八九十百]+)"
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}

# Politeness and fillers around a command: 请帮我查一下我的积分吧 → 我的积分.
_PREFIX = re.compile(r"^(?:请问|请|麻烦你?|劳驾|帮我|给我|我要|我想要|我想|我需要|查看|看看|看一下|看下|查一下|查下|"
                     r"查询|查)+")
_SUFFIX = re.compile(r"(?:一下|吧|呢|啊|呀|吗|嘛|哦|了吗|谢谢|谢谢你|好吗|可以吗|行吗)+$")

# Every command name parse_command can give (the dialogue checks it has an answer for each).
NAMES = frozenset({"help", "cancel", "my_orders", "my_tasks", "points", "redeem", "register_volunteer",
                   "subscribe_events", "unsubscribe", "human", "events", "passbook", "accept", "complete"})
# Whole-message commands: the cleaned text must be exactly one of these.
EXACT: dict[str, tuple[str, ...]] = {
    "help": ("帮助", "菜单", "功能", "help", "menu", "?", "主菜单", "功能菜单", "菜单栏", "有什么功能", "有哪些功能",
             "怎么用", "使用说明", "说明", "你能做什么", "能做什么", "你会做什么", "指令", "命令", "志愿者菜单",
             "我的菜单", "志愿者功能", "志愿者帮助"),
    "cancel": ("取消", "不要了", "算了", "不用了", "不需要了", "撤销", "撤单", "退出", "不约了", "不弄了",
               "不办了", "不了", "cancel"),
    "my_orders": ("我的订单", "订单", "查订单", "订单查询", "我的预约", "预约记录", "我的单", "我下的单",
                  "我点的单", "订单状态", "进度", "我的服务", "我的单子", "查单子", "查进度", "订单记录", "查查订单",
                  "查查我的订单"),
    "my_tasks": ("我的任务", "我的人物", "我的任物", "我的认务", "任务", "查任务", "任务列表", "我接的单", "我的接单",
                 "接的单"),
    "points": ("积分", "我的积分", "查积分", "积分查询", "还有多少积分", "有多少积分", "积分余额", "几分了",
               "我有多少积分", "积分多少", "我的分", "我的分数", "分数"),
    "redeem": ("兑换", "积分兑换", "兑奖", "换礼品", "兑换礼品", "兑换商品", "积分换东西", "用积分换东西"),
    "register_volunteer": ("注册", "志愿者注册", "注册志愿者"),
    "subscribe_events": ("订阅", "订阅活动", "订阅活动提醒", "活动提醒", "提醒我", "订阅提醒", "开启提醒"),
    "unsubscribe": ("退订", "取消订阅", "不要提醒", "别提醒了", "不要再提醒", "关闭提醒", "取消提醒",
                    "不再提醒", "别发了", "不要再发了"),
    "human": ("人工", "转人工", "人工服务", "客服", "找客服", "联系客服", "人工客服", "真人", "工作人员",
              "找工作人员", "找人工", "找真人", "真人服务", "要人工", "我要跟人说", "我要找人说"),
    "events": ("活动", "最近活动", "近期活动", "活动安排", "有什么活动", "最近有什么活动", "活动通知", "活动预告",
               "雷锋一条街", "这周活动", "本周活动", "下次活动"),
    "passbook": ("存折", "我的存折", "服务存折", "志愿存折", "时间银行", "我的时间银行", "我的时长", "查时长",
                 "服务时长", "我的服务时长", "我的时间"),
}
# Commands recognised inside a longer message; each is specific enough not to occur in a request.
CONTAINED: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("unsubscribe", re.compile(r"取消订阅|退订|取消(?:活动)?提醒|不要再?(?:给我)?发(?:消息|通知|提醒)")),
    ("cancel", re.compile(r"取消|撤销(?:订单|预约)?|撤单")),
    ("human", re.compile(r"转人工|人工(?!智能)|找客服|联系客服|人工客服|投诉|"
                         r"(?:找|要|跟|和|同|叫|转|换)(?:个|一个|你们的?)?(?:真人|活人|工作人员|社工|社区的人|社区工作人员)|"
                         r"^(?:我)?(?:要|想)?(?:找|叫)(?:你们|你们的|社区的?)(?:领导|负责人|管事的|经理)|"
                         r"(?:跟|和|同)(?:真)?人(?:说话|说|讲|谈|通话)|(?:跟|和)真人聊|不(?:想|要)(?:跟|和)?机器人|"
                         r"叫(?:个|一个)?(?:真)?人(?:来)?(?:跟|和|同)我(?:说|讲|聊|谈)|"
                         # 有没有真人啊 我跟机器说不明白: a person wanted, whatever follows
                         r"有没有(?:个|一个)?(?:真人|活人)|(?:跟|和|同)(?:机器|机器人|电脑)(?:说|讲)不(?:明白|清楚?|通)")),
    (
        "register_volunteer",
        re.compile(r"(?:当|做|成为|注册|报名|加入|申请)(?:一名|一个|个)?(?:志愿者|义工)|志愿者注册|"
                   r"(?:想|要|也想|也要)参加(?:你们的?)?(?:志愿者|义工)(?:队伍?|团队)?(?!活动|服务|培训|的活动)"),
    ),
    ("subscribe_events", re.compile(r"订阅(?:活动|提醒|通知)?")),
    ("redeem", re.compile(r"积分兑换|兑换(?:积分|礼品|商品|东西)|用积分换")),
    ("points", re.compile(r"(?:我的|查|查询|还有多少|有多少)积分|积分(?:还)?(?:剩|有)?(?:多少|几)|积分怎么(?:查|看)|"
                          r"(?:有|还有|还剩|剩|剩下|攒了|攒)(?:多少|几)(?:个)?(?:积)?分(?!钟)|^我的分数?$|^查(?:一?下)?分数?$")),
    ("my_orders", re.compile(r"我的订单|查订单|我的预约|订单(?:到哪|进度|状态)|"
                             r"(?:以前|之前|上次|上回|过去|历史|最近|上周|上个?星期|上礼拜|上个?月)(?:那个|的|那些)*"
                             r"(?:订单|单子|服务记录|预约)|服务记录|订单记录|历史订单|(?:下|点|约)过的(?:单|服务)|"
                             r"(?:单子|订单|预约|(?<!菜)单)(?:现在)?(?:怎么样|怎样|到哪|什么情况|有人接|处理了|安排了|进度|"
                             r"状态|有结果|有消息|有回音|有动静|有下文)|"
                             r"有(?:没有)?人接(?:单|我的单)?(?:了)?(?:吗|没)|"
                             r"(?:志愿者|师傅|你们的人)(?:什么时候|几点|多久|啥时候|哪天|哪一天|几号|星期几|礼拜几)"
                             r"(?:来|到|能来|能到|上门)|"
                             # 我妈的理发谁来 (out11: a new order): who comes for an order already made
                             r"(?:我妈|我爸|老人|我|俺)的[\u4e00-\u9fff]{1,4}(?:是)?谁(?:来|上门)(?:啊|呀|呢)?$|"
                             r"(?:什么时候|几点|多久)(?:才|能|会)?(?:来人|有人来|派人来)|"
                             r"我(?:订|约|预约|下|点)的.{0,8}(?:什么时候|几点|多久)(?:来|到|能来|能到)|"
                             r"派(?:单|人)了(?:吗|没|没有)|"
                             r"怎么还没(?:有)?人(?:来|联系|接)")),
    ("my_tasks", re.compile(r"我的(?:任务|人物|任物|认务)|查任务|我接的单|"
                            r"我接(?:了|的|过)(?:哪些|什么|几个|几|多少)?(?:个)?(?:单|任务|活)")),
    ("passbook", re.compile(r"我的存折|服务存折|时间银行")),
    ("events", re.compile(r"雷锋一条街|(?:学)?雷锋(?:的|日)?活动|"
                          # 下个月的雷锋活动有理发的吗 (out10: read as a haircut order)
                          r"(?:下个?月|这个?月|本月|下周|这周|本周|周末|月底)的?(?:志愿|社区|街道|志愿者)?活动(?!室|中心)|"
                          r"(?:最近|近期|这周|本周|下周|这个?月|本月|下个?月|周末|这几天|今天|明天|社区|街道)"
                          r"(?:还)?有(?:没有)?(?:什么|啥|哪些)?活动(?!室|中心|能力|不便|不了|不方便)|^有(?:没有)?(?:什么|啥)?活动(?:吗|么|没|不|呢)?$|"
                          r"^(?:最近的?|近期的?|社区的?)?活动(?:都)?(?:有哪些|有什么|有啥|安排|在哪|什么时候)")),
)
# Commands that take a task number: 接单 12 / 我接 123 / 完成 12 / 12 做完了.
_TASK_SUFFIX = r"(?:号|单|号单|号任务)?"
ACCEPT = re.compile(rf"^(?:我来接|我接单|我要接|接单|抢单|我接了|我接|接)\s*(?:第|号)?\s*{_NUM}?\s*{_TASK_SUFFIX}$")
# 12号我接了 / 12号单我来: the number first.
ACCEPT_AFTER = re.compile(rf"^(?:第)?\s*{_NUM}\s*{_TASK_SUFFIX}\s*(?:我来接|我接了|我来接了|我接|我来|我要了|我要)$")
_DONE = r"(?:已经完成|已完成|完成了|完成|做完了|做完|搞定了|搞定|服务完成|完工|结束)"
COMPLETE_BEFORE = re.compile(rf"^{_DONE}\s*(?:第)?\s*{_NUM}?\s*{_TASK_SUFFIX}$")
COMPLETE_AFTER = re.compile(rf"^(?:第)?\s*{_NUM}\s*{_TASK_SUFFIX}\s*{_DONE}$")
CHOICE = re.compile(rf"^(?:选|选择|要|就|我选|我要)?\s*(?:第)?\s*{_NUM}\s*(?:个|项|号|条)?$")


@dataclass(frozen=True, slots=True)
class Command:
    """A global command and its number argument (a task or item number), if any."""

    name: str
    arg: int | None = None


assert set(EXACT) <= NAMES and {name for name, _ in CONTAINED} <= NAMES


# No number a person gives us (an order, a menu choice, hours) has this many digits; a longer one is read as its
# first MAX_DIGITS, which is still more than any of them, so callers answer "no such order" as for any number too
# big, echoing the start of what was typed. Python refuses to turn more than 4300 digits into an int at all.
MAX_DIGITS = 24


def read_number(digits: str) -> int:
    """A run of ASCII digits as a number, at most MAX_DIGITS long (what every parser of a typed number uses)."""
    significant = digits.lstrip("0") or "0"
    return int(significant[:MAX_DIGITS])


def _to_int(token: str | None) -> int | None:
    if not token:
        return None
    if token.isascii() and token.isdigit():  # (str.isdigit also takes ², which int() refuses)
        return read_number(token)
    if all(ch in _CN_DIGITS for ch in token) and len(token) > 1:
        return read_number("".join(str(_CN_DIGITS[ch]) for ch in token))  # 一二三 as digits
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
    if is_cancel(raw):
        return Command("cancel")
    for candidate in (raw, core):
        match = ACCEPT.match(candidate) or ACCEPT_AFTER.match(candidate)
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


# -- yes, no and cancel, as people say them ----------------------------------------------------------

YES_WORDS = frozenset({
    "对", "对的", "对头", "对呀", "是", "是的", "是滴", "确认", "确定", "确认无误", "无误", "没错", "没错的", "正确",
    "好", "好的", "好滴", "好嘞", "好哒", "行", "行的", "可以", "可以的", "中", "要得", "成", "妥", "没问题",
    "没毛病", "ok", "okay", "嗯", "恩", "嗯呢", "恩呢", "嗯呐", "嗯哪", "就这样", "就这么办", "就这个", "提交",
    "确认提交", "同意", "对了", "是这样", "就是这样", "没有问题", "都对", "全对", "都没问题", "y", "yes", "下单",
    "确认下单", "就这么定了", "定了", "没啥问题", "没什么问题", "用这个", "就用这个", "用这个号", "就用这个号",
    "没得问题", "冇问题", "妥了", "可以了",
    # northern 得嘞 / 得勒 (not 得 alone: 得了吧 is "forget it"); Cantonese 系 / 系呀 ("it is"), 冇错, 好嘅,
    # 啱 ("right")
    "得嘞", "得勒", "得咧", "系", "冇错", "好嘅", "啱", "啱啱好",
})
NO_WORDS = frozenset({"不", "不对", "不是", "不行", "不可以", "不好", "否", "不确认", "不同意", "错了", "不对的",
                      "no", "n", "不是的", "不中", "要不得"})
# Neutral words around a yes or a no: "好的 谢谢", "嗯 对 就这样吧".
_AROUND = frozenset({"谢谢", "谢谢你", "谢谢您", "谢谢你们", "多谢", "唔该", "麻烦了", "麻烦你了", "麻烦你们了",
                     "麻烦您了", "麻烦你们", "辛苦了", "辛苦你们了", "那", "那就", "哦", "噢", "喔", "啊",
                     "呀", "吧", "呢", "哈", "啦", "嘞", "咯", "滴", "了", "的", "噻", "撒", "嘛", "哟"})
CANCEL_WORDS = frozenset({"算了", "不要了", "不用了", "不需要了", "不麻烦了", "不用麻烦了", "不弄了", "不约了",
                          "不办了", "不做了", "不修了", "不剪了", "不理了", "不去了", "不来了", "不用来了", "以后再说",
                          "下次再说", "改天再说", "不报了", "不报名了", "不注册了", "不当了", "不当志愿者了", "不换了",
                          "不兑了", "不兑换了", "取消吧", "取消", "不想要了", "没事了", "没事了不用了", "不找了",
                          "不要", "回头再说", "再说吧", "不整了", "不搞了", "不了",
                          # outside tester, round 4: 俺不想弄了 / 俺不要了 别来了 (read as self-harm by the model)
                          "别来了", "不要来了", "别弄了", "不想弄了", "不想做了", "不想修了", "不想剪了", "不想约了",
                          "不想理了", "不用弄了", "不用修了", "用不着了", "不想麻烦了", "不想办了"})
# 算了下次吧 / 不要啦 改天: the words around a call-off that only put it off.
_CANCEL_AROUND = _AROUND | {"我", "俺", "咱", "偶", "先", "暂时", "还是", "我看", "哎", "唉", "那个", "这个", "哎呀",
                            "我先", "那我",
                            "下次", "下回", "改天", "以后", "回头", "再说", "过两天", "等等", "再想想", "想想",
                            "考虑考虑", "考虑一下", "再看看", "我再"}


@lru_cache(maxsize=16)
def _longest(vocabulary: frozenset[str]) -> int:
    """The length of the longest word of ``vocabulary`` (the few vocabularies below, each measured once)."""
    return max(len(w) for w in vocabulary)


# The vocabularies _only reads, built once (a union on every call was a new set to hash and measure each time).
_YES_VOCABULARY = YES_WORDS | _AROUND
_NO_VOCABULARY = NO_WORDS | _AROUND
_CANCEL_VOCABULARY = CANCEL_WORDS | _CANCEL_AROUND


def _only(text: str, vocabulary: frozenset[str]) -> list[str] | None:
    """``text`` as a sequence of words from ``vocabulary`` (every character covered), or None."""
    best: list[list[str] | None] = [None] * (len(text) + 1)
    best[0] = []
    longest = _longest(vocabulary)
    for i in range(len(text)):
        if best[i] is None:
            continue
        for j in range(i + 1, min(len(text), i + longest) + 1):
            if text[i:j] in vocabulary and best[j] is None:
                best[j] = [*(best[i] or []), text[i:j]]
    return best[len(text)]


def parse_yes_no(text: str) -> str | None:
    """"yes" (对 确认 / 嗯嗯 / 好的呀 / 没问题 就这样 / 要得 / 中), "no" (不对 / 不行), or None for anything else."""
    raw = _clean(text)
    if not raw:
        return None
    if re.fullmatch(r"(?:不了)+(?:谢谢你?)?", raw):
        return None  # 不了不了: "no thanks", the call-off of what is under way, not "that is wrong"
    for answer, words, vocabulary in (("yes", YES_WORDS, _YES_VOCABULARY), ("no", NO_WORDS, _NO_VOCABULARY)):
        found = _only(raw, vocabulary)
        if found and any(w in words for w in found):
            return answer
    return None


# 我妈说不用了 / 俺老伴讲不要了: a family member's call-off, passed on (the words after it are the call-off)
_RELAYED = re.compile(r"(?:我|俺|咱)(?:家)?(?:妈|爸|老妈|老爸|老伴儿?|老头子?|老太婆|儿子|闺女|女儿|孩子|家里人|"
                      r"媳妇|老婆|老公|婆婆|公公|奶奶|爷爷)(?:刚才|刚|又)?(?:说|讲|讲了|说了)(?:了)?")


def is_cancel(text: str) -> bool:
    """A whole message that calls off what is under way: 算了不要了 / 那算了吧 / 我先不弄了 / 不用了谢谢."""
    # 算啦 / 不弄咯 / 不用啦: the sentence-final particles a call-off is said with are its 了
    raw = _RELAYED.sub("", re.sub(r"[啦咯喽嘞]", "了", _clean(text)))
    found = _only(raw, _CANCEL_VOCABULARY) if raw else None
    return bool(found) and any(w in CANCEL_WORDS for w in found or [])


_SEPARATORS = " ,，。.!！?？;；、~～…"


def split_call_off(text: str) -> tuple[str, ...]:
    """"算了 有啥任务没" / "不要了，我的订单呢" / "算了吧我要看积分": a call-off said before another request -> the
    readings of that request, the one after the shortest call-off first ("我的订单呢", then "订单呢"); () when the
    text does not start with a call-off or nothing follows it."""
    raw = text.strip()
    rests: list[str] = []
    for cut in range(2, len(raw)):
        rest = raw[cut:].strip(_SEPARATORS)
        if rest and rest not in rests and is_cancel(raw[:cut]) and not is_cancel(rest):
            rests.append(rest)
    return tuple(rests)


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """Cancel an order: by its number, or by what it was for ("那个理发的不要了": the words, for the matcher).

    ``marked``: the words said it was an order (那个…的, …的单子, 取消…的订单); "旧衣服不要了" is not marked, and is a
    cancel only if such an order exists.
    """

    order: int | None = None
    what: str = ""
    marked: bool = True


_ORDER_WORD = r"(?:订单|单子|单|预约)"
_CANCEL_VERB = (r"(?:不要了|不用了|不需要了|取消掉?了?|撤销了?|撤掉|撤了|退掉|退了|删掉|不做了|不来了|不用来了|"
                r"算了|不要|不用)")
_CANCEL_BY_NUMBER = (
    re.compile(rf"^(?:请|帮我|麻烦|我要|我想|我想要)?(?:取消|撤销|撤掉|退掉|删掉|删除)(?:掉|一下|下)?{_ORDER_WORD}?(?:第)?{_NUM}"
               rf"(?:号)?(?:的)?{_ORDER_WORD}?$"),
    # 撤了吧 8号 / 不要了 8号单: the call-off first
    re.compile(rf"^(?:取消|撤销|撤掉|撤了|退掉|不要了|取消掉)(?:吧|了)?(?:第)?{_NUM}号(?:的)?{_ORDER_WORD}?$"),
    re.compile(rf"^(?:请|帮我|麻烦|麻烦你)?(?:把)?(?:第)?{_NUM}(?:号)?(?:那个|那|这个|这|的)?{_ORDER_WORD}(?:我)?(?:也)?"
               rf"(?:给我)?{_CANCEL_VERB}(?:吧|了)?$"),
    re.compile(rf"^{_ORDER_WORD}{_NUM}(?:号)?(?:我)?{_CANCEL_VERB}(?:吧|了)?$"),
    re.compile(rf"^(?:第)?{_NUM}号(?:我)?(?:不要了|不用了|取消|取消了|取消掉|不用来了)(?:吧|了)?$"),
)
_WHAT = r"(?P<what>[\u4e00-\u9fa5]{1,10}?)"
# 取消明天的理发: the day said with it is no part of what was ordered
_WHEN_OF = r"(?:(?:今天|明天|后天|大后天|这周.|下周.|周.|星期.|上午|下午|晚上|早上|中午)的?)+"
_CANCEL_BY_WHAT = (
    re.compile(rf"^(?:把)?(?P<pre>那个|这个|我的|我那个|我那|上次那个|上次的)?{_WHAT}(?P<post>的那个|那个|的|那)?"
               rf"(?P<order>{_ORDER_WORD}|服务)?(?:我)?(?:也)?(?:给我)?{_CANCEL_VERB}(?:吧|了|啊)?$"),
    re.compile(rf"^(?:请|帮我|麻烦|我要|我想)?(?:取消|撤销|退掉)(?:掉)?(?:那个|我的|我那个)?(?:{_WHEN_OF})?{_WHAT}(?:的)?"
               rf"(?P<order>{_ORDER_WORD}|服务)?$"),
    re.compile(rf"^(?:我)?(?:不要|不用|不想要?)(?:那个)?{_WHAT}了$"),
)
# Words that are no service in "X不要了": the cancel of whatever is under way.
_NOT_WHAT = frozenset({"算了", "我", "那", "这", "先", "暂时", "还是", "都", "全", "全部", "所有", "这个", "那个",
                       "订单",
                       "单子", "预约", "我先", "那我", "我看", "哎", "唉", "也", "都不", "那就", "就"})


# "我那个单子不要了" / "俺的订单不用了": an order, none named
_CANCEL_THE_ORDER = re.compile(rf"^(?:我|俺|咱)?(?:的)?(?:那个|这个|那|这)?{_ORDER_WORD}(?:我)?(?:也)?{_CANCEL_VERB}"
                               r"(?:吧|了|啊)?$")
# "不用来了 水龙头我儿子给修好了": a call-off, and why: it is done or handled another way (no new request)
_SORTED_ALREADY = re.compile(r"(?:修|弄|剪|理|搞|整|收拾|打扫|做|办)(?:好|完)了|已经好了|"
                             r"(?:自己|我儿子|我女儿|我闺女|家里人|我老伴|邻居|孩子|儿子|女儿)(?:已经)?(?:给|帮我?)?(?:弄|修|剪|理|搞|整|去|办|买)|"
                             r"不需要了|用不着了|没事了|解决了")


def parse_cancel_order(text: str) -> CancelRequest | None:
    """"取消4号订单" / "4号单子不要了" -> the order number; "那个理发的不要了" -> what it was for; else None."""
    raw = _clean(text)
    if not raw:
        return None
    command = parse_command(text)
    if command is not None and command.name not in ("cancel",):
        return None  # 取消订阅, 取消提醒 ...
    core = _SUFFIX.sub("", raw) or raw
    if _CANCEL_THE_ORDER.match(core):
        return CancelRequest(marked=True)
    for rest in split_call_off(text):
        if _SORTED_ALREADY.search(rest):
            return CancelRequest(marked=True)
    for pattern in _CANCEL_BY_NUMBER:
        m = pattern.match(core)
        if m:
            number = _to_int(m.group(1))
            return CancelRequest(order=number) if number else None
    if is_cancel(raw):  # 俺不要了 别来了: call-off words only, no service named ("了别来" is no what)
        return None
    for pattern in _CANCEL_BY_WHAT:
        m = pattern.match(core)
        if m:
            what = m.group("what").strip()
            if len(what) >= 2 and what not in _NOT_WHAT and not is_cancel(what) and not what.isdigit():
                groups = m.groupdict()
                marked = pattern is _CANCEL_BY_WHAT[1] or any(groups.get(g) for g in ("pre", "post", "order"))
                return CancelRequest(what=what, marked=marked)
    return None


# -- small talk -------------------------------------------------------------------------------------------

_SMALL_TALK: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("thanks", re.compile(r"^(?:好的|好嘞|嗯|哦)?(?:(?:太|非常|十分)?(?:谢谢|谢了|多谢|感谢|辛苦了|辛苦你了|辛苦你们了|"
                          r"麻烦你了|麻烦你们了)(?:你|您|你们|啊|呀|了|哈|啦|小助手|志愿者|师傅|老师|大家|雷锋超市|"
                          r"社区|帮忙|的帮助|帮助)*)+$")),
    ("who", re.compile(r"^(?:请问)?(?:你|您|你们)(?:是|叫)(?:谁|什么|哪个|哪位|干什么的|做什么的|干啥的|干嘛的|干吗的|"
                       r"搞什么的|机器人|人|真人|什么东西)|^(?:请问)?(?:你|您|你们)(?:到底)?(?:是)?(?:谁|哪位)(?:啊|呀|呢|哈)*$|^(?:这|这里|这个)是(?:哪里|哪儿|什么|干什么的|做什么的|啥)|^你叫什么(?:名字)?$|"
                       r"^(?:你|你们)(?:能|会)?(?:干|做)(?:什么|啥)(?:的)?$|"
                       r"^(?:你|您)?是(?:不是)?(?:机器人|真人|人工智能|ai|智能客服)(?:吗|么|吧|呀|啊|不)?$")),
    # 在吗 / 有人在吗 / 你好 请问在吗 / 您好 我想问一下: someone checking the bot is there before they say what for
    ("greeting", re.compile(r"^(?:你好|您好|喂|在吗|在不在|有人吗|有人在吗|有人在不|有人没|有人不|在没|在嘛|在不|在|"
                            r"请问|哈喽|hello|hi|嗨|早上好|上午好|中午好|下午好|晚上好|早安|"
                            r"早|老师好|大家好|小助手|你好小助手|在么)+(?:啊|呀|哈|啦)*"
                            r"(?:我是新来的|我是新人|我第一次用|第一次用|第一次来|刚关注的?|刚加的|"
                            r"(?:我)?(?:想)?(?:问一下|问一问|问问|问个事|打听一下|咨询一下)|打扰一下|打扰了)?"
                            r"(?:啊|呀|哈|啦)*$")),
    ("bye", re.compile(r"^(?:好的)?(?:再见|拜拜|bye|回见|晚安)(?:啊|了|啦)*$")),
    ("ack", re.compile(r"^(?:好的|好|好嘞|嗯|嗯嗯|知道了|晓得了|明白了|懂了|ok|行|行吧|好吧|哦|噢|哦哦|收到了)"
                       r"(?:啊|呀|哈|啦)*$")),
)


SMALL_TALK_KINDS = frozenset(name for name, _ in _SMALL_TALK)


def parse_small_talk(text: str) -> str | None:
    """thanks / who / greeting / bye / ack for a message that is only that, else None."""
    raw = _clean(text)
    for name, pattern in _SMALL_TALK:
        if raw and pattern.search(raw):
            return name
    return None


# A call-off said in a sentence ("俺不想弄了 俺自己去剪", "不要了 别让师傅来了") and the words that would make it
# more than a call-off (活, 死, 拖累, 这辈子...): see :func:`is_plain_reply`.
_CALL_OFF = re.compile(r"不(?:想|用|要)?再?(?:要|弄|做|修|剪|约|来|办|理|搞|整|麻烦)(?:这个|那个|这|那|它|人)?了|"
                       r"别(?:再)?(?:来|弄|过来)了|取消")
_MORE_THAN_A_CALL_OFF = re.compile(
    r"活|死|命|跳|药|刀|轻生|结束|解脱|拖累|遗书|后事|永别|再见|告别|离开|世界|没意思|撑不|熬不|累|辈子|任何人|所有人|"
    r"一了百了|不在了|最后|什么都不|都不想|不想醒|睡过去|走了")


def is_plain_reply(text: str) -> bool:
    """Is ``text`` one of the dialogue's own replies -- yes / no, a call-off (算了不要了, 俺不想弄了, 不要了 别来了),
    thanks or a greeting -- and nothing more? The emergency second opinion is not asked about those: its nearest
    examples of "俺不想弄了" are "我不想活了", and a cancel answered with the crisis hotline is a false alarm (outside
    tester, 2026-12-03). Any word of life, death or farewell keeps a message out of this."""
    if _MORE_THAN_A_CALL_OFF.search(text):
        return False
    if parse_yes_no(text) is not None or is_cancel(text) or parse_small_talk(text) is not None:
        return True
    return _CALL_OFF.search(text) is not None and len(text) <= 16
