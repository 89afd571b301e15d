"""failover-drill: promote a replica to a standalone primary, or print exactly how it would be done."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import WaiterError

from contracts import environment, tags
from ops.aws import Aws
from ops.discovery import DbInstance, StackDatabases, to_instance
from ops.errors import AwsError, CheckFailed, aws_step

if TYPE_CHECKING:  # boto3-stubs are a dev dependency: the ops tool runs with boto3 alone
    from mypy_boto3_rds import RDSClient

Progress = Callable[[str], None]
# The app's replica URL variable by the LogicalRegion tag's value (a plain string as AWS returns it).
_REPLICA_VARIABLE: dict[str, str] = {str(region): name for region, name in environment.DATABASE_READ_REPLICA.items()}


@dataclass(frozen=True)
class WaitPolicy:
    """Bounds the db_instance_available waiter: at most max_attempts polls, delay_seconds apart."""

    delay_seconds: int
    max_attempts: int

    @property
    def budget_seconds(self) -> int:
        return self.delay_seconds * self.max_attempts


@dataclass(frozen=True)
class FailoverPlan:
    stack: str
    replica: DbInstance
    primary: DbInstance | None
    policy: WaitPolicy

    @property
    def where(self) -> str:
        return f"{self.replica.identifier} ({self.replica.logical_region}, {self.replica.aws_region})"

    def steps(self) -> list[str]:
        replica = self.replica
        return [
            f"check that {self.where} is available and replicating from {replica.source}",
            f"promote {replica.identifier}: rds.promote_read_replica in {replica.aws_region}",
            f"wait for db_instance_available (every {self.policy.delay_seconds} s, at most "
            f"{self.policy.max_attempts} polls = {self.policy.budget_seconds} s)",
            f"verify {replica.identifier} is standalone (no ReadReplicaSourceDBInstanceIdentifier) and writable",
        ]

    def follow_up(self, endpoint: str | None) -> list[str]:
        region = self.replica.logical_region or "?"
        old = "the old primary" if self.primary is None else f"the old primary {self.primary.identifier}"
        return [
            f"re-point {environment.DATABASE_URL} in every app region at {endpoint or self.replica.identifier} "
            f"and set {environment.DATABASE_PRIMARY_REGION}={region}",
            f"remove {_REPLICA_VARIABLE.get(region, '?')}: that node is now the primary",
            f"set {tags.PROJECT_NAME}:primaryRegion: {region} in Pulumi.{self.stack}.yaml and run `pulumi up` "
            "to re-create the read replicas from the new primary (and re-tag DbRole)",
            f"stop writes to {old}, then retire it or rebuild it as a replica",
            f"run `python -m ops replication-check --stack {self.stack}` once the new replicas exist",
        ]


def plan_failover(databases: StackDatabases, logical_region: str, policy: WaitPolicy) -> FailoverPlan:
    """Pick the replica and refuse, before anything changes, if it is not a healthy replica."""
    replica = databases.replica_in(logical_region)
    if replica.source is None:
        raise CheckFailed(f"{replica.identifier} is already standalone: nothing to promote")
    if replica.status != "available":
        raise CheckFailed(f"{replica.identifier} is {replica.status!r}, not 'available': promote it later")
    return FailoverPlan(databases.stack, replica, databases.primary, policy)


def _describe(rds: RDSClient, region: str, identifier: str) -> DbInstance:
    with aws_step(f"describing {identifier} in {region}"):
        raw = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    return to_instance(region, raw, {})


def _waiter_status(error: WaiterError) -> str:
    """The status the last poll saw; the stubs type last_response as an error shape, hence the checks."""
    response: Any = error.last_response
    instances = response.get("DBInstances") if isinstance(response, dict) else None
    if not isinstance(instances, list) or not instances:
        return "unknown"
    return ",".join(str(i.get("DBInstanceStatus", "?")) for i in instances if isinstance(i, dict))


def wait_until_standalone(
    rds: RDSClient, region: str, identifier: str, policy: WaitPolicy, progress: Progress
) -> DbInstance:
    """Poll with the db_instance_available waiter one attempt at a time, so each poll prints progress.

    Right after promote_read_replica the instance still reports `available` for a moment, so `available`
    alone proves nothing: success is `available` with no replication source left.
    """
    waiter = rds.get_waiter("db_instance_available")
    state = "not polled"
    for attempt in range(1, policy.max_attempts + 1):
        try:
            waiter.wait(
                DBInstanceIdentifier=identifier,
                WaiterConfig={"Delay": policy.delay_seconds, "MaxAttempts": 1},
            )
        except WaiterError as error:
            if not str(error.kwargs.get("reason", "")).startswith("Max attempts exceeded"):
                raise AwsError(f"waiting for {identifier} in {region}: {error}") from error
            state = f"status {_waiter_status(error)}"
        else:
            instance = _describe(rds, region, identifier)
            if instance.source is None:
                progress(f"[{attempt}/{policy.max_attempts}] {identifier} is available and standalone")
                return instance
            state = f"available, still replicating from {instance.source}"
        progress(f"[{attempt}/{policy.max_attempts}] waiting for {identifier}: {state}")
        if attempt < policy.max_attempts:
            time.sleep(policy.delay_seconds)
    if state.startswith("available"):
        raise CheckFailed(f"promotion not confirmed after {policy.budget_seconds} s: {identifier} is {state}")
    raise AwsError(f"gave up waiting for {identifier} after {policy.budget_seconds} s: last {state}")


def execute_failover(aws: Aws, plan: FailoverPlan, progress: Progress) -> DbInstance:
    """Promote, wait within the policy's budget, and return the verified standalone instance."""
    replica = plan.replica
    rds = aws.rds(replica.aws_region)
    progress(f"promoting {plan.where}")
    with aws_step(f"promoting {replica.identifier} in {replica.aws_region}"):
        rds.promote_read_replica(DBInstanceIdentifier=replica.identifier)
    return wait_until_standalone(rds, replica.aws_region, replica.identifier, plan.policy, progress)


@dataclass(frozen=True)
class FailoverResult:
    plan: FailoverPlan
    promoted: DbInstance | None  # None: dry run
    production: bool

    def to_json(self) -> dict[str, Any]:
        replica = self.plan.replica
        promoted = self.promoted
        return {
            "stack": self.plan.stack,
            "mode": "dry-run" if promoted is None else "executed",
            "replica": {
                "identifier": replica.identifier,
                "logicalRegion": replica.logical_region,
                "awsRegion": replica.aws_region,
                "source": replica.source,
            },
            "steps": self.plan.steps(),
            "promoted": None
            if promoted is None
            else {"identifier": promoted.identifier, "status": promoted.status, "endpoint": promoted.endpoint},
            # promotion keeps the instance's endpoint, so the dry run can already name it
            "followUp": self.plan.follow_up((promoted or replica).endpoint),
        }

    def to_table(self) -> str:
        document = self.to_json()
        if self.promoted is None:
            head = [f"DRY RUN for stack {self.plan.stack}: nothing was changed. Re-run with --execute to do:"]
            if self.production:
                head.append("(production stack: --execute also needs --yes-production)")
        else:
            head = [f"PROMOTED {self.plan.where} for stack {self.plan.stack}: it is now a standalone primary"]
        steps = [f"  {number}. {step}" for number, step in enumerate(document["steps"], start=1)]
        follow = [f"  - {step}" for step in document["followUp"]]
        return "\n".join([*head, *steps, "follow-up steps:", *follow])
