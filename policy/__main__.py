"""Entry point the Pulumi CLI runs for `--policy-pack policy`; serves the pack over gRPC until stopped."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # so `policy.*` imports like in the tests

from pulumi_policy import EnforcementLevel, PolicyPack

from policy.policies import POLICIES

PolicyPack(name="global-api-guardrails", policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
