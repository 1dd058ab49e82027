"""Outside tester, round 4: the recognisers behind the new corpus conversations, checked on their own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.dialogue import followups
from bot.dialogue.ordering import said_more
from bot.serviceloop.records import NotRatableError
from tests.bot.dialogue.transcript import understanding


@pytest.mark.parametrize(("text", "name"), [("我妈姓刘", "刘阿姨"), ("帮我妈约个理发 她姓刘", "刘阿姨"),
                                            ("我外婆姓张", "张奶奶"), ("我爸姓李的", "李叔叔"), ("姓什么", None),
                                            ("刘阿姨", None)])
def test_relative_name(text: str, name: str | None) -> None:
    assert followups.relative_name(text) == name


def test_a_surname_with_no_family_word_takes_the_title_said_before() -> None:
    assert followups.relative_name("她姓王", "奶奶") == "王奶奶"
    assert followups.relative_name("姓王") == "王家老人"


@pytest.mark.parametrize("text", ["根本没来人", "等了一上午也没人来", "一颗心都不给", "俺等了半天都没人影", "我要投诉"])
def test_complaints(text: str) -> None:
    assert followups.complains(text)


@pytest.mark.parametrize("text", ["明天上午来帮我理发", "师傅来了 修好了", "我想理发",
                                  "根本不用急 明天来就行 帮我修水管"])
def test_not_complaints(text: str) -> None:
    assert not followups.complains(text)


@pytest.mark.parametrize(("text", "hearts"), [("还行吧", 3), ("还可以", 3), ("一般般", 3), ("一颗心都不给", 0),
                                              ("5颗心 师傅很好", 5), ("修得挺好", None)])
def test_ratings_in_words(text: str, hearts: int | None) -> None:
    assert understanding().rating(text) == hearts


@pytest.mark.parametrize(("text", "more"), [("5颗心 师傅很好", True), ("五颗心", False), ("5分吧", False),
                                            ("满意", False), ("一般般", False), ("非常满意 谢谢你们", True)])
def test_a_comment_with_the_rating(text: str, more: bool) -> None:
    assert said_more(text) is more


def test_emoji_and_crying() -> None:
    assert followups.emoji_talk("👍") == followups.EMOJI_REPLY
    assert followups.emoji_talk("😭😭") == followups.SAD_REPLY
    assert followups.emoji_talk("哭了") == followups.SAD_REPLY
    assert followups.emoji_talk("我想理发😊") is None


@pytest.mark.parametrize(("hours", "at", "closed"), [
    ("周一至周五 8:30-17:30", datetime(2026, 11, 23, 13, 30, tzinfo=UTC), True),  # Monday 21:30 in Shanghai
    ("周一至周五 8:30-17:30", datetime(2026, 11, 23, 2, 0, tzinfo=UTC), False),  # Monday 10:00
    ("周一至周五 8:30-17:30", datetime(2026, 11, 28, 2, 0, tzinfo=UTC), True),  # Saturday 10:00
    ("每天上午8点到12点", datetime(2026, 11, 23, 6, 0, tzinfo=UTC), True),  # 14:00
    ("工作时间请来电", datetime(2026, 11, 23, 14, 0, tzinfo=UTC), True),  # 22:00: no times said, the usual day
    ("", datetime(2026, 11, 23, 14, 0, tzinfo=UTC), False),  # no hours set: never said
])
def test_after_hours(hours: str, at: datetime, closed: bool) -> None:
    assert followups.after_hours(hours, at) is closed


def test_a_rated_order_says_how_to_correct_it() -> None:
    assert "人工" in str(NotRatableError(31, True, "已结束"))
    assert "人工" not in str(NotRatableError(31, False, "正在服务"))


@pytest.mark.parametrize(("text", "rest"), [("帮我妈约个理发 她姓刘", "帮我妈约个理发"),
                                            ("我妈姓刘 帮她约个理发", "帮她约个理发"), ("我想理发", "我想理发")])
def test_the_request_is_matched_without_the_surname(text: str, rest: str) -> None:
    assert followups.without_surname(text) == rest
