"""Database credentials that follow Secrets Manager rotation.

RDS rotates its managed master secret (every 7 days by default). A password read once at start stops
working for every new connection after that, so pools take their password from `RotatingCredentials`:
asyncpg calls `password()` for each new connection (an explicit `password=` argument wins over one in the
DSN), which returns the cached secret, re-read when older than `DEFAULT_MAX_AGE_S` and at once after the
server refused it (`invalidate`). Reads go through `asyncio.to_thread`, so boto3 never blocks the loop.
"""

import asyncio
import json
import logging
import math
import time
from collections.abc import Callable
from typing import Final, NamedTuple

import boto3

log = logging.getLogger(__name__)

# Re-read the secret at least this often (seconds), so a rotation is usually picked up before any
# connection is refused; a refused password triggers a re-read at once regardless.
DEFAULT_MAX_AGE_S: Final = 300.0
# After a failed re-read the cached value is kept and the read is retried no sooner than this (seconds).
RETRY_AFTER_FAILURE_S: Final = 5.0


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
