"""Account-wide facts a component needs to write policies (looked up once per program run)."""

from __future__ import annotations

from functools import cache

import pulumi
import pulumi_aws as aws


@cache
def account_id() -> pulumi.Output[str]:
    """The deploying account's id, for key policies and ARNs that cannot be referenced from a resource."""
    return aws.get_caller_identity_output().account_id
