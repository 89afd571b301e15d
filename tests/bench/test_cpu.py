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
    assert group_of(14, "wrk", {10}) == "wrk"
    assert group_of(15, "python", {10}) == "other"


def test_a_spinning_grandchild_of_the_app_counts_as_app() -> None:
    spin = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'while True: pass'])"
    parent = subprocess.Popen([sys.executable, "-c", spin], start_new_session=True)
    try:
        time.sleep(1.0)  # the grandchild is running
        with cpu_profile(parent.pid) as profile:
            time.sleep(1.0)
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
    assert set(profile["cpu_s"]) == set(GROUPS)
    assert profile["cpu_s"]["app"] >= 0.3  # one core spinning for a second (the machine is shared: not all of it)
    assert profile["share"]["app"] <= profile["machine_busy_share"] + 0.05
    assert 0 < profile["machine_busy_share"] <= 1
    assert profile["cpus"] == os.cpu_count()
