"""ops reads the repository's real stack files: a renamed config key would otherwise go unnoticed."""

from pathlib import Path

import pytest

import ops
from contracts.regions import REGIONS as LOGICAL_REGIONS
from ops.errors import UsageError
from ops.stackfile import load_stack_file

REPO_ROOT = Path(ops.__file__).resolve().parents[1]


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_the_repository_stack_files_give_regions_and_expected_replicas(stack: str) -> None:
    stack_file = load_stack_file(REPO_ROOT, stack)

    assert stack_file is not None
    assert set(stack_file.regions) <= set(LOGICAL_REGIONS)
    assert stack_file.read_replica_regions
    assert set(stack_file.read_replica_regions) <= set(stack_file.regions)


def test_a_stack_without_a_file_has_no_expectations(tmp_path: Path) -> None:
    assert load_stack_file(tmp_path, "staging") is None


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ("global-api:readReplicaRegions: [eu, mars]", "global-api:readReplicaRegions must be a list"),
        ("global-api:database: {maxReplicaLagSeconds: -1}", "global-api:database.maxReplicaLagSeconds"),
        ("global-api:regions: [eu-west-1]", "global-api:regions must map logical regions"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path: Path, config: str, named: str) -> None:
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(f"config:\n  {config}\n", encoding="utf-8")

    with pytest.raises(UsageError, match=named) as raised:
        load_stack_file(tmp_path, "staging")
    assert str(path) in str(raised.value)


def test_unparseable_yaml_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.staging.yaml").write_text("config: [unclosed\n", encoding="utf-8")

    with pytest.raises(UsageError, match="cannot read"):
        load_stack_file(tmp_path, "staging")
