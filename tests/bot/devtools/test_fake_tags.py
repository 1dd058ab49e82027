"""The fake WeChat refuses in the tags API what WeChat refuses (User_Tag_Management; the codes in WECHAT_RULES.md),
and a 群发 by tag reaches the tag's followers under the same limits as one by openid list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests

from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from tests.bot.channels.test_fake_rules import call, draft, fake, stable_token, token  # noqa: F401 - fixtures

__all__ = ["fake", "token"]


def create(fake: FakeWeChatServer, token: str, name: str) -> dict[str, Any]:
    res = requests.post(fake.url + "/cgi-bin/tags/create", params={"access_token": token},
                        json={"tag": {"name": name}}, timeout=5)
    return dict(res.json())


def tag(fake: FakeWeChatServer, token: str, tag_id: int, openids: list[str], *, off: bool = False) -> int:
    path = "/cgi-bin/tags/members/batchuntagging" if off else "/cgi-bin/tags/members/batchtagging"
    return call(fake, path, token, {"openid_list": openids, "tagid": tag_id})


def sendall(fake: FakeWeChatServer, token: str, tag_id: int, media: str, cid: str) -> int:
    return call(fake, "/cgi-bin/message/mass/sendall", token,
                {"filter": {"is_to_all": False, "tag_id": tag_id}, "msgtype": "mpnews",
                 "mpnews": {"media_id": media}, "clientmsgid": cid})


def test_tag_names_are_unique_short_and_at_most_a_hundred(fake: FakeWeChatServer, token: str) -> None:
    first = create(fake, token, "队伍 爱心理发队#1")
    assert first["tag"]["name"] == "队伍 爱心理发队#1" and first["tag"]["id"] >= 100
    assert create(fake, token, "队伍 爱心理发队#1")["errcode"] == 45157  # the same name again
    assert create(fake, token, "星标组")["errcode"] == 45157  # WeChat's own tag's name
    assert create(fake, token, "一二三四五六七八九十一")["errcode"] == 45158  # 33 bytes: over 30
    assert create(fake, token, "一二三四五六七八九十")["tag"]["name"]  # 30 bytes fit
    assert create(fake, token, "")["errcode"] == 45158
    for i in range(98):
        assert "tag" in create(fake, token, f"t{i}")
    assert create(fake, token, "one too many")["errcode"] == 45056
    listed = requests.get(fake.url + "/cgi-bin/tags/get", params={"access_token": token}, timeout=5).json()["tags"]
    assert len(listed) == 101 and {"id": 2, "name": "星标组", "count": 0} in listed
    assert call(fake, "/cgi-bin/tags/delete", token, {"tag": {"id": 2}}) == 45058  # a system tag
    assert call(fake, "/cgi-bin/tags/delete", token, {"tag": {"id": first["tag"]["id"]}}) == 0
    assert call(fake, "/cgi-bin/tags/delete", token, {"tag": {"id": first["tag"]["id"]}}) == 45159  # gone
    assert "tag" in create(fake, token, "room again")
    assert create(fake, "not-a-token", "x")["errcode"] == 40001


def test_tagging_refusals(fake: FakeWeChatServer, token: str) -> None:
    for o in ("oT1", "oT2"):
        fake.follower(o)
    tid = int(create(fake, token, "小区 幸福小区#2")["tag"]["id"])
    assert tag(fake, token, 999, ["oT1"]) == 45159  # no such tag
    assert tag(fake, token, tid, [f"o{i}" for i in range(51)]) == 40032  # over 50 openids
    assert tag(fake, token, tid, []) == 40032
    assert tag(fake, token, tid, ["oT1", "oStranger"]) == 40003  # not a follower: the whole call refused
    assert fake.state.people["oT1"].tags == set()
    assert tag(fake, token, tid, ["oT1", "oT2"]) == 0
    assert tag(fake, token, tid, ["oT1"]) == 0  # tagging again is no error
    page = requests.post(fake.url + "/cgi-bin/user/tag/get", params={"access_token": token},
                         json={"tagid": tid, "next_openid": ""}, timeout=5).json()
    assert page["data"]["openid"] == ["oT1", "oT2"] and page["count"] == 2
    ids = requests.post(fake.url + "/cgi-bin/tags/getidlist", params={"access_token": token}, json={"openid": "oT1"},
                        timeout=5).json()
    assert ids["tagid_list"] == [tid]
    assert call(fake, "/cgi-bin/tags/getidlist", token, {"openid": "oStranger"}) == 40003
    others = [int(create(fake, token, f"n{i}")["tag"]["id"]) for i in range(20)]
    for other in others[:19]:
        assert tag(fake, token, other, ["oT1"]) == 0
    assert tag(fake, token, others[19], ["oT2", "oT1"]) == 45059  # oT1 carries 20 tags: nobody is tagged
    assert others[19] not in fake.state.people["oT2"].tags
    assert tag(fake, token, tid, ["oT1"], off=True) == 0
    assert tag(fake, token, others[19], ["oT1"]) == 0  # room again


def test_sendall_by_tag_reaches_its_followers_within_the_monthly_limit(fake: FakeWeChatServer, clock: FakeClock,
                                                                        token: str) -> None:
    for o in ("oS1", "oS2", "oS3"):
        fake.follower(o)
    tid = int(create(fake, token, "队伍 理发#3")["tag"]["id"])
    assert tag(fake, token, tid, ["oS1", "oS2"]) == 0
    media = draft(fake, token)
    assert sendall(fake, token, 12345, media, "x") == 40050  # no such tag
    assert [sendall(fake, token, tid, media, f"c{i}") for i in range(4)] == [0, 0, 0, 0]
    assert sendall(fake, token, tid, media, "c0") == 45065  # that clientmsgid went already
    assert sendall(fake, token, tid, media, "c5") == 45028  # they have had their 4 this month
    got = fake.received()
    assert len(got["oS1"]) == len(got["oS2"]) == 4 and "oS3" not in got
    clock.set(datetime(2026, 11, 30, 16, 0, tzinfo=UTC))  # a new month in Beijing
    assert sendall(fake, stable_token(fake), tid, media, "c6") == 0


def test_a_subscription_account_sends_by_tag_once_a_day_and_never_by_openid_list(fake: FakeWeChatServer,
                                                                                   clock: FakeClock,
                                                                                   token: str) -> None:
    fake.rules.account = "subscription"
    for o in ("oS1", "oS2"):
        fake.follower(o)
    tid = int(create(fake, token, "全部关注者#4")["tag"]["id"])
    assert tag(fake, token, tid, ["oS1", "oS2"]) == 0
    media = draft(fake, token)
    assert call(fake, "/cgi-bin/message/mass/send", token, {"touser": ["oS1", "oS2"], "msgtype": "mpnews",
                                                            "mpnews": {"media_id": media}}) == 48001
    assert sendall(fake, token, tid, media, "d1") == 0
    assert sendall(fake, token, tid, media, "d2") == 45028  # one 群发 a (Beijing) day
    clock.advance(days=1)  # the next day in Beijing (with a fresh token: one lasts 2 hours)
    assert sendall(fake, stable_token(fake), tid, media, "d3") == 0
