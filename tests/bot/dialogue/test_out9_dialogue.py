"""Outside tester out9 (2026-12-04), the rest of the dialogue: a rating word with a complaint after it keeps both
("还行吧 就是来晚了"), praise of one side ("态度五星") beside the hearts given is a comment, not a second rating."""

from __future__ import annotations

import pytest

from bot.dialogue.core import State
from intents.rating import parse_rating
from tests.bot.dialogue.corpus import Conv, act, conv, never, run, says, state

RATING = {"state": State.RATE, "slots": {"rate_order": 7}}
ROWS: list[Conv] = [
    conv("out9-rate-verdict-and-complaint", ("还行吧 就是来晚了", act("rate", order=7, hearts=3),
                                             act("comment", comment="还行吧 就是来晚了")), **RATING),
    conv("out9-rate-hearts-and-aspect", ("给3颗心吧 师傅人不错 态度五星", act("rate", order=7, hearts=3),
                                         act("comment", comment="师傅人不错 态度五星")), **RATING),
    conv("out9-rate-so-so", ("凑合吧", act("rate", order=7, hearts=3)), **RATING),
    # money is no 便民借用 item: said kindly, the order under way kept
    conv("out9-money-mid-order", ("我要理发 明天上午 幸福小区3栋101",),
         ("能借我点钱吗", says("借钱这件事志愿者帮不上", "留着"), never("便民借用"), state(State.ORDER_PHONE))),
    conv("out9-money-idle", ("借俺两百块 下个月还", says("人工"), never("便民借用"), state(State.IDLE))),
    conv("out9-borrow-an-item", ("想借个梯子换灯泡", never("借钱"))),
    # another volunteer wanted: staff arrange it, told the words
    conv("out9-other-volunteer", ("我不要这个师傅了 能换一个吗", state(State.HUMAN), says("换志愿者"),
                                  act("human_handover", topic="要求换志愿者"))),
    conv("out9-change-the-time-is-not-a-volunteer", ("换个时间吧", never("换志愿者"))),
    # 代点单 with the mother's phone: "1" to the optional own-phone question goes on; no stray 她 in the content
    conv("out9-proxy-own-phone-1", ("我妈叫刘桂芬 她电话13700002222 帮她约个陪诊 下周一上午 去市一医院 她住幸福小区8栋",
                                    says("不留回复“不用”")),
         ("1", state(State.ORDER_CONFIRM), says("内容：帮她约个陪诊"), never("还差一个联系电话"))),
    # at the summary, another job of the same service with its own day and place: a second order, or this one
    # changed, asked; never the waiting one rewritten (out9: the pipe job moved to another day, the lock lost)
    conv("out9-second-job-both", ("明天下午帮我修水管 幸福小区2栋301 13812345678",),
         ("后天上午帮我修门锁 幸福小区1栋", state(State.ORDER_SWITCH), says("另一件事", "帮我修门锁")),
         ("2", state(State.ORDER_CONFIRM), says("内容：帮我修水管", "11月24日")),
         ("1", act("submit_order", details="帮我修水管", address="幸福小区2栋301"))),
    conv("out9-second-job-instead", ("明天下午帮我修水管 幸福小区2栋301 13812345678",),
         ("后天上午帮我修门锁 幸福小区1栋", state(State.ORDER_SWITCH)),
         ("1", state(State.ORDER_CONFIRM), says("内容：帮我修门锁", "11月25日", "幸福小区1栋"))),
    conv("out9-same-job-new-day-is-a-change", ("明天下午帮我修水管 幸福小区2栋301 13812345678",),
         ("后天上午修水管", never("另一件事"), says("11月25日"))),
    # a complaint asked to rate: to staff, who are told the words and the order
    conv("out9-complaint-names-the-order", ("太差了 头发剪得乱七八糟", state(State.HUMAN),
                                            act("human_handover", complaint="太差了 头发剪得乱七八糟", order=7)),
         **RATING),
]


@pytest.mark.parametrize("c", ROWS, ids=[c.name for c in ROWS])
def test_out9_dialogue(c: Conv) -> None:
    problems = run(c)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("said", "hearts"), [("给3颗心吧 师傅人不错 态度五星", 3), ("服务态度五星 给4颗心", 4),
                                              ("态度五星", 5), ("给3颗心 5星", None)])
def test_praise_of_one_side_is_not_a_second_rating(said: str, hearts: int | None) -> None:
    assert parse_rating(said) == hearts
