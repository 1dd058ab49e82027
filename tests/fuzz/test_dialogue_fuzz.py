"""Fuzz the pure dialogue step: random conversations (texts, voice, menu clicks, follows, locations, time passing)
from residents, volunteers and staff. Whatever they say, the step returns, its state is a known one, what it keeps
and asks the domain to do can be stored as JSON, and its reply is plain text within WeChat's 2048 bytes, never a
traceback or an internal name.

Brief in the normal suite; longer: LEIFENG_FUZZ_EXAMPLES=5000 python -m pytest -q -p no:cacheprovider tests/fuzz
(tests/fuzz/budget.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace

from hypothesis import example, given
from hypothesis import strategies as st

from bot.dialogue import step
from bot.dialogue.core import State
from bot.dialogue.messages import Incoming
from tests.bot.dialogue.transcript import Transcript, text
from tests.fuzz.budget import fuzz
from tests.fuzz.strategies import ROLES, said

REPLY_MOST_BYTES = 2048  # a passive text reply WeChat shows whole
# what must never reach a resident: Python's error output, exception and internal names, unfilled placeholders
LEAKS = re.compile(r"Traceback|File \"|Error\b|Exception|\bNone\b|\{[a-z_]+\}|\bself\.|[A-Z]{2,}_[A-Z]{2,}")


def _event(kind: str, key: str | None = None, **kw: object) -> Incoming:
    return replace(text(""), kind=kind, text=None, msg_id=None, event=kw.pop("event", None), event_key=key,
                   **kw)  # type: ignore[arg-type]


TURNS = st.one_of(
    said().map(lambda t: ("text", t)),
    said().map(lambda t: ("voice", t)),
    st.sampled_from(["MENU_ORDER", "MENU_MY_ORDERS", "MENU_EVENTS", "MENU_POINTS", "MENU_VOLUNTEER", "", "x" * 60])
    .map(lambda k: ("click", k)),
    st.sampled_from(["", "volunteer_register", "merchant_redeem_1", "event_3", "community:幸福小区", "qrscene_"])
    .map(lambda k: ("subscribe", k)),
    st.just(("location", "")),
    st.just(("image", "")),
    st.floats(min_value=0, max_value=60 * 24 * 3).map(lambda m: ("wait", str(m))),
)


def _say(t: Transcript, kind: str, value: str) -> object:
    if kind == "wait":
        t.wait(minutes=float(value))
        return None
    if kind == "text":
        return t.say(value)
    if kind == "voice":
        inc = replace(text(value, at=t.now), kind="voice")
    elif kind == "click":
        inc = _event("event", value, event="click")
    elif kind == "subscribe":
        inc = _event("event", f"qrscene_{value}" if value else None, event="subscribe", scene=value or None)
    elif kind == "location":
        inc = _event("location", None, latitude=22.54, longitude=114.06, label="深圳市福田区莲花街道")
    else:
        inc = _event("image", None, media_id="m1", url="http://mmbiz.qpic.cn/x")
    inc = replace(inc, create_time=int(t.now.timestamp()))
    res = step.step(t.state, t.slots, inc, t.context())
    t.state, t.slots = res.state, dict(res.slots)
    t.results.append(res)
    return res


@fuzz(quick=40)
@given(roles=ROLES, turns=st.lists(TURNS, min_size=1, max_size=8), phone=st.sampled_from([None, "13812345678"]))
def test_any_conversation_gets_plain_short_answers(roles: frozenset[str], turns: list[tuple[str, str]],
                                                   phone: str | None) -> None:
    t = Transcript(roles=roles, phone_on_file=phone)
    for kind, value in turns:
        res = _say(t, kind, value)
        if res is None:
            continue
        assert t.state in set(State), t.state
        json.dumps(dict(t.slots), ensure_ascii=False)  # kept in conversations.slots (JSON)
        for action in t.results[-1].actions:
            json.dumps({"name": action.name, "data": dict(action.data)}, ensure_ascii=False)
        for out in t.results[-1].outbox:
            json.dumps(asdict(out), ensure_ascii=False)
        reply = t.results[-1].reply
        if reply is not None:
            assert isinstance(reply, str) and reply.strip(), (kind, value, reply)
            assert len(reply.encode("utf-8")) <= REPLY_MOST_BYTES, (kind, value, len(reply.encode()))
            assert not LEAKS.search(reply), (kind, value, reply)


# ways into the dialogue's states, as people walk into them (a state is never entered without what it keeps)
INTO = (
    (), ("明天上午来给我礼发",), ("明天上午来给我礼发", "幸福小区3栋2单元501"), ("我想找个人帮忙",),
    ("帮我妈点个单 她腿脚不好",), ("注册志愿者",), ("注册志愿者", "张三"), ("注册志愿者", "张三", "男"), ("人工",),
    ("完成 12",), ("退单 4",), ("兑换",), ("我要当志愿者", "李四", "女", "17"), ("菜单",),
)


@fuzz(quick=30)
@example(into=(), message="接单 " + "9" * 5000)  # more digits than int() takes
@example(into=("明天上午来给我礼发",), message="9" * 5000)
@given(into=st.sampled_from(INTO), message=said())
def test_one_message_wherever_the_conversation_stands(into: tuple[str, ...], message: str) -> None:
    t = Transcript(roles=frozenset({"volunteer"}), phone_on_file="13812345678")
    for line in into:
        t.say(line)
    res = t.say(message)
    assert res.state in set(State)
    assert res.reply is None or (len(res.reply.encode("utf-8")) <= REPLY_MOST_BYTES
                                 and not LEAKS.search(res.reply)), (into, message, res.reply)
