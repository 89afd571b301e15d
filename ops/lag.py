"""Read each replica's CloudWatch ReplicaLag (Maximum per minute) over a window, one query per region."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ops.aws import Aws
from ops.errors import aws_step

if TYPE_CHECKING:  # boto3-stubs are a dev dependency: the ops tool runs with boto3 alone
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef


@dataclass(frozen=True)
class LagSample:
    max_seconds: float | None  # None: CloudWatch has no datapoint in the window
    datapoints: int


def _query(query_id: str, identifier: str) -> MetricDataQueryTypeDef:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/RDS",
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": identifier}],
            },
            "Period": 60,
            "Stat": "Maximum",
        },
        "ReturnData": True,
    }


def replica_lag(
    aws: Aws, region: str, identifiers: Sequence[str], window_minutes: int, now: datetime
) -> dict[str, LagSample]:
    """Worst lag per replica identifier; get_metric_data batches all replicas of a region in one call."""
    if not identifiers:
        return {}
    ids = {f"r{index}": identifier for index, identifier in enumerate(identifiers)}
    values: dict[str, list[float]] = {query_id: [] for query_id in ids}
    with aws_step(f"reading ReplicaLag in {region}"):
        paginator = aws.cloudwatch(region).get_paginator("get_metric_data")
        pages = paginator.paginate(
            MetricDataQueries=[_query(query_id, identifier) for query_id, identifier in ids.items()],
            StartTime=now - timedelta(minutes=window_minutes),
            EndTime=now,
        )
        for page in pages:
            for result in page["MetricDataResults"]:
                values[result["Id"]].extend(result.get("Values", []))
    return {
        identifier: LagSample(max(values[query_id], default=None), len(values[query_id]))
        for query_id, identifier in ids.items()
    }
