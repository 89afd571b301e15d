"""Every rejected config names the key, the value and what is allowed — and declares no resource at all."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from offline.harness import try_evaluate
from stacks.backup_regions import RDS_BACKUP_REPLICATION_DESTINATIONS
from stacks.config import StackConfigError, aws_commercial_regions, parse_stack_config
from tests.infra.helpers import stack_config

DOMAIN = {
    "name": "api.example.com",
    "hostedZoneId": "Z0123456789ABCDEFGHIJ",
    "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
}
DB = {
    "instanceClass": "db.t4g.medium",
    "allocatedStorage": 50,
    "maxAllocatedStorage": 200,
    "multiAz": False,
    "backupRetentionDays": 7,
    "engineVersion": "16",
    "maxReplicaLagSeconds": 5,
}
SERVICE = {"cpu": 512, "memory": 1024, "desiredCount": 2, "minCount": 2, "maxCount": 6}

# (case id, overrides on Pulumi.staging.yaml, key that must be named, value shown, words from "allowed")
BAD_CONFIGS: list[tuple[str, dict[str, Any], str, str, str]] = [
    (
        "unknown logical region",
        {"regions": {"eu": "eu-west-1", "europe": "eu-west-2"}},
        "global-api:regions.europe",
        '"europe"',
        "eu, us, asia",
    ),
    (
        "AWS region that does not exist",
        {"regions": {"eu": "eu-west-9", "us": "us-east-1", "asia": "ap-southeast-1"}},
        "global-api:regions.eu",
        '"eu-west-9"',
        "AWS commercial region",
    ),
    (
        "same AWS region twice",
        {"regions": {"eu": "eu-west-1", "us": "eu-west-1", "asia": "ap-southeast-1"}},
        "global-api:regions",
        "eu-west-1",
        "different AWS region",
    ),
    (
        "primary not in regions",
        {"regions": {"us": "us-east-1", "asia": "ap-southeast-1"}, "readReplicaRegions": ["us"], "appRegions": ["us"]},
        "global-api:primaryRegion",
        '"eu"',
        "defined in regions",
    ),
    (
        "replica region not in regions",
        {"regions": {"eu": "eu-west-1", "us": "us-east-1"}},
        "global-api:readReplicaRegions",
        "asia",
        "defined in regions",
    ),
    (
        "app region not in regions",
        {"regions": {"eu": "eu-west-1", "us": "us-east-1"}, "readReplicaRegions": ["us"], "appRegions": ["eu", "asia"]},
        "global-api:appRegions",
        "asia",
        "defined in regions",
    ),
    (
        "duplicate replica region",
        {"readReplicaRegions": ["eu", "us", "us"]},
        "global-api:readReplicaRegions",
        '"us"',
        "at most once",
    ),
    ("duplicate app region", {"appRegions": ["eu", "eu"]}, "global-api:appRegions", '"eu"', "at most once"),
    ("no app region", {"appRegions": []}, "global-api:appRegions", "[]", "at least one"),
    (
        "db instance class syntax",
        {"database": {**DB, "instanceClass": "t4g.medium"}},
        "global-api:database.instanceClass",
        '"t4g.medium"',
        "db.t4g.medium",
    ),
    (
        "ec2 instance type syntax",
        {"timescale": {"instanceType": "large", "replicas": 1, "volumeGiB": 100}},
        "global-api:timescale.instanceType",
        '"large"',
        "t4g.large",
    ),
    (
        "storage below 20 GiB",
        {"database": {**DB, "allocatedStorage": 10, "maxAllocatedStorage": 100}},
        "global-api:database.allocatedStorage",
        "10",
        "greater than or equal to 20",
    ),
    (
        "max storage below allocated",
        {"database": {**DB, "allocatedStorage": 100, "maxAllocatedStorage": 50}},
        "global-api:database.maxAllocatedStorage",
        "50",
        "at least allocatedStorage (100 GiB)",
    ),
    (
        "backup retention 0 with replicas",
        {"database": {**DB, "backupRetentionDays": 0}},
        "global-api:database.backupRetentionDays",
        "0",
        "read replicas require",
    ),
    (
        "backup retention over 35",
        {"database": {**DB, "backupRetentionDays": 36}},
        "global-api:database.backupRetentionDays",
        "36",
        "less than or equal to 35",
    ),
    (
        "unsupported engine",
        {"database": {**DB, "engineVersion": "9.6"}},
        "global-api:database.engineVersion",
        '"9.6"',
        "major 14, 15, 16, 17",
    ),
    ("fargate cpu", {"service": {**SERVICE, "cpu": 300}}, "global-api:service.cpu", "300", "256, 512, 1024"),
    (
        "fargate cpu/memory pair",
        {"service": {**SERVICE, "cpu": 256, "memory": 4096}},
        "global-api:service.memory",
        "4096",
        "with cpu 256: 512, 1024, 2048 MiB",
    ),
    (
        "minCount above desiredCount",
        {"service": {**SERVICE, "minCount": 3, "desiredCount": 2}},
        "global-api:service.desiredCount",
        "2",
        "at least minCount (3)",
    ),
    (
        "desiredCount above maxCount",
        {"service": {**SERVICE, "desiredCount": 8, "maxCount": 6}},
        "global-api:service.maxCount",
        "6",
        "at least desiredCount (8)",
    ),
    (
        "malformed e-mail",
        {"alarmEmail": "ops-at-example.com"},
        "global-api:alarmEmail",
        '"ops-at-example.com"',
        "email",
    ),
    ("missing domain", {"domain": None}, "global-api:domain", "(missing)", "required"),
    (
        "domain without certificate",
        {"domain": {k: v for k, v in DOMAIN.items() if k != "certificateArn"}},
        "global-api:domain.certificateArn",
        "(missing)",
        "required",
    ),
    (
        "certificate outside us-east-1",
        {"domain": {**DOMAIN, "certificateArn": DOMAIN["certificateArn"].replace("us-east-1", "eu-west-1")}},
        "global-api:domain.certificateArn",
        "eu-west-1",
        "in us-east-1",
    ),
    ("typo'd key", {"readReplicaRegion": ["us"]}, "global-api:readReplicaRegion", '["us"]', "unknown key"),
    ("typo'd nested key", {"database": {**DB, "multiAZ": True}}, "global-api:database.multiAZ", "true", "unknown key"),
    ("provider region differs from primary", {"aws_region": "us-east-1"}, "aws:region", '"us-east-1"', "eu-west-1"),
    (
        "more TimescaleDB standbys than AZs",
        {"timescale": {"instanceType": "t4g.large", "replicas": 2, "volumeGiB": 100}},
        "global-api:timescale.replicas",
        "2",
        "network.azCount is 2",
    ),
    (
        "body limit WAF cannot inspect",
        {"cdn": {"maxBodyBytes": 1_048_576}},
        "global-api:cdn.maxBodyBytes",
        "1048576",
        "1024..65536 bytes (WAF for CloudFront inspects at most 64 KiB",
    ),
    ("body limit too small", {"cdn": {"maxBodyBytes": 10}}, "global-api:cdn.maxBodyBytes", "10", "1024..65536"),
    (
        # RDS user guide, "Replicating automated backups to another AWS Region": Europe (Ireland) replicates to
        # Canada, Europe and the US, not to Asia Pacific (Singapore).
        "backup copies to a region RDS does not pair with the primary's",
        {"environment": "production", "database": {**DB, "backupReplicationRegion": "ap-southeast-1"}},
        "global-api:database.backupReplicationRegion",
        '"ap-southeast-1"',
        "a region RDS replicates eu-west-1's backups to (ap-southeast-1 is not one): ca-central-1, eu-central-1",
    ),
    (
        "production primary where RDS documents no backup destination",
        {
            "environment": "production",
            "regions": {"eu": "eu-south-1"},
            "aws_region": "eu-south-1",
            "readReplicaRegions": [],
            "appRegions": ["eu"],
        },
        "global-api:database.backupReplicationRegion",
        "null",
        "RDS documents no destination for eu-south-1",
    ),
    (
        "overlapping CIDRs",
        {"network": {"cidrs": {"eu": "10.10.0.0/16", "us": "10.10.0.0/17"}}},
        "global-api:network.cidrs",
        "10.10.0.0",
        "overlaps",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "key", "shown", "allowed"),
    [pytest.param(o, k, v, a, id=case) for case, o, k, v, a in BAD_CONFIGS],
)
def test_bad_config_names_key_value_and_allowed_and_creates_nothing(
    overrides: dict[str, Any], key: str, shown: str, allowed: str
) -> None:
    evaluation, error = try_evaluate("staging", stack_config("staging", **overrides))
    assert isinstance(error, StackConfigError), error
    lines = [line for line in str(error).splitlines() if line.strip().startswith(f"- {key}:")]
    assert lines, f"{key} not named in:\n{error}"
    assert shown in lines[0], lines[0]
    assert allowed in lines[0], lines[0]
    assert evaluation.resources == []


def test_every_bad_key_is_reported_at_once() -> None:
    overrides = {
        "database": {**DB, "allocatedStorage": 5},
        "service": {**SERVICE, "cpu": 300},
        "alarmEmail": "nope",
    }
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config(stack_config("staging", **overrides), "global-api")
    keys = {issue.key for issue in caught.value.issues}
    assert keys == {"global-api:database.allocatedStorage", "global-api:service.cpu", "global-api:alarmEmail"}


def test_region_list_is_botocores_commercial_partition() -> None:
    regions = aws_commercial_regions()
    assert {"eu-west-1", "us-east-1", "ap-southeast-1"} <= regions
    assert not any(r.startswith(("cn-", "us-gov-", "us-iso")) for r in regions)
    # the same list boto3's session gives (what the config used before it dropped the boto3 import for speed)
    assert regions == frozenset(boto3.session.Session().get_available_regions("ec2", partition_name="aws"))


def test_defaults_are_production_safe() -> None:
    minimal = {
        "aws:region": "eu-west-1",
        "global-api:regions": {"eu": "eu-west-1"},
        "global-api:primaryRegion": "eu",
        "global-api:appRegions": ["eu"],
        "global-api:domain": DOMAIN,
        "global-api:alarmEmail": "ops@example.com",
    }
    config = parse_stack_config(minimal, "global-api")
    assert config.is_production
    assert config.database.multi_az
    assert config.database.backup_retention_days >= 7
    assert config.network.az_count == 3
    assert not config.network.single_nat_gateway
    assert config.service.min_count >= 2
    assert config.cdn.max_body_bytes == 65536  # 64 KiB: what the app and the WAF agree on without config


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_committed_stacks_are_valid(stack: str) -> None:
    config = parse_stack_config(stack_config(stack), "global-api")
    assert config.is_production == (stack == "production")


def test_backup_pair_table_names_only_real_regions_and_never_the_source_itself() -> None:
    """A typo in stacks/backup_regions.py would silently refuse (or allow) a pair."""
    regions = aws_commercial_regions()
    for source, destinations in RDS_BACKUP_REPLICATION_DESTINATIONS.items():
        assert source in regions, source
        assert destinations <= regions, (source, sorted(destinations - regions))
        assert source not in destinations
    # Spot checks against the documented table (RDS user guide, "Replicating automated backups").
    assert "ap-southeast-1" not in RDS_BACKUP_REPLICATION_DESTINATIONS["eu-west-1"]
    assert RDS_BACKUP_REPLICATION_DESTINATIONS["ap-northeast-3"] == {"ap-northeast-1"}
    assert RDS_BACKUP_REPLICATION_DESTINATIONS["sa-east-1"] == {"us-east-1", "us-east-2"}
