"""The pure parts of the benchmarks: how failover figures are read off the request record, wrk parsing, stats."""

import pytest

from bench.failover import Sample, nodes_between, settle_time, tail_length
from bench.overhead import rotations
from bench.stats import median, percentile, ratio
from bench.users import target_rate
from bench.wrk import WrkError, parse_output


def sample(sent: float, node: str, status: int = 200, latency: float = 0.01) -> Sample:
    return Sample(sent=sent, done=sent + latency, status=status, node=node)


def test_settle_time_starts_at_the_unbroken_run_that_ends_the_window() -> None:
    samples = [sample(0.9, "eu"), sample(1.0, "us"), sample(1.1, "eu"), sample(1.2, "us"), sample(1.3, "us")]
    assert settle_time(samples, since=1.0, until=2.0, node="us") == pytest.approx(0.21)


def test_settle_time_counts_a_failed_read_as_not_settled() -> None:
    samples = [sample(1.0, "us"), sample(1.1, "", status=503), sample(1.2, "us")]
    assert settle_time(samples, since=1.0, until=2.0, node="us") == pytest.approx(0.21)


def test_settle_time_ignores_reads_answered_after_the_window() -> None:
    late = Sample(sent=1.5, done=2.5, status=200, node="eu")  # sent while down, served after the restart
    samples = [sample(1.0, "us"), late, sample(1.6, "us")]
    assert settle_time(samples, since=1.0, until=2.0, node="us") == pytest.approx(0.01)


def test_settle_time_is_none_when_the_window_never_settles() -> None:
    samples = [sample(1.0, "us"), sample(1.1, "eu")]
    assert settle_time(samples, since=1.0, until=2.0, node="us") is None
    assert settle_time([], since=1.0, until=2.0, node="us") is None


def test_tail_length_and_nodes_between() -> None:
    samples = [sample(1.0, "us"), sample(1.1, "eu"), sample(1.2, "eu", status=0), sample(1.3, "eu"), sample(1.4, "eu")]
    assert tail_length(samples, since=1.0, node="eu") == 2
    assert nodes_between(samples, 1.0, 1.25) == {"eu": 1, "failed": 1, "us": 1}


def test_rotations_start_each_round_with_a_different_variant() -> None:
    assert rotations(("a", "b", "c"), 4) == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a", "b", "c"]]


def test_stats() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 99) == 99.0
    assert percentile([5.0], 50) == 5.0
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(1.0, 0.0) is None
    assert target_rate(10_000, 5000) == 2000.0


def test_parse_wrk_summary() -> None:
    line = (
        'BENCH_JSON {"requests": 600, "duration_us": 3000000, "errors": {"connect": 1, "read": 0, "write": 0, '
        '"status": 2, "timeout": 0}, '
        '"latency_us": {"p50": 1500, "p95": 4000, "p99": 9000, "max": 12000, "mean": 2000.0}}'
    )
    result = parse_output(f"Running 3s test\n{line}\n")
    assert (result.requests, result.errors, result.rate) == (600, 3, 200.0)
    assert (result.p50_ms, result.p95_ms, result.p99_ms, result.max_ms) == (1.5, 4.0, 9.0, 12.0)


def test_parse_wrk_without_summary_names_the_problem() -> None:
    with pytest.raises(WrkError, match="BENCH_JSON"):
        parse_output("unable to connect to 127.0.0.1:1 Connection refused\n")
