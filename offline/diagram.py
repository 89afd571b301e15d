"""`make diagram STACK=...`: the declared resources grouped by region, rendered to SVG with graphviz.

Each box is a top-level component (network, database, load balancer, ...) in one region, listing how many of
each resource type it declares there; global services (CloudFront, IAM, Route 53) sit in their own group.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from offline.harness import ROOT, DeclaredResource, Evaluation, evaluate

GLOBAL = "global"


def _top_component(resource: DeclaredResource, by_urn: dict[str, DeclaredResource]) -> DeclaredResource:
    current = resource
    while current.parent_urn in by_urn:
        current = by_urn[current.parent_urn]
    return current


def to_dot(evaluation: Evaluation) -> str:
    """Graphviz source: a cluster per region, a node per (component, region) with resource counts."""
    by_urn = {r.urn: r for r in evaluation.resources}
    groups: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for resource in evaluation.resources:
        if not resource.custom:
            continue
        top = _top_component(resource, by_urn)
        short_type = resource.type.split(":")[-1]
        groups[resource.region or GLOBAL][f"{top.name}\\n({top.type.split(':')[-1]})"][short_type] += 1
    lines = [
        "digraph platform {",
        '  graph [rankdir=LR, fontname="Helvetica", labelloc=t, '
        f'label="global-api / {evaluation.stack}: declared resources by region"];',
        '  node [shape=box, style="rounded,filled", fillcolor="#f5f7fa", fontname="Helvetica", fontsize=10];',
    ]
    for index, region in enumerate(sorted(groups, key=lambda r: (r == GLOBAL, r))):
        total = sum(sum(c.values()) for c in groups[region].values())
        lines.append(f'  subgraph cluster_{index} {{ label="{region} ({total} resources)"; style=rounded;')
        for node_index, (component, counts) in enumerate(sorted(groups[region].items())):
            detail = "\\l".join(f"{n} x {t}" for t, n in sorted(counts.items())) + "\\l"
            lines.append(f'    n{index}_{node_index} [label="{component}\\n\\n{detail}"];')
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


def render_svg(dot_source: str) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("graphviz `dot` is not installed (Debian package graphviz; make bootstrap installs it)")
    return subprocess.run([dot, "-Tsvg"], input=dot_source, capture_output=True, text=True, check=True).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make diagram", description=__doc__)
    parser.add_argument("stack")
    parser.add_argument("--output", type=Path, help="default: docs/architecture-<stack>.svg")
    args = parser.parse_args(argv)
    output = args.output or ROOT / "docs" / f"architecture-{args.stack}.svg"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_svg(to_dot(evaluate(args.stack))))
    print(f"wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
