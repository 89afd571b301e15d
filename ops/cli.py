"""Argument parsing and dispatch for `python -m ops`; every failure leaves as one stderr line + exit code."""

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts import tags
from contracts.regions import REGIONS
from ops.aws import Aws
from ops.discovery import find_stack_databases
from ops.errors import (
    AWS_ERRORS,
    EXIT_AWS,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    AwsError,
    CheckFailed,
    UsageError,
    describe_aws_error,
)
from ops.failover import FailoverResult, WaitPolicy, execute_failover, plan_failover
from ops.output import format_json
from ops.replication import check_replication
from ops.stackfile import StackFile, load_stack_file

PRODUCTION_STACK = "production"  # a drill on this stack asks for explicit confirmation
_AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below the minimum {minimum}")
        return value

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number >= 0")
    return value


def _region_list(text: str) -> tuple[str, ...]:
    regions = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    bad = [region for region in regions if not _AWS_REGION.match(region)]
    if not regions or bad:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of AWS regions like eu-west-1")
    return regions


def _common_options(with_defaults: bool) -> argparse.ArgumentParser:
    """Options accepted before or after the command; only the top level sets defaults."""

    def default(value: object) -> object:
        return value if with_defaults else argparse.SUPPRESS

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--region", default=default(None), help="AWS region (default: the AWS chain)")
    parser.add_argument(
        "--output", choices=("table", "json"), default=default("table"), help="output format (default: table)"
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=default(Path()),
        help="directory holding Pulumi.yaml and Pulumi.<stack>.yaml (default: current directory)",
    )
    return parser


def _stack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="Pulumi stack name, as in the Stack tag")
    parser.add_argument(
        "--regions",
        type=_region_list,
        help="comma-separated AWS regions to scan (default: the values of global-api:regions in "
        "Pulumi.<stack>.yaml, else --region)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ops",
        description="Operations commands for the global-api RDS primary and its cross-region replicas.",
        epilog="exit codes: 0 ok, 1 check failed, 2 usage error, 3 AWS error",
        parents=[_common_options(with_defaults=True)],
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common_options(with_defaults=False)

    check = commands.add_parser(
        "replication-check",
        parents=[common],
        help="check every replica is present and its ReplicaLag is under the bound",
        description="Find the stack's primary and replicas by tags, read each replica's ReplicaLag "
        "(CloudWatch, Maximum) over a window and fail when one is lagging, silent or missing.",
    )
    _stack_options(check)
    check.add_argument("--window-minutes", type=_int_at_least(1), default=10, help="look-back window (default: 10)")
    check.add_argument(
        "--max-lag",
        type=_seconds,
        help=f"lag bound in seconds for every replica (default: each replica's {tags.MAX_REPLICA_LAG_SECONDS} tag)",
    )
    check.set_defaults(handler=run_replication_check)

    drill = commands.add_parser(
        "failover-drill",
        parents=[common],
        help="promote a replica to primary (dry run unless --execute)",
        description="Print the failover steps for one replica; with --execute, promote it, wait for it "
        "to be available and standalone, and print the follow-up steps.",
    )
    _stack_options(drill)
    drill.add_argument("--replica", required=True, choices=REGIONS, help="logical region to promote")
    drill.add_argument("--execute", action="store_true", help="really promote (default: dry run)")
    drill.add_argument("--yes-production", action="store_true", help="confirm --execute on the production stack")
    drill.add_argument(
        "--wait-delay", type=_int_at_least(0), default=30, help="seconds between waiter polls (default: 30)"
    )
    drill.add_argument(
        "--wait-max-attempts", type=_int_at_least(1), default=60, help="waiter polls before giving up (default: 60)"
    )
    drill.set_defaults(handler=run_failover_drill)
    return parser


def _scan_regions(args: argparse.Namespace, aws: Aws, stack_file: StackFile | None) -> tuple[str, ...]:
    if args.regions:
        return tuple(args.regions)
    if stack_file is not None and stack_file.regions:
        return tuple(dict.fromkeys(stack_file.regions.values()))
    return (aws.default_region,)


def _emit(args: argparse.Namespace, document: dict[str, Any], table: str) -> None:
    print(format_json(document) if args.output == "json" else table)


def _progress(line: str) -> None:
    """Progress goes to stderr so --output json keeps stdout parseable."""
    print(line, file=sys.stderr, flush=True)


def run_replication_check(args: argparse.Namespace) -> int:
    stack_file = load_stack_file(args.project_dir, args.stack)
    aws = Aws(args.region)
    report = check_replication(
        aws,
        stack=args.stack,
        regions=_scan_regions(args, aws, stack_file),
        expected_regions=None if stack_file is None else stack_file.read_replica_regions,
        window_minutes=args.window_minutes,
        max_lag_override=args.max_lag,
        stack_max_lag=None if stack_file is None else stack_file.max_replica_lag_seconds,
        now=datetime.now(UTC),
    )
    _emit(args, report.to_json(), report.to_table())
    return EXIT_OK if report.ok else EXIT_CHECK_FAILED


def run_failover_drill(args: argparse.Namespace) -> int:
    production = args.stack.lower() == PRODUCTION_STACK
    if production and args.execute and not args.yes_production:
        raise UsageError(
            f"refusing to --execute a failover on production stack {args.stack!r} without --yes-production"
        )
    stack_file = load_stack_file(args.project_dir, args.stack)
    aws = Aws(args.region)
    databases = find_stack_databases(aws, args.stack, _scan_regions(args, aws, stack_file))
    plan = plan_failover(databases, args.replica, WaitPolicy(args.wait_delay, args.wait_max_attempts))
    promoted = execute_failover(aws, plan, _progress) if args.execute else None
    result = FailoverResult(plan, promoted, production)
    _emit(args, result.to_json(), result.to_table())
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code instead of raising, so tests and scripts see the same thing."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or argparse's usage error (2)
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except UsageError as error:
        message, code = str(error), EXIT_USAGE
    except CheckFailed as error:
        message, code = str(error), EXIT_CHECK_FAILED
    except AwsError as error:
        message, code = f"AWS error: {error}", EXIT_AWS
    except AWS_ERRORS as error:
        message, code = f"AWS error: {describe_aws_error(error)}", EXIT_AWS
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    return code
