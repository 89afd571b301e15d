"""boto3 clients for one command run: the standard credential chain and one client per service and region.

botocore itself honours AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_RDS, ...), so pointing the tool at a local
moto server needs no code here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

from ops.errors import UsageError

if TYPE_CHECKING:  # boto3-stubs are a dev dependency: the ops tool runs with boto3 alone
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_rds import RDSClient


class Aws:
    """Creates clients lazily and reuses them, so scanning N regions costs N clients, not N per call."""

    def __init__(self, region: str | None) -> None:
        self._session = boto3.session.Session(region_name=region)
        self._rds: dict[str, RDSClient] = {}
        self._cloudwatch: dict[str, CloudWatchClient] = {}

    @property
    def default_region(self) -> str:
        """The region from --region or the AWS chain (AWS_REGION, AWS_DEFAULT_REGION, profile)."""
        region = self._session.region_name
        if not region:
            raise UsageError("no AWS region: pass --region or --regions, or set AWS_REGION")
        return region

    def rds(self, region: str) -> RDSClient:
        if region not in self._rds:
            self._rds[region] = self._session.client("rds", region_name=region)
        return self._rds[region]

    def cloudwatch(self, region: str) -> CloudWatchClient:
        if region not in self._cloudwatch:
            self._cloudwatch[region] = self._session.client("cloudwatch", region_name=region)
        return self._cloudwatch[region]
