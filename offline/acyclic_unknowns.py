"""pulumi's `contains_unknowns` without the reference cycle each call of it leaves, for evaluations under mocks.

Why: pulumi.runtime.rpc.contains_unknowns (pulumi 3.272) defines its recursive helper as a closure on every call;
the closure reaches itself through its own cell, so every call leaves a cycle (function, cell, annotations) that
only the cyclic garbage collector frees. A production evaluation makes 26,732 such calls: 160,000 of the 182,000
objects its collection finds, which cost 0.22-0.35 s of a 1.0-2.6 s evaluation on a 2-core machine. The helper here
is the same code at module level, so nothing is left behind; `install()` puts it where every caller in pulumi looks
it up (`rpc.contains_unknowns`: pulumi.output and pulumi.runtime.invoke call it through that module).
tests/infra/test_acyclic_unknowns.py checks it answers as pulumi's own on nested, cyclic and unknown values.
"""

from typing import Any

from pulumi.runtime import known_types, rpc

PULUMI_CONTAINS_UNKNOWNS = rpc.contains_unknowns


def _contains_unknowns(val: Any, seen_ids: set[int]) -> bool:
    if known_types.is_unknown(val):
        return True
    val_id = id(val)
    if val_id in seen_ids:
        return False
    seen_ids.add(val_id)
    if isinstance(val, dict):
        return any(_contains_unknowns(val[k], seen_ids) for k in val)
    if isinstance(val, list):
        return any(_contains_unknowns(x, seen_ids) for x in val)
    return False


def contains_unknowns(val: Any) -> bool:
    """Whether val, or any dict value or list item within it, is an Unknown (as pulumi's own answers)."""
    return _contains_unknowns(val, set())


def install() -> None:
    rpc.contains_unknowns = contains_unknowns
