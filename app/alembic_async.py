"""Run Alembic revisions over asyncpg, one runner at a time: shared by the app's and the analytics migrations.

The DSN is handed to asyncpg untouched (async_creator), so options such as sslmode mean exactly what they mean to
the app. A session advisory lock serialises concurrent runs (several tasks starting at once); session settings
are set first so revisions can read them with current_setting().
"""

import asyncio
from collections.abc import Mapping
from typing import Any

import asyncpg
from alembic import context
from sqlalchemy import Connection, pool, text
from sqlalchemy.ext.asyncio import create_async_engine


def run_migrations(
    dsn: str,
    *,
    lock_key: int,
    version_table: str = "alembic_version",
    session_settings: Mapping[str, str] | None = None,
    command: str,
) -> None:
    """Apply the revisions of the Alembic environment that calls this (from its env.py)."""
    if context.is_offline_mode():
        raise SystemExit(f"offline (--sql) migrations are not supported; run `{command}`")

    def run(connection: Connection) -> None:
        context.configure(connection=connection, transaction_per_migration=True, version_table=version_table)
        with context.begin_transaction():
            context.run_migrations()

    async def migrate() -> None:
        async def connect() -> Any:
            return await asyncpg.connect(dsn)

        engine = create_async_engine("postgresql+asyncpg://", async_creator=connect, poolclass=pool.NullPool)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": lock_key})
                for name, value in (session_settings or {}).items():
                    await conn.execute(text("SELECT set_config(:name, :value, false)"), {"name": name, "value": value})
                await conn.commit()
                await conn.run_sync(run)
                await conn.commit()
        finally:
            await engine.dispose()

    asyncio.run(migrate())
