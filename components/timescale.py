"""The self-managed TimescaleDB analytics cluster on EC2 (the tasks that fill and read it are built elsewhere).

AWS offers no managed TimescaleDB (RDS lacks the extension), so a primary and `replicas` streaming standbys run on
EC2 in the primary region's private subnets, one per AZ, from one launch template. Nodes have no public IP and no
key pair (operators use SSM Session Manager); data lives on a separate encrypted gp3 volume per node that outlives
the instance; pgBackRest ships WAL and backups to a private, encrypted bucket the nodes may touch only under one
prefix. Clients use the private DNS names `timescale-primary` / `timescale-replica`, never instance IPs.
"""

from __future__ import annotations

import base64
import json
import string
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from app.db_roles import ANALYTICS_WRITER_ROLE
from components.iam import policy_json, service_trust_policy
from components.kms import encryption_key
from components.monitoring import AlarmSpec, Monitoring
from components.secure_bucket import SecureBucket, SecureBucketArgs
from components.timescale_job_metrics import METRICS as JOB_METRICS
from components.timescale_job_metrics import NAMESPACE as JOB_METRICS_NAMESPACE

TEMPLATE_PATH = Path(__file__).with_name("timescale_cloud_init.yaml.tmpl")
JOB_METRICS_SCRIPT = Path(__file__).with_name("timescale_job_metrics.py")  # the node agent, shipped as-is
# The PostgreSQL minor and TimescaleDB release the nodes install, per PostgreSQL major, pinned as a pair and held
# (apt-mark hold): unpinned, a node built later gets whatever is newest, and a mismatched pair fails quietly (issue 19
# item 15: on PostgreSQL 15.20 every TimescaleDB 2.28.3 job failed with `cannot drop portal "" while it is being set
# up`). TimescaleDB 2.17.2 supports PostgreSQL 14-17; the minors are those PGDG published in the same month (the
# archive repository keeps them installable). Change a pair only together, after running the jobs on it.
TIMESCALE_RELEASES: Mapping[int, tuple[str, str]] = {
    14: ("14.15", "2.17.2"),
    15: ("15.10", "2.17.2"),
    16: ("16.6", "2.17.2"),
    17: ("17.2", "2.17.2"),
}
# Background workers TimescaleDB may use: one scheduler per database with the extension plus the jobs that may run
# at once (refresh, compression and retention policies). Per TimescaleDB's troubleshooting guide ("Failed to start
# a background worker"), max_worker_processes must cover timescaledb.max_background_workers + max_parallel_workers;
# the bootstrap adds 3 for PostgreSQL's own (logical replication launcher, TimescaleDB launcher, spare). With the
# default of 8 worker processes refresh jobs could not start (issue 19 item 15). Standbys get the same value (a hot
# standby needs max_worker_processes >= the primary's).
MAX_BACKGROUND_WORKERS = 16
PORT = 5432
ROLE_TAG = "TimescaleRole"  # primary | standby: read by the bootstrap through IMDS instance tags
# The data volume mounts on the postgres user's home, so the cluster, its TLS key and .pgpass survive a new instance.
DATA_MOUNT = "/var/lib/postgresql"
DATA_FSTYPE = "xfs"
DATA_LABEL = "tsdata"
DATA_DEVICE = "/dev/sdf"
BACKUP_PREFIX = "timescale"  # the only S3 prefix the nodes' role may read or write
STANZA = "timescale"
CWAGENT_NAMESPACE = "CWAgent"
SSM_CORE_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
# Canonical's documented public SSM parameter for the current Ubuntu 24.04 LTS AMI (Ubuntu ships the SSM agent);
# the launch template resolves it at launch time (`resolve:ssm:`), so no AMI id is pinned and no invoke is made.
UBUNTU_AMI_PARAMETER = "/aws/service/canonical/ubuntu/server/24.04/stable/current/{arch}/hvm/ebs-gp3/ami-id"
_UBUNTU_ARCH = {"arm64": "arm64", "x86_64": "amd64"}


@dataclass(frozen=True)
class TimescaleArgs:
    """Inputs of one cluster. Node i lives in `subnet_ids[i]` / `availability_zones[i]` (aligned lists)."""

    aws_region: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: str  # pg_hba admits only this network (security groups narrow it further)
    subnet_ids: Sequence[pulumi.Input[str]]  # private subnets, one per AZ
    availability_zones: Sequence[pulumi.Input[str]]
    # Security groups of the workloads that may connect on 5432, by label (e.g. {"app": ..., "pipeline": ...}).
    client_security_groups: Mapping[str, pulumi.Input[str]]
    monitoring: Monitoring
    zone_name: str  # private hosted zone, e.g. global-api-production.internal
    # Private task subnets of app regions in other VPCs (over peering): security groups cannot be referenced
    # across regions, so these are admitted on 5432 by CIDR (security group and pg_hba both).
    client_cidrs: Sequence[str] = ()
    # (VPC id, AWS region) of those app regions: the private zone is associated with them so the names resolve.
    client_vpcs: Sequence[tuple[pulumi.Input[str], str]] = ()
    instance_type: str = "t4g.large"
    architecture: Literal["arm64", "x86_64"] = "arm64"
    replicas: int = 1  # streaming standbys besides the primary, each in its own AZ
    volume_gib: int = 100
    volume_iops: int = 3000
    volume_throughput: int = 125  # MiB/s
    root_volume_gib: int = 20
    postgres_major: int = 16  # must have a pinned pair in TIMESCALE_RELEASES
    max_background_workers: int = MAX_BACKGROUND_WORKERS
    database: str = "analytics"
    username: str = "pipeline"
    reader_username: str = "analytics_reader"  # the app's login on the standbys: pg_read_all_data, nothing else
    # The app's login on the primary for what it writes (alerts, reports, request metrics): the bootstrap creates
    # it, analytics revision 0005_app_writer grants exactly those tables.
    writer_username: str = ANALYTICS_WRITER_ROLE
    backup_retention_full: int = 4  # weekly fulls pgBackRest keeps
    # pgBackRest expires its own backups and rewrites none of its index files (archive.info), so current objects
    # never expire by age; only superseded versions do (SecureBucket's noncurrent rule).
    backup_expire_after_days: int | None = None
    cpu_alarm_percent: float = 80
    disk_alarm_percent: float = 80
    memory_alarm_percent: float = 90
    protect: bool = True  # production: protect=True on data, key and backups; no API termination
    secret_recovery_window_days: int = 30  # how long the deleted credentials secret can be restored (7..30)
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.postgres_major not in TIMESCALE_RELEASES:
            raise ValueError(
                f"TimescaleArgs.postgres_major={self.postgres_major}: no pinned TimescaleDB pair "
                f"(allowed: {', '.join(map(str, TIMESCALE_RELEASES))})"
            )
        if len(self.subnet_ids) != len(self.availability_zones):
            raise ValueError("TimescaleArgs: subnet_ids and availability_zones must be aligned (same length)")
        if not 0 <= self.replicas < len(self.subnet_ids):
            raise ValueError(
                f"TimescaleArgs.replicas={self.replicas}: a primary and its standbys need distinct AZs, "
                f"and only {len(self.subnet_ids)} private subnets are given (allowed: 0..{len(self.subnet_ids) - 1})"
            )

    @property
    def nodes(self) -> list[str]:
        return ["primary", *(f"standby-{i}" for i in range(1, self.replicas + 1))]

    @property
    def primary_host(self) -> str:
        return f"timescale-primary.{self.zone_name}"

    @property
    def replica_host(self) -> str:
        return f"timescale-replica.{self.zone_name}"


class _CloudInitTemplate(string.Template):
    """`@@{name}` placeholders, so the shell's own `$VAR`s in the template need no escaping."""

    delimiter = "@@"


def render_cloud_init(values: Mapping[str, str]) -> str:
    """The node bootstrap; a placeholder without a value raises KeyError instead of shipping a broken script."""
    return _CloudInitTemplate(TEMPLATE_PATH.read_text()).substitute(values)


def ami_parameter(architecture: Literal["arm64", "x86_64"]) -> str:
    return UBUNTU_AMI_PARAMETER.format(arch=_UBUNTU_ARCH[architecture])


def cloudwatch_agent_config() -> dict[str, Any]:
    """Memory and data-volume usage, with exactly the dimensions the alarms below select on."""
    return {
        "agent": {"metrics_collection_interval": 60, "omit_hostname": True},
        "metrics": {
            "namespace": CWAGENT_NAMESPACE,
            "append_dimensions": {"InstanceId": "${aws:InstanceId}"},
            "metrics_collected": {
                "disk": {"measurement": ["used_percent"], "resources": [DATA_MOUNT], "drop_device": True},
                "mem": {"measurement": ["used_percent"]},
            },
        },
    }


class Timescale(pulumi.ComponentResource):
    """A TimescaleDB primary + standbys with backups, private DNS and alarms."""

    security_group: aws.ec2.SecurityGroup
    instances: dict[str, aws.ec2.Instance]
    backup_bucket: pulumi.Output[str]
    secret_arn: pulumi.Output[str]
    reader_url: pulumi.Output[str]  # secret: the app's read-only URL on the standbys
    writer_url: pulumi.Output[str]  # secret: the app's writer URL on the primary
    key: aws.kms.Key

    def __init__(self, name: str, args: TimescaleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:analytics:Timescale", name, None, opts)
        self.args = args
        self.name = name
        region = args.aws_region
        self.key = encryption_key(
            f"{name}-key",
            region=region,
            description="TimescaleDB data volumes, backups and credentials",
            tags=args.tags,
            parent=self,
            protect=args.protect,
        )
        backups = SecureBucket(
            f"{name}-backups",
            SecureBucketArgs(
                region=region,
                expire_after_days=args.backup_expire_after_days,
                kms_key_arn=self.key.arn,
                tags=args.tags,
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.backup_bucket = backups.bucket.bucket
        self.secret_arn = self._credentials()
        self.security_group = self._security_group()
        profile = self._instance_profile(backups.bucket.arn)
        template = self._launch_template(profile)
        self.instances = {node: self._node(node, index, template) for index, node in enumerate(args.nodes)}
        self._dns()
        for node, instance in self.instances.items():
            self._alarms(node, instance)
        self.register_outputs(
            {
                "primaryHost": args.primary_host,
                "replicaHost": args.replica_host,
                "backupBucket": self.backup_bucket,
                "securityGroupId": self.security_group.id,
                "secretArn": self.secret_arn,
            }
        )

    def _child(self, parent: pulumi.Resource | None = None, *, protect: bool = False) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent or self, protect=protect)

    def _tags(self, resource: str, **extra: str) -> dict[str, str]:
        return {**self.args.tags, "Name": f"{self.name}-{resource}", **extra}

    def _credentials(self) -> pulumi.Output[str]:
        """The pipeline login and the replication password, generated here and read by the nodes at boot.

        Passwords never enter user data (readable by anyone allowed ec2:DescribeInstanceAttribute).
        """
        args = self.args
        passwords = {
            purpose: random.RandomPassword(
                f"{self.name}-{purpose}-password", length=32, special=False, opts=self._child()
            ).result
            for purpose in ("pipeline", "replication", "reader", "writer")
        }
        # ANALYTICS_DATABASE_URL of the app tasks: the read-only login on the standbys' name (the primary's when
        # there is no standby, see _dns).
        self.reader_url = pulumi.Output.secret(
            pulumi.Output.concat(
                f"postgresql://{args.reader_username}:",
                passwords["reader"],
                f"@{args.replica_host}:{PORT}/{args.database}?sslmode=require",
            )
        )
        # ANALYTICS_WRITE_DATABASE_URL of the app tasks: its writer login on the primary's name.
        self.writer_url = pulumi.Output.secret(
            pulumi.Output.concat(
                f"postgresql://{args.writer_username}:",
                passwords["writer"],
                f"@{args.primary_host}:{PORT}/{args.database}?sslmode=require",
            )
        )
        secret = aws.secretsmanager.Secret(
            f"{self.name}-credentials",
            region=self.args.aws_region,
            description="TimescaleDB pipeline login and replication password",
            kms_key_id=self.key.arn,
            recovery_window_in_days=self.args.secret_recovery_window_days,
            tags=self._tags("credentials"),
            opts=self._child(protect=self.args.protect),
        )
        aws.secretsmanager.SecretVersion(
            f"{self.name}-credentials-value",
            region=self.args.aws_region,
            secret_id=secret.id,
            secret_string=pulumi.Output.json_dumps(
                {
                    "username": args.username,
                    "password": passwords["pipeline"],
                    "replication_password": passwords["replication"],
                    "reader_username": args.reader_username,
                    "reader_password": passwords["reader"],
                    "reader_url": self.reader_url,
                    "writer_username": args.writer_username,
                    "writer_password": passwords["writer"],
                    "writer_url": self.writer_url,
                    # ANALYTICS_DATABASE_URL, injected into the pipeline task by ECS (never in plain environment).
                    "url": pulumi.Output.concat(
                        f"postgresql://{args.username}:",
                        passwords["pipeline"],
                        f"@{args.primary_host}:{PORT}/{args.database}?sslmode=require",
                    ),
                }
            ),
            opts=self._child(secret),
        )
        return secret.arn

    def _security_group(self) -> aws.ec2.SecurityGroup:
        """5432 from the named client groups; replication (also 5432) only between members of this group."""
        args = self.args
        ingress = [
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=PORT, to_port=PORT, security_groups=[group], description=f"{label} tasks"
            )
            for label, group in sorted(args.client_security_groups.items())
        ]
        ingress.append(
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=PORT, to_port=PORT, self=True, description="replication between nodes"
            )
        )
        if args.client_cidrs:
            ingress.append(
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=PORT,
                    to_port=PORT,
                    cidr_blocks=list(args.client_cidrs),
                    description="app tasks of other regions, over VPC peering",
                )
            )
        egress = [
            aws.ec2.SecurityGroupEgressArgs(
                protocol="tcp", from_port=port, to_port=port, cidr_blocks=["0.0.0.0/0"], description=purpose
            )
            for port, purpose in ((443, "AWS APIs, S3 backups, package repositories"), (80, "Ubuntu mirrors"))
        ]
        egress.append(
            aws.ec2.SecurityGroupEgressArgs(
                protocol="tcp", from_port=PORT, to_port=PORT, self=True, description="replication between nodes"
            )
        )
        return aws.ec2.SecurityGroup(
            f"{self.name}-sg",
            region=args.aws_region,
            vpc_id=args.vpc_id,
            description="TimescaleDB nodes: 5432 from analytics clients, replication between nodes",
            ingress=ingress,
            egress=egress,
            tags=self._tags("sg"),
            opts=self._child(),
        )

    def _instance_profile(self, bucket_arn: pulumi.Output[str]) -> aws.iam.InstanceProfile:
        """SSM core (Session Manager) as the only managed policy; inline: the backup prefix, the secret, metrics."""
        region = self.args.aws_region
        role = aws.iam.Role(
            f"{self.name}-node-role",
            assume_role_policy=service_trust_policy("ec2.amazonaws.com", pin_account=False),
            tags=self._tags("node-role"),
            opts=self._child(),
        )
        aws.iam.RolePolicyAttachment(
            f"{self.name}-node-ssm", role=role.name, policy_arn=SSM_CORE_POLICY_ARN, opts=self._child(role)
        )
        aws.iam.RolePolicy(
            f"{self.name}-node-policy",
            role=role.id,
            policy=policy_json(
                [
                    {
                        "Sid": "ListBackupPrefix",
                        "Effect": "Allow",
                        "Action": "s3:ListBucket",
                        "Resource": bucket_arn,
                        "Condition": {"StringLike": {"s3:prefix": [BACKUP_PREFIX, f"{BACKUP_PREFIX}/*"]}},
                    },
                    {
                        "Sid": "ReadWriteBackupPrefix",
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                        "Resource": pulumi.Output.concat(bucket_arn, f"/{BACKUP_PREFIX}/*"),
                    },
                    {
                        "Sid": "UseClusterKeyViaS3AndSecrets",
                        "Effect": "Allow",
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                        "Resource": self.key.arn,
                        "Condition": {
                            "StringEquals": {
                                "kms:ViaService": [
                                    f"s3.{region}.amazonaws.com",
                                    f"secretsmanager.{region}.amazonaws.com",
                                ]
                            }
                        },
                    },
                    {
                        "Sid": "ReadClusterCredentials",
                        "Effect": "Allow",
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": self.secret_arn,
                    },
                    {
                        # PutMetricData has no resource type; the namespace condition is its only scope.
                        "Sid": "PublishAgentMetrics",
                        "Effect": "Allow",
                        "Action": "cloudwatch:PutMetricData",
                        "Resource": "*",
                        "Condition": {
                            "StringEquals": {"cloudwatch:namespace": [CWAGENT_NAMESPACE, JOB_METRICS_NAMESPACE]}
                        },
                    },
                ]
            ),
            opts=self._child(role),
        )
        return aws.iam.InstanceProfile(f"{self.name}-node-profile", role=role.name, opts=self._child(role))

    def _user_data(self) -> pulumi.Output[str]:
        args = self.args
        values: dict[str, pulumi.Input[str]] = {
            "pg_major": str(args.postgres_major),
            "pg_version": TIMESCALE_RELEASES[args.postgres_major][0],
            "timescaledb_version": TIMESCALE_RELEASES[args.postgres_major][1],
            "max_bg_workers": str(args.max_background_workers),
            "job_metrics_script": textwrap.indent(JOB_METRICS_SCRIPT.read_text(), " " * 6),
            "data_mount": DATA_MOUNT,
            "data_fstype": DATA_FSTYPE,
            "data_label": DATA_LABEL,
            "data_dir": f"{DATA_MOUNT}/{args.postgres_major}/main",
            "primary_host": args.primary_host,
            "replica_host": args.replica_host,
            "client_cidr": args.vpc_cidr,
            "client_cidrs": " ".join([args.vpc_cidr, *args.client_cidrs]),
            "aws_region": args.aws_region,
            "secret_arn": self.secret_arn,
            "stanza": STANZA,
            "role_tag": ROLE_TAG,
            "database": args.database,
            "cwagent_arch": _UBUNTU_ARCH[args.architecture],
            "backup_bucket": self.backup_bucket,
            "backup_prefix": BACKUP_PREFIX,
            "retention_full": str(args.backup_retention_full),
            "cloudwatch_agent_config": json.dumps(cloudwatch_agent_config()),
        }
        return pulumi.Output.all(**values).apply(
            lambda resolved: base64.b64encode(render_cloud_init(resolved).encode()).decode()
        )

    def _launch_template(self, profile: aws.iam.InstanceProfile) -> aws.ec2.LaunchTemplate:
        """Every node's shape: IMDSv2 only, no key pair, encrypted root, the bootstrap as user data."""
        args = self.args
        return aws.ec2.LaunchTemplate(
            f"{self.name}-lt",
            region=args.aws_region,
            description="TimescaleDB node (role from the TimescaleRole tag)",
            image_id=f"resolve:ssm:{ami_parameter(args.architecture)}",
            instance_type=args.instance_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
                instance_metadata_tags="enabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/sda1",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=args.root_volume_gib,
                        volume_type="gp3",
                        encrypted="true",
                        kms_key_id=self.key.arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            ebs_optimized="true",
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            disable_api_termination=args.protect,
            user_data=self._user_data(),
            update_default_version=True,
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=self._tags("node"))
                for kind in ("instance", "volume")
            ],
            tags=self._tags("lt"),
            opts=self._child(),
        )

    def _node(self, node: str, index: int, template: aws.ec2.LaunchTemplate) -> aws.ec2.Instance:
        """One instance in AZ `index`, and its data volume (separate, so it outlives the instance)."""
        args = self.args
        region = args.aws_region
        instance = aws.ec2.Instance(
            f"{self.name}-{node}",
            region=region,
            launch_template=aws.ec2.InstanceLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            subnet_id=args.subnet_ids[index],
            vpc_security_group_ids=[self.security_group.id],
            associate_public_ip_address=False,
            tags=self._tags(node, **{ROLE_TAG: "primary" if node == "primary" else "standby"}),
            opts=self._child(),
        )
        volume = aws.ebs.Volume(
            f"{self.name}-{node}-data",
            region=region,
            availability_zone=args.availability_zones[index],
            type="gp3",
            size=args.volume_gib,
            iops=args.volume_iops,
            throughput=args.volume_throughput,
            encrypted=True,
            kms_key_id=self.key.arn,
            final_snapshot=args.protect,
            tags=self._tags(f"{node}-data"),
            opts=self._child(protect=args.protect),
        )
        aws.ec2.VolumeAttachment(
            f"{self.name}-{node}-data-attachment",
            region=region,
            device_name=DATA_DEVICE,
            instance_id=instance.id,
            volume_id=volume.id,
            stop_instance_before_detaching=True,  # PostgreSQL shuts down cleanly before its disk goes
            opts=self._child(instance),
        )
        return instance

    def _dns(self) -> None:
        """Names clients use; with no standby, the replica name points at the primary so readers still work."""
        args = self.args
        zone = aws.route53.Zone(
            f"{self.name}-zone",
            name=args.zone_name,
            comment="TimescaleDB endpoints (private to the primary region's VPC and the app regions' VPCs)",
            vpcs=[
                aws.route53.ZoneVpcArgs(vpc_id=vpc_id, vpc_region=region)
                for vpc_id, region in [(args.vpc_id, args.aws_region), *args.client_vpcs]
            ],
            tags=self._tags("zone"),
            opts=self._child(),
        )
        primary = self.instances["primary"]
        standbys = [i for node, i in self.instances.items() if node != "primary"] or [primary]
        for record, host, targets in (
            ("primary", args.primary_host, [primary]),
            ("replica", args.replica_host, standbys),
        ):
            aws.route53.Record(
                f"{self.name}-{record}-record",
                zone_id=zone.zone_id,
                name=host,
                type="A",
                ttl=30,
                records=[i.private_ip for i in targets],
                opts=self._child(zone),
            )

    def _alarms(self, node: str, instance: aws.ec2.Instance) -> None:
        """Instance health from EC2, memory and data-volume usage from the CloudWatch agent."""
        for spec in node_alarm_specs(f"{self.name}-{node}", node, self.args, instance.id):
            self.args.monitoring.alarm(spec, region=self.args.aws_region, parent=self)


def node_alarm_specs(who: str, node: str, args: TimescaleArgs, instance_id: pulumi.Input[str]) -> list[AlarmSpec]:
    """One node's alarms (`who` prefixes their names): EC2 status and CPU, the agent's disk and memory usage on the
    dimensions `cloudwatch_agent_config` publishes, and the node agent's job health (silence is failure there)."""
    specs = [
        AlarmSpec(
            name=f"{who}-status-check",
            description=f"TimescaleDB {node}: EC2 status check failed (instance or host unreachable)",
            namespace="AWS/EC2",
            metric_name="StatusCheckFailed",
            dimensions={"InstanceId": instance_id},
            statistic="Maximum",
            threshold=0,
            evaluation_periods=2,
            treat_missing_data="breaching",
        ),
        AlarmSpec(
            name=f"{who}-cpu",
            description=f"TimescaleDB {node}: CPU above {args.cpu_alarm_percent}% for 15 minutes",
            namespace="AWS/EC2",
            metric_name="CPUUtilization",
            dimensions={"InstanceId": instance_id},
            threshold=args.cpu_alarm_percent,
            period_seconds=300,
            evaluation_periods=3,
        ),
        AlarmSpec(
            name=f"{who}-disk",
            description=f"TimescaleDB {node}: data volume {DATA_MOUNT} above {args.disk_alarm_percent}% used",
            namespace=CWAGENT_NAMESPACE,
            metric_name="disk_used_percent",
            dimensions={"InstanceId": instance_id, "path": DATA_MOUNT, "fstype": DATA_FSTYPE},
            statistic="Maximum",
            threshold=args.disk_alarm_percent,
            period_seconds=300,
            evaluation_periods=2,
        ),
        AlarmSpec(
            name=f"{who}-memory",
            description=f"TimescaleDB {node}: memory above {args.memory_alarm_percent}% used",
            namespace=CWAGENT_NAMESPACE,
            metric_name="mem_used_percent",
            dimensions={"InstanceId": instance_id},
            threshold=args.memory_alarm_percent,
            period_seconds=300,
            evaluation_periods=3,
        ),
    ]
    specs += [
        # Published every minute by the node agent (components/timescale_job_metrics.py); no data for 15 minutes
        # means the agent or PostgreSQL is down, which is as bad as a failing job.
        AlarmSpec(
            name=f"{who}-{metric.lower().removesuffix('jobs')}-jobs",
            description=f"TimescaleDB {node}: {what} (timescaledb_information.job_stats)",
            namespace=JOB_METRICS_NAMESPACE,
            metric_name=metric,
            dimensions={"InstanceId": instance_id},
            statistic="Maximum",
            threshold=0,
            period_seconds=300,
            evaluation_periods=3,
            treat_missing_data="breaching",
        )
        for metric, what in zip(
            JOB_METRICS,
            ("a background job's last run failed", "a scheduled job is over 10 minutes late (no free worker)"),
            strict=True,
        )
    ]
    return specs
