"""The resident's saved address through the webhook: read with the sender's row (no statement of its own),
decrypted, offered at the address question, and only ever the sender's own (never another resident's)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from bot.clock import FakeClock
from bot.dialogue.core import State
from bot.inbox import ratelimit
from bot.inbox.handler import read_sender
from storage.db import transaction
from storage.models import Conversation, Hub, Order, User
from tests.bot.scale.seeding import counting
from tests.conftest import make_services
from tests.dialog import Chat

GRANDMA, DAUGHTER, NEIGHBOUR = "oGrandmaLiu", "oDaughterLiu", "oNeighbourZhao"
HOME = "幸福小区3栋2单元501"


def _order(chat: Chat, who: str, address: str, phone: str = "13812345678") -> None:
    chat.say(who, "明天上午九点来帮我理发")
    chat.say(who, address)
    chat.say(who, phone)
    assert "已提交" in (chat.say(who, "1") or "")


def _latest_address(chat: Chat, who: str) -> Any:
    with chat.services.sessions() as s:
        return s.scalar(select(Order.address).join(User, User.id == Order.ordered_by_user_id)
                        .where(User.openid == who).order_by(Order.id.desc()).limit(1))


def test_a_returning_resident_is_offered_the_last_address_and_takes_it(chat: Chat) -> None:
    _order(chat, GRANDMA, HOME)
    reply = chat.say(GRANDMA, "后天下午想请人来打扫卫生") or ""
    assert f"还是送到 {HOME} 吗" in reply, reply
    assert HOME in (chat.say(GRANDMA, "老地方") or "")
    reply = chat.say(GRANDMA, "1") or ""  # the phone on file, offered
    assert f"地址：{HOME}" in reply, reply
    assert "已提交" in (chat.say(GRANDMA, "1") or "")
    assert _latest_address(chat, GRANDMA) == HOME


def test_a_first_order_is_asked_for_the_address(chat: Chat) -> None:
    reply = chat.say(NEIGHBOUR, "明天上午九点来帮我理发") or ""
    assert "服务地址是哪里" in reply and "还是送到" not in reply


def test_a_new_address_replaces_the_saved_one_for_the_next_time(chat: Chat) -> None:
    _order(chat, GRANDMA, HOME)
    chat.say(GRANDMA, "后天下午想请人来打扫卫生")
    chat.say(GRANDMA, "不是 我搬了 住向阳新村9栋1单元202")
    chat.say(GRANDMA, "1")
    assert "已提交" in (chat.say(GRANDMA, "1") or "")
    assert "还是送到 向阳新村9栋1单元202 吗" in (chat.say(GRANDMA, "下礼拜一上午帮我修下水龙头") or "")


def test_nobody_is_offered_another_residents_address(chat: Chat) -> None:
    _order(chat, GRANDMA, HOME)  # grandma's own phone on file: her daughter's order below is linked to her
    # the daughter orders for grandma from her own WeChat: grandma's saved address is not offered to her
    chat.say(DAUGHTER, "帮我妈下单")
    chat.say(DAUGHTER, "王奶奶")
    chat.say(DAUGHTER, "13812345678")
    reply = chat.say(DAUGHTER, "理发") or ""
    if "什么时间" in reply:
        reply = chat.say(DAUGHTER, "明天下午") or ""
    assert "地址" in reply and HOME not in reply, reply
    reply = chat.say(DAUGHTER, "白莲小区2栋101") or ""
    assert "您自己的电话" in reply, reply  # (grandma's phone was given: the daughter's own asked for, optional)
    reply = chat.say(DAUGHTER, "不用") or ""
    assert "请核对" in reply, reply
    assert "已提交" in (chat.say(DAUGHTER, "1") or "")
    with chat.services.sessions() as s:
        proxy = s.execute(select(Order).order_by(Order.id.desc()).limit(1)).scalar_one()
        grandma = s.execute(select(User).where(User.openid == GRANDMA)).scalar_one()
        assert proxy.resident_user_id == grandma.id  # linked to grandma by her phone
    # ordering for herself, the daughter is offered neither grandma's address nor the one she gave for grandma
    reply = chat.say(DAUGHTER, "后天上午帮我修下水管") or ""
    assert "服务地址是哪里" in reply and HOME not in reply and "白莲小区2栋101" not in reply, reply
    # a neighbour never sees either
    reply = chat.say(NEIGHBOUR, "后天上午帮我修下水管") or ""
    assert "服务地址是哪里" in reply and HOME not in reply and "白莲小区2栋101" not in reply, reply
    # grandma is offered the address of her latest order, the one her daughter placed for her
    reply = chat.say(GRANDMA, "下礼拜一上午想理发") or ""
    assert "还是送到 白莲小区2栋101 吗" in reply, reply


def _say_counted(chat: Chat, who: str, said: str) -> tuple[str, int]:
    chat.dispatching = False
    with counting(chat.services.engine) as counted:
        reply = chat.say(who, said) or ""
    chat.dispatching = True
    return reply, len(counted)


def test_the_offer_costs_no_statement_of_its_own(chat: Chat) -> None:
    """The saved address comes with the sender's row (storage.hot's one read): entering the address question with
    one costs the statements it costs without one."""
    _order(chat, GRANDMA, HOME)
    for who in (GRANDMA, NEIGHBOUR):
        chat.say(who, "我想理发")
    with_one, counted_with = _say_counted(chat, GRANDMA, "明天上午")
    without, counted_without = _say_counted(chat, NEIGHBOUR, "明天上午")
    assert f"还是送到 {HOME} 吗" in with_one and "服务地址是哪里" in without
    assert counted_with == counted_without, (counted_with, counted_without)
    # "跟上回一样" reads nothing more either (it used to be a statement of its own)
    taken, counted_taken = _say_counted(chat, GRANDMA, "跟上回一样")
    typed, counted_typed = _say_counted(chat, NEIGHBOUR, "白莲小区2栋101")
    assert HOME in taken and "电话" in typed
    assert counted_taken == counted_typed, (counted_taken, counted_typed)


def test_the_read_decrypts_it_and_reads_it_only_where_it_is_used(any_db_url: str, clock: FakeClock) -> None:
    svc = make_services(any_db_url, clock)
    now = clock.now()
    try:
        with transaction(svc.sessions) as s:
            other_hub = Hub(slug="other", name="另一个站", settings={}, created_at=now)
            s.add(other_hub)
            users = {name: User(hub_id=1, openid=name, roles=[], subscribed=True, created_at=now)
                     for name in ("oMe", "oRating", "oProxyOnly", "oNone")}
            s.add_all(users.values())
            s.flush()
            s.add(Conversation(hub_id=1, user_id=users["oRating"].id, state=State.RATE, slots={}, updated_at=now))
            s.add(Conversation(hub_id=1, user_id=users["oMe"].id, state=State.ORDER_TIME, slots={}, updated_at=now))
            base = {"state": "closed", "service_code": "haircut", "time_kind": "asap", "updated_at": now}
            me, rating, proxy_only = users["oMe"].id, users["oRating"].id, users["oProxyOnly"].id
            s.add_all([
                Order(hub_id=1, ordered_by_user_id=me, resident_user_id=me, address="幸福小区1栋101",
                      created_at=now - timedelta(days=9), **base),
                Order(hub_id=1, ordered_by_user_id=me, resident_user_id=me, address=HOME,
                      created_at=now - timedelta(days=2), **base),
                Order(hub_id=1, ordered_by_user_id=me, resident_user_id=me, address=None,  # a location-less draft
                      created_at=now - timedelta(days=1), **base),
                # what oMe typed for somebody else: theirs, not oMe's
                Order(hub_id=1, ordered_by_user_id=me, resident_user_id=None, address="白莲小区2栋101",
                      created_at=now - timedelta(hours=5), **base),
                Order(hub_id=1, ordered_by_user_id=rating, resident_user_id=rating, address="向阳新村9栋",
                      created_at=now - timedelta(days=3), **base),
                Order(hub_id=1, ordered_by_user_id=proxy_only, resident_user_id=None, address="朝阳路12号",
                      created_at=now - timedelta(days=3), **base),
                # oMe's order in another hub: another account, another hub's records
                Order(hub_id=other_hub.id, ordered_by_user_id=me, resident_user_id=me, address="别处1栋1号",
                      created_at=now, **base),
            ])
        limits = ratelimit.Limits(20, 200)
        with svc.engine.connect() as conn:
            snaps = {name: read_sender(conn, 1, name, f"k-{name}", now, limits)
                     for name in ("oMe", "oRating", "oProxyOnly", "oNone")}
            stored = conn.execute(text("SELECT address FROM orders WHERE address IS NOT NULL")).scalars().all()
        assert snaps["oMe"].saved_address == HOME  # the latest with an address, decrypted
        assert snaps["oRating"].saved_address is None  # rating: not read (though there is one)
        assert snaps["oProxyOnly"].saved_address is None  # only given for somebody else
        assert snaps["oNone"].saved_address is None  # no conversation yet (idle), no order
        assert HOME not in stored and all("小区" not in value for value in stored)  # encrypted at rest
    finally:
        svc.close()
