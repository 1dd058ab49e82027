"""`leifeng qrcode`: parameterised QR codes for posters (volunteer sign-up, merchant counters, events)."""

from __future__ import annotations

import re
from urllib.parse import quote

import click

from bot.config import load_config
from bot.services import build_services

SCENE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
SHOW_URL = "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket="
KNOWN = "volunteer_register (报名), merchant_redeem_<商家编号> (积分兑换), event_<活动编号> (活动提醒)"


@click.command("qrcode")
@click.option("--scene", required=True, help=f"Scene string. Used by the bot: {KNOWN}.")
@click.option("--hub", "slug", default="default", show_default=True)
@click.option("--days", type=click.IntRange(0, 30), default=0, show_default=True,
              help="0 = a permanent code (for printed posters); 1-30 = a temporary one.")
def qrcode_cli(scene: str, slug: str, days: int) -> None:
    """Create a parameterised QR code; scanning it subscribes with the scene (or sends SCAN)."""
    if not SCENE.match(scene):
        raise click.ClickException("scene must be 1-64 letters, digits, '_' or '-'")
    services = build_services(load_config())
    account = services.hubs.by_slug(slug)
    body: dict[str, object] = {"action_info": {"scene": {"scene_str": scene}}}
    if days:
        body.update(action_name="QR_STR_SCENE", expire_seconds=days * 86400)
    else:
        body["action_name"] = "QR_LIMIT_STR_SCENE"
    res = services.client_for(account).qrcode.create(body)
    click.echo(f"scene {scene}: {SHOW_URL}{quote(str(res['ticket']))}")
    click.echo(f"(content URL {res.get('url', '')}; {'expires in ' + str(days) + ' days' if days else 'permanent'})")
