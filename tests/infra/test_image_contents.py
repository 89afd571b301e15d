"""Every command an ECS task runs must exist in the image: its package is in the build context and copied."""

from __future__ import annotations

import ast
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


def _module_files(module: str) -> list[Path]:
    """The files Python executes to import `module` from the repository: its packages' __init__.py, then the
    module itself (and a package's __main__.py, which `python -m` runs)."""
    parts, files = module.split("."), []
    for depth in range(1, len(parts) + 1):
        files.append(ROOT.joinpath(*parts[:depth], "__init__.py"))
    files += [ROOT.joinpath(*parts).with_suffix(".py"), ROOT.joinpath(*parts, "__main__.py")]
    return [file for file in files if file.is_file()]


def repository_packages_imported(module: str) -> set[str]:
    """Top-level repository packages `module` needs, directly or through other repository modules (read from the
    source, nothing imported), so a package the image lacks shows here rather than as an ImportError in ECS."""
    packages: set[str] = set()
    seen: set[Path] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        for file in _module_files(name):
            if file in seen:
                continue
            seen.add(file)
            packages.add(name.split(".")[0])
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    pending += [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    pending += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        pending = [n for n in pending if (ROOT / n.split(".")[0]).is_dir()]
    return packages


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


def test_every_repository_package_a_task_imports_ships_in_the_image(each_stack: Evaluation) -> None:
    """The app and the jobs import contracts/ (names shared with the infra): it must be copied like app/."""
    files, copied = context_files(), copied_dirs()
    for module in modules_run(each_stack):
        packages = repository_packages_imported(module)
        assert "contracts" in packages, module  # the walk reaches the shared names
        for package in packages:
            assert package in copied, f"app/Dockerfile does not COPY {package}/ (imported by {module})"
            assert f"{package}/__init__.py" in files, f".dockerignore keeps {package}/ out of the build context"
        # The image has only the app's dependency group: infrastructure code would not even import there.
        assert not packages & {"stacks", "components", "offline", "policy", "ops", "localdev", "bench", "tests"}
