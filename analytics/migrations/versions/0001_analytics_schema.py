"""analytics schema: invoice events, API request metrics, pipeline watermarks and the daily aggregates.

An invoice becomes up to two events at their own times: `issued` (at issued_at) and `paid` (at paid_at), so each
day counts what happened that day (revenue on payment). Events carry the company's region and the invoice's
currency (revenue is never summed across currencies). The tables and the aggregate SELECTs below are the only
definition; analytics/timescale.py makes them hypertables and continuous aggregates when TimescaleDB is there.

Revision ID: 0001_analytics_schema
Revises:
"""

from alembic import op

from analytics.timescale import DailyAggregate, Hypertable, aggregate_sql, hypertable_sql, timescale_available

revision = "0001_analytics_schema"
down_revision = None
branch_labels = None
depends_on = None

TABLES = (
    """
    CREATE TABLE analytics.companies (
        company_id bigint PRIMARY KEY,
        region text NOT NULL CHECK (region IN ('eu', 'us', 'asia')),
        source_updated_at timestamptz NOT NULL,
        loaded_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE analytics.invoice_events (
        invoice_id bigint NOT NULL,
        event text NOT NULL CHECK (event IN ('issued', 'paid')),
        ts timestamptz NOT NULL,
        company_id bigint NOT NULL,
        region text NOT NULL CHECK (region IN ('eu', 'us', 'asia')),
        amount numeric(14, 2) NOT NULL,
        currency char(3) NOT NULL,
        source_updated_at timestamptz NOT NULL,
        loaded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (invoice_id, event, ts)
    )
    """,
    "CREATE INDEX invoice_events_company_idx ON analytics.invoice_events (company_id)",
    "CREATE INDEX invoice_events_region_ts_idx ON analytics.invoice_events (region, ts)",
    """
    CREATE TABLE analytics.api_requests (
        ts timestamptz NOT NULL,
        region text NOT NULL CHECK (region IN ('eu', 'us', 'asia')),
        route text NOT NULL,
        status smallint NOT NULL CHECK (status BETWEEN 100 AND 599),
        latency_ms double precision NOT NULL CHECK (latency_ms >= 0)
    )
    """,
    "CREATE INDEX api_requests_region_ts_idx ON analytics.api_requests (region, ts)",
    """
    CREATE TABLE analytics.pipeline_state (
        stream text PRIMARY KEY,
        watermark_ts timestamptz NOT NULL,
        watermark_id bigint NOT NULL,
        rows_total bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
)

HYPERTABLES = (
    # Financial records: compressed when cold, never dropped.
    Hypertable(
        "analytics.invoice_events", "ts", chunk_interval="7 days", segment_by="region", compress_after="90 days"
    ),
    Hypertable(
        "analytics.api_requests",
        "ts",
        chunk_interval="1 day",
        segment_by="region",
        compress_after="7 days",
        retain_for="90 days",
    ),
)

AGGREGATES = (
    DailyAggregate(
        "analytics.invoice_daily",
        "ts",
        """
        SELECT {day} AS day, region, currency,
               coalesce(sum(amount) FILTER (WHERE event = 'paid'), 0)::numeric(16, 2) AS revenue,
               count(*) FILTER (WHERE event = 'issued') AS invoices_issued,
               count(*) FILTER (WHERE event = 'paid') AS invoices_paid
        FROM analytics.invoice_events
        GROUP BY {day}, region, currency
        """,
        refresh_start="90 days",  # a payment voided weeks later still corrects its day
    ),
    DailyAggregate(
        "analytics.company_activity_daily",
        "ts",
        """
        SELECT {day} AS day, region, count(DISTINCT company_id) AS active_companies
        FROM analytics.invoice_events
        GROUP BY {day}, region
        """,
        refresh_start="90 days",
    ),
    DailyAggregate(
        "analytics.request_daily",
        "ts",
        """
        SELECT {day} AS day, region,
               count(*) AS requests,
               count(*) FILTER (WHERE status >= 500) AS server_errors,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50_ms,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95_ms,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99_ms
        FROM analytics.api_requests
        GROUP BY {day}, region
        """,
        refresh_start="3 days",  # well inside the raw rows' 90-day retention, so refreshes never erase history
        retain_for="2 years",
    ),
)


def upgrade() -> None:
    timescale = timescale_available(op.get_bind())
    if timescale:
        op.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    op.execute("CREATE SCHEMA analytics")
    for statement in TABLES:
        op.execute(statement)
    for table in HYPERTABLES:
        for statement in hypertable_sql(table, timescale):
            op.execute(statement)
    for aggregate in AGGREGATES:
        for statement in aggregate_sql(aggregate, timescale):
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP SCHEMA analytics CASCADE")
