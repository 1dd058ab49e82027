"""Outside tester round 7 (helper fixB), through the whole webhook: the hearts said with words are that many and the
rest is saved as the comment; a corrected rating with a comment keeps both; a bare 退单 with one task asks only
about it and "1" then a reason gives it back; a bare 接单 with nothing open says so once; words at the address
question that are no address never reach the order, and 我住3号楼2单元501 in the first message is its address."""

from __future__ import annotations

from typing import Any

import pytest

from storage.models import Order
from tests.dialog import Chat, all_orders

R = "oResidentFixB"
B1 = "oVolBarber01"  # a demo barber (张师傅, 13900000001)


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """On both databases: ratings, comments and tasks in hand are read and written through the domain."""
    return any_db_url


def _ordered(chat: Chat, services: Any) -> Order:
    assert "回复 1 确认" in (chat.say(R, "明天下午三点来给我理个发 幸福小区3栋2单元501 电话13812345678") or "")
    chat.say(R, "1")
    chat.deliver()
    (order,) = all_orders(services)
    return order


def _served(chat: Chat, services: Any) -> Order:
    order = _ordered(chat, services)
    assert "接单成功" in (chat.say(B1, f"接单 {order.ref}") or "")
    chat.clock.advance(hours=32)
    chat.say(B1, f"完成 {order.ref} 2")
    chat.deliver()
    return order


def _one(services: Any) -> Order:
    (order,) = all_orders(services)
    return order


def test_hearts_with_words_are_that_many_and_the_rest_is_the_comment(chat: Chat, services: Any) -> None:
    _served(chat, services)
    reply = chat.say(R, "一般般吧 来得太晚了 两颗心") or ""
    assert "没太明白" not in reply
    order = _one(services)
    assert order.rating == 2 and order.comment == "来得太晚了"


def test_a_corrected_rating_with_a_comment_keeps_both(chat: Chat, services: Any) -> None:
    _served(chat, services)
    chat.say(R, "5颗心")
    assert _one(services).rating == 5
    reply = chat.say(R, "不对 给四颗心吧 来晚了") or ""
    assert "要改成几颗心" not in reply
    order = _one(services)
    assert order.rating == 4 and "来晚了" in (order.comment or "")


def test_a_bare_give_back_with_one_task_asks_only_about_it(chat: Chat, services: Any) -> None:
    order = _ordered(chat, services)
    assert "接单成功" in (chat.say(B1, f"接单 {order.ref}") or "")
    asked = chat.say(B1, "退单") or ""
    assert f"退订单{order.ref}" in asked and "要退哪一单" not in asked
    reason = chat.say(B1, "1") or ""
    assert "原因" in reason and "您需要什么服务" not in reason
    assert _one(services).volunteer_id is not None  # not given back before the reason
    chat.say(B1, "临时有事去不了")
    assert _one(services).volunteer_id is None


def test_a_bare_give_back_kept_with_0(chat: Chat, services: Any) -> None:
    order = _ordered(chat, services)
    chat.say(B1, f"接单 {order.ref}")
    chat.say(B1, "退单")
    assert "没有退单" in (chat.say(B1, "0") or "")
    assert _one(services).volunteer_id is not None


def test_a_bare_accept_with_nothing_open_says_it_once(chat: Chat, services: Any) -> None:
    reply = chat.say(B1, "接单") or ""
    assert "没有适合您的待接订单" in reply and "要接哪一单" not in reply and "序号" not in reply


def test_words_at_the_address_question_never_become_the_address(chat: Chat, services: Any) -> None:
    chat.say(R, "我要理发")
    chat.say(R, "明天上午")
    for said in ("咋还没来 催一下", "谢谢 那现在怎么办"):
        assert "几栋几单元" not in (chat.say(R, said) or "")
    chat.say(R, "幸福小区3栋2单元501")
    chat.say(R, "13812345678")
    chat.say(R, "1")
    assert _one(services).address == "幸福小区3栋2单元501"


def test_an_address_without_an_estate_in_the_first_message_is_taken(chat: Chat, services: Any) -> None:
    reply = chat.say(R, "我家水管漏了 明天上午来修一下 我住3号楼2单元501 电话13812345678") or ""
    assert "服务地址是哪里" not in reply and "回复 1 确认" in reply
    chat.say(R, "1")
    order = _one(services)
    assert order.address == "3号楼2单元501" and "3号楼" not in (order.details or "")
