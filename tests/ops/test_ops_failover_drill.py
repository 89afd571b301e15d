"""failover-drill against moto: dry run changes nothing, --execute promotes and verifies, production refuses."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.rds.models import RDSBackend

from ops.errors import AwsError, CheckFailed
from ops.failover import WaitPolicy, wait_until_standalone
from tests.ops.ops_moto import (
    US_REGION,
    StagingStack,
    build_staging,
    mocked_aws,
    run,
    use_fake_credentials,
    write_stack_file,
)

FAST = ("--wait-delay", "0", "--wait-max-attempts", "3")


def _promote_like_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto keeps ReadReplicaSourceDBInstanceIdentifier after a promotion; real RDS drops it."""
    original = RDSBackend.promote_read_replica

    def promote(self: RDSBackend, db_kwargs: dict[str, Any]) -> Any:
        database = original(self, db_kwargs)
        database.source_db_instance_identifier = None
        return database

    monkeypatch.setattr(RDSBackend, "promote_read_replica", promote)


def _source_of(identifier: str, region: str = US_REGION) -> str | None:
    instance = boto3.client("rds", region_name=region).describe_db_instances(DBInstanceIdentifier=identifier)
    return instance["DBInstances"][0].get("ReadReplicaSourceDBInstanceIdentifier")


@pytest.fixture
def stack_factory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[type[StagingStack]]:
    """Inside moto, with a project dir; tests build the stack they need (staging or production)."""
    monkeypatch.chdir(tmp_path)
    with mocked_aws(monkeypatch):
        for stack in ("staging", "production"):
            write_stack_file(tmp_path, stack=stack)
        yield StagingStack


@pytest.fixture
def staging(stack_factory: type[StagingStack]) -> StagingStack:
    return build_staging()


def test_dry_run_prints_the_steps_and_changes_nothing(
    staging: StagingStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _promote_like_aws(monkeypatch)

    result = run(capsys, "failover-drill", "--stack", "staging", "--replica", "us")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "DRY RUN for stack staging: nothing was changed. Re-run with --execute to do:"
    assert lines[1].startswith(f"  1. check that {staging.us_replica} (us, us-east-1) is available and replicating")
    assert lines[2] == f"  2. promote {staging.us_replica}: rds.promote_read_replica in us-east-1"
    assert "wait for db_instance_available" in lines[3]
    assert "follow-up steps:" in lines
    assert any("re-point DATABASE_URL" in line for line in lines)
    assert _source_of(staging.us_replica) == staging.primary_arn


def test_dry_run_json(staging: StagingStack, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "--output", "json", "failover-drill", "--stack", "staging", "--replica", "us")

    document = json.loads(result.out)
    assert document["mode"] == "dry-run"
    assert document["promoted"] is None
    assert document["replica"] == {
        "identifier": staging.us_replica,
        "logicalRegion": "us",
        "awsRegion": US_REGION,
        "source": staging.primary_arn,
    }
    assert len(document["steps"]) == 4
    endpoint = boto3.client("rds", region_name=US_REGION).describe_db_instances(
        DBInstanceIdentifier=staging.us_replica
    )["DBInstances"][0]["Endpoint"]["Address"]
    assert document["followUp"][0] == (
        f"re-point DATABASE_URL in every app region at {endpoint} and set DATABASE_PRIMARY_REGION=us"
    )
    assert document["followUp"][1] == "remove DATABASE_READ_REPLICA_US: that node is now the primary"


def test_execute_promotes_waits_and_verifies(
    staging: StagingStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _promote_like_aws(monkeypatch)

    result = run(capsys, "failover-drill", "--stack", "staging", "--replica", "us", "--execute", *FAST)

    assert result.code == 0, result.err
    assert _source_of(staging.us_replica) is None
    assert result.out.splitlines()[0] == (
        f"PROMOTED {staging.us_replica} (us, us-east-1) for stack staging: it is now a standalone primary"
    )
    assert result.err.splitlines() == [
        f"promoting {staging.us_replica} (us, us-east-1)",
        f"[1/3] {staging.us_replica} is available and standalone",
    ]


def test_execute_json_names_the_new_primary_endpoint(
    staging: StagingStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _promote_like_aws(monkeypatch)

    result = run(
        capsys, "failover-drill", "--stack", "staging", "--replica", "us", "--execute", "--output", "json", *FAST
    )

    document = json.loads(result.out)
    endpoint = boto3.client("rds", region_name=US_REGION).describe_db_instances(
        DBInstanceIdentifier=staging.us_replica
    )["DBInstances"][0]["Endpoint"]["Address"]
    assert document["mode"] == "executed"
    assert document["promoted"] == {"identifier": staging.us_replica, "status": "available", "endpoint": endpoint}
    assert f"re-point DATABASE_URL in every app region at {endpoint}" in document["followUp"][0]


def test_execute_fails_when_the_replica_never_becomes_standalone(
    staging: StagingStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unpatched moto leaves the replication source in place: exactly what a stuck promotion looks like."""
    result = run(capsys, "failover-drill", "--stack", "staging", "--replica", "us", "--execute", *FAST)

    assert result.code == 1
    progress, error = result.err.splitlines()[1:-1], result.err.splitlines()[-1]
    assert [line.split("]")[0] for line in progress] == ["[1/3", "[2/3", "[3/3"]
    assert all(f"still replicating from {staging.primary_arn}" in line for line in progress)
    assert error.startswith("python -m ops: error: promotion not confirmed after 0 s")
    assert result.out == ""


def test_production_execute_is_refused_without_confirmation(
    stack_factory: type[StagingStack], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    production = build_staging("production")
    _promote_like_aws(monkeypatch)

    result = run(capsys, "failover-drill", "--stack", "production", "--replica", "us", "--execute", *FAST)

    assert result.code == 2
    assert result.err == (
        "python -m ops: error: refusing to --execute a failover on production stack 'production' "
        "without --yes-production\n"
    )
    assert _source_of(production.us_replica) == production.primary_arn


def test_production_execute_runs_with_confirmation(
    stack_factory: type[StagingStack], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    production = build_staging("production")
    _promote_like_aws(monkeypatch)

    result = run(
        capsys, "failover-drill", "--stack", "production", "--replica", "us", "--execute", "--yes-production", *FAST
    )

    assert result.code == 0, result.err
    assert _source_of(production.us_replica) is None


def test_production_dry_run_explains_the_confirmation(
    stack_factory: type[StagingStack], capsys: pytest.CaptureFixture[str]
) -> None:
    build_staging("production")

    result = run(capsys, "failover-drill", "--stack", "production", "--replica", "us")

    assert result.code == 0
    assert "(production stack: --execute also needs --yes-production)" in result.out.splitlines()


def test_a_region_without_a_replica_fails(staging: StagingStack, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "failover-drill", "--stack", "staging", "--replica", "asia")

    assert result.code == 1
    assert result.err == (
        "python -m ops: error: stack 'staging' has no replica tagged LogicalRegion=asia "
        "in regions eu-west-1, us-east-1\n"
    )


# The waiter loop, against scripted DescribeDBInstances answers (moto has no status transitions).

IDENTIFIER = "staging-db-us-replica"


def _answer(status: str, source: str | None = None) -> dict[str, Any]:
    instance: dict[str, Any] = {
        "DBInstanceIdentifier": IDENTIFIER,
        "DBInstanceArn": f"arn:aws:rds:{US_REGION}:123456789012:db:{IDENTIFIER}",
        "DBInstanceStatus": status,
    }
    if source is not None:
        instance["ReadReplicaSourceDBInstanceIdentifier"] = source
    return {"DBInstances": [instance]}


def _scripted(monkeypatch: pytest.MonkeyPatch, answers: list[dict[str, Any]]) -> Any:
    use_fake_credentials(monkeypatch)
    client = boto3.client("rds", region_name=US_REGION)
    stubber = Stubber(client)
    for answer in answers:
        stubber.add_response("describe_db_instances", answer, {"DBInstanceIdentifier": IDENTIFIER})
    stubber.activate()
    return client


def test_waiter_reports_progress_until_standalone(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _scripted(
        monkeypatch,
        [
            # each poll is one waiter describe; a waiter success is followed by the verifying describe
            _answer("available", source="arn:primary"),  # promotion accepted, not started yet
            _answer("available", source="arn:primary"),
            _answer("modifying"),
            _answer("rebooting"),
            _answer("available"),
            _answer("available"),
        ],
    )
    progress: list[str] = []

    instance = wait_until_standalone(client, US_REGION, IDENTIFIER, WaitPolicy(0, 5), progress.append)

    assert instance.source is None
    assert progress == [
        f"[1/5] waiting for {IDENTIFIER}: available, still replicating from arn:primary",
        f"[2/5] waiting for {IDENTIFIER}: status modifying",
        f"[3/5] waiting for {IDENTIFIER}: status rebooting",
        f"[4/5] {IDENTIFIER} is available and standalone",
    ]


def test_waiter_gives_up_after_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _scripted(monkeypatch, [_answer("modifying"), _answer("modifying")])
    progress: list[str] = []

    with pytest.raises(AwsError, match=r"gave up waiting for .* after 0 s: last status modifying"):
        wait_until_standalone(client, US_REGION, IDENTIFIER, WaitPolicy(0, 2), progress.append)
    assert len(progress) == 2


def test_waiter_stops_at_a_terminal_state(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _scripted(monkeypatch, [_answer("failed")])

    with pytest.raises(AwsError, match="terminal failure state"):
        wait_until_standalone(client, US_REGION, IDENTIFIER, WaitPolicy(0, 5), lambda line: None)


def test_waiter_reports_a_replica_that_stays_attached(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _scripted(monkeypatch, [_answer("available", source="arn:primary")] * 2)  # waiter + verify

    with pytest.raises(CheckFailed, match="promotion not confirmed"):
        wait_until_standalone(client, US_REGION, IDENTIFIER, WaitPolicy(0, 1), lambda line: None)
