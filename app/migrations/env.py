"""Alembic environment of the app's database (see app/alembic_async.py for how revisions run)."""

from typing import Final

from alembic import context

from app.alembic_async import run_migrations

MIGRATION_LOCK: Final = 7_240_001  # arbitrary, fixed advisory-lock key for this app's migrations

run_migrations(
    context.config.attributes["dsn"],
    lock_key=MIGRATION_LOCK,
    # Read by the backfill revision for rows whose country maps to no region.
    session_settings={"app.primary_region": context.config.attributes["primary_region"]},
    command="python -m app.migrate",
)
