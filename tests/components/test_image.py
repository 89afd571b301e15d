"""The image component's pure parts: the ECR lifecycle policy and the build arguments it refuses.

AWS facts (ECR user guide, "Lifecycle policy properties"): `rulePriority` is a unique integer and "a rule with a
`tagStatus` value of `any` must have the highest value for `rulePriority`"; `tagStatus` is tagged | untagged | any;
`countType` imageCountMoreThan takes a `countNumber` (images to keep) and the only action type is `expire`.
(The content-hash tag itself is tested in tests/infra/test_service.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.image import AppImageArgs, lifecycle_policy


@pytest.mark.parametrize("keep", [1, 20, 1000])
def test_lifecycle_keeps_the_newest_n_images_tagged_or_not(keep: int) -> None:
    [rule] = json.loads(lifecycle_policy(keep))["rules"]
    assert rule["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep}
    assert rule["action"] == {"type": "expire"}
    assert rule["rulePriority"] == 1  # the only rule, so `any` has the highest priority
    assert rule["description"] == f"keep the newest {keep} images"


def image_args(tmp_path: Path, **overrides: object) -> AppImageArgs:
    dockerfile = tmp_path / "app" / "Dockerfile"
    dockerfile.parent.mkdir(exist_ok=True)
    dockerfile.write_text("FROM scratch\n")
    base: dict[str, object] = {
        "context": tmp_path,
        "dockerfile": dockerfile,
        "aws_regions": ["eu-west-1"],
        "repository_name": "global-api-staging/app",
    }
    return AppImageArgs(**{**base, **overrides})  # type: ignore[arg-type]


def test_valid_args_are_accepted(tmp_path: Path) -> None:
    args = image_args(tmp_path)
    assert (args.platform, args.keep_images, args.force_delete) == ("linux/amd64", 20, False)


def test_bad_args_fail_before_any_resource(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="aws_regions: got none; allowed: at least one AWS region"):
        image_args(tmp_path, aws_regions=[])
    with pytest.raises(ValueError, match="keep_images: got 0; allowed: at least 1"):
        image_args(tmp_path, keep_images=0)
    with pytest.raises(ValueError, match=r"dockerfile: .*/missing does not exist"):
        image_args(tmp_path, dockerfile=tmp_path / "missing")
    outside = tmp_path.parent / f"{tmp_path.name}-Dockerfile"
    outside.write_text("FROM scratch\n")
    with pytest.raises(ValueError, match="is not inside the context"):
        image_args(tmp_path, dockerfile=outside)
