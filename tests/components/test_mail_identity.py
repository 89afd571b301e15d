"""The SES identity's pure parts: Easy DKIM's records and the sender address.

AWS facts (SES developer guide, "Easy DKIM"): a domain identity gets three tokens, each published as the CNAME
`<token>._domainkey.<domain>` -> `<token>.dkim.amazonses.com`.
"""

from __future__ import annotations

import pytest

from components.mail_identity import DKIM_TOKENS, MailIdentityArgs, dkim_record


def test_each_token_is_a_cname_under_domainkey_pointing_at_ses() -> None:
    assert dkim_record("abc123", "api.example.com") == (
        "abc123._domainkey.api.example.com",
        "abc123.dkim.amazonses.com",
    )
    assert DKIM_TOKENS == 3


def test_distinct_tokens_give_distinct_records() -> None:
    records = [dkim_record(token, "example.com") for token in ("t1", "t2", "t3")]
    assert len({name for name, _ in records}) == len({target for _, target in records}) == 3


def test_the_sender_is_the_local_part_at_the_domain() -> None:
    args = MailIdentityArgs(aws_region="eu-west-1", domain="api.example.com", hosted_zone_id="Z1")
    assert args.sender == "analytics@api.example.com"
    assert (
        MailIdentityArgs("eu-west-1", "example.com", "Z1", sender_local_part="reports").sender == "reports@example.com"
    )


@pytest.mark.parametrize("local_part", ["", "a@b", "@"])
def test_a_local_part_that_is_not_one_is_refused(local_part: str) -> None:
    with pytest.raises(ValueError, match=rf"sender_local_part: got '{local_part}'; allowed: the part before '@'"):
        MailIdentityArgs("eu-west-1", "example.com", "Z1", sender_local_part=local_part)
