"""A Fargate task started on a schedule: its ECS cluster, the task (components/fargate_task.py), a scheduler role
allowed to start exactly that task, and the EventBridge Scheduler schedule.

Used by the analytics pipeline (every 15 minutes) and the reports runner (every 5 minutes). Both tolerate overlap
and missed runs (each takes a lock in the analytics database and catches up incrementally), so a failed start is
not retried: the next tick does the work. The scheduler role's trust is pinned to this account (confused deputy,
EventBridge Scheduler user guide, "Set up the execution role"); it may `ecs:RunTask` only on this task family in
this cluster and pass only the task's two roles, only to ECS.

The schedule's data (its target and input) is encrypted with a customer-managed key (`kms_key_arn`, EventBridge
Scheduler user guide, "Encryption at rest"), by default one of its own; the scheduler role may decrypt with exactly
that key, which Scheduler needs to read the target when it invokes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pulumi
import pulumi_aws as aws

from components.aws_account import account_id
from components.fargate_task import FargateTask, FargateTaskArgs
from components.iam import allow, policy_json, service_trust_policy
from components.kms import encryption_key
from components.monitoring import AlarmSpec, Monitoring

SCHEDULER_SERVICE = "scheduler.amazonaws.com"
# EventBridge Scheduler's expression forms (Scheduler API reference, CreateSchedule ScheduleExpression; EventBridge
# user guide, "Rate expressions reference"): rate(value unit) with a positive integer and minute(s) | hour(s) | day(s),
# singular exactly when the value is 1; cron(fields) with six fields; at(yyyy-mm-ddThh:mm:ss).
_RATE = re.compile(r"rate\((?P<value>\d+) (?P<unit>minute|hour|day)(?P<plural>s?)\)")
_CRON = re.compile(r"cron\((?P<fields>[^()]*)\)")
_AT = re.compile(r"at\((?P<when>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")
CRON_FIELDS = 6  # minutes hours day-of-month month day-of-week year


def schedule_expression_error(expression: str) -> str | None:
    """None if EventBridge Scheduler accepts the expression's form, else what it accepts."""
    if rate := _RATE.fullmatch(expression):
        value, plural = int(rate["value"]), bool(rate["plural"])
        if value < 1:
            return "allowed: rate(value unit) with a positive value"
        if plural != (value > 1):
            unit = rate["unit"] + ("s" if value > 1 else "")
            return f"allowed: rate({value} {unit}) (the unit is singular exactly when the value is 1)"
        return None
    if cron := _CRON.fullmatch(expression):
        fields = cron["fields"].split()
        if len(fields) != CRON_FIELDS:
            return f"allowed: cron(minutes hours day-of-month month day-of-week year), {CRON_FIELDS} fields"
        return None
    if at := _AT.fullmatch(expression):
        try:
            datetime.fromisoformat(at["when"])
        except ValueError:
            return "allowed: at(yyyy-mm-ddThh:mm:ss) naming a real date and time"
        return None
    return "allowed: rate(value minute|minutes|hour|hours|day|days), cron(<6 fields>) or at(yyyy-mm-ddThh:mm:ss)"


@dataclass(frozen=True)
class ScheduledTaskArgs:
    """What runs (`task`), when (`schedule_expression`, e.g. `rate(5 minutes)`), and in which network."""

    task: FargateTaskArgs
    schedule_expression: str
    subnet_ids: Sequence[pulumi.Input[str]]  # private subnets
    security_group_id: pulumi.Input[str]  # the task's identity group (databases admit it)
    description: str
    monitoring: Monitoring | None = None  # None: no failed-run alarm (e.g. a component test)
    # Customer-managed key for the schedule's data (its target and input); None: a key of the schedule's own.
    kms_key_arn: pulumi.Input[str] | None = None
    container_insights: str = "enabled"
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problem = schedule_expression_error(self.schedule_expression)
        if problem:
            raise ValueError(f"ScheduledTaskArgs.schedule_expression: got {self.schedule_expression!r}; {problem}")


class ScheduledTask(pulumi.ComponentResource):
    """Cluster `{name}`, task `{name}-task`, roles `{name}-execution` / `{name}-task` / `{name}-scheduler`,
    schedule `{name}`."""

    cluster: aws.ecs.Cluster
    task: FargateTask
    scheduler_role: aws.iam.Role
    schedule: aws.scheduler.Schedule

    def __init__(self, name: str, args: ScheduledTaskArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:tasks:ScheduledTask", name, None, opts)
        self.name = name
        region = args.task.aws_region
        child = pulumi.ResourceOptions(parent=self)
        self.cluster = aws.ecs.Cluster(
            name,
            region=region,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value=args.container_insights)],
            tags={**args.tags, "Name": name},
            opts=child,
        )
        self.task = FargateTask(name, args.task, parent=self)
        self.scheduler_role = aws.iam.Role(
            f"{name}-scheduler",
            assume_role_policy=service_trust_policy(SCHEDULER_SERVICE),
            tags={**args.tags, "Name": f"{name}-scheduler"},
            opts=child,
        )
        key_arn = (
            args.kms_key_arn
            or encryption_key(
                f"{name}-schedule-key",
                region=region,
                description=f"EventBridge Scheduler data of {name}",
                tags=args.tags,
                parent=self,
            ).arn
        )
        task_definitions = pulumi.Output.concat(
            "arn:aws:ecs:", region, ":", account_id(), f":task-definition/{self.task.family_name}:*"
        )
        aws.iam.RolePolicy(
            f"{name}-scheduler-policy",
            role=self.scheduler_role.id,
            policy=policy_json(
                [
                    allow(
                        ["ecs:RunTask"],
                        [task_definitions],
                        "RunThisTask",
                        condition={"ArnEquals": {"ecs:cluster": self.cluster.arn}},
                    ),
                    allow(
                        ["iam:PassRole"],
                        [self.task.execution_role.arn, self.task.task_role.arn],
                        "PassItsRoles",
                        condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
                    ),
                    allow(["kms:Decrypt"], [key_arn], "DecryptTheScheduleWithItsKey"),
                ]
            ),
            opts=pulumi.ResourceOptions(parent=self.scheduler_role),
        )
        self.schedule = aws.scheduler.Schedule(
            name,
            region=region,
            description=args.description,
            schedule_expression=args.schedule_expression,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            kms_key_arn=key_arn,
            target=aws.scheduler.ScheduleTargetArgs(
                arn=self.cluster.arn,
                role_arn=self.scheduler_role.arn,
                ecs_parameters=aws.scheduler.ScheduleTargetEcsParametersArgs(
                    task_definition_arn=self.task.task_definition.arn,
                    launch_type="FARGATE",
                    task_count=1,
                    network_configuration=aws.scheduler.ScheduleTargetEcsParametersNetworkConfigurationArgs(
                        subnets=list(args.subnet_ids),
                        security_groups=[args.security_group_id],
                        assign_public_ip=False,
                    ),
                ),
                # A missed run is caught up by the next one (both tasks are incremental and idempotent).
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_retry_attempts=0),
            ),
            opts=child,
        )
        if args.monitoring is not None:
            self._failed_runs_alarm(args.monitoring, args.description)
        self.register_outputs(
            {
                "clusterArn": self.cluster.arn,
                "taskDefinitionArn": self.task.task_definition.arn,
                "scheduleArn": self.schedule.arn,
            }
        )

    def _failed_runs_alarm(self, monitoring: Monitoring, what: str) -> None:
        """An alarm on every run that failed: ECS reports each stopped task as an "ECS Task State Change" event
        (ECS developer guide, "Amazon ECS task state change events": `lastStatus` STOPPED, `stopCode`
        TaskFailedToStart when it never ran, each container's `exitCode`); this rule matches the stopped tasks of
        this task's own cluster that failed, and EventBridge counts them as `MatchedEvents` per `RuleName`
        (EventBridge user guide, "Monitoring Amazon EventBridge")."""
        region = self.task.args.aws_region
        rule = aws.cloudwatch.EventRule(
            f"{self.name}-failed-runs",
            region=region,
            description=f"{what}: runs that exited non-zero or failed to start",
            event_pattern=pulumi.Output.json_dumps(failed_run_pattern(self.cluster.arn)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        monitoring.alarm(
            AlarmSpec(
                name=f"{self.name}-failed-runs",
                description=f"{what}: a scheduled run exited non-zero or failed to start",
                namespace="AWS/Events",
                metric_name="MatchedEvents",
                dimensions={"RuleName": rule.name},
                statistic="Sum",
                threshold=0,
                period_seconds=300,
                evaluation_periods=1,
            ),
            region=region,
            parent=self,
        )


def failed_run_pattern(cluster_arn: pulumi.Input[str]) -> dict[str, object]:
    """EventBridge pattern: a task of `cluster_arn` stopped with a non-zero exit code or without starting."""
    return {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {
            "clusterArn": [cluster_arn],
            "lastStatus": ["STOPPED"],
            "$or": [
                {"containers": {"exitCode": [{"anything-but": 0}]}},
                {"stopCode": ["TaskFailedToStart"]},
            ],
        },
    }
