"""The console's forms (Flask-WTF): each carries a CSRF token and checks its fields before a view acts."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    PasswordField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from storage.models_admin import STAFF_ROLES

REQUIRED = "必填"
CODE = r"^[a-z][a-z0-9_]{0,63}$"
CODE_RULE = "小写字母开头，只用小写字母、数字和下划线"


class ConsoleForm(FlaskForm):
    """The base of every console form: WTForms' built-in messages (a number that is no number, a text too long) in
    Chinese, from the catalogue WTForms ships (bot.admin.context turns Flask-WTF's Babel lookup off)."""

    class Meta:
        locales = ("zh",)


class LoginForm(ConsoleForm):
    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(REQUIRED), Length(max=200)])


class ActionForm(ConsoleForm):
    """A button with nothing to fill in (still CSRF-protected)."""


# a number typed into a form must fit the id column it is looked up in (signed 64-bit, positive)
MAX_ID = 2**63 - 1
ID_RANGE = NumberRange(min=1, max=MAX_ID, message="没有这个编号")


class WholeNumberField(IntegerField):
    """A whole number typed in by hand: ASCII digits only (int() would take "٣", str.isdigit() "²"), and a
    refusal in plain Chinese."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None  # InputRequired says 必填
            return
        text = str(valuelist[0]).strip()
        if not re.fullmatch(r"[0-9]{1,19}", text):
            self.data = None
            raise ValueError("请填写数字")
        self.data = int(text)


class AssignForm(ConsoleForm):
    volunteer_id = WholeNumberField("志愿者编号", validators=[InputRequired(REQUIRED), ID_RANGE])


class NoteForm(ConsoleForm):
    note = TextAreaField("说明", validators=[DataRequired(REQUIRED), Length(max=500)])


class ReasonForm(ConsoleForm):
    reason = TextAreaField("原因", validators=[DataRequired(REQUIRED), Length(max=500)])


class ServiceChoiceForm(ConsoleForm):
    service = StringField("服务", validators=[DataRequired(REQUIRED), Regexp(CODE, message="没有这项服务")])


class HoursForm(ConsoleForm):
    hours = DecimalField("服务时长（小时）", places=1, validators=[InputRequired(REQUIRED),
                                                         NumberRange(min=0.1, max=24, message="0.1 到 24 小时")])


class DismissForm(ConsoleForm):
    # one of bot.people.volunteers.DISMISSAL_REASONS (the domain refuses anything else); the page offers them as a list
    reason_code = StringField("劝退依据", validators=[DataRequired(REQUIRED), Length(max=32)])
    reason = TextAreaField("说明", validators=[DataRequired(REQUIRED), Length(max=500)])


class HubForm(ConsoleForm):
    hub = WholeNumberField("站点", validators=[InputRequired(REQUIRED), ID_RANGE])


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").replace("，", "\n").replace(",", "\n").splitlines() if line.strip()]


class ServiceForm(ConsoleForm):
    code = StringField("代码", validators=[DataRequired(REQUIRED), Regexp(CODE, message=CODE_RULE)])
    name = StringField("名称", validators=[DataRequired(REQUIRED), Length(max=20)])
    description = TextAreaField("说明", validators=[DataRequired(REQUIRED), Length(max=300)])
    team = StringField("负责队伍", validators=[DataRequired(REQUIRED), Length(max=64)])
    at_home = BooleanField("上门服务")
    duration_minutes = WholeNumberField("一般时长（分钟）", validators=[InputRequired(REQUIRED),
                                                           NumberRange(min=1, max=24 * 60)])
    minors_ok = BooleanField("未成年志愿者可做")
    keywords = TextAreaField("关键词（每行一个）", validators=[DataRequired(REQUIRED)])
    hints = TextAreaField("提示词（每行一个，可空）", validators=[Optional()])
    examples = TextAreaField("居民说法示例（每行一个，可空）", validators=[Optional()])
    note = StringField("修改说明", validators=[Optional(), Length(max=200)])

    def entry(self) -> dict[str, object]:
        """The service as a catalogue entry (the TOML shape)."""
        return {"code": self.code.data.strip(), "name": self.name.data.strip(),
                "description": self.description.data.strip(), "team": self.team.data.strip(),
                "at_home": bool(self.at_home.data), "duration_minutes": int(self.duration_minutes.data or 0),
                "minors_ok": bool(self.minors_ok.data), "keywords": _lines(self.keywords.data),
                "hints": _lines(self.hints.data), "examples": _lines(self.examples.data)}


class StaffForm(ConsoleForm):
    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(min=3, max=64)])
    display_name = StringField("姓名", validators=[Optional(), Length(max=100)])
    password = PasswordField("初始密码（至少10位）", validators=[DataRequired(REQUIRED), Length(min=10, max=200)])
    role = StringField("角色", validators=[DataRequired(REQUIRED), AnyOf(STAFF_ROLES, message="没有这个角色")])
    team_code = StringField("队伍代码（队长）", validators=[Optional(), Length(max=64)])
    merchant_code = StringField("商户代码（商户）", validators=[Optional(), Length(max=64)])


class EventForm(ConsoleForm):
    title = StringField("活动名称", validators=[DataRequired(REQUIRED), Length(max=200)])
    day = DateField("日期", validators=[InputRequired(REQUIRED)])
    start = TimeField("开始", validators=[InputRequired(REQUIRED)])
    end = TimeField("结束", validators=[InputRequired(REQUIRED)])
    place = StringField("地点", validators=[DataRequired(REQUIRED), Length(max=200)])
    note = StringField("备注", validators=[Optional(), Length(max=500)])


class MoveEventForm(ConsoleForm):
    day = DateField("新日期", validators=[InputRequired(REQUIRED)])
    start = TimeField("开始", validators=[InputRequired(REQUIRED)])
    end = TimeField("结束", validators=[InputRequired(REQUIRED)])
    place = StringField("新地点（不变可空）", validators=[Optional(), Length(max=200)])


class BroadcastForm(ConsoleForm):
    kind = StringField("发给", validators=[DataRequired(REQUIRED),
                                         AnyOf(("all-subscribers", "team", "community"), message="请选择发给谁")])
    arg = StringField("队伍代码或小区名", validators=[Optional(), Length(max=100)])
    text = TextAreaField("内容", validators=[DataRequired(REQUIRED), Length(max=600)])
    force = BooleanField("一天内重复发送同样内容")


class IntakeForm(ConsoleForm):
    """An order staff take for a resident who phoned or walked in (代客下单)."""

    name = StringField("居民姓名", validators=[DataRequired("请填写居民姓名"), Length(max=100)])
    phone = StringField("电话", validators=[DataRequired("请填写电话"), Length(max=32)])
    address = StringField("地址", validators=[DataRequired("请填写地址"), Length(max=200)])
    description = TextAreaField("居民说要什么", validators=[Optional(), Length(max=500)])
    service = StringField("服务", validators=[DataRequired("请选择服务"), Length(max=64)])
    when = StringField("时间（如“明天下午三点”“尽快”）", validators=[DataRequired("请填写时间"), Length(max=100)])
    notes = TextAreaField("备注", validators=[Optional(), Length(max=500)])


class PhoneRatingForm(ConsoleForm):
    """The hearts and comment a resident without WeChat gave by phone."""

    hearts = IntegerField("几颗心（0-5）", validators=[InputRequired("请填写几颗心"),
                                                   NumberRange(min=0, max=5, message="要在0到5之间")])
    comment = TextAreaField("居民的话", validators=[Optional(), Length(max=500)])
