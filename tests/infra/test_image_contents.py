"""Every command an ECS task runs must exist in the image: its package is in the build context and copied."""

from __future__ import annotations

import json
import re
from pathlib import Path

from docker.utils.build import exclude_paths  # type: ignore[import-untyped]

from offline.harness import ROOT, Evaluation

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"


def context_files() -> set[str]:
    patterns = [p.strip() for p in (ROOT / ".dockerignore").read_text().splitlines()]
    return set(exclude_paths(str(ROOT), [p for p in patterns if p and not p.startswith("#")]))


def copied_dirs() -> set[str]:
    dockerfile = (ROOT / "app" / "Dockerfile").read_text()
    return {m.group(1).rstrip("/") for m in re.finditer(r"^COPY (?!--from)(\S+) ", dockerfile, re.MULTILINE)}


def modules_run(evaluation: Evaluation) -> set[str]:
    """`python -m x.y` commands of every container, plus the image's own `uvicorn app.main:app`."""
    modules = {"app.main"}
    for task in evaluation.of_type(TASK_DEFINITION):
        definitions = task.inputs["containerDefinitions"]
        if not isinstance(definitions, str):  # a secret flowed in; the service tests report that
            continue
        for container in json.loads(definitions):
            command = container.get("command") or []
            if command[:2] == ["python", "-m"]:
                modules.add(command[2])
    return modules


def test_every_module_a_task_runs_ships_in_the_image(each_stack: Evaluation) -> None:
    files, copied = context_files(), copied_dirs()
    modules = modules_run(each_stack)
    assert {"app.migrate", "analytics.pipeline", "analytics.reports"} <= modules
    for module in modules:
        package, base = module.split(".")[0], Path(*module.split("."))
        assert package in copied, f"app/Dockerfile does not COPY {package}/ (needed by {module})"
        runnable = {str(base.with_suffix(".py")), str(base / "__main__.py")}  # a module or a package
        assert runnable & files, f".dockerignore keeps {base} (.py or /__main__.py) out of the build context"
    assert not any(f.startswith(("tests/", ".venv/", ".local/")) for f in files)
