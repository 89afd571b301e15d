"""The dashboard's query string (region, from, to, cohort metric), validated into one value object.

Months are "YYYY-MM" as in the API (`from`/`to` of /api/analytics/*); both default to the last twelve months up
to the current one. Errors name the parameter, as the API's 422s do.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final, Literal, cast
from urllib.parse import urlencode

from app.countries import REGIONS, Region

COHORT_METRICS: Final = ("customers", "mrr")
DEFAULT_MONTHS: Final = 12
MAX_MONTHS: Final = 120
CohortMetric = Literal["customers", "mrr"]


class QueryError(ValueError):
    """A bad query parameter; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def parse_month(field: str, value: str) -> date:
    try:
        parsed = datetime.strptime(value, "%Y-%m")
    except ValueError:
        raise QueryError(field, f"must be a month as YYYY-MM (got {value[:20]!r})") from None
    return parsed.date().replace(day=1)


@dataclass(frozen=True)
class DashboardQuery:
    start: date
    end: date
    region: Region | None = None
    cohort: CohortMetric = "customers"

    @classmethod
    def parse(cls, params: dict[str, str], today: date | None = None) -> "DashboardQuery":
        current = (today or datetime.now(UTC).date()).replace(day=1)
        end = parse_month("to", params["to"]) if params.get("to") else current
        start = parse_month("from", params["from"]) if params.get("from") else add_months(end, 1 - DEFAULT_MONTHS)
        if start > end:
            raise QueryError("from", "must not be after to")
        if months_between(start, end) > MAX_MONTHS:
            raise QueryError("from", f"the range may span at most {MAX_MONTHS} months")
        wanted = params.get("region") or None
        region = next((r for r in REGIONS if r == wanted), None)
        if wanted is not None and region is None:
            raise QueryError("region", f"must be one of {', '.join(REGIONS)} or empty for all")
        cohort = params.get("cohort") or "customers"
        if cohort not in COHORT_METRICS:
            raise QueryError("cohort", f"must be one of {', '.join(COHORT_METRICS)}")
        return cls(start, end, region, cast(CohortMetric, cohort))

    def params(self) -> dict[str, str]:
        """As the API's query parameters (what the page's tables correspond to)."""
        out = {"from": f"{self.start:%Y-%m}", "to": f"{self.end:%Y-%m}", "cohort": self.cohort}
        if self.region:
            out["region"] = self.region
        return out

    def query_string(self) -> str:
        return urlencode(self.params())
