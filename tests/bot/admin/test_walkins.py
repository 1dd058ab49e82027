"""Walk-in services at a street event recorded in bulk (bot.serviceloop.walkins, bot.admin.pages_walkins): the rows
checked in Chinese, empty ones skipped, each row a finished order credited as any completed order is (the ledger,
points, the time bank), audited, recorded once however often the form is sent, shown in the month's ledger and its
export; only staff and admins."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.serviceloop.walkins import RawRow, WalkinError, read_rows, record, recorded_orders, resident_label
from bot.services import Services
from storage.db import transaction
from storage.models import AuditLog, Order, OrderEvent, PointsEntry, ServiceRecord, TimeBankEntry
from storage.models_events import Event
from tests.bot.admin.test_admin import Seeded, form_token, login, seed_console, text
from tests.bot.admin.test_console_words import leaks
from tests.conftest import make_services

VOLS = {1: "张师傅", 3: "王师傅"}
SERVICES = {"haircut": "理发", "repair": "维修"}


def test_rows_are_checked_line_by_line_and_empty_lines_skipped() -> None:
    raw = [RawRow("1", "haircut", "2", "5", ""), RawRow(), RawRow(service="haircut"),
           RawRow("3", "repair", "1.5", "", "刘奶奶、陈大爷"), RawRow("99", "haircut", "2", "1"),
           RawRow("1", "haircut", "0", "2"), RawRow("1", "haircut", "13", "2"), RawRow("1", "nope", "x", "0"),
           RawRow("", "haircut", "1", "1"), RawRow("3", "repair", "1", "1", "甲、乙")]
    rows, errors = read_rows(raw, volunteers=VOLS, services=SERVICES, most_hours=12)
    assert [(r.line, r.volunteer_id, r.service.code, r.hours, r.served) for r in rows] == [
        (1, 1, "haircut", 2.0, 5), (4, 3, "repair", 1.5, 2)]
    assert rows[1].names == ("刘奶奶", "陈大爷")
    assert errors == ["第5行：没有这位志愿者。", "第6行：服务时长要在0到12小时之间。",
                      "第7行：服务时长要在0到12小时之间。",
                      "第8行：请选服务；服务时长要在0到12小时之间；服务人数要写1到500之间的整数。",
                      "第9行：请从名单里选志愿者（本站审核通过的）。", "第10行：写了2个名字，服务人数却是1。"]
    assert read_rows([RawRow(), RawRow(service="repair")], volunteers=VOLS, services=SERVICES,
                     most_hours=12) == ([], ["没有要登记的行：每行至少选志愿者、填时长和服务人数。"])
    assert read_rows([RawRow("1", "haircut", "nan", "1"), RawRow("1", "haircut", "inf", "1")], volunteers=VOLS,
                     services=SERVICES, most_hours=12)[1] == ["第1行：服务时长要在0到12小时之间。",
                                                             "第2行：服务时长要在0到12小时之间。"]


def test_the_ledger_label_masks_names() -> None:
    rows, _ = read_rows([RawRow("1", "haircut", "1", "6", "刘奶奶、陈大爷"), RawRow("1", "haircut", "1", "4")],
                        volunteers=VOLS, services=SERVICES, most_hours=12)
    assert resident_label(rows[0]) == "刘**、陈**等6位" and resident_label(rows[1]) == "现场居民4位"



@pytest.fixture
def event_id(services: Services, seeded: Seeded) -> int:
    now = services.clock.now()
    with transaction(services.sessions) as s:
        ev = Event(hub_id=seeded.hub_id, title="雷锋一条街", starts_at=now - timedelta(hours=3),
                   ends_at=now - timedelta(hours=1), place="幸福路广场", teams=[], services=["haircut", "repair"],
                   status="scheduled", source="staff", created_at=now, updated_at=now)
        s.add(ev)
        s.flush()
        return ev.id


def form(**rows: tuple[str, str, str, str, str]) -> dict[str, str]:
    data: dict[str, str] = {"rows": "10"}
    for key, (vol, service, hours, served, names) in rows.items():
        i = key.removeprefix("r")
        data |= {f"volunteer_{i}": vol, f"service_{i}": service, f"hours_{i}": hours, f"served_{i}": served,
                 f"names_{i}": names}
    return data


def send(client: Any, event_id: int, data: dict[str, str], token: str | None = None) -> Any:
    path = f"/admin/events/{event_id}/walkins"
    page = text(client.get(path))
    found = re.search(r'name="token" value="([0-9a-f]{32})"', page)
    assert found
    return client.post(path, data={"csrf_token": form_token(client, path), "token": token or found.group(1), **data})


def counts(services: Services) -> tuple[int, int, int]:
    with services.sessions() as s:
        return (int(s.scalar(select(func.count()).select_from(ServiceRecord).where(
                    ServiceRecord.verified_by == "walkin")) or 0),
                int(s.scalar(select(func.count()).select_from(PointsEntry).where(PointsEntry.kind == "earn")) or 0),
                int(s.scalar(select(func.count()).select_from(TimeBankEntry)) or 0))


def test_staff_record_a_batch_into_the_ledger_once(client: Any, services: Services, seeded: Seeded,
                                                   event_id: int) -> None:
    login(client, "xiaoli")
    events_page = text(client.get("/admin/events?month=2026-11"))
    assert f'id="walkins-{event_id}"' in events_page
    page = text(client.get(f"/admin/events/{event_id}/walkins"))
    assert "张师傅" in page and "王师傅" in page and "赵小红" not in page  # only approved volunteers are offered
    before = counts(services)
    data = form(r0=(str(seeded.barber), "haircut", "2", "6", "刘奶奶、陈大爷"), r2=(str(seeded.repairer), "repair",
                                                                             "1.5", "3", ""),
                r5=(str(seeded.barber), "haircut", "1", "", "孙阿姨"))
    path = f"/admin/events/{event_id}/walkins"
    page = text(client.get(path))
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)  # type: ignore[union-attr]
    resp = client.post(path, data={"csrf_token": form_token(client, path), "token": token, **data})
    assert resp.status_code == 302
    shown = text(client.get(resp.headers["Location"]))
    assert "已登记3条现场服务，共4.5小时、10人次" in shown and "共4.5小时" in shown
    assert leaks(shown) == []  # in words: no code word or openid
    assert counts(services) == (before[0] + 3, before[1] + 3, before[2] + 3)
    with services.sessions() as s:
        recs = s.scalars(select(ServiceRecord).where(ServiceRecord.verified_by == "walkin")
                         .order_by(ServiceRecord.id)).all()
        assert [(r.volunteer_id, r.service_code, r.hours, r.resident_label) for r in recs] == [
            (seeded.barber, "haircut", 2.0, "刘**、陈**等6位"), (seeded.repairer, "repair", 1.5, "现场居民3位"),
            (seeded.barber, "haircut", 1.0, "孙**")]
        assert all("刘奶奶" not in (r.content or "") for r in recs)  # names stay off the ledger
        first = s.get(Order, recs[0].order_id)
        assert first is not None and (first.state, first.verified_by, first.resident_name) == (
            "closed", "walkin", "刘奶奶、陈大爷")
        history = [(e.trigger, e.actor) for e in s.scalars(select(OrderEvent).where(
            OrderEvent.order_id == first.id).order_by(OrderEvent.id))]
        assert history == [("submit", "web:xiaoli"), ("accept", "web:xiaoli"), ("complete", "web:xiaoli"),
                           ("close", "web:xiaoli")]
        earned = s.scalar(select(PointsEntry.points).where(PointsEntry.order_id == first.id))
        assert earned and earned > 0
        audit = s.execute(select(AuditLog).where(AuditLog.action == "walkin_record")).scalar_one()
        assert audit.subject == f"event:{event_id}" and audit.detail == {"rows": 3, "hours": 4.5, "count": 10}
    # the same form sent again (a double click, the back button): nothing more
    again = client.post(path, data={"csrf_token": form_token(client, path), "token": token, **data})
    assert "已经登记过了" in text(client.get(again.headers["Location"]))
    assert counts(services) == (before[0] + 3, before[1] + 3, before[2] + 3)
    ledger = text(client.get("/admin/ledger?month=2026-11"))
    assert "活动现场工作人员登记" in ledger and "刘**、陈**等6位" in ledger
    export = client.get("/admin/ledger/export.csv?month=2026-11").get_data().decode("utf-8-sig")
    assert "活动现场工作人员登记" in export and "现场居民3位" in export and "刘奶奶" not in export


def test_wrong_rows_record_nothing_and_keep_what_was_typed(client: Any, services: Services, seeded: Seeded,
                                                           event_id: int) -> None:
    login(client, "xiaoli")
    before = counts(services)
    resp = send(client, event_id, form(r0=(str(seeded.barber), "haircut", "2", "3", "刘奶奶"),
                                       r1=(str(seeded.applicant), "haircut", "30", "2", "")))
    assert resp.status_code == 400
    page = text(resp)
    assert "第2行：没有这位志愿者；服务时长要在0到12小时之间。" in page and 'value="刘奶奶"' in page
    assert 'name="hours_1" value="30"' in page
    assert counts(services) == before
    resp = send(client, event_id, form())
    assert "没有要登记的行" in text(resp) and counts(services) == before


def test_an_event_not_yet_begun_or_cancelled_takes_no_records(services: Services, seeded: Seeded,
                                                             event_id: int) -> None:
    now = services.clock.now()
    rows, _ = read_rows([RawRow(str(seeded.barber), "haircut", "1", "1")], volunteers={seeded.barber: "张师傅"},
                        services=SERVICES, most_hours=12)
    with transaction(services.sessions) as s:
        ev = s.get(Event, event_id)
        assert ev is not None
        ev.starts_at, ev.ends_at = now + timedelta(hours=1), now + timedelta(hours=3)
        with pytest.raises(WalkinError, match="活动还没开始"):
            record(s, event=ev, rows=rows, token="a" * 32, actor="web:xiaoli", now=now)
        ev.status = "cancelled"
        with pytest.raises(WalkinError, match="已取消"):
            record(s, event=ev, rows=rows, token="b" * 32, actor="web:xiaoli", now=now)
        with pytest.raises(WalkinError, match="表单已过期"):
            record(s, event=ev, rows=rows, token="not-a-token", actor="web:xiaoli", now=now)
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ServiceRecord).where(
            ServiceRecord.verified_by == "walkin")) == 0


def test_only_staff_record_walkins(client: Any, services: Services, seeded: Seeded, event_id: int) -> None:
    path = f"/admin/events/{event_id}/walkins"
    for user, page in (("laowang", "/admin/orders"), ("shop", f"/admin/merchants/{seeded.merchant}")):
        with client.session_transaction() as sess:
            sess.clear()
        login(client, user)
        assert client.get(path).status_code == 403, user
        resp = client.post(path, data={"csrf_token": form_token(client, page), "token": "c" * 32,
                                       **form(r0=(str(seeded.barber), "haircut", "1", "1", ""))})
        assert resp.status_code == 403, user
    with client.session_transaction() as sess:
        sess.clear()
    login(client, "east")  # staff of another hub: not their event
    assert client.get(path).status_code == 404
    assert counts(services)[0] == 0


def test_a_token_is_claimed_once_on_each_database(any_db_url: str, clock: FakeClock,
                                                   fake_wechat: FakeWeChatServer) -> None:
    svc = make_services(any_db_url, clock, fake_wechat)
    try:
        seeded = seed_console(svc)
        now = clock.now()
        with transaction(svc.sessions) as s:
            ev = Event(hub_id=seeded.hub_id, title="雷锋一条街", starts_at=now - timedelta(hours=3),
                       ends_at=now - timedelta(hours=1), place="幸福路广场", teams=[], services=[],
                       status="scheduled", source="staff", created_at=now, updated_at=now)
            s.add(ev)
        rows, _ = read_rows([RawRow(str(seeded.barber), "haircut", "1", "1")], volunteers={seeded.barber: "张师傅"},
                            services=SERVICES, most_hours=12)
        for attempt in range(2):
            with transaction(svc.sessions) as s:
                event = s.execute(select(Event)).scalar_one()
                if attempt == 0:
                    record(s, event=event, rows=rows, token="d" * 32, actor="web:xiaoli", now=now)
                else:
                    with pytest.raises(WalkinError, match="已经登记过了"):
                        record(s, event=event, rows=rows, token="d" * 32, actor="web:xiaoli", now=now)
        assert counts(svc)[0] == 1
        with svc.sessions() as s:
            assert [o.id for o in recorded_orders(s, s.execute(select(Event)).scalar_one())] == \
                list(s.scalars(select(ServiceRecord.order_id).where(ServiceRecord.verified_by == "walkin")))
    finally:
        svc.close()
