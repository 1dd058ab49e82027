"""An ID or bank-card number a resident puts into free text is never taken for a phone, never kept in a free-text
column and never sent to anyone (offers, team group posts, the console); a third party's full name stays out of
what goes out before a volunteer accepts. Pure parts first, then through the webhook."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.serviceloop.dispatch import offer_text
from bot.serviceloop.orders import ServiceInfo
from intents.idcard import CARD_HIDDEN, ID_HIDDEN, hide_numbers
from intents.masking import hide_names, scrub
from intents.understand import extract_slots
from storage.db import transaction
from storage.models import Order, OrderEvent, OutboxMessage, Team
from tests.dialog import Chat, all_orders

ID = "110105196503080023"
SAID = f"我家老人要理发，明天下午，我妈叫刘桂芬，身份证{ID}"
NOW = datetime(2026, 12, 3, 2, tzinfo=UTC)
R = "oResidentIdScrub"
B1 = "oVolBarber01"  # a demo barber
ROBOT = "ROBOT-HAIRCUT-ID"


# -- pure -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("said", [
    f"身份证{ID}",
    f"身份证号是 {ID[:6]} {ID[6:14]} {ID[14:]}",
    "身份证号码：11010519650308002X",
    "她的证件号 110105650308002",  # the first generation's 15 digits
    f"{ID} 是我妈的",  # no label: the birth date in it says what it is
    "身份证１１０１０５１９６５０３０８００２３",  # full-width digits
])
def test_an_id_number_is_hidden_whole(said: str) -> None:
    out = hide_numbers(said)
    assert ID_HIDDEN in out
    assert not any(ch.isdigit() for ch in out), out


@pytest.mark.parametrize("said", ["卡号6222021234567890123", "银行卡 6222 0212 3456 7890", "6222021234567890"])
def test_a_bank_card_number_is_hidden(said: str) -> None:
    out = hide_numbers(said)
    assert CARD_HIDDEN in out and not any(ch.isdigit() for ch in out), out


@pytest.mark.parametrize("said", ["电话13812345678", "住3号楼501 13812345678", "2024年3月15日", "幸福小区12栋1501",
                                  "0571-88886666-123", "13812345678 13912345678"])
def test_phones_doors_and_dates_stay(said: str) -> None:
    assert hide_numbers(said) == said


def test_the_id_is_no_phone_and_the_request_keeps_a_note() -> None:
    slots = extract_slots(SAID, NOW)
    assert slots.phone is None
    assert slots.rest == f"我家老人要理发，我妈叫刘桂芬，{ID_HIDDEN}"
    assert scrub(SAID) == f"我家老人要理发，明天下午，我妈叫刘桂芬，{ID_HIDDEN}"


def test_an_id_and_a_phone_in_one_message() -> None:
    slots = extract_slots(f"明天上午来修水管，身份证号{ID}，电话13812345678", NOW)
    assert slots.phone == "13812345678"
    assert ID not in slots.rest and ID_HIDDEN in slots.rest


@pytest.mark.parametrize(("said", "shown"), [
    ("我妈叫刘桂芬，腿脚不便", "我妈叫刘**，腿脚不便"),
    ("老人名字是王建国", "老人名字是王**"),
    ("姓名：李四", "姓名：李*"),
    ("帮我叫个车", "帮我叫个车"),
    ("帮我叫物业", "帮我叫物业"),
    ("他叫了外卖", "他叫了外卖"),
])
def test_a_full_name_is_cut_to_the_surname(said: str, shown: str) -> None:
    assert hide_names(said) == shown


def test_an_offer_shows_a_named_person_by_surname_only() -> None:
    order = Order(ref=123456, details=f"老人名字是王建国，腿脚不便，身份证{ID}", address="幸福小区3栋2单元501",
                  phone="13812345678", time_kind="asap")
    text = offer_text(order, ServiceInfo("haircut", "义务理发"))
    assert "内容：老人名字是王**，腿脚不便，" + ID_HIDDEN in text, text
    assert "王建国" not in text and "501" not in text and "13812345678" not in text


# -- through the webhook ----------------------------------------------------------------------------------------------


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


def _body(row: OutboxMessage) -> str:
    return json.dumps(row.payload, ensure_ascii=False)


def _digits_of_id_in(text: str | None) -> bool:
    """Any 7 digits in a row of the ID (the tester saw "1101053": its head and tail, the middle taken as a phone)."""
    plain = "".join(ch for ch in (text or "") if ch.isdigit())
    return any(ID[i:i + 7] in plain for i in range(len(ID) - 6)) or "1101053" in plain


def test_the_id_reaches_nobody_and_no_column(chat: Chat, services: Any) -> None:
    with transaction(services.sessions) as s:
        s.execute(update(Team).where(Team.code == "haircut").values(robot_key=ROBOT))
    first = chat.say(R, SAID) or ""
    assert "地址" in first and not _digits_of_id_in(first), first
    # the ID's digits are no phone: the phone is still asked for
    assert "联系电话" in (chat.say(R, "幸福小区3栋2单元501") or "")
    reply = chat.say(R, "13812345678") or ""
    assert "回复 1 确认" in reply and "内容：我家老人要理发，" in reply and ID_HIDDEN in reply, reply
    assert not _digits_of_id_in(reply.replace("13812345678", "")), reply
    assert "已提交" in (chat.say(R, "1") or "")
    (order,) = all_orders(services)
    assert order.phone == "13812345678"
    assert order.details is not None and ID_HIDDEN in order.details and not _digits_of_id_in(order.details)
    assert "刘桂芬" in f"{order.details}{order.resident_name}"  # kept for the volunteer who accepts
    with services.sessions() as s:
        rows = s.scalars(select(OutboxMessage)).all()
        posts = [r for r in rows if r.channel == "wecom_robot"]
        offers = [r for r in rows if r.idempotency_key and r.idempotency_key.startswith(f"offer:{order.id}:")]
        reasons = s.scalars(select(OrderEvent.reason).where(OrderEvent.order_id == order.id)).all()
    assert posts and offers
    assert not any(_digits_of_id_in(_body(r)) for r in rows)
    assert not any(_digits_of_id_in(r) for r in reasons)
    for row in posts + offers:  # before anyone accepts: no full name
        assert "刘桂芬" not in _body(row) and ID_HIDDEN in _body(row), _body(row)
    accepted = chat.say(B1, f"接单 {order.ref}") or ""
    assert "接单成功" in accepted and not _digits_of_id_in(accepted.replace("13812345678", "")), accepted
    assert not any(_digits_of_id_in(t) for texts in chat.wanted().values() for t in texts)


def test_a_comment_and_an_added_detail_keep_no_id(chat: Chat, services: Any) -> None:
    assert "回复 1 确认" in (chat.say(R, "明天下午三点来给我理个发 幸福小区3栋2单元501 电话13812345678") or "")
    assert "已提交" in (chat.say(R, "1") or "")
    (order,) = all_orders(services)
    from bot.serviceloop import orders
    from storage.models import User
    with transaction(services.sessions) as s:
        user = s.scalars(select(User).where(User.openid == R)).one()
        orders.add_comment(s, hub_id=order.hub_id, user=user, order_id=order.id,
                           comment=f"师傅很好，我的卡号6222021234567890123，身份证{ID}", now=chat.clock.now())
    with services.sessions() as s:
        kept = s.get(Order, order.id)
        assert kept is not None and kept.comment is not None
        assert CARD_HIDDEN in kept.comment and ID_HIDDEN in kept.comment
        assert not any(ch.isdigit() for ch in kept.comment)
        reasons = s.scalars(select(OrderEvent.reason).where(OrderEvent.order_id == order.id)).all()
    assert not any(_digits_of_id_in(r) for r in reasons)
