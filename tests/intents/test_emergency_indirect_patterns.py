"""Rule families and guards added for indirect talk (intents.emergency, tuned on
tests/data/emergency_tune_indirect.tsv): crime told by what is happening now (a caller steering somebody to transfer
money, a child taken by somebody, being held or followed, the lock tampered with) and self-harm told by signs (a
farewell with the phone off, things given away, the means at hand, an ending planned for tonight), each with the
everyday look-alikes the new guards must leave alone (楼顶 in daily use, 活够了这种…日子, 不想拖累 about an outing,
a threat over a trifle, party games, a fright that was nothing, a theft given up on). All sentences written fresh
here, none copied from the tuning files."""

from __future__ import annotations

import pytest

from intents.emergency import detect_emergency, triage


def _kind(text: str) -> str | None:
    found = detect_emergency(text)
    return found.kind if found else None


@pytest.mark.parametrize("text", [
    "有个男的在电话里叫我外婆赶紧去银行取钱 她现在已经出门了",
    "对方让我爸开共享屏幕 说帮他刷流水 他正在弄",
    "小区里有人把我外孙抱走了 我们根本不认识那个人",
    "我儿子在滑梯那玩 一转眼就不见了",
    "那几个人把门锁了 不让我们走 还把手机收了",
    "刚刚一个人把我的钱包抢走了 往地铁口跑了",
    "半夜有人在弄我家的锁 我一个人在家",
    "楼下有人被按在地上打 好几个人围着",
    "有人在门口说不开门就砸 我好怕",
    "一个男的跟着我从车站走到小区 我现在不敢上楼",
    "门口有人说是来查燃气的 物业根本没通知 他还在敲",
    "司机不按导航走 一直往郊外开",
    "我奶奶被人骗着去买保健品 正在往对方卡里转钱",
])
def test_indirect_crime_now(text: str) -> None:
    assert _kind(text) == "crime", triage(text)


@pytest.mark.parametrize("text", [
    "我舅舅打电话说以后你们自己保重 然后就关机了",
    "我爸把他的手表和存折都交给我 说以后用不着了 今晚不回来了",
    "我姑姑说她要去找我姑父了 把煤气开着没点火",
    "我把炭盆搬进卧室了 门窗都堵上了",
    "安眠药就在我手边 我真的撑不住了",
    "我已经想清楚了 今晚就结束",
    "我站在江边 想下去就不用再烦了",
    "等你们看到这条 我已经不在了",
    "我表哥发朋友圈说再见了这个世界 然后人就联系不上了",
    "家里没有我会更好 大家都能轻松点",
    "我姐把自己关在卧室 门缝里冒烟",
])
def test_indirect_self_harm(text: str) -> None:
    assert _kind(text) == "self_harm", triage(text)


@pytest.mark.parametrize("text", [
    "我在天台晾衣服 风有点大",
    "周末带孩子去楼顶看烟花",
    "真是活够了这样的苦日子 明年一定要换个工作",
    "我不想拖累大家 这次聚会我就不去了",
    "我想消失一阵子 出去旅游散散心",
    "我妈说要打死我 因为我把遥控器弄丢了",
    "周末玩剧本杀 我演的是被绑架的人",
    "我们在玩狼人杀 昨晚我被刀了",
    "我还以为有人在开门 原来是我老伴回来了",
    "电动车被偷了 算了不找了",
    "电视上讲一个人从桥上跳下去的故事",
    "冬天烧煤炉怎么弄才不会中毒",
    "我想教我女儿碰到坏人该怎么跑",
    "有人冒充快递发短信 我没点链接",
    "他跟着我学了两年二胡",
    "这房价简直要我的命",
    "我走快他也走快 我们俩比赛走路",  # a race, not a stalker
    "我走快他也走快 我俩一起锻炼呢",
])
def test_look_alikes_stay_quiet(text: str) -> None:
    assert detect_emergency(text) is None, triage(text)


def test_sleepy_guard_no_longer_hides_a_threat() -> None:
    # 上厕所 told how the writer got away to send the message is no child hard to wake
    assert _kind("那人拿刀逼我转钱 我说上厕所才偷偷发的") == "crime"


def test_sleepy_guard_still_answers_a_faint_reading() -> None:
    assert detect_emergency("孩子叫不醒 早上起床太难了") is None
