"""Billing model: invoice lines with service periods, idempotency keys, void time, exchange rates.

The revenue metrics (ANALYTICS.md) are computed from subscription lines and their service periods, so every line
carries what its MRR needs. An invoice with lines must total exactly its lines (a deferred constraint trigger, so
the invoice and its lines can be written in either order inside one transaction); invoices from 0003 have no
lines and stay valid. `voided_at` is required exactly for void invoices (existing void rows are backfilled from
`updated_at`, the best time known for them; a write that voids without giving a time gets now()). Both new
tables get the `(updated_at, id)` keyset index the pipeline scans and the `set_updated_at()` trigger.

Revision ID: 0004_billing
Revises: 0003_invoices
"""

from alembic import op

revision = "0004_billing"
down_revision = "0003_invoices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE invoices
            ADD COLUMN external_id text CONSTRAINT invoices_external_id_key UNIQUE
                CONSTRAINT invoices_external_id_check CHECK (char_length(external_id) BETWEEN 1 AND 200),
            ADD COLUMN voided_at timestamptz
    """)
    op.execute("UPDATE invoices SET voided_at = updated_at WHERE status = 'void'")
    op.execute("""
        ALTER TABLE invoices
            ADD CONSTRAINT invoices_voided_at_check CHECK ((status = 'void') = (voided_at IS NOT NULL))
    """)
    # A writer that voids without saying when gets the time of the write (the check still refuses the reverse).
    op.execute("""
        CREATE FUNCTION set_voided_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.status = 'void' AND NEW.voided_at IS NULL THEN
                NEW.voided_at := now();
            END IF;
            RETURN NEW;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER invoices_set_voided_at BEFORE INSERT OR UPDATE OF status ON invoices
        FOR EACH ROW EXECUTE FUNCTION set_voided_at()
    """)
    op.execute("""
        CREATE TABLE invoice_lines (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            invoice_id bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
            position int NOT NULL CONSTRAINT invoice_lines_position_check CHECK (position >= 1),
            kind text NOT NULL CONSTRAINT invoice_lines_kind_check CHECK (kind IN ('subscription', 'one_time')),
            subscription_id text,
            plan text,
            interval text CONSTRAINT invoice_lines_interval_check CHECK (interval IN ('month', 'year')),
            interval_count int CONSTRAINT invoice_lines_interval_count_check CHECK (interval_count > 0),
            quantity numeric(14, 4) NOT NULL DEFAULT 1 CONSTRAINT invoice_lines_quantity_check CHECK (quantity > 0),
            amount numeric(14, 2) NOT NULL CONSTRAINT invoice_lines_amount_check CHECK (amount >= 0),
            discount numeric(14, 2) NOT NULL DEFAULT 0 CONSTRAINT invoice_lines_discount_check CHECK (discount >= 0),
            description text,
            service_period_start timestamptz,
            service_period_end timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT invoice_lines_invoice_position_key UNIQUE (invoice_id, position),
            CONSTRAINT invoice_lines_discount_le_total_check CHECK (discount <= amount * quantity),
            CONSTRAINT invoice_lines_service_period_check CHECK (service_period_end > service_period_start),
            CONSTRAINT invoice_lines_subscription_fields_check CHECK (
                kind <> 'subscription' OR (
                    subscription_id IS NOT NULL AND plan IS NOT NULL AND interval IS NOT NULL
                    AND interval_count IS NOT NULL
                    AND service_period_start IS NOT NULL AND service_period_end IS NOT NULL
                )
            )
        )
    """)
    op.execute("CREATE INDEX invoice_lines_updated_at_id_idx ON invoice_lines (updated_at, id)")
    op.execute("CREATE INDEX invoice_lines_invoice_id_idx ON invoice_lines (invoice_id)")
    op.execute("""
        CREATE TRIGGER invoice_lines_set_updated_at BEFORE UPDATE ON invoice_lines
        FOR EACH ROW EXECUTE FUNCTION set_updated_at()
    """)
    # The total check runs at commit: an API call inserts the invoice, then its lines, in one transaction.
    op.execute("""
        CREATE FUNCTION check_invoice_total() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            target bigint;
            expected numeric;
            actual numeric;
        BEGIN
            IF TG_TABLE_NAME = 'invoices' THEN
                target := NEW.id;
            ELSIF TG_OP = 'DELETE' THEN
                target := OLD.invoice_id;
            ELSE
                target := NEW.invoice_id;
            END IF;
            SELECT round(sum(l.amount * l.quantity - l.discount), 2) INTO expected
            FROM invoice_lines l WHERE l.invoice_id = target;
            SELECT i.amount INTO actual FROM invoices i WHERE i.id = target;
            IF expected IS NOT NULL AND actual IS NOT NULL AND actual <> expected THEN
                RAISE EXCEPTION 'invoice % total % does not equal the sum of its lines %', target, actual, expected
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'invoices_total_matches_lines_check';
            END IF;
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE CONSTRAINT TRIGGER invoices_total_matches_lines AFTER INSERT OR UPDATE OF amount ON invoices
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_invoice_total()
    """)
    op.execute("""
        CREATE CONSTRAINT TRIGGER invoice_lines_total_matches AFTER INSERT OR UPDATE OR DELETE ON invoice_lines
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_invoice_total()
    """)
    op.execute("""
        CREATE TABLE fx_rates (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            day date NOT NULL,
            currency char(3) NOT NULL CONSTRAINT fx_rates_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
            rate numeric(20, 10) NOT NULL CONSTRAINT fx_rates_rate_check CHECK (rate > 0),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT fx_rates_day_currency_key UNIQUE (day, currency)
        )
    """)
    op.execute("CREATE INDEX fx_rates_updated_at_id_idx ON fx_rates (updated_at, id)")
    op.execute("""
        CREATE TRIGGER fx_rates_set_updated_at BEFORE UPDATE ON fx_rates
        FOR EACH ROW EXECUTE FUNCTION set_updated_at()
    """)


def downgrade() -> None:
    op.execute("DROP TABLE fx_rates")
    op.execute("DROP TRIGGER invoices_total_matches_lines ON invoices")
    op.execute("DROP TABLE invoice_lines")
    op.execute("DROP FUNCTION check_invoice_total()")
    op.execute("DROP TRIGGER invoices_set_voided_at ON invoices")
    op.execute("DROP FUNCTION set_voided_at()")
    op.execute("ALTER TABLE invoices DROP CONSTRAINT invoices_voided_at_check")
    op.execute("ALTER TABLE invoices DROP COLUMN voided_at, DROP COLUMN external_id")
