"""RDS tag names and values the ops commands use to find a stack's databases.

The database component sets these tags on every RDS instance it creates. components/tags.py must define
the same names and values: if the two drift apart, replication-check and failover-drill find nothing.
"""

from typing import Final

PROJECT: Final = "Project"
PROJECT_VALUE: Final = "global-api"
STACK: Final = "Stack"
DB_ROLE: Final = "DbRole"
ROLE_PRIMARY: Final = "primary"
ROLE_REPLICA: Final = "replica"
LOGICAL_REGION: Final = "LogicalRegion"
LOGICAL_REGIONS: Final = ("eu", "us", "asia")
# Set on replicas: the lag bound (seconds) replication-check applies unless --max-lag is given.
MAX_REPLICA_LAG_SECONDS: Final = "MaxReplicaLagSeconds"
PRODUCTION_STACK: Final = "production"
