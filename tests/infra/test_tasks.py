"""The task building blocks (components/fargate_task.py, components/scheduled_task.py): their argument checks, and
that every ECS task of a stack is built by them, so none misses the hardening."""

from __future__ import annotations

import json

import pytest

from components.fargate_task import ContainerSpec, FargateTaskArgs
from components.scheduled_task import ScheduledTaskArgs
from offline.harness import Evaluation

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"


def _task(**overrides: object) -> FargateTaskArgs:
    values: dict[str, object] = {
        "aws_region": "eu-west-1",
        "image_uri": "repo@sha256:00",
        "repository_arn": "arn:aws:ecr:eu-west-1:123456789012:repository/app",
        "containers": [ContainerSpec("main")],
        **overrides,
    }
    return FargateTaskArgs(**values)  # type: ignore[arg-type]


def test_a_task_needs_a_container_with_a_distinct_name() -> None:
    with pytest.raises(ValueError, match="at least one container"):
        _task(containers=[])
    with pytest.raises(ValueError, match="distinct"):
        _task(containers=[ContainerSpec("a"), ContainerSpec("a")])


def test_a_name_is_either_environment_or_secret() -> None:
    with pytest.raises(ValueError, match="TOKEN given both"):
        _task(environment={"TOKEN": "x"}, secrets={"TOKEN": "arn:aws:secretsmanager:eu-west-1:1:secret:t"})


def test_execution_role_reads_the_injected_secrets_unless_told_otherwise() -> None:
    assert _task(secrets={"B": "arn-b", "A": "arn-a"}).readable_secret_arns == ["arn-a", "arn-b"]
    assert _task(secrets={"A": "arn-a:url::"}, secret_arns=["arn-a"]).readable_secret_arns == ["arn-a"]


@pytest.mark.parametrize("expression", ["rate(5 minutes)", "cron(0/5 * * * ? *)", "at(2027-01-01T00:00:00)"])
def test_schedule_expressions_scheduler_accepts(expression: str) -> None:
    ScheduledTaskArgs(
        task=_task(), schedule_expression=expression, subnet_ids=[], security_group_id="sg", description=""
    )


@pytest.mark.parametrize("expression", ["*/5 * * * *", "every 5 minutes", "rate(5 minutes"])
def test_other_schedule_expressions_are_refused_naming_the_value(expression: str) -> None:
    with pytest.raises(ValueError, match="schedule_expression") as error:
        ScheduledTaskArgs(
            task=_task(), schedule_expression=expression, subnet_ids=[], security_group_id="sg", description=""
        )
    assert repr(expression) in str(error.value)


def test_every_task_definition_is_hardened(each_stack: Evaluation) -> None:
    definitions = each_stack.of_type(TASK_DEFINITION)
    assert len(definitions) >= 2  # the app's and the pipeline's at least
    for definition in definitions:
        assert definition.inputs["requiresCompatibilities"] == ["FARGATE"]
        assert definition.inputs["networkMode"] == "awsvpc"
        for container in json.loads(definition.inputs["containerDefinitions"]):
            assert container["readonlyRootFilesystem"] is True, definition.name
            assert container["linuxParameters"]["capabilities"]["drop"] == ["ALL"], definition.name
            assert container["user"].split(":")[0] not in ("0", "root"), definition.name
            assert container["logConfiguration"]["logDriver"] == "awslogs", definition.name


def test_every_schedule_is_encrypted_with_a_customer_managed_key_its_role_may_use(each_stack: Evaluation) -> None:
    """EventBridge Scheduler encrypts a schedule's target and input with an AWS-owned key unless the schedule names a
    customer-managed one (`KmsKeyArn`, Scheduler user guide, "Encryption at rest"); the role that invokes the target
    must be able to decrypt with it."""
    schedules = each_stack.of_type("aws:scheduler/schedule:Schedule")
    assert schedules
    keys = {k.outputs["arn"]: k for k in each_stack.of_type("aws:kms/key:Key")}
    policies = {
        p.inputs["role"]: json.loads(p.inputs["policy"]) for p in each_stack.of_type("aws:iam/rolePolicy:RolePolicy")
    }
    roles = {r.outputs["arn"]: r for r in each_stack.of_type("aws:iam/role:Role")}
    for schedule in schedules:
        key = keys[schedule.inputs["kmsKeyArn"]]
        assert key.region == schedule.region, schedule.name
        assert key.inputs["enableKeyRotation"] is True
        role = roles[schedule.inputs["target"]["roleArn"]]
        statements = policies[role.outputs["id"]]["Statement"]
        decrypt = [s for s in statements if "kms:Decrypt" in s["Action"]]
        assert decrypt == [
            {
                "Sid": "DecryptTheScheduleWithItsKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [key.outputs["arn"]],
            }
        ]
