"""One schema, two engines: render hypertables and daily aggregates for TimescaleDB or for plain PostgreSQL.

CI has no TimescaleDB, so every revision states its tables and aggregate SELECTs once and this module wraps
them: with the extension, hypertables + continuous aggregates (real-time, so recent rows show up) + refresh,
compression and retention policies; without it, the same tables and plain views with the same names and columns.
Both bucket days in UTC (`time_bucket` on timestamptz buckets in UTC; `date_trunc(..., 'UTC')` does the same).
"""

from dataclasses import dataclass
from typing import Final, Literal

from sqlalchemy import Connection, text

EXTENSION: Final = "timescaledb"


class TimescaleSetupError(RuntimeError):
    """TimescaleDB is installed but cannot be used as configured; the message says what to change."""


@dataclass(frozen=True)
class Hypertable:
    """A table partitioned by time when TimescaleDB is present (a plain table otherwise)."""

    table: str  # schema-qualified
    time_column: str
    chunk_interval: str
    segment_by: str  # compression groups rows by this column
    compress_after: str
    retain_for: str | None = None  # None: keep raw rows forever (e.g. financial records)


Bucket = Literal["day", "month"]


@dataclass(frozen=True)
class DailyAggregate:
    """A per-bucket aggregate (per day unless `bucket` says month): `select` uses `{day}` for the bucket of
    `time_column`, in SELECT and GROUP BY."""

    view: str  # schema-qualified
    time_column: str
    select: str
    refresh_start: str  # how far back each refresh looks (late updates older than this are not re-aggregated)
    refresh_every: str = "1 hour"
    retain_for: str | None = None
    bucket: Bucket = "day"


def timescale_available(connection: Connection) -> bool:
    """Whether the server can load TimescaleDB; installed but not preloaded is an operator error, said plainly."""
    installed = connection.execute(
        text("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = :name)"), {"name": EXTENSION}
    ).scalar_one()
    if not installed:
        return False
    preload = connection.execute(text("SELECT current_setting('shared_preload_libraries')")).scalar_one()
    if EXTENSION not in str(preload):
        raise TimescaleSetupError(
            f"the {EXTENSION} extension is installed but shared_preload_libraries={preload!r} does not load it; "
            f"add {EXTENSION!r} to shared_preload_libraries and restart PostgreSQL"
        )
    return True


def day_bucket(column: str, timescale: bool, bucket: Bucket = "day") -> str:
    """The bucket start of `column` in UTC: time_bucket buckets timestamptz in UTC (months too), date_trunc too."""
    return f"time_bucket(INTERVAL '1 {bucket}', {column})" if timescale else f"date_trunc('{bucket}', {column}, 'UTC')"


def hypertable_sql(table: Hypertable, timescale: bool) -> list[str]:
    """Statements that turn an existing table into a policed hypertable (nothing on plain PostgreSQL)."""
    if not timescale:
        return []
    statements = [
        f"SELECT create_hypertable('{table.table}', '{table.time_column}', "
        f"chunk_time_interval => INTERVAL '{table.chunk_interval}')",
        f"ALTER TABLE {table.table} SET (timescaledb.compress, timescaledb.compress_segmentby = '{table.segment_by}', "
        f"timescaledb.compress_orderby = '{table.time_column} DESC')",
        f"SELECT add_compression_policy('{table.table}', INTERVAL '{table.compress_after}')",
    ]
    if table.retain_for is not None:
        statements.append(f"SELECT add_retention_policy('{table.table}', INTERVAL '{table.retain_for}')")
    return statements


def aggregate_sql(aggregate: DailyAggregate, timescale: bool) -> list[str]:
    """The aggregate as a continuous aggregate with policies, or as a plain view over the same SELECT."""
    select = aggregate.select.format(day=day_bucket(aggregate.time_column, timescale, aggregate.bucket))
    if not timescale:
        return [f"CREATE VIEW {aggregate.view} AS {select}"]
    statements = [
        f"CREATE MATERIALIZED VIEW {aggregate.view} "
        f"WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS {select} WITH NO DATA",
        f"SELECT add_continuous_aggregate_policy('{aggregate.view}', "
        f"start_offset => INTERVAL '{aggregate.refresh_start}', end_offset => INTERVAL '1 hour', "
        f"schedule_interval => INTERVAL '{aggregate.refresh_every}')",
    ]
    if aggregate.retain_for is not None:
        statements.append(f"SELECT add_retention_policy('{aggregate.view}', INTERVAL '{aggregate.retain_for}')")
    return statements
