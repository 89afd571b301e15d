"""One `pulumi.ComponentResource` per concern; each takes an `Args` dataclass and never reads config."""
