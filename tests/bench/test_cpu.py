"""bench.cpu: the /proc parsing and grouping behind the users benchmark's CPU profile (the smoke run checks the
whole profile on real processes)."""

import os
import signal
import subprocess
import sys
import time

from bench.cpu import CLOCK_TICKS, GROUPS, cpu_profile, group_of, parse_stat


def test_stat_line_with_spaces_and_parentheses_in_the_command() -> None:
    # proc(5) layout: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    # ... cutime cstime priority nice num_threads itrealvalue starttime ...
    line = (
        f"4242 (we (ird) name) S 17 4242 4242 0 -1 4194560 10 0 0 0 {3 * CLOCK_TICKS} {2 * CLOCK_TICKS} 0 0 20 0"
        " 1 0 987654 12345 678"
    )
    assert parse_stat(line) == ("we (ird) name", 17, 5.0, 987654)


def test_groups() -> None:
    assert group_of(10, "python", {10, 11}) == "app"
    assert group_of(12, "postgres", {10}) == "database"
    assert group_of(13, "pgpool", {10}) == "database"
    assert group_of(14, "wrk", {10}) == "generator"
    assert group_of(15, "python", {10}) == "other"


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(child) for child in listing.read().split()]


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        return parse_stat(stat.read())[2]


def test_a_spinning_grandchild_of_the_app_counts_as_app() -> None:
    spin = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'while True: pass'])"
    parent = subprocess.Popen([sys.executable, "-c", spin], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not _children(parent.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        (grandchild,) = _children(parent.pid)
        with cpu_profile(parent.pid) as profile:
            before = _cpu_s(grandchild)
            # On a loaded shared machine the spinner gets what the scheduler gives it: wait for a measurable share.
            while _cpu_s(grandchild) - before < 0.3 and time.monotonic() < deadline + 10:
                time.sleep(0.1)
            spun = _cpu_s(grandchild) - before
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
    assert spun >= 0.3
    assert set(profile["cpu_s"]) == set(GROUPS)
    # Everything the grandchild spun in the window is the app's (less a tick of rounding at each end).
    assert profile["cpu_s"]["app"] >= spun - 2 / CLOCK_TICKS
    assert profile["share"]["app"] <= profile["machine_busy_share"] + 0.05
    assert 0 < profile["machine_busy_share"] <= 1
    assert profile["cpus"] == os.cpu_count()


def test_a_load_generator_that_ends_inside_the_window_is_counted() -> None:
    """A generator (wrk, bench.think_users) runs to completion inside the window: it is gone from /proc when the
    window closes."""
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    with cpu_profile(os.getpid()) as profile:
        subprocess.run([sys.executable, "-c", burn], check=True, timeout=60)
    assert profile["cpu_s"]["generator"] >= 0.3 - 2 / CLOCK_TICKS
