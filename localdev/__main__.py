"""CLI: `python -m localdev run` (cluster + migrations + app) or `python -m localdev stop` (after a crash)."""

import argparse
from pathlib import Path

from localdev.run import LOCAL, run, stop


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="start primary + eu/us/asia replicas, migrate, serve the app")
    run_cmd.add_argument("--host", default="127.0.0.1")
    run_cmd.add_argument("--port", type=int, default=8000)
    run_cmd.add_argument(
        "--no-demo", action="store_true", help="do not seed the demo billing history into an empty database"
    )
    stop_cmd = commands.add_parser("stop", help="stop and remove everything a crashed run left under .local/")
    for command in (run_cmd, stop_cmd):
        command.add_argument(
            "--state-dir",
            type=Path,
            default=LOCAL,
            help="where the cluster (run/) and the received mail (mail/) live (default: the checkout's .local/)",
        )
    args = parser.parse_args()
    local = args.state_dir.resolve()
    if args.command == "run":
        return run(args.host, args.port, demo=not args.no_demo, local=local)
    return stop(local=local)


if __name__ == "__main__":
    raise SystemExit(main())
