"""The image's CMD (uvicorn with the stack's limits) as a real process on a free loopback port, without any database."""

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

from localdev.cluster import free_port
from tests.app.test_server_stack import NO_DATABASE, REPO, image_command


@contextlib.contextmanager
def image_server(**options: str) -> Iterator[int]:
    """Yield the port of the running server; `options` replace CMD option values (limit_concurrency="4")."""
    port = free_port()
    argv = image_command()
    for name, value in {"host": "127.0.0.1", "port": str(port), **options}.items():
        argv[argv.index(f"--{name.replace('_', '-')}") + 1] = value
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")} | {"DATABASE_URL": NO_DATABASE}
    proc = subprocess.Popen([sys.executable, "-m", *argv], cwd=REPO, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"the server exited with {proc.returncode}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start within 30 s"
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
