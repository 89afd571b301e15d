"""Edge tier wiring: the origin-verify secret, an ALB per app region, and CloudFront in front of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stacks.foundation import Foundation


@dataclass
class EdgeTier:
    """What the app tier reads: each region's load balancer and the origin secret."""

    load_balancers: dict[str, Any] = field(
        default_factory=dict
    )  # LogicalRegion -> components.load_balancer.LoadBalancer
    origin_secret: Any = None  # components.origin_secret.OriginSecret
    origin_host: str = ""  # origin.<domain>: what CloudFront connects to (latency-routed by the app tier)
    outputs: dict[str, Any] = field(default_factory=dict)


def build_edge_tier(foundation: Foundation) -> EdgeTier:
    # TODO(edge helper): build OriginSecret, LoadBalancer per app region and the Cdn.
    return EdgeTier(origin_host=f"origin.{foundation.config.domain.name}")
