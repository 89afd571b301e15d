"""`instance_alarms`: thresholds follow the instance's inputs, and only a replica gets a lag alarm.

AWS facts (RDS user guide, "Amazon CloudWatch metrics for Amazon RDS", AWS/RDS namespace, dimension
DBInstanceIdentifier): CPUUtilization is a percentage, FreeStorageSpace and FreeableMemory are bytes, ReplicaLag is
seconds (read replicas only). The alarm thresholds must be in those units; RDS publishes these every minute, so
periods are whole minutes (CloudWatch rules in tests/components/alarm_rules.py).
"""

from __future__ import annotations

import pytest

from components.db_alarms import instance_alarms
from components.monitoring import AlarmSpec
from tests.components.alarm_rules import cloudwatch_problems

GIB = 1024**3


def by_metric(specs: list[AlarmSpec]) -> dict[str | None, AlarmSpec]:
    return {spec.metric_name: spec for spec in specs}


def test_a_primary_gets_cpu_storage_and_memory_alarms_and_no_lag_alarm() -> None:
    specs = instance_alarms("db-eu", "app-eu", allocated_storage_gib=50, max_replica_lag_seconds=None)
    assert [s.name for s in specs] == ["db-eu-cpu", "db-eu-free-storage", "db-eu-freeable-memory"]
    assert all(s.namespace == "AWS/RDS" and s.dimensions == {"DBInstanceIdentifier": "app-eu"} for s in specs)


def test_free_storage_threshold_is_a_tenth_of_the_allocated_bytes() -> None:
    assert (
        by_metric(instance_alarms("d", "i", allocated_storage_gib=20, max_replica_lag_seconds=None))[
            "FreeStorageSpace"
        ].threshold
        == 2 * GIB
    )  # 10% of 20 GiB
    for gib in (20, 50, 65536):
        storage = by_metric(instance_alarms("d", "i", allocated_storage_gib=gib, max_replica_lag_seconds=None))[
            "FreeStorageSpace"
        ]
        assert storage.threshold == pytest.approx(gib * GIB / 10, rel=1e-12)
        assert (storage.comparison, storage.statistic) == ("LessThanThreshold", "Minimum")
        assert f"of {gib} GiB" in storage.description


def test_cpu_and_memory_thresholds_are_in_the_metrics_units() -> None:
    specs = by_metric(instance_alarms("d", "i", allocated_storage_gib=20, max_replica_lag_seconds=None))
    cpu, memory = specs["CPUUtilization"], specs["FreeableMemory"]
    assert (cpu.threshold, cpu.comparison) == (80.0, "GreaterThanThreshold")  # percent
    # 15 minutes above, as the description says: 3 periods of 5 minutes.
    assert cpu.period_seconds * cpu.evaluation_periods == 15 * 60
    assert "for 15 minutes" in cpu.description
    assert (memory.threshold, memory.comparison) == (256 * 1024 * 1024, "LessThanThreshold")  # bytes
    assert "256 MiB" in memory.description


@pytest.mark.parametrize("bound", [0.5, 5, 30.0, 3600])
def test_a_replica_alarms_on_lag_above_its_bound_and_on_silence(bound: float) -> None:
    specs = instance_alarms("db-us", "app-us", allocated_storage_gib=50, max_replica_lag_seconds=bound)
    assert [s.name for s in specs][-1] == "db-us-replica-lag"
    lag = by_metric(specs)["ReplicaLag"]
    assert (lag.threshold, lag.comparison, lag.statistic) == (bound, "GreaterThanThreshold", "Maximum")
    assert f"above {bound:g} s" in lag.description
    # A replica that stops reporting lag has stopped replicating: silence is an alarm, not an OK.
    assert lag.treat_missing_data == "breaching"
    assert (lag.period_seconds, lag.evaluation_periods, lag.datapoints_to_alarm) == (60, 3, 2)


def test_only_the_lag_alarm_treats_silence_as_breaching() -> None:
    specs = instance_alarms("d", "i", allocated_storage_gib=20, max_replica_lag_seconds=5)
    assert {s.metric_name: s.treat_missing_data for s in specs} == {
        "CPUUtilization": "notBreaching",
        "FreeStorageSpace": "notBreaching",
        "FreeableMemory": "notBreaching",
        "ReplicaLag": "breaching",
    }


@pytest.mark.parametrize("lag", [None, 5])
def test_every_spec_is_an_alarm_cloudwatch_accepts(lag: float | None) -> None:
    for spec in instance_alarms("d", "i", allocated_storage_gib=20, max_replica_lag_seconds=lag):
        assert cloudwatch_problems(spec) == [], spec.name
