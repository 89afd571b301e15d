"""CLI: `python -m localdev run` (cluster + migrations + app) or `python -m localdev stop` (after a crash)."""

import argparse

from localdev.run import run, stop


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_cmd = commands.add_parser("run", help="start primary + eu/us/asia replicas, migrate, serve the app")
    run_cmd.add_argument("--host", default="127.0.0.1")
    run_cmd.add_argument("--port", type=int, default=8000)
    run_cmd.add_argument(
        "--no-demo", action="store_true", help="do not seed the demo billing history into an empty database"
    )
    commands.add_parser("stop", help="stop and remove everything a crashed run left under .local/")
    args = parser.parse_args()
    if args.command == "run":
        return run(args.host, args.port, demo=not args.no_demo)
    return stop()


if __name__ == "__main__":
    raise SystemExit(main())
