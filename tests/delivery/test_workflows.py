"""The delivery workflow keeps the promises of issue 10, and its linters can actually fail.

The YAML is parsed and checked for what a reviewer of a deploy pipeline looks for (stacks, policy pack,
OIDC-only AWS access, least privilege, pinned actions, one update per stack at a time, a gate before
production); then the real lint script runs over deliberately bad workflows to prove `make test` catches them.
"""

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / ".github"
WORKFLOW = GITHUB / "workflows" / "delivery.yml"
PULUMI_ACTION = "./.github/actions/pulumi-stack"
LINT_SCRIPT = ROOT / "scripts" / "lint-workflows.sh"
STACKS = ["staging", "production"]

Doc = dict[Any, Any]  # Any keys: YAML 1.1 reads a bare `on` key as True


def load(path: Path) -> Doc:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict), f"{path} is not a YAML mapping"
    return doc


def all_yaml_files() -> list[Path]:
    """Every workflow and composite action: the properties below must hold in all of them."""
    return sorted([*GITHUB.glob("workflows/*.yml"), *GITHUB.glob("actions/*/action.yml")])


def steps(doc: Doc) -> Iterator[Doc]:
    """Steps of every job of a workflow, or of a composite action."""
    if "runs" in doc:
        yield from doc["runs"]["steps"]
    for job in doc.get("jobs", {}).values():
        yield from job.get("steps", [])


def uses(step: Doc) -> str:
    """The action a step uses, without its ref (`owner/repo@sha` -> `owner/repo`)."""
    return str(step.get("uses", "")).split("@")[0]


@pytest.fixture(scope="module")
def workflow() -> Doc:
    return load(WORKFLOW)


@pytest.fixture(scope="module")
def jobs(workflow: Doc) -> dict[str, Doc]:
    return dict(workflow["jobs"])


def pulumi_call(job: Doc) -> Doc:
    calls: list[Doc] = [step for step in job["steps"] if step.get("uses") == PULUMI_ACTION]
    [call] = calls
    return call


def pulumi_jobs(jobs: dict[str, Doc], command: str) -> dict[str, Doc]:
    return {
        name: job
        for name, job in jobs.items()
        if any(s.get("uses") == PULUMI_ACTION and s["with"]["command"] == command for s in job["steps"])
    }


def test_triggers_are_pull_requests_and_pushes_to_main(workflow: Doc) -> None:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert on == {"pull_request": {"branches": ["main"]}, "push": {"branches": ["main"]}}


def test_pull_requests_preview_every_stack_with_one_comment_each(jobs: dict[str, Doc]) -> None:
    [job] = pulumi_jobs(jobs, "preview").values()
    assert job["if"] == "github.event_name == 'pull_request'"
    assert job["strategy"]["matrix"]["stack"] == STACKS
    assert job["strategy"]["fail-fast"] is False, "one stack's failure must not hide the other's preview"
    call = pulumi_call(job)["with"]
    assert call["stack"] == "${{ matrix.stack }}"
    assert call["comment-on-pr"] == "true"


def test_tests_run_before_any_pulumi_command(jobs: dict[str, Doc]) -> None:
    runs = [s["run"] for s in jobs["test"]["steps"] if "run" in s]
    assert "make test" in runs
    for name in [*pulumi_jobs(jobs, "preview"), "up-staging"]:
        assert jobs[name]["needs"] == "test", name


def test_pulumi_runs_with_policy_pack_and_edits_its_comment() -> None:
    action = load(ROOT / PULUMI_ACTION / "action.yml")
    [pulumi] = [s for s in steps(action) if uses(s) == "pulumi/actions"]
    assert pulumi["with"]["policyPacks"] == "policy"
    assert pulumi["with"]["edit-pr-comment"] == "true"
    assert pulumi["with"]["stack-name"] == "${{ inputs.stack }}"
    assert pulumi["with"]["command"] == "${{ inputs.command }}"
    assert pulumi["with"]["comment-on-pr"] == "${{ inputs.comment-on-pr }}"
    assert pulumi["env"] == {"PULUMI_ACCESS_TOKEN": "${{ inputs.pulumi-access-token }}"}
    [aws] = [s for s in steps(action) if uses(s) == "aws-actions/configure-aws-credentials"]
    assert aws["with"]["role-to-assume"] == "${{ inputs.role-to-assume }}"
    order = list(steps(action))
    assert order.index(aws) < order.index(pulumi), "credentials must be configured before Pulumi runs"


def test_aws_access_is_oidc_with_a_role_from_repository_variables(jobs: dict[str, Doc]) -> None:
    calls = {name: pulumi_call(job)["with"] for name, job in jobs.items() if name != "test"}
    assert set(calls) == {"preview", "up-staging", "up-production"}
    for name, call in calls.items():
        assert re.fullmatch(r"\$\{\{ vars\.AWS_\w+_ROLE_ARN \}\}", call["role-to-assume"]), name
        assert call["pulumi-access-token"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}", name
    for path in all_yaml_files():
        text = path.read_text()
        for key in (
            "aws-access-key-id",
            "aws-secret-access-key",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ):
            assert key not in text, f"{path.name} mentions {key}: long-lived AWS keys are not allowed"
        assert not re.search(r"secrets\.AWS", text), f"{path.name} reads an AWS secret"


def test_permissions_are_empty_by_default_and_minimal_per_job(workflow: Doc, jobs: dict[str, Doc]) -> None:
    assert workflow["permissions"] == {}
    for name, job in jobs.items():
        expected = {"contents": "read"}
        if any(s.get("uses") == PULUMI_ACTION for s in job["steps"]):
            expected["id-token"] = "write"
            if pulumi_call(job)["with"].get("comment-on-pr") == "true":
                expected["pull-requests"] = "write"
        assert job["permissions"] == expected, name


def test_every_action_is_pinned_to_a_commit_with_its_version() -> None:
    pattern = re.compile(r"uses:\s*(\S+)(.*)$")
    remote = 0
    for path in all_yaml_files():
        for line in path.read_text().splitlines():
            match = pattern.search(line)
            if not match or match[1].startswith("./"):
                continue
            remote += 1
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", match[1]), f"{path.name}: {line.strip()}"
            assert re.fullmatch(r"\s*# v\d+(\.\d+)*", match[2]), f"{path.name}: no version comment: {line}"
    assert remote >= 5, "expected checkout, setup-python, setup-uv, aws credentials and pulumi actions"


def test_updates_never_overlap_or_get_cancelled_per_stack(jobs: dict[str, Doc]) -> None:
    ups = pulumi_jobs(jobs, "up")
    assert {pulumi_call(job)["with"]["stack"] for job in ups.values()} == set(STACKS)
    groups = set()
    for name, job in ups.items():
        stack = pulumi_call(job)["with"]["stack"]
        assert job["if"] == "github.event_name == 'push'", name
        assert stack in job["concurrency"]["group"], name
        assert job["concurrency"]["cancel-in-progress"] is False, name
        groups.add(job["concurrency"]["group"])
    assert len(groups) == len(ups), "each stack needs its own concurrency group"
    [preview] = pulumi_jobs(jobs, "preview").values()
    assert "${{ matrix.stack }}" in preview["concurrency"]["group"]


def test_production_needs_staging_and_a_reviewed_environment(jobs: dict[str, Doc]) -> None:
    production = jobs["up-production"]
    assert pulumi_call(production)["with"]["stack"] == "production"
    assert production["needs"] == "up-staging"
    assert production["environment"] == "production"
    assert "required reviewers" in WORKFLOW.read_text().lower()


def test_checkout_never_persists_the_token() -> None:
    checkouts = [s for p in all_yaml_files() for s in steps(load(p)) if uses(s) == "actions/checkout"]
    assert checkouts
    for step in checkouts:
        assert step["with"]["persist-credentials"] is False


def test_no_expression_is_expanded_inside_a_shell_script() -> None:
    scripts = [s["run"] for p in all_yaml_files() for s in steps(load(p)) if "run" in s]
    assert scripts
    for script in scripts:
        assert "${{" not in script, f"template expansion in a run script: {script!r}"


def lint(github_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_SCRIPT), str(github_dir)], capture_output=True, text=True, timeout=300, check=False)


BAD_WORKFLOWS = {
    # zizmor: an action pinned to a movable tag.
    "unpinned-uses": """
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
""",
    # actionlint: an expression naming a job that does not exist.
    'property "nope" is not defined': """
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    if: needs.nope.result == 'success'
    steps:
      - run: echo hello
""",
    # both: untrusted pull-request text expanded into a shell script.
    "template-injection": """
on: pull_request
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
""",
}


def test_the_committed_workflows_pass_both_linters(tmp_path: Path) -> None:
    """The baseline for the failures below: the same script passes on the real files."""
    shutil.copytree(GITHUB, tmp_path / ".github")
    result = lint(tmp_path / ".github")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("marker", "text"), BAD_WORKFLOWS.items(), ids=list(BAD_WORKFLOWS))
def test_a_bad_workflow_fails_the_lint(tmp_path: Path, marker: str, text: str) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "bad.yml").write_text(text.lstrip())
    result = lint(tmp_path / ".github")
    assert result.returncode != 0
    assert marker in result.stdout + result.stderr


def test_a_missing_workflows_directory_is_named(tmp_path: Path) -> None:
    result = lint(tmp_path)
    assert result.returncode == 2
    assert f"no workflows directory at {tmp_path}/workflows" in result.stderr
