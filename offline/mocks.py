"""Pulumi mocks that answer like AWS would, closely enough for the program to wire itself together.

Outputs are the inputs plus the computed attributes components read (ARNs, endpoints, DNS names). Invokes the
program makes are answered from a small table; an unknown invoke fails loudly so nothing is silently faked.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"


def _stable(text: str) -> int:
    """A hash that is the same in every run (str hash() is salted per process), so plans and diagrams are stable."""
    return zlib.crc32(text.encode())


def prefix_list_id(region: str, name: str) -> str:
    """The id these mocks answer for the managed prefix list `name` in `region` (tests compare against it)."""
    return f"pl-{_stable(region + '/' + name) % 16**8:08x}"


def _service_of(type_token: str) -> str:
    """`aws:rds/instance:Instance` -> `rds` (used to shape fake ARNs)."""
    module = type_token.split(":")[1] if type_token.count(":") >= 2 else "mock"
    return module.split("/")[0]


def _computed_outputs(args: pulumi.runtime.MockResourceArgs, region: str) -> dict[str, Any]:
    """Attributes AWS computes that the program reads back, per resource type."""
    name, inputs = args.name, args.inputs
    table: dict[str, Callable[[], dict[str, Any]]] = {
        "aws:rds/instance:Instance": lambda: {
            "endpoint": f"{name}.abc123.{region}.rds.amazonaws.com:5432",
            "address": f"{name}.abc123.{region}.rds.amazonaws.com",
            "port": 5432,
            "resourceId": f"db-{name.upper()}",
            "masterUserSecrets": (
                [
                    {
                        "secretArn": f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:rds!db-{name}-AbCdEf",
                        "kmsKeyId": inputs.get("masterUserSecretKmsKeyId", ""),
                        "secretStatus": "active",
                    }
                ]
                if inputs.get("manageMasterUserPassword")
                else []
            ),
        },
        "aws:lb/loadBalancer:LoadBalancer": lambda: {
            "dnsName": f"{name}-1234567890.{region}.elb.amazonaws.com",
            "zoneId": "Z32O12XQLNTSW2",
            "arnSuffix": f"app/{name}/50dc6c495c0c9188",
        },
        "aws:lb/targetGroup:TargetGroup": lambda: {"arnSuffix": f"targetgroup/{name}/73e2d6bc24d8a067"},
        "aws:acm/certificate:Certificate": lambda: {
            # One validation record per name, the certificate's own and each subject alternative name.
            "domainValidationOptions": [
                {
                    "domainName": domain,
                    "resourceRecordName": f"_x1.{domain}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": "_x2.acm-validations.aws.",
                }
                for domain in [inputs.get("domainName", ""), *(inputs.get("subjectAlternativeNames") or [])]
            ]
        },
        "aws:route53/record:Record": lambda: {"fqdn": str(inputs.get("name", "")).rstrip(".")},
        "aws:cloudfront/distribution:Distribution": lambda: {
            "domainName": "d111111abcdef8.cloudfront.net",
            "hostedZoneId": "Z2FDTNDATAQYW2",
        },
        "aws:s3/bucket:Bucket": lambda: {
            "bucket": inputs.get("bucket") or f"{name}-bucket",
            "bucketDomainName": f"{name}-bucket.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{name}-bucket.s3.{region}.amazonaws.com",
        },
        "aws:ecr/repository:Repository": lambda: {
            "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{name}",
            "registryId": ACCOUNT_ID,
        },
        "aws:ec2/vpc:Vpc": lambda: {
            "defaultSecurityGroupId": f"sg-default-{name}",
            "mainRouteTableId": f"rtb-{name}",
        },
        "aws:ec2/instance:Instance": lambda: {
            "privateIp": f"10.0.{_stable(name) % 250}.{_stable(name[::-1]) % 250 + 4}",
            "privateDns": f"ip-{name}.{region}.compute.internal",
        },
        "aws:kms/key:Key": lambda: {"keyId": f"key-{name}"},
        "aws:ec2/vpcEndpoint:VpcEndpoint": lambda: (
            {"prefixListId": prefix_list_id(region, str(inputs.get("serviceName")))}
            if inputs.get("vpcEndpointType") == "Gateway"
            else {}
        ),
        "aws:route53/zone:Zone": lambda: {"zoneId": f"Z{_stable(name) % 10**12:012d}"},
        "aws:secretsmanager/secret:Secret": lambda: {},
        # SES v2 identity ARNs are `arn:aws:ses:...:identity/<name>` (not `sesv2`); Easy DKIM issues three tokens.
        "aws:sesv2/emailIdentity:EmailIdentity": lambda: {
            "arn": f"arn:aws:ses:{region}:{ACCOUNT_ID}:identity/{inputs.get('emailIdentity', name)}",
            "dkimSigningAttributes": {
                "tokens": [f"tok{i}{_stable(name) % 10**8:08d}" for i in range(3)],
                "nextSigningKeyLength": "RSA_2048_BIT",
                "status": "PENDING",
            },
        },
        "random:index/randomPassword:RandomPassword": lambda: {
            "result": "mock-" + "x" * (int(inputs.get("length", 32)) - 5)
        },
        "docker:index/image:Image": lambda: {
            "repoDigest": f"{inputs.get('imageName', name)}@sha256:{'ab' * 32}",
            "imageName": inputs.get("imageName", name),
        },
        "docker:index/registryImage:RegistryImage": lambda: {"sha256Digest": f"sha256:{'ab' * 32}"},
    }
    return table.get(args.typ, dict)()


class AwsLikeMocks(pulumi.runtime.Mocks):
    """Mocks whose answers depend on the resource's region (pulumi-aws 7 `region` input, else the default)."""

    def __init__(self, default_region: str) -> None:
        self.default_region = default_region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        region = str(args.inputs.get("region") or self.default_region)
        physical_id = f"{args.name}-id"
        outputs = {
            "arn": f"arn:aws:{_service_of(args.typ)}:{region}:{ACCOUNT_ID}:{args.name}",
            "name": args.name,
            **args.inputs,
            **_computed_outputs(args, region),
        }
        outputs.setdefault("id", physical_id)
        return physical_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        region = str(args.args.get("region") or self.default_region)
        answers: dict[str, Callable[[], dict[str, Any]]] = {
            "aws:index/getAvailabilityZones:getAvailabilityZones": lambda: {
                "names": [f"{region}{z}" for z in "abc"],
                "zoneIds": [f"{region[:3]}{region[-1]}-az{i}" for i in (1, 2, 3)],
                "id": region,
            },
            "aws:index/getCallerIdentity:getCallerIdentity": lambda: {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/mock",
                "userId": "AIDAMOCK",
                "id": ACCOUNT_ID,
            },
            "aws:index/getPartition:getPartition": lambda: {"partition": "aws", "dnsSuffix": "amazonaws.com"},
            "aws:index/getRegion:getRegion": lambda: {"name": region, "region": region, "id": region},
            "aws:ec2/getManagedPrefixList:getManagedPrefixList": lambda: {
                "id": prefix_list_id(region, str(args.args.get("name"))),
                "name": args.args.get("name", ""),
            },
            "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda: {
                "authorizationToken": "QVdTOm1vY2stZWNyLXBhc3N3b3Jk",  # base64("AWS:mock-ecr-password")
                "userName": "AWS",
                "password": "mock-ecr-password",
                "proxyEndpoint": f"https://{args.args.get('registryId', ACCOUNT_ID)}.dkr.ecr.{region}.amazonaws.com",
                "expiresAt": "2030-01-01T00:00:00Z",
                "registryId": args.args.get("registryId", ACCOUNT_ID),
                "id": region,
            },
            "aws:elb/getServiceAccount:getServiceAccount": lambda: {
                "arn": "arn:aws:iam::156460612806:root",
                "id": "156460612806",
            },
        }
        if args.token not in answers:
            raise NotImplementedError(
                f"offline mocks have no answer for invoke {args.token}; add one in offline/mocks.py"
            )
        return answers[args.token]()
