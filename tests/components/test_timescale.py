"""The TimescaleDB cluster's pure parts: what its arguments refuse, the node layout, and the bootstrap template.

The declared cluster (instances, volumes, alarms, the rendered bootstrap) is tested in tests/infra/test_timescale.py.
"""

from __future__ import annotations

import re
from typing import Any, cast

import pytest

from components.monitoring import Monitoring
from components.timescale import (
    TEMPLATE_PATH,
    TIMESCALE_RELEASES,
    TimescaleArgs,
    ami_parameter,
    cloudwatch_agent_config,
    node_alarm_specs,
    render_cloud_init,
)
from components.timescale_job_metrics import METRICS, NAMESPACE
from stacks.config import TimescaleConfig
from tests.components.alarm_rules import cloudwatch_problems


def args(**overrides: Any) -> TimescaleArgs:
    base: dict[str, Any] = {
        "aws_region": "eu-west-1",
        "vpc_id": "vpc-1",
        "vpc_cidr": "10.10.0.0/16",
        "subnet_ids": ["subnet-a", "subnet-b", "subnet-c"],
        "availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        "client_security_groups": {"app": "sg-app"},
        "monitoring": cast(Monitoring, object()),  # only the constructor creates alarms through it
        "zone_name": "global-api-production.internal",
    }
    return TimescaleArgs(**{**base, **overrides})


def test_nodes_are_a_primary_then_numbered_standbys() -> None:
    assert args(replicas=0).nodes == ["primary"]
    assert args(replicas=2).nodes == ["primary", "standby-1", "standby-2"]


def test_hosts_are_names_in_the_private_zone() -> None:
    cluster = args()
    assert cluster.primary_host == "timescale-primary.global-api-production.internal"
    assert cluster.replica_host == "timescale-replica.global-api-production.internal"


@pytest.mark.parametrize("replicas", [3, 4, -1])
def test_each_node_needs_its_own_az(replicas: int) -> None:
    with pytest.raises(ValueError, match=rf"replicas={replicas}: .* only 3 private subnets .* \(allowed: 0\.\.2\)"):
        args(replicas=replicas)


def test_subnets_and_zones_must_be_aligned() -> None:
    with pytest.raises(ValueError, match="subnet_ids and availability_zones must be aligned"):
        args(availability_zones=["eu-west-1a", "eu-west-1b"])


def test_only_a_pinned_postgres_major_is_accepted() -> None:
    assert set(TIMESCALE_RELEASES) == {14, 15, 16, 17}
    for major, (postgres, timescaledb) in TIMESCALE_RELEASES.items():
        assert postgres.split(".")[0] == str(major)  # the pinned minor belongs to its major
        assert re.fullmatch(r"\d+\.\d+\.\d+", timescaledb)
    with pytest.raises(ValueError, match=r"postgres_major=13: no pinned TimescaleDB pair \(allowed: 14, 15, 16, 17\)"):
        args(postgres_major=13)


def test_the_ami_parameter_names_ubuntus_architecture() -> None:
    """Ubuntu names x86_64 `amd64`; an arm64 node must never boot an amd64 image."""
    assert ami_parameter("x86_64").split("/")[-4] == "amd64"
    assert ami_parameter("arm64").split("/")[-4] == "arm64"
    assert ami_parameter("arm64").startswith("/aws/service/canonical/ubuntu/server/24.04/")


def placeholders() -> set[str]:
    return set(re.findall(r"@@\{(\w+)\}", TEMPLATE_PATH.read_text()))


def test_every_placeholder_filled_renders_without_any_left() -> None:
    names = placeholders()
    assert names
    rendered = render_cloud_init({name: f"<{name}>" for name in names})
    assert "@@{" not in rendered
    assert all(f"<{name}>" in rendered for name in names)


def test_a_missing_value_fails_instead_of_shipping_a_broken_bootstrap() -> None:
    names = sorted(placeholders())
    with pytest.raises(KeyError, match=names[0]):
        render_cloud_init({name: "x" for name in names[1:]})


def test_shell_variables_pass_through_untouched() -> None:
    """`@@` is the delimiter so the script's own `$VAR` and `${VAR}` need no escaping."""
    rendered = render_cloud_init({name: "x" for name in placeholders()})
    shell = re.findall(r"\$\{?\w+", TEMPLATE_PATH.read_text())
    assert shell
    assert re.findall(r"\$\{?\w+", rendered) == shell


def node_alarms(**overrides: Any) -> dict[str, Any]:
    specs = node_alarm_specs("ts-standby-1", "standby-1", args(**overrides), "i-0abc")
    return {spec.name.removeprefix("ts-standby-1-"): spec for spec in specs}


def test_each_node_alarms_on_status_cpu_disk_memory_and_its_jobs() -> None:
    alarms = node_alarms()
    assert set(alarms) == {"status-check", "cpu", "disk", "memory", "failed-jobs", "overdue-jobs"}
    assert {spec.metric_name for spec in alarms.values()} >= set(METRICS)
    assert all(spec.dimensions["InstanceId"] == "i-0abc" for spec in alarms.values())


def test_thresholds_come_from_the_arguments() -> None:
    alarms = node_alarms(cpu_alarm_percent=70, disk_alarm_percent=85, memory_alarm_percent=95)
    assert [alarms[k].threshold for k in ("cpu", "disk", "memory")] == [70, 85, 95]


def test_the_agent_alarms_select_exactly_what_the_agent_publishes() -> None:
    """The agent appends InstanceId and, for disk, tags each series with its mount `path` and `fstype` (the device
    is dropped); an alarm on other dimensions would watch a series that does not exist and never fire."""
    config = cloudwatch_agent_config()["metrics"]
    alarms = node_alarms()
    assert {alarms["disk"].namespace, alarms["memory"].namespace} == {config["namespace"]}
    disk = config["metrics_collected"]["disk"]
    assert disk["drop_device"] is True
    assert alarms["disk"].metric_name == f"disk_{disk['measurement'][0]}"
    assert [alarms["disk"].dimensions["path"]] == disk["resources"]
    assert set(alarms["disk"].dimensions) == {"InstanceId", "path", "fstype"}
    assert alarms["memory"].metric_name == f"mem_{config['metrics_collected']['mem']['measurement'][0]}"
    assert set(alarms["memory"].dimensions) == set(config["append_dimensions"]) == {"InstanceId"}


def test_silence_from_a_node_or_its_job_agent_is_a_failure() -> None:
    alarms = node_alarms()
    assert {name for name, spec in alarms.items() if spec.treat_missing_data == "breaching"} == {
        "status-check",
        "failed-jobs",
        "overdue-jobs",
    }
    assert {alarms[k].namespace for k in ("failed-jobs", "overdue-jobs")} == {NAMESPACE}


def test_every_node_alarm_is_one_cloudwatch_accepts() -> None:
    for name, spec in node_alarms().items():
        assert cloudwatch_problems(spec) == [], name


# The AWS Graviton families (aws/aws-graviton-getting-started: "C6g[d], M6g[d], R6g[d], T4g, X2gd, C6gn, I4g, Im4gn,
# Is4gen, G5g, C7g[d][n], M7g[d], R7g[d], R8g"; A1 is the first-generation Graviton) and x86 look-alikes (g5 and
# gr6 are NVIDIA GPU instances on x86, m5dn and x2idn Intel, r6a AMD, inf2 Inferentia on x86).
GRAVITON = ["a1", "c6g", "c6gd", "m6g", "m6gd", "r6g", "r6gd", "t4g", "x2gd", "c6gn", "i4g", "im4gn", "is4gen", "g5g",
            "c7g", "c7gd", "c7gn", "m7g", "m7gd", "r7g", "r7gd", "r8g"]  # fmt: skip
X86 = ["t3", "m5", "m5dn", "m7i", "c5", "r6a", "x2idn", "g5", "gr6", "inf2", "p5"]


@pytest.mark.parametrize(("family", "architecture"), [(f, "arm64") for f in GRAVITON] + [(f, "x86_64") for f in X86])
def test_the_node_architecture_follows_the_instance_family(family: str, architecture: str) -> None:
    """An arm64 node on an amd64 image (or the reverse) never boots: the AMI parameter follows this."""
    config = TimescaleConfig.model_validate({"instanceType": f"{family}.large", "replicas": 1})
    assert config.architecture == architecture
