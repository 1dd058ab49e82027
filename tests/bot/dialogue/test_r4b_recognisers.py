"""Outside tester round 4 (helper r4b): the recognisers behind the r4b corpus conversations, checked on their own."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.dialogue import followups, registration
from bot.dialogue.core import Result, State
from bot.dialogue.ordering import said_more
from bot.inbox import handover
from intents.rating import explicit_rating, parse_rating
from tests.bot.dialogue.transcript import text, understanding


@pytest.mark.parametrize(("said", "hearts"), [
    ("挺好的 五颗心", 5), ("挺好 俺给个满分", 5), ("不咋地", 2), ("不咋样", 2), ("★★★★", 4), ("不错 四颗心", 4),
    ("挺好 3分", 3), ("很差 五颗心", 5), ("修得挺好", None), ("挺好的", None), ("五颗心", 5), ("满意", 4),
])
def test_everyday_ratings(said: str, hearts: int | None) -> None:
    assert understanding().rating(said) == hearts


@pytest.mark.parametrize(("said", "more"), [("挺好 俺给个满分", False), ("不咋地", False), ("挺好的 五颗心", False),
                                            ("不咋地 头发剪歪了", True)])
def test_no_comment_is_read_from_the_rating_words(said: str, more: bool) -> None:
    assert said_more(said) is more


def test_describing_words_alone_are_still_a_guess() -> None:
    assert parse_rating("修得挺好") == 4 and explicit_rating("修得挺好") is None
    assert understanding().rating_guessed("挺好的")


@pytest.mark.parametrize(("said", "named", "hearts"), [
    ("评价 5", 5, True), ("评价5", 5, True), ("打分 0", 0, True), ("评价 5号订单", 5, False), ("评价 第5单", 5, False),
    ("评价 455858", 455858, False), ("评价 8", 8, False),
])
def test_a_small_number_is_hearts_unless_marked_as_an_order(said: str, named: int, hearts: bool) -> None:
    assert followups.hearts_not_order(said, named) is hearts


@pytest.mark.parametrize(("said", "rating"), [("★★★★", 4), ("5颗心", 5), ("1", None), ("5", None),
                                              ("明天上午来理发 五颗心的师傅", None)])
def test_a_bare_rating_is_not_a_menu_number(said: str, rating: int | None) -> None:
    assert followups.bare_rating(said, understanding()) == rating


def test_rating_later_is_said_with_the_order() -> None:
    nlu = understanding()
    res = followups.rate_later(State.RATE, {"rate_order": 455858}, nlu, "不用了")
    assert res is not None and res.state == State.IDLE and "评价 455858" in (res.reply or "")
    assert "rate_order" not in res.slots
    assert followups.rate_later(State.RATE, {"rate_order": 455858}, nlu, "不满意") is None  # a rating, not a no
    assert followups.rate_later(State.IDLE, {}, nlu, "不用了") is None
    for said in ("取消", "算了", "不评了", "以后再评吧", "先不评了"):
        later = followups.rate_later(State.RATE, {"rate_order": 455858}, nlu, said)
        assert later is not None and "评价 455858" in (later.reply or ""), said


@pytest.mark.parametrize("said", ["谁来给俺理发", "是谁来啊", "谁接的单"])
def test_who_comes_needs_an_order_under_way(said: str) -> None:
    assert followups.who_comes_words(said)
    assert not followups.asks_who_comes(said, ())


@pytest.mark.parametrize("said", ["师傅电话多少", "师傅的电话是多少", "志愿者叫什么", "有人接单了吗"])
def test_questions_about_the_volunteer(said: str) -> None:
    assert followups.asks_who_comes(said, ())


@pytest.mark.parametrize("said", ["帮我找个师傅修水管", "明天来个人理发", "我要理发"])
def test_requests_are_not_who_comes(said: str) -> None:
    assert not followups.who_comes_words(said)


@pytest.mark.parametrize(("said", "person"), [("有没有活人啊", True), ("找个真人", True), ("有活人吗", True),
                                              ("有人吗", False), ("我要理发", False)])
def test_a_living_person(said: str, person: bool) -> None:
    assert followups.asks_for_person(said) is person


@pytest.mark.parametrize(("said", "office"), [("打电话给社区", True), ("社区电话多少", True),
                                              ("居委会电话是多少", True), ("怎么给社区打电话", True),
                                              ("电话13812345678", False), ("师傅电话多少", False)])
def test_the_office_phone(said: str, office: bool) -> None:
    assert followups.asks_office_phone(said) is office


@pytest.mark.parametrize(("said", "over", "rest"), [
    ("刚才那个已经好了 谢谢 还能约理发吗", True, "还能约理发吗"), ("已经好了 谢谢", True, ""),
    ("我妈已经起来了", True, ""),
    ("还没好 怎么办", False, "还没好 怎么办"), ("好了吗", False, "好了吗"),
])
def test_all_clear_after_an_emergency(said: str, over: bool, rest: str) -> None:
    assert followups.all_clear(said) == (over, rest)


@pytest.mark.parametrize(("said", "typo"), [("注册志原者", True), ("我想当自愿者", True), ("报名志愿着", True),
                                            ("申请当志缘者", True), ("注册志愿者", False), ("我是自愿来的", False),
                                            ("志愿者服务", False)])
def test_registration_with_a_typo(said: str, typo: bool) -> None:
    assert registration.asked_with_typo(said) is typo


def _held(slots: dict[str, object], said: str, at: int) -> handover.Decision:
    inc = replace(text(said), create_time=at)
    quiet = Result(state=State.HUMAN, slots=slots, reply=None)
    return handover.decide(State.HUMAN, slots, inc, quiet, understanding())


def test_asking_again_while_handed_over_is_answered_once_in_ten_minutes() -> None:
    first = _held({}, "人工", 1000)
    assert first.kind is handover.Kind.HOLD and "已经帮您转给工作人员了" in (first.result.reply or "")
    slots = dict(first.result.slots)
    assert _held(slots, "在吗 有人吗", 1000 + 60).result.reply is None
    assert _held(slots, "我家水管漏了", 1000 + 700).result.reply is None  # not asking for a person: kept quietly
    assert "已经帮您转给工作人员了" in (_held(slots, "有没有活人啊", 1000 + 601).result.reply or "")
