"""What database instances need in one logical region: keys, a subnet group and a locked-down security group.

The primary and an in-region replica share their region's site; a cross-region replica gets the site of its own
region, because RDS encrypts and places it only with resources that live in the region it runs in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.kms import encryption_key, logs_key

POSTGRES_PORT = 5432


@dataclass(frozen=True)
class DbPlacement:
    """Where one logical region's database instances live and who may connect to them."""

    logical_region: str  # eu | us | asia: names, tags, output keys
    aws_region: str  # pulumi-aws 7 `region` of every resource of the site
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]  # private subnets only
    # Same-region workload identity groups (e.g. "app", "pipeline") admitted by id.
    client_security_group_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Private CIDRs of peered app regions elsewhere (security groups cannot be referenced across regions).
    client_cidrs: Sequence[str] = ()


@dataclass(frozen=True)
class DbSiteArgs:
    """Inputs of one region's database site."""

    placement: DbPlacement
    port: int = POSTGRES_PORT
    protect: bool = True  # protect=True on the keys: losing one loses the data it encrypts
    log_retention_days: int = 365
    tags: Mapping[str, str] = field(default_factory=dict)


class DbSite(pulumi.ComponentResource):
    """Storage key (also Performance Insights and the master secret), logs key, subnet group, security group.

    Instances use its face (region, key ARN, subnet group name, security group id, `log_group`), not its parts.
    """

    def __init__(self, name: str, args: DbSiteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:database:DbSite", name, None, opts)
        self._args = args
        placement, region = args.placement, args.placement.aws_region
        child = pulumi.ResourceOptions(parent=self)
        self._storage_key = encryption_key(
            f"{name}-storage-key",
            region=region,
            description=f"RDS storage, Performance Insights and master secret ({placement.logical_region})",
            tags=args.tags,
            parent=self,
            protect=args.protect,
        )
        self._logs_key = logs_key(f"{name}-logs-key", region=region, tags=args.tags, parent=self, protect=args.protect)
        self._subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets",
            region=region,
            subnet_ids=list(placement.subnet_ids),
            description=f"private subnets for databases in {placement.logical_region}",
            tags={**args.tags, "Name": f"{name}-subnets"},
            opts=child,
        )
        self._security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            region=region,
            vpc_id=placement.vpc_id,
            description=f"PostgreSQL in {placement.logical_region}: app/pipeline tasks and peered app regions only",
            ingress=_ingress(placement, args.port),
            egress=[],  # RDS replication does not use the VPC; nothing inside needs to call out
            tags={**args.tags, "Name": f"{name}-sg"},
            opts=child,
        )
        self.register_outputs({"securityGroupId": self.security_group_id, "subnetGroupName": self.subnet_group_name})

    @property
    def aws_region(self) -> str:
        return self._args.placement.aws_region

    @property
    def logical_region(self) -> str:
        return self._args.placement.logical_region

    @property
    def storage_key_arn(self) -> pulumi.Output[str]:
        """Encrypts the instances' storage, Performance Insights and the master secret in this region."""
        return self._storage_key.arn

    @property
    def subnet_group_name(self) -> pulumi.Output[str]:
        return self._subnet_group.name

    @property
    def security_group_id(self) -> pulumi.Output[str]:
        return self._security_group.id

    def log_group(self, name: str, log_group_name: str) -> aws.cloudwatch.LogGroup:
        """Pre-create an RDS export log group, so it is encrypted and expires (RDS's own would be neither)."""
        return aws.cloudwatch.LogGroup(
            name,
            region=self.aws_region,
            name=log_group_name,
            retention_in_days=self._args.log_retention_days,
            kms_key_id=self._logs_key.arn,
            tags=self._args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )


def _ingress(placement: DbPlacement, port: int) -> list[aws.ec2.SecurityGroupIngressArgs]:
    """One rule per source, so a preview names exactly who gains access."""
    rules = [
        aws.ec2.SecurityGroupIngressArgs(
            protocol="tcp",
            from_port=port,
            to_port=port,
            security_groups=[group_id],
            description=f"{workload} tasks in {placement.logical_region}",
        )
        for workload, group_id in placement.client_security_group_ids.items()
    ]
    if placement.client_cidrs:
        rules.append(
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_blocks=list(placement.client_cidrs),
                description="app tasks in peered regions",
            )
        )
    return rules
