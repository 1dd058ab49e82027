"""The semantic second opinion may veto a weak rule hit (intents.emergency.weak_hit: one ambiguous cue, no urgency,
no call for help, nobody named) when it is confident the message is no emergency; a strong hit always stands. The
similarities are placed by hand (a fixed message vector against one example per label), and one test goes through
the pure dialogue step with the fake bag-of-characters model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest

from bot.dialogue import step
from bot.dialogue.core import Context, State
from bot.dialogue.messages import Incoming
from bot.dialogue.nlu import Understanding
from bot.dialogue.safety import emergency_reply
from intents.catalogue import load_catalogue
from intents.emergency import CUE, STRONG, Emergency, detect_emergency, triage, weak_hit
from intents.semantic import (
    DISMISS_MARGIN,
    NONE,
    EmergencyReview,
    ExampleIndex,
    SemanticEmergency,
    SemanticLayer,
    Vectors,
    detect_emergency_hybrid,
)
from tests.fake_embedder import CharEmbedder

FALL = "今天摔倒了"  # one fall cue of weight CUE, nobody else named, no urgency
FIRE_TOO_BIG = "厨房里火太大"  # one fire cue of weight STRONG
STRONG_FIRE = "厨房着火了"  # a critical cue: never weak


class Fixed:
    """Every message embeds to (1, 0, 0): its similarity to an example is the example's first coordinate."""

    name = "fixed-message"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.asked.extend(texts)
        return np.tile(np.array([1.0, 0.0, 0.0], dtype=np.float32), (len(texts), 1))


def placed(kind: str, score: float, none: float) -> ExampleIndex:
    """One ``kind`` example the message scores ``score`` against, one look-alike it scores ``none`` against."""
    vectors = [[score, (1 - score**2) ** 0.5, 0.0], [none, 0.0, (1 - none**2) ** 0.5]]
    return ExampleIndex([kind, NONE], ["例子", "像的"], vectors)


def review(kind: str, score: float, none: float, **kw: object) -> SemanticEmergency:
    return SemanticEmergency(Fixed(), placed(kind, score, none), k=1, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "weight"), [(FALL, CUE), (FIRE_TOO_BIG, STRONG), ("胸口有点闷闷的", CUE)])
def test_a_single_ambiguous_cue_alone_is_weak(text: str, weight: int) -> None:
    assert detect_emergency(text) is not None
    assert weak_hit(triage(text)) == weight


@pytest.mark.parametrize("text", [
    STRONG_FIRE,  # a critical cue
    "我妈今天摔倒了",  # somebody named
    "今天摔倒了 怎么办",  # urgency
    "救命 今天摔倒了",  # a call for help
    "我在路上摔倒了",  # two cues agree
    "我爸晕倒了叫不醒",
])
def test_a_cue_with_anything_more_is_not_weak(text: str) -> None:
    assert detect_emergency(text) is not None
    assert weak_hit(triage(text)) is None


def test_no_emergency_is_not_weak() -> None:
    assert weak_hit(triage("明天上午帮我理个发")) is None
    assert weak_hit(triage("")) is None


def test_a_weak_hit_is_dismissed_only_when_the_look_alikes_lead_by_its_margin() -> None:
    assert DISMISS_MARGIN[CUE] < DISMISS_MARGIN[STRONG]  # a strong cue needs a surer reading
    assert review("medical", 0.93, 0.95).dismisses(FALL)  # none ahead by 0.02 ≥ 0.01
    assert not review("medical", 0.945, 0.95).dismisses(FALL)  # ahead by 0.005 only
    assert not review("medical", 0.96, 0.95).dismisses(FALL)  # the kind ahead
    assert not review("fire", 0.935, 0.95).dismisses(FIRE_TOO_BIG)  # 0.015: not enough for a strong cue
    assert review("fire", 0.92, 0.95).dismisses(FIRE_TOO_BIG)


def test_a_strong_hit_no_hit_and_a_short_message_are_never_dismissed() -> None:
    sure = review("fire", 0.5, 0.99)  # the look-alikes as far ahead as they can be
    assert not sure.dismisses(STRONG_FIRE)
    assert not sure.dismisses("明天上午帮我理个发")
    short = "摔倒了"  # three Han characters: below the second opinion's gate, the rules stand
    assert weak_hit(triage(short)) == CUE and not sure.dismisses(short)
    assert isinstance(sure.embedder, Fixed) and sure.embedder.asked == []  # nothing was even embedded


def test_an_empty_margin_table_turns_the_dismissal_off() -> None:
    assert not review("medical", 0.5, 0.99, dismiss_margin={}).dismisses(FALL)


def test_the_hybrid_drops_a_dismissed_weak_hit_and_keeps_the_rest() -> None:
    sure = review("medical", 0.5, 0.99)
    assert detect_emergency_hybrid(FALL, sure) is None
    assert detect_emergency_hybrid(FALL, None) == detect_emergency(FALL)  # no model: the rules alone
    found = detect_emergency_hybrid(STRONG_FIRE, sure)
    assert found is not None and found.kind == "fire"
    own = Emergency("medical", "own rules")
    assert detect_emergency_hybrid(FALL, sure, rules=lambda _: own) == own  # weakness is read from the shipped rules


def _nlu(second_opinion: object) -> Understanding:
    return Understanding(load_catalogue(), second_opinion=second_opinion)  # type: ignore[arg-type]


def test_the_dialogues_understanding_asks_the_review_to_dismiss_weak_hits_only() -> None:
    nlu = _nlu(EmergencyReview(review("medical", 0.5, 0.99)))
    assert nlu.emergency(FALL) is None
    found = nlu.emergency(STRONG_FIRE)
    assert found is not None and found.kind == "fire"
    plain = _nlu(lambda _: None)  # a second opinion without ``dismisses``: the rules' hits all stand
    assert plain.emergency(FALL) == detect_emergency(FALL)
    assert Understanding(load_catalogue()).emergency(FALL) == detect_emergency(FALL)


def test_the_review_still_adds_what_the_rules_missed() -> None:
    text = "楼上的水哗哗往我家灌"
    assert detect_emergency(text) is None
    found = _nlu(EmergencyReview(review("water", 0.99, 0.5))).emergency(text)
    assert found is not None and found.kind == "water"


def test_the_layers_second_opinion_is_a_review_and_without_examples_says_nothing() -> None:
    empty = EmergencyReview(None)
    assert empty(FALL) is None and not empty.dismisses(FALL)
    sure = review("medical", 0.5, 0.99)
    layer = SemanticLayer(None, None, sure, None)  # type: ignore[arg-type]
    assert isinstance(layer.second_opinion, EmergencyReview)
    assert layer.second_opinion.dismisses(FALL) and layer.emergency(FALL) is None


def _say(nlu: Understanding, body: str) -> tuple[str | None, list[str], str]:
    at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    msg = Incoming(kind="text", openid="o-resident", account="gh_hub", create_time=int(at.timestamp()), msg_id="1",
                   text=body)
    res = step.step(State.IDLE, {}, msg, Context(hub_name="阳光社区雷锋超市", now=at, nlu=nlu))
    return res.reply, [a.name for a in res.actions], res.state


def test_through_the_dialogue_with_the_fake_model() -> None:
    weak_alike = "今天摔倒了"
    model = CharEmbedder(dim=256, name="fake-chars-veto")
    rows = [(NONE, "今天摔倒了 扶住了 没事"), (NONE, "今天差点摔倒了 还好没事"),
            ("medical", "老伴晕倒了 叫不醒 快来人"), ("medical", "我爸突然倒地不起")]
    index = ExampleIndex.build(model, rows)
    nlu = _nlu(EmergencyReview(SemanticEmergency(model, index, k=1)))
    assert detect_emergency(weak_alike) is not None and weak_hit(triage(weak_alike)) == CUE
    reply, actions, _ = _say(nlu, weak_alike)
    assert "emergency" not in actions and "120" not in (reply or "")  # dismissed: answered as any other message
    reply, actions, state = _say(nlu, "老伴晕倒了 叫不醒")  # strong: the emergency answer, whatever the model says
    assert actions == ["emergency"] and reply == emergency_reply("medical") and state == State.IDLE
    reply, actions, _ = _say(_nlu(None), weak_alike)  # the rules alone: the weak hit is an emergency
    assert actions == ["emergency"]
