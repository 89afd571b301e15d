"""The TimescaleDB node agent (components/timescale_job_metrics.py) against a real PostgreSQL primary and standby,
and CloudWatch through moto.

No TimescaleDB here, so `timescaledb_information.job_stats` is a stand-in view with the columns the agent reads,
as TimescaleDB documents them (informational views: job_status, last_run_status, next_start); the query, psql's
output format, the standby rule and what reaches CloudWatch are all real.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from components import timescale_job_metrics as agent
from localdev.cluster import Cluster

DATABASE = "jobmetrics"
STAND_IN = """
CREATE SCHEMA timescaledb_information;
CREATE TABLE timescaledb_information.job_stats (
    job_id int PRIMARY KEY, job_status text NOT NULL, last_run_status text, next_start timestamptz
);
INSERT INTO timescaledb_information.job_stats VALUES
    (1000, 'Scheduled', 'Success', now() + interval '1 hour'),   -- healthy
    (1001, 'Scheduled', 'Failed', now() + interval '5 minutes'), -- last run failed
    (1002, 'Scheduled', 'Success', now() - interval '30 minutes'), -- never got a worker
    (1003, 'Paused', 'Failed', now() - interval '30 minutes');    -- paused: failed, but not overdue
"""


@pytest.fixture(scope="module")
def jobs_database(pg_cluster: Cluster) -> Iterator[Cluster]:
    pg_cluster.sql("primary", f"DROP DATABASE IF EXISTS {DATABASE}", database="postgres")
    pg_cluster.sql("primary", f"CREATE DATABASE {DATABASE}", database="postgres")
    for statement in STAND_IN.split(";"):
        if statement.strip():
            pg_cluster.sql("primary", statement, database=DATABASE)
    yield pg_cluster
    pg_cluster.sql("primary", f"DROP DATABASE IF EXISTS {DATABASE}", database="postgres")


def test_primary_reports_failed_and_overdue_jobs(jobs_database: Cluster) -> None:
    health = agent.job_health(agent._psql(jobs_database.dsn("primary", DATABASE)))
    assert health == {"FailedJobs": 2, "OverdueJobs": 1}


def test_a_standby_runs_no_jobs_and_reports_zero(jobs_database: Cluster) -> None:
    deadline = time.monotonic() + 30
    while True:  # the replica has the database once it has replayed its creation
        try:
            health = agent.job_health(agent._psql(jobs_database.dsn("eu", DATABASE)))
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    assert health == {"FailedJobs": 0, "OverdueJobs": 0}


def test_main_publishes_both_metrics_per_instance(jobs_database: Cluster, tmp_path: Path) -> None:
    env = tmp_path / "cluster.env"
    env.write_text(f"DATABASE={jobs_database.dsn('primary', DATABASE)}\nAWS_REGION=eu-west-1\n")
    node = tmp_path / "node.env"
    node.write_text("INSTANCE_ID=i-0123456789abcdef0\n")
    with mock_aws():
        assert agent.main(str(env), str(node)) == 0
        cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
        metrics = cloudwatch.list_metrics(Namespace=agent.NAMESPACE)["Metrics"]
        assert {m["MetricName"] for m in metrics} == {"FailedJobs", "OverdueJobs"}
        assert all(m["Dimensions"] == [{"Name": "InstanceId", "Value": "i-0123456789abcdef0"}] for m in metrics)
        stats = cloudwatch.get_metric_statistics(
            Namespace=agent.NAMESPACE,
            MetricName="FailedJobs",
            Dimensions=[{"Name": "InstanceId", "Value": "i-0123456789abcdef0"}],
            StartTime=datetime.now(UTC) - timedelta(minutes=10),
            EndTime=datetime.now(UTC) + timedelta(minutes=1),
            Period=60,
            Statistics=["Maximum"],
        )
        assert [point["Maximum"] for point in stats["Datapoints"]] == [2.0]
