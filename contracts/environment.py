"""Environment variable names: what the stacks set on each ECS container and the app and analytics jobs read.

DESIGN.md fixes the app's names, INTERFACES.md section 6 the analytics ones. The stacks build every container's
environment and secrets from these constants; `app/settings.py` knows exactly `APP_VARIABLES`, the pipeline and
the reports runner read theirs from here, and `unknown_variables` lets each refuse a typo'd `DATABASE_*`,
`ANALYTICS_*`, `STREAM_*`, `SMTP_*` or `MAIL_*` name instead of silently falling back to a default.
"""

import difflib
from collections.abc import Mapping
from typing import Final

from contracts.regions import REGIONS, Region

# The main database, as the app sees it.
DATABASE_URL: Final = "DATABASE_URL"  # the primary (writes, last-resort reads)
DATABASE_PRIMARY_REGION: Final = "DATABASE_PRIMARY_REGION"
DATABASE_READ_REPLICA: Final[Mapping[Region, str]] = {r: f"DATABASE_READ_REPLICA_{r.upper()}" for r in REGIONS}
DATABASE_POOL_MIN: Final = "DATABASE_POOL_MIN"
DATABASE_POOL_MAX: Final = "DATABASE_POOL_MAX"
DATABASE_ACQUIRE_TIMEOUT: Final = "DATABASE_ACQUIRE_TIMEOUT"
DATABASE_IDLE_TIMEOUT: Final = "DATABASE_IDLE_TIMEOUT"
DATABASE_MAX_REPLICA_LAG_MS: Final = "DATABASE_MAX_REPLICA_LAG_MS"
DATABASE_READ_TIMEOUT_MS: Final = "DATABASE_READ_TIMEOUT_MS"
DATABASE_WRITE_TIMEOUT_MS: Final = "DATABASE_WRITE_TIMEOUT_MS"
DATABASE_SECRET_ARN: Final = "DATABASE_SECRET_ARN"  # rotating shared login (excludes DATABASE_IAM_AUTH)
DATABASE_IAM_AUTH: Final = "DATABASE_IAM_AUTH"  # "true": RDS IAM tokens for the URLs' user

# The app's edge, analytics, dashboard and stream settings.
ORIGIN_VERIFY_SECRET: Final = "ORIGIN_VERIFY_SECRET"  # the value CloudFront sends as X-Origin-Verify
CORS_ALLOW_ORIGINS: Final = "CORS_ALLOW_ORIGINS"
HEALTH_PROBE_INTERVAL_MS: Final = "HEALTH_PROBE_INTERVAL_MS"
ANALYTICS_DATABASE_URL: Final = "ANALYTICS_DATABASE_URL"  # app: read-only standby; pipeline, reports: the primary
ANALYTICS_WRITE_DATABASE_URL: Final = "ANALYTICS_WRITE_DATABASE_URL"  # app: its writer login on the primary
ANALYTICS_API_TOKENS: Final = "ANALYTICS_API_TOKENS"
ANALYTICS_BASE_CURRENCY: Final = "ANALYTICS_BASE_CURRENCY"
REQUEST_MAX_BODY_BYTES: Final = "REQUEST_MAX_BODY_BYTES"  # the WAF's body limit too
SESSION_SECRET: Final = "SESSION_SECRET"
STREAM_MAX_CLIENTS: Final = "STREAM_MAX_CLIENTS"
STREAM_HEARTBEAT_MS: Final = "STREAM_HEARTBEAT_MS"
STREAM_POLL_INTERVAL_MS: Final = "STREAM_POLL_INTERVAL_MS"
REQUEST_METRICS_BUFFER: Final = "REQUEST_METRICS_BUFFER"

# The analytics pipeline (`python -m analytics.pipeline`).
ANALYTICS_SOURCE_URL: Final = "ANALYTICS_SOURCE_URL"  # a main-database replica, as the pipeline's role
ANALYTICS_SOURCE_IAM_AUTH: Final = "ANALYTICS_SOURCE_IAM_AUTH"  # "true": log in to the source with an IAM token
ANALYTICS_BATCH_SIZE: Final = "ANALYTICS_BATCH_SIZE"
ANALYTICS_OVERLAP_SECONDS: Final = "ANALYTICS_OVERLAP_SECONDS"

# Mail (analytics/mailer.py: SMTP when SMTP_URL is set, else SES in AWS_REGION).
SMTP_URL: Final = "SMTP_URL"
MAIL_FROM: Final = "MAIL_FROM"

# Names defined by others, read here: the AWS SDKs' region and libpq's login (asyncpg reads PGUSER/PGPASSWORD
# when a URL carries no user or password; only the migrate container gets them, from the RDS master secret).
AWS_REGION: Final = "AWS_REGION"
AWS_DEFAULT_REGION: Final = "AWS_DEFAULT_REGION"
PGUSER: Final = "PGUSER"
PGPASSWORD: Final = "PGPASSWORD"

# What each process reads.
APP_VARIABLES: Final = frozenset(
    {
        DATABASE_URL,
        DATABASE_PRIMARY_REGION,
        *DATABASE_READ_REPLICA.values(),
        DATABASE_POOL_MIN,
        DATABASE_POOL_MAX,
        DATABASE_ACQUIRE_TIMEOUT,
        DATABASE_IDLE_TIMEOUT,
        DATABASE_MAX_REPLICA_LAG_MS,
        DATABASE_READ_TIMEOUT_MS,
        DATABASE_WRITE_TIMEOUT_MS,
        DATABASE_SECRET_ARN,
        DATABASE_IAM_AUTH,
        ORIGIN_VERIFY_SECRET,
        CORS_ALLOW_ORIGINS,
        HEALTH_PROBE_INTERVAL_MS,
        ANALYTICS_DATABASE_URL,
        ANALYTICS_WRITE_DATABASE_URL,
        ANALYTICS_API_TOKENS,
        ANALYTICS_BASE_CURRENCY,
        REQUEST_MAX_BODY_BYTES,
        SESSION_SECRET,
        STREAM_MAX_CLIENTS,
        STREAM_HEARTBEAT_MS,
        STREAM_POLL_INTERVAL_MS,
        REQUEST_METRICS_BUFFER,
    }
)
"""Every name app/settings.py reads (a test keeps its fields equal to this set)."""
AWS_SDK_VARIABLES: Final = frozenset({AWS_REGION, AWS_DEFAULT_REGION})
MAIL_VARIABLES: Final = frozenset({SMTP_URL, MAIL_FROM, AWS_REGION})
MIGRATE_VARIABLES: Final = APP_VARIABLES | {PGUSER, PGPASSWORD}
"""`python -m app.migrate`: the app's settings plus the master login ECS injects into that container only."""
PIPELINE_VARIABLES: Final = frozenset(
    {
        ANALYTICS_SOURCE_URL,
        ANALYTICS_SOURCE_IAM_AUTH,
        ANALYTICS_DATABASE_URL,
        ANALYTICS_BATCH_SIZE,
        ANALYTICS_OVERLAP_SECONDS,
        ANALYTICS_BASE_CURRENCY,
        *MAIL_VARIABLES,  # alerts are mailed after every run
    }
)
REPORTS_VARIABLES: Final = frozenset({ANALYTICS_DATABASE_URL, *MAIL_VARIABLES})

# Names under these prefixes belong to this contract: any other one is a typo, refused at start. Not checked:
# prefixes other software shares (SESSION_MANAGER is set by desktop sessions, REQUEST_/HEALTH_ are too generic).
CHECKED_PREFIXES: Final = ("DATABASE_", "ANALYTICS_", "STREAM_", "SMTP_", "MAIL_")
KNOWN_CHECKED: Final = frozenset(
    name for name in APP_VARIABLES | PIPELINE_VARIABLES | REPORTS_VARIABLES if name.startswith(CHECKED_PREFIXES)
)
"""The app's and the jobs' names together: `make run` and the tests share one environment between the app and the
pipeline, so the app must accept the pipeline's names (and the other way round); a typo is in neither."""


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """Names in `environ` under a checked prefix that no process of this contract reads, sorted. Compared
    upper-cased, as pydantic-settings reads names case-insensitively."""
    return sorted(
        name for name in environ if name.upper().startswith(CHECKED_PREFIXES) and name.upper() not in KNOWN_CHECKED
    )


def unknown_variables_error(environ: Mapping[str, str]) -> str | None:
    """One line per unknown name (with the closest known one) plus the known names, or None when all are known:
    what the app, the pipeline and the reports runner print before refusing to start."""
    unknown = unknown_variables(environ)
    if not unknown:
        return None
    lines = []
    for name in unknown:
        close = difflib.get_close_matches(name.upper(), sorted(KNOWN_CHECKED), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        lines.append(f"{name}: unknown variable{hint}")
    prefixes = "/".join(f"{prefix}*" for prefix in CHECKED_PREFIXES)
    lines.append(f"known {prefixes} variables: {', '.join(sorted(KNOWN_CHECKED))}")
    return "; ".join(lines)
