"""The fast server stack (uvloop + httptools) everywhere the app runs: the image, `make run` and the benchmarks."""

import asyncio
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvloop

from app.server import SERVER_STACK
from bench.servers import LEGACY_STACK
from localdev.run import app_command
from tests.app.image_server import DOCKERFILE, REPO, image_command, image_server


def test_image_runs_uvicorn_on_the_fast_stack() -> None:
    assert image_command() == ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", *SERVER_STACK]  # noqa: S104 - in the container
    assert SERVER_STACK == (
        "--loop", "uvloop", "--http", "app.http_limits:HeaderTimeoutHttpToolsProtocol",
        "--timeout-keep-alive", "65", "--limit-concurrency", "4096",
    )  # fmt: skip


def test_make_run_uses_the_same_stack() -> None:
    command = app_command("127.0.0.1", 8000)
    assert command[1:3] == ["-m", "uvicorn"]
    assert command[-len(SERVER_STACK) :] == list(SERVER_STACK)


def test_image_installs_the_extras_the_stack_names() -> None:
    """The image installs exactly `uv export --only-group app` (see its build stage): uvloop and httptools must be in
    it, pinned with hashes, or the CMD above fails at start."""
    uv = shutil.which("uv")
    assert uv, "uv is installed by scripts/bootstrap.sh"
    export = subprocess.run(
        [uv, "export", "--frozen", "--only-group", "app", "--no-emit-project", "--format", "requirements-txt"],
        cwd=REPO, capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    assert "uv export --frozen --only-group app" in DOCKERFILE.read_text()
    for package in ("uvloop", "httptools"):
        assert re.search(rf"^{package}==\S+ ", export, re.MULTILINE), f"{package} missing from the app group"
    assert "--hash=sha256:" in export


@pytest.fixture(scope="module")
def image_process() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The image's CMD run here, from the venv, on a free loopback port."""
    with image_server() as server:
        yield server.proc, server.url


def test_image_command_serves_on_uvloop_and_httptools(image_process: tuple[subprocess.Popen[bytes], str]) -> None:
    """The compiled event loop and parser are loaded in the serving process (h11/asyncio would load neither)."""
    proc, _ = image_process
    maps = Path(f"/proc/{proc.pid}/maps").read_text()
    assert re.search(r"/uvloop/loop\.cpython-[^/]*\.so", maps)
    assert re.search(r"/httptools/parser/parser\.cpython-[^/]*\.so", maps)


def test_legacy_stack_is_the_previous_default() -> None:
    """The benchmark's baseline is what the image ran before: uvicorn without its extras."""
    assert LEGACY_STACK == ("--loop", "asyncio", "--http", "h11")


def _accepted_nodelay(run: "type[asyncio.Runner] | None") -> int:
    """TCP_NODELAY of a connection accepted on a listener bound like uvicorn --workers binds it (proto 0)."""

    async def accept_one() -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        loop = asyncio.get_running_loop()
        accepted: asyncio.Future[int] = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Probe, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname())
        try:
            return await asyncio.wait_for(accepted, 5)
        finally:
            writer.close()
            server.close()

    if run is None:
        return uvloop.run(accept_one())
    with run() as runner:
        return runner.run(accept_one())


def test_uvloop_sets_nodelay_where_asyncio_loses_it() -> None:
    """Why the image may run --workers N on the fast stack without bench.uvicorn_tcp (Kludex/uvicorn#3149):
    uvloop sets TCP_NODELAY on every accepted TCP connection; asyncio does not on a proto-0 listener."""
    assert _accepted_nodelay(None) == 1
    assert _accepted_nodelay(asyncio.Runner) == 0
