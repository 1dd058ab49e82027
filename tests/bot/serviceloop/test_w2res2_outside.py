"""Outside testers, 2026-12-03 (w2res2), through the whole webhook on SQLite: a comment after a low rating stays a
comment (the rating and its review kept), a partial address fix of a submitted order keeps the door, "催一下" nudges
the volunteer once per half hour, the volunteer's phone is answered with a relay, points are explained to a
resident, and 代点单 said in one breath keeps both phones."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.serviceloop import nudges
from storage.models import Order, OrderEvent, ServiceRecord, User
from tests.dialog import Chat, all_orders, verify_dialog

R = "oResidentW2r2"
B1 = "oVolBarber01"  # the demo barber 张师傅, 13900000001


def _accepted(chat: Chat, said: str = "明天下午理发 幸福小区2号楼1单元302 13812345678") -> Order:
    verify_dialog(chat, [(R, said, "请核对"), (R, "1", "已提交"), (B1, "接单 #1", "接单成功")])
    chat.deliver()
    return all_orders(chat.services)[-1]


def test_a_complaint_in_the_comment_is_kept_and_the_low_rating_stays_for_review(chat: Chat, services: Any) -> None:
    _accepted(chat)
    chat.clock.advance(hours=32)
    verify_dialog(chat, [(B1, "完成 #1 2", "辛苦了")])
    chat.deliver()
    verify_dialog(chat, [(R, "2", "2颗心"), (R, "服务一般般，来晚了", "收到您的留言")])
    with services.sessions() as s:
        (order,) = s.execute(select(Order)).scalars()
        record = s.execute(select(ServiceRecord)).scalar_one()
        assert (order.rating, record.rating, order.state, order.flagged) == (2, 2, "rated", True)
        assert record.comment and "来晚了" in record.comment and "一般般" in record.comment
        assert not s.execute(select(OrderEvent).where(OrderEvent.trigger == "rerate")).scalars().all()


def test_a_number_said_as_a_correction_still_changes_the_rating(chat: Chat, services: Any) -> None:
    _accepted(chat)
    chat.clock.advance(hours=32)
    verify_dialog(chat, [(B1, "完成 #1 2", "辛苦了")])
    chat.deliver()
    verify_dialog(chat, [(R, "2", "2颗心"), (R, "不对 是5颗", "已改为5颗心")])
    with services.sessions() as s:
        assert s.execute(select(Order.rating)).scalar_one() == 5


def test_a_building_fixed_after_submitting_keeps_the_unit_and_room(chat: Chat, services: Any) -> None:
    verify_dialog(chat, [(R, "明天下午理发 幸福小区2号楼1单元302 13812345678", "请核对"), (R, "1", "已提交")])
    asked = chat.say(R, "地址错了 是3号楼") or ""
    assert "幸福小区2号楼1单元302改成幸福小区3号楼1单元302" in asked and "单元、门牌" in asked
    chat.say(R, "1")
    (order,) = all_orders(services)
    assert order.address == "幸福小区3号楼1单元302"


def test_hurrying_nudges_the_volunteer_once_per_half_hour(chat: Chat, services: Any) -> None:
    verify_dialog(chat, [(R, "明天下午理发 幸福小区2号楼1单元302 13812345678", "请核对"), (R, "1", "已提交")])
    chat.deliver()
    verify_dialog(chat, [(R, "志愿者咋还没来 催一下", "还没有志愿者接下")])  # nobody holds it: nothing to nudge
    verify_dialog(chat, [(B1, "接单 #1", "接单成功")])
    chat.wanted()
    verify_dialog(chat, [(R, "志愿者咋还没来 催一下", "已经提醒张师傅了")])
    told = chat.wanted().get(B1, [])
    assert len(told) == 1 and "居民在催" in told[0] and "13812345678" in told[0]
    verify_dialog(chat, [(R, "催催", "刚才已经提醒过")])
    assert not chat.wanted().get(B1)  # not twice within half an hour
    chat.clock.advance(minutes=31)
    verify_dialog(chat, [(R, "师傅怎么还没来啊", "已经提醒张师傅了")])
    assert len(chat.wanted().get(B1, [])) == 1
    with services.sessions() as s:
        nudged = s.execute(select(OrderEvent).where(OrderEvent.trigger == nudges.NUDGE_TRIGGER)).scalars().all()
        assert len(nudged) == 2 and all(e.from_state == e.to_state == "accepted" for e in nudged)


def test_the_volunteers_phone_is_answered_masked_with_a_relay(chat: Chat, services: Any) -> None:
    _accepted(chat)
    reply = chat.say(R, "给我王师傅的电话") or ""
    assert "张师傅" in reply and "139****0001" in reply and "13900000001" not in reply
    assert "催一下" in reply and "帮不上忙" not in reply


def test_points_are_explained_to_a_resident_and_a_volunteer_sees_the_balance(chat: Chat, services: Any) -> None:
    for said in ("积分怎么换东西", "嗯 你们那个积分是干啥用的", "积分"):
        reply = chat.say(R, said) or ""
        assert "志愿者" in reply and "合作商家" in reply and "注册志愿者" in reply, (said, reply)
        assert "帮不上忙" not in reply
    reply = chat.say(B1, "积分有啥用啊") or ""
    assert "您现在有" in reply and "兑换" in reply and "注册志愿者" not in reply


def test_an_order_for_mother_said_at_once_keeps_both_phones(chat: Chat, services: Any) -> None:
    said = "我在上海 给我妈约个理发 她叫张桂兰 住幸福小区3栋201 明天下午 她电话13512345678 我电话13912345678"
    asked = chat.say(R, said) or ""
    assert "为谁：张桂兰" in asked and "您的电话：13912345678" in asked
    verify_dialog(chat, [(R, "1", "已提交")])
    accepted = chat.say(B1, "接单 #1") or ""
    assert "联系人：张桂兰 电话：13512345678" in accepted and "家人电话：13912345678" in accepted
    with services.sessions() as s:
        (order,) = s.execute(select(Order)).scalars()
        placer = s.execute(select(User).where(User.openid == R)).scalar_one()
        assert (order.resident_name, order.phone, placer.phone) == ("张桂兰", "13512345678", "13912345678")
