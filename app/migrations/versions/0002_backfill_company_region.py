"""Backfill companies.region from country (as the original system did), then require it.

Rows whose country is missing or unknown get the primary region (DATABASE_PRIMARY_REGION, passed in by
app/migrations/env.py as the app.primary_region setting).

Revision ID: 0002_backfill_company_region
Revises: 0001_companies
"""

from alembic import op

from app.countries import COUNTRY_REGION

revision = "0002_backfill_company_region"
down_revision = "0001_companies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Generated from a fixed, validated table of two-letter codes and region names: no user input.
    pairs = ", ".join(f"('{code}', '{region}')" for code, region in sorted(COUNTRY_REGION.items()))
    op.execute(f"""
        UPDATE companies c
        SET region = coalesce(m.region, current_setting('app.primary_region', true), 'eu')
        FROM companies c2
        LEFT JOIN (VALUES {pairs}) AS m(country, region) ON m.country = upper(c2.country)
        WHERE c.id = c2.id AND c.region IS NULL
    """)
    op.execute("ALTER TABLE companies ALTER COLUMN region SET NOT NULL")
    op.execute("ALTER TABLE companies ADD CONSTRAINT companies_region_check CHECK (region IN ('eu', 'us', 'asia'))")


def downgrade() -> None:
    op.execute("ALTER TABLE companies DROP CONSTRAINT companies_region_check")
    op.execute("ALTER TABLE companies ALTER COLUMN region DROP NOT NULL")
