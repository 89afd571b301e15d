"""Bad environment values stop the start with the variable named; settings read no secret (app/credentials.py
does), and the migration names a secret it cannot read."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from moto import mock_aws

from app.settings import ConfigError, Settings, load_settings
from contracts import environment as contract

REPO = Path(__file__).resolve().parents[2]
GOOD_URL = "postgresql://app@db.internal:5432/app"
ENV_NAMES = (
    "DATABASE_URL",
    "DATABASE_PRIMARY_REGION",
    "DATABASE_READ_REPLICA_EU",
    "DATABASE_READ_REPLICA_US",
    "DATABASE_READ_REPLICA_ASIA",
    "DATABASE_POOL_MIN",
    "DATABASE_POOL_MAX",
    "DATABASE_ACQUIRE_TIMEOUT",
    "DATABASE_IDLE_TIMEOUT",
    "DATABASE_MAX_REPLICA_LAG_MS",
    "DATABASE_SECRET_ARN",
    "DATABASE_IAM_AUTH",
    "ORIGIN_VERIFY_SECRET",
    "CORS_ALLOW_ORIGINS",
    "HEALTH_PROBE_INTERVAL_MS",
)

BAD_VALUES = [
    ("DATABASE_POOL_MIN", "abc"),
    ("DATABASE_POOL_MAX", "0"),
    ("DATABASE_URL", "mysql://db.internal/app"),
    ("DATABASE_URL", "not a url"),
    ("DATABASE_READ_REPLICA_US", "http://replica.internal/app"),
    ("DATABASE_PRIMARY_REGION", "mars"),
    ("DATABASE_ACQUIRE_TIMEOUT", "0"),
    ("DATABASE_IDLE_TIMEOUT", "soon"),
    ("DATABASE_MAX_REPLICA_LAG_MS", "-1"),
    ("HEALTH_PROBE_INTERVAL_MS", "1.5x"),
]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", GOOD_URL)
    return monkeypatch


def test_defaults_and_units(clean_env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.database_primary_region == "eu"
    assert settings.database_max_replica_lag_ms == 5000
    assert settings.health_probe_interval_ms == 500
    assert settings.replica_urls == {}


def test_replicas_are_optional_and_ordered(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABASE_READ_REPLICA_ASIA", "postgres://r.asia/app")
    clean_env.setenv("DATABASE_READ_REPLICA_EU", "postgresql://r.eu/app?sslmode=require")
    clean_env.setenv("DATABASE_READ_REPLICA_US", "")  # empty means unset
    assert list(load_settings().replica_urls) == ["eu", "asia"]


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_bad_value_names_the_variable(clean_env: pytest.MonkeyPatch, name: str, value: str) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings()


def test_missing_primary_url_is_named(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.delenv("DATABASE_URL")
    with pytest.raises(ConfigError, match="DATABASE_URL: Field required"):
        load_settings()


def test_pool_min_above_max_names_both(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABASE_POOL_MIN", "8")
    clean_env.setenv("DATABASE_POOL_MAX", "4")
    with pytest.raises(ConfigError, match=r"DATABASE_POOL_MIN \(8\) must not exceed DATABASE_POOL_MAX \(4\)"):
        load_settings()


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("DATABASE_URLS", "DATABASE_URL"),
        ("DATABASE_POOL_MAXIMUM", "DATABASE_POOL_MAX"),
        ("ANALYTICS_DATABSE_URL", "ANALYTICS_DATABASE_URL"),
        ("analytics_api_token", "ANALYTICS_API_TOKENS"),  # names are read case-insensitively, so checked so too
        ("STREAM_MAX_CLIENT", "STREAM_MAX_CLIENTS"),
        ("STREAM_HEARTBEAT_SECONDS", "STREAM_HEARTBEAT_MS"),
        ("SMTP_ULR", "SMTP_URL"),  # would send the alert mails through SES instead of the local sink
        ("MAIL_FORM", "MAIL_FROM"),
    ],
)
def test_an_unknown_contract_variable_is_refused(clean_env: pytest.MonkeyPatch, typo: str, meant: str) -> None:
    """A typo must stop the start instead of leaving the meant setting at its default; the error names the
    variable, the closest known name and every known one."""
    clean_env.setenv(typo, "20")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert f"{typo}: unknown variable (did you mean {meant}?)" in message
    known = message.split("known DATABASE_*/ANALYTICS_*/STREAM_*/SMTP_*/MAIL_* variables: ")[1].split(", ")
    assert set(known) == contract.KNOWN_CHECKED


def test_an_unknown_variable_is_reported_with_the_bad_values(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABASE_POOL_MAX", "lots")
    clean_env.setenv("DATABASE_POOL_MAXX", "50")
    with pytest.raises(ConfigError, match=r"DATABASE_POOL_MAXX: unknown variable.*; DATABASE_POOL_MAX: "):
        load_settings()


def test_every_name_of_the_contract_is_accepted(clean_env: pytest.MonkeyPatch) -> None:
    """The app and the jobs share one environment in `make run` and the tests: the pipeline's names are no typo."""
    for name in sorted(contract.KNOWN_CHECKED - contract.APP_VARIABLES):
        clean_env.setenv(name, "1")
    clean_env.setenv("OTHER_SETTING_OF_SOMEONE_ELSE", "x")  # outside the checked prefixes: not ours to judge
    assert load_settings().database_url == GOOD_URL


def test_the_settings_read_exactly_the_contract_names() -> None:
    """One source: a field the contract lacks would be refused as unknown, a contract name without a field would
    be accepted and ignored."""
    assert {name.upper() for name in Settings.model_fields} == contract.APP_VARIABLES


def test_cors_origins_are_split(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CORS_ALLOW_ORIGINS", "https://a.example, https://b.example,")
    assert load_settings().cors_origins == ["https://a.example", "https://b.example"]


@mock_aws
def test_settings_read_no_secret(clean_env: pytest.MonkeyPatch) -> None:
    """Issue 18 item 4: one credentials path. The ARN is kept as given and the URLs untouched, even when the
    secret does not exist (only app/credentials.py reads it, per node)."""
    missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:nope-AbCdEf"
    clean_env.setenv("DATABASE_SECRET_ARN", missing)
    settings = load_settings()
    assert settings.database_secret_arn == missing
    assert settings.database_url == GOOD_URL


IAM_URL = "postgresql://api_app@db.abc123.eu-west-1.rds.amazonaws.com:5432/app?sslmode=require"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://db.abc.eu-west-1.rds.amazonaws.com:5432/app?sslmode=require", "names the user"),
        ("postgresql://api_app:pw@db.abc.eu-west-1.rds.amazonaws.com:5432/app?sslmode=require", "no password"),
        ("postgresql://api_app@db.abc.eu-west-1.rds.amazonaws.com:5432/app", "sslmode=require"),
        ("postgresql://api_app@db.abc.eu-west-1.rds.amazonaws.com:5432/app?sslmode=prefer", "got 'prefer'"),
    ],
)
def test_iam_auth_needs_a_user_and_tls_on_every_url(clean_env: pytest.MonkeyPatch, url: str, problem: str) -> None:
    clean_env.setenv("DATABASE_IAM_AUTH", "true")
    clean_env.setenv("DATABASE_URL", IAM_URL)
    assert load_settings().database_iam_auth
    clean_env.setenv("DATABASE_READ_REPLICA_US", url)
    with pytest.raises(ConfigError, match=f"DATABASE_READ_REPLICA_US: with DATABASE_IAM_AUTH .*{problem}"):
        load_settings()


def test_iam_auth_and_secret_arn_exclude_each_other(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABASE_IAM_AUTH", "true")
    clean_env.setenv("DATABASE_URL", IAM_URL)
    clean_env.setenv("DATABASE_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf")
    with pytest.raises(ConfigError, match="DATABASE_IAM_AUTH and DATABASE_SECRET_ARN exclude each other"):
        load_settings()


@pytest.mark.parametrize(
    ("arn", "problem"),
    [
        ("not-an-arn", "not a Secrets Manager ARN"),
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:nope-AbCdEf", "cannot read the secret"),
    ],
)
def test_migrate_names_a_secret_it_cannot_read(arn: str, problem: str) -> None:
    result = _start(["app.migrate"], DATABASE_URL=GOOD_URL, DATABASE_SECRET_ARN=arn, **NO_AWS)
    assert result.returncode == 2
    assert f"migrate: configuration error: DATABASE_SECRET_ARN: {problem}" in result.stderr
    assert "Traceback" not in result.stderr


# No real AWS from a test: fake keys and an endpoint nothing listens on (the read fails at once, offline).
NO_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_MAX_ATTEMPTS": "1",
}


def _start(module_args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    return subprocess.run(
        [sys.executable, "-m", *module_args],
        env={**base, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "argv",
    [["uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", "0"], ["app.migrate"]],
    ids=["uvicorn", "migrate"],
)
def test_bad_environment_stops_the_process_without_traceback(argv: list[str]) -> None:
    result = _start(argv, DATABASE_URL=GOOD_URL, DATABASE_POOL_MAX="lots")
    assert result.returncode != 0
    assert "DATABASE_POOL_MAX" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_typo_stops_the_app_before_it_serves() -> None:
    result = _start(
        ["uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", "0"], DATABASE_URL=GOOD_URL, DATABASE_URLS=GOOD_URL
    )
    assert result.returncode != 0
    assert "DATABASE_URLS: unknown variable (did you mean DATABASE_URL?)" in result.stderr
    assert "Traceback" not in result.stderr
