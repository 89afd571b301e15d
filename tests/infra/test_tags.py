"""The tags of contracts/tags.py are what the stacks declare and what the ops tool finds a stack's databases by."""

from __future__ import annotations

import boto3
import pytest
import yaml

from contracts import tags
from offline.harness import ROOT, Evaluation
from ops.aws import Aws
from ops.discovery import find_stack_databases
from stacks.config import parse_stack_config
from tests.ops.ops_moto import mocked_aws

RDS = "aws:rds/instance:Instance"


def test_the_project_tag_is_the_pulumi_project_name() -> None:
    """stack_tags gets the project from Pulumi.yaml; ops filters on contracts' PROJECT_NAME."""
    assert yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"] == tags.PROJECT_NAME


def test_every_database_carries_the_contract_tags(each_stack: Evaluation) -> None:
    config = parse_stack_config(each_stack.config, tags.PROJECT_NAME)
    declared = {}
    for instance in each_stack.of_type(RDS):
        instance_tags = instance.inputs["tags"]
        assert instance_tags[tags.PROJECT] == tags.PROJECT_NAME
        assert instance_tags[tags.STACK] == each_stack.stack
        assert instance_tags[tags.ENVIRONMENT] == config.environment
        declared[instance_tags[tags.DB_ROLE], instance_tags[tags.LOGICAL_REGION]] = instance_tags
    expected = [(tags.ROLE_PRIMARY, config.primary_region)]
    expected += [(tags.ROLE_REPLICA, region) for region in config.read_replica_regions]
    assert sorted(declared) == sorted(expected)
    for (role, _), instance_tags in declared.items():
        if role == tags.ROLE_REPLICA:
            assert float(instance_tags[tags.MAX_REPLICA_LAG_SECONDS]) == config.database.max_replica_lag_seconds


def test_ops_finds_the_declared_databases_by_their_tags(staging: Evaluation, monkeypatch: pytest.MonkeyPatch) -> None:
    """The declared instances, created in moto with exactly their declared tags, are what replication-check and
    failover-drill discover: one primary and a replica per read-replica region."""
    instances = staging.of_type(RDS)
    with mocked_aws(monkeypatch):
        for instance in instances:
            boto3.client("rds", region_name=instance.region).create_db_instance(
                DBInstanceIdentifier=instance.inputs["identifier"],
                DBInstanceClass=instance.inputs["instanceClass"],
                Engine="postgres",
                MasterUsername="app",
                MasterUserPassword="not-a-real-password",
                AllocatedStorage=50,
                Tags=[{"Key": key, "Value": str(value)} for key, value in instance.inputs["tags"].items()],
            )
        regions = sorted({str(instance.region) for instance in instances})
        found = find_stack_databases(Aws(regions[0]), staging.stack, regions)
    config = parse_stack_config(staging.config, tags.PROJECT_NAME)
    assert found.primary is not None
    assert found.primary.logical_region == config.primary_region
    assert sorted(r.logical_region or "" for r in found.replicas) == sorted(config.read_replica_regions)
