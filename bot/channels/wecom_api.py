"""The WeCom (企业微信) app's server API (gettoken, message/send, appchat/send) and WeCom user ids."""

from __future__ import annotations

from typing import Any

import requests

from bot.channels.wechat_client import AccessTokens
from bot.config import Config
from bot.errors import WeChatAPIError, hide_query
from bot.outbox import is_wecom, userid_of
from bot.outbox import wecom_openid as openid_for

__all__ = ["WeComClient", "is_wecom", "openid_for", "userid_of"]

TOKEN_EXPIRED = (40001, 40014, 42001)


class WeComClient:
    """WeCom's server API for one app: gettoken (shared through the token store), message/send, appchat/send."""

    def __init__(self, config: Config, store: AccessTokens) -> None:
        self.base_url = (config.wecom_api_base_url or config.wecom_robot_base_url).rstrip("/")
        self.corpid = config.wecom_corpid
        self.secret = config.wecom_secret
        self.agent_id = config.wecom_agent_id
        self.timeout = config.http_timeout_seconds
        self.store = store
        self.key = f"wecom:{self.corpid}:{self.agent_id}"[:64]

    def _fetch(self) -> tuple[str, int]:
        data = self._call("GET", "/cgi-bin/gettoken", params={"corpid": self.corpid, "corpsecret": self.secret})
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    def _call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        try:
            res = requests.request(method, self.base_url + path, timeout=self.timeout, **kw)
            res.raise_for_status()
            data: dict[str, Any] = res.json()
        except (requests.RequestException, ValueError) as exc:
            raise WeChatAPIError(None, f"WeCom request failed: {hide_query(str(exc))}") from exc
        if data.get("errcode"):
            raise WeChatAPIError(int(data["errcode"]), str(data.get("errmsg", "")))
        return data

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if not (self.corpid and self.secret):
            raise WeChatAPIError(None, "WeCom app not configured (LEIFENG_WECOM_CORPID / LEIFENG_WECOM_SECRET)")
        token = ""
        for attempt in range(2):  # the refresh replaces the token this call used (other threads use the client)
            token = self.store.valid_token(self.key, self._fetch) if attempt == 0 else \
                self.store.refresh(self.key, self._fetch, stale=token)
            try:
                return self._call("POST", path, params={"access_token": token}, json=body)
            except WeChatAPIError as exc:
                if exc.errcode not in TOKEN_EXPIRED or attempt == 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def send_to_user(self, userid: str, text: str, kind: str = "text") -> None:
        body: dict[str, Any] = {"touser": userid, "msgtype": kind, "agentid": int(self.agent_id or 0),
                                kind: {"content": text}}
        self.post("/cgi-bin/message/send", body)

    def send_to_chat(self, chatid: str, text: str, kind: str = "text") -> None:
        self.post("/cgi-bin/appchat/send", {"chatid": chatid, "msgtype": kind, kind: {"content": text}})
