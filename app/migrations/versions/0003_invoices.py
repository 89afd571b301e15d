"""invoices (what the analytics pipeline extracts) and the watermark indexes it scans.

The pipeline reads changed rows by `(updated_at, id)` keyset, so both tables get an index on exactly that pair;
`updated_at` is kept current by the `set_updated_at()` trigger function of 0001. Statuses are a check (not an
enum type) so adding one later is a one-line revision. A paid invoice must carry its payment time and nothing
else may: revenue is counted on `paid_at`.

Revision ID: 0003_invoices
Revises: 0002_backfill_company_region
"""

from alembic import op

revision = "0003_invoices"
down_revision = "0002_backfill_company_region"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE invoices (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            company_id bigint NOT NULL REFERENCES companies (id) ON DELETE RESTRICT,
            amount numeric(14, 2) NOT NULL CONSTRAINT invoices_amount_check CHECK (amount >= 0),
            currency char(3) NOT NULL CONSTRAINT invoices_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
            status text NOT NULL DEFAULT 'issued'
                CONSTRAINT invoices_status_check CHECK (status IN ('issued', 'paid', 'void')),
            issued_at timestamptz NOT NULL DEFAULT now(),
            paid_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT invoices_paid_at_check CHECK ((status = 'paid') = (paid_at IS NOT NULL)),
            CONSTRAINT invoices_paid_after_issued_check CHECK (paid_at IS NULL OR paid_at >= issued_at)
        )
    """)
    op.execute("CREATE INDEX invoices_updated_at_id_idx ON invoices (updated_at, id)")
    op.execute("CREATE INDEX invoices_company_id_idx ON invoices (company_id)")
    op.execute("CREATE INDEX companies_updated_at_id_idx ON companies (updated_at, id)")
    op.execute("""
        CREATE TRIGGER invoices_set_updated_at BEFORE UPDATE ON invoices
        FOR EACH ROW EXECUTE FUNCTION set_updated_at()
    """)


def downgrade() -> None:
    op.execute("DROP INDEX companies_updated_at_id_idx")
    op.execute("DROP TABLE invoices")
