"""`python -m localdev.pipeline_loop --every 5`: the analytics pipeline CLI again and again, as the scheduled
task does in AWS (same entry point, so whatever runs after a pipeline run there, alerts included, runs here too).

A failed run is reported and the loop carries on: the next run resumes from the committed watermark.
"""

import argparse
import sys
import time

from analytics import pipeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.pipeline_loop", description=__doc__)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between runs (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        while True:
            started = time.monotonic()
            if pipeline.main(["--no-migrate"]) != 0:
                print("localdev: pipeline run failed; retrying on the next tick", file=sys.stderr, flush=True)
            time.sleep(max(0.0, args.every - (time.monotonic() - started)))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
