"""apscheduler_jobs: the worker's jobs now live in bot.worker.jobs; stored jobs keep their next run times

APScheduler pickles each job's state with a reference to the function it runs. The jobs module moved from
bot/jobs.py to bot/worker/jobs.py; without this rewrite the job store could not load the stored jobs (it would
drop them and the worker would add them again, losing their next run times).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

import pickle

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OLD_REF = "bot.jobs:run_job"
NEW_REF = "bot.worker.jobs:run_job"
JOBS = sa.table("apscheduler_jobs", sa.column("id", sa.String), sa.column("job_state", sa.LargeBinary))


def _rewrite(old: str, new: str) -> None:
    conn = op.get_bind()
    for job_id, blob in conn.execute(sa.select(JOBS.c.id, JOBS.c.job_state)).all():
        state = pickle.loads(blob)  # written by APScheduler in this same table; triggers are APScheduler's classes
        if not isinstance(state, dict) or state.get("func") != old:
            continue
        state["func"] = new
        conn.execute(sa.update(JOBS).where(JOBS.c.id == job_id).values(
            job_state=pickle.dumps(state, pickle.HIGHEST_PROTOCOL)))


def upgrade() -> None:
    _rewrite(OLD_REF, NEW_REF)


def downgrade() -> None:
    _rewrite(NEW_REF, OLD_REF)
