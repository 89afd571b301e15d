"""What a saved report is: the body `POST /api/reports` accepts, validated so the runner can always act on it."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Final, Literal, get_args

from croniter import croniter
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from contracts.regions import Region

Section = Literal["mrr", "movements", "churn", "cohorts", "invoices"]
Format = Literal["csv", "xlsx", "pdf"]
SECTIONS: Final[tuple[Section, ...]] = get_args(Section)
# A schedule may fire at most hourly: after downtime every due time of the last 24 hours is sent, so this bounds
# the catch-up to 24 mails per report; finance reports are daily, weekly or monthly anyway.
MIN_INTERVAL: Final = timedelta(hours=1)
_INTERVAL_PROBES: Final = 60
# SES accepts at most 50 recipients per message (https://docs.aws.amazon.com/ses/latest/APIReference/API_SendRawEmail.html).
MAX_RECIPIENTS: Final = 50


def _utc_cron(value: str) -> str:
    """Five-field cron (minute hour day month weekday), in UTC; seconds fields and @reboot are refused."""
    expression = " ".join(value.split())
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise ValueError("must be a five-field cron expression in UTC, e.g. '0 7 * * 1' (Mondays 07:00)")
    times = croniter(expression, datetime(2026, 1, 1, tzinfo=UTC), ret_type=datetime)
    previous = times.get_next(datetime)
    for _ in range(_INTERVAL_PROBES):
        current = times.get_next(datetime)
        if current - previous < MIN_INTERVAL:
            raise ValueError("fires more often than hourly; a report schedule may fire at most once an hour")
        previous = current
    return expression


def _addresses(values: list[str]) -> list[str]:
    normalized: list[str] = []
    for value in values:
        try:
            address = validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"{value!r} is not an email address: {exc}") from None
        if address not in normalized:
            normalized.append(address)
    return normalized


def _distinct_sections(values: list[Section]) -> list[Section]:
    if len(set(values)) != len(values):
        raise ValueError("each section may appear once")
    return values


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class ReportIn(BaseModel):
    """Body of POST /api/reports (field names as in ANALYTICS.md)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_no_nul)]
    sections: Annotated[list[Section], Field(min_length=1), AfterValidator(_distinct_sections)]
    region: Region | None = None
    schedule: Annotated[str, AfterValidator(_utc_cron)]
    format: Format = "xlsx"
    recipients: Annotated[list[str], Field(min_length=1, max_length=MAX_RECIPIENTS), AfterValidator(_addresses)]


def due_times(schedule: str, after: datetime, until: datetime) -> list[datetime]:
    """Every time the schedule fires in (after, until], oldest first, as aware UTC datetimes."""
    times = croniter(schedule, after.astimezone(UTC), ret_type=datetime)
    due: list[datetime] = []
    while (moment := times.get_next(datetime)) <= until:
        due.append(moment)
    return due


def next_due(schedule: str, after: datetime) -> datetime:
    moment: datetime = croniter(schedule, after.astimezone(UTC), ret_type=datetime).get_next(datetime)
    return moment


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


DEFAULT_MONTHS: Final = 12


def default_period(moment: datetime) -> tuple[date, date]:
    """What a scheduled run covers: the twelve months ending with the month it is due in."""
    end = month_start(moment.astimezone(UTC).date())
    return add_months(end, 1 - DEFAULT_MONTHS), end
