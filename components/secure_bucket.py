"""An S3 bucket with the defaults every bucket here needs: private, encrypted, versioned, TLS-only, expiring.

Used for CloudFront and ALB access logs and TimescaleDB backups, so the secure settings live in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

ObjectOwnership = Literal["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"]


@dataclass(frozen=True)
class SecureBucketArgs:
    """Inputs of one bucket. Without `kms_key_arn` the bucket uses SSE-S3 (what ALB log delivery requires)."""

    region: str
    # Days until current objects expire; None keeps them (backup repositories whose index files never change).
    expire_after_days: int | None
    kms_key_arn: pulumi.Input[str] | None = None
    # BucketOwnerEnforced (ACLs off) unless a writer needs ACLs: CloudFront standard logging does.
    object_ownership: ObjectOwnership = "BucketOwnerEnforced"
    noncurrent_expire_after_days: int = 30
    force_destroy: bool = False
    # Extra policy statements built from the bucket ARN (e.g. the log delivery principal's PutObject).
    extra_statements: Callable[[pulumi.Output[str]], Sequence[Mapping[str, Any]]] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


def deny_insecure_transport(bucket_arn: pulumi.Input[str]) -> dict[str, Any]:
    """The statement that makes a bucket refuse any request not made over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


class SecureBucket(pulumi.ComponentResource):
    """A private bucket: public access blocked, encrypted at rest, versioned, TLS-only, old objects expired."""

    bucket: aws.s3.Bucket

    def __init__(self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:storage:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        region = args.region
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket", region=region, force_destroy=args.force_destroy, tags=args.tags, opts=child
        )
        after_bucket = pulumi.ResourceOptions(parent=self.bucket)
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            region=region,
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=after_bucket,
        )
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            region=region,
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership=args.object_ownership),
            opts=after_bucket,
        )
        encryption_default = aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="aws:kms" if args.kms_key_arn else "AES256",
            kms_master_key_id=args.kms_key_arn,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            region=region,
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=encryption_default,
                    bucket_key_enabled=bool(args.kms_key_arn),
                )
            ],
            opts=after_bucket,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            region=region,
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=after_bucket,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            region=region,
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-old-objects" if args.expire_after_days is not None else "expire-old-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=(
                        aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.expire_after_days)
                        if args.expire_after_days is not None
                        else None
                    ),
                    noncurrent_version_expiration=(
                        aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                            noncurrent_days=args.noncurrent_expire_after_days
                        )
                    ),
                    abort_incomplete_multipart_upload=(
                        aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                            days_after_initiation=7
                        )
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[versioning]),
        )
        extra = list(args.extra_statements(self.bucket.arn)) if args.extra_statements else []
        aws.s3.BucketPolicy(
            f"{name}-policy",
            region=region,
            bucket=self.bucket.id,
            policy=pulumi.Output.json_dumps(
                {"Version": "2012-10-17", "Statement": [deny_insecure_transport(self.bucket.arn), *extra]}
            ),
            # A policy granting a service principal must land after the public access block is in place.
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[public_access, ownership]),
        )
        self.register_outputs({"bucketName": self.bucket.bucket, "bucketArn": self.bucket.arn})
