"""The RDS component's pure parts: each instance's parameters, and the managed master secret it hands out.

AWS facts (RDS user guide, "Using SSL with a PostgreSQL DB instance": `rds.force_ssl` 1 requires SSL for every
connection; "Working with read replicas for Amazon RDS for PostgreSQL": `hot_standby_feedback` on a replica keeps
the primary's vacuum from removing rows its queries still read).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from components.database import SLOW_STATEMENT_MS, _first_secret_arn, parameters


def values(role: Any) -> dict[str, Any]:
    return {str(p.name): p.value for p in parameters(role)}


def test_every_instance_requires_tls_and_logs_slow_statements_and_lock_waits() -> None:
    assert values("primary") == {
        "rds.force_ssl": "1",
        "log_min_duration_statement": str(SLOW_STATEMENT_MS),
        "log_lock_waits": "1",
    }


def test_only_replicas_send_hot_standby_feedback() -> None:
    assert values("replica") == {**values("primary"), "hot_standby_feedback": "1"}


def test_the_master_secret_is_the_first_managed_one_or_a_clear_error() -> None:
    secret = SimpleNamespace(secret_arn="arn:aws:secretsmanager:eu-west-1:1:secret:rds!db-abc")
    assert _first_secret_arn(cast(Any, [secret])) == "arn:aws:secretsmanager:eu-west-1:1:secret:rds!db-abc"
    for empty in ([], [SimpleNamespace(secret_arn=None)]):
        with pytest.raises(ValueError, match="no RDS-managed master user secret"):
            _first_secret_arn(cast(Any, empty))
