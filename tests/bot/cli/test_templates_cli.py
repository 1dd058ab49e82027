"""`leifeng templates set|list|clear|account` through click against a migrated SQLite file: a template is kept only
when its fields can say the notice within WeChat's field rules (thing ≤ 20, phrase ≤ 5 Chinese characters ...)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from storage.models import SubscribeTemplate, WeChatAccount
from storage.models_events import NoticeTemplate
from tests.bot.cli.conftest import demo_hub_cli
from tests.conftest import make_services

TID = "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc"
OFFER = ("--field", "order_no=character_string1", "--field", "service=thing2", "--field", "time=time3",
         "--field", "place=thing4", "--field", "tip=thing5")


@pytest.fixture
def run(db_url: str, clock: FakeClock) -> Any:
    invoke = demo_hub_cli(db_url, clock, {"LEIFENG_WECHAT_NOTICE_TEMPLATE_ID": ""})
    invoke.db_url = db_url  # type: ignore[attr-defined]
    invoke.clock = clock  # type: ignore[attr-defined]
    return invoke


def _stored(run: Any) -> tuple[list[tuple[str, str, dict[str, str]]], list[tuple[str, bool]], list[str]]:
    svc = make_services(run.db_url, run.clock)
    try:
        with svc.sessions() as s:
            templates = [(r.notice, r.template_id, dict(r.fields)) for r in s.scalars(select(NoticeTemplate))]
            subs = [(r.notice, r.long_term) for r in s.scalars(select(SubscribeTemplate))]
            kinds = list(s.scalars(select(WeChatAccount.kind)))
        return templates, subs, kinds
    finally:
        svc.close()


def test_a_task_offer_template_is_checked_then_kept(run: Any) -> None:
    res = run("templates", "set", "--notice", "task_offer", "--id", TID, *OFFER)
    assert res.exit_code == 0, res.output
    assert f"default: task_offer -> template {TID} order_no=character_string1" in res.output
    templates, _, _ = _stored(run)
    assert templates == [("task_offer", TID, {"order_no": "character_string1", "service": "thing2", "time": "time3",
                                              "place": "thing4", "tip": "thing5"})]
    listed = run("templates", "list").output
    assert "account\tservice" in listed and f"template\ttask_offer\t{TID}\torder_no=character_string1" in listed


@pytest.mark.parametrize(("args", "said"), [
    (("--field", "subject=phrase1"), "does not fit a phrase field (1-5 Chinese characters)"),
    (("--field", "order_no=name2"), "does not fit a name field"),
    (("--field", "service=keyword1"), "not category template fields: keyword1"),
    (("--field", "first=thing1"), "unknown slots first"),
    (("--field", "service"), "write it as slot=key"),
])
def test_a_template_that_breaks_the_field_rules_is_refused(run: Any, args: tuple[str, ...], said: str) -> None:
    res = run("templates", "set", "--notice", "task_offer", "--id", TID, *args)
    assert res.exit_code == 1 and said in res.output, res.output
    assert "Traceback" not in res.output
    assert _stored(run)[0] == []


def test_a_points_notice_has_no_order_number(run: Any) -> None:
    res = run("templates", "set", "--notice", "points", "--id", TID, "--field", "order_no=character_string1")
    assert res.exit_code == 1 and "a points notice has no order_no" in res.output


def test_a_template_for_any_notice_warns_where_it_will_not_be_used(run: Any) -> None:
    res = run("templates", "set", "--notice", "*", "--id", TID, "--field", "order_no=character_string1",
              "--field", "status=phrase2")
    assert res.exit_code == 0, res.output
    assert "warning: not used for points: order_no -> character_string1" in res.output
    assert "warning: not used for task_offer" not in res.output


def test_subscribe_templates_clear_and_the_account_kind(run: Any) -> None:
    assert run("templates", "set", "--notice", "order_status", "--id", TID, "--field", "subject=thing1",
               "--long-term").exit_code == 1  # long-term is a 订阅通知's
    res = run("templates", "set", "--notice", "order_status", "--id", TID, "--field", "subject=thing1",
              "--field", "time=time2", "--subscribe", "--long-term")
    assert res.exit_code == 0 and "long-term 订阅通知" in res.output, res.output
    assert _stored(run)[1] == [("order_status", True)]
    assert "subscribe-long\torder_status" in run("templates", "list").output
    res = run("templates", "account", "subscription")
    assert res.exit_code == 0 and "one 群发 a day" in res.output
    assert _stored(run)[2] == ["subscription"]
    res = run("templates", "set", "--notice", "task_offer", "--id", TID, *OFFER)
    assert "runs on a 公众号/订阅号" in res.output
    assert run("templates", "clear", "--notice", "order_status", "--subscribe").exit_code == 0
    assert _stored(run)[1] == []
    again = run("templates", "clear", "--notice", "order_status", "--subscribe")
    assert again.exit_code == 1 and "has no 订阅通知 for order_status" in again.output
    assert run("templates", "set", "--notice", "announcement", "--id", TID, "--field", "subject=thing1"
               ).exit_code == 1  # announcements never go by template
