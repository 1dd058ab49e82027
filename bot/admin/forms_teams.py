"""The console's forms for service teams and partner merchants (Flask-WTF, CSRF on each)."""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from bot.admin.forms import CODE, CODE_RULE, ID_RANGE, REQUIRED, ConsoleForm, WholeNumberField

PHONE = r"^[0-9+\- ]{3,32}$"


class ServicesField(SelectMultipleField):  # type: ignore[misc]  # Flask-WTF/WTForms are untyped
    """Services ticked from the hub's catalogue; the view sets the choices before validating."""

    def __init__(self, label: str, **kwargs: Any) -> None:
        super().__init__(label, choices=[], invalid_choice_message="服务目录里没有：%(value)s", **kwargs)


class TeamEditForm(ConsoleForm):
    name = StringField("队伍名称", validators=[DataRequired(REQUIRED), Length(max=100)])
    services = ServicesField("负责的服务")
    emergency = BooleanField("应急队伍（一呼百应时召集）")


class TeamForm(TeamEditForm):
    code = StringField("队伍代码", validators=[DataRequired(REQUIRED), Regexp(CODE, message=CODE_RULE)])


class MemberForm(ConsoleForm):
    volunteer_id = WholeNumberField("志愿者", validators=[InputRequired(REQUIRED), ID_RANGE])


class LeaderForm(ConsoleForm):
    volunteer_id = WholeNumberField("队长", validators=[Optional(), ID_RANGE])  # empty: no leader


class RobotKeyForm(ConsoleForm):
    # never rendered with its value: the page shows only the last 4 characters of a saved key
    robot_key = StringField("群机器人key或Webhook地址", validators=[Optional(), Length(max=300, message="太长了")])
    clear = BooleanField("取消群机器人")


class MerchantEditForm(ConsoleForm):
    name = StringField("商户名称", validators=[DataRequired(REQUIRED), Length(max=200)])
    address = StringField("地址", validators=[Optional(), Length(max=300)])
    phone = StringField("电话", validators=[Optional(), Regexp(PHONE, message="请填写电话号码")])
    service_point = BooleanField("便民服务点")
    services = ServicesField("提供的志愿服务")
    accepts_redemptions = BooleanField("接受积分兑换")
    # off: only the volunteer's code, entered by the counter person (bot.people.merchants.redeem_by_scan refuses)
    shows_qr = BooleanField("柜台贴着本店的扫码兑换二维码（志愿者扫码自助兑换）", default=True)
    # a phone staff know (looked up among those who wrote to the account), or the openid itself (out9)
    staff_openid = StringField("柜台核销人的手机号（他要先给公众号发过消息），或他的微信openid",
                               validators=[Optional(), Length(max=128),
                                           Regexp(r"^[A-Za-z0-9_:\-]+$", message="请写手机号或openid")])


class MerchantForm(MerchantEditForm):
    code = StringField("商户代码", validators=[DataRequired(REQUIRED), Regexp(CODE, message=CODE_RULE)])
