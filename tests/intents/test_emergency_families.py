"""Rule families for text the emergency cues were not tuned on (the outside-written v4 tuning half and the
hand-written probes of tests/data/emergency_tune_families.tsv): each family with a message it must catch and a
look-alike it must leave alone, written fresh here (not copied from the data files)."""

from __future__ import annotations

import pytest

from intents.emergency import detect_emergency, prepare


@pytest.mark.parametrize(("text", "kind"), [
    # a long lie on the floor, told without the word fall
    ("我早上去厕所滑了一下 一直坐在地上到现在 腿使不上劲", "medical"),
    ("先不说买菜了 我躺在地上好几个小时了", "medical"),
    # a baby gone limp after a fever
    ("孙女发烧一晚上 现在不哭了 软绵绵的", "medical"),
    # the daily call that did not come
    ("我妈每天早上都给我打电话 今天没打 打过去也没人接 她一个人住", "medical"),
    # a request that turns into an emergency halfway
    ("想约个师傅修水管 不是滴水 是爆了 水喷得满屋都是", "water"),
    ("水从吊灯那里往下滴 越漏越快", "water"),
    # crime happening now
    ("半夜醒来发现客厅里站着一个陌生人", "crime"),
    ("外孙在超市里不见了 穿蓝衣服 五岁", "crime"),
    ("对方说我涉嫌洗钱 让我配合调查 不许挂电话", "crime"),
    ("有人说是客服 让我把验证码念给他听", "crime"),
    ("手机被远程控制了 卡里的钱一直在少", "crime"),
    ("我刚被一个骑电动车的抢了 他往北跑了", "crime"),
    ("有个男的拽着一个小孩往车上拉", "crime"),
    # self-harm said indirectly
    ("帮我跟我儿子说声对不起 我想好了 今晚就走", "self_harm"),
    ("不想再拖累家里了 今晚就走", "self_harm"),
    ("我病成这样 不打算活了", "self_harm"),
    ("刚吞了一整瓶安定", "self_harm"),
    # pinyin-confusable typos of 煤气
    ("家里好浓的没气味", "gas"),
    ("没汽泄漏了 怎么办", "gas"),
    # a fire outside the house
    ("院子里的柴火堆着了 快烧到屋了", "fire"),
    ("车库里冒出好多烟", "fire"),
    # a will that goes with a leaving tonight, a car turned into a tomb
    ("遗嘱都写好了 今晚就走", "self_harm"),
    ("我爸把自己锁在车里 车里在烧炭", "self_harm"),
    # somebody climbing outside a window, a child who swallowed bathwater
    ("有人在我家窗户外面爬 这是四楼", "crime"),
    ("孙子在浴缸里呛了好多水 一直咳", "water"),
])
def test_a_family_catches(text: str, kind: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == kind, text


@pytest.mark.parametrize("text", [
    "孩子的书包在学校丢了 找不到了",
    "我爸每天都去下棋 今天下雨没去",
    "想约个师傅修水管 不急 有空再来",
    "手机银行要我输验证码 怎么弄",
    "有人打电话让我转账 我没给他 是不是骗子",
    "我看到消防车开过去了 是哪里着火了吗",
    "我把旧衣服都送人了 屋里宽敞多了",
    "出门旅游 猫托给邻居了",
    "我上次晕倒是低血糖 现在随身带糖",
    "我娘去年摔了一跤 现在走路离不开拐棍 想借个轮椅",
    "这个香水没气味",
    "家里没气了 要换煤气罐",
    "心里很安定",
    "洪水猛兽一样的噪音 能不能管管",
    "我写了遗嘱 想找人公证一下",
    "老伴说话有点含糊 是假牙松了",
    "楼下张大爷每天都遛弯 今天没看见 估计去女儿家了",
])
def test_a_family_leaves_alone(text: str) -> None:
    assert detect_emergency(text) is None, text


@pytest.mark.parametrize(("text", "kind"), [
    # the new guards (原来是..., a scam turned down, a bystander, a request turned) must not hide these
    ("原来是煤气漏了 我妈头晕", "gas"),
    ("楼下哪里着火了 好大的烟 快", "fire"),
    ("他说我不给钱就杀了我", "crime"),
    ("我没给钱他就打我 现在还在打", "crime"),
    ("救护车开过去了 我爸还倒在地上起不来", "medical"),
    ("想找人修一下门 算了 有人在撬我家的锁", "crime"),
])
def test_the_new_guards_leave_a_present_emergency_alone(text: str, kind: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == kind, text


def test_context_typos_are_rewritten_only_in_context() -> None:
    assert "煤气味" in prepare("闻到一股没汽味")[1]
    assert "没气" in prepare("跑得没气了")[1]
    assert "没汽油" in prepare("车没汽油了")[1]
    assert "安眠药" in prepare("吃了一瓶艾司唑仑")[1]
