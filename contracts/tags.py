"""Tag names and values the infra sets and the ops tool finds a stack's databases by.

components/ tags every taggable resource with the stack tags and every RDS instance with its role and logical
region; ops/ (`replication-check`, `failover-drill`) filters `DescribeDBInstances` on the same names and values, and
the policy pack reads `Environment`. A drift would make the ops commands find nothing.
"""

from typing import Final, Literal, get_args

PROJECT: Final = "Project"
PROJECT_NAME: Final = "global-api"  # Pulumi.yaml's name: the Project tag's value and the config namespace
STACK: Final = "Stack"
ENVIRONMENT: Final = "Environment"
MANAGED_BY: Final = "ManagedBy"
MANAGED_BY_VALUE: Final = "pulumi"

# Values of the Environment tag: the stack config's `environment` (the data-safety tier).
Environment = Literal["production", "staging"]
ENVIRONMENTS: Final[tuple[Environment, ...]] = get_args(Environment)
PRODUCTION: Final = "production"

# On RDS instances (and, for LogicalRegion, on each region's network and service).
DB_ROLE: Final = "DbRole"
DbRole = Literal["primary", "replica"]
ROLE_PRIMARY: Final = "primary"
ROLE_REPLICA: Final = "replica"
LOGICAL_REGION: Final = "LogicalRegion"  # one of contracts.regions.REGIONS
# On replicas: the lag bound (seconds) replication-check applies unless --max-lag is given.
MAX_REPLICA_LAG_SECONDS: Final = "MaxReplicaLagSeconds"
