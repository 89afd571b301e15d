"""`python -m localdev run` (what `make run` runs) as a subprocess in its own state directory, with what it printed.

The run gets a free app port and `--state-dir .local/localdev-test-<pid>` (its cluster picks free ports itself), so
it can run beside the other suites' clusters and beside a developer's own `make run`, whose .local/run it never
touches. The state directory sits under .local/ because PostgreSQL runs as `postgres` when we are root and must
reach it (pytest's tmp_path is private to root).
"""

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from localdev.cluster import free_port
from localdev.run import LOCAL, REPO, RUN_DIR_NAME, stop

READY: Final = "localdev: Ctrl-C stops the app and the cluster"
STATE_PREFIX: Final = "localdev-test-"
# The test process's own settings must not leak into the run: it gets exactly what `make run` gives its children.
OWN_VARIABLES: Final = ("DATABASE_", "ANALYTICS_", "SMTP_", "MAIL_", "STREAM_", "SESSION_", "REQUEST_")


def clean_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith(OWN_VARIABLES)}


def _search(pattern: str, text: str) -> re.Match[str]:
    found = re.search(pattern, text, re.MULTILINE)
    assert found is not None, f"`make run` printed no line matching {pattern!r}:\n{text}"
    return found


@dataclass(frozen=True)
class Hints:
    """What `make run` told the person, read back from its output (each field fails loudly when missing)."""

    base: str
    token: str
    dashboard: str
    mrr_url: str
    mrr_header: tuple[str, str]
    smtp_url: str
    mail_dir: Path
    reports_command: str

    @classmethod
    def parse(cls, text: str) -> "Hints":
        curl = shlex.split(_search(r"^\s*curl -s -H 'Authorization: .*/api/analytics/mrr.*$", text).group(0))
        name, _, value = curl[curl.index("-H") + 1].partition(": ")
        sink = _search(r"SMTP sink on (smtp://\S+); received mail is written to (\S+)/$", text)
        return cls(
            base=_search(r"localdev: app on (http://\S+) ", text).group(1),
            token=_search(r"analytics token for this run: (\S+) ", text).group(1),
            dashboard=_search(r"localdev: dashboard on (http://\S+) ", text).group(1),
            mrr_url=curl[-1],
            mrr_header=(name, value),
            smtp_url=sink.group(1),
            mail_dir=REPO / sink.group(2),  # printed relative to the checkout when inside it, else absolute
            reports_command=_search(r"^\s*(\S.* python -m analytics\.reports)\b", text).group(1),
        )

    def mrr_query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.mrr_url).query))


@dataclass
class LocalRun:
    proc: subprocess.Popen[str]
    state_dir: Path
    port: int
    lines: list[str]

    def output(self) -> str:
        return "".join(self.lines)

    @property
    def run_dir(self) -> Path:
        return self.state_dir / RUN_DIR_NAME

    def pid(self, pid_file: str) -> int:
        return int(json.loads((self.run_dir / pid_file).read_text())["pid"])

    def interrupt(self) -> int:
        """Ctrl-C as a terminal sends it (SIGINT to the foreground process group); the exit code."""
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(timeout=90)


def _drain(proc: subprocess.Popen[str], lines: list[str], ready: threading.Event) -> None:
    """Keep the pipe empty (uvicorn logs every request) and note when the run says it is ready."""
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(READY):
            ready.set()
    ready.set()  # the run ended: whoever waits looks at the exit code


def alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet has already let go of its ports and files)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def port_in_use(port: int) -> bool:
    """Someone listens on the loopback port (SO_REUSEADDR as a server binds: TIME_WAIT leftovers do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _sweep_crashed_runs() -> None:
    """State directories of earlier test runs whose pytest process died (SIGKILL): stop what they left."""
    for state_dir in LOCAL.glob(f"{STATE_PREFIX}*"):
        pid = state_dir.name.removeprefix(STATE_PREFIX)
        if pid.isdigit() and not alive(int(pid)):
            stop(quiet=True, local=state_dir)
            shutil.rmtree(state_dir, ignore_errors=True)


@contextlib.contextmanager
def local_run(start_timeout_s: float = 240) -> Iterator[LocalRun]:
    """The real `python -m localdev run`, ready (its hints printed); stopped and removed afterwards."""
    _sweep_crashed_runs()
    state_dir = LOCAL / f"{STATE_PREFIX}{os.getpid()}"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "localdev", "run", "--port", str(port), "--state-dir", str(state_dir)],
        cwd=REPO,
        env=clean_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    lines: list[str] = []
    ready = threading.Event()
    threading.Thread(target=_drain, args=(proc, lines, ready), daemon=True).start()
    run = LocalRun(proc, state_dir, port, lines)
    try:
        deadline = time.monotonic() + start_timeout_s
        while not ready.wait(timeout=1) and time.monotonic() < deadline:
            pass
        if proc.poll() is not None or not ready.is_set():
            raise AssertionError(f"`localdev run` not ready (exit code {proc.poll()}):\n{run.output()}")
        yield run
    finally:
        if proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                run.interrupt()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stop(quiet=True, local=state_dir)  # whatever a failed stop left behind
        shutil.rmtree(state_dir, ignore_errors=True)
