"""The rules of policy/rules.py as CrossGuard policies, all mandatory."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import rules

ResourceRule = Callable[[str, Mapping[str, Any]], list[str]]
StackRule = Callable[[Sequence[rules.Resource]], list[rules.Violation]]


def resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in rule(args.resource_type, args.props):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=rule.__name__.replace("_", "-"),
        description=(rule.__doc__ or rule.__name__).strip(),
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for message, urn in rule(args.resources):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=rule.__name__.replace("_", "-"),
        description=(rule.__doc__ or rule.__name__).strip(),
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


POLICIES: list[Policy] = [
    *(resource_policy(rule) for rule in rules.RESOURCE_RULES),
    *(stack_policy(rule) for rule in rules.STACK_RULES),
]
