"""订阅通知 opt-ins (who accepted which template, how many one-time notices are left), the hubs' 订阅通知
templates, and the kind of official account each hub runs on. Plain reads and writes; the rules are the bot's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import NoticeOptIn, SubscribeTemplate, WeChatAccount

SERVICE, SUBSCRIPTION = "service", "subscription"  # 认证服务号, 公众号/订阅号
ACCOUNT_KINDS = (SERVICE, SUBSCRIPTION)
ANY_NOTICE = "*"


def record_choices(s: Session, hub_id: int, openid: str, event_time: int, choices: Iterable[tuple[str, str]],
                   now: datetime) -> int:
    """Apply one 订阅通知 event's choices (template id, "accept" | "reject") for a person: an acceptance allows one
    more one-time notice, a refusal ends them. An event older than the last one applied to that template, or WeChat's
    retry of it (the same time and choice), changes nothing. Returns how many choices were applied."""
    applied = 0
    for template_id, status in choices:
        row = _row(s, hub_id, openid, template_id)
        if row is None:
            try:
                with s.begin_nested():  # a concurrent retry of the same event may insert it first
                    row = NoticeOptIn(hub_id=hub_id, openid=openid, template_id=template_id, status=status,
                                      left=0, event_time=0, updated_at=now)
                    s.add(row)
            except IntegrityError:
                row = _row(s, hub_id, openid, template_id)
                assert row is not None
        if row.event_time and (event_time < row.event_time or (event_time == row.event_time
                                                                  and status == row.status)):
            continue  # an older event arriving late, or WeChat's retry of this one
        row.status, row.event_time, row.updated_at = status, event_time, now
        row.left = row.left + 1 if status == "accept" else 0
        applied += 1
    s.flush()
    return applied


def _row(s: Session, hub_id: int, openid: str, template_id: str) -> NoticeOptIn | None:
    q = select(NoticeOptIn).where(NoticeOptIn.hub_id == hub_id, NoticeOptIn.openid == openid,
                                  NoticeOptIn.template_id == template_id)
    if s.bind is not None and s.bind.dialect.name == "postgresql":
        q = q.with_for_update()
    return s.execute(q).scalar_one_or_none()


def may_notify(s: Session, hub_id: int, openid: str, template_id: str, *, long_term: bool) -> bool:
    """Did the person accept this template, with a notice left (a long-term one needs no count)?"""
    row = s.execute(select(NoticeOptIn.status, NoticeOptIn.left).where(
        NoticeOptIn.hub_id == hub_id, NoticeOptIn.openid == openid, NoticeOptIn.template_id == template_id)).first()
    return row is not None and row.status == "accept" and (long_term or row.left > 0)


def take_notice(s: Session, hub_id: int, openid: str, template_id: str, *, long_term: bool, now: datetime) -> bool:
    """Spend one notice of the person's opt-in before sending it (one statement, so two workers never spend the
    same one): False when none is left."""
    q = update(NoticeOptIn).where(NoticeOptIn.hub_id == hub_id, NoticeOptIn.openid == openid,
                                  NoticeOptIn.template_id == template_id, NoticeOptIn.status == "accept")
    if long_term:
        res = s.execute(q.values(updated_at=now).execution_options(synchronize_session=False))
    else:
        res = s.execute(q.where(NoticeOptIn.left > 0).values(left=NoticeOptIn.left - 1, updated_at=now)
                        .execution_options(synchronize_session=False))
    return bool(res.rowcount == 1)  # type: ignore[attr-defined]


def give_back(s: Session, hub_id: int, openid: str, template_id: str, now: datetime) -> None:
    """WeChat refused the notice for a reason of ours (a bad value): the one spent is still the person's."""
    s.execute(update(NoticeOptIn).where(NoticeOptIn.hub_id == hub_id, NoticeOptIn.openid == openid,
                                        NoticeOptIn.template_id == template_id, NoticeOptIn.status == "accept")
              .values(left=NoticeOptIn.left + 1, updated_at=now).execution_options(synchronize_session=False))


def refused(s: Session, hub_id: int, openid: str, template_id: str, now: datetime) -> None:
    """WeChat says the person turned this template off (43101): no notice until they accept it again."""
    s.execute(update(NoticeOptIn).where(NoticeOptIn.hub_id == hub_id, NoticeOptIn.openid == openid,
                                        NoticeOptIn.template_id == template_id)
              .values(status="reject", left=0, updated_at=now).execution_options(synchronize_session=False))


# -- the hub's 订阅通知 templates and account --------------------------------------------------------------------


def subscribe_template(s: Session, hub_id: int, notice: str) -> SubscribeTemplate | None:
    """The hub's 订阅通知 template for this kind of notice, else its "*" one."""
    rows = {r.notice: r for r in s.execute(select(SubscribeTemplate).where(
        SubscribeTemplate.hub_id == hub_id, SubscribeTemplate.notice.in_([notice, ANY_NOTICE]))).scalars()}
    return rows.get(notice) or rows.get(ANY_NOTICE)


def set_subscribe_template(s: Session, hub_id: int, notice: str, template_id: str, fields: Mapping[str, str], *,
                           long_term: bool, now: datetime) -> None:
    row = s.execute(select(SubscribeTemplate).where(SubscribeTemplate.hub_id == hub_id,
                                                    SubscribeTemplate.notice == notice)).scalar_one_or_none()
    values: dict[str, Any] = {"template_id": template_id, "fields": dict(fields), "long_term": long_term,
                              "updated_at": now}
    if row is None:
        s.add(SubscribeTemplate(hub_id=hub_id, notice=notice, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)


def account_kind(s: Session, hub_id: int) -> str:
    """service (认证服务号) unless the hub said it runs on a 公众号/订阅号."""
    return s.scalar(select(WeChatAccount.kind).where(WeChatAccount.hub_id == hub_id)) or SERVICE


def set_account_kind(s: Session, hub_id: int, kind: str, now: datetime) -> None:
    if kind not in ACCOUNT_KINDS:
        raise ValueError(f"unknown account kind {kind!r} (known: {', '.join(ACCOUNT_KINDS)})")
    row = s.get(WeChatAccount, hub_id)
    if row is None:
        s.add(WeChatAccount(hub_id=hub_id, kind=kind, updated_at=now))
    else:
        row.kind, row.updated_at = kind, now
