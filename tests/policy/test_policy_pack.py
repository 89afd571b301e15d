"""The policy pack over every resource each stack declares (all pass), and over bad resources (each rule fires).

Policies are exercised through the real CrossGuard objects the pack serves, not just the plain rule functions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties

from offline.harness import DeclaredResource, Evaluation
from policy import rules
from policy.policies import POLICIES


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def _as_policy_resource(resource: DeclaredResource) -> PolicyResource:
    outputs = deserialize_properties(resource.outputs)
    return PolicyResource(resource.type, outputs, resource.urn, resource.name, _options(), None, None, [], {})


def run_pack(resources: list[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]) -> list[tuple[str, str]]:
    """Run every policy: resource policies see inputs, stack policies see outputs (as in a real preview).

    `resources` is (type, urn, inputs, outputs). Returns (policy name, message) for every violation.
    """
    found: list[tuple[str, str]] = []
    for policy in POLICIES:

        def report(message: str, urn: str | None = None, name: str = policy.name) -> None:
            found.append((name, message))

        if isinstance(policy, ResourceValidationPolicy):
            for type_, urn, inputs, _ in resources:
                policy.validate(ResourceValidationArgs(type_, inputs, urn, urn, _options(), None), report)
        elif isinstance(policy, StackValidationPolicy):
            stack = [PolicyResource(t, o, u, u, _options(), None, None, [], {}) for t, u, _, o in resources]
            policy.validate(StackValidationArgs(stack), report)
    return found


def declared(evaluation: Evaluation) -> list[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
    """As the engine hands them to CrossGuard: secret-marked values (e.g. CloudFront's origin header) unwrapped."""
    return [
        (r.type, r.urn, deserialize_properties(r.inputs), deserialize_properties(r.outputs))
        for r in evaluation.resources
    ]


def test_every_stack_passes_every_policy(each_stack: Evaluation) -> None:
    assert run_pack(declared(each_stack)) == []


def test_pack_has_every_promised_rule() -> None:
    names = {p.name for p in POLICIES}
    assert names == {
        "no-public-database",
        "storage-encrypted",
        "cloudfront-https-only",
        "no-ingress-from-anywhere",
        "no-unrestricted-egress",
        "no-wildcard-iam-actions",
        "production-databases-protected",
        "buckets-private-and-encrypted",
        "replicas-have-lag-alarms",
    }
    assert {p.enforcement_level.value for p in POLICIES} == {"mandatory"}  # type: ignore[union-attr]


def _one(type_: str, props: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
    return [(type_, f"urn:bad::{type_}", props, props)]


GOOD_DB = {
    "publiclyAccessible": False,
    "storageEncrypted": True,
    "deletionProtection": True,
    "tags": {"Environment": "production"},
    "region": "eu-west-1",
    "identifier": "db",
}
GOOD_DISTRIBUTION = {
    "defaultCacheBehavior": {"viewerProtocolPolicy": "redirect-to-https"},
    "orderedCacheBehaviors": [{"pathPattern": "/static/*", "viewerProtocolPolicy": "https-only"}],
    "viewerCertificate": {"minimumProtocolVersion": "TLSv1.2_2021"},
    "origins": [
        {
            "originId": "alb",
            "customOriginConfig": {"originProtocolPolicy": "https-only", "originSslProtocols": ["TLSv1.2"]},
        }
    ],
}

BAD_RESOURCES: list[tuple[str, list[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]]] = [
    ("no-public-database", _one(rules.RDS_INSTANCE, {**GOOD_DB, "publiclyAccessible": True})),
    ("no-public-database", _one(rules.LAUNCH_TEMPLATE, {"networkInterfaces": [{"associatePublicIpAddress": "true"}]})),
    ("storage-encrypted", _one(rules.RDS_INSTANCE, {**GOOD_DB, "storageEncrypted": False})),
    ("storage-encrypted", _one(rules.EBS_VOLUME, {"encrypted": False})),
    ("storage-encrypted", _one(rules.SNS_TOPIC, {})),
    (
        "cloudfront-https-only",
        _one(rules.DISTRIBUTION, {**GOOD_DISTRIBUTION, "defaultCacheBehavior": {"viewerProtocolPolicy": "allow-all"}}),
    ),
    (
        "cloudfront-https-only",
        _one(rules.DISTRIBUTION, {**GOOD_DISTRIBUTION, "viewerCertificate": {"minimumProtocolVersion": "TLSv1"}}),
    ),
    (
        "cloudfront-https-only",
        _one(
            rules.DISTRIBUTION,
            {
                **GOOD_DISTRIBUTION,
                "origins": [{"originId": "alb", "customOriginConfig": {"originProtocolPolicy": "match-viewer"}}],
            },
        ),
    ),
    (
        "no-ingress-from-anywhere",
        _one(rules.SECURITY_GROUP, {"ingress": [{"fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}]}),
    ),
    ("no-ingress-from-anywhere", _one(rules.SG_INGRESS_RULE, {"cidrIpv6": "::/0"})),
    (
        "no-unrestricted-egress",
        _one(
            rules.SECURITY_GROUP,
            {"egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]},
        ),
    ),
    ("no-unrestricted-egress", _one(rules.SG_EGRESS_RULE, {"ipProtocol": "-1", "cidrIpv4": "0.0.0.0/0"})),
    (
        "no-unrestricted-egress",
        _one(
            rules.SG_RULE,
            {"type": "egress", "protocol": "all", "fromPort": 0, "toPort": 65535, "cidrBlocks": ["0.0.0.0/0"]},
        ),
    ),
    ("storage-encrypted", _one(rules.SCHEDULE, {"scheduleExpression": "rate(5 minutes)"})),
    (
        "no-wildcard-iam-actions",
        _one(
            "aws:iam/rolePolicy:RolePolicy",
            {"policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})},
        ),
    ),
    (
        "no-wildcard-iam-actions",
        _one(
            "aws:iam/policy:Policy",
            {
                "policy": json.dumps(
                    {"Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": "arn:aws:s3:::b"}]}
                )
            },
        ),
    ),
    ("production-databases-protected", _one(rules.RDS_INSTANCE, {**GOOD_DB, "deletionProtection": False})),
    ("buckets-private-and-encrypted", _one(rules.S3_BUCKET, {"bucket": "logs", "id": "logs"})),
    (
        "replicas-have-lag-alarms",
        [
            (
                rules.RDS_INSTANCE,
                "urn:replica",
                {**GOOD_DB, "replicateSourceDb": "arn:primary", "identifier": "r1"},
                {**GOOD_DB, "replicateSourceDb": "arn:primary", "identifier": "r1"},
            ),
            (
                rules.METRIC_ALARM,
                "urn:alarm",
                {},
                {"metricName": "ReplicaLag", "region": "us-east-1", "dimensions": {"DBInstanceIdentifier": "r1"}},
            ),  # wrong region
        ],
    ),
]


@pytest.mark.parametrize(
    ("policy_name", "resources"), BAD_RESOURCES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD_RESOURCES)]
)
def test_each_rule_fires_on_a_bad_resource(
    policy_name: str, resources: list[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]
) -> None:
    assert {name for name, _ in run_pack(resources)} == {policy_name}


def test_good_examples_pass() -> None:
    good = [
        *_one(rules.RDS_INSTANCE, GOOD_DB),
        *_one(rules.DISTRIBUTION, GOOD_DISTRIBUTION),
        *_one(rules.SECURITY_GROUP, {"ingress": [{"fromPort": 443, "toPort": 443, "prefixListIds": ["pl-1"]}]}),
        # a named port to the internet (e.g. HTTPS through NAT for an API without an endpoint) is allowed
        *_one(
            rules.SECURITY_GROUP,
            {"egress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}]},
        ),
        *_one(rules.SCHEDULE, {"kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/k"}),
    ]
    assert run_pack(good) == []


def test_plain_rule_runner_agrees_with_the_pack(staging: Evaluation) -> None:
    """check_resources (used by scripts) sees the same clean stack through CrossGuard's resource objects."""
    assert rules.check_resources([_as_policy_resource(r) for r in staging.resources]) == []
    bad = _as_policy_resource(staging.of_type("aws:ec2/vpc:Vpc")[0])
    bucket = PolicyResource(rules.S3_BUCKET, {"bucket": "x"}, "urn:x", "x", _options(), None, None, [], {})
    assert rules.check_resources([bad, bucket]) == [
        ("bucket does not block all public access", "urn:x"),
        ("bucket has no default encryption", "urn:x"),
    ]
