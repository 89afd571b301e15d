"""alerts: thresholds on the current month's figures, and every firing (the stream and the mail read these).

`armed` is false while the alert's condition holds (it has fired and not yet crossed back), so an alert fires once
per crossing. A firing keeps the values it fired with (the alert may be deleted later) and the mail outcome, so a
failed send is visible instead of lost.

Revision ID: 0003_alerts
Revises: 0001_analytics_schema
"""

from alembic import op

revision = "0003_alerts"
down_revision = "0001_analytics_schema"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE analytics.alerts (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            metric text NOT NULL,
            op text NOT NULL CHECK (op IN ('above', 'below')),
            threshold numeric NOT NULL,
            region text CHECK (region IN ('eu', 'us', 'asia')),
            notify text[] NOT NULL DEFAULT '{}',
            armed boolean NOT NULL DEFAULT true,
            last_value numeric,
            last_evaluated_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("""
        CREATE TABLE analytics.alert_firings (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            alert_id bigint REFERENCES analytics.alerts (id) ON DELETE SET NULL,
            metric text NOT NULL,
            op text NOT NULL,
            threshold numeric NOT NULL,
            region text,
            month date NOT NULL,
            value numeric NOT NULL,
            fired_at timestamptz NOT NULL DEFAULT now(),
            notify text[] NOT NULL DEFAULT '{}',
            mailed_at timestamptz,
            mail_error text
        )
    """)
    op.execute("CREATE INDEX alert_firings_alert_idx ON analytics.alert_firings (alert_id)")


def downgrade() -> None:
    op.execute("DROP TABLE analytics.alert_firings")
    op.execute("DROP TABLE analytics.alerts")
