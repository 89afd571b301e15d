"""Where RDS can copy a DB instance's automated backups: the documented source -> destination Region pairs.

Not every pair is supported, and an unsupported one fails only at deploy (StartDBInstanceAutomatedBackupsReplication).
Source: RDS user guide, "Replicating automated backups to another AWS Region", section "AWS Region support" (table
"Source Region / Destination Regions available"), commercial partition; `aws rds describe-source-regions --region
<destination>` answers the same question for a live account (SupportsDBInstanceAutomatedBackupsReplication). Regions
AWS adds later are absent here until this table is updated, and are refused with a message saying where to look.
"""

from __future__ import annotations

from collections.abc import Mapping

_EU = ("eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1")

RDS_BACKUP_REPLICATION_DESTINATIONS: Mapping[str, frozenset[str]] = {
    source: frozenset(destinations)
    for source, destinations in {
        "ap-south-1": ("ap-southeast-1", "us-east-1", "us-east-2", "us-west-2"),
        "ap-northeast-3": ("ap-northeast-1",),
        "ap-northeast-2": ("ap-southeast-1", "ap-northeast-1", "us-east-1", "us-east-2", "us-west-2"),
        "ap-southeast-1": (
            "ap-south-1",
            "ap-northeast-2",
            "ap-southeast-2",
            "ap-northeast-1",
            "us-east-1",
            "us-east-2",
            "us-west-2",
        ),
        "ap-southeast-2": ("ap-southeast-1", "us-east-1", "us-west-1", "us-west-2"),
        "ap-northeast-1": ("ap-northeast-3", "ap-northeast-2", "ap-southeast-1", "us-east-1", "us-east-2", "us-west-2"),
        "ca-central-1": ("eu-west-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"),
        "eu-central-1": (*(r for r in _EU if r != "eu-central-1"), "us-east-1", "us-east-2", "us-west-2"),
        "eu-west-1": (
            "ca-central-1",
            *(r for r in _EU if r != "eu-west-1"),
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ),
        "eu-west-2": (*(r for r in _EU if r != "eu-west-2"), "us-east-1"),
        "eu-west-3": (*(r for r in _EU if r != "eu-west-3"), "us-east-1"),
        "eu-north-1": (*(r for r in _EU if r != "eu-north-1"), "us-east-1"),
        "sa-east-1": ("us-east-1", "us-east-2"),
        "us-east-1": (
            "ap-south-1",
            "ap-northeast-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-northeast-1",
            "ca-central-1",
            *_EU,
            "sa-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ),
        "us-east-2": (
            "ap-south-1",
            "ap-northeast-2",
            "ap-southeast-1",
            "ap-northeast-1",
            "ca-central-1",
            "eu-central-1",
            "eu-west-1",
            "sa-east-1",
            "us-east-1",
            "us-west-1",
            "us-west-2",
        ),
        "us-west-1": ("ap-southeast-2", "ca-central-1", "eu-west-1", "us-east-1", "us-east-2", "us-west-2"),
        "us-west-2": (
            "ap-south-1",
            "ap-northeast-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-northeast-1",
            "ca-central-1",
            "eu-central-1",
            "eu-west-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
        ),
    }.items()
}


def supported_destinations(source: str) -> frozenset[str]:
    """Regions RDS replicates `source`'s automated backups to (empty: none documented)."""
    return RDS_BACKUP_REPLICATION_DESTINATIONS.get(source, frozenset())


def unsupported_pair_message(source: str, destination: str | None) -> str:
    """What is allowed instead, for a config error."""
    allowed = sorted(supported_destinations(source))
    if not allowed:
        return (
            f"allowed: production copies automated backups to another region, and RDS documents no destination for "
            f"{source} (check `aws rds describe-source-regions`; staging copies nothing)"
        )
    shown = f"{destination} is not one" if destination else "none of the configured regions is one"
    return f"allowed: a region RDS replicates {source}'s backups to ({shown}): {', '.join(allowed)}"
