"""ISO 4217 currency codes from pycountry's maintained list (not a hand-typed set)."""

import functools

import pycountry

# ISO 4217 reserves these for "no currency" and testing: no invoice is billed in them.
_NOT_MONEY = frozenset({"XXX", "XTS"})


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies) - _NOT_MONEY


def is_currency(code: str) -> bool:
    """True for an active ISO 4217 alphabetic code, upper case (e.g. EUR)."""
    return code in _known()


def currency_code(value: str) -> str:
    """Validator: an ISO 4217 code in any case, returned upper case; ValueError otherwise."""
    code = value.strip().upper()
    if not is_currency(code):
        raise ValueError("must be an ISO 4217 currency code, e.g. EUR")
    return code
