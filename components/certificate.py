"""ACM certificates validated through Route 53 DNS records, usable only once validation has completed.

ACM asks for the same validation CNAME for a name in every region of an account (the record is derived from the
name and the account), so regional certificates for one shared name (origin.<domain>) need one record between them.
`ValidationRecords` declares each distinct record exactly once, under a parent that does not depend on any one
region: removing an app region then removes only the records no other certificate uses, and never the shared one
that the remaining regions' certificates need for renewal.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class CertificateArgs:
    """The names to certify and the public hosted zone that proves we own them."""

    region: str  # ACM certificates are regional: the region of the load balancer (or us-east-1 for CloudFront)
    domain_name: str
    alternative_names: Sequence[str] = ()
    hosted_zone_id: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.hosted_zone_id:
            raise ValueError(f"CertificateArgs.hosted_zone_id: required to DNS-validate {self.domain_name}")


def _validation_option(domain: str, options: Sequence[Any]) -> Any:
    for option in options:
        if option.domain_name == domain:
            return option
    raise ValueError(f"ACM returned no DNS validation record for {domain}")


class ValidationRecords(pulumi.ComponentResource):
    """One Route 53 validation record per distinct (zone, name), shared by every certificate validating that name."""

    records: dict[tuple[str, str], aws.route53.Record]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:edge:ValidationRecords", name, None, opts)
        self.name = name
        self.records = {}
        self.register_outputs({})

    def record(self, zone_id: str, domain: str, certificate: aws.acm.Certificate) -> aws.route53.Record:
        """The record for `domain`, declared from the first certificate that asks (every one gets the same values)."""
        key = (zone_id, domain)
        if key not in self.records:
            option = certificate.domain_validation_options.apply(functools.partial(_validation_option, domain))
            self.records[key] = aws.route53.Record(
                f"{self.name}-{domain}",  # named by the validated name, never by a region
                zone_id=zone_id,
                name=option.apply(lambda o: str(o.resource_record_name)),
                type=option.apply(lambda o: str(o.resource_record_type)),
                records=[option.apply(lambda o: str(o.resource_record_value))],
                ttl=300,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return self.records[key]


class DnsValidatedCertificate(pulumi.ComponentResource):
    """`certificate_arn` resolves only after ACM has issued the certificate, so listeners never get a pending one.

    Pass the stack's shared `validation` when other certificates validate the same names; without it the certificate
    declares its own records.
    """

    certificate: aws.acm.Certificate
    certificate_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: CertificateArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        validation: ValidationRecords | None = None,
    ) -> None:
        super().__init__("global-api:edge:DnsValidatedCertificate", name, None, opts)
        self.certificate = aws.acm.Certificate(
            f"{name}-cert",
            region=args.region,
            domain_name=args.domain_name,
            subject_alternative_names=list(args.alternative_names) or None,
            validation_method="DNS",
            tags={**args.tags, "Name": args.domain_name},
            opts=pulumi.ResourceOptions(parent=self),
        )
        records = validation or ValidationRecords(f"{name}-records", opts=pulumi.ResourceOptions(parent=self))
        fqdns = [
            records.record(args.hosted_zone_id, domain, self.certificate).fqdn
            for domain in dict.fromkeys([args.domain_name, *args.alternative_names])
        ]
        validated = aws.acm.CertificateValidation(
            f"{name}-validation",
            region=args.region,
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=fqdns,
            opts=pulumi.ResourceOptions(parent=self.certificate),
        )
        self.certificate_arn = validated.certificate_arn
        self.register_outputs({"certificateArn": self.certificate_arn})
