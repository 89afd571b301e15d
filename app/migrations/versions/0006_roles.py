"""roles: least-privilege logins for the app and the analytics pipeline (issue 19 item 5).

Before this revision every client logged in as the RDS master user (`rds_superuser`): a compromised task owned the
database. Now:
- `api_app` (the API service) gets SELECT/INSERT/UPDATE/DELETE on the app's tables and nothing else: no DDL, no
  TRUNCATE, no other schema, no CREATE anywhere;
- `api_pipeline` (the analytics copy) gets SELECT on the four tables it copies;
- CONNECT on this database is revoked from PUBLIC and granted to the two roles, and CREATE on schema `public` is
  revoked from PUBLIC (already so on PostgreSQL 15+, explicit for older clusters).
On RDS the roles are granted `rds_iam`, so they log in only with IAM authentication tokens (no password exists to
leak or rotate); on a plain PostgreSQL cluster (local development, tests) they log in as the cluster's
authentication allows (trust locally). The master user keeps running migrations, and the migrating user (the
tables' owner) keeps every right. Roles are cluster-wide: creation is idempotent, so several databases of one
cluster (test scratch databases) can each run this revision.

Revision ID: 0006_roles
Revises: 0005_heartbeat
"""

from alembic import op

from app.db_roles import APP_ROLE, APP_TABLES, PIPELINE_ROLE, PIPELINE_TABLES, RDS_IAM_ROLE

revision = "0006_roles"
down_revision = "0005_heartbeat"
branch_labels = None
depends_on = None

_ROLES = (APP_ROLE, PIPELINE_ROLE)


def _create_login(role: str) -> None:
    """CREATE ROLE ... LOGIN unless it exists; granted rds_iam where that role exists (RDS)."""
    op.execute(f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
            END IF;
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{RDS_IAM_ROLE}') THEN
                GRANT {RDS_IAM_ROLE} TO {role};
            END IF;
        END
        $$
    """)


def upgrade() -> None:
    for role in _ROLES:
        _create_login(role)
    op.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    op.execute(
        "DO $$ BEGIN EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()); "
        f"EXECUTE format('GRANT CONNECT ON DATABASE %I TO {APP_ROLE}, {PIPELINE_ROLE}', current_database()); END $$"
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}, {PIPELINE_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(APP_TABLES)} TO {APP_ROLE}")
    op.execute(f"GRANT SELECT ON {', '.join(PIPELINE_TABLES)} TO {PIPELINE_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE ALL ON {', '.join(APP_TABLES)} FROM {APP_ROLE}, {PIPELINE_ROLE}")
    op.execute(f"REVOKE ALL ON SCHEMA public FROM {APP_ROLE}, {PIPELINE_ROLE}")
    op.execute(
        "DO $$ BEGIN "
        f"EXECUTE format('REVOKE ALL ON DATABASE %I FROM {APP_ROLE}, {PIPELINE_ROLE}', current_database()); "
        "EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO PUBLIC', current_database()); END $$"
    )
    # The roles stay: they are cluster-wide and other databases of the cluster may still grant them rights.
