"""Find a stack's RDS primary and replicas across regions by the tags the database component sets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from contracts import tags
from ops.aws import Aws
from ops.errors import CheckFailed, aws_step

if TYPE_CHECKING:  # boto3-stubs are a dev dependency: the ops tool runs with boto3 alone
    from mypy_boto3_rds.type_defs import DBInstanceTypeDef


@dataclass(frozen=True)
class DbInstance:
    identifier: str
    arn: str
    aws_region: str
    status: str
    endpoint: str | None
    source: str | None  # ReadReplicaSourceDBInstanceIdentifier: set while it replicates
    tags: Mapping[str, str] = field(repr=False)

    @property
    def role(self) -> str | None:
        return self.tags.get(tags.DB_ROLE)

    @property
    def logical_region(self) -> str | None:
        return self.tags.get(tags.LOGICAL_REGION)


@dataclass(frozen=True)
class StackDatabases:
    stack: str
    regions: tuple[str, ...]
    primary: DbInstance | None
    replicas: tuple[DbInstance, ...]

    def replica_in(self, logical_region: str) -> DbInstance:
        """The replica tagged with this logical region; a missing one is a failed check, not a crash."""
        for replica in self.replicas:
            if replica.logical_region == logical_region:
                return replica
        raise CheckFailed(
            f"stack {self.stack!r} has no replica tagged {tags.LOGICAL_REGION}={logical_region} "
            f"in regions {', '.join(self.regions)}"
        )


def _tag_map(aws: Aws, region: str, raw: DBInstanceTypeDef) -> dict[str, str]:
    """Tags come inline with describe_db_instances; older responses need list_tags_for_resource."""
    tag_list = raw.get("TagList")
    if tag_list is None:
        tag_list = aws.rds(region).list_tags_for_resource(ResourceName=raw["DBInstanceArn"])["TagList"]
    return {item["Key"]: item["Value"] for item in tag_list if "Key" in item and "Value" in item}


def to_instance(region: str, raw: DBInstanceTypeDef, tag_map: Mapping[str, str]) -> DbInstance:
    return DbInstance(
        identifier=raw["DBInstanceIdentifier"],
        arn=raw["DBInstanceArn"],
        aws_region=region,
        status=raw.get("DBInstanceStatus", "unknown"),
        endpoint=raw.get("Endpoint", {}).get("Address"),
        source=raw.get("ReadReplicaSourceDBInstanceIdentifier") or None,
        tags=tag_map,
    )


def _stack_instances(aws: Aws, stack: str, region: str) -> Iterable[DbInstance]:
    with aws_step(f"listing RDS instances in {region}"):
        for page in aws.rds(region).get_paginator("describe_db_instances").paginate():
            for raw in page["DBInstances"]:
                tag_map = _tag_map(aws, region, raw)
                if tag_map.get(tags.PROJECT) == tags.PROJECT_NAME and tag_map.get(tags.STACK) == stack:
                    yield to_instance(region, raw, tag_map)


def find_stack_databases(aws: Aws, stack: str, regions: Sequence[str]) -> StackDatabases:
    """Scan every region; more than one primary means the tags lie, which no command should act on."""
    found = [instance for region in regions for instance in _stack_instances(aws, stack, region)]
    primaries = [i for i in found if i.role == tags.ROLE_PRIMARY]
    if len(primaries) > 1:
        named = ", ".join(f"{i.identifier} ({i.aws_region})" for i in primaries)
        raise CheckFailed(f"stack {stack!r} has {len(primaries)} instances tagged {tags.DB_ROLE}=primary: {named}")
    replicas = sorted(
        (i for i in found if i.role == tags.ROLE_REPLICA),
        key=lambda i: (i.logical_region or "", i.identifier),
    )
    return StackDatabases(
        stack=stack,
        regions=tuple(regions),
        primary=primaries[0] if primaries else None,
        replicas=tuple(replicas),
    )
