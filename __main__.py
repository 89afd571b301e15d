"""The Pulumi program: validated config in, the whole multi-region platform out (see stacks/platform.py)."""

import pulumi

from stacks.config import load_stack_config
from stacks.platform import build_platform, export_all

config = load_stack_config()  # fails here, before any resource, on any bad key
export_all(build_platform(config, project=pulumi.get_project(), stack=pulumi.get_stack()))
