"""Composition: which tiers exist, in dependency order, and what the stack exports. No raw resources here."""

from __future__ import annotations

from typing import Any

import pulumi

from stacks.analytics_tier import build_analytics_tier
from stacks.app_tier import build_app_tier
from stacks.config import StackConfig
from stacks.data_tier import build_data_tier
from stacks.edge_tier import build_edge_tier
from stacks.foundation import build_foundation
from stacks.observability_tier import build_observability_tier
from stacks.tasks_tier import build_tasks_tier


def build_platform(config: StackConfig, *, project: str, stack: str) -> dict[str, Any]:
    """Every tier, in dependency order; returns the stack outputs."""
    foundation = build_foundation(config, project=project, stack=stack)
    data = build_data_tier(config, foundation)
    edge = build_edge_tier(config, foundation)
    analytics = build_analytics_tier(config, foundation)
    app = build_app_tier(config, foundation, data, edge, analytics)
    tasks = build_tasks_tier(config, foundation, data, app, analytics)
    observability = build_observability_tier(config, foundation, data, edge, analytics)
    outputs: dict[str, Any] = {
        "vpcIds": {region: network.vpc.id for region, network in foundation.networks.items()},
        "alarmTopicArns": {region: topic.arn for region, topic in foundation.monitoring.topics.items()},
    }
    for tier in (data, edge, app, analytics, tasks, observability):
        outputs.update(tier.outputs)
    return outputs


def export_all(outputs: dict[str, Any]) -> None:
    for key, value in outputs.items():
        pulumi.export(key, value)
