"""Outside tester round 7 (helper fixB): 我住3号楼2单元501 is an address in a longer message; words said at the
address question count as an address only when they look like one."""

from __future__ import annotations

import pytest

from intents.address import extract_address, looks_like_address


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我家水管漏了 明天上午来修一下 我住3号楼2单元501 电话13812345678", "3号楼2单元501"),
        ("帮我修电视 我住3号楼2单元501", "3号楼2单元501"),
        ("俺住5栋301 明儿下午来理发", "5栋301"),
        ("我住院了 想找人陪护", None),
        ("我住这挺好的", None),
        ("我住幸福小区3栋101", "幸福小区3栋101"),
    ],
)
def test_i_live_at_a_door_is_the_address(text: str, expected: str | None) -> None:
    assert extract_address(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("咋还没来 催一下", False),
        ("怎么还没来 催一下", False),
        ("谢谢 那现在怎么办", False),
        ("我也不太清楚了", False),
        ("怎么弄", False),
        ("东风村老王家隔壁", True),
        ("长青里十四号楼", True),
        ("三楼东边那家", True),
        ("进门左手第二家 302", True),
    ],
)
def test_looks_like_an_address(text: str, expected: bool) -> None:
    assert looks_like_address(text) is expected
