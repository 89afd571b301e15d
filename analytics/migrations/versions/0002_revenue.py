"""Revenue analytics: billing copies, company x month MRR with movements, the per-region summary, invoice trend.

What the pipeline copies: `invoices` (status, for voids), `invoice_lines` (each with its line MRR in its own
currency and the months whose last instant it is active, fixed when it is loaded, plus the exchange rate it
converts at, kept current when rates arrive) and `fx_rates`. What it maintains from them in each batch's
transaction (analytics/revenue.py): `company_mrr` (one row per company and month that has MRR or a churn; full
precision, base currency, with the month's movements), `company_mrr_native` (per currency) and `mrr_summary`
(region x cohort x month sums, so the figures read a few hundred rows whatever the number of companies).
Invoice events gain the base-currency amount and the void flag; the monthly invoice trend is an aggregate over
them (a continuous aggregate on TimescaleDB). Money is `numeric` without a scale: nothing is rounded before output.

Revision ID: 0002_revenue
Revises: 0001_analytics_schema
"""

from alembic import op

from analytics.revenue import MOVEMENTS
from analytics.timescale import DailyAggregate, aggregate_sql, timescale_available

revision = "0002_revenue"
down_revision = "0001_analytics_schema"
branch_labels = ("revenue",)
depends_on = None

_MOVEMENT_COLUMNS = ",\n".join(f"        {name} numeric NOT NULL DEFAULT 0" for name in MOVEMENTS)

TABLES = (
    """
    CREATE TABLE analytics.revenue_settings (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        base_currency char(3) NOT NULL CHECK (base_currency ~ '^[A-Z]{3}$'),
        synced_at timestamptz,  -- when the last complete pipeline run read the source: the figures' asOf
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE analytics.invoices (
        invoice_id bigint PRIMARY KEY,
        company_id bigint NOT NULL,
        currency char(3) NOT NULL,
        amount numeric(14, 2) NOT NULL,
        status text NOT NULL CHECK (status IN ('issued', 'paid', 'void')),
        issued_at timestamptz NOT NULL,
        paid_at timestamptz,
        voided_at timestamptz,
        source_updated_at timestamptz NOT NULL,
        loaded_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE analytics.invoice_lines (
        line_id bigint PRIMARY KEY,
        invoice_id bigint NOT NULL,
        company_id bigint NOT NULL,
        region text NOT NULL,  -- the company's region when read; analytics.companies is preferred when present
        currency char(3) NOT NULL,
        kind text NOT NULL CHECK (kind IN ('subscription', 'one_time')),
        subscription_id text,
        plan text,
        interval text,
        interval_count int,
        quantity numeric(14, 4) NOT NULL,
        amount numeric(14, 2) NOT NULL,
        discount numeric(14, 2) NOT NULL,
        service_period_start timestamptz,
        service_period_end timestamptz,
        mrr_native numeric,  -- analytics.line_mrr of the line, in its currency; NULL for one-time lines
        first_month date,  -- first and last month whose last instant the line is active in (none if last < first)
        last_month date,
        rate numeric,  -- base-currency units per unit, at the latest rate on or before the service start; NULL: none
        source_updated_at timestamptz NOT NULL,
        loaded_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX invoice_lines_company_month_idx ON analytics.invoice_lines (company_id, last_month)",
    "CREATE INDEX invoice_lines_invoice_idx ON analytics.invoice_lines (invoice_id)",
    "CREATE INDEX invoice_lines_currency_start_idx ON analytics.invoice_lines (currency, service_period_start)",
    """
    CREATE INDEX invoice_lines_unconverted_idx ON analytics.invoice_lines (first_month, last_month)
        WHERE rate IS NULL AND kind = 'subscription'
    """,
    """
    CREATE TABLE analytics.fx_rates (
        currency char(3) NOT NULL,
        day date NOT NULL,
        rate numeric(20, 10) NOT NULL CHECK (rate > 0),
        source_id bigint NOT NULL,
        source_updated_at timestamptz NOT NULL,
        loaded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (currency, day)
    )
    """,
    f"""
    CREATE TABLE analytics.company_mrr (
        company_id bigint NOT NULL,
        month date NOT NULL,
        region text NOT NULL,
        cohort date NOT NULL,  -- the company's first month with MRR > 0
        mrr numeric NOT NULL,  -- base currency, at the month's last instant
{_MOVEMENT_COLUMNS},
        churned boolean NOT NULL DEFAULT false,
        PRIMARY KEY (company_id, month)
    )
    """,
    """
    CREATE TABLE analytics.company_mrr_native (
        company_id bigint NOT NULL,
        month date NOT NULL,
        currency char(3) NOT NULL,
        mrr numeric NOT NULL,  -- every active line, in the currency
        mrr_converted numeric NOT NULL,  -- the lines that count in base-currency figures, in the currency
        mrr_base numeric NOT NULL,  -- those lines converted to the base currency
        PRIMARY KEY (company_id, month, currency)
    )
    """,
    f"""
    CREATE TABLE analytics.mrr_summary (
        region text NOT NULL,
        cohort date NOT NULL,
        month date NOT NULL,
        customers bigint NOT NULL DEFAULT 0,
        churned_customers bigint NOT NULL DEFAULT 0,
        mrr numeric NOT NULL DEFAULT 0,
{_MOVEMENT_COLUMNS},
        PRIMARY KEY (region, month, cohort)
    )
    """,
    "CREATE INDEX mrr_summary_month_idx ON analytics.mrr_summary (month)",
    """
    ALTER TABLE analytics.invoice_events
        ADD COLUMN amount_base numeric, ADD COLUMN voided boolean NOT NULL DEFAULT false
    """,
    # Exactly what ANALYTICS.md defines; the reference implementation (analytics/reference.py) does the same.
    """
    CREATE FUNCTION analytics.line_mrr(net numeric, months int) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        -- net / months rounded half up at 20 decimal places, by integer division so no engine rounding intrudes
        SELECT div(net * 200000000000000000000 + months, 2 * months) * 0.00000000000000000001
    $$
    """,
    """
    CREATE FUNCTION analytics.month_start(ts timestamptz) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT date_trunc('month', ts AT TIME ZONE 'UTC')::date $$
    """,
    """
    CREATE FUNCTION analytics.rate_on(p_currency char(3), p_day date) RETURNS numeric
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN p_currency = (SELECT base_currency FROM analytics.revenue_settings) THEN 1::numeric
                    ELSE (SELECT f.rate FROM analytics.fx_rates f
                          WHERE f.currency = p_currency AND f.day <= p_day ORDER BY f.day DESC LIMIT 1) END
    $$
    """,
)

INVOICE_MONTHLY = DailyAggregate(
    "analytics.invoice_monthly",
    "ts",
    """
    SELECT {day} AS month, region,
           coalesce(sum(amount_base) FILTER (WHERE event = 'issued' AND NOT voided), 0) AS invoiced,
           coalesce(sum(amount_base) FILTER (WHERE event = 'paid'), 0) AS collected,
           count(*) FILTER (WHERE event = 'issued' AND NOT voided) AS issued_count,
           count(*) FILTER (WHERE event = 'paid') AS paid_count
    FROM analytics.invoice_events
    GROUP BY {day}, region
    """,
    refresh_start="3 months",  # the pipeline refreshes exactly what each batch touched; this is the backstop
    bucket="month",
)


def upgrade() -> None:
    timescale = timescale_available(op.get_bind())
    for statement in TABLES:
        op.execute(statement)
    for statement in aggregate_sql(INVOICE_MONTHLY, timescale):
        op.execute(statement)


def downgrade() -> None:
    if timescale_available(op.get_bind()):
        op.execute(f"DROP MATERIALIZED VIEW {INVOICE_MONTHLY.view}")
    else:
        op.execute(f"DROP VIEW {INVOICE_MONTHLY.view}")
    for name in ("mrr_summary", "company_mrr_native", "company_mrr", "fx_rates", "invoice_lines", "invoices"):
        op.execute(f"DROP TABLE analytics.{name}")
    op.execute("DROP FUNCTION analytics.rate_on(char, date), analytics.line_mrr(numeric, int)")
    op.execute("DROP FUNCTION analytics.month_start(timestamptz)")
    op.execute("ALTER TABLE analytics.invoice_events DROP COLUMN amount_base, DROP COLUMN voided")
    op.execute("DROP TABLE analytics.revenue_settings")
