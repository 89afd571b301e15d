"""Incremental MRR maintenance, run inside every pipeline batch's transaction (see analytics/streams.py).

Each stream's merge records in `pg_temp.revenue_touched` the companies whose MRR the batch may have changed and
the earliest month it may have changed from (a line's first active month, or the beginning for a region change).
`RECOMPUTE` then rebuilds exactly those companies' rows from that month on, from the lines, with the previous
month and "ever had MRR" taken from the rows it keeps, and moves the region x cohort x month summary by the
difference (old rows subtracted, new rows added). A late invoice, a void or a new exchange rate therefore
rewrites history from where it applies, and a batch that touches nothing costs a few empty statements.
Definitions: ANALYTICS.md; the same in pure Python: analytics/reference.py.
"""

from typing import Final

MOVEMENTS: Final = ("new", "expansion", "contraction", "churn", "reactivation", "fx")
BEGINNING: Final = "DATE '0001-01-01'"  # "from the first month": no month of real data is earlier

TEMP_TABLES: Final = (
    "CREATE TEMP TABLE IF NOT EXISTS revenue_touched (company_id bigint NOT NULL, from_month date NOT NULL)"
    " ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS revenue_scope (company_id bigint PRIMARY KEY, from_month date NOT NULL,"
    " region text NOT NULL) ON COMMIT DELETE ROWS",
    # Event times whose daily/monthly buckets the batch changed: refreshed after commit (analytics/refresh.py).
    "CREATE TEMP TABLE IF NOT EXISTS events_touched (ts timestamptz NOT NULL) ON COMMIT DELETE ROWS",
)

_SUMS = ", ".join(f"sum(m.{name}) AS {name}" for name in MOVEMENTS)
_SUMMARY_KEY_COLUMNS = "region, cohort, month"
_CONTRIBUTIONS = f"""
    SELECT m.region, m.cohort, m.month,
           count(*) FILTER (WHERE m.mrr > 0) AS customers, count(*) FILTER (WHERE m.churned) AS churned_customers,
           sum(m.mrr) AS mrr, {_SUMS}
    FROM analytics.company_mrr m
    JOIN pg_temp.revenue_scope s ON s.company_id = m.company_id AND m.month >= s.from_month
    GROUP BY m.region, m.cohort, m.month
"""
_SUMMARY_COLUMNS = ("customers", "churned_customers", "mrr", *MOVEMENTS)


_SUMMARY_ADD = ", ".join(f"{c} = x.{c} + EXCLUDED.{c}" for c in _SUMMARY_COLUMNS)
_SUMMARY_SUBTRACT = ", ".join(f"{c} = x.{c} - o.{c}" for c in _SUMMARY_COLUMNS)


RECOMPUTE: Final = (
    # One row per company: the earliest month any change of this batch applies from, and its current region.
    """
    INSERT INTO pg_temp.revenue_scope (company_id, from_month, region)
    SELECT t.company_id, min(t.from_month),
           coalesce(min(c.region), (SELECT l.region FROM analytics.invoice_lines l
                                    WHERE l.company_id = t.company_id LIMIT 1))
    FROM pg_temp.revenue_touched t LEFT JOIN analytics.companies c ON c.company_id = t.company_id
    GROUP BY t.company_id
    HAVING coalesce(min(c.region), (SELECT l.region FROM analytics.invoice_lines l
                                    WHERE l.company_id = t.company_id LIMIT 1)) IS NOT NULL
    """,
    # The old rows leave the summary ...
    f"""
    UPDATE analytics.mrr_summary x SET {_SUMMARY_SUBTRACT}
    FROM ({_CONTRIBUTIONS}) o
    WHERE x.region = o.region AND x.cohort = o.cohort AND x.month = o.month
    """,
    """
    DELETE FROM analytics.company_mrr m USING pg_temp.revenue_scope s
    WHERE m.company_id = s.company_id AND m.month >= s.from_month
    """,
    """
    DELETE FROM analytics.company_mrr_native m USING pg_temp.revenue_scope s
    WHERE m.company_id = s.company_id AND m.month >= s.from_month
    """,
    # ... the months are rebuilt from the lines active at each month's last instant (non-void invoices only) ...
    """
    INSERT INTO analytics.company_mrr_native (company_id, month, currency, mrr, mrr_converted, mrr_base)
    SELECT l.company_id, g.month::date, l.currency, sum(l.mrr_native),
           coalesce(sum(l.mrr_native) FILTER (WHERE l.rate IS NOT NULL), 0), coalesce(sum(l.mrr_native * l.rate), 0)
    FROM pg_temp.revenue_scope s
    JOIN analytics.invoice_lines l
      ON l.company_id = s.company_id AND l.last_month >= s.from_month
     AND l.kind = 'subscription' AND l.last_month >= l.first_month
    JOIN analytics.invoices i ON i.invoice_id = l.invoice_id AND i.status <> 'void'
    CROSS JOIN LATERAL generate_series(greatest(l.first_month, s.from_month), l.last_month, INTERVAL '1 month')
        AS g(month)
    GROUP BY l.company_id, g.month, l.currency
    """,
    # ... with their movements against the month before (kept or rebuilt), over every month from the first
    # change to the month after the last MRR (its churn) ...
    """
    INSERT INTO analytics.company_mrr
        (company_id, month, region, cohort, mrr, new, expansion, contraction, churn, reactivation, fx, churned)
    WITH cur AS (
        SELECT n.company_id, n.month, sum(n.mrr_base) AS mrr
        FROM analytics.company_mrr_native n
        JOIN pg_temp.revenue_scope s ON s.company_id = n.company_id AND n.month >= s.from_month
        GROUP BY n.company_id, n.month
    ), kept AS (
        SELECT s.company_id, s.from_month, s.region,
               coalesce((SELECT m.mrr FROM analytics.company_mrr m WHERE m.company_id = s.company_id
                         AND m.month = (s.from_month - INTERVAL '1 month')::date), 0) AS prev,
               (SELECT min(m.month) FROM analytics.company_mrr m WHERE m.company_id = s.company_id
                AND m.month < s.from_month AND m.mrr > 0) AS cohort
        FROM pg_temp.revenue_scope s
    ), bounds AS (
        SELECT k.company_id, k.region, k.prev, k.cohort,
               CASE WHEN k.prev > 0 THEN k.from_month ELSE min(c.month) END AS first_month,
               coalesce((max(c.month) + INTERVAL '1 month')::date, k.from_month) AS last_month
        FROM kept k LEFT JOIN cur c ON c.company_id = k.company_id
        GROUP BY k.company_id, k.region, k.prev, k.cohort, k.from_month
    ), dense AS (
        SELECT b.company_id, b.region, b.prev AS prev_kept, b.cohort AS cohort_kept, g.month::date AS month,
               coalesce(c.mrr, 0) AS mrr
        FROM bounds b
        CROSS JOIN LATERAL generate_series(b.first_month, b.last_month, INTERVAL '1 month') AS g(month)
        LEFT JOIN cur c ON c.company_id = b.company_id AND c.month = g.month::date
        WHERE b.first_month IS NOT NULL
    ), moved AS (
        SELECT d.company_id, d.region, d.month, d.mrr,
               lag(d.mrr, 1, d.prev_kept) OVER w AS prev,
               d.cohort_kept IS NOT NULL
                   OR coalesce(bool_or(d.mrr > 0) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false)
                   AS had_mrr,
               coalesce(d.cohort_kept, min(d.month) FILTER (WHERE d.mrr > 0) OVER (PARTITION BY d.company_id))
                   AS cohort
        FROM dense d
        WINDOW w AS (PARTITION BY d.company_id ORDER BY d.month)
    ), classified AS (
        SELECT m.*,
               m.prev > 0 AND m.mrr > 0 AND NOT EXISTS (
                   SELECT 1
                   FROM (SELECT currency, mrr_converted FROM analytics.company_mrr_native
                         WHERE company_id = m.company_id AND month = m.month) a
                   FULL JOIN (SELECT currency, mrr_converted FROM analytics.company_mrr_native
                              WHERE company_id = m.company_id AND month = (m.month - INTERVAL '1 month')::date) b
                     USING (currency)
                   WHERE coalesce(a.mrr_converted, 0) <> coalesce(b.mrr_converted, 0)
               ) AS fx_only
        FROM moved m
        WHERE m.mrr > 0 OR m.prev > 0
    )
    SELECT company_id, month, region, cohort, mrr,
           CASE WHEN prev = 0 AND NOT had_mrr THEN mrr ELSE 0 END,
           CASE WHEN prev > 0 AND mrr > prev AND NOT fx_only THEN mrr - prev ELSE 0 END,
           CASE WHEN mrr > 0 AND mrr < prev AND NOT fx_only THEN mrr - prev ELSE 0 END,
           CASE WHEN mrr = 0 THEN -prev ELSE 0 END,
           CASE WHEN prev = 0 AND had_mrr THEN mrr ELSE 0 END,
           CASE WHEN fx_only THEN mrr - prev ELSE 0 END,
           mrr = 0
    FROM classified
    """,
    # ... and the new rows join the summary; cells left with nothing in them go.
    f"""
    INSERT INTO analytics.mrr_summary AS x ({_SUMMARY_KEY_COLUMNS}, {", ".join(_SUMMARY_COLUMNS)})
    {_CONTRIBUTIONS}
    ON CONFLICT (region, month, cohort) DO UPDATE SET {_SUMMARY_ADD}
    """,
    f"""
    DELETE FROM analytics.mrr_summary WHERE {" AND ".join(f"{c} = 0" for c in _SUMMARY_COLUMNS)}
    """,
)

# After a change of base currency: every line and event converts anew and every company is rebuilt.
REBASE: Final = (
    """
    UPDATE analytics.invoice_lines l
    SET rate = analytics.rate_on(l.currency, (l.service_period_start AT TIME ZONE 'UTC')::date), loaded_at = now()
    WHERE l.kind = 'subscription'
    """,
    """
    WITH changed AS (
        UPDATE analytics.invoice_events e
        SET amount_base = analytics.rate_on(e.currency, (e.ts AT TIME ZONE 'UTC')::date) * e.amount, loaded_at = now()
        RETURNING e.ts
    )
    INSERT INTO pg_temp.events_touched (ts) SELECT ts FROM changed
    """,
    f"INSERT INTO pg_temp.revenue_touched (company_id, from_month) SELECT DISTINCT company_id, {BEGINNING}"
    " FROM analytics.invoice_lines",
    *RECOMPUTE,
)
