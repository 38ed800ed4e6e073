# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure address logic shared by filters and roles (no Ansible imports)."""

from __future__ import annotations

import ipaddress
from typing import Any

#: RFC 1918 private IPv4 ranges, in preference order.
RFC1918 = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


def is_rfc1918(address: str) -> bool:
    """True when ``address`` is an IPv4 address inside an RFC 1918 range."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.version == 4 and any(ip in net for net in RFC1918)


def host_ipv4_addresses(facts: dict[str, Any]) -> list[str]:
    """All IPv4 addresses in gathered facts, the default route's address first.

    ``facts`` is a host's facts (``ansible_facts`` or ``hostvars[host]``; both
    the ``ansible_``-prefixed and the bare names are understood).
    """

    def get(name: str) -> Any:
        if name in facts:
            return facts[name]
        return facts.get("ansible_" + name)

    found: list[str] = []
    default = get("default_ipv4") or {}
    if isinstance(default, dict) and default.get("address"):
        found.append(default["address"])
    for addr in get("all_ipv4_addresses") or []:
        if addr not in found:
            found.append(addr)
    return found


def pick_private_address(facts: dict[str, Any], within: str | None = None) -> str | None:
    """The host's private address: first RFC 1918 address (default route first).

    With ``within`` (a CIDR), only an address inside that network is taken,
    which lets users pin the private network when a host has several.
    Returns None when nothing fits.
    """
    network = ipaddress.ip_network(within, strict=False) if within else None
    for addr in host_ipv4_addresses(facts):
        if not is_rfc1918(addr):
            continue
        if network is not None and ipaddress.ip_address(addr) not in network:
            continue
        return addr
    return None
