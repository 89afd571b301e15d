"""Alert thresholds on the current month's figures, evaluated after every pipeline run.

An alert fires once when its condition starts to hold (the value crosses the threshold) and again only after the
condition stopped holding in between (the value crossed back): `alerts.armed` carries that state between runs.
Each firing is stored first, in the same transaction as the state change, and mailed afterwards; the mail outcome
is written back on the firing, so a failed send is recorded, never lost. The stream reads the firings table.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final, Literal, get_args

from analytics import figures
from analytics.mailer import Mailer, MailError, mailer_from_env

log = logging.getLogger("analytics.alerts")

Metric = Literal[
    "mrr", "arr", "customers", "arpa", "customerChurnRate", "grossMrrChurnRate", "netMrrChurnRate", "nrr", "grr", "ltv"
]
Op = Literal["above", "below"]
METRICS: Final[tuple[str, ...]] = get_args(Metric)
OPS: Final[tuple[str, ...]] = get_args(Op)

# The current month's `mrr` entry for a region (None: all regions), as analytics.figures computes it.
EntryFor = Callable[[Any, date, str | None], Awaitable[dict[str, Any]]]
MailerFactory = Callable[[], Mailer]


@dataclass(frozen=True)
class Firing:
    """One stored firing, as the API, the stream and the mail show it."""

    id: int
    alert_id: int | None
    metric: str
    op: str
    threshold: Decimal
    region: str | None
    month: date
    value: Decimal
    fired_at: datetime
    notify: tuple[str, ...]

    @classmethod
    def from_row(cls, row: Any) -> "Firing":
        return cls(
            id=row["id"],
            alert_id=row["alert_id"],
            metric=row["metric"],
            op=row["op"],
            threshold=row["threshold"],
            region=row["region"],
            month=row["month"],
            value=row["value"],
            fired_at=row["fired_at"],
            notify=tuple(row["notify"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "alertId": self.alert_id,
            "metric": self.metric,
            "op": self.op,
            "threshold": self.threshold,
            "region": self.region,
            "month": self.month.strftime("%Y-%m"),
            "value": self.value,
            "firedAt": self.fired_at.astimezone(UTC).isoformat(),
        }

    def subject(self) -> str:
        scope = self.region or "all regions"
        return f"Alert: {self.metric} ({scope}) is {self.op} {self.threshold}"

    def text(self) -> str:
        scope = self.region or "all regions"
        return (
            f"{self.metric} for {scope} in {self.month:%Y-%m} is {self.value}, {self.op} the threshold "
            f"{self.threshold} (alert #{self.alert_id}, fired {self.fired_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC).\n"
            "It fires again only after the value has crossed back.\n"
        )


def holds(op: str, value: Decimal, threshold: Decimal) -> bool:
    """Whether the alert's condition is true for this value."""
    return value > threshold if op == "above" else value < threshold


def step(armed: bool, condition: bool) -> tuple[bool, bool]:
    """(fire now, armed afterwards): fire on the run the condition starts to hold, re-arm once it stops."""
    if condition:
        return armed, False
    return False, True


def month_start(now: datetime) -> date:
    return now.astimezone(UTC).date().replace(day=1)


async def figures_entry(conn: Any, month: date, region: str | None) -> dict[str, Any]:
    """The month's entry of the `mrr` figures: the same function the API and the dashboard call."""
    report = await figures.mrr_report(conn, start=month, end=month, region=region)
    entry: dict[str, Any] = report["months"][0]
    return entry


async def evaluate_alerts(
    conn: Any,
    *,
    now: datetime | None = None,
    entry_for: EntryFor = figures_entry,
    mailer: MailerFactory = mailer_from_env,
) -> list[Firing]:
    """Evaluate every alert against the current month's value; store, then mail, what fired."""
    month = month_start(now or datetime.now(UTC))
    entries: dict[str | None, dict[str, Any]] = {}
    fired: list[Firing] = []
    async with conn.transaction():
        alerts = await conn.fetch("SELECT * FROM analytics.alerts ORDER BY id FOR UPDATE")
        for alert in alerts:
            region = alert["region"]
            if region not in entries:
                entries[region] = await entry_for(conn, month, region)
            value = entries[region].get(alert["metric"])
            if value is None:  # e.g. a rate whose denominator is 0: no crossing either way
                await conn.execute(
                    "UPDATE analytics.alerts SET last_value = NULL, last_evaluated_at = now() WHERE id = $1",
                    alert["id"],
                )
                continue
            fire, armed = step(alert["armed"], holds(alert["op"], Decimal(value), alert["threshold"]))
            await conn.execute(
                "UPDATE analytics.alerts SET armed = $2, last_value = $3, last_evaluated_at = now() WHERE id = $1",
                alert["id"],
                armed,
                Decimal(value),
            )
            if fire:
                row = await conn.fetchrow(
                    """
                    INSERT INTO analytics.alert_firings (alert_id, metric, op, threshold, region, month, value, notify)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *
                    """,
                    alert["id"],
                    alert["metric"],
                    alert["op"],
                    alert["threshold"],
                    region,
                    month,
                    Decimal(value),
                    alert["notify"],
                )
                fired.append(Firing.from_row(row))
    for firing in fired:
        log.info("alert #%s fired: %s", firing.alert_id, firing.text().splitlines()[0])
    await _mail(conn, [f for f in fired if f.notify], mailer)
    return fired


async def evaluate_after_run(conn: Any) -> list[Firing]:
    """The pipeline's hook: evaluate, and report (log) a failure without undoing the run's committed batches."""
    try:
        return await evaluate_alerts(conn)
    except Exception:
        log.exception("alert evaluation failed; the next pipeline run evaluates again")
        return []


async def _mail(conn: Any, firings: Sequence[Firing], mailer: MailerFactory) -> None:
    """Send each firing to its addresses; record the outcome on the firing either way."""
    if not firings:
        return
    try:
        sender = mailer()
    except (MailError, KeyError, ValueError) as exc:
        await _record_mail(conn, firings, f"no mailer: {exc}")
        return
    for firing in firings:
        try:
            await asyncio.to_thread(sender.send, to=firing.notify, subject=firing.subject(), text=firing.text())
        except MailError as exc:
            await _record_mail(conn, [firing], str(exc))
        else:
            await _record_mail(conn, [firing], None)


async def _record_mail(conn: Any, firings: Sequence[Firing], error: str | None) -> None:
    if error is not None:
        log.error("alert mail not sent for firings %s: %s", [f.id for f in firings], error)
    await conn.execute(
        """
        UPDATE analytics.alert_firings
        SET mailed_at = CASE WHEN $2::text IS NULL THEN now() END, mail_error = $2
        WHERE id = ANY($1::bigint[])
        """,
        [f.id for f in firings],
        error,
    )
