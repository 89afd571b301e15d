"""Charts rendered on the server as inline SVG: no chart library, no script, nothing from another origin.

Colours come from classes styled by the dashboard's own stylesheet (the CSP allows no inline style). Every chart
has a <title>/<desc> and sits next to a table with the same numbers, which is what screen readers and tests read.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from markupsafe import Markup, escape

WIDTH: Final = 720
MARGIN_LEFT: Final = 64
MARGIN_RIGHT: Final = 12
MOVEMENTS_UP: Final = ("new", "expansion", "reactivation")
MOVEMENTS_DOWN: Final = ("contraction", "churn")

Number = Decimal | int | float


@dataclass(frozen=True)
class Scale:
    """Linear map from a value range onto [bottom, top] pixels (top < bottom: SVG y grows downwards)."""

    low: float
    high: float
    top: float
    bottom: float

    @classmethod
    def over(cls, values: Sequence[float], top: float, bottom: float, include_zero: bool = True) -> "Scale":
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        if include_zero:
            low, high = min(low, 0.0), max(high, 0.0)
        if high == low:
            high = low + 1.0
        return cls(low, high, top, bottom)

    def y(self, value: float) -> float:
        return self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top)


def _f(value: Number | None) -> float:
    return float(value) if value is not None else 0.0


def _x(index: int, count: int) -> tuple[float, float]:
    """(band start, band width) of the index-th month."""
    width = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(count, 1)
    return MARGIN_LEFT + index * width, width


def _axis(scale: Scale, label: str) -> str:
    ticks = []
    for value in (scale.low, (scale.low + scale.high) / 2, scale.high):
        y = scale.y(value)
        ticks.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{MARGIN_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{_compact(value)}</text>'
        )
    return "".join(ticks) + f'<text class="axis-label" x="4" y="{scale.top - 6:.1f}">{escape(label)}</text>'


def _compact(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:.0f}"


def _month_labels(months: Sequence[str], bottom: float) -> str:
    step = max(1, len(months) // 12)
    out = []
    for i, month in enumerate(months):
        if i % step == 0:
            x, width = _x(i, len(months))
            out.append(f'<text class="tick" x="{x + width / 2:.1f}" y="{bottom + 14:.1f}" text-anchor="middle">'
                       f"{escape(month)}</text>")  # fmt: skip
    return "".join(out)


def _svg(chart_id: str, title: str, desc: str, height: int, body: str) -> Markup:
    return Markup(  # noqa: S704 - every interpolated text is escaped above or here
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>{body}</svg>'
    )


def _polyline(points: Sequence[tuple[float, float]], css: str) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline class="{css}" fill="none" points="{coords}"/>'


def mrr_chart(months: Sequence[dict[str, Any]], currency: str) -> Markup:
    """MRR as a line (upper panel) over the month's movements as stacked bars around zero (lower panel)."""
    labels = [m["month"] for m in months]
    line = Scale.over([_f(m["mrr"]) for m in months], top=24, bottom=150)
    ups = [sum(_f(m["movements"][k]) for k in MOVEMENTS_UP) + max(0.0, _f(m["movements"]["fx"])) for m in months]
    downs = [sum(_f(m["movements"][k]) for k in MOVEMENTS_DOWN) + min(0.0, _f(m["movements"]["fx"])) for m in months]
    bars = Scale.over(ups + downs, top=190, bottom=300)
    body = [_axis(line, f"MRR ({currency})"), _axis(bars, f"Movements ({currency})")]
    points = []
    for i, month in enumerate(months):
        x, width = _x(i, len(months))
        points.append((x + width / 2, line.y(_f(month["mrr"]))))
        up = down = 0.0
        for kind in (*MOVEMENTS_UP, *MOVEMENTS_DOWN, "fx"):
            value = _f(month["movements"][kind])
            if value == 0:
                continue
            base = up if value > 0 else down
            y0, y1 = bars.y(base), bars.y(base + value)
            if value > 0:
                up += value
            else:
                down += value
            body.append(
                f'<rect class="mv mv-{kind}" x="{x + width * 0.15:.1f}" width="{width * 0.7:.1f}" '
                f'y="{min(y0, y1):.1f}" height="{abs(y1 - y0):.1f}"><title>{escape(month["month"])} {kind}: '
                f"{value:,.2f}</title></rect>"
            )
    body.append(f'<line class="zero" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{bars.y(0):.1f}" '
                f'y2="{bars.y(0):.1f}"/>')  # fmt: skip
    body.append(_polyline(points, "line-mrr"))
    body.append(_month_labels(labels, 300))
    desc = ""
    if months:
        first, last = months[0], months[-1]
        desc = f"MRR from {first['month']} ({_f(first['mrr']):,.2f}) to {last['month']} ({_f(last['mrr']):,.2f}); "
    desc += "bars: new, expansion and reactivation above zero, contraction and churn below. Table below."
    return _svg("chart-mrr", "MRR and movements by month", desc, 320, "".join(body))


def invoice_chart(months: Sequence[dict[str, Any]], forecast: Sequence[dict[str, Any]], currency: str) -> Markup:
    """Invoiced and collected per month, then the forecast with its 80% band."""
    labels = [m["month"] for m in months] + [f["month"] for f in forecast]
    values = [_f(m["invoiced"]) for m in months] + [_f(m["collected"]) for m in months]
    values += [_f(f["high"]) for f in forecast] + [_f(f["low"]) for f in forecast]
    scale = Scale.over(values, top=24, bottom=200)
    body = [_axis(scale, f"Invoiced ({currency})")]
    count = len(labels)

    def mid(i: int) -> float:
        x, width = _x(i, count)
        return x + width / 2

    if forecast:
        offset = len(months)
        upper = [(mid(offset + i), scale.y(_f(f["high"]))) for i, f in enumerate(forecast)]
        lower = [(mid(offset + i), scale.y(_f(f["low"]))) for i, f in enumerate(forecast)]
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower[::-1])
        body.append(f'<polygon class="band" points="{coords}"><title>80% forecast interval</title></polygon>')
        start = [(mid(offset - 1), scale.y(_f(months[-1]["invoiced"])))] if months else []
        body.append(_polyline(start + [(mid(offset + i), scale.y(_f(f["invoiced"]))) for i, f in enumerate(forecast)],
                              "line-forecast"))  # fmt: skip
    body.append(_polyline([(mid(i), scale.y(_f(m["invoiced"]))) for i, m in enumerate(months)], "line-invoiced"))
    body.append(_polyline([(mid(i), scale.y(_f(m["collected"]))) for i, m in enumerate(months)], "line-collected"))
    body.append(_month_labels(labels, 200))
    desc = "Invoiced (solid) and collected (thin) per month, forecast dashed with its 80% band. Table below."
    return _svg("chart-invoices", "Invoice trend and forecast", desc, 220, "".join(body))


def heat_class(value: Number | None) -> str:
    """A CSS class in ten steps for a retention share (0..1; above 1 is expansion, shown darkest)."""
    if value is None:
        return "heat-none"
    step = max(0, min(10, int(_f(value) * 10)))
    return f"heat-{step}"
