"""Database credentials that follow Secrets Manager rotation.

RDS rotates its managed master secret (every 7 days by default). A password read once at start stops
working for every new connection after that, so pools take their password from `RotatingCredentials`:
asyncpg calls `password()` for each new connection (an explicit `password=` argument wins over one in the
DSN), which returns the cached secret, re-read when older than `DEFAULT_MAX_AGE_S` and at once after the
server refused it (`invalidate`). Reads go through `asyncio.to_thread`, so boto3 never blocks the loop.

This module is the app's only reader of database credentials (issue 18 item 4): `load_settings` reads no secret.
Two sources feed `RotatingCredentials`:
- DATABASE_SECRET_ARN: a Secrets Manager secret with username and password, shared by every node (operators and
  the migration when run by hand with the master secret);
- DATABASE_IAM_AUTH: an RDS IAM authentication token per node, signed locally by boto3 with the task role for the
  URL's host, port and user (RDS user guide, "Connecting to your DB instance using IAM authentication": a token
  is valid for 15 minutes and is checked only when a connection is opened, so it is re-signed after
  `IAM_TOKEN_MAX_AGE_S`, well before it expires; TLS is required).
"""

import asyncio
import json
import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from typing import Final, NamedTuple
from urllib.parse import quote, urlsplit, urlunsplit

import boto3

from app.settings import Settings
from contracts.environment import AWS_DEFAULT_REGION, AWS_REGION

log = logging.getLogger(__name__)

# Re-read the secret at least this often (seconds), so a rotation is usually picked up before any
# connection is refused; a refused password triggers a re-read at once regardless.
DEFAULT_MAX_AGE_S: Final = 300.0
# After a failed re-read the cached value is kept and the read is retried no sooner than this (seconds).
RETRY_AFTER_FAILURE_S: Final = 5.0
# RDS IAM tokens live 15 minutes (the presigned URL's X-Amz-Expires); a new one is signed after 10, so a token
# handed to a connection attempt always has minutes left.
IAM_TOKEN_LIFETIME_S: Final = 900
IAM_TOKEN_MAX_AGE_S: Final = 600.0
# RDS endpoints are <instance>.<account hash>.<region>.rds.amazonaws.com; the token is signed for that region.
_RDS_SUFFIX: Final = ".rds.amazonaws.com"


class Credentials(NamedTuple):
    username: str
    password: str


class CredentialsError(Exception):
    """The secret cannot be read or has the wrong shape; the message says which."""


Fetch = Callable[[], Credentials]


def secret_region(arn: str) -> str:
    """The AWS region named in a Secrets Manager ARN (the secret lives there, whatever the default region)."""
    fields = arn.split(":")
    if len(fields) < 7 or fields[:3] != ["arn", "aws", "secretsmanager"] or not fields[3]:
        raise CredentialsError(f"not a Secrets Manager ARN (got {arn!r})")
    return fields[3]


def read_secret(arn: str) -> Credentials:
    """Read an RDS-managed master secret (JSON with username and password) in the ARN's region; blocking."""
    region = secret_region(arn)
    try:
        client = boto3.client("secretsmanager", region_name=region)
        raw = client.get_secret_value(SecretId=arn)["SecretString"]
        secret = json.loads(raw)
        return Credentials(str(secret["username"]), str(secret["password"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise CredentialsError(f"secret is not JSON with username and password ({exc})") from None
    except Exception as exc:  # boto3 raises many unrelated types; all mean "cannot read it"
        raise CredentialsError(f"cannot read the secret: {exc}") from None


def secret_fetcher(arn: str) -> Fetch:
    """A fetch function for `RotatingCredentials` that reads the given secret."""
    return lambda: read_secret(arn)


def with_credentials(url: str, username: str, password: str) -> str:
    """The URL with this user and password, keeping host, port, database and options (for one-shot clients)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def rds_region(host: str, default: str | None = None) -> str:
    """The AWS region of an RDS endpoint name (replicas live in other regions than the task); else `default`."""
    if host.endswith(_RDS_SUFFIX):
        labels = host.removesuffix(_RDS_SUFFIX).split(".")
        if len(labels) >= 3 and labels[-1]:
            return labels[-1]
    if default:
        return default
    raise CredentialsError(f"cannot tell the AWS region of {host!r}: not an RDS endpoint and {AWS_REGION} is not set")


def iam_token_fetcher(url: str, *, default_region: str | None = None) -> Fetch:
    """A fetch function for `RotatingCredentials` returning the URL's user and a fresh RDS IAM token for its host.

    The token is a SigV4-presigned request signed with the task role's credentials, locally (no AWS call)."""
    parts = urlsplit(url)
    host, user, port = parts.hostname, parts.username, parts.port or 5432
    if not host or not user:
        raise CredentialsError(f"IAM authentication needs a user and a host in the database URL (got host {host!r})")
    region = rds_region(host, default_region)

    def fetch() -> Credentials:
        try:
            client = boto3.client("rds", region_name=region)
            token = client.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user, Region=region)
        except Exception as exc:  # no credentials, bad region...: all mean "cannot sign a token"
            raise CredentialsError(f"cannot sign an RDS IAM token for {user}@{host}: {exc}") from None
        return Credentials(user, str(token))

    return fetch


class RotatingCredentials:
    """Cached credentials from `fetch`, refreshed by age and on demand; one instance per secret.

    `generation` grows with every successful read. A caller that saw a refusal passes the generation it
    connected with to `invalidate`, so many connections refused at once cause one re-read, not one each.
    """

    def __init__(
        self,
        fetch: Fetch,
        *,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._max_age_s = max_age_s
        self._clock = clock
        self._value: Credentials | None = None
        self._expires_at = -math.inf
        self._lock = asyncio.Lock()
        self.generation = 0
        self.fetches = 0  # reads attempted, for logs and tests

    async def get(self) -> Credentials:
        """The cached credentials, re-read first when missing, too old or invalidated."""
        async with self._lock:
            if self._value is None or self._clock() >= self._expires_at:
                await self._refresh()
            assert self._value is not None
            return self._value

    async def password(self) -> str:
        """For asyncpg's `password=`: called for every new connection."""
        return (await self.get()).password

    def invalidate(self, generation: int | None = None) -> None:
        """Re-read on the next `get`; ignored when a newer read than `generation` already happened."""
        if generation is None or generation == self.generation:
            self._expires_at = -math.inf

    async def _refresh(self) -> None:
        self.fetches += 1
        try:
            value = await asyncio.to_thread(self._fetch)
        except Exception as exc:
            if self._value is None:
                raise
            # The cached value may still work (rotation is rare); keep it and try again a little later.
            log.warning("re-reading database credentials failed, keeping the cached ones: %s", exc)
            self._expires_at = self._clock() + min(RETRY_AFTER_FAILURE_S, self._max_age_s)
            return
        self._value = value
        self._expires_at = self._clock() + self._max_age_s
        self.generation += 1


NodeCredentials = Callable[[str], RotatingCredentials | None]


def sdk_region(environ: Mapping[str, str]) -> str | None:
    """The task's own region, as the AWS SDKs name it (ECS sets AWS_REGION)."""
    return environ.get(AWS_REGION) or environ.get(AWS_DEFAULT_REGION)


def _fetcher(settings: Settings, url: str, environ: Mapping[str, str]) -> Fetch | None:
    """What reads the login of `url`: the secret, an IAM token for its host, or nothing (the URL says it all)."""
    if settings.database_secret_arn:
        return secret_fetcher(settings.database_secret_arn)
    if settings.database_iam_auth:
        region = sdk_region(environ)
        return iam_token_fetcher(url, default_region=region)
    return None


def node_credentials(settings: Settings, environ: Mapping[str, str] = os.environ) -> NodeCredentials:
    """How each node's pool logs in, given its URL: one shared secret source (RDS replicas share the primary's
    users), an IAM token source per URL (each token is signed for one host), or the URL alone (local clusters)."""
    if settings.database_secret_arn:
        shared = RotatingCredentials(secret_fetcher(settings.database_secret_arn))
        return lambda _url: shared
    max_age_s = IAM_TOKEN_MAX_AGE_S if settings.database_iam_auth else DEFAULT_MAX_AGE_S

    def source(url: str) -> RotatingCredentials | None:
        fetch = _fetcher(settings, url, environ)
        return RotatingCredentials(fetch, max_age_s=max_age_s) if fetch is not None else None

    return source


def iam_login_url(url: str, environ: Mapping[str, str] = os.environ) -> str:
    """`url` with a freshly signed IAM token as its password, for a client that connects once within minutes (the
    analytics pipeline's source). Raises CredentialsError when no token can be signed."""
    region = sdk_region(environ)
    username, token = iam_token_fetcher(url, default_region=region)()
    return with_credentials(url, username, token)


def resolved_url(settings: Settings, url: str, environ: Mapping[str, str] = os.environ) -> str:
    """`url` with the credentials its login uses now, for one-shot clients that take a URL (the migration);
    blocking. Raises CredentialsError when they cannot be read."""
    fetch = _fetcher(settings, url, environ)
    if fetch is None:
        return url
    username, password = fetch()
    return with_credentials(url, username, password)
