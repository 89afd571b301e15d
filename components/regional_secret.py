"""A secret the app reads in every app region: one value (generated with pulumi-random, or given), one Secrets
Manager copy per region under that region's own KMS key.

Copies rather than one cross-region reference, so a region's tasks start (ECS injects `secrets` at start) even when
another region is down. The value is a Pulumi secret: encrypted in state, never in config, environment or logs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_random as random_

from components.kms import encryption_key

MIN_GENERATED_LENGTH = 32


@dataclass(frozen=True)
class RegionalSecretArgs:
    """`secret_name` is the Secrets Manager name in each region; `value` None means generate one."""

    secret_name: str  # e.g. global-api-production/analytics-api-tokens
    description: str
    aws_regions: Sequence[str]
    value: pulumi.Input[str] | None = None
    length: int = 48  # generated values: letters and digits only (safe in a comma-separated list and a header)
    recovery_window_days: int = 30  # how long a deleted secret can be restored (7..30)
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.value is None and self.length < MIN_GENERATED_LENGTH:
            raise ValueError(f"RegionalSecretArgs.length: got {self.length}; allowed: at least {MIN_GENERATED_LENGTH}")
        if not self.aws_regions:
            raise ValueError("RegionalSecretArgs.aws_regions: got none; allowed: at least one AWS region")
        if not 7 <= self.recovery_window_days <= 30:
            raise ValueError(
                f"RegionalSecretArgs.recovery_window_days: got {self.recovery_window_days}; allowed: 7..30"
            )


class RegionalSecret(pulumi.ComponentResource):
    """`.value` (a secret Output) and `.secret_arns` (AWS region -> ARN of that region's copy)."""

    value: pulumi.Output[str]
    secret_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: RegionalSecretArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:secrets:RegionalSecret", name, None, opts)
        if args.value is None:
            generated = random_.RandomPassword(
                f"{name}-value", length=args.length, special=False, opts=pulumi.ResourceOptions(parent=self)
            )
            self.value = pulumi.Output.secret(generated.result)
        else:
            self.value = pulumi.Output.secret(args.value)
        self.secret_arns = regional_copies(
            name,
            self.value,
            secret_name=args.secret_name,
            description=args.description,
            key_label=args.secret_name,
            aws_regions=args.aws_regions,
            recovery_window_days=args.recovery_window_days,
            tags=args.tags,
            parent=self,
        )
        self.register_outputs({"secretArns": self.secret_arns})


def regional_copies(
    name: str,
    value: pulumi.Output[str],
    *,
    secret_name: str,
    description: str,
    key_label: str,
    aws_regions: Sequence[str],
    recovery_window_days: int,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> dict[str, pulumi.Output[str]]:
    """One Secrets Manager copy of `value` per AWS region, each under a KMS key of its own region (described as
    `<key_label> (<region>)`); returns AWS region -> the copy's ARN. Children of `parent`, named `{name}-{region}-key`,
    `{name}-{region}` and `{name}-{region}-version` (OriginSecret's resources keep the URNs they had before sharing
    this)."""
    arns: dict[str, pulumi.Output[str]] = {}
    for region in dict.fromkeys(aws_regions):
        key = encryption_key(
            f"{name}-{region}-key",
            region=region,
            description=f"{key_label} ({region})",
            tags=tags,
            parent=parent,
        )
        secret = aws.secretsmanager.Secret(
            f"{name}-{region}",
            region=region,
            name=secret_name,
            description=description,
            kms_key_id=key.arn,
            recovery_window_in_days=recovery_window_days,
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-{region}-version",
            region=region,
            secret_id=secret.id,
            secret_string=value,
            opts=pulumi.ResourceOptions(parent=secret),
        )
        arns[region] = secret.arn
    return arns
