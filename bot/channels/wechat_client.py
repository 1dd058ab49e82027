"""The WeChat API client: wechatpy's, with one shared access token per AppID (from /cgi-bin/stable_token, else the
classic /cgi-bin/token) and a locked refresh; and the calls wechatpy 1.8.18 lacks (client_msg_id, 订阅通知,
drafts, 群发)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from bot.clock import Clock, as_utc
from bot.errors import WeChatAPIError, hide_query
from storage.db import transaction
from storage.models import AccessToken

log = logging.getLogger(__name__)

Fetch = Callable[[], tuple[str, int]]

# A token WeChat handed back unchanged when asked within the refresh margin (stable_token's normal mode returns
# the valid token until it expires): it is used to the end of its life minus this, not re-asked on every call.
EDGE = timedelta(seconds=30)


def fresh(token: str | None, expires: datetime | None, refreshed: datetime | None, now: datetime,
          margin: timedelta) -> bool:
    """Is the stored token good to use now: outside the refresh margin, or re-confirmed by WeChat inside it."""
    if not token or expires is None:
        return False
    if expires - now > margin:
        return True
    return refreshed is not None and refreshed >= expires - margin and expires - now > EDGE


class TokenStore:
    """access_token rows in the database, shared by every process.

    Refresh happens inside a transaction holding the row lock (SELECT ... FOR UPDATE on PostgreSQL,
    BEGIN IMMEDIATE on SQLite), and re-reads the row first: a process that waited for the lock
    finds the token another process just fetched and uses it instead of spending quota.
    """

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, margin_seconds: int = 300) -> None:
        self._sessions = sessions
        self._clock = clock
        self._margin = timedelta(seconds=margin_seconds)

    def peek(self, appid: str) -> str | None:
        with self._sessions() as s:
            row = s.get(AccessToken, appid)
            return row.token if row else None

    def _fresh(self, row: AccessToken | None) -> bool:
        if row is None or row.expires_at is None:
            return False
        return fresh(row.token, as_utc(row.expires_at), as_utc(row.refreshed_at) if row.refreshed_at else None,
                     self._clock.now(), self._margin)

    def valid_token(self, appid: str, fetch: Fetch) -> str:
        with self._sessions() as s:
            row = s.get(AccessToken, appid)
            if row is not None and self._fresh(row):
                assert row.token
                return row.token
            stale = row.token if row else None
        return self.refresh(appid, fetch, stale)

    def refresh(self, appid: str, fetch: Fetch, stale: str | None) -> str:
        self._ensure_row(appid)
        with transaction(self._sessions) as s:
            row = s.execute(select(AccessToken).where(AccessToken.appid == appid).with_for_update()).scalar_one()
            if row.token and row.token != stale and self._fresh(row):
                return row.token
            token, expires_in = fetch()
            now = self._clock.now()
            row.token = token
            row.expires_at = now + timedelta(seconds=int(expires_in))
            row.refreshed_at = now
            row.refresh_count += 1
            log.info("access_token refreshed for %s (refresh #%d)", appid, row.refresh_count)
            return token

    def invalidate(self, appid: str) -> None:
        with transaction(self._sessions) as s:
            row = s.get(AccessToken, appid)
            if row is not None:
                row.token = None
                row.expires_at = None

    def _ensure_row(self, appid: str) -> None:
        try:
            with transaction(self._sessions) as s:
                if s.get(AccessToken, appid) is None:
                    s.add(AccessToken(appid=appid, refresh_count=0))
        except IntegrityError:
            pass  # another process created it first


class AccessTokens(Protocol):
    """Where access tokens live, shared by every process: the database (TokenStore) or Redis."""

    def peek(self, appid: str) -> str | None: ...
    def valid_token(self, appid: str, fetch: Fetch) -> str: ...
    def refresh(self, appid: str, fetch: Fetch, stale: str | None) -> str: ...
    def invalidate(self, appid: str) -> None: ...


class RedisTokenStore:
    """access tokens in Redis (LEIFENG_REDIS_URL), for deployments that run one: a hash per AppID.

    The refresh is serialised by redis-py's Lock (SET NX with an expiry, released by its owner only), so a
    process that dies mid-refresh frees it after LOCK_SECONDS; like TokenStore, the waiter re-reads first and
    uses a token another process just fetched. Expiry is judged on the injected clock, not Redis's TTL.
    Redis unreachable = the token is unavailable: a WeChatAPIError, which the outbox retries later."""

    LOCK_SECONDS = 30  # longer than a token request may take (the HTTP timeout, 5 s by default)

    def __init__(self, redis: Any, clock: Clock, margin_seconds: int = 300, prefix: str = "leifeng:") -> None:
        self._redis = redis
        self._clock = clock
        self._margin = timedelta(seconds=margin_seconds)
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, clock: Clock, prefix: str = "leifeng:", timeout: float = 5.0) -> RedisTokenStore:
        return cls(Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                  decode_responses=True), clock, prefix=prefix)

    def _key(self, appid: str) -> str:
        return f"{self._prefix}access_token:{appid}"

    def _read(self, appid: str) -> tuple[str | None, datetime | None, datetime | None]:
        token, expires, refreshed = self._redis.hmget(self._key(appid), ["token", "expires_at", "refreshed_at"])
        return (token or None, datetime.fromisoformat(expires) if expires else None,
                datetime.fromisoformat(refreshed) if refreshed else None)

    def _fresh(self, token: str | None, expires: datetime | None, refreshed: datetime | None) -> bool:
        return fresh(token, expires, refreshed, self._clock.now(), self._margin)

    def peek(self, appid: str) -> str | None:
        with _redis_errors():
            return self._read(appid)[0]

    def valid_token(self, appid: str, fetch: Fetch) -> str:
        with _redis_errors():
            token, expires, refreshed = self._read(appid)
        if token and self._fresh(token, expires, refreshed):
            return token
        return self.refresh(appid, fetch, token)

    def refresh(self, appid: str, fetch: Fetch, stale: str | None) -> str:
        with _redis_errors(), self._redis.lock(f"{self._key(appid)}:lock", timeout=self.LOCK_SECONDS,
                                               blocking_timeout=self.LOCK_SECONDS):
            token, expires, refreshed = self._read(appid)
            if token and token != stale and self._fresh(token, expires, refreshed):
                return token
            token, expires_in = fetch()
            now = self._clock.now()
            key = self._key(appid)
            pipe = self._redis.pipeline()  # MULTI/EXEC: readers see the old token or the new one, whole
            pipe.hset(key, mapping={"token": token, "refreshed_at": now.isoformat(),
                                    "expires_at": (now + timedelta(seconds=int(expires_in))).isoformat()})
            pipe.hincrby(key, "refresh_count", 1)
            count = pipe.execute()[1]
            log.info("access_token refreshed for %s in Redis (refresh #%d)", appid, count)
            return token

    def invalidate(self, appid: str) -> None:
        with _redis_errors():
            self._redis.hdel(self._key(appid), "token", "expires_at")

    def refresh_count(self, appid: str) -> int:
        with _redis_errors():
            return int(self._redis.hget(self._key(appid), "refresh_count") or 0)


@contextmanager
def _redis_errors() -> Iterator[None]:
    try:
        yield
    except RedisError as exc:  # connection errors and LockError (lock not got in time) are RedisErrors
        raise WeChatAPIError(None, f"access token store (Redis) unavailable: {exc}") from exc


def token_store(redis_url: str, sessions: sessionmaker[Session], clock: Clock,
                prefix: str = "leifeng:") -> AccessTokens:
    """Redis when LEIFENG_REDIS_URL is set, else the database every process already shares."""
    if redis_url:
        return RedisTokenStore.from_url(redis_url, clock, prefix=prefix)
    return TokenStore(sessions, clock)


class _StoreSession(SessionStorage):  # type: ignore[misc]
    """wechatpy's session interface, read through to the shared TokenStore."""

    def __init__(self, store: AccessTokens, appid: str) -> None:
        self._store = store
        self._appid = appid

    def get(self, key: str, default: Any = None) -> Any:
        return self._store.peek(self._appid) or default

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        raise NotImplementedError("tokens are written only by TokenStore.refresh")

    def delete(self, key: str) -> None:
        self._store.invalidate(self._appid)


class HubWeChatClient(WeChatClient):  # type: ignore[misc]
    """wechatpy's client pointed at a configurable base URL, with the shared, locked token."""

    def __init__(self, appid: str, secret: str, base_url: str, store: AccessTokens, timeout: float = 5.0) -> None:
        super().__init__(appid, secret, session=_StoreSession(store, appid), timeout=timeout)
        self.base_url = base_url.rstrip("/")
        self.API_BASE_URL = self.base_url + "/cgi-bin/"
        self._store = store
        self._calls = threading.local()  # per sending thread: the token used, _request's depth, refreshed yet?
        self._stable: bool | None = None  # does the account answer stable_token (None: not asked yet)

    # Answers meaning "this account cannot use stable_token" (an old proxy, no permission): use the classic call.
    NO_STABLE_TOKEN = (404, 405, 48001)

    def _fetch(self) -> tuple[str, int]:
        """A token from /cgi-bin/stable_token (normal mode: the valid one is handed back, so processes or hosts
        that ask never invalidate each other's), else from the classic /cgi-bin/token (which ends the previous
        token after a few minutes, hence the shared, locked store)."""
        if self._stable is not False:
            try:
                token = self._token_call("POST", "/cgi-bin/stable_token", json={
                    "grant_type": "client_credential", "appid": self.appid, "secret": self.secret,
                    "force_refresh": False})
            except _NoStableToken as exc:
                log.warning("stable_token unavailable for %s (%s): using /cgi-bin/token", self.appid, exc)
                self._stable = False
            else:
                self._stable = True
                return token
        return self._token_call("GET", "/cgi-bin/token", params={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})

    def _token_call(self, method: str, path: str, **kwargs: Any) -> tuple[str, int]:
        stable = path.endswith("stable_token")
        try:
            res = self._http.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
            if stable and res.status_code in self.NO_STABLE_TOKEN:
                raise _NoStableToken(f"HTTP {res.status_code}")
            res.raise_for_status()
            data = res.json()
        except (requests.RequestException, ValueError) as exc:
            raise WeChatClientException(None, f"token request failed: {hide_query(str(exc))}", client=self) from exc
        if data.get("errcode"):
            if stable and data["errcode"] in self.NO_STABLE_TOKEN:
                raise _NoStableToken(f"errcode {data['errcode']}")
            raise WeChatClientException(data["errcode"], data.get("errmsg", ""), client=self)
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    @property
    def access_token(self) -> str:
        # Remembered per thread: the outbox sends from several threads through this one client, and the
        # token a refused request carried is the one to replace (stale), not whatever another thread used.
        self._calls.last_token = self._store.valid_token(self.appid, self._fetch)
        return str(self._calls.last_token)

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        # wechatpy answers 40001/40014/42001 by refreshing the token and calling _request again, with no limit:
        # a WeChat that keeps refusing fresh tokens would loop for ever. One refresh per call, then the error.
        depth = getattr(self._calls, "depth", 0)
        if depth == 0:
            self._calls.refreshed = False
        self._calls.depth = depth + 1
        try:
            return super()._request(method, url_or_endpoint, **kwargs)
        finally:
            self._calls.depth = depth

    def fetch_access_token(self) -> dict[str, Any]:
        # Called by wechatpy after 40001/42001: replace the token we used, unless someone already did.
        if getattr(self._calls, "depth", 0):
            if self._calls.refreshed:
                raise WeChatClientException(40001, "access token refused again right after a refresh", client=self)
            self._calls.refreshed = True
        token = self._store.refresh(self.appid, self._fetch, stale=getattr(self._calls, "last_token", None))
        self._calls.last_token = token
        return {"access_token": token}


    # -- what wechatpy 1.8.18 does not offer ------------------------------------------------------------------------
    def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message."""
        self.post("message/custom/send", data={"touser": openid, "msgtype": "text", "text": {"content": text}})

    def send_template(self, openid: str, template_id: str, data: dict[str, Any], *, client_msg_id: str,
                      url: str | None = None) -> None:
        """A template message; WeChat sends one per openid and `client_msg_id` within 10 minutes, so a retry of a
        send whose answer was lost does not arrive twice."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data,
                                "client_msg_id": client_msg_id[:64]}
        if url:
            body["url"] = url
        self.post("message/template/send", data=body)

    def send_subscribe(self, openid: str, template_id: str, data: dict[str, Any], *, url: str | None = None) -> None:
        """A 订阅通知 (message/subscribe/bizsend) to someone who accepted this template: one notice per one-time
        acceptance; 43101 when they did not, or turned it off."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            body["page"] = url
        self.post("message/subscribe/bizsend", data=body)

    def upload_image(self, name: str, content: bytes) -> str:
        """A permanent image material (a draft's cover must be one): its media_id."""
        res = self.post("material/add_material", params={"type": "image"},
                        files={"media": (name, content, "image/png")})
        return str(res["media_id"])

    def add_draft(self, articles: list[dict[str, Any]]) -> str:
        """A draft (草稿箱) of news articles, the only way to 群发 news since material/add_news went (45103)."""
        return str(self.post("draft/add", data={"articles": articles})["media_id"])

    def mass_send(self, openids: list[str], media_id: str, clientmsgid: str) -> int:
        """群发 a draft to 2-10,000 followers; `clientmsgid` makes a repeat a no-op (45065: already sent, which
        counts as done). Returns the msg_id."""
        return self._mass("message/mass/send", {"touser": openids}, media_id, clientmsgid)

    def mass_send_to_tag(self, tag_id: int, media_id: str, clientmsgid: str) -> int:
        """群发 a draft to the followers under a tag (message/mass/sendall; the only segment a 订阅号 can reach);
        `clientmsgid` as in mass_send. Returns the msg_id."""
        return self._mass("message/mass/sendall", {"filter": {"is_to_all": False, "tag_id": tag_id}}, media_id,
                          clientmsgid)

    def _mass(self, path: str, audience: dict[str, Any], media_id: str, clientmsgid: str) -> int:
        """群发 a draft to `audience` (the body's touser or filter); 0 for a repeat WeChat already sent (45065)."""
        body = {**audience, "msgtype": "mpnews", "mpnews": {"media_id": media_id}, "send_ignore_reprint": 1,
                "clientmsgid": clientmsgid[:64]}
        try:
            return int(self.post(path, data=body).get("msg_id", 0))
        except WeChatClientException as exc:
            if exc.errcode == MASS_ALREADY_SENT:
                log.info("群发 %s was already sent (45065): not again", clientmsgid)
                return 0
            raise

    # -- user tags (tags API): the segments a 群发 by tag reaches ------------------------------------------------
    def create_tag(self, name: str) -> int:
        """A new tag (≤ 30 bytes, unique on the account; at most 100 tags: 45056). Returns its id."""
        return int(self.post("tags/create", data={"tag": {"name": name}})["tag"]["id"])

    def tags(self) -> dict[int, str]:
        """The account's tags: id -> name."""
        return {int(t["id"]): str(t["name"]) for t in self.get("tags/get").get("tags", [])}

    def tag_members(self, tag_id: int) -> list[str]:
        """Every follower under a tag (user/tag/get, pages of up to 10,000)."""
        out: list[str] = []
        following = ""
        while True:
            res = self.post("user/tag/get", data={"tagid": tag_id, "next_openid": following})
            page = list((res.get("data") or {}).get("openid") or [])
            out.extend(page)
            following = str(res.get("next_openid") or "")
            if not page or not following:
                return out

    def tag_users(self, tag_id: int, openids: list[str]) -> None:
        """Put up to 50 followers under a tag (a follower carries at most 20 tags: 45059)."""
        self.post("tags/members/batchtagging", data={"openid_list": openids, "tagid": tag_id})

    def untag_users(self, tag_id: int, openids: list[str]) -> None:
        """Take up to 50 followers off a tag."""
        self.post("tags/members/batchuntagging", data={"openid_list": openids, "tagid": tag_id})


MASS_ALREADY_SENT = 45065


class _NoStableToken(Exception):
    """The account (or a proxy in front of it) does not offer /cgi-bin/stable_token."""


def post_robot(base_url: str, key: str, body: dict[str, Any], timeout: float = 5.0) -> None:
    """Send to a WeCom group robot; wechatpy has no client for this one POST."""
    try:
        res = requests.post(f"{base_url.rstrip('/')}/cgi-bin/webhook/send", params={"key": key},
                            json=body, timeout=timeout)
        res.raise_for_status()
        data = res.json()
    except (requests.RequestException, ValueError) as exc:
        raise WeChatAPIError(None, f"robot request failed: {hide_query(str(exc))}") from exc
    if data.get("errcode"):
        raise WeChatAPIError(int(data["errcode"]), str(data.get("errmsg", "")))
