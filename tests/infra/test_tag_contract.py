"""The ops tool finds databases by tags: what the stacks declare must be what ops/tags.py looks for."""

from __future__ import annotations

from offline.harness import Evaluation
from ops import tags as ops_tags

RDS = "aws:rds/instance:Instance"


def test_every_database_carries_the_tags_ops_discovers_it_by(each_stack: Evaluation) -> None:
    instances = each_stack.of_type(RDS)
    assert instances
    roles = []
    for instance in instances:
        tags = instance.inputs["tags"]
        assert tags[ops_tags.PROJECT] == ops_tags.PROJECT_VALUE
        assert tags[ops_tags.STACK] == each_stack.stack
        assert tags[ops_tags.LOGICAL_REGION] in ops_tags.LOGICAL_REGIONS
        roles.append(tags[ops_tags.DB_ROLE])
        if tags[ops_tags.DB_ROLE] == ops_tags.ROLE_REPLICA:
            assert float(tags[ops_tags.MAX_REPLICA_LAG_SECONDS]) > 0
    assert sorted(roles) == sorted([ops_tags.ROLE_PRIMARY] + [ops_tags.ROLE_REPLICA] * (len(instances) - 1))
