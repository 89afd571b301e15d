"""The app in one AWS region: an ECS cluster and a Fargate service behind that region's ALB target group.

Secure defaults: tasks run in private subnets without a public IP, as a non-root user on a read-only root file
system (a task-local volume on /tmp is the only writable path), with every Linux capability dropped. Secrets reach
the container only through ECS `secrets` (the execution role reads exactly those ARNs); the environment carries
names, hosts and ARNs, never a secret value. Deployments roll back on their own when new tasks fail, and the
service scales on CPU and on ALB requests per target between the configured floor and ceiling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.fargate_task import ContainerSpec, CpuArchitecture, FargateTask, FargateTaskArgs
from components.iam import Statement, read_secrets
from contracts.tags import LOGICAL_REGION

CONTAINER_NAME = "app"
MIGRATE_CONTAINER = "migrate"
MIGRATE_COMMAND = ("python", "-m", "app.migrate")
_PredefinedMetric = aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs


@dataclass(frozen=True)
class ServiceArgs:
    """Inputs of the app in one region. Counts and sizes come from the stack config (`service:`)."""

    logical_region: str  # eu | us | asia: used in names and tags
    aws_region: str  # where every regional child is created
    image_uri: pulumi.Input[str]  # <repository url>@sha256:<digest>: a new digest is the only thing that redeploys
    repository_arn: pulumi.Input[str]  # the ECR repository the execution role may pull from (and nothing else)
    subnet_ids: Sequence[pulumi.Input[str]]  # private subnets
    security_group_id: pulumi.Input[str]  # the tasks' identity SG (the ALB and the databases admit it)
    target_group_arn: pulumi.Input[str]
    load_balancer_arn_suffix: pulumi.Input[str]  # with the target group's suffix: the requests-per-target metric
    target_group_arn_suffix: pulumi.Input[str]
    cpu: int
    memory: int
    desired_count: int
    min_count: int
    max_count: int
    # Plain environment: names, hosts, ARNs and numbers only. Validated against `secrets` (no name in both).
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Environment name -> Secrets Manager ARN injected by ECS at start (the execution role may read exactly these).
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Secrets the app itself reads at run time with its task role (none in the stacks: the app logs in with IAM).
    task_secret_arns: Sequence[pulumi.Input[str]] = ()
    # Further task-role statements (e.g. rds-db:connect as the app's database role).
    task_statements: Sequence[Statement] = ()
    # The migrate container's own environment overrides and ECS secrets (the master login), and the secrets
    # those read: the execution role may read them, the app container never sees them.
    migrate_environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    migrate_secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    migrate_secret_arns: Sequence[pulumi.Input[str]] = ()
    container_port: int = 8000
    run_as_user: str = "10001:10001"  # uid:gid; the image's non-root user (never 0 / root)
    cpu_architecture: CpuArchitecture = "X86_64"  # must match the image's build platform
    cpu_target_percent: float = 60.0
    requests_per_target: float = 1000.0  # per target per minute (ALBRequestCountPerTarget)
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60
    health_check_grace_seconds: int = 60
    log_retention_days: int = 90
    depends_on: Sequence[pulumi.Resource] = ()  # e.g. the listener that attaches the target group to the ALB
    protect: bool = False  # production: the log group and its key are kept on an accidental delete
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        both = sorted(set(self.environment) & set(self.secrets))
        if both:
            raise ValueError(f"ServiceArgs: {', '.join(both)} given both as plain environment and as a secret")
        if not (1 <= self.min_count <= self.desired_count <= self.max_count):
            raise ValueError(
                "ServiceArgs: counts must satisfy 1 <= min <= desired <= max "
                f"(got min {self.min_count}, desired {self.desired_count}, max {self.max_count})"
            )
        if self.run_as_user.split(":")[0] in ("0", "root", ""):
            raise ValueError(f"ServiceArgs.run_as_user: got {self.run_as_user!r}; allowed: a non-root uid[:gid]")


class Service(pulumi.ComponentResource):
    """Cluster, log group, roles, task definition, service and autoscaling for one region."""

    cluster: aws.ecs.Cluster
    service: aws.ecs.Service
    task_definition: aws.ecs.TaskDefinition
    log_group: aws.cloudwatch.LogGroup
    execution_role: aws.iam.Role
    task_role: aws.iam.Role

    def __init__(self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:app:Service", name, None, opts)
        self.args = args
        region, child = args.aws_region, pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, LOGICAL_REGION: args.logical_region}
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            region=region,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enhanced")],
            tags=tags,
            opts=child,
        )
        task = FargateTask(
            name,
            FargateTaskArgs(
                aws_region=region,
                image_uri=args.image_uri,
                repository_arn=args.repository_arn,
                containers=[
                    # Migrations run in every new task before the app accepts traffic: Alembic skips what is
                    # applied and an advisory lock serialises tasks starting together, so a deploy that changes
                    # the schema needs no extra step.
                    ContainerSpec(
                        MIGRATE_CONTAINER,
                        command=MIGRATE_COMMAND,
                        essential=False,
                        environment=args.migrate_environment,
                        secrets=args.migrate_secrets,
                    ),
                    ContainerSpec(
                        CONTAINER_NAME, port=args.container_port, depends_on=[(MIGRATE_CONTAINER, "SUCCESS")]
                    ),
                ],
                cpu=args.cpu,
                memory=args.memory,
                environment=args.environment,
                secrets=args.secrets,
                secret_arns=[*(args.secrets[key] for key in sorted(args.secrets)), *args.migrate_secret_arns],
                # What the app itself may do: what the stack grants (log in to its databases), nothing else.
                task_statements=[*read_secrets(args.task_secret_arns, "ReadAppSecrets"), *args.task_statements],
                cpu_architecture=args.cpu_architecture,
                run_as_user=args.run_as_user,
                log_retention_days=args.log_retention_days,
                protect=args.protect,
                tags=tags,
            ),
            parent=self,
        )
        self.log_group, self.task_definition = task.log_group, task.task_definition
        self.execution_role, self.task_role = task.execution_role, task.task_role
        self.service = aws.ecs.Service(
            f"{name}-service",
            region=region,
            cluster=self.cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=args.desired_count,
            launch_type="FARGATE",
            platform_version="LATEST",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(args.subnet_ids), security_groups=[args.security_group_id], assign_public_ip=False
            ),
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(
                    target_group_arn=args.target_group_arn,
                    container_name=CONTAINER_NAME,
                    container_port=args.container_port,
                )
            ],
            health_check_grace_period_seconds=args.health_check_grace_seconds,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            tags=tags,
            # Autoscaling owns the running count after the first deploy; a redeploy must not reset it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on), ignore_changes=["desiredCount"]),
        )
        self._autoscaling(name)
        self.register_outputs(
            {"clusterName": self.cluster.name, "serviceName": self.service.name, "logGroup": self.log_group.name}
        )

    def _autoscaling(self, name: str) -> None:
        """Track CPU and ALB requests per target; whichever asks for more tasks wins."""
        args = self.args
        target = aws.appautoscaling.Target(
            f"{name}-scaling",
            region=args.aws_region,
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", self.cluster.name, "/", self.service.name),
            min_capacity=args.min_count,
            max_capacity=args.max_count,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self.service),
        )
        trackers: dict[str, tuple[float, _PredefinedMetric]] = {
            "cpu": (
                args.cpu_target_percent,
                _PredefinedMetric(predefined_metric_type="ECSServiceAverageCPUUtilization"),
            ),
            "requests": (
                args.requests_per_target,
                _PredefinedMetric(
                    predefined_metric_type="ALBRequestCountPerTarget",
                    resource_label=pulumi.Output.concat(
                        args.load_balancer_arn_suffix, "/", args.target_group_arn_suffix
                    ),
                ),
            ),
        }
        for metric, (value, spec) in trackers.items():
            aws.appautoscaling.Policy(
                f"{name}-scale-on-{metric}",
                region=args.aws_region,
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=(
                    aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                        target_value=value,
                        predefined_metric_specification=spec,
                        scale_in_cooldown=args.scale_in_cooldown_seconds,
                        scale_out_cooldown=args.scale_out_cooldown_seconds,
                    )
                ),
                opts=pulumi.ResourceOptions(parent=target),
            )
