"""The CloudFront web ACL: a per-IP rate limit, our own request-body limit, AWS managed rule groups, and logging.

Sources (AWS WAF developer guide and API reference):
- Baseline managed rule groups (aws-managed-rule-groups-baseline.html): `AWSManagedRulesCommonRuleSet` holds
  `SizeRestrictions_BODY`, which blocks every body over 8 KB; `AWSManagedRulesKnownBadInputsRuleSet` blocks request
  patterns known to be malicious (Log4j lookups, Java deserialization, ...).
- Body inspection (API_Body.html, API_RequestBodyAssociatedResourceTypeConfig.html): CloudFront forwards at most
  16 KB of a body to WAF unless the web ACL's AssociationConfig raises it to KB_32 | KB_48 | KB_64; a body beyond
  that limit is handled by the statement's `OversizeHandling`.
- Logging (API_LoggingConfiguration.html): the destination's name must start with `aws-waf-logs-`; for a CloudFront
  web ACL a CloudWatch Logs group must be in us-east-1; `RedactedFields` keep header values out of the logs.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from components.aws_account import account_id
from components.kms import logs_key
from contracts import headers

# WAF for CloudFront (scope CLOUDFRONT) exists only in us-east-1, and so must its CloudWatch Logs destination.
CLOUDFRONT_WAF_REGION = "us-east-1"
COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"
KNOWN_BAD_INPUTS_RULE_SET = "AWSManagedRulesKnownBadInputsRuleSet"
MANAGED_RULE_GROUPS = (COMMON_RULE_SET, KNOWN_BAD_INPUTS_RULE_SET)
# Managed rules switched to count: the 8 KB body cap would refuse invoices with many lines; `body-size-limit`
# below enforces our own, configured limit instead (cdn.maxBodyBytes, the same one the app answers 413 above).
COUNTED_MANAGED_RULES: Mapping[str, tuple[str, ...]] = {COMMON_RULE_SET: ("SizeRestrictions_BODY",)}
# What CloudFront can forward to WAF for inspection, in KiB (AssociationConfig DefaultSizeInspectionLimit).
BODY_INSPECTION_LIMITS_KIB = (16, 32, 48, 64)
MAX_INSPECTABLE_BODY_BYTES = BODY_INSPECTION_LIMITS_KIB[-1] * 1024
LOG_GROUP_PREFIX = "aws-waf-logs-"
# Header values that must never reach the logs: bearer tokens, and the CloudFront -> ALB secret (a viewer could send
# a guessed or leaked value; logging it would publish it to everyone who reads the logs).
REDACTED_HEADERS = (headers.AUTHORIZATION.lower(), headers.ORIGIN_VERIFY.lower())
RATE_WINDOW_SECONDS = 300  # the limit counts requests per IP over 5 minutes
PAYLOAD_TOO_LARGE = 413


def body_inspection_limit(max_body_bytes: int) -> str:
    """The smallest inspection limit that sees a whole body of `max_body_bytes` (beyond it WAF sees a prefix)."""
    for kib in BODY_INSPECTION_LIMITS_KIB:
        if max_body_bytes <= kib * 1024:
            return f"KB_{kib}"
    raise ValueError(
        f"max_body_bytes={max_body_bytes}: WAF for CloudFront inspects at most {MAX_INSPECTABLE_BODY_BYTES} bytes"
    )


def _visibility(metric: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
    return aws.wafv2.WebAclRuleVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def _rate_rule(name: str, priority: int, limit: int) -> aws.wafv2.WebAclRuleArgs:
    return aws.wafv2.WebAclRuleArgs(
        name="rate-limit-per-ip",
        priority=priority,
        action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
        statement=aws.wafv2.WebAclRuleStatementArgs(
            rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                limit=limit, aggregate_key_type="IP", evaluation_window_sec=RATE_WINDOW_SECONDS
            )
        ),
        visibility_config=_visibility(f"{name}-rate-limit"),
    )


def _body_size_rule(name: str, priority: int, max_body_bytes: int) -> aws.wafv2.WebAclRuleArgs:
    """413 for a body over the limit. A body beyond the inspection limit (which is at least the body limit) is over
    it too, so oversize handling MATCH blocks it instead of letting WAF judge a prefix."""
    wafv2 = aws.wafv2
    return wafv2.WebAclRuleArgs(
        name="body-size-limit",
        priority=priority,
        action=wafv2.WebAclRuleActionArgs(
            block=wafv2.WebAclRuleActionBlockArgs(
                custom_response=wafv2.WebAclRuleActionBlockCustomResponseArgs(response_code=PAYLOAD_TOO_LARGE)
            )
        ),
        statement=wafv2.WebAclRuleStatementArgs(
            size_constraint_statement=wafv2.WebAclRuleStatementSizeConstraintStatementArgs(
                comparison_operator="GT",
                size=max_body_bytes,
                field_to_match=wafv2.WebAclRuleStatementSizeConstraintStatementFieldToMatchArgs(
                    body=wafv2.WebAclRuleStatementSizeConstraintStatementFieldToMatchBodyArgs(oversize_handling="MATCH")
                ),
                text_transformations=[
                    wafv2.WebAclRuleStatementSizeConstraintStatementTextTransformationArgs(priority=0, type="NONE")
                ],
            )
        ),
        visibility_config=_visibility(f"{name}-body-size"),
    )


def _managed_rule(name: str, priority: int, group: str) -> aws.wafv2.WebAclRuleArgs:
    """The group with its own block actions ("none" override), except the rules listed in COUNTED_MANAGED_RULES."""
    wafv2 = aws.wafv2
    counted = [
        wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs(
            name=rule,
            action_to_use=wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs(
                count=wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs()
            ),
        )
        for rule in COUNTED_MANAGED_RULES.get(group, ())
    ]
    return wafv2.WebAclRuleArgs(
        name=group,
        priority=priority,
        override_action=wafv2.WebAclRuleOverrideActionArgs(
            none=wafv2.WebAclRuleOverrideActionNoneArgs()  # type: ignore[no-untyped-call]
        ),
        statement=wafv2.WebAclRuleStatementArgs(
            managed_rule_group_statement=wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                vendor_name="AWS", name=group, rule_action_overrides=counted or None
            )
        ),
        visibility_config=_visibility(f"{name}-{group}"),
    )


def cloudfront_web_acl(
    name: str,
    *,
    rate_limit_per_ip: int,
    max_body_bytes: int,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> aws.wafv2.WebAcl:
    """Rate limit first (a flood is cut before anything else spends capacity on it), the body limit, then the
    managed groups."""
    rules = [
        _rate_rule(name, 0, rate_limit_per_ip),
        _body_size_rule(name, 1, max_body_bytes),
        *(_managed_rule(name, index, group) for index, group in enumerate(MANAGED_RULE_GROUPS, start=2)),
    ]
    return aws.wafv2.WebAcl(
        name,
        region=CLOUDFRONT_WAF_REGION,
        scope="CLOUDFRONT",
        description="CloudFront: rate limit, body limit, managed common and known-bad-input rules",
        default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
        rules=rules,
        # The body limit must be fully visible to WAF (the provider's docs list this block for REGIONAL scope; the
        # API takes the CLOUDFRONT resource type for CloudFront web ACLs).
        association_config=aws.wafv2.WebAclAssociationConfigArgs(
            request_bodies=[
                aws.wafv2.WebAclAssociationConfigRequestBodyArgs(
                    cloudfront=aws.wafv2.WebAclAssociationConfigRequestBodyCloudfrontArgs(
                        default_size_inspection_limit=body_inspection_limit(max_body_bytes)
                    )
                )
            ]
        ),
        visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
            cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
        ),
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def web_acl_logging(
    name: str,
    *,
    web_acl: aws.wafv2.WebAcl,
    log_group_name: str,
    retention_days: int,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> aws.cloudwatch.LogGroup:
    """Every request WAF evaluates, to a KMS-encrypted, expiring log group, with secrets redacted.

    The delivery policy is declared here (scoped to this group) rather than left to WAF, which otherwise rewrites one
    shared account-wide policy (`AWSWAF-LOGS`) that can outgrow the policy size limit.
    """
    if not log_group_name.startswith(LOG_GROUP_PREFIX):
        raise ValueError(f"web_acl_logging: log group {log_group_name!r} must start with {LOG_GROUP_PREFIX}")
    region = CLOUDFRONT_WAF_REGION
    key = logs_key(f"{name}-logs-key", region=region, tags=tags, parent=parent)
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs",
        region=region,
        name=log_group_name,
        retention_in_days=retention_days,
        kms_key_id=key.arn,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    account = account_id()
    any_log_resource = pulumi.Output.concat("arn:aws:logs:", region, ":", account, ":*")
    policy = aws.cloudwatch.LogResourcePolicy(
        f"{name}-logs-delivery",
        region=region,
        policy_name=f"{log_group_name}-delivery",
        policy_document=pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "WafLogDelivery",
                        "Effect": "Allow",
                        "Principal": {"Service": "delivery.logs.amazonaws.com"},
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": pulumi.Output.concat(log_group.arn, ":log-stream:*"),
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": account},
                            "ArnLike": {"aws:SourceArn": any_log_resource},
                        },
                    }
                ],
            }
        ),
        opts=pulumi.ResourceOptions(parent=log_group),
    )
    aws.wafv2.WebAclLoggingConfiguration(
        f"{name}-logging",
        region=region,
        resource_arn=web_acl.arn,
        log_destination_configs=[log_group.arn],  # the group ARN itself, without a trailing ":*"
        redacted_fields=[
            aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name=header)
            )
            for header in REDACTED_HEADERS
        ],
        opts=pulumi.ResourceOptions(parent=web_acl, depends_on=[policy]),
    )
    return log_group
