"""Bodies of the billing endpoints (ANALYTICS.md "Billing data in"): money as Decimal, never float.

Every bad value is rejected here with the field named, so nothing reaches the database that its checks would
refuse: amounts fit their numeric columns, discounts never exceed their line (so no total is negative), service
periods are non-empty, datetimes carry a time zone, currencies are ISO 4217 (pycountry). A line's kind picks its
model, so a subscription line missing its plan names `lines.0.subscription.plan`.
"""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Final, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel

from app.currencies import currency_code

CENT: Final = Decimal("0.01")
MAX_MONEY: Final = Decimal("1e12")  # numeric(14, 2): below 10^12
MAX_ID: Final = 2**63 - 1


def _no_nul(value: str) -> str:
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), AfterValidator(_no_nul)]
LongText = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_no_nul)]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=4)]
Currency = Annotated[str, AfterValidator(currency_code)]


def cents(value: Decimal) -> Decimal:
    """Rounded to cents half-up, as the database's round() does for the non-negative totals stored."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)


class _Line(_Body):
    quantity: Quantity = Decimal(1)
    amount: Money
    discount: Money = Decimal(0)
    description: LongText | None = None

    @field_validator("discount")
    @classmethod
    def _discount_within_line(cls, discount: Decimal, info: ValidationInfo) -> Decimal:
        amount, quantity = info.data.get("amount"), info.data.get("quantity")
        if amount is not None and quantity is not None and discount > amount * quantity:
            raise ValueError(f"must not exceed amount * quantity ({amount * quantity}): a line total is never negative")
        return discount

    @property
    def exact_total(self) -> Decimal:
        """amount * quantity - discount, unrounded: an invoice rounds the sum of its lines once."""
        return self.amount * self.quantity - self.discount


def _period_end_after_start(end: datetime | None, info: ValidationInfo) -> datetime | None:
    start = info.data.get("service_period_start")
    if end is not None and start is not None and end <= start:
        raise ValueError("must be after servicePeriodStart (a service period is never empty or reversed)")
    return end


class SubscriptionLine(_Line):
    """A recurring charge; its service period is what makes it count toward MRR."""

    kind: Literal["subscription"]
    subscription_id: Text
    plan: Text
    interval: Literal["month", "year"]
    interval_count: Annotated[int, Field(ge=1, le=1000)] = 1
    service_period_start: AwareDatetime
    service_period_end: AwareDatetime

    _end_after_start = field_validator("service_period_end")(_period_end_after_start)


class OneTimeLine(_Line):
    """A one-off charge (setup fee, overage): counted in invoiced/collected, never in MRR."""

    kind: Literal["one_time"]
    service_period_start: AwareDatetime | None = None
    service_period_end: AwareDatetime | None = None

    _end_after_start = field_validator("service_period_end")(_period_end_after_start)


Line = Annotated[SubscriptionLine | OneTimeLine, Field(discriminator="kind")]


class InvoiceIn(_Body):
    """Body of POST /api/invoices; `externalId` makes the call idempotent."""

    company_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    currency: Currency
    issued_at: AwareDatetime | None = None
    external_id: Text | None = None
    lines: Annotated[list[Line], Field(min_length=1, max_length=1000)]

    @field_validator("lines")
    @classmethod
    def _total_fits(cls, lines: list[SubscriptionLine | OneTimeLine]) -> list[SubscriptionLine | OneTimeLine]:
        if invoice_total(lines) >= MAX_MONEY:
            raise ValueError(f"the invoice total must be below {MAX_MONEY:,.0f}")
        return lines

    @property
    def total(self) -> Decimal:
        return invoice_total(self.lines)


def invoice_total(lines: Sequence[SubscriptionLine | OneTimeLine]) -> Decimal:
    """The sum of the lines' exact totals, rounded once to cents: what the database's total check computes
    (migration 0004, round(sum(amount * quantity - discount), 2)) and what analytics/reference.py uses."""
    return cents(sum((line.exact_total for line in lines), Decimal(0)))


class PaymentIn(_Body):
    """Body of POST /api/invoices/{id}/pay; `paidAt` defaults to now."""

    paid_at: AwareDatetime | None = None


class FxRateIn(_Body):
    """One exchange rate: units of the base currency per unit of `currency` on `date`."""

    date: date
    currency: Currency
    rate: Annotated[Decimal, Field(gt=0, max_digits=20, decimal_places=10)]


FxRates = Annotated[list[FxRateIn], Field(min_length=1, max_length=10_000)]
