"""What AWS accepts as the physical names this project sets by hand, as checks (the mocks accept any name).

Sources:
- RDS API reference, CreateDBInstance `DBInstanceIdentifier`: "Must contain from 1 to 63 letters, numbers, or
  hyphens. First character must be a letter. Can't end with a hyphen or contain two consecutive hyphens."
- KMS developer guide, "Create aliases": "The alias must be string of 1-256 characters. It can contain only
  alphanumeric characters, forward slashes (/), underscores (_), and dashes (-). The alias name for a customer
  managed key cannot begin with alias/aws/" (and every alias name starts with `alias/`, CreateAlias).
- CloudWatch Logs API reference, CreateLogGroup: "Log group names can be between 1 and 512 characters long" and
  consist of "a-z, A-Z, 0-9, '_' (underscore), '-' (hyphen), '/' (forward slash), and '.' (period)".
- ECR API reference, CreateRepository `repositoryName` pattern
  `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*` (lower case, optional namespace).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_RDS = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|-(?!-))*$")
_ALIAS = re.compile(r"^alias/[A-Za-z0-9/_-]+$")
_LOG_GROUP = re.compile(r"^[A-Za-z0-9_\-/.]+$")
_ECR = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")


def rds_identifier_problem(name: str) -> str | None:
    if not 1 <= len(name) <= 63 or not _RDS.match(name) or name.endswith("-"):
        return (
            f"RDS identifier {name!r}: allowed: 1..63 letters, digits, single hyphens; a letter first, no hyphen last"
        )
    return None


def kms_alias_problem(name: str) -> str | None:
    if len(name) > 256 or not _ALIAS.match(name) or name.startswith("alias/aws/"):
        return f"KMS alias {name!r}: allowed: alias/ then letters, digits, / _ -, at most 256, not alias/aws/"
    return None


def log_group_problem(name: str) -> str | None:
    if not 1 <= len(name) <= 512 or not _LOG_GROUP.match(name):
        return f"log group {name!r}: allowed: 1..512 of a-z A-Z 0-9 _ - / ."
    return None


def ecr_repository_problem(name: str) -> str | None:
    if not _ECR.match(name):
        return f"ECR repository {name!r}: allowed: lower-case names, optionally namespaced with /"
    return None


# Resource type -> (input holding the hand-set name, its rule).
NAME_RULES: dict[str, tuple[str, Callable[[str], str | None]]] = {
    "aws:rds/instance:Instance": ("identifier", rds_identifier_problem),
    "aws:kms/alias:Alias": ("name", kms_alias_problem),
    "aws:cloudwatch/logGroup:LogGroup": ("name", log_group_problem),
    "aws:ecr/repository:Repository": ("name", ecr_repository_problem),
}
