"""bot.errors.hide_query: credentials in quoted URLs never reach a log line, a database row or the CLI."""

from __future__ import annotations

import pytest

from bot.errors import hide_query


@pytest.mark.parametrize(("text", "kept", "gone"), [
    ("Max retries exceeded with url: /cgi-bin/token?grant_type=client_credential&appid=wx1&secret=S1 (Caused by X)",
     "url: /cgi-bin/token?… (Caused by X)", "S1"),
    ("500 Server Error for url: http://127.0.0.1:1/cgi-bin/webhook/send?key=ROBOTKEY", "send?…", "ROBOTKEY"),
    ("for url: https://proxy.example/we%20chat;v=1/cgi-bin/message/custom/send?access_token=TOK", "send?…", "TOK"),
    ("'http://h/cgi-bin/token?secret=S2'", "token?…'", "S2"),
])
def test_queries_are_dropped_and_the_rest_kept(text: str, kept: str, gone: str) -> None:
    out = hide_query(text)
    assert kept in out and gone not in out


def test_text_without_urls_is_unchanged() -> None:
    text = "errcode 40001: invalid credential? hint: [abc]"
    assert hide_query(text) == text
