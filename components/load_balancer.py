"""One region's internet-facing ALB that only CloudFront can reach, and only CloudFront's requests pass.

Two locks: the security groups admit nothing but the AWS-managed CloudFront origin-facing prefix list, and the
HTTPS listener forwards only requests carrying the secret `X-Origin-Verify` header (anything else gets 403), so
a request from another CloudFront distribution (same prefix list) is still refused.

Route 53 health checkers (managed prefix list com.amazonaws.<region>.route53-healthchecks, same VPC guide) are
deliberately not admitted: the app tier's regional health checks are CloudWatch-metric checks on this ALB's
target metrics, so the ALB never opens to anything but CloudFront (DESIGN.md, "The ALB stays closed").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_account import account_id
from components.certificate import CertificateArgs, DnsValidatedCertificate, ValidationRecords
from components.dns import alias_record
from components.monitoring import AlarmSpec, MetricQuery, Monitoring
from components.secure_bucket import SecureBucket, SecureBucketArgs
from contracts.headers import ORIGIN_VERIFY

# AWS-managed prefix list of CloudFront's origin-facing servers (IPv4). Sources: the VPC user guide,
# https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html, and
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/LocationsOfEdgeServers.html#managed-prefix-list
# Its weight is 55 against the 60-rules-per-group quota, so each port's rule gets its own security group.
CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
# TLS 1.3 with TLS 1.2 fallback, no older protocols (the ELB guide's recommended policy).
TLS12_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
HTTPS_PORT, HTTP_PORT = 443, 80


@dataclass(frozen=True)
class LoadBalancerArgs:
    """Inputs of one regional ALB. Defaults are the safe choice; staging opts out of deletion protection."""

    logical_region: str  # eu | us | asia: used in names and the regional origin name
    aws_region: str  # where every regional child is created
    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    app_security_group: aws.ec2.SecurityGroup  # the app tasks' identity group: the only place the ALB may connect
    origin_host: str  # origin.<domain>: what CloudFront connects to; the certificate covers it
    hosted_zone_id: str  # public zone holding origin_host (certificate validation, regional alias)
    origin_verify_value: pulumi.Input[str]  # the secret CloudFront sends as X-Origin-Verify
    monitoring: Monitoring
    app_port: int = 8000
    health_check_path: str = "/health"  # liveness only: a database outage must not drain every target
    deletion_protection: bool = True
    access_log_expire_days: int = 90
    destroy_logs_with_stack: bool = False  # staging only: let `pulumi destroy` empty the log bucket
    deregistration_delay_seconds: int = 30  # requests are short; 300 s (AWS default) only slows deploys
    stickiness_seconds: int = 3600  # lb-cookie stickiness, as the original setup had
    idle_timeout_seconds: int = 60
    target_5xx_rate_percent: float = 5.0
    elb_5xx_rate_percent: float = 1.0
    p99_response_seconds: float = 0.1  # the original system's goal: p99 under 100 ms at the origin
    # The stack's shared certificate-validation records (every region's origin certificate validates origin_host).
    validation_records: ValidationRecords | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def regional_host(self) -> str:
        """<logical>.origin.<domain>: reaches this region's ALB directly (diagnostics, failover drills)."""
        return f"{self.logical_region}.{self.origin_host}"


class LoadBalancer(pulumi.ComponentResource):
    """ALB, listeners, target group, certificate, access logs and alarms for one app region."""

    alb: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    security_group: aws.ec2.SecurityGroup  # HTTPS from CloudFront in, app port to the app tasks out
    redirect_security_group: aws.ec2.SecurityGroup  # HTTP from CloudFront in (redirect only)
    https_listener: aws.lb.Listener
    http_listener: aws.lb.Listener
    certificate: DnsValidatedCertificate
    logical_region: str
    aws_region: str

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:edge:LoadBalancer", name, None, opts)
        self.args = args
        self.logical_region, self.aws_region = args.logical_region, args.aws_region
        region, child = args.aws_region, pulumi.ResourceOptions(parent=self)

        self.security_group, self.redirect_security_group = self._security_groups(name)
        logs = SecureBucket(
            f"{name}-logs",
            SecureBucketArgs(
                region=region,  # ALB log delivery requires SSE-S3 (no KMS) and a bucket in the ALB's region
                expire_after_days=args.access_log_expire_days,
                force_destroy=args.destroy_logs_with_stack,
                extra_statements=lambda arn: _elb_log_delivery(arn, region),
                tags=args.tags,
            ),
            opts=child,
        )
        self.alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            region=region,
            load_balancer_type="application",
            internal=False,
            subnets=list(args.public_subnet_ids),
            security_groups=[self.security_group.id, self.redirect_security_group.id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            enable_deletion_protection=args.deletion_protection,
            idle_timeout=args.idle_timeout_seconds,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=logs.bucket.bucket, prefix="alb", enabled=True),
            tags={**args.tags, "Name": f"{name}-alb"},
            # AWS checks the bucket policy when logging is switched on.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs]),
        )
        self.target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            region=region,
            vpc_id=args.vpc_id,
            target_type="ip",  # Fargate tasks register by ENI address
            protocol="HTTP",
            port=args.app_port,
            deregistration_delay=args.deregistration_delay_seconds,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path=args.health_check_path,
                protocol="HTTP",
                port="traffic-port",
                matcher="200",
                interval=15,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            stickiness=aws.lb.TargetGroupStickinessArgs(
                type="lb_cookie", enabled=True, cookie_duration=args.stickiness_seconds
            ),
            tags={**args.tags, "Name": f"{name}-tg"},
            opts=child,
        )
        self.certificate = DnsValidatedCertificate(
            f"{name}-origin",
            CertificateArgs(
                region=region,
                domain_name=args.origin_host,
                alternative_names=[args.regional_host],
                hosted_zone_id=args.hosted_zone_id,
                tags=args.tags,
            ),
            opts=child,
            validation=args.validation_records,
        )
        self._listeners(name)
        alias_record(
            f"{name}-regional-origin",
            zone_id=args.hosted_zone_id,
            record_name=args.regional_host,
            record_type="A",
            target_dns_name=self.alb.dns_name,
            target_zone_id=self.alb.zone_id,
            evaluate_target_health=True,
            parent=self,
        )
        self._alarms(name)
        self.register_outputs(
            {"albArn": self.alb.arn, "albDnsName": self.alb.dns_name, "targetGroupArn": self.target_group.arn}
        )

    def _security_groups(self, name: str) -> tuple[aws.ec2.SecurityGroup, aws.ec2.SecurityGroup]:
        """Ingress only from CloudFront's origin-facing servers; egress only to the app tasks' port."""
        args, region = self.args, self.args.aws_region
        cloudfront = aws.ec2.get_managed_prefix_list_output(name=CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST, region=region)

        def from_cloudfront(port: int, purpose: str) -> aws.ec2.SecurityGroupIngressArgs:
            return aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp",
                from_port=port,
                to_port=port,
                prefix_list_ids=[cloudfront.id],
                description=f"{purpose} from CloudFront origin-facing servers only",
            )

        https = aws.ec2.SecurityGroup(
            f"{name}-sg",
            region=region,
            vpc_id=args.vpc_id,
            description=f"ALB {args.logical_region}: HTTPS from CloudFront only; to app tasks only",
            ingress=[from_cloudfront(HTTPS_PORT, "HTTPS")],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=args.app_port,
                    to_port=args.app_port,
                    security_groups=[args.app_security_group.id],
                    description="app tasks (requests and health checks)",
                )
            ],
            tags={**args.tags, "Name": f"{name}-sg"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        # No egress block: the provider removes AWS's default allow-all egress, so this group only admits.
        redirect = aws.ec2.SecurityGroup(
            f"{name}-redirect-sg",
            region=region,
            vpc_id=args.vpc_id,
            description=f"ALB {args.logical_region}: HTTP (redirect to HTTPS) from CloudFront only",
            ingress=[from_cloudfront(HTTP_PORT, "HTTP redirect")],
            tags={**args.tags, "Name": f"{name}-redirect-sg"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-to-app",
            region=region,
            security_group_id=args.app_security_group.id,
            referenced_security_group_id=https.id,
            ip_protocol="tcp",
            from_port=args.app_port,
            to_port=args.app_port,
            description=f"ALB {args.logical_region} to the app",
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=https),
        )
        return https, redirect

    def _listeners(self, name: str) -> None:
        """HTTP only redirects; HTTPS answers 403 unless the request carries CloudFront's secret header."""
        args, region = self.args, self.args.aws_region
        self.http_listener = aws.lb.Listener(
            f"{name}-http",
            region=region,
            load_balancer_arn=self.alb.arn,
            port=HTTP_PORT,
            protocol="HTTP",
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        protocol="HTTPS", port=str(HTTPS_PORT), status_code="HTTP_301"
                    ),
                )
            ],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self.alb),
        )
        self.https_listener = aws.lb.Listener(
            f"{name}-https",
            region=region,
            load_balancer_arn=self.alb.arn,
            port=HTTPS_PORT,
            protocol="HTTPS",
            ssl_policy=TLS12_SSL_POLICY,
            certificate_arn=self.certificate.certificate_arn,
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="fixed-response",
                    fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                        content_type="text/plain", message_body="Forbidden", status_code="403"
                    ),
                )
            ],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self.alb),
        )
        aws.lb.ListenerRule(
            f"{name}-origin-verify",
            region=region,
            listener_arn=self.https_listener.arn,
            priority=10,
            conditions=[
                aws.lb.ListenerRuleConditionArgs(
                    http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                        http_header_name=ORIGIN_VERIFY, values=[args.origin_verify_value]
                    )
                )
            ],
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=self.target_group.arn)],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self.https_listener),
        )

    def _alarms(self, name: str) -> None:
        """Unhealthy targets, target and ELB 5xx rates, p99 latency; all in the ALB's region."""
        specs = alarm_specs(name, self.args, alb=self.alb.arn_suffix, target_group=self.target_group.arn_suffix)
        for spec in specs:
            self.args.monitoring.alarm(spec, region=self.args.aws_region, parent=self)


def alarm_specs(
    name: str, args: LoadBalancerArgs, *, alb: pulumi.Input[str], target_group: pulumi.Input[str]
) -> list[AlarmSpec]:
    """The ALB's alarms: a target failing its health check, target and ELB 5xx rates, p99 latency at the origin.
    `alb` and `target_group` are the ARN suffixes CloudWatch uses as dimensions."""
    alb_dim = {"LoadBalancer": alb}
    target_dims = {**alb_dim, "TargetGroup": target_group}
    return [
        AlarmSpec(
            name=f"{name}-unhealthy-hosts",
            description=f"ALB {args.logical_region}: a target failed {args.health_check_path}",
            namespace="AWS/ApplicationELB",
            metric_name="UnHealthyHostCount",
            dimensions=target_dims,
            statistic="Maximum",
            threshold=0,
            evaluation_periods=2,
        ),
        _error_rate(
            f"{name}-target-5xx-rate",
            f"ALB {args.logical_region}: app 5xx responses over {args.target_5xx_rate_percent}% of requests",
            "HTTPCode_Target_5XX_Count",
            args.target_5xx_rate_percent,
            alb_dim,
        ),
        _error_rate(
            f"{name}-elb-5xx-rate",
            f"ALB {args.logical_region}: load balancer 5xx (no healthy target, timeouts) over "
            f"{args.elb_5xx_rate_percent}% of requests",
            "HTTPCode_ELB_5XX_Count",
            args.elb_5xx_rate_percent,
            alb_dim,
        ),
        AlarmSpec(
            name=f"{name}-p99-latency",
            description=f"ALB {args.logical_region}: p99 TargetResponseTime over {args.p99_response_seconds} s",
            namespace="AWS/ApplicationELB",
            metric_name="TargetResponseTime",
            dimensions=alb_dim,
            statistic=None,
            extended_statistic="p99",
            threshold=args.p99_response_seconds,
            evaluation_periods=5,
            datapoints_to_alarm=3,
        ),
    ]


def _error_rate(
    name: str, description: str, metric: str, threshold_percent: float, dimensions: Mapping[str, pulumi.Input[str]]
) -> AlarmSpec:
    """`metric` as a percentage of RequestCount (a count threshold would page at night and sleep at peak)."""

    def count(query_id: str, metric_name: str) -> MetricQuery:
        return MetricQuery(
            id=query_id,
            namespace="AWS/ApplicationELB",
            metric_name=metric_name,
            dimensions=dimensions,
            stat="Sum",
        )

    return AlarmSpec(
        name=name,
        description=description,
        threshold=threshold_percent,
        evaluation_periods=3,
        queries=(
            count("errors", metric),
            count("requests", "RequestCount"),
            MetricQuery(
                id="rate",
                expression="100 * FILL(errors, 0) / requests",
                label=f"{metric} % of requests",
                return_data=True,
            ),
        ),
    )


def _elb_log_delivery(bucket_arn: pulumi.Output[str], region: str) -> list[dict[str, Any]]:
    """Who may write ALB access logs: the region's ELB account (older regions) or the log delivery service."""
    objects = pulumi.Output.concat(bucket_arn, "/alb/AWSLogs/", account_id(), "/*")
    elb_account = aws.elb.get_service_account_output(region=region).arn
    return [
        {
            "Sid": "ElbAccountLogDelivery",
            "Effect": "Allow",
            "Principal": {"AWS": elb_account},
            "Action": "s3:PutObject",
            "Resource": objects,
        },
        {
            "Sid": "ElbServiceLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": ELB_LOG_DELIVERY_SERVICE},
            "Action": "s3:PutObject",
            "Resource": objects,
        },
    ]
