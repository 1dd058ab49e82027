"""The outside-written v3 data (tests/data/v3/, README.md there): its tuning half as tests with today's level
pinned as a floor. Only the ``*_tune.*`` files are read here; the held-out half is for the benchmarks'
aggregate figures (benchmarks/emergency.py, benchmarks/semantic.py --section lexical --final)."""

from __future__ import annotations

from pathlib import Path

import pytest

from intents.catalogue import Catalogue
from intents.emergency import KINDS, detect_emergency, triage
from intents.matcher import Matcher
from intents.normalise import normalise
from tests.intents.test_emergency import LABELS, rates

V3 = Path(__file__).resolve().parent.parent / "data" / "v3"
EMERGENCY_TUNE = V3 / "emergency_v3_tune.tsv"
REQUESTS_TUNE = V3 / "requests_v3_tune.tsv"
CHAT_TUNE = V3 / "chitchat_v3_tune.txt"
SERVICE_LABELS = V3 / "service_labels.tsv"

# Today's level on the tuning half (benchmarks/emergency.py: recall 1.000, kind accuracy 1.000, false alarms 0/100;
# benchmarks/semantic.py --section lexical: top-1 86.9 %, wrong accepts 8.1 %, chit-chat accepted 2.0 %), less a
# margin of about two messages: a regression fails, a new phrasing that costs one message does not.
EMERGENCY_RECALL_FLOOR = 0.98
EMERGENCY_KIND_ACCURACY_FLOOR = 0.97
EMERGENCY_FALSE_ALARM_CEILING = 0.02
MATCHER_TOP1_FLOOR = 0.85
MATCHER_WRONG_ACCEPT_CEILING = 0.10
MATCHER_CHAT_ACCEPTED_CEILING = 0.04


def _rows(path: Path, header: str) -> list[tuple[str, str]]:
    """(label, text) rows of a v3 file, without its header line."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and line != header:
            label, _, text = line.partition("\t")
            rows.append((label.strip(), text))
    return rows


def _service_labels() -> dict[str, tuple[str, ...]]:
    """The writer's service descriptions → the catalogue codes that serve them (none: no such service)."""
    table = {}
    for line in SERVICE_LABELS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, _, codes = line.partition("\t")
            table[label.strip()] = tuple(code for code in codes.strip().split(",") if code)
    return table


# -- emergencies -------------------------------------------------------------------------------------------------


def test_emergency_tuning_half_is_well_formed() -> None:
    rows = _rows(EMERGENCY_TUNE, "label\ttext")
    assert {label for label, _ in rows} == set(LABELS)
    kinds = [label for label, _ in rows if label != "none"]
    assert len(kinds) >= 100 and sum(label == "none" for label, _ in rows) >= 100
    assert all(kinds.count(kind) >= 10 for kind in KINDS)


def test_emergency_tuning_half_floors() -> None:
    recall, accuracy, false_alarms = rates(_rows(EMERGENCY_TUNE, "label\ttext"))
    summary = f"v3 tune recall {recall:.3f}, kind accuracy {accuracy:.3f}, false alarms {false_alarms:.3f}"
    assert recall >= EMERGENCY_RECALL_FLOOR, summary
    assert accuracy >= EMERGENCY_KIND_ACCURACY_FLOOR, summary
    assert false_alarms <= EMERGENCY_FALSE_ALARM_CEILING, summary


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("阿公昏去了 叫伊无应", "medical"),  # southern kin words and verbs
        ("我老伴儿一下子就瘫在沙发上了 嘴里咕噜咕噜的", "medical"),
        ("大便全是黑的 人晕乎乎的 脸煞白", "medical"),
        ("我老伴说心口像压了块石头一样疼满头大汗", "medical"),
        ("地下室有烟冒出来 一股塑料烧焦的味道 越来越呛", "fire"),
        ("烤火炉把被子烧着了 我灭了一半又烧起来了", "fire"),  # put out only half: still burning
        ("老两口在屋里生炉子取暖 窗户都关死了 现在都迷迷糊糊的", "gas"),
        ("家里人头痛恶心 烧着煤炉子 是不是中煤气了", "gas"),
        ("有人在抢老太太的包 就在小区门口", "crime"),
        ("我后面有辆车一直跟着我 我走到哪它跟到哪", "crime"),
        ("有人打电话说我儿子被抓了让我马上转五万过去 电话还没挂", "crime"),
        ("这日子过不下去了 今天就做个了断", "self_harm"),
        ("煤气我已经打开了 就这样吧", "self_harm"),
        ("樓上漏水漏到我家 電線都濕了", "water"),
        ("暖气管漏了 开水往外冒 好烫", "water"),  # the burst pipe, not a scald
    ],
)
def test_v3_emergencies(text: str, kind: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == kind, triage(text)


@pytest.mark.parametrize(
    "text",
    [
        "救命啊 这道数学题我不会 帮孙子问问",
        "门锁坏了 钥匙插不进去 找个开锁师傅",
        "我要被这个APP气吐血了 怎么都登不上",
        "邻居家油烟飘过来 呛人",
        "昨天做梦梦见家里着火了 是不是要发财",
    ],
)
def test_v3_look_alikes_stay_quiet(text: str) -> None:
    assert detect_emergency(text) is None, triage(text)


# -- services ----------------------------------------------------------------------------------------------------


def test_service_labels_cover_the_tuning_half_and_name_real_services(catalogue: Catalogue) -> None:
    table = _service_labels()
    assert {label for label, _ in _rows(REQUESTS_TUNE, "service\ttext")} <= set(table)
    assert {code for codes in table.values() for code in codes} <= set(catalogue.codes)
    assert any(not codes for codes in table.values())  # some descriptions have no catalogue service


def test_matcher_tuning_half_floors(matcher: Matcher) -> None:
    table = _service_labels()
    requests = [(table[label], text) for label, text in _rows(REQUESTS_TUNE, "service\ttext")]
    top1 = wrong = 0
    for right, text in requests:
        result = matcher.match(text)
        if not right:  # no such service: "not a service" or a clarify question is right
            top1 += result.decision != "accept"
            wrong += result.decision == "accept"
            continue
        first = result.candidates[0][0] if result.candidates and result.decision != "not_service" else None
        top1 += first in right
        wrong += result.decision == "accept" and result.service not in right
    chat = [line for line in CHAT_TUNE.read_text(encoding="utf-8").splitlines() if line.strip()]
    chat_accepted = sum(matcher.match(text).decision == "accept" for text in chat)
    summary = (f"v3 tune top-1 {top1 / len(requests):.3f}, wrong accepts {wrong / len(requests):.3f}, "
               f"chit-chat accepted {chat_accepted / len(chat):.3f}")
    assert top1 / len(requests) >= MATCHER_TOP1_FLOOR, summary
    assert wrong / len(requests) <= MATCHER_WRONG_ACCEPT_CEILING, summary
    assert chat_accepted / len(chat) <= MATCHER_CHAT_ACCEPTED_CEILING, summary


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("屋头乱得很 想请个人来打整一下", "housekeeping"),  # Sichuan 屋头, 打整
        ("电饭锅不通电了有会修的吗", "repair"),
        ("下个月有义剪吗 我想剪个短头", "haircut"),
        ("房东不退押金 怎么办", "legal"),
        ("帮忙去洗衣店把我的大衣拿回来", "errands"),
        ("字太小了看不清 怎么调大", "digital"),
    ],
)
def test_v3_requests_find_their_service(matcher: Matcher, text: str, code: str) -> None:
    result = matcher.match(text)
    assert result.decision != "not_service" and result.candidates[0][0] == code, result


@pytest.mark.parametrize("text", ["你们这系统是不是坏了", "晚饭吃什么好呢", "我在看电视", "今天菜市场的菜好贵"])
def test_v3_chit_chat_is_not_an_order(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).decision != "accept"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("能上门不", "能上门吗"),  # a question's final 不 is a spoken 吗
        ("有人教不", "有人教吗"),
        ("我不", "我不"),  # a plain no stays
        ("屋头", "家里"),
        ("帮我闺女", "帮我女儿"),
    ],
)
def test_dialect_rewrites(text: str, expected: str) -> None:
    assert normalise(text) == expected
