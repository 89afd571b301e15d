"""App tier wiring: the image, an ECS Fargate service per app region, latency-routed origin records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stacks.data_tier import DataTier
from stacks.edge_tier import EdgeTier
from stacks.foundation import Foundation


@dataclass
class AppTier:
    """What the analytics tier reads: the image the pipeline task runs too."""

    image_uris: dict[str, Any] = field(default_factory=dict)  # AWS region -> Output[str] image URI (by digest)
    outputs: dict[str, Any] = field(default_factory=dict)


def build_app_tier(foundation: Foundation, data: DataTier, edge: EdgeTier) -> AppTier:
    # TODO(service helper): build the image, services and origin routing.
    return AppTier()
