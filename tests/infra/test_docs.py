"""Generated documentation stays true: the README's config table and the architecture diagrams."""

from __future__ import annotations

from offline.config_reference import readme_block, render
from offline.diagram import render_svg, to_dot
from offline.harness import Evaluation


def test_readme_config_table_matches_stacks_config() -> None:
    assert readme_block() == render(), "README config table is stale: run `make docs`"


def test_config_table_lists_every_design_key() -> None:
    table = render()
    for key in (
        "regions",
        "primaryRegion",
        "readReplicaRegions",
        "appRegions",
        "database.instanceClass",
        "database.maxReplicaLagSeconds",
        "timescale.volumeGiB",
        "service.maxCount",
        "domain.certificateArn",
        "alarmEmail",
    ):
        assert f"`global-api:{key}`" in table
    assert "`aws:region`" in table


def test_diagram_renders_each_region(each_stack: Evaluation) -> None:
    dot = to_dot(each_stack)
    for region in ("eu-west-1", "us-east-1", "ap-southeast-1", "global"):
        assert f'label="{region} (' in dot
    svg = render_svg(dot)
    assert svg.lstrip().startswith("<?xml")
    assert svg.count('class="node"') == dot.count("[label=") > len(("eu", "us", "asia"))
    assert "network&#45;eu" in svg  # graphviz escapes the hyphen
