#!/usr/bin/env python3
"""TimescaleDB node agent: publish background-job health to CloudWatch once a minute (cron, as postgres).

Jobs (continuous-aggregate refreshes, compression, retention) can fail silently or never get a worker. This reads
timescaledb_information.job_stats (TimescaleDB docs, informational views): `FailedJobs` counts jobs whose last run
failed, `OverdueJobs` scheduled jobs whose next start is over 10 minutes late (no free background worker). A standby
runs no jobs and publishes 0; once promoted it reports its own. Runs on the node with python3-boto3 and psql only.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import Any

NAMESPACE = "TimescaleDB"
METRICS = ("FailedJobs", "OverdueJobs")
QUERY = (
    "SELECT pg_is_in_recovery(), count(*) FILTER (WHERE last_run_status = 'Failed'), "
    "count(*) FILTER (WHERE job_status = 'Scheduled' AND next_start < now() - interval '10 minutes') "
    "FROM timescaledb_information.job_stats"
)


def job_health(run_sql: Callable[[str], str]) -> dict[str, int]:
    """Metric -> value from one `psql -AtF,` line: in_recovery,failed,overdue."""
    in_recovery, failed, overdue = run_sql(QUERY).strip().split(",")
    if in_recovery == "t":
        return dict.fromkeys(METRICS, 0)
    return {"FailedJobs": int(failed), "OverdueJobs": int(overdue)}


def publish(health: Mapping[str, int], *, instance_id: str, cloudwatch: Any) -> None:
    cloudwatch.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {"MetricName": name, "Dimensions": [{"Name": "InstanceId", "Value": instance_id}], "Value": value}
            for name, value in health.items()
        ],
    )


def _psql(database: str) -> Callable[[str], str]:
    def run(sql: str) -> str:
        return subprocess.run(
            ["psql", "-X", "-AtF,", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    return run


def _read_env(*paths: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for path in paths:
        with open(path) as lines:
            env.update(line.strip().partition("=")[::2] for line in lines if "=" in line)
    return env


def main(*env_files: str) -> int:
    """cluster.env (DATABASE, AWS_REGION) and node.env (INSTANCE_ID, written by the bootstrap from IMDS)."""
    import boto3

    env = _read_env(*(env_files or ("/etc/timescale/cluster.env", "/etc/timescale/node.env")))
    cloudwatch = boto3.client("cloudwatch", region_name=env["AWS_REGION"])
    publish(job_health(_psql(env["DATABASE"])), instance_id=env["INSTANCE_ID"], cloudwatch=cloudwatch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
