"""Generated documentation stays true: the README's config table and the architecture diagrams."""

from __future__ import annotations

import re
import struct
from collections import Counter
from xml.etree import ElementTree

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


SVG = "{http://www.w3.org/2000/svg}"
STYLE = ("fill", "stroke", "stroke-width", "stroke-dasharray")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_SCALE = 2  # offline/diagram.render_png: 144 dpi against the SVG's 72 points per inch


def drawing(svg: str) -> Counter[tuple[object, ...]]:
    """What the picture shows, without where: every node, edge and region box by its id (title), its texts, colours
    and line styles, plus the picture's title and legend. Positions come from the machine's text measurement (pango,
    fonts, graphviz build) and may shift on another machine; none of this does."""
    root = ElementTree.fromstring(svg)  # noqa: S314 - our own generated file, not untrusted input
    shown: Counter[tuple[object, ...]] = Counter()
    graph = root.find(f"{SVG}g")
    assert graph is not None, "not a graphviz picture"
    assert graph.get("class") == "graph", "not a graphviz picture"
    shown["legend", tuple(text.text or "" for text in graph.findall(f"{SVG}text"))] += 1
    for group in graph.iter(f"{SVG}g"):
        kind = group.get("class")
        if kind not in ("node", "edge", "cluster"):
            continue
        texts = tuple(text.text or "" for text in group.iter(f"{SVG}text"))
        shapes = [child for child in group if child.tag not in (f"{SVG}title", f"{SVG}text")]
        styles = tuple(sorted({tuple(shape.get(key, "") for key in STYLE) for shape in shapes}))
        shown[kind, group.findtext(f"{SVG}title"), texts, styles] += 1
    return shown


def svg_size_pt(svg: str) -> tuple[int, int]:
    match = re.search(r'<svg width="(\d+)pt" height="(\d+)pt"', svg)
    assert match, "no size in the SVG"
    return int(match.group(1)), int(match.group(2))


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE), "not a PNG"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    return width, height


def test_committed_architecture_pictures_are_current(each_stack: Evaluation) -> None:
    """`make docs` regenerates docs/architecture-<stack>.svg/.png; a change to the program that adds, drops or
    restyles a box or an arrow and forgets them fails here. Compared by what is drawn, not byte for byte, so the
    check holds on a machine whose graphviz or fonts place the boxes a few points apart (CI's Ubuntu)."""
    svg_path, png_path = outputs(each_stack.stack)
    stale = f"is stale: run `make diagram STACK={each_stack.stack}` (or `make docs`)"
    committed = svg_path.read_text()
    assert drawing(committed) == drawing(render_svg(to_dot(each_stack))), f"{svg_path.name} {stale}"
    # The PNG is written by the same run as the SVG, at twice its size.
    width, height = svg_size_pt(committed)
    assert png_size(png_path.read_bytes()) == (width * PNG_SCALE, height * PNG_SCALE), f"{png_path.name} {stale}"


def test_the_comparison_sees_a_changed_arrow(production: Evaluation) -> None:
    """The check above can fail: recolouring one arrow or relabelling one box changes what it compares."""
    svg = render_svg(to_dot(production))
    assert drawing(svg.replace('stroke="#2e8b3e"', 'stroke="#2e8b3f"', 1)) != drawing(svg)
    assert drawing(svg.replace(">RDS primary<", ">RDS main<", 1)) != drawing(svg)
    assert png_size(render_png(to_dot(production))) == tuple(PNG_SCALE * n for n in svg_size_pt(svg))


def test_architecture_picture_fits_the_readme(production: Evaluation) -> None:
    """Readable at README width: GitHub shows a README about 880 px wide and scales a wider picture down. At most
    900 pt (1200 px) wide, the 10 pt (13 px) labels still show at 9-10 px or more."""
    svg = render_svg(to_dot(production))
    width = float(re.search(r'<svg width="([0-9.]+)pt"', svg).group(1))  # type: ignore[union-attr]
    assert width <= 900, width
