"""The few keys of Pulumi.<stack>.yaml the ops commands need: regions, expected replicas, the lag bound.

stacks/config.py validates the whole file at preview time (and imports pulumi); the ops tool must run on
an operator's laptop with boto3 alone, so it reads only these keys and says exactly which one is wrong.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from contracts.regions import REGIONS as LOGICAL_REGIONS
from contracts.tags import PROJECT_NAME
from ops.errors import UsageError


@dataclass(frozen=True)
class StackFile:
    path: Path
    regions: Mapping[str, str]  # logical region -> AWS region
    read_replica_regions: tuple[str, ...] | None
    max_replica_lag_seconds: float | None


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise UsageError(f"cannot read {path}: {' '.join(str(error).split())}") from error


def project_name(project_dir: Path) -> str:
    """The config namespace: the `name` in Pulumi.yaml, else the project's known name."""
    path = project_dir / "Pulumi.yaml"
    if not path.exists():
        return PROJECT_NAME
    document = _load_yaml(path)
    name = document.get("name") if isinstance(document, dict) else None
    return name if isinstance(name, str) and name else PROJECT_NAME


def _regions(path: Path, key: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise UsageError(f"{path}: {key} must map logical regions to AWS regions, got {value!r}")
    unknown = sorted(set(value) - set(LOGICAL_REGIONS))
    if unknown:
        raise UsageError(f"{path}: {key} has unknown logical regions {unknown}; allowed: {list(LOGICAL_REGIONS)}")
    return dict(value)


def _replica_regions(path: Path, key: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(item in LOGICAL_REGIONS for item in value):
        raise UsageError(f"{path}: {key} must be a list of {list(LOGICAL_REGIONS)}, got {value!r}")
    return tuple(value)


def _max_lag(path: Path, key: str, database: Any) -> float | None:
    if not isinstance(database, dict) or database.get("maxReplicaLagSeconds") is None:
        return None
    value = database["maxReplicaLagSeconds"]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise UsageError(f"{path}: {key}.maxReplicaLagSeconds must be a number >= 0, got {value!r}")
    return float(value)


def load_stack_file(project_dir: Path, stack: str) -> StackFile | None:
    """Read Pulumi.<stack>.yaml from the project directory; None when the stack has no file there."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return None
    document = _load_yaml(path)
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise UsageError(f"{path}: no `config:` mapping")
    namespace = project_name(project_dir)
    regions_key = f"{namespace}:regions"
    replicas_key = f"{namespace}:readReplicaRegions"
    database_key = f"{namespace}:database"
    return StackFile(
        path=path,
        regions=_regions(path, regions_key, config.get(regions_key)),
        read_replica_regions=_replica_regions(path, replicas_key, config.get(replicas_key)),
        max_replica_lag_seconds=_max_lag(path, database_key, config.get(database_key)),
    )
