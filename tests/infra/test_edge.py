"""Edge tier (issue 5): CloudFront, WAF, the regional ALBs and the origin secret, as a reviewer checks a preview.

Expected values are written here or read from the stack's config (parsed with stacks/config.py), never taken from
the components, so dropping a setting from components/cdn*.py, waf.py, load_balancer.py or origin_secret.py
fails a test. Runs over both stacks plus one staging variant with non-default CDN knobs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components.certificate import CertificateArgs
from components.origin_secret import OriginSecretArgs
from offline.harness import DeclaredResource, Evaluation
from offline.mocks import AwsLikeMocks
from tests.infra.helpers import config_of

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
CACHE_POLICY = "aws:cloudfront/cachePolicy:CachePolicy"
ORIGIN_REQUEST_POLICY = "aws:cloudfront/originRequestPolicy:OriginRequestPolicy"
HEADERS_POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
ALB = "aws:lb/loadBalancer:LoadBalancer"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
RECORD = "aws:route53/record:Record"
CERTIFICATE = "aws:acm/certificate:Certificate"
CERT_VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
PASSWORD = "random:index/randomPassword:RandomPassword"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
KMS_KEY = "aws:kms/key:Key"
SUBNET = "aws:ec2/subnet:Subnet"

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed CachingDisabled
YEAR, HOUR = 31_536_000, 3_600
ALL_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
# The caching table of the issue: path pattern -> default TTL (None = never cached, PRIVATE = never cached but
# authenticated: tests/infra/test_analytics_aws.py checks those), in evaluation order.
PRIVATE = -1
CACHING_TABLE: list[tuple[str, int | None]] = [
    ("/api/analytics/stream", PRIVATE),
    ("/api/analytics/*", PRIVATE),
    ("/api/alerts*", PRIVATE),
    ("/api/reports*", PRIVATE),
    ("/dashboard*", PRIVATE),
    ("/api/*", None),
    ("/docs*", HOUR),
    ("/openapi.json", HOUR),
    ("/static/*", YEAR),
    ("/assets/*", YEAR),
    ("*.????????.js", YEAR),
    ("*.????????.css", YEAR),
]
CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
ORIGIN_HEADER = "X-Origin-Verify"
EDGE_COMPONENTS = {"global-api:edge:LoadBalancer", "global-api:edge:OriginSecret", "global-api:edge:Cdn"}
GLOBAL_TYPES = ("aws:cloudfront/", "aws:route53/", "random:")  # the only edge resources without a region
_SECRET_SIG = "4dabf18193072939515e22adb298388d"  # how the engine marks a secret value


@pytest.fixture(scope="session")
def cdn_variant(variant: Callable[..., Evaluation]) -> Evaluation:
    """Non-default CDN knobs, to prove price class and rate limit come from config."""
    return variant("staging", cdn={"priceClass": "PriceClass_100", "rateLimitPerIp": 500, "maxBodyBytes": 16_000})


@pytest.fixture(scope="session", params=["staging", "production", "cdn-variant"])
def stack(request: pytest.FixtureRequest, variant: Callable[..., Evaluation]) -> Evaluation:
    """Both committed stacks and the CDN variant."""
    if request.param == "cdn-variant":
        return request.getfixturevalue("cdn_variant")  # type: ignore[no-any-return]
    return variant(str(request.param))


def plain(value: Any) -> Any:
    """Inputs with the engine's secret markers removed (secret values are still checked, just unwrapped)."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG) is not None and "value" in value:
            return plain(value["value"])
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def inputs(resource: DeclaredResource) -> dict[str, Any]:
    return dict(plain(resource.inputs))


def distribution(e: Evaluation) -> dict[str, Any]:
    return inputs(e.one(DISTRIBUTION, "cdn-distribution"))


def by_output(e: Evaluation, type_token: str, value: str, key: str = "id") -> DeclaredResource:
    """The one resource of `type_token` whose output `key` is `value` (how inputs reference other resources)."""
    matches = [r for r in e.of_type(type_token) if r.outputs.get(key) == value]
    assert len(matches) == 1, f"no single {type_token} with {key} {value}"
    return matches[0]


def by_bucket(e: Evaluation, type_token: str, bucket: DeclaredResource) -> dict[str, Any]:
    matches = [inputs(r) for r in e.of_type(type_token) if r.inputs.get("bucket") == bucket.outputs["id"]]
    assert len(matches) == 1, f"no single {type_token} for {bucket.name}"
    return matches[0]


def app_regions(e: Evaluation) -> dict[str, str]:
    config = config_of(e)
    return {logical: config.aws_region_of(logical) for logical in config.app_regions}


def origin_secret_value(e: Evaluation) -> str:
    password = e.one(PASSWORD, "origin-verify-value")
    return str(password.outputs["result"])


# ---------------------------------------------------------------- CloudFront: caching


def test_caching_table_paths_ttls_and_policies(stack: Evaluation) -> None:
    dist = distribution(stack)
    behaviours = dist["orderedCacheBehaviors"]
    assert [b["pathPattern"] for b in behaviours] == [path for path, _ in CACHING_TABLE]
    for behaviour, (path, ttl) in zip(behaviours, CACHING_TABLE, strict=True):
        if ttl is None:
            assert behaviour["cachePolicyId"] == CACHING_DISABLED, path
            continue
        if ttl == PRIVATE:
            continue
        policy = inputs(by_output(stack, CACHE_POLICY, behaviour["cachePolicyId"]))
        assert (policy["defaultTtl"], policy["maxTtl"]) == (ttl, ttl), path
        assert policy["minTtl"] <= ttl, path
        key = policy["parametersInCacheKeyAndForwardedToOrigin"]
        # Nothing viewer-specific in a shared cache key; compressed variants cached separately.
        assert key["headersConfig"]["headerBehavior"] == "none", path
        assert key["cookiesConfig"]["cookieBehavior"] == "none", path
        assert key["queryStringsConfig"]["queryStringBehavior"] == "none", path
        assert key["enableAcceptEncodingGzip"] is True, path
        assert key["enableAcceptEncodingBrotli"] is True, path
        assert set(behaviour["allowedMethods"]) == {"GET", "HEAD", "OPTIONS"}, path
    assert dist["defaultCacheBehavior"]["cachePolicyId"] == CACHING_DISABLED
    assert "forwardedValues" not in dist["defaultCacheBehavior"]
    assert all("forwardedValues" not in b for b in behaviours)


def test_dynamic_api_is_uncached_takes_every_method_and_gets_the_viewer_country(stack: Evaluation) -> None:
    dist = distribution(stack)
    api = [dist["defaultCacheBehavior"], *(b for b in dist["orderedCacheBehaviors"] if b["pathPattern"] == "/api/*")]
    assert len(api) == 2
    for behaviour in api:
        assert set(behaviour["allowedMethods"]) == ALL_METHODS
        assert set(behaviour["cachedMethods"]) == {"GET", "HEAD"}
        policy = inputs(by_output(stack, ORIGIN_REQUEST_POLICY, behaviour["originRequestPolicyId"]))
        headers = policy["headersConfig"]
        assert headers["headerBehavior"] == "whitelist"
        forwarded = set(headers["headers"]["items"])
        assert "CloudFront-Viewer-Country" in forwarded
        assert "X-Consistency-Token" in forwarded
        # Spoofable viewer-sent geo headers must not reach the app behind CloudFront.
        assert not forwarded & {"CF-IPCountry", "X-AppEngine-Country", "Host"}
        assert policy["queryStringsConfig"]["queryStringBehavior"] == "all"
        assert set(policy["cookiesConfig"]["cookies"]["items"]) >= {"AWSALB"}


def test_every_behaviour_redirects_to_https_compresses_and_adds_security_headers(stack: Evaluation) -> None:
    dist = distribution(stack)
    for behaviour in [dist["defaultCacheBehavior"], *dist["orderedCacheBehaviors"]]:
        assert behaviour["viewerProtocolPolicy"] == "redirect-to-https"
        # Except the live stream: its events must not wait for a compressor.
        assert behaviour["compress"] is (behaviour.get("pathPattern") != "/api/analytics/stream")
        headers = inputs(by_output(stack, HEADERS_POLICY, behaviour["responseHeadersPolicyId"]))[
            "securityHeadersConfig"
        ]
        hsts = headers["strictTransportSecurity"]
        assert hsts["accessControlMaxAgeSec"] >= YEAR
        assert hsts["includeSubdomains"]
        assert hsts["override"]
        assert headers["contentTypeOptions"]["override"] is True
        assert headers["frameOptions"]["frameOption"] == "DENY"
        assert headers["referrerPolicy"]["referrerPolicy"] == "strict-origin-when-cross-origin"


def test_distribution_tls_protocols_and_config_knobs(stack: Evaluation) -> None:
    config, dist = config_of(stack), distribution(stack)
    assert dist["viewerCertificate"] == {
        "acmCertificateArn": config.domain.certificate_arn,
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    }
    assert dist["aliases"] == [config.domain.name]
    assert dist["httpVersion"] == "http2and3"
    assert dist["isIpv6Enabled"] is True
    assert dist["enabled"] is True
    assert dist["priceClass"] == config.cdn.price_class
    assert stack.one(DISTRIBUTION, "cdn-distribution").region is None  # CloudFront is global


def test_cdn_variant_really_changes_price_class(cdn_variant: Evaluation) -> None:
    assert distribution(cdn_variant)["priceClass"] == "PriceClass_100"


def test_origin_is_https_only_and_carries_the_secret_header(stack: Evaluation) -> None:
    [origin] = distribution(stack)["origins"]
    assert origin["domainName"] == f"origin.{config_of(stack).domain.name}"
    custom = origin["customOriginConfig"]
    assert custom["originProtocolPolicy"] == "https-only"
    assert custom["originSslProtocols"] == ["TLSv1.2"]
    assert origin["customHeaders"] == [{"name": ORIGIN_HEADER, "value": origin_secret_value(stack)}]
    secret_inputs = stack.one(DISTRIBUTION, "cdn-distribution").inputs["origins"]
    assert _SECRET_SIG in secret_inputs, "the origin (with the verify header) must be a secret input"


# ---------------------------------------------------------------- CloudFront: WAF, logs, DNS, alarm


def test_waf_in_us_east_1_with_managed_groups_and_rate_limit_on_the_distribution(stack: Evaluation) -> None:
    acl = stack.one(WEB_ACL, "cdn-waf")
    assert acl.region == "us-east-1"
    assert acl.inputs["scope"] == "CLOUDFRONT"
    assert distribution(stack)["webAclId"] == acl.outputs["arn"]
    rules = acl.inputs["rules"]
    managed = {
        r["statement"]["managedRuleGroupStatement"]["name"]
        for r in rules
        if "managedRuleGroupStatement" in r["statement"]
    }
    assert managed == {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}
    assert all(r["overrideAction"] == {"none": {}} for r in rules if "managedRuleGroupStatement" in r["statement"])
    [rate] = [r for r in rules if "rateBasedStatement" in r["statement"]]
    assert rate["statement"]["rateBasedStatement"]["limit"] == config_of(stack).cdn.rate_limit_per_ip
    assert rate["statement"]["rateBasedStatement"]["aggregateKeyType"] == "IP"
    assert rate["action"] == {"block": {}}
    assert len({r["priority"] for r in rules}) == len(rules)


def rule_named(e: Evaluation, name: str) -> dict[str, Any]:
    [rule] = [r for r in plain(e.one(WEB_ACL, "cdn-waf").inputs["rules"]) if r["name"] == name]
    return dict(rule)


def test_common_rule_set_counts_its_8kb_body_rule_and_our_limit_blocks_with_413(stack: Evaluation) -> None:
    """SizeRestrictions_BODY of AWSManagedRulesCommonRuleSet blocks every body over 8 KB (WAF developer guide,
    baseline rule groups); it only counts here, and our own rule blocks above cdn.maxBodyBytes (default 64 KiB)."""
    limit = config_of(stack).cdn.max_body_bytes
    common = rule_named(stack, "AWSManagedRulesCommonRuleSet")["statement"]["managedRuleGroupStatement"]
    assert common["ruleActionOverrides"] == [{"name": "SizeRestrictions_BODY", "actionToUse": {"count": {}}}]
    known_bad = rule_named(stack, "AWSManagedRulesKnownBadInputsRuleSet")["statement"]["managedRuleGroupStatement"]
    assert not known_bad.get("ruleActionOverrides")  # every known-bad-input rule keeps its block
    body = rule_named(stack, "body-size-limit")
    assert body["action"] == {"block": {"customResponse": {"responseCode": 413}}}
    size = body["statement"]["sizeConstraintStatement"]
    assert (size["comparisonOperator"], size["size"]) == ("GT", limit)
    # A body longer than WAF inspects is longer than the limit: it must match, not be judged by its prefix.
    assert size["fieldToMatch"] == {"body": {"oversizeHandling": "MATCH"}}
    assert body["priority"] < rule_named(stack, "AWSManagedRulesCommonRuleSet")["priority"]
    # CloudFront forwards 16 KB to WAF by default (WAF API reference, RequestBodyAssociatedResourceTypeConfig):
    # the inspection limit is raised so the whole allowed body is seen.
    acl = inputs(stack.one(WEB_ACL, "cdn-waf"))
    [request_body] = acl["associationConfig"]["requestBodies"]
    # The smallest of the sizes CloudFront can forward (KB_16 | KB_32 | KB_48 | KB_64) that holds the whole limit.
    smallest = next(kib for kib in (16, 32, 48, 64) if kib * 1024 >= limit)
    assert request_body["cloudfront"]["defaultSizeInspectionLimit"] == f"KB_{smallest}"


def test_small_body_limit_keeps_the_default_inspection_size(cdn_variant: Evaluation) -> None:
    acl = inputs(cdn_variant.one(WEB_ACL, "cdn-waf"))
    assert rule_named(cdn_variant, "body-size-limit")["statement"]["sizeConstraintStatement"]["size"] == 16_000
    assert acl["associationConfig"]["requestBodies"][0]["cloudfront"]["defaultSizeInspectionLimit"] == "KB_16"


def test_app_tasks_get_the_same_body_limit(stack: Evaluation) -> None:
    limit = str(config_of(stack).cdn.max_body_bytes)
    definitions = stack.of_type("aws:ecs/taskDefinition:TaskDefinition")
    app_tasks = [d for d in definitions if d.name.startswith("app-")]
    assert app_tasks
    for task in app_tasks:
        for container in json.loads(plain(task.inputs["containerDefinitions"])):
            environment = {item["name"]: item["value"] for item in container["environment"]}
            assert environment["REQUEST_MAX_BODY_BYTES"] == limit, task.name


def test_waf_logs_to_an_encrypted_expiring_group_with_secrets_redacted(stack: Evaluation) -> None:
    """Logging destinations must be named aws-waf-logs-... and, for CloudFront, live in us-east-1 (WAF API
    reference, LoggingConfiguration); the bearer token and the origin secret never reach the logs."""
    config = config_of(stack)
    acl = stack.one(WEB_ACL, "cdn-waf")
    [logging] = stack.of_type("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    assert logging.inputs["resourceArn"] == acl.outputs["arn"]
    assert logging.region == "us-east-1"
    [destination] = logging.inputs["logDestinationConfigs"]
    group = by_output(stack, "aws:cloudwatch/logGroup:LogGroup", destination, key="arn")
    assert group.region == "us-east-1"
    assert group.inputs["name"] == f"aws-waf-logs-global-api-{stack.stack}"
    assert group.inputs["retentionInDays"] == (365 if config.is_production else 30)
    key = by_output(stack, KMS_KEY, group.inputs["kmsKeyId"], key="arn")
    assert key.region == "us-east-1"
    assert key.inputs["enableKeyRotation"] is True
    redacted = {field["singleHeader"]["name"] for field in logging.inputs["redactedFields"]}
    assert redacted == {"authorization", "x-origin-verify"}
    [policy] = stack.of_type("aws:cloudwatch/logResourcePolicy:LogResourcePolicy")
    [statement] = json.loads(policy.inputs["policyDocument"])["Statement"]
    assert statement["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert statement["Resource"] == f"{group.outputs['arn']}:log-stream:*"
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


def test_cdn_variant_really_changes_rate_limit(cdn_variant: Evaluation) -> None:
    [rate] = [r for r in cdn_variant.one(WEB_ACL, "cdn-waf").inputs["rules"] if "rateBasedStatement" in r["statement"]]
    assert rate["statement"]["rateBasedStatement"]["limit"] == 500


def assert_private_encrypted_expiring(e: Evaluation, bucket: DeclaredResource, sse: str) -> None:
    public_access = by_bucket(e, PUBLIC_ACCESS, bucket)
    for setting in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert public_access[setting] is True, setting
    [rule] = by_bucket(e, ENCRYPTION, bucket)["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == sse
    assert by_bucket(e, VERSIONING, bucket)["versioningConfiguration"]["status"] == "Enabled"
    [lifecycle] = by_bucket(e, LIFECYCLE, bucket)["rules"]
    assert lifecycle["status"] == "Enabled"
    assert lifecycle["expiration"]["days"] == config_of(e).log_retention_days


def test_cloudfront_logs_bucket(stack: Evaluation) -> None:
    bucket = stack.one(BUCKET, "cdn-logs-bucket")
    logging = distribution(stack)["loggingConfig"]
    assert logging["bucket"] == bucket.outputs["bucketDomainName"]
    assert bucket.region == "us-east-1"
    assert_private_encrypted_expiring(stack, bucket, "AES256")
    # CloudFront standard logging writes through an ACL grant: ACLs must stay enabled for it.
    assert by_bucket(stack, OWNERSHIP, bucket)["rule"]["objectOwnership"] == "BucketOwnerPreferred"


def test_route53_alias_a_and_aaaa_for_the_domain(stack: Evaluation) -> None:
    config = config_of(stack)
    dist = stack.one(DISTRIBUTION, "cdn-distribution")
    records = [inputs(r) for r in stack.of_type(RECORD) if r.inputs.get("name") == config.domain.name]
    assert sorted(r["type"] for r in records) == ["A", "AAAA"]
    for record in records:
        assert record["zoneId"] == config.domain.hosted_zone_id
        assert record["aliases"] == [
            {
                "name": dist.outputs["domainName"],
                "zoneId": dist.outputs["hostedZoneId"],
                "evaluateTargetHealth": False,
            }
        ]


def alarms_named(e: Evaluation, suffix: str) -> list[DeclaredResource]:
    return [a for a in e.of_type(ALARM) if a.inputs["name"].endswith(suffix)]


def assert_notifies_own_region(e: Evaluation, alarm: DeclaredResource) -> None:
    topics = [t for t in e.of_type(TOPIC) if t.region == alarm.region]
    assert alarm.inputs["alarmActions"] == [topics[0].outputs["arn"]]


def test_cloudfront_5xx_rate_alarm_in_us_east_1(stack: Evaluation) -> None:
    [alarm] = alarms_named(stack, "-cdn-5xx-rate")
    dist = stack.one(DISTRIBUTION, "cdn-distribution")
    assert alarm.region == "us-east-1"
    assert alarm.inputs["namespace"] == "AWS/CloudFront"
    assert alarm.inputs["metricName"] == "5xxErrorRate"
    assert alarm.inputs["dimensions"] == {"DistributionId": dist.outputs["id"], "Region": "Global"}
    assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"
    assert alarm.inputs["threshold"] == 5
    assert_notifies_own_region(stack, alarm)


# ---------------------------------------------------------------- ALBs


def test_one_alb_per_app_region_in_its_region_internet_facing_in_public_subnets(stack: Evaluation) -> None:
    regions, production = app_regions(stack), config_of(stack).is_production
    assert {a.name for a in stack.of_type(ALB)} == {f"alb-{logical}-alb" for logical in regions}
    for logical, region in regions.items():
        alb = inputs(stack.one(ALB, f"alb-{logical}-alb"))
        assert alb["region"] == region
        assert alb["loadBalancerType"] == "application"
        assert alb["internal"] is False
        public = {r.outputs["id"] for r in stack.of_type(SUBNET) if r.name.startswith(f"network-{logical}-public-")}
        assert public
        assert set(alb["subnets"]) == public
        assert alb["dropInvalidHeaderFields"] is True
        assert alb["enableDeletionProtection"] is production


def cloudfront_prefix_list_id(region: str) -> str:
    """What the offline mocks answer for the CloudFront prefix-list lookup in `region` (same process, same id)."""
    answer = AwsLikeMocks(default_region=region).call(
        pulumi.runtime.MockCallArgs(
            "aws:ec2/getManagedPrefixList:getManagedPrefixList", {"name": CLOUDFRONT_PREFIX_LIST, "region": region}, ""
        )
    )
    return str(answer["id"])


def test_alb_admits_only_cloudfront_and_reaches_only_the_app(stack: Evaluation) -> None:
    for logical, region in app_regions(stack).items():
        alb = stack.one(ALB, f"alb-{logical}-alb")
        groups = [inputs(by_output(stack, SECURITY_GROUP, sg)) for sg in alb.inputs["securityGroups"]]
        ports: set[int] = set()
        for group in groups:
            assert group["region"] == region
            for rule in group["ingress"]:
                assert rule["prefixListIds"] == [cloudfront_prefix_list_id(region)]
                assert not rule.get("cidrBlocks")
                assert not rule.get("ipv6CidrBlocks")
                assert not rule.get("securityGroups")
                assert rule["fromPort"] == rule["toPort"]
                ports.add(rule["fromPort"])
        assert ports == {80, 443}
        app_sg = stack.one(SECURITY_GROUP, f"network-{logical}-app-sg").outputs["id"]
        egress = [rule for group in groups for rule in group.get("egress", [])]
        assert egress == [
            {
                "protocol": "tcp",
                "fromPort": 8000,
                "toPort": 8000,
                "securityGroups": [app_sg],
                "description": egress[0]["description"],
            }
        ]
        [to_app] = [inputs(r) for r in stack.of_type(INGRESS_RULE) if r.inputs.get("securityGroupId") == app_sg]
        assert to_app["referencedSecurityGroupId"] in alb.inputs["securityGroups"]
        assert (to_app["fromPort"], to_app["toPort"], to_app["ipProtocol"], to_app["region"]) == (
            8000,
            8000,
            "tcp",
            region,
        )


def test_listeners_redirect_http_and_forward_only_with_the_verify_header(stack: Evaluation) -> None:
    secret = origin_secret_value(stack)
    for logical, region in app_regions(stack).items():
        alb = stack.one(ALB, f"alb-{logical}-alb")
        listeners = {
            int(listener.inputs["port"]): listener
            for listener in stack.of_type(LISTENER)
            if listener.inputs["loadBalancerArn"] == alb.outputs["arn"]
        }
        assert set(listeners) == {80, 443}
        http = inputs(listeners[80])
        assert http["defaultActions"] == [
            {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}
        ]
        https = inputs(listeners[443])
        assert https["protocol"] == "HTTPS"
        assert https["region"] == region
        assert https["sslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2")
        assert https["defaultActions"][0]["type"] == "fixed-response"
        assert https["defaultActions"][0]["fixedResponse"]["statusCode"] == "403"
        validation = stack.one(CERT_VALIDATION, f"alb-{logical}-origin-validation")
        assert https["certificateArn"] == validation.outputs["certificateArn"]
        rules = [
            inputs(r) for r in stack.of_type(LISTENER_RULE) if r.inputs["listenerArn"] == listeners[443].outputs["arn"]
        ]
        [rule] = rules
        assert rule["conditions"] == [{"httpHeader": {"httpHeaderName": ORIGIN_HEADER, "values": [secret]}}]
        target_group = stack.one(TARGET_GROUP, f"alb-{logical}-tg")
        assert rule["actions"] == [{"type": "forward", "targetGroupArn": target_group.outputs["arn"]}]


def test_target_group_health_check_stickiness_and_drain(stack: Evaluation) -> None:
    for logical, region in app_regions(stack).items():
        group = inputs(stack.one(TARGET_GROUP, f"alb-{logical}-tg"))
        assert group["region"] == region
        assert (group["targetType"], group["port"], group["protocol"]) == ("ip", 8000, "HTTP")
        assert group["vpcId"] == stack.one("aws:ec2/vpc:Vpc", f"network-{logical}-vpc").outputs["id"]
        health = group["healthCheck"]
        assert health["enabled"] is True
        assert health["path"] == "/health"
        assert health["matcher"] == "200"
        assert group["stickiness"]["type"] == "lb_cookie"
        assert group["stickiness"]["enabled"] is True
        assert group["deregistrationDelay"] <= 60


def test_origin_certificates_dns_validated_in_the_alb_region(stack: Evaluation) -> None:
    domain, zone = config_of(stack).domain.name, config_of(stack).domain.hosted_zone_id
    for logical, region in app_regions(stack).items():
        cert = inputs(stack.one(CERTIFICATE, f"alb-{logical}-origin-cert"))
        assert cert["region"] == region
        assert cert["domainName"] == f"origin.{domain}"
        assert cert["subjectAlternativeNames"] == [f"{logical}.origin.{domain}"]
        assert cert["validationMethod"] == "DNS"
        names = {f"_x1.origin.{domain}.", f"_x1.{logical}.origin.{domain}."}
        records = [inputs(r) for r in stack.of_type(RECORD) if r.inputs["name"] in names]
        assert {r["name"] for r in records} == names
        assert all(r["zoneId"] == zone for r in records)
        assert not any(r.get("allowOverwrite") for r in records)  # declared once, owned by one resource
        validation = inputs(stack.one(CERT_VALIDATION, f"alb-{logical}-origin-validation"))
        assert validation["region"] == region
        assert sorted(validation["validationRecordFqdns"]) == sorted(r["name"].rstrip(".") for r in records)


def test_each_validation_record_is_declared_once_and_outlives_any_one_region(stack: Evaluation) -> None:
    """Every region's origin certificate validates origin.<domain> with the same CNAME; one resource owns it, under
    a parent that is no region's, so removing an app region cannot delete a record the others renew with."""
    domain = config_of(stack).domain.name
    validation = [r for r in stack.of_type(RECORD) if r.inputs["name"].startswith("_x1.")]
    names = [r.inputs["name"] for r in validation]
    assert len(names) == len(set(names)) == 1 + len(app_regions(stack))
    [shared] = [r for r in validation if r.inputs["name"] == f"_x1.origin.{domain}."]
    parent = stack.by_urn(shared.parent_urn)
    assert parent is not None
    assert parent.type == "global-api:edge:ValidationRecords"
    assert "LoadBalancer" not in parent.parent_urn


def test_alb_access_logs_to_a_private_encrypted_bucket_in_its_region(stack: Evaluation) -> None:
    for logical, region in app_regions(stack).items():
        bucket = stack.one(BUCKET, f"alb-{logical}-logs-bucket")
        alb = inputs(stack.one(ALB, f"alb-{logical}-alb"))
        assert alb["accessLogs"]["enabled"] is True
        assert alb["accessLogs"]["bucket"] == bucket.outputs["bucket"]
        assert bucket.region == region
        assert_private_encrypted_expiring(stack, bucket, "AES256")  # ALB log delivery supports SSE-S3 only
        statements = json.loads(by_bucket(stack, BUCKET_POLICY, bucket)["policy"])["Statement"]
        writers = [s for s in statements if s["Effect"] == "Allow" and s["Action"] == "s3:PutObject"]
        principals = [s["Principal"] for s in writers]
        assert {"AWS": "arn:aws:iam::156460612806:root"} in principals  # the mocks' ELB account for the region
        assert all("/alb/AWSLogs/" in s["Resource"] for s in writers)


def test_alb_alarms_and_thresholds(stack: Evaluation) -> None:
    for logical, region in app_regions(stack).items():
        alb = stack.one(ALB, f"alb-{logical}-alb")
        group = stack.one(TARGET_GROUP, f"alb-{logical}-tg")
        lb_dim = alb.outputs["arnSuffix"]

        [unhealthy] = alarms_named(stack, f"-alb-{logical}-unhealthy-hosts")
        assert (unhealthy.inputs["metricName"], unhealthy.inputs["threshold"]) == ("UnHealthyHostCount", 0)
        assert unhealthy.inputs["comparisonOperator"] == "GreaterThanThreshold"
        assert unhealthy.inputs["dimensions"] == {"LoadBalancer": lb_dim, "TargetGroup": group.outputs["arnSuffix"]}

        [latency] = alarms_named(stack, f"-alb-{logical}-p99-latency")
        assert (latency.inputs["metricName"], latency.inputs["extendedStatistic"]) == ("TargetResponseTime", "p99")
        assert latency.inputs["threshold"] == 0.1
        assert latency.inputs["comparisonOperator"] == "GreaterThanThreshold"

        for suffix, metric, threshold in (
            ("target-5xx-rate", "HTTPCode_Target_5XX_Count", 5),
            ("elb-5xx-rate", "HTTPCode_ELB_5XX_Count", 1),
        ):
            [alarm] = alarms_named(stack, f"-alb-{logical}-{suffix}")
            assert alarm.inputs["threshold"] == threshold
            assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"
            queries = {q["id"]: q for q in alarm.inputs["metricQueries"]}
            assert queries["errors"]["metric"]["metricName"] == metric
            assert queries["requests"]["metric"]["metricName"] == "RequestCount"
            assert queries["errors"]["metric"]["dimensions"] == {"LoadBalancer": lb_dim}
            assert queries["rate"]["returnData"] is True
            assert "errors" in queries["rate"]["expression"]

        for alarm in (unhealthy, latency):
            assert alarm.inputs["namespace"] == "AWS/ApplicationELB"
        region_alarms = [a for a in stack.of_type(ALARM) if f"-alb-{logical}-" in a.inputs["name"]]
        assert len(region_alarms) == 4
        for alarm in region_alarms:
            assert alarm.region == region
            assert_notifies_own_region(stack, alarm)


def edge_resources(e: Evaluation) -> list[DeclaredResource]:
    """Every custom resource under the edge components (ALBs, origin secret, CDN), however deep."""
    roots = {r.urn for r in e.resources if r.type in EDGE_COMPONENTS}
    assert roots
    found: list[DeclaredResource] = []
    for resource in e.resources:
        ancestor = resource.parent_urn
        while ancestor and ancestor not in roots:
            parent = e.by_urn(ancestor)
            ancestor = parent.parent_urn if parent else ""
        if ancestor and resource.custom:
            found.append(resource)
    return found


def test_every_regional_edge_resource_names_its_region(stack: Evaluation) -> None:
    expected, resources = {*app_regions(stack).values(), "us-east-1"}, edge_resources(stack)
    assert {ALB, WEB_ACL, DISTRIBUTION, SECRET} <= {r.type for r in resources}
    for resource in resources:
        if resource.type.startswith(GLOBAL_TYPES):
            assert resource.region is None, resource.name
        else:
            assert resource.region in expected, resource.name


# ---------------------------------------------------------------- origin secret and outputs


def test_origin_secret_random_header_safe_and_stored_per_app_region(stack: Evaluation) -> None:
    password = stack.one(PASSWORD, "origin-verify-value")
    assert password.inputs["length"] >= 32
    assert password.inputs["special"] is False
    secrets = {s.region: s for s in stack.of_type(SECRET) if s.name.startswith("origin-verify-")}
    assert set(secrets) == set(app_regions(stack).values())
    for region, secret in secrets.items():
        key = by_output(stack, KMS_KEY, secret.inputs["kmsKeyId"], key="arn")
        assert key.region == region
        [version] = [v for v in stack.of_type(SECRET_VERSION) if v.inputs["secretId"] == secret.outputs["id"]]
        assert version.region == region
        assert plain(version.inputs["secretString"]) == origin_secret_value(stack)
        assert _SECRET_SIG in version.inputs["secretString"]


def test_outputs(stack: Evaluation) -> None:
    dist = stack.one(DISTRIBUTION, "cdn-distribution")
    assert stack.outputs["cdnDomainName"] == dist.outputs["domainName"]
    assert stack.outputs["cdnDistributionId"] == dist.outputs["id"]
    assert set(stack.outputs["albDnsNames"]) == set(app_regions(stack))


# ---------------------------------------------------------------- bad input


def test_short_origin_secret_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match=r"OriginSecretArgs.length: got 16"):
        OriginSecretArgs(prefix="p", aws_regions=["eu-west-1"], length=16)
    with pytest.raises(ValueError, match=r"OriginSecretArgs.aws_regions"):
        OriginSecretArgs(prefix="p", aws_regions=[])


def test_certificate_without_zone_is_refused_with_the_name() -> None:
    with pytest.raises(ValueError, match=r"hosted_zone_id: required to DNS-validate origin.example.com"):
        CertificateArgs(region="eu-west-1", domain_name="origin.example.com")
