"""Observability wiring: the stack's CloudWatch dashboard over what every other tier declared."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.dashboard import Dashboard, DashboardArgs, DatabaseRef, InstanceRef, LoadBalancerRef
from stacks.analytics_tier import AnalyticsTier
from stacks.config import StackConfig
from stacks.data_tier import DataTier
from stacks.edge_tier import EdgeTier
from stacks.foundation import Foundation


@dataclass
class ObservabilityTier:
    dashboard: Dashboard
    outputs: dict[str, Any] = field(default_factory=dict)


def build_observability_tier(
    config: StackConfig, foundation: Foundation, data: DataTier, edge: EdgeTier, analytics: AnalyticsTier
) -> ObservabilityTier:
    databases = [
        DatabaseRef(
            identifier=instance.identifier,
            aws_region=instance.aws_region,
            logical_region=instance.logical_region,
            role=instance.role,
        )
        for instance in data.instances.values()
    ]
    load_balancers = [
        LoadBalancerRef(
            arn_suffix=lb.alb.arn_suffix,
            target_group_arn_suffix=lb.target_group.arn_suffix,
            aws_region=lb.aws_region,
            logical_region=region,
        )
        for region, lb in edge.load_balancers.items()
    ]
    nodes = [
        InstanceRef(instance_id=instance.id, aws_region=config.aws_region_of(config.primary_region), label=node)
        for node, instance in analytics.timescale.instances.items()
    ]
    dashboard = Dashboard(
        "dashboard",
        DashboardArgs(
            dashboard_name=foundation.prefix,
            home_region=config.aws_region_of(config.primary_region),
            databases=databases,
            load_balancers=load_balancers,
            distribution_id=edge.cdn.distribution.id,
            cdn_additional_metrics=edge.cdn.monitoring_subscription is not None,
            timescale_nodes=nodes,
            max_replica_lag_seconds=config.database.max_replica_lag_seconds,
            tags=foundation.tags,
        ),
    )
    return ObservabilityTier(dashboard=dashboard, outputs={"dashboardName": dashboard.dashboard.dashboard_name})
