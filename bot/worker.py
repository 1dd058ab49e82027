"""The worker process: the scheduler (order sweep) and the outbox sender, one process."""

from __future__ import annotations

import logging
import threading

from apscheduler.schedulers.background import BackgroundScheduler

from bot.jobs import sweep_orders
from bot.outbox import OutboxSender
from bot.services import Services

log = logging.getLogger(__name__)


class Worker:
    """Runs the outbox sender every `interval` seconds on an APScheduler scheduler until stopped."""

    def __init__(self, services: Services, interval: float = 1.0) -> None:
        self.services = services
        self.sender = OutboxSender(services)
        self.interval = interval
        self.scheduler = BackgroundScheduler(timezone=services.config.timezone)
        self._stopped = threading.Event()

    def send_due(self) -> None:
        try:
            stats = self.sender.drain()
        except Exception:  # keep the worker alive; the next tick tries again
            log.exception("outbox round failed")
            return
        if stats.claimed:
            log.info("outbox: %d claimed, %d sent, %d to retry, %d dead", stats.claimed, stats.sent,
                     stats.retried, stats.dead)

    def sweep(self) -> None:
        try:
            sweep_orders(self.services)
        except Exception:
            log.exception("order sweep failed")

    def start(self) -> None:
        self.scheduler.add_job(self.send_due, "interval", seconds=self.interval, id="outbox",
                               max_instances=1, coalesce=True, replace_existing=True)
        self.scheduler.add_job(self.sweep, "interval", seconds=60, id="orders_sweep",
                               max_instances=1, coalesce=True, replace_existing=True)
        self.scheduler.start()
        log.info("worker %s started (outbox every %.1fs)", self.sender.owner, self.interval)

    def stop(self) -> None:
        self._stopped.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def run_forever(self) -> None:
        self.start()
        try:
            while not self._stopped.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
