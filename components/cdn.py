"""CloudFront in front of the regional ALBs: per-path caching, WAF, TLS 1.2+, security headers, logs, DNS.

The distribution is global; the pieces AWS keeps in us-east-1 (its WAF, its certificate, its metrics) are
created there. The origin is `origin.<domain>`, which Route 53 latency-routes to the nearest healthy ALB, and
every origin request carries the secret `X-Origin-Verify` header the ALBs insist on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.cdn_cache import (
    API_HEADERS,
    BEHAVIOURS,
    CACHED_METHODS,
    CACHING_DISABLED_POLICY_ID,
    DEFAULT_TIER,
    STICKINESS_COOKIES,
    CacheTier,
)
from components.dns import alias_record
from components.monitoring import AlarmSpec, Monitoring
from components.secure_bucket import SecureBucket, SecureBucketArgs
from components.waf import LOG_GROUP_PREFIX, cloudfront_web_acl, web_acl_logging
from contracts.headers import AUTHORIZATION, ORIGIN_VERIFY

CLOUDFRONT_REGION = "us-east-1"  # where CloudFront's WAF, certificates and metrics live
VIEWER_TLS_MINIMUM = "TLSv1.2_2021"
ORIGIN_ID = "regional-albs"
PriceClass = Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]


@dataclass(frozen=True)
class CdnArgs:
    """Inputs of the distribution. The domain's certificate must already exist in us-east-1."""

    domain_name: str  # the public API name (alias, A/AAAA records)
    hosted_zone_id: str
    certificate_arn: str  # ACM, us-east-1
    origin_host: str  # origin.<domain>: latency-routed to the ALBs
    origin_verify_value: pulumi.Input[str]
    monitoring: Monitoring
    name_prefix: str  # stack prefix: the WAF log group is named after it (log group names are unique per account)
    price_class: PriceClass = "PriceClass_All"
    rate_limit_per_ip: int = 2000  # WAF: requests per IP per 5 minutes
    max_body_bytes: int = 65536  # WAF: 413 above this body size (the app enforces the same limit)
    waf_log_retention_days: int = 365
    # CloudFront publishes CacheHitRate (and origin latency, error rates by code) only with additional metrics
    # (CreateMonitoringSubscription, CloudFront API reference), which cost extra per distribution: production only.
    additional_metrics: bool = True
    log_expire_days: int = 365
    destroy_logs_with_stack: bool = False
    error_rate_percent: float = 5.0  # CloudFront 5xxErrorRate alarm threshold
    hsts_max_age_seconds: int = 63_072_000  # 2 years, what HSTS preload lists ask for
    tags: Mapping[str, str] = field(default_factory=dict)


class Cdn(pulumi.ComponentResource):
    """The distribution and everything it needs: policies, WAF, log bucket, DNS records and an alarm."""

    distribution: aws.cloudfront.Distribution
    web_acl: aws.wafv2.WebAcl
    waf_log_group: aws.cloudwatch.LogGroup
    monitoring_subscription: aws.cloudfront.MonitoringSubscription | None  # None: no CacheHitRate metric
    logs: SecureBucket

    def __init__(self, name: str, args: CdnArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:edge:Cdn", name, None, opts)
        self.args = args
        child = pulumi.ResourceOptions(parent=self)
        self.web_acl = cloudfront_web_acl(
            f"{name}-waf",
            rate_limit_per_ip=args.rate_limit_per_ip,
            max_body_bytes=args.max_body_bytes,
            tags=args.tags,
            parent=self,
        )
        self.waf_log_group = web_acl_logging(
            f"{name}-waf",
            web_acl=self.web_acl,
            log_group_name=f"{LOG_GROUP_PREFIX}{args.name_prefix}",
            retention_days=args.waf_log_retention_days,
            tags=args.tags,
            parent=self,
        )
        self.logs = SecureBucket(
            f"{name}-logs",
            SecureBucketArgs(
                region=CLOUDFRONT_REGION,
                expire_after_days=args.log_expire_days,
                # CloudFront standard logging writes through a bucket ACL grant (awslogsdelivery), so ACLs must
                # stay enabled, and it cannot use an SSE-KMS bucket key: SSE-S3 it is.
                object_ownership="BucketOwnerPreferred",
                force_destroy=args.destroy_logs_with_stack,
                tags=args.tags,
            ),
            opts=child,
        )
        headers_policy = self._security_headers(name)
        self._api_request_policy = self._api_origin_request_policy(name)
        self._authenticated_request_policy: aws.cloudfront.OriginRequestPolicy | None = None
        tiers = list(dict.fromkeys(t for _, t in BEHAVIOURS))
        behaviour_policies = {tier.name: self._policies(name, tier) for tier in tiers}

        def behaviour_args(tier: CacheTier) -> dict[str, object]:
            cache_policy_id, origin_request_policy_id = behaviour_policies[tier.name]
            return {
                "target_origin_id": ORIGIN_ID,
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": list(tier.allowed_methods),
                "cached_methods": list(CACHED_METHODS),
                "compress": tier.compress,
                "cache_policy_id": cache_policy_id,
                "origin_request_policy_id": origin_request_policy_id,
                "response_headers_policy_id": headers_policy.id,
            }

        self.distribution = aws.cloudfront.Distribution(
            f"{name}-distribution",
            enabled=True,
            comment=f"{args.domain_name}: API and static assets from the regional ALBs",
            aliases=[args.domain_name],
            price_class=args.price_class,
            http_version="http2and3",
            is_ipv6_enabled=True,
            web_acl_id=self.web_acl.arn,
            origins=[
                aws.cloudfront.DistributionOriginArgs(
                    origin_id=ORIGIN_ID,
                    domain_name=args.origin_host,
                    custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                        origin_protocol_policy="https-only",
                        origin_ssl_protocols=["TLSv1.2"],
                        http_port=80,
                        https_port=443,
                        origin_keepalive_timeout=5,
                        origin_read_timeout=30,
                    ),
                    custom_headers=[
                        aws.cloudfront.DistributionOriginCustomHeaderArgs(
                            name=ORIGIN_VERIFY, value=args.origin_verify_value
                        )
                    ],
                )
            ],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                **behaviour_args(DEFAULT_TIER)  # type: ignore[arg-type]
            ),
            ordered_cache_behaviors=[
                aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                    path_pattern=pattern,
                    **behaviour_args(tier),  # type: ignore[arg-type]
                )
                for pattern, tier in BEHAVIOURS
            ],
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=args.certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version=VIEWER_TLS_MINIMUM,
            ),
            logging_config=aws.cloudfront.DistributionLoggingConfigArgs(
                bucket=self.logs.bucket.bucket_domain_name, prefix="cloudfront/", include_cookies=False
            ),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")
            ),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.logs]),
        )
        self.monitoring_subscription = (
            aws.cloudfront.MonitoringSubscription(
                f"{name}-additional-metrics",
                distribution_id=self.distribution.id,
                monitoring_subscription=aws.cloudfront.MonitoringSubscriptionMonitoringSubscriptionArgs(
                    realtime_metrics_subscription_config=(
                        aws.cloudfront.MonitoringSubscriptionMonitoringSubscriptionRealtimeMetricsSubscriptionConfigArgs(
                            realtime_metrics_subscription_status="Enabled"
                        )
                    )
                ),
                opts=pulumi.ResourceOptions(parent=self.distribution),
            )
            if args.additional_metrics
            else None
        )
        for record_type in ("A", "AAAA"):
            alias_record(
                f"{name}-{record_type.lower()}",
                zone_id=args.hosted_zone_id,
                record_name=args.domain_name,
                record_type=record_type,
                target_dns_name=self.distribution.domain_name,
                target_zone_id=self.distribution.hosted_zone_id,
                parent=self,
            )
        args.monitoring.alarm(
            AlarmSpec(
                name=f"{name}-5xx-rate",
                description=f"CloudFront {args.domain_name}: 5xx responses over {args.error_rate_percent}% of requests",
                namespace="AWS/CloudFront",
                metric_name="5xxErrorRate",
                dimensions={"DistributionId": self.distribution.id, "Region": "Global"},
                statistic="Average",
                threshold=args.error_rate_percent,
                evaluation_periods=3,
            ),
            region=CLOUDFRONT_REGION,
            parent=self,
        )
        self.register_outputs({"distributionId": self.distribution.id, "domainName": self.distribution.domain_name})

    def _policies(self, name: str, tier: CacheTier) -> tuple[pulumi.Input[str], pulumi.Input[str] | None]:
        """(cache policy id, origin request policy id) for one tier of the caching table."""
        if tier.authenticated:
            return self._cache_policy(name, tier).id, self._authenticated_origin_request_policy(name).id
        if tier.dynamic:
            return CACHING_DISABLED_POLICY_ID, self._api_request_policy.id
        return self._cache_policy(name, tier).id, None

    def _cache_policy(self, name: str, tier: CacheTier) -> aws.cloudfront.CachePolicy:
        """Shared tiers key on nothing viewer-specific; authenticated tiers key on who asks (see CacheTier)."""
        cf = aws.cloudfront
        key = cf.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs
        if tier.authenticated:
            headers = cf.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs(
                header_behavior="whitelist",
                headers=cf.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigHeadersArgs(
                    items=[AUTHORIZATION]
                ),
            )
            cookies, queries = "all", "all"
        else:
            headers = cf.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs(header_behavior="none")
            cookies, queries = "none", "none"
        return cf.CachePolicy(
            f"{name}-{tier.name}-cache",
            comment=f"{tier.name}: {tier.default_ttl} s by default, at most {tier.max_ttl} s",
            min_ttl=tier.min_ttl,
            default_ttl=tier.default_ttl,
            max_ttl=tier.max_ttl,
            parameters_in_cache_key_and_forwarded_to_origin=key(
                enable_accept_encoding_gzip=tier.compress,
                enable_accept_encoding_brotli=tier.compress,
                headers_config=headers,
                cookies_config=cf.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs(
                    cookie_behavior=cookies
                ),
                query_strings_config=cf.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs(
                    query_string_behavior=queries
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _authenticated_origin_request_policy(self, name: str) -> aws.cloudfront.OriginRequestPolicy:
        """The API's headers; cookies and query strings already travel in the authenticated cache key."""
        if self._authenticated_request_policy is None:
            cf = aws.cloudfront
            self._authenticated_request_policy = cf.OriginRequestPolicy(
                f"{name}-authenticated-origin-request",
                comment="Analytics and dashboard: viewer country and the API's headers (key carries the rest)",
                headers_config=cf.OriginRequestPolicyHeadersConfigArgs(
                    header_behavior="whitelist",
                    headers=cf.OriginRequestPolicyHeadersConfigHeadersArgs(items=list(API_HEADERS)),
                ),
                query_strings_config=cf.OriginRequestPolicyQueryStringsConfigArgs(query_string_behavior="none"),
                cookies_config=cf.OriginRequestPolicyCookiesConfigArgs(cookie_behavior="none"),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return self._authenticated_request_policy

    def _api_origin_request_policy(self, name: str) -> aws.cloudfront.OriginRequestPolicy:
        """The API sees the viewer's country (from CloudFront), its query, its stickiness cookie and its headers."""
        cf = aws.cloudfront
        return cf.OriginRequestPolicy(
            f"{name}-api-origin-request",
            comment="API: viewer country, the headers the API reads, all query strings, ALB stickiness cookies",
            headers_config=cf.OriginRequestPolicyHeadersConfigArgs(
                header_behavior="whitelist",
                headers=cf.OriginRequestPolicyHeadersConfigHeadersArgs(items=list(API_HEADERS)),
            ),
            query_strings_config=cf.OriginRequestPolicyQueryStringsConfigArgs(query_string_behavior="all"),
            cookies_config=cf.OriginRequestPolicyCookiesConfigArgs(
                cookie_behavior="whitelist",
                cookies=cf.OriginRequestPolicyCookiesConfigCookiesArgs(items=list(STICKINESS_COOKIES)),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _security_headers(self, name: str) -> aws.cloudfront.ResponseHeadersPolicy:
        """HSTS (with subdomains), nosniff, no framing, no cross-origin referrers; CloudFront's value wins."""
        cf = aws.cloudfront
        return cf.ResponseHeadersPolicy(
            f"{name}-security-headers",
            comment="HSTS, nosniff, frame DENY, strict referrer policy on every response",
            security_headers_config=cf.ResponseHeadersPolicySecurityHeadersConfigArgs(
                strict_transport_security=cf.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                    access_control_max_age_sec=self.args.hsts_max_age_seconds,
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                content_type_options=cf.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(override=True),
                frame_options=cf.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                    frame_option="DENY", override=True
                ),
                referrer_policy=cf.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                    referrer_policy="strict-origin-when-cross-origin", override=True
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
