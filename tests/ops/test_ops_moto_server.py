"""`python -m ops` as a separate process against a local moto server: the entry point and AWS_ENDPOINT_URL."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.moto_api._internal.models import moto_api_backend
from moto.server import ThreadedMotoServer

import ops
from tests.ops.ops_moto import (
    US_REGION,
    create_primary,
    create_replica,
    put_lag,
    use_fake_credentials,
    write_stack_file,
)

REPO_ROOT = Path(ops.__file__).resolve().parents[1]


@pytest.fixture
def endpoint_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server on a port the kernel picks (never a fixed one), with fresh state.

    The server shares moto's in-process backends, which outlive a stopped server: reset them around it.
    """
    use_fake_credentials(monkeypatch)
    moto_api_backend.reset()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        moto_api_backend.reset()


def _ops(*argv: str, endpoint: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint}
    return subprocess.run(
        [sys.executable, "-m", "ops", *argv], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_replication_check_through_the_endpoint_url(endpoint_url: str, tmp_path: Path) -> None:
    write_stack_file(tmp_path, replica_regions=["us"])
    primary = create_primary(endpoint_url=endpoint_url)
    replica = create_replica(primary, "us", US_REGION, endpoint_url=endpoint_url)
    put_lag(US_REGION, replica, [0.5, 7.0], endpoint_url=endpoint_url)

    healthy = _ops(
        "--project-dir", str(tmp_path), "replication-check", "--stack", "staging", "--max-lag", "10",
        "--output", "json", endpoint=endpoint_url,
    )  # fmt: skip
    lagging = _ops("--project-dir", str(tmp_path), "replication-check", "--stack", "staging", endpoint=endpoint_url)

    assert healthy.returncode == 0, healthy.stderr
    document = json.loads(healthy.stdout)
    assert [(row["identifier"], row["maxLagSeconds"]) for row in document["replicas"]] == [(replica, 7.0)]
    assert lagging.returncode == 1
    assert "FAIL: us: LAGGING: ReplicaLag reached 7 s, bound is 5 s" in lagging.stdout


def test_failover_dry_run_through_the_endpoint_url(endpoint_url: str, tmp_path: Path) -> None:
    write_stack_file(tmp_path, replica_regions=["us"])
    replica = create_replica(create_primary(endpoint_url=endpoint_url), "us", US_REGION, endpoint_url=endpoint_url)

    result = _ops(
        "--project-dir", str(tmp_path), "failover-drill", "--stack", "staging", "--replica", "us",
        endpoint=endpoint_url,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert f"  2. promote {replica}: rds.promote_read_replica in us-east-1" in result.stdout.splitlines()
