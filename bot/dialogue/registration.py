"""The volunteer registration dialogue (pure): name, gender, birth date or age, ID number, guardian
for a minor, skills, available times, phone, team preference, consent; a summary to confirm or correct.

The draft lives in slots["reg"]. The ID number never goes into the slots: when it checks out, the
dialogue asks the edge (action "stash_id") to encrypt and hash it there; only the masked form, the
birth date and the gender digit stay here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot.dialogue.core import (
    Action,
    Context,
    Result,
    State,
    StateHandler,
    ask_phone_again,
    idle,
    result,
    retry,
    said_no,
    said_yes,
)
from bot.dialogue.messages import Incoming
from intents.idcard import IdCard, IdCardError, age_on, parse_id
from intents.masking import mask_phone
from intents.timeparse import SHANGHAI

# The law, not a hub rule: adults from 18; from 8 a minor may volunteer with a guardian's consent,
# only in services suited to their age (the catalogue's minors_ok).
ADULT_AGE = 18
MIN_AGE = 8

ASK_NAME = State.REG_NAME
ASK_GENDER = State.REG_GENDER
ASK_BIRTH = State.REG_BIRTH
ASK_ID = State.REG_ID
ASK_GUARDIAN_NAME = State.REG_GUARDIAN_NAME
ASK_GUARDIAN_PHONE = State.REG_GUARDIAN_PHONE
ASK_GUARDIAN_CONSENT = State.REG_GUARDIAN_CONSENT
ASK_SKILLS = State.REG_SKILLS
ASK_TIMES = State.REG_TIMES
ASK_PHONE = State.REG_PHONE
ASK_TEAM = State.REG_TEAM
ASK_CONSENT = State.REG_CONSENT
CONFIRM = State.REG_CONFIRM
EDIT = State.REG_EDIT

VOLUNTEER_ROLES = frozenset({"applicant", "volunteer", "suspended"})
CONSENT_WORDS = frozenset({"同意", "我同意", "同意的", "好的同意", "监护人同意", "本人同意", "同意了"})
# Consent is said with the word itself ("好的 同意", "我同意的"), never inferred from a bare "好".
_CONSENT = re.compile(r"^(?:好的?|嗯|是的|对|我|本人|监护人|家长|我们)*(?:同意)+(?:的|了|啊|呀|吧)*$")
_NOISE = re.compile(r"[\s,，.。!！~]+")


def consents(text: str) -> bool:
    t = _NOISE.sub("", text.strip())
    return t in CONSENT_WORDS or bool(_CONSENT.match(t))
RULES_TEXT = ("志愿者守则（摘要）：自愿、无偿服务，不收服务对象的钱物；保护服务对象的隐私；服从服务站安排，"
              "接了单按时到，有事提前退单；遵守服务站的各项规定。\n您的身份证号只加密保存，任何地方都只显示前3位和后4位。")
EDIT_FIELDS: dict[int, tuple[str, str]] = {1: ("name", "姓名"), 2: ("gender", "性别"), 3: ("birth", "出生日期或年龄"),
                                           4: ("id", "身份证号"), 5: ("skills", "技能"), 6: ("times", "服务时间"),
                                           7: ("phone", "电话"), 8: ("team", "服务队"), 9: ("guardian", "监护人")}

# Availability ("周一到周五上午", "工作日晚上", "周末全天", "平时晚上", "除了周三都行"): days and parts of the day.
_WEEKDAYS = tuple(range(5))
_ALL_DAYS = tuple(range(7))
DAY_WORDS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("工作日", _WEEKDAYS), ("上班日", _WEEKDAYS), ("平时", _WEEKDAYS), ("平常", _WEEKDAYS), ("平日", _WEEKDAYS),
    ("周内", _WEEKDAYS),
    ("周中", _WEEKDAYS), ("周末", (5, 6)), ("双休日", (5, 6)), ("双休", (5, 6)), ("休息日", (5, 6)),
    ("每天", _ALL_DAYS), ("天天", _ALL_DAYS), ("每日", _ALL_DAYS), ("一周七天", _ALL_DAYS), ("整周", _ALL_DAYS),
)
_DAY_CHARS = "一二三四五六日天1234567"
_DAY_INDEX = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
              "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
PERIODS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("一整天", ("all",)), ("全天", ("all",)), ("整天", ("all",)), ("全日", ("all",)), ("白天", ("am", "pm")),
    ("上午", ("am",)), ("早上", ("am",)), ("早晨", ("am",)), ("上班前", ("am",)), ("一早", ("am",)),
    ("中午", ("pm",)), ("下午", ("pm",)), ("晚上", ("eve",)), ("傍晚", ("eve",)), ("下班以后", ("eve",)),
    ("下班之后", ("eve",)), ("下班后", ("eve",)), ("晚饭以后", ("eve",)),
    ("晚饭后", ("eve",)), ("夜里", ("eve",)), ("晚间", ("eve",)),
)
ANYTIME = frozenset({"随时", "什么时候都行", "都行", "都可以", "随时都可以", "不限", "时间不限", "随时都行",
                     "什么时候都可以",
                     "啥时候都行", "都有空", "随叫随到", "每天都行", "天天都行", "都有时间"})
ANY_WORDS = ("什么时候都行", "什么时候都可以", "啥时候都行", "都有空", "都有时间", "都可以", "都行", "随时", "不限")
_RANGE = re.compile(rf"周([{_DAY_CHARS}])(?:到|至|~|-|—|－)周?([{_DAY_CHARS}])")
_RUN = re.compile(rf"周([{_DAY_CHARS}]+)|(?<![每今明后])([{_DAY_CHARS.replace('天', '')}]{{2,7}})"
                  r"(?=上午|下午|晚上|全天|中午|早上)")
_EXCEPT = re.compile(r"除了?(.+?)(?:以外|之外|外)?(?:其他|其余|别的)?(?:时间|时候)?"
                     r"(?:都行|都可以|都有空|都有时间|都ok|随时)?$")
_EXCEPT_THEN = re.compile(r"^(.*?)除了?([^\s,，、;；]+?)(?:以外|之外|外)?[\s,，;；]+(.+)$")
# What may be left of an availability once its days and parts are read: words that add nothing.
_FILLER = re.compile(r"我|一般|平时都|基本上?|比较|都|也|就|可以|行|方便|有空|有时间|得空|得闲|有工夫|有功夫|"
                     r"不忙|没啥事|没什么事|没事|退休了?|空闲|空|闲着|在家|的|时候|时间|其他天|其余的?天|别的天|其他|其余|别的|"
                     r"吧|啊|呀|呢|了|嘛|哦|每周|每个|每|和|及|以及|还有|或者|或|跟|上|些|能|会|去|来|过来|帮忙|服务|"
                     r"[\s,，、;；。.!！/]")


_DATE = re.compile(r"^(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*[日号]?$")
_DATE8 = re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})$")
_AGE = re.compile(r"^(?:今年)?\s*(\d{1,3})\s*(?:周岁|岁|虚岁)?(?:了)?$")


def today(ctx: Context) -> date:
    return ctx.now.astimezone(SHANGHAI).date()


def reg_of(slots: Mapping[str, Any]) -> dict[str, Any]:
    return dict(slots.get("reg") or {})


def _with(slots: Mapping[str, Any], reg: Mapping[str, Any]) -> dict[str, Any]:
    return {**slots, "reg": dict(reg), "misses": 0}


# -- entry points -------------------------------------------------------------------------------


def start(slots: Mapping[str, Any], ctx: Context, source: str | None = None) -> Result:
    """"注册志愿者" or a volunteer QR code: begin, unless this person is already registered here."""
    if ctx.roles & VOLUNTEER_ROLES:
        return idle(None, slots, actions=(Action("register_volunteer", {}),))
    keep = {k: v for k, v in slots.items() if k == "location"}
    reg: dict[str, Any] = {"source": source or "chat"}
    welcome = "欢迎报名成为志愿者！大约需要2分钟，随时回复“取消”可退出。\n"
    return next_question({**keep, "reg": reg}, ctx, prefix=welcome)


# "注册志原者" / "我想当自愿者" / "报名志愿着": 志愿者 mistyped (same sound, another character); the command words
# (intents.commands) know only the right spelling. Outside tester round 4: the typo fell through to an order.
_MISTYPED = re.compile(r"(?:当|做|成为|注册|报名|加入|申请|登记)(?:一名|一个|个)?(?:社区)?"
                       r"(?:志|自|至)(?:愿|原|缘|远|元|源)(?:者|着|这|者们)(?!服务)"
                       r"|^(?:志|自|至)(?:愿|原|缘|远|元|源)(?:者|着)(?:注册|报名)")


def asked_with_typo(text: str) -> bool:
    """Registration asked for with 志愿者 mistyped (the right spelling is a command word already)."""
    said = re.sub(r"\s+", "", text)
    return len(said) <= 20 and bool(_MISTYPED.search(said)) and "志愿者" not in said


def skill_choices(ctx: Context, minor: bool) -> list[tuple[str, str]]:
    """(code, name) of the services one may choose; a minor sees only those suited to minors."""
    return [(svc.code, svc.name) for svc in ctx.nlu.catalogue if svc.minors_ok or not minor]


def team_choices(reg: Mapping[str, Any], ctx: Context) -> list[str]:
    """The teams to choose from: the hub's own (ctx.teams, those serving a chosen skill first), else the catalogue's
    team of each chosen skill. The name chosen is the name saved."""
    if ctx.teams is not None:
        skills = set(reg.get("skills") or [])
        fitting = [t.name for t in ctx.teams if skills & set(t.services)]
        return fitting or [t.name for t in ctx.teams]
    teams: list[str] = []
    for code in reg.get("skills") or []:
        if code in ctx.nlu.catalogue:
            team = ctx.nlu.service(code).team
            if team not in teams:
                teams.append(team)
    return teams


def is_minor(reg: Mapping[str, Any], ctx: Context) -> bool:
    birth = reg.get("birth")
    return bool(birth) and age_on(date.fromisoformat(str(birth)), today(ctx)) < ADULT_AGE


def next_question(slots: Mapping[str, Any], ctx: Context, prefix: str = "") -> Result:
    """Ask for the first missing field, or show the summary when nothing is missing."""
    reg = reg_of(slots)
    slots = _with(slots, reg)
    if not reg.get("name"):
        return result(ASK_NAME, slots, prefix + "请问您的姓名？（和身份证上一致）")
    if not reg.get("gender"):
        return result(ASK_GENDER, slots, prefix + "您的性别？回复 1 男，2 女")
    if not reg.get("birth_said") and not reg.get("age_said"):
        return result(ASK_BIRTH, slots, prefix + "您的出生日期或年龄？比如“1965年3月8日”或“58岁”")
    if not reg.get("id_masked") or not slots.get("id_enc"):
        # id_enc is "pending" between the answer and the edge encrypting it in the same message
        return result(ASK_ID, slots, prefix + "请输入您的18位身份证号（只加密保存，显示时会隐去中间部分）：")
    if is_minor(reg, ctx):
        guardian = dict(reg.get("guardian") or {})
        if not guardian.get("name"):
            return result(ASK_GUARDIAN_NAME, slots, prefix + "您还未满18岁，需要监护人同意才能报名。请问监护人的姓名？")
        if not guardian.get("phone"):
            return result(ASK_GUARDIAN_PHONE, slots, prefix + f"监护人{guardian['name']}的手机号？")
        if not guardian.get("consent"):
            return result(ASK_GUARDIAN_CONSENT, slots, prefix + "请监护人确认：同意孩子参加适合未成年人的志愿服务"
                          "（如陪伴聊天、文体活动、科普、垃圾分类宣传），并会关注孩子的安全。监护人同意请回复“同意”。")
    if reg.get("skills") and is_minor(reg, ctx):
        allowed = {code for code, _ in skill_choices(ctx, True)}
        if any(code not in allowed for code in reg["skills"]):
            reg.pop("skills")
            slots = _with(slots, reg)
            prefix += "未成年志愿者只能选适合未成年人的服务，请重新选择。\n"
    if not reg.get("skills"):
        return result(ASK_SKILLS, slots, prefix + skills_question(ctx, is_minor(reg, ctx)))
    if "availability" not in reg:
        return result(ASK_TIMES, slots, prefix + "您一般什么时候有空？比如“周一上午、周三下午”“周末全天”“工作日晚上”，"
                      "或者说“随时”。")
    if not reg.get("phone"):
        if ctx.phone_on_file:
            return result(ASK_PHONE, slots, prefix + f"联系电话用 {mask_phone(ctx.phone_on_file)} 吗？"
                          "是的话回复 1，不是请直接输入新号码。")
        return result(ASK_PHONE, slots, prefix + "您的手机号？接单和通知都会用到。")
    if "team" not in reg:
        teams = team_choices(reg, ctx)
        lines = ["想加入哪个服务队？回复编号："] + [f"{i} {t}" for i, t in enumerate(teams, 1)]
        lines.append("0 不限，由社区安排")
        return result(ASK_TEAM, slots, prefix + "\n".join(lines))
    if not reg.get("consent"):
        return result(ASK_CONSENT, slots, prefix + RULES_TEXT + "\n同意以上守则请回复“同意”。")
    return result(CONFIRM, slots, prefix + summary(reg, ctx))


def skills_question(ctx: Context, minor: bool) -> str:
    choices = skill_choices(ctx, minor)
    head = "您能提供哪些服务？可以多选，回复编号，用空格或逗号隔开，比如“2 5”："
    if minor:
        head = "未成年志愿者可以参加下面这些服务，可以多选，回复编号，比如“1 3”："
    return "\n".join([head] + [f"{i} {name}" for i, (_, name) in enumerate(choices, 1)])


def summary(reg: Mapping[str, Any], ctx: Context) -> str:
    names = {code: name for code, name in skill_choices(ctx, False)}
    skills = "、".join(names.get(c, c) for c in reg.get("skills") or [])
    age = age_on(date.fromisoformat(str(reg["birth"])), today(ctx)) if reg.get("birth") else None
    lines = ["请核对您的报名信息：", f"1 姓名：{reg.get('name')}", f"2 性别：{reg.get('gender')}",
             f"3 出生日期：{reg.get('birth')}（{age}岁）", f"4 身份证号：{reg.get('id_masked')}", f"5 技能：{skills}",
             f"6 服务时间：{times_text(reg.get('availability') or [])}", f"7 电话：{reg.get('phone')}",
             f"8 服务队：{reg.get('team') or '不限，由社区安排'}"]
    guardian = reg.get("guardian")
    if guardian:
        lines.append(f"9 监护人：{guardian.get('name')}（{mask_phone(guardian.get('phone'))}，已同意）")
    lines.append("回复 1 确认提交，2 修改，0 取消")
    return "\n".join(lines)


def times_text(slots: Sequence[Mapping[str, Any]]) -> str:
    if not slots:
        return "随时"
    words = {"am": "上午", "pm": "下午", "eve": "晚上", "all": "全天"}
    by_period: dict[str, list[int]] = {}
    for slot in slots:
        by_period.setdefault(str(slot["period"]), []).append(int(slot["weekday"]))
    parts = []
    for period, days in by_period.items():
        parts.append(days_text(days) + words.get(period, period))
    return "；".join(parts)


def days_text(days: Sequence[int]) -> str:
    """每天 / 周一至周五 / 周六、周日 / 周一、周三至周五: every day said, runs of three or more as a range."""
    found = sorted(set(days))
    if len(found) == 7:
        return "每天"
    names = "一二三四五六日"
    runs: list[list[int]] = []
    for d in found:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    said = []
    for run in runs:
        if len(run) >= 3:
            said.append(f"周{names[run[0]]}至周{names[run[-1]]}")
        else:
            said += [f"周{names[d]}" for d in run]
    return "、".join(said)


# -- parsers (pure) -----------------------------------------------------------------------------


def parse_gender(text: str) -> str | None:
    t = text.strip()
    if t in ("1", "男", "男的", "男性", "先生"):
        return "男"
    if t in ("2", "女", "女的", "女性", "女士"):
        return "女"
    return None


# What an age or birth is said with (out9): "不对 我今年六十八", "俺今年68", "年龄应该是58岁", "我是1958年生的".
_BIRTH_LEAD = re.compile(r"^(?:不对|不是|错了|说错了|写错了)?[,，。]*(?:我|俺|咱)?(?:的)?"
                         r"(?:年龄|岁数|年纪|出生日期|生日)?(?:应该|其实)?(?:是)?")
_BORN_YEAR = re.compile(r"^(?:(19\d{2})|([五六七八九]\S)|([5-9]\d))年(?:出生|生(?:的|人)?)?(?:的|人)?$")
_YEAR_DIGITS = dict(zip("〇零一二三四五六七八九", "00123456789", strict=True))


def parse_birth(text: str, ctx: Context) -> tuple[str, Any] | None:
    """("birth", iso date) or ("age", years), or None. A year of birth alone ("1958年生的", "五八年生人") is an age
    (this year less it: the real age or the nominal 虚岁, which the ID check allows)."""
    t = _BIRTH_LEAD.sub("", text.strip().replace(" ", ""), count=1) or text.strip().replace(" ", "")
    year = _BORN_YEAR.match(t)
    if year:
        digits = year.group(1) or year.group(3) or "".join(_YEAR_DIGITS.get(c, "") for c in year.group(2) or "")
        year_born = int(digits) if len(digits) == 4 else 1900 + int(digits) if len(digits) == 2 else 0
        age = today(ctx).year - year_born
        return ("age", age) if 1 <= age <= 120 else None
    m = _DATE.match(t) or _DATE8.match(t)
    if m:
        try:
            born = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
        return ("birth", born.isoformat()) if date(1900, 1, 1) <= born <= today(ctx) else None
    m = _AGE.match(t)
    if m:
        age = int(m.group(1))
    else:
        words = re.sub(r"(?:今年|周岁|虚岁|岁|了)", "", t)
        value = ctx.nlu.choice(words) if words else None
        if value is None:
            return None
        age = int(value)
    return ("age", age) if 1 <= age <= 120 else None


def parse_availability(text: str) -> list[dict[str, Any]] | None:
    """Weekdays and periods in the text; [] means any time; None when it is not all understood (ask again)."""
    read = read_availability(text)
    return read[0] if read is not None and not read[1] else None


def read_availability(text: str) -> tuple[list[dict[str, Any]], str] | None:
    """(the slots read, what was left not understood), or None when nothing at all was recognised.

    Days and parts of the day form groups in the order said: "周六上午和下午" is Saturday morning and afternoon,
    "周一、周三下午" Monday and Wednesday afternoons; a part with no day is every day; "除了周三都行" is every day but
    Wednesday.
    """
    t = _availability_words(text)
    if not t:
        return None
    if t in ANYTIME:
        return [], ""
    excepted: set[tuple[int, str]] = set()
    anytime = False
    # "除了礼拜天 每天上午都有空": the exception is its own clause and the free times follow it
    m = _EXCEPT_THEN.match(t)
    if m:
        inner = _groups(m.group(2))
        if inner is not None and not inner[1]:
            excepted, anytime = inner[0], True
            t = m.group(1) + " " + m.group(3)
    m = None if excepted else _EXCEPT.search(t)
    if m:
        inner = _groups(m.group(1))
        if inner is None or inner[1]:
            return None
        excepted = inner[0]
        anytime = True
        t = t[: m.start()] + " " + t[m.end():]
    for word in ANY_WORDS:
        if word in t:
            anytime = True
            t = t.replace(word, " ")
    found = _groups(t)
    slots: set[tuple[int, str]] = set(found[0]) if found else set()
    left = found[1] if found else _FILLER.sub("", t)
    if anytime and not slots:
        slots = {(d, "all") for d in _ALL_DAYS}
    if excepted:
        slots = _expand(slots) - _expand(excepted)
    if not slots:
        return ([], left) if anytime and not excepted else None
    return _compact(slots), left


_NEXT_DAY = (r"(?!一天|一整天|一早)"
             r"(?=[一二三四五六日天](?:$|[\s、,，]|[一二三四五六日天]|上午|下午|晚上|全天|中午|早上|白天|都))")
_DAY_LIST_GAP = re.compile(rf"(?<=周[一二三四五六日天])[\s、,，和跟及]+{_NEXT_DAY}|"
                           rf"(?<=[一二三四五六日天])[\s、,，]+{_NEXT_DAY}")


def _availability_words(text: str) -> str:
    t = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()
    t = t.replace("礼拜", "周").replace("星期", "周").replace("周日", "周日").replace("周天", "周日")
    # 周一 三 五 / 周一、三、五: one run of days (not 周五 三点, a clock time); 周三一天都行: all of that day
    t = _DAY_LIST_GAP.sub("", t)
    return re.sub(r"(?<=[一二三四五六日末])\s*一天(?=$|[\s,，。都也]|可以|有空)", "全天", t)


def _groups(t: str) -> tuple[set[tuple[int, str]], str] | None:
    """Days and parts read left to right into (day, part) slots, and what was left; None when nothing was read."""
    tokens: list[tuple[int, str, tuple[Any, ...]]] = []  # (position, "day"|"part", values)
    taken = [False] * len(t)

    def take(start: int, end: int, kind: str, values: tuple[Any, ...]) -> None:
        if any(taken[start:end]):
            return
        for i in range(start, end):
            taken[i] = True
        tokens.append((start, kind, values))

    for m in _RANGE.finditer(t):
        a, b = _DAY_INDEX[m.group(1)], _DAY_INDEX[m.group(2)]
        take(m.start(), m.end(), "day", tuple((a + i) % 7 for i in range((b - a) % 7 + 1)))
    for word, named in DAY_WORDS:
        for m in re.finditer(word, t):
            take(m.start(), m.end(), "day", named)
    for word, codes in PERIODS:
        for m in re.finditer(word, t):
            take(m.start(), m.end(), "part", codes)
    for m in _RUN.finditer(t):
        run = m.group(1) or m.group(2)
        take(m.start(), m.end(), "day", tuple(_DAY_INDEX[c] for c in run))
    if not tokens:
        return None
    left = _FILLER.sub("", "".join(ch for ch, used in zip(t, taken, strict=True) if not used))
    tokens.sort()
    groups: list[tuple[set[int], set[str]]] = []
    for _pos, kind, values in tokens:
        if kind == "day" and (not groups or groups[-1][1]):
            groups.append((set(values), set()))
        elif kind == "day":
            groups[-1][0].update(values)
        elif not groups:
            groups.append((set(), set(values)))
        else:
            groups[-1][1].update(values)
    slots: set[tuple[int, str]] = set()
    for i, (days, parts) in enumerate(groups):
        if not days:  # 周六上午和下午: a part on its own belongs to the days before it, else to every day
            days = groups[i - 1][0] if i > 0 and groups[i - 1][0] else set(_ALL_DAYS)
        if not parts:  # 周一、周三下午: days on their own take the parts said next, else the whole day
            later = next((p for d, p in groups[i + 1:] if p), None)
            parts = later if later and i + 1 < len(groups) else {"all"}
        slots |= {(d, p) for d in days for p in parts}
    return slots, left


def _expand(slots: set[tuple[int, str]]) -> set[tuple[int, str]]:
    out: set[tuple[int, str]] = set()
    for d, p in slots:
        out |= {(d, q) for q in ("am", "pm", "eve")} if p == "all" else {(d, p)}
    return out


def _compact(slots: set[tuple[int, str]]) -> list[dict[str, Any]]:
    """Slots as stored: a day free in every part is one "all" slot."""
    parts = _expand(slots)
    full = {d for d in _ALL_DAYS if all((d, q) in parts for q in ("am", "pm", "eve"))}
    rows = [(d, "all") for d in sorted(full)] + sorted((d, p) for d, p in parts if d not in full)
    return [{"weekday": d, "period": p} for d, p in sorted(rows, key=lambda r: (r[0], r[1]))]


def parse_numbers(text: str) -> list[int] | None:
    parts = [p for p in re.split(r"[\s,，、;；和]+", text.strip()) if p]
    if not parts or not all(p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


def parse_skills(text: str, ctx: Context, minor: bool) -> list[str] | None:
    choices = skill_choices(ctx, minor)
    numbers = parse_numbers(text)
    if numbers is not None:
        if any(not 1 <= n <= len(choices) for n in numbers):
            return None
        return list(dict.fromkeys(choices[n - 1][0] for n in numbers))
    by_name = {name: code for code, name in choices}
    names = [p for p in re.split(r"[\s,，、;；和]+", text.strip()) if p]
    if names and all(n in by_name for n in names):
        return list(dict.fromkeys(by_name[n] for n in names))
    return skills_in_words(text, ctx, choices)


# "会修水电 也会修家电" / "理发 陪诊" / "我能陪老人聊天": skills said in words, each part matched to the list.
_SKILL_SPLIT = re.compile(r"[\s,，、;；。.!！]+|(?:和|跟|还有|以及|或者)|(?<=.)(?=(?:也|还)(?:会|能|可以))")
_SKILL_LEAD = re.compile(r"^(?:我|俺)?(?:也|还|都)?(?:会|能|可以|擅长|懂|比较会|会点|会一点|能做|可以做|想做|愿意)*")


def skills_in_words(text: str, ctx: Context, choices: list[tuple[str, str]]) -> list[str] | None:
    """Each part of the text as one skill of the list: a name or a part of one ("理发" for 义务理发), or what the
    service matcher makes of it ("修水电" -> 维修服务); None unless every part is one of the list."""
    codes = [code for code, _ in choices]
    found: list[str] = []
    for part in (p for p in _SKILL_SPLIT.split(text.strip()) if p):
        words = _SKILL_LEAD.sub("", part).strip()
        if not words:
            continue
        named = [code for code, name in choices if len(words) >= 2 and (words in name or name in words)]
        if len(named) == 1:
            found.append(named[0])
            continue
        m = ctx.nlu.match(words)
        if m.decision == "accept" and m.service in codes:
            found.append(m.service)
        elif m.decision == "clarify" and m.candidates and m.candidates[0][0] in codes:
            found.append(m.candidates[0][0])
        else:
            return None
    return list(dict.fromkeys(found)) or None


# -- handlers -----------------------------------------------------------------------------------


def _next(slots: Mapping[str, Any], reg: Mapping[str, Any], ctx: Context, prefix: str = "") -> Result:
    return next_question(_with(slots, reg), ctx, prefix)


_NAME_LEAD = re.compile(r"^(?:你好|您好|嗯|那个)?[\s,，]*(?:我|俺|咱|本人|偶)?(?:的)?(?:名字|姓名|大名|全名)?"
                        r"(?:叫做|名叫|就叫|叫|是|为)?[\s:：,，]*")
_SURNAME_THEN_NAME = re.compile(r"^(?:我|俺|咱|本人)?(?:免贵)?姓(?P<surname>[\u4e00-\u9fff]{1,2})(?:[\s,，、]*"
                                r"(?:名字|名)?(?:叫做|叫|是)?[\s,，]*(?P<given>[\u4e00-\u9fff]{1,4}))?$")
_NAME_TAIL = re.compile(r"[\s,，。.!！~]*(?:啊|呀|吧|哈|嘞|哦|呢|就行|就好)*[\s,，。.!！~]*$")


def spoken_name(text: str) -> str:
    """The name in how people answer "您的姓名？": 俺叫李秀英 -> 李秀英, 我姓张 叫张淑芬 -> 张淑芬, 免贵姓王 叫建国 ->
    王建国, 我是刘芳 -> 刘芳; anything else as typed (trimmed)."""
    said = _NAME_TAIL.sub("", text.strip())
    m = _SURNAME_THEN_NAME.match(said)
    if m:
        surname, given = m.group("surname"), m.group("given") or ""
        if not given:
            return surname  # "我姓王": only the surname (the length check asks for the whole name)
        return given if given.startswith(surname) else surname + given
    name = _NAME_LEAD.sub("", said, count=1).strip()
    return name if len(name) >= 2 else said  # 是非 / 叫兽 are whole names, not 是 + 非


def on_name(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    name = spoken_name(text)
    if not 2 <= len(name) <= 20 or re.search(r"[\d@#]", name):
        return retry(state, slots, ctx, "请输入您的姓名，比如“王小明”。")
    return _next(slots, {**reg_of(slots), "name": name}, ctx)


def _consistency(reg: Mapping[str, Any], ctx: Context) -> str | None:
    """Whether what was said about gender and birth agrees with the ID number already checked."""
    if not reg.get("birth"):
        return None
    if reg.get("id_gender") and reg.get("gender") and reg["id_gender"] != reg["gender"]:
        return f"身份证号显示性别是“{reg['id_gender']}”，和您选的“{reg['gender']}”不一致。"
    born = date.fromisoformat(str(reg["birth"]))
    if reg.get("birth_said") and reg["birth_said"] != reg["birth"]:
        return f"身份证号上的出生日期是{born:%Y年%m月%d日}，和您说的{reg['birth_said']}不一致。"
    if reg.get("age_said") is not None and not reg.get("birth_said"):
        real = age_on(born, today(ctx))
        if int(reg["age_said"]) not in (real, real + 1):  # people often say their nominal (虚岁) age
            return f"按身份证号，您今年{real}周岁，和您说的{reg['age_said']}岁不一致。"
    return None


def on_gender(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    gender = parse_gender(text)
    if gender is None:
        return retry(state, slots, ctx, "请回复 1 男，2 女。")
    reg = {**reg_of(slots), "gender": gender}
    problem = _consistency(reg, ctx)
    if problem:
        return result(state, slots, problem + "请重新选择：1 男，2 女；如果是身份证号输错了，请回复“取消”后重新报名。")
    return _next(slots, reg, ctx)


def on_birth(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    said = parse_birth(text, ctx)
    if said is None:
        return retry(state, slots, ctx, "请说出生日期或年龄，比如“1965年3月8日”或“58岁”。")
    reg = reg_of(slots)
    reg.pop("birth_said", None)
    reg.pop("age_said", None)
    reg["birth_said" if said[0] == "birth" else "age_said"] = said[1]
    problem = _consistency(reg, ctx)
    if problem:
        return result(state, slots, problem + "请重新说出生日期或年龄。")
    return _next(slots, reg, ctx)


ID_EXPLAINED = "id_explained"  # slot: what the ID question wants was said once (an answer with no digit in it)


def on_id(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    reg = reg_of(slots)
    if text.strip() in ("改性别", "改出生日期", "改年龄"):
        field = "gender" if text.strip() == "改性别" else "birth"
        return start_edit(slots, reg, field, ctx)
    if not re.search(r"\d", unicodedata.normalize("NFKC", text)):
        # no digit at all ("修水管 通下水道": the skills, said a step early): no ID attempt, nothing counted as one;
        # what is needed said once, then briefly, with the ways out
        said_before = bool(slots.get(ID_EXPLAINED))
        if not said_before:
            return result(state, {**slots, ID_EXPLAINED: True},
                          "这一步要填的是身份证号：18位，都是数字，最后一位也可能是X，比如 110101199003071234。"
                          "会做什么服务，填完身份证号后再问您。\n"
                          "不想报名了回复“取消”，想找工作人员回复“人工”，回到主菜单回复“菜单”。")
        return result(state, slots, "请输入18位身份证号（数字）。回复“取消”不报了，回复“人工”找工作人员。")
    try:
        card: IdCard = parse_id(text, today(ctx))
    except IdCardError as exc:
        misses = int(slots.get("misses", 0)) + 1
        if misses > 2:
            return result(state, {**slots, "misses": misses},
                          f"{exc}\n如果一直不通过，回复“人工”请社区工作人员帮您，或回复“取消”退出。")
        return result(state, {**slots, "misses": misses}, f"{exc}请重新输入：")
    age = card.age_on(today(ctx))
    if age < MIN_AGE:
        return idle(f"按身份证号您今年{age}岁，{MIN_AGE}岁以上才能报名志愿者。谢谢您的热心！", slots)
    candidate = {**reg, "birth": card.birth_date.isoformat(), "id_gender": card.gender, "id_masked": card.masked}
    problem = _consistency(candidate, ctx)
    if problem:
        return result(state, slots, problem + "请核对后重新输入身份证号；"
                      "如果是前面说错了，回复“改性别”或“改出生日期”。")
    if age >= ADULT_AGE:
        candidate.pop("guardian", None)
    # the number itself goes to the edge to be encrypted; the slots keep only the masked form
    res = _next({**slots, "id_enc": "pending", "id_hash": "pending"}, candidate, ctx)
    return result(res.state, res.slots, res.reply, actions=(Action("stash_id", {"id": card.number}),))


def on_guardian_name(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    name = text.strip()
    if not 2 <= len(name) <= 20 or ctx.nlu.phone(name):
        return retry(state, slots, ctx, "请输入监护人的姓名。")
    reg = reg_of(slots)
    if name == reg.get("name"):
        return result(state, slots, "监护人要是您的父母或其他监护人，请输入监护人的姓名。")
    return _next(slots, {**reg, "guardian": {"name": name}}, ctx)


def on_guardian_phone(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    phone = ctx.nlu.phone(text)
    if phone is None:
        return ask_phone_again(state, slots, ctx, text, "请输入监护人的11位手机号。")
    reg = reg_of(slots)
    return _next(slots, {**reg, "guardian": {**dict(reg.get("guardian") or {}), "phone": phone}}, ctx)


def on_guardian_consent(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    if not consents(text):
        return retry(state, slots, ctx, "需要监护人同意才能报名，同意请回复“同意”，不同意请回复“取消”。")
    reg = reg_of(slots)
    return _next(slots, {**reg, "guardian": {**dict(reg.get("guardian") or {}), "consent": True}}, ctx)


def on_skills(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    reg = reg_of(slots)
    skills = parse_skills(text, ctx, is_minor(reg, ctx))
    if not skills:
        return retry(state, slots, ctx, "请回复列表里的编号，可以多个，比如“2 5”。")
    reg["skills"] = skills
    if reg.get("team") and reg["team"] not in team_choices(reg, ctx):
        reg.pop("team")  # the team choice followed the old skills: ask again
    return _next(slots, reg, ctx)


def on_times(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    pending = slots.get("times_pending")
    rest = {k: v for k, v in slots.items() if k != "times_pending"}
    if pending is not None and said_yes(text, ctx):
        return _next(rest, {**reg_of(slots), "availability": list(pending)}, ctx,
                     prefix=f"记下了：{times_text(pending)}。\n")
    read = read_availability(text)
    if read is None:
        return retry(state, rest, ctx, "请说哪几天、什么时段有空，比如“周六上午”“工作日晚上”，或者“随时”。")
    times, left = read
    if left:  # part of it was not understood: say what was, never keep a shortened answer silently
        return result(state, {**rest, "times_pending": times, "misses": 0},
                      f"我听懂的是：{times_text(times)}，其余的没听懂。\n对的话回复 1；不对请再说一遍，"
                      "比如“周一到周五上午”“周末全天”“除了周三都行”。")
    return _next(rest, {**reg_of(slots), "availability": times}, ctx, prefix=f"记下了：{times_text(times)}。\n")


def on_phone(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    phone = ctx.nlu.phone(text)
    if phone is None and ctx.phone_on_file and said_yes(text, ctx):
        phone = ctx.phone_on_file
    if phone is None:
        return ask_phone_again(state, slots, ctx, text, "请输入11位手机号。")
    return _next(slots, {**reg_of(slots), "phone": phone}, ctx)


def on_team(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    reg = reg_of(slots)
    teams = team_choices(reg, ctx)
    choice = ctx.nlu.choice(text)
    if text.strip() in ("0", "零", "不限", "都行", "随便", "由社区安排"):
        return _next(slots, {**reg, "team": ""}, ctx)
    if choice is not None and 1 <= choice <= len(teams):
        return _next(slots, {**reg, "team": teams[choice - 1]}, ctx)
    named = team_named(text, teams)
    if named is not None:
        return _next(slots, {**reg, "team": named}, ctx)
    return retry(state, slots, ctx, "请回复服务队的编号，不限请回复 0。")


_TEAM_LEAD = re.compile(r"^(?:我想要|我想|我要|我|那就|就)?(?:加入|参加|选择|进|选|报|要)?(?:那个)?")
_TEAM_TAIL = re.compile(r"(?:的那个|那个|就行|就好|好了|吧|啊|呀|的)+$")


def team_named(text: str, teams: list[str]) -> str | None:
    """The team a text names: its whole name ("阳光维修队"), or a part of it only one team has ("维修队",
    "加入维修的那个"); None when it names none or more than one."""
    said = re.sub(r"[\s,，。.!！]+", "", text)
    if said in teams:
        return said
    said = _TEAM_TAIL.sub("", _TEAM_LEAD.sub("", said, count=1))
    if said in teams:
        return said
    core = said.removesuffix("队").removesuffix("服务")
    if len(core) < 2:
        return None
    fits = [t for t in teams if core in t or t in said]
    return fits[0] if len(fits) == 1 else None


def on_consent(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    if not consents(text):
        return retry(state, slots, ctx, "同意守则才能报名。同意请回复“同意”，不想报名了请回复“取消”。")
    return _next(slots, {**reg_of(slots), "consent": True}, ctx)


def on_confirm(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    t = text.strip()
    reg = reg_of(slots)
    if said_yes(t, ctx):
        if slots.get("id_enc") in (None, "pending") or slots.get("id_hash") in (None, "pending"):
            return next_question({**slots, "reg": {**reg, "id_masked": None}}, ctx, "身份证号需要再输入一次。\n")
        data = {"name": reg["name"], "gender": reg["gender"], "birth": reg["birth"], "id_enc": slots["id_enc"],
                "id_hash": slots["id_hash"], "id_masked": reg["id_masked"], "phone": reg["phone"],
                "skills": list(reg["skills"]), "availability": list(reg.get("availability") or []),
                "team": reg.get("team") or None, "guardian": reg.get("guardian") if is_minor(reg, ctx) else None,
                "source": reg.get("source")}
        return idle(None, slots, actions=(Action("register_volunteer", data),))
    if t in ("2", "修改", "改", "改一下", "不对") or said_no(t, ctx):
        fields = [f"{n} {label}" for n, (key, label) in EDIT_FIELDS.items() if key != "guardian" or is_minor(reg, ctx)]
        return result(EDIT, slots, "要改哪一项？回复编号：\n" + "\n".join(fields))
    if t == "0":
        return idle("好的，已取消报名。想报名时再回复“注册志愿者”。", slots)
    return retry(state, slots, ctx, "请回复 1 确认提交，2 修改，0 取消。")


def start_edit(slots: Mapping[str, Any], reg: dict[str, Any], field: str, ctx: Context) -> Result:
    if field == "birth":
        reg.pop("birth_said", None)
        reg.pop("age_said", None)
    elif field == "id":
        for key in ("id_masked", "birth", "id_gender"):
            reg.pop(key, None)
        slots = {k: v for k, v in slots.items() if k not in ("id_enc", "id_hash")}
    elif field == "times":
        reg.pop("availability", None)
    elif field == "guardian":
        reg.pop("guardian", None)
    else:
        reg.pop(field, None)
    return next_question({**slots, "reg": reg}, ctx)


# The fields to change said in words ("年龄不对", "电话要改"): the first whose words the message has (out9)
_EDIT_WORDS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (4, re.compile(r"身份证")), (9, re.compile(r"监护")), (1, re.compile(r"姓名|名字")), (2, re.compile(r"性别")),
    (3, re.compile(r"年龄|岁|出生|生日|年纪")), (7, re.compile(r"电话|手机|号码")), (8, re.compile(r"队")),
    (6, re.compile(r"时间|有空|时候")), (5, re.compile(r"技能|会做|特长|手艺")),
)


def on_edit(state: str, slots: Mapping[str, Any], inc: Incoming, ctx: Context, text: str) -> Result:
    choice = ctx.nlu.choice(text)
    if choice is None:
        choice = next((n for n, words in _EDIT_WORDS if words.search(text)), None)
    reg = reg_of(slots)
    if choice is None or choice not in EDIT_FIELDS or (choice == 9 and not is_minor(reg, ctx)):
        return retry(state, slots, ctx, "请回复要修改的那一项的编号。")
    return start_edit(slots, reg, EDIT_FIELDS[choice][0], ctx)


STATE_HANDLERS: dict[str, StateHandler] = {
    ASK_NAME: on_name,
    ASK_GENDER: on_gender,
    ASK_BIRTH: on_birth,
    ASK_ID: on_id,
    ASK_GUARDIAN_NAME: on_guardian_name,
    ASK_GUARDIAN_PHONE: on_guardian_phone,
    ASK_GUARDIAN_CONSENT: on_guardian_consent,
    ASK_SKILLS: on_skills,
    ASK_TIMES: on_times,
    ASK_PHONE: on_phone,
    ASK_TEAM: on_team,
    ASK_CONSENT: on_consent,
    CONFIRM: on_confirm,
    EDIT: on_edit,
}
