"""Alembic environment of the analytics database: plain-SQL revisions over asyncpg (SQLAlchemy async engine).

Its own version table, so the analytics revisions never collide with the app's even in one database. A session
advisory lock serialises concurrent runs (the scheduled pipeline migrates before every run).
"""

import asyncio
from typing import Any, Final

import asyncpg
from alembic import context
from sqlalchemy import Connection, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

VERSION_TABLE: Final = "analytics_alembic_version"
MIGRATION_LOCK: Final = 7_240_008  # arbitrary, fixed advisory-lock key for the analytics migrations


def _run(connection: Connection) -> None:
    context.configure(connection=connection, transaction_per_migration=True, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


async def _migrate(dsn: str) -> None:
    async def connect() -> Any:
        return await asyncpg.connect(dsn)

    engine = create_async_engine("postgresql+asyncpg://", async_creator=connect, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            await conn.commit()
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `python -m analytics.migrate`")
asyncio.run(_migrate(context.config.attributes["dsn"]))
