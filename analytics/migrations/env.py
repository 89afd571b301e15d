"""Alembic environment of the analytics database (see app/alembic_async.py for how revisions run).

Its own version table, so the analytics revisions never collide with the app's even in one database; its own lock
key, since the scheduled pipeline migrates before every run.
"""

from typing import Final

from alembic import context

from app.alembic_async import run_migrations

VERSION_TABLE: Final = "analytics_alembic_version"
MIGRATION_LOCK: Final = 7_240_008  # arbitrary, fixed advisory-lock key for the analytics migrations

run_migrations(
    context.config.attributes["dsn"],
    lock_key=MIGRATION_LOCK,
    version_table=VERSION_TABLE,
    command="python -m analytics.migrate",
)
