"""The logical regions customers are served from, and the database nodes named after them.

Stack config keys (`regions`, `appRegions`, `readReplicaRegions`), the country table of the app, the replica URLs
(`DATABASE_READ_REPLICA_<REGION>`), the `LogicalRegion` tag the ops tool filters on and the local cluster's replicas
all use these names; a new region starts here.
"""

from typing import Final, Literal, get_args

Region = Literal["eu", "us", "asia"]
REGIONS: Final[tuple[Region, ...]] = get_args(Region)

# The database nodes the app routes between (`X-DB-Node` answers with one): the primary and a replica per region.
PRIMARY_NODE: Final = "primary"
NodeName = Literal["primary", Region]
NODE_NAMES: Final[tuple[NodeName, ...]] = get_args(NodeName)
