"""Hubs teach the semantic matcher: examples typed in the console, or learned from an order whose service staff
corrected, each with an undo; a new examples version reaches the bot on its next message, without a restart."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from bot.admin import catalogue as store
from bot.services import Services, language_version, split_version
from intents.catalogue import CatalogueError
from intents.semantic import HybridMatcher
from storage.db import transaction
from storage.models import AuditLog, Order
from tests.bot.admin.test_admin import Seeded, form_token, text
from tests.conftest import NOW, make_services
from tests.dialog import Chat
from tests.fake_embedder import CharEmbedder


@pytest.fixture
def semantic(services: Services, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> CharEmbedder:
    """The services with the semantic matcher on, over a fake model (a loader of its own: a layer of its own)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    model = CharEmbedder(dim=256, name="fake-chars-examples")
    services.config = replace(services.config, semantic_matcher=True)
    services.semantic = None
    services.load_embedder = lambda: model
    services.warm_up()
    assert services.semantic is not None
    return model


def _learned(services: Services, hub_id: int) -> set[tuple[str, str]]:
    with services.sessions() as s:
        matcher = services.nlu_for(s, hub_id).service_matcher
    assert isinstance(matcher, HybridMatcher)
    index = matcher.semantic.index
    return set(zip(index.labels, index.texts, strict=True))


def test_a_corrected_order_teaches_its_hub_from_the_next_message_on(services: Services, seeded: Seeded,
                                                                    semantic: CharEmbedder) -> None:
    words = "家里电饭锅不通电了 有会修的吗"
    with transaction(services.sessions) as s:
        order = s.get(Order, seeded.haircut_order)
        assert order is not None
        order.details = words  # what the resident said (the order keeps it without address and phone)
    with services.sessions() as s:
        before = services.nlu_for(s, seeded.hub_id)
        assert services.nlu_for(s, seeded.hub_id) is before  # nothing changed: nothing is rebuilt
    assert ("repair", words) not in _learned(services, seeded.hub_id)
    asked = len(semantic.asked)
    with transaction(services.sessions) as s:
        example = store.learn_from_correction(s, seeded.hub_id, seeded.haircut_order, "repair",
                                              catalogue=services.nlu.catalogue, actor="staff:xiaoli", now=NOW)
        assert example is not None and example.text == words and example.source == "correction"
        example_id = example.id
    assert ("repair", words) in _learned(services, seeded.hub_id)
    assert semantic.asked[asked:] == [words]  # only the new text was embedded
    with services.sessions() as s:
        assert [e.id for e in store.learned_from_order(s, seeded.hub_id, seeded.haircut_order)] == [example_id]
    with services.sessions() as s:
        assert services.nlu_for(s, seeded.hub_id) is not before
        assert split_version(s.scalar(select(language_version(seeded.hub_id)))) == (0, 1)
    # learning it twice is a no-op; the other hub learnt nothing
    with transaction(services.sessions) as s:
        assert store.learn_from_correction(s, seeded.hub_id, seeded.haircut_order, "repair",
                                           catalogue=services.nlu.catalogue, actor="staff:xiaoli", now=NOW) is None
    assert ("repair", words) not in _learned(services, seeded.other_hub_id)
    # the undo: gone from the next message on, and the row says who took it back
    with transaction(services.sessions) as s:
        store.remove_example(s, seeded.hub_id, example_id, actor="staff:xiaoli", now=NOW)
    assert ("repair", words) not in _learned(services, seeded.hub_id)
    with services.sessions() as s:
        assert [e.removed_by for e in store.examples(s, seeded.hub_id, removed=True)] == ["staff:xiaoli"]
        actions = s.scalars(select(AuditLog.action).where(AuditLog.action.like("example_%"))).all()
        assert list(actions) == ["example_add", "example_remove"]


def test_learning_refuses_another_hubs_order_and_a_service_the_hub_does_not_offer(services: Services,
                                                                                    seeded: Seeded) -> None:
    catalogue = services.nlu.catalogue
    with transaction(services.sessions) as s:
        with pytest.raises(CatalogueError, match="没有编号"):
            store.learn_from_correction(s, seeded.hub_id, seeded.other_order, "repair", catalogue=catalogue,
                                        actor="staff:xiaoli", now=NOW)
        with pytest.raises(CatalogueError, match="没有服务"):
            store.learn_from_correction(s, seeded.hub_id, seeded.haircut_order, "no_such", catalogue=catalogue,
                                        actor="staff:xiaoli", now=NOW)
        order = s.get(Order, seeded.haircut_order)
        assert order is not None
        order.details = catalogue.get("haircut").name  # the order kept only the service's name: no words
        assert store.learn_from_correction(s, seeded.hub_id, seeded.haircut_order, "haircut", catalogue=catalogue,
                                           actor="staff:xiaoli", now=NOW) is None
        assert store.examples_version(s, seeded.hub_id) == 0


def test_staff_add_take_back_and_restore_examples_in_the_console(staff_client: Any, seeded: Seeded,
                                                                 services: Services) -> None:
    page = text(staff_client.get("/admin/catalogue/examples"))
    assert "还没有记下的说法" in page and "没有装语义理解模型" in page
    token = form_token(staff_client, "/admin/catalogue/examples")
    resp = staff_client.post("/admin/catalogue/examples", data={"csrf_token": token, "service": "meals",
                                                                "text": "中午想订一份老年餐 送到家"})
    assert resp.status_code == 302
    page = text(staff_client.get("/admin/catalogue/examples"))
    assert "已记下" in page and "中午想订一份老年餐 送到家" in page and "手工添加" in page
    # the same words twice: refused in plain words
    token = form_token(staff_client, "/admin/catalogue/examples")
    staff_client.post("/admin/catalogue/examples", data={"csrf_token": token, "service": "meals",
                                                         "text": "中午想订一份老年餐  送到家"})
    assert "已经是" in text(staff_client.get("/admin/catalogue/examples"))
    with services.sessions() as s:
        (example,) = store.examples(s, seeded.hub_id)
        assert store.examples_version(s, seeded.hub_id) == 1
    token = form_token(staff_client, "/admin/catalogue/examples")
    staff_client.post(f"/admin/catalogue/examples/{example.id}/remove", data={"csrf_token": token})
    page = text(staff_client.get("/admin/catalogue/examples"))
    assert "已撤销" in page and re.search(r"撤销过的.*中午想订一份老年餐", page, re.S)
    token = form_token(staff_client, "/admin/catalogue/examples")
    staff_client.post(f"/admin/catalogue/examples/{example.id}/restore", data={"csrf_token": token})
    assert "已恢复" in text(staff_client.get("/admin/catalogue/examples"))
    with services.sessions() as s:
        assert [e.id for e in store.examples(s, seeded.hub_id)] == [example.id]
        assert store.examples_version(s, seeded.hub_id) == 3
    # a form without its CSRF token changes nothing
    staff_client.post(f"/admin/catalogue/examples/{example.id}/remove", data={})
    with services.sessions() as s:
        assert store.examples_version(s, seeded.hub_id) == 3


def test_an_example_too_short_or_for_no_service_is_refused(services: Services, seeded: Seeded) -> None:
    catalogue = services.nlu.catalogue
    with transaction(services.sessions) as s:
        with pytest.raises(CatalogueError, match="太短"):
            store.add_example(s, seeded.hub_id, "meals", " 饭 ", catalogue=catalogue, actor="a", now=NOW)
        with pytest.raises(CatalogueError, match="没有服务"):
            store.add_example(s, seeded.hub_id, "nothing", "想订饭", catalogue=catalogue, actor="a", now=NOW)
        with pytest.raises(CatalogueError, match="最多"):
            store.add_example(s, seeded.hub_id, "meals", "饭" * 201, catalogue=catalogue, actor="a", now=NOW)


def test_the_webhook_uses_a_new_example_from_the_next_message_on(services: Services, seeded: Seeded,
                                                                  semantic: CharEmbedder, client: Any, account: Any,
                                                                  fake_wechat: Any) -> None:
    chat = Chat(client, account, services.clock, services, fake_wechat)
    chat.say("oTeachMe", "你好")
    words = "厨房下水道堵死了 水漫出来了 找个师傅"
    with transaction(services.sessions) as s:
        store.add_example(s, seeded.hub_id, "repair", words, catalogue=services.nlu.catalogue, actor="staff:xiaoli",
                          now=NOW)
    assert words not in semantic.asked  # saving builds nothing in the bot ...
    chat.say("oTeachMe", "谢谢")
    assert semantic.asked.count(words) == 1  # ... its next message reads the new version and embeds the example
    chat.say("oTeachMe", "再见")
    assert semantic.asked.count(words) == 1  # once per process, not on every message


def test_the_language_version_moves_with_the_catalogue_and_the_examples(any_db_url: str, clock: Any) -> None:
    svc = make_services(any_db_url, clock)
    catalogue = svc.nlu.catalogue
    with svc.sessions() as s:
        assert split_version(s.scalar(select(language_version(1)))) == (0, 0)
    with transaction(svc.sessions) as s:
        store.add_example(s, 1, "meals", "中午想订份饭 送上门", catalogue=catalogue, actor="a", now=NOW)
        store.add_example(s, 1, "repair", "水龙头一直滴水 关不紧", catalogue=catalogue, actor="a", now=NOW)
        store.save_version(s, 1, store.as_mapping(catalogue), actor="a", note=None, now=NOW)
    with svc.sessions() as s:
        assert split_version(s.scalar(select(language_version(1)))) == (1, 2)
        assert svc.nlu_for(s, 1).catalogue.codes == catalogue.codes
    svc.close()


def test_staff_correct_an_orders_service_and_the_words_are_learned_with_an_undo(staff_client: Any, seeded: Seeded,
                                                                              services: Services) -> None:
    """Issue 14 item 3 from the order's page: the service changes, the order is offered again to the right team,
    the resident's words become this hub's example of the right service, and the undo is on the same page."""
    with transaction(services.sessions) as s:
        s.get_one(Order, seeded.haircut_order).details = "家里灯泡坏了一直闪 想找人来看看"
    page = f"/admin/orders/{seeded.haircut_order}"
    assert "service-form" in text(staff_client.get(page))
    resp = staff_client.post(f"{page}/service", data={"csrf_token": form_token(staff_client, page),
                                                      "service": "repair"})
    shown = text(staff_client.get(resp.headers["Location"]))
    assert "已改为" in shown and "记为" in shown and "家里灯泡坏了一直闪 想找人来看看" in shown  # the undo
    with services.sessions() as s:
        order = s.get_one(Order, seeded.haircut_order)
        assert order.service_code == "repair" and order.state == "dispatched"
        (learned,) = store.learned_from_order(s, order.hub_id, order.id)
        assert learned.service_code == "repair"
        actions = [a for (a,) in s.execute(select(AuditLog.action).order_by(AuditLog.id))]
    assert actions[-1] == "order_service"
    resp = staff_client.post(f"/admin/catalogue/examples/{learned.id}/remove",
                             data={"csrf_token": form_token(staff_client, page), "order": str(seeded.haircut_order)})
    assert resp.headers["Location"].endswith(page)
    with services.sessions() as s:
        assert not store.learned_from_order(s, seeded.hub_id, seeded.haircut_order)
    again = staff_client.post(f"{page}/service", data={"csrf_token": form_token(staff_client, page),
                                                       "service": "nosuch"})
    assert "没有这项服务" in text(staff_client.get(again.headers["Location"]))
