"""`make plan STACK=...`: what `pulumi up` would create, evaluated offline under mocks (no AWS, no CLI).

Prints the component tree (type, name, region) and a count per resource type.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from offline.harness import DeclaredResource, Evaluation, evaluate, stack_file
from stacks.config import StackConfigError


def render_tree(evaluation: Evaluation) -> list[str]:
    """Indented lines, children under their parent component, in declaration order."""
    children: dict[str, list[DeclaredResource]] = {}
    for resource in evaluation.resources:
        children.setdefault(resource.parent_urn, []).append(resource)
    known = {r.urn for r in evaluation.resources}
    roots = [r for r in evaluation.resources if r.parent_urn not in known]
    lines: list[str] = []

    def walk(resource: DeclaredResource, depth: int) -> None:
        region = f"  [{resource.region}]" if resource.region else ""
        protected = "  (protected)" if resource.protect else ""
        lines.append(f"{'  ' * depth}{resource.type}  {resource.name}{region}{protected}")
        for child in children.get(resource.urn, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return lines


def render_counts(evaluation: Evaluation) -> list[str]:
    counts = Counter(r.type for r in evaluation.resources)
    width = max((len(t) for t in counts), default=0)
    rows = [f"{type_token:<{width}}  {count:>4}" for type_token, count in sorted(counts.items())]
    return [*rows, f"{'total':<{width}}  {sum(counts.values()):>4}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make plan", description=__doc__)
    parser.add_argument("stack", help="stack name; reads Pulumi.<stack>.yaml")
    args = parser.parse_args(argv)
    if not stack_file(args.stack).exists():
        print(f"no such stack: {stack_file(args.stack).name} does not exist", file=sys.stderr)
        return 2
    try:
        evaluation = evaluate(args.stack)
    except StackConfigError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"# stack {args.stack}: resources `pulumi up` would create (offline, under mocks)\n")
    print("\n".join(render_tree(evaluation)))
    print("\n# resources per type\n")
    print("\n".join(render_counts(evaluation)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
