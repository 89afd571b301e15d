"""The architecture picture's graph (offline/topology.py): its arrows are what the declared resources reference.

Expectations come from the stack's config (parsed with stacks/config.py) and from the declared resources, never
from the topology module; the second half breaks one reference in a copy of an evaluation and checks that exactly
that arrow disappears, so an arrow cannot be drawn from a list instead of a reference.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from offline.harness import DeclaredResource, Evaluation
from offline.topology import Edge, EdgeKind, Node, Topology, topology
from tests.infra.helpers import config_of

RDS_INSTANCE = "aws:rds/instance:Instance"


def the(nodes: list[Node]) -> Node:
    assert len(nodes) == 1, nodes
    return nodes[0]


def edges(graph: Topology, kind: EdgeKind, source: Node | None = None) -> list[Edge]:
    return [e for e in graph.edges_of(kind) if source is None or e.source == source.key]


def targets(graph: Topology, kind: EdgeKind, source: Node) -> list[Node]:
    return [graph.nodes[e.target] for e in edges(graph, kind, source)]


def test_every_replica_replicates_from_the_primary(each_stack: Evaluation) -> None:
    config, graph = config_of(each_stack), topology(each_stack)
    primary = the(graph.of_kind("db-primary"))
    assert primary.region == config.aws_region_of(config.primary_region)
    replicas = graph.of_kind("db-replica")
    assert sorted(r.region or "" for r in replicas) == sorted(
        config.aws_region_of(r) for r in config.read_replica_regions
    )
    assert sorted(n.key for n in targets(graph, "replication", primary) if n.kind == "db-replica") == sorted(
        r.key for r in replicas
    )
    assert all(e.source == primary.key for e in edges(graph, "replication") if graph.nodes[e.target] in replicas)


def test_request_path_viewer_cdn_alb_service_databases(each_stack: Evaluation) -> None:
    config, graph = config_of(each_stack), topology(each_stack)
    viewers, cdn = the(graph.of_kind("viewer")), the(graph.of_kind("cdn"))
    assert config.domain.name in viewers.label
    assert cdn.label.startswith("CloudFront + WAF")
    assert targets(graph, "request", viewers) == [cdn]
    albs = targets(graph, "request", cdn)
    assert sorted(a.region or "" for a in albs) == sorted(config.aws_region_of(r) for r in config.app_regions)
    primary = the(graph.of_kind("db-primary"))
    for alb in albs:
        service = the(targets(graph, "request", alb))
        assert service.kind == "service"
        assert service.region == alb.region
        reached = {(e.target, e.label) for e in edges(graph, "request", service)}
        assert (primary.key, "writes") in reached
        # The app knows every replica (DATABASE_READ_REPLICA_<REGION>); its own region's is among them.
        assert {(r.key, "reads") for r in graph.of_kind("db-replica")} <= reached


def test_analytics_path_pipeline_primary_standbys_and_app_readers(each_stack: Evaluation) -> None:
    config, graph = config_of(each_stack), topology(each_stack)
    tasks = {node.label.split()[0]: node for node in graph.of_kind("task")}
    assert set(tasks) == {"pipeline", "reports"}
    timescale_primary = the(graph.of_kind("timescale-primary"))
    standbys = graph.of_kind("timescale-standby")
    assert len(standbys) == config.timescale.replicas
    assert timescale_primary.region == config.aws_region_of(config.primary_region)
    pipeline_reaches = {n.key for n in targets(graph, "analytics", tasks["pipeline"])}
    assert timescale_primary.key in pipeline_reaches
    assert pipeline_reaches & {n.key for n in graph.of_kind("db-replica") + graph.of_kind("db-primary")}
    assert {n.key for n in targets(graph, "analytics", tasks["reports"])} == {timescale_primary.key}
    assert {n.key for n in targets(graph, "replication", timescale_primary)} == {s.key for s in standbys}
    # app -> the TimescaleDB standbys (ANALYTICS_DATABASE_URL) and its primary (ANALYTICS_WRITE_DATABASE_URL)
    for service in graph.of_kind("service"):
        assert {n.key for n in targets(graph, "analytics", service)} == {s.key for s in standbys} | {
            timescale_primary.key
        }


def test_peering_edges_are_the_declared_peerings(each_stack: Evaluation) -> None:
    config, graph = config_of(each_stack), topology(each_stack)
    pairs = {
        frozenset((config.aws_region_of(app), config.aws_region_of(db)))
        for app in config.app_regions
        for db in config.database_regions
        if app != db
    }
    drawn = [frozenset((graph.nodes[e.source].region, graph.nodes[e.target].region)) for e in edges(graph, "peering")]
    assert len(drawn) == len(pairs)
    assert set(drawn) == pairs
    assert all(graph.nodes[e.source].kind == graph.nodes[e.target].kind == "vpc" for e in edges(graph, "peering"))


def test_every_alarm_reaches_a_topic_that_mails_the_alarm_email(each_stack: Evaluation) -> None:
    config, graph = config_of(each_stack), topology(each_stack)
    counted = sum(int(node.label.split()[0]) for node in graph.of_kind("alarms"))
    assert counted == len(each_stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"))
    recipient = the(graph.of_kind("recipient"))
    assert recipient.label == config.alarm_email
    for aggregate in graph.of_kind("alarms"):
        topic = the(targets(graph, "alarm", aggregate))
        assert topic.kind == "topic"
        assert topic.region == aggregate.region
        assert targets(graph, "alarm", topic) == [recipient]


def test_backup_copies_arrow_to_the_backup_region(each_stack: Evaluation) -> None:
    config, graph = config_of(each_stack), topology(each_stack)
    primary = the(graph.of_kind("db-primary"))
    copies = targets(graph, "backup", primary)
    if config.backup_replication_region is None:
        assert copies == []
        assert graph.of_kind("backup") == []
    else:
        assert [c.region for c in copies] == [config.backup_replication_region]


# --- break one reference, lose exactly that arrow -------------------------------------------------------------


def without_input(evaluation: Evaluation, pick: Callable[[DeclaredResource], bool], key: str) -> Evaluation:
    """A copy of the evaluation where the first resource `pick` accepts no longer has input `key`."""
    victim = next(r for r in evaluation.resources if pick(r))
    inputs = {k: v for k, v in victim.inputs.items() if k != key}
    resources = [dataclasses.replace(r, inputs=inputs) if r is victim else r for r in evaluation.resources]
    return dataclasses.replace(evaluation, resources=resources)


def named(type_token: str, fragment: str) -> Callable[[DeclaredResource], bool]:
    return lambda r: r.type == type_token and fragment in r.name


def arrows(graph: Topology) -> set[tuple[str, str, str]]:
    return {(e.source, e.target, e.kind) for e in graph.edges}


BREAKS: dict[str, tuple[Callable[[DeclaredResource], bool], str, EdgeKind, Callable[[Node, Node], bool]]] = {
    # name: (which resource, which input is dropped, the kind of arrow lost, which arrow it is)
    "replica source": (
        lambda r: r.type == RDS_INSTANCE and r.name.endswith("replica-us"),
        "replicateSourceDb",
        "replication",
        lambda s, t: s.kind == "db-primary" and t.region == "us-east-1",
    ),
    "listener rule target group": (
        named("aws:lb/listenerRule:ListenerRule", "alb-eu"),
        "actions",
        "request",
        lambda s, t: s.kind == "load-balancer" and t.kind == "service" and t.region == "eu-west-1",
    ),
    "peering accepter": (
        named("aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "eu-asia"),
        "peerVpcId",
        "peering",
        lambda s, t: {s.region, t.region} == {"eu-west-1", "ap-southeast-1"},
    ),
    "backup source": (
        named("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication", "backup"),
        "sourceDbInstanceArn",
        "backup",
        lambda s, t: t.kind == "backup",
    ),
    "pipeline schedule": (
        named("aws:scheduler/schedule:Schedule", "pipeline"),
        "target",
        "analytics",
        lambda s, t: s.kind == "task" and s.label.startswith("pipeline"),
    ),
    "cloudfront origin": (
        named("aws:cloudfront/distribution:Distribution", "cdn"),
        "origins",
        "request",
        lambda s, t: s.kind == "cdn" and t.kind == "load-balancer",
    ),
}


@pytest.mark.parametrize("case", BREAKS)
def test_removing_a_reference_removes_exactly_its_arrows(production: Evaluation, case: str) -> None:
    pick, key, kind, lost = BREAKS[case]
    before, after = topology(production), topology(without_input(production, pick, key))
    removed = arrows(before) - arrows(after)
    assert removed, f"dropping {key} removed no arrow"
    assert all(k == kind and lost(before.nodes[s], before.nodes[t]) for s, t, k in removed), removed
    assert not arrows(after) - arrows(before)


def test_an_alarm_without_actions_is_not_counted(production: Evaluation) -> None:
    def alarm_total(graph: Topology) -> int:
        return sum(int(node.label.split()[0]) for node in graph.of_kind("alarms"))

    broken = without_input(production, lambda r: r.type == "aws:cloudwatch/metricAlarm:MetricAlarm", "alarmActions")
    assert alarm_total(topology(broken)) == alarm_total(topology(production)) - 1
