"""Inter-region VPC peering between an app region and a database region, with routes both ways.

App regions write to the primary and may read from a replica in another region (DESIGN.md), so each app VPC is
peered with each database VPC. Only private route tables get the routes: tasks and databases live there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.network import Network


@dataclass(frozen=True)
class PeeringArgs:
    """The two ends; the requester creates the connection, the accepter's region accepts it."""

    requester: Network
    accepter: Network
    tags: Mapping[str, str] = field(default_factory=dict)


class VpcPeering(pulumi.ComponentResource):
    """One peering connection plus the private routes that use it, in both regions."""

    connection: aws.ec2.VpcPeeringConnection

    def __init__(self, name: str, args: PeeringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:network:VpcPeering", name, None, opts)
        requester, accepter = args.requester, args.accepter
        self.connection = aws.ec2.VpcPeeringConnection(
            f"{name}-connection",
            region=requester.args.aws_region,
            vpc_id=requester.vpc.id,
            peer_vpc_id=accepter.vpc.id,
            peer_region=accepter.args.aws_region,
            auto_accept=False,  # cross-region peering must be accepted by the other side
            tags={**args.tags, "Name": name},
            opts=pulumi.ResourceOptions(parent=self),
        )
        accepted = aws.ec2.VpcPeeringConnectionAccepter(
            f"{name}-accepter",
            region=accepter.args.aws_region,
            vpc_peering_connection_id=self.connection.id,
            auto_accept=True,
            tags={**args.tags, "Name": name},
            opts=pulumi.ResourceOptions(parent=self),
        )
        for side, other in ((requester, accepter), (accepter, requester)):
            for index, route_table in enumerate(side.private_route_tables):
                aws.ec2.Route(
                    f"{name}-{side.args.logical_region}-{index}-route",
                    region=side.args.aws_region,
                    route_table_id=route_table.id,
                    destination_cidr_block=other.args.cidr,
                    vpc_peering_connection_id=self.connection.id,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[accepted]),
                )
        self.register_outputs({"peeringConnectionId": self.connection.id})
