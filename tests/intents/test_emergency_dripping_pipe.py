"""A burst pipe that only drips is an urgent repair; one that floods, sprays or reaches the wiring is an emergency."""

from __future__ import annotations

import pytest

from intents.emergency import detect_emergency, triage


@pytest.mark.parametrize(
    "text",
    [
        "喂你好我们家厨房的水管爆了一直在滴水能不能快点派个师傅过来越快越好",
        "水管爆了一直在滴水",
        "卫生间管子裂开了 滴答滴答的 找个师傅",
        "水龙头爆了在滴水 想请人来换",
        "家里水管爆了 滴滴答答的 找人修",
    ],
)
def test_a_dripping_burst_pipe_is_not_an_emergency(text: str) -> None:
    assert detect_emergency(text) is None, triage(text)


@pytest.mark.parametrize(
    "text",
    [
        "水管爆了",
        "水管爆了 水哗哗往外喷",
        "水管爆了 滴得到处都是",
        "水管爆了 一直在滴 滴到插座上了",
        "水管爆了在滴水 电线都湿了",
        "水管爆了一直滴 快淹了",
        "暖气片爆了一直在滴",  # hot water scalds
        "水管爆了 满地都是水",
        "水管爆了 滴了一地",
    ],
)
def test_a_burst_pipe_that_floods_or_reaches_the_wiring_is_an_emergency(text: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == "water", triage(text)


@pytest.mark.parametrize("text", ["水管爆了 我在医院打点滴回不去", "水管爆了 我叫了滴滴"])
def test_a_drip_in_hospital_or_the_ride_app_is_not_dripping_water(text: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == "water"
