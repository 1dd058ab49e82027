"""WTForms' own messages reach staff in Chinese (outside tester out10: "服务时长（小时）：Not a valid decimal value.",
"说明：Field cannot be longer than 500 characters.")."""

from __future__ import annotations

from typing import Any

from bot.admin.forms import HoursForm, NoteForm


def test_the_built_in_messages_are_chinese(client: Any) -> None:
    app = client.application
    app.config["WTF_CSRF_ENABLED"] = False
    with app.test_request_context(method="POST", data={"hours": "abc"}):
        form = HoursForm()
        assert not form.validate()
        assert form.hours.errors[0] == "不是有效的小数。", form.hours.errors
    with app.test_request_context(method="POST", data={"note": "长" * 501}):
        form = NoteForm()
        assert not form.validate()
        assert form.note.errors == ["字段长度不能超过 500 个字符。"], form.note.errors
