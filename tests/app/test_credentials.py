"""Rotation of the RDS master secret: the credential cache (fake fetch, injected clock), the boto3 read (moto),
and pools that survive a real password change on a server that enforces scram-sha-256; RDS IAM tokens signed
for each node's host, port, user and region, re-signed before they expire."""

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg
import boto3
import pytest
from moto import mock_aws

from app.credentials import (
    IAM_TOKEN_LIFETIME_S,
    IAM_TOKEN_MAX_AGE_S,
    RETRY_AFTER_FAILURE_S,
    Credentials,
    CredentialsError,
    RotatingCredentials,
    iam_token_fetcher,
    node_credentials,
    rds_region,
    read_secret,
    resolved_url,
    secret_fetcher,
)
from app.pools import Node, build_nodes
from app.settings import Settings, load_settings
from localdev.cluster import Cluster
from tests.app.helpers import cluster_settings

MAX_AGE_S = 300.0
ROLE = "rotating_app"
RENAMED_ROLE = "rotating_app_renamed"


class FakeClock:
    """A monotonic clock the test moves by hand (no sleeping on the wall clock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeSecret:
    """A fetch function over a value the test changes, counting reads and optionally failing them."""

    value: Credentials
    reads: int = 0
    fail: bool = False
    threads: list[int] = field(default_factory=list)

    def __call__(self) -> Credentials:
        self.reads += 1
        self.threads.append(threading.get_ident())
        if self.fail:
            raise CredentialsError("cannot read the secret: endpoint unreachable")
        return self.value


@pytest.fixture
def secret() -> FakeSecret:
    return FakeSecret(Credentials("master", "first"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def source(secret: FakeSecret, clock: FakeClock) -> RotatingCredentials:
    return RotatingCredentials(secret, max_age_s=MAX_AGE_S, clock=clock)


# ---- the cache --------------------------------------------------------------------------------------------


async def test_cached_until_max_age(secret: FakeSecret, clock: FakeClock, source: RotatingCredentials) -> None:
    assert await source.get() == Credentials("master", "first")
    secret.value = Credentials("master", "second")
    clock.now += MAX_AGE_S - 0.001
    assert await source.password() == "first"
    assert secret.reads == 1
    clock.now += 0.001
    assert await source.password() == "second"
    assert secret.reads == 2


async def test_invalidate_rereads_at_once(secret: FakeSecret, clock: FakeClock, source: RotatingCredentials) -> None:
    await source.get()
    secret.value = Credentials("master", "second")
    source.invalidate(source.generation)
    assert await source.password() == "second"
    assert secret.reads == 2


async def test_stale_invalidation_is_ignored(secret: FakeSecret, source: RotatingCredentials) -> None:
    """Many connections refused at once cause one re-read: a refusal seen before the newest read is moot."""
    await source.get()
    refused_with = source.generation
    source.invalidate(refused_with)
    await source.get()
    source.invalidate(refused_with)  # a second connection refused with the same old password
    await source.get()
    assert secret.reads == 2


async def test_concurrent_first_reads_share_one_fetch(secret: FakeSecret, source: RotatingCredentials) -> None:
    results = await asyncio.gather(*(source.get() for _ in range(5)))
    assert set(results) == {Credentials("master", "first")}
    assert secret.reads == 1


async def test_fetch_runs_off_the_event_loop(secret: FakeSecret, source: RotatingCredentials) -> None:
    await source.get()
    assert secret.threads
    assert threading.get_ident() not in secret.threads


async def test_failed_reread_keeps_cached_value_and_retries_later(
    secret: FakeSecret, clock: FakeClock, source: RotatingCredentials
) -> None:
    await source.get()
    secret.fail = True
    clock.now += MAX_AGE_S
    assert await source.password() == "first"
    assert secret.reads == 2
    clock.now += RETRY_AFTER_FAILURE_S - 0.001
    await source.get()
    assert secret.reads == 2  # no hammering of an unreachable endpoint
    secret.fail, secret.value = False, Credentials("master", "second")
    clock.now += 0.001
    assert await source.password() == "second"


async def test_first_read_failure_raises(secret: FakeSecret, source: RotatingCredentials) -> None:
    secret.fail = True
    with pytest.raises(CredentialsError, match="endpoint unreachable"):
        await source.get()


# ---- the boto3 read ----------------------------------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto, with a default region unlike the secret's, so only the ARN can lead boto3 to the secret."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


def create_rds_secret(region: str, username: str, password: str) -> str:
    """A secret shaped like the one RDS manages for a master user (name `rds!db-…`, JSON username/password)."""
    client = boto3.client("secretsmanager", region_name=region)
    value = json.dumps({"username": username, "password": password})
    arn: str = client.create_secret(Name="rds!db-3f1c9a2e-7b4d-4e0f-9c61-2a8d5e7f1b30", SecretString=value)["ARN"]
    return arn


def rotate_rds_secret(arn: str, region: str, username: str, password: str) -> None:
    client = boto3.client("secretsmanager", region_name=region)
    client.put_secret_value(SecretId=arn, SecretString=json.dumps({"username": username, "password": password}))


@pytest.mark.usefixtures("aws")
async def test_boto3_fetch_reads_the_secret_in_the_arns_region() -> None:
    arn = create_rds_secret("ap-southeast-1", "postgres", "p@ss:w/rd")
    assert arn.split(":")[3] == "ap-southeast-1"
    assert read_secret(arn) == Credentials("postgres", "p@ss:w/rd")
    source = RotatingCredentials(secret_fetcher(arn))
    assert await source.get() == Credentials("postgres", "p@ss:w/rd")
    rotate_rds_secret(arn, "ap-southeast-1", "postgres", "rotated")
    source.invalidate()
    assert await source.password() == "rotated"


@pytest.mark.usefixtures("aws")
def test_boto3_fetch_names_what_is_wrong() -> None:
    with pytest.raises(CredentialsError, match="not a Secrets Manager ARN"):
        read_secret("arn:aws:s3:::bucket")
    with pytest.raises(CredentialsError, match="cannot read the secret"):
        read_secret("arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-missing-AbCdEf")


# ---- RDS IAM authentication tokens -------------------------------------------------------------------------

PRIMARY_HOST = "global-api-production-primary.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com"
REPLICA_HOST = "global-api-production-replica-asia.c9f8e7d6c5b4.ap-southeast-1.rds.amazonaws.com"


def token_fields(token: str) -> tuple[str, dict[str, str]]:
    """An RDS IAM token is a presigned URL without scheme: `host:port/?Action=connect&DBUser=...&X-Amz-...`."""
    address, _, query = token.partition("/?")
    return address, {key: values[-1] for key, values in parse_qs(query).items()}


@pytest.mark.usefixtures("aws")
def test_iam_token_is_signed_for_the_nodes_host_port_user_and_region() -> None:
    fetch = iam_token_fetcher(f"postgresql://api_app@{REPLICA_HOST}:6432/app?sslmode=require")
    username, token = fetch()
    address, fields = token_fields(token)
    assert username == "api_app"
    assert address == f"{REPLICA_HOST}:6432"
    assert fields["Action"] == "connect"
    assert fields["DBUser"] == "api_app"
    # Signed for the replica's region (not the default us-east-1 of the fixture) and RDS IAM's service name.
    assert fields["X-Amz-Credential"].split("/")[2:] == ["ap-southeast-1", "rds-db", "aws4_request"]
    assert int(fields["X-Amz-Expires"]) == IAM_TOKEN_LIFETIME_S


def test_iam_tokens_are_resigned_well_before_they_expire(clock: FakeClock) -> None:
    """15-minute tokens (RDS user guide, IAM database authentication), re-signed after 10 minutes."""
    assert IAM_TOKEN_MAX_AGE_S <= IAM_TOKEN_LIFETIME_S - 300
    signed = FakeSecret(Credentials("api_app", "token-1"))
    source = RotatingCredentials(signed, max_age_s=IAM_TOKEN_MAX_AGE_S, clock=clock)

    async def scenario() -> None:
        assert await source.password() == "token-1"
        clock.now += IAM_TOKEN_MAX_AGE_S - 1
        signed.value = Credentials("api_app", "token-2")
        assert await source.password() == "token-1"
        clock.now += 1
        assert await source.password() == "token-2"

    asyncio.run(scenario())
    assert signed.reads == 2


@pytest.mark.usefixtures("aws")
async def test_iam_auth_gives_every_node_its_own_token_source() -> None:
    settings = cluster_settings_for_iam()
    sources = node_credentials(settings, environ={"AWS_REGION": "eu-west-1"})
    primary, replica = sources(settings.database_url), sources(settings.replica_urls["asia"])
    assert primary is not None
    assert replica is not None
    assert primary is not replica
    for source, host, region in ((primary, PRIMARY_HOST, "eu-west-1"), (replica, REPLICA_HOST, "ap-southeast-1")):
        address, fields = token_fields(await source.password())
        assert address == f"{host}:5432"
        assert fields["X-Amz-Credential"].split("/")[2] == region
    # The migration's one-shot URL carries a token as its password, never a stale one from the settings.
    address, fields = token_fields(unquote(urlsplit(resolved_url(settings, settings.database_url)).password or ""))
    assert (address, fields["DBUser"]) == (f"{PRIMARY_HOST}:5432", "api_app")


def cluster_settings_for_iam() -> Settings:
    return load_settings(
        database_url=f"postgresql://api_app@{PRIMARY_HOST}:5432/app?sslmode=require",
        database_read_replica_asia=f"postgresql://api_app@{REPLICA_HOST}:5432/app?sslmode=verify-full",
        database_iam_auth=True,
    )


def test_rds_region_comes_from_the_endpoint_name() -> None:
    assert rds_region(REPLICA_HOST, "eu-west-1") == "ap-southeast-1"
    assert rds_region("db.internal", "eu-west-1") == "eu-west-1"
    with pytest.raises(CredentialsError, match=r"cannot tell the AWS region of 'db\.internal'"):
        rds_region("db.internal")
    with pytest.raises(CredentialsError, match="needs a user and a host"):
        iam_token_fetcher(f"postgresql://{PRIMARY_HOST}:5432/app")


def test_without_secret_or_iam_the_url_logs_in_alone() -> None:
    settings = load_settings(database_url="postgresql://app@db.internal:5432/app")
    assert node_credentials(settings)(settings.database_url) is None
    assert resolved_url(settings, settings.database_url) == settings.database_url


# ---- a real server that enforces passwords -----------------------------------------------------------------


@dataclass
class ScramRole:
    """A LOGIN role on the primary whose loopback logins must pass scram-sha-256."""

    cluster: Cluster

    def dsn(self, password_in_url: str) -> str:
        """The role's URL on the primary, carrying a password that the rotating source must override."""
        port = self.cluster.ports["primary"]
        return f"postgresql://{ROLE}:{password_in_url}@127.0.0.1:{port}/app?sslmode=disable"

    async def sql(self, query: str) -> None:
        await asyncio.to_thread(self.cluster.sql, "primary", query)


@pytest.fixture
def scram_role(pg_cluster: Cluster) -> Iterator[ScramRole]:
    """Create the role and prepend its scram-sha-256 pg_hba.conf line; restore the file and drop the role after,
    so other tests (trust for the superuser) are unaffected."""
    pg_cluster.restore()
    hba: Path = pg_cluster.datadir("primary") / "pg_hba.conf"
    original = hba.read_text()
    pg_cluster.sql("primary", f"CREATE ROLE {ROLE} LOGIN PASSWORD 'first-password'")
    pg_cluster.sql("primary", f"GRANT CONNECT ON DATABASE app TO {ROLE}")  # 0006_roles: no CONNECT for PUBLIC
    try:
        hba.write_text(f"host all {ROLE},{RENAMED_ROLE} 127.0.0.1/32 scram-sha-256\n{original}")
        pg_cluster.sql("primary", "SELECT pg_reload_conf()")
        yield ScramRole(pg_cluster)
    finally:
        hba.write_text(original)
        pg_cluster.sql("primary", "SELECT pg_reload_conf()")
        for role in (ROLE, RENAMED_ROLE):  # its CONNECT grant goes first, or DROP ROLE refuses
            pg_cluster.sql(
                "primary",
                f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
                f"REVOKE ALL ON DATABASE app FROM {role}; END IF; END $$",
            )
            pg_cluster.sql("primary", f"DROP ROLE IF EXISTS {role}")


@contextlib.asynccontextmanager
async def opened(node: Node) -> AsyncIterator[Node]:
    try:
        yield node
    finally:
        await node.close()


async def current_user(node: Node) -> str:
    async with node.connection() as conn:
        user: str = await conn.fetchval("SELECT current_user")
        return user


def refusals(caplog: pytest.LogCaptureFixture) -> int:
    return sum("refused the login" in record.getMessage() for record in caplog.records)


async def test_pool_survives_password_rotation(
    scram_role: ScramRole, pg_cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    secret = FakeSecret(Credentials(ROLE, "first-password"))
    source = RotatingCredentials(secret, max_age_s=3600)  # no re-read by age during the test
    settings = cluster_settings(pg_cluster, database_pool_min=1, database_pool_max=2)
    # The URL's password is wrong on purpose: the source's password must win over it.
    async with opened(Node("primary", scram_role.dsn("wrong-in-url"), settings, source)) as node:
        assert await current_user(node) == ROLE
        assert secret.reads == 1

        await scram_role.sql(f"ALTER ROLE {ROLE} PASSWORD 'second-password'")
        secret.value = Credentials(ROLE, "second-password")
        await node.reset()  # pooled connections are gone; the next acquire must log in again

        # Without the invalidate-and-retry the cached password is what a new connection sends: refused.
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(scram_role.dsn("wrong-in-url"), user=ROLE, password=source.password)
        assert secret.reads == 1

        with caplog.at_level(logging.WARNING, logger="app.pools"):
            assert await current_user(node) == ROLE
        assert refusals(caplog) == 1  # one refused attempt ...
        assert secret.reads == 2  # ... and one re-read

        # The health probe's own connections follow the same rotation.
        await scram_role.sql(f"ALTER ROLE {ROLE} PASSWORD 'third-password'")
        secret.value = Credentials(ROLE, "third-password")
        probe = await node.connect()
        try:
            assert await probe.fetchval("SELECT current_user") == ROLE
        finally:
            await probe.close()
        assert secret.reads == 3


async def test_pool_follows_a_changed_user(scram_role: ScramRole, pg_cluster: Cluster) -> None:
    """A secret whose username changed: the old user is refused, the re-read user is used for new connections."""
    secret = FakeSecret(Credentials(ROLE, "first-password"))
    source = RotatingCredentials(secret, max_age_s=3600)
    settings = cluster_settings(pg_cluster, database_pool_min=1, database_pool_max=2)
    async with opened(Node("primary", scram_role.dsn("wrong-in-url"), settings, source)) as node:
        assert await current_user(node) == ROLE
        await scram_role.sql(f"ALTER ROLE {ROLE} RENAME TO {RENAMED_ROLE}")
        await scram_role.sql(f"ALTER ROLE {RENAMED_ROLE} PASSWORD 'renamed-password'")
        secret.value = Credentials(RENAMED_ROLE, "renamed-password")
        await node.reset()
        assert await current_user(node) == RENAMED_ROLE
        assert secret.reads == 2


@pytest.mark.usefixtures("aws")
async def test_secret_arn_wires_rotation_into_every_node(scram_role: ScramRole, pg_cluster: Cluster) -> None:
    """End to end from DATABASE_SECRET_ARN: one shared source, read at first connect, then a rotation."""
    arn = create_rds_secret("eu-west-1", ROLE, "first-password")
    settings = cluster_settings(
        pg_cluster,
        database_url=scram_role.dsn("ignored"),
        database_read_replica_eu=scram_role.dsn("ignored"),  # the primary again: only sharing matters here
        database_read_replica_us=None,
        database_read_replica_asia=None,
        database_pool_max=2,
        database_secret_arn=arn,
    )
    nodes = build_nodes(settings)
    try:
        assert [await current_user(node) for node in nodes.values()] == [ROLE, ROLE]
        await scram_role.sql(f"ALTER ROLE {ROLE} PASSWORD 'rotated-password'")
        rotate_rds_secret(arn, "eu-west-1", ROLE, "rotated-password")
        for node in nodes.values():
            await node.reset()
        assert [await current_user(node) for node in nodes.values()] == [ROLE, ROLE]
    finally:
        await asyncio.gather(*(node.close() for node in nodes.values()))
