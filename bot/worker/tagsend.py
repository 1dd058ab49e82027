"""A 群发 by tag (the sender's part for a broadcast row with a "tag"): the segment's WeChat tag made (once), its
members made equal to the row's people, then message/mass/sendall to that tag.

WeChat's limits met here: a tag's name ≤ 30 bytes and unique (45157 for a name the bot's own earlier try already
created: that tag is adopted), at most 100 tags on the account (45056: the row ends undelivered with the reason
for staff), 50 openids a (un)tagging call, 20 tags a follower (45059) and followers only (40003): a refused batch
is tagged one by one, and whoever WeChat still refuses is recorded as skipped with the reason, so they are not
counted as having received it. The tag's members are read from WeChat (user/tag/get) each time, not remembered:
a tag staff edited by hand in WeChat's console, or a worker that died between a call and its record, is put right
by the next send. The people who count as having received it (their month's 群发) are exactly the tag's members.

Two 群发 by the same tag are assumed not to be sent at the same moment (a 订阅号 has one 群发 a day; a 服务号 uses
tags only for one-person segments): their tagging would overlap.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from wechatpy.exceptions import WeChatClientException

from bot.community.wechat_tags import NOT_FOLLOWING, TAG_LIMIT, TOO_MANY_TAGS, plan, tag_for
from storage.db import transaction
from storage.models import OutboxMessage, User
from storage.models_events import BroadcastRecipient, WeChatTag

log = logging.getLogger(__name__)

NAME_TAKEN, TOO_MANY_TAGS_ON_ACCOUNT, NO_SUCH_TAG = 45157, 45056, 45159
UNKNOWN_OPENID, USER_HAS_TOO_MANY_TAGS = 40003, 45059
PERSON_REFUSALS = {UNKNOWN_OPENID: NOT_FOLLOWING, USER_HAS_TOO_MANY_TAGS: TOO_MANY_TAGS}


class NotTagged(Exception):  # noqa: N818 - an outcome: the 群发 cannot go by its tag
    """The row cannot go: `status` (undelivered | skipped) and the reasons."""

    def __init__(self, status: str, reasons: list[str]) -> None:
        self.status = status
        self.reasons = reasons
        super().__init__(f"not delivered: {', '.join(reasons)}")


def send(sessions: Any, client: Any, row: OutboxMessage, media_id: str, *, clientmsgid: str, now: datetime) -> int:
    """Tag the row's people and 群发 the draft to the tag; returns how many it went to."""
    segment = str(row.payload["tag"])
    with transaction(sessions) as s:
        people = s.execute(select(BroadcastRecipient.id, User.openid, User.subscribed)
                           .join(User, User.id == BroadcastRecipient.user_id)
                           .where(BroadcastRecipient.outbox_id == row.id)).all()
        gone = [rid for rid, _, follows in people if not follows]  # unfollowed since it was queued
        _skip(s, gone, NOT_FOLLOWING)
        tag = tag_for(s, row.hub_id, segment, now)
        tag_row, name, tag_id = tag.id, tag.name, tag.tag_id
    want = {openid: rid for rid, openid, follows in people if follows}
    if tag_id is None:
        tag_id = _create(sessions, client, tag_row, name)
    try:
        have = client.tag_members(tag_id)
    except WeChatClientException as exc:
        if exc.errcode != NO_SUCH_TAG:
            raise
        log.warning("tag %s (%s) is gone from the account: made again", tag_id, name)  # deleted by hand
        tag_id, have = _create(sessions, client, tag_row, name), []
    adds, removes = plan(have, want)
    refused: dict[str, str] = {}
    for batch in adds:
        refused.update(_each(client.tag_users, tag_id, batch))
    for batch in removes:
        _each(client.untag_users, tag_id, batch)  # someone who left WeChat's followers is off the tag anyway
    with transaction(sessions) as s:
        for reason in set(refused.values()):
            _skip(s, [want[o] for o, why in refused.items() if why == reason], reason)
    reached = len(want) - len(refused)
    if reached == 0:
        raise NotTagged("skipped", sorted(set(refused.values())) or [NOT_FOLLOWING])
    client.mass_send_to_tag(tag_id, media_id, clientmsgid)
    with transaction(sessions) as s:
        s.execute(update(WeChatTag).where(WeChatTag.id == tag_row).values(used_at=now))
    return reached


def _create(sessions: Any, client: Any, tag_row: int, name: str) -> int:
    try:
        tag_id = int(client.create_tag(name))
    except WeChatClientException as exc:
        if exc.errcode == TOO_MANY_TAGS_ON_ACCOUNT:
            raise NotTagged("undelivered", [TAG_LIMIT]) from exc
        if exc.errcode != NAME_TAKEN:
            raise
        # the name carries this row's id: a tag of that name is the one an earlier try created and never recorded
        found = [i for i, n in client.tags().items() if n == name]
        if not found:
            raise
        tag_id = found[0]
    with transaction(sessions) as s:
        s.execute(update(WeChatTag).where(WeChatTag.id == tag_row).values(tag_id=tag_id))
    return tag_id


def _each(call: Any, tag_id: int, batch: list[str]) -> dict[str, str]:
    """One (un)tagging call for the batch; when WeChat refuses it for someone in it (all or nothing), one call a
    person, returning who was refused and why."""
    try:
        call(tag_id, batch)
        return {}
    except WeChatClientException as exc:
        if exc.errcode not in PERSON_REFUSALS:
            raise
        if len(batch) == 1:
            return {batch[0]: PERSON_REFUSALS[exc.errcode]}
    refused: dict[str, str] = {}
    for openid in batch:
        refused.update(_each(call, tag_id, [openid]))
    return refused


def _skip(s: Any, recipient_ids: list[int], reason: str) -> None:
    if recipient_ids:
        s.execute(update(BroadcastRecipient).where(BroadcastRecipient.id.in_(recipient_ids))
                  .values(status="skipped", reason=reason, outbox_id=None))
