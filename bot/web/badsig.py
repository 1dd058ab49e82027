"""A cheap limit on unsigned floods: per client address, requests that fail the signature check on /wechat (per
hub) and /wecom. After `failures` failures from one address within `window_seconds`, that address is answered
429 at once, without reading the body or doing any signature work, for `cooldown_seconds`.

Only failures count, and a request that passes the check wipes its address's failures: WeChat's servers send
every hub's messages from a few shared addresses and always sign correctly, so they never build up a count. An
address in cool-down is refused even with a valid signature (the check is the work the cool-down saves); that can
only be WeChat's own address when the hub's token is wrong, and then nothing would be answered anyway (WeChat
retries a refused message). Others cannot fail checks in WeChat's name: the address is the TCP peer's or, behind
LEIFENG_TRUSTED_PROXIES reverse proxies, the one the last of them appended (werkzeug's ProxyFix, bot/app.py).
Without that setting behind a proxy every request comes from the proxy's address and one flood would cool down
everyone: set it (a cool-down is logged once with the address).

The state is per process (each web worker counts its own), in memory, bounded: at most `addresses` addresses are
remembered, the least recently seen forgotten first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, request

from bot.config import Config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FailureRule:
    failures: int = 20  # failed signature checks from one address...
    window_seconds: float = 60.0  # ... within this long start a cool-down
    cooldown_seconds: float = 60.0
    addresses: int = 10_000  # addresses remembered at most (about 100 bytes each)


@dataclass
class _Record:
    window_start: float
    failures: int = 0
    blocked_until: float = 0.0


class FailureLimiter:
    """Failed signature checks per key (the endpoint and the client's address); thread-safe."""

    def __init__(self, rule: FailureRule, clock: Callable[[], float] = time.monotonic) -> None:
        self.rule = rule
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._records)

    def cooling_down(self, key: str) -> bool:
        """Whether requests from this key are refused now (no signature work for them)."""
        now = self._clock()
        with self._lock:
            record = self._records.get(key)
            if record is None:
                return False
            self._records.move_to_end(key)
            return record.blocked_until > now

    def failed(self, key: str) -> None:
        """One more failed check; the one that reaches the limit starts the cool-down."""
        now = self._clock()
        with self._lock:
            record = self._records.get(key)
            if record is None or now - record.window_start > self.rule.window_seconds:
                record = _Record(window_start=now)
                self._records[key] = record
            self._records.move_to_end(key)
            record.failures += 1
            if record.failures >= self.rule.failures and record.blocked_until <= now:
                record.blocked_until = now + self.rule.cooldown_seconds
                record.failures, record.window_start = 0, now + self.rule.cooldown_seconds
                log.warning("signature failures: %s refused for %gs after %d failed checks in %gs", key,
                            self.rule.cooldown_seconds, self.rule.failures, self.rule.window_seconds)
            while len(self._records) > self.rule.addresses:
                self._records.popitem(last=False)

    def passed(self, key: str) -> None:
        """A request from this key passed the check: its failures are forgotten."""
        with self._lock:
            self._records.pop(key, None)


# -- the webhook's use: one limiter per app, keyed by endpoint and client address --------------------------------

LIMITER = "leifeng.bad_signatures"


def rule_of(cfg: Config) -> FailureRule:
    return FailureRule(failures=cfg.signature_failures, window_seconds=cfg.signature_failure_window_seconds,
                       cooldown_seconds=cfg.signature_cooldown_seconds, addresses=cfg.signature_failure_addresses)


def limiter(cfg: Config) -> FailureLimiter:
    """The app's limiter, made on first use (the app's extensions hold it: one per process and app)."""
    found = current_app.extensions.get(LIMITER)
    if found is None:
        found = current_app.extensions.setdefault(LIMITER, FailureLimiter(rule_of(cfg)))
    return found  # type: ignore[no-any-return]


def client_key(channel: str) -> str:
    """The endpoint (/wechat per hub, /wecom) and the client's address (the real one behind trusted proxies)."""
    slug = (request.view_args or {}).get("slug") or ""
    return f"{channel}:{slug}:{request.remote_addr or '-'}"
