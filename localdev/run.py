"""`python -m localdev run|stop`: the local cluster, migrations and the app, stopped cleanly on Ctrl-C.

Side services (the analytics database and its pipeline, ...) each enter the `services` stack in `run` and
contribute their own lines to what is printed once the app answers, so features add theirs without touching others'.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Final

from app.db_roles import APP_ROLE
from app.server import SERVER_STACK
from contracts import environment as variables
from contracts.headers import CLOUDFRONT_VIEWER_COUNTRY, DB_NODE
from contracts.regions import Region
from localdev.analytics import (
    PIPELINE_MARKER,
    PIPELINE_PID_FILE,
    analytics_environment,
    analytics_hints,
    running_analytics,
)
from localdev.cluster import PRIMARY, REPLICAS, STATE_FILE, Cluster, ClusterError, cleanup
from localdev.mail_sink import MailSink

REPO: Final = Path(__file__).resolve().parent.parent
LOCAL: Final = REPO / ".local"  # the default state directory (`--state-dir`): the run's cluster and its mail
RUN_DIR_NAME: Final = "run"
APP_PID_FILE: Final = "app.json"
LOCAL_PRIMARY_REGION: Final[Region] = "eu"
EXAMPLES: Final = (("DE", "eu"), ("US", "us"), ("JP", "asia"))
MAIL_DIR_NAME: Final = "mail"  # what the local SMTP sink received, one .eml per message; kept after stop
LOCAL_SENDER: Final = "reports@example.com"


def app_environment(cluster: Cluster) -> dict[str, str]:
    """The app's environment (DESIGN.md names) pointing at the local nodes, logged in as the app's role."""
    env = {
        **os.environ,
        variables.DATABASE_URL: cluster.dsn(PRIMARY, user=APP_ROLE),
        variables.DATABASE_PRIMARY_REGION: LOCAL_PRIMARY_REGION,
    }
    for region in REPLICAS:
        env[variables.DATABASE_READ_REPLICA[region]] = cluster.dsn(region, user=APP_ROLE)
    return env


def app_command(host: str, port: int) -> list[str]:
    """uvicorn serving the app on the same server stack as the image."""
    return [sys.executable, "-m", "uvicorn", "app.main:app", "--host", host, "--port", str(port), *SERVER_STACK]


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ClusterError(f"the app exited with code {proc.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - fixed local http URL
                return
        except OSError:
            time.sleep(0.2)
    raise ClusterError(f"the app did not answer {url} within {timeout_s}s")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop_app(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(host: str = "127.0.0.1", port: int = 8000, *, demo: bool = True, local: Path = LOCAL) -> int:
    """Start everything, print examples, and block until Ctrl-C/SIGTERM or the app exits.

    `demo`: seed the demo billing history when the billing tables are empty. `local`: the state directory (the
    cluster in `run/`, received mail in `mail/`); another one lets a second run (the tests) leave `make run`'s alone.
    """
    run_dir, mail_dir = local / RUN_DIR_NAME, local / MAIL_DIR_NAME
    if not _port_free(host, port):
        print(
            f"localdev: {host}:{port} is already in use: another `make run`, or a crashed one (then run `make stop`)",
            file=sys.stderr,
        )
        return 1
    # Explicit for both: a shell starting us in the background leaves SIGINT ignored by default.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    stop(quiet=True, local=local)  # leftovers of a crashed run
    proc: subprocess.Popen[bytes] | None = None
    sink = MailSink(mail_dir)
    services = contextlib.ExitStack()
    try:
        sink.start()
        print(f"localdev: starting PostgreSQL primary + {'/'.join(REPLICAS)} replicas under {run_dir}")
        cluster = Cluster.create(run_dir)
        env = {**app_environment(cluster), variables.SMTP_URL: sink.url, variables.MAIL_FROM: LOCAL_SENDER}
        env |= analytics_environment(cluster)
        # Migrations run as the cluster's superuser (the owner), like the master user's migration container in AWS.
        migrate_env = {**env, variables.DATABASE_URL: cluster.dsn(PRIMARY)}
        subprocess.run([sys.executable, "-m", "app.migrate"], env=migrate_env, cwd=REPO, check=True)
        services.enter_context(running_analytics(cluster, env, REPO, run_dir, demo=demo))
        proc = subprocess.Popen(app_command(host, port), env=env, cwd=REPO, start_new_session=True)
        (run_dir / APP_PID_FILE).write_text(json.dumps({"pid": proc.pid}))
        base = f"http://{host}:{port}"
        _wait_http(f"{base}/health", proc)
        print(f"\nlocaldev: app on {base} (primary region {LOCAL_PRIMARY_REGION}). Try ({DB_NODE}: the serving node):")
        for country, region in EXAMPLES:
            print(f"  curl -si -H '{CLOUDFRONT_VIEWER_COUNTRY}: {country}' {base}/api/companies   # -> {region}")
        print("\n".join(analytics_hints(base, env, run_dir)))
        _print_reports_help(env, mail_dir)
        print("localdev: Ctrl-C stops the app and the cluster\n", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        print("\nlocaldev: stopping", flush=True)
        return 0
    except (ClusterError, subprocess.CalledProcessError) as exc:
        print(f"localdev: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if proc is not None:
            _stop_app(proc)
        services.close()
        sink.stop()
        cleanup(run_dir)
        print("localdev: stopped", flush=True)


def _shown(path: Path) -> Path:
    """A path as printed: relative to the checkout when inside it (the default state directory)."""
    return path.relative_to(REPO) if path.is_relative_to(REPO) else path


def _print_reports_help(env: dict[str, str], mail_dir: Path) -> None:
    """How to run the report runner against this data plane; its mail lands in `mail_dir`."""
    names = (variables.ANALYTICS_DATABASE_URL, variables.SMTP_URL, variables.MAIL_FROM)
    assignments = " ".join(f"{name}='{env[name]}'" for name in names if env.get(name))
    sink = env[variables.SMTP_URL]
    print(f"localdev: SMTP sink on {sink}; received mail is written to {_shown(mail_dir)}/")
    print(f"  {assignments} uv run --frozen --no-sync python -m analytics.reports   # send due reports")


def _abandoned(root: Path, run_dir: Path) -> bool:
    """A cluster directory nobody runs any more: the `make run` one (`run_dir`), or `<name>-<pid>` (tests,
    benchmarks) whose process has exited. Anything else under the state directory is not ours to touch."""
    if not (root / STATE_FILE).exists():
        return False
    if root == run_dir:
        return True
    _, _, pid = root.name.rpartition("-")
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def stop(quiet: bool = False, local: Path = LOCAL) -> int:
    """Clean up after a crash: stop the app and every node left under the state directory, then remove their dirs."""
    run_dir = local / RUN_DIR_NAME
    for name, marker in ((APP_PID_FILE, b"app.main:app"), (PIPELINE_PID_FILE, PIPELINE_MARKER)):
        pid_file = run_dir / name
        if not pid_file.exists():
            continue
        pid = int(json.loads(pid_file.read_text())["pid"])
        cmdline = Path(f"/proc/{pid}/cmdline")
        # Only signal the pid if it still is our process (pids get reused after a crash or reboot).
        with contextlib.suppress(OSError):  # already gone
            if marker in cmdline.read_bytes():
                os.kill(pid, signal.SIGTERM)
                if not quiet:
                    print(f"localdev: stopped process {pid} ({marker.decode()})")
    for root in sorted(local.glob("*")):
        if not _abandoned(root, run_dir):
            continue
        for datadir in cleanup(root):
            if not quiet:
                print(f"localdev: stopped {_shown(datadir)}")
    return 0
