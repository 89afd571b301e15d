"""IAM building blocks shared by every ECS task (the API service and the analytics pipeline task).

Policies are plain JSON built with `pulumi.Output.json_dumps` (mocks cannot answer `get_policy_document`), every
statement names its resources, and trust policies pin the service to this account so another account's ECS cannot
assume our roles (the confused-deputy guard AWS recommends).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_account import account_id

Statement = dict[str, Any]

# Actions IAM cannot scope to a resource (AWS service authorization reference): the only ones allowed on "*".
UNSCOPABLE_ACTIONS = frozenset({"ecr:GetAuthorizationToken"})


def allow(
    actions: Sequence[str],
    resources: Sequence[pulumi.Input[str]],
    sid: str,
    condition: Mapping[str, object] | None = None,
) -> Statement:
    """One Allow statement; `*` only for actions IAM cannot scope (so a typo cannot widen a policy)."""
    if "*" in resources and not set(actions) <= UNSCOPABLE_ACTIONS:
        raise ValueError(f"statement {sid}: '*' resource is only allowed for {sorted(UNSCOPABLE_ACTIONS)}")
    if any("*" in action for action in actions):
        raise ValueError(f"statement {sid}: wildcard actions are not allowed ({', '.join(actions)})")
    statement: Statement = {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": list(resources)}
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def _region_of(arn: str) -> str:
    return arn.split(":")[3]


def read_secrets(secret_arns: Sequence[pulumi.Input[str]], sid: str) -> list[Statement]:
    """Read exactly these Secrets Manager secrets, including decrypting them if they use a customer-managed key.

    The secrets' KMS keys are not passed around, so decryption is granted on the secrets' regions' keys but only
    through Secrets Manager and only with these secrets' ARNs as encryption context (Secrets Manager sets
    `SecretARN` on every data key it asks KMS for): the role can decrypt these secrets and nothing else.
    """
    arns = [pulumi.Output.from_input(arn) for arn in secret_arns]
    if not arns:
        return []
    account = account_id()
    keys = [pulumi.Output.concat("arn:aws:kms:", arn.apply(_region_of), ":", account, ":key/*") for arn in arns]
    services = [pulumi.Output.concat("secretsmanager.", arn.apply(_region_of), ".amazonaws.com") for arn in arns]
    return [
        allow(["secretsmanager:GetSecretValue"], arns, sid),
        allow(
            ["kms:Decrypt"],
            keys,
            f"{sid}Decrypt",
            condition={"StringEquals": {"kms:ViaService": services, "kms:EncryptionContext:SecretARN": arns}},
        ),
    ]


def policy_json(statements: Sequence[Statement]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def service_trust_policy(service: str, *, pin_account: bool = True) -> pulumi.Output[str]:
    """Only `service` may assume the role, on behalf of this account (unless the service sends no source account,
    as EC2 does for instance profiles)."""
    statement: Statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if pin_account:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id()}}
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [statement]})


def ecs_tasks_trust_policy(region: str) -> pulumi.Output[str]:
    """Only ECS tasks of this account, in this region, may assume the role."""
    account = account_id()
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account},
                        "ArnLike": {"aws:SourceArn": pulumi.Output.concat("arn:aws:ecs:", region, ":", account, ":*")},
                    },
                }
            ],
        }
    )


def task_role(
    name: str,
    *,
    region: str,
    statements: Sequence[Statement],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """A role ECS tasks in `region` assume, with exactly `statements` inline (no managed policies attached)."""
    role = aws.iam.Role(
        name,
        assume_role_policy=ecs_tasks_trust_policy(region),
        tags={**tags, "Name": name},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    if statements:
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=policy_json(statements),
            opts=pulumi.ResourceOptions(parent=role),
        )
    return role


def rds_db_user_arn(instance_arn: pulumi.Input[str], resource_id: pulumi.Input[str], user: str) -> pulumi.Output[str]:
    """`arn:<partition>:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<user>`: the only resource type of
    `rds-db:connect` (Service Authorization Reference, "Actions, resources, and condition keys for Amazon RDS IAM
    Authentication"; RDS user guide, "Creating and using an IAM policy for IAM database access"); partition, region
    and account from the instance's ARN, the resource id (`db-…`, not the identifier) from the instance."""

    def arn(parts: list[str]) -> str:
        instance, dbi = parts
        fields = instance.split(":")
        return f"arn:{fields[1]}:rds-db:{fields[3]}:{fields[4]}:dbuser:{dbi}/{user}"

    return pulumi.Output.all(instance_arn, resource_id).apply(arn)


def connect_to_databases(
    instances: Sequence[tuple[pulumi.Input[str], pulumi.Input[str]]], user: str, sid: str
) -> list[Statement]:
    """IAM database authentication as exactly `user` on exactly these instances ((ARN, resource id) pairs)."""
    if not instances:
        return []
    return [allow(["rds-db:connect"], [rds_db_user_arn(arn, dbi, user) for arn, dbi in instances], sid)]
