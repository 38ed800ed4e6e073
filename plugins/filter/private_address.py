# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter edgeops.gitops.private_address."""

from __future__ import annotations

DOCUMENTATION = r"""
name: private_address
short_description: Pick a host's private (RFC 1918) IPv4 address from its facts
version_added: 0.1.0
author: edgeops contributors
description:
  - Returns the first RFC 1918 IPv4 address of a host, looking at the default route's address first
    and then at every address in C(ansible_all_ipv4_addresses).
  - Used by the roles to bind MySQL and the Kubernetes API server and kubelet to the private network only.
  - Fails with a clear error when the host has no private address, so nothing is ever bound to a
    public address by accident.
options:
  _input:
    description: A host's facts (C(ansible_facts), or C(hostvars[inventory_hostname])).
    type: dict
    required: true
  within:
    description: Only accept an address inside this network (CIDR), for hosts on several private networks.
    type: str
"""

EXAMPLES = r"""
- name: Bind to the private network
  ansible.builtin.set_fact:
    bind_address: "{{ ansible_facts | edgeops.gitops.private_address }}"

- name: Pin the private network explicitly
  ansible.builtin.set_fact:
    bind_address: "{{ ansible_facts | edgeops.gitops.private_address(within='10.20.0.0/16') }}"
"""

RETURN = r"""
_value:
  description: The private IPv4 address.
  type: str
"""

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.edgeops.gitops.plugins.module_utils._netaddr import (
    host_ipv4_addresses,
    pick_private_address,
)
from ansible_collections.edgeops.gitops.plugins.module_utils._types import type_name


def private_address(facts: Any, within: str | None = None) -> str:
    """Return the host's private IPv4 address or raise AnsibleFilterError."""
    if not isinstance(facts, dict):
        raise AnsibleFilterError(
            "edgeops.gitops.private_address: expected a dict of host facts, got "
            f"{type_name(facts)}: {facts!r}"
        )
    try:
        found = pick_private_address(facts, within)
    except ValueError as exc:
        raise AnsibleFilterError(
            f"edgeops.gitops.private_address: within={within!r} is not a network: {exc}"
        ) from exc
    if found is None:
        seen = ", ".join(host_ipv4_addresses(facts)) or "none"
        scope = f" inside {within}" if within else ""
        raise AnsibleFilterError(
            f"edgeops.gitops.private_address: no private (RFC 1918) IPv4 address{scope} "
            f"found on this host (addresses seen: {seen}); gather facts, attach the host to "
            "its private network, or set the address explicitly"
        )
    return found


class FilterModule:
    """edgeops.gitops.private_address."""

    def filters(self) -> dict[str, Any]:
        return {"private_address": private_address}
