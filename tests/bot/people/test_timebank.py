"""The time bank: deposits from verified hours, an order paid with banked hours (for oneself or a parent)
settled on completion or refunded on cancellation, donations, the passbook, never past the balance."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.devtools.seed import seed_demo_hub
from bot.people import timebank
from storage.db import transaction
from storage.models import Order, TimeBankEntry, TimeBankRecipient, User
from tests.bot.people.volunteer_fixtures import completed_order, make_volunteer
from tests.dialog import Chat, verify_dialog

V = "oBanker01"


@pytest.fixture
def chat(client: Any, account: Any, clock: FakeClock, services: Any, fake_wechat: Any) -> Chat:
    with transaction(services.sessions) as s:
        seed_demo_hub(s, clock.now(), hub_name="白莲街道雷锋超市")
        vol, member, user = make_volunteer(s, clock.now(), openid=V, name="周志强")
        completed_order(s, vol, user, clock.now(), 3)  # 3 hours banked
    services.hubs.forget()
    return Chat(client, account, clock, services, fake_wechat)


def entries(services: Any) -> list[tuple[str, int]]:
    with services.sessions() as s:
        return [(e.kind, e.minutes) for e in s.execute(select(TimeBankEntry).where(TimeBankEntry.volunteer_id
                                                                                    .is_not(None))
                                                        .order_by(TimeBankEntry.id)).scalars()]


def order_for_parent(chat: Chat) -> int:
    verify_dialog(chat, [
        (V, "帮我妈下单", "怎么称呼"),
        (V, "周奶奶", "联系电话"),
        (V, "13700001111", "什么服务"),
        (V, "理发", "什么时间"),
        (V, "明天上午九点", "地址"),
        (V, "幸福小区5栋101", "您自己的电话也留一个吧"),
        (V, "不用", "回复 1 确认"),
        (V, "1", "已提交"),
    ])
    with chat.services.sessions() as s:
        return int(s.execute(select(Order.id).order_by(Order.id.desc())).scalars().first())


def test_order_for_a_parent_paid_with_hours_settles_to_the_actual_time(chat: Chat, services: Any) -> None:
    oid = order_for_parent(chat)
    reply = chat.say(V, f"时长支付 #{oid}")
    assert reply is not None and "预扣" in reply and "余额：2.5小时" in reply  # haircut: 30 minutes expected
    assert "已经用时长支付过了" in (chat.say(V, f"时长支付 #{oid}") or "")
    with services.sessions() as s:
        order = s.get(Order, oid)
        assert order.paid_with_hours
        held = s.execute(select(TimeBankEntry).where(TimeBankEntry.order_id == oid)).scalar_one()
        assert held.beneficiary == "周奶奶" and held.minutes == -30
    chat.deliver()
    assert "接单成功" in (chat.say("oVolBarber01", f"接单 #{oid}") or "")
    chat.clock.advance(days=2)  # the appointment has come
    assert "辛苦了" in (chat.say("oVolBarber01", f"完成 #{oid} 1") or "")
    chat.deliver()
    with transaction(services.sessions) as s:  # the grandmother cannot rate by chat: staff confirm
        from bot.serviceloop import orders

        orders.staff_confirm(s, hub_id=1, order_id=oid, actor="staff", now=chat.clock.now(),
                             service=orders.ServiceInfo("haircut", "理发"))
    assert entries(services)[-3:] == [("withdraw", -30), ("deposit", 60), ("withdraw", -30)]
    passbook = chat.say(V, "我的存折") or ""
    assert "余额：2小时" in passbook and "补扣" in passbook and "不能兑换现金" in passbook


def test_cancelled_order_gives_the_hours_back(chat: Chat, services: Any) -> None:
    oid = order_for_parent(chat)
    chat.say(V, f"时长支付 #{oid}")
    assert "已取消" in (chat.say(V, f"取消订单 #{oid}") or "")
    assert entries(services)[-2:] == [("withdraw", -30), ("refund", 30)]
    assert "余额：3小时" in (chat.say(V, "存折") or "")


def test_withdrawal_never_exceeds_the_balance(services: Any, clock: FakeClock) -> None:
    with transaction(services.sessions) as s:
        vol, member, user = make_volunteer(s, clock.now())
        completed_order(s, vol, user, clock.now(), 1)
        account = timebank.Account(member.hub_id, volunteer_id=vol.id)
        with pytest.raises(timebank.TimeBankError, match="不够支取"):
            timebank.withdraw(s, account, 61, "too much", clock.now(), actor="t")
        timebank.withdraw(s, account, 60, "all of it", clock.now(), actor="t")
        assert timebank.balance(s, account) == 0
        with pytest.raises(timebank.TimeBankError):
            timebank.withdraw(s, account, 1, "nothing left", clock.now(), actor="t")


def test_settlement_takes_at_most_the_balance(services: Any, clock: FakeClock) -> None:
    with transaction(services.sessions) as s:
        vol, member, user = make_volunteer(s, clock.now())
        completed_order(s, vol, user, clock.now(), 1)  # 60 minutes
        helper, _, helper_user = make_volunteer(s, clock.now(), name="钱师傅", openid="oHelper")
        order = Order(hub_id=member.hub_id, state="accepted", service_code="repair", ordered_by_user_id=user.id,
                      time_kind="asap", volunteer_id=helper.id, created_at=clock.now(), updated_at=clock.now())
        s.add(order)
        s.flush()
        account = timebank.Account(member.hub_id, volunteer_id=vol.id)
        timebank.pay_order(s, account=account, order=order, minutes=40, actor=user.openid, now=clock.now())
        order.hours, order.state = 3.0, "closed"  # ran far longer than expected
        timebank.settle_order(s, order, clock.now())
        assert timebank.balance(s, account) == 0  # the extra 20 minutes taken, the rest waived


def test_donation_to_a_named_elder(chat: Chat, services: Any) -> None:
    with transaction(services.sessions) as s:
        s.add(TimeBankRecipient(hub_id=1, name="孤寡老人王奶奶", note="幸福小区", active=True,
                                created_at=chat.clock.now()))
    listing = chat.say(V, "捐赠时长") or ""
    assert "1号 孤寡老人王奶奶" in listing and "余额：3小时" in listing
    assert "存折里有3小时" in (chat.say(V, "捐 1 5") or "")
    assert "已把1.5小时捐给孤寡老人王奶奶" in (chat.say(V, "捐 1 1.5") or "")
    with services.sessions() as s:
        elder = timebank.Account(1, recipient_id=1)
        assert timebank.balance(s, elder) == 90
        received = s.scalars(select(TimeBankEntry.reason).where(TimeBankEntry.recipient_id == 1)).all()
        assert received == ["志愿者周志强捐赠"]  # the giver's name, not the table's id (out10)
        me = s.execute(select(User).where(User.openid == V)).scalar_one()
        assert timebank.balance(s, timebank.Account(1, volunteer_id=me.volunteer_id)) == 90
    assert "没有这位受赠人" in (chat.say(V, "捐 9 1") or "")


def test_non_volunteer_cannot_pay_with_hours(chat: Chat) -> None:
    assert "只有登记的志愿者" in (chat.say("oResident0009", "时长支付 1") or "")
    assert "还不是志愿者" in (chat.say("oResident0009", "我的存折") or "")


def test_paying_part_of_an_order_with_the_hours_named(chat: Chat, services: Any) -> None:
    """Outside tester out10: "时长支付 N 1.5" and a bare "时长支付" were not understood; the hours named are held."""
    oid = order_for_parent(chat)
    assert "请带上订单编号" in (chat.say(V, "时长支付") or "")
    reply = chat.say(V, f"时长支付 #{oid} 1.5") or ""
    assert "预扣1.5小时" in reply and "余额：1.5小时" in reply, reply
    assert entries(services)[-1] == ("withdraw", -90)


def test_a_bad_number_of_points_at_the_counter_is_said_plainly(chat: Chat) -> None:
    for said in ("核销 63585757 -5", "核销 63585757 2.5"):
        reply = chat.say("oMerchantDesk01", said) or ""
        assert "积分要写正整数" in reply and "帮不上忙" not in reply, reply


def test_a_bare_verify_word_says_how(chat: Chat) -> None:
    """Outside tester out11: a counter person's bare "核销" got the residents' service menu."""
    reply = chat.say("oMerchantDesk01", "核销") or ""
    assert "核销 12345678 10" in reply and "帮不上忙" not in reply, reply


def test_after_a_bad_amount_the_number_said_next_is_the_points(chat: Chat) -> None:
    """Outside tester out11: after "核销 <code> 5.5", a plain "10" got the residents' 0-5 menu."""
    chat.say("oMerchantDesk01", "核销 63585757 5.5")
    reply = chat.say("oMerchantDesk01", "10") or ""
    assert "请回复 0-5" not in reply and "帮不上忙" not in reply, reply
