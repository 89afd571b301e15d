"""The last hour of `analytics.api_requests` per region: what the dashboard and the stream show live."""

from typing import Any, Final

WINDOW_S: Final = 3600
RECENT_S: Final = 60

_QUERY: Final = f"""
    SELECT region,
           count(*) AS requests,
           count(*) FILTER (WHERE ts > now() - INTERVAL '{RECENT_S} seconds') AS recent,
           count(*) FILTER (WHERE status >= 500) AS server_errors,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95_ms
    FROM analytics.api_requests
    WHERE ts > now() - INTERVAL '{WINDOW_S} seconds' AND ($1::text IS NULL OR region = $1)
    GROUP BY region ORDER BY region
"""


async def request_summary(conn: Any, region: str | None) -> list[dict[str, Any]]:
    """Per region: requests/s over the hour and over the last minute, p95 latency (ms), 5xx count."""
    rows = await conn.fetch(_QUERY, region)
    return [
        {
            "region": row["region"],
            "requests": row["requests"],
            "ratePerSecond": round(row["requests"] / WINDOW_S, 3),
            "recentRatePerSecond": round(row["recent"] / RECENT_S, 3),
            "p95Ms": round(row["p95_ms"], 1) if row["p95_ms"] is not None else None,
            "serverErrors": row["server_errors"],
        }
        for row in rows
    ]
