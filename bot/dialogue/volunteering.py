"""Volunteers' own chat (pure): "我的资料" and edits, redemption at a merchant (scan or code), time bank.

`command()` recognises this topic's commands in any state; the STATE_HANDLERS carry the short
follow-up questions. Everything that needs the database is an Action performed by the edge.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.dialogue.core import (
    Action,
    Context,
    OpenOrder,
    Result,
    State,
    StateHandler,
    ask_phone_again,
    idle,
    kept,
    result,
    retry,
    said_no,
    said_yes,
)
from bot.dialogue.messages import Incoming
from bot.dialogue.registration import VOLUNTEER_ROLES, parse_availability, parse_skills, skills_question
from intents.commands import read_number
from intents.normalise import default_normaliser

PROFILE_MENU = State.PROFILE_MENU
PROFILE_SKILLS = State.PROFILE_SKILLS
PROFILE_TIMES = State.PROFILE_TIMES
PROFILE_PHONE = State.PROFILE_PHONE
PROFILE_TEAM = State.PROFILE_TEAM
REDEEM_AMOUNT = State.REDEEM_AMOUNT
REDEEM_CONFIRM = State.REDEEM_CONFIRM
MERCHANT_POINTS = State.MERCHANT_POINTS

SCAN_PREFIX = "merchant_redeem_"
CODE_SCAN_PREFIX = "redeem_"  # a volunteer's one-time code as a QR: the merchant scans it to 核销
PROFILE_WORDS = frozenset({"我的资料", "个人资料", "我的信息", "修改资料", "志愿者资料", "资料", "改资料"})
DONATE_LIST_WORDS = frozenset({"捐赠时长", "捐时长", "捐赠时间", "时长捐赠", "时间捐赠"})
CODE_WORDS = frozenset({"兑换码", "我的兑换码", "积分兑换码"})
# the words 核销 and 时长支付 are said with: with their numbers (VERIFY, PAY), or alone (how to write them: out11)
_VERIFY_LEADS = ("核销", "兑换核销", "核销兑换码")
_PAY_LEADS = ("时长支付", "用时长支付", "存折支付", "用存折支付", "时间银行支付")
VERIFY_WORDS = frozenset({*_VERIFY_LEADS, "核销积分", "积分核销", "我要核销"})
PAY_WORDS = frozenset(_PAY_LEADS)
_VERIFY_LEAD = "(?:" + "|".join(_VERIFY_LEADS) + ")"
VERIFY = re.compile(rf"^{_VERIFY_LEAD}\s*(\d{{8}})(?:\s*[,，\s]\s*(\d{{1,6}})\s*(?:分|积分)?)?$")
PAY = re.compile(r"^(?:" + "|".join(_PAY_LEADS) + r")\s*(?:订单)?\s*([0-9]+)\s*号?"
                 r"(?:\s*[,，\s]\s*(?:用|付|支付)?\s*([0-9]{1,2}(?:\.[0-9]{1,2})?)\s*(?:个)?(?:小时|钟头|h)?)?$")
# "加入 医疗健康队" / "退出爱心理发队": a volunteer joins or leaves a team by its name (never 志愿者队伍: registration)
TEAM_MOVE = re.compile(r"^(加入|退出|离开)\s*((?!志愿者)\S{2,20}?(?:队|组|团))$")
# 核销 with points that are no whole positive number (核销 63585757 -5 / 2.5): said plainly, not the resident fallback
VERIFY_BAD = re.compile(rf"^{_VERIFY_LEAD}\s*(\d{{8}})\s*[,，\s]\s*"
                        r"(?:-\s*\d+(?:\.\d+)?|\d+\.\d+|0+)\s*(?:分|积分)?$")
# a wall of digits is read as a number too long for any order or person (read_number; the domain answers "no such
# one"), and hours have bounded length (float() of 5000 digits overflows round())
DONATE = re.compile(r"^捐(?:赠)?(?:时长)?\s*([0-9]+)\s*号?\s*[,，\s]\s*([0-9]{1,4}(?:\.[0-9]{1,2})?)\s*"
                    r"(?:个)?(?:小时|h)?$")

# "有什么任务": the open orders that fit this volunteer. Said many ways (有啥活 / 现在有单子吗 / 有什么要帮忙的), with
# the pinyin typos of 任务 (人物, 任物, 认务); read on the folded text with dialect rewritten (啥 -> 什么).
_TASK_WORD = r"(?:任务|人物|任物|认务|仁务|任务单|活儿|活计|活路|活|火|伙|单子|单|工单)"  # (火/伙: 活 mistyped)
_ASKING = r"(?:有没有|有没得|有木有|有无|有什么|有)"
_WHICH = r"(?:什么|新的?|可以接的|能接的|可接的|待接的|要接的|适合我的|我能接的|我可以接的|要做的|需要做的)?"
_TAKE = r"(?:可以接|能接|可接|要接|给我|让我|我接|干|做|可以干|可以做|能干|能做)?(?:的)?"
_ENDING = r"(?:吗|么|没得|没有得|没|没有|呢|啊|呀|吧|哈|嘛|不|噻|嘞)*$"
_LEAD = (r"^(?:请问|那|那个|现在|今天|明天|最近|这会儿?|目前|眼下|还|这边|咱们|我们|你们|帮我|给我|麻烦|附近|周围|"
         r"小区里|社区里|这附近|"
         r"看看|看下|看一下|查查|查下|查一下)*")
OPEN_TASKS = (
    re.compile(_LEAD + _ASKING + _WHICH + _TASK_WORD + _TAKE + _ENDING),
    re.compile(_LEAD + r"(?:有没有|有什么|有)(?:人|老人|居民|谁|哪家|地方)?(?:要|需要)(?:我们?)?"
               r"(?:帮忙|帮助|帮手|服务|志愿者)(?:的)?(?:人|老人|居民|事|事情|地方)?" + _ENDING),
    re.compile(_LEAD + r"(?:我)?(?:能|可以)接(?:什么|哪些|哪个)(?:任务|单子?|活儿?)?" + _ENDING),
    re.compile(_LEAD + r"(?:有没有|有什么)(?:我|我们)(?:能|可以)(?:做|干|帮忙|帮上忙|帮)(?:的)?(?:事|事情|地方)?"
               + _ENDING),
    re.compile(r"^(?:看看|查查|查看|查一下|看一下)?(?:待接|可接|能接的|可以接的|没人接的|待接的)(?:任务|订单|单子?|活儿?)$"),
    re.compile(r"^(?:任务大厅|接单大厅|待接任务|待接订单|可接任务|新任务|找任务|找活儿?|接任务)$"),
)
_FOLD = default_normaliser()


def _is_volunteer(ctx: Context) -> bool:
    return bool(ctx.roles & VOLUNTEER_ROLES)


# "我是修水管的师傅，有啥子活路没得": who they are said first, then the question (outside tester round 6)
_INTRO = re.compile(r"^(?:你好|您好)?(?:我是|俺是|我这边是|我是个|我是一名|我是一个)[^有]{0,12}?"
                    r"(?:师傅|师父|志愿者|电工|水电工|理发师|木匠|瓦工|保洁|护工|阿姨|大姐|大哥|老师)(?:傅|父)?")


def asks_open_tasks(text: str) -> bool:
    """"有什么任务" / "有啥活" / "现在有单子吗" / "有什么要帮忙的" / "有什么人物": which open orders could I take?"""
    folded = _FOLD.rewrite_dialect(_FOLD.fold(text))
    compact = re.sub(r"[\s,.!?;:，。！？；：、~～…'\"“”‘’()（）]+", "", folded)
    if any(p.match(compact) for p in OPEN_TASKS):
        return True
    rest = _INTRO.sub("", compact, count=1)
    return rest != compact and any(p.match(rest) for p in OPEN_TASKS)


# Volunteers' typos of their two commands, typed fast on a phone: homophones of the pinyin input (接但 3, 完城了)
# and pinyin left unconverted (jie dan 3, jiedan3, wan cheng, 做完le). Only the start of the message is rewritten
# (and a trailing "le"), so a request that merely contains such a word stays what it was.
_TYPO_LEADS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(?:接但|接蛋|接担|接淡|接旦|节单|街单|借单|结单|jie\s*dan|jiedan|jie单|接dan)\s*", re.I), "接单 "),
    (re.compile(r"^(?:完城|完程|完乘|完承|玩成|万成|wan\s*cheng|wancheng|wan成|完cheng)", re.I), "完成"),
    (re.compile(r"^(?:zuo\s*wan|zuowan)", re.I), "做完"),
    (re.compile(r"^(?:gao\s*ding|gaoding)", re.I), "搞定"),
)
_TRAILING_LE = re.compile(r"(?<=[\u4e00-\u9fff])\s*(?:le|la)$", re.I)
# "做完了" / "弄好了" / "搞定了" / "完成了" with no number: the task in progress is done (which one: the edge reads
# the volunteer's tasks, `wants_own_tasks`)
DONE_WORDS = re.compile(r"^(?:我|俺)?(?:这边|已经|已|都|总算|终于)*(?:做完|弄好|搞定|干完|弄完|忙完|完事|服务完|完成|"
                        r"完工|做好|办完|办好)(?:了|啦|咯|喽|嘞)*(?:啊|呀|哈|哦|噢)*$")


def fix_typos(text: str) -> str | None:
    """The volunteer command a typo means ("接但 3" -> "接单 3", "wan cheng" -> "完成", "做完le" -> "做完了"), or None
    when nothing was rewritten."""
    t = text.strip()
    fixed = t
    for pattern, canonical in _TYPO_LEADS:
        fixed = pattern.sub(canonical, fixed, count=1)
    fixed = _TRAILING_LE.sub("了", fixed).strip()
    return fixed if fixed != t else None


def says_done(text: str) -> bool:
    """"做完了" / "搞定了" / "完城了" / "做完le": a task said done with no number."""
    said = fix_typos(text) or text
    compact = re.sub(r"[\s,.!?;:，。！？；：、~～…]+", "", said)
    return bool(DONE_WORDS.match(compact))


# "退单" / "我要退单" with no number: which of the tasks taken is given back (outside tester round 5).
BARE_GIVE_BACK = re.compile(r"^(?:我|俺)?(?:想|要|想要)?(?:退单|退个单|退掉|退任务|放弃任务|不接了)(?:了|吧|啊|呀)*$")


def says_give_back(text: str) -> bool:
    return bool(BARE_GIVE_BACK.match(re.sub(r"[\s,.!?;:，。！？；：、~～…]+", "", text)))


def wants_own_tasks(text: str) -> bool:
    """Whether the dialogue will want the volunteer's tasks in progress for this message (ctx.my_tasks)."""
    return says_done(text) or says_give_back(text) or _hours_said(text) is not None


def _give_back_which(slots: Mapping[str, Any], ctx: Context) -> Result:
    """"退单" with no number: the task held named, or the list, or the plain truth when there is none."""
    tasks = ctx.my_tasks
    if tasks is None:  # not read here: the domain lists them
        return idle("要退哪一单？请回复“退单 编号 原因”，比如“退单 12 临时有事”。您手上的任务：", slots,
                    actions=(Action("my_tasks"),))
    if not tasks:
        return idle("您现在没有接下的任务，不用退单。回复“有什么任务”可以看看能接的单。", slots)
    if len(tasks) == 1:  # the one task held: only the reason (or a yes) is still needed
        o = tasks[0]
        return result(State.VOL_GIVEBACK, {**kept(slots), "order": o.id, GIVEBACK_ASKED: True, "misses": 0},
                      f"退{_task_line(o, ctx)}吗？回复 1 确认，或者直接说原因，比如“临时有事”；不退了回复 0。")
    lines = [f"要退哪一单？您手上有{len(tasks)}个任务：",
             *(f"{i} {_task_line(o, ctx)}" for i, o in enumerate(tasks, 1)),
             "回复序号就行，比如“1”；不退了回复 0。"]
    return result(State.VOL_GIVEBACK, {**kept(slots), GIVEBACK_PICK: [o.id for o in tasks], "misses": 0},
                  "\n".join(lines))


# A bare 退单's follow-up (state VOL_GIVEBACK): the task asked about ("退…吗？"), or the tasks listed by number.
GIVEBACK_ASKED = "giveback_asked"
GIVEBACK_PICK = "giveback_pick"
GIVEBACK_REASON = "giveback_reason"  # the reason asked for after the yes: what is said next is the reason
GIVEBACK_KEYS = (GIVEBACK_ASKED, GIVEBACK_PICK, GIVEBACK_REASON)
_NOT_BACK = re.compile(r"(?:算了|那算了|还是)?[\s,，]*(?:不退|不退了|先不退|不了|算了|不要|不用了?)(?:吧|了|啊)*")


def giveback_answer(slots: Mapping[str, Any], ctx: Context, text: str) -> Result | None:
    """The answer to a bare 退单's question: 1 / yes asks the reason, a number picks from the list, 0 / no keeps the
    task; None for a reason (the reason question's handler gives the task back with it)."""
    t = text.strip()
    rest = {k: v for k, v in slots.items() if k not in GIVEBACK_KEYS}
    if t == "0" or said_no(t, ctx) or _NOT_BACK.fullmatch(t):
        rest = {k: v for k, v in rest.items() if k != "order"}
        return idle("好的，没有退单，请按约定时间去服务。", rest)
    if slots.get(GIVEBACK_REASON):  # "临时有事去不了": the reason asked for, the task given back with it
        if len(t) < 2:
            return retry(State.VOL_GIVEBACK, slots, ctx, "请简单说一下退单原因，比如“临时生病”。")
        return idle(None, rest, actions=(Action("give_back", {"order": rest.get("order"), "reason": t[:200]}),))
    if slots.get(GIVEBACK_ASKED):
        if t == "1" or said_yes(t, ctx):
            return result(State.VOL_GIVEBACK, {**rest, GIVEBACK_REASON: True, "misses": 0},
                          f"好的，请简单说一下退订单{rest.get('order')}的原因，比如“临时生病”。")
        return None if len(t) >= 2 else retry(State.VOL_GIVEBACK, slots, ctx,
                                                "回复 1 确认退单，或者直接说原因；不退了回复 0。")
    refs = [int(r) for r in slots.get(GIVEBACK_PICK) or []]
    choice = ctx.nlu.choice(t) if len(t) <= 8 else None
    picked = choice if choice in refs else refs[int(choice) - 1] if choice is not None and 1 <= choice <= len(refs) \
        else None
    if picked is None:
        return retry(State.VOL_GIVEBACK, slots, ctx, f"要退哪一单？回复序号 1 到 {len(refs)}；不退了回复 0。")
    return result(State.VOL_GIVEBACK, {**rest, "order": picked, GIVEBACK_REASON: True, "misses": 0},
                  f"好的，请简单说一下退订单{picked}的原因，比如“临时生病”。")


def _task_line(o: OpenOrder, ctx: Context) -> str:
    return f"订单{o.id}（{ctx.nlu.service_name(o.service)}{'，' + o.when if o.when else ''}）"


def _done(slots: Mapping[str, Any], ctx: Context) -> Result:
    """A task said done with no number: the one in progress (its hours asked), "which one?" when there are several,
    the plain truth when there is none."""
    tasks = ctx.my_tasks
    how = "请回复“完成 编号 小时数”，比如“完成 12 2”（12号订单，服务了2小时）。"
    if tasks is None:  # not read here: the domain lists them
        return idle(f"辛苦了！{how}您手上的任务：", slots, actions=(Action("my_tasks"),))
    if not tasks:
        return idle("您现在没有进行中的任务，不用报完成。回复“我的任务”可以看看您接过的任务。", slots)
    if len(tasks) > 1:
        first = tasks[0].id
        lines = [f"辛苦了！您手上有{len(tasks)}个任务，做完的是哪一个？",
                 *(_task_line(o, ctx) for o in tasks),
                 f"请回复“完成 编号 小时数”，比如“完成 {first} 2”。"]
        return idle("\n".join(lines), slots)
    o = tasks[0]
    return result(State.VOL_HOURS, {**kept(slots), "order": o.id, "misses": 0},
                  f"辛苦了！{_task_line(o, ctx)}服务了几个小时？回复数字，比如“2”或“1.5”。")


# -- 接单 with no number (outside tester round 6) ------------------------------------------------------------
# A push offered the volunteer an order and they answer "接" / "接单" / "好 我去" / "我接了": the one order offered to
# them (ctx.offered_tasks, read by the edge) is taken at once; several are listed by number, and "1" / "2" right
# after takes that one (VOL_ACCEPT). "我去" / "我来" alone may be an exclamation: asked first ("是接…吗？").
VOL_ACCEPT = State.VOL_ACCEPT
ACCEPT_PICK = "accept_pick"  # slot: the order numbers listed, or LISTED (the domain's numbered "有什么任务" list)
LISTED = "listed"
MAX_LISTED = 5  # "有什么任务" lists at most this many (bot.serviceloop.listings.MAX_OPEN_TASKS)
_TAKE_IT = re.compile(r"^(?:好|好的|好嘞|好滴|行|行的|可以|没问题|收到|ok|嗯|嗯嗯)(?:这单|这个)?(?:我|俺)(?:来|去|接)"
                      r"(?:接|做|干)?(?:了|吧|啦|哈|嘞|哦)*$"
                      r"|^(?:这单|这个单子?|这个活儿?|这一单)(?:我|俺)(?:来|去|接|要)(?:了|吧|啦|哈)*$"
                      r"|^(?:我|俺)(?:接|要接|来接|去接)(?:这单|这个|这一单|了|吧|啦|哈)*$", re.I)
_MAYBE_TAKE = re.compile(r"^(?:我|俺)(?:来|去)(?:吧|了|啦|哈|嘞)*$")


def _compact(text: str) -> str:
    return re.sub(r"[\s,.!?;:，。！？；：、~～…]+", "", text)


def bare_accept(text: str, nlu: Any) -> str | None:
    """"clear" for 接单 with no number ("接" / "接单" / "好 我去" / "我接了"), "maybe" for "我去" / "我来" (taken only
    when an order is on offer, and asked first), else None."""
    said = fix_typos(text) or text
    cmd = nlu.command(said.strip())
    if cmd is not None and cmd.name == "accept" and cmd.arg is None:
        return "clear"
    compact = _compact(said)
    if _TAKE_IT.match(compact):
        return "clear"
    return "maybe" if _MAYBE_TAKE.match(compact) else None


def wants_offers(text: str, state: str, nlu: Any) -> bool:
    """Whether the dialogue will want the orders offered to this volunteer for this message (ctx.offered_tasks)."""
    return state in (State.IDLE, VOL_ACCEPT) and bare_accept(text, nlu) is not None


def which_to_accept(slots: Mapping[str, Any], ctx: Context | None = None) -> Result:
    """"接单" with no number (see take_offered)."""
    took = take_offered(slots, ctx, "clear")
    assert took is not None  # (only "maybe" declines)
    return took


def take_offered(slots: Mapping[str, Any], ctx: Context | None, how: str) -> Result | None:
    """"接单" with no number: the one order offered taken (asked first for "我去"), several listed by number; none
    offered (or not read): the domain's open orders that fit, numbered, each with its "接单 N". None for "我去" when
    nothing is on offer (not about a task)."""
    offered = ctx.offered_tasks if ctx is not None else None
    if offered and ctx is not None and len(offered) == 1:
        o = offered[0]
        if how == "clear":
            return idle(None, slots, actions=(Action("accept", {"order": o.id}),))
        return result(VOL_ACCEPT, {**kept(slots), ACCEPT_PICK: [o.id], "misses": 0},
                      f"是接{_task_line(o, ctx)}吗？回复 1 接单，回复 0 不接。")
    if offered and ctx is not None:
        lines = [f"派给您的订单有{len(offered)}个，要接哪一个？",
                 *(f"{i} {_task_line(o, ctx)}" for i, o in enumerate(offered, 1)),
                 f"回复序号就行，比如“1”；也可以回复“接单 {offered[0].id}”。"]
        return result(VOL_ACCEPT, {**kept(slots), ACCEPT_PICK: [o.id for o in offered], "misses": 0},
                      "\n".join(lines))
    if how != "clear":
        return None
    # the domain's numbered list says how to pick (or that nothing is open): nothing said before it
    return result(VOL_ACCEPT, {**kept(slots), ACCEPT_PICK: LISTED, "misses": 0}, None,
                  actions=(Action("open_tasks", {"numbered": True}),))


def on_accept_pick(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result | None:
    """The answer to a bare 接单's list ("1" / "第二个" / the order's number) or to "是接…吗？" (1 / 对); anything
    else is an ordinary message (None)."""
    pick = slots.get(ACCEPT_PICK)
    rest = {k: v for k, v in slots.items() if k != ACCEPT_PICK}
    t = text.strip()
    if t == "0" or said_no(t, ctx) or re.fullmatch(r"(?:不接|不接了|先不接|不了|算了|不要|不用了?)(?:吧|了)*", t):
        return idle("好的，没有接。想接的时候回复“有什么任务”看看。", rest)
    choice = ctx.nlu.choice(t) if len(t) <= 8 else None
    if pick == LISTED:
        if choice is not None and 1 <= choice <= MAX_LISTED:
            return idle(None, rest, actions=(Action("accept", {"listed": int(choice)}),))
        return None
    refs = [int(r) for r in pick or []]
    if choice is not None and choice in refs:
        return idle(None, rest, actions=(Action("accept", {"order": int(choice)}),))
    if choice is not None and 1 <= choice <= len(refs):
        return idle(None, rest, actions=(Action("accept", {"order": refs[int(choice) - 1]}),))
    if len(refs) == 1 and said_yes(t, ctx):
        return idle(None, rest, actions=(Action("accept", {"order": refs[0]}),))
    return None



# -- 完成 with the hours and no order number: "完成 2小时" / "做完了 干了一个小时" / "完成 1" (outside tester, r6) --
_DONE_LEAD = (r"(?:我|俺)?(?:这边|已经|已|都|总算)*(?:完成了?|已完成|做完了?|干完了?|弄完了?|搞定了?|弄好了?|修好了?|"
              r"服务完了?|忙完了?|完事了?|做好了?)")
DONE_HOURS = re.compile(r"^" + _DONE_LEAD + r"(?:啊|呀|哈|啦)?[\s,，。.、]*(?:一共|总共|共|前后)?\s*"
                        r"(?:干了|做了|服务了|用了|花了|弄了|忙了|修了|搞了)?\s*(?:一共|总共|共|差不多|大概)?\s*"
                        r"(?P<hours>\S.*)$")
_HOUR_UNIT = re.compile(r"小时|钟头|个钟|[0-9]\s*h$", re.I)
_BARE_HOURS = re.compile(r"^\d{1,2}(?:\.\d{1,2})?$")


def _hours_said(text: str) -> tuple[str, bool] | None:
    """The hours part of "完成 2小时" / "做完了 干了一个小时" / "完成 1", and whether it has its unit; None when the
    text is no such message (a 6-digit order number is one: "完成 730215")."""
    said = fix_typos(text) or text
    m = DONE_HOURS.match(said.strip())
    if m is None:
        return None
    part = m.group("hours").strip()
    if re.search(r"\d{3,}", part):
        return None
    if _HOUR_UNIT.search(part):
        return part, True
    return (part, False) if _BARE_HOURS.match(part) else None


def _done_with_hours(slots: Mapping[str, Any], ctx: Context, text: str) -> Result | None:
    """完成 with the hours and no order: the one task in progress takes them; several: which one; none: said plainly,
    with the volunteer's tasks. A bare small number is hours only with exactly one task that has no such number."""
    found = _hours_said(text)
    if found is None:
        return None
    part, unit = found
    hours = ctx.nlu.hours(part)
    if hours is None or not 0 < hours <= 24:
        return None
    tasks = ctx.my_tasks
    if not unit and (tasks is None or len(tasks) > 1 or int(hours) in {o.id for o in tasks}):
        return None  # "完成 12" with the tasks not read, or several: the order number, as before
    if tasks is None:
        return idle(f"辛苦了！请回复“完成 编号 {hours:g}”，比如“完成 12 {hours:g}”。您手上的任务：", slots,
                    actions=(Action("my_tasks"),))
    if not tasks:
        return idle(f"您现在没有进行中的任务，这{hours:g}小时没有可以记的订单。下面是您的任务：", slots,
                    actions=(Action("my_tasks"),))
    if len(tasks) > 1:
        lines = [f"辛苦了！您手上有{len(tasks)}个任务，这{hours:g}小时是哪一个的？",
                 *(_task_line(o, ctx) for o in tasks),
                 f"请回复“完成 编号 {hours:g}”，比如“完成 {tasks[0].id} {hours:g}”。"]
        return idle("\n".join(lines), slots)
    return idle(None, slots, actions=(Action("complete", {"order": tasks[0].id, "hours": hours}),))


# "我的星级" / "查下我的星级" / "星级查询": the points reply, which has the star level (outside tester round 6)
STAR_WORDS = re.compile(r"^(?:我|俺)?(?:想)?(?:查|查下|查一下|看看|看下|看一下)?(?:我|俺)?(?:的)?(?:志愿者)?"
                        r"(?:星级|星星|星)(?:查询|是多少|多少|是几星?|几星|呢|吗|咋样|怎么样)*$")


def asks_stars(text: str) -> bool:
    compact = _compact(text)
    return bool(STAR_WORDS.match(compact)) and ("星级" in compact or compact.startswith(("我的", "俺的", "我", "查")))


def _typed_command(state: str, slots: Mapping[str, Any], ctx: Context, fixed: str) -> Result | None:
    """接单 / 完成 read from the rewritten text of a typo; None when it is neither after all."""
    done = ctx.nlu.complete_with_hours(fixed)
    if done is not None:
        return idle(None, slots, actions=(Action("complete", {"order": done[0], "hours": done[1]}),))
    cmd = ctx.nlu.command(fixed)
    if cmd is None or cmd.name not in ("accept", "complete"):
        return None
    if cmd.name == "accept":
        if cmd.arg is None and _is_volunteer(ctx) and state in (State.IDLE, VOL_ACCEPT):
            return which_to_accept(slots, ctx)
        if cmd.arg is None:
            return result(state, slots, "请带上订单编号，比如“接单 12”。")
        return idle(None, slots, actions=(Action("accept", {"order": cmd.arg}),))
    if cmd.arg is None:
        return _done(slots, ctx) if _is_volunteer(ctx) else \
            result(state, slots, "请带上订单编号，比如“完成 12 2”（12号订单，服务2小时）。")
    return result(State.VOL_HOURS, {**slots, "order": cmd.arg, "misses": 0},
                  f"订单{cmd.arg}服务了几个小时？回复数字，比如“2”或“1.5”。")


# "完成1311321.5小时": the order's 6 digits and the hours typed together; split, and asked before it counts.
RUN_TOGETHER_DONE = re.compile(r"^(?:完成了?|已完成|做完了?)\s*(?:第)?\s*(\d{6})(\d{1,2}(?:\.\d)?)\s*"
                               r"(?:个)?(?:小时|h|钟头)$")


def _run_together(slots: Mapping[str, Any], t: str) -> Result | None:
    m = RUN_TOGETHER_DONE.match(t)
    hours = float(m.group(2)) if m else 0.0
    if m is None or not 0 < hours <= 24:
        return None
    order, said = int(m.group(1)), m.group(2)
    return result(State.VOL_HOURS, {**kept(slots), "order": order, "hours_said": hours, "misses": 0},
                  f"是订单{order}，{said}小时吗？对的话回复“对”；不对请回复“完成 订单号 小时数”，"
                  f"比如“完成 {order} {said}”（中间空一格）。")


def command(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result | None:
    """This topic's commands, valid in every state; None when the text is not one of them."""
    t = re.sub(r"\s+", " ", text.strip())
    if _is_volunteer(ctx) and (joined := _run_together(slots, t)) is not None:
        return joined
    if _is_volunteer(ctx) and state in (State.IDLE, VOL_ACCEPT) and (how := bare_accept(t, ctx.nlu)) is not None:
        took = take_offered(slots, ctx, how)
        if took is not None:
            return took
    if _is_volunteer(ctx) and (hours_done := _done_with_hours(slots, ctx, t)) is not None:
        return hours_done
    if asks_stars(t):
        return idle(None, slots, actions=(Action("points"),))
    if _is_volunteer(ctx) and says_done(t):
        return _done(slots, ctx)
    if _is_volunteer(ctx) and says_give_back(t):
        return _give_back_which(slots, ctx)
    if state == State.VOL_GIVEBACK and any(slots.get(k) for k in GIVEBACK_KEYS):
        answered = giveback_answer(slots, ctx, t)
        if answered is not None:
            return answered
    fixed = fix_typos(t)
    if fixed is not None:
        typed = _typed_command(state, slots, ctx, fixed)
        if typed is not None:
            return typed
    if asks_open_tasks(t):
        if not _is_volunteer(ctx) and state.startswith("REG_"):  # mid-registration: the registration is kept
            return result(state, slots, "报名审核通过后就能接任务了。您的志愿者报名还没提交，已经给您留着："
                          "接着回答上面的问题就行，回复“取消”可以不报了。")
        if not _is_volunteer(ctx):
            return idle("您还不是志愿者，暂时不能接单。想帮邻居的忙，回复“注册志愿者”报名，审核通过后就能接任务了。",
                        slots)
        return idle(None, slots, actions=(Action("open_tasks"),))
    m = TEAM_MOVE.match(t)
    if m and _is_volunteer(ctx):  # "加入 医疗健康队" any time, as the profile menu taught it (out10)
        return _update("join" if m.group(1) == "加入" else "leave", m.group(2).strip(), slots)
    if m and m.group(1) == "加入":
        return idle("加入服务队要先成为志愿者：回复“注册志愿者”报名，报名时就可以选服务队。", slots)
    if t in PROFILE_WORDS:
        if not _is_volunteer(ctx):
            return idle("您还不是志愿者。想加入请回复“注册志愿者”。", slots)
        return result(PROFILE_MENU, {**slots, "misses": 0}, None, actions=(Action("profile"),))
    if t in CODE_WORDS:
        return idle(None, slots, actions=(Action("redeem"),))
    m = VERIFY.match(t)
    if m:
        if m.group(2) is None:
            return result(MERCHANT_POINTS, {**slots, "code": m.group(1), "misses": 0}, "这次兑换多少积分？回复数字。")
        return idle(None, slots, actions=(Action("merchant_redeem", {"code": m.group(1), "points": int(m.group(2))}),))
    if t in VERIFY_WORDS:
        return idle("请回复“核销 兑换码 积分”，比如“核销 12345678 10”。兑换码是志愿者在公众号里回复“兑换码”后"
                    "出示的8位数字。", slots)
    m = VERIFY_BAD.match(t)
    if m:  # the code kept: the number said next is its points (out11: "10" then got the residents' menu)
        return result(MERCHANT_POINTS, {**slots, "code": m.group(1), "misses": 0},
                      f"积分要写正整数，比如“核销 {m.group(1)} 5”。这次兑换多少积分？回复数字。")
    m = PAY.match(t)
    if m:
        data: dict[str, Any] = {"order": read_number(m.group(1))}
        if m.group(2):
            data["hours"] = float(m.group(2))
        return idle(None, slots, actions=(Action("pay_with_hours", data),))
    if t in PAY_WORDS:
        return idle("请带上订单编号，比如“时长支付 123456”；只想用一部分时长，就在后面写小时数，"
                    "比如“时长支付 123456 1.5”。回复“我的订单”可以查看编号。", slots)
    if t in DONATE_LIST_WORDS:
        return idle(None, slots, actions=(Action("donate", {}),))
    m = DONATE.match(t)
    if m:
        minutes = round(float(m.group(2)) * 60)
        gift = {"recipient": read_number(m.group(1)), "minutes": minutes}
        return idle(None, slots, actions=(Action("donate", gift),))
    return None


def scanned_merchant(scene: str | None) -> int | None:
    if scene and scene.startswith(SCAN_PREFIX) and scene[len(SCAN_PREFIX):].isdigit():
        return int(scene[len(SCAN_PREFIX):])
    return None


def scanned_code(scene: str | None) -> str | None:
    if scene and scene.startswith(CODE_SCAN_PREFIX) and scene[len(CODE_SCAN_PREFIX):].isdigit():
        return scene[len(CODE_SCAN_PREFIX):]
    return None


def start_code_scan(slots: Mapping[str, Any], code: str) -> Result:
    """A merchant scanned a volunteer's redemption QR: the same as typing "核销 <code>"."""
    keep = kept(slots)
    return result(MERCHANT_POINTS, {**keep, "code": code, "misses": 0},
                  "已扫到志愿者的兑换码。这次兑换多少积分？回复数字。")


def start_scan_redeem(slots: Mapping[str, Any], ctx: Context, merchant_id: int) -> Result:
    """The volunteer scanned a merchant's redemption QR code."""
    keep = kept(slots)
    if not _is_volunteer(ctx):
        return idle("这是共建商家的积分兑换码。积分是志愿者服务后获得的，想加入请回复“注册志愿者”。", keep)
    return result(REDEEM_AMOUNT, {**keep, "merchant": merchant_id, "misses": 0},
                  "您扫的是共建商家的积分兑换码。这次要用多少积分？回复数字（回复“积分”可查余额）。")


def _amount(text: str, ctx: Context) -> int | None:
    t = text.strip().removesuffix("积分").removesuffix("分")
    if t.isdigit():
        return int(t)
    value = ctx.nlu.choice(t) if t else None
    return int(value) if value is not None else None


def on_redeem_amount(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    amount = _amount(text, ctx)
    if amount is None or amount <= 0:
        return retry(state, slots, ctx, "请回复要用的积分数，比如“30”。")
    return result(REDEEM_CONFIRM, {**slots, "points": amount, "misses": 0},
                  f"确认用 {amount} 积分兑换吗？回复 1 确认，0 取消。")


def on_redeem_confirm(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    if said_yes(text, ctx):
        data = {"merchant": int(slots["merchant"]), "points": int(slots["points"])}
        return idle(None, slots, actions=(Action("redeem_at_merchant", data),))
    if text.strip() == "0" or said_no(text, ctx):
        return idle("好的，没有兑换。", slots)
    return retry(state, slots, ctx, "请回复 1 确认，0 取消。")


def on_merchant_points(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    amount = _amount(text, ctx)
    if amount is None or amount <= 0:
        return retry(state, slots, ctx, "请回复这次兑换的积分数，比如“30”。")
    return idle(None, slots, actions=(Action("merchant_redeem", {"code": slots["code"], "points": amount}),))


# The profile menu's items said in words (1 技能，2 服务时间，3 电话，4 服务队): "改一下电话", "我想换个队" (out9).
_PROFILE_WORDS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (3, re.compile(r"电话|手机|号码")),
    (4, re.compile(r"队")),
    (2, re.compile(r"时间|时候|有空|空闲|几点|哪天")),
    (1, re.compile(r"技能|本事|会做|会的|特长|手艺|服务项目|能做")),
)


def on_profile_menu(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context,
                    text: str) -> Result | None:
    choice = ctx.nlu.choice(text)
    if choice is None and len(text.strip()) <= 12:  # (a number is a choice already: the words only for words)
        choice = next((n for n, words in _PROFILE_WORDS if words.search(text)), None)
    if text.strip() == "0":
        return idle("好的。", slots)
    if choice == 1:
        return result(PROFILE_SKILLS, {**slots, "misses": 0}, skills_question(ctx, False))
    if choice == 2:
        return result(PROFILE_TIMES, {**slots, "misses": 0},
                      "您什么时候有空？比如“周一上午、周三下午”“周末全天”，或者“随时”。")
    if choice == 3:
        return result(PROFILE_PHONE, {**slots, "misses": 0}, "请输入新的手机号：")
    if choice == 4:
        return result(PROFILE_TEAM, {**slots, "misses": 0},
                      "回复“加入 队名”加入服务队，回复“退出 队名”退出，比如“加入 爱心理发队”。")
    return None  # anything else is an ordinary message (a request, a command)


def _update(field: str, value: Any, slots: Mapping[str, Any]) -> Result:
    return idle(None, slots, actions=(Action("update_profile", {"field": field, "value": value}),))


def on_profile_skills(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    skills = parse_skills(text, ctx, False)
    if not skills:
        return retry(state, slots, ctx, "请回复列表里的编号，可以多个，比如“2 5”。")
    return _update("skills", skills, slots)


def on_profile_times(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    times = parse_availability(text)
    if times is None:
        return retry(state, slots, ctx, "请说哪几天、什么时段有空，比如“周六上午”，或者“随时”。")
    return _update("availability", times, slots)


def on_profile_phone(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    phone = ctx.nlu.phone(text)
    if phone is None:
        return ask_phone_again(state, slots, ctx, text, "请输入11位手机号。")
    return _update("phone", phone, slots)


def on_profile_team(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    m = re.match(r"^(加入|退出)\s*(.+)$", text.strip())
    if not m:
        return retry(state, slots, ctx, "请回复“加入 队名”或“退出 队名”。")
    return _update("join" if m.group(1) == "加入" else "leave", m.group(2).strip(), slots)


STATE_HANDLERS: dict[str, StateHandler] = {
    PROFILE_MENU: on_profile_menu,  # may decline (None) to let other handling run
    PROFILE_SKILLS: on_profile_skills,
    PROFILE_TIMES: on_profile_times,
    PROFILE_PHONE: on_profile_phone,
    PROFILE_TEAM: on_profile_team,
    REDEEM_AMOUNT: on_redeem_amount,
    REDEEM_CONFIRM: on_redeem_confirm,
    MERCHANT_POINTS: on_merchant_points,
    VOL_ACCEPT: on_accept_pick,  # may decline (None): anything but a pick is an ordinary message
}
