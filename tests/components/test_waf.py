"""The web ACL's pure parts: which inspection size a body limit needs, and the body-limit rule itself.

AWS facts (WAF API reference): RequestBodyAssociatedResourceTypeConfig `DefaultSizeInspectionLimit` is one of
KB_16 | KB_32 | KB_48 | KB_64, and CloudFront forwards 16 KB unless it is raised; a size constraint on the body with
`OversizeHandling` MATCH treats a body beyond the inspection limit as matching; LoggingConfiguration destinations'
names must start with `aws-waf-logs-`; single-header names in RedactedFields are lower case.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.waf import (
    LOG_GROUP_PREFIX,
    MAX_INSPECTABLE_BODY_BYTES,
    PAYLOAD_TOO_LARGE,
    REDACTED_HEADERS,
    _body_size_rule,
    _rate_rule,
    body_inspection_limit,
)
from contracts import headers
from stacks.config import MAX_BODY_BYTES, MIN_BODY_BYTES

KIB = 1024


@pytest.mark.parametrize(
    ("max_body_bytes", "limit"),
    [
        (1, "KB_16"),
        (16 * KIB, "KB_16"),
        (16 * KIB + 1, "KB_32"),
        (32 * KIB, "KB_32"),
        (32 * KIB + 1, "KB_48"),
        (48 * KIB + 1, "KB_64"),
        (64 * KIB, "KB_64"),
    ],
)
def test_the_smallest_inspection_size_that_sees_the_whole_body(max_body_bytes: int, limit: str) -> None:
    assert body_inspection_limit(max_body_bytes) == limit


def test_a_limit_waf_cannot_see_whole_is_refused() -> None:
    with pytest.raises(ValueError, match="max_body_bytes=65537: WAF for CloudFront inspects at most 65536 bytes"):
        body_inspection_limit(64 * KIB + 1)


def test_the_stack_config_admits_exactly_what_waf_can_enforce() -> None:
    assert MAX_BODY_BYTES == MAX_INSPECTABLE_BODY_BYTES == 64 * KIB
    assert body_inspection_limit(MIN_BODY_BYTES) == "KB_16"


def test_the_body_rule_answers_413_above_the_limit_and_blocks_what_waf_cannot_see() -> None:
    rule: Any = _body_size_rule("cdn-waf", 1, 20_000)  # input types: navigated as plain attributes
    assert (rule.name, rule.priority) == ("body-size-limit", 1)
    assert rule.action.block.custom_response.response_code == PAYLOAD_TOO_LARGE == 413
    size = rule.statement.size_constraint_statement
    assert (size.comparison_operator, size.size) == ("GT", 20_000)
    assert size.field_to_match.body.oversize_handling == "MATCH"


def test_the_rate_rule_counts_per_ip_over_five_minutes() -> None:
    rule: Any = _rate_rule("cdn-waf", 0, 2000)
    statement = rule.statement.rate_based_statement
    assert (statement.limit, statement.aggregate_key_type, statement.evaluation_window_sec) == (2000, "IP", 300)


def test_secrets_are_redacted_by_their_lower_case_names() -> None:
    assert set(REDACTED_HEADERS) == {"authorization", "x-origin-verify"}
    assert set(REDACTED_HEADERS) == {headers.AUTHORIZATION.lower(), headers.ORIGIN_VERIFY.lower()}
    assert all(header == header.lower() for header in REDACTED_HEADERS)
    assert LOG_GROUP_PREFIX == "aws-waf-logs-"
