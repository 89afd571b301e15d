"""`deny_insecure_transport`: the statement that makes a bucket refuse every request not made over TLS.

AWS facts (S3 user guide, "Security best practices for Amazon S3"; AWS Config rule s3-bucket-ssl-requests-only): a
bucket policy denies requests where `aws:SecureTransport` is "false", for the bucket and every object in it; without
the explicit Deny, S3 accepts HTTP requests.
"""

from __future__ import annotations

from components.secure_bucket import SecureBucketArgs, deny_insecure_transport
from tests.components.outputs import resolved

BUCKET = "arn:aws:s3:::global-api-production-logs"


def test_every_principal_and_action_is_denied_without_tls_on_the_bucket_and_its_objects() -> None:
    assert resolved(lambda: deny_insecure_transport(BUCKET)) == {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [BUCKET, f"{BUCKET}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},  # the string "false", as IAM compares it
    }


def test_defaults_are_the_safe_choice() -> None:
    args = SecureBucketArgs(region="eu-west-1", expire_after_days=90)
    assert (args.object_ownership, args.force_destroy, args.kms_key_arn) == ("BucketOwnerEnforced", False, None)
    assert args.noncurrent_expire_after_days == 30
