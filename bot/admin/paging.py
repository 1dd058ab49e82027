"""Pagination by key for the console's lists (issue 19): a page is the next `size` rows after (or before) the key
of the last row seen, read along an index, so the thousandth page costs what the first does (OFFSET reads and
throws away every row before the page). A list may be in segments (the volunteers: applications first, then the
rest), each read in key order; a cursor names the segment and the key: "3-1234", or "1234" for one segment."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

END = "end"  # `before=end`: the last page
_CURSOR = re.compile(r"(?:([0-9])-)?([0-9]{1,18})")
COUNT_CAP = 1000  # a list's total is counted up to this many rows ("超过1000个"), not over the whole history


AnySelect = Select[*tuple[Any, ...]]  # a SELECT of any columns or entities


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    before: str | None  # the cursor of the page before this one (None: this is the first page)
    after: str | None  # the cursor of the page after this one (None: this is the last page)


def _parse(text: str | None, segments: int) -> tuple[int, int] | None:
    found = _CURSOR.fullmatch(text or "")
    if found is None:
        return None
    seg = int(found.group(1) or 0)
    return (seg, int(found.group(2))) if seg < segments else None


def _cursor(seg: int, key: int, segments: int) -> str:
    return f"{seg}-{key}" if segments > 1 else str(key)


def keyset(s: Session, stmt: AnySelect, key: Any, key_of: Callable[[Any], int], *, size: int,
           after: str | None = None, before: str | None = None, segments: Sequence[Any] = (),
           descending: bool = False) -> Page:
    """One page of `stmt` ordered by `key` (a unique integer column; `descending`: highest first) within each of
    `segments` (WHERE conditions, read in turn), starting after the cursor `after` or ending before `before`
    (END: the last page); without either, the first page. One statement per segment from the cursor's on."""
    conds = list(segments) or [None]
    n = len(conds)
    forward = before is None
    start = _parse(after if forward else before, n)
    if not forward and start is None:
        forward = before != END
    if start is None:
        first_seg = 0 if forward else n - 1
    else:
        first_seg = start[0]
    towards_smaller = forward == descending
    order = range(first_seg, n) if forward else range(first_seg, -1, -1)
    found: list[tuple[int, Any]] = []
    for seg in order:
        q = stmt if conds[seg] is None else stmt.where(conds[seg])
        if start is not None and seg == first_seg:
            q = q.where(key < start[1] if towards_smaller else key > start[1])
        q = q.order_by(key.desc() if towards_smaller else key.asc()).limit(size + 1 - len(found))
        found += [(seg, row) for row in s.execute(q).all()]  # a full page still asks the next (LIMIT 0): the
        # statements a page costs depend on where it starts, never on how many rows there are
    more = len(found) > size
    found = found[:size]
    if not forward:
        found.reverse()
    if not found:
        return Page([], None, None)
    head, tail = found[0], found[-1]
    has_before = more if not forward else start is not None
    has_after = more if forward else start is not None
    return Page([row for _seg, row in found],
                _cursor(head[0], key_of(head[1]), n) if has_before else None,
                _cursor(tail[0], key_of(tail[1]), n) if has_after else None)


def capped_count(s: Session, stmt: AnySelect, cap: int = COUNT_CAP) -> int:
    """How many rows `stmt` selects, counting at most `cap` + 1 (more than `cap` reads as cap + 1)."""
    return int(s.scalar(select(func.count()).select_from(stmt.limit(cap + 1).subquery())) or 0)


@dataclass(frozen=True)
class Links:
    """The pager's links, each keeping the list's filters and search: 最前, 上一页, 下一页, 最后 (None: not shown)."""

    first: str | None
    before: str | None
    after: str | None
    last: str | None


PAGING_ARGS = ("after", "before", "page")


def links(page: Page, endpoint: str, args: Mapping[str, str], **values: Any) -> Links:
    """Links to the pages around `page` of `endpoint`, with the request's other arguments (filters, search)."""
    keep = {k: v for k, v in args.items() if k not in PAGING_ARGS}
    paged = any(args.get(k) for k in PAGING_ARGS)

    def to(**cursor: str) -> str:
        arguments: dict[str, Any] = {**values, **keep, **cursor}
        return url_for(endpoint, **arguments)
    return Links(first=to() if page.before or (paged and not page.rows) else None,
                 before=to(before=page.before) if page.before else None,
                 after=to(after=page.after) if page.after else None,
                 last=to(before=END) if page.after else None)
