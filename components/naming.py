"""Physical names that AWS requires to be unique per account (and often per region) carry the stack.

KMS aliases "must be unique in the account and Region" (KMS API reference, CreateAlias), and so must CloudWatch Logs
group names, ECS task definition families and the other names a component sets by hand. Two stacks of this project
(staging and production) may share an account, so every such name starts with `<project>-<stack>`; names Pulumi
generates (a random suffix) need nothing. The engine knows the project and stack, so no Args has to carry them.
"""

from __future__ import annotations

import pulumi


def stack_prefix() -> str:
    """`<project>-<stack>`, e.g. `global-api-production` (the same prefix stacks/foundation.py hands its tiers)."""
    return f"{pulumi.get_project()}-{pulumi.get_stack()}"


def physical_name(name: str, *, separator: str = "-") -> str:
    """`name` made unique per stack: `<project>-<stack><separator><name>`."""
    return f"{stack_prefix()}{separator}{name}"
