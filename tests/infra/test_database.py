"""Database tier (issue 4): what a reviewer checks in a preview, for both stacks and three more configs.

Expected values come from the stack's config (parsed with stacks/config.py), never from the component, so a
setting dropped from components/database.py or components/db_site.py fails here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from components.database import _first_secret_arn
from offline.harness import DeclaredResource, Evaluation, load_stack_yaml
from offline.mocks import ACCOUNT_ID
from stacks.config import LogicalRegion, StackConfig, parse_stack_config
from stacks.data_tier import backup_replication_region
from tests.infra.helpers import stack_config

INSTANCE = "aws:rds/instance:Instance"
KEY = "aws:kms/key:Key"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
BACKUP_REPLICATION = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
DATABASE_COMPONENT = "global-api:database:Database"
PORT = 5432
# Enhanced Monitoring intervals RDS accepts besides 0, which turns it off (RDS API reference, CreateDBInstance
# MonitoringInterval: "Valid Values: 0 | 1 | 5 | 10 | 15 | 30 | 60").
ENHANCED_MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)
GIB = 1024**3

# Name -> (stack, overrides, AWS region expected to receive the primary's backups). The extra configs cover: a single
# cross-region replica, no replicas at all (backups must still exist; the copy goes to the first other configured
# region RDS pairs with eu-west-1: asia comes first but Ireland cannot replicate backups to Singapore, so us), and a
# staging stack whose primary and in-region replica live in us while the app also runs in eu.
CASES: dict[str, tuple[str, dict[str, Any], str | None]] = {
    "staging": ("staging", {}, None),
    "production": ("production", {}, "us-east-1"),
    "production-replica-us-only": ("production", {"readReplicaRegions": ["us"]}, "us-east-1"),
    "production-no-replicas": (
        "production",
        {
            "readReplicaRegions": [],
            "regions": {"eu": "eu-west-1", "asia": "ap-southeast-1", "us": "us-east-1"},
            "database": {"backupRetentionDays": 1, "multiAz": True, "maxReplicaLagSeconds": 5},
        },
        "us-east-1",
    ),
    "staging-primary-us": (
        "staging",
        {
            "aws_region": "us-east-1",
            "primaryRegion": "us",
            "readReplicaRegions": ["us", "asia"],
            "appRegions": ["eu", "us"],
            "database": {"engineVersion": "15", "maxReplicaLagSeconds": 2.5, "multiAz": True},
        },
        None,
    ),
}


@dataclass(frozen=True)
class Case:
    """One evaluated config and the facts the tests derive from it."""

    evaluation: Evaluation
    config: StackConfig
    backup_region: str | None

    def aws_region(self, region: LogicalRegion) -> str:
        return self.config.aws_region_of(region)

    def instances(self) -> list[DeclaredResource]:
        return self.evaluation.of_type(INSTANCE)

    def role(self, instance: DeclaredResource) -> str:
        return str(instance.inputs["tags"]["DbRole"])

    def primary(self) -> DeclaredResource:
        primaries = [i for i in self.instances() if self.role(i) == "primary"]
        assert len(primaries) == 1
        return primaries[0]

    def replicas(self) -> dict[str, DeclaredResource]:
        found = [i for i in self.instances() if self.role(i) == "replica"]
        by_region = {str(i.inputs["tags"]["LogicalRegion"]): i for i in found}
        assert len(by_region) == len(found), "two replicas tagged with the same logical region"
        return by_region

    def find(self, type_token: str, key: str, value: Any) -> DeclaredResource:
        """The one resource of `type_token` whose output `key` equals `value` (how references resolve)."""
        matches = [r for r in self.evaluation.of_type(type_token) if r.outputs.get(key) == value]
        assert len(matches) == 1, f"{type_token} with {key}={value!r}: {len(matches)} found"
        return matches[0]

    def vpc_id(self, region: LogicalRegion) -> str:
        return str(self.evaluation.one("aws:ec2/vpc:Vpc", f"network-{region}-vpc").outputs["id"])

    def private_subnet_ids(self, region: LogicalRegion) -> list[str]:
        vpc_id = self.vpc_id(region)
        return [
            s.outputs["id"]
            for s in self.evaluation.of_type("aws:ec2/subnet:Subnet")
            if s.inputs["vpcId"] == vpc_id and s.inputs["tags"].get("Tier") == "private"
        ]

    def database_tree(self) -> list[DeclaredResource]:
        """Every resource under the Database component, at any depth."""
        root = next(r for r in self.evaluation.resources if r.type == DATABASE_COMPONENT)
        urns, tree = {root.urn}, []
        for resource in self.evaluation.resources:  # registration order: parents come before children
            if resource.parent_urn in urns:
                urns.add(resource.urn)
                tree.append(resource)
        return tree


@pytest.fixture(scope="module", params=list(CASES))
def case(request: pytest.FixtureRequest, variant: Callable[..., Evaluation]) -> Case:
    stack, overrides, backup_region = CASES[str(request.param)]
    evaluation = variant(stack, **overrides)
    return Case(evaluation, parse_stack_config(evaluation.config, "global-api"), backup_region)


def _ids(case: Case) -> dict[str, DeclaredResource]:
    """Primary and replicas keyed by a readable label."""
    return {"primary": case.primary(), **{f"replica-{r}": i for r, i in case.replicas().items()}}


def _instance_region(case: Case, label: str) -> LogicalRegion:
    instance = _ids(case)[label]
    region = instance.inputs["tags"]["LogicalRegion"]
    assert region in case.config.regions
    return region  # type: ignore[no-any-return]


# --- placement: count, regions, networks ---------------------------------------------------------------------------


def test_one_replica_per_configured_region_in_its_aws_region(case: Case) -> None:
    replicas = case.replicas()
    assert len(case.instances()) == 1 + len(case.config.read_replica_regions)
    assert {r: i.region for r, i in replicas.items()} == {
        r: case.aws_region(r) for r in case.config.read_replica_regions
    }


def test_primary_in_the_primary_region(case: Case) -> None:
    primary = case.primary()
    assert primary.inputs["tags"]["LogicalRegion"] == case.config.primary_region
    assert primary.region == case.aws_region(case.config.primary_region)


def test_every_instance_in_private_subnets_of_its_own_regions_vpc(case: Case) -> None:
    for label, instance in _ids(case).items():
        region = _instance_region(case, label)
        group = case.find(SUBNET_GROUP, "name", instance.inputs["dbSubnetGroupName"])
        assert group.region == instance.region, label
        assert sorted(group.inputs["subnetIds"]) == sorted(case.private_subnet_ids(region)), label
        assert len(group.inputs["subnetIds"]) >= 2, label
        for sg_id in instance.inputs["vpcSecurityGroupIds"]:
            security_group = case.find(SECURITY_GROUP, "id", sg_id)
            assert security_group.region == instance.region, label
            assert security_group.inputs["vpcId"] == case.vpc_id(region), label


def test_nothing_is_publicly_accessible(case: Case) -> None:
    for label, instance in _ids(case).items():
        assert instance.inputs.get("publiclyAccessible") is False, label


# --- encryption ----------------------------------------------------------------------------------------------------


def test_storage_encrypted_everywhere_with_a_rotating_key_of_the_instances_own_region(case: Case) -> None:
    primary = case.primary()
    for label, instance in _ids(case).items():
        assert instance.inputs.get("storageEncrypted") is True, label
        # RDS forbids naming a key for an in-region replica: it always uses the primary's, which lives there too.
        in_region_replica = label != "primary" and instance.region == primary.region
        assert ("kmsKeyId" in instance.inputs) is not in_region_replica, label
        key_arn = primary.inputs["kmsKeyId"] if in_region_replica else instance.inputs["kmsKeyId"]
        key = case.find(KEY, "arn", key_arn)
        assert key.region == instance.region, label
        assert key.inputs["enableKeyRotation"] is True, label


def test_performance_insights_encrypted_with_the_regions_key(case: Case) -> None:
    for label, instance in _ids(case).items():
        assert instance.inputs.get("performanceInsightsEnabled") is True, label
        key = case.find(KEY, "arn", instance.inputs["performanceInsightsKmsKeyId"])
        assert key.region == instance.region, label


# --- primary settings ----------------------------------------------------------------------------------------------


def test_primary_engine_and_gp3_storage_with_autoscaling(case: Case) -> None:
    primary, database = case.primary().inputs, case.config.database
    assert primary["engine"] == "postgres"
    assert primary["engineVersion"] == database.engine_version
    assert primary["instanceClass"] == database.instance_class
    assert primary["storageType"] == "gp3"
    assert primary["allocatedStorage"] == database.allocated_storage
    assert primary["maxAllocatedStorage"] == database.max_allocated_storage
    assert primary["dbName"] == "app"
    assert primary["port"] == PORT


def test_master_password_is_managed_by_rds_never_in_state(case: Case) -> None:
    primary = case.primary().inputs
    assert primary["manageMasterUserPassword"] is True
    assert "password" not in primary
    assert "passwordWo" not in primary
    key = case.find(KEY, "arn", primary["masterUserSecretKmsKeyId"])
    assert key.region == case.primary().region
    for label, instance in _ids(case).items():
        secret_inputs = {k for k in instance.inputs if "password" in k.lower()} - {"manageMasterUserPassword"}
        assert secret_inputs == set(), label


def test_backups_retained_as_configured(case: Case) -> None:
    retention = case.config.database.backup_retention_days
    for label, instance in _ids(case).items():
        assert instance.inputs["backupRetentionPeriod"] == retention, label
    assert case.primary().inputs["backupWindow"]


def test_every_instance_has_iam_auth_logs_monitoring_and_minor_upgrades(case: Case) -> None:
    for label, instance in _ids(case).items():
        inputs = instance.inputs
        assert inputs["iamDatabaseAuthenticationEnabled"] is True, label
        assert "postgresql" in inputs["enabledCloudwatchLogsExports"], label
        assert inputs["copyTagsToSnapshot"] is True, label
        assert inputs["autoMinorVersionUpgrade"] is True, label
        assert inputs["allowMajorVersionUpgrade"] is False, label
        assert inputs["maintenanceWindow"], label
        assert inputs["monitoringInterval"] in ENHANCED_MONITORING_INTERVALS, label
        assert inputs["monitoringRoleArn"] == case.find(ROLE, "arn", inputs["monitoringRoleArn"]).outputs["arn"]


def test_maintenance_window_does_not_overlap_backup_window(case: Case) -> None:
    backup_start, backup_end = case.primary().inputs["backupWindow"].split("-")
    start, _end = case.primary().inputs["maintenanceWindow"].split("-")
    assert start.startswith("sun:")
    assert not backup_start <= start.removeprefix("sun:") < backup_end


def test_enhanced_monitoring_role_is_assumable_only_by_rds_monitoring(case: Case) -> None:
    role = case.find(ROLE, "arn", case.primary().inputs["monitoringRoleArn"])
    assert role.region is None  # IAM is global
    statement = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "monitoring.rds.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},  # the confused-deputy guard
        }
    ]
    attached = [a.inputs["policyArn"] for a in case.evaluation.of_type(POLICY_ATTACHMENT) if a.parent_urn == role.urn]
    assert attached == ["arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"]


def test_exported_logs_land_in_encrypted_expiring_groups(case: Case) -> None:
    for label, instance in _ids(case).items():
        for kind in instance.inputs["enabledCloudwatchLogsExports"]:
            group = case.find(LOG_GROUP, "name", f"/aws/rds/instance/{instance.inputs['identifier']}/{kind}")
            assert group.region == instance.region, label
            assert group.inputs["retentionInDays"] == case.config.log_retention_days, label
            assert case.find(KEY, "arn", group.inputs["kmsKeyId"]).region == instance.region, label
            assert group.urn in instance.depends_on, f"{label}: RDS would create the group itself first"


# --- parameter groups ----------------------------------------------------------------------------------------------


def test_parameter_groups_force_tls_log_slow_statements_and_match_the_engine(case: Case) -> None:
    groups = {}
    for label, instance in _ids(case).items():
        group = case.find(PARAMETER_GROUP, "name", instance.inputs["parameterGroupName"])
        groups[label] = group.urn
        assert group.region == instance.region, label
        assert group.inputs["family"] == f"postgres{case.config.database.engine_major}", label
        values = {p["name"]: p["value"] for p in group.inputs["parameters"]}
        assert values["rds.force_ssl"] == "1", label
        assert int(values["log_min_duration_statement"]) > 0, label
        if label != "primary":
            assert values["hot_standby_feedback"] == "1", label
    assert len(set(groups.values())) == len(groups), "replicas get their own parameter group"


# --- replication ---------------------------------------------------------------------------------------------------


def test_replicas_replicate_the_primary_by_arn_across_regions_by_identifier_within(case: Case) -> None:
    primary = case.primary()
    for region, replica in case.replicas().items():
        expected = primary.inputs["identifier"] if replica.region == primary.region else primary.outputs["arn"]
        assert replica.inputs["replicateSourceDb"] == expected, region
        assert "username" not in replica.inputs, region  # inherited from the source
        assert "engineVersion" not in replica.inputs, region


# --- security groups -----------------------------------------------------------------------------------------------


def _expected_sources(case: Case, region: LogicalRegion) -> tuple[set[str], set[str]]:
    """Same-region app/pipeline identity groups; private CIDRs of every app region elsewhere."""
    groups = {
        sg.outputs["id"]
        for workload in ("app", "pipeline")
        for sg in case.evaluation.of_type(SECURITY_GROUP)
        if sg.name == f"network-{region}-{workload}-sg"
    }
    cidrs = {
        s.inputs["cidrBlock"]
        for app_region in case.config.app_regions
        if app_region != region
        for s in case.evaluation.of_type("aws:ec2/subnet:Subnet")
        if s.inputs["vpcId"] == case.vpc_id(app_region) and s.inputs["tags"].get("Tier") == "private"
    }
    return groups, cidrs


def test_security_groups_admit_5432_only_from_workloads_and_peer_app_cidrs(case: Case) -> None:
    for label, instance in _ids(case).items():
        region = _instance_region(case, label)
        (sg_id,) = instance.inputs["vpcSecurityGroupIds"]
        security_group = case.find(SECURITY_GROUP, "id", sg_id)
        rules = security_group.inputs["ingress"]
        assert all((r["protocol"], r["fromPort"], r["toPort"]) == ("tcp", PORT, PORT) for r in rules), label
        groups = {g for r in rules for g in r.get("securityGroups", [])}
        cidrs = {c for r in rules for c in r.get("cidrBlocks", [])}
        expected_groups, expected_cidrs = _expected_sources(case, region)
        assert groups == expected_groups, label
        assert cidrs == expected_cidrs, label
        assert not any(r.get("ipv6CidrBlocks") or r.get("prefixListIds") or r.get("self") for r in rules), label
        assert security_group.inputs["egress"] == [], label


def test_primary_region_admits_the_app_and_the_pipeline(case: Case) -> None:
    """Guards the test above against passing vacuously: the primary's region does have workload groups."""
    groups, _ = _expected_sources(case, case.config.primary_region)
    expected = 2 if case.config.primary_region in case.config.app_regions else 1
    assert len(groups) == expected


# --- tags ----------------------------------------------------------------------------------------------------------


def test_instances_carry_the_tags_ops_discovers_them_by(case: Case) -> None:
    environment = case.config.environment
    for label, instance in _ids(case).items():
        tags = instance.inputs["tags"]
        assert tags["Project"] == "global-api", label
        assert tags["Stack"] == case.evaluation.stack, label
        assert tags["Environment"] == environment, label
        assert tags["DbRole"] == ("primary" if label == "primary" else "replica"), label
        if label == "primary":
            assert "MaxReplicaLagSeconds" not in tags
        else:
            assert float(tags["MaxReplicaLagSeconds"]) == case.config.database.max_replica_lag_seconds, label


# --- alarms --------------------------------------------------------------------------------------------------------


def _alarms_on(case: Case, instance: DeclaredResource, metric: str) -> list[DeclaredResource]:
    identifier = instance.inputs["identifier"]
    return [
        a
        for a in case.evaluation.of_type(ALARM)
        if a.inputs.get("metricName") == metric
        and a.inputs.get("namespace") == "AWS/RDS"
        and a.inputs.get("dimensions") == {"DBInstanceIdentifier": identifier}
    ]


def _topic_arn(case: Case, aws_region: str | None) -> str:
    return next(
        str(t.outputs["arn"])
        for t in case.evaluation.of_type(TOPIC)
        if t.region == aws_region and t.name.startswith("monitoring-")
    )


def test_one_lag_alarm_per_replica_in_its_region_over_the_configured_bound(case: Case) -> None:
    lag_alarms = [a for a in case.evaluation.of_type(ALARM) if a.inputs.get("metricName") == "ReplicaLag"]
    assert len(lag_alarms) == len(case.config.read_replica_regions)
    for region, replica in case.replicas().items():
        (alarm,) = _alarms_on(case, replica, "ReplicaLag")
        assert alarm.region == replica.region, region
        assert alarm.inputs["threshold"] == case.config.database.max_replica_lag_seconds, region
        assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold", region
        assert alarm.inputs["treatMissingData"] == "breaching", region
        assert alarm.inputs["alarmActions"] == [_topic_arn(case, replica.region)], region
    assert _alarms_on(case, case.primary(), "ReplicaLag") == []


@pytest.mark.parametrize(
    ("metric", "comparison"),
    [
        ("CPUUtilization", "GreaterThanThreshold"),
        ("FreeStorageSpace", "LessThanThreshold"),
        ("FreeableMemory", "LessThanThreshold"),
    ],
)
def test_resource_alarms_on_every_instance(case: Case, metric: str, comparison: str) -> None:
    for label, instance in _ids(case).items():
        (alarm,) = _alarms_on(case, instance, metric)
        assert alarm.region == instance.region, label
        assert alarm.inputs["comparisonOperator"] == comparison, label
        assert alarm.inputs["threshold"] > 0, label
        if metric == "FreeStorageSpace":  # a tenth of the configured storage, in bytes (the metric's unit)
            assert alarm.inputs["threshold"] == pytest.approx(case.config.database.allocated_storage * GIB / 10), label
        assert alarm.inputs["alarmActions"] == [_topic_arn(case, instance.region)], label


# --- production safety vs staging cost -----------------------------------------------------------------------------


def test_production_protects_data_and_staging_skips_the_cost(case: Case) -> None:
    production = case.config.is_production
    primary = case.primary().inputs
    assert primary["multiAz"] is case.config.database.multi_az  # honoured as configured, in every stack
    if case.evaluation.config == load_stack_yaml("staging"):
        assert primary["multiAz"] is False  # the committed staging stack pays for no standby
    assert primary["skipFinalSnapshot"] is not production
    assert bool(primary.get("finalSnapshotIdentifier")) is production
    for label, instance in _ids(case).items():
        assert instance.inputs["deletionProtection"] is production, label
        assert instance.protect is production, label
    keys = [r for r in case.database_tree() if r.type == KEY]
    assert keys
    assert all(key.protect is production for key in keys)
    if not production:
        assert not any(r.protect for r in case.database_tree())


def test_backup_replication_to_a_second_region_with_its_own_key(case: Case) -> None:
    copies = case.evaluation.of_type(BACKUP_REPLICATION)
    if case.backup_region is None:
        assert copies == []
        return
    (copy,) = copies
    primary = case.primary()
    assert copy.region == case.backup_region != primary.region
    assert copy.inputs["sourceDbInstanceArn"] == primary.outputs["arn"]
    assert copy.inputs["retentionPeriod"] == case.config.database.backup_retention_days
    assert copy.protect is True
    key = case.find(KEY, "arn", copy.inputs["kmsKeyId"])
    assert key.region == case.backup_region
    assert key.inputs["enableKeyRotation"] is True
    assert key.protect is True
    used_by_instances = {i.inputs.get("kmsKeyId") for i in case.instances()}
    assert copy.inputs["kmsKeyId"] not in used_by_instances


# --- outputs -------------------------------------------------------------------------------------------------------


def test_outputs_name_the_endpoints_by_logical_region_and_the_secret(case: Case) -> None:
    outputs, primary = case.evaluation.outputs, case.primary()
    assert outputs["databasePrimaryEndpoint"] == primary.outputs["address"]
    assert outputs["databaseReplicaEndpoints"] == {r: i.outputs["address"] for r, i in case.replicas().items()}
    assert set(outputs["databaseReplicaEndpoints"]) == set(case.config.read_replica_regions)
    (secret,) = primary.outputs["masterUserSecrets"]
    assert outputs["databaseSecretArn"] == secret["secretArn"]
    assert outputs["databaseSecretArn"].startswith(f"arn:aws:secretsmanager:{primary.region}:")


# --- the backup region choice, for configs not worth a whole evaluation ---------------------------------------------


def _config(stack: str, **overrides: Any) -> StackConfig:
    return parse_stack_config(stack_config(stack, **overrides), "global-api")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"readReplicaRegions": ["eu", "us", "asia"]}, "us-east-1"),  # first replica region elsewhere
        # eu-west-1 cannot replicate backups to ap-southeast-1 (RDS user guide, cross-Region automated backups):
        # the next replica region RDS supports is chosen instead of failing at deploy.
        ({"readReplicaRegions": ["eu", "asia", "us"]}, "us-east-1"),
        ({"readReplicaRegions": ["eu", "asia"]}, "us-east-1"),  # then another region, then the fallback
        ({"database": {"backupReplicationRegion": "eu-central-1"}}, "eu-central-1"),  # a supported explicit choice
        ({"readReplicaRegions": ["eu"]}, "us-east-1"),  # in-region only: the next configured region
        (
            {"regions": {"eu": "eu-west-1"}, "readReplicaRegions": [], "appRegions": ["eu"]},
            "us-east-1",  # nothing else configured: the fixed fallback
        ),
        (
            {
                "regions": {"us": "us-east-1"},
                "primaryRegion": "us",
                "aws_region": "us-east-1",
                "readReplicaRegions": [],
                "appRegions": ["us"],
            },
            "us-west-2",  # the fallback is never the primary's own region
        ),
        ({"environment": "staging"}, None),
    ],
)
def test_backup_replication_region_choice(overrides: dict[str, Any], expected: str | None) -> None:
    assert backup_replication_region(_config("production", **overrides)) == expected


def test_a_primary_without_a_managed_secret_is_named_not_indexed() -> None:
    with pytest.raises(ValueError, match="manage_master_user_password"):
        _first_secret_arn([])
