"""The Fargate task building block: encrypted log group, execution and task roles, the hardened task definition.

Every task we run (the API service, the analytics pipeline, the reports runner) is built here, so each gets the
same defaults: containers from `hardened_container` (non-root, read-only root file system, no capabilities), logs
to its own KMS-encrypted log group, an execution role that may pull exactly its image repository, write exactly
its log group and read exactly the secrets ECS injects, and a task role with exactly the statements given.

Not a ComponentResource: the children are created under the caller's component (`parent`), so the service's
resources keep the URNs they had before this block was factored out of it (no replacement on the next `up`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.containers import TMP_VOLUME, execution_statements, hardened_container
from components.iam import Statement, task_role
from components.kms import logs_key
from components.naming import physical_name

CpuArchitecture = Literal["X86_64", "ARM64"]

# The task sizes Fargate accepts: cpu units -> the memory sizes (MiB) it allows with them. Source: ECS developer guide,
# "Troubleshoot Amazon ECS task definition invalid CPU or memory errors"
# (docs.aws.amazon.com/AmazonECS/latest/userguide/task-cpu-memory-error.html), and the RegisterTaskDefinition `memory`
# parameter: 256 -> 512 MiB, 1 GB, 2 GB (no 1.5 GB); 512 -> 1..4 GB; 1024 -> 2..8 GB; 2048 -> 4..16 GB and
# 4096 -> 8..30 GB in 1 GB steps; 8192 -> 16..60 GB in 4 GB steps; 16384 -> 32..120 GB in 8 GB steps.
FARGATE_MEMORY_MIB: Mapping[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}


def fargate_cpu_error(cpu: int) -> str | None:
    """None if Fargate offers `cpu` units, else what it offers."""
    if cpu in FARGATE_MEMORY_MIB:
        return None
    return f"allowed: one of {', '.join(map(str, FARGATE_MEMORY_MIB))}"


def fargate_memory_error(cpu: int, memory: int) -> str | None:
    """None if Fargate offers `memory` MiB with `cpu` units (a valid cpu), else the sizes it offers with that cpu."""
    choices = FARGATE_MEMORY_MIB[cpu]
    if memory in choices:
        return None
    steps = {b - a for a, b in itertools.pairwise(choices)}
    if len(steps) == 1:
        return f"allowed with cpu {cpu}: {choices[0]}..{choices[-1]} MiB in steps of {steps.pop()}"
    return f"allowed with cpu {cpu}: {', '.join(map(str, choices))} MiB"


@dataclass(frozen=True)
class ContainerSpec:
    """One container of the task; all share the task's image, user, environment and secrets."""

    name: str
    command: Sequence[str] | None = None  # None: the image's default command
    port: int | None = None
    essential: bool = True
    depends_on: Sequence[tuple[str, str]] = ()  # (container name, condition), e.g. ("migrate", "SUCCESS")
    # This container's own additions to / overrides of the task's environment and secrets (e.g. the migration's
    # master login, which the app container must not see).
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class FargateTaskArgs:
    """Inputs of one task definition. `secrets` values are ECS `valueFrom` strings (an ARN, optionally with a JSON
    key `<arn>:<key>::`); `secret_arns` are the secrets themselves, which the execution role may read (defaults to
    the `secrets` values, right when each is a whole-secret ARN)."""

    aws_region: str
    image_uri: pulumi.Input[str]  # <repository url>@sha256:<digest>
    repository_arn: pulumi.Input[str]  # the only ECR repository the execution role may pull from
    containers: Sequence[ContainerSpec]
    cpu: int = 256
    memory: int = 512
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)  # names, hosts, ARNs: no secrets
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)  # env name -> valueFrom
    secret_arns: Sequence[pulumi.Input[str]] | None = None
    task_statements: Sequence[Statement] = ()  # what the running code may do in AWS (nothing by default)
    cpu_architecture: CpuArchitecture = "X86_64"  # must match the image's build platform
    run_as_user: str = "10001:10001"  # uid:gid; the image's non-root user
    log_retention_days: int = 90
    protect: bool = False  # production: the log group and its key survive an accidental delete
    family: str | None = None  # task definition family; defaults to `<project>-<stack>-<block name>`
    tags: Mapping[str, str] = field(default_factory=dict)
    log_group_tags: Mapping[str, str] | None = None  # defaults to `tags`

    def __post_init__(self) -> None:
        size_error = fargate_cpu_error(self.cpu) or fargate_memory_error(self.cpu, self.memory)
        if size_error:
            raise ValueError(f"FargateTaskArgs: cpu {self.cpu}, memory {self.memory}: {size_error}")
        if not self.containers:
            raise ValueError("FargateTaskArgs.containers: got none; allowed: at least one container")
        names = [c.name for c in self.containers]
        if len(set(names)) != len(names):
            raise ValueError(f"FargateTaskArgs.containers: names must be distinct (got {', '.join(names)})")
        both = sorted(set(self.environment) & set(self.secrets))
        if both:
            raise ValueError(f"FargateTaskArgs: {', '.join(both)} given both as plain environment and as a secret")

    @property
    def readable_secret_arns(self) -> list[pulumi.Input[str]]:
        if self.secret_arns is not None:
            return list(self.secret_arns)
        return [self.secrets[key] for key in sorted(self.secrets)]


class FargateTask:
    """`{name}-logs-key`, `{name}-logs`, `{name}-execution`, `{name}-task` (role) and `{name}-task` (definition)."""

    log_group: aws.cloudwatch.LogGroup
    execution_role: aws.iam.Role
    task_role: aws.iam.Role
    task_definition: aws.ecs.TaskDefinition

    def __init__(self, name: str, args: FargateTaskArgs, *, parent: pulumi.Resource) -> None:
        self.args = args
        # Families are per account and region: without the stack, staging and production would register revisions
        # of one family (and a scheduler allowed `<family>:*` could start the other stack's revisions).
        self.family_name = args.family or physical_name(name)
        region, tags = args.aws_region, dict(args.tags)
        key = logs_key(f"{name}-logs-key", region=region, tags=tags, parent=parent, protect=args.protect)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            region=region,
            retention_in_days=args.log_retention_days,
            kms_key_id=key.arn,
            tags=dict(args.log_group_tags if args.log_group_tags is not None else tags),
            opts=pulumi.ResourceOptions(parent=parent, protect=args.protect),
        )
        self.execution_role = task_role(
            f"{name}-execution",
            region=region,
            statements=execution_statements(
                repository_arn=args.repository_arn,
                log_group_arn=self.log_group.arn,
                secret_arns=args.readable_secret_arns,
            ),
            tags=tags,
            parent=parent,
        )
        self.task_role = task_role(
            f"{name}-task", region=region, statements=list(args.task_statements), tags=tags, parent=parent
        )
        self.task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            region=region,
            family=self.family_name,
            cpu=str(args.cpu),
            memory=str(args.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=args.cpu_architecture
            ),
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name=TMP_VOLUME)],
            container_definitions=pulumi.Output.json_dumps([self._container(c) for c in args.containers]),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=parent),
        )

    @property
    def family(self) -> pulumi.Output[str]:
        return self.task_definition.family

    def _container(self, spec: ContainerSpec) -> dict[str, object]:
        args = self.args
        return hardened_container(
            name=spec.name,
            image=args.image_uri,
            user=args.run_as_user,
            log_group_name=self.log_group.name,
            region=args.aws_region,
            environment={**args.environment, **spec.environment},
            secrets={**args.secrets, **spec.secrets},
            command=spec.command,
            port=spec.port,
            essential=spec.essential,
            depends_on=spec.depends_on,
        )
