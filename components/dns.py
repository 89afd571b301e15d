"""Route 53 alias records: the one way this repository points a name at an AWS endpoint (CloudFront, an ALB)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


def alias_record(
    name: str,
    *,
    zone_id: pulumi.Input[str],
    record_name: str,
    record_type: str,
    target_dns_name: pulumi.Input[str],
    target_zone_id: pulumi.Input[str],
    parent: pulumi.Resource,
    evaluate_target_health: bool = False,
) -> aws.route53.Record:
    """An alias (free, follows the target's changing IPs) rather than a CNAME, which a zone apex cannot hold."""
    return aws.route53.Record(
        name,
        zone_id=zone_id,
        name=record_name,
        type=record_type,
        aliases=[
            aws.route53.RecordAliasArgs(
                name=target_dns_name,
                zone_id=target_zone_id,
                evaluate_target_health=evaluate_target_health,
            )
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )
