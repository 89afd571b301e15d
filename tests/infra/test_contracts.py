"""Each contract of contracts/ is what both sides use: every ECS container gets exactly names its process reads,
the app's settings accept the environment the stacks give it, and the headers CloudFront and the ALB send and
forward are the ones the app reads. contracts/ itself needs nothing beyond the standard library."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from starlette.datastructures import Headers
from starlette.requests import Request

from app.analytics_auth import bearer_token
from app.geo import resolve_region
from app.settings import load_settings
from contracts import environment, headers
from offline.harness import ROOT, Evaluation
from stacks.config import parse_stack_config
from tests.infra.test_edge import (
    CACHE_POLICY,
    LISTENER_RULE,
    ORIGIN_REQUEST_POLICY,
    by_output,
    distribution,
    inputs,
    origin_secret_value,
)

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
# What each process the stacks run reads (the app container runs the image's CMD, `uvicorn app.main:app`).
READS = {
    "app.main": environment.APP_VARIABLES | environment.AWS_SDK_VARIABLES,
    "app.migrate": environment.MIGRATE_VARIABLES | environment.AWS_SDK_VARIABLES,
    "analytics.pipeline": environment.PIPELINE_VARIABLES,
    "analytics.reports": environment.REPORTS_VARIABLES,
}


# Imports every contracts module in a fresh interpreter and prints each top-level module that loaded and is not
# the standard library's (nor contracts itself), one per line.
STDLIB_PROBE = """
import importlib, pkgutil, sys
before = set(sys.modules)
import contracts
for module in pkgutil.iter_modules(contracts.__path__, "contracts."):
    importlib.import_module(module.name)
loaded = {name.split(".")[0] for name in set(sys.modules) - before}
print("\\n".join(sorted(loaded - set(sys.stdlib_module_names) - {"contracts"})))
"""


def test_contracts_need_only_the_standard_library() -> None:
    """The ops tool runs with boto3 alone and every process imports these names: importing each contracts module
    loads no third-party package and no other package of this repository, directly or through another module."""
    result = subprocess.run(
        [sys.executable, "-c", STDLIB_PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [], f"contracts/ imports beyond the standard library: {result.stdout.split()}"


def containers(evaluation: Evaluation) -> list[tuple[str, dict[str, Any]]]:
    """(module the container runs, its definition) for every container of every task definition."""
    found = []
    for task in evaluation.of_type(TASK_DEFINITION):
        for container in json.loads(task.inputs["containerDefinitions"]):
            command = container.get("command") or []
            found.append((command[2] if command[:2] == ["python", "-m"] else "app.main", container))
    return found


def names_given(container: dict[str, Any]) -> set[str]:
    return {e["name"] for e in container.get("environment") or []} | {s["name"] for s in container["secrets"]}


def test_every_container_gets_only_names_its_process_reads(each_stack: Evaluation) -> None:
    run = set()
    for module, container in containers(each_stack):
        given = names_given(container)
        assert given <= READS[module], f"{module} is given names it never reads: {sorted(given - READS[module])}"
        assert environment.unknown_variables(dict.fromkeys(given, "")) == [], module
        run.add(module)
    assert run == set(READS)


def test_the_app_settings_accept_the_environment_the_stacks_give_the_app(
    each_stack: Evaluation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plain environment of every app container, as the app's own settings read it (secrets are ECS references
    here, so those stay unset): same names, values the app accepts, meaning what the stack config says."""
    config = parse_stack_config(each_stack.config, "global-api")
    apps = [container for module, container in containers(each_stack) if module == "app.main"]
    assert len(apps) == len(config.app_regions)
    for container in apps:
        for name in environment.KNOWN_CHECKED | environment.APP_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for variable in container["environment"]:
            monkeypatch.setenv(variable["name"], variable["value"])
        settings = load_settings()
        assert settings.database_iam_auth
        assert settings.database_primary_region == config.primary_region
        assert sorted(settings.replica_urls) == sorted(config.read_replica_regions)
        assert settings.request_max_body_bytes == config.cdn.max_body_bytes
        assert settings.analytics_base_currency == config.analytics.base_currency
        injected = {s["name"] for s in container["secrets"]}
        assert {environment.ORIGIN_VERIFY_SECRET, environment.ANALYTICS_DATABASE_URL} <= injected


def test_the_app_reads_the_headers_the_edge_sends(staging: Evaluation) -> None:
    """CloudFront sends the verify header the ALB rule requires, forwards its own country header and the
    consistency token on the API, and Authorization on the analytics paths: the app, given exactly those names,
    trusts the country, reads the token and the Bearer token."""
    dist = distribution(staging)
    [origin] = dist["origins"]
    [sent] = origin["customHeaders"]
    rules = [inputs(rule) for rule in staging.of_type(LISTENER_RULE)]
    required = {c["httpHeader"]["httpHeaderName"] for rule in rules for c in rule["conditions"] if "httpHeader" in c}
    assert required == {sent["name"]}

    [api] = [b for b in dist["orderedCacheBehaviors"] if b["pathPattern"] == "/api/*"]
    policy = inputs(by_output(staging, ORIGIN_REQUEST_POLICY, api["originRequestPolicyId"]))
    forwarded = policy["headersConfig"]["headers"]["items"]
    [country] = [name for name in forwarded if name in headers.GEO]  # only one country header reaches the app
    assert headers.CONSISTENCY_TOKEN in forwarded

    secret = origin_secret_value(staging)
    request = Headers({sent["name"]: secret, country: "JP"})
    assert resolve_region(request, "eu", secret) == "asia"
    assert resolve_region(Headers({country: "JP"}), "eu", secret) == "eu"  # without the verify header: ignored

    [analytics] = [b for b in dist["orderedCacheBehaviors"] if b["pathPattern"] == "/api/analytics/*"]
    key = inputs(by_output(staging, CACHE_POLICY, analytics["cachePolicyId"]))[
        "parametersInCacheKeyAndForwardedToOrigin"
    ]
    [authorization] = key["headersConfig"]["headers"]["items"]
    scope = {"type": "http", "headers": [(authorization.lower().encode(), b"Bearer token-of-sixteen-chars")]}
    assert bearer_token(Request(scope)) == "token-of-sixteen-chars"
