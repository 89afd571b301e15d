"""The image's CMD (uvicorn with the stack's limits) as a real process on a free loopback port, without any database;
shared by the server-stack, slow-client and over-capacity tests."""

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from localdev.cluster import free_port

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "app" / "Dockerfile"
# Nothing listens on port 1: the app must start (and answer /health) without any database.
NO_DATABASE = "postgresql://app@127.0.0.1:1/app"


def image_command() -> list[str]:
    """The image's CMD (exec form, JSON)."""
    match = re.search(r"^CMD (\[.*\])$", DOCKERFILE.read_text(), re.MULTILINE)
    assert match, "app/Dockerfile has no exec-form CMD"
    command: list[str] = json.loads(match.group(1))
    return command


@dataclass(frozen=True)
class ImageServer:
    proc: "subprocess.Popen[bytes]"
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def image_server(**options: str) -> Iterator[ImageServer]:
    """The server once it answers /health; `options` replace CMD option values (limit_concurrency="4")."""
    port = free_port()
    argv = image_command()
    for name, value in {"host": "127.0.0.1", "port": str(port), **options}.items():
        argv[argv.index(f"--{name.replace('_', '-')}") + 1] = value
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")} | {"DATABASE_URL": NO_DATABASE}
    proc = subprocess.Popen(
        [sys.executable, "-m", *argv], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server = ImageServer(proc, port)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"the image's command exited with {proc.returncode}"
            try:
                with urllib.request.urlopen(f"{server.url}/health", timeout=1) as response:  # noqa: S310 - loopback
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the image's command did not serve /health within 30 s"
                time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=10)
