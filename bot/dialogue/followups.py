"""What people say about what is already under way, pure: a question about their own order ("啥时候来啊",
"我那个理发的咋又没人了"), whether a service costs money ("理发要钱不"), thanks and praise said at length
("谢谢你们啊 你们真好 辛苦了", "那个师傅人真好 下回还找他"), and a volunteer's own words about a task
("明天临时有事去不了了", "到了 修好了", "我来接那个陪老人聊天的单").

Each recogniser reads the folded text (dialect rewritten: 啥 -> 什么, 咋 -> 怎么); none of them is a service request,
so the order dialogue never starts on them. Outside tester, 2026-12-02.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.dialogue import volunteering
from bot.dialogue.core import Action, Context, OpenOrder, Result, State, idle, is_volunteer, kept, result
from bot.dialogue.nlu import GIVE_BACK, GIVE_BACK_AFTER
from intents.normalise import default_normaliser
from intents.timeparse import SHANGHAI

_FOLD = default_normaliser()


def _compact(text: str) -> str:
    folded = _FOLD.rewrite_dialect(_FOLD.fold(text))
    return re.sub(r"[\s,.!?;:，。！？；：、~～…'\"“”‘’()（）]+", "", folded)


def said_anywhere(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    """A recogniser: whether `pattern` is found in the text as folded and without spaces or punctuation."""
    return lambda text: pattern.search(_compact(text)) is not None


# -- my order's status ------------------------------------------------------------------------------------------
_COME = r"(?:来|到|上门|过来|送(?:来|到|过来)?)"  # (送: a meal or shopping brought: "啥时候送")
STATUS = re.compile(
    r"(?:什么时候|啥时候|几点|多久|多长时间|哪天)(?:才|能|会|可以)?" + _COME + r"(?:啊|呀|呢|吗|嘛|哦)*$"
    r"|(?:还|到底|究竟)(?:来不来|来没来|来吗|会来吗|会不会来|能不能来|有没有人来)"
    r"|(?:怎么|为什么|为啥)(?:又|还)(?:没|没有)(?:人|人接|人来|来)"
    r"|(?:怎么|为什么|为啥)(?:还)?(?:没|没有|不)(?:人)?(?:来|到|接|联系我)(?:啊|呀|呢)*$"
    r"|(?:人|师傅|志愿者)(?:呢|到哪了|到哪儿了|怎么还没来|还没来|还没到|什么时候到)"
    r"|(?:我|我那个|我的|那个)(?:的)?.{0,8}(?:单子?|订单|预约).{0,4}(?:怎么样|怎么了|有人|没人|咋样)")
# Not a status question: a time being given ("明天什么时候来都行") or a new request.
_NOT_STATUS = re.compile(r"都行|都可以|都方便|随便|帮我|我要|我想|请你|麻烦")


def asks_status(text: str) -> bool:
    """"啥时候来啊" / "那到底还来不来啊" / "我那个理发的咋又没人了": where is my order?
    ("我儿子帮我下了个单 啥时候来啊": the 帮我 is what the family member did, no new request.)"""
    raw = _compact(text)
    status = bool(raw) and len(raw) <= 24 and bool(STATUS.search(raw))
    return status and (not _NOT_STATUS.search(raw) or by_family(text))


# "谁来给俺理发" / "师傅电话多少" / "师傅叫什么" with an order under way: who is coming (outside tester round 4).
WHO_COMES = re.compile(r"^(?:那|请问|那么)?(?:是|到底是|会是)?谁(?:来|上门|过来|接的?单|接了)")
ABOUT_VOLUNTEER = re.compile(
    r"^(?:那个|接单的?|来的)?(?:师傅|志愿者|那人|那个人)(?:的)?(?:电话|手机|手机号|号码|联系方式|叫什么|姓什么|是谁|"
    r"是哪位|怎么联系)(?:名字)?(?:是)?(?:多少|几号|是多少)?(?:啊|呀|呢|嘛|哦)*$"
    r"|^(?:有人|有没有人|有志愿者)接(?:单|了)(?:了)?(?:吗|没|没有)?$")


def who_comes_words(text: str) -> bool:
    """Words asking who the volunteer is or how to reach them (the edge then reads the open orders)."""
    raw = _compact(text)
    return bool(raw) and len(raw) <= 16 and bool(WHO_COMES.search(raw) or ABOUT_VOLUNTEER.search(raw))


def asks_who_comes(text: str, open_orders: tuple[OpenOrder, ...] | None) -> bool:
    """"师傅电话多少" is always about one's order; "谁来给俺理发" only with an order under way (else a request)."""
    if not who_comes_words(text):
        return False
    return bool(ABOUT_VOLUNTEER.search(_compact(text))) or bool(open_orders)


# "志愿者咋还没来 催一下" / "催催" / "师傅怎么还没来": the volunteer holding the order nudged (the edge,
# bot.serviceloop.nudges: once per half hour); "给我王师傅的电话": who comes, the phone masked, and that relay offered.
HURRY = re.compile(r"催(?:一下|一催|催|下|他|她|一声)|帮我催|^催$|"
                   # not 快点来人修下水管: a new request in a hurry
                   r"快点儿?来(?!人?(?:帮我|给我|帮)?(?:修|通|换|装|弄|整|看|剪|理|打扫|送|买))|"
                   r"(?:人|师傅|志愿者|他|她)?(?:怎么|咋|为什么|为啥)(?:还)?(?:没|没有|不)(?:来|到)")
VOLUNTEER_PHONE = re.compile(r"(?:师傅|志愿者|接单的人?|来的人)(?:的)?(?:电话|手机|手机号|号码|联系方式)"
                             r"|(?:怎么|咋|如何)(?:联系|找)(?:到)?(?:师傅|志愿者|他|她)")


def asks_hurry(text: str) -> bool:
    """"志愿者咋还没来 催一下" / "催催" / "怎么还没来啊": the resident wants the volunteer to hurry."""
    raw = _compact(text)
    return bool(raw) and len(raw) <= 24 and bool(HURRY.search(raw)) \
        and not _NOT_STATUS.search(raw.replace("帮我催", ""))


def asks_volunteer_phone(text: str) -> bool:
    """"给我王师傅的电话" / "志愿者电话多少" / "怎么联系师傅": how to reach the volunteer."""
    raw = _compact(text)
    return bool(raw) and len(raw) <= 20 and bool(VOLUNTEER_PHONE.search(raw))


# -- points, asked about ("积分怎么换东西", "你们那个积分是干啥用的", "积分咋来的") -----------------------------------
_POINTS = re.compile(r"积分|积份|鸡分")
_POINTS_QUESTION = re.compile(r"怎么|咋|如何|干啥|干嘛|干什么|做什么|啥用|什么用|有用|用处|是啥|是什么|什么意思|啥意思|"
                              r"能换|换什么|换啥|换点|哪里换|哪换|去哪|在哪|怎样|能干|能做|有什么|有啥|怎么来|哪来|"
                              r"怎么得|怎么攒|怎么赚|怎么挣|谁有|我能|我也|居民")


def asks_points(text: str) -> bool:
    """A question about what points are, how they are earned or where they are spent (not "我的积分", a command)."""
    raw = _compact(text)
    return bool(raw) and len(raw) <= 40 and bool(_POINTS.search(raw)) and bool(_POINTS_QUESTION.search(raw))


# -- cost ----------------------------------------------------------------------------------------------------
COST = re.compile(r"(?:要钱|收钱|收费|花钱|付钱|给钱|多少钱|几块钱|免费|贵不贵|贵吗|怎么收|要不要钱|要费用|有费用|"
                  r"费用)")
FREE = "志愿者的服务都是免费的（公益服务），不收钱也不收礼，您放心。"
COST_REPLY = FREE + "需要的话，直接告诉我什么时间、在哪里，我马上帮您安排{what}。"
_REQUEST = re.compile(r"我想|我要|帮我|麻烦|找个|来个|派个|请个|能不能|明天|后天|上午|下午|晚上")


def also_asks_for_it(text: str) -> bool:
    """"我想理发 要钱吗": the question about money comes with the request itself."""
    return bool(_REQUEST.search(_compact(text)))


def asks_cost(text: str) -> bool:
    """"理发要钱不" / "修水管收费吗" / "陪诊多少钱": a question about money, not an order."""
    raw = _compact(text)
    return bool(raw) and len(raw) <= 20 and bool(COST.search(raw))


def cost_reply(text: str, slots: Mapping[str, Any], ctx: Context) -> Result:
    m = ctx.nlu.match(text)
    what = f"【{ctx.nlu.service_name(m.service)}】" if m.decision == "accept" and m.service else ""
    return idle(COST_REPLY.format(what=what), slots)


# -- thanks and praise said at length ----------------------------------------------------------------------
THANKS = re.compile(r"谢谢|谢了|多谢|感谢|辛苦(?:了|你|您)|麻烦(?:你|您)们?了")
PRAISE = re.compile(r"(?:你们|师傅|志愿者|小伙子|姑娘|阿姨|大姐|老师|人)(?:人)?(?:真|太|挺|很|特别|非常)"
                    r"(?:好|棒|热心|耐心|"
                    r"细心|不错|负责)|下(?:回|次)还(?:找|要|请)(?:他|她|你们)")
ACK_AGAIN = re.compile(r"^(?:好的|好|好嘞|嗯|行|知道了|晓得了|收到)+(?:啊|呀|哈|啦)*$")
_ORDERISH = re.compile(r"帮我|我要|我想|麻烦你?(?:们)?(?:来|派|找)|能不能|可以.{0,4}吗|明天|后天|上午|下午")


def warm_answer(text: str) -> str | None:
    """A warm short answer to thanks, praise or "好的好的" said at any length; None for anything else."""
    raw = _compact(text)
    if not raw or len(raw) > 30 or _ORDERISH.search(raw):
        return None
    if THANKS.search(raw):
        return "不客气！能帮上您我们很高兴。还需要帮忙的话，直接说，或回复“菜单”。"
    if PRAISE.search(raw):
        return ("谢谢您的夸奖，我们会转达给志愿者！下回需要帮忙，直接说要做什么就行，"
                "想找同一位志愿者也可以跟我说。")
    if ACK_AGAIN.match(raw):
        return "好的。还需要帮忙的话，直接说要做什么，或回复“菜单”。"
    return None


WHAT_YOU_DO = re.compile(r"^(?:那|那么|请问)?(?:你们|你|这里|这儿)(?:都|到底|一般)?(?:能|会|可以)?"
                         r"(?:干|做|帮|办)(?:些|点)?(?:什么|啥)(?:事|事情|忙)?(?:呀|啊|呢|吗)*$")


def asks_what_you_do(text: str) -> bool:
    """"那你们都能干些啥": what the bot is and what it can do (the "who" answer)."""
    return bool(WHAT_YOU_DO.match(_compact(text)))


# "我不会用这个 怎么弄啊" / "这个咋用": how to use the bot itself (help), not a request for 手机教学.
_THIS = r"(?:这个|这|你们这个|你们|你|这玩意儿?|公众号|这个公众号|小程序|这个东西)"
HOW_TO_USE = re.compile(rf"^(?:我|俺)?(?:不会用|不会弄|不懂|搞不懂|弄不懂|不知道怎么用|不知道咋用){_THIS}?(?:呀|啊|哎)?"
                        r"(?:怎么弄|咋弄|怎么用|咋用|怎么办|咋办|怎么搞|咋整|怎么操作)?(?:啊|呀|呢|吗|哦)*$|"
                        rf"^{_THIS}?(?:怎么用|咋用|怎么弄|咋弄|咋整|怎么操作|怎么使)(?:啊|呀|呢|哦)*$")
HOW_TO_TEXT = ("不难，跟我说话就行：需要帮忙时，直接打字或发语音说要做什么，比如“明天上午来修水管”“我想理发”，"
               "我会一步步问您时间、地址和电话。也可以回复下面的数字：")


def asks_how_to_use(text: str) -> bool:
    """"我不会用这个 怎么弄啊": a question about using the bot (a short how-to and the menu), never an order."""
    return bool(HOW_TO_USE.match(_compact(text)))


# "啥时候有一条街活动" / "一条街活动什么时候搞" / "最近啥时候有活动啊": when the events are, a question for the events
# listing (grep "events" in intents/commands.py), never an order for 文体活动.
_WHEN_ASKED = r"(?:什么时候|啥时候|啥时|几时|哪天|几号|哪一天|多会儿?|在哪|在哪儿|在哪里)"
_EVENTS_ASKED = re.compile(rf"{_WHEN_ASKED}.{{0,6}}(?:一条街|活动)|(?:一条街|活动).{{0,6}}{_WHEN_ASKED}|"
                           r"(?:一条街|活动)(?:还)?(?:有没有|有吗|办不办|搞不搞|开不开)")
_EVENT_ORDER = re.compile(r"帮我|给我|我要|我想|想要|组织|办个|搞个|报名|订阅|提醒")


def asks_events(text: str) -> bool:
    """A question about when or where the street's events are ("啥时候有一条街活动"), not a request for one."""
    compact = _compact(text)
    return bool(_EVENTS_ASKED.search(compact)) and not _EVENT_ORDER.search(compact)


# -- changing a rating already given -----------------------------------------------------------------------
# "我想改成五颗心" / "刚才评错了" / "分打错了" / "能改评价吗" / "我要重新评一下": a rating word and a changing word.
_RATING_WORD = re.compile(r"评价|评分|打分|评错|评的|重新评|再评|分数|星级|好评|差评|中评|颗心|打错分|分打错|分给错|"
                          r"[0-5零一二两三四五](?:颗)?(?:心|星(?!期)|分(?!钟))")
_CHANGING = re.compile(r"(?<![不没])错|不对|改(?!天|日)|换成|重新|再评|再打|撤回|收回|后悔")
RERATE_REPLY = "评价提交后就不能在这里改了。要更正请回复“人工”，社区工作人员帮您改。"
RERATE_BEFORE = "之前评过的订单要更正，请回复“人工”，社区工作人员帮您改。"


def asks_rerate(text: str) -> bool:
    """A rating said to be wrong, or to be given again: "我想改成五颗心", "刚才评错了", "分打错了 应该是5分"."""
    raw = _compact(text)
    return bool(raw) and len(raw) <= 30 and bool(_RATING_WORD.search(raw)) and bool(_CHANGING.search(raw))


# -- a volunteer's own words about a task --------------------------------------------------------------------
STARS = re.compile(r"几星|几颗星|什么星级|星级(?:是|多少|几)|几级志愿者|是几级")
CANT_GO = re.compile(r"(?:去不了|来不了|做不了|干不了|赶不过去|过不去|不能去|没法去|去不成|不接了|接不了)")
DONE = re.compile(r"^(?:我)?(?:已经)?(?:到了|到啦|弄好了|修好了|做完了|干完了|搞定了|弄完了|完事了|剪完了|理完了|"
                  r"送到了|"
                  r"服务完了|结束了|回来了)+(?:啊|呀|了|哈|啦)*$")
TAKE = re.compile(r"^(?:我)?(?:来|想|要|可以|能)?接(?:一下|下)?(?:那个|这个|个)?(?P<what>[^了过的].{1,15}?)"
                  r"(?:的)?(?:那个)?"
                  r"(?:单子?|订单|任务|活儿?)$")


def _plain(text: str) -> str | None:
    """The compact text when it may be a volunteer's plain words (short, no number), else None."""
    raw = _compact(text)
    # with a number it is 退单 12 / 完成 12 2 / 接单 12, which the commands read
    return raw if raw and len(raw) <= 30 and not re.search(r"\d", raw) else None


def wants_own_tasks(text: str) -> bool:
    """Words about one's own task ("明天临时有事去不了了", "到了 修好了"): the edge reads the volunteer's tasks."""
    raw = _plain(text)
    return (raw is not None and bool(CANT_GO.search(raw) or DONE.match(raw))) or volunteering.wants_own_tasks(text) \
        or bool(GIVE_BACK.match(text.strip()) or GIVE_BACK_AFTER.match(text.strip()))  # "退单 N": whose is it?


def _task_line(o: OpenOrder, ctx: Context) -> str:
    return f"订单{o.id}（{ctx.nlu.service_name(o.service)}{'，' + o.when if o.when else ''}）"


def _cant_go(slots: Mapping[str, Any], ctx: Context, text: str) -> Result:
    tasks = ctx.my_tasks
    if tasks is None or len(tasks) > 1:  # not read, or several: which one
        listed = "" if tasks is None else "\n" + "\n".join(_task_line(o, ctx) for o in tasks)
        return idle("知道了，您去不了的话，请回复“退单 编号”把订单退回去（比如“退单 12”），"
                    "我们会马上重新安排其他志愿者。" + (listed or "您接下的订单："), slots,
                    actions=() if tasks is not None else (Action("my_tasks"),))
    if not tasks:
        return idle("您现在没有接下的订单，不用退单。", slots)
    o = tasks[0]
    return result(State.VOL_GIVEBACK, {**kept(slots), "order": o.id, "giveback_said": text.strip()[:200], "misses": 0},
                  f"要退掉{_task_line(o, ctx)}吗？退单后会重新派给其他志愿者。\n"
                  f"回复 1 确认退单（原因记为“{text.strip()[:40]}”），也可以直接说别的原因；0 不退。")


def _done(slots: Mapping[str, Any], ctx: Context) -> Result:
    tasks = ctx.my_tasks
    if tasks is None or len(tasks) > 1:
        listed = "" if tasks is None else "\n" + "\n".join(_task_line(o, ctx) for o in tasks)
        return idle("辛苦了！服务做完了请回复“完成 编号 小时数”，比如“完成 12 2”（12号订单，服务了2小时）。"
                    + (listed or "您接下的订单："), slots, actions=() if tasks is not None else (Action("my_tasks"),))
    if not tasks:
        return idle("辛苦了！不过您现在没有接下的订单。回复“我的任务”看看。", slots)
    o = tasks[0]
    return result(State.VOL_HOURS, {**kept(slots), "order": o.id, "misses": 0},
                  f"辛苦了！{_task_line(o, ctx)}服务了几个小时？回复数字，比如“2”或“1.5”。")


def volunteer_words(text: str, slots: Mapping[str, Any], ctx: Context) -> Result | None:
    """A volunteer's plain words: they cannot go, they are done, they want a task of one kind; else None."""
    if not is_volunteer(ctx):
        return None
    raw = _plain(text)
    if raw is None:
        return None
    if STARS.search(raw):
        return idle(None, slots, actions=(Action("points"),))  # the points reply has the star level
    if CANT_GO.search(raw):
        return _cant_go(slots, ctx, text)
    if DONE.match(raw):
        return _done(slots, ctx)
    m = TAKE.match(raw)
    if m:
        found = ctx.nlu.match(m.group("what"))
        service = found.service if found.decision == "accept" and found.service else None
        data = {"service": service} if service else {}
        name = f"{ctx.nlu.service_name(service)}的" if service else ""
        return idle(f"好的！下面是现在等人接的{name}任务，回复“接单 编号”就接下了：", slots,
                    actions=(Action("open_tasks", data),))
    return None


# -- keeping the work when a menu word is said mid-dialogue ---------------------------------------------------
# Commands that only show something: said in the middle of an order or a registration, they are answered and the
# half-made work stays, with a note saying so (the tester's order and registration vanished without a word).
SHOW_ONLY = frozenset({"my_orders", "my_tasks", "points", "events", "passbook", "open_tasks"})


def what_is_kept(state: str, slots: Mapping[str, Any], ctx: Context) -> str | None:
    """"您的理发订单" / "您的志愿者报名": the work under way in this state worth keeping, or None."""
    if state.startswith(("ORDER_", "PROXY_")):
        service = (slots.get("draft") or {}).get("service")
        return f"您正在下的{ctx.nlu.service_name(str(service))}订单" if service else None
    if state.startswith("REG_"):
        return "您的志愿者报名"
    return None


def keep_work(state: str, slots: Mapping[str, Any], ctx: Context, answered: Result) -> Result | None:
    """`answered` (a show-only command's result) with the dialogue kept, or None when there is nothing to keep."""
    names = {a.name for a in answered.actions}
    if not names or not names <= SHOW_ONLY:
        return None
    kept_what = what_is_kept(state, slots, ctx)
    if kept_what is None:
        return None
    return result(state, slots, answered.reply,
                  actions=(*answered.actions, Action("note", {"text": kept_note(kept_what)})))


def kept_note(kept_what: str) -> str:
    """What a question answered in the middle of a dialogue adds: the work is kept."""
    return f"（{kept_what}还没提交，已经给您留着：接着回答上面的问题就行，回复“取消”可以不要了。）"



# -- outside tester, round 4 (2026-12-03) ---------------------------------------------------------------------
# An order for a family member named by surname: "帮我妈约个理发 她姓刘" / "我妈姓刘" -> 刘阿姨 (the caller's
# phone kept).
_RELATIONS: tuple[tuple[str, str], ...] = (
    ("奶奶", "奶奶"), ("外婆", "奶奶"), ("姥姥", "奶奶"), ("老太太", "奶奶"), ("爷爷", "爷爷"), ("外公", "爷爷"),
    ("姥爷", "爷爷"), ("老爷子", "爷爷"), ("岳母", "阿姨"), ("丈母娘", "阿姨"), ("婆婆", "阿姨"), ("母亲", "阿姨"),
    ("妈", "阿姨"), ("娘", "阿姨"), ("岳父", "叔叔"), ("老丈人", "叔叔"), ("公公", "叔叔"), ("父亲", "叔叔"),
    ("爸", "叔叔"), ("爹", "叔叔"), ("她", "阿姨"), ("他", "叔叔"),
)
_SURNAME = re.compile(r"(?:姓|是姓)(?P<sur>[\u4e00-\u9fff])(?:的|呀|啊|哈|吧)?(?:[\s,，。]|$)")
_NOT_SURNAME = frozenset("什啥名这那我你他她是")


def relation_title(text: str) -> str | None:
    """"阿姨" / "奶奶" / "叔叔" / "爷爷" for the first family word of the text (妈 -> 阿姨, 外婆 -> 奶奶), or None."""
    found = [(text.find(word), title) for word, title in _RELATIONS if word in text]
    return min(found)[1] if found else None


# "她叫张桂兰" / "我妈叫刘桂芬" / "老人名字叫王秀英": the relative's full name, said after a family word or 她/他.
_WHO_FIRST = "|".join(word for word, _title in _RELATIONS) + "|老人家|老人"
_FULL_NAME = re.compile(rf"(?:{_WHO_FIRST})(?:的)?(?:名字)?(?:叫|叫做|名叫|是)(?P<name>[\u4e00-\u9fff]{{2,3}}?)"
                        r"(?=[\s,，。、]|$|[0-9]|她|他|电话|手机|住|今天|明天|后天|[上下]午|的|呀|啊|哈|吧)")
_NOT_NAME = re.compile(r"^(?:什么|啥|谁|我|你|这|那|不|没|要|想|去|来|在|有|个|老人|住|妈|爸)")


def relative_full_name(text: str) -> str | None:
    """"张桂兰" for "给我妈约个… 她叫张桂兰"; None when no name is said for a relative."""
    m = _FULL_NAME.search(text)
    if not m or _NOT_NAME.match(m.group("name")):
        return None
    return m.group("name")


def relative_name(text: str, title: str | None = None) -> str | None:
    """"刘阿姨" for "我妈姓刘" / "她姓刘" (the title from the text, else `title`, else 家老人), "张桂兰" for
    "她叫张桂兰"; None without 姓X or 叫X."""
    m = _SURNAME.search(text)
    if not m or m.group("sur") in _NOT_SURNAME:
        return relative_full_name(text)
    said = relation_title(text[:m.start()]) or relation_title(text)
    if said in ("阿姨", "叔叔") and title in ("奶奶", "爷爷"):
        said = title  # "她姓刘" after "帮我奶奶下单": 刘奶奶, not 刘阿姨
    chosen = said or title
    return m.group("sur") + (chosen or "家老人")


_WHO = "|".join(word for word, _title in _RELATIONS)
_SURNAME_CLAUSE = re.compile(rf"[\s,，]*(?:(?:我|俺)?(?:家)?(?:的)?(?:{_WHO}))?(?:的)?(?:姓|是姓)[\u4e00-\u9fff]"
                             r"(?:的|呀|啊|哈|吧)?(?=[\s,，。]|$)")


_NAME_CLAUSE = re.compile(rf"[\s,，]*(?:(?:我|俺)?(?:家)?(?:的)?(?:{_WHO_FIRST}))(?:的)?(?:名字)?(?:叫|叫做|名叫)"
                          r"[\u4e00-\u9fff]{2,3}?(?=[\s,，。、]|$)")
# "她电话135…" / "我妈手机135…" (the relative's) and "我电话139…" / "我的手机139…" (the caller's own)
_MOBILE = r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])"
_PHONE_WORD = r"(?:的)?(?:电话|手机|手机号|号码|联系电话)(?:号码)?(?:是|:|：)?\s*"
_THEIR_PHONE = re.compile(rf"(?:{_WHO_FIRST}){_PHONE_WORD}({_MOBILE})")
_OWN_PHONE = re.compile(rf"(?:我|俺){_PHONE_WORD}({_MOBILE})")


def relative_phones(text: str) -> tuple[str | None, str | None]:
    """The relative's phone and the caller's own, as labelled in the message ("她电话135… 我电话139…")."""
    theirs, own = _THEIR_PHONE.search(text), _OWN_PHONE.search(text)
    return (theirs.group(1) if theirs else None), (own.group(1) if own else None)


def without_surname(text: str) -> str:
    """"帮我妈约个理发 她姓刘" -> "帮我妈约个理发": the request, matched without the name said after it (姓刘,
    她叫张桂兰)."""
    return _NAME_CLAUSE.sub("", _SURNAME_CLAUSE.sub("", text)).strip() or text


def for_relative(res: Result, text: str, again: Callable[[Mapping[str, Any]], Result] | None = None) -> Result:
    """An order begun from "帮我妈约个理发 她姓刘" / "给我妈约个… 她叫张桂兰 她电话135… 我电话139…": the draft is for
    刘阿姨 / 张桂兰; the relative's phone (if said) is the contact, never also the caller's own (the draft's phone:
    "我电话139…", or asked for once). ``again``: the order's next question for the new slots, asked instead when the
    message had completed the order (the summary again, with its 为谁 line, or the caller's own phone asked for)."""
    draft = dict(res.slots.get("draft") or {})
    name = relative_name(text) if str(res.state).startswith("ORDER_") and relation_title(text) else None
    if name is None or (draft.get("for") or {}).get("name"):
        return res
    theirs, own = relative_phones(text)
    draft["for"] = {**(draft.get("for") or {}), "name": name, **({"phone": theirs} if theirs else {})}
    if own:
        draft["phone"] = own  # (the first phone said may have been the relative's)
    elif theirs and draft.get("phone") == theirs:
        draft.pop("phone")  # "她电话137…": the relative's, the caller's own asked for (or taken from the file)
    reply = (res.reply or "").replace("为您安排", f"为{name}安排", 1)
    at = reply.find(SUMMARY_HEAD)
    slots, state = {**res.slots, "draft": draft}, res.state
    if again is not None and at >= 0:
        asked = again(slots)
        reply, state, slots = reply[:at] + (asked.reply or ""), asked.state, dict(asked.slots)
    return result(state, slots, reply, outbox=res.outbox, effects=res.effects, actions=res.actions)


SUMMARY_HEAD = "请核对您的订单："  # how ordering.summary begins

# "我闺女给我约了陪诊 是哪天来" / "我儿子帮我下了个单": the one served asks after an order a family member placed.
_KIN = r"闺女|女儿|姑娘|儿子|儿媳妇?|媳妇|女婿|孙子|孙女|外孙女?|家里人|家人|孩子|小孩|娃|老伴|侄子|侄女"
BY_FAMILY = re.compile(rf"(?:我|俺)(?:的|家|家的)?(?:{_KIN})(?:给|帮|替|为)(?:我|俺)(?:约|订|预约|下|叫|安排|报)")


def by_family(text: str) -> bool:
    """Whether "我的订单" is asked after an order a family member placed for the sender."""
    return BY_FAMILY.search(text) is not None


# A complaint: nobody came, the service was bad ("根本没来人", "等了一上午也没人来", "一颗心都不给"): said sorry, and
# handed to staff (the complaint path: 投诉 -> 人工), never small talk or a new order.
COMPLAINT = re.compile(
    r"根本(?:就)?(?:没|没有|不)(?:人)?(?:来|到|管|理|接)|(?:没|没有)(?:人|一个人)(?:来|管|理|上门|联系)(?:过)?(?:啊|呀|呢|嘛)*$"
    r"|等了?(?:半天|一上午|一下午|一天|一整天|好久|很久|这么久|老半天|两天|好几天|一早上|一晚上|[一二两三四五六七八九十\d]+(?:个)?"
    r"(?:小时|钟头|天))(?:了)?(?:都|也|还)?(?:没|没有|不见)(?:人|人来|来人|人影|动静|消息)"
    r"|(?:一颗|一个|半颗)(?:心|星)(?:都|也)(?:不给|不想给|不值)|(?:太|真|很)(?:差劲|差|不像话|不靠谱|坑人|气人)"
    r"|放(?:我)?鸽子|说好的?(?:人)?(?:呢|没来)|骗人|不负责任?|态度(?:太|真|很|好)?(?:差|恶劣|不好)|(?:我要|要)?投诉")
_COMPLAINT_NOT = re.compile(r"帮我|我要(?!投诉)|我想|麻烦你?(?:们)?(?:来|派|找)|明天|后天")
COMPLAINT_REPLY = "真对不起，让您受委屈了！这件事要请社区工作人员来处理。"


def complains(text: str) -> bool:
    """"根本没来人" / "一颗心都不给" / "等了一上午也没人来": a complaint about a service (not a new request)."""
    raw = _compact(text)
    return bool(raw) and len(raw) <= 40 and bool(COMPLAINT.search(raw)) and not _COMPLAINT_NOT.search(raw)


# "求助" / "我要求助" alone: the help menu (with a real need after it, it is that need: an order or an emergency).
_HELP_ALONE = re.compile(r"^(?:我)?(?:要|想)?(?:求助|求帮助|求帮忙|寻求帮助)(?:一下|啊|呀|吧)*$")


def asks_for_help(text: str) -> bool:
    return bool(_HELP_ALONE.match(_compact(text)))


HELP_TEXT = "您好，我在！您遇到什么事了？直接说要帮什么就行，比如“明天上午来修水管”“我想理发”。也可以回复数字："

# "有人吗" / "有没有人啊" / "人呢": is anybody there? The bot is, and says what it does and how to reach a person.
_ANYONE = re.compile(r"^(?:喂|你好|您好|请问)*(?:有人吗|有人在吗|有人在不|有人没|有人不|有没有人|有人没有|"
                     r"人呢|还有人吗|有人在没|有人回答吗|有人理我吗|没人理我吗|有活人吗)(?:啊|呀|哈|啦|在)*$")


def asks_anyone(text: str) -> bool:
    return bool(_ANYONE.match(_compact(text)))


def anyone_reply(hub: str) -> str:
    return (f"在的！我是{hub}的小助手，一直都在。您需要帮忙直接跟我说，比如“明天上午来修水管”；"
            "想找社区工作人员请回复“人工”。\n"
            "其他的请回复数字：")


# Emoji said alone: 👍 🙏 😊 a short warm answer; 😭 😢 / "哭了" a kind question. Never an order.
_EMOJI = re.compile(r"^[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\u2764]+$")
_SAD = re.compile(r"[😭😢😿🥺😞😔😟😩😫💔😥😰😓☹🙁]|"
                  r"^(?:我)?(?:哭了|想哭|好想哭|要哭了|难受|心里难受|好难受)(?:啊|呀|了)*$")
SAD_REPLY = "怎么了？需要帮忙可以直接说，我帮您找社区志愿者；想找工作人员聊聊请回复“人工”。"
EMOJI_REPLY = "😊 收到！需要帮忙的话，直接跟我说要做什么，或回复“菜单”。"


def emoji_talk(text: str) -> str | None:
    """The answer to a message of emoji only (or "哭了"): kind for a sad one, short and warm otherwise; else None."""
    raw = re.sub(r"\s+", "", text)
    if not raw:
        return None
    if _SAD.search(raw) and (_EMOJI.match(raw) or _SAD.match(_compact(raw))):
        return SAD_REPLY
    if _EMOJI.match(raw):
        return EMOJI_REPLY
    return None


# -- office hours ("人工" at night) ----------------------------------------------------------------------------
_SPAN = re.compile(r"(\d{1,2})(?:[:：点](\d{2}))?点?\s*[-~～至到—–]\s*(\d{1,2})(?:[:：点](\d{2}))?")
_WEEKDAYS_ONLY = re.compile(r"周一(?:至|到|-|~|～|—)周五|工作日|星期一(?:至|到|-|~|～|—)星期五")
DAY_OPENS, DAY_CLOSES = 8 * 60, 18 * 60  # when the hours say no times: the office's usual day


def after_hours(office_hours: str, now: datetime) -> bool:
    """Is `now` outside the hub's office hours ("周一至周五 8:30-17:30")? False when the hub set none."""
    if not office_hours.strip():
        return False
    local = now.astimezone(SHANGHAI)
    minute = local.hour * 60 + local.minute
    if _WEEKDAYS_ONLY.search(office_hours) and local.weekday() >= 5:
        return True
    spans = [(int(a) * 60 + int(b or 0), int(c) * 60 + int(d or 0)) for a, b, c, d in _SPAN.findall(office_hours)]
    spans = [(start, end) for start, end in spans if start < end <= 24 * 60]
    if not spans:
        spans = [(DAY_OPENS, DAY_CLOSES)]
    return not any(start <= minute < end for start, end in spans)


# -- a rating waiting for the resident (outside tester round 4) ---------------------------------------------------
# "评价 5" is 5 hearts for the order waiting for a rating: order numbers are 6-digit refs, so a 0-5 said without
# 号 / 订单 is hearts. Only with no order waiting may it still be read as an order number.
_ORDER_MARK = re.compile(r"号|订单|单子|第")


def hearts_not_order(text: str, named: int | None) -> bool:
    """"评价 5" / "打分 4": the number named is 0-5 and not marked as an order's number."""
    return named is not None and 0 <= named <= 5 and not _ORDER_MARK.search(text)


def bare_rating(text: str, nlu: Any) -> int | None:
    """A message that is only a rating ("★★★★", "5颗心", "挺好的 五颗心"), not a bare digit (a menu choice)."""
    plain = re.sub(r"[\s,，。.!！?？~～、]+", "", text)
    if not plain or plain.isdigit() or len(plain) > 12:
        return None
    hearts: int | None = nlu.rating(text)
    return hearts


def may_rate_waiting(text: str, named: int | None, nlu: Any) -> bool:
    """The edge reads the sender's orders waiting for a rating only for messages that may rate one."""
    return hearts_not_order(text, named) or (named is None and bare_rating(text, nlu) is not None)


def rate_waiting(slots: Mapping[str, Any], waiting: tuple[int, ...], hearts: int) -> Result:
    """Hearts said for "the" order waiting: rated when there is one; with several, which one."""
    if len(waiting) == 1:
        rest = {**kept(slots), "rate_order": waiting[0], "misses": 0, "rated": hearts}
        rate = Action("rate", {"order": waiting[0], "hearts": hearts})
        return result(State.RATE_COMMENT, rest, None, actions=(rate,))
    listed = "、".join(f"订单{ref}" for ref in waiting)
    return idle(f"您有{len(waiting)}个订单在等评价：{listed}。请回复“评价 订单号 {hearts}”，"
                f"比如“评价 {waiting[0]} {hearts}”。", slots)


_NOT_NOW = re.compile(r"^(?:我|俺)?(?:先|暂时|现在)?(?:不评|不想评|不打分|不想打分|没空评|懒得评|以后再评|下次再评|"
                      r"回头再评|等会再评|等会儿再评)(?:了|吧|啦|啊)*$")
RATE_LATER = ("好的，订单{order}先不评价。想评的时候回复“评价 {order} 几颗心”就行，比如“评价 {order} 5”。"
              "志愿者的服务时长和积分等您评价后计入。")


def rate_later(state: str, slots: Mapping[str, Any], nlu: Any, text: str) -> Result | None:
    """"不用了" / "取消" at the rating question: no rating is dropped silently; the way to rate later is said."""
    order = slots.get("rate_order")
    if state != State.RATE or order is None or re.search(r"\d", text) or nlu.rating(text) is not None:
        return None
    if not nlu.is_no(text) and not _NOT_NOW.search(_compact(text)):
        return None
    rest = {k: v for k, v in kept(slots).items() if k not in ("rate_order", "misses", "rated")}
    return idle(RATE_LATER.format(order=order), rest)


# -- a person, and the office's phone (outside tester round 4) ---------------------------------------------------
_PERSON = re.compile(r"^(?:喂|你好|您好|请问)*(?:有没有|有|要|找|给我找|来)(?:个|一个)?(?:活人|真人)(?:在)?"
                     r"(?:吗|啊|呀|没有|没|不|呢|在吗|在不|说话)*$")
_OFFICE_PHONE = re.compile(r"^(?:我要|我想|我)?(?:打|拨)(?:个)?电话(?:给|到)(?:社区|居委会|你们)"
                           r"|^(?:社区|居委会|你们|办公室|社区办公室)(?:的)?(?:电话|号码|联系电话|办公电话)(?:是)?"
                           r"(?:多少|几号|是多少|呢|有吗|给我)?(?:啊|呀|呢|吗)*$"
                           r"|^(?:怎么|咋|如何)(?:给|跟)?(?:社区|居委会)(?:打电话|联系)")


def asks_for_person(text: str) -> bool:
    """"有没有活人啊" / "找个真人": a person wanted (not "is the bot there?")."""
    return bool(_PERSON.match(_compact(text)))


def asks_office_phone(text: str) -> bool:
    """"打电话给社区" / "社区电话多少": the hub's office phone."""
    return bool(_OFFICE_PHONE.search(_compact(text)))


# "你们周末上班吗" / "另外 社区几点上班" / "过年有人吗": when the office works, a question (never a time answer)
_OFFICE_HOURS = re.compile(
    r"^(?:另外|还有|对了|请问|那个|(?:俺|我)?(?:顺便|想)?问(?:一)?下|(?:俺|我)想问问)*"
    r"(?:你们|社区|居委会|办公室|工作人员|雷锋超市|超市)?(?:的人|那边)?"
    r"(?:周末|周六|周日|星期六|星期天|星期日|礼拜六|礼拜天|礼拜日|节假日|放假|过年|晚上|中午|每天|平时)?"
    r"(?P<when>几点|啥时候|什么时候|哪天|哪几天)?(?:也|都|还)?(?:上班|开门|办公|有人上班|有人值班|值班|休息|下班)"
    r"(?P<ask>吗|不|么|嘛|没|没有|呢|啊|呀|不上班|不上)*$")


def asks_office_hours(text: str) -> bool:
    """"你们周末上班吗" / "社区几点上班": when the office works (asked as a question: a particle or 几点/啥时候)."""
    m = _OFFICE_HOURS.match(_compact(text))
    return m is not None and bool(m.group("when") or m.group("ask"))


# "我不要这个师傅了 能换一个吗" / "换个志愿者": another volunteer wanted for an order (out9: not understood)
_OTHER_VOLUNTEER = re.compile(r"(?:不要|不想要|不用|别派|别让)(?:这个|那个|这位|那位)?"
                              r"(?:师傅|志愿者|小伙子|小伙|阿姨|大姐|人)(?:了)?.{0,8}换|"
                              r"(?:换|换个|换一个|换一位|换位)(?:别的|其他|另外的?)?(?:师傅|志愿者|人)")
OTHER_VOLUNTEER_REPLY = "好的，换志愿者要请社区工作人员来安排，我把您的话转给他们。\n"

asks_other_volunteer = said_anywhere(_OTHER_VOLUNTEER)  # "我不要这个师傅了 能换一个吗": another volunteer wanted


# "能借我点钱吗" / "借俺两百块": money is no 便民借用 item (out9: it offered to switch the order to 便民借用)
_MONEY = re.compile(r"借(?:我|俺|给我|给俺)?(?:一)?(?:点|些|几|点儿)?"
                    r"(?:钱|[0-9一二两三四五六七八九十百千万几]+(?:块|元|万))|"
                    r"(?:能|可以|可不可以|能不能)(?:借|贷)(?:点)?钱|借钱|贷款")
MONEY_REPLY = ("借钱这件事志愿者帮不上，对不起。生活上有困难的话，可以回复“人工”，"
               "社区工作人员帮您看看能申请哪些补助或救助。")

asks_for_money = said_anywhere(_MONEY)  # "能借我点钱吗": a loan of money asked for (not an item to borrow)


def office_hours_reply(hours: str, phone: str) -> str:
    when = f"社区工作人员的上班时间：{hours}。" if hours else "社区工作人员的上班时间这里还没有登记。"
    call = f"办公室电话：{phone}。" if phone else ""
    return when + call + "在这里下单、问订单随时都可以，志愿者按您约的时间来；有急事请直接打电话。"


def office_phone_reply(phone: str, hours: str) -> str:
    when = f"，上班时间{hours}" if hours else ""
    return (f"社区办公室电话：{phone}{when}。有急事请直接打电话；"
            "也可以回复“人工”，请工作人员在这里回复您。")


_STILL_WAITING = re.compile(r"(?:喂|你好|您好|请问|在吗|在不在|在不|在么|在没|有人吗|有人在吗|人呢|还有人吗|有没有人|"
                            r"怎么没人(?:理我|回|回我|说话)?|没人理我吗?|还要等多久|要等多久|快点|啊|呀|哈|呢)+")


def asks_after_person(text: str, nlu: Any) -> bool:
    """While handed over: "人工" again, "在吗 有人吗", "有没有活人啊": still waiting for a person."""
    command = nlu.command(text)
    raw = _compact(text)
    return (command is not None and command.name == "human") or asks_for_person(text) or \
        bool(raw and _STILL_WAITING.fullmatch(raw))


# -- after an emergency: "刚才那个已经好了" (outside tester round 4) ------------------------------------------------
_ALL_CLEAR = re.compile(r"^(?:刚才|刚刚|之前|上面)?(?:那个|那件事|的事|那事)?(?:人|我妈|我爸|老人|她|他)?"
                        r"(?:已经|现在|都)?(?:好了|好多了|没事了|没事儿了|没什么事了|处理好了|解决了|弄好了|没大碍了|起来了)(?:了|啦|啊|呀)*$")
_THANKS_ONLY = re.compile(r"^(?:谢谢|谢了|多谢|感谢|谢谢你们?|谢谢您|辛苦了)(?:啊|呀|啦)*$")


def all_clear(text: str) -> tuple[bool, str]:
    """"刚才那个已经好了 谢谢 还能约理发吗": (the emergency said to be over, what else the message asks)."""
    parts = [p for p in re.split(r"[\s,，。.!！?？;；~～、]+", text.strip()) if p]
    clear = [p for p in parts if _ALL_CLEAR.match(_compact(p))]
    if not clear:
        return False, text
    rest = [p for p in parts if p not in clear and not _THANKS_ONLY.match(_compact(p))]
    return True, " ".join(rest)
