"""TimescaleDB cluster (issue 8, infrastructure): what a reviewer checks in a preview, for both stacks and one more
config (x86, no standby). Expected values come from the stack's config, so a setting dropped from
components/timescale.py (or its cloud-init template) fails here.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pytest
import yaml

from components.timescale import JOB_METRICS_SCRIPT, TIMESCALE_RELEASES
from offline.harness import DeclaredResource, Evaluation, try_evaluate
from offline.mocks import ACCOUNT_ID
from stacks.config import SUPPORTED_POSTGRES_MAJORS, StackConfig, StackConfigError, parse_stack_config
from tests.infra.helpers import evaluate_cached, stack_config

INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
VOLUME = "aws:ebs/volume:Volume"
ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment"
SUBNET = "aws:ec2/subnet:Subnet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
ZONE = "aws:route53/zone:Zone"
RECORD = "aws:route53/record:Record"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
KEY = "aws:kms/key:Key"
BUCKET = "aws:s3/bucket:Bucket"
COMPONENT = "global-api:analytics:Timescale"
SCHEDULED_TASK = "global-api:tasks:ScheduledTask"
SCHEDULE = "aws:scheduler/schedule:Schedule"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
UBUNTU_ARCH = {"arm64": "arm64", "x86_64": "amd64"}
PORT = 5432

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "staging": ("staging", {}),
    "production": ("production", {}),
    # x86 AMI and no standby: the replica name must then point at the primary.
    "staging-x86-no-standby": (
        "staging",
        {"timescale": {"instanceType": "m7i.large", "replicas": 0, "volumeGiB": 40, "volumeIops": 4000}},
    ),
}


@dataclass
class Cluster:
    """One evaluation seen through the Timescale component: its resources, keyed the way a reviewer reads them."""

    evaluation: Evaluation

    @cached_property
    def config(self) -> StackConfig:
        return parse_stack_config(self.evaluation.config, "global-api")

    @cached_property
    def component(self) -> DeclaredResource:
        (component,) = self.evaluation.of_type(COMPONENT)
        return component

    @cached_property
    def pipeline(self) -> DeclaredResource:
        """The scheduled extractor's component (components/scheduled_task.py), next to the cluster's."""
        (pipeline,) = [t for t in self.evaluation.of_type(SCHEDULED_TASK) if t.name == "timescale-pipeline"]
        return pipeline

    def mine(self, type_token: str, component: DeclaredResource | None = None) -> list[DeclaredResource]:
        """Resources of `type_token` inside the cluster's component, or `component` (any depth)."""
        inside, frontier = set(), {(component or self.component).urn}
        while frontier:
            inside |= frontier
            frontier = {r.urn for r in self.evaluation.resources if r.parent_urn in frontier} - inside
        return [r for r in self.evaluation.of_type(type_token) if r.urn in inside]

    def one(self, type_token: str, component: DeclaredResource | None = None) -> DeclaredResource:
        (resource,) = self.mine(type_token, component)
        return resource

    @cached_property
    def instances(self) -> dict[str, DeclaredResource]:
        return {r.name.removeprefix("timescale-"): r for r in self.mine(INSTANCE)}

    @cached_property
    def expected_nodes(self) -> set[str]:
        return {"primary", *(f"standby-{i}" for i in range(1, self.config.timescale.replicas + 1))}

    @property
    def region(self) -> str:
        return self.config.aws_region_of(self.config.primary_region)

    def subnet_of(self, instance: DeclaredResource) -> DeclaredResource:
        (subnet,) = [s for s in self.evaluation.of_type(SUBNET) if s.outputs["id"] == instance.inputs["subnetId"]]
        return subnet

    def by_id(self, type_token: str, physical_id: str) -> DeclaredResource:
        (resource,) = [r for r in self.evaluation.of_type(type_token) if r.outputs.get("id") == physical_id]
        return resource

    @cached_property
    def user_data(self) -> dict[str, Any]:
        template = self.one(LAUNCH_TEMPLATE)
        document: dict[str, Any] = yaml.safe_load(base64.b64decode(template.inputs["userData"]).decode())
        return document

    def written_file(self, path: str) -> str:
        (content,) = [f["content"] for f in self.user_data["write_files"] if f["path"] == path]
        return str(content)


@pytest.fixture(scope="module", params=list(CASES))
def cluster(request: pytest.FixtureRequest) -> Cluster:
    stack, overrides = CASES[request.param]
    return Cluster(evaluate_cached(stack, stack_config(stack, **overrides) if overrides else None))


def test_primary_and_standbys_in_distinct_private_azs(cluster: Cluster) -> None:
    assert set(cluster.instances) == cluster.expected_nodes
    roles = [i.inputs["tags"]["TimescaleRole"] for i in cluster.instances.values()]
    assert sorted(roles) == ["primary"] + ["standby"] * cluster.config.timescale.replicas
    subnets = [cluster.subnet_of(i) for i in cluster.instances.values()]
    assert len({s.inputs["availabilityZone"] for s in subnets}) == len(subnets)
    assert all(s.inputs["tags"]["Tier"] == "private" for s in subnets)
    assert all(
        s.region == cluster.region and s.name.startswith(f"network-{cluster.config.primary_region}-") for s in subnets
    )
    assert all(i.region == cluster.region for i in cluster.instances.values())


def test_no_public_ip_and_one_hardened_launch_template(cluster: Cluster) -> None:
    template = cluster.one(LAUNCH_TEMPLATE)
    for instance in cluster.instances.values():
        assert instance.inputs["associatePublicIpAddress"] is False
        assert "keyName" not in instance.inputs
        assert instance.inputs["launchTemplate"]["id"] == template.outputs["id"]
    assert "keyName" not in template.inputs
    assert template.inputs["metadataOptions"]["httpTokens"] == "required"
    assert template.inputs["metadataOptions"]["instanceMetadataTags"] == "enabled"  # the bootstrap reads its role
    assert template.inputs["instanceType"] == cluster.config.timescale.instance_type
    arch = UBUNTU_ARCH[cluster.config.timescale.architecture]
    assert template.inputs["imageId"] == (
        f"resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/{arch}/hvm/ebs-gp3/ami-id"
    )
    (root,) = template.inputs["blockDeviceMappings"]
    assert root["ebs"]["encrypted"] == "true"
    assert template.inputs.get("disableApiTermination", False) is cluster.config.is_production
    assert template.region == cluster.region


def test_data_volumes_encrypted_sized_from_config_and_protected_in_production(cluster: Cluster) -> None:
    settings, key = cluster.config.timescale, cluster.evaluation.one(KEY, "timescale-key")
    volumes = {v.name.removeprefix("timescale-").removesuffix("-data"): v for v in cluster.mine(VOLUME)}
    assert set(volumes) == cluster.expected_nodes
    attachments = cluster.mine(ATTACHMENT)
    for node, volume in volumes.items():
        instance = cluster.instances[node]
        assert volume.inputs["type"] == "gp3"
        assert volume.inputs["encrypted"] is True
        assert volume.inputs["kmsKeyId"] == key.outputs["arn"]
        assert volume.inputs["size"] == settings.volume_gib
        assert volume.inputs["iops"] == settings.volume_iops
        assert volume.inputs["throughput"] == settings.volume_throughput
        assert volume.inputs["availabilityZone"] == cluster.subnet_of(instance).inputs["availabilityZone"]
        assert volume.protect is cluster.config.is_production
        assert volume.region == cluster.region
        # A separate volume, not a launch-template block device: terminating the instance never deletes it.
        (attachment,) = [a for a in attachments if a.inputs["volumeId"] == volume.outputs["id"]]
        assert attachment.inputs["instanceId"] == instance.outputs["id"]
    assert key.protect is cluster.config.is_production


def test_node_role_is_ssm_core_plus_backup_prefix_only(cluster: Cluster) -> None:
    template, profile = cluster.one(LAUNCH_TEMPLATE), cluster.one(PROFILE)
    assert template.inputs["iamInstanceProfile"]["arn"] == profile.outputs["arn"]
    assert [a.inputs["policyArn"] for a in cluster.mine(POLICY_ATTACHMENT)] == [SSM_CORE]
    inline = cluster.evaluation.one(ROLE_POLICY, "timescale-node-policy")
    statements = json.loads(inline.inputs["policy"])["Statement"]
    bucket_arn = cluster.one(BUCKET).outputs["arn"]
    s3 = [s for s in statements if any(a.startswith("s3:") for a in _actions(s))]
    object_statements = [s for s in s3 if "s3:ListBucket" not in _actions(s)]
    assert object_statements
    assert all(s["Resource"] == f"{bucket_arn}/timescale/*" for s in object_statements)
    (listing,) = [s for s in s3 if "s3:ListBucket" in _actions(s)]
    assert listing["Resource"] == bucket_arn
    assert listing["Condition"]["StringLike"]["s3:prefix"] == ["timescale", "timescale/*"]
    for statement in statements:  # a "*" resource only where the action has no resource type, and then narrowed
        if statement["Resource"] == "*":
            assert _actions(statement) == ["cloudwatch:PutMetricData"]
            # the CloudWatch agent's metrics and the job-health agent's
            assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": ["CWAgent", "TimescaleDB"]}}


def test_backup_bucket_private_encrypted_versioned_tls_only(cluster: Cluster) -> None:
    bucket, key = cluster.one(BUCKET), cluster.evaluation.one(KEY, "timescale-key")
    assert cluster.evaluation.outputs["timescaleBackupBucket"] == bucket.outputs["bucket"]
    children = {r.type.split("/")[-1].split(":")[0]: r for r in cluster.evaluation.children_of(bucket)}
    rule = children["bucketServerSideEncryptionConfiguration"].inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key.outputs["arn"],
    }
    assert children["bucketVersioning"].inputs["versioningConfiguration"]["status"] == "Enabled"
    block = children["bucketPublicAccessBlock"].inputs
    assert all(
        block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    [lifecycle] = children["bucketLifecycleConfiguration"].inputs["rules"]
    assert lifecycle["status"] == "Enabled"
    # pgBackRest never rewrites archive.info: current objects must not expire by age, superseded versions do.
    assert "expiration" not in lifecycle
    assert lifecycle["noncurrentVersionExpiration"]["noncurrentDays"] > 0
    policy = json.loads(children["bucketPolicy"].inputs["policy"])
    assert {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}.items() <= next(
        s for s in policy["Statement"] if s["Effect"] == "Deny"
    ).items()
    assert bucket.protect is cluster.config.is_production
    assert bucket.region == cluster.region


def remote_app_regions(cluster: Cluster) -> list[str]:
    return [r for r in cluster.config.app_regions if r != cluster.config.primary_region]


def private_cidrs(evaluation: Evaluation, logical_region: str) -> set[str]:
    return {
        s.inputs["cidrBlock"]
        for s in evaluation.of_type(SUBNET)
        if s.name.startswith(f"network-{logical_region}-") and s.inputs["tags"]["Tier"] == "private"
    }


def test_security_group_admits_app_and_pipeline_only_and_replication_between_nodes(cluster: Cluster) -> None:
    group = cluster.one(SECURITY_GROUP)
    for instance in cluster.instances.values():
        assert instance.inputs["vpcSecurityGroupIds"] == [group.outputs["id"]]
    network = cluster.config.primary_region
    workloads = ["pipeline", "reports", *(["app"] if network in cluster.config.app_regions else [])]
    expected_sources = {
        cluster.evaluation.one(SECURITY_GROUP, f"network-{network}-{w}-sg").outputs["id"] for w in workloads
    }
    ingress = group.inputs["ingress"]
    assert all((r["fromPort"], r["toPort"], r["protocol"]) == (PORT, PORT, "tcp") for r in ingress)
    assert not any(r.get("ipv6CidrBlocks") or r.get("prefixListIds") for r in ingress)
    # By CIDR: exactly the private task subnets of the app regions in other VPCs (over peering), nothing wider.
    remote = {cidr for region in remote_app_regions(cluster) for cidr in private_cidrs(cluster.evaluation, region)}
    assert {c for r in ingress for c in r.get("cidrBlocks", [])} == remote
    assert {sg for r in ingress for sg in r.get("securityGroups", [])} == expected_sources
    assert [r for r in ingress if r.get("self")] != []  # replication: members of this group only
    # Nothing leaves on 5432 except to the other nodes.
    assert all(r.get("self") for r in group.inputs["egress"] if r["fromPort"] <= PORT <= r["toPort"])
    assert group.region == cluster.region


def test_private_dns_names_point_at_the_nodes(cluster: Cluster) -> None:
    zone = cluster.one(ZONE)
    vpc = cluster.evaluation.one("aws:ec2/vpc:Vpc", f"network-{cluster.config.primary_region}-vpc")
    remote = [
        {
            "vpcId": cluster.evaluation.one("aws:ec2/vpc:Vpc", f"network-{region}-vpc").outputs["id"],
            "vpcRegion": cluster.config.aws_region_of(region),  # type: ignore[arg-type]
        }
        for region in remote_app_regions(cluster)
    ]
    # The primary's VPC, and every app region's, so their tasks resolve ANALYTICS_DATABASE_URL's host.
    assert zone.inputs["vpcs"] == [{"vpcId": vpc.outputs["id"], "vpcRegion": cluster.region}, *remote]
    records = {r.inputs["name"]: r for r in cluster.mine(RECORD)}
    primary_host = cluster.evaluation.outputs["timescalePrimaryHost"]
    replica_host = cluster.evaluation.outputs["timescaleReplicaHost"]
    assert primary_host.startswith("timescale-primary.")
    assert replica_host.startswith("timescale-replica.")
    assert set(records) == {primary_host, replica_host}
    assert all(r.inputs["zoneId"] == zone.outputs["zoneId"] and r.inputs["type"] == "A" for r in records.values())
    ips = {node: i.outputs["privateIp"] for node, i in cluster.instances.items()}
    assert records[primary_host].inputs["records"] == [ips["primary"]]
    standbys = sorted(ip for node, ip in ips.items() if node != "primary") or [ips["primary"]]
    assert sorted(records[replica_host].inputs["records"]) == standbys


def test_alarms_per_node_status_cpu_disk_memory(cluster: Cluster) -> None:
    topic = next(t for t in cluster.evaluation.of_type(TOPIC) if t.region == cluster.region)
    alarms = cluster.mine(ALARM)
    data_mount = json.loads(cluster.written_file("/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json"))[
        "metrics"
    ]["metrics_collected"]["disk"]["resources"]
    for instance in cluster.instances.values():
        mine = {
            (a.inputs["namespace"], a.inputs["metricName"]): a
            for a in alarms
            if a.inputs["dimensions"]["InstanceId"] == instance.outputs["id"]
        }
        assert set(mine) == {
            ("AWS/EC2", "StatusCheckFailed"),
            ("AWS/EC2", "CPUUtilization"),
            ("CWAgent", "disk_used_percent"),
            ("CWAgent", "mem_used_percent"),
            ("TimescaleDB", "FailedJobs"),
            ("TimescaleDB", "OverdueJobs"),
        }
        # Jobs fail silently otherwise (issue 19 item 15); silence from the agent is itself a failure.
        for metric in ("FailedJobs", "OverdueJobs"):
            jobs = mine["TimescaleDB", metric].inputs
            assert (jobs["comparisonOperator"], jobs["threshold"], jobs["statistic"]) == (
                "GreaterThanThreshold",
                0,
                "Maximum",
            )
            assert jobs["treatMissingData"] == "breaching"
            assert set(jobs["dimensions"]) == {"InstanceId"}
        # The disk alarm selects exactly the series the agent publishes for the data mount (no device, no host).
        disk = mine["CWAgent", "disk_used_percent"].inputs["dimensions"]
        assert [disk["path"]] == data_mount
        assert set(disk) == {"InstanceId", "path", "fstype"}
        assert set(mine["CWAgent", "mem_used_percent"].inputs["dimensions"]) == {"InstanceId"}
        assert mine["AWS/EC2", "StatusCheckFailed"].inputs["treatMissingData"] == "breaching"
        for alarm in mine.values():
            assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]]
            assert alarm.region == cluster.region


def test_cloud_init_configures_roles_backups_tls_and_tuning(cluster: Cluster) -> None:
    doc = cluster.user_data
    assert doc["runcmd"] == [["/usr/local/sbin/timescale-bootstrap"]]
    for entry in doc["write_files"]:
        if entry["content"].startswith("#!/bin/bash"):
            checked = subprocess.run(["bash", "-n"], input=entry["content"], text=True, capture_output=True)
            assert checked.returncode == 0, f"{entry['path']}: {checked.stderr}"
    env = dict(line.split("=", 1) for line in cluster.written_file("/etc/timescale/cluster.env").splitlines())
    assert env["PRIMARY_HOST"] == cluster.evaluation.outputs["timescalePrimaryHost"]
    assert env["ROLE_TAG"] == "TimescaleRole"
    assert env["SECRET_ARN"] == cluster.one("aws:secretsmanager/secret:Secret").outputs["arn"]
    backrest = cluster.written_file("/etc/pgbackrest/pgbackrest.conf").splitlines()
    assert f"repo1-s3-bucket={cluster.evaluation.outputs['timescaleBackupBucket']}" in backrest
    assert "repo1-path=/timescale" in backrest  # the prefix the node role is limited to
    bootstrap = cluster.written_file("/usr/local/sbin/timescale-bootstrap")
    for needle in (
        "timescaledb-tune",
        "ssl = on",
        "hostssl replication",
        "pg_basebackup",
        "archive-push",
        "stanza-create",
    ):
        assert needle in bootstrap
    assert len(base64.b64decode(cluster.one(LAUNCH_TEMPLATE).inputs["userData"])) < 16384  # EC2's user-data limit


def test_nodes_install_the_pinned_postgres_timescaledb_pair_and_size_the_workers(cluster: Cluster) -> None:
    major = cluster.config.database.engine_major
    pg_version, timescaledb_version = TIMESCALE_RELEASES[major]
    env = dict(line.split("=", 1) for line in cluster.written_file("/etc/timescale/cluster.env").splitlines())
    assert (env["PG_MAJOR"], env["PG_VERSION"], env["TIMESCALEDB_VERSION"]) == (
        str(major),
        pg_version,
        timescaledb_version,
    )
    assert pg_version.split(".")[0] == str(major)
    bootstrap = cluster.written_file("/usr/local/sbin/timescale-bootstrap")
    for pinned in (
        '"postgresql-$PG_MAJOR=$PG_VERSION-*"',
        '"postgresql-client-$PG_MAJOR=$PG_VERSION-*"',
        '"timescaledb-2-postgresql-$PG_MAJOR=$TIMESCALEDB_VERSION~*"',
        '"timescaledb-2-loader-postgresql-$PG_MAJOR=$TIMESCALEDB_VERSION~*"',
    ):
        assert pinned in bootstrap, pinned
    assert 'apt-mark hold "${pinned[@]}"' in bootstrap
    assert "apt-archive.postgresql.org" in bootstrap  # older minors stay installable
    assert not re.search(r'install -y "?(postgresql|timescaledb-2-postgresql)-\$PG_MAJOR"? ', bootstrap)
    # Workers: TimescaleDB's own, and PostgreSQL's total covering them plus parallel query (troubleshooting guide).
    assert int(env["MAX_BG_WORKERS"]) >= 16
    assert '--max-bg-workers="$MAX_BG_WORKERS"' in bootstrap
    assert "timescaledb.max_background_workers = $MAX_BG_WORKERS" in bootstrap
    assert "max_worker_processes = $((MAX_BG_WORKERS + cpus + 3))" in bootstrap
    assert "max_parallel_workers = $cpus" in bootstrap


def test_job_health_agent_is_shipped_as_written_and_runs_every_minute(cluster: Cluster) -> None:
    script = cluster.written_file("/usr/local/sbin/timescale-job-metrics")
    assert script == JOB_METRICS_SCRIPT.read_text()
    compile(script, "timescale-job-metrics", "exec")
    cron = cluster.written_file("/etc/cron.d/timescale-job-metrics").splitlines()
    assert "* * * * * postgres /usr/local/sbin/timescale-job-metrics" in cron
    assert "/etc/timescale/node.env" in cluster.written_file("/usr/local/sbin/timescale-bootstrap")


def test_every_supported_postgres_major_has_a_pinned_pair() -> None:
    """A config stacks/config.py accepts must bootstrap: every major it allows has a pinned TimescaleDB pair."""
    assert set(SUPPORTED_POSTGRES_MAJORS) <= set(TIMESCALE_RELEASES)


def test_outputs_exported(cluster: Cluster) -> None:
    outputs = cluster.evaluation.outputs
    assert {"timescalePrimaryHost", "timescaleReplicaHost", "timescaleBackupBucket"} <= set(outputs)


def test_pipeline_runs_the_app_image_on_a_schedule_like_the_app(cluster: Cluster) -> None:
    images = cluster.evaluation.outputs["appImageUris"]  # the app tier publishes one in the primary's region too
    schedule = cluster.one(SCHEDULE, cluster.pipeline)
    (task,) = cluster.mine(TASK_DEFINITION, cluster.pipeline)
    (container,) = json.loads(task.inputs["containerDefinitions"])
    assert container["image"] == images[cluster.region]
    assert container["command"] == ["python", "-m", "analytics.pipeline"]
    assert container["readonlyRootFilesystem"] is True
    assert container["user"].split(":")[0] not in ("0", "root")
    assert container["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
    # Credentials arrive only as ECS-injected secrets, never in the plain environment.
    secret = cluster.one("aws:secretsmanager/secret:Secret").outputs["arn"]
    injected = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert injected["ANALYTICS_DATABASE_URL"] == f"{secret}:url::"
    assert set(injected) == {"ANALYTICS_DATABASE_URL"}  # the source login is an IAM token, no master secret
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert set(environment) == {
        "ANALYTICS_SOURCE_URL",
        "ANALYTICS_SOURCE_IAM_AUTH",
        "ANALYTICS_BASE_CURRENCY",
        "MAIL_FROM",
        "AWS_REGION",
    }
    assert ":" not in environment["ANALYTICS_SOURCE_URL"].split("@")[0].removeprefix("postgresql://")  # no password
    ecs = schedule.inputs["target"]["ecsParameters"]
    assert ecs["taskDefinitionArn"] == task.outputs["arn"]
    assert schedule.inputs["target"]["arn"] == cluster.one("aws:ecs/cluster:Cluster", cluster.pipeline).outputs["arn"]
    pipeline_sg = cluster.evaluation.one(SECURITY_GROUP, f"network-{cluster.config.primary_region}-pipeline-sg")
    assert ecs["networkConfiguration"]["securityGroups"] == [pipeline_sg.outputs["id"]]
    assert ecs["networkConfiguration"]["assignPublicIp"] is False
    private = {s.outputs["id"] for s in cluster.evaluation.of_type(SUBNET) if s.inputs["tags"]["Tier"] == "private"}
    assert set(ecs["networkConfiguration"]["subnets"]) <= private
    assert schedule.region == task.region == cluster.region
    # The scheduler may start only this task family on this cluster, and pass only its two roles to ECS.
    policies = {
        p.name: json.loads(p.inputs["policy"])["Statement"] for p in cluster.mine(ROLE_POLICY, cluster.pipeline)
    }
    run, pass_role, _decrypt = policies["timescale-pipeline-scheduler-policy"]  # decrypt: test_tasks.py
    assert run["Action"] == ["ecs:RunTask"]
    family = task.inputs["family"]
    assert run["Resource"] == [f"arn:aws:ecs:{cluster.region}:{ACCOUNT_ID}:task-definition/{family}:*"]
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": schedule.inputs["target"]["arn"]}}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    # The running extractor needs two AWS permissions: alert mail through the stack's SES identity, and an IAM login
    # to its source as its role (the exact resource: test_analytics_aws.py).
    identity = cluster.evaluation.one("aws:sesv2/emailIdentity:EmailIdentity", "mail-identity")
    send, connect = policies["timescale-pipeline-task-policy"]
    assert send == {
        "Sid": "SendAsTheStackIdentity",
        "Effect": "Allow",
        "Action": ["ses:SendRawEmail"],
        "Resource": [identity.outputs["arn"]],
        "Condition": {"StringEquals": {"ses:FromAddress": cluster.evaluation.outputs["mailFrom"]}},
    }
    assert (connect["Sid"], connect["Action"]) == ("ConnectAsPipelineRole", ["rds-db:connect"])


def test_more_standbys_than_azs_fails_before_any_resource_exists() -> None:
    evaluation, error = try_evaluate("staging", stack_config("staging", timescale={"replicas": 2}))
    assert isinstance(error, StackConfigError)
    assert "global-api:timescale.replicas" in str(error)
    assert "azCount" in str(error)
    assert evaluation.resources == []


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_pipeline_pulls_only_from_the_app_repository_in_its_region(cluster: Cluster) -> None:
    policies = {
        p.name: json.loads(p.inputs["policy"])["Statement"] for p in cluster.mine(ROLE_POLICY, cluster.pipeline)
    }
    pull = next(s for s in policies["timescale-pipeline-execution-policy"] if s["Sid"] == "EcrPullThisRepository")
    (repository,) = [
        r for r in cluster.evaluation.of_type("aws:ecr/repository:Repository") if r.region == cluster.region
    ]
    assert pull["Resource"] == [repository.outputs["arn"]]
