"""Environment settings, validated once at start so a bad value stops the app with the variable named.

| variable | unit / default | meaning |
|---|---|---|
| DATABASE_URL | postgres:// URL, required | the primary (writes, last-resort reads) |
| DATABASE_PRIMARY_REGION | eu/us/asia, eu | region used for requests without a usable geo header |
| DATABASE_READ_REPLICA_EU/US/ASIA | URL, optional | zero to three read replicas |
| DATABASE_POOL_MIN / DATABASE_POOL_MAX | connections, 1 / 10 | per-node asyncpg pool size |
| DATABASE_ACQUIRE_TIMEOUT | ms, 2000 | longest wait for a connection; a down primary answers 503 within it |
| DATABASE_IDLE_TIMEOUT | ms, 300000 | idle pooled connections are closed after this |
| DATABASE_MAX_REPLICA_LAG_MS | ms, 5000 | replicas lagging this much or more are skipped |
| DATABASE_READ_TIMEOUT_MS / _WRITE_TIMEOUT_MS | ms, 3000 / 5000 | longest a read / write takes, acquire included |
| DATABASE_SECRET_ARN | Secrets Manager ARN, optional | secret with username/password; app/credentials.py reads it |
| DATABASE_IAM_AUTH | true/false, false | log in with RDS IAM tokens for the URLs' user (TLS required) |
| ORIGIN_VERIFY_SECRET | string, optional | geo headers count only when X-Origin-Verify equals it |
| CORS_ALLOW_ORIGINS | comma-separated origins, empty | browser origins allowed by CORS (empty: CORS off) |
| HEALTH_PROBE_INTERVAL_MS | ms, 500 | how often every node is probed for health and lag |
| ANALYTICS_DATABASE_URL | URL, optional | analytics database read by /api/analytics/* (unset: 503) |
| ANALYTICS_WRITE_DATABASE_URL | URL, optional | writable analytics primary: reports, alerts, request metrics |
| ANALYTICS_API_TOKENS | comma-separated, optional | bearer tokens, >= 16 characters each (unset: all 401) |
| ANALYTICS_BASE_CURRENCY | ISO 4217 code, USD | currency of the base-currency figures and of fx rates |
| REQUEST_MAX_BODY_BYTES | bytes, 65536 | larger request bodies get 413 before they are read (the WAF's limit too) |
| SESSION_SECRET | string >= 32 characters, optional | signs dashboard session cookies (unset: random per process) |
| STREAM_MAX_CLIENTS | streams, 200 | live streams one process serves; beyond it /api/analytics/stream answers 503 |
| STREAM_HEARTBEAT_MS | ms, 15000 (at most) | comment line interval on the stream |
| STREAM_POLL_INTERVAL_MS | ms, 1000 | how often the process checks the pipeline watermark and alert firings |
| REQUEST_METRICS_BUFFER | samples, 20000 | request samples held for flushing; beyond it they are dropped and counted |
"""

import os
from typing import Annotated, Any, Self
from urllib.parse import parse_qs, urlsplit

from pydantic import AfterValidator, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.countries import Region
from app.currencies import currency_code
from contracts import environment as env


class ConfigError(Exception):
    """A bad environment value; the message names the variable and is meant for the operator."""


def _postgres_url(value: str) -> str:
    """Accept only URLs asyncpg understands as PostgreSQL, with a host."""
    parts = urlsplit(value)
    if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
        raise ValueError("must be a postgres:// or postgresql:// URL with a host")
    return value


PostgresUrl = Annotated[str, AfterValidator(_postgres_url)]
Millis = Annotated[int, Field(gt=0)]
MIN_TOKEN_CHARS = 16
MIN_SESSION_SECRET_CHARS = 32
_TLS_MODES = ("require", "verify-ca", "verify-full")


def split_tokens(value: str) -> tuple[str, ...]:
    """ANALYTICS_API_TOKENS as a tuple: comma-separated, surrounding blanks and empty items dropped."""
    return tuple(token.strip() for token in value.split(",") if token.strip())


def _tokens(value: SecretStr | None) -> SecretStr | None:
    """Refuse guessable tokens; the message never repeats a token (it would end up in logs)."""
    if value is not None and any(len(t) < MIN_TOKEN_CHARS for t in split_tokens(value.get_secret_value())):
        raise ValueError(f"every token must have at least {MIN_TOKEN_CHARS} characters")
    return value


def _session_secret(value: SecretStr | None) -> SecretStr | None:
    if value is not None and len(value.get_secret_value()) < MIN_SESSION_SECRET_CHARS:
        raise ValueError(f"must have at least {MIN_SESSION_SECRET_CHARS} characters")
    return value


class Settings(BaseSettings):
    """Every environment name of the app's contract (DESIGN.md); see the module docstring for units."""

    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore", frozen=True)

    database_url: PostgresUrl
    database_primary_region: Region = "eu"
    database_read_replica_eu: PostgresUrl | None = None
    database_read_replica_us: PostgresUrl | None = None
    database_read_replica_asia: PostgresUrl | None = None
    database_pool_min: Annotated[int, Field(ge=0)] = 1
    database_pool_max: Annotated[int, Field(ge=1)] = 10
    database_acquire_timeout: Millis = 2000
    database_idle_timeout: Millis = 300_000
    database_max_replica_lag_ms: Millis = 5000
    database_read_timeout_ms: Millis = 3000
    database_write_timeout_ms: Millis = 5000
    database_secret_arn: str | None = None
    database_iam_auth: bool = False
    origin_verify_secret: SecretStr | None = None
    cors_allow_origins: str = ""
    health_probe_interval_ms: Millis = 500
    analytics_database_url: PostgresUrl | None = None
    analytics_write_database_url: PostgresUrl | None = None
    analytics_api_tokens: Annotated[SecretStr | None, AfterValidator(_tokens)] = None
    analytics_base_currency: Annotated[str, AfterValidator(currency_code)] = "USD"
    request_max_body_bytes: Annotated[int, Field(ge=1)] = 65536
    session_secret: Annotated[SecretStr | None, AfterValidator(_session_secret)] = None
    stream_max_clients: Annotated[int, Field(ge=1, le=100_000)] = 200
    stream_heartbeat_ms: Annotated[int, Field(ge=100, le=15_000)] = 15_000
    stream_poll_interval_ms: Annotated[int, Field(ge=50, le=60_000)] = 1000
    request_metrics_buffer: Annotated[int, Field(ge=100, le=10_000_000)] = 20_000

    @model_validator(mode="after")
    def _pool_bounds(self) -> Self:
        if self.database_pool_min > self.database_pool_max:
            raise ValueError(
                f"{env.DATABASE_POOL_MIN} ({self.database_pool_min}) must not exceed "
                f"{env.DATABASE_POOL_MAX} ({self.database_pool_max})"
            )
        return self

    @model_validator(mode="after")
    def _iam_auth(self) -> Self:
        """IAM tokens are signed for a user and sent as a password; RDS IAM database authentication requires an SSL
        connection (AWS re:Post knowledge center, "How do I connect to my Amazon RDS for PostgreSQL ... using IAM
        authentication?")."""
        if not self.database_iam_auth:
            return self
        if self.database_secret_arn:
            raise ValueError(
                f"{env.DATABASE_IAM_AUTH} and {env.DATABASE_SECRET_ARN} exclude each other (pick one login)"
            )
        urls = {env.DATABASE_URL: self.database_url}
        urls.update({env.DATABASE_READ_REPLICA[region]: url for region, url in self.replica_urls.items()})
        iam = env.DATABASE_IAM_AUTH
        for name, url in urls.items():
            parts = urlsplit(url)
            sslmode = parse_qs(parts.query).get("sslmode", [""])[-1]
            if not parts.username or parts.password:
                raise ValueError(f"{name}: with {iam} the URL names the user and carries no password")
            if sslmode not in _TLS_MODES:
                raise ValueError(f"{name}: with {iam} the URL needs sslmode={'/'.join(_TLS_MODES)} (got {sslmode!r})")
        return self

    @property
    def replica_urls(self) -> dict[Region, str]:
        """Configured replicas by region, in a stable order."""
        urls: dict[Region, str | None] = {
            "eu": self.database_read_replica_eu,
            "us": self.database_read_replica_us,
            "asia": self.database_read_replica_asia,
        }
        return {region: url for region, url in urls.items() if url}

    @property
    def analytics_tokens(self) -> tuple[str, ...]:
        """The accepted analytics bearer tokens (empty: analytics endpoints refuse every call)."""
        secret = self.analytics_api_tokens
        return split_tokens(secret.get_secret_value()) if secret is not None else ()

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.cors_allow_origins.split(",") if o.strip()]


_SECRET_VARIABLES = frozenset({env.ANALYTICS_API_TOKENS, env.ORIGIN_VERIFY_SECRET, env.SESSION_SECRET})


def _describe(error: Any) -> str:
    """One line per problem: VARIABLE: what is wrong (got value)."""
    loc = ".".join(str(part) for part in error["loc"]).upper()
    message = str(error["msg"]).removeprefix("Value error, ")
    if not loc:
        return message
    secret = loc in _SECRET_VARIABLES
    got = "" if error["type"] == "missing" or secret else f" (got {error['input']!r})"
    return f"{loc}: {message}{got}"


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the environment (plus overrides). Reads no secret: app/credentials.py does, per node.

    An unknown DATABASE_* / ANALYTICS_* / STREAM_* / SMTP_* / MAIL_* name is refused with the known ones listed: a
    typo such as DATABASE_URLS must stop the start, not leave the real setting at its default (contracts/environment.py
    has the names)."""
    unknown = env.unknown_variables_error(os.environ)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = [_describe(e) for e in exc.errors()]
        raise ConfigError("; ".join([unknown, *problems] if unknown else problems)) from None
    if unknown:
        raise ConfigError(unknown)
    return settings
