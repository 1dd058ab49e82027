"""Normaliser.simplify skips the traditional→simplified converter for a text it would leave as it is: the answer is
always the converter's own."""

from __future__ import annotations

import random

from opencc import OpenCC

from intents.normalise import Normaliser

TEXTS = ["我想理发明天下午三点", "算了不要了", "接单 3", "完成 3 2", "我的订单", "", "abc 123", "頭髮長了幫我剪一下",
         "電腦壞了", "沈默", "他很沈默", "有序排队", "沈船", "明儿个来", "下雨了，水管漏水！！", "幫我修水管 謝謝",
         "單號123456", "發燒了怎麼辦", "乾淨", "后天", "後天", "里面", "裡面", "🙂好的"]


def test_every_text_comes_out_as_the_converter_makes_it() -> None:
    normaliser, converter = Normaliser(), OpenCC("t2s")
    rng = random.Random(7)
    pool = "".join(sorted(set("".join(TEXTS)))) + "国國门門们們这這个個说說时時会會来來对對头頭问問题題学學开開关關"
    texts = TEXTS + ["".join(rng.choice(pool) for _ in range(rng.randint(1, 10))) for _ in range(3000)]
    assert [normaliser.simplify(t) for t in texts] == [converter.convert(t) for t in texts]


def test_the_quick_test_is_on_and_lets_simplified_text_through() -> None:
    normaliser = Normaliser()
    unchanged = normaliser._unchanged
    assert unchanged is not None  # the installed opencc's dictionaries were read
    assert unchanged("我想理发明天下午三点") and unchanged("接单 3")
    assert not unchanged("頭髮") and not unchanged("他很沈默") and not unchanged("有序")
