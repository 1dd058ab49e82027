"""A strong keyword the resident asked for stands (HybridThresholds.keep_asked_score): "帮我修水管" was answered with
"1 维修服务 2 代购代办 3 家庭教育" because the semantic matcher agreed on 维修 by less than keep_margin."""

from __future__ import annotations

from intents.matcher import MatchResult
from intents.semantic import HybridThresholds, SemanticResult, combine

SHIPPED = HybridThresholds()
STRONG = MatchResult("repair", "accept", 0.9896, (("repair", 0.9896),))  # 帮我修水管: below keep_score
WEAKER = MatchResult("repair", "accept", 0.977, (("repair", 0.977),))


def agreeing_narrowly(best: str = "repair") -> SemanticResult:
    """The same best service, ahead of chit-chat and the runner-up by less than keep_margin."""
    return SemanticResult(best, 0.90, 0.895, 0.895, ((best, 0.90), ("errands", 0.895)), "clarify",
                          ((best, 0.90), ("errands", 0.895), ("parenting", 0.89)))


def test_a_strong_keyword_asked_for_is_accepted() -> None:
    result = combine(STRONG, agreeing_narrowly(), request_cue=True, thresholds=SHIPPED)
    assert (result.decision, result.service) == ("accept", "repair")


def test_without_a_request_cue_or_below_the_score_it_is_still_asked() -> None:
    assert combine(STRONG, agreeing_narrowly(), request_cue=False, thresholds=SHIPPED).decision == "clarify"
    assert combine(WEAKER, agreeing_narrowly(), request_cue=True, thresholds=SHIPPED).decision == "clarify"


def test_a_semantic_matcher_that_reads_another_service_still_overrules_the_keyword() -> None:
    result = combine(STRONG, agreeing_narrowly("errands"), request_cue=True, thresholds=SHIPPED)
    assert result.decision == "clarify"
