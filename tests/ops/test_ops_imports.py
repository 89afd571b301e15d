"""The ops tool runs on an operator's laptop with boto3 (and PyYAML for the stack file) alone: importing every ops
module and running the CLI must not need the infrastructure, the app or any dev-only package."""

from __future__ import annotations

import subprocess
import sys

from offline.harness import ROOT

# Repository packages and third-party ones ops must never need; contracts/ (standard library only) is allowed.
FORBIDDEN = [
    "stacks",
    "components",
    "app",
    "analytics",
    "offline",
    "localdev",
    "policy",
    "bench",
    "tests",
    "pulumi",
    "pulumi_aws",
    "pulumi_random",
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "fastapi",
    "starlette",
    "asyncpg",
    "sqlalchemy",
    "alembic",
    "mypy_boto3_rds",
    "mypy_boto3_cloudwatch",
    "moto",
]

PROBE = f"""
import importlib, pkgutil, sys
FORBIDDEN = {FORBIDDEN!r}

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            raise ImportError(f"the ops tool imported {{name}}")
        return None

sys.meta_path.insert(0, Refuse())
import ops
for module in pkgutil.iter_modules(ops.__path__, "ops."):
    if module.name != "ops.__main__":
        importlib.import_module(module.name)
from ops.cli import main
try:
    main(["replication-check", "--help"])
except SystemExit as exit:
    sys.exit(exit.code)
"""


def run_probe(forbidden_extra: str = "") -> subprocess.CompletedProcess[str]:
    probe = PROBE.replace("FORBIDDEN = [", f"FORBIDDEN = [{forbidden_extra!r}, ", 1) if forbidden_extra else PROBE
    return subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_ops_imports_only_boto3_yaml_and_contracts() -> None:
    result = run_probe()
    assert result.returncode == 0, result.stderr
    assert "replication-check" in result.stdout


def test_the_probe_catches_a_forbidden_import() -> None:
    """The refusal works: forbidding boto3 itself, which ops does import, fails the probe and names it."""
    result = run_probe("boto3")
    assert result.returncode != 0
    assert "the ops tool imported boto3" in result.stderr
