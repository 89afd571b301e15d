"""Shared builders for the ops tests: fake credentials, tagged RDS instances in moto, ReplicaLag datapoints."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws
from mypy_boto3_rds.type_defs import TagTypeDef

from ops.cli import main

PRIMARY_REGION = "eu-west-1"
US_REGION = "us-east-1"
ASIA_REGION = "ap-southeast-1"
STACK_REGIONS = {"eu": PRIMARY_REGION, "us": US_REGION, "asia": ASIA_REGION}


def use_fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake keys only, and no way to reach real ones (profiles, config files, instance metadata)."""
    for name in (
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_RDS",
        "AWS_ENDPOINT_URL_CLOUDWATCH",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", PRIMARY_REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@contextmanager
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_fake_credentials(monkeypatch)
    with mock_aws():
        yield


def component_tags(stack: str, role: str, logical_region: str, **extra: str) -> list[TagTypeDef]:
    """The tags the database component puts on an RDS instance (contracts/tags.py)."""
    pairs = {"Project": "global-api", "Stack": stack, "DbRole": role, "LogicalRegion": logical_region, **extra}
    return [{"Key": key, "Value": value} for key, value in pairs.items()]


def create_instance(identifier: str, tags: list[TagTypeDef], endpoint_url: str | None = None) -> str:
    """A standalone RDS PostgreSQL instance in eu-west-1; returns its ARN."""
    rds = boto3.client("rds", region_name=PRIMARY_REGION, endpoint_url=endpoint_url)
    created = rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        DBInstanceClass="db.t4g.medium",
        Engine="postgres",
        MasterUsername="app",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=50,
        Tags=tags,
    )
    return created["DBInstance"]["DBInstanceArn"]


def create_primary(stack: str = "staging", identifier: str = "staging-db-eu", endpoint_url: str | None = None) -> str:
    """The stack's primary in eu-west-1, tagged as the database component tags it; returns its ARN."""
    return create_instance(identifier, component_tags(stack, "primary", "eu"), endpoint_url)


def create_replica(
    source_arn: str,
    logical_region: str,
    region: str,
    stack: str = "staging",
    max_lag: str | None = "5",
    endpoint_url: str | None = None,
) -> str:
    """A read replica of source_arn in `region`, tagged like the component does; returns its identifier."""
    identifier = f"{stack}-db-{logical_region}-replica"
    extra = {} if max_lag is None else {"MaxReplicaLagSeconds": max_lag}
    rds = boto3.client("rds", region_name=region, endpoint_url=endpoint_url)
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier=identifier,
        SourceDBInstanceIdentifier=source_arn,
        Tags=component_tags(stack, "replica", logical_region, **extra),
    )
    return identifier


def put_lag(
    region: str,
    identifier: str,
    values: Sequence[float],
    minutes_ago: int = 1,
    endpoint_url: str | None = None,
) -> None:
    """One ReplicaLag datapoint per value, a minute apart, the newest `minutes_ago` minutes old."""
    now = datetime.now(UTC)
    boto3.client("cloudwatch", region_name=region, endpoint_url=endpoint_url).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": identifier}],
                "Timestamp": now - timedelta(minutes=minutes_ago + index),
                "Value": value,
                "Unit": "Seconds",
            }
            for index, value in enumerate(values)
        ],
    )


def write_stack_file(
    project_dir: Path,
    stack: str = "staging",
    regions: dict[str, str] | None = None,
    replica_regions: Sequence[str] = ("eu", "us"),
) -> Path:
    """A Pulumi.<stack>.yaml with the config keys ops reads (and Pulumi.yaml naming the namespace)."""
    (project_dir / "Pulumi.yaml").write_text("name: global-api\nruntime: python\n", encoding="utf-8")
    config = {
        "aws:region": PRIMARY_REGION,
        "global-api:regions": regions if regions is not None else {"eu": PRIMARY_REGION, "us": US_REGION},
        "global-api:primaryRegion": "eu",
        "global-api:readReplicaRegions": list(replica_regions),
    }
    path = project_dir / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    """Run the CLI as a user would, through main(argv), and capture what it printed."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


@dataclass(frozen=True)
class StagingStack:
    primary_arn: str
    eu_replica: str
    us_replica: str


def build_staging(stack: str = "staging") -> StagingStack:
    """Primary in eu-west-1, replicas in eu-west-1 and (cross-region) us-east-1."""
    primary_arn = create_primary(stack, identifier=f"{stack}-db-eu")
    return StagingStack(
        primary_arn=primary_arn,
        eu_replica=create_replica(primary_arn, "eu", PRIMARY_REGION, stack),
        us_replica=create_replica(primary_arn, "us", US_REGION, stack),
    )
