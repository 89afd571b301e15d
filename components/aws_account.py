"""Account-wide facts a component needs to write policies (looked up once per program run)."""

from __future__ import annotations

import weakref

import pulumi
import pulumi_aws as aws
from pulumi.runtime.settings import get_root_resource

# One lookup per program run (keyed by the run's root stack), never shared between runs: an Output belongs to the
# event loop and engine of the run that created it (the offline tests evaluate many runs in one process).
_per_run: weakref.WeakKeyDictionary[object, pulumi.Output[str]] = weakref.WeakKeyDictionary()


def account_id() -> pulumi.Output[str]:
    """The deploying account's id, for key policies and ARNs that cannot be referenced from a resource."""
    root = get_root_resource()
    if root is None:
        return aws.get_caller_identity_output().account_id
    if root not in _per_run:
        _per_run[root] = aws.get_caller_identity_output().account_id
    return _per_run[root]
