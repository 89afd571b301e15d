"""`python -m analytics.migrate`: apply the analytics revisions to ANALYTICS_DATABASE_URL (idempotent)."""

import argparse
import os
import sys
from pathlib import Path
from typing import Final

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from analytics.timescale import TimescaleSetupError
from contracts.environment import ANALYTICS_DATABASE_URL

MIGRATIONS: Final = Path(__file__).with_name("migrations")
TARGET_ENV: Final = ANALYTICS_DATABASE_URL


def alembic_config(dsn: str) -> Config:
    """Built in code, so there is no alembic.ini to keep in sync with the environment."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["dsn"] = dsn
    return config


def upgrade(dsn: str, revision: str = "heads") -> None:
    """Every branch head: the revenue, alerts and reports revisions each branch from the base schema."""
    command.upgrade(alembic_config(dsn), revision)


def downgrade(dsn: str, revision: str) -> None:
    command.downgrade(alembic_config(dsn), revision)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.migrate", description=__doc__)
    parser.add_argument("--dsn", default=os.environ.get(TARGET_ENV), help=f"analytics database (env {TARGET_ENV})")
    args = parser.parse_args(argv)
    if not args.dsn:
        parser.error(f"the analytics database is not set: pass --dsn or set {TARGET_ENV}")
    try:
        upgrade(args.dsn)
    except (OSError, ValueError, TimescaleSetupError, SQLAlchemyError, asyncpg.PostgresError) as exc:
        cause = exc.orig if isinstance(exc, DBAPIError) else exc  # the driver's words, without SQLAlchemy's wrapper
        print(f"analytics.migrate: cannot migrate the analytics database ({TARGET_ENV}): {cause}", file=sys.stderr)
        return 1
    print("analytics.migrate: analytics database is at the latest revision")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
