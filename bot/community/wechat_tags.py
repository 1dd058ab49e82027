"""WeChat user tags for 群发 segments: the tag the bot keeps per segment it broadcasts to by tag.

A 订阅号 cannot 群发 to a list of openids (message/mass/send is a 服务号's call); it reaches everyone or the
followers under a tag (message/mass/sendall with a tag_id). So for a segment it sends by tag (a team, a community,
every follower who has not opted out) the bot keeps one tag on the account: created the first time (tags/create,
a name of at most 30 bytes, unique on the account, at most 100 tags per account), its WeChat id kept here
(wechat_tags), and its members made equal to the people the 群发 is for just before it goes (the worker:
bot.worker.tagsend), so joins and leaves of a team, opt-outs and quota skips since the last time all count.

Here: the tag's row and name, the pure plan of the (un)tagging calls (at most 50 openids each), the limit on tags
in words for staff, and the reasons a person may drop out while being tagged. No WeChat call is made here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.errors import LeifengError
from storage.models import Team
from storage.models_events import WeChatTag

TAGS_MAX = 100  # tags one official account may create
TAGS_PER_USER = 20  # tags one follower may carry
TAGGING_MAX = 50  # openids in one batchtagging / batchuntagging call
NAME_BYTES = 30  # WeChat counts a tag's name in bytes (UTF-8): 10 Chinese characters
# why someone queued for a 群发 by tag was not put under the tag (and so does not receive it)
TOO_MANY_TAGS = "too_many_tags"  # they already carry 20 tags (45059)
NOT_FOLLOWING = "unfollowed"  # WeChat does not know them as a follower any more (40003)
TAG_LIMIT = "tag_limit"  # the account has its 100 tags: the segment's tag could not be created (45056)
WORDS = {TOO_MANY_TAGS: f"对方在公众号里的标签已满（每人最多 {TAGS_PER_USER} 个）",
         TAG_LIMIT: f"公众号的标签已满（微信每个公众号最多 {TAGS_MAX} 个），按标签的群发没有发出：请在公众号后台"
                    "「用户管理 → 标签」删掉不用的标签，再发一次这条群发"}


class TagLimitError(LeifengError):
    """The account has no room for another tag; the message tells staff what to do."""


def limit_words(label: str) -> str:
    return (f"公众号的标签已满：微信每个公众号最多只能建 {TAGS_MAX} 个标签，这次群发要给「{label}」新建一个。"
            "请先在公众号后台「用户管理 → 标签」删掉不用的标签，再发这条群发。")


def label(s: Session, hub_id: int, segment: str) -> str:
    """The segment as staff name it: 全部关注者, 队伍 理发队, 小区 幸福小区."""
    kind, _, arg = segment.partition(":")
    if kind == "team":
        team = s.execute(select(Team.name).where(Team.hub_id == hub_id, Team.code == arg)).scalar_one_or_none()
        return f"队伍 {team or arg}"
    if kind == "community":
        return f"小区 {arg}"
    return "全部关注者"


def tag_name(text: str, row_id: int) -> str:
    """The tag's name on the account: the segment's label cut to fit 30 bytes with "#<row id>" after it, so that
    two hubs (or two long names) never collide and a tag the bot created is recognised as its own."""
    suffix = f"#{row_id}"
    room = NAME_BYTES - len(suffix.encode("utf-8"))
    cut = text
    while len(cut.encode("utf-8")) > room:
        cut = cut[:-1]
    return cut.rstrip() + suffix


def tag_for(s: Session, hub_id: int, segment: str, now: datetime) -> WeChatTag:
    """The segment's tag row (made, without a WeChat id yet, the first time)."""
    row = s.execute(select(WeChatTag).where(WeChatTag.hub_id == hub_id, WeChatTag.segment == segment)
                    ).scalar_one_or_none()
    if row is not None:
        return row
    try:
        with s.begin_nested():  # another worker or staff member may queue the same segment at the same moment
            row = WeChatTag(hub_id=hub_id, segment=segment, name="", created_at=now)
            s.add(row)
            s.flush()
            row.name = tag_name(label(s, hub_id, segment), row.id)
    except IntegrityError:
        row = s.execute(select(WeChatTag).where(WeChatTag.hub_id == hub_id, WeChatTag.segment == segment)
                        ).scalar_one()
    return row


def check_room(s: Session, hub_id: int, segment: str) -> None:
    """Refuse, in words, a 群发 by tag that would need a new tag when the bot already keeps 100 on the account.
    (Tags staff made by hand in WeChat's console are not known here: WeChat's 45056 then stops it at sending,
    shown on the 未送达 list with the same advice.)"""
    have = s.execute(select(WeChatTag.tag_id).where(WeChatTag.hub_id == hub_id, WeChatTag.segment == segment)
                     ).scalar_one_or_none()
    if have is not None:
        return
    used = int(s.scalar(select(func.count()).select_from(WeChatTag).where(
        WeChatTag.hub_id == hub_id, WeChatTag.tag_id.is_not(None))) or 0)
    if used >= TAGS_MAX:
        raise TagLimitError(limit_words(label(s, hub_id, segment)))


def batches(openids: Iterable[str], size: int = TAGGING_MAX) -> list[list[str]]:
    """The openids in calls of at most `size` (sorted, so a retry makes the same calls)."""
    ordered = sorted(set(openids))
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


def plan(have: Iterable[str], want: Iterable[str]) -> tuple[list[list[str]], list[list[str]]]:
    """(batches to tag, batches to untag) that make a tag's members `have` equal to `want`."""
    have_set, want_set = set(have), set(want)
    return batches(want_set - have_set), batches(have_set - want_set)
