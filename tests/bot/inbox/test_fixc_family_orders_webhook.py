"""代点单 through the whole webhook (SQLite): the relative's phone is the order's contact and never the caller's own
(asked for once), and the one served, writing from her own WeChat, finds the order placed for her by her phone on
file, at submit or later; with no phone on file she is told plainly that it cannot be seen from here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.db import transaction
from storage.models import Order, User
from tests.dialog import Chat, all_orders

DAUGHTER = "oFixcDaughter1"
MOTHER = "oFixcMother01"
HER_PHONE = "13700004321"
OWN_PHONE = "13911112222"
ORDER = "帮我妈约个陪诊 明天上午 幸福小区3栋101 她电话13700004321 她姓赵"
ASKS = "我闺女给我约了陪诊 是哪天来"


def _placed(chat: Chat, services: Any) -> Order:
    asked = chat.say(DAUGHTER, ORDER) or ""
    assert "您自己的电话也留一个吧" in asked and "您的电话" not in asked, asked
    summary = chat.say(DAUGHTER, OWN_PHONE) or ""
    assert "为谁：赵阿姨（137****4321）" in summary and f"您的电话：{OWN_PHONE}" in summary, summary
    assert "已提交" in (chat.say(DAUGHTER, "1") or "")
    return all_orders(services)[-1]


def _phone_on_file(services: Any, openid: str, phone: str) -> None:
    with transaction(services.sessions) as s:
        s.execute(select(User).where(User.openid == openid)).scalar_one().phone = phone


def _user(services: Any, openid: str) -> User:
    with services.sessions() as s:
        return s.execute(select(User).where(User.openid == openid)).scalar_one()


def test_her_phone_is_the_contact_and_the_daughters_own_is_kept_apart(chat: Chat, services: Any) -> None:
    order = _placed(chat, services)
    assert order.phone == HER_PHONE and order.resident_name == "赵阿姨"
    assert _user(services, DAUGHTER).phone == OWN_PHONE


def test_mother_known_at_submit_finds_the_order_with_its_time_and_state(chat: Chat, services: Any) -> None:
    chat.say(MOTHER, "你好")
    _phone_on_file(services, MOTHER, HER_PHONE)
    order = _placed(chat, services)
    assert order.resident_user_id == _user(services, MOTHER).id
    listed = chat.say(MOTHER, ASKS) or ""
    assert f"订单{order.ref}" in listed and "陪诊就医" in listed and "11月24日" in listed, listed
    assert "没有进行中的订单" not in listed
    assert f"订单{order.ref}" in (chat.say(MOTHER, "我的订单") or "")


def test_mother_whose_phone_comes_later_is_linked_when_she_asks(chat: Chat, services: Any) -> None:
    order = _placed(chat, services)
    assert order.resident_user_id is None  # nobody with her phone yet
    chat.say(MOTHER, "你好")
    _phone_on_file(services, MOTHER, HER_PHONE)
    listed = chat.say(MOTHER, ASKS) or ""
    assert f"订单{order.ref}" in listed and "11月24日" in listed, listed
    assert all_orders(services)[-1].resident_user_id == _user(services, MOTHER).id


def test_mother_with_no_phone_on_file_is_told_plainly(chat: Chat, services: Any) -> None:
    _placed(chat, services)
    told = chat.say(MOTHER, ASKS) or ""
    assert "您家人替您下的单，我这边查不到，请让家人告诉您，或回复“人工”" in told, told


def test_another_residents_phone_links_nothing(chat: Chat, services: Any) -> None:
    _placed(chat, services)
    chat.say(MOTHER, "你好")
    _phone_on_file(services, MOTHER, "13700009999")
    assert "查不到" in (chat.say(MOTHER, ASKS) or "")
    assert all_orders(services)[-1].resident_user_id is None
