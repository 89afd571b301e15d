"""The arguments a per-region secret refuses, before any resource exists.

AWS facts (Secrets Manager API reference, DeleteSecret): `RecoveryWindowInDays` is "the number of days from 7 to 30
that Secrets Manager waits before permanently deleting the secret".
"""

from __future__ import annotations

from typing import Any

import pytest

from components.regional_secret import MIN_GENERATED_LENGTH, RegionalSecretArgs


def args(**overrides: Any) -> RegionalSecretArgs:
    base: dict[str, Any] = {"secret_name": "p/s", "description": "d", "aws_regions": ["eu-west-1"]}
    return RegionalSecretArgs(**{**base, **overrides})


@pytest.mark.parametrize("days", [7, 30])
def test_recovery_windows_secrets_manager_accepts(days: int) -> None:
    assert args(recovery_window_days=days).recovery_window_days == days


@pytest.mark.parametrize("days", [0, 6, 31])
def test_recovery_windows_outside_7_to_30_are_refused(days: int) -> None:
    with pytest.raises(ValueError, match=rf"recovery_window_days: got {days}; allowed: 7\.\.30"):
        args(recovery_window_days=days)


def test_a_generated_value_is_long_enough_and_a_given_one_is_taken_as_is() -> None:
    assert MIN_GENERATED_LENGTH == 32
    with pytest.raises(ValueError, match=r"length: got 31; allowed: at least 32"):
        args(length=31)
    assert args(length=8, value="given").value == "given"  # the length applies to generated values only


def test_at_least_one_region() -> None:
    with pytest.raises(ValueError, match="aws_regions: got none; allowed: at least one AWS region"):
        args(aws_regions=[])
