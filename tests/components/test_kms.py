"""`key_policy`: administrators manage a key, named services only use it, and only on this account's behalf.

AWS facts (KMS developer guide, "Default key policy": the `arn:aws:iam::<account>:root` principal with `kms:*`
delegates key access to the account's IAM policies; "Permissions for AWS services in key policies": a service
principal with a `aws:SourceAccount` (or encryption-context) condition cannot be used by another account; CloudWatch
Logs identifies itself with `kms:EncryptionContext:aws:logs:arn`, CloudWatch Logs user guide, "Encrypt log data in
CloudWatch Logs using AWS KMS").
"""

from __future__ import annotations

import json
from typing import Any

from components.kms import key_policy
from tests.components.outputs import resolved

ACCOUNT = "123456789012"
USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


def policy(*args: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(resolved(lambda: key_policy(*args)))
    return document


def test_without_services_only_the_account_administers_the_key() -> None:
    assert policy(ACCOUNT, []) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def test_services_may_only_use_the_key_for_this_account_by_default() -> None:
    _, use = policy(ACCOUNT, ["sns.amazonaws.com", "cloudwatch.amazonaws.com"])["Statement"]
    assert use == {
        "Sid": "ServiceUse",
        "Effect": "Allow",
        "Principal": {"Service": ["sns.amazonaws.com", "cloudwatch.amazonaws.com"]},
        "Action": USE,  # no kms:* and no key management (ScheduleKeyDeletion, PutKeyPolicy, ...)
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }


def test_a_caller_condition_replaces_the_account_pin() -> None:
    logs = {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:*"}}
    _, use = policy(ACCOUNT, ["logs.eu-west-1.amazonaws.com"], logs)["Statement"]
    assert use["Condition"] == logs
