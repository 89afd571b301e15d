"""The app on AWS (issue 6): one image build pushed to every region's ECR, a hardened Fargate service per app region,
least-privilege roles, and latency-routed origin records on CloudWatch-alarm health checks.

Checked on both stacks and on a third config (staging with all three app regions) that must scale out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from app.db_roles import APP_ROLE
from components.image import AppImageArgs, context_tag
from offline.harness import ROOT, DeclaredResource, Evaluation
from offline.mocks import prefix_list_id
from tests.infra.helpers import config_of

SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
CLUSTER = "aws:ecs/cluster:Cluster"
SCALING_TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
IMAGE = "docker:index/image:Image"
REGISTRY_IMAGE = "docker:index/registryImage:RegistryImage"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KMS_KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
CONFIGS = ("staging", "production", "three-regions")


@pytest.fixture(scope="module", params=CONFIGS)
def stack(request: pytest.FixtureRequest, variant: Callable[..., Evaluation]) -> Evaluation:
    """Both committed stacks, plus staging with every region running the app."""
    if request.param == "three-regions":
        return variant("staging", appRegions=["eu", "us", "asia"])
    return variant(str(request.param))


@pytest.fixture(scope="module")
def three_regions(variant: Callable[..., Evaluation]) -> Evaluation:
    return variant("staging", appRegions=["eu", "us", "asia"])


# --- reading the evaluation -------------------------------------------------------------------------------------


def setting(evaluation: Evaluation, key: str) -> Any:
    return evaluation.config[f"global-api:{key}"]


def app_aws_regions(evaluation: Evaluation) -> set[str]:
    regions = setting(evaluation, "regions")
    return {regions[r] for r in setting(evaluation, "appRegions")}


def image_aws_regions(evaluation: Evaluation) -> set[str]:
    """App regions plus the primary's, where the analytics pipeline runs the same image."""
    regions = setting(evaluation, "regions")
    return app_aws_regions(evaluation) | {regions[setting(evaluation, "primaryRegion")]}


def by_output(evaluation: Evaluation, type_token: str, key: str, value: Any) -> DeclaredResource:
    matches = [r for r in evaluation.of_type(type_token) if r.outputs.get(key) == value]
    assert len(matches) == 1, f"expected one {type_token} with {key}={value!r}, found {len(matches)}"
    return matches[0]


def all_containers(evaluation: Evaluation, service: DeclaredResource) -> tuple[DeclaredResource, list[dict[str, Any]]]:
    task = by_output(evaluation, TASK_DEFINITION, "arn", service.inputs["taskDefinition"])
    definitions = task.inputs["containerDefinitions"]
    # Pulumi marks the whole JSON secret when a secret value flowed into it (e.g. into `environment`).
    assert isinstance(definitions, str), f"{task.name}: container definitions carry a secret value"
    return task, json.loads(definitions)


def containers(evaluation: Evaluation, service: DeclaredResource) -> tuple[DeclaredResource, dict[str, Any]]:
    """The task and its app container (the one serving traffic)."""
    task, definitions = all_containers(evaluation, service)
    (container,) = [c for c in definitions if c["name"] == "app"]
    return task, container


def role_statements(evaluation: Evaluation, role_arn: str) -> tuple[DeclaredResource, list[dict[str, Any]]]:
    role = by_output(evaluation, ROLE, "arn", role_arn)
    policies = [p for p in evaluation.of_type(ROLE_POLICY) if p.inputs["role"] == role.outputs["id"]]
    statements = [s for p in policies for s in json.loads(p.inputs["policy"])["Statement"]]
    return role, statements


def secret_value(value: Any) -> Any:
    """Unwrap an input Pulumi marked secret; fails if it was not marked."""
    assert isinstance(value, dict), value
    assert value.get(rpc._special_sig_key) == rpc._special_secret_sig, "not marked secret"
    return value["value"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def actions_on(statements: list[dict[str, Any]], action: str) -> list[str]:
    return sorted(r for s in statements if action in as_list(s["Action"]) for r in as_list(s["Resource"]))


def regional_secret_arn(evaluation: Evaluation, region: str, name: str) -> str:
    (secret,) = [
        s
        for s in evaluation.of_type(SECRET)
        if s.region == region and str(s.inputs.get("name", "")).endswith(f"/{name}")
    ]
    return str(secret.outputs["arn"])


def origin_secret_arn(evaluation: Evaluation, region: str) -> str:
    return regional_secret_arn(evaluation, region, "origin-verify")


# --- image --------------------------------------------------------------------------------------------------------


def test_one_build_pushed_to_a_repository_in_every_image_region(stack: Evaluation) -> None:
    repositories = {r.region: r for r in stack.of_type(REPOSITORY)}
    assert set(repositories) == image_aws_regions(stack)
    (build,) = stack.of_type(IMAGE)
    assert build.inputs["build"]["dockerfile"] == str(ROOT / "app" / "Dockerfile")
    assert build.inputs["build"]["context"] == str(ROOT)
    registry = secret_value(build.inputs["registry"])  # the ECR token must not sit in the state in clear
    assert registry["username"] == "AWS"
    built_in = next(
        region for region, repo in repositories.items() if repo.outputs["repositoryUrl"] == registry["server"]
    )
    assert build.inputs["imageName"].startswith(repositories[built_in].outputs["repositoryUrl"] + ":")
    pushed = {secret_value(p.inputs["authConfig"])["address"]: p for p in stack.of_type(REGISTRY_IMAGE)}
    others = {region: repo.outputs["repositoryUrl"] for region, repo in repositories.items() if region != built_in}
    assert set(pushed) == set(others.values())
    for url in others.values():
        assert pushed[url].inputs["name"].startswith(url + ":")
        assert pushed[url].inputs["triggers"] == {"digest": build.outputs["repoDigest"]}


def test_image_uris_are_by_digest_per_region(stack: Evaluation) -> None:
    uris = stack.outputs["appImageUris"]
    repositories = {r.region: r.outputs["repositoryUrl"] for r in stack.of_type(REPOSITORY)}
    assert set(uris) == image_aws_regions(stack)
    for region, uri in uris.items():
        repository, _, digest = uri.partition("@")
        assert repository == repositories[region]
        assert digest.startswith("sha256:")


def test_build_platform_matches_the_task_runtime(stack: Evaluation) -> None:
    (build,) = stack.of_type(IMAGE)
    assert build.inputs["build"]["platform"] == "linux/amd64"
    for task in app_owned(stack, TASK_DEFINITION):
        assert task.inputs["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"}


def test_repositories_scan_on_push_immutable_kms_and_expire_old_images(stack: Evaluation) -> None:
    keys = {k.outputs["arn"]: k for k in stack.of_type(KMS_KEY)}
    lifecycles = {(p.region, p.inputs["repository"]): p for p in stack.of_type(LIFECYCLE)}
    for repository in stack.of_type(REPOSITORY):
        assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        (encryption,) = repository.inputs["encryptionConfigurations"]
        assert encryption["encryptionType"] == "KMS"
        key = keys[encryption["kmsKey"]]
        assert key.region == repository.region
        assert key.inputs["enableKeyRotation"] is True
        lifecycle = lifecycles[(repository.region, repository.outputs["name"])]
        (rule,) = json.loads(lifecycle.inputs["policy"])["rules"]
        assert rule["selection"]["countType"] == "imageCountMoreThan"
        assert rule["selection"]["tagStatus"] == "any"
        assert rule["action"] == {"type": "expire"}


def test_tag_is_the_content_hash_of_the_context(stack: Evaluation) -> None:
    (build,) = stack.of_type(IMAGE)
    tag = build.inputs["imageName"].rsplit(":", 1)[1]
    assert tag == context_tag(Path(build.inputs["build"]["context"]), Path(build.inputs["build"]["dockerfile"]))


def test_context_tag_follows_content_and_dockerignore(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    dockerfile = tmp_path / "app" / "Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    (tmp_path / "app" / "main.py").write_text("a = 1\n")
    (tmp_path / ".dockerignore").write_text("# junk\nnotes/\n")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("x")
    first = context_tag(tmp_path, dockerfile)
    assert first == context_tag(tmp_path, dockerfile)
    (tmp_path / "notes" / "todo.txt").write_text("changed")
    assert context_tag(tmp_path, dockerfile) == first  # ignored: not sent to the builder
    (tmp_path / "app" / "main.py").write_text("a = 2\n")
    second = context_tag(tmp_path, dockerfile)
    assert second != first
    dockerfile.write_text("FROM scratch\nUSER 10001\n")
    assert context_tag(tmp_path, dockerfile) != second


def test_image_args_reject_a_missing_dockerfile(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="dockerfile"):
        AppImageArgs(
            context=tmp_path, dockerfile=tmp_path / "Dockerfile", aws_regions=["eu-west-1"], repository_name="x"
        )


# --- services -----------------------------------------------------------------------------------------------------


def app_owned(stack: Evaluation, type_token: str) -> list[DeclaredResource]:
    """Resources of the app, not of the scheduled tasks (components/scheduled_task.py), which run ECS tasks too."""
    scheduled = {t.urn for t in stack.of_type("global-api:tasks:ScheduledTask")}
    inside, frontier = set(), scheduled
    while frontier:
        inside |= frontier
        frontier = {r.urn for r in stack.resources if r.parent_urn in frontier} - inside
    return [r for r in stack.of_type(type_token) if r.urn not in inside]


def test_one_service_target_group_and_scaling_target_per_app_region_only(stack: Evaluation) -> None:
    expected = app_aws_regions(stack)
    for type_token in (CLUSTER, SERVICE, TASK_DEFINITION, SCALING_TARGET, TARGET_GROUP):
        regions = [str(r.region) for r in app_owned(stack, type_token)]
        assert sorted(regions) == sorted(expected), type_token
    assert set(stack.outputs["serviceNames"]) == set(setting(stack, "appRegions"))


def test_three_app_regions_scale_out(three_regions: Evaluation, variant: Callable[..., Evaluation]) -> None:
    staging = variant("staging")
    assert len(staging.of_type(SERVICE)) == 1
    assert {s.region for s in three_regions.of_type(SERVICE)} == {"eu-west-1", "us-east-1", "ap-southeast-1"}
    assert len(three_regions.of_type(SCALING_TARGET)) == 3
    assert len(three_regions.of_type(SCALING_POLICY)) == 6


def test_service_runs_privately_behind_its_regions_target_group(stack: Evaluation) -> None:
    service_config = setting(stack, "service")
    for service in stack.of_type(SERVICE):
        target_groups = [t for t in stack.of_type(TARGET_GROUP) if t.region == service.region]
        (balanced,) = service.inputs["loadBalancers"]
        assert balanced["targetGroupArn"] == target_groups[0].outputs["arn"]
        assert balanced["containerPort"] == 8000
        network = service.inputs["networkConfiguration"]
        assert network["assignPublicIp"] is False
        private = {
            s.outputs["id"]
            for s in stack.of_type("aws:ec2/subnet:Subnet")
            if s.region == service.region and s.inputs["tags"]["Tier"] == "private"
        }
        assert set(network["subnets"]) == private
        (group,) = network["securityGroups"]
        app_group = by_output(stack, SECURITY_GROUP, "id", group)
        assert app_group.name.endswith("-app-sg")
        assert app_group.region == service.region
        assert service.inputs["launchType"] == "FARGATE"
        assert service.inputs["desiredCount"] == service_config["desiredCount"]
        assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}


def test_clusters_have_container_insights(stack: Evaluation) -> None:
    """The API's clusters get per-task metrics (`enhanced`); a scheduled task's cluster the standard `enabled`."""
    clusters = stack.of_type(CLUSTER)
    service_clusters = {service.inputs["cluster"] for service in stack.of_type(SERVICE)}
    assert service_clusters
    assert service_clusters < {c.outputs["arn"] for c in clusters}
    for cluster in clusters:
        settings = {s["name"]: s["value"] for s in cluster.inputs["settings"]}
        expected = "enhanced" if cluster.outputs["arn"] in service_clusters else "enabled"
        assert settings["containerInsights"] == expected, cluster.name


def test_autoscaling_on_cpu_and_requests_per_target_within_config(stack: Evaluation) -> None:
    service_config = setting(stack, "service")
    for target in stack.of_type(SCALING_TARGET):
        assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (
            service_config["minCount"],
            service_config["maxCount"],
        )
        assert target.inputs["scalableDimension"] == "ecs:service:DesiredCount"
        policies = [p for p in stack.of_type(SCALING_POLICY) if p.inputs["resourceId"] == target.inputs["resourceId"]]
        metrics = {}
        for policy in policies:
            assert policy.inputs["policyType"] == "TargetTrackingScaling"
            assert policy.region == target.region
            spec = policy.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]
            metrics[spec["predefinedMetricType"]] = spec
        assert set(metrics) == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}
        (alb,) = [b for b in stack.of_type(LOAD_BALANCER) if b.region == target.region]
        (group,) = [t for t in stack.of_type(TARGET_GROUP) if t.region == target.region]
        label = metrics["ALBRequestCountPerTarget"]["resourceLabel"]
        assert label == f"{alb.outputs['arnSuffix']}/{group.outputs['arnSuffix']}"


def test_task_cpu_and_memory_from_config(stack: Evaluation) -> None:
    service_config = setting(stack, "service")
    for task in app_owned(stack, TASK_DEFINITION):
        assert (task.inputs["cpu"], task.inputs["memory"]) == (
            str(service_config["cpu"]),
            str(service_config["memory"]),
        )
        assert task.inputs["requiresCompatibilities"] == ["FARGATE"]
        assert task.inputs["networkMode"] == "awsvpc"


def test_logs_go_to_an_encrypted_log_group_with_retention(stack: Evaluation) -> None:
    keys = {k.outputs["arn"]: k for k in stack.of_type(KMS_KEY)}
    for service in stack.of_type(SERVICE):
        _, container = containers(stack, service)
        logging = container["logConfiguration"]
        assert logging["logDriver"] == "awslogs"
        assert logging["options"]["awslogs-region"] == service.region
        group = by_output(stack, LOG_GROUP, "name", logging["options"]["awslogs-group"])
        assert group.region == service.region
        assert group.inputs["retentionInDays"] == config_of(stack).log_retention_days
        assert keys[group.inputs["kmsKeyId"]].region == service.region


def test_task_definition_is_locked_down(stack: Evaluation) -> None:
    for service in stack.of_type(SERVICE):
        task, definitions = all_containers(stack, service)
        assert {c["name"] for c in definitions} == {"app", "migrate"}
        for container in definitions:
            assert container["readonlyRootFilesystem"] is True
            assert container["user"].split(":")[0] not in {"0", "root", ""}
            assert container["privileged"] is False
            assert container["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
            volumes = {v["name"] for v in task.inputs["volumes"]}
            assert [(m["sourceVolume"] in volumes, m["containerPath"]) for m in container["mountPoints"]] == [
                (True, "/tmp")  # noqa: S108
            ]
            assert container["image"] == stack.outputs["appImageUris"][service.region]


def test_migrations_run_before_the_app_serves(stack: Evaluation) -> None:
    """A one-shot migrate container must succeed before the app container starts (DESIGN: `python -m app.migrate`)."""
    for service in stack.of_type(SERVICE):
        _, definitions = all_containers(stack, service)
        by_name = {c["name"]: c for c in definitions}
        migrate, app = by_name["migrate"], by_name["app"]
        assert migrate["command"] == ["python", "-m", "app.migrate"]
        assert migrate["essential"] is False
        assert "portMappings" not in migrate
        assert app["dependsOn"] == [{"containerName": "migrate", "condition": "SUCCESS"}]


def test_only_the_migrate_container_gets_the_master_login(stack: Evaluation) -> None:
    """Issue 19 item 5: the master secret stays for the migration. ECS injects its username and password into the
    migrate container only; the app container logs in as its own role with IAM and sees no master credential."""
    master = stack.outputs["databaseSecretArn"]
    primary_address = stack.outputs["databasePrimaryEndpoint"]
    for service in stack.of_type(SERVICE):
        _, definitions = all_containers(stack, service)
        by_name = {c["name"]: c for c in definitions}
        migrate, app = by_name["migrate"], by_name["app"]
        migrate_env = {e["name"]: e["value"] for e in migrate["environment"]}
        app_env = {e["name"]: e["value"] for e in app["environment"]}
        assert {s["name"]: s["valueFrom"] for s in migrate["secrets"]} == {
            **{s["name"]: s["valueFrom"] for s in app["secrets"]},
            "PGUSER": f"{master}:username::",
            "PGPASSWORD": f"{master}:password::",
        }
        assert not any(master in s["valueFrom"] for s in app["secrets"])
        assert not any(master in value for value in app_env.values())
        assert migrate_env["DATABASE_URL"] == f"postgresql://{primary_address}:5432/app?sslmode=require"
        assert migrate_env["DATABASE_IAM_AUTH"] == "false"
        assert {k: v for k, v in migrate_env.items() if k not in ("DATABASE_URL", "DATABASE_IAM_AUTH")} == {
            k: v for k, v in app_env.items() if k not in ("DATABASE_URL", "DATABASE_IAM_AUTH")
        }


def test_secrets_come_from_arns_and_never_sit_in_the_environment(stack: Evaluation) -> None:
    secret_value = stack.one("random:index/randomPassword:RandomPassword", "origin-verify-value").outputs["result"]
    for service in stack.of_type(SERVICE):
        _, container = containers(stack, service)
        environment = {e["name"]: e["value"] for e in container["environment"]}
        assert "ORIGIN_VERIFY_SECRET" not in environment
        assert not any(secret_value in value for value in environment.values())
        assert not any("password" in f"{name}={value}".lower() for name, value in environment.items())
        region = str(service.region)
        assert container["secrets"] == [
            {"name": "ANALYTICS_API_TOKENS", "valueFrom": regional_secret_arn(stack, region, "analytics-api-tokens")},
            {
                "name": "ANALYTICS_DATABASE_URL",
                "valueFrom": regional_secret_arn(stack, region, "analytics-reader-url"),
            },
            {
                "name": "ANALYTICS_WRITE_DATABASE_URL",
                "valueFrom": regional_secret_arn(stack, region, "analytics-writer-url"),
            },
            {"name": "ORIGIN_VERIFY_SECRET", "valueFrom": origin_secret_arn(stack, region)},
            {"name": "SESSION_SECRET", "valueFrom": regional_secret_arn(stack, region, "session-secret")},
        ]


def test_environment_follows_the_app_contract(stack: Evaluation) -> None:
    primary_address = stack.outputs["databasePrimaryEndpoint"]
    replicas = stack.outputs["databaseReplicaEndpoints"]
    lag_seconds = setting(stack, "database")["maxReplicaLagSeconds"]
    for service in stack.of_type(SERVICE):
        _, container = containers(stack, service)
        environment = {e["name"]: e["value"] for e in container["environment"]}
        assert environment["DATABASE_URL"] == f"postgresql://{APP_ROLE}@{primary_address}:5432/app?sslmode=require"
        assert environment["DATABASE_IAM_AUTH"] == "true"
        assert "DATABASE_SECRET_ARN" not in environment
        assert environment["DATABASE_PRIMARY_REGION"] == setting(stack, "primaryRegion")
        assert environment["DATABASE_MAX_REPLICA_LAG_MS"] == str(round(lag_seconds * 1000))
        replica_variables = {k for k in environment if k.startswith("DATABASE_READ_REPLICA_")}
        assert replica_variables == {f"DATABASE_READ_REPLICA_{r.upper()}" for r in replicas}
        for region, address in replicas.items():
            url = environment[f"DATABASE_READ_REPLICA_{region.upper()}"]
            assert url == f"postgresql://{APP_ROLE}@{address}:5432/app?sslmode=require"
        pool = {k: int(environment[k]) for k in ("DATABASE_POOL_MIN", "DATABASE_POOL_MAX")}
        assert 1 <= pool["DATABASE_POOL_MIN"] <= pool["DATABASE_POOL_MAX"]
        assert int(environment["DATABASE_ACQUIRE_TIMEOUT"]) > 0
        assert int(environment["DATABASE_IDLE_TIMEOUT"]) > 0


# --- IAM ------------------------------------------------------------------------------------------------------------


def task_roles(stack: Evaluation) -> list[tuple[str, DeclaredResource, list[dict[str, Any]]]]:
    roles = []
    for service in stack.of_type(SERVICE):
        task, _ = containers(stack, service)
        for kind in ("executionRoleArn", "taskRoleArn"):
            role, statements = role_statements(stack, task.inputs[kind])
            roles.append((kind, role, statements))
    return roles


def test_role_policies_have_no_wildcard_actions_and_name_their_resources(stack: Evaluation) -> None:
    for _, role, statements in task_roles(stack):
        assert statements, role.name
        for statement in statements:
            assert statement["Effect"] == "Allow"
            assert not any("*" in action for action in as_list(statement["Action"])), statement
            if "*" in as_list(statement["Resource"]):
                assert as_list(statement["Action"]) == ["ecr:GetAuthorizationToken"], statement
        attached = [a for a in stack.of_type(ATTACHMENT) if a.inputs["role"] in (role.outputs["id"], role.name)]
        assert attached == [], role.name


def test_roles_trust_only_this_accounts_ecs_tasks(stack: Evaluation) -> None:
    for _, role, _ in task_roles(stack):
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"


def test_execution_role_pulls_this_repository_writes_this_log_group_reads_injected_secrets(stack: Evaluation) -> None:
    repositories = {r.region: r.outputs["arn"] for r in stack.of_type(REPOSITORY)}
    for service in stack.of_type(SERVICE):
        task, container = containers(stack, service)
        _, statements = role_statements(stack, task.inputs["executionRoleArn"])
        for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"):
            assert actions_on(statements, action) == [repositories[service.region]]
        group = by_output(stack, LOG_GROUP, "name", container["logConfiguration"]["options"]["awslogs-group"])
        assert actions_on(statements, "logs:PutLogEvents") == [f"{group.outputs['arn']}:log-stream:*"]
        # The app container's secrets, plus the master secret whose username/password ECS injects into migrate.
        injected = sorted([*(s["valueFrom"] for s in container["secrets"]), stack.outputs["databaseSecretArn"]])
        assert actions_on(statements, "secretsmanager:GetSecretValue") == injected
        assert_decrypt_only_through(statements, injected)


def test_task_role_may_only_connect_as_the_app_role_to_each_instance(stack: Evaluation) -> None:
    """rds-db:connect on arn:aws:rds-db:<region>:<account>:dbuser:<DbiResourceId>/api_app of the primary and every
    replica (RDS user guide, "Creating and using an IAM policy for IAM database access"): the resource id, not the
    identifier, and the exact user, never `*`; no secret read at all."""
    instances = stack.of_type("aws:rds/instance:Instance")
    assert len(instances) == 1 + len(stack.outputs["databaseReplicaEndpoints"])
    expected = sorted(
        f"arn:aws:rds-db:{i.region}:123456789012:dbuser:{i.outputs['resourceId']}/{APP_ROLE}" for i in instances
    )
    for service in stack.of_type(SERVICE):
        task, _ = containers(stack, service)
        _, statements = role_statements(stack, task.inputs["taskRoleArn"])
        assert sorted(actions_on(statements, "rds-db:connect")) == expected
        assert {a for s in statements for a in as_list(s["Action"])} == {"rds-db:connect"}
        for arn in expected:
            assert "*" not in arn
            assert arn.split(":")[6].startswith("db-")  # a DbiResourceId, as the mocks hand out


def assert_decrypt_only_through(statements: list[dict[str, Any]], secret_arns: list[str]) -> None:
    """kms:Decrypt only via Secrets Manager, only for these secrets, only on keys in their regions."""
    (decrypt,) = [s for s in statements if "kms:Decrypt" in as_list(s["Action"])]
    condition = decrypt["Condition"]["StringEquals"]
    assert sorted(as_list(condition["kms:EncryptionContext:SecretARN"])) == sorted(secret_arns)
    regions = {arn.split(":")[3] for arn in secret_arns}
    assert set(as_list(condition["kms:ViaService"])) == {f"secretsmanager.{r}.amazonaws.com" for r in regions}
    assert set(as_list(decrypt["Resource"])) == {f"arn:aws:kms:{r}:123456789012:key/*" for r in regions}


# --- origin routing -----------------------------------------------------------------------------------------------


def test_latency_records_per_app_region_on_alarm_health_checks(stack: Evaluation) -> None:
    domain = setting(stack, "domain")
    host = f"origin.{domain['name']}"
    records = [r for r in stack.of_type(RECORD) if r.inputs["name"] == host]
    assert sorted(r.inputs["latencyRoutingPolicies"][0]["region"] for r in records) == sorted(app_aws_regions(stack))
    checks = {c.outputs["id"]: c for c in stack.of_type(HEALTH_CHECK)}
    alarms = {(a.region, a.inputs["name"]): a for a in stack.of_type(ALARM)}
    for record in records:
        region = record.inputs["latencyRoutingPolicies"][0]["region"]
        assert record.inputs["zoneId"] == domain["hostedZoneId"]
        assert record.inputs["type"] == "A"
        assert record.inputs["setIdentifier"] in setting(stack, "appRegions")
        (alb,) = [b for b in stack.of_type(LOAD_BALANCER) if b.region == region]
        (alias,) = record.inputs["aliases"]
        assert (alias["name"], alias["zoneId"]) == (alb.outputs["dnsName"], alb.outputs["zoneId"])
        parent = checks[record.inputs["healthCheckId"]]
        assert parent.inputs["type"] == "CALCULATED"
        children = [checks[i] for i in parent.inputs["childHealthchecks"]]
        assert parent.inputs["childHealthThreshold"] == len(children) == 2
        metrics = set()
        for child in children:
            assert child.inputs["type"] == "CLOUDWATCH_METRIC"
            assert child.inputs["cloudwatchAlarmRegion"] == region
            alarm = alarms[(region, child.inputs["cloudwatchAlarmName"])]
            assert alarm.inputs["dimensions"]["LoadBalancer"] == alb.outputs["arnSuffix"]
            assert "metricQueries" not in alarm.inputs  # Route 53 cannot evaluate metric-math alarms
            status = child.inputs["insufficientDataHealthStatus"]
            metrics.add((alarm.inputs["metricName"], alarm.inputs["treatMissingData"], status))
        # The ALB publishes 5xx counts only when non-zero and nothing while a region gets no traffic (ELB user guide,
        # "CloudWatch metrics for your Application Load Balancer"): a 5xx check that kept its last known status would
        # keep a recovered region out of DNS forever. Healthy targets never lack data (missing is breaching).
        assert metrics == {
            ("HealthyHostCount", "breaching", "LastKnownStatus"),
            ("HTTPCode_Target_5XX_Count", "notBreaching", "Healthy"),
        }


def test_no_route53_probe_reaches_the_alb(stack: Evaluation) -> None:
    """The health checks read alarms, so the ALB needs no opening for Route 53 health checkers."""
    assert {c.inputs["type"] for c in stack.of_type(HEALTH_CHECK)} == {"CALCULATED", "CLOUDWATCH_METRIC"}


def test_alb_admits_only_cloudfront(stack: Evaluation) -> None:
    for alb in stack.of_type(LOAD_BALANCER):
        cloudfront = prefix_list_id(str(alb.region), CLOUDFRONT_PREFIX_LIST)
        for group_id in alb.inputs["securityGroups"]:
            group = by_output(stack, SECURITY_GROUP, "id", group_id)
            rules = group.inputs.get("ingress", [])
            assert rules, group.name
            for rule in rules:
                assert not rule.get("cidrBlocks"), group.name
                assert not rule.get("ipv6CidrBlocks"), group.name
                assert not rule.get("securityGroups"), group.name
                assert rule["prefixListIds"] == [cloudfront], group.name
            extra = [r for r in stack.of_type(INGRESS_RULE) if r.inputs["securityGroupId"] == group_id]
            assert extra == [], group.name
