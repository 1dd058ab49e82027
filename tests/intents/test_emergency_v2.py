"""Emergency triage on the second tuning set (tests/data/emergency_tune_v2.tsv): dialect, typos, third person,
indirect self-harm talk, and the look-alikes residents write all day (笑死我了, 着急上火, a past fall, a check-up)."""

from __future__ import annotations

from pathlib import Path

import pytest

from intents.emergency import KINDS, detect_emergency, triage
from tests.intents.test_emergency import LABELS, MAX_FALSE_ALARMS, MIN_RECALL, load_labelled, rates

TUNE_V2 = Path(__file__).resolve().parent.parent / "data" / "emergency_tune_v2.tsv"
TUNE_V1 = TUNE_V2.with_name("emergency_tune.tsv")


def test_second_tuning_set_is_well_formed_and_new() -> None:
    rows = load_labelled(TUNE_V2)
    assert {label for label, _ in rows} == set(LABELS)
    kinds = [label for label, _ in rows if label != "none"]
    assert len(kinds) >= 300 and sum(label == "none" for label, _ in rows) >= 300
    assert all(kinds.count(kind) >= 30 for kind in KINDS)
    texts = [text for _, text in rows]
    assert len(set(texts)) == len(texts)  # no row twice
    assert not set(texts) & {text for _, text in load_labelled(TUNE_V1)}  # none copied from the first set


def test_second_tuning_set_floors() -> None:
    recall, accuracy, false_alarms = rates(load_labelled(TUNE_V2))
    assert recall >= MIN_RECALL
    assert accuracy >= 0.95
    assert false_alarms <= MAX_FALSE_ALARMS


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我爸叫不醒", "medical"),  # indirect
        ("爷爷突然晕过气了", "medical"),  # dialect
        ("老伴喘不上气来 嘴唇都紫了", "medical"),
        ("老爷子没气了 怎么办", "medical"),
        ("我爸人不行了 快来人啊", "medical"),
        ("老头子昏到了 快来人", "medical"),  # pinyin typo 昏到
        ("邻居家好几天没开门了有味道", "medical"),  # an elder not seen for days
        ("我是她女儿 在外地上班 我妈从昨天到现在都联系不上 能不能去她家看看", "medical"),  # a child for a parent
        ("我妈好像没气了", "medical"),
        ("家里着活了", "fire"),  # 着活 → 着火
        ("我们被烟困在楼上了 下不去", "fire"),
        ("老伴烧水忘了关火 水扑灭了火 现在满屋子煤气味", "gas"),  # a fire put out says nothing about the gas
        ("烧炭取暖 一家人头晕恶心", "gas"),  # carbon monoxide, not self-harm
        ("有人冒充警察打电话 说我涉嫌洗钱 让我把钱转到安全账户", "crime"),
        ("我家孩子放学被一个不认识的人带走了", "crime"),
        ("活着没意思 不想拖累孩子", "self_harm"),
        ("想一了百了", "self_harm"),
        ("老伴走了 我也想跟着去", "self_harm"),
        ("我想去那边找老伴了", "self_harm"),  # 想去 is no service request here
        ("我喝了半瓶敌敌畏", "self_harm"),
        ("孩子把一整瓶药都吃了 是他自己不懂事乱吃的", "medical"),  # a child's accident, not self-harm
        ("孩子掉进水里捞上来了 没气了", "medical"),  # out of the water now: the person first
        ("下暴雨 我家门口的水往屋里灌", "water"),
        ("有人在河里扑腾 快不行了", "water"),
    ],
)
def test_new_emergencies(text: str, kind: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == kind, triage(text)


@pytest.mark.parametrize(
    "text",
    [
        "笑死我了", "气死我了 快递又放错了", "热死了 空调坏了想找人修一下", "饿晕了 中午的老年餐什么时候送",
        "今天吃火锅 好开心", "最近上火了 嘴里起泡", "我老伴又发火了 嫌我菜做咸了", "着急上火 孙子考试没考好",
        "上次摔倒以后腿一直不好 想找人陪我去复查", "我妈上个月晕倒过一次 医生说是低血糖 现在想买个血糖仪",
        "看新闻说有个老人在家摔倒好几天才被发现 太可怜了", "如果着火了应该往哪里跑", "想请人来看看燃气管道安不安全",
        "想学急救 社区有没有课", "一了百了这个词是什么意思 孙子问我", "孙子把我逗得喘不过气来 哈哈",
        "孩子早上叫不醒 上学要迟到了", "孙子说要跳楼梯 吓我一跳 我说不行", "他说话跟放火一样冲",
        "我家电动车被偷了 上个月的事 派出所还没消息", "我是志愿者 刚才那个摔倒的老人已经送到医院了",
        "救命啊 这个手机怎么用啊 孙子不在家", "冰箱里有股臭鸡蛋味 鸡蛋放坏了", "老伴晚上抢我被子",
        "别担心 我没想不开", "邻居好几天没回来 她说去女儿家住了",
    ],
)
def test_new_look_alikes_stay_quiet(text: str) -> None:
    assert detect_emergency(text) is None, triage(text)


def test_a_bare_call_for_help_still_fires_without_a_gadget() -> None:
    found = detect_emergency("救命啊")
    assert found is not None and found.kind == "medical"
    assert "gadget" in triage("救命啊 这个手机怎么用啊").guards
