"""An ACM certificate validated through Route 53 DNS records, usable only once validation has completed."""

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


class DnsValidatedCertificate(pulumi.ComponentResource):
    """`certificate_arn` resolves only after ACM has issued the certificate, so listeners never get a pending one."""

    certificate: aws.acm.Certificate
    certificate_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None) -> None:
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
        records = []
        for index, domain in enumerate([args.domain_name, *args.alternative_names]):
            option = self.certificate.domain_validation_options.apply(functools.partial(_validation_option, domain))
            records.append(
                aws.route53.Record(
                    f"{name}-validation-{index}",
                    zone_id=args.hosted_zone_id,
                    name=option.apply(lambda o: str(o.resource_record_name)),
                    type=option.apply(lambda o: str(o.resource_record_type)),
                    records=[option.apply(lambda o: str(o.resource_record_value))],
                    ttl=300,
                    # ACM's validation record for a name is the same in every region: regional certificates for
                    # the shared origin name write the same record, so each may take it over.
                    allow_overwrite=True,
                    opts=pulumi.ResourceOptions(parent=self.certificate),
                )
            )
        validation = aws.acm.CertificateValidation(
            f"{name}-validation",
            region=args.region,
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=[record.fqdn for record in records],
            opts=pulumi.ResourceOptions(parent=self.certificate),
        )
        self.certificate_arn = validation.certificate_arn
        self.register_outputs({"certificateArn": self.certificate_arn})
