"""The WeChat API client: wechatpy's, with one shared access token per AppID and a locked refresh."""

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
        return bool(row and row.token and row.expires_at
                    and as_utc(row.expires_at) - self._clock.now() > self._margin)

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

    def _read(self, appid: str) -> tuple[str | None, datetime | None]:
        token, expires = self._redis.hmget(self._key(appid), ["token", "expires_at"])
        return token or None, datetime.fromisoformat(expires) if expires else None

    def _fresh(self, token: str | None, expires: datetime | None) -> bool:
        return bool(token and expires and expires - self._clock.now() > self._margin)

    def peek(self, appid: str) -> str | None:
        with _redis_errors():
            return self._read(appid)[0]

    def valid_token(self, appid: str, fetch: Fetch) -> str:
        with _redis_errors():
            token, expires = self._read(appid)
        if token and self._fresh(token, expires):
            return token
        return self.refresh(appid, fetch, token)

    def refresh(self, appid: str, fetch: Fetch, stale: str | None) -> str:
        with _redis_errors(), self._redis.lock(f"{self._key(appid)}:lock", timeout=self.LOCK_SECONDS,
                                               blocking_timeout=self.LOCK_SECONDS):
            token, expires = self._read(appid)
            if token and token != stale and self._fresh(token, expires):
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

    def _fetch(self) -> tuple[str, int]:
        try:
            res = self._http.get(self.base_url + "/cgi-bin/token", timeout=self.timeout, params={
                "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})
            res.raise_for_status()
            data = res.json()
        except (requests.RequestException, ValueError) as exc:
            raise WeChatClientException(None, f"token request failed: {hide_query(str(exc))}", client=self) from exc
        if data.get("errcode"):
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
