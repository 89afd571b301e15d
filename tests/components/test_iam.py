"""IAM statement builders on their own: what they refuse, and that each grant names exactly its resources.

AWS facts: the `rds-db:connect` resource is `arn:${Partition}:rds-db:${Region}:${Account}:dbuser:${DbiResourceId}/
${DbUserName}` (Service Authorization Reference, "Actions, resources, and condition keys for Amazon RDS IAM
Authentication"); Secrets Manager sets `SecretARN` in the KMS encryption context of every data key it requests
(Secrets Manager user guide, "Secret encryption and decryption"), and `kms:ViaService` is
`secretsmanager.<region>.amazonaws.com` for its calls (KMS developer guide, "kms:ViaService").
"""

from __future__ import annotations

import json

import pulumi
import pytest

from components import iam
from components.iam import allow, connect_to_databases, policy_json, rds_db_user_arn, read_secrets
from tests.components.outputs import resolved

ACCOUNT = "123456789012"


def test_allow_builds_one_statement() -> None:
    statement = allow(["s3:GetObject"], ["arn:aws:s3:::b/*"], "Read", {"Bool": {"aws:SecureTransport": "true"}})
    assert statement == {
        "Sid": "Read",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": ["arn:aws:s3:::b/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "true"}},
    }
    assert "Condition" not in allow(["s3:GetObject"], ["arn:aws:s3:::b/*"], "Read")


def test_a_star_resource_only_for_actions_iam_cannot_scope() -> None:
    assert allow(["ecr:GetAuthorizationToken"], ["*"], "EcrLogin")["Resource"] == ["*"]
    with pytest.raises(
        ValueError, match=r"statement Pull: '\*' resource is only allowed for \['ecr:GetAuthorizationToken'\]"
    ):
        allow(["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], ["*"], "Pull")


@pytest.mark.parametrize("action", ["s3:*", "s3:Get*", "*"])
def test_wildcard_actions_are_refused(action: str) -> None:
    with pytest.raises(ValueError, match="wildcard actions are not allowed"):
        allow([action], ["arn:aws:s3:::b"], "Wide")


@pytest.mark.parametrize(
    ("instance_arn", "expected"),
    [
        ("arn:aws:rds:eu-west-1:123456789012:db:app-eu", "arn:aws:rds-db:eu-west-1:123456789012:dbuser:db-ABC/app"),
        (
            "arn:aws-cn:rds:cn-north-1:210987654321:db:app-cn",
            "arn:aws-cn:rds-db:cn-north-1:210987654321:dbuser:db-ABC/app",
        ),
    ],
)
def test_the_connect_arn_keeps_the_instances_partition_region_and_account(instance_arn: str, expected: str) -> None:
    assert resolved(lambda: rds_db_user_arn(instance_arn, "db-ABC", "app")) == expected


def test_connect_grants_exactly_the_listed_instances_as_exactly_one_user() -> None:
    assert connect_to_databases([], "app", "Connect") == []
    instances = [("arn:aws:rds:eu-west-1:1:db:a", "db-A"), ("arn:aws:rds:us-east-1:1:db:b", "db-B")]
    [statement] = resolved(lambda: connect_to_databases(instances, "reader", "Connect"))
    assert statement["Action"] == ["rds-db:connect"]
    assert statement["Resource"] == [
        "arn:aws:rds-db:eu-west-1:1:dbuser:db-A/reader",
        "arn:aws:rds-db:us-east-1:1:dbuser:db-B/reader",
    ]


def test_reading_secrets_decrypts_only_through_secrets_manager_for_those_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(iam, "account_id", lambda: pulumi.Output.from_input(ACCOUNT))
    assert read_secrets([], "Read") == []
    eu = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db-AbCdEf"
    us = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:token-GhIjKl"
    get, decrypt = resolved(lambda: read_secrets([eu, us], "Read"))
    assert (get["Sid"], get["Action"], get["Resource"]) == ("Read", ["secretsmanager:GetSecretValue"], [eu, us])
    assert (decrypt["Sid"], decrypt["Action"]) == ("ReadDecrypt", ["kms:Decrypt"])
    # Keys of the secrets' own regions, used only by Secrets Manager there, only for these secrets.
    assert decrypt["Resource"] == [f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*"]
    assert decrypt["Condition"] == {
        "StringEquals": {
            "kms:ViaService": ["secretsmanager.eu-west-1.amazonaws.com", "secretsmanager.us-east-1.amazonaws.com"],
            "kms:EncryptionContext:SecretARN": [eu, us],
        }
    }


def test_policy_json_is_a_versioned_document() -> None:
    statement = allow(["s3:GetObject"], ["arn:aws:s3:::b/*"], "Read")
    assert json.loads(resolved(lambda: policy_json([statement]))) == {"Version": "2012-10-17", "Statement": [statement]}
