"""Edge tier wiring: the origin-verify secret, an ALB per app region, and CloudFront in front of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.cdn import Cdn, CdnArgs
from components.certificate import ValidationRecords
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.origin_secret import OriginSecret, OriginSecretArgs
from stacks.config import LogicalRegion, StackConfig
from stacks.foundation import Foundation


@dataclass
class EdgeTier:
    """What the app tier reads: each region's load balancer, the origin secret and CloudFront's origin name."""

    load_balancers: dict[LogicalRegion, LoadBalancer]
    origin_secret: OriginSecret
    origin_host: str  # origin.<domain>: what CloudFront connects to (latency-routed by the app tier)
    cdn: Cdn
    outputs: dict[str, Any] = field(default_factory=dict)


def build_edge_tier(config: StackConfig, foundation: Foundation) -> EdgeTier:
    origin_host = f"origin.{config.domain.name}"
    origin_secret = OriginSecret(
        "origin-verify",
        OriginSecretArgs(
            prefix=foundation.prefix,
            aws_regions=[config.aws_region_of(r) for r in config.app_regions],
            recovery_window_days=config.secret_recovery_window_days,
            tags=foundation.tags,
        ),
    )
    # One record per validated name for all regions' origin certificates (they share origin.<domain>).
    validation_records = ValidationRecords("origin-cert-validation")
    load_balancers: dict[LogicalRegion, LoadBalancer] = {}
    for region in config.app_regions:
        network = foundation.networks[region]
        load_balancers[region] = LoadBalancer(
            f"alb-{region}",
            LoadBalancerArgs(
                logical_region=region,
                aws_region=config.aws_region_of(region),
                vpc_id=network.vpc.id,
                public_subnet_ids=network.public_subnet_ids,
                app_security_group=network.workload_security_groups["app"],
                origin_host=origin_host,
                hosted_zone_id=config.domain.hosted_zone_id,
                origin_verify_value=origin_secret.value,
                monitoring=foundation.monitoring,
                deletion_protection=config.protect,
                access_log_expire_days=config.log_retention_days,
                destroy_logs_with_stack=not config.protect,
                validation_records=validation_records,
                tags=foundation.tags,
            ),
        )
    cdn = Cdn(
        "cdn",
        CdnArgs(
            domain_name=config.domain.name,
            hosted_zone_id=config.domain.hosted_zone_id,
            certificate_arn=config.domain.certificate_arn,
            origin_host=origin_host,
            origin_verify_value=origin_secret.value,
            monitoring=foundation.monitoring,
            name_prefix=foundation.prefix,
            price_class=config.cdn.price_class,
            rate_limit_per_ip=config.cdn.rate_limit_per_ip,
            max_body_bytes=config.cdn.max_body_bytes,
            waf_log_retention_days=config.log_retention_days,
            additional_metrics=config.is_production,
            log_expire_days=config.log_retention_days,
            destroy_logs_with_stack=not config.protect,
            tags=foundation.tags,
        ),
    )
    return EdgeTier(
        load_balancers=load_balancers,
        origin_secret=origin_secret,
        origin_host=origin_host,
        cdn=cdn,
        outputs={
            "cdnDomainName": cdn.distribution.domain_name,
            "cdnDistributionId": cdn.distribution.id,
            "albDnsNames": {region: lb.alb.dns_name for region, lb in load_balancers.items()},
        },
    )
