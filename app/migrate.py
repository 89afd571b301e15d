"""`python -m app.migrate`: apply the Alembic revisions under app/migrations/ to DATABASE_URL (idempotent)."""

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from app.countries import Region
from app.credentials import CredentialsError, resolved_url
from app.settings import ConfigError, load_settings
from contracts import environment as env

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(dsn: str, primary_region: Region) -> Config:
    """Alembic configuration built in code, so there is no alembic.ini to keep in sync with the env."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["dsn"] = dsn
    config.attributes["primary_region"] = primary_region
    return config


def upgrade(dsn: str, primary_region: Region, revision: str = "head") -> None:
    command.upgrade(alembic_config(dsn, primary_region), revision)


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"migrate: configuration error: {exc}", file=sys.stderr)
        return 2
    try:  # the master secret (DATABASE_SECRET_ARN), or the migrating user's own login
        dsn = resolved_url(settings, settings.database_url)
    except CredentialsError as exc:
        source = env.DATABASE_SECRET_ARN if settings.database_secret_arn else env.DATABASE_IAM_AUTH
        print(f"migrate: configuration error: {source}: {exc}", file=sys.stderr)
        return 2
    upgrade(dsn, settings.database_primary_region)
    print("migrate: database is at the latest revision")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
