"""Alembic environment: the URL comes from the config object built in storage.db, never a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

import storage.models_admin  # noqa: F401  (the console's tables join Base.metadata for autogenerate)
import storage.models_events  # noqa: F401  (the community's tables join Base.metadata, so autogenerate sees them)
import storage.models_examples  # noqa: F401  (the hubs' own examples join Base.metadata)
from storage.db import make_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
