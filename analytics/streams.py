"""What the pipeline copies: each stream is a keyset query on the source and a merge into the analytics tables.

A source query takes `$1` watermark time, `$2` watermark id and `$3` batch size, returns rows ordered by
`(updated_at, id)` (the tie-breaker makes equal timestamps safe to page through) with the staging columns in order.
A merge reads the batch from its temporary staging table and must be idempotent: applying a batch twice leaves the
analytics tables exactly as applying it once, which is what makes re-running after a crash safe.
"""

from dataclasses import dataclass


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
        """
        INSERT INTO analytics.companies AS c (company_id, region, source_updated_at)
        SELECT id, region, updated_at FROM pg_temp.staging_companies
        ON CONFLICT (company_id) DO UPDATE
            SET region = EXCLUDED.region, source_updated_at = EXCLUDED.source_updated_at, loaded_at = now()
            WHERE (c.region, c.source_updated_at) IS DISTINCT FROM (EXCLUDED.region, EXCLUDED.source_updated_at)
        """,
        # A company that moved region takes its history with it (aggregates are per current region).
        """
        UPDATE analytics.invoice_events e SET region = s.region, loaded_at = now()
        FROM pg_temp.staging_companies s
        WHERE e.company_id = s.id AND e.region <> s.region
        """,
    ),
)

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
        ("updated_at", "timestamptz"),
    ),
    source_query="""
        SELECT i.id, i.company_id, c.region, i.amount, i.currency, i.status, i.issued_at, i.paid_at, i.updated_at
        FROM invoices i JOIN companies c ON c.id = i.company_id
        WHERE (i.updated_at, i.id) > ($1, $2) ORDER BY i.updated_at, i.id LIMIT $3
    """,
    merges=(
        # Events the invoice no longer has (payment voided, dates corrected) go first ...
        """
        DELETE FROM analytics.invoice_events e USING pg_temp.staging_invoices s
        WHERE e.invoice_id = s.id
          AND NOT (e.event = 'issued' AND e.ts = s.issued_at)
          AND NOT (e.event = 'paid' AND s.status = 'paid' AND e.ts IS NOT DISTINCT FROM s.paid_at)
        """,
        # ... then each current event is written once, keyed by (invoice, event, time).
        """
        INSERT INTO analytics.invoice_events AS e
            (invoice_id, event, ts, company_id, region, amount, currency, source_updated_at)
        SELECT id, 'issued', issued_at, company_id, region, amount, currency, updated_at
        FROM pg_temp.staging_invoices
        UNION ALL
        SELECT id, 'paid', paid_at, company_id, region, amount, currency, updated_at
        FROM pg_temp.staging_invoices WHERE status = 'paid' AND paid_at IS NOT NULL
        ON CONFLICT (invoice_id, event, ts) DO UPDATE
            SET company_id = EXCLUDED.company_id, region = EXCLUDED.region, amount = EXCLUDED.amount,
                currency = EXCLUDED.currency, source_updated_at = EXCLUDED.source_updated_at, loaded_at = now()
            WHERE (e.company_id, e.region, e.amount, e.currency, e.source_updated_at)
                IS DISTINCT FROM
                  (EXCLUDED.company_id, EXCLUDED.region, EXCLUDED.amount, EXCLUDED.currency,
                   EXCLUDED.source_updated_at)
        """,
    ),
)

# Companies first: an invoice batch then already sees every region change made before it was read.
STREAMS = (COMPANIES, INVOICES)
