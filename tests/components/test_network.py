"""`subnet_cidrs`, the VPC's address plan, on its own: sizes, placement, disjointness and the inputs it refuses.

AWS facts (EC2 API reference, CreateSubnet): "The allowed size for an IPv4 subnet is between a /28 netmask (16 IP
addresses) and a /16 netmask (65,536 IP addresses). Amazon Web Services reserves both the first four and the last
IPv4 address in each subnet's CIDR block", and subnets of one VPC must not overlap. The stack config admits VPCs of
/16../20 (stacks/config.py NetworkConfig) and 2..3 AZs.
"""

from __future__ import annotations

import ipaddress

import pytest

from components.network import subnet_cidrs

AWS_RESERVED_PER_SUBNET = 5


def networks(cidrs: list[str]) -> list[ipaddress.IPv4Network]:
    return [ipaddress.IPv4Network(c) for c in cidrs]


def test_a_slash_16_over_three_azs() -> None:
    """Worked by hand: eighths of 10.10.0.0/16 are /19s 32 apart in the third octet; a public subnet is the first
    /21 of eighth 4, 5, 6 (10.10.128.0, .160.0, .192.0); eighths 3 and 7 stay free for later use."""
    private, public = subnet_cidrs("10.10.0.0/16", 3)
    assert private == ["10.10.0.0/19", "10.10.32.0/19", "10.10.64.0/19"]
    assert public == ["10.10.128.0/21", "10.10.160.0/21", "10.10.192.0/21"]


def test_the_smallest_vpc_the_config_admits() -> None:
    """/20: /23 private (512 addresses), /25 public (128), both well inside AWS's /16../28."""
    private, public = subnet_cidrs("172.16.16.0/20", 2)
    assert private == ["172.16.16.0/23", "172.16.18.0/23"]
    assert public == ["172.16.24.0/25", "172.16.26.0/25"]


@pytest.mark.parametrize("cidr", ["10.10.0.0/16", "10.20.0.0/17", "192.168.0.0/18", "10.30.0.0/20", "10.0.0.0/23"])
@pytest.mark.parametrize("az_count", [1, 2, 3, 4])
def test_subnets_are_inside_the_vpc_disjoint_and_sizes_aws_allows(cidr: str, az_count: int) -> None:
    vpc = ipaddress.IPv4Network(cidr)
    private, public = subnet_cidrs(cidr, az_count)
    assert len(private) == len(public) == az_count
    every = networks(private + public)
    for subnet in every:
        assert subnet.subnet_of(vpc), subnet
        assert 16 <= subnet.prefixlen <= 28, subnet
    for i, a in enumerate(every):
        assert not any(a.overlaps(b) for b in every[i + 1 :]), a
    # Private subnets hold the tasks and databases: each is an eighth of the VPC, four times a public one.
    assert {n.num_addresses for n in networks(private)} == {vpc.num_addresses // 8}
    assert {n.num_addresses for n in networks(public)} == {vpc.num_addresses // 32}
    assert all(n.num_addresses - AWS_RESERVED_PER_SUBNET > 0 for n in networks(public))


def test_more_azs_only_append_subnets() -> None:
    """Going from 2 to 3 AZs must not move an existing subnet (a changed CIDR replaces the subnet and what is in it)."""
    two, three = subnet_cidrs("10.10.0.0/16", 2), subnet_cidrs("10.10.0.0/16", 3)
    assert three[0][:2] == two[0]
    assert three[1][:2] == two[1]


def test_a_host_address_is_refused_rather_than_rounded() -> None:
    with pytest.raises(ValueError, match="has host bits set"):
        subnet_cidrs("10.10.1.0/16", 3)


@pytest.mark.parametrize("az_count", [0, 5, -1])
def test_az_counts_the_plan_cannot_place_are_refused(az_count: int) -> None:
    with pytest.raises(ValueError, match=rf"^subnet_cidrs: az_count {az_count}; allowed: 1\.\.4"):
        subnet_cidrs("10.10.0.0/16", az_count)


@pytest.mark.parametrize(("cidr", "public_prefix"), [("10.0.0.0/24", 29), ("10.0.0.0/28", 33)])
def test_a_vpc_too_small_for_aws_subnets_is_refused(cidr: str, public_prefix: int) -> None:
    with pytest.raises(ValueError, match=rf"gives /{public_prefix} public subnets; allowed: a VPC of /23 or larger"):
        subnet_cidrs(cidr, 2)
