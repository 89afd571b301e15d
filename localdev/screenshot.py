"""`python -m localdev.screenshot docs/dashboard.png` (part of `make docs`): the dashboard on the demo data, as
headless Chromium renders it. Starts its own cluster, seed, pipeline and app, and removes them afterwards."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from contracts.environment import ANALYTICS_API_TOKENS
from localdev.analytics import analytics_environment, running_analytics
from localdev.cluster import Cluster, cleanup, free_port
from localdev.run import LOCAL, REPO, _stop_app, _wait_http, app_command, app_environment

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def shoot(base: str, token: str, out: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/dashboard/sign-in", timeout=120_000)
        page.get_by_label("Analytics token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.locator("#live-status").filter(has_text="Live").wait_for(timeout=120_000)
        page.screenshot(path=str(out), full_page=True)
        browser.close()


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/dashboard.png").resolve()
    root = LOCAL / f"docs-{os.getpid()}"
    proc: subprocess.Popen[bytes] | None = None
    try:
        cluster = Cluster.create(root)
        env = {**app_environment(cluster), **analytics_environment(cluster)}
        subprocess.run([sys.executable, "-m", "app.migrate"], env=env, cwd=REPO, check=True)
        with running_analytics(cluster, env, REPO, root, demo=True):
            port = free_port()
            proc = subprocess.Popen(app_command("127.0.0.1", port), env=env, cwd=REPO, start_new_session=True)
            base = f"http://127.0.0.1:{port}"
            _wait_http(f"{base}/health", proc, timeout_s=60)
            shoot(base, env[ANALYTICS_API_TOKENS], out)
    finally:
        if proc is not None:
            _stop_app(proc)
        with contextlib.suppress(Exception):
            cleanup(root)
    print(f"localdev.screenshot: wrote {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
