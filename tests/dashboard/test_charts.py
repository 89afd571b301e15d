"""The dashboard's server-rendered SVG charts, read back as XML: MRR as a line over the movements as stacked bars
(each bar's size and stacking from its value), the invoice trend with the forecast band."""

import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

import pytest

from app import charts

SVG = "{http://www.w3.org/2000/svg}"
MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation", "fx")


def _month(month: str, mrr: str, **movements: str) -> dict[str, Any]:
    return {"month": month, "mrr": Decimal(mrr), "movements": {k: Decimal(movements.get(k, "0")) for k in MOVEMENTS}}


MONTHS = [
    _month("2026-01", "100.00", new="100.00"),
    _month("2026-02", "150.00", new="30.00", expansion="40.00", churn="-20.00"),
    _month("2026-03", "120.00", contraction="-10.00", churn="-20.00"),
]


def _svg(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - our own markup, not untrusted input


def test_mrr_chart_stacks_one_bar_per_movement_sized_by_its_value() -> None:
    svg = _svg(charts.mrr_chart(MONTHS, "USD"))
    bars = svg.findall(f"{SVG}rect")
    titles = [bar.findtext(f"{SVG}title") or "" for bar in bars]  # a bar without a title fails the list check
    assert titles == ["2026-01 new: 100.00", "2026-02 new: 30.00", "2026-02 expansion: 40.00",
                      "2026-02 churn: -20.00", "2026-03 contraction: -10.00", "2026-03 churn: -20.00"]  # fmt: skip
    box = {t: (float(b.attrib["y"]), float(b.attrib["height"])) for t, b in zip(titles, bars, strict=True)}
    pixels_per_unit = box["2026-01 new: 100.00"][1] / 100
    for title, (_, height) in box.items():
        assert abs(height - pixels_per_unit * abs(float(title.split(": ")[1]))) < 0.2, title
    zero = float(next(e for e in svg.findall(f"{SVG}line") if e.attrib.get("class") == "zero").attrib["y1"])
    new_y, new_h = box["2026-02 new: 30.00"]
    exp_y, exp_h = box["2026-02 expansion: 40.00"]
    assert abs(new_y + new_h - zero) < 0.2  # gains stand on the zero line ...
    assert abs(exp_y + exp_h - new_y) < 0.2  # ... stacked on each other
    con_y, con_h = box["2026-03 contraction: -10.00"]
    churn_y, _ = box["2026-03 churn: -20.00"]
    assert abs(con_y - zero) < 0.2  # losses hang below it, stacked too
    assert abs(churn_y - (con_y + con_h)) < 0.2


def test_mrr_line_has_a_point_per_month_higher_for_more_mrr() -> None:
    svg = _svg(charts.mrr_chart(MONTHS, "USD"))
    line = next(e for e in svg.findall(f"{SVG}polyline") if e.attrib["class"] == "line-mrr")
    points = [tuple(map(float, p.split(","))) for p in line.attrib["points"].split()]
    assert len(points) == 3
    assert points[0][0] < points[1][0] < points[2][0]
    assert points[1][1] < points[2][1] < points[0][1]  # SVG y grows downwards: 150 > 120 > 100
    assert svg.findtext(f"{SVG}title") == "MRR and movements by month"
    assert "MRR from 2026-01 (100.00) to 2026-03 (120.00)" in (svg.findtext(f"{SVG}desc") or "")


def _invoices(*values: str) -> list[dict[str, Any]]:
    return [{"month": f"2026-0{i + 1}", "invoiced": Decimal(v), "collected": Decimal(v)} for i, v in enumerate(values)]


def test_invoice_chart_draws_the_forecast_band_between_low_and_high() -> None:
    forecast = [{"month": "2026-04", "invoiced": Decimal(130), "low": Decimal(110), "high": Decimal(150)},
                {"month": "2026-05", "invoiced": Decimal(140), "low": Decimal(100), "high": Decimal(180)}]  # fmt: skip
    svg = _svg(charts.invoice_chart(_invoices("100", "120", "125"), forecast, "USD"))
    [band] = svg.findall(f"{SVG}polygon")
    corners = [tuple(map(float, p.split(","))) for p in band.attrib["points"].split()]
    assert len(corners) == 4  # high for each forecast month, then low back
    (x4h, y4h), (x5h, y5h), (x5l, y5l), (x4l, y4l) = corners
    assert x4h == x4l < x5h == x5l
    assert y4h < y4l
    assert y5h < y5l
    assert (y5l - y5h) / (y4l - y4h) == pytest.approx(2, rel=0.01)  # band width 80 vs 40: to scale
    lines = {e.attrib["class"]: e for e in svg.findall(f"{SVG}polyline")}
    assert set(lines) == {"line-invoiced", "line-collected", "line-forecast"}
    assert len(lines["line-forecast"].attrib["points"].split()) == 3  # from the last actual month on
    no_forecast = _svg(charts.invoice_chart(_invoices("100", "120"), [], "USD"))
    assert no_forecast.findall(f"{SVG}polygon") == []
