"""The analytics features in AWS (issues 14 item 8, 15, 16 item 4): what the app, pipeline and reports tasks get, the
TimescaleDB network path from every app region, the SES identity and its DKIM records, the reports runner's schedule
and permissions, and the failed-run alarms. Expected values come from the stack's config and from other resources,
so a dropped setting fails here."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from app.db_roles import ANALYTICS_WRITER_ROLE, PIPELINE_ROLE
from offline.harness import DeclaredResource, Evaluation, try_evaluate
from offline.mocks import ACCOUNT_ID
from stacks.config import StackConfigError
from tests.infra.helpers import config_of, stack_config
from tests.infra.test_edge import plain
from tests.infra.test_service import secret_value

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
KEY = "aws:kms/key:Key"
SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
RANDOM = "random:index/randomPassword:RandomPassword"
IDENTITY = "aws:sesv2/emailIdentity:EmailIdentity"
RECORD = "aws:route53/record:Record"
SCHEDULE = "aws:scheduler/schedule:Schedule"
SCHEDULED_TASK = "global-api:tasks:ScheduledTask"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SUBNET = "aws:ec2/subnet:Subnet"
APP_SECRETS = {
    "ANALYTICS_DATABASE_URL": "analytics-reader-url",
    "ANALYTICS_WRITE_DATABASE_URL": "analytics-writer-url",
    "ANALYTICS_API_TOKENS": "analytics-api-tokens",
    "SESSION_SECRET": "session-secret",
}


@pytest.fixture(scope="module", params=["staging", "production", "three-regions-primary-us"])
def stack(request: pytest.FixtureRequest, variant: Callable[..., Evaluation]) -> Evaluation:
    if request.param == "three-regions-primary-us":
        return variant(
            "staging",
            appRegions=["eu", "us", "asia"],
            primaryRegion="us",
            aws_region="us-east-1",
            readReplicaRegions=["eu", "asia"],
        )
    return variant(str(request.param))


def containers(evaluation: Evaluation, definition: DeclaredResource) -> list[dict[str, Any]]:
    parsed: list[dict[str, Any]] = json.loads(definition.inputs["containerDefinitions"])
    return parsed


def inside(evaluation: Evaluation, component: DeclaredResource, type_token: str) -> list[DeclaredResource]:
    urns, frontier = set(), {component.urn}
    while frontier:
        urns |= frontier
        frontier = {r.urn for r in evaluation.resources if r.parent_urn in frontier} - urns
    return [r for r in evaluation.of_type(type_token) if r.urn in urns]


def scheduled(evaluation: Evaluation, name: str) -> DeclaredResource:
    return evaluation.one(SCHEDULED_TASK, name)


def task_of(evaluation: Evaluation, name: str) -> tuple[DeclaredResource, dict[str, Any]]:
    (definition,) = inside(evaluation, scheduled(evaluation, name), TASK_DEFINITION)
    (container,) = containers(evaluation, definition)
    return definition, container


def policies_of(evaluation: Evaluation, component: DeclaredResource) -> dict[str, list[dict[str, Any]]]:
    return {p.name: json.loads(p.inputs["policy"])["Statement"] for p in inside(evaluation, component, ROLE_POLICY)}


def timescale_secret(evaluation: Evaluation) -> dict[str, Any]:
    version = evaluation.one(SECRET_VERSION, "timescale-credentials-value")
    parsed: dict[str, Any] = json.loads(secret_value(version.inputs["secretString"]))
    return parsed


# --- the app tasks (issue 14 item 8, INTERFACES.md section 6) -----------------------------------------------------


def test_app_tasks_get_the_analytics_secrets_from_their_own_region(stack: Evaluation) -> None:
    secrets_by_arn = {s.outputs["arn"]: s for s in stack.of_type(SECRET)}
    keys = {k.outputs["arn"]: k for k in stack.of_type(KEY)}
    for definition in stack.of_type(TASK_DEFINITION):
        if definition.name.startswith(("timescale-", "analytics-")):
            continue
        for container in containers(stack, definition):
            injected = {s["name"]: s["valueFrom"] for s in container["secrets"]}
            environment = {e["name"] for e in container["environment"]}
            for variable, name in APP_SECRETS.items():
                assert variable not in environment, f"{variable} must not be plain environment"
                secret = secrets_by_arn[injected[variable]]
                assert secret.inputs["name"].endswith(f"/{name}")
                assert secret.region == definition.region  # a copy per region: no task depends on another region
                key = keys[secret.inputs["kmsKeyId"]]  # a customer-managed key of the same region
                assert key.region == definition.region
                assert key.inputs["enableKeyRotation"] is True


def test_generated_secrets_are_random_long_and_header_safe(stack: Evaluation) -> None:
    config = config_of(stack)
    for name in ("analytics-api-tokens", "session-secret"):
        generator = stack.one(RANDOM, f"{name}-value")
        # ANALYTICS_API_TOKENS is comma-separated and each token needs >= 16 characters (app/settings.py).
        assert generator.inputs["length"] >= 32
        assert generator.inputs["special"] is False
        versions = [v for v in stack.of_type(SECRET_VERSION) if v.name.startswith(f"{name}-")]
        assert sorted(str(v.region) for v in versions) == sorted(config.aws_region_of(r) for r in config.app_regions)
        assert all(secret_value(v.inputs["secretString"]) == generator.outputs["result"] for v in versions)


def test_analytics_url_is_the_read_only_login_on_the_standbys(stack: Evaluation) -> None:
    credentials = timescale_secret(stack)
    url = urlsplit(credentials["reader_url"])
    assert url.hostname == stack.outputs["timescaleReplicaHost"]
    assert url.username == credentials["reader_username"] == "analytics_reader"
    assert url.username != credentials["username"]  # not the pipeline's (owner) login
    assert url.password == credentials["reader_password"]
    assert url.password == stack.one(RANDOM, "timescale-reader-password").outputs["result"]  # its own password
    assert url.query == "sslmode=require"
    assert url.port == 5432
    assert url.path == "/analytics"
    copies = [v for v in stack.of_type(SECRET_VERSION) if v.name.startswith("analytics-reader-url-")]
    assert copies
    assert all(secret_value(v.inputs["secretString"]) == credentials["reader_url"] for v in copies)


def test_execution_roles_read_exactly_the_injected_secrets(stack: Evaluation) -> None:
    for service in stack.of_type(SERVICE):
        (definition,) = [
            d for d in stack.of_type(TASK_DEFINITION) if d.outputs["arn"] == service.inputs["taskDefinition"]
        ]
        role_policy = stack.one(ROLE_POLICY, f"{service.name.removesuffix('-service')}-execution-policy")
        statements = json.loads(role_policy.inputs["policy"])["Statement"]
        (read,) = [s for s in statements if s["Sid"] == "ReadInjectedSecrets"]
        # A valueFrom may name a JSON key (`<secret arn>:<key>::`, the migrate container's master login): the
        # secret read is the ARN's first seven fields.
        injected = {
            ":".join(s["valueFrom"].split(":")[:7]) for c in containers(stack, definition) for s in c["secrets"]
        }
        assert set(read["Resource"]) == injected


def test_base_currency_reaches_app_and_pipeline(variant: Callable[..., Evaluation]) -> None:
    for evaluation, expected in (
        (variant("staging"), "USD"),
        (variant("staging", analytics={"baseCurrency": "EUR"}), "EUR"),
    ):
        tasks = [d for d in evaluation.of_type(TASK_DEFINITION) if not d.name.startswith("analytics-reports")]
        assert len(tasks) >= 2
        for definition in tasks:
            for container in containers(evaluation, definition):
                environment = {e["name"]: e["value"] for e in container["environment"]}
                assert environment["ANALYTICS_BASE_CURRENCY"] == expected, definition.name


@pytest.mark.parametrize("value", ["usd", "XYZ", "EURO", ""])
def test_a_bad_base_currency_fails_before_any_resource_exists(value: str) -> None:
    evaluation, error = try_evaluate("staging", stack_config("staging", analytics={"baseCurrency": value}))
    assert isinstance(error, StackConfigError)
    assert f'global-api:analytics.baseCurrency: got "{value}"' in str(error)
    assert "ISO 4217" in str(error)
    assert evaluation.resources == []


# --- TimescaleDB reachable from every app region over the peering ----------------------------------------------------


def test_standbys_admit_every_app_region_and_nothing_else(stack: Evaluation) -> None:
    config = config_of(stack)
    primary = config.primary_region
    group = stack.one(SECURITY_GROUP, "timescale-sg")
    cidr_rules = [r for r in group.inputs["ingress"] if r.get("cidrBlocks")]
    remote = [r for r in config.app_regions if r != primary]
    expected = {
        s.inputs["cidrBlock"]
        for s in stack.of_type(SUBNET)
        for region in remote
        if s.name.startswith(f"network-{region}-") and s.inputs["tags"]["Tier"] == "private"
    }
    assert {c for r in cidr_rules for c in r["cidrBlocks"]} == expected
    assert all((r["fromPort"], r["toPort"]) == (5432, 5432) for r in cidr_rules)
    # Each remote app region is peered with the primary's VPC (the path those CIDRs take).
    peerings = {p.name for p in stack.of_type("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")}
    for region in remote:
        assert any(region in name and primary in name for name in peerings), (region, peerings)


def test_analytics_write_url_is_the_writer_login_on_the_primary(stack: Evaluation) -> None:
    """The app writes alerts, reports and request metrics: to the primary (the standbys are read-only), as its own
    login (not the pipeline's, which owns every table; grants: analytics revision 0005_app_writer)."""
    credentials = timescale_secret(stack)
    url = urlsplit(credentials["writer_url"])
    assert url.hostname == stack.outputs["timescalePrimaryHost"] != stack.outputs["timescaleReplicaHost"]
    assert url.username == credentials["writer_username"] == ANALYTICS_WRITER_ROLE
    assert url.username not in (credentials["username"], credentials["reader_username"])
    assert url.password == credentials["writer_password"]
    assert url.password == stack.one(RANDOM, "timescale-writer-password").outputs["result"]
    assert (url.query, url.port, url.path) == ("sslmode=require", 5432, "/analytics")
    copies = [v for v in stack.of_type(SECRET_VERSION) if v.name.startswith("analytics-writer-url-")]
    config = config_of(stack)
    assert sorted(str(v.region) for v in copies) == sorted(config.aws_region_of(r) for r in config.app_regions)
    assert all(secret_value(v.inputs["secretString"]) == credentials["writer_url"] for v in copies)


def test_cloud_init_admits_the_same_cidrs_and_creates_the_read_only_role(stack: Evaluation) -> None:
    template = stack.one("aws:ec2/launchTemplate:LaunchTemplate", "timescale-lt")
    document = yaml.safe_load(base64.b64decode(template.inputs["userData"]).decode())
    files = {f["path"]: f["content"] for f in document["write_files"]}
    env = dict(line.split("=", 1) for line in files["/etc/timescale/cluster.env"].splitlines())
    group = stack.one(SECURITY_GROUP, "timescale-sg")
    remote = [c for r in group.inputs["ingress"] for c in r.get("cidrBlocks", [])]
    assert env["CLIENT_CIDRS"].strip('"').split() == [env["CLIENT_CIDR"], *remote]
    bootstrap = files["/usr/local/sbin/timescale-bootstrap"]
    assert "for cidr in $CLIENT_CIDRS; do" in bootstrap
    assert 'GRANT pg_read_all_data TO :"reader_user"' in bootstrap
    assert "secret reader_password" in bootstrap
    # The writer login exists before the pipeline's first migration grants it its tables.
    assert (
        """ALTER ROLE :"writer_user" WITH LOGIN PASSWORD :'writer' NOSUPERUSER NOCREATEDB NOCREATEROLE;""" in bootstrap
    )
    assert "secret writer_password" in bootstrap


# --- SES identity (issues 15 and 16) ---------------------------------------------------------------------------------


def test_ses_domain_identity_with_dkim_records_in_the_stack_zone(stack: Evaluation) -> None:
    config = config_of(stack)
    identity = stack.one(IDENTITY, "mail-identity")
    domain = config.domain.name
    assert identity.inputs["emailIdentity"] == domain
    assert identity.region == config.aws_region_of(config.primary_region)  # where the sending tasks run
    tokens = identity.outputs["dkimSigningAttributes"]["tokens"]
    assert len(tokens) == 3
    records = {r.inputs["name"]: r for r in stack.of_type(RECORD) if r.name.startswith("mail-dkim-")}
    # Easy DKIM: <token>._domainkey.<domain> CNAME <token>.dkim.amazonses.com, in the stack's hosted zone.
    assert set(records) == {f"{t}._domainkey.{domain}" for t in tokens}
    for token in tokens:
        record = records[f"{token}._domainkey.{domain}"]
        assert record.inputs["type"] == "CNAME"
        assert record.inputs["records"] == [f"{token}.dkim.amazonses.com"]
        assert record.inputs["zoneId"] == config.domain.hosted_zone_id
    assert stack.outputs["mailIdentityArn"] == identity.outputs["arn"]
    assert identity.outputs["arn"] == f"arn:aws:ses:{identity.region}:{ACCOUNT_ID}:identity/{domain}"


def expected_send_statement(stack: Evaluation) -> dict[str, Any]:
    return {
        "Sid": "SendAsTheStackIdentity",
        "Effect": "Allow",
        "Action": ["ses:SendRawEmail"],
        "Resource": [stack.one(IDENTITY, "mail-identity").outputs["arn"]],
        "Condition": {"StringEquals": {"ses:FromAddress": stack.outputs["mailFrom"]}},
    }


@pytest.mark.parametrize("task", ["timescale-pipeline", "analytics-reports"])
def test_mailing_tasks_may_send_only_as_the_identity_and_know_their_sender(stack: Evaluation, task: str) -> None:
    config = config_of(stack)
    component = scheduled(stack, task)
    policies = policies_of(stack, component)
    statements = [s for s in policies[f"{task}-task-policy"] if s["Sid"] != "ConnectAsPipelineRole"]
    assert statements == [expected_send_statement(stack)]
    _, container = task_of(stack, task)
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["MAIL_FROM"] == stack.outputs["mailFrom"] == f"analytics@{config.domain.name}"
    assert environment["AWS_REGION"] == config.aws_region_of(config.primary_region)


def test_pipeline_reads_its_source_as_its_role_with_iam_only(stack: Evaluation) -> None:
    """Issue 19 item 5: the pipeline logs in to the main database's source replica as api_pipeline with an IAM
    token; its task role may connect as exactly that user to exactly that instance, and no master login reaches it."""
    config = config_of(stack)
    _, container = task_of(stack, "timescale-pipeline")
    environment = {e["name"]: e["value"] for e in container["environment"]}
    replicas = stack.outputs["databaseReplicaEndpoints"]  # the replica nearest the primary is the source
    address = next(replicas[r] for r in (config.primary_region, *config.read_replica_regions) if r in replicas)
    assert environment["ANALYTICS_SOURCE_URL"] == f"postgresql://{PIPELINE_ROLE}@{address}:5432/app?sslmode=require"
    assert environment["ANALYTICS_SOURCE_IAM_AUTH"] == "true"
    assert {s["name"] for s in container["secrets"]} == {"ANALYTICS_DATABASE_URL"}
    (instance,) = [i for i in stack.of_type("aws:rds/instance:Instance") if i.outputs["address"] == address]
    (connect,) = [
        s
        for s in policies_of(stack, scheduled(stack, "timescale-pipeline"))["timescale-pipeline-task-policy"]
        if s["Sid"] == "ConnectAsPipelineRole"
    ]
    assert connect["Action"] == ["rds-db:connect"]
    assert connect["Resource"] == [
        f"arn:aws:rds-db:{instance.region}:123456789012:dbuser:{instance.outputs['resourceId']}/{PIPELINE_ROLE}"
    ]


def test_app_tasks_cannot_send_mail(stack: Evaluation) -> None:
    for policy in stack.of_type(ROLE_POLICY):
        if any("ses:" in str(s["Action"]) for s in json.loads(policy.inputs["policy"])["Statement"]):
            assert policy.name in {"timescale-pipeline-task-policy", "analytics-reports-task-policy"}, policy.name


# --- the reports runner (issue 16 item 4) ----------------------------------------------------------------------------


def test_reports_runner_is_a_scheduled_fargate_task_every_five_minutes(stack: Evaluation) -> None:
    config = config_of(stack)
    region = config.aws_region_of(config.primary_region)
    component = scheduled(stack, "analytics-reports")
    (schedule,) = inside(stack, component, SCHEDULE)
    definition, container = task_of(stack, "analytics-reports")
    assert schedule.inputs["scheduleExpression"] == "rate(5 minutes)"
    assert container["command"] == ["python", "-m", "analytics.reports"]
    assert container["image"] == stack.outputs["appImageUris"][region]
    assert schedule.region == definition.region == region
    ecs = schedule.inputs["target"]["ecsParameters"]
    assert ecs["taskDefinitionArn"] == definition.outputs["arn"]
    assert ecs["launchType"] == "FARGATE"
    network = ecs["networkConfiguration"]
    assert network["assignPublicIp"] is False
    private = {s.outputs["id"] for s in stack.of_type(SUBNET) if s.inputs["tags"]["Tier"] == "private"}
    assert set(network["subnets"]) <= private
    (group,) = network["securityGroups"]
    assert group == stack.one(SECURITY_GROUP, f"network-{config.primary_region}-reports-sg").outputs["id"]
    # It writes its run records, so it uses the primary's login, injected by ECS from the cluster secret.
    injected = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert injected == {"ANALYTICS_DATABASE_URL": stack.one(SECRET, "timescale-credentials").outputs["arn"] + ":url::"}
    # The same component as the pipeline's: one building block, not a second copy.
    assert {c.name for c in stack.of_type(SCHEDULED_TASK)} == {"timescale-pipeline", "analytics-reports"}


def test_reports_runner_reaches_the_analytics_cluster_but_not_the_main_database(stack: Evaluation) -> None:
    config = config_of(stack)
    reports_group = stack.one(SECURITY_GROUP, f"network-{config.primary_region}-reports-sg").outputs["id"]
    timescale_sources = {
        g for r in stack.one(SECURITY_GROUP, "timescale-sg").inputs["ingress"] for g in r.get("securityGroups", [])
    }
    assert reports_group in timescale_sources
    for group in stack.of_type(SECURITY_GROUP):
        if group.name == "timescale-sg":
            continue
        assert not any(reports_group in r.get("securityGroups", []) for r in group.inputs.get("ingress", [])), (
            group.name
        )
    for rule in stack.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        assert rule.inputs.get("referencedSecurityGroupId") != reports_group, rule.name


def test_scheduler_may_start_only_the_reports_task(stack: Evaluation) -> None:
    config = config_of(stack)
    region = config.aws_region_of(config.primary_region)
    component = scheduled(stack, "analytics-reports")
    definition, _ = task_of(stack, "analytics-reports")
    statements = {s["Sid"]: s for s in policies_of(stack, component)["analytics-reports-scheduler-policy"]}
    run, pass_role = statements["RunThisTask"], statements["PassItsRoles"]
    assert run["Action"] == ["ecs:RunTask"]
    assert run["Resource"] == [f"arn:aws:ecs:{region}:{ACCOUNT_ID}:task-definition/{definition.inputs['family']}:*"]
    (cluster,) = inside(stack, component, "aws:ecs/cluster:Cluster")
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": cluster.outputs["arn"]}}
    assert set(pass_role["Resource"]) == {definition.inputs["executionRoleArn"], definition.inputs["taskRoleArn"]}


@pytest.mark.parametrize("task", ["timescale-pipeline", "analytics-reports"])
def test_failed_runs_raise_an_alarm(stack: Evaluation, task: str) -> None:
    config = config_of(stack)
    region = config.aws_region_of(config.primary_region)
    component = scheduled(stack, task)
    (rule,) = inside(stack, component, EVENT_RULE)
    (cluster,) = inside(stack, component, "aws:ecs/cluster:Cluster")
    pattern = json.loads(rule.inputs["eventPattern"])
    assert pattern["source"] == ["aws.ecs"]
    assert pattern["detail-type"] == ["ECS Task State Change"]
    detail = pattern["detail"]
    assert detail["clusterArn"] == [cluster.outputs["arn"]]
    assert detail["lastStatus"] == ["STOPPED"]
    assert {"containers": {"exitCode": [{"anything-but": 0}]}} in detail["$or"]
    assert {"stopCode": ["TaskFailedToStart"]} in detail["$or"]
    (alarm,) = inside(stack, component, ALARM)
    assert (alarm.inputs["namespace"], alarm.inputs["metricName"]) == ("AWS/Events", "MatchedEvents")
    assert alarm.inputs["dimensions"] == {"RuleName": rule.outputs["name"]}
    assert alarm.inputs["statistic"] == "Sum"
    assert alarm.inputs["threshold"] == 0
    assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"
    topic = next(t for t in stack.of_type(TOPIC) if t.region == region)
    assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]]
    assert alarm.region == rule.region == region


# --- CloudFront and the ALB in front of the analytics paths (issues 14 item 8 and 15) ------------------------------

CACHE_POLICY = "aws:cloudfront/cachePolicy:CachePolicy"
ORIGIN_REQUEST_POLICY = "aws:cloudfront/originRequestPolicy:OriginRequestPolicy"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed CachingDisabled
HEARTBEAT_SECONDS = 15  # app/settings.py: STREAM_HEARTBEAT_MS at most 15000
AUTHENTICATED_PATHS = [
    "/api/analytics/mrr",
    "/api/analytics/cohorts",
    "/api/analytics/invoices",
    "/api/analytics/stream",
    "/api/alerts",
    "/api/alerts/3",
    "/api/reports",
    "/api/reports/7/export",
    "/dashboard",
    "/dashboard/sign-in",
]


def cloudfront_match(pattern: str, path: str) -> bool:
    """CloudFront path patterns: `*` any run of characters (also `/`), `?` exactly one, case-sensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, path) is not None


def behaviour_for(stack: Evaluation, path: str) -> dict[str, Any]:
    """The behaviour CloudFront applies to `path`: the first ordered one that matches, else the default."""
    distribution = stack.one("aws:cloudfront/distribution:Distribution", "cdn-distribution").inputs
    for behaviour in distribution["orderedCacheBehaviors"]:
        if cloudfront_match(behaviour["pathPattern"], path):
            return dict(behaviour)
    return dict(distribution["defaultCacheBehavior"])


def by_id(stack: Evaluation, type_token: str, physical_id: str) -> DeclaredResource:
    (resource,) = [r for r in stack.of_type(type_token) if r.outputs["id"] == physical_id]
    return resource


@pytest.mark.parametrize("path", AUTHENTICATED_PATHS)
def test_analytics_dashboard_alerts_and_reports_are_never_cached_and_reach_the_app_authenticated(
    stack: Evaluation, path: str
) -> None:
    behaviour = behaviour_for(stack, path)
    assert behaviour["cachePolicyId"] != CACHING_DISABLED  # that policy would drop Authorization
    policy = by_id(stack, CACHE_POLICY, behaviour["cachePolicyId"]).inputs
    # Min TTL 0: the app's `private, no-store` is obeyed; default 0: an answer without Cache-Control is not kept;
    # max 1 s is CloudFront's floor for a policy that has a key at all.
    assert (policy["minTtl"], policy["defaultTtl"]) == (0, 0)
    assert policy["maxTtl"] <= 1
    key = policy["parametersInCacheKeyAndForwardedToOrigin"]
    assert key["headersConfig"] == {"headerBehavior": "whitelist", "headers": {"items": ["Authorization"]}}
    assert key["cookiesConfig"]["cookieBehavior"] == "all"  # the dashboard's session cookie (and ALB stickiness)
    assert key["queryStringsConfig"]["queryStringBehavior"] == "all"  # from, to, region, metric, format
    request = by_id(stack, ORIGIN_REQUEST_POLICY, behaviour["originRequestPolicyId"]).inputs
    forwarded = set(request["headersConfig"]["headers"]["items"])
    assert "CloudFront-Viewer-Country" in forwarded
    assert "Authorization" not in forwarded  # CloudFront refuses it there (400)
    assert not forwarded & {"CF-IPCountry", "X-AppEngine-Country", "Host"}
    assert request["cookiesConfig"]["cookieBehavior"] == "none"  # already in the key: never listed twice


def test_every_other_api_path_stays_on_caching_disabled(stack: Evaluation) -> None:
    for path in ("/api/companies", "/api/invoices/1", "/api/fx-rates", "/api/analyticsX", "/health/regional"):
        assert behaviour_for(stack, path)["cachePolicyId"] == CACHING_DISABLED, path


def test_the_stream_passes_through_uncompressed_get_only(stack: Evaluation) -> None:
    behaviour = behaviour_for(stack, "/api/analytics/stream")
    assert behaviour["pathPattern"] == "/api/analytics/stream"
    assert behaviour["compress"] is False
    key = by_id(stack, CACHE_POLICY, behaviour["cachePolicyId"]).inputs["parametersInCacheKeyAndForwardedToOrigin"]
    assert key["enableAcceptEncodingGzip"] is False
    assert key["enableAcceptEncodingBrotli"] is False
    assert set(behaviour["allowedMethods"]) == {"GET", "HEAD", "OPTIONS"}
    # The JSON endpoints keep compression.
    assert behaviour_for(stack, "/api/analytics/mrr")["compress"] is True


def test_timeouts_outlast_the_stream_heartbeat(stack: Evaluation) -> None:
    distribution = plain(stack.one("aws:cloudfront/distribution:Distribution", "cdn-distribution").inputs)
    (origin,) = [
        o
        for o in distribution["origins"]
        if o["originId"] == behaviour_for(stack, "/api/analytics/stream")["targetOriginId"]
    ]
    custom = origin["customOriginConfig"]
    # CloudFront's response timeout also bounds the gap between two packets of a response (1..120 s; developer
    # guide "Response timeout"): a heartbeat every 15 s keeps the stream open through it.
    assert HEARTBEAT_SECONDS < custom["originReadTimeout"] <= 120
    assert "responseCompletionTimeout" not in origin  # no cap on a response's total duration
    for alb in stack.of_type("aws:lb/loadBalancer:LoadBalancer"):
        # ALB connection idle timeout: 1..4000 s (ELB guide, "Edit attributes for your Application Load Balancer").
        assert HEARTBEAT_SECONDS < alb.inputs["idleTimeout"] <= 4000, alb.name
