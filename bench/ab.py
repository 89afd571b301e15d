"""`python -m bench.ab REV [REV...]`: the routed read of the working tree against the same app at other git revisions,
in one run on one cluster, rounds alternated, medians and ratios printed. How each hot-path change shows its gain.

Each revision is exported (`git archive`) under .local/ab-<pid>/<rev> and served by this venv, so only the app's code
differs. `--stack legacy` serves a revision on the previous server stack (h11 + asyncio) instead of the fast one.
"""

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Final

from app.server import SERVER_STACK
from bench.cluster import seeded_cluster
from bench.overhead import rotations, summarize
from bench.profile import FULL
from bench.servers import LEGACY_STACK, REPO, AppServer, app_server, cluster_environment, wait_ready
from bench.stats import ratio
from bench.wrk import WrkResult, run_wrk

HEAD: Final = "worktree"
STACKS: Final = {"fast": SERVER_STACK, "legacy": LEGACY_STACK}


def export_revision(rev: str, root: Path) -> Path:
    """The tree of `rev` as plain files under root/<rev> (no .git, nothing shared with the worktree)."""
    target = root / rev.replace("/", "_")
    target.mkdir(parents=True)
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["git", "archive", "--format=tar", rev], cwd=REPO, stdout=archive, check=True)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(target, filter="data")
    return target


def compare(servers: dict[str, AppServer], rounds: int, seconds: int, connections: int, ids: int) -> dict[str, Any]:
    names = tuple(servers)

    def one(name: str, duration: int) -> WrkResult:
        return run_wrk(servers[name].url, connections=connections, duration_s=duration, ids=ids)

    for name in names:
        one(name, 2)
    runs: dict[str, list[WrkResult]] = {name: [] for name in names}
    for order in rotations(names, rounds):
        for name in order:
            runs[name].append(one(name, seconds))
    variants = {name: summarize(runs[name]) for name in names}
    head = variants[HEAD]
    return {
        "variants": {name: {k: v for k, v in s.items() if k != "rounds"} for name, s in variants.items()},
        "ratios": {
            f"{HEAD}/{name}": {k: ratio(head[k], s[k]) for k in ("rate", "p50_ms", "p99_ms")}
            for name, s in variants.items()
            if name != HEAD
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument("revs", nargs="+", help="git revisions to compare the working tree against")
    parser.add_argument("--stack", choices=sorted(STACKS), default="fast", help="server stack for the revisions")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=FULL.overhead_connections)
    args = parser.parse_args(argv)
    root = REPO / ".local" / f"ab-{os.getpid()}"
    try:
        sources = {f"{rev}[{args.stack}]": export_revision(rev, root) for rev in args.revs}
        with seeded_cluster(FULL.companies) as cluster, contextlib.ExitStack() as stack:
            env = cluster_environment(cluster, FULL.pool_size)
            log_dir = cluster.root / "logs"
            servers = {HEAD: stack.enter_context(app_server(HEAD, "app.main:app", env, args.workers, log_dir))}
            for name, source in sources.items():
                servers[name] = stack.enter_context(
                    app_server(name, "app.main:app", env, args.workers, log_dir, stack=STACKS[args.stack], cwd=source)
                )
            for server in servers.values():
                wait_ready(server)
            result = compare(servers, args.rounds, args.seconds, args.connections, FULL.companies)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
