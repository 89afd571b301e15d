"""reports: saved report definitions and their run history (one row per report and due time).

`UNIQUE (report_id, due_at)` is what makes delivery exactly once per due time: every runner inserts the run it
wants to send with ON CONFLICT DO NOTHING, so two runners starting together share one record, and only the one
holding that run's advisory lock sends it. A run is `pending` until sent, `failed` (with the error, retried with
backoff) when sending failed, `sent` when the mail server accepted it, `skipped` when it was due more than 24 hours
before a runner first saw it (after downtime: recorded, never sent).

Revision ID: 0004_reports
Revises: 0001_analytics_schema
"""

from alembic import op

revision = "0004_reports"
down_revision = "0001_analytics_schema"
branch_labels = None
depends_on = None

STATEMENTS = (
    """
    CREATE TABLE analytics.reports (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        sections text[] NOT NULL CHECK (cardinality(sections) > 0
            AND sections <@ ARRAY['mrr', 'movements', 'churn', 'cohorts', 'invoices']),
        region text CHECK (region IN ('eu', 'us', 'asia')),
        schedule text NOT NULL,
        format text NOT NULL CHECK (format IN ('csv', 'xlsx', 'pdf')),
        recipients text[] NOT NULL CHECK (cardinality(recipients) BETWEEN 1 AND 50),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE analytics.report_runs (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        report_id bigint NOT NULL REFERENCES analytics.reports (id) ON DELETE CASCADE,
        due_at timestamptz NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failed', 'sent', 'skipped')),
        attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        last_error text,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        CONSTRAINT report_runs_once UNIQUE (report_id, due_at),
        CHECK ((status IN ('sent', 'skipped')) = (finished_at IS NOT NULL))
    )
    """,
    """
    CREATE INDEX report_runs_open_idx ON analytics.report_runs (next_attempt_at)
    WHERE status IN ('pending', 'failed')
    """,
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE analytics.report_runs")
    op.execute("DROP TABLE analytics.reports")
