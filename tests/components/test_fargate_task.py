"""The Fargate task building block's own rules: the task sizes Fargate accepts, and what a task definition may hold.

Task sizes are an AWS fact the mocks cannot check (RegisterTaskDefinition refuses a pair with "No Fargate
configuration exists for given values"). The valid pairs, from the ECS developer guide, "Troubleshoot Amazon ECS
task definition invalid CPU or memory errors"
(https://docs.aws.amazon.com/AmazonECS/latest/userguide/task-cpu-memory-error.html):
    256 (.25 vCPU)  512 MiB, 1 GB, 2 GB
    512 (.5 vCPU)   1 GB, 2 GB, 3 GB, 4 GB
    1024 (1 vCPU)   2 GB .. 8 GB in 1 GB steps
    2048 (2 vCPU)   4 GB .. 16 GB in 1 GB steps
    4096 (4 vCPU)   8 GB .. 30 GB in 1 GB steps
    8192 (8 vCPU)   16 GB .. 60 GB in 4 GB steps
    16384 (16 vCPU) 32 GB .. 120 GB in 8 GB steps
The table is written out again below from the guide, by hand and in GB, so a typo in the module cannot hide.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.fargate_task import (
    FARGATE_MEMORY_MIB,
    ContainerSpec,
    FargateTaskArgs,
    fargate_cpu_error,
    fargate_memory_error,
)

GB = 1024
DOCUMENTED_GB: dict[int, list[float]] = {
    256: [0.5, 1, 2],
    512: [1, 2, 3, 4],
    1024: [2, 3, 4, 5, 6, 7, 8],
    2048: list(range(4, 17)),
    4096: list(range(8, 31)),
    8192: list(range(16, 61, 4)),
    16384: list(range(32, 121, 8)),
}


def documented_mib(cpu: int) -> set[int]:
    return {int(gb * GB) for gb in DOCUMENTED_GB[cpu]}


def test_the_table_is_the_documented_one() -> None:
    assert {cpu: set(sizes) for cpu, sizes in FARGATE_MEMORY_MIB.items()} == {
        cpu: documented_mib(cpu) for cpu in DOCUMENTED_GB
    }


@pytest.mark.parametrize("cpu", sorted(DOCUMENTED_GB))
def test_every_documented_size_is_accepted_and_its_neighbours_are_not(cpu: int) -> None:
    assert fargate_cpu_error(cpu) is None
    allowed = documented_mib(cpu)
    for memory in allowed:
        assert fargate_memory_error(cpu, memory) is None, (cpu, memory)
    # Every MiB value from half the smallest to twice the largest that the guide does not list is refused.
    refused = [m for m in range(min(allowed) // 2, 2 * max(allowed) + 1, 256) if m not in allowed]
    assert refused
    for memory in refused:
        assert fargate_memory_error(cpu, memory) is not None, (cpu, memory)


def test_quarter_vcpu_has_no_one_and_a_half_gb() -> None:
    """The one row that is not an even range: 512, 1024, 2048. A min/max/step rule would let 1536 through."""
    assert fargate_memory_error(256, 1536) == "allowed with cpu 256: 512, 1024, 2048 MiB"


@pytest.mark.parametrize(
    ("cpu", "memory", "message"),
    [
        (512, 512, "allowed with cpu 512: 1024..4096 MiB in steps of 1024"),
        (2048, 4096 + 512, "allowed with cpu 2048: 4096..16384 MiB in steps of 1024"),
        (8192, 16384 + 1024, "allowed with cpu 8192: 16384..61440 MiB in steps of 4096"),
        (16384, 122880 + 8192, "allowed with cpu 16384: 32768..122880 MiB in steps of 8192"),
    ],
)
def test_a_refused_size_names_what_is_allowed_with_that_cpu(cpu: int, memory: int, message: str) -> None:
    assert fargate_memory_error(cpu, memory) == message


@pytest.mark.parametrize("cpu", [0, 128, 300, 768, 32768])
def test_undocumented_cpu_is_refused_with_the_documented_list(cpu: int) -> None:
    assert fargate_cpu_error(cpu) == "allowed: one of 256, 512, 1024, 2048, 4096, 8192, 16384"


def args(**overrides: Any) -> FargateTaskArgs:
    base: dict[str, Any] = {
        "aws_region": "eu-west-1",
        "image_uri": "repo@sha256:0",
        "repository_arn": "arn:aws:ecr:eu-west-1:123456789012:repository/app",
        "containers": [ContainerSpec("app")],
    }
    return FargateTaskArgs(**{**base, **overrides})


def test_the_defaults_are_a_valid_fargate_size() -> None:
    task = args()
    assert (task.cpu, task.memory) == (256, 512)


@pytest.mark.parametrize(
    ("cpu", "memory", "reason"),
    [
        (300, 512, "cpu 300, memory 512: allowed: one of 256, 512"),
        (256, 1536, "cpu 256, memory 1536: allowed with cpu 256: 512, 1024, 2048 MiB"),
        (1024, 1024, "cpu 1024, memory 1024: allowed with cpu 1024: 2048..8192 MiB"),
    ],
)
def test_a_task_of_a_size_fargate_refuses_fails_before_any_resource(cpu: int, memory: int, reason: str) -> None:
    with pytest.raises(ValueError, match=f"^FargateTaskArgs: {reason}"):
        args(cpu=cpu, memory=memory)


def test_containers_are_required_and_distinct() -> None:
    with pytest.raises(ValueError, match="containers: got none; allowed: at least one container"):
        args(containers=[])
    with pytest.raises(ValueError, match=r"names must be distinct \(got app, migrate, app\)"):
        args(containers=[ContainerSpec("app"), ContainerSpec("migrate"), ContainerSpec("app")])


def test_a_name_is_either_plain_environment_or_a_secret() -> None:
    with pytest.raises(ValueError, match=r"^FargateTaskArgs: B, C given both as plain environment and as a secret$"):
        args(environment={"A": "1", "B": "2", "C": "3"}, secrets={"C": "arn:c", "B": "arn:b", "D": "arn:d"})


def test_the_execution_role_reads_the_injected_secrets_unless_told_which() -> None:
    secrets = {
        "Z_TOKEN": "arn:aws:secretsmanager:eu-west-1:1:secret:z",
        "A_URL": "arn:aws:secretsmanager:eu-west-1:1:secret:a",
    }
    assert args(secrets=secrets).readable_secret_arns == [secrets["A_URL"], secrets["Z_TOKEN"]]
    # valueFrom with a JSON key (`<arn>:<key>::`) is not the secret's ARN: the caller names the secrets themselves.
    keyed = {"USER": "arn:aws:secretsmanager:eu-west-1:1:secret:db:username::"}
    whole = ["arn:aws:secretsmanager:eu-west-1:1:secret:db"]
    assert args(secrets=keyed, secret_arns=whole).readable_secret_arns == whole
    assert args(secrets=keyed, secret_arns=[]).readable_secret_arns == []
