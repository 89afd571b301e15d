"""The network a reviewer checks in a preview: where VPCs are, what can reach the internet, what is logged."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable

from offline.harness import DeclaredResource, Evaluation
from offline.mocks import ACCOUNT_ID
from tests.infra.helpers import config_of

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
IGW = "aws:ec2/internetGateway:InternetGateway"
NAT = "aws:ec2/natGateway:NatGateway"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
PEERING = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
ACCEPTER = "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
# AWS services whose API is global: their resources legitimately carry no region.
GLOBAL_SERVICES = ("aws:iam/", "aws:cloudfront/", "aws:route53/", "aws:shield/", "aws:organizations/")


def vpc_regions(evaluation: Evaluation) -> list[str]:
    return sorted(str(r.region) for r in evaluation.of_type(VPC))


def private_subnets(evaluation: Evaluation) -> list[DeclaredResource]:
    return [s for s in evaluation.of_type(SUBNET) if s.inputs["tags"]["Tier"] == "private"]


def routes_of_subnet(evaluation: Evaluation, subnet: DeclaredResource) -> list[DeclaredResource]:
    subnet_id = subnet.outputs["id"]
    tables = {a.inputs["routeTableId"] for a in evaluation.of_type(ASSOCIATION) if a.inputs["subnetId"] == subnet_id}
    assert len(tables) == 1, f"{subnet.name} must be associated with exactly one route table"
    return [r for r in evaluation.of_type(ROUTE) if r.inputs["routeTableId"] in tables]


def test_one_vpc_per_configured_region(staging: Evaluation, production: Evaluation) -> None:
    assert vpc_regions(staging) == ["ap-southeast-1", "eu-west-1", "us-east-1"]
    assert vpc_regions(production) == ["ap-southeast-1", "eu-west-1", "us-east-1"]


def test_no_vpc_where_nothing_runs(variant: Callable[..., Evaluation]) -> None:
    eu_only = variant("staging", readReplicaRegions=["eu"], appRegions=["eu"])
    assert vpc_regions(eu_only) == ["eu-west-1"]
    assert not eu_only.of_type(PEERING)
    us_replica = variant("staging", readReplicaRegions=["us"], appRegions=["eu"])
    assert vpc_regions(us_replica) == ["eu-west-1", "us-east-1"]


def test_every_regional_aws_resource_names_its_region(each_stack: Evaluation) -> None:
    missing = [
        f"{r.type} {r.name}"
        for r in each_stack.resources
        if r.custom and r.type.startswith("aws:") and not r.type.startswith(GLOBAL_SERVICES) and not r.region
    ]
    assert missing == []


def test_private_subnets_have_no_route_to_an_internet_gateway(each_stack: Evaluation) -> None:
    igw_ids = {g.outputs["id"] for g in each_stack.of_type(IGW)}
    nat_ids = {n.outputs["id"] for n in each_stack.of_type(NAT)}
    assert private_subnets(each_stack)
    for subnet in private_subnets(each_stack):
        routes = routes_of_subnet(each_stack, subnet)
        assert not [r for r in routes if r.inputs.get("gatewayId") in igw_ids], subnet.name
        default = [r for r in routes if r.inputs.get("destinationCidrBlock") == "0.0.0.0/0"]
        assert len(default) == 1, subnet.name
        assert default[0].inputs.get("natGatewayId") in nat_ids, subnet.name
        assert subnet.inputs["mapPublicIpOnLaunch"] is False


def test_nothing_gets_a_public_ip_on_launch(each_stack: Evaluation) -> None:
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in each_stack.of_type(SUBNET))


def test_subnets_span_the_configured_azs(staging: Evaluation, production: Evaluation) -> None:
    for evaluation, az_count in ((staging, 2), (production, 3)):
        for vpc in evaluation.of_type(VPC):
            subnets = [s for s in private_subnets(evaluation) if s.inputs["vpcId"] == vpc.outputs["id"]]
            assert len({s.inputs["availabilityZone"] for s in subnets}) == az_count


def test_nat_per_az_in_production_single_in_staging(staging: Evaluation, production: Evaluation) -> None:
    assert len(staging.of_type(NAT)) == len(staging.of_type(VPC))
    assert len(production.of_type(NAT)) == 3 * len(production.of_type(VPC))


def test_flow_logs_capture_all_traffic_into_encrypted_retained_logs(each_stack: Evaluation) -> None:
    flow_logs = each_stack.of_type(FLOW_LOG)
    assert sorted(f.inputs["vpcId"] for f in flow_logs) == sorted(v.outputs["id"] for v in each_stack.of_type(VPC))
    groups = {g.outputs["arn"]: g for g in each_stack.of_type(LOG_GROUP)}
    for flow_log in flow_logs:
        assert flow_log.inputs["trafficType"] == "ALL"
        group = groups[flow_log.inputs["logDestination"]]
        assert group.inputs["kmsKeyId"]
        assert group.inputs["retentionInDays"] == config_of(each_stack).log_retention_days
        assert group.region == flow_log.region


def test_vpc_cidrs_do_not_overlap(each_stack: Evaluation) -> None:
    networks = [ipaddress.IPv4Network(v.inputs["cidrBlock"]) for v in each_stack.of_type(VPC)]
    for i, a in enumerate(networks):
        assert not any(a.overlaps(b) for b in networks[i + 1 :])


def test_private_endpoints_where_tasks_run(staging: Evaluation) -> None:
    def services(region: str) -> set[str]:
        return {e.inputs["serviceName"] for e in staging.of_type(ENDPOINT) if e.region == region}

    assert services("eu-west-1") == {
        f"com.amazonaws.eu-west-1.{s}" for s in ("s3", "ecr.api", "ecr.dkr", "secretsmanager", "logs")
    }
    # Database-only regions get the free S3 gateway but no paid interface endpoints.
    assert services("us-east-1") == {"com.amazonaws.us-east-1.s3"}
    assert services("ap-southeast-1") == {"com.amazonaws.ap-southeast-1.s3"}
    interface = [e for e in staging.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"]
    assert interface
    assert all(e.inputs["privateDnsEnabled"] for e in interface)


def test_default_security_groups_are_locked(each_stack: Evaluation) -> None:
    locked = each_stack.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert len(locked) == len(each_stack.of_type(VPC))
    assert all(not g.inputs.get("ingress") and not g.inputs.get("egress") for g in locked)


def test_app_regions_peer_with_every_database_region_both_ways(
    staging: Evaluation, production: Evaluation, variant: Callable[..., Evaluation]
) -> None:
    three_apps_one_replica = variant("staging", appRegions=["eu", "us", "asia"], readReplicaRegions=["us"])
    for evaluation, pairs in (
        (staging, {("eu-west-1", "us-east-1"), ("eu-west-1", "ap-southeast-1")}),
        (production, {("eu-west-1", "us-east-1"), ("eu-west-1", "ap-southeast-1"), ("us-east-1", "ap-southeast-1")}),
        (
            three_apps_one_replica,
            {("eu-west-1", "us-east-1"), ("eu-west-1", "ap-southeast-1"), ("us-east-1", "ap-southeast-1")},
        ),
    ):
        connections = evaluation.of_type(PEERING)
        assert {frozenset((str(c.region), c.inputs["peerRegion"])) for c in connections} == {
            frozenset(p) for p in pairs
        }
        accepters = {a.inputs["vpcPeeringConnectionId"]: a for a in evaluation.of_type(ACCEPTER)}
        cidr_of = {v.outputs["id"]: v.inputs["cidrBlock"] for v in evaluation.of_type(VPC)}
        for connection in connections:
            assert accepters[connection.outputs["id"]].region == connection.inputs["peerRegion"]
            routes = [
                r
                for r in evaluation.of_type(ROUTE)
                if r.inputs.get("vpcPeeringConnectionId") == connection.outputs["id"]
            ]
            destinations = {r.inputs["destinationCidrBlock"] for r in routes}
            assert destinations == {cidr_of[connection.inputs["vpcId"]], cidr_of[connection.inputs["peerVpcId"]]}
            assert {r.region for r in routes} == {connection.region, connection.inputs["peerRegion"]}


def test_flow_log_role_is_assumable_only_by_the_service_for_this_account(each_stack: Evaluation) -> None:
    roles = {r.outputs["arn"]: r for r in each_stack.of_type("aws:iam/role:Role")}
    for flow_log in each_stack.of_type(FLOW_LOG):
        (statement,) = json.loads(roles[flow_log.inputs["iamRoleArn"]].inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_task_groups_egress_only_to_endpoints_s3_and_the_databases(each_stack: Evaluation) -> None:
    """App and pipeline tasks reach AWS APIs through this VPC's endpoints (HTTPS to the endpoints' group, S3 by its
    managed prefix list) and PostgreSQL in the database regions' private subnets; nothing else unless a rule names
    why (an app region outside the primary's reads the database secret from Secrets Manager there)."""
    config = each_stack.config
    primary_aws_region = config["global-api:regions"][config["global-api:primaryRegion"]]
    db_regions = [config["global-api:primaryRegion"], *config.get("global-api:readReplicaRegions", [])]
    db_vpcs = {each_stack.one(VPC, f"network-{r}-vpc").outputs["id"] for r in db_regions}
    database_cidrs = {s.inputs["cidrBlock"] for s in private_subnets(each_stack) if s.inputs["vpcId"] in db_vpcs}
    groups = [
        g
        for g in each_stack.of_type("aws:ec2/securityGroup:SecurityGroup")
        if g.name.endswith(("-app-sg", "-pipeline-sg", "-reports-sg"))
    ]
    assert groups
    for group in groups:
        region = group.region
        vpc = group.inputs["vpcId"]
        [s3] = [
            e
            for e in each_stack.of_type(ENDPOINT)
            if e.inputs["vpcId"] == vpc and e.inputs["vpcEndpointType"] == "Gateway"
        ]
        endpoint_groups = {
            g.outputs["id"]
            for g in each_stack.of_type("aws:ec2/securityGroup:SecurityGroup")
            if g.inputs["vpcId"] == vpc and g.name.endswith("-endpoints-sg")
        }
        internet = []
        for rule in group.inputs["egress"]:
            assert rule["protocol"] == "tcp", (group.name, rule)
            assert rule["fromPort"] == rule["toPort"], (group.name, rule)
            assert rule["description"], (group.name, rule)
            if rule["fromPort"] == 5432:
                assert set(rule["cidrBlocks"]) == database_cidrs, group.name
                continue
            assert rule["fromPort"] == 443, (group.name, rule)
            if rule.get("prefixListIds"):
                assert rule["prefixListIds"] == [s3.outputs["prefixListId"]], group.name
            elif rule.get("securityGroups"):
                assert set(rule["securityGroups"]) == endpoint_groups, group.name
            else:
                internet.append(rule)
        if region != primary_aws_region and group.name.endswith("-app-sg"):
            [rule] = internet
            assert rule["cidrBlocks"] == ["0.0.0.0/0"]
            assert f"Secrets Manager in {primary_aws_region}" in rule["description"]
        elif group.name.endswith(("-pipeline-sg", "-reports-sg")):  # they mail through the SES API
            [rule] = internet
            assert rule["cidrBlocks"] == ["0.0.0.0/0"]
            assert "SES API" in rule["description"]
        else:
            assert internet == [], group.name
