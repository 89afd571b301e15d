"""Customer-managed KMS keys with rotation on and a key policy naming exactly who may use them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from components.aws_account import account_id
from components.naming import physical_name


def key_policy(
    account: pulumi.Input[str],
    service_principals: Sequence[str],
    service_condition: Mapping[str, object] | None = None,
) -> pulumi.Output[str]:
    """Account administrators manage the key; the named AWS services may only use it, on this account's behalf.

    The default condition pins use to this account (`aws:SourceAccount`); CloudWatch Logs instead identifies
    itself by the log group ARN in the encryption context, so callers pass that condition for log keys.
    """
    statements: list[dict[str, object]] = [
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": pulumi.Output.concat("arn:aws:iam::", account, ":root")},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if service_principals:
        statements.append(
            {
                "Sid": "ServiceUse",
                "Effect": "Allow",
                "Principal": {"Service": list(service_principals)},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
                "Condition": service_condition or {"StringEquals": {"aws:SourceAccount": account}},
            }
        )
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})


def encryption_key(
    name: str,
    *,
    region: str,
    description: str,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
    service_principals: Sequence[str] = (),
    service_condition: Mapping[str, object] | None = None,
    protect: bool = False,
) -> aws.kms.Key:
    """A symmetric CMK in `region` with yearly rotation, a 30-day deletion window and an alias named after it and the
    stack (aliases are unique per account and region, components/naming.py)."""
    key = aws.kms.Key(
        name,
        region=region,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=key_policy(account_id(), service_principals, service_condition),
        tags={**tags, "Name": name},
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    aws.kms.Alias(
        f"{name}-alias",
        region=region,
        name=f"alias/{physical_name(name, separator='/')}",
        target_key_id=key.key_id,
        opts=pulumi.ResourceOptions(parent=key),
    )
    return key


def logs_key(
    name: str, *, region: str, tags: Mapping[str, str], parent: pulumi.Resource, protect: bool = False
) -> aws.kms.Key:
    """A key CloudWatch Logs in `region` may use for this account's log groups (flow logs, ECS, RDS exports)."""
    log_groups = pulumi.Output.concat("arn:aws:logs:", region, ":", account_id(), ":log-group:*")
    return encryption_key(
        name,
        region=region,
        description=f"CloudWatch Logs encryption in {region}",
        tags=tags,
        parent=parent,
        service_principals=[f"logs.{region}.amazonaws.com"],
        service_condition={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
        protect=protect,
    )
