"""Analytics tier wiring: the TimescaleDB cluster and the scheduled pipeline task."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stacks.app_tier import AppTier
from stacks.data_tier import DataTier
from stacks.foundation import Foundation


@dataclass
class AnalyticsTier:
    outputs: dict[str, Any] = field(default_factory=dict)


def build_analytics_tier(foundation: Foundation, data: DataTier, app: AppTier) -> AnalyticsTier:
    # TODO(timescale helper): build components.timescale.Timescale and the pipeline schedule.
    return AnalyticsTier()
