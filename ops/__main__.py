"""`python -m ops COMMAND ...`: operations commands for the stack's RDS primary and replicas.

Commands (each has --help):
  replication-check --stack NAME   every expected replica present, replicating, ReplicaLag under the bound
  failover-drill --stack NAME --replica eu|us|asia [--execute] [--yes-production]

AWS credentials and region come from the standard chain (env, profile, instance role); --region overrides
the region, AWS_ENDPOINT_URL points every client at another endpoint (e.g. a local moto server).

Exit codes, for scripts:
  0  ok
  1  check failed (a replica lagging, silent, missing or not replicating; a drill precondition unmet)
  2  usage error (bad arguments or stack file, production --execute without --yes-production)
  3  AWS error (API error, no credentials, endpoint unreachable, waiter failed or timed out)
Errors are one line on stderr, never a traceback.
"""

import sys

from ops.cli import main

if __name__ == "__main__":
    sys.exit(main())
