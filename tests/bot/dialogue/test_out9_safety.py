"""Outside tester out9 (2026-12-04), safety: an emergency gets the first steps that help for what it is (a scam
with money sent, someone shut in a lift, a child in the water, a choking, a scald, a bite, a stopped oxygen
machine), not the fall/unconscious advice or a repair order; a volunteer's own words answer a call-out."""

from __future__ import annotations

import pytest

from bot.dialogue.core import CALLOUT_SLOT, State
from tests.bot.dialogue.corpus import Conv, act, conv, never, no_act, run, says, state

ROWS: list[Conv] = [
    conv("out9-scam-money-sent", ("刚才有人打电话说我孙子被派出所抓了 要我转五万块钱 我已经转了两万了",
                                  says("96110", "银行", "停止转账"), act("emergency", kind="crime"))),
    conv("out9-lift-trapped", ("电梯里困住了 出不去", says("警铃", "96333", "119"), never("摔倒"),
                               act("emergency", kind="fire"))),
    conv("out9-lift-trapped-dialect", ("电梯卡住了 俺在里头出不来", says("96333"), never("摔倒或昏迷"),
                                       act("emergency"))),
    conv("out9-child-in-river", ("河边有个小孩掉水里了", says("119", "120", "漂"), never("高处"),
                                 act("emergency", kind="water"))),
    conv("out9-choking", ("俺家老头晌午吃饭噎着了 喘不上气 脸都紫了", says("120", "海姆立克"), never("侧躺"),
                          act("emergency", kind="medical"))),
    conv("out9-scald", ("孙子被开水烫着了 手上起泡了", says("凉的流水", "不要涂牙膏"), never("侧躺"),
                        act("emergency", kind="medical"))),
    conv("out9-oxygen-machine", ("家里停电了 俺老伴的制氧机用不了了", says("120", "95598"), never("维修服务"),
                                 act("emergency", kind="medical"), state(State.IDLE))),
    # the place said a moment earlier reaches the staff alert, its door marked as not yet said
    conv("out9-alert-keeps-the-place", ("帮我修下水管 明天上午 幸福小区 13812345555",),
         ("那个 我老头子刚才摔了一跤 现在叫不醒",
          act("emergency", phone="13812345555", address="幸福小区（门牌号还没说）"))),
    # waiting for staff (人工): the office's number is still answered, the handover kept
    conv("out9-office-phone-while-handed-over", ("社区电话多少", says("0731-22881234"), state(State.HUMAN)),
         state=State.HUMAN, ctx={"office_phone": "0731-22881234"}),
    # look-alikes stay what they are
    conv("out9-lift-repair", ("电梯又坏了 找人来修修", no_act("emergency"), never("96333"))),
    conv("out9-call-me", ("帮我妈约个理发 明天上午 幸福小区3栋101",), ("她没手机 打我的就行", no_act("emergency"),
                                                                   never("110"))),
    conv("out9-not-a-joke", ("我真的不想活了 不是开玩笑的 今晚就走", says("12356"),
                             act("emergency", kind="self_harm"))),
    # a call-out answered in the volunteer's own words
    conv("out9-callout-own-words", ("收到 俺十分钟后到", act("callout_answer")), slots={CALLOUT_SLOT: 1},
         roles=frozenset({"volunteer"})),
    conv("out9-callout-on-my-way", ("好的 马上到", act("callout_answer")), slots={CALLOUT_SLOT: 1},
         roles=frozenset({"volunteer"})),
]


@pytest.mark.parametrize("c", ROWS, ids=[c.name for c in ROWS])
def test_out9_safety(c: Conv) -> None:
    problems = run(c)
    assert not problems, "\n".join(problems)


def test_a_spoken_address_keeps_its_building_unit_and_room() -> None:
    # out9: voice input puts a filler between the estate and the building; the door was lost to the order's text
    from intents.address import extract_address

    assert extract_address("就是幸福小区那个三号楼二单元五零一") == "幸福小区三号楼二单元五零一"
    assert extract_address("我住幸福小区 那个 3栋") == "幸福小区3栋"
    assert extract_address("幸福小区那个理发店") == "幸福小区"  # no building after it: the filler stays outside
