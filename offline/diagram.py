"""`make diagram STACK=...`: the architecture picture, drawn from the stack's evaluation (offline/topology.py).

Regions are columns side by side, tiers are rows (edge, load balancers, services, databases, analytics, network,
alarms); arrows are what the resources reference: requests, replication and backups, peering, the analytics path and
alarm routing. Written as SVG (shown in the README) and PNG, with graphviz. The per-resource listing is `make plan`.
"""

from __future__ import annotations

import argparse
import html
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from offline.harness import ROOT, Evaluation, evaluate
from offline.topology import Edge, EdgeKind, Node, NodeKind, Topology, topology

FONT = "DejaVu Sans"  # fonts-dejavu-core, installed by scripts/bootstrap.sh: the same glyph widths on every machine
# Rows top to bottom; kinds in one row share a rank across every region column.
ROWS: tuple[tuple[NodeKind, ...], ...] = (
    ("viewer",),
    ("cdn",),
    ("load-balancer",),
    ("service",),
    ("db-primary", "backup"),
    ("db-replica",),
    ("task",),
    ("timescale-primary",),
    ("timescale-standby",),
    ("vpc", "alarms"),
    ("topic",),
    ("recipient",),
)
FILL: Mapping[NodeKind, str] = {
    "viewer": "#ffffff",
    "cdn": "#e8eefc",
    "load-balancer": "#e8eefc",
    "service": "#e8eefc",
    "db-primary": "#e3f4e6",
    "db-replica": "#e3f4e6",
    "backup": "#f1f8f2",
    "task": "#fdf0e0",
    "timescale-primary": "#fdf0e0",
    "timescale-standby": "#fdf0e0",
    "vpc": "#f2f2f2",
    "alarms": "#fbe9e9",
    "topic": "#fbe9e9",
    "recipient": "#ffffff",
}
EDGE_STYLE: Mapping[EdgeKind, dict[str, str]] = {
    "request": {"color": "#2b59c3", "penwidth": "1.4"},
    "replication": {"color": "#2e8b3e", "penwidth": "1.6"},
    "backup": {"color": "#2e8b3e", "style": "dashed"},
    "peering": {"color": "#8a8a8a", "style": "dashed", "dir": "none"},
    "analytics": {"color": "#d9822b", "penwidth": "1.3"},
    "alarm": {"color": "#c23b3b"},
}
LEGEND: tuple[tuple[EdgeKind, str], ...] = (
    ("request", "requests"),
    ("replication", "replication / backups"),
    ("analytics", "analytics"),
    ("peering", "VPC peering"),
    ("alarm", "alarms"),
)


def _row(node: Node) -> int:
    return next(index for index, kinds in enumerate(ROWS) if node.kind in kinds)


def _attributes(values: Mapping[str, str]) -> str:
    return ", ".join(f'{key}="{value}"' for key, value in values.items())


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _logical_regions(evaluation: Evaluation) -> dict[str, str]:
    """AWS region -> logical region name from the stack's `regions` map, for the column titles."""
    regions: Any = evaluation.config.get("global-api:regions") or {}
    return {str(aws): str(logical) for logical, aws in dict(regions).items()} if isinstance(regions, dict) else {}


class _Dot:
    """Graphviz source for one topology; node ids are short and stable (n0, n1, ... in sorted order)."""

    def __init__(self, graph: Topology, evaluation: Evaluation) -> None:
        self.graph, self.evaluation = graph, evaluation
        # Sorted, not in registration order (which varies between runs): the same stack gives the same bytes.
        self.nodes = sorted(graph.nodes.values(), key=lambda n: (_row(n), n.region or "", n.label, n.key))
        self.edges = sorted(graph.edges, key=lambda e: (e.kind, e.source, e.target, e.label))
        self.ids = {node.key: f"n{index}" for index, node in enumerate(self.nodes)}
        self.logical = _logical_regions(evaluation)

    def columns(self) -> list[str]:
        """Region columns (graphviz places them to cross the fewest arrows): the stack's regions, then any other
        region (e.g. where backups are copied). Global nodes (viewers, CloudFront, mail recipients) sit above and
        below, outside any column."""
        present = {node.region for node in self.nodes if node.region is not None}
        ordered = [region for region in self.logical if region in present]
        return [*ordered, *sorted(present - set(ordered))]

    def title(self, region: str) -> str:
        logical = self.logical.get(region)
        return f"{logical} · {region}" if logical else region

    def node_line(self, node: Node) -> str:
        attributes = {"label": _quote(node.label), "fillcolor": FILL[node.kind]}
        if node.kind in ("viewer", "recipient"):
            attributes["shape"] = "plaintext" if node.kind == "viewer" else "note"
        return f"    {self.ids[node.key]} [{_attributes(attributes)}];"

    def cluster(self, index: int, region: str) -> list[str]:
        members = [n for n in self.nodes if n.region == region]
        lines = [
            f"  subgraph cluster_{index} {{",
            f'    label="{_quote(self.title(region))}"; style="rounded"; color="#9aa5b1"; fontsize=12;',
        ]
        standbys = [n for n in members if n.kind in ("timescale-primary", "timescale-standby")]
        lines += [self.node_line(n) for n in members if n not in standbys]
        if standbys:
            lines += [f"    subgraph cluster_{index}_timescale {{", '      label="TimescaleDB"; style="dashed";']
            lines += ["  " + self.node_line(n) for n in standbys]
            lines.append("    }")
        lines.append("  }")
        return lines

    def edge_lines(self) -> list[str]:
        """One line per edge; several edges from one node into the TimescaleDB group are drawn once, to the group."""
        lines, drawn_into_group = [], set()
        groups = self._timescale_groups()
        for edge in self.edges:
            attributes = dict(EDGE_STYLE[edge.kind])
            source, target = self.graph.nodes[edge.source], self.graph.nodes[edge.target]
            if _row(target) <= _row(source):
                # The rows fix the ranks (rank_lines); an edge within a row or up one (the pipeline reading a
                # replica) must not reorder them.
                attributes["constraint"] = "false"
            if edge.label and edge.kind != "peering":  # the legend names peering; its label would sit on the boxes
                attributes["label"] = _quote(edge.label)
            if self._cross_region_read(edge):
                continue  # the legend says so; drawn, every service would point at every replica
            if target.kind == "timescale-standby" and edge.kind == "analytics" and target.key in groups:
                group = groups[target.key]
                if (edge.source, group) in drawn_into_group:
                    continue
                drawn_into_group.add((edge.source, group))
                attributes.update(lhead=group, label="reads")
            lines.append(f"  {self.ids[edge.source]} -> {self.ids[edge.target]} [{_attributes(attributes)}];")
        return lines

    def _cross_region_read(self, edge: Edge) -> bool:
        """Reads of a replica in another region are the app's fallback (the nearest fresh replica comes first)."""
        source, target = self.graph.nodes[edge.source], self.graph.nodes[edge.target]
        return edge.label == "reads" and target.kind == "db-replica" and source.region != target.region

    def _timescale_groups(self) -> dict[str, str]:
        columns = self.columns()
        return {
            node.key: f"cluster_{columns.index(node.region)}_timescale"
            for node in self.nodes
            if node.kind in ("timescale-primary", "timescale-standby") and node.region is not None
        }

    def rank_lines(self) -> list[str]:
        """Rows: an invisible ladder fixes their order top to bottom, whatever way the edges point."""
        lines = [f"  row{index} [style=invis, shape=point, width=0];" for index in range(len(ROWS))]
        lines += [f"  row{index} -> row{index + 1} [style=invis];" for index in range(len(ROWS) - 1)]
        for index, kinds in enumerate(ROWS):
            ids = [self.ids[n.key] for n in self.nodes if n.kind in kinds]
            lines.append(f"  {{ rank=same; row{index}; {'; '.join(ids)}; }}" if ids else f"  row{index};")
        return lines

    def legend(self) -> str:
        items = " &nbsp; ".join(
            f'<font color="{EDGE_STYLE[kind]["color"]}">━ {html.escape(text)}</font>' for kind, text in LEGEND
        )
        title = html.escape(f"global-api / {self.evaluation.stack}")
        note = (
            "<br/>A service reads its own region's replica first; the other regions' replicas are its fallback"
            " (not drawn)."
            if any(self._cross_region_read(edge) for edge in self.edges)
            else ""
        )
        return f'<<b>{title}</b><br/><font point-size="10">{items}{note}</font>>'

    def source(self) -> str:
        lines = [
            "digraph architecture {",
            f'  graph [rankdir=TB, newrank=true, compound=true, fontname="{FONT}", fontsize=13, labelloc=t, '
            f"nodesep=0.22, ranksep=0.38, pad=0.2, label={self.legend()}];",
            f'  node [shape=box, style="rounded,filled", fontname="{FONT}", fontsize=10, margin="0.1,0.04", '
            'color="#5f6b7a", height=0.35];',
            f'  edge [fontname="{FONT}", fontsize=8, arrowsize=0.6, fontcolor="#444444"];',
        ]
        for index, region in enumerate(self.columns()):
            lines += self.cluster(index, region)
        lines += [self.node_line(n) for n in self.nodes if n.region is None]
        lines += self.rank_lines()
        lines += self.edge_lines()
        lines.append("}")
        return "\n".join(lines)


def to_dot(evaluation: Evaluation) -> str:
    """Graphviz source of the stack's architecture picture."""
    return _Dot(topology(evaluation), evaluation).source()


def render(dot_source: str, image_format: str) -> bytes:
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("graphviz `dot` is not installed (Debian package graphviz; make bootstrap installs it)")
    return subprocess.run([dot, f"-T{image_format}"], input=dot_source.encode(), capture_output=True, check=True).stdout


def render_svg(dot_source: str) -> str:
    return render(dot_source, "svg").decode()


def render_png(dot_source: str) -> bytes:
    """At 2x (144 dpi), so the PNG stays sharp when a page scales it to its width."""
    return render(dot_source.replace("digraph architecture {", "digraph architecture {\n  graph [dpi=144];", 1), "png")


def outputs(stack: str) -> tuple[Path, Path]:
    """The committed pictures of a stack: docs/architecture-<stack>.svg and .png."""
    base = ROOT / "docs" / f"architecture-{stack}"
    return base.with_suffix(".svg"), base.with_suffix(".png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make diagram", description=__doc__)
    parser.add_argument("stack")
    args = parser.parse_args(argv)
    dot_source = to_dot(evaluate(args.stack))
    svg, png = outputs(args.stack)
    svg.parent.mkdir(parents=True, exist_ok=True)
    svg.write_text(render_svg(dot_source))
    png.write_bytes(render_png(dot_source))
    for path in (svg, png):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
