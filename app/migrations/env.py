"""Alembic environment: runs the plain-SQL revisions over asyncpg via SQLAlchemy's async engine.

The DSN is handed to asyncpg untouched (async_creator), so options such as sslmode mean exactly what they
mean to the app. A session advisory lock serialises concurrent runs (several tasks starting at once).
"""

import asyncio
from typing import Any, Final

import asyncpg
from alembic import context
from sqlalchemy import Connection, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATION_LOCK: Final = 7_240_001  # arbitrary, fixed advisory-lock key for this app's migrations


def _run(connection: Connection) -> None:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


async def _migrate(dsn: str, primary_region: str) -> None:
    async def connect() -> Any:
        return await asyncpg.connect(dsn)

    engine = create_async_engine("postgresql+asyncpg://", async_creator=connect, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            # Read by the backfill revision for rows whose country maps to no region.
            await conn.execute(text("SELECT set_config('app.primary_region', :r, false)"), {"r": primary_region})
            await conn.commit()
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `python -m app.migrate`")
asyncio.run(_migrate(context.config.attributes["dsn"], context.config.attributes["primary_region"]))
