"""replication-check: is every expected replica present, replicating, and under its lag bound?"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from contracts import tags
from ops.aws import Aws
from ops.discovery import DbInstance, StackDatabases, find_stack_databases
from ops.lag import LagSample, replica_lag
from ops.output import format_table

DEFAULT_MAX_LAG_SECONDS = 5.0  # DESIGN.md: database.maxReplicaLagSeconds defaults to 5


class Verdict(StrEnum):
    OK = "OK"
    LAGGING = "LAGGING"
    NO_DATA = "NO_DATA"
    MISSING = "MISSING"
    NOT_REPLICATING = "NOT_REPLICATING"
    BAD_BOUND = "BAD_BOUND"


@dataclass(frozen=True)
class ReplicaRow:
    logical_region: str | None
    aws_region: str | None
    identifier: str | None
    status: str | None
    max_lag_seconds: float | None
    bound_seconds: float | None
    datapoints: int
    verdict: Verdict
    detail: str


@dataclass(frozen=True)
class ReplicationReport:
    stack: str
    regions: tuple[str, ...]
    window_minutes: int
    primary: DbInstance | None
    rows: tuple[ReplicaRow, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        primary = self.primary
        return {
            "stack": self.stack,
            "ok": self.ok,
            "windowMinutes": self.window_minutes,
            "regions": list(self.regions),
            "primary": None
            if primary is None
            else {"identifier": primary.identifier, "region": primary.aws_region, "status": primary.status},
            "replicas": [
                {
                    "logicalRegion": row.logical_region,
                    "awsRegion": row.aws_region,
                    "identifier": row.identifier,
                    "status": row.status,
                    "maxLagSeconds": row.max_lag_seconds,
                    "boundSeconds": row.bound_seconds,
                    "datapoints": row.datapoints,
                    "verdict": row.verdict.value,
                    "detail": row.detail,
                }
                for row in self.rows
            ],
            "problems": list(self.problems),
        }

    def to_table(self) -> str:
        primary = "none found" if self.primary is None else f"{self.primary.identifier} ({self.primary.aws_region})"
        headers = ("REGION", "AWS REGION", "INSTANCE", "STATUS", "MAX LAG (s)", "BOUND (s)", "POINTS", "RESULT")
        rows = [
            (
                row.logical_region,
                row.aws_region,
                row.identifier,
                row.status,
                row.max_lag_seconds,
                row.bound_seconds,
                row.datapoints,
                row.verdict.value,
            )
            for row in self.rows
        ]
        lines = [
            f"stack {self.stack}: primary {primary}; ReplicaLag maximum over the last {self.window_minutes} min",
            format_table(headers, rows),
        ]
        lines += [f"FAIL: {problem}" for problem in self.problems]
        lines.append("replication OK" if self.ok else f"replication FAILED ({len(self.problems)} problem(s))")
        return "\n".join(lines)


def _bound(replica: DbInstance, override: float | None, stack_default: float | None) -> float | str:
    """--max-lag, else the replica's tag, else the stack file, else the design default; a bad tag is a str."""
    if override is not None:
        return override
    raw = replica.tags.get(tags.MAX_REPLICA_LAG_SECONDS)
    if raw is None:
        return DEFAULT_MAX_LAG_SECONDS if stack_default is None else stack_default
    try:
        value = float(raw)
    except ValueError:
        return f"tag {tags.MAX_REPLICA_LAG_SECONDS}={raw!r} is not a number"
    if not math.isfinite(value) or value < 0:
        return f"tag {tags.MAX_REPLICA_LAG_SECONDS}={raw!r} is not a number >= 0"
    return value


def _judge(replica: DbInstance, sample: LagSample, bound: float | str, window_minutes: int) -> tuple[Verdict, str]:
    if isinstance(bound, str):
        return Verdict.BAD_BOUND, bound
    if replica.source is None:
        return Verdict.NOT_REPLICATING, "tagged as a replica but has no replication source (promoted?)"
    if sample.max_seconds is None:
        return Verdict.NO_DATA, f"no ReplicaLag datapoints in the last {window_minutes} min"
    if sample.max_seconds > bound:
        return Verdict.LAGGING, f"ReplicaLag reached {sample.max_seconds:g} s, bound is {bound:g} s"
    return Verdict.OK, ""


def _replica_row(replica: DbInstance, sample: LagSample, bound: float | str, window_minutes: int) -> ReplicaRow:
    verdict, detail = _judge(replica, sample, bound, window_minutes)
    return ReplicaRow(
        logical_region=replica.logical_region,
        aws_region=replica.aws_region,
        identifier=replica.identifier,
        status=replica.status,
        max_lag_seconds=sample.max_seconds,
        bound_seconds=bound if isinstance(bound, float) else None,
        datapoints=sample.datapoints,
        verdict=verdict,
        detail=detail,
    )


def _missing_row(logical_region: str) -> ReplicaRow:
    return ReplicaRow(
        logical_region=logical_region,
        aws_region=None,
        identifier=None,
        status=None,
        max_lag_seconds=None,
        bound_seconds=None,
        datapoints=0,
        verdict=Verdict.MISSING,
        detail=f"no replica tagged {tags.LOGICAL_REGION}={logical_region} found",
    )


def _lag_by_identifier(aws: Aws, databases: StackDatabases, window_minutes: int, now: datetime) -> dict[str, LagSample]:
    samples: dict[str, LagSample] = {}
    for region in databases.regions:
        identifiers = [r.identifier for r in databases.replicas if r.aws_region == region]
        samples.update(replica_lag(aws, region, identifiers, window_minutes, now))
    return samples


def check_replication(
    aws: Aws,
    stack: str,
    regions: Sequence[str],
    expected_regions: Sequence[str] | None,
    window_minutes: int,
    max_lag_override: float | None,
    stack_max_lag: float | None,
    now: datetime,
) -> ReplicationReport:
    """Gather one row per replica (plus one per expected-but-absent region) and every reason to fail."""
    databases = find_stack_databases(aws, stack, regions)
    samples = _lag_by_identifier(aws, databases, window_minutes, now)
    rows = [
        _replica_row(
            replica,
            samples[replica.identifier],
            _bound(replica, max_lag_override, stack_max_lag),
            window_minutes,
        )
        for replica in databases.replicas
    ]
    present = {replica.logical_region for replica in databases.replicas}
    rows += [_missing_row(region) for region in expected_regions or () if region not in present]
    problems = [
        f"{row.logical_region or row.identifier}: {row.verdict.value}: {row.detail}"
        for row in rows
        if row.verdict is not Verdict.OK
    ]
    if databases.primary is None:
        problems.insert(0, f"no instance tagged {tags.DB_ROLE}=primary for stack {stack!r}")
    if not databases.replicas and not expected_regions:
        problems.append(f"no instance tagged {tags.DB_ROLE}=replica for stack {stack!r}")
    return ReplicationReport(
        stack=stack,
        regions=databases.regions,
        window_minutes=window_minutes,
        primary=databases.primary,
        rows=tuple(rows),
        problems=tuple(problems),
    )
