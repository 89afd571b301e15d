"""replication-check against moto: tables, JSON and exit codes for healthy and broken replication."""

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from mypy_boto3_rds import RDSClient

from ops.aws import Aws
from tests.ops.ops_moto import (
    PRIMARY_REGION,
    STACK_REGIONS,
    US_REGION,
    StagingStack,
    build_staging,
    component_tags,
    create_instance,
    create_primary,
    create_replica,
    mocked_aws,
    put_lag,
    run,
    use_fake_credentials,
    write_stack_file,
)


@pytest.fixture
def staging(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[StagingStack]:
    """A staging stack in moto, its stack file in tmp_path, and the CLI run from there."""
    monkeypatch.chdir(tmp_path)
    with mocked_aws(monkeypatch):
        write_stack_file(tmp_path)
        yield build_staging()


def _check(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict[str, Any]]:
    result = run(capsys, "replication-check", "--stack", "staging", "--output", "json", *extra)
    return result.code, json.loads(result.out)


def _verdicts(document: dict[str, Any]) -> dict[str, str]:
    return {row["logicalRegion"]: row["verdict"] for row in document["replicas"]}


def test_healthy_replicas_print_a_table_and_exit_0(staging: StagingStack, capsys: pytest.CaptureFixture[str]) -> None:
    put_lag(PRIMARY_REGION, staging.eu_replica, [0.2, 0.4])
    put_lag(US_REGION, staging.us_replica, [1.5, 3.25, 0.5])

    result = run(capsys, "replication-check", "--stack", "staging")

    assert result.code == 0, result.out + result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("stack staging: primary staging-db-eu (eu-west-1)")
    assert lines[1].split() == [
        "REGION",
        "AWS",
        "REGION",
        "INSTANCE",
        "STATUS",
        "MAX",
        "LAG",
        "(s)",
        "BOUND",
        "(s)",
        "POINTS",
        "RESULT",
    ]
    rows = {line.split()[0]: line.split() for line in lines[2:4]}
    assert rows["eu"] == ["eu", "eu-west-1", staging.eu_replica, "available", "0.4", "5.0", "2", "OK"]
    assert rows["us"] == ["us", "us-east-1", staging.us_replica, "available", "3.25", "5.0", "3", "OK"]
    assert lines[-1] == "replication OK"
    assert result.err == ""


def test_json_output_carries_every_replica(staging: StagingStack, capsys: pytest.CaptureFixture[str]) -> None:
    put_lag(PRIMARY_REGION, staging.eu_replica, [0.2])
    put_lag(US_REGION, staging.us_replica, [1.0, 2.0])

    code, document = _check(capsys)

    assert code == 0
    assert document["ok"] is True
    assert document["primary"] == {"identifier": "staging-db-eu", "region": PRIMARY_REGION, "status": "available"}
    assert document["regions"] == [PRIMARY_REGION, US_REGION]  # from Pulumi.staging.yaml
    us = next(row for row in document["replicas"] if row["logicalRegion"] == "us")
    assert us == {
        "logicalRegion": "us",
        "awsRegion": US_REGION,
        "identifier": staging.us_replica,
        "status": "available",
        "maxLagSeconds": 2.0,
        "boundSeconds": 5.0,
        "datapoints": 2,
        "verdict": "OK",
        "detail": "",
    }
    assert document["problems"] == []


def test_lagging_replica_fails_with_exit_1(staging: StagingStack, capsys: pytest.CaptureFixture[str]) -> None:
    put_lag(PRIMARY_REGION, staging.eu_replica, [0.1])
    put_lag(US_REGION, staging.us_replica, [1.0, 9.5, 2.0])

    result = run(capsys, "replication-check", "--stack", "staging")

    assert result.code == 1
    assert "FAIL: us: LAGGING: ReplicaLag reached 9.5 s, bound is 5 s" in result.out
    assert result.out.splitlines()[-1] == "replication FAILED (1 problem(s))"


def test_lag_equal_to_the_bound_is_still_ok(staging: StagingStack, capsys: pytest.CaptureFixture[str]) -> None:
    put_lag(PRIMARY_REGION, staging.eu_replica, [5.0])
    put_lag(US_REGION, staging.us_replica, [5.0])

    code, document = _check(capsys)

    assert code == 0, document["problems"]


def test_max_lag_option_overrides_the_tag(staging: StagingStack, capsys: pytest.CaptureFixture[str]) -> None:
    put_lag(PRIMARY_REGION, staging.eu_replica, [1.0])
    put_lag(US_REGION, staging.us_replica, [3.0])

    code, document = _check(capsys, "--max-lag", "2")

    assert code == 1
    assert _verdicts(document) == {"eu": "OK", "us": "LAGGING"}
    assert {row["boundSeconds"] for row in document["replicas"]} == {2.0}


def test_the_replica_tag_sets_its_bound(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with mocked_aws(monkeypatch):
        write_stack_file(tmp_path, replica_regions=["us"])
        primary = create_primary()
        relaxed = create_replica(primary, "us", US_REGION, max_lag="30")
        put_lag(US_REGION, relaxed, [12.0])

        code, document = _check(capsys)

    assert code == 0, document["problems"]
    assert document["replicas"][0]["boundSeconds"] == 30.0


def test_a_non_numeric_lag_tag_fails_naming_the_tag(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with mocked_aws(monkeypatch):
        write_stack_file(tmp_path, replica_regions=["us"])
        replica = create_replica(create_primary(), "us", US_REGION, max_lag="fast")
        put_lag(US_REGION, replica, [0.1])

        code, document = _check(capsys)

    assert code == 1
    assert document["replicas"][0]["verdict"] == "BAD_BOUND"
    assert "MaxReplicaLagSeconds='fast'" in document["replicas"][0]["detail"]


def test_replica_missing_from_an_expected_region_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with mocked_aws(monkeypatch):
        write_stack_file(tmp_path, regions=STACK_REGIONS, replica_regions=["eu", "us", "asia"])
        stack = build_staging()
        put_lag(PRIMARY_REGION, stack.eu_replica, [0.1])
        put_lag(US_REGION, stack.us_replica, [0.1])

        result = run(capsys, "replication-check", "--stack", "staging")

    assert result.code == 1
    asia = next(line for line in result.out.splitlines() if line.startswith("asia "))
    assert asia.split()[-1] == "MISSING"
    assert "FAIL: asia: MISSING: no replica tagged LogicalRegion=asia found" in result.out


def test_replica_without_datapoints_fails(staging: StagingStack, capsys: pytest.CaptureFixture[str]) -> None:
    put_lag(PRIMARY_REGION, staging.eu_replica, [0.3])

    code, document = _check(capsys)

    assert code == 1
    assert _verdicts(document) == {"eu": "OK", "us": "NO_DATA"}
    assert document["problems"] == ["us: NO_DATA: no ReplicaLag datapoints in the last 10 min"]


def test_datapoints_older_than_the_window_do_not_count(
    staging: StagingStack, capsys: pytest.CaptureFixture[str]
) -> None:
    put_lag(PRIMARY_REGION, staging.eu_replica, [0.3], minutes_ago=1)
    put_lag(US_REGION, staging.us_replica, [0.3], minutes_ago=20)

    narrow_code, narrow = _check(capsys, "--window-minutes", "10")
    wide_code, wide = _check(capsys, "--window-minutes", "30")

    assert (narrow_code, _verdicts(narrow)["us"]) == (1, "NO_DATA")
    assert (wide_code, _verdicts(wide)["us"]) == (0, "OK")


def test_instances_of_other_stacks_are_ignored(staging: StagingStack, capsys: pytest.CaptureFixture[str]) -> None:
    other = create_primary("production", identifier="production-db-eu")
    lagging = create_replica(other, "us", US_REGION, stack="production")
    put_lag(US_REGION, lagging, [500.0])
    put_lag(PRIMARY_REGION, staging.eu_replica, [0.1])
    put_lag(US_REGION, staging.us_replica, [0.1])

    code, document = _check(capsys)

    assert code == 0
    assert sorted(row["identifier"] for row in document["replicas"]) == sorted([staging.eu_replica, staging.us_replica])


def test_a_replica_tag_on_a_standalone_instance_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a failover the promoted node keeps DbRole=replica until the next `pulumi up`."""
    monkeypatch.chdir(tmp_path)
    with mocked_aws(monkeypatch):
        write_stack_file(tmp_path, replica_regions=["eu"])
        create_primary()
        create_instance("staging-db-eu-replica", component_tags("staging", "replica", "eu"))
        put_lag(PRIMARY_REGION, "staging-db-eu-replica", [0.0])

        code, document = _check(capsys)

    assert code == 1
    assert _verdicts(document) == {"eu": "NOT_REPLICATING"}


def test_without_a_stack_file_it_scans_the_given_regions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with mocked_aws(monkeypatch):
        stack = build_staging()
        put_lag(PRIMARY_REGION, stack.eu_replica, [0.1])
        put_lag(US_REGION, stack.us_replica, [0.1])

        only_default = _check(capsys, "--region", PRIMARY_REGION)[1]
        both_code, both = _check(capsys, "--regions", f"{PRIMARY_REGION},{US_REGION}")

    assert only_default["regions"] == [PRIMARY_REGION]
    assert list(_verdicts(only_default)) == ["eu"]
    assert both_code == 0
    assert _verdicts(both) == {"eu": "OK", "us": "OK"}


def test_a_stack_without_a_primary_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with mocked_aws(monkeypatch):
        code, document = _check(capsys, "--regions", PRIMARY_REGION)

    assert code == 1
    assert document["primary"] is None
    assert document["problems"] == [
        "no instance tagged DbRole=primary for stack 'staging'",
        "no instance tagged DbRole=replica for stack 'staging'",
    ]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        ([], "required: COMMAND"),
        (["replication-check"], "--stack"),
        (["replication-check", "--stack", "s", "--window-minutes", "0"], "--window-minutes"),
        (["replication-check", "--stack", "s", "--max-lag", "soon"], "--max-lag"),
        (["replication-check", "--stack", "s", "--regions", "europe"], "--regions"),
        (["replication-check", "--stack", "s", "--output", "xml"], "--output"),
        (["failover-drill", "--stack", "s", "--replica", "mars"], "--replica"),
    ],
)
def test_bad_arguments_exit_2_naming_the_option(
    argv: list[str], named: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_credentials(monkeypatch)

    result = run(capsys, *argv)

    assert result.code == 2
    assert named in result.err
    assert "Traceback" not in result.err


def test_help_works_on_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["replication-check"], ["failover-drill"]):
        result = run(capsys, *argv, "--help")
        assert result.code == 0
        assert "usage: python -m ops" in result.out


def test_a_broken_stack_file_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_credentials(monkeypatch)
    path = write_stack_file(tmp_path, regions={"eu": PRIMARY_REGION})
    path.write_text(path.read_text(encoding="utf-8").replace("eu: eu-west-1", "mars: eu-west-1"), encoding="utf-8")

    result = run(capsys, "--project-dir", str(tmp_path), "replication-check", "--stack", "staging")

    assert result.code == 2
    assert result.err.count("\n") == 1
    assert f"{path}: global-api:regions has unknown logical regions ['mars']" in result.err


def _one_aws_error_line(err: str) -> str:
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert err.startswith("python -m ops: error: AWS error: ")
    return err.strip()


def test_missing_credentials_is_one_line_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_credentials(monkeypatch)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)

    result = run(capsys, "replication-check", "--stack", "staging", "--regions", PRIMARY_REGION)

    assert result.code == 3
    assert "Unable to locate credentials" in _one_aws_error_line(result.err)
    assert result.out == ""


def test_unreachable_endpoint_url_is_one_line_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """AWS_ENDPOINT_URL is honoured: the error names the endpoint it pointed at."""
    use_fake_credentials(monkeypatch)
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    result = run(capsys, "replication-check", "--stack", "staging", "--regions", PRIMARY_REGION)

    assert result.code == 3
    assert f"127.0.0.1:{port}" in _one_aws_error_line(result.err)


def test_aws_client_error_is_one_line_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_credentials(monkeypatch)
    client = boto3.client("rds", region_name=PRIMARY_REGION)
    stubber = Stubber(client)
    stubber.add_client_error(
        "describe_db_instances", service_error_code="AccessDenied", service_message="not allowed", http_status_code=403
    )
    stubber.activate()

    def denied_rds(self: Aws, region: str) -> RDSClient:
        return client

    monkeypatch.setattr(Aws, "rds", denied_rds)

    result = run(capsys, "replication-check", "--stack", "staging", "--regions", PRIMARY_REGION)

    assert result.code == 3
    assert _one_aws_error_line(result.err) == (
        "python -m ops: error: AWS error: listing RDS instances in eu-west-1: "
        "DescribeDBInstances failed: AccessDenied: not allowed"
    )
