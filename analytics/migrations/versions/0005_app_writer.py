"""app_writer: the app's own least-privilege login on the analytics primary (ANALYTICS_WRITE_DATABASE_URL).

The app writes three things to analytics: alert definitions (`alerts`), report definitions (`reports`) and request
metrics (`api_requests`, by COPY); it reads back the definitions it wrote and the report runs it lists. Before this
revision its only writable login was the pipeline's, which owns every table. `analytics_app_writer` gets:
- SELECT, INSERT, UPDATE, DELETE on analytics.alerts and analytics.reports (INSERT ... RETURNING and keyed
  UPDATE/DELETE need SELECT);
- INSERT on analytics.api_requests (COPY needs nothing more);
- SELECT on analytics.report_runs (the definitions' delivery history);
and nothing else: no other table, no DDL, no TRUNCATE. The figures stay read-only through the standby login.

The role itself is cluster-wide: in AWS the TimescaleDB bootstrap creates it (the pipeline login that migrates may
not create roles); where the migrating user may (a local superuser), this revision creates it as a LOGIN role
without password. If it exists neither way, the grants are skipped with a NOTICE.

Revision ID: 0005_app_writer
Revises: 0003_alerts, 0004_reports
"""

from alembic import op

from app.db_roles import ANALYTICS_WRITER_ROLE as WRITER

revision = "0005_app_writer"
down_revision = ("0003_alerts", "0004_reports")
branch_labels = None
depends_on = None

GRANTS = (
    ("SELECT, INSERT, UPDATE, DELETE", "analytics.alerts"),
    ("SELECT, INSERT, UPDATE, DELETE", "analytics.reports"),
    ("INSERT", "analytics.api_requests"),
    ("SELECT", "analytics.report_runs"),
)


def upgrade() -> None:
    grants = " ".join(f"GRANT {privileges} ON {table} TO {WRITER};" for privileges, table in GRANTS)
    op.execute(f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{WRITER}') THEN
                IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
                    RAISE NOTICE 'role {WRITER} does not exist and cannot be created here: grants skipped';
                    RETURN;
                END IF;
                CREATE ROLE {WRITER} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
            END IF;
            GRANT USAGE ON SCHEMA analytics TO {WRITER};
            {grants}
        END
        $$
    """)


def downgrade() -> None:
    revokes = " ".join(f"REVOKE ALL ON {table} FROM {WRITER};" for _, table in GRANTS)
    op.execute(f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{WRITER}') THEN
                {revokes}
                REVOKE ALL ON SCHEMA analytics FROM {WRITER};
            END IF;
        END
        $$
    """)
