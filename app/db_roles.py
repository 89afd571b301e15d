"""Names of the main database's least-privilege login roles (created by migration 0006_roles).

The migration creates them, the stacks grant each task `rds-db:connect` on exactly its role and put the role's
name into the task's database URL, and the tests log in as them; one definition keeps the three in step.
"""

from typing import Final

APP_ROLE: Final = "api_app"  # the API service: DML on the app's tables, nothing else
PIPELINE_ROLE: Final = "api_pipeline"  # the analytics pipeline: SELECT on the tables it copies
# The app's tables (DML) and the subset the pipeline reads (SELECT). A new table is granted in its own migration.
APP_TABLES: Final = ("companies", "invoices", "invoice_lines", "fx_rates", "heartbeat")
PIPELINE_TABLES: Final = ("companies", "invoices", "invoice_lines", "fx_rates")
# RDS's role for IAM database authentication (granting it makes the role log in with IAM tokens only).
RDS_IAM_ROLE: Final = "rds_iam"

# The app's login on the analytics primary (ANALYTICS_WRITE_DATABASE_URL): created by the TimescaleDB bootstrap
# in AWS (by the analytics migration where the migrating user may create roles, e.g. locally), granted exactly
# what the app writes and reads back by analytics revision 0005_app_writer.
ANALYTICS_WRITER_ROLE: Final = "analytics_app_writer"
