"""ECS container definitions and execution-role statements shared by every task (API service, pipeline).

One place decides how our containers run: non-root, read-only root file system with a task-local /tmp, every
Linux capability dropped, logs to the task's encrypted log group, secrets only through ECS `secrets`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

from components.iam import Statement, allow, read_secrets

TMP_VOLUME = "tmp"  # the task volume mounted on /tmp: the only writable path


def hardened_container(
    *,
    name: str,
    image: pulumi.Input[str],
    user: str,
    log_group_name: pulumi.Input[str],
    region: str,
    environment: Mapping[str, pulumi.Input[str]] | None = None,
    secrets: Mapping[str, pulumi.Input[str]] | None = None,
    command: Sequence[str] | None = None,
    port: int | None = None,
    essential: bool = True,
    depends_on: Sequence[tuple[str, str]] = (),  # (container name, condition)
) -> dict[str, object]:
    """A container definition with the project's security defaults; env and secrets sorted for stable diffs."""
    environment, secrets = environment or {}, secrets or {}
    both = sorted(set(environment) & set(secrets))
    if both:
        raise ValueError(f"container {name}: {', '.join(both)} given both as plain environment and as a secret")
    if user.split(":")[0] in ("0", "root", ""):
        raise ValueError(f"container {name}: user {user!r}; allowed: a non-root uid[:gid]")
    definition: dict[str, object] = {
        "name": name,
        "image": image,
        "essential": essential,
        "user": user,
        "privileged": False,
        "readonlyRootFilesystem": True,
        "linuxParameters": {"capabilities": {"drop": ["ALL"]}, "initProcessEnabled": True},
        "mountPoints": [{"sourceVolume": TMP_VOLUME, "containerPath": "/tmp", "readOnly": False}],  # noqa: S108
        "environment": [{"name": key, "value": environment[key]} for key in sorted(environment)],
        "secrets": [{"name": key, "valueFrom": secrets[key]} for key in sorted(secrets)],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": log_group_name, "awslogs-region": region, "awslogs-stream-prefix": name},
        },
        "stopTimeout": 30,
    }
    if command:
        definition["command"] = list(command)
    if port is not None:
        definition["portMappings"] = [{"containerPort": port, "protocol": "tcp"}]
    if depends_on:
        definition["dependsOn"] = [{"containerName": c, "condition": cond} for c, cond in depends_on]
    return definition


def execution_statements(
    *, repository_arn: pulumi.Input[str], log_group_arn: pulumi.Input[str], secret_arns: Sequence[pulumi.Input[str]]
) -> list[Statement]:
    """What ECS needs to start a task: pull from this repository, write this log group, read the injected secrets."""
    return [
        allow(["ecr:GetAuthorizationToken"], ["*"], "EcrLogin"),
        allow(
            ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            [repository_arn],
            "EcrPullThisRepository",
        ),
        allow(
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [pulumi.Output.concat(log_group_arn, ":log-stream:*")],
            "WriteThisLogGroup",
        ),
        *read_secrets(list(secret_arns), "ReadInjectedSecrets"),
    ]
