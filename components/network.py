"""One VPC in one AWS region: public/private subnets over N AZs, NAT, flow logs, and private AWS endpoints.

Private subnets reach the internet only through NAT (one per AZ in production so an AZ outage cannot cut off the
others; one per VPC in staging), and reach S3, ECR, Secrets Manager and CloudWatch Logs through VPC endpoints so
that image pulls, secrets and logs never hair-pin through NAT. Nothing launched here gets a public IP by default.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.iam import service_trust_policy
from components.kms import logs_key
from components.naming import physical_name
from contracts import tags as tag_names

# Endpoints private Fargate tasks need: image pulls (ecr.api, ecr.dkr; layers come from S3 via the gateway),
# secrets injection and log delivery.
DEFAULT_INTERFACE_ENDPOINTS: tuple[str, ...] = ("ecr.api", "ecr.dkr", "secretsmanager", "logs")


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of one regional VPC."""

    logical_region: str  # eu | us | asia: used in names
    aws_region: str  # where every child resource is created (pulumi-aws 7 `region`)
    cidr: str  # disjoint from every other region's, so peering works
    az_count: int = 3
    single_nat_gateway: bool = False  # True only where cost beats AZ independence (staging)
    interface_endpoints: Sequence[str] = DEFAULT_INTERFACE_ENDPOINTS  # empty where no tasks run
    flow_log_retention_days: int = 365
    # Identity security groups for the workloads that run here (e.g. "app", "pipeline"). They carry no ingress;
    # databases admit them by id, and the tier that owns the workload adds the ingress it needs (ALB -> app).
    workload_security_groups: Sequence[str] = ()
    # Where the workloads may connect (their only egress, see `_workload_egress`): PostgreSQL in these private CIDRs
    # (RDS here and in peered regions, TimescaleDB), and HTTPS to the AWS APIs this VPC's endpoints serve.
    database_cidrs: Sequence[str] = ()
    database_port: int = 5432
    # Workload -> why it must also reach HTTPS beyond this VPC's endpoints (e.g. an API in another region); the
    # reason becomes the rule's description, so a preview names every opening.
    internet_https: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


# EC2 CreateSubnet: "The allowed size for an IPv4 subnet is between a /28 netmask (16 IP addresses) and a /16 netmask".
SMALLEST_SUBNET_PREFIX = 28


def subnet_cidrs(cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """Split the VPC into eighths: private subnets take the first N (large), public the last N (small).

    Each public subnet is the first quarter of eighth 4+i, so at most four AZs fit, and the VPC must be large enough
    that a quarter of an eighth (prefix + 5) is still a subnet AWS allows."""
    network = ipaddress.IPv4Network(cidr)
    if not 1 <= az_count <= 4:
        raise ValueError(f"subnet_cidrs: az_count {az_count}; allowed: 1..4 (eighths 0-3 private, 4-7 public)")
    if network.prefixlen + 5 > SMALLEST_SUBNET_PREFIX:
        raise ValueError(
            f"subnet_cidrs: {cidr} gives /{network.prefixlen + 5} public subnets; allowed: a VPC of "
            f"/{SMALLEST_SUBNET_PREFIX - 5} or larger (AWS subnets are /16../{SMALLEST_SUBNET_PREFIX})"
        )
    eighths = list(network.subnets(prefixlen_diff=3))
    private = [str(block) for block in eighths[:az_count]]
    public = [str(next(eighths[4 + i].subnets(prefixlen_diff=2))) for i in range(az_count)]
    return private, public


class Network(pulumi.ComponentResource):
    """A regional VPC with the subnets, routes, endpoints and flow logs every other component builds on."""

    vpc: aws.ec2.Vpc
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    private_route_tables: list[aws.ec2.RouteTable]
    availability_zones: list[pulumi.Output[str]]
    private_cidrs: list[str]
    workload_security_groups: dict[str, aws.ec2.SecurityGroup]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:network:Network", name, None, opts)
        self.args = args
        region = args.aws_region
        child = pulumi.ResourceOptions(parent=self)

        def tags(resource: str) -> dict[str, str]:
            return {**args.tags, "Name": f"{name}-{resource}", tag_names.LOGICAL_REGION: args.logical_region}

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            region=region,
            cidr_block=args.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=tags("vpc"),
            opts=child,
        )
        vpc_child = pulumi.ResourceOptions(parent=self.vpc)
        # The default security group allows all traffic between members; strip it so nothing relies on it.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            region=region,
            vpc_id=self.vpc.id,
            tags=tags("default-sg-locked"),
            opts=vpc_child,
        )
        zones = aws.get_availability_zones_output(state="available", region=region)
        self.availability_zones = [zones.names[i] for i in range(args.az_count)]
        private_cidrs, public_cidrs = subnet_cidrs(args.cidr, args.az_count)
        self.private_cidrs = private_cidrs

        igw = aws.ec2.InternetGateway(
            f"{name}-igw", region=region, vpc_id=self.vpc.id, tags=tags("igw"), opts=vpc_child
        )
        # Routes are separate resources everywhere: inline routes would fight the peering routes added later.
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt", region=region, vpc_id=self.vpc.id, tags=tags("public-rt"), opts=vpc_child
        )
        aws.ec2.Route(
            f"{name}-public-default-route",
            region=region,
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=pulumi.ResourceOptions(parent=public_rt),
        )
        public_subnets = []
        for index, (zone, cidr) in enumerate(zip(self.availability_zones, public_cidrs, strict=True)):
            subnet = aws.ec2.Subnet(
                f"{name}-public-{index}",
                region=region,
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={**tags(f"public-{index}"), "Tier": "public"},
                opts=vpc_child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{index}-rta",
                region=region,
                subnet_id=subnet.id,
                route_table_id=public_rt.id,
                opts=pulumi.ResourceOptions(parent=subnet),
            )
            public_subnets.append(subnet)

        nat_count = 1 if args.single_nat_gateway else args.az_count
        nat_gateways = []
        for index in range(nat_count):
            eip = aws.ec2.Eip(
                f"{name}-nat-{index}-eip",
                region=region,
                domain="vpc",
                tags=tags(f"nat-{index}"),
                opts=vpc_child,
            )
            nat_gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{index}",
                    region=region,
                    allocation_id=eip.id,
                    subnet_id=public_subnets[index].id,
                    tags=tags(f"nat-{index}"),
                    opts=pulumi.ResourceOptions(parent=self.vpc, depends_on=[igw]),
                )
            )

        private_subnets = []
        self.private_route_tables = []
        for index, (zone, cidr) in enumerate(zip(self.availability_zones, private_cidrs, strict=True)):
            subnet = aws.ec2.Subnet(
                f"{name}-private-{index}",
                region=region,
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={**tags(f"private-{index}"), "Tier": "private"},
                opts=vpc_child,
            )
            route_table = aws.ec2.RouteTable(
                f"{name}-private-{index}-rt",
                region=region,
                vpc_id=self.vpc.id,
                tags=tags(f"private-{index}-rt"),
                opts=vpc_child,
            )
            aws.ec2.Route(
                f"{name}-private-{index}-default-route",
                region=region,
                route_table_id=route_table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat_gateways[min(index, nat_count - 1)].id,
                opts=pulumi.ResourceOptions(parent=route_table),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{index}-rta",
                region=region,
                subnet_id=subnet.id,
                route_table_id=route_table.id,
                opts=pulumi.ResourceOptions(parent=subnet),
            )
            private_subnets.append(subnet)
            self.private_route_tables.append(route_table)

        self.public_subnet_ids = [s.id for s in public_subnets]
        self.private_subnet_ids = [s.id for s in private_subnets]
        self._endpoints(name)
        self._flow_logs(name)
        self.workload_security_groups = {
            workload: aws.ec2.SecurityGroup(
                f"{name}-{workload}-sg",
                region=region,
                vpc_id=self.vpc.id,
                description=f"{workload} tasks in {args.logical_region}: identity for database and ALB rules",
                egress=self._workload_egress(workload),
                tags={**args.tags, "Name": f"{name}-{workload}-sg"},
                opts=vpc_child,
            )
            for workload in args.workload_security_groups
        }
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
            }
        )

    def _workload_egress(self, workload: str) -> list[aws.ec2.SecurityGroupEgressArgs]:
        """Only what a task needs, each rule named: image pulls, secrets and logs through this VPC's endpoints (the
        Fargate task ENI carries them too), S3 through the gateway's managed prefix list, PostgreSQL to the database
        subnets; anything else only when `internet_https` names why. Traffic to the VPC's DNS resolver and the task
        metadata/credentials endpoint is not subject to security groups."""
        args = self.args

        def rule(port: int, description: str, **target: object) -> aws.ec2.SecurityGroupEgressArgs:
            return aws.ec2.SecurityGroupEgressArgs(
                protocol="tcp",
                from_port=port,
                to_port=port,
                description=description,
                **target,  # type: ignore[arg-type]
            )

        rules = [
            rule(443, "S3 through the gateway endpoint (ECR image layers)", prefix_list_ids=[self.s3_prefix_list_id])
        ]
        if self.endpoint_security_group is not None:
            services = ", ".join(args.interface_endpoints)
            rules.append(
                rule(443, f"VPC interface endpoints ({services})", security_groups=[self.endpoint_security_group.id])
            )
        if args.database_cidrs:
            rules.append(
                rule(
                    args.database_port, "PostgreSQL: RDS and TimescaleDB subnets", cidr_blocks=list(args.database_cidrs)
                )
            )
        if workload in args.internet_https:
            rules.append(rule(443, args.internet_https[workload], cidr_blocks=["0.0.0.0/0"]))
        return rules

    def _endpoints(self, name: str) -> None:
        """S3 as a free gateway endpoint on private routes; interface endpoints reachable only from the VPC."""
        region, vpc_child = self.args.aws_region, pulumi.ResourceOptions(parent=self.vpc)
        self.endpoint_security_group: aws.ec2.SecurityGroup | None = None
        s3 = aws.ec2.VpcEndpoint(
            f"{name}-s3-endpoint",
            region=region,
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in self.private_route_tables],
            tags={**self.args.tags, "Name": f"{name}-s3-endpoint"},
            opts=vpc_child,
        )
        self.s3_prefix_list_id = s3.prefix_list_id  # the AWS-managed prefix list of S3 in this region
        if not self.args.interface_endpoints:
            return
        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            region=region,
            vpc_id=self.vpc.id,
            description="HTTPS to VPC interface endpoints from inside the VPC only",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=[self.args.cidr],
                    description="VPC",
                )
            ],
            tags={**self.args.tags, "Name": f"{name}-endpoints-sg"},
            opts=vpc_child,
        )
        self.endpoint_security_group = endpoint_sg
        for service in self.args.interface_endpoints:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}-endpoint",
                region=region,
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[endpoint_sg.id],
                tags={**self.args.tags, "Name": f"{name}-{service}-endpoint"},
                opts=vpc_child,
            )

    def _flow_logs(self, name: str) -> None:
        """All traffic (accepted and rejected) to an encrypted log group, via a role that can write only there."""
        region, child = self.args.aws_region, pulumi.ResourceOptions(parent=self)
        key = logs_key(f"{name}-logs-key", region=region, tags=self.args.tags, parent=self)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            region=region,
            name=f"/vpc/{physical_name(name)}/flow-logs",  # log group names are unique per account and region
            retention_in_days=self.args.flow_log_retention_days,
            kms_key_id=key.arn,
            tags=self.args.tags,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            assume_role_policy=service_trust_policy("vpc-flow-logs.amazonaws.com"),
            tags=self.args.tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-write",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": [
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                                "logs:DescribeLogStreams",
                            ],
                            "Resource": [log_group.arn, pulumi.Output.concat(log_group.arn, ":*")],
                        }
                    ],
                }
            ),
            opts=pulumi.ResourceOptions(parent=role),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            region=region,
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=self.args.tags,
            opts=child,
        )
