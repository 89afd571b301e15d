"""Generated documentation stays true: the README's config table and the architecture diagrams."""

from __future__ import annotations

import re

from offline.config_reference import readme_block, render
from offline.diagram import outputs, render_png, render_svg, to_dot
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


def test_committed_architecture_pictures_are_current(each_stack: Evaluation) -> None:
    """`make docs` regenerates docs/architecture-<stack>.svg/.png; a change to the program that moves an arrow and
    forgets them fails here (the rendering is deterministic: nodes and edges are sorted, the font is fixed)."""
    dot = to_dot(each_stack)
    svg_path, png_path = outputs(each_stack.stack)
    stale = f"is stale: run `make diagram STACK={each_stack.stack}` (or `make docs`)"
    assert svg_path.read_text() == render_svg(dot), f"{svg_path.name} {stale}"
    assert png_path.read_bytes() == render_png(dot), f"{png_path.name} {stale}"


def test_architecture_picture_fits_the_readme(production: Evaluation) -> None:
    """Readable at README width: GitHub shows a README about 880 px wide and scales a wider picture down. At most
    900 pt (1200 px) wide, the 10 pt (13 px) labels still show at 9-10 px or more."""
    svg = render_svg(to_dot(production))
    width = float(re.search(r'<svg width="([0-9.]+)pt"', svg).group(1))  # type: ignore[union-attr]
    assert width <= 900, width
