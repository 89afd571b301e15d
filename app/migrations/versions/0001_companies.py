"""companies table with region index and an updated_at trigger.

Revision ID: 0001_companies
Revises:
"""

from alembic import op

revision = "0001_companies"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE companies (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
            country text CHECK (country ~ '^[A-Z]{2}$'),
            region text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("CREATE INDEX companies_region_id_idx ON companies (region, id)")
    op.execute("""
        CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at := now();
            RETURN NEW;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER companies_set_updated_at BEFORE UPDATE ON companies
        FOR EACH ROW EXECUTE FUNCTION set_updated_at()
    """)


def downgrade() -> None:
    op.execute("DROP TABLE companies")
    op.execute("DROP FUNCTION set_updated_at()")
