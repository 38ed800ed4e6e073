"""Tests for the edgeops.gitops.private_address filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.edgeops.gitops.plugins.filter.private_address import private_address

CASES = [
    # (facts, within, expected)
    ({"ansible_default_ipv4": {"address": "10.1.2.3"}}, None, "10.1.2.3"),
    # public default route: fall through to the private address on another NIC
    (
        {
            "ansible_default_ipv4": {"address": "203.0.113.7"},
            "ansible_all_ipv4_addresses": ["203.0.113.7", "172.16.5.4"],
        },
        None,
        "172.16.5.4",
    ),
    # bare fact names (ansible_facts) work too
    ({"all_ipv4_addresses": ["8.8.8.8", "192.168.10.2"]}, None, "192.168.10.2"),
    # pinned network chooses among several private addresses
    ({"all_ipv4_addresses": ["10.0.0.5", "192.168.1.5"]}, "192.168.0.0/16", "192.168.1.5"),
    # 172.32.x is outside 172.16.0.0/12
    ({"all_ipv4_addresses": ["172.32.0.1", "172.31.255.1"]}, None, "172.31.255.1"),
]


@pytest.mark.parametrize(("facts", "within", "expected"), CASES)
def test_picks_private_address(facts, within, expected):
    assert private_address(facts, within) == expected


@pytest.mark.parametrize(
    ("facts", "within", "message"),
    [
        ({"ansible_all_ipv4_addresses": ["203.0.113.7"]}, None, "addresses seen: 203.0.113.7"),
        ({}, None, "addresses seen: none"),
        ({"all_ipv4_addresses": ["10.0.0.5"]}, "192.168.0.0/16", "inside 192.168.0.0/16"),
        ({"all_ipv4_addresses": ["10.0.0.5"]}, "not-a-net", "is not a network"),
        ("10.0.0.1", None, "expected a dict of host facts, got str"),
    ],
)
def test_errors_are_clear(facts, within, message):
    with pytest.raises(AnsibleFilterError, match=r"edgeops\.gitops\.private_address") as err:
        private_address(facts, within)
    assert message in str(err.value)
