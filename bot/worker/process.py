"""The worker process: the outbox sender and the dispatch queue in every worker, and one scheduler (reminders,
sweeps, digests, reports) in the worker that holds the scheduler lock.

Every worker sends the outbox and dispatches waiting orders (its own in-memory loops, `outbox` and `dispatch`):
their claims skip the rows another worker holds (FOR UPDATE SKIP LOCKED on PostgreSQL), so several workers
share the work and never send or dispatch one row twice. Only the worker holding the scheduler lock
(bot/worker/schedlock.py) runs the schedule: another waits, says so in its log, and takes over if the first stops
renewing the lock; each scheduled run also holds a PostgreSQL advisory lock of its job (schedlock.exclusive), so a
leader that stalled past its lock and the one that took over never run the same job at once. The schedule
lives in APScheduler's SQLAlchemy job store (table apscheduler_jobs), so next run times survive restarts
and a run missed while no worker was up fires once when one comes back (within the grace period).

Send threads (LEIFENG_OUTBOX_SEND_THREADS) and crashes. Each send thread has at most one send in flight, so a worker
killed mid-send leaves at most that many rows that WeChat may have received while the worker never heard back, and
another worker sends them again once their lease expires: a crash duplicates at most one message per send thread
(one message with one thread, `threads` with several; a merged customer-service message counts once). Templates and
群发 are not duplicated (WeChat drops the repeat by client_msg_id / clientmsgid); a broadcast's copies ("once" rows)
are not sent again but dead-lettered as "outcome unknown", which the broadcast's counts show apart from failures.
benchmarks/faults.py measures it.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.services import Services
from bot.worker import jobs
from bot.worker.schedlock import LeaderLock
from bot.worker.sender import OutboxSender

log = logging.getLogger(__name__)

JOB_REF = "bot.worker.jobs:run_job"


def make_trigger(spec: jobs.JobSpec, timezone: str) -> Any:
    if spec.trigger == "interval":
        return IntervalTrigger(timezone=timezone, **spec.args)
    return CronTrigger(timezone=timezone, **spec.args)


def same_trigger(old: Any, new: Any) -> bool:
    """Same kind, fields and time zone (the start date of an interval does not count)."""
    return type(old) is type(new) and str(old) == str(new) and str(old.timezone) == str(new.timezone)


class Worker:
    def __init__(self, services: Services, interval: float = 1.0, owner: str | None = None) -> None:
        self.services = services
        self.sender = OutboxSender(services, owner)
        self.owner = self.sender.owner
        self.interval = interval
        cfg = services.config
        self.lock = LeaderLock(services.sessions, services.clock, self.owner, cfg.scheduler_lock_seconds)
        self.renew_every = max(0.2, min(cfg.scheduler_lock_seconds / 3, 10.0))
        self.dispatch_every = cfg.dispatch_every_seconds
        self.scheduler: BackgroundScheduler | None = None  # the schedule, while leading
        self.local: BackgroundScheduler | None = None  # the outbox and dispatch loops, from start() to stop()
        self.leading = False
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._told_waiting: str | None = None

    # -- jobs that need this process's objects ---------------------------------------------------
    def send_due(self) -> None:
        try:
            stats = self.sender.drain()
        except Exception:  # keep the worker alive; the next tick tries again
            log.exception("outbox round failed")
            return
        if stats.claimed:
            log.info("outbox: %d claimed, %d sent, %d to retry, %d dead", stats.claimed, stats.sent,
                     stats.retried, stats.dead)

    def dispatch_due(self) -> None:
        try:
            jobs.dispatch_waiting(self.services)
        except Exception:  # keep the worker alive; the next tick tries again
            log.exception("dispatch round failed")

    # -- leadership ------------------------------------------------------------------------------
    def tick(self) -> bool:
        """Take or renew the scheduler lock and start or stop the scheduler to match. True while leading."""
        try:
            leader = self.lock.acquire()
        except Exception:  # the database is unreachable: we cannot prove we hold the lock, so stand down
            log.exception("scheduler lock check failed")
            leader = False
        if leader and not self.leading:
            self._lead()
        elif not leader and self.leading:
            log.warning("worker %s lost the scheduler lock; standing by", self.owner)
            self._stand_down()
        if not leader and self.lock.holder is not None and self._told_waiting != self.lock.holder.owner:
            self._told_waiting = self.lock.holder.owner
            log.warning("worker %s waiting: another worker (%s) runs the scheduler (lock until %s); "
                        "this one takes over if that one stops", self.owner, self.lock.holder.owner,
                        self.lock.holder.expires_at.isoformat(timespec="seconds"))
        if leader:
            self._told_waiting = None
        return leader

    def _build_scheduler(self) -> BackgroundScheduler:
        cfg = self.services.config
        grace = int(timedelta(minutes=cfg.reminder_grace_minutes).total_seconds())
        return BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.services.engine)},
            timezone=cfg.timezone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace})

    def _build_local(self) -> BackgroundScheduler:
        """This process's loops, whether it leads or not: send the outbox, dispatch waiting orders."""
        local = BackgroundScheduler(jobstores={"memory": MemoryJobStore()}, timezone=self.services.config.timezone,
                                    job_defaults={"coalesce": True, "max_instances": 1})
        local.add_job(self.send_due, "interval", seconds=self.interval, id="outbox", jobstore="memory")
        local.add_job(self.dispatch_due, "interval", seconds=self.dispatch_every, id="dispatch", jobstore="memory")
        return local

    def ensure_jobs(self, scheduler: BackgroundScheduler) -> dict[str, str]:
        """Persisted jobs whose trigger is unchanged are kept (with their next run time); others (re)added."""
        done: dict[str, str] = {}
        specs = jobs.schedule(self.services)
        for spec in specs:
            trigger = make_trigger(spec, self.services.config.timezone)
            existing = scheduler.get_job(spec.id, jobstore="default")
            if existing is not None and same_trigger(existing.trigger, trigger) and existing.func_ref == JOB_REF:
                done[spec.id] = "kept"
                continue
            scheduler.add_job(JOB_REF, trigger=trigger, args=[spec.id], id=spec.id, name=spec.id, jobstore="default",
                              replace_existing=True)
            done[spec.id] = "replaced" if existing is not None else "added"
        wanted = {spec.id for spec in specs}
        for job in scheduler.get_jobs(jobstore="default"):
            if job.id not in wanted:  # a job from an older version of the code
                scheduler.remove_job(job.id, jobstore="default")
                done[job.id] = "removed"
        return done

    def catch_up(self) -> int:
        """What must exist from the first start, not only after a nightly run: the street events ahead (the
        events_generate job, idempotent). A failure is logged; the nightly run tries again."""
        try:
            made = jobs.generate_events(self.services)
        except Exception:
            log.exception("street events could not be generated at start-up")
            return 0
        if made:
            log.info("worker %s generated %d upcoming street events", self.owner, made)
        return made

    def _lead(self) -> None:
        jobs.bind(self.services)
        self.catch_up()
        scheduler = self._build_scheduler()
        scheduler.start(paused=True)
        changes = self.ensure_jobs(scheduler)
        scheduler.resume()
        self.scheduler, self.leading = scheduler, True
        log.info("worker %s runs the scheduler (jobs: %s)", self.owner,
                 ", ".join(f"{k} {v}" for k, v in changes.items()))

    def _stand_down(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.scheduler, self.leading = None, False

    # -- process lifecycle -----------------------------------------------------------------------
    def _supervise(self) -> None:
        while not self._stopped.is_set():
            self.tick()
            self._stopped.wait(self.renew_every)

    def start(self) -> None:
        self._stopped.clear()
        self.services.warm_up()  # what create_app builds at start-up, so no job's first run pays for it
        self.tick()  # lead at once when the lock is free (the demo and tests rely on it)
        self.local = self._build_local()
        self.local.start()
        log.info("worker %s sends the outbox every %.1fs and dispatches every %.1fs", self.owner, self.interval,
                 self.dispatch_every)
        self._thread = threading.Thread(target=self._supervise, name=f"{self.owner}-lock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self.local is not None and self.local.running:
            self.local.shutdown(wait=True)
        self.local = None
        was_leading = self.leading
        self._stand_down()
        if was_leading:
            try:
                self.lock.release()  # hand over at once instead of making the next worker wait for expiry
            except Exception:
                log.exception("could not release the scheduler lock")

    def run_forever(self) -> None:
        if threading.current_thread() is threading.main_thread():
            # process managers stop workers with SIGTERM: stop cleanly and hand the lock over at once
            signal.signal(signal.SIGTERM, lambda _sig, _frame: self._stopped.set())
        self.start()
        try:
            while not self._stopped.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
