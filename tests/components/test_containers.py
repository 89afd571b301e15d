"""`hardened_container` and `execution_statements`: the defaults every task's containers run with, and what they
refuse.

AWS facts (ECS developer guide, task definition parameters): `user` is `uid`, `uid:gid`, `user` or `user:group`,
and root is uid 0; `readonlyRootFilesystem`, `linuxParameters.capabilities.drop` ("ALL" drops every capability) and
`initProcessEnabled` are container settings; `secrets` entries are `{name, valueFrom}` and `environment` entries
`{name, value}`; the awslogs driver takes `awslogs-group`, `awslogs-region` and `awslogs-stream-prefix`.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.containers import TMP_VOLUME, execution_statements, hardened_container
from tests.components.outputs import resolved


def container(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "app",
        "image": "repo@sha256:0",
        "user": "10001:10001",
        "log_group_name": "/ecs/app",
        "region": "eu-west-1",
    }
    return hardened_container(**{**base, **overrides})


def test_runs_unprivileged_on_a_read_only_root_with_only_tmp_writable() -> None:
    definition = container()
    assert (definition["user"], definition["privileged"], definition["readonlyRootFilesystem"]) == (
        "10001:10001",
        False,
        True,
    )
    assert definition["linuxParameters"] == {"capabilities": {"drop": ["ALL"]}, "initProcessEnabled": True}
    assert definition["mountPoints"] == [{"sourceVolume": TMP_VOLUME, "containerPath": "/tmp", "readOnly": False}]  # noqa: S108


@pytest.mark.parametrize("user", ["0", "0:0", "root", "root:root", "", ":10001"])
def test_root_or_no_user_is_refused(user: str) -> None:
    with pytest.raises(ValueError, match=rf"^container app: user '{user}'; allowed: a non-root uid\[:gid\]$"):
        container(user=user)


def test_environment_and_secrets_are_separate_and_sorted() -> None:
    definition = container(environment={"B": "2", "A": "1"}, secrets={"TOKEN": "arn:t", "DB": "arn:d"})
    assert definition["environment"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert definition["secrets"] == [{"name": "DB", "valueFrom": "arn:d"}, {"name": "TOKEN", "valueFrom": "arn:t"}]
    with pytest.raises(ValueError, match=r"^container app: DB given both as plain environment and as a secret$"):
        container(environment={"DB": "postgres://"}, secrets={"DB": "arn:d"})


def test_logs_go_to_the_tasks_group_in_its_region_under_the_container_name() -> None:
    assert container(name="migrate")["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {"awslogs-group": "/ecs/app", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "migrate"},
    }


def test_optional_parts_appear_only_when_given() -> None:
    bare = container()
    assert not {"command", "portMappings", "dependsOn"} & set(bare)
    full = container(command=("python", "-m", "app"), port=8000, depends_on=[("migrate", "SUCCESS")], essential=False)
    assert full["command"] == ["python", "-m", "app"]
    assert full["portMappings"] == [{"containerPort": 8000, "protocol": "tcp"}]
    assert full["dependsOn"] == [{"containerName": "migrate", "condition": "SUCCESS"}]
    assert full["essential"] is False


def test_execution_role_pulls_one_repository_writes_one_group_reads_only_injected_secrets() -> None:
    repository = "arn:aws:ecr:eu-west-1:123456789012:repository/app"
    group = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/app"
    statements = resolved(lambda: execution_statements(repository_arn=repository, log_group_arn=group, secret_arns=[]))
    assert [(s["Sid"], s["Resource"]) for s in statements] == [
        ("EcrLogin", ["*"]),
        ("EcrPullThisRepository", [repository]),
        ("WriteThisLogGroup", [f"{group}:log-stream:*"]),
    ]
    assert statements[0]["Action"] == ["ecr:GetAuthorizationToken"]  # the one action IAM cannot scope
