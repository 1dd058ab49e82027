"""Outside tester (fixA), through the whole webhook: the order being made when an emergency came is taken up again by
the answer to its pending question; news that help has come gets a calm word and no second staff alert."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.models import Order
from tests.bot.community.test_household_water_webhook import _to_staff
from tests.dialog import Chat


def test_the_phone_asked_before_a_scam_call_resumes_the_kept_order(chat: Chat, services: Any) -> None:
    assert "联系电话" in (chat.say("oGranny", "帮我修水管 明天上午 幸福小区12栋101") or "")
    assert "96110" in (chat.say("oGranny", "刚接到个电话说是公安局的让我转账") or "")
    summary = chat.say("oGranny", "13811118888") or ""
    assert "回复 1 确认" in summary and "13811118888" in summary and "继续" not in summary
    done = chat.say("oGranny", "1") or ""
    assert "您需要什么服务" not in done
    with services.sessions() as s:
        [order] = s.scalars(select(Order)).all()
    assert (order.service_code, order.phone, order.address) == ("repair", "13811118888", "幸福小区12栋101")
    assert len(_to_staff(services)) == 1


def test_asking_about_the_kept_order_resumes_it_at_its_question(chat: Chat, services: Any) -> None:
    chat.say("oGranny", "帮我修水管 明天上午 幸福小区12栋101")
    chat.say("oGranny", "刚接到个电话说是公安局的让我转账")
    asked = chat.say("oGranny", "好 我挂了 那修水管的事呢") or ""
    assert "联系电话" in asked and "回复“继续”" not in asked


def test_help_arrived_gets_a_calm_word_and_no_second_alert(chat: Chat, services: Any) -> None:
    assert "120" in (chat.say("oGrandpa", "我老伴晕倒了叫不醒") or "")
    assert len(_to_staff(services)) == 1
    calm = chat.say("oGrandpa", "救护车来了 谢谢你们") or ""
    assert "医生" in calm and "转告" not in calm and "如果还没打" not in calm
    assert len(_to_staff(services)) == 1
    worse = chat.say("oGrandpa", "医生到了 可还是叫不醒") or ""
    assert "120" in worse or "转告" in worse


def test_the_gas_valve_shut_gets_a_calm_word_and_no_second_alert(chat: Chat, services: Any) -> None:
    chat.say("oGranny", "家里煤气漏气了 味好大")
    assert len(_to_staff(services)) == 1
    calm = chat.say("oGranny", "关了阀门了 谢谢") or ""
    assert "做得对" in calm and "转告" not in calm and len(_to_staff(services)) == 1
