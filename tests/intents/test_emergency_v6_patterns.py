"""Rule families added for the v6 tuning set's misses (intents.emergency, helper em7), tried on phrasings written
for this test (not the set's rows), and the look-alikes that must stay quiet: a stranger pulling a child, a door or
lock forced, a weapon in the street, groping on a bus, codes read out to a caller now, a driver off the route,
somebody at the window; pills saved up and taken, "死给你看", the railway, charcoal lit, an edge with "要跳"; water
to the chest or coming through the ceiling; fire out of a window, smoke growing; 瓦斯; a slide off a chair, an
allergy closing the throat, a fall into a ditch, a very high blood pressure."""

from __future__ import annotations

import pytest

from intents.emergency import detect_emergency

EMERGENCIES = (
    ("crime", "超市门口有个男的拽着一个小姑娘 小姑娘一直在哭 说不认识他"),
    ("crime", "有人在撬隔壁的门 我从猫眼里看到的"),
    ("crime", "楼下有人拿着菜刀在追人"),
    ("crime", "地铁上有个男的一直在蹭我 我躲开了他又贴过来"),
    ("crime", "我爸现在正在按电话里说的把验证码报给对方"),
    ("crime", "我坐的网约车司机不往我说的地方开 往郊区开了"),
    ("crime", "阳台外面有个人在往里看 我好怕"),
    ("self_harm", "我把攒的安眠药都吃了"),
    ("self_harm", "他把自己关在屋里 说要死给我们看"),
    ("self_harm", "我在铁轨边上 车快来了"),
    ("self_harm", "屋里点了炭盆 别来敲门了"),
    ("self_harm", "我妹妹坐在天台边上 说要跳"),
    ("water", "水已经淹到胸口了 老人还在屋里"),
    ("water", "楼上的水从天花板漏下来 越来越大 屋里有电器"),
    ("fire", "对面楼窗户往外喷火 好吓人"),
    ("fire", "楼道里烟越来越浓 我出不去"),
    ("gas", "屋里好浓的瓦斯味"),
    ("medical", "我爸从凳子上滑下去了不动了"),
    ("medical", "孩子吃了芒果过敏 喉咙肿了 呼吸很急"),
    ("medical", "外婆骑车翻沟里了"),
    ("medical", "老伴血压到了210 头疼得厉害"),
)

LOOK_ALIKES = (
    "我以为有人在撬门 结果是风吹的",
    "电视里有人拿着刀在追人",
    "验证码我没报给他 挂了",
    "孩子摸我的脸",
    "这个天台风景好 不想下来",
    "我在炒个菜 满屋子烟",
    "你们能给我讲讲着火了往上跑还是往下跑吗",
    "她去女儿家住了 好几天没见 下周回来",
    "地上有水 怕老人滑倒",
    "以为着火了 出去一看是在看电视",
    "别误会 那是烧柴火的烟",
    "学校的课讲了铁轨旁边不能玩",
    "楼上漏水 越来越多 想找物业看看 不急",
    "电动车自燃的新闻好吓人",
    "瓦斯费怎么交",
    "血压计多少钱",
    "过敏了 想买点药",
    "刚才锅烧干了冒烟 我已经关火开窗了 没着",
)


@pytest.mark.parametrize(("kind", "text"), EMERGENCIES)
def test_the_family_is_found(kind: str, text: str) -> None:
    found = detect_emergency(text)
    assert found is not None and found.kind == kind, text


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_the_look_alike_stays_quiet(text: str) -> None:
    assert detect_emergency(text) is None, text
