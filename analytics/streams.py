"""What the pipeline copies: each stream is a keyset query on the source and a merge into the analytics tables.

A source query takes `$1` watermark time, `$2` watermark id and `$3` batch size, returns rows ordered by
`(updated_at, id)` (the tie-breaker makes equal timestamps safe to page through) with the staging columns in order.
A merge reads the batch from its temporary staging table and must be idempotent: applying a batch twice leaves the
analytics tables exactly as applying it once, which is what makes re-running after a crash safe.
Every stream ends with analytics/revenue.py's RECOMPUTE: its merges say which companies' MRR they may have changed
(`pg_temp.revenue_touched`) and which invoice-event times they changed (`pg_temp.events_touched`, for the
aggregate refresh after commit), always before they overwrite the old values.
"""

from dataclasses import dataclass

from analytics.revenue import BEGINNING, RECOMPUTE


@dataclass(frozen=True)
class Stream:
    name: str
    source_table: str
    staging_columns: tuple[tuple[str, str], ...]  # (name, type) in source-query order
    source_query: str
    merges: tuple[str, ...]  # statements run in order inside the batch's transaction

    @property
    def staging_table(self) -> str:
        return f"staging_{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.staging_columns]


COMPANIES = Stream(
    name="companies",
    source_table="companies",
    staging_columns=(("id", "bigint"), ("region", "text"), ("updated_at", "timestamptz")),
    source_query="""
        SELECT id, region, updated_at FROM companies
        WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3
    """,
    merges=(
        # A company that moved region takes its history with it (figures are per current region): its MRR rows
        # are rebuilt under the new region, and the event days it had are re-aggregated.
        f"""
        INSERT INTO pg_temp.revenue_touched (company_id, from_month)
        SELECT DISTINCT m.company_id, {BEGINNING}
        FROM analytics.company_mrr m JOIN pg_temp.staging_companies s ON s.id = m.company_id
        WHERE m.region <> s.region
        """,
        """
        INSERT INTO analytics.companies AS c (company_id, region, source_updated_at)
        SELECT id, region, updated_at FROM pg_temp.staging_companies
        ON CONFLICT (company_id) DO UPDATE
            SET region = EXCLUDED.region, source_updated_at = EXCLUDED.source_updated_at, loaded_at = now()
            WHERE (c.region, c.source_updated_at) IS DISTINCT FROM (EXCLUDED.region, EXCLUDED.source_updated_at)
        """,
        """
        UPDATE analytics.invoice_lines l SET region = s.region, loaded_at = now()
        FROM pg_temp.staging_companies s
        WHERE l.company_id = s.id AND l.region <> s.region
        """,
        """
        WITH moved AS (
            UPDATE analytics.invoice_events e SET region = s.region, loaded_at = now()
            FROM pg_temp.staging_companies s
            WHERE e.company_id = s.id AND e.region <> s.region
            RETURNING e.ts
        )
        INSERT INTO pg_temp.events_touched (ts) SELECT ts FROM moved
        """,
        *RECOMPUTE,
    ),
)

_EVENT_BASE_AMOUNT = "analytics.rate_on(e.currency, (e.ts AT TIME ZONE 'UTC')::date) * e.amount"

INVOICES = Stream(
    name="invoices",
    source_table="invoices",
    staging_columns=(
        ("id", "bigint"),
        ("company_id", "bigint"),
        ("region", "text"),
        ("amount", "numeric(14, 2)"),
        ("currency", "char(3)"),
        ("status", "text"),
        ("issued_at", "timestamptz"),
        ("paid_at", "timestamptz"),
        ("voided_at", "timestamptz"),
        ("updated_at", "timestamptz"),
    ),
    source_query="""
        SELECT i.id, i.company_id, c.region, i.amount, i.currency, i.status, i.issued_at, i.paid_at, i.voided_at,
               i.updated_at
        FROM invoices i JOIN companies c ON c.id = i.company_id
        WHERE (i.updated_at, i.id) > ($1, $2) ORDER BY i.updated_at, i.id LIMIT $3
    """,
    merges=(
        # A void (or un-void, or an invoice whose lines came first) changes the MRR of its lines' months.
        """
        INSERT INTO pg_temp.revenue_touched (company_id, from_month)
        SELECT l.company_id, min(l.first_month)
        FROM pg_temp.staging_invoices s
        JOIN analytics.invoice_lines l ON l.invoice_id = s.id AND l.kind = 'subscription'
        LEFT JOIN analytics.invoices i ON i.invoice_id = s.id
        WHERE i.invoice_id IS NULL OR (i.status = 'void') <> (s.status = 'void')
        GROUP BY l.company_id
        """,
        """
        INSERT INTO analytics.invoices AS i
            (invoice_id, company_id, currency, amount, status, issued_at, paid_at, voided_at, source_updated_at)
        SELECT id, company_id, currency, amount, status, issued_at, paid_at, voided_at, updated_at
        FROM pg_temp.staging_invoices
        ON CONFLICT (invoice_id) DO UPDATE
            SET company_id = EXCLUDED.company_id, currency = EXCLUDED.currency, amount = EXCLUDED.amount,
                status = EXCLUDED.status, issued_at = EXCLUDED.issued_at, paid_at = EXCLUDED.paid_at,
                voided_at = EXCLUDED.voided_at, source_updated_at = EXCLUDED.source_updated_at, loaded_at = now()
            WHERE i.source_updated_at IS DISTINCT FROM EXCLUDED.source_updated_at
        """,
        # Events the invoice no longer has (payment voided, dates corrected) go first ...
        """
        WITH gone AS (
            DELETE FROM analytics.invoice_events e USING pg_temp.staging_invoices s
            WHERE e.invoice_id = s.id
              AND NOT (e.event = 'issued' AND e.ts = s.issued_at)
              AND NOT (e.event = 'paid' AND s.status = 'paid' AND e.ts IS NOT DISTINCT FROM s.paid_at)
            RETURNING e.ts
        )
        INSERT INTO pg_temp.events_touched (ts) SELECT ts FROM gone
        """,
        # ... then each current event is written once, keyed by (invoice, event, time), with its amount in the
        # base currency at the rate of its day (NULL while there is none).
        """
        WITH written AS (
            INSERT INTO analytics.invoice_events AS e
                (invoice_id, event, ts, company_id, region, amount, currency, source_updated_at, voided, amount_base)
            SELECT v.*, analytics.rate_on(v.currency, (v.ts AT TIME ZONE 'UTC')::date) * v.amount
            FROM (
                SELECT id, 'issued', issued_at AS ts, company_id, region, amount, currency, updated_at,
                       status = 'void'
                FROM pg_temp.staging_invoices
                UNION ALL
                SELECT id, 'paid', paid_at, company_id, region, amount, currency, updated_at, false
                FROM pg_temp.staging_invoices WHERE status = 'paid' AND paid_at IS NOT NULL
            ) AS v (id, event, ts, company_id, region, amount, currency, updated_at, voided)
            ON CONFLICT (invoice_id, event, ts) DO UPDATE
                SET company_id = EXCLUDED.company_id, region = EXCLUDED.region, amount = EXCLUDED.amount,
                    currency = EXCLUDED.currency, source_updated_at = EXCLUDED.source_updated_at,
                    voided = EXCLUDED.voided, amount_base = EXCLUDED.amount_base, loaded_at = now()
                WHERE (e.company_id, e.region, e.amount, e.currency, e.source_updated_at, e.voided, e.amount_base)
                    IS DISTINCT FROM
                      (EXCLUDED.company_id, EXCLUDED.region, EXCLUDED.amount, EXCLUDED.currency,
                       EXCLUDED.source_updated_at, EXCLUDED.voided, EXCLUDED.amount_base)
            RETURNING e.ts
        )
        INSERT INTO pg_temp.events_touched (ts) SELECT ts FROM written
        """,
        *RECOMPUTE,
    ),
)

_MONTHS = "CASE s.interval WHEN 'year' THEN 12 ELSE 1 END * s.interval_count"
_FIRST_MONTH = "analytics.month_start(s.service_period_start)"

INVOICE_LINES = Stream(
    name="invoice_lines",
    source_table="invoice_lines",
    staging_columns=(
        ("id", "bigint"),
        ("invoice_id", "bigint"),
        ("company_id", "bigint"),
        ("region", "text"),
        ("currency", "char(3)"),
        ("kind", "text"),
        ("subscription_id", "text"),
        ("plan", "text"),
        ("interval", "text"),
        ("interval_count", "int"),
        ("quantity", "numeric(14, 4)"),
        ("amount", "numeric(14, 2)"),
        ("discount", "numeric(14, 2)"),
        ("service_period_start", "timestamptz"),
        ("service_period_end", "timestamptz"),
        ("updated_at", "timestamptz"),
    ),
    source_query="""
        SELECT l.id, l.invoice_id, i.company_id, c.region, i.currency, l.kind, l.subscription_id, l.plan,
               l.interval, l.interval_count, l.quantity, l.amount, l.discount, l.service_period_start,
               l.service_period_end, l.updated_at
        FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id JOIN companies c ON c.id = i.company_id
        WHERE (l.updated_at, l.id) > ($1, $2) ORDER BY l.updated_at, l.id LIMIT $3
    """,
    merges=(
        # New or changed subscription lines change their company's MRR from the earlier of both versions' starts.
        f"""
        INSERT INTO pg_temp.revenue_touched (company_id, from_month)
        SELECT s.company_id, least(l.first_month, CASE WHEN s.kind = 'subscription' THEN {_FIRST_MONTH} END)
        FROM pg_temp.staging_invoice_lines s LEFT JOIN analytics.invoice_lines l ON l.line_id = s.id
        WHERE (s.kind = 'subscription' OR l.kind = 'subscription')
          AND l.source_updated_at IS DISTINCT FROM s.updated_at
        """,
        f"""
        INSERT INTO analytics.invoice_lines AS l
            (line_id, invoice_id, company_id, region, currency, kind, subscription_id, plan, interval,
             interval_count, quantity, amount, discount, service_period_start, service_period_end,
             mrr_native, first_month, last_month, rate, source_updated_at)
        SELECT s.id, s.invoice_id, s.company_id, s.region, s.currency, s.kind, s.subscription_id, s.plan,
               s.interval, s.interval_count, s.quantity, s.amount, s.discount, s.service_period_start,
               s.service_period_end,
               CASE WHEN s.kind = 'subscription'
                    THEN analytics.line_mrr(s.amount * s.quantity - s.discount, {_MONTHS}) END,
               CASE WHEN s.kind = 'subscription' THEN {_FIRST_MONTH} END,
               CASE WHEN s.kind = 'subscription'
                    THEN (analytics.month_start(s.service_period_end) - INTERVAL '1 month')::date END,
               CASE WHEN s.kind = 'subscription'
                    THEN analytics.rate_on(s.currency, (s.service_period_start AT TIME ZONE 'UTC')::date) END,
               s.updated_at
        FROM pg_temp.staging_invoice_lines s
        ON CONFLICT (line_id) DO UPDATE
            SET invoice_id = EXCLUDED.invoice_id, company_id = EXCLUDED.company_id, region = EXCLUDED.region,
                currency = EXCLUDED.currency, kind = EXCLUDED.kind, subscription_id = EXCLUDED.subscription_id,
                plan = EXCLUDED.plan, interval = EXCLUDED.interval, interval_count = EXCLUDED.interval_count,
                quantity = EXCLUDED.quantity, amount = EXCLUDED.amount, discount = EXCLUDED.discount,
                service_period_start = EXCLUDED.service_period_start,
                service_period_end = EXCLUDED.service_period_end, mrr_native = EXCLUDED.mrr_native,
                first_month = EXCLUDED.first_month, last_month = EXCLUDED.last_month, rate = EXCLUDED.rate,
                source_updated_at = EXCLUDED.source_updated_at, loaded_at = now()
            WHERE l.source_updated_at IS DISTINCT FROM EXCLUDED.source_updated_at
        """,
        *RECOMPUTE,
    ),
)

# Per currency, the earliest day a batch's rates apply from: lines starting and events dated on or after it may
# now convert at a different rate.
_RATE_CHANGES = """
    SELECT currency, (min(day)::timestamp AT TIME ZONE 'UTC') AS since FROM pg_temp.staging_fx_rates GROUP BY currency
"""
_LINE_RATE = "analytics.rate_on(l.currency, (l.service_period_start AT TIME ZONE 'UTC')::date)"

FX_RATES = Stream(
    name="fx_rates",
    source_table="fx_rates",
    staging_columns=(
        ("id", "bigint"),
        ("day", "date"),
        ("currency", "char(3)"),
        ("rate", "numeric(20, 10)"),
        ("updated_at", "timestamptz"),
    ),
    source_query="""
        SELECT id, day, currency, rate, updated_at FROM fx_rates
        WHERE (updated_at, id) > ($1, $2) ORDER BY updated_at, id LIMIT $3
    """,
    merges=(
        """
        INSERT INTO analytics.fx_rates AS f (currency, day, rate, source_id, source_updated_at)
        SELECT currency, day, rate, id, updated_at FROM pg_temp.staging_fx_rates
        ON CONFLICT (currency, day) DO UPDATE
            SET rate = EXCLUDED.rate, source_id = EXCLUDED.source_id,
                source_updated_at = EXCLUDED.source_updated_at, loaded_at = now()
            WHERE (f.rate, f.source_id) IS DISTINCT FROM (EXCLUDED.rate, EXCLUDED.source_id)
        """,
        f"""
        WITH changed AS (
            UPDATE analytics.invoice_lines l SET rate = {_LINE_RATE}, loaded_at = now()
            FROM ({_RATE_CHANGES}) s
            WHERE l.currency = s.currency AND l.kind = 'subscription' AND l.service_period_start >= s.since
              AND l.rate IS DISTINCT FROM {_LINE_RATE}
            RETURNING l.company_id, l.first_month
        )
        INSERT INTO pg_temp.revenue_touched (company_id, from_month)
        SELECT company_id, min(first_month) FROM changed GROUP BY company_id
        """,
        f"""
        WITH changed AS (
            UPDATE analytics.invoice_events e SET amount_base = {_EVENT_BASE_AMOUNT}, loaded_at = now()
            FROM ({_RATE_CHANGES}) s
            WHERE e.currency = s.currency AND e.ts >= s.since AND e.amount_base IS DISTINCT FROM {_EVENT_BASE_AMOUNT}
            RETURNING e.ts
        )
        INSERT INTO pg_temp.events_touched (ts) SELECT ts FROM changed
        """,
        *RECOMPUTE,
    ),
)

# Companies first: later batches then already see every region change made before they were read. Lines after
# invoices (a line whose invoice is not there yet waits for it), rates last (they correct what came before).
STREAMS = (COMPANIES, INVOICES, INVOICE_LINES, FX_RATES)
