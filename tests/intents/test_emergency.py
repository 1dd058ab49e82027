"""Emergency triage (intents/emergency.py): the issue's cases, odd input, and accuracy floors."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from intents.emergency import KINDS, Emergency, detect_emergency, fix_typos, triage

DATA = Path(__file__).resolve().parent.parent / "data"
TUNE = DATA / "emergency_tune.tsv"
HELDOUT = DATA / "emergency_heldout.tsv"
LABELS = (*KINDS, "none")
MIN_RECALL = 0.97
MAX_FALSE_ALARMS = 0.05


def load_labelled(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, _, text = line.partition("\t")
        if label.strip() == "label" and text.strip() == "text":  # a header line (the v6 and v7 files have one)
            continue
        rows.append((label.strip(), text))
    return rows


def rates(rows: list[tuple[str, str]]) -> tuple[float, float, float]:
    """(recall, kind accuracy among detected, false-alarm rate) — aggregates only."""
    emergencies = detected = right_kind = nones = alarms = 0
    for label, text in rows:
        found = detect_emergency(text)
        if label == "none":
            nones += 1
            alarms += found is not None
        else:
            emergencies += 1
            if found is not None:
                detected += 1
                right_kind += found.kind == label
    recall = detected / emergencies if emergencies else 1.0
    accuracy = right_kind / detected if detected else 1.0
    return recall, accuracy, (alarms / nones if nones else 0.0)


# -- the issue's examples ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("我妈摔倒了起不来", "medical"),
        ("老伴突然晕过去了", "medical"),
        ("着火了", "fire"),
        ("煤气泄漏了怎么办", "gas"),
        ("家里燃气灶有味道", "gas"),
        ("我不想活了", "self_harm"),
    ],
)
def test_issue_emergencies(text: str, kind: str) -> None:
    found = detect_emergency(text)
    assert found is not None
    assert found.kind == kind
    assert found.cue


@pytest.mark.parametrize("text", ["想请人检查燃气安全", "上次摔倒后想找人陪我复查", "想学急救"])
def test_issue_not_emergencies(text: str) -> None:
    assert detect_emergency(text) is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("救命", "medical"),  # a bare call for help
        ("ＳＯＳ", "medical"),
        ("快打119", "fire"),
        ("俺娘摔了一跤躺地上起不来了咋整", "medical"),  # dialect
        ("老头子摔到了起不来快来人", "medical"),  # pinyin typo 摔到
        ("我老伴在厨房云倒了", "medical"),  # 云倒 → 晕倒
        ("着伙了快来人", "fire"),
        ("煤汽泄露了", "gas"),
        ("我媽摔倒了起不來 快來人", "medical"),  # traditional
        ("著火了", "fire"),
        ("喂喂那个我妈刚才在厕所摔倒了现在起不来了我一个人抬不动怎么办啊", "medical"),  # voice, no punctuation
        ("隔壁王奶奶好几天没出门了 敲门也没人应", "medical"),
        ("我爸一边胳膊抬不起来 嘴也歪了", "medical"),
        ("我吃了很多安眠药", "self_harm"),
        ("不想拖累孩子了", "self_harm"),
        ("有人在撬我家门", "crime"),
        ("家里进水了 被困在屋里出不去", "water"),
        ("水管爆了", "water"),
        ("老伴煤气中毒了", "gas"),  # the cause wins over the consequence
        ("我被人打了 头在流血", "crime"),
    ],
)
def test_more_emergencies(text: str, kind: str) -> None:
    found = detect_emergency(text)
    assert found == Emergency(kind, found.cue if found else "")


@pytest.mark.parametrize(
    "text",
    [
        "灭火器过期了", "燃气费怎么交", "水管滴水想找人修", "气死我了", "饿死了", "累死了", "笑死", "想死你了",
        "跳楼价大甩卖", "他是我的救命恩人", "燃气灶打不着火了 想找人修", "煤气罐没气了 帮我换一罐",
        "手机进水了开不了机",
        "看新闻说隔壁小区着火了", "前几天水管爆了 已经修好了", "万一着火了应该怎么跑", "想买个烟雾报警器",
        "社区有没有急救培训", "消防安全讲座什么时候", "我不想活动 腿疼", "帮我跟踪一下订单", "打我电话就行",
        "刚才摔了一下 没事了", "手机摔了一下 屏幕碎了", "楼下有人抽烟 烟味都飘上来了", "你们快点来呀 等了好久了",
        "不得了了 我孙子考了一百分", "想請人檢查燃氣安全",
    ],
)
def test_look_alikes_do_not_fire(text: str) -> None:
    assert detect_emergency(text) is None, triage(text)


# -- odd input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", " ", "\n\t  　", "😂😂😂", "🔥🔥🔥", "🙏", "[流泪]", "。。。！！！", "\x00\x01", "123"]
)
def test_odd_input_is_not_an_emergency(text: str) -> None:
    assert detect_emergency(text) is None


def test_random_characters_do_not_crash() -> None:
    # how fast is the benchmark's business (benchmarks/emergency.py prints p50/p99): no timing in tests
    rng = random.Random(20261123)
    alphabet = [chr(c) for c in range(0x4E00, 0x9FFF)] + list("abc ,.!?，。！？😀🔥\n\t") + ["\ud7ff", "\u200b"]
    text = "".join(rng.choice(alphabet) for _ in range(5000))
    result = detect_emergency(text)
    assert result is None or result.kind in KINDS
    # random Chinese characters of the common planes: no crash either way, and an emoji flood is quiet
    assert detect_emergency("😀" * 5000) is None


def test_result_is_frozen_and_deterministic() -> None:
    first = detect_emergency("我妈摔倒了起不来")
    assert first == detect_emergency("我妈摔倒了起不来")
    assert first is not None
    with pytest.raises(AttributeError):
        first.kind = "fire"  # type: ignore[misc]


def test_typo_fixing_keeps_everyday_homophones() -> None:
    assert fix_typos("云倒了") == "晕倒了"
    assert fix_typos("煤汽") == "煤气"
    assert fix_typos("没气了") == "没气了"  # 没气 reads like 煤气 but is a word of its own
    assert fix_typos("有人敲门") == "有人敲门"
    assert fix_typos("什么时候") == "什么时候"


# -- accuracy floors ------------------------------------------------------------------------------


def test_tuning_set_is_well_formed() -> None:
    rows = load_labelled(TUNE)
    assert {label for label, _ in rows} == set(LABELS)
    kinds = [label for label, _ in rows if label != "none"]
    assert len(kinds) >= 160
    assert sum(label == "none" for label, _ in rows) >= 160
    assert all(kinds.count(kind) >= 20 for kind in KINDS)


def test_tuning_set_floors() -> None:
    recall, accuracy, false_alarms = rates(load_labelled(TUNE))
    assert recall >= MIN_RECALL
    assert accuracy >= 0.95
    assert false_alarms <= MAX_FALSE_ALARMS


HELDOUT_RECALL_FLOOR = 0.93
HELDOUT_V2 = DATA / "heldout_v2" / "emergencies.tsv"
HELDOUT_V2_RECALL_FLOOR = 0.81
HELDOUT_V2_FALSE_ALARM_CEILING = 0.07


@pytest.mark.skipif(not HELDOUT.exists(), reason="held-out set not present")
def test_heldout_set_floors() -> None:
    # Blind set: assert on aggregate figures only, so that a failure never shows its texts.
    # The target is recall >= 0.97 (MIN_RECALL); the rules reach 0.933 on this set (benchmarks/emergency.py), so
    # this floor guards today's level against regressions until a semantic second opinion closes the gap.
    recall, _, false_alarms = rates(load_labelled(HELDOUT))
    summary = f"held-out recall {recall:.3f}, false alarms {false_alarms:.3f} (target recall {MIN_RECALL})"
    assert recall >= HELDOUT_RECALL_FLOOR and false_alarms <= MAX_FALSE_ALARMS, summary


HELDOUT_V7 = DATA / "v7" / "emergency_v7_heldout.tsv"  # outside-written, blind, all held out (its README)
HELDOUT_V7_RECALL_FLOOR = 0.84
HELDOUT_V7_FALSE_ALARM_CEILING = 0.085


# Blind sets, aggregates only, short of the targets (0.97, 5 %): floors against regressions, not the goal.
# v2: today's level recall 0.820, false alarms 6.2 %. v7, the rules alone on first sight (2026-12-04): recall 0.857
# (234/273), false alarms 7.4 % (22/299).
BLIND_FLOORS = [(HELDOUT_V2, HELDOUT_V2_RECALL_FLOOR, HELDOUT_V2_FALSE_ALARM_CEILING),
                (HELDOUT_V7, HELDOUT_V7_RECALL_FLOOR, HELDOUT_V7_FALSE_ALARM_CEILING)]


@pytest.mark.parametrize(("path", "recall_floor", "false_alarm_ceiling"), BLIND_FLOORS,
                         ids=[path.parent.name for path, _, _ in BLIND_FLOORS])
def test_blind_set_floors(path: Path, recall_floor: float, false_alarm_ceiling: float) -> None:
    if not path.exists():
        pytest.skip(f"{path.name} not present")
    recall, _, false_alarms = rates(load_labelled(path))
    summary = f"{path.parent.name}/{path.name}: recall {recall:.3f}, false alarms {false_alarms:.3f}"
    assert recall >= recall_floor and false_alarms <= false_alarm_ceiling, summary
