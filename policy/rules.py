"""The project's promises as plain functions over resource properties (camelCase, as the engine sees them).

Each resource rule takes (type, props) and returns violation messages; each stack rule takes every resource.
They are wrapped as CrossGuard policies in policy/policies.py and run by the tests over every stack.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from contracts import tags

RDS_INSTANCE = "aws:rds/instance:Instance"
S3_BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SCHEDULE = "aws:scheduler/schedule:Schedule"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
IAM_POLICY_TYPES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
EBS_VOLUME = "aws:ebs/volume:Volume"
SNS_TOPIC = "aws:sns/topic:Topic"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
OPEN_CIDRS = {"0.0.0.0/0", "::/0"}
VIEWER_HTTPS = {"redirect-to-https", "https-only"}


class Resource(Protocol):
    """What a stack rule needs of a resource (CrossGuard's PolicyResource fits)."""

    @property
    def resource_type(self) -> str: ...

    @property
    def props(self) -> Mapping[str, Any]: ...

    @property
    def urn(self) -> str: ...


Violation = tuple[str, str | None]  # message, urn of the offending resource (None = the stack)


def no_public_database(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Databases are reached through private subnets and peering only."""
    if resource_type == RDS_INSTANCE and props.get("publiclyAccessible"):
        return ["RDS instance is publicly accessible; set publiclyAccessible=false"]
    if resource_type == LAUNCH_TEMPLATE:
        interfaces = props.get("networkInterfaces") or []
        if any(str(i.get("associatePublicIpAddress")).lower() == "true" for i in interfaces):
            return ["launch template gives instances a public IP"]
    return []


def storage_encrypted(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Data at rest is encrypted: database storage, EBS volumes, alarm topics, schedules (customer-managed key)."""
    if resource_type == RDS_INSTANCE and not props.get("storageEncrypted"):
        return ["RDS storage is not encrypted; set storageEncrypted=true with a KMS key"]
    if resource_type == EBS_VOLUME and not props.get("encrypted"):
        return ["EBS volume is not encrypted"]
    if resource_type == SNS_TOPIC and not props.get("kmsMasterKeyId"):
        return ["SNS topic is not encrypted with KMS"]
    if resource_type == SCHEDULE and not props.get("kmsKeyArn"):
        return ["EventBridge schedule without a customer-managed kmsKeyArn (its data would use an AWS-owned key)"]
    return []


def cloudfront_https_only(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Viewers and origins speak HTTPS only, TLS 1.2 or newer."""
    if resource_type != DISTRIBUTION:
        return []
    problems = []
    behaviors = [props.get("defaultCacheBehavior") or {}, *(props.get("orderedCacheBehaviors") or [])]
    for behavior in behaviors:
        if behavior.get("viewerProtocolPolicy") not in VIEWER_HTTPS:
            problems.append(f"behaviour {behavior.get('pathPattern', 'default')} allows plain HTTP viewers")
    certificate = props.get("viewerCertificate") or {}
    if not str(certificate.get("minimumProtocolVersion", "")).startswith("TLSv1.2"):
        problems.append("viewer certificate allows TLS older than 1.2")
    for origin in props.get("origins") or []:
        custom = origin.get("customOriginConfig")
        if custom is not None:
            if custom.get("originProtocolPolicy") != "https-only":
                problems.append(f"origin {origin.get('originId')} is not https-only")
            if any(not str(p).startswith("TLSv1.2") for p in custom.get("originSslProtocols") or []):
                problems.append(f"origin {origin.get('originId')} allows TLS older than 1.2")
    return problems


def no_ingress_from_anywhere(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No security group admits the whole internet: the ALB admits CloudFront's prefix list only."""
    if resource_type == SECURITY_GROUP:
        for rule in props.get("ingress") or []:
            if OPEN_CIDRS & {*(rule.get("cidrBlocks") or []), *(rule.get("ipv6CidrBlocks") or [])}:
                return [f"security group admits the internet on {rule.get('fromPort')}-{rule.get('toPort')}"]
    if resource_type == SG_INGRESS_RULE and (
        props.get("cidrIpv4") in OPEN_CIDRS or props.get("cidrIpv6") in OPEN_CIDRS
    ):
        return ["ingress rule admits the internet"]
    open_rule = OPEN_CIDRS & {*(props.get("cidrBlocks") or []), *(props.get("ipv6CidrBlocks") or [])}
    if resource_type == SG_RULE and props.get("type") == "ingress" and open_rule:
        return ["ingress rule admits the internet"]
    return []


def _all_ports(rule: Mapping[str, Any]) -> bool:
    protocol = str(rule.get("protocol", rule.get("ipProtocol", "")))
    return protocol in {"-1", "all"} or (rule.get("fromPort") == 0 and rule.get("toPort") in (0, 65535))


def no_unrestricted_egress(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No security group sends everything anywhere: egress names its port (and, for the internet, its reason)."""
    if resource_type == SECURITY_GROUP:
        for rule in props.get("egress") or []:
            if _all_ports(rule) and OPEN_CIDRS & {*(rule.get("cidrBlocks") or []), *(rule.get("ipv6CidrBlocks") or [])}:
                return ["security group allows all egress to the internet; allow named ports and destinations"]
    open_to = {props.get("cidrIpv4"), props.get("cidrIpv6")} & OPEN_CIDRS
    if resource_type == SG_EGRESS_RULE and _all_ports(props) and open_to:
        return ["egress rule allows all traffic to the internet"]
    open_rule = OPEN_CIDRS & {*(props.get("cidrBlocks") or []), *(props.get("ipv6CidrBlocks") or [])}
    if resource_type == SG_RULE and props.get("type") == "egress" and open_rule and _all_ports(props):
        return ["egress rule allows all traffic to the internet"]
    return []


def _statements(document: Any) -> list[Mapping[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, Mapping):
        return []
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def no_wildcard_iam_actions(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Least privilege: no Allow statement grants `*` or every action of a service (`s3:*`)."""
    if resource_type not in IAM_POLICY_TYPES:
        return []
    problems = []
    for statement in _statements(props.get("policy")):
        if statement.get("Effect") != "Allow":
            continue
        wild = [a for a in _as_list(statement.get("Action")) if a == "*" or a.endswith(":*")]
        if wild:
            problems.append(f"IAM policy allows wildcard actions {wild}")
        if statement.get("NotAction"):
            problems.append("IAM policy uses NotAction with Allow")
    return problems


def production_databases_protected(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """A production database cannot be deleted by an accidental `pulumi destroy` or console click."""
    if resource_type != RDS_INSTANCE:
        return []
    if (props.get("tags") or {}).get(tags.ENVIRONMENT) == tags.PRODUCTION and not props.get("deletionProtection"):
        return ["production RDS instance without deletionProtection"]
    return []


RESOURCE_RULES = (
    no_public_database,
    storage_encrypted,
    cloudfront_https_only,
    no_ingress_from_anywhere,
    no_unrestricted_egress,
    no_wildcard_iam_actions,
    production_databases_protected,
)


def buckets_private_and_encrypted(resources: Sequence[Resource]) -> list[Violation]:
    """Every bucket has all four public-access blocks and default encryption."""
    blocks = {
        str(r.props.get("bucket"))
        for r in resources
        if r.resource_type == PUBLIC_ACCESS_BLOCK
        and all(
            r.props.get(k)
            for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        )
    }
    encrypted = {
        str(r.props.get("bucket"))
        for r in resources
        if r.resource_type == BUCKET_ENCRYPTION
        and any(
            (rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm") in {"AES256", "aws:kms"}
            for rule in r.props.get("rules") or []
        )
    }
    violations: list[Violation] = []
    for bucket in (r for r in resources if r.resource_type == S3_BUCKET):
        names = {str(bucket.props.get("id")), str(bucket.props.get("bucket"))}
        if not names & blocks:
            violations.append(("bucket does not block all public access", bucket.urn))
        if not names & encrypted:
            violations.append(("bucket has no default encryption", bucket.urn))
    return violations


def replicas_have_lag_alarms(resources: Sequence[Resource]) -> list[Violation]:
    """Every read replica is watched by a ReplicaLag alarm in its own region."""
    alarms = [
        (r.props.get("region"), str((r.props.get("dimensions") or {}).get("DBInstanceIdentifier")))
        for r in resources
        if r.resource_type == METRIC_ALARM and r.props.get("metricName") == "ReplicaLag"
    ]
    violations: list[Violation] = []
    for replica in resources:
        if replica.resource_type != RDS_INSTANCE or not replica.props.get("replicateSourceDb"):
            continue
        identifiers = {str(replica.props.get("identifier")), str(replica.props.get("id"))}
        if not any(region == replica.props.get("region") and ident in identifiers for region, ident in alarms):
            violations.append(("read replica has no ReplicaLag alarm in its region", replica.urn))
    return violations


STACK_RULES = (buckets_private_and_encrypted, replicas_have_lag_alarms)


def check_resources(resources: Iterable[Resource]) -> list[Violation]:
    """Every rule over every resource: what `pulumi preview --policy-pack policy` would report."""
    listed = list(resources)
    violations: list[Violation] = []
    for resource in listed:
        for rule in RESOURCE_RULES:
            violations.extend((message, resource.urn) for message in rule(resource.resource_type, resource.props))
    for stack_rule in STACK_RULES:
        violations.extend(stack_rule(listed))
    return violations
