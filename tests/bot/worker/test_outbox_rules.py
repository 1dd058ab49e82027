"""The delivery rules, pure: quotas from what a user did, notice kinds, template fields, the route for a message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.devtools.fake_wechat import template_value_problem
from bot.outbox_rules import (
    DEFAULT_FIELDS,
    PRIORITY_BACKGROUND,
    PRIORITY_EMERGENCY,
    PRIORITY_HIGH,
    PRIORITY_LOW,
    PRIORITY_NORMAL,
    Facts,
    Notice,
    Reach,
    Route,
    classify,
    fit,
    grants,
    headline,
    may_take_slot,
    merge_texts,
    quota_left,
    routes,
    template_data,
)

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")


def test_the_latest_message_gives_five_for_48_hours_and_an_event_three_for_a_minute() -> None:
    g = grants([("text", T0, 1), ("event:click", T0 + timedelta(minutes=5), 2), ("voice", T0 + timedelta(hours=1), 3),
                ("event:view", T0 + timedelta(hours=2), 4), ("event:unsubscribe", T0, 5)])
    assert [(x.at, x.limit, x.seq) for x in g] == [(T0 + timedelta(hours=1), 5, 3), (T0 + timedelta(minutes=5), 3, 2)]
    now = T0 + timedelta(hours=2)
    assert quota_left(g, [], now) == 5
    assert quota_left(g, [(now, 3)] * 4, now) == 1  # sent after the voice message (it knew of action 3)
    assert quota_left(g, [(now, 2)] * 4, now) == 5  # sent before it
    assert quota_left(g, [], T0 + timedelta(hours=49)) == 0


def test_a_click_alone_opens_three_for_a_minute_only() -> None:
    g = grants([("event:click", T0, 9)])
    assert quota_left(g, [(T0, 9)], T0 + timedelta(seconds=30)) == 2
    assert quota_left(g, [], T0 + timedelta(seconds=60)) == 0


def test_the_last_slots_are_kept_for_what_matters() -> None:
    assert [may_take_slot(PRIORITY_HIGH, n) for n in (1, 2)] == [True, True]
    assert [may_take_slot(PRIORITY_NORMAL, n) for n in (1, 2)] == [False, True]
    assert [may_take_slot(PRIORITY_LOW, n) for n in (2, 3)] == [False, True]
    assert [may_take_slot(PRIORITY_BACKGROUND, n) for n in (3, 4)] == [False, True]
    assert may_take_slot(PRIORITY_EMERGENCY, 1)


@pytest.mark.parametrize(("key", "text", "kind", "status", "order"), [
    ("offer:12:3", "新任务：理发（订单12）", Notice.TASK_OFFER, "待接单", 12),
    ("accepted:12:3:7", "好消息！", Notice.ORDER_STATUS, "已接单", 12),
    ("rate-ask:12:0", "请给服务打分", Notice.RATE_ASK, "待评价", 12),
    ("appt:12:1800000000:res:7", "温馨提醒", Notice.APPOINTMENT, "即将开始", 12),
    ("callout:4:v9", "【紧急召集】", Notice.CALLOUT, "紧急集合", None),
    ("incident:2:oStaff", "【紧急情况】", Notice.INCIDENT, "紧急求助", None),
    ("member:3:event:8", "恭喜，您的志愿者申请已通过", Notice.MEMBERSHIP, "已通过", None),
    ("digest:1:2026-11-23:oStaff", "今日订单简报", Notice.DIGEST, "简报", None),
    ("late:1:msg:99", "您刚才问的", Notice.REPLY, "回复", None),
    (None, "订单123456已由工作人员改派给其他志愿者，谢谢您。", Notice.ORDER_UPDATE, "已改派", None),  # a ref, not an id
    (None, "您的订单123456已取消：没有时间", Notice.ORDER_UPDATE, "已取消", None),
    (None, "你好", Notice.CHAT, "消息", None),
])
def test_what_a_row_is_comes_from_its_key_then_its_text(key: str | None, text: str, kind: Notice, status: str,
                                                        order: int | None) -> None:
    got = classify(key, text)
    assert (got.kind, got.status, got.order_id) == (kind, status, order)


def test_event_keys_name_the_event_and_the_change() -> None:
    assert classify("ev:5:r1:day_before:u3", "活动提醒").status == "明天举行"
    assert classify("ev:5:r2:morning:team1:v4", "活动提醒").event_id == 5
    assert classify("ev:5:r2:morning:u3", "x").status == "今天举行"
    assert (classify("ev:5:moved:r2:u3", "x").kind, classify("ev:5:cancel:u3", "x").status) == (
        Notice.EVENT_CHANGE, "已取消")


@pytest.mark.parametrize(("key", "value", "expect"), [
    ("thing1", "第一行\n第二行", "第一行 第二行"),
    ("thing1", "一二三四五六七八九十一二三四五六七八九十一", "一二三四五六七八九十一二三四五六七八九…"),
    ("thing1", "好消息🎉已接单", "好消息已接单"),
    ("phrase2", "已接单", "已接单"), ("phrase2", "已经被接单了", None), ("phrase2", "OK", None),
    ("character_string3", "12", "12"), ("character_string3", "订单12", None),
    ("time4", "2026年11月24日 15:00", "2026年11月24日 15:00"), ("time4", "明天", None),
    ("name5", "张师傅", "张师傅"), ("phone_number6", "138****5678", None), ("keyword1", "x", None),
])
def test_values_are_fitted_to_their_field_type(key: str, value: str, expect: str | None) -> None:
    got = fit(key, value)
    assert got == expect
    if got is not None:  # what the bot makes, the fake (written from WeChat's rules, not the bot's) accepts
        assert template_value_problem(key, got) is None


def facts(kind: Notice, status: str, **kw: object) -> Facts:
    return Facts(kind=kind, status=status, text=str(kw.pop("text", "")), at=T0, tz=TZ, **kw)  # type: ignore[arg-type]


def test_template_data_for_the_notices_a_resident_and_a_volunteer_get() -> None:
    start = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    accepted = facts(Notice.ORDER_STATUS, "已接单", order_ref=12, service="理发", starts=start)
    assert template_data(DEFAULT_FIELDS, accepted) == {
        "thing1": {"value": "理发 订单12"}, "phrase2": {"value": "已接单"}, "time3": {"value": "2026年11月24日 15:00"}}
    rate = facts(Notice.RATE_ASK, "待评价", order_ref=12, service="理发")
    assert template_data({"subject": "thing1", "tip": "thing2"}, rate) == {
        "thing1": {"value": "请评价理发服务 订单12"}, "thing2": {"value": "回复0-5颗心评价服务"}}
    offer = facts(Notice.TASK_OFFER, "待接单", order_ref=12, service="上门理发", starts=start, place="幸福小区附近")
    fields = {"order_no": "character_string1", "service": "thing2", "time": "time3", "place": "thing4",
              "tip": "thing5"}
    data = template_data(fields, offer)
    assert data is not None and data["thing5"] == {"value": "回复“接单 12”即可接单"}
    assert all(template_value_problem(k, v["value"]) is None for k, v in data.items())


def test_a_template_that_cannot_say_the_notice_is_not_used() -> None:
    chat = facts(Notice.STAFF_TODO, "待派单", text="订单12暂时没有合适的志愿者，请人工派单")
    assert template_data({"name": "name1"}, chat) is None  # no volunteer's name to put in
    weird = facts(Notice.MEMBERSHIP, "有结果（已通过）", text="您的申请已通过")
    assert template_data({"status": "phrase1"}, weird) == {"phrase1": {"value": "有结果"}}  # the kind's own word


def test_headline_is_the_first_sentence_without_the_tag() -> None:
    text = "【紧急召集】理发队：幸福小区3栋有老人摔倒。请速来\n集合地点：门口"
    assert headline(text) == "理发队：幸福小区3栋有老人摔倒"


@pytest.mark.parametrize(("kind", "priority", "reach", "plan", "why"), [
    (Notice.RATE_ASK, PRIORITY_HIGH, Reach(True, 1, True), (Route.CUSTOM, Route.TEMPLATE, Route.SKIPPED), ()),
    (Notice.DIGEST, PRIORITY_BACKGROUND, Reach(True, 2, True), (Route.TEMPLATE, Route.SKIPPED), ("quota_kept",)),
    (Notice.CHAT, PRIORITY_BACKGROUND, Reach(True, 2, True), (Route.SKIPPED,), ("quota_kept", "not_a_service_notice")),
    (Notice.TASK_OFFER, PRIORITY_HIGH, Reach(True, 0, False, volunteer=True, robot=True), (Route.ROBOT, Route.SKIPPED),
     ("window_closed", "no_template")),
    (Notice.ORDER_STATUS, PRIORITY_HIGH, Reach(False, 0, True), (Route.UNDELIVERED,), ("not_following",)),
    (Notice.CALLOUT, PRIORITY_EMERGENCY, Reach(True, 0, True, volunteer=True, wecom=True, robot=True),
     (Route.TEMPLATE, Route.WECOM, Route.ROBOT, Route.UNDELIVERED), ("window_closed",)),
    (Notice.ANNOUNCEMENT, PRIORITY_BACKGROUND, Reach(True, 5, True, robot=True), (Route.CUSTOM, Route.SKIPPED),
     ("not_a_service_notice",)),
    (Notice.ORDER_UPDATE, PRIORITY_NORMAL, Reach(True, 0, False), (Route.UNDELIVERED,),
     ("window_closed", "no_template")),  # a resident: no team routes to speak of
    (Notice.ORDER_UPDATE, PRIORITY_NORMAL, Reach(True, 0, False, volunteer=True), (Route.UNDELIVERED,),
     ("window_closed", "no_template", "no_team_route")),
])
def test_routes_best_first_and_why_the_others_were_passed_over(kind: Notice, priority: int, reach: Reach,
                                                              plan: tuple[Route, ...], why: tuple[str, ...]) -> None:
    assert routes(kind, priority, reach) == (plan, why)


def test_messages_to_one_person_merge_into_as_few_as_fit() -> None:
    assert merge_texts(["a", "b", "c"]) == [[0, 1, 2]]
    assert merge_texts(["字" * 600, "字" * 100, "x"]) == [[0], [1, 2]]
