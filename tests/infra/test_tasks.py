"""The task building blocks (components/fargate_task.py, components/scheduled_task.py) in the declared stacks: every
ECS task is hardened, every schedule encrypted with a key its role may use and started by a role only EventBridge
Scheduler of this account may assume. Their argument checks are tested on their own in tests/components."""

from __future__ import annotations

import json

from offline.harness import Evaluation
from offline.mocks import ACCOUNT_ID

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"


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


def test_every_scheduler_role_is_assumable_only_by_scheduler_for_this_account(each_stack: Evaluation) -> None:
    """The confused-deputy guard (EventBridge Scheduler user guide, "Set up the execution role"): only the Scheduler
    service, acting for this account, may assume the role that starts a task (components/iam.service_trust_policy)."""
    roles = {r.outputs["arn"]: r for r in each_stack.of_type("aws:iam/role:Role")}
    schedules = each_stack.of_type("aws:scheduler/schedule:Schedule")
    assert len(schedules) == 2  # the pipeline and the reports runner
    for schedule in schedules:
        trust = json.loads(roles[schedule.inputs["target"]["roleArn"]].inputs["assumeRolePolicy"])
        assert trust["Statement"] == [
            {
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
            }
        ], schedule.name
