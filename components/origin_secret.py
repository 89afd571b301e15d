"""The shared secret CloudFront sends as `X-Origin-Verify`, so only requests that came through CloudFront count.

One random value for the whole stack (CloudFront has one origin header), stored in Secrets Manager in every app
region under that region's own KMS key, so each region's ECS tasks read it locally as `ORIGIN_VERIFY_SECRET`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_random as random_

from components.regional_secret import regional_copies
from contracts.environment import ORIGIN_VERIFY_SECRET
from contracts.headers import ORIGIN_VERIFY

MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class OriginSecretArgs:
    """Where the secret is stored and how long it is."""

    prefix: str  # stack prefix: secret names start with it
    aws_regions: Sequence[str]  # AWS regions whose tasks read the secret (the app regions)
    length: int = 48  # ≥ 32; letters and digits only, so it is safe in an HTTP header and a listener rule
    recovery_window_days: int = 30  # how long a deleted secret can be restored (7..30)
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.length < MIN_SECRET_LENGTH:
            raise ValueError(f"OriginSecretArgs.length: got {self.length}; allowed: at least {MIN_SECRET_LENGTH}")
        if not self.aws_regions:
            raise ValueError("OriginSecretArgs.aws_regions: got none; allowed: at least one AWS region")


class OriginSecret(pulumi.ComponentResource):
    """A random header value (`.value`, a secret Output) and its Secrets Manager copies (`.secret_arns`)."""

    value: pulumi.Output[str]
    secret_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: OriginSecretArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:edge:OriginSecret", name, None, opts)
        password = random_.RandomPassword(
            f"{name}-value",
            length=args.length,
            special=False,  # header- and rule-safe: [A-Za-z0-9] only
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.value = pulumi.Output.secret(password.result)
        self.secret_arns = regional_copies(
            name,
            self.value,
            secret_name=f"{args.prefix}/origin-verify",
            description=f"{ORIGIN_VERIFY} value CloudFront sends; the app reads it as {ORIGIN_VERIFY_SECRET}",
            key_label="Origin verify secret",
            aws_regions=args.aws_regions,
            recovery_window_days=args.recovery_window_days,
            tags=args.tags,
            parent=self,
        )
        self.register_outputs({"secretArns": self.secret_arns})
