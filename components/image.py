"""The app's container image: built once with pulumi-docker and pushed to an ECR repository in every region using it.

Layout: one repository per region, the same build pushed to each (not one repository plus ECR replication):
- ECR replication is a registry-wide, per-account setting (`aws.ecr.ReplicationConfiguration`), so two stacks in one
  account (staging, production) would overwrite each other's rules;
- replication is asynchronous, so an ECS deployment in another region could try to pull a digest that has not
  arrived yet and roll back; pushing from the program finishes before any task definition refers to the image;
- repositories created by replication get default settings, while ours are declared with KMS, scan on push,
  immutable tags and a lifecycle policy in every region.

Tagging: the tag is a hash of exactly what Docker would send as the build context (`.dockerignore` honoured by
docker-py's own matcher) plus the Dockerfile, so an unchanged app keeps its tag and digest; immutable tags make a
changed app get a new one. Tasks refer to the image by digest (`repo@sha256:…`), so they redeploy only when the
image bytes change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
from docker.utils.build import exclude_paths  # type: ignore[import-untyped]

from components.kms import encryption_key

TAG_LENGTH = 20  # hex characters of the content hash used as the tag


@dataclass(frozen=True)
class AppImageArgs:
    """What to build and where to push it."""

    context: Path  # build context directory (absolute)
    dockerfile: Path  # Dockerfile path (absolute, inside the context)
    aws_regions: Sequence[str]  # every region whose tasks run the image; the first one receives the build
    repository_name: str  # ECR repository name, identical in every region (e.g. <stack prefix>/app)
    platform: str = "linux/amd64"  # must match the task definition's runtime platform
    keep_images: int = 20  # lifecycle: keep the newest N images, expire older ones (rollback window)
    force_delete: bool = False  # staging only: allow deleting a repository that still holds images
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.aws_regions:
            raise ValueError("AppImageArgs.aws_regions: got none; allowed: at least one AWS region")
        if not self.dockerfile.is_file():
            raise ValueError(f"AppImageArgs.dockerfile: {self.dockerfile} does not exist")
        if not self.dockerfile.resolve().is_relative_to(self.context.resolve()):
            raise ValueError(f"AppImageArgs.dockerfile: {self.dockerfile} is not inside the context {self.context}")
        if self.keep_images < 1:
            raise ValueError(f"AppImageArgs.keep_images: got {self.keep_images}; allowed: at least 1")


def context_tag(context: Path, dockerfile: Path) -> str:
    """A hash of the build context as Docker sees it (after `.dockerignore`) and of the Dockerfile."""
    ignore_file = context / ".dockerignore"
    patterns = ignore_file.read_text().splitlines() if ignore_file.is_file() else []
    patterns = [p.strip() for p in patterns if p.strip() and not p.strip().startswith("#")]
    digest = hashlib.sha256()
    files = sorted(p for p in exclude_paths(str(context), patterns) if (context / p).is_file())
    for relative in [*files, str(dockerfile.relative_to(context))]:
        digest.update(relative.encode() + b"\0")
        digest.update((context / relative).read_bytes() + b"\0")
    return digest.hexdigest()[:TAG_LENGTH]


def lifecycle_policy(keep_images: int) -> str:
    """Expire everything but the newest `keep_images` images, tagged or not."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"keep the newest {keep_images} images",
                    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_images},
                    "action": {"type": "expire"},
                }
            ]
        }
    )


class AppImage(pulumi.ComponentResource):
    """ECR repositories per region, one docker build, the same image pushed to each; `.image_uris` by digest."""

    repositories: dict[str, aws.ecr.Repository]
    image_uris: dict[str, pulumi.Output[str]]  # AWS region -> <repo url>@sha256:<digest>
    tag: str

    def __init__(self, name: str, args: AppImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("global-api:app:AppImage", name, None, opts)
        self.tag = context_tag(args.context, args.dockerfile)
        self.repositories = {region: self._repository(name, region, args) for region in dict.fromkeys(args.aws_regions)}
        regions = list(self.repositories)
        first = regions[0]
        build = docker.Image(
            f"{name}-build",
            image_name=self._image_name(first),
            build=docker.DockerBuildArgs(
                context=str(args.context),
                dockerfile=str(args.dockerfile),
                platform=args.platform,
                builder_version=docker.BuilderVersion.BUILDER_BUILD_KIT,
            ),
            registry=self._registry(first),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # repo_digest is <repository>@sha256:…; keep only the digest so every region's URI has one shape.
        digest = build.repo_digest.apply(lambda reference: reference.rsplit("@", 1)[-1])
        self.image_uris = {first: pulumi.Output.concat(self.repositories[first].repository_url, "@", digest)}
        for region in regions[1:]:
            self.image_uris[region] = self._copy(name, region, build)
        self.register_outputs({"imageUris": self.image_uris, "tag": self.tag})

    def _repository(self, name: str, region: str, args: AppImageArgs) -> aws.ecr.Repository:
        key = encryption_key(
            f"{name}-{region}-key",
            region=region,
            description=f"App image layers ({region})",
            tags=args.tags,
            parent=self,
        )
        repository = aws.ecr.Repository(
            f"{name}-{region}",
            region=region,
            name=args.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=key.arn)
            ],
            force_delete=args.force_delete,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-{region}-lifecycle",
            region=region,
            repository=repository.name,
            policy=lifecycle_policy(args.keep_images),
            opts=pulumi.ResourceOptions(parent=repository),
        )
        return repository

    def _image_name(self, region: str) -> pulumi.Output[str]:
        return pulumi.Output.concat(self.repositories[region].repository_url, ":", self.tag)

    def _credentials(self, region: str) -> tuple[pulumi.Output[str], pulumi.Output[str], pulumi.Output[str]]:
        """Short-lived ECR credentials (server, user, password) for this region's registry, secret in the state."""
        repository = self.repositories[region]
        token = aws.ecr.get_authorization_token_output(registry_id=repository.registry_id, region=region)
        return repository.repository_url, token.user_name, pulumi.Output.secret(token.password)

    def _registry(self, region: str) -> docker.RegistryArgs:
        server, username, password = self._credentials(region)
        return docker.RegistryArgs(server=server, username=username, password=password)

    def _copy(self, name: str, region: str, build: docker.Image) -> pulumi.Output[str]:
        """Re-tag the one local build for `region`'s repository and push it there (no second build)."""
        server, username, password = self._credentials(region)
        tagged = docker.Tag(
            f"{name}-{region}-tag",
            source_image=build.image_name,
            target_image=self._image_name(region),
            tag_triggers=[build.repo_digest],
            opts=pulumi.ResourceOptions(parent=self),
        )
        pushed = docker.RegistryImage(
            f"{name}-{region}-push",
            name=tagged.target_image,
            auth_config=docker.RegistryImageAuthConfigArgs(address=server, username=username, password=password),
            triggers={"digest": build.repo_digest},
            keep_remotely=True,  # the lifecycle policy expires old images; a replace must not delete a live one
            opts=pulumi.ResourceOptions(parent=tagged),
        )
        return pulumi.Output.concat(self.repositories[region].repository_url, "@", pushed.sha256_digest)
