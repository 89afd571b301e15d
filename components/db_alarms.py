"""The alarms every RDS instance gets, as specs for the monitoring helper (which owns names, topics, actions)."""

from __future__ import annotations

import pulumi

from components.monitoring import AlarmSpec

CPU_PERCENT = 80.0
FREE_STORAGE_FRACTION = 0.1  # of the allocated storage; autoscaling adds more, the alarm says it is not keeping up
FREEABLE_MEMORY_BYTES = 256 * 1024**2
GIB = 1024**3


def instance_alarms(
    name: str,
    identifier: pulumi.Input[str],
    *,
    allocated_storage_gib: int,
    max_replica_lag_seconds: float | None,
) -> list[AlarmSpec]:
    """CPU, free storage and free memory for any instance; replica lag too when it is a replica (a bound is given).

    Replica lag treats missing data as breaching: a replica that stops reporting lag has stopped replicating.
    """
    dimensions = {"DBInstanceIdentifier": identifier}
    specs = [
        AlarmSpec(
            name=f"{name}-cpu",
            description=f"{name}: CPU above {CPU_PERCENT:g}% for 15 minutes",
            namespace="AWS/RDS",
            metric_name="CPUUtilization",
            dimensions=dimensions,
            threshold=CPU_PERCENT,
            period_seconds=300,
            evaluation_periods=3,
        ),
        AlarmSpec(
            name=f"{name}-free-storage",
            description=f"{name}: free storage below {FREE_STORAGE_FRACTION:.0%} of {allocated_storage_gib} GiB",
            namespace="AWS/RDS",
            metric_name="FreeStorageSpace",
            dimensions=dimensions,
            threshold=allocated_storage_gib * GIB * FREE_STORAGE_FRACTION,
            comparison="LessThanThreshold",
            statistic="Minimum",
            period_seconds=300,
            evaluation_periods=2,
        ),
        AlarmSpec(
            name=f"{name}-freeable-memory",
            description=f"{name}: freeable memory below {FREEABLE_MEMORY_BYTES // 1024**2} MiB",
            namespace="AWS/RDS",
            metric_name="FreeableMemory",
            dimensions=dimensions,
            threshold=FREEABLE_MEMORY_BYTES,
            comparison="LessThanThreshold",
            statistic="Minimum",
            period_seconds=300,
            evaluation_periods=3,
        ),
    ]
    if max_replica_lag_seconds is not None:
        specs.append(
            AlarmSpec(
                name=f"{name}-replica-lag",
                description=f"{name}: replica lag above {max_replica_lag_seconds:g} s (reads there go stale)",
                namespace="AWS/RDS",
                metric_name="ReplicaLag",
                dimensions=dimensions,
                threshold=max_replica_lag_seconds,
                statistic="Maximum",
                period_seconds=60,
                evaluation_periods=3,
                datapoints_to_alarm=2,
                treat_missing_data="breaching",
            )
        )
    return specs
