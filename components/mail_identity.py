"""The stack's SES sending identity: a domain identity (SES v2) with Easy DKIM, its records in the stack's hosted zone,
and the one IAM statement a task needs to send as it.

Facts this relies on (Amazon SES developer guide, "Easy DKIM", docs.aws.amazon.com/ses/latest/dg/
send-email-authentication-dkim-easy.html): a domain identity gets three DKIM tokens, each published as the CNAME
`<token>._domainkey.<domain>` -> `<token>.dkim.amazonses.com`; SES verifies the domain through those records. The
SES v2 `SendEmail` call with raw MIME content (what analytics/mailer.py sends) is authorised as `ses:SendRawEmail`
on the identity `arn:aws:ses:<region>:<account>:identity/<domain>` (AccessDenied messages quoted in
github.com/aws/aws-actionmailer-ses-ruby/issues/10 and github.com/anymail/django-anymail/issues/384), so that is the
only action granted, on that identity only, and only for the configured sender address (`ses:FromAddress`).
A new account's SES starts in the sandbox: request production access once per region before mailing customers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.iam import Statement, allow

DKIM_TOKENS = 3  # Easy DKIM always issues three tokens (RSA 2048 by default)
DKIM_RECORD_TTL = 1800


def dkim_record(token: str, domain: str) -> tuple[str, str]:
    """(record name, CNAME target) of one Easy DKIM token."""
    return f"{token}._domainkey.{domain}", f"{token}.dkim.amazonses.com"


def _record_of(index: int, domain: str) -> Callable[[list[str]], tuple[str, str]]:
    return lambda tokens: dkim_record(tokens[index], domain)


@dataclass(frozen=True)
class MailIdentityArgs:
    """`domain` must be in the public hosted zone `hosted_zone_id` (the stack's API domain is)."""

    aws_region: str  # SES is regional: the identity lives where the sending tasks run
    domain: str
    hosted_zone_id: str
    sender_local_part: str = "analytics"  # MAIL_FROM = analytics@<domain>
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.sender_local_part or "@" in self.sender_local_part:
            raise ValueError(
                f"MailIdentityArgs.sender_local_part: got {self.sender_local_part!r}; allowed: the part before '@'"
            )

    @property
    def sender(self) -> str:
        return f"{self.sender_local_part}@{self.domain}"


class MailIdentity(pulumi.ComponentResource):
    """`.identity` (SES v2 domain identity), `.sender` (the MAIL_FROM address) and `.send_statement()`."""

    identity: aws.sesv2.EmailIdentity
    sender: str

    def __init__(self, name: str, args: MailIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:mail:MailIdentity", name, None, opts)
        self.args, self.sender = args, args.sender
        self.identity = aws.sesv2.EmailIdentity(
            f"{name}-identity",
            region=args.aws_region,
            email_identity=args.domain,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        tokens = self.identity.dkim_signing_attributes.apply(lambda attributes: list(attributes.tokens or []))
        for index in range(DKIM_TOKENS):
            record = tokens.apply(_record_of(index, args.domain))
            aws.route53.Record(
                f"{name}-dkim-{index}",
                zone_id=args.hosted_zone_id,
                name=record.apply(lambda r: r[0]),
                type="CNAME",
                ttl=DKIM_RECORD_TTL,
                records=[record.apply(lambda r: r[1])],
                opts=pulumi.ResourceOptions(parent=self.identity),
            )
        self.register_outputs({"identityArn": self.identity.arn, "sender": self.sender})

    def send_statement(self, sid: str = "SendAsTheStackIdentity") -> Statement:
        """Send raw mail as this identity's sender address, nothing else."""
        return allow(
            ["ses:SendRawEmail"],
            [self.identity.arn],
            sid,
            condition={"StringEquals": {"ses:FromAddress": self.sender}},
        )
