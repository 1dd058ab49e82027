"""Outside tester leftovers: a relative's phone said at the phone question, a volunteer's phone on file for 代点单,
and the hub's own night for 尽快."""

from __future__ import annotations

import pytest

from bot.dialogue.core import State
from bot.errors import ConfigError
from bot.hubsettings import hub_settings
from tests.bot.dialogue.corpus import Conv, act, conv, draft, never, run, says, state

ROWS: list[Conv] = [
    # a proxy order without her phone yet: "她电话是…" at the phone question is hers, not the placer's own
    conv("fixdlg-proxy-ta-dianhua", ("帮我妈约个理发 明天上午 幸福小区3栋101 她姓刘",),
         ("她电话是13911112222", draft(phone=None), never("您的电话：13911112222")),
         ("13800001111", says("为谁：刘阿姨（139****2222）", "您的电话：13800001111"), state(State.ORDER_CONFIRM)),
         ("1", act("submit_order", phone="13800001111"))),
    conv("fixdlg-proxy-ta-dianhua-on-file", ("帮我妈约个理发 明天上午 幸福小区3栋101 她姓刘",),
         ("俺妈电话13911112222", says("为谁：刘阿姨（139****2222）", "您的电话：13800001111"),
          state(State.ORDER_CONFIRM)),
         phone="13800001111"),
    # a volunteer ordering for a parent: the phone from registration is used, not asked again
    conv("fixdlg-volunteer-for-mum-oneline",
         ("给我妈约个理发 后天上午 向阳新村2栋302 我妈电话13700005555 她姓钱",
          says("为谁：钱阿姨（137****5555）", "您的电话：13800001111"), never("您自己的电话也留"),
          state(State.ORDER_CONFIRM)),
         roles=frozenset({"volunteer"}), phone="13800001111"),
    # the hub's own night: from 22:00 to 06:00, running to 08:00
    conv("fixdlg-hub-night-not-yet", ("我要理发",), ("尽快", never("明早")), at="21:30",
         ctx={"urgent_night": (22, 6, 8)}),
    conv("fixdlg-hub-night-morning", ("我要理发",), ("尽快", says("明早8点前")), at="22:20",
         ctx={"urgent_night": (22, 6, 8)}),
    # a question about the office's hours is answered, never read as the order's time (outside tester out7)
    conv("fixdlg-office-hours-at-phone", ("我要理发 明天上午 幸福小区3栋101",),
         ("另外 你们周末上班吗", says("周一至周五"), never("周六"), state(State.ORDER_PHONE)),
         ("13800001111", says("11月24日"), never("周六"), state(State.ORDER_CONFIRM)),
         ctx={"office_hours": "周一至周五 8:30-17:30"}),
    conv("fixdlg-office-hours-idle", ("社区几点上班", says("8:30-17:30", "办公室电话"), state(State.IDLE)),
         ("俺想问下过年有人值班不", says("上班时间"), state(State.IDLE)),
         ctx={"office_hours": "周一至周五 8:30-17:30", "office_phone": "0731-22881234"}),
    conv("fixdlg-office-hours-not-an-order-time", ("我周末上班 晚上来帮我修下水管子",),
         ("明天晚上", never("上班时间"))),
]


@pytest.mark.parametrize("c", ROWS, ids=[c.name for c in ROWS])
def test_leftover_conversation(c: Conv) -> None:
    problems = run(c)
    assert not problems, "\n".join(problems)


def test_the_night_is_a_hub_setting() -> None:
    assert hub_settings(None).urgent_night == (21, 7, 9)
    assert hub_settings({"urgent_night": [22, 6, 8]}).urgent_night == (22, 6, 8)
    with pytest.raises(ConfigError):
        hub_settings({"urgent_night": [9, 7, 21]})
