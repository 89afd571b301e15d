"""heartbeat: one row the app's health monitor updates on the primary about every second.

Two reasons. RDS reports up to five minutes of `ReplicaLag` for a PostgreSQL replica whose source has no writes
(RDS user guide, "Working with read replicas for Amazon RDS for PostgreSQL": replica lag is computed from the
last replayed transaction), so the 5 s lag alarm would page on every quiet night; a steady write keeps the metric
honest. And a freshly started app process learns each replica's staleness from its first probe: the replica's
copy of this row says when the primary wrote what the replica has replayed.

Revision ID: 0005_heartbeat
Revises: 0004_billing
"""

from alembic import op

revision = "0005_heartbeat"
down_revision = "0004_billing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE heartbeat (
            id smallint PRIMARY KEY CONSTRAINT heartbeat_single_row CHECK (id = 1),
            at timestamptz NOT NULL DEFAULT clock_timestamp()
        )
    """)
    op.execute("INSERT INTO heartbeat (id) VALUES (1)")


def downgrade() -> None:
    op.execute("DROP TABLE heartbeat")
