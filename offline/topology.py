"""The architecture as a graph: what talks to what, derived from what the declared resources reference.

Every edge is found in a resource's recorded inputs (a replica's `replicate_source_db`, a listener's target group, a
task's environment URLs and secret references, a peering's VPC ids, an alarm's actions), matched against the
identifiers the other resources carry (ARNs, ids, DNS names, private IPs). Nothing here lists which boxes connect:
drop a reference from the program and its arrow disappears. `offline/diagram.py` draws the result.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from pulumi.runtime.rpc import _special_secret_sig, _special_sig_key

from components.timescale import ROLE_TAG as TIMESCALE_ROLE_TAG
from offline.harness import DeclaredResource, Evaluation

EdgeKind = Literal["request", "replication", "backup", "peering", "analytics", "alarm"]
NodeKind = Literal[
    "viewer",
    "cdn",
    "load-balancer",
    "service",
    "db-primary",
    "db-replica",
    "backup",
    "task",
    "timescale-primary",
    "timescale-standby",
    "vpc",
    "alarms",
    "topic",
    "recipient",
]

RDS_INSTANCE = "aws:rds/instance:Instance"
BACKUP_REPLICATION = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
RECORD = "aws:route53/record:Record"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SCHEDULE = "aws:scheduler/schedule:Schedule"
SECRET = "aws:secretsmanager/secret:Secret"  # noqa: S105 - a type token, not a password
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"  # noqa: S105 - a type token
EC2_INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
VPC = "aws:ec2/vpc:Vpc"
PEERING = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"

# Attributes by which one resource names another (outputs carry the inputs too, under the mocks).
IDENTIFYING_ATTRIBUTES = ("arn", "id", "identifier", "address", "dnsName", "domainName", "privateIp")
# components/timescale_cloud_init.yaml.tmpl: the host every node streams from when it is not the primary itself.
PRIMARY_HOST_LINE = re.compile(r"^\s*PRIMARY_HOST=(\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Node:
    key: str  # the resource's URN, or a synthetic key for aggregates (viewers, alarms per topic, recipients)
    kind: NodeKind
    label: str
    region: str | None  # AWS region; None: global (CloudFront, viewers, mail recipients)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    label: str = ""


@dataclass
class Topology:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def add_node(self, node: Node) -> str:
        self.nodes.setdefault(node.key, node)
        return node.key

    def add_edge(self, edge: Edge) -> None:
        if edge.source != edge.target and edge not in self.edges:
            self.edges.append(edge)

    def of_kind(self, kind: NodeKind) -> list[Node]:
        return [node for node in self.nodes.values() if node.kind == kind]

    def edges_of(self, kind: EdgeKind) -> list[Edge]:
        return [edge for edge in self.edges if edge.kind == kind]


def _unwrap(value: Any) -> Any:
    """A recorded input marked secret arrives as {sig: secret-sig, "value": ...}; the graph needs the value."""
    if isinstance(value, Mapping):
        if value.get(_special_sig_key) == _special_secret_sig:
            return _unwrap(value.get("value"))
        return {key: _unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrap(item) for item in value]
    return value


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a (nested) input value."""
    value = _unwrap(value)
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _host(text: str) -> str:
    """The host of a URL (`postgresql://user:pw@host:5432/db`), else the text itself without a trailing dot."""
    if "://" in text:
        return urlsplit(text).hostname or ""
    return text.rstrip(".")


class _Index:
    """Declared resources by every identifier another resource may use to reference them."""

    def __init__(self, evaluation: Evaluation) -> None:
        self.evaluation = evaluation
        self._by_value: dict[str, list[DeclaredResource]] = {}
        for resource in evaluation.resources:
            values = {str(resource.outputs[key]) for key in IDENTIFYING_ATTRIBUTES if resource.outputs.get(key)}
            if resource.type == RECORD and resource.inputs.get("name"):
                values.add(_host(str(resource.inputs["name"])))
            for value in values:
                self._by_value.setdefault(value, []).append(resource)

    def find(self, value: Any, type_token: str) -> list[DeclaredResource]:
        """Resources of `type_token` that `value` (a string, or anything holding strings) names."""
        found: dict[str, DeclaredResource] = {}
        for text in _strings(value):
            for candidate in self._by_value.get(text, []) + self._by_value.get(_host(text), []):
                if candidate.type == type_token:
                    found.setdefault(candidate.urn, candidate)
        return list(found.values())

    def resolve_host(self, host: str, type_token: str) -> list[DeclaredResource]:
        """What a DNS name reaches: the resource itself, or through alias / A records (by alias name or IP)."""
        direct = self.find(host, type_token)
        if direct:
            return direct
        reached: dict[str, DeclaredResource] = {}
        for record in self.find(host, RECORD):
            targets = [alias.get("name") for alias in record.inputs.get("aliases") or []]
            for target in self.find([*targets, *(record.inputs.get("records") or [])], type_token):
                reached.setdefault(target.urn, target)
        return list(reached.values())

    def secret_value(self, reference: str) -> list[str]:
        """The plain values an ECS `valueFrom` (`<secret arn>[:<json key>::]`) resolves to, from the secret's
        declared version(s)."""
        values: list[str] = []
        for secret in self.evaluation.of_type(SECRET):
            arn = str(secret.outputs.get("arn", ""))
            if not arn or not (reference == arn or reference.startswith(arn + ":")):
                continue
            json_key = reference[len(arn) + 1 :].split(":")[0] if reference != arn else ""
            for version in self.evaluation.of_type(SECRET_VERSION):
                if version.inputs.get("secretId") not in (secret.outputs.get("id"), arn):
                    continue
                text = str(_unwrap(version.inputs.get("secretString")) or "")
                values.append(_json_field(text, json_key) if json_key else text)
        return values


def _json_field(text: str, key: str) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        return ""
    return str(document.get(key, "")) if isinstance(document, dict) else ""


def topology(evaluation: Evaluation) -> Topology:
    """The request path, replication, backups, peering, the analytics path and alarm routing of one stack."""
    index, graph = _Index(evaluation), Topology()
    _request_path(evaluation, index, graph)
    _database_replication(evaluation, index, graph)
    _scheduled_tasks(evaluation, index, graph)
    _timescale_streaming(evaluation, index, graph)
    _peering(evaluation, index, graph)
    _alarm_routing(evaluation, index, graph)
    return graph


def _node(graph: Topology, resource: DeclaredResource, kind: NodeKind, label: str) -> str:
    return graph.add_node(Node(resource.urn, kind, label, resource.region))


def _database_node(graph: Topology, instance: DeclaredResource) -> str:
    if instance.type == RDS_INSTANCE:
        replica = bool(instance.inputs.get("replicateSourceDb"))
        kind: NodeKind = "db-replica" if replica else "db-primary"
        title = "RDS replica" if replica else "RDS primary"
        return _node(graph, instance, kind, f"{title}\n{instance.inputs.get('instanceClass', '')}")
    primary = (instance.inputs.get("tags") or {}).get(TIMESCALE_ROLE_TAG) == "primary"
    kind = "timescale-primary" if primary else "timescale-standby"
    # Inside the picture's TimescaleDB box: the node's name without the component's prefix (primary, standby-1).
    parent = instance.parent_urn.split("::")[-1]
    return _node(graph, instance, kind, instance.name.removeprefix(f"{parent}-"))


def _request_path(evaluation: Evaluation, index: _Index, graph: Topology) -> None:
    """viewers -> CloudFront (+ its WAF) -> each origin ALB -> the service in its target group -> databases."""
    for distribution in evaluation.of_type(DISTRIBUTION):
        waf = index.find(distribution.inputs.get("webAclId"), WEB_ACL)
        aliases = ", ".join(distribution.inputs.get("aliases") or [])
        cdn = _node(graph, distribution, "cdn", ("CloudFront + WAF" if waf else "CloudFront") + f"\n{aliases}")
        public = {
            str(record.inputs.get("name"))
            for record in evaluation.of_type(RECORD)
            if index.find([a.get("name") for a in record.inputs.get("aliases") or []], DISTRIBUTION) == [distribution]
        }
        if public:
            viewers = graph.add_node(Node("viewers", "viewer", "viewers\nhttps://" + ", ".join(sorted(public)), None))
            graph.add_edge(Edge(viewers, cdn, "request"))
        for origin in _unwrap(distribution.inputs.get("origins")) or []:
            for alb in index.resolve_host(str(origin.get("domainName", "")), LOAD_BALANCER):
                graph.add_edge(Edge(cdn, _node(graph, alb, "load-balancer", "ALB"), "request"))
    for service in evaluation.of_type(ECS_SERVICE):
        tasks = int(float(service.inputs.get("desiredCount") or 0))
        service_key = _node(graph, service, "service", f"Fargate service\n{tasks} tasks")
        for task in index.find(service.inputs.get("taskDefinition"), TASK_DEFINITION):
            for endpoint in _endpoints(index, task):
                database = _database_node(graph, endpoint)
                kind: EdgeKind = "request" if endpoint.type == RDS_INSTANCE else "analytics"
                graph.add_edge(Edge(service_key, database, kind, _access(graph.nodes[database])))
    for alb in evaluation.of_type(LOAD_BALANCER):
        alb_key = _node(graph, alb, "load-balancer", "ALB")
        for service in _services_behind(evaluation, index, alb):
            graph.add_edge(Edge(alb_key, service.urn, "request"))


def _access(database: Node) -> str:
    return "writes" if database.kind == "db-primary" else "reads" if database.kind == "db-replica" else ""


def _services_behind(evaluation: Evaluation, index: _Index, alb: DeclaredResource) -> list[DeclaredResource]:
    """Services registered in a target group that one of the load balancer's listeners (or their rules) forward
    to."""
    listeners = [
        listener
        for listener in evaluation.of_type(LISTENER)
        if index.find(listener.inputs.get("loadBalancerArn"), LOAD_BALANCER) == [alb]
    ]
    actions: list[Any] = [listener.inputs.get("defaultActions") for listener in listeners]
    for rule in evaluation.of_type(LISTENER_RULE):
        if {r.urn for r in index.find(rule.inputs.get("listenerArn"), LISTENER)} & {r.urn for r in listeners}:
            actions.append(rule.inputs.get("actions"))
    groups = {group.urn for group in index.find(actions, TARGET_GROUP)}
    return [
        service
        for service in evaluation.of_type(ECS_SERVICE)
        if {group.urn for group in index.find(service.inputs.get("loadBalancers"), TARGET_GROUP)} & groups
    ]


def _container_definitions(task: DeclaredResource) -> list[dict[str, Any]]:
    raw = _unwrap(task.inputs.get("containerDefinitions"))
    definitions = json.loads(raw) if isinstance(raw, str) else raw
    return list(definitions or [])


def _endpoints(index: _Index, task: DeclaredResource) -> list[DeclaredResource]:
    """Database instances a task connects to: hosts of the URLs in its environment and in the secrets ECS injects."""
    values: list[str] = []
    for container in _container_definitions(task):
        values += [str(variable.get("value", "")) for variable in container.get("environment") or []]
        for secret in container.get("secrets") or []:
            values += index.secret_value(str(secret.get("valueFrom", "")))
    reached: dict[str, DeclaredResource] = {}
    for value in values:
        if "://" not in value:
            continue
        for type_token in (RDS_INSTANCE, EC2_INSTANCE):
            for endpoint in index.resolve_host(_host(value), type_token):
                reached.setdefault(endpoint.urn, endpoint)
    return list(reached.values())


def _database_replication(evaluation: Evaluation, index: _Index, graph: Topology) -> None:
    """Each replica from the instance its `replicate_source_db` names; backup copies from their source instance."""
    for replica in evaluation.of_type(RDS_INSTANCE):
        _database_node(graph, replica)
        for source in index.find(replica.inputs.get("replicateSourceDb"), RDS_INSTANCE):
            graph.add_edge(Edge(_database_node(graph, source), replica.urn, "replication", "replicates"))
    for copy in evaluation.of_type(BACKUP_REPLICATION):
        days = int(float(copy.inputs.get("retentionPeriod") or 0))
        target = _node(graph, copy, "backup", f"automated backup copies\n{days} days")
        for source in index.find(copy.inputs.get("sourceDbInstanceArn"), RDS_INSTANCE):
            graph.add_edge(Edge(_database_node(graph, source), target, "backup", "backups"))


def _scheduled_tasks(evaluation: Evaluation, index: _Index, graph: Topology) -> None:
    """Each scheduled ECS task and the databases it connects to (the pipeline: main DB -> TimescaleDB)."""
    for schedule in evaluation.of_type(SCHEDULE):
        target = _unwrap(schedule.inputs.get("target")) or {}
        for task in index.find((target.get("ecsParameters") or {}).get("taskDefinitionArn"), TASK_DEFINITION):
            names = ", ".join(str(c.get("name")) for c in _container_definitions(task))
            every = str(schedule.inputs.get("scheduleExpression", ""))
            task_key = _node(graph, task, "task", f"{names} task\n{every}")
            for endpoint in _endpoints(index, task):
                database = _database_node(graph, endpoint)
                graph.add_edge(Edge(task_key, database, "analytics", _access(graph.nodes[database])))


def _timescale_streaming(evaluation: Evaluation, index: _Index, graph: Topology) -> None:
    """A TimescaleDB node streams from the host its launch template's bootstrap names as the primary."""
    for instance in evaluation.of_type(EC2_INSTANCE):
        template_id = (instance.inputs.get("launchTemplate") or {}).get("id")
        for template in index.find(template_id, LAUNCH_TEMPLATE):
            for host in PRIMARY_HOST_LINE.findall(_decoded_user_data(template)):
                for primary in index.resolve_host(host, EC2_INSTANCE):
                    if primary.urn != instance.urn:
                        source = _database_node(graph, primary)
                        graph.add_edge(Edge(source, _database_node(graph, instance), "replication", "streams"))


def _decoded_user_data(template: DeclaredResource) -> str:
    raw = str(_unwrap(template.inputs.get("userData")) or "")
    try:
        return base64.b64decode(raw, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return raw


def _peering(evaluation: Evaluation, index: _Index, graph: Topology) -> None:
    for peering in evaluation.of_type(PEERING):
        ends = [vpc for key in ("vpcId", "peerVpcId") for vpc in index.find(peering.inputs.get(key), VPC)]
        if len(ends) == 2:
            a, b = (_node(graph, vpc, "vpc", f"VPC {vpc.inputs.get('cidrBlock', '')}") for vpc in ends)
            graph.add_edge(Edge(a, b, "peering", "peering"))


def _alarm_routing(evaluation: Evaluation, index: _Index, graph: Topology) -> None:
    """Alarms counted per SNS topic they notify, and who each topic mails."""
    per_topic: Counter[str] = Counter()
    topics: dict[str, DeclaredResource] = {}
    for alarm in evaluation.of_type(METRIC_ALARM):
        for topic in index.find(alarm.inputs.get("alarmActions"), TOPIC):
            per_topic[topic.urn] += 1
            topics[topic.urn] = topic
    for urn, count in per_topic.items():
        topic = topics[urn]
        topic_key = _node(graph, topic, "topic", "SNS topic")
        alarms = graph.add_node(Node(f"alarms:{urn}", "alarms", f"{count} alarms", topic.region))
        graph.add_edge(Edge(alarms, topic_key, "alarm"))
        for recipient in _recipients(evaluation, index, topic):
            graph.add_edge(Edge(topic_key, _recipient_node(graph, recipient), "alarm", "email"))


def _recipients(evaluation: Evaluation, index: _Index, topic: DeclaredResource) -> Iterable[str]:
    for subscription in evaluation.of_type(SUBSCRIPTION):
        if index.find(subscription.inputs.get("topic"), TOPIC) == [topic]:
            yield str(subscription.inputs.get("endpoint", ""))


def _recipient_node(graph: Topology, endpoint: str) -> str:
    return graph.add_node(Node(f"recipient:{endpoint}", "recipient", endpoint, None))
