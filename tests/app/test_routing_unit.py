"""Pure pieces of routing: the distance table, fallback order, LSN tokens and lag arithmetic."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.countries import REGIONS, Region
from app.health import HealthMonitor
from app.lsn import format_lsn, parse_lsn
from app.routing import DISTANCE_MS, replica_order


def test_distance_table_is_complete_symmetric_and_zero_at_home() -> None:
    for a in REGIONS:
        assert set(DISTANCE_MS[a]) == set(REGIONS)
        assert DISTANCE_MS[a][a] == 0
        for b in REGIONS:
            assert DISTANCE_MS[a][b] == DISTANCE_MS[b][a]


@pytest.mark.parametrize(
    ("home", "order"), [("eu", ["eu", "us", "asia"]), ("us", ["us", "eu", "asia"]), ("asia", ["asia", "eu", "us"])]
)
def test_fallback_order_follows_distance(home: Region, order: list[Region]) -> None:
    assert replica_order(home) == order


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_lsn_round_trip(value: int) -> None:
    assert parse_lsn(format_lsn(value)) == value


@pytest.mark.parametrize("text", ["", "0", "0/", "/1", "G/1", "1/2/3", "123456789/0", "0/0 junk", "0x1/2"])
def test_malformed_lsn_is_rejected(text: str) -> None:
    assert parse_lsn(text) is None


def test_replica_is_fresh_as_of_the_last_primary_sample_it_has_replayed() -> None:
    monitor = HealthMonitor({}, interval_s=0.5, max_lag_ms=1000)
    monitor._primary_wal.extend([(10.0, 100), (10.5, 200), (11.0, 300)])
    assert monitor._wal_fresh_as_of(300) == 11.0  # had all the primary had at the latest sample
    assert monitor._wal_fresh_as_of(250) == 10.5  # missing what appeared after t=10.5, so at most that stale
    assert monitor._wal_fresh_as_of(100) == 10.0
    assert monitor._wal_fresh_as_of(99) is None  # behind everything sampled: unknown from WAL alone
