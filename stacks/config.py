"""The only reader of Pulumi config: typed stack settings, validated before any resource exists.

Key names are fixed by DESIGN.md (tools outside this repository write them). Every bad value is reported at once,
one line per key, naming the key, the value given and what is allowed; a typo'd key is reported as unknown rather
than silently ignored. Defaults are the production-safe choice: a stack has to opt *out* of safety, never in.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal

import botocore.loaders
import botocore.regions
import pulumi
import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from components.fargate_task import fargate_cpu_error, fargate_memory_error
from contracts.regions import REGIONS, Region
from contracts.tags import Environment
from stacks.backup_regions import supported_destinations, unsupported_pair_message

# The names are shared with the app, the ops tool and localdev (contracts/); the config keys use them as is.
LogicalRegion = Region
LOGICAL_REGIONS = REGIONS

SUPPORTED_POSTGRES_MAJORS = (14, 15, 16, 17)
# Request body limit shared by the WAF rule and the app (REQUEST_MAX_BODY_BYTES); 64 KiB is also the most a
# CloudFront web ACL can inspect.
DEFAULT_MAX_BODY_BYTES = 65536
MIN_BODY_BYTES, MAX_BODY_BYTES = 1024, 65536
DEFAULT_CIDRS: dict[LogicalRegion, str] = {"eu": "10.10.0.0/16", "us": "10.20.0.0/16", "asia": "10.30.0.0/16"}
# Backup copies go here when no other configured region can take them (the first that is not the primary's).
FALLBACK_BACKUP_REGIONS = ("us-east-1", "us-west-2")

_DB_INSTANCE_CLASS = re.compile(r"^db\.[a-z][a-z0-9-]*\d[a-z0-9-]*\.(micro|small|medium|large|\d*xlarge)$")
_EC2_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\d[a-z0-9-]*\.(nano|micro|small|medium|large|\d*xlarge|metal)$")
_DNS_NAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
_CLOUDFRONT_CERT_ARN = re.compile(r"^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$")
_ENGINE_VERSION = re.compile(r"^(\d{2})(\.\d+)?$")


@cache
def aws_commercial_regions() -> frozenset[str]:
    """The real list of AWS commercial regions, from botocore's endpoint data (kept current by AWS). Read with
    botocore's resolver, the one boto3's Session.get_available_regions calls, without boto3 itself: a boto3 import
    and session cost 0.39 s of a stack evaluation, this 0.12 s (`make bench`, "evaluate production")."""
    endpoints = botocore.loaders.Loader().load_data("endpoints")
    return frozenset(botocore.regions.EndpointResolver(endpoints).get_available_endpoints("ec2", "aws"))


def _aws_region(value: str) -> str:
    if value not in aws_commercial_regions():
        raise ValueError(f"allowed: an AWS commercial region, e.g. {', '.join(sorted(aws_commercial_regions())[:6])}…")
    return value


def _unique(values: list[LogicalRegion]) -> list[LogicalRegion]:
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"allowed: each region at most once (repeated: {', '.join(duplicates)})")
    return values


AwsRegion = Annotated[str, AfterValidator(_aws_region)]
RegionList = Annotated[list[LogicalRegion], AfterValidator(_unique)]


class _Model(BaseModel):
    """Config keys are camelCase, exactly as written in Pulumi.<stack>.yaml; unknown keys are errors."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, validate_by_name=False, validate_by_alias=True
    )


class DatabaseConfig(_Model):
    """RDS PostgreSQL primary and replicas."""

    instance_class: str = Field("db.t4g.medium", description="RDS instance class (db.<family>.<size>)")
    allocated_storage: int = Field(50, ge=20, le=65536, description="initial gp3 storage, GiB (20..65536)")
    max_allocated_storage: int = Field(500, le=65536, description="storage autoscaling ceiling, GiB (≥ allocated)")
    multi_az: bool = Field(True, description="standby in a second AZ (production: true)")
    backup_retention_days: int = Field(7, le=35, description="automated backup retention, days (1..35)")
    engine_version: str = Field("16", description="PostgreSQL major (or major.minor) version")
    max_replica_lag_seconds: float = Field(5, gt=0, le=3600, description="replica lag alarm bound, seconds")
    backup_replication_region: AwsRegion | None = Field(
        None,
        description="production: AWS region receiving copies of the primary's automated backups, one RDS supports "
        "from the primary's region (default: the first such replica region, other configured region, us-east-1, "
        "us-west-2)",
    )

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, value: str) -> str:
        if not _DB_INSTANCE_CLASS.match(value):
            raise ValueError("allowed: an RDS instance class such as db.t4g.medium or db.r6g.xlarge")
        return value

    @field_validator("max_allocated_storage")
    @classmethod
    def _ceiling_above_floor(cls, value: int, info: ValidationInfo) -> int:
        floor = info.data.get("allocated_storage")
        if floor is not None and value < floor:
            raise ValueError(f"allowed: at least allocatedStorage ({floor} GiB)")
        return value

    @field_validator("backup_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value < 1:
            raise ValueError("allowed: 1..35 days (0 turns off automated backups, which read replicas require)")
        return value

    @field_validator("engine_version")
    @classmethod
    def _engine_version(cls, value: str) -> str:
        match = _ENGINE_VERSION.match(value)
        if not match or int(match.group(1)) not in SUPPORTED_POSTGRES_MAJORS:
            majors = ", ".join(map(str, SUPPORTED_POSTGRES_MAJORS))
            raise ValueError(f'allowed: a PostgreSQL version string with major {majors} (e.g. "16" or "16.4")')
        return value

    @property
    def engine_major(self) -> int:
        return int(self.engine_version.split(".")[0])

    @property
    def parameter_group_family(self) -> str:
        return f"postgres{self.engine_major}"


class TimescaleConfig(_Model):
    """The self-managed TimescaleDB analytics cluster on EC2."""

    instance_type: str = Field("t4g.large", description="EC2 instance type (Graviton *g types get arm64)")
    replicas: int = Field(1, ge=0, le=5, description="streaming standbys besides the primary (0..5)")
    volume_gib: int = Field(
        100, alias="volumeGiB", ge=20, le=16384, description="data volume per node, GiB (20..16384)"
    )
    volume_iops: int = Field(3000, ge=3000, le=16000, description="gp3 IOPS (3000..16000)")
    volume_throughput: int = Field(125, ge=125, le=1000, description="gp3 throughput, MiB/s (125..1000)")

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        if not _EC2_INSTANCE_TYPE.match(value):
            raise ValueError("allowed: an EC2 instance type such as t4g.large or m7i.xlarge")
        return value

    @property
    def architecture(self) -> Literal["arm64", "x86_64"]:
        family = self.instance_type.split(".")[0]
        # Graviton families carry a "g" after the generation (t4g, m7gd, c6gn, is4gen); a1 is the first Graviton.
        return "arm64" if family == "a1" or re.match(r"^[a-z]+\d+[a-z]*g[a-z]*$", family) else "x86_64"


class ServiceConfig(_Model):
    """The app's ECS Fargate service in each app region. Field order matters: counts validate against earlier ones."""

    cpu: int = Field(512, description="Fargate task cpu units (256, 512, 1024, 2048, 4096, 8192, 16384)")
    memory: int = Field(1024, description="Fargate task memory, MiB (a size Fargate allows for that cpu)")
    min_count: int = Field(2, ge=1, le=1000, description="autoscaling floor (≥ 1)")
    desired_count: int = Field(2, ge=1, le=1000, description="tasks at deploy time (minCount..maxCount)")
    max_count: int = Field(10, ge=1, le=1000, description="autoscaling ceiling (≥ desiredCount)")

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: int) -> int:
        error = fargate_cpu_error(value)
        if error:
            raise ValueError(error)
        return value

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: int, info: ValidationInfo) -> int:
        cpu = info.data.get("cpu")
        if cpu is None:
            return value
        error = fargate_memory_error(cpu, value)
        if error:
            raise ValueError(error)
        return value

    @field_validator("desired_count")
    @classmethod
    def _desired(cls, value: int, info: ValidationInfo) -> int:
        floor = info.data.get("min_count")
        if floor is not None and value < floor:
            raise ValueError(f"allowed: at least minCount ({floor})")
        return value

    @field_validator("max_count")
    @classmethod
    def _max(cls, value: int, info: ValidationInfo) -> int:
        for key, other in (
            ("desiredCount", info.data.get("desired_count")),
            ("minCount", info.data.get("min_count")),
        ):
            if other is not None and value < other:
                raise ValueError(f"allowed: at least {key} ({other})")
        return value


class DomainConfig(_Model):
    """The stack's public name. Required: CloudFront needs HTTPS to the ALBs, which needs a name we own."""

    name: str = Field(description="public API host name, e.g. api.example.com")
    hosted_zone_id: str = Field(description="Route 53 public hosted zone holding the name")
    certificate_arn: str = Field(description="ACM certificate for the name, in us-east-1 (CloudFront)")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _DNS_NAME.match(value):
            raise ValueError("allowed: a lower-case DNS name such as api.example.com")
        return value

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not _HOSTED_ZONE_ID.match(value):
            raise ValueError("allowed: a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ")
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _certificate(cls, value: str) -> str:
        if not _CLOUDFRONT_CERT_ARN.match(value):
            raise ValueError("allowed: an ACM certificate ARN in us-east-1 (CloudFront only uses that region)")
        return value


class CdnConfig(_Model):
    """CloudFront knobs (added to DESIGN.md's keys; optional)."""

    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = Field(
        "PriceClass_All", description="CloudFront edge coverage; customers are on three continents"
    )
    rate_limit_per_ip: int = Field(
        2000, ge=100, le=2_000_000_000, description="WAF limit: requests per IP per 5-minute window"
    )
    max_body_bytes: int = Field(
        DEFAULT_MAX_BODY_BYTES,
        description="largest request body, bytes (1024..65536): the WAF blocks and the app answers 413 above it",
    )

    @field_validator("max_body_bytes")
    @classmethod
    def _max_body_bytes(cls, value: int) -> int:
        # WAF for CloudFront inspects at most 64 KiB of a body (AssociationConfig KB_64, WAF API reference), so a
        # larger limit could not be enforced at the edge; under 1 KiB no JSON API request fits.
        if not MIN_BODY_BYTES <= value <= MAX_BODY_BYTES:
            raise ValueError(
                f"allowed: {MIN_BODY_BYTES}..{MAX_BODY_BYTES} bytes (WAF for CloudFront inspects at most 64 KiB of a "
                "request body, so a larger limit cannot be enforced at the edge)"
            )
        return value


class AnalyticsConfig(_Model):
    """Revenue analytics settings the tasks need (added to DESIGN.md's keys; optional)."""

    base_currency: str = Field(
        "USD", description="ISO 4217 code of the base-currency figures (ANALYTICS_BASE_CURRENCY)"
    )

    @field_validator("base_currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if pycountry.currencies.get(alpha_3=value) is None or value != value.upper():
            raise ValueError("allowed: an ISO 4217 currency code in capitals, such as USD, EUR or JPY")
        return value


class NetworkConfig(_Model):
    """VPC layout (added to DESIGN.md's keys; optional)."""

    az_count: int = Field(3, ge=2, le=3, description="availability zones per VPC (2..3)")
    single_nat_gateway: bool = Field(False, description="one NAT per VPC instead of one per AZ (staging saving)")
    cidrs: dict[LogicalRegion, str] = Field(
        default_factory=lambda: dict(DEFAULT_CIDRS),
        description="VPC CIDR per logical region (/16../20, disjoint)",
    )

    @field_validator("cidrs")
    @classmethod
    def _cidrs(cls, value: dict[LogicalRegion, str]) -> dict[LogicalRegion, str]:
        networks: dict[str, ipaddress.IPv4Network] = {}
        for region, cidr in value.items():
            try:
                network = ipaddress.IPv4Network(cidr)
            except ValueError:
                raise ValueError(f"allowed: IPv4 CIDRs such as 10.10.0.0/16 ({region}: {cidr!r} is not one)") from None
            if not (network.is_private and 16 <= network.prefixlen <= 20):
                raise ValueError(f"allowed: private /16../20 CIDRs ({region}: {cidr})")
            for other_region, other in networks.items():
                if network.overlaps(other):
                    raise ValueError(f"allowed: disjoint CIDRs ({region} {cidr} overlaps {other_region} {other})")
            networks[region] = network
        return {**DEFAULT_CIDRS, **value}


class StackConfig(_Model):
    """Everything a stack can say. Field order matters: later fields validate against earlier ones."""

    regions: dict[LogicalRegion, AwsRegion] = Field(
        description="logical region (eu, us, asia) -> AWS commercial region, a different one each"
    )
    primary_region: LogicalRegion = Field(description="logical region of the RDS primary (one of regions)")
    read_replica_regions: RegionList = Field(
        default_factory=list, description="one RDS read replica per listed logical region"
    )
    app_regions: RegionList = Field(description="logical regions running the app and an ALB (at least one)")
    environment: Environment = Field(
        "production", description="data-safety tier: production adds protection, Multi-AZ NAT, backup copies"
    )
    database: DatabaseConfig = Field(default_factory=lambda: DatabaseConfig.model_validate({}))
    network: NetworkConfig = Field(default_factory=lambda: NetworkConfig.model_validate({}))
    timescale: TimescaleConfig = Field(default_factory=lambda: TimescaleConfig.model_validate({}))
    service: ServiceConfig = Field(default_factory=lambda: ServiceConfig.model_validate({}))
    domain: DomainConfig = Field(description="required: name, hostedZoneId, certificateArn")
    alarm_email: EmailStr = Field(description="address subscribed to every region's alarm topic")
    cdn: CdnConfig = Field(default_factory=lambda: CdnConfig.model_validate({}))
    analytics: AnalyticsConfig = Field(default_factory=lambda: AnalyticsConfig.model_validate({}))
    aws_region: AwsRegion = Field(description="aws:region, the provider default; must be the primary's region")

    @field_validator("regions")
    @classmethod
    def _distinct_aws_regions(cls, value: dict[LogicalRegion, str]) -> dict[LogicalRegion, str]:
        if not value:
            raise ValueError("allowed: at least one logical region, e.g. {eu: eu-west-1}")
        repeated = sorted({r for r in value.values() if list(value.values()).count(r) > 1})
        if repeated:
            raise ValueError(f"allowed: a different AWS region per logical region ({', '.join(repeated)} repeated)")
        return value

    @field_validator("primary_region")
    @classmethod
    def _primary_in_regions(cls, value: LogicalRegion, info: ValidationInfo) -> LogicalRegion:
        return _require_in_regions(value, info)

    @field_validator("read_replica_regions", "app_regions")
    @classmethod
    def _listed_in_regions(cls, value: list[LogicalRegion], info: ValidationInfo) -> list[LogicalRegion]:
        for region in value:
            _require_in_regions(region, info)
        return value

    @field_validator("app_regions")
    @classmethod
    def _at_least_one_app_region(cls, value: list[LogicalRegion]) -> list[LogicalRegion]:
        if not value:
            raise ValueError("allowed: at least one logical region")
        return value

    @field_validator("database")
    @classmethod
    def _backup_copies_have_a_supported_region(cls, value: DatabaseConfig, info: ValidationInfo) -> DatabaseConfig:
        """Production copies the primary's automated backups; RDS supports only some pairs (stacks/backup_regions)."""
        regions, primary = info.data.get("regions"), info.data.get("primary_region")
        if info.data.get("environment") != "production" or not regions or not primary:
            return value
        source = regions[primary]
        if _backup_destination(value, source, regions, info.data.get("read_replica_regions") or []) is None:
            raise PydanticCustomError(
                "unsupported_backup_region",
                unsupported_pair_message(source, value.backup_replication_region),
                {"field": "backupReplicationRegion"},
            )
        return value

    @field_validator("timescale")
    @classmethod
    def _standbys_fit_azs(cls, value: TimescaleConfig, info: ValidationInfo) -> TimescaleConfig:
        network = info.data.get("network")
        if network is not None and value.replicas >= network.az_count:
            raise PydanticCustomError(
                "standbys_exceed_azs",
                "allowed: 0..{most} replicas (the primary and each standby need their own AZ; "
                "network.azCount is {azs})",
                {"most": network.az_count - 1, "azs": network.az_count, "field": "replicas"},
            )
        return value

    @field_validator("aws_region")
    @classmethod
    def _provider_is_primary(cls, value: str, info: ValidationInfo) -> str:
        regions, primary = info.data.get("regions"), info.data.get("primary_region")
        if regions and primary and regions[primary] != value:
            raise ValueError(f"allowed: {regions[primary]} (the AWS region of primaryRegion {primary})")
        return value

    # Derived views the composition uses, so no component re-derives them differently.
    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def protect(self) -> bool:
        """Production keeps its data: deletion protection, final snapshots, `protect=True` on stateful resources,
        logs and images that outlive the stack. Staging can be destroyed whole."""
        return self.is_production

    @property
    def log_retention_days(self) -> int:
        """Days every log is kept: CloudWatch log groups, VPC flow logs, ALB, CloudFront and WAF logs."""
        return 365 if self.is_production else 30

    @property
    def secret_recovery_window_days(self) -> int:
        """Days a deleted secret stays recoverable (Secrets Manager allows 7..30)."""
        return 30 if self.is_production else 7

    def aws_region_of(self, region: LogicalRegion) -> str:
        return self.regions[region]

    @property
    def database_regions(self) -> list[LogicalRegion]:
        """The primary's region and every replica region, primary first, without repeats."""
        return list(dict.fromkeys([self.primary_region, *self.read_replica_regions]))

    @property
    def backup_replication_region(self) -> str | None:
        """Where production copies the primary's automated backups (validated above); staging copies nothing."""
        if not self.is_production:
            return None
        source = self.aws_region_of(self.primary_region)
        return _backup_destination(self.database, source, self.regions, self.read_replica_regions)

    @property
    def network_regions(self) -> list[LogicalRegion]:
        """Every logical region that needs a VPC, in a stable order."""
        wanted = {*self.database_regions, *self.app_regions}
        return [r for r in LOGICAL_REGIONS if r in wanted]


def _backup_destination(
    database: DatabaseConfig, source: str, regions: Mapping[LogicalRegion, str], replicas: list[LogicalRegion]
) -> str | None:
    """The configured destination if RDS supports it from `source`; else the first supported of: replica regions
    (the data is already expected there), the other configured regions, the fixed fallbacks. None: no such region."""
    supported = supported_destinations(source)
    if database.backup_replication_region is not None:
        return database.backup_replication_region if database.backup_replication_region in supported else None
    candidates = [*(regions[r] for r in replicas if r in regions), *regions.values(), *FALLBACK_BACKUP_REGIONS]
    return next((region for region in candidates if region in supported), None)


def _require_in_regions(value: LogicalRegion, info: ValidationInfo) -> LogicalRegion:
    regions = info.data.get("regions")
    if regions is not None and value not in regions:
        raise ValueError(f"allowed: a logical region defined in regions ({', '.join(regions)})")
    return value


@dataclass(frozen=True)
class ConfigIssue:
    """One bad key: where, what was given, what would have been accepted."""

    key: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        shown = "(missing)" if self.value is _MISSING else json.dumps(self.value, default=str)
        return f"{self.key}: got {shown}; {self.allowed}"


_MISSING: Any = object()


class StackConfigError(pulumi.RunError):
    """Raised before any resource exists; pulumi prints RunError without a traceback."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        lines = "\n".join(f"  - {issue}" for issue in issues)
        super().__init__(f"invalid stack config ({len(issues)} problem(s)):\n{lines}")


def _issue_from_error(error: Any, project: str) -> ConfigIssue:
    loc = [str(part) for part in error["loc"] if part != "[key]"]
    top = loc[0] if loc else ""
    key = "aws:region" if top in ("aws_region", "awsRegion") else f"{project}:{to_camel(top)}"
    path = ".".join([key, *loc[1:]])
    message = str(error["msg"]).removeprefix("Value error, ")
    kind = error["type"]
    if kind == "missing":
        return ConfigIssue(path, _MISSING, f"required; {_describe(top)}" if len(loc) == 1 else "required")
    if kind == "extra_forbidden":
        return ConfigIssue(path, error["input"], "unknown key; allowed keys: " + _allowed_keys(loc[:-1]))
    if kind == "literal_error" and "[key]" in [str(p) for p in error["loc"]]:
        message = "allowed: logical regions eu, us, asia"
    if not message.startswith("allowed"):
        message = f"allowed: {message[0].lower()}{message[1:]}"
    value = error.get("input")
    field = (error.get("ctx") or {}).get("field")  # a rule on a block that is really about one of its keys
    if field:
        path, value = f"{path}.{to_camel(field)}", value.get(field) if isinstance(value, Mapping) else value
    return ConfigIssue(path, value, message)


def _describe(field: str) -> str:
    by_alias = {to_camel(name): name for name in StackConfig.model_fields}
    info = StackConfig.model_fields.get(by_alias.get(field, field))
    return info.description or "" if info else ""


def _allowed_keys(parent_loc: list[str]) -> str:
    model: type[BaseModel] = StackConfig
    for part in parent_loc:
        annotation = model.model_fields[part].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    names = [to_camel(n) for n in model.model_fields if not (model is StackConfig and n == "aws_region")]
    return ", ".join(names)


def parse_stack_config(raw: Mapping[str, Any], project: str) -> StackConfig:
    """Validate a stack's config (already JSON-decoded values keyed `<project>:<key>` and `aws:region`)."""
    document: dict[str, Any] = {}
    unknown: list[ConfigIssue] = []
    for full_key, value in raw.items():
        namespace, _, key = full_key.partition(":")
        if full_key == "aws:region":
            document["awsRegion"] = value
        elif namespace == project:
            if key == "awsRegion":
                unknown.append(ConfigIssue(full_key, value, "unknown key; allowed keys: " + _allowed_keys([])))
            else:
                document[key] = value
    try:
        config = StackConfig.model_validate(document)
    except ValidationError as error:
        issues = unknown + [_issue_from_error(e, project) for e in error.errors()]
        raise StackConfigError(issues) from None
    if unknown:
        raise StackConfigError(unknown)
    return config


def _decode(value: Any) -> Any:
    """Pulumi hands structured values over as JSON text; plain strings stay strings."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def load_stack_config() -> StackConfig:
    """Read every key of this project's namespace (and aws:region) from the running Pulumi program."""
    from pulumi.runtime import config as runtime_config

    every_key = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    project = pulumi.get_project()
    wanted = {k: _decode(v) for k, v in every_key.items() if k.startswith(f"{project}:") or k == "aws:region"}
    return parse_stack_config(wanted, project)
