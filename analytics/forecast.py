"""Invoice-trend forecast: statsmodels Holt-Winters exponential smoothing with a damped additive trend.

- Seasonality (additive, 12 months) only with at least 24 months of history: fewer than two full years cannot
  tell a season from noise.
- The 80 % prediction interval is the 10th..90th percentile of 2,000 simulated future paths of the fitted model
  (statsmodels `simulate`, additive errors resampled from the model's own residual variance). Holt-Winters has no
  closed form for it; the simulation uses a fixed seed, so the same history always gives the same answer.
- Fallback for short histories (fewer than `MIN_MODEL_MONTHS` months, or a model statsmodels cannot fit): the
  naive forecast (the last month repeats) with a random-walk interval, last +/- z(0.9) * sigma * sqrt(h), where sigma is
  standard deviation of month-to-month changes; with fewer than 3 months sigma is unknown and the interval collapses
  to the point. No history at all gives no forecast.
- Invoiced amounts are never negative, so points and bounds are clipped at 0. Output is Decimal to the cent.
"""

import functools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

import numpy as np

MIN_MODEL_MONTHS: Final = 6
MIN_SEASONAL_MONTHS: Final = 24
SEASON: Final = 12
COVERAGE: Final = 0.80
SIMULATIONS: Final = 2000
SEED: Final = 20260101
_Z: Final = 1.2815515655446004  # standard normal 90th percentile: a central 80 % interval
_CENT: Final = Decimal("0.01")

Method = Literal["holt-winters-damped-seasonal", "holt-winters-damped", "naive", "none"]


@dataclass(frozen=True)
class ForecastPoint:
    step: int  # months after the last history month, from 1
    invoiced: Decimal
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class Forecast:
    method: Method
    points: tuple[ForecastPoint, ...]


def _money(value: float) -> Decimal:
    return Decimal(repr(max(value, 0.0))).quantize(_CENT)


def _points(mean: Sequence[float], low: Sequence[float], high: Sequence[float]) -> tuple[ForecastPoint, ...]:
    return tuple(
        ForecastPoint(step, _money(m), _money(min(lo, m)), _money(max(hi, m)))
        for step, (m, lo, hi) in enumerate(zip(mean, low, high, strict=True), start=1)
    )


def _naive(history: np.ndarray, horizon: int) -> Forecast:
    last = float(history[-1])
    sigma = float(np.std(np.diff(history), ddof=1)) if len(history) >= 3 else 0.0
    spread = [_Z * sigma * math.sqrt(h) for h in range(1, horizon + 1)]
    return Forecast("naive", _points([last] * horizon, [last - s for s in spread], [last + s for s in spread]))


def load_model() -> type:
    """statsmodels' Holt-Winters class. Its import takes about 1.4 s here, so it is not done at module import; the
    app runs this in a thread at start when analytics is configured (app/factory.py), so the first forecast a
    user asks for does not pay it. statsmodels ships no type information."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing  # type: ignore[import-untyped]

    return ExponentialSmoothing  # type: ignore[no-any-return]


def _holt_winters(history: np.ndarray, horizon: int) -> Forecast:
    ExponentialSmoothing = load_model()
    seasonal = len(history) >= MIN_SEASONAL_MONTHS
    model = ExponentialSmoothing(
        history,
        trend="add",
        damped_trend=True,
        seasonal="add" if seasonal else None,
        seasonal_periods=SEASON if seasonal else None,
        # Two full seasons allow the fast heuristic start; without seasons the few initial states are estimated.
        initialization_method="heuristic" if seasonal else "estimated",
    )
    with warnings.catch_warnings():  # convergence chatter; a bad fit is caught by the finiteness check below
        warnings.simplefilter("ignore")
        fit = model.fit()
        mean = np.asarray(fit.forecast(horizon), dtype=float)
        paths = np.asarray(
            fit.simulate(horizon, repetitions=SIMULATIONS, error="add", random_state=SEED), dtype=float
        ).reshape(horizon, SIMULATIONS)
    tail = (1 - COVERAGE) / 2
    low, high = np.quantile(paths, tail, axis=1), np.quantile(paths, 1 - tail, axis=1)
    if not (np.isfinite(mean).all() and np.isfinite(low).all() and np.isfinite(high).all()):
        raise ValueError("the fitted model produced non-finite values")
    method: Method = "holt-winters-damped-seasonal" if seasonal else "holt-winters-damped"
    return Forecast(method, _points(mean.tolist(), low.tolist(), high.tolist()))


@functools.lru_cache(maxsize=256)
def _cached(history: tuple[float, ...], horizon: int) -> Forecast:
    series = np.asarray(history, dtype=float)
    if horizon == 0 or len(series) == 0:
        return Forecast("none", ())
    if len(series) < MIN_MODEL_MONTHS or np.ptp(series) == 0:  # too short, or flat (nothing to fit)
        return _naive(series, horizon)
    try:
        return _holt_winters(series, horizon)
    except (ValueError, np.linalg.LinAlgError):
        return _naive(series, horizon)


def forecast(history: Sequence[Decimal], horizon: int) -> Forecast:
    """`horizon` months after the last of `history` (monthly totals, oldest first). CPU-bound: call it from a
    worker thread in async code. Results are cached per (history, horizon), since the history only changes when
    the pipeline lands new data."""
    if horizon < 0:
        raise ValueError("horizon must not be negative")
    return _cached(tuple(float(value) for value in history), horizon)
