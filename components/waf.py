"""The CloudFront web ACL: AWS managed rule groups for common exploits and bad inputs, plus a per-IP rate limit."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

# WAF for CloudFront (scope CLOUDFRONT) exists only in us-east-1.
CLOUDFRONT_WAF_REGION = "us-east-1"
# AWS managed rule groups ("Baseline rule groups" in the WAF developer guide): OWASP-style common exploits and
# request patterns known to be malicious (Log4j lookups, Java deserialization, ...).
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
RATE_WINDOW_SECONDS = 300  # the limit counts requests per IP over 5 minutes


def _no_override() -> aws.wafv2.WebAclRuleOverrideActionNoneArgs:
    return aws.wafv2.WebAclRuleOverrideActionNoneArgs()  # type: ignore[no-untyped-call]


def _visibility(metric: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
    return aws.wafv2.WebAclRuleVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def cloudfront_web_acl(
    name: str, *, rate_limit_per_ip: int, tags: Mapping[str, str], parent: pulumi.Resource
) -> aws.wafv2.WebAcl:
    """Rate limit first (a flood is cut before the managed groups spend capacity on it), then the managed groups."""
    rate_rule = aws.wafv2.WebAclRuleArgs(
        name="rate-limit-per-ip",
        priority=0,
        action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
        statement=aws.wafv2.WebAclRuleStatementArgs(
            rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                limit=rate_limit_per_ip, aggregate_key_type="IP", evaluation_window_sec=RATE_WINDOW_SECONDS
            )
        ),
        visibility_config=_visibility(f"{name}-rate-limit"),
    )
    managed_rules = [
        aws.wafv2.WebAclRuleArgs(
            name=group,
            priority=index,
            # "none": keep each managed rule's own block actions (the alternative, "count", only observes).
            override_action=aws.wafv2.WebAclRuleOverrideActionArgs(none=_no_override()),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                    vendor_name="AWS", name=group
                )
            ),
            visibility_config=_visibility(f"{name}-{group}"),
        )
        for index, group in enumerate(MANAGED_RULE_GROUPS, start=1)
    ]
    return aws.wafv2.WebAcl(
        name,
        region=CLOUDFRONT_WAF_REGION,
        scope="CLOUDFRONT",
        description="CloudFront: managed common and known-bad-input rules, per-IP rate limit",
        default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
        rules=[rate_rule, *managed_rules],
        visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
            cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
        ),
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
